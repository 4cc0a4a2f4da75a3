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
from numba import prange, types
from numba.cpython.unsafe.numbers import leading_zeros
from numba.extending import intrinsic

from ._jit import helper, kernel, parallel_kernel

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


@parallel_kernel
def fill_random_bits_at(out, key, indices):
    """The bits of ``fill_random_bits`` for arbitrary global element indices (a chunk of a larger array)."""
    for i in prange(out.size):
        out[i] = counter_bits(key, indices[i])


# --------------------------------------------------------------------------- branch-free helpers
# The kernels are written without data-dependent branches: a mispredicted branch on
# the sign of normally distributed data costs more than the whole computation, and
# branch-free loops vectorise. ``pick`` is a select written with masks; every shift
# amount is clamped to [0, 63] so no lane ever computes an undefined shift.
@intrinsic
def pick(typingctx, cond, a, b):
    """``a if cond else b`` as one LLVM ``select`` on int64 (no branch, no IR inlining cost)."""
    sig = types.int64(cond, a, b)

    def codegen(context, builder, signature, args):
        c, x, y = args
        c = context.cast(builder, c, signature.args[0], types.boolean)
        x = context.cast(builder, x, signature.args[1], types.int64)
        y = context.cast(builder, y, signature.args[2], types.int64)
        return builder.select(c, x, y)

    return sig, codegen


@helper
def clamp_shift(n):
    return min(max(n, np.int64(0)), np.int64(63))


@helper
def ieee_layout(itemsize):
    """(trailing bits, bias, exponent bits) of the IEEE binary format of an array's item size.

    Kernels call this on ``arr.itemsize``, a compile-time constant of each
    specialisation, so LLVM folds every shift by these numbers into an immediate.
    """
    if itemsize == 8:
        return np.int64(52), np.int64(1023), np.int64(11)
    if itemsize == 4:
        return np.int64(23), np.int64(127), np.int64(8)
    return np.int64(10), np.int64(15), np.int64(5)


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
    special = ef == all_ones
    cls = (
        np.int64(special & (mf == 0)) * INF
        + np.int64(special & (mf != 0)) * NAN
        + np.int64(mag == 0) * ZERO
    )
    sig = mf | (np.int64(ef != 0) << src_m)
    sig = sig | np.int64(sig == 0)  # keep leading_zeros defined for zero (the result is unused)
    lz = np.int64(leading_zeros(sig)) - (63 - src_m)  # move the leading one to bit src_m
    return neg, cls, sig << lz, max(ef, np.int64(1)) - src_bias - lz


# --------------------------------------------------------------------------- rounding
@helper
def grid_position(sig, e, src_m, mant_bits, emin, has_zero, subnormals):
    """Where ``sig * 2**(e - src_m)`` falls on the target's grid, unbounded above.

    Returns ``(lo, step, rem, s)``: ``lo`` is the magnitude code of the truncated
    neighbour, ``step`` the code increment to the next neighbour (1, or 2**M from
    0 to the smallest normal in a format without subnormals), ``rem`` the ``s``
    bits below the target quantum (``s`` is the true shift, unclamped; ``s <= 0``
    means exact).

    Three regimes::

        e >= emin              quantum 2**(e - M)       code = (e - emin) * 2**M + q  (- 2**M without zero)
        e <  emin, subnormals  quantum 2**(emin - M)    code = q
        e <  emin, flush       grid {0, 2**emin}        code = 0 or 2**M
        e <  emin, no zero     pinned to the smallest value, code 0
    """
    normal = e >= emin
    flush = (~normal) & (subnormals == 0) & (mant_bits != 0)
    pinned = (~normal) & (has_zero == 0)
    s = pick(normal, src_m - mant_bits, pick(flush, src_m + (emin - e), src_m - mant_bits + (emin - e)))
    base = pick(normal, ((e - emin) << mant_bits) - ((1 - has_zero) << mant_bits), 0)
    step = pick(flush, np.int64(1) << mant_bits, 1)
    right = min(max(s, np.int64(0)), np.int64(60))  # sig < 2**53: a shift of 60 already moves everything out
    q = pick(s <= 0, sig << clamp_shift(-s), sig >> right)
    rem = sig & ((np.int64(1) << right) - 1)
    lo = pick(pinned, 0, base + q * step)
    return lo, step, pick(pinned, 0, rem), s


@helper
def away_deterministic(mode, rem, s, lo, neg):
    """Whether a deterministic mode rounds to the next grid value (see docs/semantics.md)."""
    half = np.int64(1) << (min(max(s, np.int64(1)), np.int64(60)) - 1)
    pos = ~neg
    inexact = rem != 0
    odd = (lo & 1) != 0
    gt = rem > half
    eq = rem == half
    up = (
        ((mode == NEAREST_EVEN) & (gt | (eq & odd)))
        | ((mode == NEAREST_AWAY) & (gt | eq))
        | ((mode == TOWARD_POSITIVE) & pos)
        | ((mode == TOWARD_NEGATIVE) & neg)
        | ((mode == ODD) & ~odd)
    )
    return inexact & up


@helper
def floor_scaled(rem, s, n):
    """floor(rem * 2**n / 2**s) as uint64, for 0 <= rem < 2**min(s, 53) and n <= 64."""
    r = np.uint64(rem)
    down = r >> np.uint64(clamp_shift(s - n))
    up = r << np.uint64(clamp_shift(n - s))
    return down if s >= n else up


@helper
def away_stochastic(mode, rem, s, n, r):
    """P3109 stochastic rounding: away iff k + R >= 2**N, with k per variant (§4.7.4).

    With ``y = floor(nu * 2**(N+1))`` (one bit more than N): A: ``k = y >> 1``;
    B: ``k = (y + 1) >> 1``; C: ``k = (y >> 1) + 1`` when the extra bit is set and
    either a lower bit is set or ``y >> 1`` is odd (round half to even).
    """
    k_a = floor_scaled(rem, s, n)
    y = floor_scaled(rem, s, min(n + 1, np.int64(64)))  # only B and C use it, and they have N <= 62
    k_b = (y + _U1) >> _U1
    sticky = (s > n + 1) & ((rem & ((np.int64(1) << min(clamp_shift(s - n - 1), np.int64(60))) - 1)) != 0)
    k_c = k_a + ((y & _U1) & np.uint64(sticky | ((k_a & _U1) != _U0)))
    k = k_b if mode == STOCHASTIC_B else (k_c if mode == STOCHASTIC_C else k_a)
    mask = _ALL_ONES >> np.uint64(64 - n)
    return (rem != 0) & (k != _U0) & (r >= (mask - k) + _U1)


# --------------------------------------------------------------------------- finishing a code
@helper
def finish_code(cls, neg, mag, fp, pp):
    """Full code from the class, sign and rounded magnitude code; -1 marks an error."""
    code = mag | pick(neg, fp.sign_bit, 0)
    code = pick(neg & (fp.sign_bit == 0), pp.neg_code, code)
    code = pick(neg & (mag == 0) & (fp.has_zero == 1), pp.zero_neg, code)  # rounded to zero
    code = pick(mag > fp.max_mag, pick(neg, pp.ovf_neg, pp.ovf_pos), code)
    code = pick(cls == ZERO, pick(neg, pp.zero_neg, pp.zero_pos), code)
    code = pick(cls == INF, pick(neg, pp.inf_neg, pp.inf_pos), code)
    return pick(cls == NAN, pick(neg, pp.nan_neg, pp.nan_pos), code)


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
    m = fp.mant_bits
    ef = mag >> m
    mf = mag & ((np.int64(1) << m) - 1)
    sub = (fp.has_zero == 1) & (ef == 0)
    sig = pick(sub, mf * fp.subnormals, mf | (np.int64(1) << m))
    e = pick(sub, fp.emin - m, ef - fp.bias - m)
    bits = scaled_to_float_bits(sign, sig, e, out_m, out_bias, out_ebits)
    exp_all = ((np.int64(1) << out_ebits) - 1) << out_m
    quiet_nan = exp_all | (np.int64(1) << (out_m - 1))
    signed_special = pick(mag == fp.inf_mag, exp_all, quiet_nan) | pick(sign, np.int64(1) << (out_m + out_ebits), 0)
    bits = pick(mag > fp.max_mag, signed_special, bits)
    return pick((fp.negzero_is_nan == 1) & sign & (mag == 0), quiet_nan, bits)


@helper
def scaled_to_float_bits(sign, sig, e, out_m, out_bias, out_ebits):
    """Bit pattern of ``(-1)**sign * sig * 2**e`` in an IEEE binary format where it is exact."""
    safe = sig | np.int64(sig == 0)
    top = 63 - np.int64(leading_zeros(safe))  # position of the leading one of sig
    vexp = e + top  # exponent of the value
    normal = ((vexp + out_bias) << out_m) | ((safe << clamp_shift(out_m - top)) & ((np.int64(1) << out_m) - 1))
    subnormal = safe << clamp_shift(e - (1 - out_bias - out_m))
    body = pick(vexp >= 1 - out_bias, normal, subnormal) * np.int64(sig != 0)
    return body | pick(sign, np.int64(1) << (out_m + out_ebits), 0)


# --------------------------------------------------------------------------- integer formats
@helper
def project_int(bits, src_m, src_bias, ip, pp, r, stochastic):
    """Two's-complement code of ``x`` rounded to an integer (saturating or wrapping); -1 for NaN."""
    neg, cls, sig, e = split_source(bits, src_m, src_bias)
    width_mask = (np.int64(1) << ip.bits) - 1
    s = src_m - e  # right shift that leaves the integer part (quantum 1); s <= 0: |x| is an integer
    big = e >= 62  # beyond every integer format (and beyond int64): saturates, or wraps to its low bits
    right = min(max(s, np.int64(0)), np.int64(60))
    mag = pick(s <= 0, pick(big, 0, sig << clamp_shift(-s)), sig >> right)
    rem = sig & ((np.int64(1) << right) - 1)
    if stochastic:
        up = away_stochastic(pp.mode, rem, s, pp.sr_bits, r)
    else:
        up = away_deterministic(pp.mode, rem, s, mag, neg)
    mag = mag + np.int64(up)
    # wrap: the low bits of the exact integer (sig << -s reaches past 64 bits only when they are all 0)
    low = pick(s <= 0, np.int64((np.uint64(sig) << np.uint64(clamp_shift(-s))) & np.uint64(width_mask))
               * np.int64(-s < 64), mag & width_mask)
    wrapped = pick(neg, -low, low) & width_mask
    v = pick(neg, -mag, mag)
    v = pick(big | (v > ip.max), pick(neg, ip.min, ip.max), v)
    saturated = max(v, np.int64(ip.min)) & width_mask
    code = pick(pp.wrap, wrapped, saturated)
    code = pick(cls == ZERO, 0, code)
    code = pick(cls == INF, pick(neg, pp.inf_neg, pp.inf_pos), code)
    return pick(cls == NAN, -1, code)


@helper
def int_code_to_float_bits(code, ip, out_m, out_bias, out_ebits):
    v = np.int64(code)
    if ip.signed and v >= (np.int64(1) << (ip.bits - 1)):
        v -= np.int64(1) << ip.bits
    return scaled_to_float_bits(v < 0, abs(v), np.int64(0), out_m, out_bias, out_ebits)


# --------------------------------------------------------------------------- kernels
# Every public kernel is a parallel driver that splits the array into chunks of
# CHUNK elements and runs a serial, vectorised loop on each chunk (``prange`` over
# the elements themselves compiles to a loop that LLVM vectorises poorly: measured
# 1.75x slower on one thread). Chunks are slices, so loops index from 0.
#
# ``emit_value=False`` writes codes; ``True`` writes the bit pattern of the rounded
# value in the output float format (cast); the test is loop-invariant and LLVM
# unswitches it. Random bits come from ``rbits`` when it is not empty (the caller's),
# else from the counter hash of (key, global index). Each returns the number of
# elements without a valid result (NaN into a format without NaN): their value is
# 0 and their code -1 (all ones in an unsigned array).
CHUNK = 1 << 14


@helper
def chunk_bounds(c, n):
    lo = c * CHUNK
    return lo, min(n, lo + CHUNK)


@helper
def num_chunks(n):
    return (n + CHUNK - 1) // CHUNK


@helper
def random_r(rbits, i, key, index, shift):
    """The element's random integer: the caller's, or the top bits of the counter hash."""
    return rbits[i] if rbits.size > 0 else counter_bits(key, index) >> shift


@kernel
def _round_chunk(src, out, fp, pp, emit_value, stochastic, rbits, key, offset):
    src_m, src_bias, _ = ieee_layout(src.itemsize)
    out_m, out_bias, out_e = ieee_layout(out.itemsize)
    shift = np.uint64(64 - pp.sr_bits) if stochastic else _U0
    errors = 0
    for i in range(src.size):
        r = random_r(rbits, i, key, i + offset, shift) if stochastic else _U0
        code = project(src[i], src_m, src_bias, fp, pp, r, stochastic)
        bad = code < 0
        if emit_value:
            out[i] = code_to_float_bits(max(code, 0), fp, out_m, out_bias, out_e) * (1 - np.int64(bad))
        else:
            out[i] = code
        errors += np.int64(bad)
    return errors


@parallel_kernel
def round_kernel(src, out, fp, pp, emit_value, stochastic, rbits, key, offset):
    """Round IEEE bit patterns ``src`` into a float format (deterministic or stochastic)."""
    errors = 0
    for c in prange(num_chunks(src.size)):
        lo, hi = chunk_bounds(c, src.size)
        rb = rbits[lo:hi] if rbits.size > 0 else rbits
        errors += _round_chunk(src[lo:hi], out[lo:hi], fp, pp, emit_value, stochastic, rb, key, offset + lo)
    return errors


@kernel
def _round_int_chunk(src, out, ip, pp, emit_value, stochastic, rbits, key, offset):
    src_m, src_bias, _ = ieee_layout(src.itemsize)
    out_m, out_bias, out_e = ieee_layout(out.itemsize)
    shift = np.uint64(64 - pp.sr_bits) if stochastic else _U0
    errors = 0
    for i in range(src.size):
        r = random_r(rbits, i, key, i + offset, shift) if stochastic else _U0
        code = project_int(src[i], src_m, src_bias, ip, pp, r, stochastic)
        bad = code < 0
        if emit_value:
            out[i] = int_code_to_float_bits(max(code, 0), ip, out_m, out_bias, out_e) * (1 - np.int64(bad))
        else:
            out[i] = code
        errors += np.int64(bad)
    return errors


@parallel_kernel
def round_int_kernel(src, out, ip, pp, emit_value, stochastic, rbits, key, offset):
    """round_kernel for integer formats (``ip`` is an IntParams)."""
    errors = 0
    for c in prange(num_chunks(src.size)):
        lo, hi = chunk_bounds(c, src.size)
        rb = rbits[lo:hi] if rbits.size > 0 else rbits
        errors += _round_int_chunk(src[lo:hi], out[lo:hi], ip, pp, emit_value, stochastic, rb, key, offset + lo)
    return errors


# --------------------------------------------------------------------------- integers from floats, saturating
# Deterministic rounding of a float to a saturating integer format needs no bit work:
# in float64 (exact for float32 sources, and for float64 sources once clamped to just
# outside the format's range) trunc(x) and the fraction x - trunc(x) are exact, and
# the rounding decision is a comparison of |fraction| with 1/2 (``mode`` is loop-invariant:
# LLVM unswitches the mode test). Checked against
# round_int_kernel for every mode in tests/test_fast_paths.py.
@kernel
def _int_saturate_chunk(src, out, ip, mode):
    lo = np.float64(ip.min)
    hi = np.float64(ip.max)
    mask = (np.int64(1) << ip.bits) - 1
    errors = 0
    for i in range(src.size):
        x = np.float64(src[i])
        nan = x != x
        x = min(max(0.0 if nan else x, lo - 1.0), hi + 1.0)  # +-inf and far values saturate below
        t = np.trunc(x)
        f = x - t
        af = abs(f)
        odd = (np.int64(t) & 1) == 1
        if mode == 0:
            away = af > 0.5 or (af == 0.5 and odd)
        elif mode == 1:
            away = af >= 0.5
        elif mode == 3:
            away = f > 0.0
        elif mode == 4:
            away = f < 0.0
        elif mode == 5:
            away = (af > 0.0) and not odd
        else:
            away = False
        r = t + (np.sign(f) if away else 0.0)
        r = min(max(r, lo), hi)
        out[i] = 0 if nan else np.int64(r) & mask
        errors += np.int64(nan)
    return errors


@parallel_kernel
def int_saturate_kernel(src, out, ip, mode):
    """Codes of floats rounded to an integer format with saturation (deterministic modes); returns the NaN count."""
    errors = 0
    for c in prange(num_chunks(src.size)):
        lo, hi = chunk_bounds(c, src.size)
        errors += _int_saturate_chunk(src[lo:hi], out[lo:hi], ip, mode)
    return errors


@kernel
def _decode_chunk(codes, out, fp, num_codes):
    out_m, out_bias, out_e = ieee_layout(out.itemsize)
    bad = 0
    for i in range(codes.size):
        c = np.int64(codes[i])
        bad += (c < 0) | (c >= num_codes)
        out[i] = code_to_float_bits(min(max(c, np.int64(0)), num_codes - 1), fp, out_m, out_bias, out_e)
    return bad


@kernel
def _decode_int_chunk(codes, out, ip, num_codes):
    out_m, out_bias, out_e = ieee_layout(out.itemsize)
    bad = 0
    for i in range(codes.size):
        c = np.int64(codes[i])
        bad += (c < 0) | (c >= num_codes)
        out[i] = int_code_to_float_bits(min(max(c, np.int64(0)), num_codes - 1), ip, out_m, out_bias, out_e)
    return bad


@parallel_kernel
def decode_kernel(codes, out, fp, num_codes):
    """Output-float bit pattern of every code (float formats); returns how many codes were out of range."""
    bad = 0
    for c in prange(num_chunks(codes.size)):
        lo, hi = chunk_bounds(c, codes.size)
        bad += _decode_chunk(codes[lo:hi], out[lo:hi], fp, num_codes)
    return bad


@parallel_kernel
def decode_int_kernel(codes, out, ip, num_codes):
    """decode_kernel for integer formats."""
    bad = 0
    for c in prange(num_chunks(codes.size)):
        lo, hi = chunk_bounds(c, codes.size)
        bad += _decode_int_chunk(codes[lo:hi], out[lo:hi], ip, num_codes)
    return bad


# --------------------------------------------------------------------------- lookup-table fast paths
# For formats with few mantissa bits, the deterministic result of rounding an IEEE
# source depends only on its sign, exponent, the top (M + 1) mantissa bits (kept
# bits and round bit) and whether any lower bit is set (the sticky bit):
#
#   source bits:  S EEEEEEEE MMM R | ssssssssssssssssssss     ->  index = S E M R, sticky = any(s)
#
# core builds ``table[(index << 1) | sticky]`` once per (format, rounding, overflow,
# source dtype) by running ``round_kernel`` on one representative of each class,
# so the table is derived from the generic kernel, never written by hand.
@helper
def table_class(u, shift):
    """Table index of a source bit pattern: (bits above ``shift``) * 2 + sticky.

    The shift is logical (through uint64), so a float64 pattern with its sign bit set
    gives a non-negative index: no wrap-around test on the index.
    """
    top = np.int64(np.uint64(u) >> np.uint64(shift))
    return (top << 1) | np.int64((u & ((np.int64(1) << shift) - 1)) != 0)


@parallel_kernel
def table_round_kernel(src, out, table, shift, width_mask, values, emit_value):
    """Codes (or, for cast, value bit patterns from ``values``) by table lookup; returns the error count.

    A plain ``prange`` over elements: this loop is bound by its table loads and does
    not vectorise either way, and it measured faster than the chunked form.
    """
    errors = 0
    for i in prange(src.size):
        code = np.int64(table[table_class(np.int64(src[i]) & width_mask, shift)])
        errors += np.int64(code < 0)
        code = max(code, np.int64(0))
        if emit_value:
            out[i] = values[code]
        else:
            out[i] = code
    return errors


@parallel_kernel
def table_decode_kernel(codes, out, values):
    """``out[i] = values[codes[i]]``; returns how many codes were outside the table."""
    bad = 0
    n = values.size
    for i in prange(codes.size):
        c = np.int64(codes[i])
        bad += (c < 0) | (c >= n)
        out[i] = values[min(max(c, np.int64(0)), n - 1)]
    return bad


# --------------------------------------------------------------------------- prefix formats
# A format with the source's exponent width and bias, IEEE specials and subnormals
# (bfloat16 and TF32 from float32) is a *prefix* of the source layout: its code is
# the top bits of the source pattern, and rounding happens at the fixed position
# s = src_m - M for every input, subnormals included:
#
#   float32:   S EEEEEEEE MMMMMMM | mmmmmmmmmmmmmmmm      code = top 16 bits (+1 if rounding away)
#
# so the whole projection is a shift, the shared rounding decision and the shared
# finishing of codes; a cast writes ``code << s``.
@kernel
def _prefix_chunk(src, out, fp, pp, emit_value, stochastic, rbits, key, offset):
    src_m, src_bias, src_e = ieee_layout(src.itemsize)
    s = src_m - fp.mant_bits
    all_ones = (np.int64(1) << src_e) - 1
    mag_mask = (((all_ones + 1) << src_m) - 1)
    shift = np.uint64(64 - pp.sr_bits) if stochastic else _U0
    for i in range(src.size):
        b = np.int64(src[i])
        neg = b < 0
        mag = b & mag_mask
        special = (mag >> src_m) == all_ones
        cls = (np.int64(special & ((mag & ((np.int64(1) << src_m) - 1)) == 0)) * INF
               + np.int64(special & ((mag & ((np.int64(1) << src_m) - 1)) != 0)) * NAN
               + np.int64(mag == 0) * ZERO)
        lo = mag >> s
        rem = mag & ((np.int64(1) << s) - 1)
        if stochastic:
            up = away_stochastic(pp.mode, rem, s, pp.sr_bits, random_r(rbits, i, key, i + offset, shift))
        else:
            up = away_deterministic(pp.mode, rem, s, lo, neg)
        code = finish_code(cls, neg, lo + np.int64(up), fp, pp)
        if emit_value:
            out[i] = code << s
        else:
            out[i] = code
    return 0


@parallel_kernel
def prefix_round_kernel(src, out, fp, pp, emit_value, stochastic, rbits, key, offset):
    """round_kernel for prefix formats of the source (see above); formats with NaN only, so no errors."""
    errors = 0
    for c in prange(num_chunks(src.size)):
        lo, hi = chunk_bounds(c, src.size)
        rb = rbits[lo:hi] if rbits.size > 0 else rbits
        errors += _prefix_chunk(src[lo:hi], out[lo:hi], fp, pp, emit_value, stochastic, rb, key, offset + lo)
    return errors


@parallel_kernel
def table_cast_kernel(src, out, table, shift, width_mask, sentinel):
    """Cast by one lookup in a table of output bit patterns per class (``sentinel`` marks errors)."""
    errors = 0
    for i in prange(src.size):
        v = table[table_class(np.int64(src[i]) & width_mask, shift)]
        bad = v == sentinel
        errors += np.int64(bad)
        out[i] = 0 if bad else v
    return errors


@helper
def float64_to_float32_odd(b):
    """Bit pattern of float64 ``b`` rounded to float32 with round-to-odd (NaN: a quiet NaN).

    Round-to-odd to float32 followed by any deterministic rounding to a format with at
    most 21 mantissa bits and float32's exponent range equals rounding the float64
    directly (Boldo & Melquiond, "When double rounding is odd", 2005): float32 keeps two
    bits more than such a target, and an inexact intermediate is never on its grid.

        float64:  S EEEEEEEEEEE MMMMMMMMMMMMMMMMMMMMMMM | ddddddddddddddddddddddddddddd
        float32:  S    EEEEEEEE MMMMMMMMMMMMMMMMMMMMMMM   (+1 in the last place if any d is set and it is even)
    """
    b = np.int64(b)
    sign = pick(b < 0, np.int64(1) << 31, 0)
    mag = b & ((np.int64(1) << 63) - 1)
    ef = mag >> 52
    m = mag & ((np.int64(1) << 52) - 1)
    e = ef - 1023
    special = ef == 2047
    sig = m | (np.int64(ef != 0) << 52)
    # normal float32 range: drop 29 bits; below it: drop 29 + (-126 - e) bits (float32 subnormals)
    drop = 29 + max(np.int64(-126) - e, np.int64(0))
    kept = sig >> min(drop, np.int64(63))
    lost = (sig & ((np.int64(1) << min(drop, np.int64(62))) - 1)) != 0
    lost = lost | ((drop > 62) & (sig != 0))
    normal = e >= -126
    body = pick(normal, ((e + 127) << 23) + (kept - (np.int64(1) << 23)), kept)
    body = body | np.int64(lost)  # round to odd: an inexact result gets its last bit set
    body = pick(e > 127, np.int64(0x7F7FFFFF), body)  # beyond float32: the largest finite (odd) value
    nan = special & (m != 0)
    body = pick(special, pick(nan, np.int64(0x7FC00000), np.int64(0x7F800000)), body)
    return sign | body


@kernel
def _prefix_f64_chunk(src, out, fp, pp, emit_value):
    s = 23 - fp.mant_bits
    value_bits = np.empty(src.size if emit_value else 0, np.int32)
    for i in range(src.size):
        b = float64_to_float32_odd(src[i])
        e64 = (np.int64(src[i]) >> 52) & 2047
        over = (e64 != 2047) & (e64 > 1023 + 127)  # beyond float32: finite overflow in every mode
        neg = (b >> 31) != 0
        mag = b & 0x7FFFFFFF
        special = (mag >> 23) == 255
        cls = (np.int64(special & ((mag & 0x7FFFFF) == 0)) * INF
               + np.int64(special & ((mag & 0x7FFFFF) != 0)) * NAN
               + np.int64(mag == 0) * ZERO)
        lo = mag >> s
        up = away_deterministic(pp.mode, mag & ((np.int64(1) << s) - 1), s, lo, neg)
        code = finish_code(cls, neg, pick(over, fp.max_mag + 1, lo + np.int64(up)), fp, pp)
        if emit_value:
            value_bits[i] = code << s  # the value as float32 bits (the format is a prefix of float32)
        else:
            out[i] = code
    if emit_value:  # widen float32 -> float64 (exact) with the hardware conversion
        wide = out.view(np.float64)
        narrow = value_bits.view(np.float32)
        for i in range(src.size):
            wide[i] = np.float64(narrow[i])
    return 0


@parallel_kernel
def prefix_f64_kernel(src, out, fp, pp, emit_value):
    """Deterministic rounding of float64 into a prefix format of float32 (bfloat16, TF32): round to
    odd to float32, then round at the fixed position (the float64 pass costs a few integer ops)."""
    errors = 0
    for c in prange(num_chunks(src.size)):
        lo, hi = chunk_bounds(c, src.size)
        errors += _prefix_f64_chunk(src[lo:hi], out[lo:hi], fp, pp, emit_value)
    return errors
