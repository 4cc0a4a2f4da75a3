"""Scalar rounding for your own Numba code: floatsim's rounding one element at a time, inside `@numba.njit`.

The array verbs (`floatsim.encode`, `floatsim.decode`, `floatsim.cast`) round whole arrays. When you write your
own quantizer loop in Numba (a per-row scale followed by rounding, a fused dequantize-multiply, an error
accumulator), you need the rounding of *one element* inside your compiled function. This module gives you that:
compiled scalar functions that you call from your own `@numba.njit` code (or from plain Python), each the exact
per-element rule of the array verbs, bit for bit.

| function | kind | does |
|---|---|---|
| `params(fmt, rounding, overflow, sr_bits)` | Python | checks the arguments like `floatsim.encode`; a `ScalarParams` |
| `encode_scalar(x, p, r=0)` | compiled | the code of the number `x` rounded into the format (an integer) |
| `decode_scalar(code, p)` | compiled | the value of a code (a float64) |
| `cast_scalar(x, p, r=0)` | compiled | the value of the rounded code, `decode_scalar(encode_scalar(x, p, r), p)` |
| `seed_key(seed)` | Python | the key of a seed, for the two random-bit functions |
| `random_bits_scalar(key, index)` | compiled | the 64 random bits of a global element index (`floatsim.random_bits`) |
| `random_r_scalar(key, index, p)` | compiled | the random integer `R` of that element in seeded stochastic rounding |

Build the parameters once, in Python, and pass them into your compiled function like any other argument: a
`ScalarParams` is an immutable `NamedTuple` of plain integers (the format, the rounding mode and the overflow
policy lowered to numbers), which Numba takes as a tuple. One compiled version of your function then serves every
float format, rounding mode and overflow policy, and a second one every integer format (`params` returns an
`IntScalarParams` for those, so that each version is specialised when it compiles).

**Errors are return values.** Compiled code that runs element by element cannot stop for a Python exception
without losing its speed, so the scalar functions never raise on data. Instead:

- `encode_scalar` returns a negative code: `ERROR_NAN` (-1) for NaN into a format without NaN (FP6, FP4, the
  integer formats), where `floatsim.encode` raises `ValueError`; `ERROR_RANDOM` (-2) for a random integer `r` of
  `2**sr_bits` or more in `"stochastic_a/b/c"`, where `floatsim.encode` raises for `random_bits` too large;
- `decode_scalar` returns NaN for a code outside `[0, 2**bits)` (negative codes included);
- `cast_scalar` therefore returns NaN in both error cases.

Test `code < 0` (or `np.isnan` of a value, for formats without NaN) in your loop, and count or raise afterwards,
as the array verbs do. Everything else (the arguments of `params`, the seed of `seed_key`) is checked in Python,
before any compiled code runs, with the same messages as the array verbs.

**Inputs.** `x` is converted to float64 first. float32 values convert exactly, so the result is the one the array
verbs give for the same values in any float dtype; an integer beyond `2**53` is rounded to float64 first. Numba
has no float16 (or ml_dtypes) arrays on the CPU: pass such data to your function as float32 (`x.astype(np.float32)`
is exact).

**Random bits.** A stochastic mode needs the element's random integer `r`, the same `R` that
`floatsim.encode(..., random_bits=...)` takes: 64 bits for `"stochastic"`, `N = sr_bits` bits (`0 <= r < 2**N`)
for `"stochastic_a/b/c"`; deterministic modes ignore it. To reproduce `floatsim.cast(x, ..., seed=s)`, compute
`key = seed_key(s)` in Python and give element `i` (its C-order index in the whole array, plus any
`index_offset`) `r = random_r_scalar(key, i, p)`: the top `N` of its 64 bits `random_bits_scalar(key, i)`.

**Why plain compiled functions, not `numba.extending.overload`.** Each public compiled function is one Numba
dispatcher, defined at module level with floatsim's own decorators (`floatsim._jit`): the same object runs from
Python (compiled once per argument types and kept in Numba's disk cache, like floatsim's array kernels) and from
your `@numba.njit` code. An `overload` would need a second, pure-Python body for calls from Python (or a
dispatcher behind it anyway) and would add nothing: the arguments Numba can check are the ones it checks when it
compiles your function, and the arguments it cannot (format names, rounding names) are checked once, in `params`.
The functions wrap the per-element helpers of the array kernels (`floatsim._kernels`), so there is one
implementation of each rounding rule.

**Speed and compile time.** Like those helpers, the functions are inlined into the function that calls them
(`inline="always"`), so your loop compiles to one function that LLVM optimises as a whole: the tests of the
parameters, which do not change from element to element, move out of the loop, and the loop can be vectorised
(a call per element, without inlining, was several times slower, measured by hand during development). The price is compile time: a
function that calls them takes a few seconds more to compile, once per process, or once for good with
`@numba.njit(cache=True)`.

**Caching your own functions.** Numba's disk cache (`@numba.njit(cache=True)`) checks only the source file of the
function it caches, not the functions it calls. After upgrading floatsim, clear the cache of your own cached
functions (delete their `__pycache__/*.nbi` and `*.nbc` files) so that they pick up the new version.

Examples
--------
>>> import numpy as np, numba, floatsim as fs
>>> from floatsim import scalar
>>> p = scalar.params("float8_e4m3fn", overflow="saturate")
>>> scalar.encode_scalar(1.0625, p), scalar.cast_scalar(500.0, p), scalar.decode_scalar(0x7F, p)
(56, 448.0, nan)

The same calls inside a compiled function, here a loop that writes the code of every element:

>>> @numba.njit
... def encode_all(x, p, out):
...     for i in range(x.size):
...         out[i] = scalar.encode_scalar(x[i], p)
>>> out = np.empty(4, np.int64)
>>> encode_all(np.array([1.0, 1.0625, -2.0, 500.0]), p, out)
>>> out, fs.encode(np.array([1.0, 1.0625, -2.0, 500.0]), "float8_e4m3fn", overflow="saturate")
(array([ 56,  56, 192, 126]), array([ 56,  56, 192, 126], dtype=uint8))
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
from numba import types
from numba.extending import intrinsic

from . import _kernels as K
from ._jit import helper
from .core import _key, _projection, _resolve_format, _resolve_overflow, _resolve_sr_bits
from .format import IntFormat, IntParams
from .rounding import Rounding

__all__ = [
    "ERROR_NAN", "ERROR_RANDOM", "IntScalarParams", "ScalarParams", "cast_scalar", "decode_scalar", "encode_scalar",
    "params", "random_bits_scalar", "random_r_scalar", "seed_key",
]

#: code `encode_scalar` returns for NaN into a format without NaN (where `floatsim.encode` raises)
ERROR_NAN = -1
#: code `encode_scalar` returns for a random integer `r >= 2**sr_bits` in the modes `stochastic_a/b/c`
ERROR_RANDOM = -2

# float64, the type every input is converted to: trailing bits, bias, exponent bits
_F64_M, _F64_BIAS, _F64_E = 52, 1023, 11


class ScalarParams(NamedTuple):
    """A format, rounding mode and overflow policy lowered to plain integers, for the scalar functions.

    `params` builds it; pass it unchanged to `encode_scalar`, `decode_scalar`, `cast_scalar` and
    `random_r_scalar`. It is an immutable `NamedTuple` of Python integers, which Numba takes as an argument of a
    compiled function (a tuple of int64): one compiled version of your function serves every float format and mode
    (integer formats get an `IntScalarParams`, and a version of their own).
    Flags are the integers 0 and 1; a *magnitude code* is a code without its sign bit; fields that do not apply to
    the kind of format (the float fields of an integer format, and the other way round) are 0, or -1 for a code.
    The fields are the union of `floatsim.format.FloatParams`, `floatsim.format.IntParams` and the projection
    table of `floatsim.core`; you rarely read them, except `bits`, `num_codes`, `sr_bits` and `nan_pos` (a format
    has NaN when `nan_pos >= 0`).

    Other Parameters
    ----------------
    is_int : int
        1 for an integer format (`floatsim.IntFormat`), 0 for a float format.
    bits : int
        Width of a code in bits.
    signed : int
        1 if the format has negative values (a sign bit, or two's complement).
    num_codes : int
        `2**bits`; valid codes are `0 <= code < num_codes`.
    mant_bits, bias, emin, has_zero, subnormals, max_mag, inf_mag, nan_mag, sign_bit, negzero_is_nan : int
        Float formats: the fields of the same names of `floatsim.format.FloatParams`.
    int_min, int_max : int
        Integer formats: the smallest and largest value.
    mode : int
        The rounding mode, a `floatsim.Rounding` value (6 and above: stochastic).
    sr_bits : int
        Random bits per element: 64 for `"stochastic"`, `N` for `"stochastic_a/b/c"`, 0 for deterministic modes.
    wrap : int
        Integer formats: 1 for `overflow="wrap"`.
    nan_pos, nan_neg, inf_pos, inf_neg, ovf_pos, ovf_neg, zero_pos, zero_neg, neg_code : int
        Codes of NaN, infinities, overflowing values, zeros and (unsigned formats) negative values under the
        overflow policy (-1: NaN into a format without NaN), from the table on the Semantics page.

    Examples
    --------
    >>> from floatsim import scalar
    >>> p = scalar.params("float8_e4m3fn", rounding="toward_zero")
    >>> p.bits, p.num_codes, p.mode, p.nan_pos, p.ovf_pos
    (8, 256, 2, 127, 126)
    >>> scalar.params("int4").int_min, scalar.params("float4_e2m1fn").nan_pos
    (-8, -1)
    """

    is_int: int
    bits: int
    signed: int
    num_codes: int
    mant_bits: int
    bias: int
    emin: int
    has_zero: int
    subnormals: int
    max_mag: int
    inf_mag: int
    nan_mag: int
    sign_bit: int
    negzero_is_nan: int
    int_min: int
    int_max: int
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


class IntScalarParams(ScalarParams):
    """The `ScalarParams` of an integer format: the same fields, a class of its own.

    `params` returns this subclass for integer formats (`floatsim.IntFormat`). The class is part of the type that
    Numba sees, so a compiled function is specialised for float or integer formats once, when it compiles, instead
    of testing `is_int` at every element (which kept loops from vectorising). You never need to build one
    yourself; `isinstance(p, ScalarParams)` holds for both.

    Other Parameters
    ----------------
    is_int, bits, signed, num_codes, int_min, int_max, mode, sr_bits, wrap, inf_pos, inf_neg : int
        As in `ScalarParams` (`is_int` is 1; `inf_pos` / `inf_neg` are the codes of +inf / -inf: the largest /
        smallest value, or 0 with `overflow="wrap"`).
    mant_bits, bias, emin, has_zero, subnormals, max_mag, inf_mag, nan_mag, sign_bit, negzero_is_nan : int
        Not used: 0, or -1 for `inf_mag` and `nan_mag`.
    nan_pos, nan_neg, ovf_pos, ovf_neg, zero_pos, zero_neg, neg_code : int
        Not used: -1 for `nan_pos` / `nan_neg` (an integer format has no NaN), else 0.

    Examples
    --------
    >>> from floatsim import scalar
    >>> p = scalar.params("uint8", overflow="wrap")
    >>> type(p).__name__, isinstance(p, scalar.ScalarParams), p.is_int, p.int_max, p.wrap
    ('IntScalarParams', True, 1, 255, 1)
    """

    __slots__ = ()


# --------------------------------------------------------------------------- Python side
def params(fmt, rounding="nearest_even", overflow=None, sr_bits=None) -> ScalarParams:
    """The parameters of the scalar functions for a format, rounding mode and overflow policy.

    Checks the arguments exactly as `floatsim.encode` does (same defaults, same errors) and lowers them to a
    `ScalarParams`, the plain integers that `encode_scalar`, `decode_scalar`, `cast_scalar` and `random_r_scalar`
    take. Call it in Python, once, and pass the result into your compiled function. Results are cached: the same
    arguments return the same object.

    Parameters
    ----------
    fmt : str, FloatFormat, IntFormat or dtype
        The format: a name or alias (`"float8_e4m3fn"`, `"bf16"`, `"int4"`), a descriptor, or a NumPy / ml_dtypes
        dtype; see `floatsim.get_format`.
    rounding : str or Rounding, default "nearest_even"
        The rounding mode, as in `floatsim.encode`: `"nearest_even"`, `"nearest_away"`, `"toward_zero"`,
        `"toward_positive"`, `"toward_negative"`, `"odd"`, `"stochastic"`, `"stochastic_a"`, `"stochastic_b"`,
        `"stochastic_c"`.
    overflow : str or Overflow, optional
        The overflow policy, as in `floatsim.encode`. Float formats: `"ieee"` (the default), `"saturate"`,
        `"sat_propagate"`, `"sat_none"`; integer formats: `"saturate"` (the default) or `"wrap"`.
    sr_bits : int, optional
        The number `N` of random bits per element: required by `"stochastic_a/b/c"` (1 to 62); `"stochastic"`
        uses 64 (leave it out, or pass 64); deterministic modes take none.

    Returns
    -------
    ScalarParams
        An immutable `NamedTuple` of integers.

    Raises
    ------
    ValueError
        An unknown format, rounding or overflow name; an overflow policy the format does not accept (`"wrap"` for a
        float format, anything but `"saturate"` / `"wrap"` for an integer format); `sr_bits` missing for
        `"stochastic_a/b/c"`, out of range, or given with a deterministic mode.
    TypeError
        `fmt`, `rounding` or `overflow` of the wrong type.

    See Also
    --------
    floatsim.encode : The array verb whose rules these parameters carry.

    Examples
    --------
    >>> from floatsim import scalar
    >>> p = scalar.params("float8_e5m2", rounding="stochastic_a", sr_bits=8)
    >>> p.mode, p.sr_bits, p.bits
    (7, 8, 8)
    >>> scalar.params("float8_e4m3fn", overflow="wrap")
    Traceback (most recent call last):
    ...
    ValueError: overflow='wrap' applies to integer formats only, not to float8_e4m3fn; use 'ieee', 'saturate', 'sat_propagate' or 'sat_none'
    """
    fmt = _resolve_format(fmt)
    rnd = Rounding.parse(rounding)
    ov = _resolve_overflow(fmt, overflow)
    return _params(fmt, rnd, ov, _resolve_sr_bits(rnd, sr_bits))


@functools.cache
def _params(fmt, rnd, ov, nbits) -> ScalarParams:
    pp = _projection(fmt, rnd, ov, nbits)
    common = dict(bits=fmt.bits, signed=int(fmt.signed), num_codes=fmt.num_codes, mode=pp.mode, sr_bits=pp.sr_bits,
                  wrap=pp.wrap, nan_pos=pp.nan_pos, nan_neg=pp.nan_neg, inf_pos=pp.inf_pos, inf_neg=pp.inf_neg,
                  ovf_pos=pp.ovf_pos, ovf_neg=pp.ovf_neg, zero_pos=pp.zero_pos, zero_neg=pp.zero_neg,
                  neg_code=pp.neg_code)
    if isinstance(fmt, IntFormat):
        return IntScalarParams(is_int=1, mant_bits=0, bias=0, emin=0, has_zero=0, subnormals=0, max_mag=0,
                               inf_mag=-1, nan_mag=-1, sign_bit=0, negzero_is_nan=0, int_min=fmt.min, int_max=fmt.max,
                               **common)
    fp = fmt.kernel_params()
    return ScalarParams(is_int=0, mant_bits=fp.mant_bits, bias=fp.bias, emin=fp.emin, has_zero=fp.has_zero,
                        subnormals=fp.subnormals, max_mag=fp.max_mag, inf_mag=fp.inf_mag, nan_mag=fp.nan_mag,
                        sign_bit=fp.sign_bit, negzero_is_nan=fp.negzero_is_nan, int_min=0, int_max=0, **common)


def seed_key(seed) -> np.uint64:
    """The key of a seed: what `random_bits_scalar` and `random_r_scalar` take instead of the seed.

    Seeded stochastic rounding (`floatsim.cast(..., seed=s)`) mixes the seed into a 64-bit key once and then hashes
    `(key, element index)`. Compute the key once, in Python, and pass it into your compiled function.

    Parameters
    ----------
    seed : int
        A non-negative integer, as given to `floatsim.encode` / `floatsim.cast`.

    Returns
    -------
    numpy.uint64
        The key.

    Raises
    ------
    ValueError
        If `seed` is not a non-negative integer.

    Examples
    --------
    >>> import floatsim as fs
    >>> from floatsim import scalar
    >>> key = scalar.seed_key(7)
    >>> int(fs.random_bits(6, seed=7)[5]) == scalar.random_bits_scalar(key, 5)
    True
    """
    return _key(seed)


# --------------------------------------------------------------------------- compiled side
# Float and integer formats take different helpers of the array kernels. The choice is made when Numba compiles,
# from the class of `p` (part of its Numba type), not per element: a branch on a field of `p` in the user's loop
# kept it from being vectorised (1.8x slower, measured by hand during development). `_is_int_kind` is that class as a compile-time constant;
# both branches are typed (the two classes have the same fields) and LLVM drops the one that cannot run.
@intrinsic
def _is_int_kind(typingctx, p):
    """True when `p` is an IntScalarParams, as a constant of the compiled code."""
    value = getattr(p, "instance_class", None) is IntScalarParams

    def codegen(context, builder, signature, args):
        return context.get_constant(types.boolean, value)

    return types.boolean(p), codegen


@helper
def encode_scalar(x, p, r=0):
    """The code of the number `x` rounded into the format of `p` (compiled; call it from Python or Numba).

    The per-element rule of `floatsim.encode`: the same code for the same value, rounding mode, overflow policy
    and random integer. Errors are negative codes instead of exceptions (see the module description).

    Parameters
    ----------
    x : float or int
        The number. It is converted to float64 first (exact for float32 values).
    p : ScalarParams
        From `params`: the format, rounding mode and overflow policy.
    r : int, default 0
        Stochastic modes only: the element's random integer `R`, as in `floatsim.encode(..., random_bits=...)`:
        64 random bits (any uint64) for `"stochastic"`, `0 <= r < 2**sr_bits` for `"stochastic_a/b/c"`. Use
        `random_r_scalar` for the `R` of a seed. Deterministic modes ignore it.

    Returns
    -------
    int
        The code, `0 <= code < p.num_codes` (an int64); or `ERROR_NAN` (-1) when `x` is NaN and the format has no
        NaN; or `ERROR_RANDOM` (-2) when `r >= 2**sr_bits` in `"stochastic_a/b/c"`.

    Raises
    ------
    numba.core.errors.TypingError
        When compiling for arguments of other types (`p` not a `ScalarParams`, `x` not a number).

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim import scalar
    >>> p = scalar.params("float8_e4m3fn")
    >>> scalar.encode_scalar(1.0625, p), scalar.encode_scalar(np.float32(-2.0), p), scalar.encode_scalar(500.0, p)
    (56, 192, 127)
    >>> scalar.encode_scalar(np.nan, scalar.params("float4_e2m1fn"))  # no NaN in FP4: ERROR_NAN
    -1
    >>> q = scalar.params("float8_e4m3fn", rounding="stochastic_a", sr_bits=2)
    >>> [scalar.encode_scalar(1.0625, q, r) for r in range(4)]  # the tie goes up for R = 2 and 3
    [56, 56, 57, 57]
    """
    bits = np.float64(x).view(np.int64)
    stochastic = p.mode >= K.STOCHASTIC
    rr = np.uint64(r)
    if _is_int_kind(p):
        ip = IntParams(p.bits, p.signed, p.int_min, p.int_max)
        code = K.project_int(bits, _F64_M, _F64_BIAS, ip, p, rr, stochastic)
    else:  # p carries every field of FloatParams and of the projection table
        code = K.project(bits, _F64_M, _F64_BIAS, p, p, rr, stochastic)
    # r must fit in N bits (N < 64 for stochastic_a/b/c; the shift is clamped for the other modes)
    too_big = stochastic & (p.sr_bits < 64) & ((rr >> np.uint64(min(max(p.sr_bits, 0), 63))) != 0)
    return np.int64(ERROR_RANDOM) if too_big else np.int64(code)


@helper
def decode_scalar(code, p):
    """The value of a code of the format of `p`, as a float64 (compiled; call it from Python or Numba).

    The per-element rule of `floatsim.decode`: NaN, ±inf, ±0, subnormal and normal codes of float formats, two's
    complement for signed integer formats. Every value of a format is exact in float64.

    Parameters
    ----------
    code : int
        The code: an integer of any integer type (a uint8 element of a code array, say).
    p : ScalarParams
        From `params` (only the format matters; the rounding mode and overflow policy are not used).

    Returns
    -------
    float
        The value (a float64); NaN for a code outside `[0, 2**bits)`, negative codes (`ERROR_NAN`,
        `ERROR_RANDOM`) included.

    Raises
    ------
    numba.core.errors.TypingError
        When compiling for arguments of other types.

    Examples
    --------
    >>> from floatsim import scalar
    >>> p = scalar.params("float8_e4m3fn")
    >>> scalar.decode_scalar(0x7E, p), scalar.decode_scalar(0x01, p), scalar.decode_scalar(0x80, p)
    (448.0, 0.001953125, -0.0)
    >>> scalar.decode_scalar(0x0E, scalar.params("int4")), scalar.decode_scalar(256, p)  # two's complement; no code
    (-2.0, nan)
    """
    c = np.int64(code)
    valid = (c >= 0) & (c < p.num_codes)
    c_safe = min(max(c, np.int64(0)), p.num_codes - 1)
    if _is_int_kind(p):
        b = K.int_code_to_float_bits(c_safe, IntParams(p.bits, p.signed, p.int_min, p.int_max), _F64_M, _F64_BIAS,
                                     _F64_E)
    else:
        b = K.code_to_float_bits(c_safe, p, _F64_M, _F64_BIAS, _F64_E)
    value = np.int64(b).view(np.float64)
    return value if valid else np.nan


@helper
def cast_scalar(x, p, r=0):
    """The number `x` rounded to the format of `p`, as a float64 (compiled; call it from Python or Numba).

    The per-element rule of `floatsim.cast`: `decode_scalar(encode_scalar(x, p, r), p)`.

    Parameters
    ----------
    x : float or int
        The number. It is converted to float64 first (exact for float32 values).
    p : ScalarParams
        From `params`: the format, rounding mode and overflow policy.
    r : int, default 0
        Stochastic modes only: the element's random integer, as in `encode_scalar`.

    Returns
    -------
    float
        The rounded value (a float64, exact); NaN where `encode_scalar` returns an error code (NaN into a format
        without NaN, `r` too large).

    Raises
    ------
    numba.core.errors.TypingError
        When compiling for arguments of other types.

    Examples
    --------
    >>> from floatsim import scalar
    >>> scalar.cast_scalar(0.1, scalar.params("bfloat16"))
    0.10009765625
    >>> scalar.cast_scalar(-7.4, scalar.params("int4", rounding="toward_zero"))
    -7.0
    >>> scalar.cast_scalar(100.0, scalar.params("int4"))  # integer formats saturate by default
    7.0
    """
    return decode_scalar(encode_scalar(x, p, r), p)


@helper
def random_bits_scalar(key, index):
    """The 64 random bits of a global element index under a key: one element of `floatsim.random_bits`.

    `random_bits_scalar(seed_key(s), i)` equals `floatsim.random_bits(n, seed=s)[i]` (and element `i - k` of
    `floatsim.random_bits(n, seed=s, index_offset=k)`): a counter-based hash, so any element's bits can be computed
    on its own, in any order, on any thread.

    Parameters
    ----------
    key : numpy.uint64
        From `seed_key`.
    index : int
        The element's global index, `>= 0`: its C-order position in the whole array, plus `index_offset`.

    Returns
    -------
    int
        The 64 bits, a uint64.

    Raises
    ------
    numba.core.errors.TypingError
        When compiling for arguments of other types.

    Examples
    --------
    >>> import floatsim as fs
    >>> from floatsim import scalar
    >>> key = scalar.seed_key(42)
    >>> [scalar.random_bits_scalar(key, i) for i in range(3)] == list(fs.random_bits(3, seed=42))
    True
    """
    return K.counter_bits(np.uint64(key), np.int64(index))


@helper
def random_r_scalar(key, index, p):
    """The random integer `R` that seeded stochastic rounding with `p` gives the element at a global index.

    What `floatsim.encode(..., seed=s)` uses as `R` for element `index`: all 64 bits of
    `random_bits_scalar(key, index)` for `"stochastic"`, their top `N = sr_bits` bits for `"stochastic_a/b/c"`,
    and 0 for deterministic modes. Pass it as the `r` of `encode_scalar` / `cast_scalar` to reproduce a seeded
    rounding.

    Parameters
    ----------
    key : numpy.uint64
        From `seed_key`.
    index : int
        The element's global index, `>= 0`: its C-order position in the whole array, plus `index_offset`.
    p : ScalarParams
        From `params`.

    Returns
    -------
    int
        `R`, a uint64 below `2**sr_bits`.

    Raises
    ------
    numba.core.errors.TypingError
        When compiling for arguments of other types.

    Examples
    --------
    >>> import numpy as np, floatsim as fs
    >>> from floatsim import scalar
    >>> p = scalar.params("float8_e4m3fn", rounding="stochastic_b", sr_bits=5)
    >>> key = scalar.seed_key(3)
    >>> x = np.linspace(1, 2, 9)
    >>> codes = [scalar.encode_scalar(x[i], p, scalar.random_r_scalar(key, i, p)) for i in range(x.size)]
    >>> codes == list(fs.encode(x, "float8_e4m3fn", rounding="stochastic_b", sr_bits=5, seed=3))
    True
    """
    bits = random_bits_scalar(key, index)
    if p.mode < K.STOCHASTIC:
        return np.uint64(0)
    return bits >> np.uint64(64 - p.sr_bits)
