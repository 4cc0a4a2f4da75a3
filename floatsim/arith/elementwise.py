"""Correctly rounded elementwise arithmetic in any format.

Every verb computes its result as if with unbounded precision and rounds it once
into the format, with any core rounding mode and overflow policy. How: see
:mod:`floatsim.arith._kernels` (float64 result + exact error term + round to odd).
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
    """``inputs="round"``: the operand rounded into the format (nearest-even, the call's overflow policy)."""
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
        result = _integer(op, code, arrays, names, shape, fmt, rules, rbits, key, offset, how, nargs, all_int)
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
            if core._USE_TABLES and rbits is None and dst.itemsize == flats[0].itemsize:
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


def _integer(op, code, arrays, names, shape, fmt, rules, rbits, key, offset, how, nargs, all_int):
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
    values = values.reshape(shape)
    return values.astype(_int_dtype(fmt)) if all_int else values


_ROUNDING_DOC = """
    Parameters
    ----------
    {args}
    fmt : str, FloatFormat, IntFormat or dtype, optional
        The format of the operands and of the result (default: the :func:`context`'s).
    rounding : str or Rounding, optional
        Any core rounding mode (default ``"nearest_even"``), stochastic ones included.
    overflow : str or Overflow, optional
        The core's overflow policies (default ``"ieee"``; integer formats ``"saturate"``
        or ``"wrap"``).
    sr_bits, seed, random_bits, index_offset
        Stochastic rounding, exactly as in :func:`floatsim.cast` (element ``i`` uses the
        random bits of global index ``i + index_offset``).
    inputs : {{"check", "round"}}, optional
        ``"check"`` (default): every operand must be a value of ``fmt`` (``ValueError``
        naming the first that is not). ``"round"``: round the operands into ``fmt``
        first (nearest-even, the call's overflow policy).
    dtype : float16 / float32 / float64, optional
        Output dtype; default: the operands' float dtype, widened until every value
        of ``fmt`` is exact in it. Integer formats with integer operands return
        integers.
    out : ndarray, optional

    Returns
    -------
    ndarray (a NumPy scalar for scalar operands)

    Raises
    ------
    ValueError
        Operands not in the format; a NaN result in a format without NaN; bad
        arguments. ``TypeError`` for non-numeric operands or a missing ``fmt``.
"""


def _doc(summary, args, examples):
    return f"{summary}\n{_ROUNDING_DOC.format(args=args)}\n    Examples\n    --------\n{examples}"


def add(x, y, fmt=None, *, rounding=None, overflow=None, sr_bits=None, seed=None, random_bits=None, index_offset=0,
        inputs=None, dtype=None, out=None):
    return _apply("add", (x, y), ("x", "y"), fmt, rounding, overflow, sr_bits, seed, random_bits, index_offset,
                  inputs, dtype, out)


def sub(x, y, fmt=None, *, rounding=None, overflow=None, sr_bits=None, seed=None, random_bits=None, index_offset=0,
        inputs=None, dtype=None, out=None):
    return _apply("sub", (x, y), ("x", "y"), fmt, rounding, overflow, sr_bits, seed, random_bits, index_offset,
                  inputs, dtype, out)


def mul(x, y, fmt=None, *, rounding=None, overflow=None, sr_bits=None, seed=None, random_bits=None, index_offset=0,
        inputs=None, dtype=None, out=None):
    return _apply("mul", (x, y), ("x", "y"), fmt, rounding, overflow, sr_bits, seed, random_bits, index_offset,
                  inputs, dtype, out)


def div(x, y, fmt=None, *, rounding=None, overflow=None, sr_bits=None, seed=None, random_bits=None, index_offset=0,
        inputs=None, dtype=None, out=None):
    return _apply("div", (x, y), ("x", "y"), fmt, rounding, overflow, sr_bits, seed, random_bits, index_offset,
                  inputs, dtype, out)


def fma(x, y, z, fmt=None, *, rounding=None, overflow=None, sr_bits=None, seed=None, random_bits=None,
        index_offset=0, inputs=None, dtype=None, out=None):
    return _apply("fma", (x, y, z), ("x", "y", "z"), fmt, rounding, overflow, sr_bits, seed, random_bits,
                  index_offset, inputs, dtype, out)


def sqrt(x, fmt=None, *, rounding=None, overflow=None, sr_bits=None, seed=None, random_bits=None, index_offset=0,
         inputs=None, dtype=None, out=None):
    return _apply("sqrt", (x,), ("x",), fmt, rounding, overflow, sr_bits, seed, random_bits, index_offset,
                  inputs, dtype, out)


add.__doc__ = _doc("``x + y`` rounded once into ``fmt``.", "x, y : array_like\n        Operands (broadcast).", """\
    >>> import numpy as np, floatsim.arith as fa
    >>> fa.add(np.float32([1.0, 1.0]), np.float32([2**-11, 3 * 2**-11]), "float16")
    array([1.       , 1.0019531], dtype=float32)
    >>> fa.add(np.float32(1.0), np.float32(2**-11), "float16", rounding="toward_positive")
    np.float32(1.0009766)
""")
sub.__doc__ = _doc("``x - y`` rounded once into ``fmt``.", "x, y : array_like\n        Operands (broadcast).", """\
    >>> import numpy as np, floatsim.arith as fa
    >>> fa.sub(np.float32(1.0), np.float32(1.0), "float16", rounding="toward_negative")
    np.float32(-0.0)
""")
mul.__doc__ = _doc("``x * y`` rounded once into ``fmt``.", "x, y : array_like\n        Operands (broadcast).", """\
    >>> import numpy as np, floatsim.arith as fa
    >>> fa.mul(np.float32(448.0), np.float32(2.0), "float8_e4m3fn", overflow="saturate")
    np.float32(448.0)
""")
div.__doc__ = _doc("``x / y`` rounded once into ``fmt``.", "x, y : array_like\n        Operands (broadcast).", """\
    >>> import numpy as np, floatsim.arith as fa
    >>> fa.div(np.float32([1.0, 1.0]), np.float32([3.0, 0.0]), "bfloat16")
    array([0.33398438,        inf], dtype=float32)
""")
fma.__doc__ = _doc("``x * y + z`` with one rounding (fused multiply-add).",
                   "x, y, z : array_like\n        Operands (broadcast).", """\
    >>> import numpy as np, floatsim.arith as fa
    >>> fa.fma(np.float32(1 + 2**-10), np.float32(1 - 2**-10), np.float32(-1.0), "float16")
    np.float32(-9.536743e-07)
""")
sqrt.__doc__ = _doc("``sqrt(x)`` rounded once into ``fmt`` (``sqrt(-0) = -0``; negatives give NaN).",
                    "x : array_like", """\
    >>> import numpy as np, floatsim.arith as fa
    >>> fa.sqrt(np.float32([2.0, 4.0]), "float8_e4m3fn")
    array([1.375, 2.   ], dtype=float32)
""")


# --------------------------------------------------------------------------- exact operations
def _exact_unary(fn, x, fmt, overflow, inputs, dtype):
    """``fn(x)`` (negation or magnitude): exact where the result is a value of the format (signed float
    formats, infinities included); elsewhere (unsigned formats, the most negative integer) the overflow
    policy decides, as in :func:`floatsim.cast`."""
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
                        dtype=None if isinstance(fmt, IntFormat) else C.output_dtype(fmt, dtype, a.dtype))
    if isinstance(fmt, IntFormat) and all_int:
        res = np.asarray(res).astype(_int_dtype(fmt))
    return res[()] if scalar else res


def neg(x, fmt=None, *, overflow=None, inputs=None, dtype=None):
    """``-x``: exact, except where ``-x`` is not in the format (unsigned formats, the most negative
    integer), where the overflow policy decides as in :func:`floatsim.cast`.

    >>> import numpy as np, floatsim.arith as fa
    >>> fa.neg(np.int8([5, -128]), "int8").tolist(), fa.neg(np.int8([-128]), "int8", overflow="wrap").tolist()
    ([-5, 127], [-128])
    """
    return _exact_unary(np.negative, x, fmt, overflow, inputs, dtype)


def abs(x, fmt=None, *, overflow=None, inputs=None, dtype=None):  # noqa: A001 (mirrors numpy.abs)
    """``|x|``: exact, except for the most negative integer (the overflow policy decides).

    >>> import numpy as np, floatsim.arith as fa
    >>> fa.abs(np.float32([-0.0, -448.0]), "float8_e4m3fn")
    array([  0., 448.], dtype=float32)
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


def _comparison(name, fn, symbol):
    def compare(x, y, fmt=None, *, inputs=None):
        return _compare(fn, x, y, fmt, inputs)

    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = (f"``x {symbol} y`` for values of ``fmt`` (IEEE 754: NaN is unordered, ``-0 == +0``).\n\n"
                       "    The operands are checked (or rounded, ``inputs='round'``) like the arithmetic verbs'.\n")
    return compare


eq = _comparison("eq", np.equal, "==")
ne = _comparison("ne", np.not_equal, "!=")
lt = _comparison("lt", np.less, "<")
le = _comparison("le", np.less_equal, "<=")
gt = _comparison("gt", np.greater, ">")
ge = _comparison("ge", np.greater_equal, ">=")
