"""Generic compiled kernels on bit patterns.

Every kernel is a flat loop over a 1-D array that writes into ``out``; formats
arrive as plain integers (:class:`floatsim.format.FloatParams` and the projection
tuple built by :mod:`floatsim.core`), so one compiled kernel per dtype signature
serves every format. No validation happens here: :mod:`floatsim.core` checks the
arguments once. Only :mod:`floatsim._jit` is imported.

Notation used in the comments::

    source float (IEEE binary, src_m trailing bits):  S | EEEEEEEE | MMMMMMMMMMMMMMMMMMMMMMM
    normalised finite input:   |x| = sig * 2**(e - src_m),   2**src_m <= sig < 2**(src_m+1)
    target magnitude code:     EEEE MMM  (consecutive codes are consecutive values)

Rounding works on the integer ``sig``: shifting right by ``s`` bits leaves the
target's significand ``q`` (the truncated neighbour ``lo``), the ``s`` bits
shifted out are the remainder ``rem``; ``rem / 2**s`` is the fraction ``nu`` of
the way from ``lo`` to the next representable value ``hi``. Because consecutive
magnitude codes are consecutive values, rounding away is ``code + 1`` (a carry
out of the mantissa field moves into the exponent field by itself).
"""

from __future__ import annotations

import numpy as np
from numba import prange
from numba.cpython.unsafe.numbers import leading_zeros

from ._jit import helper, parallel_kernel

# modes (values of floatsim.rounding.Rounding; repeated here because _kernels imports nothing from floatsim)
NEAREST_EVEN, NEAREST_AWAY, TOWARD_ZERO, TOWARD_POSITIVE, TOWARD_NEGATIVE, ODD = 0, 1, 2, 3, 4, 5
STOCHASTIC, STOCHASTIC_A, STOCHASTIC_B, STOCHASTIC_C = 6, 7, 8, 9

# classes of a source value
FINITE, ZERO, INF, NAN = 0, 1, 2, 3

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_U30, _U27, _U31, _U1 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(1)
_U0 = np.uint64(0)
_ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)


# --------------------------------------------------------------------------- random bits
@helper
def mix64(z):
    """SplitMix64 finaliser: a bijective 64-bit mixer (Steele, Lea & Flood 2014)."""
    z = (z ^ (z >> _U30)) * _MIX1
    z = (z ^ (z >> _U27)) * _MIX2
    return z ^ (z >> _U31)


@helper
def counter_bits(key, index):
    """64 random bits for element ``index`` under ``key``: mix64(key + index * golden gamma)."""
    return mix64(key + np.uint64(index) * _GAMMA)


@parallel_kernel
def fill_random_bits(out, key, offset):
    for i in prange(out.size):
        out[i] = counter_bits(key, i + offset)


# --------------------------------------------------------------------------- source side
@helper
def split_source(bits, src_m, src_bias):
    """Split an IEEE binary bit pattern (viewed as a signed integer) into sign, class, sig, e.

    Subnormal inputs are normalised with a leading-zero count, so every finite
    nonzero value comes back as ``sig * 2**(e - src_m)`` with bit ``src_m`` of
    ``sig`` set.
    """
    b = np.int64(bits)  # sign-extends: the sign bit of the source is the sign of b
    neg = b < 0
    all_ones = 2 * src_bias + 1  # exponent field of inf / NaN
    mag = b & (((all_ones + 1) << src_m) - 1)
    ef = mag >> src_m
    mf = mag & ((np.int64(1) << src_m) - 1)
    cls = FINITE
    if ef == all_ones:
        cls = INF if mf == 0 else NAN
    elif mag == 0:
        cls = ZERO
    sig = mf | (np.int64(ef != 0) << src_m)
    sig = sig | np.int64(sig == 0)  # keep leading_zeros defined for zero (the result is unused)
    lz = np.int64(leading_zeros(sig)) - (63 - src_m)  # move the leading one to bit src_m
    return neg, cls, sig << lz, max(ef, 1) - src_bias - lz


# --------------------------------------------------------------------------- rounding
@helper
def grid_position(sig, e, src_m, mant_bits, emin, has_zero, subnormals):
    """Where ``sig * 2**(e - src_m)`` falls on the target's unbounded grid.

    Returns ``(lo, step, rem, s)``: ``lo`` is the magnitude code of the truncated
    neighbour, ``step`` the code increment to the next neighbour (1, or 2**M from
    0 to the smallest normal in a format without subnormals), ``rem`` the bits
    below the target quantum and ``s`` their count (the true shift, unclamped).
    """
    step = np.int64(1)
    if e >= emin:
        s = src_m - mant_bits  # quantum 2**(e - M)
        base = ((e - emin) << mant_bits) - ((1 - has_zero) << mant_bits)
    elif has_zero == 0:
        # no zero (E8M0): everything below 2**emin is pinned to the smallest value
        return np.int64(0), step, np.int64(0), np.int64(0)
    elif subnormals == 1 or mant_bits == 0:
        s = src_m - mant_bits + (emin - e)  # quantum 2**(emin - M)
        base = np.int64(0)
    else:
        s = src_m + (emin - e)  # grid {0, 2**emin}
        base = np.int64(0)
        step = np.int64(1) << mant_bits
    if s <= 0:
        return base + (sig << -s), step, np.int64(0), s
    sc = min(s, 60)  # sig < 2**53, so a shift of 60 already moves everything out
    q = sig >> sc
    rem = sig & ((np.int64(1) << sc) - 1)
    return base + q * step, step, rem, s


@helper
def away_deterministic(mode, rem, s, lo, neg):
    """Whether a deterministic mode rounds to the next grid value (see docs/semantics.md)."""
    sc = min(max(s, 1), 60)
    half = np.int64(1) << (sc - 1)
    inexact = rem != 0
    odd = (lo & 1) != 0
    gt = rem > half
    eq = rem == half
    up = (
        ((mode == NEAREST_EVEN) & (gt | (eq & odd)))
        | ((mode == NEAREST_AWAY) & (gt | eq))
        | ((mode == TOWARD_POSITIVE) & (not neg))
        | ((mode == TOWARD_NEGATIVE) & neg)
        | ((mode == ODD) & ~odd)
    )
    return inexact & up


@helper
def _floor_scaled(rem, s, n):
    """floor(rem * 2**n / 2**s) as uint64 (rem < 2**53, rem < 2**s, n <= 64)."""
    r = np.uint64(rem)
    if s >= n:
        return r >> np.uint64(min(s - n, 63))
    return r << np.uint64(n - s)


@helper
def away_stochastic(mode, rem, s, n, r):
    """P3109 stochastic rounding: away iff k + R >= 2**N, with k per variant (§4.7.4)."""
    if rem == 0:
        return False
    if mode == STOCHASTIC_B:
        k = (_floor_scaled(rem, s, n + 1) + _U1) >> _U1
    elif mode == STOCHASTIC_C:
        k = _floor_scaled(rem, s, n)
        if s > n:
            d = min(s - n, 60)
            f = rem & ((np.int64(1) << d) - 1)
            h = np.int64(1) << (d - 1)
            k += np.uint64((f > h) | ((f == h) & ((k & _U1) != _U0)))
    else:  # STOCHASTIC, STOCHASTIC_A
        k = _floor_scaled(rem, s, n)
    mask = _ALL_ONES >> np.uint64(64 - n)
    return (k != _U0) & (r >= (mask - k) + _U1)


# --------------------------------------------------------------------------- finishing a code
@helper
def finish_code(cls, neg, mag, fp, pp):
    """Full code from the class, sign and rounded magnitude code; -1 marks an error."""
    if cls == NAN:
        return pp.nan_neg if neg else pp.nan_pos
    if cls == INF:
        return pp.inf_neg if neg else pp.inf_pos
    if cls == ZERO:
        return pp.zero_neg if neg else pp.zero_pos
    if mag > fp.max_mag:
        return pp.ovf_neg if neg else pp.ovf_pos
    if neg:
        if mag == 0:
            return pp.zero_neg
        if fp.sign_bit == 0:
            return pp.neg_code
        return fp.sign_bit | mag
    return mag


@helper
def project(bits, src_m, src_bias, fp, pp, r, stochastic):
    neg, cls, sig, e = split_source(bits, src_m, src_bias)
    lo, step, rem, s = grid_position(sig, e, src_m, fp.mant_bits, fp.emin, fp.has_zero, fp.subnormals)
    if stochastic:
        up = away_stochastic(pp.mode, rem, s, pp.sr_bits, r)
    else:
        up = away_deterministic(pp.mode, rem, s, lo, neg)
    return finish_code(cls, neg, lo + step * np.int64(up), fp, pp)


# --------------------------------------------------------------------------- decoding
@helper
def code_to_float_bits(code, fp, out_m, out_bias, out_ebits):
    """Bit pattern, in an IEEE binary output format, of the value of ``code``.

    The caller guarantees every finite value of the format is exact in the
    output format (floatsim.format.FloatFormat.exact_in).
    """
    code = np.int64(code)
    sign = (code & fp.sign_bit) != 0
    mag = code & ~fp.sign_bit
    out_sign = np.int64(1) << (out_m + out_ebits)
    exp_all = ((np.int64(1) << out_ebits) - 1) << out_m
    if fp.negzero_is_nan and sign and mag == 0:
        return exp_all | (np.int64(1) << (out_m - 1))  # the single NaN, positive
    if mag > fp.max_mag:
        special = exp_all if mag == fp.inf_mag else exp_all | (np.int64(1) << (out_m - 1))
        return special | (out_sign if sign else 0)
    m = fp.mant_bits
    ef = mag >> m
    mf = mag & ((np.int64(1) << m) - 1)
    if fp.has_zero == 1 and ef == 0:
        sig = mf * fp.subnormals
        e = fp.emin - m
    else:
        sig = mf | (np.int64(1) << m)
        e = ef - fp.bias - m
    return scaled_to_float_bits(sign, sig, e, out_m, out_bias, out_ebits)


@helper
def scaled_to_float_bits(sign, sig, e, out_m, out_bias, out_ebits):
    """Bit pattern of ``(-1)**sign * sig * 2**e`` in an IEEE binary format where it is exact."""
    safe = sig | np.int64(sig == 0)
    top = 63 - np.int64(leading_zeros(safe))  # position of the leading one of sig
    vexp = e + top  # exponent of the value
    if vexp >= 1 - out_bias:
        body = ((vexp + out_bias) << out_m) | ((safe << (out_m - top)) & ((np.int64(1) << out_m) - 1))
    else:
        body = safe << (e - (1 - out_bias - out_m))  # subnormal in the output format
    body = body * np.int64(sig != 0)
    return body | ((np.int64(1) << (out_m + out_ebits)) if sign else np.int64(0))


# --------------------------------------------------------------------------- integer formats
@helper
def project_int(bits, src_m, src_bias, ip, pp, r, stochastic):
    """Two's-complement code of ``x`` rounded to an integer (saturating or wrapping); -1 for NaN."""
    neg, cls, sig, e = split_source(bits, src_m, src_bias)
    if cls == NAN:
        return np.int64(-1)
    if cls == INF:
        return pp.inf_neg if neg else pp.inf_pos
    if cls == ZERO:
        return np.int64(0)
    width_mask = (np.int64(1) << ip.bits) - 1
    s = src_m - e  # shift that leaves the integer part (quantum 1)
    if s <= 0:  # |x| >= 2**src_m is an integer already
        big = e >= 62
        lowbits = np.int64((np.uint64(sig) << np.uint64(min(-s, 63))) & np.uint64(width_mask)) * np.int64(-s < 64)
        mag = np.int64(0) if big else sig << -s
        rem = np.int64(0)
    else:
        big = False
        sc = min(s, 60)
        mag = sig >> sc
        rem = sig & ((np.int64(1) << sc) - 1)
    if stochastic:
        up = away_stochastic(pp.mode, rem, s, pp.sr_bits, r)
    else:
        up = away_deterministic(pp.mode, rem, s, mag, neg)
    mag += np.int64(up)
    if pp.wrap:
        low = lowbits if s <= 0 else mag & width_mask
        return (-low if neg else low) & width_mask
    v = -mag if neg else mag
    if big or v > ip.max:
        v = np.int64(ip.min) if neg else np.int64(ip.max)
    v = max(v, np.int64(ip.min))
    return v & width_mask


@helper
def int_code_to_float_bits(code, ip, out_m, out_bias, out_ebits):
    v = np.int64(code)
    if ip.signed and v >= (np.int64(1) << (ip.bits - 1)):
        v -= np.int64(1) << ip.bits
    return scaled_to_float_bits(v < 0, abs(v), np.int64(0), out_m, out_bias, out_ebits)


# --------------------------------------------------------------------------- kernels
@parallel_kernel
def encode_kernel(src, out, src_m, src_bias, fp, pp, rbits, key, offset, stochastic, emit_value, out_m, out_bias,
                  out_ebits, user_bits):
    """Round every element of ``src`` (IEEE bit patterns) into the format.

    ``emit_value=False`` writes codes; ``True`` writes the bit pattern of the
    rounded value in the output float format (cast). Random bits come from
    ``rbits`` when ``user_bits``, else from the counter hash keyed by
    ``key`` at index ``i + offset``. Returns the number of elements that had no
    valid result (NaN into a format without NaN); their output is 0.
    """
    errors = 0
    shift = np.uint64(64 - pp.sr_bits) if stochastic else np.uint64(0)
    for i in prange(src.size):
        r = _U0
        if stochastic:
            r = rbits[i] if user_bits else counter_bits(key, i + offset) >> shift
        code = project(src[i], src_m, src_bias, fp, pp, r, stochastic)
        bad = code < 0
        errors += bad
        code = max(code, 0)
        if emit_value:
            out[i] = 0 if bad else code_to_float_bits(code, fp, out_m, out_bias, out_ebits)
        else:
            out[i] = code
    return errors


@parallel_kernel
def decode_kernel(codes, out, fp, out_m, out_bias, out_ebits):
    """Write the output-float bit pattern of every code; return how many codes were out of range."""
    bad = 0
    for i in prange(codes.size):
        c = np.int64(codes[i])
        invalid = (c < 0) | (c >= fp.num_codes)
        bad += invalid
        out[i] = 0 if invalid else code_to_float_bits(c, fp, out_m, out_bias, out_ebits)
    return bad


@parallel_kernel
def encode_int_kernel(src, out, src_m, src_bias, ip, pp, rbits, key, offset, stochastic, emit_value, out_m, out_bias,
                      out_ebits, user_bits):
    """encode_kernel for integer formats (``ip`` is an IntParams)."""
    errors = 0
    shift = np.uint64(64 - pp.sr_bits) if stochastic else np.uint64(0)
    for i in prange(src.size):
        r = _U0
        if stochastic:
            r = rbits[i] if user_bits else counter_bits(key, i + offset) >> shift
        code = project_int(src[i], src_m, src_bias, ip, pp, r, stochastic)
        bad = code < 0
        errors += bad
        code = max(code, 0)
        if emit_value:
            out[i] = 0 if bad else int_code_to_float_bits(code, ip, out_m, out_bias, out_ebits)
        else:
            out[i] = code
    return errors


@parallel_kernel
def decode_int_kernel(codes, out, ip, out_m, out_bias, out_ebits):
    bad = 0
    n = np.int64(1) << ip.bits
    for i in prange(codes.size):
        c = np.int64(codes[i])
        invalid = (c < 0) | (c >= n)
        bad += invalid
        out[i] = 0 if invalid else int_code_to_float_bits(c, ip, out_m, out_bias, out_ebits)
    return bad
