"""Correctly rounded elementwise arithmetic in any format.

Each arithmetic verb (`add`, `sub`, `mul`, `div`, `fma`, `sqrt`) computes its result as if with
unbounded precision and rounds it once into the format, with any rounding mode and overflow policy of
the core: bit for bit what a hardware unit of that format would return. `neg` and `abs` are exact,
and the comparisons (`eq`, `ne`, `lt`, `le`, `gt`, `ge`) follow IEEE 754 (NaN is unordered,
`-0 == +0`). The operands must be values of the format (or pass `inputs="round"`) and broadcast
as in NumPy. The definitions, the special values and the proof of correct rounding (a float64
result, its exact error term, and rounding to odd) are in docs/arithmetic.md.

Examples
--------
>>> import numpy as np, floatsim.arith as fa
>>> fa.add(np.float32([1.0, 1.0]), np.float32([2**-11, 3 * 2**-11]), "float16")   # ties go to even
array([1.       , 1.0019531], dtype=float32)
>>> fa.lt(np.float32([1.0, np.nan]), np.float32([2.0, 2.0]), "float16")
array([ True, False])
"""

from __future__ import annotations

import numpy as np

from .. import core
from ..core import _IEEE, _random_source
from ..format import FloatFormat, IntFormat
from ..rounding import Overflow, Rounding
from . import _common as C
from . import _kernels as K

__all__ = ["add", "sub", "mul", "div", "fma", "sqrt", "neg", "abs", "eq", "ne", "lt", "le", "gt", "ge"]

_OPS = {"add": (K.ADD, 2), "sub": (K.SUB, 2), "mul": (K.MUL, 2), "div": (K.DIV, 2), "fma": (K.FMA, 3),
        "sqrt": (K.SQRT, 1)}
_NUMPY_F64 = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "sqrt": np.sqrt}
_INT_EXACT_BITS = 25  # integer formats up to 25 bits: products and sums stay below 2**51
# The vectorised pass takes about a minute to compile per dtype signature (once: Numba caches it on disk); calls
# smaller than this, such as scalars typed into a notebook, gain nothing from vectorisation and take the generic
# pass, which compiles in seconds. Both passes give the same bits (tests/test_arith_paths.py).
_FAST_MIN_SIZE = 1024


def _int_dtype(fmt: IntFormat) -> np.dtype:
    for bits in (8, 16, 32, 64):
        if fmt.bits <= bits:
            return np.dtype(f"{'i' if fmt.signed else 'u'}{bits // 8}")
    raise ValueError(f"{fmt} is wider than 64 bits")


def _operands(args, names):
    arrays = [C.float_operand(a, n) for a, n in zip(args, names, strict=True)]
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        shapes = ", ".join(f"{n} {a.shape}" for a, n in zip(arrays, names, strict=False))
        raise ValueError(f"operands do not broadcast together: {shapes}") from None
    scalar = all(np.ndim(a) == 0 and not isinstance(a, np.ndarray) for a in args)
    all_int = all(np.asarray(a).dtype.kind in "iub" for a in args)
    return arrays, shape, scalar, all_int


def _round_operand(a, fmt, ov):
    """`inputs="round"`: the operand rounded into the format (nearest-even, the call's overflow policy)."""
    if isinstance(fmt, C.Binary64):
        return np.asarray(a, np.float64)
    if isinstance(fmt, IntFormat):
        return core.cast(a, fmt, overflow=ov, dtype=np.float64)
    return core.cast(a, fmt, overflow=ov, dtype=C.output_dtype(fmt, None, a.dtype))


def _flat(a, shape):
    if a.dtype == np.float16:  # Numba has no float16 arithmetic: widen (exactly) to float32
        a = a.astype(np.float32)
    if a.shape != tuple(shape):
        a = np.broadcast_to(a, shape)
    return np.ascontiguousarray(a).reshape(-1)


def _apply(op, args, names, fmt, rounding, overflow, sr_bits, seed, random_bits, index_offset, inputs, dtype, out):
    fmt = C.resolve_format(fmt, "fmt")
    rules = C.resolve_rounding(fmt, rounding, overflow, sr_bits)
    how = C.resolve_inputs(inputs)
    code, nargs = _OPS[op]
    arrays, shape, scalar, all_int = _operands(args, names)
    if how == "round":
        arrays = [_round_operand(a, fmt, rules.ov) for a in arrays]
    size = int(np.prod(shape))
    if rules.rnd.is_stochastic and random_bits is None:
        seed = C.stream_seed(seed)
    rbits, key, offset = _random_source(rules.rnd, rules.sr_bits, seed, random_bits, size, shape, index_offset)

    if isinstance(fmt, IntFormat):
        result = _integer(op, code, arrays, names, shape, fmt, rules, rbits, key, offset, how, nargs, all_int,
                          dtype)
    elif C.kernel_supports(fmt):
        dt = C.output_dtype(fmt, dtype, np.result_type(*arrays))
        result = np.empty(shape, dt)
        if out is not None and isinstance(out, np.ndarray) and out.flags.c_contiguous:
            result = core._check_out(out, shape, dt)  # written in place (raises for a wrong shape / dtype)
        common = np.result_type(*(np.float32 if a.dtype == np.float16 else a.dtype for a in arrays))
        flats = [_flat(a, shape).astype(common, copy=False) for a in arrays]  # one specialisation per dtype
        while len(flats) < 3:
            flats.append(flats[0])
        pp = rules.projection(fmt)
        check_pp = C.CHECK.projection(fmt)
        fp, check = fmt.kernel_params(), how == "check"
        dst = result.reshape(-1).view(_IEEE[dt][3])
        with core.threads_for(size):
            if core._USE_TABLES and rbits is None and dst.itemsize == flats[0].itemsize and size >= _FAST_MIN_SIZE:
                # the vectorised value-domain pass, compiled for float32 -> float32 and float64 -> float64 only
                errors, bad = K.elementwise_kernel(code, nargs, *flats, dst, fp, pp, check_pp, check,
                                                   rules.rnd.is_stochastic, key, np.int64(offset), C.max_bits(fmt))
            else:
                errors, bad = K.elementwise_generic_kernel(code, nargs, *flats, dst, fp, pp, check_pp, check,
                                                           rules.rnd.is_stochastic,
                                                           core._NO_BITS if rbits is None else rbits, key,
                                                           np.int64(offset))
        if bad:
            C.check_members(arrays[:nargs], names, fmt)
        _raise_nan(errors, op, fmt)
    else:
        result = _wide(op, arrays, names, shape, fmt, rules, rbits, key, offset, how, nargs, dtype)
    if out is not None and result is not out:
        target = core._check_out(out, shape, result.dtype)
        target[...] = result
        result = target
    return result[()] if scalar else result


def _raise_nan(errors, op, fmt):
    if errors:
        raise ValueError(f"{op}: {errors} result(s) are NaN (an invalid operation such as 0/0, inf - inf, 0 * inf "
                         f"or the square root of a negative number), but {fmt} has no NaN")


def _wide(op, arrays, names, shape, fmt, rules, rbits, key, offset, how, nargs, dtype):
    """Formats beyond the compiled path: native float64 where it is the same thing, else exact Python."""
    dt = C.output_dtype(fmt, dtype, np.float64)
    wide = [np.broadcast_to(np.asarray(a, np.float64), shape) for a in arrays]
    if how == "check":
        C.check_members(arrays, names, fmt)
    if C.is_binary(fmt, 64):
        if rules.rnd is not Rounding.NEAREST_EVEN or rules.ov not in (Overflow.IEEE, Overflow.SAT_NONE) or op == "fma":
            raise C.unsupported(fmt, "fmt", f"{op} (fma needs a wider format than float64 to be emulated)"
                                if op == "fma" else op)
        with np.errstate(all="ignore"):
            return _NUMPY_F64[op](*wide).astype(dt)
    from .exact import elementwise

    if rules.rnd.is_stochastic and rbits is None:
        rbits = np.empty(int(np.prod(shape)), np.uint64)
        core.K.fill_random_bits(rbits, key, np.int64(offset))
    values, errors = elementwise(op, wide, fmt, rules, rbits, dt)
    _raise_nan(errors, op, fmt)
    return values


def _integer(op, code, arrays, names, shape, fmt, rules, rbits, key, offset, how, nargs, all_int, dtype):
    """Integer formats: the exact result (float64, exact up to 25-bit formats), then the core's rounding."""
    if fmt.bits > _INT_EXACT_BITS:
        raise ValueError(f"integer arithmetic is emulated for formats up to {_INT_EXACT_BITS} bits, not {fmt}; "
                         "use NumPy's integer arithmetic (or floatsim.quant.intmm for matrix products)")
    if how == "check":
        C.check_members(arrays, names, fmt)
    flats = [_flat(np.asarray(a, np.float64), shape) for a in arrays]
    while len(flats) < 3:
        flats.append(flats[0])
    exact = np.empty(int(np.prod(shape)), np.float64)
    with core.threads_for(exact.size):
        K.exact_kernel(code, *flats, exact, int(rules.rnd))
    undefined = ~np.isfinite(exact)
    if undefined.any():
        raise ValueError(f"{op}: the result is undefined (division by zero or the square root of a negative "
                         f"number) for {int(undefined.sum())} element(s) of integer format {fmt}")
    # core.cast takes the seed, not the key: hand it the random bits instead
    if rules.rnd.is_stochastic and rbits is None:
        rbits = np.empty(exact.size, np.uint64)
        core.K.fill_random_bits(rbits, key, np.int64(offset))
        if rules.sr_bits < 64:
            rbits >>= np.uint64(64 - rules.sr_bits)
    values = core.cast(exact, fmt, rounding=rules.rnd, overflow=rules.ov,
                       sr_bits=rules.sr_bits if rules.rnd not in (Rounding.STOCHASTIC,) and rules.rnd.is_stochastic
                       else None, random_bits=rbits)
    return _integer_result(values.reshape(shape), fmt, arrays, all_int, dtype)


def _integer_result(values, fmt, arrays, all_int, dtype):
    """Integer-format results: `dtype` if given; else the format's integer dtype for integer operands, the
    operands' float dtype (widened until the format is exact in it) for float operands."""
    if dtype is None and all_int:
        return values.astype(_int_dtype(fmt))
    return values.astype(C.output_dtype(fmt, dtype, np.result_type(*arrays)), copy=False)


def add(x, y, fmt=None, *, rounding=None, overflow=None, sr_bits=None, seed=None, random_bits=None, index_offset=0,
        inputs=None, dtype=None, out=None):
    """`x + y`, rounded once into `fmt`.

    The exact sum is rounded once, as an adder of the format would compute it (correctly
    rounded), with any rounding mode and overflow policy of the core. In formats with
    infinities and NaN the IEEE 754 rules hold (`inf - inf` is NaN; an exact zero sum is
    `+0`, or `-0` under `"toward_negative"`); in other formats the IEEE result is projected
    into the format as `floatsim.cast` would (docs/arithmetic.md, "Special values").

    Parameters
    ----------
    x, y : array_like
        The operands: values of `fmt` in float16, float32 or float64 arrays (ml_dtypes floats,
        integers and Python numbers are accepted too). They broadcast together as in NumPy.
    fmt : str, FloatFormat, IntFormat or dtype, optional
        The format of the operands and of the result, e.g. `"bfloat16"`, `"float8_e4m3fn"`,
        `"int8"` or a `floatsim.FloatFormat` (`"float64"` is NumPy's own float64 arithmetic).
        Default: the `fmt` of the enclosing `floatsim.arith.context`; one of the two is required.
    rounding : str or Rounding, optional
        How the exact result is rounded: `"nearest_even"` (default), `"nearest_away"`,
        `"toward_zero"`, `"toward_positive"`, `"toward_negative"`, `"odd"`, or a stochastic
        mode (`"stochastic"`, `"stochastic_a"`, `"stochastic_b"`, `"stochastic_c"`).
    overflow : str or Overflow, optional
        What a result beyond the format's range becomes: `"ieee"` (default for float formats),
        `"saturate"`, `"sat_propagate"` or `"sat_none"`; integer formats take `"saturate"`
        (their default) or `"wrap"`. The table is in docs/semantics.md.
    sr_bits : int, optional
        Number of random bits N (1 to 62) of `"stochastic_a"` / `"stochastic_b"` /
        `"stochastic_c"`, as in `floatsim.cast`; `"stochastic"` always uses 64.
    seed : int, optional
        Seed of the counter-based random bits of stochastic rounding. Default: the next stream of
        a seeded `floatsim.arith.context`, else a fresh random seed.
    random_bits : numpy.ndarray of unsigned int, optional
        The caller's random integers instead of `seed`: one per element of the result (its
        shape), each below `2**sr_bits` (uint64 for `"stochastic"`).
    index_offset : int, default 0
        Global index of the first element: element `i` uses the random bits of index
        `i + index_offset`, so a large array processed in chunks rounds as one call would.
    inputs : {"check", "round"}, optional
        `"check"` (default): every operand must already be a value of `fmt`. `"round"`:
        round the operands into `fmt` first (nearest-even, the call's `overflow` policy).
    dtype : numpy dtype, optional
        Output dtype: float16, float32 or float64, in which every value of `fmt` must be
        exact. Default: the operands' float dtype, widened until every value of `fmt` is
        exact in it (float32 for bfloat16 values held in float16); for an integer format
        with integer operands, the format's integer dtype (int8 for `"int8"`).
    out : numpy.ndarray, optional
        Array to write the result into, with the broadcast shape and the output dtype; it is
        also returned.

    Returns
    -------
    numpy.ndarray or numpy scalar
        The rounded results, values of `fmt`, in the broadcast shape of the operands; a NumPy
        scalar when every operand is a scalar (not an array). Integer formats give the smallest
        NumPy integer dtype holding the format (int8 for `"int8"`) when every operand holds
        integers, else float64.

    Raises
    ------
    TypeError
        `fmt` is missing (neither passed nor set by a context), an operand is not numeric, or
        `dtype` is not float16, float32 or float64.
    ValueError
        An operand holds a value that is not a value of `fmt` (with `inputs="check"`; the
        message names the operand and its first such value); the operands do not broadcast; a
        result is NaN (an invalid operation such as `0 / 0`) in a format without NaN; an
        unknown format, rounding mode or overflow policy; `seed` or `sr_bits` without a
        stochastic mode; an `out` of the wrong shape or dtype; an integer format wider than 25
        bits.

    See Also
    --------
    floatsim.cast : The same rounding applied to values instead of to results of operations.
    floatsim.arith.context : Default arguments for a block of code.

    Examples
    --------
    >>> import numpy as np, floatsim.arith as fa
    >>> fa.add(np.float32([1.0, 1.0]), np.float32([2**-11, 3 * 2**-11]), "float16")   # a tie goes to even
    array([1.       , 1.0019531], dtype=float32)
    >>> fa.add(np.float32(1.0), np.float32(2**-11), "float16", rounding="toward_positive")
    np.float32(1.0009766)

    Overflow follows the policy: float16 has infinities, so the default gives `inf`.

    >>> fa.add(np.float32([65504.0]), np.float32([32.0]), "float16"), fa.add(
    ...     np.float32([65504.0]), np.float32([32.0]), "float16", overflow="saturate")
    (array([inf], dtype=float32), array([65504.], dtype=float32))
    """
    return _apply("add", (x, y), ("x", "y"), fmt, rounding, overflow, sr_bits, seed, random_bits, index_offset,
                  inputs, dtype, out)


def sub(x, y, fmt=None, *, rounding=None, overflow=None, sr_bits=None, seed=None, random_bits=None, index_offset=0,
        inputs=None, dtype=None, out=None):
    """`x - y`, rounded once into `fmt`.

    The exact difference, rounded once (correctly rounded); special values as for
    `floatsim.arith.add`. An exact zero difference is `+0`, except under
    `"toward_negative"`, where it is `-0`.

    Parameters
    ----------
    x, y : array_like
        The operands: values of `fmt` in float16, float32 or float64 arrays (ml_dtypes floats,
        integers and Python numbers are accepted too). They broadcast together as in NumPy.
    fmt : str, FloatFormat, IntFormat or dtype, optional
        The format of the operands and of the result, e.g. `"bfloat16"`, `"float8_e4m3fn"`,
        `"int8"` or a `floatsim.FloatFormat` (`"float64"` is NumPy's own float64 arithmetic).
        Default: the `fmt` of the enclosing `floatsim.arith.context`; one of the two is required.
    rounding : str or Rounding, optional
        How the exact result is rounded: `"nearest_even"` (default), `"nearest_away"`,
        `"toward_zero"`, `"toward_positive"`, `"toward_negative"`, `"odd"`, or a stochastic
        mode (`"stochastic"`, `"stochastic_a"`, `"stochastic_b"`, `"stochastic_c"`).
    overflow : str or Overflow, optional
        What a result beyond the format's range becomes: `"ieee"` (default for float formats),
        `"saturate"`, `"sat_propagate"` or `"sat_none"`; integer formats take `"saturate"`
        (their default) or `"wrap"`. The table is in docs/semantics.md.
    sr_bits : int, optional
        Number of random bits N (1 to 62) of `"stochastic_a"` / `"stochastic_b"` /
        `"stochastic_c"`, as in `floatsim.cast`; `"stochastic"` always uses 64.
    seed : int, optional
        Seed of the counter-based random bits of stochastic rounding. Default: the next stream of
        a seeded `floatsim.arith.context`, else a fresh random seed.
    random_bits : numpy.ndarray of unsigned int, optional
        The caller's random integers instead of `seed`: one per element of the result (its
        shape), each below `2**sr_bits` (uint64 for `"stochastic"`).
    index_offset : int, default 0
        Global index of the first element: element `i` uses the random bits of index
        `i + index_offset`, so a large array processed in chunks rounds as one call would.
    inputs : {"check", "round"}, optional
        `"check"` (default): every operand must already be a value of `fmt`. `"round"`:
        round the operands into `fmt` first (nearest-even, the call's `overflow` policy).
    dtype : numpy dtype, optional
        Output dtype: float16, float32 or float64, in which every value of `fmt` must be
        exact. Default: the operands' float dtype, widened until every value of `fmt` is
        exact in it (float32 for bfloat16 values held in float16); for an integer format
        with integer operands, the format's integer dtype (int8 for `"int8"`).
    out : numpy.ndarray, optional
        Array to write the result into, with the broadcast shape and the output dtype; it is
        also returned.

    Returns
    -------
    numpy.ndarray or numpy scalar
        The rounded results, values of `fmt`, in the broadcast shape of the operands; a NumPy
        scalar when every operand is a scalar (not an array). Integer formats give the smallest
        NumPy integer dtype holding the format (int8 for `"int8"`) when every operand holds
        integers, else float64.

    Raises
    ------
    TypeError
        `fmt` is missing (neither passed nor set by a context), an operand is not numeric, or
        `dtype` is not float16, float32 or float64.
    ValueError
        An operand holds a value that is not a value of `fmt` (with `inputs="check"`; the
        message names the operand and its first such value); the operands do not broadcast; a
        result is NaN (an invalid operation such as `0 / 0`) in a format without NaN; an
        unknown format, rounding mode or overflow policy; `seed` or `sr_bits` without a
        stochastic mode; an `out` of the wrong shape or dtype; an integer format wider than 25
        bits.

    See Also
    --------
    floatsim.cast : The same rounding applied to values instead of to results of operations.
    floatsim.arith.context : Default arguments for a block of code.

    Examples
    --------
    >>> import numpy as np, floatsim.arith as fa
    >>> fa.sub(np.float32(16.0), np.float32([1.0, 0.5]), "float8_e4m3fn")   # 15.5 is a tie: to even, 16
    array([15., 16.], dtype=float32)
    >>> fa.sub(np.float32(1.0), np.float32(1.0), "float16", rounding="toward_negative")
    np.float32(-0.0)
    """
    return _apply("sub", (x, y), ("x", "y"), fmt, rounding, overflow, sr_bits, seed, random_bits, index_offset,
                  inputs, dtype, out)


def mul(x, y, fmt=None, *, rounding=None, overflow=None, sr_bits=None, seed=None, random_bits=None, index_offset=0,
        inputs=None, dtype=None, out=None):
    """`x * y`, rounded once into `fmt`.

    The exact product, rounded once (correctly rounded). `0 * inf` is NaN; special values
    otherwise as for `floatsim.arith.add`.

    Parameters
    ----------
    x, y : array_like
        The operands: values of `fmt` in float16, float32 or float64 arrays (ml_dtypes floats,
        integers and Python numbers are accepted too). They broadcast together as in NumPy.
    fmt : str, FloatFormat, IntFormat or dtype, optional
        The format of the operands and of the result, e.g. `"bfloat16"`, `"float8_e4m3fn"`,
        `"int8"` or a `floatsim.FloatFormat` (`"float64"` is NumPy's own float64 arithmetic).
        Default: the `fmt` of the enclosing `floatsim.arith.context`; one of the two is required.
    rounding : str or Rounding, optional
        How the exact result is rounded: `"nearest_even"` (default), `"nearest_away"`,
        `"toward_zero"`, `"toward_positive"`, `"toward_negative"`, `"odd"`, or a stochastic
        mode (`"stochastic"`, `"stochastic_a"`, `"stochastic_b"`, `"stochastic_c"`).
    overflow : str or Overflow, optional
        What a result beyond the format's range becomes: `"ieee"` (default for float formats),
        `"saturate"`, `"sat_propagate"` or `"sat_none"`; integer formats take `"saturate"`
        (their default) or `"wrap"`. The table is in docs/semantics.md.
    sr_bits : int, optional
        Number of random bits N (1 to 62) of `"stochastic_a"` / `"stochastic_b"` /
        `"stochastic_c"`, as in `floatsim.cast`; `"stochastic"` always uses 64.
    seed : int, optional
        Seed of the counter-based random bits of stochastic rounding. Default: the next stream of
        a seeded `floatsim.arith.context`, else a fresh random seed.
    random_bits : numpy.ndarray of unsigned int, optional
        The caller's random integers instead of `seed`: one per element of the result (its
        shape), each below `2**sr_bits` (uint64 for `"stochastic"`).
    index_offset : int, default 0
        Global index of the first element: element `i` uses the random bits of index
        `i + index_offset`, so a large array processed in chunks rounds as one call would.
    inputs : {"check", "round"}, optional
        `"check"` (default): every operand must already be a value of `fmt`. `"round"`:
        round the operands into `fmt` first (nearest-even, the call's `overflow` policy).
    dtype : numpy dtype, optional
        Output dtype: float16, float32 or float64, in which every value of `fmt` must be
        exact. Default: the operands' float dtype, widened until every value of `fmt` is
        exact in it (float32 for bfloat16 values held in float16); for an integer format
        with integer operands, the format's integer dtype (int8 for `"int8"`).
    out : numpy.ndarray, optional
        Array to write the result into, with the broadcast shape and the output dtype; it is
        also returned.

    Returns
    -------
    numpy.ndarray or numpy scalar
        The rounded results, values of `fmt`, in the broadcast shape of the operands; a NumPy
        scalar when every operand is a scalar (not an array). Integer formats give the smallest
        NumPy integer dtype holding the format (int8 for `"int8"`) when every operand holds
        integers, else float64.

    Raises
    ------
    TypeError
        `fmt` is missing (neither passed nor set by a context), an operand is not numeric, or
        `dtype` is not float16, float32 or float64.
    ValueError
        An operand holds a value that is not a value of `fmt` (with `inputs="check"`; the
        message names the operand and its first such value); the operands do not broadcast; a
        result is NaN (an invalid operation such as `0 / 0`) in a format without NaN; an
        unknown format, rounding mode or overflow policy; `seed` or `sr_bits` without a
        stochastic mode; an `out` of the wrong shape or dtype; an integer format wider than 25
        bits.

    See Also
    --------
    floatsim.cast : The same rounding applied to values instead of to results of operations.
    floatsim.arith.context : Default arguments for a block of code.

    Examples
    --------
    >>> import numpy as np, floatsim.arith as fa
    >>> fa.mul(np.float32([1.125, 3.0]), np.float32([1.125, 1.375]), "float8_e4m3fn")   # 1.265625, 4.125
    array([1.25, 4.  ], dtype=float32)

    `float8_e4m3fn` has no infinity: an overflow is NaN under the default policy and the
    largest value, 448, under `"saturate"`.

    >>> fa.mul(np.float32(448.0), np.float32(2.0), "float8_e4m3fn")
    np.float32(nan)
    >>> fa.mul(np.float32(448.0), np.float32(2.0), "float8_e4m3fn", overflow="saturate")
    np.float32(448.0)
    """
    return _apply("mul", (x, y), ("x", "y"), fmt, rounding, overflow, sr_bits, seed, random_bits, index_offset,
                  inputs, dtype, out)


def div(x, y, fmt=None, *, rounding=None, overflow=None, sr_bits=None, seed=None, random_bits=None, index_offset=0,
        inputs=None, dtype=None, out=None):
    """`x / y`, rounded once into `fmt`.

    The exact quotient, rounded once (correctly rounded). `x / ±0` is a signed infinity and
    `0 / 0` and `inf / inf` are NaN in formats that have them; elsewhere the IEEE result is
    projected into the format (`1 / 0` is NaN in `float8_e4m3fn`, 6 in `float4_e2m1fn`).
    Integer formats round the exact quotient with the chosen mode: `"toward_zero"` is C's
    integer division.

    Parameters
    ----------
    x, y : array_like
        Dividend and divisor: values of `fmt` in float16, float32 or float64 arrays (ml_dtypes
        floats, integers and Python numbers are accepted too). They broadcast together as in NumPy.
    fmt : str, FloatFormat, IntFormat or dtype, optional
        The format of the operands and of the result, e.g. `"bfloat16"`, `"float8_e4m3fn"`,
        `"int8"` or a `floatsim.FloatFormat` (`"float64"` is NumPy's own float64 arithmetic).
        Default: the `fmt` of the enclosing `floatsim.arith.context`; one of the two is required.
    rounding : str or Rounding, optional
        How the exact result is rounded: `"nearest_even"` (default), `"nearest_away"`,
        `"toward_zero"`, `"toward_positive"`, `"toward_negative"`, `"odd"`, or a stochastic
        mode (`"stochastic"`, `"stochastic_a"`, `"stochastic_b"`, `"stochastic_c"`).
    overflow : str or Overflow, optional
        What a result beyond the format's range becomes: `"ieee"` (default for float formats),
        `"saturate"`, `"sat_propagate"` or `"sat_none"`; integer formats take `"saturate"`
        (their default) or `"wrap"`. The table is in docs/semantics.md.
    sr_bits : int, optional
        Number of random bits N (1 to 62) of `"stochastic_a"` / `"stochastic_b"` /
        `"stochastic_c"`, as in `floatsim.cast`; `"stochastic"` always uses 64.
    seed : int, optional
        Seed of the counter-based random bits of stochastic rounding. Default: the next stream of
        a seeded `floatsim.arith.context`, else a fresh random seed.
    random_bits : numpy.ndarray of unsigned int, optional
        The caller's random integers instead of `seed`: one per element of the result (its
        shape), each below `2**sr_bits` (uint64 for `"stochastic"`).
    index_offset : int, default 0
        Global index of the first element: element `i` uses the random bits of index
        `i + index_offset`, so a large array processed in chunks rounds as one call would.
    inputs : {"check", "round"}, optional
        `"check"` (default): every operand must already be a value of `fmt`. `"round"`:
        round the operands into `fmt` first (nearest-even, the call's `overflow` policy).
    dtype : numpy dtype, optional
        Output dtype: float16, float32 or float64, in which every value of `fmt` must be
        exact. Default: the operands' float dtype, widened until every value of `fmt` is
        exact in it (float32 for bfloat16 values held in float16); for an integer format
        with integer operands, the format's integer dtype (int8 for `"int8"`).
    out : numpy.ndarray, optional
        Array to write the result into, with the broadcast shape and the output dtype; it is
        also returned.

    Returns
    -------
    numpy.ndarray or numpy scalar
        The rounded results, values of `fmt`, in the broadcast shape of the operands; a NumPy
        scalar when every operand is a scalar (not an array). Integer formats give the smallest
        NumPy integer dtype holding the format (int8 for `"int8"`) when every operand holds
        integers, else float64.

    Raises
    ------
    TypeError
        `fmt` is missing (neither passed nor set by a context), an operand is not numeric, or
        `dtype` is not float16, float32 or float64.
    ValueError
        An operand holds a value that is not a value of `fmt` (with `inputs="check"`; the
        message names the operand and its first such value); the operands do not broadcast; a
        result is NaN (an invalid operation such as `0 / 0`) in a format without NaN; an
        unknown format, rounding mode or overflow policy; `seed` or `sr_bits` without a
        stochastic mode; an `out` of the wrong shape or dtype; an integer format wider than 25
        bits.

    See Also
    --------
    floatsim.cast : The same rounding applied to values instead of to results of operations.
    floatsim.arith.context : Default arguments for a block of code.

    Examples
    --------
    >>> import numpy as np, floatsim.arith as fa
    >>> fa.div(np.float32([1.0, 1.0]), np.float32([3.0, 0.0]), "bfloat16")
    array([0.33398438,        inf], dtype=float32)

    Integer formats round the exact quotient: 3.5 goes to even, `"toward_zero"` truncates as C does.

    >>> fa.div(np.int8([7, -7]), np.int8(2), "int8")
    array([ 4, -4], dtype=int8)
    >>> fa.div(np.int8([7, -7]), np.int8(2), "int8", rounding="toward_zero")
    array([ 3, -3], dtype=int8)
    """
    return _apply("div", (x, y), ("x", "y"), fmt, rounding, overflow, sr_bits, seed, random_bits, index_offset,
                  inputs, dtype, out)


def fma(x, y, z, fmt=None, *, rounding=None, overflow=None, sr_bits=None, seed=None, random_bits=None,
        index_offset=0, inputs=None, dtype=None, out=None):
    """`x * y + z` with one rounding (fused multiply-add).

    The exact value of `x * y + z` is rounded once into `fmt`, as a hardware FMA unit
    does; a separate `floatsim.arith.mul` and `floatsim.arith.add` round twice. Special values
    as for `floatsim.arith.add`. `fmt="float64"` is not supported (no wider format to emulate
    it with).

    Parameters
    ----------
    x, y, z : array_like
        The operands: values of `fmt` in float16, float32 or float64 arrays (ml_dtypes floats,
        integers and Python numbers are accepted too). They broadcast together as in NumPy.
    fmt : str, FloatFormat, IntFormat or dtype, optional
        The format of the operands and of the result, e.g. `"bfloat16"`, `"float8_e4m3fn"`,
        `"int8"` or a `floatsim.FloatFormat` (`"float64"` is NumPy's own float64 arithmetic).
        Default: the `fmt` of the enclosing `floatsim.arith.context`; one of the two is required.
    rounding : str or Rounding, optional
        How the exact result is rounded: `"nearest_even"` (default), `"nearest_away"`,
        `"toward_zero"`, `"toward_positive"`, `"toward_negative"`, `"odd"`, or a stochastic
        mode (`"stochastic"`, `"stochastic_a"`, `"stochastic_b"`, `"stochastic_c"`).
    overflow : str or Overflow, optional
        What a result beyond the format's range becomes: `"ieee"` (default for float formats),
        `"saturate"`, `"sat_propagate"` or `"sat_none"`; integer formats take `"saturate"`
        (their default) or `"wrap"`. The table is in docs/semantics.md.
    sr_bits : int, optional
        Number of random bits N (1 to 62) of `"stochastic_a"` / `"stochastic_b"` /
        `"stochastic_c"`, as in `floatsim.cast`; `"stochastic"` always uses 64.
    seed : int, optional
        Seed of the counter-based random bits of stochastic rounding. Default: the next stream of
        a seeded `floatsim.arith.context`, else a fresh random seed.
    random_bits : numpy.ndarray of unsigned int, optional
        The caller's random integers instead of `seed`: one per element of the result (its
        shape), each below `2**sr_bits` (uint64 for `"stochastic"`).
    index_offset : int, default 0
        Global index of the first element: element `i` uses the random bits of index
        `i + index_offset`, so a large array processed in chunks rounds as one call would.
    inputs : {"check", "round"}, optional
        `"check"` (default): every operand must already be a value of `fmt`. `"round"`:
        round the operands into `fmt` first (nearest-even, the call's `overflow` policy).
    dtype : numpy dtype, optional
        Output dtype: float16, float32 or float64, in which every value of `fmt` must be
        exact. Default: the operands' float dtype, widened until every value of `fmt` is
        exact in it (float32 for bfloat16 values held in float16); for an integer format
        with integer operands, the format's integer dtype (int8 for `"int8"`).
    out : numpy.ndarray, optional
        Array to write the result into, with the broadcast shape and the output dtype; it is
        also returned.

    Returns
    -------
    numpy.ndarray or numpy scalar
        The rounded results, values of `fmt`, in the broadcast shape of the operands; a NumPy
        scalar when every operand is a scalar (not an array). Integer formats give the smallest
        NumPy integer dtype holding the format (int8 for `"int8"`) when every operand holds
        integers, else float64.

    Raises
    ------
    TypeError
        `fmt` is missing (neither passed nor set by a context), an operand is not numeric, or
        `dtype` is not float16, float32 or float64.
    ValueError
        An operand holds a value that is not a value of `fmt` (with `inputs="check"`; the
        message names the operand and its first such value); the operands do not broadcast; a
        result is NaN (an invalid operation such as `0 / 0`) in a format without NaN; an
        unknown format, rounding mode or overflow policy; `seed` or `sr_bits` without a
        stochastic mode; an `out` of the wrong shape or dtype; an integer format wider than 25
        bits.

    See Also
    --------
    floatsim.cast : The same rounding applied to values instead of to results of operations.
    floatsim.arith.context : Default arguments for a block of code.

    Examples
    --------
    >>> import numpy as np, floatsim.arith as fa
    >>> a, b, c = np.float32(1 + 2**-10), np.float32(1 - 2**-10), np.float32(-1.0)
    >>> fa.fma(a, b, c, "float16")                       # exactly -2**-20
    np.float32(-9.536743e-07)
    >>> fa.add(fa.mul(a, b, "float16"), c, "float16")    # the product rounds to 1 first
    np.float32(0.0)
    """
    return _apply("fma", (x, y, z), ("x", "y", "z"), fmt, rounding, overflow, sr_bits, seed, random_bits,
                  index_offset, inputs, dtype, out)


def sqrt(x, fmt=None, *, rounding=None, overflow=None, sr_bits=None, seed=None, random_bits=None, index_offset=0,
         inputs=None, dtype=None, out=None):
    """`sqrt(x)`, rounded once into `fmt`.

    The exact square root, rounded once (correctly rounded). `sqrt(-0)` is `-0` and a
    negative `x` gives NaN (`ValueError` in a format without NaN); `sqrt(inf)` is `inf`.

    Parameters
    ----------
    x : array_like
        Values of `fmt` in a float16, float32 or float64 array (ml_dtypes floats, integers and
        Python numbers are accepted too).
    fmt : str, FloatFormat, IntFormat or dtype, optional
        The format of the operands and of the result, e.g. `"bfloat16"`, `"float8_e4m3fn"`,
        `"int8"` or a `floatsim.FloatFormat` (`"float64"` is NumPy's own float64 arithmetic).
        Default: the `fmt` of the enclosing `floatsim.arith.context`; one of the two is required.
    rounding : str or Rounding, optional
        How the exact result is rounded: `"nearest_even"` (default), `"nearest_away"`,
        `"toward_zero"`, `"toward_positive"`, `"toward_negative"`, `"odd"`, or a stochastic
        mode (`"stochastic"`, `"stochastic_a"`, `"stochastic_b"`, `"stochastic_c"`).
    overflow : str or Overflow, optional
        What a result beyond the format's range becomes: `"ieee"` (default for float formats),
        `"saturate"`, `"sat_propagate"` or `"sat_none"`; integer formats take `"saturate"`
        (their default) or `"wrap"`. The table is in docs/semantics.md.
    sr_bits : int, optional
        Number of random bits N (1 to 62) of `"stochastic_a"` / `"stochastic_b"` /
        `"stochastic_c"`, as in `floatsim.cast`; `"stochastic"` always uses 64.
    seed : int, optional
        Seed of the counter-based random bits of stochastic rounding. Default: the next stream of
        a seeded `floatsim.arith.context`, else a fresh random seed.
    random_bits : numpy.ndarray of unsigned int, optional
        The caller's random integers instead of `seed`: one per element of the result (its
        shape), each below `2**sr_bits` (uint64 for `"stochastic"`).
    index_offset : int, default 0
        Global index of the first element: element `i` uses the random bits of index
        `i + index_offset`, so a large array processed in chunks rounds as one call would.
    inputs : {"check", "round"}, optional
        `"check"` (default): every operand must already be a value of `fmt`. `"round"`:
        round the operands into `fmt` first (nearest-even, the call's `overflow` policy).
    dtype : numpy dtype, optional
        Output dtype: float16, float32 or float64, in which every value of `fmt` must be
        exact. Default: the operands' float dtype, widened until every value of `fmt` is
        exact in it (float32 for bfloat16 values held in float16); for an integer format
        with integer operands, the format's integer dtype (int8 for `"int8"`).
    out : numpy.ndarray, optional
        Array to write the result into, with `x`'s shape and the output dtype; it is
        also returned.

    Returns
    -------
    numpy.ndarray or numpy scalar
        The rounded results, values of `fmt`, in the shape of `x`; a NumPy
        scalar when `x` is a scalar (not an array). Integer formats give the smallest
        NumPy integer dtype holding the format (int8 for `"int8"`) when `x` holds
        integers, else float64.

    Raises
    ------
    TypeError
        `fmt` is missing (neither passed nor set by a context), an operand is not numeric, or
        `dtype` is not float16, float32 or float64.
    ValueError
        An operand holds a value that is not a value of `fmt` (with `inputs="check"`; the
        message names the operand and its first such value); a
        result is NaN (an invalid operation such as `0 / 0`) in a format without NaN; an
        unknown format, rounding mode or overflow policy; `seed` or `sr_bits` without a
        stochastic mode; an `out` of the wrong shape or dtype; an integer format wider than 25
        bits.

    See Also
    --------
    floatsim.cast : The same rounding applied to values instead of to results of operations.
    floatsim.arith.context : Default arguments for a block of code.

    Examples
    --------
    >>> import numpy as np, floatsim.arith as fa
    >>> fa.sqrt(np.float32([2.0, 4.0]), "float8_e4m3fn")
    array([1.375, 2.   ], dtype=float32)
    >>> fa.sqrt(np.float32([-0.0, -1.0]), "float16")
    array([-0., nan], dtype=float32)
    """
    return _apply("sqrt", (x,), ("x",), fmt, rounding, overflow, sr_bits, seed, random_bits, index_offset,
                  inputs, dtype, out)


# --------------------------------------------------------------------------- exact operations
def _exact_unary(fn, x, fmt, overflow, inputs, dtype):
    """`fn(x)` (negation or magnitude): exact where the result is a value of the format (signed float
    formats, infinities included); elsewhere (unsigned formats, the most negative integer) the overflow
    policy decides, as in `floatsim.cast`."""
    fmt = C.resolve_format(fmt, "fmt")
    rules = C.resolve_rounding(fmt, "nearest_even", overflow, None)
    how = C.resolve_inputs(inputs)
    arrays, shape, scalar, all_int = _operands((x,), ("x",))
    a = arrays[0]
    if how == "round":
        a = _round_operand(a, fmt, rules.ov)
    else:
        C.check_members([a], ["x"], fmt)
    if isinstance(fmt, C.Binary64):  # float64 negation and magnitude are exact
        res = fn(np.asarray(a, np.float64)).astype(C.output_dtype(fmt, dtype, np.float64))
        return res[()] if scalar else res
    exact = isinstance(fmt, FloatFormat) and (fmt.signed or fn is np.abs)
    with np.errstate(invalid="ignore"):
        res = core.cast(fn(a), fmt, overflow=Overflow.IEEE if exact else rules.ov,
                        dtype=np.float64 if isinstance(fmt, IntFormat) else C.output_dtype(fmt, dtype, a.dtype))
    if isinstance(fmt, IntFormat):
        res = _integer_result(np.asarray(res), fmt, [a], all_int, dtype)
    return res[()] if scalar else res


def neg(x, fmt=None, *, overflow=None, inputs=None, dtype=None):
    """`-x` in `fmt`: exact wherever `-x` is a value of the format.

    Negation never rounds. In signed float formats it flips the sign (`-0` included, where
    the format has it; `-inf` and `inf` swap). Where `-x` is not in the format (the
    negatives of an unsigned format, the most negative integer of a signed integer format) the
    `overflow` policy decides, as in `floatsim.cast`: `-(-128)` in int8 is 127 under
    `"saturate"` (the integer default) and -128 under `"wrap"`; `-2` in the unsigned
    `float8_e8m0fnu` is NaN under `"ieee"`.

    Parameters
    ----------
    x : array_like
        Values of `fmt` in a float16, float32 or float64 array (ml_dtypes floats, integers and
        Python numbers are accepted too).
    fmt : str, FloatFormat, IntFormat or dtype, optional
        The format of `x` and of the result. Default: the `fmt` of the enclosing
        `floatsim.arith.context`; one of the two is required.
    overflow : str or Overflow, optional
        What a result outside the format becomes: `"ieee"` (default for float formats),
        `"saturate"`, `"sat_propagate"` or `"sat_none"`; integer formats take `"saturate"`
        (their default) or `"wrap"`. It only matters where the result is not a value of
        `fmt`.
    inputs : {"check", "round"}, optional
        `"check"` (default): `x` must already hold values of `fmt`. `"round"`: round it
        into `fmt` first (nearest-even, the call's `overflow` policy).
    dtype : numpy dtype, optional
        Output dtype (float16, float32 or float64). Default: `x`'s float dtype, widened until
        every value of `fmt` is exact in it; for an integer format with an integer `x`, the
        format's integer dtype.

    Returns
    -------
    numpy.ndarray or numpy scalar
        The results, values of `fmt`, in `x`'s shape; a NumPy scalar for a scalar `x`.
        Integer formats give the format's integer dtype (int8 for `"int8"`) for an integer
        `x`, else `x`'s float dtype.

    Raises
    ------
    TypeError
        `fmt` is missing (neither passed nor set by a context), or `x` is not numeric.
    ValueError
        `x` holds a value that is not a value of `fmt` (with `inputs="check"`); an
        unknown format or overflow policy.

    Examples
    --------
    >>> import numpy as np, floatsim.arith as fa
    >>> fa.neg(np.float32([1.5, -0.0, np.inf]), "float8_e5m2")
    array([-1.5,  0. , -inf], dtype=float32)
    >>> fa.neg(np.int8([5, -128]), "int8").tolist(), fa.neg(np.int8([-128]), "int8", overflow="wrap").tolist()
    ([-5, 127], [-128])
    >>> fa.neg(np.float32(2.0), "float8_e8m0fnu")     # unsigned: no -2
    np.float32(nan)
    """
    return _exact_unary(np.negative, x, fmt, overflow, inputs, dtype)


def abs(x, fmt=None, *, overflow=None, inputs=None, dtype=None):  # noqa: A001 (mirrors numpy.abs)
    """`|x|` in `fmt`: exact wherever `|x|` is a value of the format.

    The magnitude never rounds: float formats clear the sign (`|-0| = +0`, `|-inf| = inf`,
    NaN stays NaN). The one exception is the most negative integer of a signed integer format,
    whose magnitude is out of range: the `overflow` policy decides (`|-128|` in int8 is 127
    under `"saturate"`, the integer default, and -128 under `"wrap"`).

    Parameters
    ----------
    x : array_like
        Values of `fmt` in a float16, float32 or float64 array (ml_dtypes floats, integers and
        Python numbers are accepted too).
    fmt : str, FloatFormat, IntFormat or dtype, optional
        The format of `x` and of the result. Default: the `fmt` of the enclosing
        `floatsim.arith.context`; one of the two is required.
    overflow : str or Overflow, optional
        What a result outside the format becomes: `"ieee"` (default for float formats),
        `"saturate"`, `"sat_propagate"` or `"sat_none"`; integer formats take `"saturate"`
        (their default) or `"wrap"`. It only matters where the result is not a value of
        `fmt`.
    inputs : {"check", "round"}, optional
        `"check"` (default): `x` must already hold values of `fmt`. `"round"`: round it
        into `fmt` first (nearest-even, the call's `overflow` policy).
    dtype : numpy dtype, optional
        Output dtype (float16, float32 or float64). Default: `x`'s float dtype, widened until
        every value of `fmt` is exact in it; for an integer format with an integer `x`, the
        format's integer dtype.

    Returns
    -------
    numpy.ndarray or numpy scalar
        The results, values of `fmt`, in `x`'s shape; a NumPy scalar for a scalar `x`.
        Integer formats give the format's integer dtype (int8 for `"int8"`) for an integer
        `x`, else `x`'s float dtype.

    Raises
    ------
    TypeError
        `fmt` is missing (neither passed nor set by a context), or `x` is not numeric.
    ValueError
        `x` holds a value that is not a value of `fmt` (with `inputs="check"`); an
        unknown format or overflow policy.

    Examples
    --------
    >>> import numpy as np, floatsim.arith as fa
    >>> fa.abs(np.float32([-0.0, -448.0, 1.5]), "float8_e4m3fn")
    array([  0. , 448. ,   1.5], dtype=float32)
    >>> fa.abs(np.int8([-3, -128]), "int8"), fa.abs(np.int8([-3, -128]), "int8", overflow="wrap")
    (array([  3, 127], dtype=int8), array([   3, -128], dtype=int8))
    """
    return _exact_unary(np.abs, x, fmt, overflow, inputs, dtype)


def _compare(fn, x, y, fmt, inputs):
    fmt = C.resolve_format(fmt, "fmt")
    how = C.resolve_inputs(inputs)
    arrays, shape, scalar, _ = _operands((x, y), ("x", "y"))
    if how == "round":
        arrays = [_round_operand(a, fmt, None) for a in arrays]
    else:
        C.check_members(arrays, ("x", "y"), fmt)
    res = fn(*arrays)
    return res[()] if scalar else res


def eq(x, y, fmt=None, *, inputs=None):
    """`x == y` for values of `fmt` (IEEE 754 equality).

    True where `x` and `y` are the same number: `-0 == +0` is True, and NaN is unordered, so
    `NaN == NaN` is False. The operands are checked against `fmt` (or rounded into it) like the
    arithmetic verbs'; the comparison itself is exact.

    Parameters
    ----------
    x, y : array_like
        The operands: values of `fmt` in float16, float32 or float64 arrays (ml_dtypes floats,
        integers and Python numbers are accepted too). They broadcast together as in NumPy.
    fmt : str, FloatFormat, IntFormat or dtype, optional
        The format of the operands. Default: the `fmt` of the enclosing
        `floatsim.arith.context`; one of the two is required.
    inputs : {"check", "round"}, optional
        `"check"` (default): the operands must already be values of `fmt`. `"round"`:
        round them into `fmt` first (nearest-even, the `"ieee"` overflow policy), then
        compare.

    Returns
    -------
    numpy.ndarray of bool or numpy.bool_
        The comparison, element by element, in the broadcast shape; a NumPy bool when both
        operands are scalars.

    Raises
    ------
    TypeError
        `fmt` is missing (neither passed nor set by a context), or an operand is not numeric.
    ValueError
        An operand holds a value that is not a value of `fmt` (with `inputs="check"`); the
        operands do not broadcast; an unknown format.

    Examples
    --------
    >>> import numpy as np, floatsim.arith as fa
    >>> fa.eq(np.float32([1.0, -0.0, np.nan]), np.float32([1.5, 0.0, np.nan]), "float8_e4m3fn")
    array([False,  True, False])
    """
    return _compare(np.equal, x, y, fmt, inputs)


def ne(x, y, fmt=None, *, inputs=None):
    """`x != y` for values of `fmt` (IEEE 754 inequality).

    The negation of `floatsim.arith.eq`: True where the values differ, and wherever an operand is
    NaN (NaN is unordered); `-0 != +0` is False. The operands are checked against `fmt` (or
    rounded into it) like the arithmetic verbs'; the comparison itself is exact.

    Parameters
    ----------
    x, y : array_like
        The operands: values of `fmt` in float16, float32 or float64 arrays (ml_dtypes floats,
        integers and Python numbers are accepted too). They broadcast together as in NumPy.
    fmt : str, FloatFormat, IntFormat or dtype, optional
        The format of the operands. Default: the `fmt` of the enclosing
        `floatsim.arith.context`; one of the two is required.
    inputs : {"check", "round"}, optional
        `"check"` (default): the operands must already be values of `fmt`. `"round"`:
        round them into `fmt` first (nearest-even, the `"ieee"` overflow policy), then
        compare.

    Returns
    -------
    numpy.ndarray of bool or numpy.bool_
        The comparison, element by element, in the broadcast shape; a NumPy bool when both
        operands are scalars.

    Raises
    ------
    TypeError
        `fmt` is missing (neither passed nor set by a context), or an operand is not numeric.
    ValueError
        An operand holds a value that is not a value of `fmt` (with `inputs="check"`); the
        operands do not broadcast; an unknown format.

    Examples
    --------
    >>> import numpy as np, floatsim.arith as fa
    >>> fa.ne(np.float32([1.0, -0.0, np.nan]), np.float32([1.5, 0.0, np.nan]), "float8_e4m3fn")
    array([ True, False,  True])
    """
    return _compare(np.not_equal, x, y, fmt, inputs)


def lt(x, y, fmt=None, *, inputs=None):
    """`x < y` for values of `fmt` (IEEE 754 ordering).

    NaN is unordered, so any comparison with NaN is False; `-0 < +0` is False (they are equal).
    The operands are checked against `fmt` (or rounded into it) like the arithmetic verbs'; the
    comparison itself is exact.

    Parameters
    ----------
    x, y : array_like
        The operands: values of `fmt` in float16, float32 or float64 arrays (ml_dtypes floats,
        integers and Python numbers are accepted too). They broadcast together as in NumPy.
    fmt : str, FloatFormat, IntFormat or dtype, optional
        The format of the operands. Default: the `fmt` of the enclosing
        `floatsim.arith.context`; one of the two is required.
    inputs : {"check", "round"}, optional
        `"check"` (default): the operands must already be values of `fmt`. `"round"`:
        round them into `fmt` first (nearest-even, the `"ieee"` overflow policy), then
        compare.

    Returns
    -------
    numpy.ndarray of bool or numpy.bool_
        The comparison, element by element, in the broadcast shape; a NumPy bool when both
        operands are scalars.

    Raises
    ------
    TypeError
        `fmt` is missing (neither passed nor set by a context), or an operand is not numeric.
    ValueError
        An operand holds a value that is not a value of `fmt` (with `inputs="check"`); the
        operands do not broadcast; an unknown format.

    Examples
    --------
    >>> import numpy as np, floatsim.arith as fa
    >>> fa.lt(np.float32([1.0, -0.0, np.nan]), np.float32([1.5, 0.0, 1.0]), "float8_e4m3fn")
    array([ True, False, False])
    >>> fa.lt(np.float32(0.1), np.float32(0.2), "bfloat16", inputs="round")   # rounded first
    np.True_
    """
    return _compare(np.less, x, y, fmt, inputs)


def le(x, y, fmt=None, *, inputs=None):
    """`x <= y` for values of `fmt` (IEEE 754 ordering).

    NaN is unordered, so any comparison with NaN is False; `-0 <= +0` is True. The operands are
    checked against `fmt` (or rounded into it) like the arithmetic verbs'; the comparison itself
    is exact.

    Parameters
    ----------
    x, y : array_like
        The operands: values of `fmt` in float16, float32 or float64 arrays (ml_dtypes floats,
        integers and Python numbers are accepted too). They broadcast together as in NumPy.
    fmt : str, FloatFormat, IntFormat or dtype, optional
        The format of the operands. Default: the `fmt` of the enclosing
        `floatsim.arith.context`; one of the two is required.
    inputs : {"check", "round"}, optional
        `"check"` (default): the operands must already be values of `fmt`. `"round"`:
        round them into `fmt` first (nearest-even, the `"ieee"` overflow policy), then
        compare.

    Returns
    -------
    numpy.ndarray of bool or numpy.bool_
        The comparison, element by element, in the broadcast shape; a NumPy bool when both
        operands are scalars.

    Raises
    ------
    TypeError
        `fmt` is missing (neither passed nor set by a context), or an operand is not numeric.
    ValueError
        An operand holds a value that is not a value of `fmt` (with `inputs="check"`); the
        operands do not broadcast; an unknown format.

    Examples
    --------
    >>> import numpy as np, floatsim.arith as fa
    >>> fa.le(np.float32([1.0, -0.0, np.nan]), np.float32([1.5, 0.0, 1.0]), "float8_e4m3fn")
    array([ True,  True, False])
    """
    return _compare(np.less_equal, x, y, fmt, inputs)


def gt(x, y, fmt=None, *, inputs=None):
    """`x > y` for values of `fmt` (IEEE 754 ordering).

    NaN is unordered, so any comparison with NaN is False; `+0 > -0` is False (they are equal).
    The operands are checked against `fmt` (or rounded into it) like the arithmetic verbs'; the
    comparison itself is exact.

    Parameters
    ----------
    x, y : array_like
        The operands: values of `fmt` in float16, float32 or float64 arrays (ml_dtypes floats,
        integers and Python numbers are accepted too). They broadcast together as in NumPy.
    fmt : str, FloatFormat, IntFormat or dtype, optional
        The format of the operands. Default: the `fmt` of the enclosing
        `floatsim.arith.context`; one of the two is required.
    inputs : {"check", "round"}, optional
        `"check"` (default): the operands must already be values of `fmt`. `"round"`:
        round them into `fmt` first (nearest-even, the `"ieee"` overflow policy), then
        compare.

    Returns
    -------
    numpy.ndarray of bool or numpy.bool_
        The comparison, element by element, in the broadcast shape; a NumPy bool when both
        operands are scalars.

    Raises
    ------
    TypeError
        `fmt` is missing (neither passed nor set by a context), or an operand is not numeric.
    ValueError
        An operand holds a value that is not a value of `fmt` (with `inputs="check"`); the
        operands do not broadcast; an unknown format.

    Examples
    --------
    >>> import numpy as np, floatsim.arith as fa
    >>> fa.gt(np.float32([1.0, 0.0, np.nan]), np.float32([1.5, -0.0, 1.0]), "float8_e4m3fn")
    array([False, False, False])
    """
    return _compare(np.greater, x, y, fmt, inputs)


def ge(x, y, fmt=None, *, inputs=None):
    """`x >= y` for values of `fmt` (IEEE 754 ordering).

    NaN is unordered, so any comparison with NaN is False; `+0 >= -0` is True. The operands are
    checked against `fmt` (or rounded into it) like the arithmetic verbs'; the comparison itself
    is exact.

    Parameters
    ----------
    x, y : array_like
        The operands: values of `fmt` in float16, float32 or float64 arrays (ml_dtypes floats,
        integers and Python numbers are accepted too). They broadcast together as in NumPy.
    fmt : str, FloatFormat, IntFormat or dtype, optional
        The format of the operands. Default: the `fmt` of the enclosing
        `floatsim.arith.context`; one of the two is required.
    inputs : {"check", "round"}, optional
        `"check"` (default): the operands must already be values of `fmt`. `"round"`:
        round them into `fmt` first (nearest-even, the `"ieee"` overflow policy), then
        compare.

    Returns
    -------
    numpy.ndarray of bool or numpy.bool_
        The comparison, element by element, in the broadcast shape; a NumPy bool when both
        operands are scalars.

    Raises
    ------
    TypeError
        `fmt` is missing (neither passed nor set by a context), or an operand is not numeric.
    ValueError
        An operand holds a value that is not a value of `fmt` (with `inputs="check"`); the
        operands do not broadcast; an unknown format.

    Examples
    --------
    >>> import numpy as np, floatsim.arith as fa
    >>> fa.ge(np.float32([1.0, 0.0, np.nan]), np.float32([1.5, -0.0, 1.0]), "float8_e4m3fn")
    array([False,  True, False])
    """
    return _compare(np.greater_equal, x, y, fmt, inputs)
