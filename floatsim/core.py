"""The central verbs: `encode`, `decode`, `cast` and `random_bits`.

These functions move values between ordinary NumPy floats and a low-precision format. `encode` rounds values
into a format and returns their *codes* (the bit patterns, as unsigned integers); `decode` turns codes back into
their exact values; `cast` does both at once and returns the rounded values as floats, which is what "fake
quantization" needs. `random_bits` returns the random bits that seeded stochastic rounding uses, so that a
rounding can be replayed or reproduced elsewhere. All four are available from the top level (`floatsim.cast`).

They work element-wise on arrays of any shape and are bit-exact: every element is rounded once, directly from
its exact value, by the rules on the Semantics page (`docs/semantics.md`), and gives the same code as the exact
pure-Python `floatsim.reference`. They run as compiled, multi-threaded kernels whose results do not depend on the
number of threads.

Examples
--------
>>> import numpy as np, floatsim as fs
>>> codes = fs.encode(np.array([0.1, 1.0625, 500.0], np.float32), "float8_e4m3fn", overflow="saturate")
>>> codes, fs.decode(codes, "float8_e4m3fn")
(array([ 29,  56, 126], dtype=uint8), array([1.015625e-01, 1.000000e+00, 4.480000e+02], dtype=float32))
"""

from __future__ import annotations

import functools
import os
import secrets
from typing import NamedTuple

import numpy as np

from . import _adapt
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
    if dt.kind in "fV":  # ml_dtypes floats (bfloat16, float8_*, ...) widen exactly to float32, its int2/4 to float64
        try:
            fmt = get_format(dt)
        except (TypeError, ValueError):
            fmt = None
    if isinstance(fmt, FloatFormat) and fmt.exact_in(np.float32):
        return arr.astype(np.float32)
    if isinstance(fmt, IntFormat):
        return arr.astype(np.float64)
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
        raise ValueError(f"seed={seed!r} is invalid: it must be a non-negative integer")
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
    """The 64 random bits per element that seeded stochastic rounding uses.

    With `seed=s`, the stochastic modes of `encode` and `cast` draw no state from a generator: element `i` (in C
    order) of a call with `index_offset=k` takes the bits of *global index* `i + k`, a counter-based hash of
    `(s, i + k)`. This function returns those bits. Because every element's bits depend only on the seed and its
    index, results do not depend on the number of threads, and a large array rounded in chunks (each chunk with
    `index_offset` = the index of its first element) gets the same bits as the whole array. `rounding="stochastic"`
    uses all 64 bits as `R`; `stochastic_a/b/c` with `sr_bits=N` use the top `N` bits, `bits >> (64 - N)`.
    Passing these bits as `random_bits=` reproduces the seeded result exactly.

    Parameters
    ----------
    shape : int or tuple of int
        Shape of the result (the shape of the `x` they are meant for).
    seed : int
        The seed: a non-negative integer, as given to `encode` / `cast`.
    index_offset : int, default 0
        Global index of the first element.

    Returns
    -------
    numpy.ndarray
        uint64 array of the given shape.

    Raises
    ------
    ValueError
        If `seed` or `index_offset` is not a non-negative integer.

    See Also
    --------
    floatsim.cast : Rounds with these bits when given `seed` (or `random_bits`).

    Examples
    --------
    >>> import numpy as np, floatsim as fs
    >>> bits = fs.random_bits(6, seed=7)
    >>> bits.dtype, bits.shape
    (dtype('uint64'), (6,))
    >>> bool((fs.random_bits(3, seed=7, index_offset=3) == bits[3:]).all())  # the second half of the same stream
    True

    Replaying a seeded stochastic rounding with explicit bits (the top 8 bits for `sr_bits=8`):

    >>> x = np.linspace(1, 2, 6, dtype=np.float32)
    >>> a = fs.cast(x, "float8_e4m3fn", rounding="stochastic", seed=7)
    >>> bool((a == fs.cast(x, "float8_e4m3fn", rounding="stochastic", random_bits=bits)).all())
    True
    >>> b = fs.cast(x, "float8_e4m3fn", rounding="stochastic_a", sr_bits=8, seed=7)
    >>> top8 = bits >> np.uint64(56)
    >>> bool((b == fs.cast(x, "float8_e4m3fn", rounding="stochastic_a", sr_bits=8, random_bits=top8)).all())
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
           index_offset=0, typed=False, out=None):
    """Round `x` into the format `fmt` and return the codes (bit patterns) of the results.

    Each element is rounded once, from its exact value, to a value of `fmt`: `rounding` picks one of the two
    neighbours of a value that `fmt` cannot hold, then `overflow` says what a result beyond the largest finite
    value becomes (round first, so a value that rounds down to `max` does not overflow). NaN becomes the format's
    NaN (keeping its sign where the format has signed NaNs); -0 stays -0 where the format has it, else becomes +0;
    ±inf follows `overflow`. The full rules are on the Semantics page (`docs/semantics.md`). The code of a value
    is its bit pattern read as an unsigned integer: `S EEEE MMM` for float formats, two's complement for signed
    integer formats. `decode` turns codes back into values; `cast` returns the values directly.

    Parameters
    ----------
    x : array_like
        The values, any shape: a float16, float32 or float64 array, Python numbers or lists, an ml_dtypes float
        array (bfloat16, float8_*, ...; widened exactly), or integers (converted to float64; an int64 / uint64
        value that float64 cannot hold exactly raises `ValueError`). float64 values are rounded once, directly to
        `fmt`, never through float32.
    fmt : str, FloatFormat, IntFormat or dtype
        The target format: a name or alias (`"float8_e4m3fn"`, `"bf16"`, `"binary8p4se"`), a descriptor, or a
        NumPy / ml_dtypes dtype; see `floatsim.get_format`.
    rounding : str or Rounding, default "nearest_even"
        How a value between two neighbours of `fmt` is rounded: `"nearest_even"`, `"nearest_away"`,
        `"toward_zero"`, `"toward_positive"`, `"toward_negative"`, `"odd"`, or one of the stochastic modes
        `"stochastic"`, `"stochastic_a"`, `"stochastic_b"`, `"stochastic_c"`; see `floatsim.Rounding`.
    overflow : str or Overflow, optional
        What a result beyond the finite range of `fmt`, or an infinite input, becomes. Float formats: `"ieee"`
        (the default: infinity if `fmt` has it, else NaN, else the largest value, as ml_dtypes), `"saturate"`,
        `"sat_propagate"` or `"sat_none"`. Integer formats: `"saturate"` (the default) or `"wrap"`. See
        `floatsim.Overflow`.
    seed : int, optional
        Stochastic modes only: a non-negative integer that fixes the random bits, so that the same call gives
        the same result on any machine and thread count (the bits are those of `floatsim.random_bits`). When
        neither `seed` nor `random_bits` is given, a fresh seed is drawn and the result is not reproducible.
    random_bits : array of unsigned integers, optional
        Stochastic modes only, instead of `seed`: your own random integer `R` for each element, same shape as
        `x`. For `"stochastic"` a uint64 array (64 bits each); for `"stochastic_a/b/c"` any unsigned dtype with
        values below `2**sr_bits`.
    sr_bits : int, optional
        The number `N` of random bits per element. Required by `"stochastic_a"`, `"stochastic_b"` and
        `"stochastic_c"` (1 to 62); `"stochastic"` always uses 64 (leave it out, or pass 64); the deterministic
        modes take none. With `seed`, `R` is the top `N` of the element's 64 random bits.
    index_offset : int, default 0
        Global index of the first element of `x`, for seeded stochastic rounding of a large array in chunks: a
        chunk that starts at element `k` of the whole array, rounded with `index_offset=k`, gets the same random
        bits as in a single call. Not allowed with `random_bits`; ignored by the deterministic modes.
    typed : bool, default False
        Return the codes viewed (no copy) as the ml_dtypes type of `fmt` (`ml_dtypes.float8_e4m3fn` for
        `"float8_e4m3fn"`, ...; for a torch tensor `x`, the torch dtype of that name), an array of the rounded
        values that other libraries read directly. Only for the formats ml_dtypes has.
    out : numpy.ndarray, optional
        An array to write the codes into: the shape of `x`, dtype `fmt.code_dtype`, writeable. It is also
        returned.

    Returns
    -------
    numpy.ndarray or numpy scalar
        The codes, with the shape of `x` and dtype `fmt.code_dtype` (uint8 up to 8 bits, uint16 up to 16, uint32
        above). A Python or NumPy scalar input gives a NumPy scalar (a 0-d array stays an array).

    Raises
    ------
    ValueError
        An unknown format, rounding or overflow name; an overflow policy that `fmt` does not accept (`"wrap"`
        for a float format, anything but `"saturate"` / `"wrap"` for an integer format); NaN in `x` when `fmt` has
        no NaN (FP6, FP4, integer formats); a missing or invalid `sr_bits`; a `seed` or `index_offset` that is
        not a non-negative integer;
        `seed`, `random_bits` or `sr_bits` with a deterministic mode; both `seed` and `random_bits`;
        `random_bits` of the wrong shape or with values of `2**sr_bits` or more; `index_offset` with
        `random_bits`; an `out` of the wrong shape or dtype, or read-only.
    TypeError
        `x` does not hold real numbers (complex, strings, objects); `fmt`, `rounding` or `overflow` of the wrong
        type; `random_bits` not of an unsigned dtype (not uint64 for `"stochastic"`); `out` not a NumPy array.

    See Also
    --------
    floatsim.decode : The values of codes.
    floatsim.cast : Round and return the values instead of the codes.

    Examples
    --------
    >>> import numpy as np, floatsim as fs
    >>> fs.encode(np.array([1.0, -2.0, 448.0]), "float8_e4m3fn")
    array([ 56, 192, 126], dtype=uint8)

    1.0625 is a tie between 1.0 (code 56) and 1.125 (code 57); nearest-even picks the even code. 500 is beyond
    `max` = 448: E4M3FN has no infinity, so the default policy gives NaN (0x7F), saturation gives `max` (0x7E):

    >>> fs.encode(1.0625, "float8_e4m3fn"), fs.encode(1.0625, "float8_e4m3fn", rounding="nearest_away")
    (np.uint8(56), np.uint8(57))
    >>> hex(fs.encode(500.0, "float8_e4m3fn")), hex(fs.encode(500.0, "float8_e4m3fn", overflow="saturate"))
    ('0x7f', '0x7e')

    Stochastic rounding with your own random bits: with `N = 2` bits the tie (`nu = 1/2`) rounds up when
    `floor(nu * 4) + R >= 4`, that is for `R` = 2 and 3. With a seed the same call always gives the same codes:

    >>> x = np.full(4, 1.0625)
    >>> r = np.array([0, 1, 2, 3], np.uint8)
    >>> fs.encode(x, "float8_e4m3fn", rounding="stochastic_a", sr_bits=2, random_bits=r)
    array([56, 56, 57, 57], dtype=uint8)
    >>> a = fs.encode(x, "float8_e4m3fn", rounding="stochastic", seed=1)
    >>> bool((a == fs.encode(x, "float8_e4m3fn", rounding="stochastic", seed=1)).all())
    True

    Integer codes are two's complement (-2 is `0b1110` in int4), and integer formats saturate by default:

    >>> fs.encode([-1.5, 2.5, 100.0], "int4")
    array([14,  2,  7], dtype=uint8)

    `typed=True` views the codes as the ml_dtypes type of the format (no copy), which other libraries read as
    values; `decode` takes such an array back:

    >>> v = fs.encode(np.array([0.1, 1.0625]), "float8_e4m3fn", typed=True)
    >>> v.dtype, v.view(np.uint8), fs.decode(v, "float8_e4m3fn")
    (dtype(float8_e4m3fn), array([29, 56], dtype=uint8), array([0.1015625, 1.       ], dtype=float32))
    """
    if _adapt.kind(x) is not None:
        return _adapt.apply("encode", x, fmt, dict(rounding=rounding, overflow=overflow, seed=seed,
                                                   random_bits=random_bits, sr_bits=sr_bits,
                                                   index_offset=index_offset, typed=typed, out=out))
    codes = _project(x, fmt, rounding, overflow, seed, random_bits, sr_bits, index_offset, False, out, None)
    return _typed_codes(codes, _resolve_format(fmt)) if typed else codes


def _typed_codes(codes, fmt):
    """The codes viewed as the ml_dtypes type of `fmt` (no copy): an array of the format's values."""
    dtype = ml_dtype_of(fmt)
    if dtype is None:
        raise ValueError(f"typed=True needs a format that ml_dtypes has; {fmt} is not one of them "
                         f"({', '.join(_ML_DTYPE_NAMES)})")
    return codes.view(dtype) if isinstance(codes, np.ndarray) else np.asarray(codes).view(dtype)[()]


_ML_DTYPE_NAMES = ("bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e4m3", "float8_e3m4", "float8_e4m3fnuz",
                   "float8_e5m2fnuz", "float8_e4m3b11fnuz", "float6_e2m3fn", "float6_e3m2fn", "float4_e2m1fn",
                   "float8_e8m0fnu", "float16", "float32", "int2", "int4", "uint2", "uint4")


def ml_dtype_of(fmt):
    """The NumPy / ml_dtypes dtype whose values are exactly those of `fmt` and whose bits are its codes, or None.

    ml_dtypes stores its sub-byte integers one per byte in two's complement, as floatsim's codes (-2 in int4 is 14).
    """
    return _ml_dtype_of(_resolve_format(fmt))


@functools.cache
def _ml_dtype_of(fmt):
    import ml_dtypes

    for name in _ML_DTYPE_NAMES:
        dtype = np.dtype(getattr(ml_dtypes, name, None) or getattr(np, name))
        if dtype.itemsize == np.dtype(fmt.code_dtype).itemsize and get_format(dtype) == fmt:
            return dtype
    return None


def cast(x, fmt, *, rounding="nearest_even", overflow=None, seed=None, random_bits=None, sr_bits=None,
         index_offset=0, dtype=None, out=None):
    """Round `x` to values of the format `fmt` and return them as floats ("fake quantization").

    The same rounding as `encode` (same arguments, same rules; see the Semantics page, `docs/semantics.md`), but
    the result is the value of each code, `decode(encode(x, fmt, ...), fmt)`, in a float dtype: by default the
    dtype of `x`, so the result can replace `x` in a float computation. Every value of `fmt` must be exact in
    that dtype; for example bfloat16 values do not all fit in float16, and such a combination raises `ValueError`
    (pass `dtype=np.float32`).

    Parameters
    ----------
    x : array_like
        The values, any shape: a float16, float32 or float64 array, Python numbers or lists, an ml_dtypes float
        array (bfloat16, float8_*, ...; widened exactly), or integers (converted to float64; an int64 / uint64
        value that float64 cannot hold exactly raises `ValueError`). float64 values are rounded once, directly to
        `fmt`, never through float32.
    fmt : str, FloatFormat, IntFormat or dtype
        The target format: a name or alias (`"float8_e4m3fn"`, `"bf16"`, `"binary8p4se"`), a descriptor, or a
        NumPy / ml_dtypes dtype; see `floatsim.get_format`.
    rounding : str or Rounding, default "nearest_even"
        How a value between two neighbours of `fmt` is rounded: `"nearest_even"`, `"nearest_away"`,
        `"toward_zero"`, `"toward_positive"`, `"toward_negative"`, `"odd"`, or one of the stochastic modes
        `"stochastic"`, `"stochastic_a"`, `"stochastic_b"`, `"stochastic_c"`; see `floatsim.Rounding`.
    overflow : str or Overflow, optional
        What a result beyond the finite range of `fmt`, or an infinite input, becomes. Float formats: `"ieee"`
        (the default: infinity if `fmt` has it, else NaN, else the largest value, as ml_dtypes), `"saturate"`,
        `"sat_propagate"` or `"sat_none"`. Integer formats: `"saturate"` (the default) or `"wrap"`. See
        `floatsim.Overflow`.
    seed : int, optional
        Stochastic modes only: a non-negative integer that fixes the random bits, so that the same call gives
        the same result on any machine and thread count (the bits are those of `floatsim.random_bits`). When
        neither `seed` nor `random_bits` is given, a fresh seed is drawn and the result is not reproducible.
    random_bits : array of unsigned integers, optional
        Stochastic modes only, instead of `seed`: your own random integer `R` for each element, same shape as
        `x`. For `"stochastic"` a uint64 array (64 bits each); for `"stochastic_a/b/c"` any unsigned dtype with
        values below `2**sr_bits`.
    sr_bits : int, optional
        The number `N` of random bits per element. Required by `"stochastic_a"`, `"stochastic_b"` and
        `"stochastic_c"` (1 to 62); `"stochastic"` always uses 64 (leave it out, or pass 64); the deterministic
        modes take none. With `seed`, `R` is the top `N` of the element's 64 random bits.
    index_offset : int, default 0
        Global index of the first element of `x`, for seeded stochastic rounding of a large array in chunks: a
        chunk that starts at element `k` of the whole array, rounded with `index_offset=k`, gets the same random
        bits as in a single call. Not allowed with `random_bits`; ignored by the deterministic modes.
    dtype : numpy dtype or type, optional
        The result dtype: float16, float32 or float64. Default: the dtype of `x` when it is float16, float32 or
        float64; float64 for Python numbers, lists and integer arrays; float32 for ml_dtypes arrays.
    out : numpy.ndarray, optional
        An array to write the values into: the shape of `x`, the result dtype, writeable. It is also returned.

    Returns
    -------
    numpy.ndarray or numpy scalar
        The rounded values, with the shape of `x` and the result dtype. A Python or NumPy scalar input gives a
        NumPy scalar (a 0-d array stays an array).

    Raises
    ------
    ValueError
        An unknown format, rounding or overflow name; an overflow policy that `fmt` does not accept (`"wrap"`
        for a float format, anything but `"saturate"` / `"wrap"` for an integer format); NaN in `x` when `fmt` has
        no NaN (FP6, FP4, integer formats); a missing or invalid `sr_bits`; a `seed` or `index_offset` that is
        not a non-negative integer;
        `seed`, `random_bits` or `sr_bits` with a deterministic mode; both `seed` and `random_bits`;
        `random_bits` of the wrong shape or with values of `2**sr_bits` or more; `index_offset` with
        `random_bits`; an `out` of the wrong shape or dtype, or read-only; a result dtype that does not hold
        every value of `fmt` exactly.
    TypeError
        `x` does not hold real numbers (complex, strings, objects); `fmt`, `rounding` or `overflow` of the wrong
        type; `random_bits` not of an unsigned dtype (not uint64 for `"stochastic"`); `out` not a NumPy array;
        `dtype` not float16, float32 or float64.

    See Also
    --------
    floatsim.encode : The codes instead of the values.

    Examples
    --------
    >>> import numpy as np, floatsim as fs
    >>> x = np.array([0.1, 1.0625, 500.0], np.float32)
    >>> fs.cast(x, "float8_e4m3fn")
    array([0.1015625, 1.       ,       nan], dtype=float32)
    >>> fs.cast(x, "float8_e4m3fn", overflow="saturate")
    array([1.015625e-01, 1.000000e+00, 4.480000e+02], dtype=float32)
    >>> fs.cast(x, "float8_e4m3fn", rounding="toward_zero", overflow="saturate")
    array([9.375e-02, 1.000e+00, 4.480e+02], dtype=float32)

    float64 input is rounded once, directly: this value lies just above the tie between 1 and 1.125, so it rounds
    up (rounding it to float32 first, as ml_dtypes does, would make it an exact tie and give 1.0):

    >>> fs.cast(np.array([1 + 2**-4 + 2**-30]), "float8_e4m3fn")
    array([1.125])

    Python numbers give float64; `dtype` chooses another result dtype:

    >>> fs.cast(0.1, "bfloat16"), fs.cast([0.1], "bfloat16", dtype=np.float32)
    (np.float64(0.10009765625), array([0.10009766], dtype=float32))

    Unbiased stochastic rounding: 1.0625 lies halfway between 1 and 1.125, and rounds to each about half the time:

    >>> y = fs.cast(np.full(10_000, 1.0625, np.float32), "float8_e4m3fn", rounding="stochastic", seed=0)
    >>> np.unique(y), round(float(y.mean()), 3)
    (array([1.   , 1.125], dtype=float32), 1.061)

    A format without NaN (FP4) refuses NaN rather than inventing a value:

    >>> fs.cast(np.array([1.0, np.nan]), "float4_e2m1fn")
    Traceback (most recent call last):
    ...
    ValueError: x contains 1 NaN value(s), but float4_e2m1fn has no NaN; replace them first (e.g. np.nan_to_num) or pick a format with NaN
    """
    if _adapt.kind(x) is not None:
        return _adapt.apply("cast", x, fmt, dict(rounding=rounding, overflow=overflow, seed=seed,
                                                 random_bits=random_bits, sr_bits=sr_bits,
                                                 index_offset=index_offset, dtype=dtype, out=out))
    return _project(x, fmt, rounding, overflow, seed, random_bits, sr_bits, index_offset, True, out, dtype)


def decode(codes, fmt, *, dtype=None, out=None):
    """The exact values of the codes `codes` of the format `fmt`.

    The inverse of `encode`: each code (a bit pattern read as an unsigned integer) becomes its value: NaN,
    ±inf, ±0, a subnormal or a normal float for float formats, an integer (two's complement for signed formats)
    for integer formats. Every code from 0 to `2**fmt.bits - 1` is valid, including the non-canonical ones.

    Parameters
    ----------
    codes : array_like of int
        The codes, any shape and any integer dtype (or Python ints), each in `[0, 2**fmt.bits)`.
    fmt : str, FloatFormat, IntFormat or dtype
        The format of the codes: a name, a descriptor or a NumPy / ml_dtypes dtype; see `floatsim.get_format`.
    dtype : numpy dtype or type, optional
        The result dtype: float16, float32 or float64; it must hold every value of `fmt` exactly. Default:
        `fmt.value_dtype`, float32 when every value of `fmt` is exact in float32, else float64.
    out : numpy.ndarray, optional
        An array to write the values into: the shape of `codes`, the result dtype, writeable. It is also
        returned.

    Returns
    -------
    numpy.ndarray or numpy scalar
        The values, with the shape of `codes` and the result dtype. A Python or NumPy scalar input gives a NumPy
        scalar (a 0-d array stays an array).

    Raises
    ------
    ValueError
        For codes outside `[0, 2**fmt.bits)` (the message shows the first one and its index), an unknown format,
        a `dtype` that does not hold every value of `fmt` exactly, or an `out` of the wrong shape or dtype, or
        read-only.
    TypeError
        If `codes` are not integers (floats, booleans), `dtype` is not float16, float32 or float64, or `out` is
        not a NumPy array.

    See Also
    --------
    floatsim.encode : The codes of values.

    Examples
    --------
    >>> import numpy as np, floatsim as fs
    >>> fs.decode([0x7E, 0x7F, 0x01], "float8_e4m3fn")  # max, NaN, the smallest subnormal
    array([4.480000e+02,          nan, 1.953125e-03], dtype=float32)
    >>> fs.decode(np.array([0, 7, 8, 15], np.uint8), "int4")  # two's complement
    array([ 0.,  7., -8., -1.], dtype=float32)
    >>> fs.decode(0x38, "float8_e4m3fn", dtype=np.float64)
    np.float64(1.0)
    >>> fs.decode([256], "float8_e4m3fn")
    Traceback (most recent call last):
    ...
    ValueError: codes contains 1 value(s) outside the 8-bit format float8_e4m3fn: e.g. 0x100 at flat index 0; codes must be in [0, 0x100)
    """
    if _adapt.kind(codes) is not None:
        return _adapt.apply("decode", codes, fmt, dict(dtype=dtype, out=out))
    fmt = _resolve_format(fmt)
    scalar = np.ndim(codes) == 0 and not isinstance(codes, np.ndarray)
    arr = np.asarray(codes)
    if arr.dtype == ml_dtype_of(fmt):  # typed codes (encode(..., typed=True)) of this very format
        arr = arr.view(fmt.code_dtype)
    elif arr.dtype.kind == "V":
        raise TypeError(f"codes are {arr.dtype.name} values, not codes of {fmt}; to reinterpret their bits, "
                        f"pass codes.view(np.uint{8 * arr.dtype.itemsize})")
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
