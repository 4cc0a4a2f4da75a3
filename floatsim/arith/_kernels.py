"""Compiled kernels of :mod:`floatsim.arith`: one float64 operation, its exact error, one rounding.

Why this is correctly rounded
-----------------------------
Let the target format have precision ``p <= 26`` and an exponent range well inside
float64's (``_common.kernel_supports`` checks both: every finite value, product,
quotient and square root of values of the format stays in float64's normal range
with a margin of 2**60). Write RN for float64 round-to-nearest-even and ``v`` for
the exact result of the operation.

1. **Exact error terms.** Each operation computes ``s = RN(v)`` and the sign of
   ``v - s`` exactly:

   * ``x + y``: TwoSum gives ``e`` with ``s + e = x + y`` exactly (Knuth).
   * ``x * y``: both significands have at most 26 bits, so the product (<= 52 bits) is
     exact: ``s = v``.
   * ``fma(x, y, z)``: ``x * y`` is exact, then TwoSum with ``z``.
   * ``x / y``: ``q = RN(x / y)``; the remainder ``r = x - q * y`` is a float64
     (Bohlender et al. 1991) and is computed exactly: Dekker's product gives
     ``q * y = P + err`` exactly, ``x - P`` is exact by Sterbenz' lemma
     (``P / 2 <= x <= 2 P``), and ``(x - P) - err`` is exact because its result ``r``
     is representable. ``sign(v - q) = sign(r) * sign(y)``.
   * ``sqrt(x)``: likewise with ``r = x - s * s`` (also a float64).

2. **Round to odd.** From ``s`` and that sign we form ``RO(v)``, ``v`` rounded to
   odd at 53 bits: ``s`` itself when exact or when its last bit is 1, else its
   neighbour toward ``v``. RO keeps ``p + 2 <= 53`` bits' worth of information:
   every breakpoint of the target (a representable value, or a midpoint between two)
   has at most ``p + 1`` significant bits, so it is an *even* float64; an inexact
   ``RO(v)`` is odd, hence never a breakpoint, and lies strictly on the same side of
   every breakpoint as ``v``. So rounding ``RO(v)`` to the target with any
   deterministic mode (nearest even / away, directed, odd, and the flush / pinned
   rules of formats without subnormals or zero) gives the same result as rounding
   ``v`` (Boldo & Melquiond, "Emulation of FMA and correctly-rounded sums: proved
   algorithms using rounding to odd", IEEE TC 2008). Stochastic rounding sees the
   first ``52 - p`` bits of the position of ``v`` between its neighbours exactly
   (the last float64 bit is the sticky bit): P3109 ``stochastic_a/b/c`` with
   ``sr_bits <= 51 - p`` are exact, and the 64-bit ``stochastic`` mode decides its
   probability to within ``2**-(52 - p)`` of an ulp.

   Plain ``RN`` followed by a second rounding is not enough: it is correct for the
   nearest modes when ``2p + 2 <= 53`` (Figueroa 1995), but a directed rounding of
   ``RN(x + y)`` goes wrong whenever ``x + y`` is within half a float64 ulp of a
   representable value, e.g. FP32 ``1 + 2**-60`` rounded toward +inf
   (tests/test_arith_elementwise.py shows this case).

3. **Zeros.** An exact zero sum is +0 except under ``toward_negative``, where it is
   -0 unless both addends are +0 (IEEE 754 §6.3); float64 RN gives the first rule,
   :func:`fix_zero_sum` the second.

Everything else (NaN, infinities, overflow, underflow, formats without some of the
specials) is decided by the core's projection of the float64 result, the same
table that :func:`floatsim.cast` uses.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import arith_helper as helper
from .._jit import arith_kernel as kernel
from .._jit import arith_parallel_kernel as parallel_kernel
from .._kernels import (
    NEAREST_AWAY,
    NEAREST_EVEN,
    ODD,
    STOCHASTIC,
    TOWARD_NEGATIVE,
    TOWARD_POSITIVE,
    TOWARD_ZERO,
    chunk_bounds,
    code_to_float_bits,
    counter_bits,
    ieee_layout,
    num_chunks,
    pick,
    project,
)

# operations (values of _common.OPS)
ADD, SUB, MUL, DIV, FMA, SQRT = 0, 1, 2, 3, 4, 5
# summation orders (values of _common.ORDERS)
SEQUENTIAL, PAIRWISE, BLOCKED = 0, 1, 2

_U0 = np.uint64(0)
_NO_RBITS = np.zeros(0, np.uint64)
_SPLITTER = 134217729.0  # 2**27 + 1: Veltkamp's constant for splitting a float64 into 26 + 26 bits
_MINUS_ZERO = np.int64(-0x8000000000000000)  # bit pattern of -0.0 as int64
_F64_M, _F64_BIAS, _F64_E = 52, 1023, 11
TILE = 1024  # output columns handled together by a reduction (the vectorised inner loop)


# --------------------------------------------------------------------------- float64 <-> bits
@helper
def bits_of(x):
    return np.float64(x).view(np.int64)


@helper
def value_of(b):
    return np.int64(b).view(np.float64)


@helper
def sign_of(v):
    """-1, 0 or 1 (0 for NaN)."""
    return np.int64(v > 0) - np.int64(v < 0)


# --------------------------------------------------------------------------- error-free transforms
@helper
def two_sum(a, b):
    """``(s, e)`` with ``s = RN(a + b)`` and ``s + e = a + b`` exactly (Knuth's TwoSum, no branch)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@helper
def split(x):
    """Veltkamp split ``x = hi + lo``, each with at most 26 significant bits."""
    c = _SPLITTER * x
    hi = c - (c - x)
    return hi, x - hi


@helper
def product_error(x, y, p):
    """``x * y - p`` exactly, for ``p = RN(x * y)`` (Dekker's TwoProduct without FMA)."""
    xh, xl = split(x)
    yh, yl = split(y)
    return ((xh * yh - p) + xh * yl + xl * yh) + xl * yl


@helper
def round_odd_bits(s, d):
    """Bits of ``v`` rounded to odd at 53 bits, from ``s = RN(v)`` and ``d = sign(v - s)``.

    ``s`` is inexact only if ``d != 0``, and then ``s != 0``; its neighbour toward ``v``
    is one step of the int64 pattern: ``+1`` moves the magnitude up (``v`` beyond ``s``,
    same sign), ``-1`` down::

        float64:  S EEEEEEEEEEE MMMM...MMM0   (even, inexact)  ->  ...MMM1 or the one below
    """
    b = bits_of(s)
    finite = ((b >> 52) & 0x7FF) != 0x7FF
    fix = (d != 0) & ((b & 1) == 0) & finite
    return b + pick(fix, pick((d > 0) == (b >= 0), 1, -1), 0)


@helper
def fix_zero_sum(b, x, y, mode):
    """An exact zero sum ``x + y`` is -0 under toward_negative unless both addends are +0 (IEEE 754 §6.3)."""
    zero = (b << 1) == 0
    both_plus_zero = (bits_of(x) == 0) & (bits_of(y) == 0)
    return pick(zero & (mode == TOWARD_NEGATIVE) & ~both_plus_zero, _MINUS_ZERO, b)


@helper
def sum_odd(x, y, mode):
    s, e = two_sum(x, y)
    return fix_zero_sum(round_odd_bits(s, sign_of(e)), x, y, mode)


@helper
def exact_op_bits(op, x, y, z, mode):
    """``op(x, y, z)`` rounded to odd at 53 bits (the bits the target rounding starts from)."""
    if op == ADD:
        return sum_odd(x, y, mode)
    if op == SUB:
        return sum_odd(x, -y, mode)
    if op == MUL:
        return bits_of(x * y)
    if op == FMA:
        return sum_odd(x * y, z, mode)
    if op == DIV:
        q = x / y
        p = q * y
        r = (x - p) - product_error(q, y, p)
        return round_odd_bits(q, sign_of(r) * sign_of(y))
    s = np.sqrt(x)  # SQRT
    p = s * s
    r = (x - p) - product_error(s, s, p)
    return round_odd_bits(s, sign_of(r))


# --------------------------------------------------------------------------- rounding a float64
@helper
def round_bits(b, fp, pp, r, stochastic):
    """``(value, failed)``: float64 bits ``b`` rounded into the format, as a float64 value."""
    code = project(b, _F64_M, _F64_BIAS, fp, pp, r, stochastic)
    v = value_of(code_to_float_bits(max(code, np.int64(0)), fp, _F64_M, _F64_BIAS, _F64_E))
    return v, code < 0


@helper
def not_member(x, fp, check_pp):
    """1 if float64 ``x`` is not a value of the format (NaN counts where the format has NaN; -0 as 0)."""
    v, failed = round_bits(bits_of(x), fp, check_pp, _U0, False)
    same = (v == x) | ((v != v) & (x != x))
    return np.int64(failed | ~same)


@helper
def flagged(slow):
    """Indices of the True elements of ``slow``.

    The generic passes loop over these rather than testing ``slow[i]`` in the loop: the
    generic code is branch-free, so LLVM vectorised such a loop with masks and ran the
    generic code for every element (measured 5.8 ns/element for 15 flagged in 16384).
    """
    idx = np.empty(slow.size, np.int64)
    n = 0
    for i in range(slow.size):
        idx[n] = i
        n += np.int64(slow[i])
    return idx[:n]


@helper
def random_for(stochastic, rbits, i, key, index, shift):
    if not stochastic:
        return _U0
    return rbits[i] if rbits.size > 0 else counter_bits(key, index) >> shift


# --------------------------------------------------------------------------- elementwise
@helper
def member_fast(x, fp, s, max_bits):
    """True when float64 ``x`` is certainly a value of the format: zero, or a value whose significand
    bits below the format's quantum ``2**(max(e, emin) - M)`` are clear; False sends the element to the
    generic check (formats without subnormals below ``2**emin``, specials, P = 1 formats, ...)."""
    b = bits_of(x)
    mag = b & np.int64(0x7FFFFFFFFFFFFFFF)
    e = (mag >> 52) - 1023
    below = e < fp.emin
    sh = s + max(fp.emin - e, np.int64(0))
    sig = (mag & ((np.int64(1) << 52) - 1)) | (np.int64(1) << 52)
    on_grid = (sh <= 52) & ((sig & ((np.int64(1) << min(sh, np.int64(52))) - 1)) == 0)
    nonzero = on_grid & (mag <= max_bits) & ((fp.sign_bit != 0) | (b >= 0)) \
        & (~below | ((fp.subnormals == 1) & (fp.has_zero == 1) & (fp.mant_bits > 0)))
    return nonzero | ((mag == 0) & (fp.has_zero == 1))


@helper
def _elementwise_fast(op, nargs, x, y, z, out, slow, fp, mode, s, max_bits, check, key, offset, shift):
    """The vectorised pass: value-domain check and rounding; returns how many elements it left over."""
    nslow = 0
    for i in range(out.size):
        a, b, c = np.float64(x[i]), np.float64(y[i]), np.float64(z[i])
        members = member_fast(a, fp, s, max_bits) & (member_fast(b, fp, s, max_bits) | (nargs < 2)) \
            & (member_fast(c, fp, s, max_bits) | (nargs < 3))
        r = counter_bits(key, i + offset) >> shift  # computed always: a branch here stops vectorisation
        v, ok = round_fast(exact_op_bits(op, a, b, c, mode), fp, mode, s, max_bits, r)
        ok = ok & (members | ~check)
        if out.itemsize == 8:
            out[i] = bits_of(v)
        else:  # float32 output (the only other width the fast kernel is called with)
            out[i] = np.float32(v).view(np.int32)
        slow[i] = ~ok
        nslow += np.int64(~ok)
    return nslow


@helper
def _fast_by_mode(op, nargs, x, y, z, out, slow, fp, mode, s, max_bits, check, key, offset, shift):
    """The fast pass with the common modes folded in (their own copies: 2x faster than a runtime mode)."""
    if mode == NEAREST_EVEN:
        return _elementwise_fast(op, nargs, x, y, z, out, slow, fp, NEAREST_EVEN, s, max_bits, check, key, offset,
                                 shift)
    if mode == STOCHASTIC:
        return _elementwise_fast(op, nargs, x, y, z, out, slow, fp, STOCHASTIC, s, max_bits, check, key, offset,
                                 shift)
    return _elementwise_fast(op, nargs, x, y, z, out, slow, fp, mode, s, max_bits, check, key, offset, shift)


# Six separately compiled fast passes, one per operation (the operation folds in): inlined together
# into one chunk function, LLVM compiled the addition loop 3x slower than on its own (measured).
@kernel
def _fast_add(x, y, z, out, slow, fp, mode, s, max_bits, check, key, offset, shift):
    return _fast_by_mode(ADD, 2, x, y, z, out, slow, fp, mode, s, max_bits, check, key, offset, shift)


@kernel
def _fast_sub(x, y, z, out, slow, fp, mode, s, max_bits, check, key, offset, shift):
    return _fast_by_mode(SUB, 2, x, y, z, out, slow, fp, mode, s, max_bits, check, key, offset, shift)


@kernel
def _fast_mul(x, y, z, out, slow, fp, mode, s, max_bits, check, key, offset, shift):
    return _fast_by_mode(MUL, 2, x, y, z, out, slow, fp, mode, s, max_bits, check, key, offset, shift)


@kernel
def _fast_div(x, y, z, out, slow, fp, mode, s, max_bits, check, key, offset, shift):
    return _fast_by_mode(DIV, 2, x, y, z, out, slow, fp, mode, s, max_bits, check, key, offset, shift)


@kernel
def _fast_fma(x, y, z, out, slow, fp, mode, s, max_bits, check, key, offset, shift):
    return _fast_by_mode(FMA, 3, x, y, z, out, slow, fp, mode, s, max_bits, check, key, offset, shift)


@kernel
def _fast_sqrt(x, y, z, out, slow, fp, mode, s, max_bits, check, key, offset, shift):
    return _fast_by_mode(SQRT, 1, x, y, z, out, slow, fp, mode, s, max_bits, check, key, offset, shift)


@kernel
def _elementwise_chunk(op, nargs, x, y, z, out, fp, pp, check_pp, check, stochastic, key, offset, max_bits):
    shift = np.uint64(64 - pp.sr_bits) if stochastic else _U0
    slow = np.empty(out.size, np.bool_)
    s = np.int64(52) - fp.mant_bits
    m = pp.mode
    # one compiled fast pass per operation (the operation folds into it)
    if op == ADD:
        nslow = _fast_add(x, y, z, out, slow, fp, m, s, max_bits, check, key, offset, shift)
    elif op == SUB:
        nslow = _fast_sub(x, y, z, out, slow, fp, m, s, max_bits, check, key, offset, shift)
    elif op == MUL:
        nslow = _fast_mul(x, y, z, out, slow, fp, m, s, max_bits, check, key, offset, shift)
    elif op == DIV:
        nslow = _fast_div(x, y, z, out, slow, fp, m, s, max_bits, check, key, offset, shift)
    elif op == FMA:
        nslow = _fast_fma(x, y, z, out, slow, fp, m, s, max_bits, check, key, offset, shift)
    else:
        nslow = _fast_sqrt(x, y, z, out, slow, fp, m, s, max_bits, check, key, offset, shift)
    if nslow == 0:
        return 0, 0
    return _elementwise_generic(op, nargs, x, y, z, out, slow, fp, pp, check_pp, check, stochastic, _NO_RBITS, key,
                                offset)


@kernel
def _elementwise_generic(op, nargs, x, y, z, out, slow, fp, pp, check_pp, check, stochastic, rbits, key, offset):
    """The generic pass over the elements flagged ``slow``: full membership check and the core's projection."""
    out_m, out_bias, out_e = ieee_layout(out.itemsize)
    shift = np.uint64(64 - pp.sr_bits) if stochastic else _U0
    errors = 0
    bad = 0
    for i in flagged(slow):
        a, b, c = np.float64(x[i]), np.float64(y[i]), np.float64(z[i])
        if check:
            bad += not_member(a, fp, check_pp)
            bad += not_member(b, fp, check_pp) * np.int64(nargs >= 2)
            bad += not_member(c, fp, check_pp) * np.int64(nargs >= 3)
        r = random_for(stochastic, rbits, i, key, i + offset, shift)
        code = project(exact_op_bits(op, a, b, c, pp.mode), _F64_M, _F64_BIAS, fp, pp, r, stochastic)
        failed = code < 0
        out[i] = code_to_float_bits(max(code, np.int64(0)), fp, out_m, out_bias, out_e) * (1 - np.int64(failed))
        errors += np.int64(failed)
    return errors, bad


@parallel_kernel
def elementwise_kernel(op, nargs, x, y, z, out, fp, pp, check_pp, check, stochastic, key, offset, max_bits):
    """``out = round(op(x, y, z))`` as bit patterns of ``out``'s float dtype (same width as ``x``: float32
    into int32, float64 into int64), with seeded random bits.

    Each chunk takes a vectorised pass in the value domain (:func:`member_fast`,
    :func:`round_fast`) and redoes what it could not decide with the generic check and
    projection. Returns ``(errors, bad)``: results that are NaN in a format without NaN,
    and inputs that are not values of the format (counted only when ``check``).
    """
    errors = 0
    bad = 0
    for c in prange(num_chunks(out.size)):
        lo, hi = chunk_bounds(c, out.size)
        e, b = _elementwise_chunk(op, nargs, x[lo:hi], y[lo:hi], z[lo:hi], out[lo:hi], fp, pp, check_pp, check,
                                  stochastic, key, offset + lo, max_bits)
        errors += e
        bad += b
    return errors, bad


@parallel_kernel
def elementwise_generic_kernel(op, nargs, x, y, z, out, fp, pp, check_pp, check, stochastic, rbits, key, offset):
    """:func:`elementwise_kernel` with the generic pass only: any output width, the caller's random bits
    (``rbits``), and the reference for the fast pass (``FLOATSIM_NO_TABLES=1``)."""
    errors = 0
    bad = 0
    for c in prange(num_chunks(out.size)):
        lo, hi = chunk_bounds(c, out.size)
        rb = rbits[lo:hi] if rbits.size > 0 else rbits
        e, b = _elementwise_generic(op, nargs, x[lo:hi], y[lo:hi], z[lo:hi], out[lo:hi], np.ones(hi - lo, np.bool_),
                                    fp, pp, check_pp, check, stochastic, rb, key, offset + lo)
        errors += e
        bad += b
    return errors, bad


@parallel_kernel
def exact_kernel(op, x, y, z, out, mode):
    """``out = RO(op(x, y, z))`` in float64 (the input of a later rounding to an integer format)."""
    for c in prange(num_chunks(out.size)):
        lo, hi = chunk_bounds(c, out.size)
        for i in range(lo, hi):
            out[i] = value_of(exact_op_bits(op, np.float64(x[i]), np.float64(y[i]), np.float64(z[i]), mode))


@parallel_kernel
def count_nonmembers(x, fp, check_pp):
    """How many elements of ``x`` are not values of the format."""
    bad = 0
    for c in prange(num_chunks(x.size)):
        lo, hi = chunk_bounds(c, x.size)
        n = 0
        for i in range(lo, hi):
            n += not_member(np.float64(x[i]), fp, check_pp)
        bad += n
    return bad


# --------------------------------------------------------------------------- reductions
# One reduction = one output element out[i, j] = sum over k of leaf(i, k, j), where a leaf is
# a[i, k] * b[k, j] (dot / matmul) or b[k, j] (sum), exact or rounded to the product format.
# Columns j are processed TILE at a time, so every inner loop runs over independent sums and
# vectorises. Accumulators hold float64 copies of values of their format. Random event numbers:
# ((global row) * N + j) * K + step, one stream (key) each for sums, products and outer sums.
@helper
def rounds_up(mode, rem, sh, odd, neg, r):
    """Whether a deterministic mode or 64-bit stochastic rounding moves the magnitude up, from the
    ``sh`` bits ``rem`` below the kept ones (``0 < sh <= 60``), the kept last bit and the sign."""
    half = np.int64(1) << (sh - 1)
    inexact = rem != 0
    k = np.uint64(rem) << np.uint64(64 - sh)  # the fraction of the ulp, scaled to 2**64
    return ((mode == NEAREST_EVEN) & ((rem > half) | ((rem == half) & odd))) \
        | ((mode == NEAREST_AWAY) & (rem >= half)) \
        | ((mode == TOWARD_POSITIVE) & inexact & ~neg) \
        | ((mode == TOWARD_NEGATIVE) & inexact & neg) \
        | ((mode == ODD) & inexact & ~odd) \
        | ((mode == STOCHASTIC) & inexact & (r >= (_U0 - k)))


@helper
def round_fast_normal(b, fp, mode, s, max_bits, r):
    """:func:`round_fast` restricted to normal results (the accumulators of reductions): rounding is an
    add-and-mask on the float64 pattern at the fixed position ``s = 52 - M`` (a carry out of the
    mantissa moves into the exponent by itself); 30 % cheaper than the general version."""
    mag = b & np.int64(0x7FFFFFFFFFFFFFFF)
    neg = b < 0
    rem = mag & ((np.int64(1) << s) - 1)
    rmag = mag - rem + (np.int64(rounds_up(mode, rem, s, ((mag >> s) & 1) != 0, neg, r)) << s)
    emin_bits = (fp.emin + np.int64(1023)) << 52
    ok = (mag >= emin_bits) & (rmag <= max_bits) & ((fp.sign_bit != 0) | ~neg) & (fp.mant_bits > 0) \
        & (mode <= STOCHASTIC)
    return value_of(rmag | (b & _MINUS_ZERO)), ok


@helper
def round_fast(b, fp, mode, s, max_bits, r):
    """``(value, ok)``: float64 bits ``b`` rounded to the format in the value domain.

    Valid (``ok``) when the result is a nonzero finite value of the format (normal or
    subnormal) no larger than its maximum. With ``e`` the float64 exponent and
    ``E = max(e, emin)``, the target quantum is ``2**(E - M)``: the significand ``sig``
    (53 bits, ``2**52 <= sig < 2**53``) is shifted right by ``sh = 52 - M + (E - e)``,
    the shifted-out bits decide the rounding, and the value is the rounded integer
    times ``2**(E - M)`` (both exact in float64)::

        float64 significand:  1 MMMMMMM | rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr
                                q (kept)    rem (sh bits; more below 2**emin)

    A zero result (exact, or rounded to zero) is ``-0`` for a negative value where the
    format has ``-0``, else ``+0``. Everything else (overflow, specials, unsigned formats
    with a negative value, formats without subnormals or zero below 2**emin, P = 1
    formats, the N-bit stochastic modes) is ``ok = False`` and goes to the generic :func:`round_bits`;
    tests compare both on every path.
    """
    mag = b & np.int64(0x7FFFFFFFFFFFFFFF)
    neg = b < 0
    e = (mag >> 52) - 1023
    big_e = max(e, fp.emin)
    sh = s + (big_e - e)
    shc = min(sh, np.int64(60))
    sig = (mag & ((np.int64(1) << 52) - 1)) | (np.int64(1) << 52)
    rem = sig & ((np.int64(1) << shc) - 1)
    q = sig >> shc
    odd = (q & 1) != 0
    q_up = q + np.int64(rounds_up(mode, rem, shc, odd, neg, r))
    scale = value_of((big_e - fp.mant_bits + 1023) << 52)  # 2**(E - M)
    vb = bits_of(np.float64(q_up) * scale)
    # a zero result (exact, or rounded to zero) keeps its sign where the format has -0 (core: zero_neg)
    zero = (mag == 0) | (q_up == 0)
    signed_zero = pick(neg & (fp.sign_bit != 0) & (fp.negzero_is_nan == 0), _MINUS_ZERO, 0)
    below = (e < fp.emin) & (mag != 0)
    ok = (e != 1024) & (fp.mant_bits > 0) & (mode <= STOCHASTIC) \
        & ((fp.sign_bit != 0) | ~neg | (mag == 0)) \
        & (~below | ((fp.subnormals == 1) & (fp.has_zero == 1))) \
        & (pick(zero, fp.has_zero == 1, (vb <= max_bits) & (sh <= 60)) != 0)
    return value_of(pick(zero, signed_zero, vb | (b & _MINUS_ZERO))), ok


@helper
def _fast_pass(ybits, dst, slow, fp, mode, max_bits, fast, key, shift, ev0, stride):
    """The vectorised pass of :func:`round_tile`; returns how many elements it left to the generic one."""
    s = np.int64(52) - fp.mant_bits
    nslow = 0
    for jj in range(ybits.size):
        r = counter_bits(key, ev0 + jj * stride) >> shift if mode == STOCHASTIC else _U0
        v, ok = round_fast_normal(ybits[jj], fp, mode, s, max_bits, r)
        ok = ok & fast
        dst[jj] = v
        slow[jj] = ~ok
        nslow += np.int64(~ok)
    return nslow


@kernel
def round_tile(ybits, dst, slow, fp, pp, max_bits, fast, stochastic, key, shift, ev0, stride):
    """``dst[jj] = round(ybits[jj])`` for a tile; element jj uses random event ``ev0 + jj * stride``.

    A vectorised pass rounds in the value domain (:func:`round_fast`); the few elements
    it cannot take are redone by the generic projection. Returns the number of NaN
    results in a format without NaN.
    """
    # one copy of the loop per mode (the mode folds into each; measured 2x faster than selecting in the loop)
    mode = pp.mode
    if mode == NEAREST_EVEN:
        nslow = _fast_pass(ybits, dst, slow, fp, NEAREST_EVEN, max_bits, fast, key, shift, ev0, stride)
    elif mode == NEAREST_AWAY:
        nslow = _fast_pass(ybits, dst, slow, fp, NEAREST_AWAY, max_bits, fast, key, shift, ev0, stride)
    elif mode == TOWARD_ZERO:
        nslow = _fast_pass(ybits, dst, slow, fp, TOWARD_ZERO, max_bits, fast, key, shift, ev0, stride)
    elif mode == TOWARD_POSITIVE:
        nslow = _fast_pass(ybits, dst, slow, fp, TOWARD_POSITIVE, max_bits, fast, key, shift, ev0, stride)
    elif mode == TOWARD_NEGATIVE:
        nslow = _fast_pass(ybits, dst, slow, fp, TOWARD_NEGATIVE, max_bits, fast, key, shift, ev0, stride)
    elif mode == ODD:
        nslow = _fast_pass(ybits, dst, slow, fp, ODD, max_bits, fast, key, shift, ev0, stride)
    elif mode == STOCHASTIC:
        nslow = _fast_pass(ybits, dst, slow, fp, STOCHASTIC, max_bits, fast, key, shift, ev0, stride)
    else:  # the N-bit stochastic modes always take the generic projection
        nslow = _fast_pass(ybits, dst, slow, fp, mode, max_bits, False, key, shift, ev0, stride)
    errors = 0
    if nslow > 0:
        for jj in flagged(slow):
            r = counter_bits(key, ev0 + jj * stride) >> shift if stochastic else _U0
            v, failed = round_bits(ybits[jj], fp, pp, r, stochastic)
            dst[jj] = v
            errors += np.int64(failed)
    return errors


@helper
def _fused_pass(acc, brow, av, ybits, slow, fp, mode, max_bits, fast, key, shift, ev0, stride):
    """:func:`_fast_pass` fused with the product and the sum: ``acc = round(acc + av * brow)``."""
    s = np.int64(52) - fp.mant_bits
    nslow = 0
    for jj in range(acc.size):
        y = sum_odd(acc[jj], av * brow[jj], mode)
        ybits[jj] = y
        r = counter_bits(key, ev0 + jj * stride) >> shift if mode == STOCHASTIC else _U0
        v, ok = round_fast_normal(y, fp, mode, s, max_bits, r)
        ok = ok & fast
        acc[jj] = v
        slow[jj] = ~ok
        nslow += np.int64(~ok)
    return nslow


@kernel
def accumulate_tile(acc, brow, av, ybits, slow, fp, pp, max_bits, fast, stochastic, key, shift, ev0, stride):
    """``acc = round(acc + av * brow)`` over a tile, the step of sequential and blocked sums with exact
    products, in one pass (during development the 512**3 generic matmul went from about 1.0 to 0.65
    ns per step and core against forming the products, then the sums, then rounding, in three passes)."""
    mode = pp.mode
    if mode == NEAREST_EVEN:
        nslow = _fused_pass(acc, brow, av, ybits, slow, fp, NEAREST_EVEN, max_bits, fast, key, shift, ev0, stride)
    elif mode == NEAREST_AWAY:
        nslow = _fused_pass(acc, brow, av, ybits, slow, fp, NEAREST_AWAY, max_bits, fast, key, shift, ev0, stride)
    elif mode == TOWARD_ZERO:
        nslow = _fused_pass(acc, brow, av, ybits, slow, fp, TOWARD_ZERO, max_bits, fast, key, shift, ev0, stride)
    elif mode == TOWARD_POSITIVE:
        nslow = _fused_pass(acc, brow, av, ybits, slow, fp, TOWARD_POSITIVE, max_bits, fast, key, shift, ev0,
                            stride)
    elif mode == TOWARD_NEGATIVE:
        nslow = _fused_pass(acc, brow, av, ybits, slow, fp, TOWARD_NEGATIVE, max_bits, fast, key, shift, ev0,
                            stride)
    elif mode == ODD:
        nslow = _fused_pass(acc, brow, av, ybits, slow, fp, ODD, max_bits, fast, key, shift, ev0, stride)
    elif mode == STOCHASTIC:
        nslow = _fused_pass(acc, brow, av, ybits, slow, fp, STOCHASTIC, max_bits, fast, key, shift, ev0, stride)
    else:
        nslow = _fused_pass(acc, brow, av, ybits, slow, fp, mode, max_bits, False, key, shift, ev0, stride)
    errors = 0
    if nslow > 0:
        for jj in flagged(slow):
            r = counter_bits(key, ev0 + jj * stride) >> shift if stochastic else _U0
            v, failed = round_bits(ybits[jj], fp, pp, r, stochastic)
            acc[jj] = v
            errors += np.int64(failed)
    return errors


@kernel
def add_tile(dst, src, ybits, slow, fp, pp, max_bits, fast, stochastic, key, shift, ev0, stride):
    """``dst = round(dst + src)`` elementwise over a tile (see :func:`round_tile`)."""
    for jj in range(dst.size):
        ybits[jj] = sum_odd(dst[jj], src[jj], pp.mode)
    return round_tile(ybits, dst, slow, fp, pp, max_bits, fast, stochastic, key, shift, ev0, stride)


@kernel
def set_tile(dst, src, ybits, slow, fp, pp, max_bits, fast, stochastic, key, shift, ev0, stride):
    """``dst = round(src)`` over a tile."""
    for jj in range(dst.size):
        ybits[jj] = bits_of(src[jj])
    return round_tile(ybits, dst, slow, fp, pp, max_bits, fast, stochastic, key, shift, ev0, stride)


@kernel
def _reduce_tile(a, b, out, i, j0, j1, use_a, order, block, round_products, pfp, ppp, pmax, afp, app, amax,
                 ofp, opp, omax, fast, stochastic, shift, keys, row):
    n_cols, depth = out.shape[1], b.shape[0]
    w = j1 - j0
    leaves = np.empty(w)
    ybits = np.empty(w, np.int64)
    slow = np.empty(w, np.bool_)
    acc = np.empty(w)
    total = np.empty(w)
    levels = 2
    while order == PAIRWISE and (np.int64(1) << (levels - 2)) < depth:
        levels += 1
    stack = np.empty((levels if order == PAIRWISE else 1, w))
    sp = 0
    event = 0
    ev0 = ((row + i) * n_cols + j0) * depth  # event number of (column j0, step 0); columns are depth apart
    errors = 0
    for k in range(depth):
        av = np.float64(a[i, k]) if use_a else 1.0  # x * 1.0 == x exactly (signed zeros and NaN included)
        step = not (k == 0 or (order == BLOCKED and k % block == 0))
        if order != PAIRWISE and step and not round_products:  # the common step, fused into one pass
            errors += accumulate_tile(acc, b[k, j0:j1], av, ybits, slow, afp, app, amax, fast, stochastic, keys[0],
                                      shift, ev0 + k, depth)
            if order == BLOCKED and (k % block == block - 1 or k == depth - 1):
                blk = k // block
                if blk == 0:
                    errors += set_tile(total, acc, ybits, slow, ofp, opp, omax, fast, stochastic, keys[2], shift,
                                       ev0 + blk, depth)
                else:
                    errors += add_tile(total, acc, ybits, slow, ofp, opp, omax, fast, stochastic, keys[2], shift,
                                       ev0 + blk, depth)
            continue
        for jj in range(w):
            leaves[jj] = av * b[k, j0 + jj]
        if round_products:
            errors += set_tile(leaves, leaves, ybits, slow, pfp, ppp, pmax, fast, stochastic, keys[1], shift,
                               ev0 + k, depth)
        if order == PAIRWISE:
            stack[sp, :] = leaves
            sp += 1
            c = k + 1
            while (c & 1) == 0:  # two partial sums of equal size: merge them
                errors += add_tile(stack[sp - 2], stack[sp - 1], ybits, slow, afp, app, amax, fast, stochastic,
                                   keys[0], shift, ev0 + event, depth)
                sp -= 1
                event += 1
                c >>= 1
            continue
        if k == 0 or (order == BLOCKED and k % block == 0):
            errors += set_tile(acc, leaves, ybits, slow, afp, app, amax, fast, stochastic, keys[0], shift, ev0 + k,
                               depth)
        else:
            errors += add_tile(acc, leaves, ybits, slow, afp, app, amax, fast, stochastic, keys[0], shift, ev0 + k,
                               depth)
        if order == BLOCKED and (k % block == block - 1 or k == depth - 1):
            blk = k // block
            if blk == 0:
                errors += set_tile(total, acc, ybits, slow, ofp, opp, omax, fast, stochastic, keys[2], shift,
                                   ev0 + blk, depth)
            else:
                errors += add_tile(total, acc, ybits, slow, ofp, opp, omax, fast, stochastic, keys[2], shift,
                                   ev0 + blk, depth)
    if order == PAIRWISE:
        while sp > 1:  # the leftover partial sums, right to left
            errors += add_tile(stack[sp - 2], stack[sp - 1], ybits, slow, afp, app, amax, fast, stochastic,
                               keys[0], shift, ev0 + event, depth)
            sp -= 1
            event += 1
        if depth == 1:  # a single leaf is still rounded into the accumulation format
            errors += set_tile(stack[0], stack[0], ybits, slow, afp, app, amax, fast, stochastic, keys[0], shift,
                               ev0, depth)
        out[i, j0:j1] = stack[0]
    elif order == BLOCKED:
        out[i, j0:j1] = total
    else:
        out[i, j0:j1] = acc
    return errors


@parallel_kernel
def reduce_kernel(a, b, out, use_a, order, block, round_products, pfp, ppp, pmax, afp, app, amax, ofp, opp, omax,
                  fast, stochastic, shift, keys, row):
    """``out[i, j] = sum_k a[i, k] * b[k, j]`` (or ``sum_k b[k, j]``) in the given order and formats.

    ``out`` is float64 of shape (M, N) with ``b.shape[0] = K >= 1``; ``row`` is the
    global index of row 0 (batched calls), used only to number random events; ``*max``
    are the float64 bit patterns of each format's largest value; ``fast=False`` turns
    the value-domain rounding off (tests compare both). Returns the number of results
    that were NaN in a format without NaN.
    """
    m, n = out.shape
    tiles = (n + TILE - 1) // TILE
    errors = 0
    for t in prange(m * tiles):
        i = t // tiles
        j0 = (t % tiles) * TILE
        errors += _reduce_tile(a, b, out, i, j0, min(n, j0 + TILE), use_a, order, block, round_products,
                               pfp, ppp, pmax, afp, app, amax, ofp, opp, omax, fast, stochastic, shift, keys, row)
    return errors


# --------------------------------------------------------------------------- native reductions
# The accumulation format is IEEE binary32 / binary64 with nearest-even and IEEE overflow,
# and a, b, out are arrays of that float type holding leaves exact in it: the hardware
# operations are the emulated ones (products exact, so ``acc + a * b`` rounds once).
@kernel
def _native_tile(a, b, out, i, j0, j1, use_a, order, block):
    depth = b.shape[0]
    w = j1 - j0
    acc = np.empty(w, out.dtype)
    total = np.empty(w, out.dtype)
    levels = 2
    while order == PAIRWISE and (np.int64(1) << (levels - 2)) < depth:
        levels += 1
    stack = np.empty((levels if order == PAIRWISE else 1, w), out.dtype)
    sp = 0
    for k in range(depth):
        av = a[i, k] if use_a else a[0, 0]
        row = b[k, j0:j1]
        if order == PAIRWISE:
            top = stack[sp]
            if use_a:
                for jj in range(w):
                    top[jj] = av * row[jj]
            else:
                top[:] = row
            sp += 1
            c = k + 1
            while (c & 1) == 0:
                lower, upper = stack[sp - 2], stack[sp - 1]
                for jj in range(w):
                    lower[jj] = lower[jj] + upper[jj]
                sp -= 1
                c >>= 1
            continue
        restart = k == 0 or (order == BLOCKED and k % block == 0)
        if restart and use_a:
            for jj in range(w):
                acc[jj] = av * row[jj]
        elif restart:
            acc[:] = row
        elif use_a:
            for jj in range(w):
                acc[jj] = acc[jj] + av * row[jj]
        else:
            for jj in range(w):
                acc[jj] = acc[jj] + row[jj]
        if order == BLOCKED and (k % block == block - 1 or k == depth - 1):
            if k < block:
                total[:] = acc
            else:
                for jj in range(w):
                    total[jj] = total[jj] + acc[jj]
    if order == PAIRWISE:
        while sp > 1:
            lower, upper = stack[sp - 2], stack[sp - 1]
            for jj in range(w):
                lower[jj] = lower[jj] + upper[jj]
            sp -= 1
        out[i, j0:j1] = stack[0]
    elif order == BLOCKED:
        out[i, j0:j1] = total
    else:
        out[i, j0:j1] = acc


@parallel_kernel
def reduce_native_kernel(a, b, out, use_a, order, block):
    """:func:`reduce_kernel` for the native case: ``a``, ``b`` and ``out`` share the float type."""
    m, n = out.shape
    tiles = (n + TILE - 1) // TILE
    for t in prange(m * tiles):
        i = t // tiles
        j0 = (t % tiles) * TILE
        _native_tile(a, b, out, i, j0, min(n, j0 + TILE), use_a, order, block)
