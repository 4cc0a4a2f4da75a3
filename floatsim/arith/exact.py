"""Elementwise operations in exact pure-Python arithmetic (integers and Fractions).

The path for formats the compiled kernels do not cover (precision above 26 bits, as
float64 itself, or exponents beyond +-480), element by element in Python: meant for small arrays. The
exact result is rounded by :func:`floatsim.reference.round_to_code`, so the rules are
the core's. Non-finite inputs and invalid operations take their IEEE 754 result from
float64 arithmetic, which is exact for them (±inf, NaN, signed zeros).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .. import reference
from ..rounding import Rounding

_SQRT_EXTRA_BITS = 80  # bits kept beyond the format's precision when a square root is inexact


def _sqrt_fraction(a: Fraction, precision: int) -> Fraction:
    """``sqrt(a)`` exactly when rational, else a value strictly between the same breakpoints.

    ``floor(sqrt(a) * 2**t) + 1/2`` (scaled back) lies strictly inside the interval
    between two consecutive multiples of ``2**-t``, which is finer than every
    breakpoint and than 64 bits of stochastic-rounding resolution at this magnitude.
    """
    num, den = a.numerator, a.denominator
    e = a.numerator.bit_length() - a.denominator.bit_length()  # log2(a) within 1 (negative below 1)
    t = precision + _SQRT_EXTRA_BITS - e // 2 + 2
    scaled_num = num << (2 * t) if t >= 0 else num
    scaled_den = den if t >= 0 else den << (-2 * t)
    q, rem = divmod(scaled_num, scaled_den)
    root = math.isqrt(q)
    if root * root == q and rem == 0:
        return Fraction(root, 1 << t) if t >= 0 else Fraction(root << -t)
    scale = Fraction(1, 1 << t) if t >= 0 else Fraction(1 << -t)
    return (root + Fraction(1, 2)) * scale


def _exact_result(op: str, args: tuple[float, ...], rnd: Rounding, precision: int):
    """The exact result as a Fraction, or a float where IEEE 754 gives a special or a signed zero."""
    with np.errstate(all="ignore"):
        if op == "fma":
            x, y, z = (np.float64(a) for a in args)
            special = x * y + z  # used only for non-finite operands / results and zero signs
        elif op == "sqrt":
            special = np.sqrt(np.float64(args[0]))
        else:
            x, y = (np.float64(a) for a in args)
            special = {"add": x + y, "sub": x - y, "mul": x * y, "div": x / y}[op]
    if not all(math.isfinite(a) for a in args) or not math.isfinite(special):
        return float(special)
    fr = [Fraction(a) for a in args]
    if op == "add":
        v, terms = fr[0] + fr[1], (args[0], args[1])
    elif op == "sub":
        v, terms = fr[0] - fr[1], (args[0], -args[1])
    elif op == "fma":
        prod = float(np.float64(args[0]) * np.float64(args[1])) if fr[0] * fr[1] == 0 else 1.0
        v, terms = fr[0] * fr[1] + fr[2], (prod, args[2])
    elif op == "mul":
        return float(special) if fr[0] * fr[1] == 0 else fr[0] * fr[1]
    elif op == "div":
        return float(special) if fr[0] == 0 else fr[0] / fr[1]
    else:  # sqrt
        return float(special) if fr[0] == 0 else _sqrt_fraction(fr[0], precision)
    if v != 0:
        return v
    both_negative = all(math.copysign(1.0, t) < 0 and t == 0 for t in terms)
    if both_negative or (rnd is Rounding.TOWARD_NEGATIVE and not all(math.copysign(1.0, t) > 0 and t == 0
                                                                         for t in terms)):
        return -0.0
    return 0.0


def elementwise(op: str, arrays: list[np.ndarray], fmt, rules, random_bits: np.ndarray | None,
                out_dtype: np.dtype) -> tuple[np.ndarray, int]:
    """``(values, nan_errors)`` of ``op`` on equal-shaped float64 arrays, element by element."""
    flat = [a.reshape(-1) for a in arrays]
    size = flat[0].size
    values = np.empty(size, out_dtype)
    errors = 0
    shift = 64 - rules.sr_bits
    for i in range(size):
        v = _exact_result(op, tuple(float(a[i]) for a in flat), rules.rnd, fmt.precision)
        r = None if random_bits is None else int(random_bits[i]) >> shift
        try:
            code = reference.round_to_code(v, fmt, rules.rnd, rules.ov, random_bits=r,
                                           sr_bits=rules.sr_bits if rules.rnd is not Rounding.STOCHASTIC else None)
        except ValueError:  # NaN into a format without NaN
            errors += 1
            values[i] = 0
            continue
        values[i] = reference.decode(code, fmt)
    return values.reshape(arrays[0].shape), errors
