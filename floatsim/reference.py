"""Exact, slow, readable reference implementation of decoding and rounding.

This module is the executable form of the Semantics page (`docs/semantics.md`): integers and
`fractions.Fraction` only, one scalar at a time, no NumPy arrays and no Numba. It is the oracle that the compiled
verbs (`floatsim.encode`, `floatsim.decode`, `floatsim.cast`) are tested against, so it shares no code with them
(it imports only the format descriptors). Use it to check a single conversion by hand, to read how a rule
works, or as an independent oracle for another library. Unlike the verbs, it takes one value at a time, returns
Python numbers, and takes the random integer `R` of stochastic rounding directly (no seeds).

Rounding works on the format's grid *extended without bound above*: a finite nonzero `abs(x)` lies between two
neighbours `lo <= abs(x) < hi` whose magnitude codes are computed on that unbounded grid (so they may exceed
`max_code`); the rounding mode picks one of them, and only then does the overflow policy resolve a result beyond
the largest finite value.

Examples
--------
>>> from floatsim import reference
>>> reference.round_to_code(1.0625, "float8_e4m3fn")  # a tie: 1.0 has the even code
56
>>> reference.cast(3.0, "float8_e8m0fnu")  # P = 1 ties go to the even code (exponent field)
2.0
>>> reference.cast(300.0, "binary8p4sf", overflow="sat_none")
240.0
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction

from .format import FloatFormat, IntFormat, Specials
from .formats import get_format
from .rounding import Overflow, Rounding

__all__ = ["decode", "classify", "round_to_code", "cast"]

_HALF = Fraction(1, 2)


# -- decoding -------------------------------------------------------------------------


def _check_code(code, fmt) -> int:
    if isinstance(code, bool) or not isinstance(code, numbers.Integral):
        raise TypeError(f"code must be an integer, not {type(code).__name__}")
    code = int(code)
    if not 0 <= code < fmt.num_codes:
        raise ValueError(f"code={code} is out of range for {fmt}: codes are 0 <= code < {fmt.num_codes}")
    return code


def _split(code: int, fmt: FloatFormat) -> tuple[bool, int]:
    """(negative, magnitude code) of a float code."""
    return bool(code & fmt.sign_bit), code & ~fmt.sign_bit


def classify(code: int, fmt) -> str:
    """The class of a code: `"nan"`, `"inf"`, `"zero"`, `"subnormal"` or `"normal"`.

    Integer formats return `"int"` for every code. Non-canonical codes of formats without subnormals (exponent
    field 0, mantissa != 0) are `"zero"`; every code of a format without zero (E8M0) that is not NaN is
    `"normal"`.

    Parameters
    ----------
    code : int
        The code, in `[0, 2**fmt.bits)`.
    fmt : FloatFormat, IntFormat, str or dtype
        The format, or anything `floatsim.get_format` accepts.

    Returns
    -------
    str
        The class.

    Raises
    ------
    ValueError
        If `code` is not in `[0, 2**bits)`, or `fmt` is unknown.
    TypeError
        If `code` is not an integer.

    Examples
    --------
    >>> from floatsim import reference
    >>> [reference.classify(c, "float8_e4m3fn") for c in (0x00, 0x01, 0x08, 0x7F, 0x80)]
    ['zero', 'subnormal', 'normal', 'nan', 'zero']
    >>> reference.classify(0x7C, "float8_e5m2"), reference.classify(0x7E, "float8_e5m2")
    ('inf', 'nan')
    """
    fmt = get_format(fmt)
    code = _check_code(code, fmt)
    if isinstance(fmt, IntFormat):
        return "int"
    negative, mag = _split(code, fmt)
    if fmt._negzero_is_nan and code == fmt.sign_bit:  # fnuz / P3109: the -0 pattern is the NaN
        return "nan"
    if mag == fmt._inf_mag:
        return "inf"
    if mag > fmt._max_mag:  # every code above the largest finite one that is not infinity
        return "nan"
    if not fmt.has_zero:  # E8M0: every finite code is a normal power of two
        return "normal"
    exp_field, mant = mag >> fmt.mantissa_bits, mag & ((1 << fmt.mantissa_bits) - 1)
    if exp_field > 0:
        return "normal"
    return "subnormal" if fmt.subnormals and mant else "zero"


def decode(code: int, fmt) -> float | int:
    """The exact value of a code.

    Parameters
    ----------
    code : int
        The code, in `[0, 2**fmt.bits)`.
    fmt : FloatFormat, IntFormat, str or dtype
        The format, or anything `floatsim.get_format` accepts.

    Returns
    -------
    float or int
        For float formats a Python float, exact (the descriptor guarantees every value fits in float64): `-0.0`
        for the negative-zero code, `nan` / `±inf` for the special codes. For integer formats a Python int (two's
        complement for signed formats).

    Raises
    ------
    ValueError
        If `code` is not in `[0, 2**bits)`, or `fmt` is unknown.
    TypeError
        If `code` is not an integer.

    Examples
    --------
    >>> from floatsim import reference
    >>> [reference.decode(c, "float8_e4m3fn") for c in (0x01, 0x38, 0x80, 0xFF)]
    [0.001953125, 1.0, -0.0, nan]
    >>> reference.decode(0x7C, "float8_e5m2")
    inf
    >>> reference.decode(15, "int4")
    -1
    """
    fmt = get_format(fmt)
    code = _check_code(code, fmt)
    if isinstance(fmt, IntFormat):
        return code - fmt.num_codes if fmt.signed and code >= fmt.num_codes // 2 else code
    kind = classify(code, fmt)
    negative, mag = _split(code, fmt)
    sign = -1 if negative else 1
    if kind == "nan":
        return math.nan
    if kind == "inf":
        return sign * math.inf
    if kind == "zero":
        return sign * 0.0
    m = fmt.mantissa_bits
    exp_field, mant = mag >> m, mag & ((1 << m) - 1)
    if kind == "subnormal":  # 2**emin * mant / 2**M
        value = Fraction(mant, 1 << m) * Fraction(2) ** fmt.emin
    else:  # 2**(ef - bias) * (1 + mant / 2**M)
        value = Fraction((1 << m) + mant, 1 << m) * Fraction(2) ** (exp_field - fmt.bias)
    return sign * float(value)  # exact: the descriptor keeps every value inside float64


# -- rounding to the unbounded grid ---------------------------------------------------


def _floor_log2(a: Fraction) -> int:
    """Exact ``floor(log2(a))`` for a positive Fraction."""
    k = a.numerator.bit_length() - a.denominator.bit_length()  # floor(log2 a) is k or k - 1
    return k if a >= Fraction(2) ** k else k - 1


def _neighbours(a: Fraction, fmt: FloatFormat) -> tuple[int, int, Fraction]:
    """``(lo_code, hi_code, nu)`` for ``a > 0``: magnitude codes of the grid neighbours
    ``lo <= a < hi`` on the grid extended without bound above, and
    ``nu = (a - lo) / (hi - lo)`` in ``[0, 1)``. Codes may exceed ``max_code``."""
    m, emin = fmt.mantissa_bits, fmt.emin
    if a < Fraction(2) ** emin:
        if not fmt.has_zero:  # E8M0: nothing below 2**emin, which is code 0; no rounding
            return 0, 0, Fraction(0)
        if not fmt.subnormals:  # grid {0, 2**emin}: codes 0 and 2**M
            return 0, 1 << m, a / Fraction(2) ** emin
    e = max(_floor_log2(a), emin)
    scaled = a / Fraction(2) ** (e - m)  # significand in units of the grid spacing
    q = math.floor(scaled)  # 2**M <= q < 2**(M+1) for normals, q < 2**M for subnormals
    # binades above emin each hold 2**M codes; without zero, exponent field 0 is the emin binade
    lo_code = (e - emin) * (1 << m) + q - (0 if fmt.has_zero else 1 << m)
    return lo_code, lo_code + 1, scaled - q


def _rnite(y: Fraction) -> int:
    """Round half to even to an integer."""
    f = math.floor(y)
    return f + 1 if y - f > _HALF or (y - f == _HALF and f % 2) else f


def _rounds_away(nu: Fraction, lo_odd: bool, negative: bool, rnd: Rounding, r: int, n: int) -> bool:
    """Whether the result is ``hi`` rather than ``lo`` (the table of docs/semantics.md §1.3)."""
    if nu == 0:  # exact: every mode keeps lo
        return False
    if rnd is Rounding.NEAREST_EVEN:
        return nu > _HALF or (nu == _HALF and lo_odd)
    if rnd is Rounding.NEAREST_AWAY:
        return nu >= _HALF
    if rnd is Rounding.TOWARD_ZERO:
        return False
    if rnd is Rounding.TOWARD_POSITIVE:
        return not negative
    if rnd is Rounding.TOWARD_NEGATIVE:
        return negative
    if rnd is Rounding.ODD:
        return not lo_odd
    if rnd in (Rounding.STOCHASTIC, Rounding.STOCHASTIC_A):
        return math.floor(nu * 2**n) + r >= 2**n
    if rnd is Rounding.STOCHASTIC_B:
        return math.floor(nu * 2 ** (n + 1)) + 2 * r + 1 >= 2 ** (n + 1)
    if rnd is Rounding.STOCHASTIC_C:
        return _rnite(nu * 2**n) + r >= 2**n
    raise AssertionError(rnd)  # pragma: no cover


# -- special values and the out-of-range table -------------------------------------


def _nan_code(fmt: FloatFormat, negative: bool) -> int:
    """The quiet NaN; signed for ieee / fn formats (sign of the input kept)."""
    if fmt.nan_code is None:
        raise ValueError(f"{fmt} has no NaN")
    signed_nan = fmt.signed and fmt.specials in (Specials.IEEE, Specials.FN)
    return fmt.nan_code | (fmt.sign_bit if negative and signed_nan else 0)


def _out_of_range(fmt: FloatFormat, negative: bool, is_inf: bool, rnd: Rounding, ovf: Overflow) -> int:
    """Code for ``x = ±inf`` or a rounded ``R`` outside ``[M_lo, M_hi]`` (semantics.md table)."""
    sign = fmt.sign_bit if negative else 0
    max_code = sign | fmt._max_mag  # ±max
    inf_code = None if fmt._inf_mag is None else sign | fmt._inf_mag  # ±inf, where the format has it
    if negative and not fmt.signed:  # negative R (or -inf) in an unsigned format: M_lo is code 0
        to_nan = ovf is Overflow.IEEE or (  # P3109 rule 13 (-inf) comes before rule 17
            ovf is Overflow.SAT_NONE and (is_inf or rnd not in (Rounding.TOWARD_ZERO, Rounding.TOWARD_POSITIVE))
        )
        return fmt.nan_code if to_nan and fmt.nan_code is not None else 0
    # "inf" of the ieee policy: infinity, else NaN, else max
    ieee_inf = inf_code if inf_code is not None else (_nan_code(fmt, negative) if fmt.has_nan else max_code)
    if ovf is Overflow.SATURATE:
        return max_code
    if is_inf:
        if ovf is Overflow.IEEE:
            return ieee_inf
        return inf_code if inf_code is not None else max_code  # sat_propagate, sat_none
    if ovf is Overflow.SAT_PROPAGATE:
        return max_code
    toward_zero = rnd is Rounding.TOWARD_ZERO or rnd is (
        Rounding.TOWARD_POSITIVE if negative else Rounding.TOWARD_NEGATIVE
    )
    if ovf is Overflow.IEEE:
        return max_code if toward_zero or rnd is Rounding.ODD else ieee_inf
    # SAT_NONE (P3109 v4): unsigned extended formats under odd keep max (the format has infinity)
    if toward_zero or (rnd is Rounding.ODD and not fmt.signed and fmt.has_inf):
        return max_code
    return inf_code if inf_code is not None else max_code


# -- projection -----------------------------------------------------------------------


def _exact(x) -> tuple[str, bool, Fraction]:
    """``(kind, negative, |x|)``, kind ``"nan"``, ``"inf"`` or ``"finite"`` (``|x|`` is 0 unless
    finite); exact for ints, Fractions, Python floats and numpy scalars (``as_integer_ratio``)."""
    if isinstance(x, numbers.Rational):
        v = Fraction(int(x)) if isinstance(x, numbers.Integral) else Fraction(x)
        return "finite", v < 0, abs(v)
    if not hasattr(x, "as_integer_ratio"):
        raise TypeError(f"x must be a real number (int, float, Fraction, numpy scalar), not {type(x).__name__}")
    try:
        n, d = x.as_integer_ratio()
    except OverflowError:  # ±inf
        return "inf", bool(x < 0), Fraction(0)
    except ValueError:  # NaN
        return "nan", math.copysign(1.0, float(x)) < 0, Fraction(0)
    return "finite", n < 0 or (n == 0 and math.copysign(1.0, float(x)) < 0), Fraction(abs(n), d)


def _random(rnd: Rounding, random_bits, sr_bits) -> tuple[int, int]:
    """``(R, N)`` for the stochastic modes, validated; ``(0, 0)`` otherwise."""
    if not rnd.is_stochastic:
        return 0, 0
    if rnd is Rounding.STOCHASTIC:
        if sr_bits not in (None, 64):
            raise ValueError(
                f"sr_bits={sr_bits!r} is invalid for rounding='stochastic' (it uses 64 bits); "
                "use 'stochastic_a', 'stochastic_b' or 'stochastic_c' to choose N"
            )
        n = 64
    elif isinstance(sr_bits, bool) or not isinstance(sr_bits, numbers.Integral) or sr_bits < 1:
        raise ValueError(
            f"rounding={rnd.name.lower()!r} needs sr_bits, the number of random bits N >= 1; got {sr_bits!r}"
        )
    else:
        n = int(sr_bits)
    if (
        isinstance(random_bits, bool)
        or not isinstance(random_bits, numbers.Integral)
        or not 0 <= int(random_bits) < 2**n
    ):
        raise ValueError(
            f"stochastic rounding needs random_bits, an integer R with 0 <= R < 2**{n}; got {random_bits!r}"
        )
    return int(random_bits), n


def round_to_code(
    x, fmt, rounding="nearest_even", overflow=None, *, random_bits: int | None = None, sr_bits: int | None = None
) -> int:
    """The code of `x` rounded into `fmt`, exactly as the Semantics page (`docs/semantics.md`) specifies.

    The scalar, exact counterpart of `floatsim.encode`: for the same value, rounding and overflow policy it gives
    the same code.

    Parameters
    ----------
    x : int, float, Fraction or numpy scalar
        The value, converted exactly (`-0.0`, `±inf` and NaN are honoured; a `Fraction` such as `Fraction(1, 3)`
        is rounded from its exact value).
    fmt : FloatFormat, IntFormat, str or dtype
        The target format, or anything `floatsim.get_format` accepts.
    rounding : Rounding or str, default "nearest_even"
        The rounding mode; see `floatsim.Rounding`.
    overflow : Overflow or str, optional
        The overflow policy; see `floatsim.Overflow`. Default `"ieee"` for float formats and `"saturate"` for
        integer formats. Integer formats accept only `"saturate"` and `"wrap"`; float formats reject `"wrap"`.
    random_bits : int, optional
        `R` in `[0, 2**N)`, required by the stochastic modes (ignored by the others).
    sr_bits : int, optional
        `N`, required by `"stochastic_a"`, `"stochastic_b"` and `"stochastic_c"` (any `N >= 1`);
        `"stochastic"` always uses `N = 64`. Ignored by the deterministic modes.

    Returns
    -------
    int
        The code, in `[0, 2**fmt.bits)`.

    Raises
    ------
    ValueError
        NaN into a format without NaN (FP6, FP4, integer formats); an unknown format, rounding or overflow name;
        an invalid overflow policy for the format; missing or out-of-range `random_bits` / `sr_bits`.
    TypeError
        If `x` is not a real number.

    Examples
    --------
    >>> from fractions import Fraction
    >>> from floatsim import reference
    >>> reference.round_to_code(1.0625, "float8_e4m3fn"), reference.round_to_code(Fraction(1, 3), "float8_e4m3fn")
    (56, 43)
    >>> reference.round_to_code(500.0, "float8_e4m3fn"), reference.round_to_code(500.0, "e4m3fn", overflow="saturate")
    (127, 126)

    Stochastic rounding of the tie 1.0625 with `N = 2`: up (code 57) when `floor(4 * 1/2) + R >= 4`:

    >>> [reference.round_to_code(1.0625, "e4m3fn", "stochastic_a", random_bits=r, sr_bits=2) for r in range(4)]
    [56, 56, 57, 57]
    """
    fmt = get_format(fmt)
    rnd = Rounding.parse(rounding)
    is_int = isinstance(fmt, IntFormat)
    ovf = (Overflow.SATURATE if is_int else Overflow.IEEE) if overflow is None else Overflow.parse(overflow)
    if is_int and ovf not in (Overflow.SATURATE, Overflow.WRAP):
        raise ValueError(
            f"overflow={ovf.name.lower()!r} is invalid for integer format {fmt}; allowed: 'saturate', 'wrap'"
        )
    if not is_int and ovf is Overflow.WRAP:
        raise ValueError(f"overflow='wrap' is only valid for integer formats, not {fmt}")
    r, n = _random(rnd, random_bits, sr_bits)
    kind, negative, a = _exact(x)

    if kind == "nan":
        if is_int or not fmt.has_nan:
            raise ValueError(f"NaN cannot be converted to {fmt}: the format has no NaN")
        return _nan_code(fmt, negative)

    if is_int:  # grid spacing 1; "even" is the parity of the integer
        if kind == "inf":
            value = 0 if ovf is Overflow.WRAP else (fmt.min if negative else fmt.max)
        else:
            lo = math.floor(a)
            mag = lo + _rounds_away(a - lo, lo % 2 == 1, negative, rnd, r, n)
            value = -mag if negative else mag
            if ovf is Overflow.SATURATE:
                value = min(max(value, fmt.min), fmt.max)
        return value % fmt.num_codes  # two's complement bit pattern; wrap keeps the low bits

    if kind == "inf":
        return _out_of_range(fmt, negative, True, rnd, ovf)
    if a == 0:
        if not fmt.has_zero:  # E8M0: NaN, or the smallest value when saturating (or without NaN)
            if ovf is Overflow.SATURATE or not fmt.has_nan:
                return fmt.sign_bit if negative else 0
            return _nan_code(fmt, negative)
        return fmt.sign_bit if negative and fmt.has_negative_zero else 0

    lo_code, hi_code, nu = _neighbours(a, fmt)
    mag = hi_code if _rounds_away(nu, lo_code % 2 == 1, negative, rnd, r, n) else lo_code
    if mag == 0 and fmt.has_zero:  # rounded to zero: keep the sign where -0 exists
        return fmt.sign_bit if negative and fmt.has_negative_zero else 0
    if mag > fmt._max_mag or (negative and not fmt.signed):
        return _out_of_range(fmt, negative, False, rnd, ovf)
    return (fmt.sign_bit if negative else 0) | mag


def cast(
    x, fmt, rounding="nearest_even", overflow=None, *, random_bits: int | None = None, sr_bits: int | None = None
) -> float:
    """The value of `x` rounded into `fmt`: `decode(round_to_code(x, ...))` as a Python float.

    The scalar, exact counterpart of `floatsim.cast`. Integer formats give a float too.

    Parameters
    ----------
    x : int, float, Fraction or numpy scalar
        The value, converted exactly.
    fmt : FloatFormat, IntFormat, str or dtype
        The target format, or anything `floatsim.get_format` accepts.
    rounding : Rounding or str, default "nearest_even"
        The rounding mode; see `floatsim.Rounding`.
    overflow : Overflow or str, optional
        The overflow policy (default `"ieee"` for float formats, `"saturate"` for integer formats); see
        `floatsim.Overflow`.
    random_bits : int, optional
        `R` in `[0, 2**N)`, required by the stochastic modes.
    sr_bits : int, optional
        `N`, required by `"stochastic_a"`, `"stochastic_b"` and `"stochastic_c"`.

    Returns
    -------
    float
        The rounded value (NaN, ±inf and -0.0 included).

    Raises
    ------
    ValueError
        As `round_to_code`.
    TypeError
        If `x` is not a real number.

    Examples
    --------
    >>> from floatsim import reference
    >>> reference.cast(1e6, "float8_e4m3fn", overflow="saturate")
    448.0
    >>> reference.cast(-0.0, "float8_e4m3fn"), reference.cast(-0.0, "float8_e4m3fnuz")  # fnuz has no -0
    (-0.0, 0.0)
    >>> reference.cast(2.5, "int4"), reference.cast(9, "int4", overflow="wrap")
    (2.0, -7.0)
    """
    fmt = get_format(fmt)
    code = round_to_code(x, fmt, rounding, overflow, random_bits=random_bits, sr_bits=sr_bits)
    return float(decode(code, fmt))
