"""Integer matrix multiplication and requantization (int8 inference arithmetic).

An int8 linear layer (gemmlowp, TFLite, FBGEMM) multiplies integer codes into wide integer
accumulators, then scales the accumulators back to int8 codes with a fixed-point multiplier.
This module emulates both steps bit for bit:

1. `int_matmul`: `acc = (a - zp_a) @ (b - zp_b) + bias`, computed exactly and then wrapped to
   a two's-complement `accumulator_bits` accumulator (what hardware and `torch._int_mm` do) or
   checked (`overflow="error"`).
2. `requantize`: `y = clamp(zp_y + acc * M, qmin, qmax)` with the real multiplier
   `M = s_a * s_w / s_y` applied in one of three ways (`STYLES`):

    - `style="double"`: gemmlowp / TFLite default. `M` becomes a Q31 fixed-point multiplier and
      a power-of-two exponent (`quantize_multiplier`), applied by
      `saturating_rounding_doubling_high_mul` (round half toward +inf) and then
      `rounding_divide_by_pot` (round half away from zero): two roundings.
    - `style="single"`: TFLite built with `TFLITE_SINGLE_ROUNDING`: one rounding of
      `x * M0 / 2**(31 - shift)`, half toward +inf.
    - `style="float"`: `RNE(float32(acc) * float32(M))` (an FBGEMM-style float32 multiplier;
      rounding through `floatsim.encode`).

The fixed-point helpers are integer definitions (shifts and masks on int64); they are public
so that emulated-arithmetic layers can reuse them. All accept arrays (broadcasting) and return
int32.

Examples
--------
>>> import numpy as np
>>> import floatsim.quant as fq
>>> a = np.int8([[10, -20], [30, 40]])                 # activation codes, zero point 0
>>> w = np.int8([[5, 0], [-3, 7]])                     # weight codes (K x N), zero point 0
>>> acc = fq.int_matmul(a, w)
>>> acc.tolist()
[[110, -140], [30, 280]]
>>> fq.requantize(acc, 0.05 * 0.02 / 0.1).tolist()     # M = s_a * s_w / s_y
[[1, -1], [0, 3]]
"""

from __future__ import annotations

import numpy as np

from ..core import encode
from ..format import IntFormat
from .affine import INT32, int_dtype
from .base import check_choice

__all__ = [
    "int_matmul", "quantize_multiplier", "saturating_rounding_doubling_high_mul", "rounding_divide_by_pot",
    "multiply_by_quantized_multiplier", "requantize", "STYLES",
]

STYLES = ("double", "single", "float")
"""The requantization styles accepted by `requantize`."""
_I32_MIN, _I32_MAX = -(1 << 31), (1 << 31) - 1
_U32 = IntFormat(bits=32, signed=False)
# float64 products and partial sums of integers are exact while every |partial sum| < 2**53
_F64_EXACT = 1 << 53
_I64_LIMIT = 1 << 63


def _int_array(v, argument: str) -> np.ndarray:
    arr = np.asarray(v)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{argument} must be an integer array (int8 / uint8 / int16 / int32 / int64 ...), "
                        f"not {arr.dtype.name}")
    if arr.dtype == np.uint64 and arr.size and int(arr.max()) >= _I64_LIMIT:
        raise ValueError(f"{argument} has values >= 2**63, which int64 arithmetic cannot hold")
    return arr.astype(np.int64, copy=False)


def _int32_values(v, argument: str) -> np.ndarray:
    arr = _int_array(v, argument)
    if arr.size and (int(arr.min()) < _I32_MIN or int(arr.max()) > _I32_MAX):
        raise ValueError(f"{argument} must hold int32 values (-2**31 .. 2**31 - 1); got values in "
                         f"[{int(arr.min())}, {int(arr.max())}]")
    return arr


def _absmax(v: np.ndarray) -> int:
    return int(np.max(np.abs(v))) if v.size else 0


def _check_width(arr: np.ndarray, dtype: np.dtype, bits: int, argument: str):
    fmt = IntFormat(bits=bits, signed=dtype.kind == "i")
    if arr.size and (int(arr.min()) < fmt.min or int(arr.max()) > fmt.max):
        raise ValueError(f"{argument} has values in [{int(arr.min())}, {int(arr.max())}], outside the "
                         f"{'signed' if fmt.signed else 'unsigned'} {bits}-bit range [{fmt.min}, {fmt.max}] "
                         "declared by input_bits")


def _exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`a @ b` exactly, as int64 (or Python ints in an object array when int64 cannot hold it).

    float64 BLAS is exact while every partial sum stays below 2**53 (all integers,
    whatever the summation order or FMA use), so K is cut into chunks that satisfy
    this and the chunk results are added in int64, or as Python ints when the total
    bound reaches 2**63.
    """
    k = a.shape[-1]
    per_product = _absmax(a) * _absmax(b)
    if per_product == 0 or k == 0:
        return np.zeros(np.broadcast_shapes(a.shape[:-1] + (1,), b.shape[:-2] + (1, b.shape[-1])), np.int64)
    if per_product >= _F64_EXACT:  # a single product is not exact in float64: integer loops (int64 products)
        if per_product >= _I64_LIMIT:
            raise ValueError("a single product a[m, k] * b[k, n] needs more than 63 bits; inputs this wide "
                             "are not supported")
        step = max(1, (_I64_LIMIT - 1) // per_product)
        chunk = lambda lo, hi: np.matmul(a[..., lo:hi], b[..., lo:hi, :])  # noqa: E731
    else:
        step = max(1, (_F64_EXACT - 1) // per_product)
        af, bf = a.astype(np.float64), b.astype(np.float64)
        chunk = lambda lo, hi: np.matmul(af[..., lo:hi], bf[..., lo:hi, :]).astype(np.int64)  # noqa: E731
    wide = k * per_product >= _I64_LIMIT
    total = None
    for lo in range(0, k, step):
        part = chunk(lo, min(k, lo + step))
        if wide:
            part = part.astype(object)
        total = part if total is None else total + part
    return total


def _wrap(v: np.ndarray, bits: int) -> np.ndarray:
    """Two's-complement wrap of exact integers (int64 or object) to `bits` bits, as int64."""
    if v.dtype == object:
        m = 1 << bits
        return np.array([((int(t) + (m >> 1)) % m) - (m >> 1) for t in v.reshape(-1)],
                        np.int64).reshape(v.shape)
    if bits == 64:
        return v
    m = np.int64(1) << np.int64(bits)
    half = np.int64(1) << np.int64(bits - 1)
    return ((v + half) & (m - 1)) - half


def _check_broadcast(arr: np.ndarray, shape: tuple, argument: str, target: str) -> None:
    """`arr` must broadcast to `shape` without changing it (a ValueError naming `argument` otherwise)."""
    try:
        ok = np.broadcast_shapes(arr.shape, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{argument} of shape {arr.shape} does not broadcast to {target}'s shape {tuple(shape)}")


def int_matmul(a, b, *, a_zero_point=0, b_zero_point=0, bias=None, accumulator_bits: int = 32,
               overflow: str = "wrap", input_bits: int | None = None) -> np.ndarray:
    """Integer matrix product with a two's-complement accumulator: `(a - zp_a) @ (b - zp_b) + bias`.

    The sum is computed exactly (never rounded, whatever K), then wrapped to `accumulator_bits`
    (hardware int32 accumulators; `torch._int_mm` wraps the same way) or checked.
    `floatsim.arith.matmul` uses it for integer formats.

    Parameters
    ----------
    a : array_like of int, shape (..., M, K)
        Left operand (activations); leading batch dimensions broadcast as in `np.matmul`.
    b : array_like of int, shape (K, N) or (..., K, N)
        Right operand (weights, already transposed to K x N).
    a_zero_point : int or array_like of int, default 0
        Subtracted from `a` before multiplying: per tensor, or any array broadcasting against
        `a`, e.g. shape (M, 1) per row.
    b_zero_point : int or array_like of int, default 0
        Subtracted from `b`: per tensor, or shape (N,) per output column (per-channel weights).
    bias : array_like of int, optional
        Added to the exact sum before wrapping; shape (N,) per output column (TFLite's int32
        bias, scale `s_a * s_w`) or anything broadcasting to the output.
    accumulator_bits : int, default 32
        Accumulator width, 8 to 64.
    overflow : {"wrap", "error"}, default "wrap"
        `"wrap"`: keep the low `accumulator_bits` bits (two's complement). `"error"`: raise
        `OverflowError` naming the first (C-order) position whose exact value does not fit. Only
        the final sum is checked: partial sums that wrap and come back give the right answer in
        modular arithmetic.
    input_bits : int, optional
        Declared input width, 2 to 32 (e.g. 4 for int4 values held in int8): `a` and `b` must lie
        in that many bits, signed for signed dtypes and unsigned for unsigned ones.

    Returns
    -------
    numpy.ndarray
        int32 (int64 when `accumulator_bits > 32`), shape (..., M, N).

    Raises
    ------
    TypeError
        Non-integer operands, zero points or bias.
    ValueError
        Operands that are not at least 2-D, inner dimensions that differ, zero points or bias
        that do not broadcast; a bad `accumulator_bits`, `overflow` or `input_bits`; values
        outside `input_bits`.
    OverflowError
        `overflow="error"` and a result that does not fit the accumulator.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.intmm import int_matmul
    >>> a = np.int8([[1, -2], [127, -128]])
    >>> b = np.int8([[3, 0], [4, -1]])
    >>> int_matmul(a, b).tolist()
    [[-5, 2], [-131, 128]]
    >>> int_matmul(a, b, a_zero_point=1, bias=np.int32([10, 20])).tolist()
    [[-2, 23], [-128, 149]]

    131136 products of -128 * -128 sum to 2,148,532,224, above `2**31 - 1`: the int32
    accumulator wraps, as `torch._int_mm` does.

    >>> int_matmul(np.full((1, 131136), -128, np.int8), np.full((131136, 1), -128, np.int8)).tolist()
    [[-2146435072]]
    """
    if isinstance(accumulator_bits, bool) or not isinstance(accumulator_bits, int | np.integer) \
            or not 8 <= accumulator_bits <= 64:
        raise ValueError(f"accumulator_bits must be an integer from 8 to 64, not {accumulator_bits!r}")
    overflow = check_choice("overflow", overflow, ("wrap", "error"))
    a_raw, b_raw = np.asarray(a), np.asarray(b)
    ai, bi = _int_array(a_raw, "a"), _int_array(b_raw, "b")
    if ai.ndim < 2 or bi.ndim < 2:
        raise ValueError(f"a must have shape (..., M, K) and b (K, N) or (..., K, N); got a {ai.shape}, b {bi.shape}")
    if ai.shape[-1] != bi.shape[-2]:
        raise ValueError(f"inner dimensions differ: a has K = {ai.shape[-1]} (shape {ai.shape}), "
                         f"b has K = {bi.shape[-2]} (shape {bi.shape})")
    if input_bits is not None:
        if isinstance(input_bits, bool) or not isinstance(input_bits, int | np.integer) or not 2 <= input_bits <= 32:
            raise ValueError(f"input_bits must be an integer from 2 to 32, not {input_bits!r}")
        _check_width(ai, a_raw.dtype, int(input_bits), "a")
        _check_width(bi, b_raw.dtype, int(input_bits), "b")
    zpa = _int_array(a_zero_point, "a_zero_point")
    zpb = _int_array(b_zero_point, "b_zero_point")
    _check_broadcast(zpa, ai.shape, "a_zero_point", "a")
    _check_broadcast(zpb, bi.shape, "b_zero_point", "b")
    if np.any(zpa != 0):
        ai = ai - zpa
    if np.any(zpb != 0):
        bi = bi - zpb
    acc = _exact_matmul(ai, bi)
    if bias is not None:
        bias_i = _int_array(bias, "bias")
        try:
            np.broadcast_shapes(bias_i.shape, acc.shape)
        except ValueError:
            raise ValueError(f"bias of shape {bias_i.shape} does not broadcast to the output shape {acc.shape}") from None
        if acc.dtype != object and _absmax(acc) + _absmax(bias_i) >= _I64_LIMIT:
            acc = acc.astype(object)
        acc = acc + (bias_i.astype(object) if acc.dtype == object else bias_i)
        acc = np.broadcast_to(acc, np.broadcast_shapes(bias_i.shape, acc.shape))
    bits = int(accumulator_bits)
    out_dtype = np.int32 if bits <= 32 else np.int64
    if overflow == "error":
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        bad = (acc < lo) | (acc > hi)
        if np.any(bad):
            pos = tuple(int(i) for i in np.argwhere(bad)[0])
            raise OverflowError(f"{bits}-bit accumulator overflow: the exact sum at output position {pos} is "
                                f"{int(acc[pos])}, outside [{lo}, {hi}] (use overflow='wrap' for two's-complement "
                                "wrap-around)")
        return np.asarray(acc).astype(out_dtype)
    return _wrap(np.asarray(acc), bits).astype(out_dtype)


def quantize_multiplier(multiplier, *, clamp_large: bool = False):
    """Fixed-point form `(M0, shift)` of a real multiplier: `M ~ M0 * 2**(shift - 31)`.

    TFLite `QuantizeMultiplier`: `(q, e) = frexp(M)` with q in [0.5, 1),
    `M0 = round_half_away(q * 2**31)`; if that gives 2**31, `M0 = 2**30` and `e + 1`; if
    `e < -31` the multiplier flushes to `(0, 0)`. With `clamp_large=True` (newer TFLite,
    single-rounding builds) `e > 30` becomes `(2**31 - 1, 30)`. `M0` lies in [2**30, 2**31)
    except for flushed zeros.

    Parameters
    ----------
    multiplier : float or array_like of float
        Non-negative finite real multipliers (taken as float64), e.g. `s_a * s_w / s_y`.
    clamp_large : bool, default False
        Apply the `e > 30` clamp.

    Returns
    -------
    M0 : numpy.ndarray
        int32, the multiplier's shape: the Q31 fixed-point mantissa.
    shift : numpy.ndarray
        int32, the multiplier's shape: the power-of-two exponent.

    Raises
    ------
    ValueError
        A negative, infinite or NaN multiplier.

    Examples
    --------
    >>> from floatsim.quant.intmm import quantize_multiplier
    >>> m0, shift = quantize_multiplier(0.0072474)
    >>> int(m0), int(shift)
    (1992150143, -7)
    >>> [v.tolist() for v in quantize_multiplier([0.5, 1.0, 0.0, 1e-12])]   # 1e-12 flushes to zero
    [[1073741824, 1073741824, 0, 0], [0, 1, 0, 0]]
    """
    m = np.asarray(multiplier, dtype=np.float64)
    if not np.all(np.isfinite(m)) or np.any(m < 0):
        raise ValueError("multiplier must be finite and non-negative (got "
                         f"{m[~np.isfinite(m) | (m < 0)].reshape(-1)[:3].tolist()} ...)")
    q, e = np.frexp(m)
    # q * 2**31 is exact in float64; rounding half away from zero through the core
    m0 = encode(q * 2.0**31, _U32, rounding="nearest_away").astype(np.int64)
    e = e.astype(np.int64)
    top = m0 == (1 << 31)
    m0 = np.where(top, 1 << 30, m0)
    e = np.where(top, e + 1, e)
    tiny = e < -31
    m0, e = np.where(tiny, 0, m0), np.where(tiny, 0, e)
    if clamp_large:
        big = e > 30
        m0, e = np.where(big, _I32_MAX, m0), np.where(big, 30, e)
    return m0.astype(np.int32), e.astype(np.int32)


def saturating_rounding_doubling_high_mul(a, b) -> np.ndarray:
    """gemmlowp `SaturatingRoundingDoublingHighMul`: `round(a * b / 2**31)`, ties toward +inf.

    With `p = a * b` (exact in int64): `(p + nudge) / 2**31` truncated toward zero, with
    `nudge = 2**30` for `p >= 0` and `1 - 2**30` otherwise. The one overflowing case
    `a = b = -2**31` saturates to `2**31 - 1`.

    Parameters
    ----------
    a : array_like of int
        int32 values (any integer dtype).
    b : array_like of int
        int32 values; broadcast against `a`.

    Returns
    -------
    numpy.ndarray
        int32, the broadcast shape.

    Raises
    ------
    TypeError
        Non-integer inputs.
    ValueError
        Values outside the int32 range.

    Examples
    --------
    >>> from floatsim.quant.intmm import saturating_rounding_doubling_high_mul
    >>> saturating_rounding_doubling_high_mul([1 << 30, -(1 << 30), -(1 << 31)], [1, 1, -(1 << 31)]).tolist()
    [1, 0, 2147483647]
    """
    a, b = _int32_values(a, "a"), _int32_values(b, "b")
    p = a * b
    t = p + np.where(p >= 0, np.int64(1 << 30), np.int64(1 - (1 << 30)))
    r = np.where(t >= 0, t >> 31, -((-t) >> 31))  # C division truncates toward zero
    r = np.where((a == _I32_MIN) & (b == _I32_MIN), _I32_MAX, r)
    return r.astype(np.int32)


def rounding_divide_by_pot(x, exponent) -> np.ndarray:
    """gemmlowp `RoundingDivideByPOT`: `round(x / 2**exponent)`, ties away from zero.

    `mask = 2**e - 1`, `rem = x & mask`, `threshold = (mask >> 1) + [x < 0]`, result
    `(x >> e) + [rem > threshold]` (arithmetic shift).

    Parameters
    ----------
    x : array_like of int
        int32 values.
    exponent : int or array_like of int
        0 to 31, broadcast against `x`.

    Returns
    -------
    numpy.ndarray
        int32, the broadcast shape.

    Raises
    ------
    TypeError
        Non-integer inputs.
    ValueError
        `x` outside the int32 range; `exponent` outside 0 to 31.

    Examples
    --------
    >>> from floatsim.quant.intmm import rounding_divide_by_pot
    >>> rounding_divide_by_pot([3, -3, 5, -5, 4, -4], 1).tolist()   # ±1.5, ±2.5, ±2
    [2, -2, 3, -3, 2, -2]
    """
    x = _int32_values(x, "x")
    e = _int_array(exponent, "exponent")
    if e.size and (int(e.min()) < 0 or int(e.max()) > 31):
        raise ValueError(f"exponent must be in 0 .. 31, got values in [{int(e.min())}, {int(e.max())}]")
    mask = (np.int64(1) << e) - 1
    rem = x & mask
    threshold = (mask >> 1) + (x < 0)
    return ((x >> e) + (rem > threshold)).astype(np.int32)


def multiply_by_quantized_multiplier(x, quantized_multiplier, shift, *, style: str = "double") -> np.ndarray:
    """TFLite `MultiplyByQuantizedMultiplier`: `x * M0 * 2**(shift - 31)` rounded to an integer.

    - `"double"` (gemmlowp / TFLite default): `RDBPOT(SRDHM(x * 2**max(shift, 0), M0),
      max(-shift, 0))`, two roundings (half toward +inf, then half away from zero).
    - `"single"` (`TFLITE_SINGLE_ROUNDING`): `(x * M0 + 2**(t - 1)) >> t` with `t = 31 - shift`
      in int64, one rounding, ties toward +inf; `shift` must be in -31 to 30.

    Parameters
    ----------
    x : array_like of int
        int32 values (accumulators).
    quantized_multiplier : int or array_like of int
        `M0` from `quantize_multiplier`; broadcast against `x` (per channel: shape (N,)).
    shift : int or array_like of int
        The exponent from `quantize_multiplier`, -31 to 31 (to 30 for `"single"`).
    style : {"double", "single"}, default "double"
        The rounding scheme (see above).

    Returns
    -------
    numpy.ndarray
        int32, the broadcast shape.

    Raises
    ------
    TypeError
        Non-integer inputs.
    ValueError
        An unknown `style`; `shift` out of range; values outside the int32 range.
    OverflowError
        Where C would overflow int32 (undefined behaviour there): `x * 2**shift` in the double
        style, or the result in the single style.

    Examples
    --------
    >>> from floatsim.quant.intmm import multiply_by_quantized_multiplier, quantize_multiplier
    >>> m0, shift = quantize_multiplier(0.3)        # 8 * 0.3 = 2.4, -8 * 0.3 = -2.4
    >>> multiply_by_quantized_multiplier([8, -8, 1000], m0, shift).tolist()   # 2.4 -> 4.8 -> 5 -> 2.5 -> 3
    [3, -3, 300]
    >>> multiply_by_quantized_multiplier([8, -8, 1000], m0, shift, style="single").tolist()
    [2, -2, 300]
    """
    style = check_choice("style", style, ("double", "single"))
    x = _int32_values(x, "x")
    m0 = _int32_values(quantized_multiplier, "quantized_multiplier")
    sh = _int_array(shift, "shift")
    if style == "single":
        if sh.size and (int(sh.min()) < -31 or int(sh.max()) > 30):
            raise ValueError(f"shift must be in -31 .. 30 for style='single', got [{int(sh.min())}, {int(sh.max())}]")
        t = 31 - sh
        r = (x * m0 + (np.int64(1) << (t - 1))) >> t
        where = "the result"
    else:
        if sh.size and (int(sh.min()) < -31 or int(sh.max()) > 31):
            raise ValueError(f"shift must be in -31 .. 31, got [{int(sh.min())}, {int(sh.max())}]")
        xs = x << np.maximum(sh, 0)
        if xs.size and (int(xs.min()) < _I32_MIN or int(xs.max()) > _I32_MAX):
            raise OverflowError("x * 2**shift overflows int32 (undefined behaviour in the C code); "
                                "use a smaller multiplier or accumulator")
        return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(xs, m0), np.maximum(-sh, 0))
    if r.size and (int(r.min()) < _I32_MIN or int(r.max()) > _I32_MAX):
        raise OverflowError(f"{where} overflows int32 (a debug check in TFLite)")
    return r.astype(np.int32)


def requantize(acc, multiplier, *, zero_point=0, qmin: int = -128, qmax: int = 127, style: str = "double") -> np.ndarray:
    """Output codes `clamp(zero_point + round(acc * multiplier), qmin, qmax)` of an integer layer.

    Parameters
    ----------
    acc : array_like of int
        int32 accumulators (from `int_matmul`), shape (..., N).
    multiplier : float or array_like of float
        The real multiplier `s_a * s_w / s_y`, non-negative and below 2**31: per tensor or per
        output channel (shape (N,), or anything broadcasting against `acc`).
    zero_point : int or array_like of int, default 0
        Output zero point, added after the multiplier.
    qmin : int, default -128
        Smallest output code (the activation clamp).
    qmax : int, default 127
        Largest output code.
    style : {"double", "single", "float"}, default "double"
        `"double"`: gemmlowp / TFLite default (`quantize_multiplier`, then
        `multiply_by_quantized_multiplier` with two roundings); `"single"`:
        `TFLITE_SINGLE_ROUNDING` (also applies the `shift > 30` clamp); `"float"`:
        `RNE(float32(acc) * float32(multiplier))` (the multiplier kept in float32, e.g. FBGEMM),
        rounded through `floatsim.encode` (saturating to int32).

    Returns
    -------
    numpy.ndarray
        The codes, in the smallest integer dtype holding [qmin, qmax] (int8 for the default,
        uint8 for [0, 255]); the broadcast shape of `acc`, `multiplier` and `zero_point`.

    Raises
    ------
    TypeError
        Non-integer `acc`, `zero_point`, `qmin` or `qmax`.
    ValueError
        An unknown `style`; not `-2**31 <= qmin < qmax < 2**31`; `acc` outside int32; a negative,
        non-finite or too large `multiplier`; a `multiplier` or `zero_point` that does not
        broadcast against `acc`.
    OverflowError
        The fixed-point product overflows int32 (see `multiply_by_quantized_multiplier`).

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.intmm import requantize
    >>> acc = np.int32([8, -8, 100, 1000])
    >>> requantize(acc, 0.3, zero_point=-5).tolist()
    [-2, -8, 25, 127]
    >>> requantize(acc, 0.3, zero_point=-5, style="single").tolist()
    [-3, -7, 25, 127]
    >>> requantize(acc, np.float64([0.3, 0.3, 0.01, 0.1]), style="float").tolist()   # per channel
    [2, -2, 1, 100]
    """
    style = check_choice("style", style, STYLES)
    for name, v in (("qmin", qmin), ("qmax", qmax)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise TypeError(f"{name} must be an integer, not {v!r}")
    if not _I32_MIN <= qmin < qmax <= _I32_MAX:
        raise ValueError(f"need -2**31 <= qmin < qmax < 2**31, got qmin={qmin}, qmax={qmax}")
    acc = _int32_values(acc, "acc")
    zp = _int_array(zero_point, "zero_point")
    _check_broadcast(zp, acc.shape, "zero_point", "acc")
    _check_broadcast(np.asarray(multiplier), acc.shape, "multiplier", "acc")
    m = np.asarray(multiplier, dtype=np.float64)
    if not (np.all(np.isfinite(m)) and np.all(m >= 0)):
        raise ValueError("multiplier must be finite and non-negative")
    if np.any(m >= 2.0**31):
        raise ValueError("multiplier must be below 2**31 (gemmlowp / TFLite represent it as M0 * 2**shift)")
    if style == "float":
        v = acc.astype(np.float32) * m.astype(np.float32)
        r = encode(v, INT32, rounding="nearest_even", overflow="saturate").view(np.int32).astype(np.int64)
    else:
        m0, shift = quantize_multiplier(multiplier, clamp_large=style == "single")
        r = multiply_by_quantized_multiplier(acc, m0, shift, style=style).astype(np.int64)
    return np.clip(r + zp, qmin, qmax).astype(int_dtype(int(qmin), int(qmax)))
