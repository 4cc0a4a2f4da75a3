"""The public verbs: :func:`encode`, :func:`decode`, :func:`cast`, :func:`random_bits`.

Each verb validates its arguments once, resolves strings to enums and the format
to its descriptor, picks dtypes, flattens, and hands plain integers to one
generic compiled kernel (:mod:`floatsim._kernels`). The only semantics decided
here are the codes of out-of-range results (:func:`_projection`), written from
the table in ``docs/semantics.md``.
"""

from __future__ import annotations

import functools
import os
import secrets
from typing import NamedTuple

import numpy as np

from . import _kernels as K
from ._jit import threads_for
from .format import FloatFormat, IntFormat, Specials
from .formats import get_format
from .rounding import Overflow, Rounding

__all__ = ["cast", "decode", "encode", "random_bits"]

# IEEE binary dtypes a kernel reads or writes: trailing bits, bias, exponent bits, signed view
_IEEE = {
    np.dtype(np.float16): (10, 15, 5, np.dtype(np.int16)),
    np.dtype(np.float32): (23, 127, 8, np.dtype(np.int32)),
    np.dtype(np.float64): (52, 1023, 11, np.dtype(np.int64)),
}

_SEED_SALT = 0x5EEDF10A7516  # xor-ed into seeds before mixing

# FLOATSIM_NO_TABLES=1 turns the fast paths (lookup tables, prefix formats) off and forces the
# generic arithmetic kernels everywhere; the tests compare both
_USE_TABLES = os.environ.get("FLOATSIM_NO_TABLES", "").strip().lower() in ("", "0", "false", "no")
_NO_VALUES = np.zeros(1, np.int64)
_NO_BITS = np.zeros(0, np.uint64)
_CODE_DTYPES = {np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.int64)}


class ProjParams(NamedTuple):
    """Rounding mode and the codes of special / out-of-range results (-1: error)."""

    mode: int
    sr_bits: int
    wrap: int
    nan_pos: int
    nan_neg: int
    inf_pos: int
    inf_neg: int
    ovf_pos: int
    ovf_neg: int
    zero_pos: int
    zero_neg: int
    neg_code: int


# --------------------------------------------------------------------------- argument handling
def _resolve_format(fmt):
    return get_format(fmt, "fmt")


def _resolve_overflow(fmt, overflow):
    if overflow is None:
        return Overflow.SATURATE if isinstance(fmt, IntFormat) else Overflow.IEEE
    ov = Overflow.parse(overflow)
    if isinstance(fmt, IntFormat) and ov not in (Overflow.SATURATE, Overflow.WRAP):
        raise ValueError(f"overflow={ov.name.lower()!r} is not available for integer format {fmt}; "
                         "use 'saturate' (default) or 'wrap'")
    if isinstance(fmt, FloatFormat) and ov is Overflow.WRAP:
        raise ValueError(f"overflow='wrap' applies to integer formats only, not to {fmt}; "
                         "use 'ieee', 'saturate', 'sat_propagate' or 'sat_none'")
    return ov


def _resolve_sr_bits(rnd, sr_bits):
    if not rnd.is_stochastic:
        if sr_bits is not None:
            raise ValueError(f"sr_bits applies to stochastic rounding only, not to rounding={rnd.name.lower()!r}")
        return 0
    if rnd is Rounding.STOCHASTIC:
        if sr_bits not in (None, 64):
            raise ValueError("rounding='stochastic' uses 64 random bits; for N bits use "
                             "rounding='stochastic_a' / 'stochastic_b' / 'stochastic_c' with sr_bits=N")
        return 64
    if sr_bits is None:
        raise ValueError(f"rounding={rnd.name.lower()!r} needs sr_bits=N, the number of random bits (1 to 62)")
    if isinstance(sr_bits, bool) or not isinstance(sr_bits, (int, np.integer)) or not 1 <= sr_bits <= 62:
        raise ValueError(f"sr_bits={sr_bits!r} is invalid: it must be an integer from 1 to 62")
    return int(sr_bits)


def _float_input(x, argument="x"):
    """``x`` as an array of float16/32/64 (ml_dtypes floats widen exactly to float32)."""
    arr = np.asarray(x)
    dt = arr.dtype
    if dt in _IEEE:
        return arr
    if dt.kind in "iu":
        if dt.itemsize <= 4:
            return arr.astype(np.float64)
        wide = arr.astype(np.float64)
        if not np.array_equal(wide.astype(dt), arr):
            raise ValueError(f"{argument}: {dt.name} values beyond 2**53 are not exact in float64; "
                             "convert them to float yourself")
        return wide
    fmt = None
    if dt.kind in "fV":  # ml_dtypes floats (bfloat16, float8_*, ...) widen exactly to float32
        try:
            fmt = get_format(dt)
        except (TypeError, ValueError):
            fmt = None
    if isinstance(fmt, FloatFormat) and fmt.exact_in(np.float32):
        return arr.astype(np.float32)
    raise TypeError(
        f"{argument} must hold real floating-point numbers (float16, float32, float64, an ml_dtypes float, "
        f"or integers), not {dt.name}"
    )


def _check_out(out, shape, dtype, argument="out"):
    if out is None:
        return np.empty(shape, dtype)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{argument} must be a numpy array, not {type(out).__name__}")
    if out.shape != tuple(shape):
        raise ValueError(f"{argument} has shape {out.shape}, expected {tuple(shape)}")
    if out.dtype != dtype:
        raise ValueError(f"{argument} has dtype {out.dtype}, expected {dtype}")
    if not out.flags.writeable:
        raise ValueError(f"{argument} is read-only")
    return out


def _flat_view(arr, view_dtype):
    """A contiguous 1-D view (or copy, if ``arr`` is not contiguous) of ``arr`` as ``view_dtype``."""
    return np.ascontiguousarray(arr).reshape(-1).view(view_dtype)


def _output_dtype(fmt, dtype, default, argument="dtype"):
    dt = np.dtype(default if dtype is None else dtype)
    if dt not in _IEEE:
        raise TypeError(f"{argument} must be float16, float32 or float64, not {dt.name}")
    if not fmt.exact_in(dt):
        raise ValueError(f"dtype: not every value of {fmt} is exact in {dt.name}; pass dtype=np.float64")
    return dt


# --------------------------------------------------------------------------- projection table
@functools.cache
def _projection(fmt, rnd: Rounding, ov: Overflow, sr_bits: int) -> ProjParams:
    """Codes of special and out-of-range results, from the table in docs/semantics.md."""
    if isinstance(fmt, IntFormat):
        wrap = ov is Overflow.WRAP
        mask = (1 << fmt.bits) - 1
        inf_pos, inf_neg = (0, 0) if wrap else (fmt.max, fmt.min & mask)
        return ProjParams(int(rnd), sr_bits, int(wrap), -1, -1, inf_pos, inf_neg, 0, 0, 0, 0, 0)

    sb = fmt.sign_bit
    nan = fmt.nan_code if fmt.has_nan else -1
    signed_nan = fmt.has_nan and fmt.has_negative_zero  # ieee / fn signed formats keep the NaN sign
    nan_neg = (nan | sb) if signed_nan else nan
    maxc = fmt.max_code
    lo_code = 0  # code of M_lo for unsigned formats: zero, or the smallest value without zero

    def neg_of(mag):
        return sb | mag

    pos_inf = fmt.inf_code if fmt.has_inf else (nan if fmt.has_nan else maxc)
    if fmt.signed:
        neg_inf = neg_of(fmt.inf_code) if fmt.has_inf else (nan_neg if fmt.has_nan else neg_of(maxc))
    else:
        neg_inf = nan if fmt.has_nan else lo_code
    lo_sat = neg_of(maxc) if fmt.signed else lo_code
    nan_or_lo = nan if fmt.has_nan else lo_code
    directed_down = rnd in (Rounding.TOWARD_ZERO, Rounding.TOWARD_NEGATIVE)
    directed_up = rnd in (Rounding.TOWARD_ZERO, Rounding.TOWARD_POSITIVE)

    if ov is Overflow.IEEE:
        ovf_pos = maxc if (directed_down or rnd is Rounding.ODD) else pos_inf
        ovf_neg = lo_sat if (directed_up or rnd is Rounding.ODD) else neg_inf
        inf_pos, inf_neg = pos_inf, neg_inf
        neg_code = nan_or_lo
    elif ov is Overflow.SATURATE:
        ovf_pos, ovf_neg, inf_pos, inf_neg, neg_code = maxc, lo_sat, maxc, lo_sat, lo_code
    elif ov is Overflow.SAT_PROPAGATE:
        inf_pos = fmt.inf_code if fmt.has_inf else maxc
        inf_neg = neg_of(fmt.inf_code) if (fmt.has_inf and fmt.signed) else lo_sat
        ovf_pos, ovf_neg, neg_code = maxc, lo_sat, lo_code
    else:  # SAT_NONE, P3109 v4 rules 10-22
        inf_pos = fmt.inf_code if fmt.has_inf else maxc
        if fmt.signed:
            inf_neg = neg_of(fmt.inf_code) if fmt.has_inf else lo_sat
        else:
            inf_neg = nan_or_lo
        if directed_down or (not fmt.signed and fmt.has_inf and rnd is Rounding.ODD):
            ovf_pos = maxc
        else:
            ovf_pos = fmt.inf_code if fmt.has_inf else maxc
        if directed_up:
            ovf_neg = lo_sat
            neg_code = lo_code
        else:
            ovf_neg = (neg_of(fmt.inf_code) if fmt.has_inf else lo_sat) if fmt.signed else nan_or_lo
            neg_code = nan_or_lo
    if not fmt.signed:
        ovf_neg = neg_code  # a negative beyond -max is just another negative
    if fmt.has_zero:
        zero_pos, zero_neg = 0, (sb if fmt.has_negative_zero else 0)
    elif ov is Overflow.SATURATE or not fmt.has_nan:  # no zero (E8M0): the smallest value, keeping the sign
        zero_pos, zero_neg = 0, sb
    else:
        zero_pos, zero_neg = nan, nan_neg
    return ProjParams(int(rnd), sr_bits, 0, nan, nan_neg, inf_pos, inf_neg, ovf_pos, ovf_neg,
                      zero_pos, zero_neg, neg_code)


# --------------------------------------------------------------------------- random bits
def _key(seed) -> np.uint64:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed={seed!r} is invalid: it must be a non-negative integer (or None for a fresh one)")
    z = (int(seed) ^ _SEED_SALT) & 0xFFFFFFFFFFFFFFFF
    # SplitMix64 finaliser of the seed, in exact Python integers (the kernel's mix64)
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return np.uint64(z ^ (z >> 31))


def _check_offset(index_offset):
    if isinstance(index_offset, bool) or not isinstance(index_offset, (int, np.integer)) or index_offset < 0:
        raise ValueError(f"index_offset={index_offset!r} is invalid: it must be a non-negative integer")
    return int(index_offset)


def random_bits(shape, seed: int, *, index_offset: int = 0) -> np.ndarray:
    """The 64 random bits that stochastic rounding uses for each element.

    Element ``i`` (C order) of a call with ``index_offset=k`` gets the bits of
    global index ``i + k``: a counter-based hash of ``(seed, i + k)``, so results
    do not depend on the number of threads, and a large array processed in chunks
    (each with ``index_offset`` = its first element's index) gets the same bits as
    the whole array. With ``sr_bits=N`` the top N bits are used.

    Examples
    --------
    >>> a = random_bits(6, seed=7)
    >>> bool((random_bits(3, seed=7, index_offset=3) == a[3:]).all())
    True
    """
    out = np.empty(shape, np.uint64)
    with threads_for(out.size):
        K.fill_random_bits(out.reshape(-1), _key(seed), np.int64(_check_offset(index_offset)))
    return out


def _random_source(rnd, sr_bits, seed, random_bits_arr, size, shape, index_offset):
    """(bits array, key, offset) for the kernel."""
    offset = _check_offset(index_offset)
    if not rnd.is_stochastic:
        if seed is not None or random_bits_arr is not None:
            raise ValueError(f"seed / random_bits apply to stochastic rounding only, not rounding={rnd.name.lower()!r}")
        return None, np.uint64(0), 0
    if random_bits_arr is not None:
        if seed is not None:
            raise ValueError("give either seed or random_bits, not both")
        rb = np.asarray(random_bits_arr)
        if rb.dtype.kind != "u":
            raise TypeError(f"random_bits must be an array of unsigned integers, not {rb.dtype.name}")
        if rb.shape != tuple(shape):
            raise ValueError(f"random_bits has shape {rb.shape}, expected the shape of x {tuple(shape)}")
        if sr_bits == 64 and rb.dtype != np.uint64:
            raise TypeError("rounding='stochastic' takes random_bits as uint64 (64 random bits per element)")
        if sr_bits < 64 and rb.size and int(rb.max()) >= (1 << sr_bits):
            raise ValueError(f"random_bits must be < 2**sr_bits = {1 << sr_bits}; found {int(rb.max())}")
        if index_offset:
            raise ValueError("index_offset applies to seeded random bits, not to random_bits")
        return np.ascontiguousarray(rb, dtype=np.uint64).reshape(-1), np.uint64(0), offset
    if seed is None:
        seed = secrets.randbits(63)
    return None, _key(seed), offset


# --------------------------------------------------------------------------- lookup tables
_TABLE_MAX_ENTRIES = 1 << 17  # 256 KiB of int16 codes at most
_DECODE_TABLE_MAX_BITS = 16


def _table_shape(fmt, src_dtype: np.dtype):
    """``(shift, width)`` of the class index of a source dtype for ``fmt``, or None if the tables do not apply."""
    if isinstance(fmt, IntFormat):
        return None
    src_m, src_bias, _, _ = _IEEE[src_dtype]
    shift = src_m - fmt.mantissa_bits - 1
    width = 8 * src_dtype.itemsize
    if shift < 1 or fmt.emin < 1 - src_bias or 1 << (width - shift + 1) > _TABLE_MAX_ENTRIES:
        return None
    return shift, width


def _class_representatives(src_dtype: np.dtype, shift: int, width: int) -> np.ndarray:
    """One source bit pattern per table class: every index, with the bits below it clear and with one set."""
    index = np.arange(1 << (width - shift), dtype=np.uint64)
    reps = np.empty(index.size * 2, np.uint64)
    reps[0::2] = index << np.uint64(shift)
    reps[1::2] = reps[0::2] | np.uint64(1)
    view = _IEEE[src_dtype][3]
    return reps.astype(view.str.replace("i", "u")).view(view)


def _is_prefix(fmt, src_dtype: np.dtype) -> bool:
    """Whether ``fmt`` is the source layout with fewer mantissa bits (bfloat16 / TF32 from float32)."""
    src_m, src_bias, src_e, _ = _IEEE[src_dtype]
    return (
        isinstance(fmt, FloatFormat) and fmt.signed and fmt.subnormals and fmt.has_zero
        and fmt.specials is Specials.IEEE and fmt.exponent_bits == src_e and fmt.bias == src_bias
        and 0 < fmt.mantissa_bits <= src_m
    )


@functools.cache
def _round_table(fmt, rnd: Rounding, ov: Overflow, src_dtype: np.dtype):
    """``(table, shift, width_mask)`` for the table fast path, or None where it does not apply.

    It applies to deterministic rounding into float formats whose values have few
    mantissa bits and whose normal range starts at or above the source's, so that
    the round bit always lies in the index (see _kernels.table_round_kernel).
    """
    shape = None if rnd.is_stochastic else _table_shape(fmt, src_dtype)
    if shape is None:
        return None
    reps = _class_representatives(src_dtype, *shape)
    table = np.empty(reps.size, np.int64)  # signed: error classes keep their -1
    K.round_kernel(reps, table, fmt.kernel_params(), _projection(fmt, rnd, ov, 0), False, False, _NO_BITS,
                   np.uint64(0), np.int64(0))
    shift, width = shape
    return table.astype(np.int16), np.int64(shift), np.int64((1 << width) - 1 if width < 64 else -1)


@functools.cache
def _cast_table(fmt, rnd: Rounding, ov: Overflow, src_dtype: np.dtype, out_dtype: np.dtype):
    """``(values per class, shift, width_mask, sentinel)``: the code table composed with the value table.

    One dependent load per element instead of two (about 2x faster). Error classes
    hold ``sentinel``, the all-ones NaN pattern, which no cast ever produces (floatsim
    writes quiet NaNs with an empty payload). None when the table would exceed 256 KiB.
    """
    table, shift, width_mask = _round_table(fmt, rnd, ov, src_dtype)
    view = _IEEE[out_dtype][3]
    if table.size * view.itemsize > 1 << 18:
        return None
    sentinel = np.iinfo(view).max
    fused = np.where(table < 0, sentinel, _value_table(fmt, out_dtype)[np.maximum(table, 0)]).astype(view)
    return fused, shift, width_mask, view.type(sentinel)


@functools.cache
def _value_table(fmt, out_dtype: np.dtype):
    """Bit patterns (signed-integer view of ``out_dtype``) of the values of every code."""
    out_view = _IEEE[out_dtype][3]
    values = np.empty(fmt.num_codes, out_view)
    kernel = K.decode_int_kernel if isinstance(fmt, IntFormat) else K.decode_kernel
    kernel(np.arange(fmt.num_codes, dtype=np.int64), values, fmt.kernel_params(), fmt.num_codes)
    return values


# --------------------------------------------------------------------------- verbs
def _project(x, fmt, rounding, overflow, seed, random_bits, sr_bits, index_offset, emit_value, out, dtype):
    fmt = _resolve_format(fmt)
    rnd = Rounding.parse(rounding)
    ov = _resolve_overflow(fmt, overflow)
    nbits = _resolve_sr_bits(rnd, sr_bits)
    scalar = np.ndim(x) == 0 and not isinstance(x, np.ndarray)
    arr = _float_input(x)
    src_view = _IEEE[arr.dtype][3]
    if emit_value:
        out_dtype = _output_dtype(fmt, dtype, arr.dtype)
    else:
        if dtype is not None:
            raise TypeError("encode takes no dtype argument: codes are always the format's code dtype")
        out_dtype = fmt.code_dtype
    res = _check_out(out, arr.shape, out_dtype)
    rbits, key, offset = _random_source(rnd, nbits, seed, random_bits, arr.size, arr.shape, index_offset)
    out_view = _IEEE[out_dtype][3] if emit_value else out_dtype
    src = _flat_view(arr, src_view)
    dst = res.reshape(-1).view(out_view) if res.flags.c_contiguous else np.empty(arr.size, out_view)
    fp, pp = fmt.kernel_params(), _projection(fmt, rnd, ov, nbits)
    rbits = _NO_BITS if rbits is None else rbits
    random = (rnd.is_stochastic, rbits, key, np.int64(offset))
    table = _round_table(fmt, rnd, ov, arr.dtype) if _USE_TABLES else None
    with threads_for(arr.size):
        if table is not None and emit_value and (fused := _cast_table(fmt, rnd, ov, arr.dtype, out_dtype)) is not None:
            errors = K.table_cast_kernel(src, dst, *fused)
        elif table is not None:
            values = _value_table(fmt, out_dtype) if emit_value else _NO_VALUES
            errors = K.table_round_kernel(src, dst, *table, values, emit_value)
        elif (isinstance(fmt, IntFormat) and _USE_TABLES and not emit_value and not rnd.is_stochastic
              and ov is Overflow.SATURATE and arr.dtype in (np.float32, np.float64)):
            errors = K.int_saturate_kernel(src.view(arr.dtype), dst, fp, np.int64(rnd))
        elif isinstance(fmt, IntFormat):
            errors = K.round_int_kernel(src, dst, fp, pp, emit_value, *random)
        elif _USE_TABLES and _is_prefix(fmt, arr.dtype) and (not emit_value or out_dtype == arr.dtype):
            errors = K.prefix_round_kernel(src, dst, fp, pp, emit_value, *random)
        elif (_USE_TABLES and not rnd.is_stochastic and arr.dtype == np.float64 and (not emit_value or out_dtype == arr.dtype)
              and fmt.mantissa_bits <= 21 and _is_prefix(fmt, np.dtype(np.float32))):
            errors = K.prefix_f64_kernel(src, dst, fp, pp, emit_value)
        else:
            errors = K.round_kernel(src, dst, fp, pp, emit_value, *random)
    if errors:
        raise ValueError(
            f"x contains {errors} NaN value(s), but {fmt} has no NaN; "
            "replace them first (e.g. np.nan_to_num) or pick a format with NaN"
        )
    if not res.flags.c_contiguous:
        res[...] = dst.view(out_dtype).reshape(arr.shape)
    return res[()] if scalar else res


def encode(x, fmt, *, rounding="nearest_even", overflow=None, seed=None, random_bits=None, sr_bits=None,
           index_offset=0, out=None):
    """Round ``x`` into ``fmt`` and return the codes (bit patterns).

    Parameters
    ----------
    x : array_like
        float16 / float32 / float64 (or ml_dtypes float, or integer) values, any shape.
        float64 values are rounded once, directly to ``fmt``.
    fmt : str, FloatFormat, IntFormat or dtype
        The target format (see :func:`floatsim.list_formats`).
    rounding : str or Rounding
        ``"nearest_even"`` (default), ``"nearest_away"``, ``"toward_zero"``,
        ``"toward_positive"``, ``"toward_negative"``, ``"odd"``, ``"stochastic"``,
        ``"stochastic_a"``, ``"stochastic_b"``, ``"stochastic_c"``.
    overflow : str or Overflow, optional
        ``"ieee"`` (default for float formats; matches ml_dtypes), ``"saturate"``,
        ``"sat_propagate"``, ``"sat_none"``; integer formats: ``"saturate"``
        (default) or ``"wrap"``. See docs/semantics.md.
    seed : int, optional
        Seed of the counter-based random bits for stochastic rounding (a fresh
        seed is drawn when neither ``seed`` nor ``random_bits`` is given).
    random_bits : array of unsigned int, optional
        The caller's random integers, one per element, each below ``2**sr_bits``
        (uint64 for ``"stochastic"``).
    sr_bits : int, optional
        Number of random bits N for ``stochastic_a/b/c`` (1 to 62).
    index_offset : int
        Global index of the first element, for chunked stochastic rounding.
    out : ndarray, optional
        Where to write the codes (``fmt.code_dtype``, shape of ``x``).

    Returns
    -------
    ndarray of uint8 / uint16 / uint32 (a numpy scalar for scalar input)

    Raises
    ------
    ValueError, TypeError
        Unknown format / rounding / overflow, non-numeric input, NaN into a
        format without NaN, bad ``out``.

    Examples
    --------
    >>> import numpy as np
    >>> encode(np.array([1.0, -2.0, 448.0]), "float8_e4m3fn")
    array([ 56, 192, 126], dtype=uint8)
    """
    return _project(x, fmt, rounding, overflow, seed, random_bits, sr_bits, index_offset, False, out, None)


def cast(x, fmt, *, rounding="nearest_even", overflow=None, seed=None, random_bits=None, sr_bits=None,
         index_offset=0, dtype=None, out=None):
    """Round ``x`` to the nearest values of ``fmt`` ("fake quantization").

    Takes the same arguments as :func:`encode`; returns the rounded values in
    ``x``'s float dtype (float64 for integer or Python input; float32 for
    ml_dtypes input), or in ``dtype``. Every value of ``fmt`` must be exact in
    that dtype (a ``ValueError`` says when it is not).

    Examples
    --------
    >>> import numpy as np
    >>> cast(np.array([1.0625, 500.0], np.float32), "float8_e4m3fn")
    array([ 1., nan], dtype=float32)
    >>> cast(np.array([1.0625, 500.0], np.float32), "float8_e4m3fn", overflow="saturate")
    array([  1., 448.], dtype=float32)
    """
    return _project(x, fmt, rounding, overflow, seed, random_bits, sr_bits, index_offset, True, out, dtype)


def decode(codes, fmt, *, dtype=None, out=None):
    """The exact values of ``codes`` in ``fmt``.

    Parameters
    ----------
    codes : array_like of integers
        Codes in ``[0, 2**fmt.bits)``, any shape and integer dtype.
    fmt : str, FloatFormat, IntFormat or dtype
    dtype : float16, float32 or float64, optional
        Default: float32 when every value of ``fmt`` is exact in float32, else float64.
    out : ndarray, optional

    Raises
    ------
    ValueError
        For codes outside the format's range (the message shows the first one).

    Examples
    --------
    >>> decode([0x7E, 0x7F, 0x01], "float8_e4m3fn")
    array([4.480000e+02,          nan, 1.953125e-03], dtype=float32)
    """
    fmt = _resolve_format(fmt)
    scalar = np.ndim(codes) == 0 and not isinstance(codes, np.ndarray)
    arr = np.asarray(codes)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "b" or arr.size == 0 or arr.dtype.kind not in "fO":
            if arr.size == 0 and arr.dtype.kind == "f":
                arr = arr.astype(np.int64)
            else:
                raise TypeError(f"codes must be integers, not {arr.dtype.name}")
        else:
            raise TypeError(f"codes must be integers, not {arr.dtype.name}")
    out_dtype = _output_dtype(fmt, dtype, fmt.value_dtype)
    res = _check_out(out, arr.shape, out_dtype)
    out_view = _IEEE[out_dtype][3]
    src = np.ascontiguousarray(arr).reshape(-1)
    if src.dtype == np.uint64:
        src = src.view(np.int64)  # huge codes become negative and are reported as out of range
    elif src.dtype not in _CODE_DTYPES:
        src = src.astype(np.int64)  # one compiled kernel per code dtype: keep their number small
    dst = res.reshape(-1).view(out_view) if res.flags.c_contiguous else np.empty(arr.size, out_view)
    with threads_for(src.size):
        if _USE_TABLES and fmt.bits <= _DECODE_TABLE_MAX_BITS:
            bad = K.table_decode_kernel(src, dst, _value_table(fmt, out_dtype))
        elif isinstance(fmt, IntFormat):
            bad = K.decode_int_kernel(src, dst, fmt.kernel_params(), fmt.num_codes)
        else:
            bad = K.decode_kernel(src, dst, fmt.kernel_params(), fmt.num_codes)
    if bad:
        flat = arr.reshape(-1)
        first = int(np.flatnonzero((flat < 0) | (flat >= fmt.num_codes))[0])
        raise ValueError(
            f"codes contains {bad} value(s) outside the {fmt.bits}-bit format {fmt}: "
            f"e.g. {int(flat[first]):#x} at flat index {first}; codes must be in [0, {fmt.num_codes:#x})"
        )
    if not res.flags.c_contiguous:
        res[...] = dst.view(out_dtype).reshape(arr.shape)
    return res[()] if scalar else res
