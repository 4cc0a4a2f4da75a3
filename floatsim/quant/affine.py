"""Affine integer quantization and scaled float-format quantization.

Integer quantization maps each value to an integer code with a scale `s` and a
zero point `zp`: `q = clamp(round(x * (1/s)) + zp, qmin, qmax)`, dequantized as
`(q - zp) * s`. Scaled float quantization divides by `s = amax / fmt.max` and
rounds into a low-precision float format instead. Every rounding is a core
`floatsim.encode`, so every core rounding mode is available.

Functional primitives (the building blocks other layers reuse):

- `choose_qparams`: scale and zero point from a range, with the three
  symmetric conventions in use (`divisor="half_range"`: torch observers and
  torchao, amax / ((qmax - qmin) / 2) = amax / 127.5 for int8; `"qmax"`: TensorRT,
  TFLite weights and LLM.int8, amax / qmax; `"no_clipping"`: max(min / qmin,
  max / qmax), torch's C++ `ChooseQuantizationParams` and torchao
  `SYMMETRIC_NO_CLIPPING_ERR`; the tuple `DIVISORS` lists them) and the
  asymmetric (zero-point) rule.
- `quantize_affine`: `q = clamp(round(x * (1/s)) + zp, qmin, qmax)` (torch /
  torchao order, `reciprocal=True`) or `round(x / s)` (ONNX, GPTQ / AWQ,
  `reciprocal=False`); the rounding is a core cast to integers, any core mode.
- `dequantize_affine`: `(q - zp) * s`.
- `int_range` (the code range of a `bits`-bit integer) and `round_scale` (scales
  stored in a low-precision format).

Quantizers: `IntQuantizer` (INT2 to INT16, signed or unsigned, any granularity)
and `FloatQuantizer` (scaled FP8, or any emulated float format as the element).

Arithmetic dtype: the scale is float32; `1/s` is taken in the scale's dtype,
then `x * (1/s)` in NumPy's result type of the two (float32 for float16 /
float32 input, float64 for float64 input). torchao runs float16 / bfloat16
inputs in their own dtype; pass float32 to match it on those.

Examples
--------
>>> import numpy as np
>>> import floatsim.quant as fq
>>> x = np.float32([-1.0, -0.25, 0.0, 0.5, 2.55])
>>> q = fq.IntQuantizer(bits=8).quantize(x)
>>> q.codes.tolist(), float(q.scale)
([-50, -12, 0, 25, 127], 0.019999999552965164)
>>> fq.FloatQuantizer(format="float8_e4m3fn").fake_quantize(np.float32([0.1, -3.0, 7.0])).tolist()
[0.1015625, -3.0, 7.0]
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from ..core import cast, decode, encode
from ..format import FloatFormat, IntFormat, _check_bool
from ..formats import get_format
from ..rounding import Rounding
from ._kernels import block_stats, lookup_rows
from ._layout import Granularity, parse_granularity, to_blocks
from .base import QuantizedTensor, Quantizer, as_output, check_choice, dask_aware, encode_rows, float_input

__all__ = [
    "choose_qparams", "quantize_affine", "dequantize_affine", "int_range", "round_scale",
    "IntQuantizer", "FloatQuantizer", "DIVISORS",
]

#: Symmetric scale conventions (see the module docstring).
DIVISORS = ("half_range", "qmax", "no_clipping")
"""The symmetric scale conventions accepted as `divisor`: `"half_range"`, `"qmax"`, `"no_clipping"`."""
#: int32, the width values are rounded to before clamping to [qmin, qmax]
INT32 = IntFormat(bits=32)
_POW2 = {"floor": "toward_negative", "ceil": "toward_positive"}
#: torch.ao observers' eps: float32 machine epsilon
TORCH_EPS = float(np.finfo(np.float32).eps)


def int_range(bits: int, signed: bool = True, narrow_range: bool = False) -> tuple[int, int]:
    """`(qmin, qmax)`, the code range of a `bits`-bit integer.

    Signed integers are two's complement, `[-2**(bits-1), 2**(bits-1) - 1]`;
    unsigned ones `[0, 2**bits - 1]`. `narrow_range` drops the most negative code
    (`[-127, 127]` for int8), which makes the signed range symmetric.

    Parameters
    ----------
    bits : int
        Width in bits (2 to 32 signed, 1 to 32 unsigned).
    signed : bool, default True
        Two's complement or unsigned.
    narrow_range : bool, default False
        Drop the most negative code (signed only).

    Returns
    -------
    tuple of (int, int)
        `(qmin, qmax)`.

    Raises
    ------
    ValueError
        For `narrow_range=True` with `signed=False`, or a width outside the range
        above.

    Examples
    --------
    >>> from floatsim.quant.affine import int_range
    >>> int_range(8), int_range(8, narrow_range=True), int_range(4, signed=False)
    ((-128, 127), (-127, 127), (0, 15))
    """
    fmt = IntFormat(bits=bits, signed=signed)
    qmin = fmt.min + (1 if narrow_range and signed else 0)
    if narrow_range and not signed:
        raise ValueError("narrow_range=True applies to signed formats only")
    return qmin, fmt.max


def check_bounds(qmin, qmax) -> tuple[int, int]:
    """``(qmin, qmax)`` as Python ints, after checking they are integers with -2**31 <= qmin < qmax < 2**31."""
    for name, v in (("qmin", qmin), ("qmax", qmax)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise TypeError(f"{name} must be an integer, not {v!r}")
    if not -(1 << 31) <= qmin < qmax < (1 << 31):
        raise ValueError(f"need -2**31 <= qmin < qmax < 2**31, got qmin={qmin}, qmax={qmax}")
    return int(qmin), int(qmax)


def scale_format_of(scale_format, argument: str = "scale_format"):
    """The `FloatFormat` scales are stored in (None: float32), checked to hold positive scales."""
    if scale_format is None:
        return None
    fmt = get_format(scale_format)
    if not isinstance(fmt, FloatFormat):
        raise TypeError(f"{argument} must be a float format (e.g. 'float16', 'float8_e4m3fn', 'float8_e8m0fnu'), "
                        f"not the integer format {fmt}")
    return fmt


def round_scale(scale, scale_format=None, scale_rounding="nearest_even") -> np.ndarray:
    """Round positive scales into the format they are stored in (None: float32, unchanged).

    `scale_rounding="toward_positive"` never makes the scale smaller (no extra
    clipping); with `scale_format="float8_e8m0fnu"` it gives power-of-two scales
    2**ceil(log2 s), and `"toward_negative"` gives 2**floor(log2 s). A scale never
    rounds to 0: scales below the format's smallest positive value become that value
    (saturating at its largest, too).

    Parameters
    ----------
    scale : array_like
        Positive scales (converted to float32 first).
    scale_format : str or FloatFormat, optional
        The float format scales are stored in (`"float16"`, `"bfloat16"`,
        `"float8_e4m3fn"`, `"float8_e8m0fnu"` ...); None (default) keeps float32.
    scale_rounding : str, default "nearest_even"
        Any core rounding mode.

    Returns
    -------
    numpy.ndarray
        float32 scales, exactly representable in `scale_format`.

    Raises
    ------
    TypeError
        If `scale_format` is an integer format.
    ValueError
        For an unknown format name or rounding mode.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.affine import round_scale
    >>> round_scale(np.float32(0.3), "float8_e8m0fnu", "toward_positive").tolist()
    0.5
    >>> round_scale(np.float32([0.3, 3.0]), "float8_e8m0fnu").tolist()   # 3.0 is a tie: to the even code, 2.0
    [0.25, 2.0]
    >>> round_scale(np.float32(1e-9), "float8_e4m3fn").tolist()   # not 0: the smallest E4M3 subnormal
    0.001953125
    """
    s = np.asarray(scale, np.float32)
    fmt = scale_format_of(scale_format)
    if fmt is None:
        return s
    tiny = np.float32(fmt.smallest_subnormal if fmt.subnormals else fmt.smallest_normal)
    return np.maximum(cast(s, fmt, rounding=scale_rounding, overflow="saturate", dtype=np.float32), tiny)


def _check_eps(eps, argument="eps") -> float:
    if isinstance(eps, bool) or not isinstance(eps, int | float | np.integer | np.floating) or not (
            0 < float(eps) < np.inf):
        raise ValueError(f"{argument} must be a positive finite number, not {eps!r}")
    return float(eps)


_WIDE_RANGE = ("the range is too wide for float32 scales (|values| must stay below about 3.4e38); "
               "rescale x or pass a narrower range")


def choose_qparams(min_val, max_val, *, qmin: int, qmax: int, symmetric: bool = True, divisor: str = "half_range",
                   eps: float = TORCH_EPS, scale_format=None, scale_rounding="nearest_even"):
    """Scale and zero point for values in `[min_val, max_val]` (arrays broadcast).

    The range is first widened to include 0 (min_neg = min(min_val, 0), max_pos =
    max(max_val, 0)), as torch and torchao do. With amax = max(-min_neg, max_pos):

    - symmetric: `s = amax / d` with `d` from `divisor` (`"half_range"`:
      (qmax - qmin) / 2; `"qmax"`: qmax; `"no_clipping"`: s = max(min_neg / qmin,
      max_pos / qmax)); `zp = int((qmin + qmax + 1) / 2)` (0 for signed, 128 for
      uint8).
    - asymmetric: `s = (max_pos - min_neg) / (qmax - qmin)`, `zp = clamp(qmin -
      round(min_neg / s), qmin, qmax)` (round half to even).

    Then `s = max(s, eps)` and `s` is rounded into `scale_format` (never to 0, see
    `round_scale`). The arithmetic is float32, as torch and torchao.

    Parameters
    ----------
    min_val : array_like
        Smallest value of each range (a scalar or an array of per-block minima).
    max_val : array_like
        Largest value of each range; broadcasts with `min_val`.
    qmin : int
        Smallest integer code (e.g. -128, or 0 for unsigned).
    qmax : int
        Largest integer code (e.g. 127 or 255); `-2**31 <= qmin < qmax < 2**31`.
    symmetric : bool, default True
        Symmetric (zero point fixed at the middle code) or asymmetric.
    divisor : {"half_range", "qmax", "no_clipping"}, default "half_range"
        Symmetric scale convention (ignored when asymmetric).
    eps : float, default float32 machine epsilon
        Smallest scale, a positive number (torch observers use float32 eps;
        torchao the input dtype's smallest normal).
    scale_format : str or FloatFormat, optional
        Float format the scales are stored in (None: float32).
    scale_rounding : str, default "nearest_even"
        Rounding mode into `scale_format`.

    Returns
    -------
    scale : numpy.ndarray
        float32 scales, the broadcast shape of `min_val` and `max_val`.
    zero_point : numpy.ndarray
        int32 zero points, same shape.

    Raises
    ------
    ValueError
        For a non-finite range (inf or NaN), a range too wide for float32 scales,
        `qmin >= qmax` or bounds outside int32, a `divisor` not in the list,
        `divisor="no_clipping"` with `qmin >= 0`, or `eps <= 0`.
    TypeError
        If `qmin` or `qmax` is not an integer.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant import choose_qparams
    >>> s, zp = choose_qparams(-1.0, 2.55, qmin=0, qmax=255, symmetric=False)
    >>> float(s), int(zp)
    (0.013921568170189857, 72)
    >>> s, zp = choose_qparams(-1.0, 2.55, qmin=-127, qmax=127, divisor="qmax")
    >>> float(s), int(zp)
    (0.020078739151358604, 0)
    >>> choose_qparams(np.float32([-1.0, -2.0]), np.float32([1.0, 4.0]), qmin=-128, qmax=127)  # one per block
    (array([0.00784314, 0.03137255], dtype=float32), array([0, 0], dtype=int32))
    >>> choose_qparams(0.0, 0.0, qmin=0, qmax=255)   # all zero: scale eps; symmetric uint8 zero point 128
    (array(1.1920929e-07, dtype=float32), array(128, dtype=int32))
    """
    check_bounds(qmin, qmax)
    eps = _check_eps(eps)
    with np.errstate(over="ignore", invalid="ignore"):
        lo = np.minimum(np.asarray(min_val, np.float32), np.float32(0))
        hi = np.maximum(np.asarray(max_val, np.float32), np.float32(0))
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        if np.all(np.isfinite(np.asarray(min_val, np.float64))) and np.all(np.isfinite(np.asarray(max_val, np.float64))):
            raise ValueError(_WIDE_RANGE)
        raise ValueError("the range (min_val, max_val) must be finite: replace inf / NaN or calibrate the range first")
    if symmetric:
        divisor = check_choice("divisor", divisor, DIVISORS)
        if divisor == "no_clipping":
            if qmin >= 0:
                raise ValueError("divisor='no_clipping' needs a signed range (qmin < 0)")
            s = np.maximum(lo / np.float32(qmin), hi / np.float32(qmax))
        else:
            d = np.float32((qmax - qmin) / 2) if divisor == "half_range" else np.float32(qmax)
            s = np.maximum(-lo, hi) / d
        s = round_scale(np.maximum(s, np.float32(eps)), scale_format, scale_rounding)
        zp = np.full(np.shape(s), int((qmin + qmax + 1) / 2), np.int32)
    else:
        with np.errstate(over="ignore"):
            raw = (hi - lo) / np.float32(qmax - qmin)  # float32, as torch / torchao
        if not np.all(np.isfinite(raw)):
            raise ValueError(_WIDE_RANGE)
        s = round_scale(np.maximum(raw, np.float32(eps)), scale_format, scale_rounding)
        r = encode(lo / s, INT32).view(np.int32).astype(np.int64)
        zp = np.clip(qmin - r, qmin, qmax).astype(np.int32)
    return s, zp


def int_dtype(qmin: int, qmax: int) -> np.dtype:
    """The smallest NumPy integer dtype holding [qmin, qmax] (the dtype of stored integer codes)."""
    for dt in (np.int8, np.uint8, np.int16, np.uint16, np.int32):
        info = np.iinfo(dt)
        if info.min <= qmin and qmax <= info.max:
            return np.dtype(dt)
    return np.dtype(np.int64)


def _round_scaled(x, s, reciprocal, **encode_kw) -> np.ndarray:
    """int32 values of round(x * (1/s)) (or round(x / s)), saturated to int32; x / s beyond the float range is
    +-inf, which saturates."""
    with np.errstate(over="ignore", divide="ignore"):
        if reciprocal and x.ndim == 2 and s.shape == (x.shape[0], 1) and np.result_type(x, s) == x.dtype != np.float16:
            # a blocks array with one scale per row: the same products, without a full-size temporary
            return encode_rows(x, s.dtype.type(1) / s, INT32, **encode_kw).view(np.int32)
        v = x * (s.dtype.type(1) / s) if reciprocal else x / s
    return encode(v, INT32, **encode_kw).view(np.int32)


def quantize_affine(x, scale, zero_point=0, *, qmin: int, qmax: int, rounding="nearest_even", seed=None,
                    reciprocal: bool = True, index_offset: int = 0) -> np.ndarray:
    """Integer codes `clamp(round(x * (1/scale)) + zero_point, qmin, qmax)`.

    The rounded value is saturated to int32 before the zero point is added and the
    result clamped, so huge values and ±inf saturate to `qmin` / `qmax`.

    Parameters
    ----------
    x : array_like of float
        Values to quantize, float16 / float32 / float64 (lists and integers become
        float64).
    scale : array_like
        Positive, finite scales (float32 / float64, or integers), broadcastable
        to `x`.
    zero_point : array_like of int, default 0
        Integer zero points in `[qmin, qmax]`, broadcastable to `x`.
    qmin : int
        Smallest code.
    qmax : int
        Largest code; `-2**31 <= qmin < qmax < 2**31`.
    rounding : str, default "nearest_even"
        Any core rounding mode (`"nearest_even"` as torch, torchao, ONNX and
        TensorRT); `"stochastic"` with `seed`.
    seed : int, optional
        Seed of the random bits for stochastic rounding (None: a fresh one).
        Only with a stochastic `rounding`.
    reciprocal : bool, default True
        True: multiply by `1/scale` taken first (torch, torchao); False: divide by
        the scale (ONNX `QuantizeLinear`, GPTQ, AWQ).
    index_offset : int, default 0
        Position of `x`'s first element in the random stream of `seed` (to
        quantize a large array in pieces with the same random bits).

    Returns
    -------
    numpy.ndarray
        Codes in the broadcast shape, in the smallest integer dtype holding
        `[qmin, qmax]` (int8, uint8, int16 ...).

    Raises
    ------
    ValueError
        For NaN in `x` (integers have no NaN), a non-positive or non-finite scale,
        a zero point outside `[qmin, qmax]`, shapes that do not broadcast, or bad
        bounds.
    TypeError
        For a float16 or non-numeric `scale`, a non-integer `zero_point`,
        `qmin` or `qmax`, or an unsupported `x` dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant import quantize_affine
    >>> quantize_affine(np.float32([0.5, 1.5, 2.5, 300.0, -1.0]), np.float32(1.0), qmin=-128, qmax=127).tolist()
    [0, 2, 2, 127, -1]
    >>> quantize_affine(np.float32([0.3]), np.float32(0.1), qmin=-128, qmax=127).tolist()  # 0.3 * 10 = 3.0000002
    [3]
    >>> quantize_affine(np.float32([0.3, -0.3]), np.float32(0.1), 10, qmin=0, qmax=255).tolist()
    [13, 7]
    >>> quantize_affine(np.float32([np.inf, -np.inf]), np.float32(1.0), qmin=-128, qmax=127).tolist()
    [127, -128]
    """
    qmin, qmax = check_bounds(qmin, qmax)
    x = float_input(x)
    s = np.asarray(scale)
    if s.dtype.kind in "iu":
        s = s.astype(np.float32)
    if s.dtype.kind != "f" or s.dtype == np.float16:
        raise TypeError(f"scale must be float32 or float64 (or integers), not {s.dtype.name}")
    if not (np.all(s > 0) and np.all(np.isfinite(s))):
        raise ValueError("scale must be positive and finite")
    zp = np.asarray(zero_point)
    if zp.dtype.kind not in "iu":
        raise TypeError(f"zero_point must be integers, not {zp.dtype.name}")
    if zp.size and (zp.min() < qmin or zp.max() > qmax):
        raise ValueError(f"zero_point must lie in [qmin, qmax] = [{qmin}, {qmax}]")
    for name, arr in (("scale", s), ("zero_point", zp)):
        try:
            np.broadcast_shapes(arr.shape, x.shape)
        except ValueError:
            raise ValueError(f"{name} of shape {arr.shape} does not broadcast to x's shape {x.shape}") from None
    try:
        r = _round_scaled(x, s, reciprocal, rounding=rounding, seed=seed, index_offset=index_offset)
    except ValueError as exc:
        if "NaN" not in str(exc):
            raise
        n = int(np.count_nonzero(np.isnan(x)))
        raise ValueError(f"x contains {n} NaN value(s); integer codes have no NaN: replace them first "
                         "(e.g. np.nan_to_num)") from None
    if zp.any():
        r = r.astype(np.int64) + zp
    return np.clip(r, qmin, qmax, out=r if r.shape == np.broadcast_shapes(r.shape, zp.shape) else None).astype(
        int_dtype(qmin, qmax))


@functools.cache
def _code_values(code_dtype: np.dtype, dtype: np.dtype) -> np.ndarray:
    """The value of every code of an 8- or 16-bit integer dtype, indexed by its unsigned view (built once)."""
    unsigned = np.dtype(f"u{code_dtype.itemsize}")
    table = np.arange(1 << (8 * code_dtype.itemsize), dtype=unsigned).view(code_dtype).astype(dtype)
    table.flags.writeable = False
    return table


def dequantize_affine(q, scale, zero_point=0, *, dtype=np.float32) -> np.ndarray:
    """`(q - zero_point) * scale` in `dtype`.

    The subtraction is exact (in int64); the product is rounded once in `dtype`.

    Parameters
    ----------
    q : array_like of int
        Integer codes.
    scale : array_like
        Scales, broadcastable to `q` (converted to `dtype`).
    zero_point : array_like of int, default 0
        Zero points, broadcastable to `q`.
    dtype : numpy.dtype or str, default numpy.float32
        float16, float32 or float64.

    Returns
    -------
    numpy.ndarray
        Values in `dtype`, the broadcast shape.

    Raises
    ------
    TypeError
        If `q` is not an integer array or `dtype` is not one of the three float
        dtypes.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant import dequantize_affine
    >>> dequantize_affine(np.int8([-3, 0, 127]), np.float32(0.5)).tolist()
    [-1.5, 0.0, 63.5]
    >>> dequantize_affine(np.uint8([0, 128, 255]), np.float32(0.5), 128).tolist()
    [-64.0, 0.0, 63.5]
    """
    q = np.asarray(q)
    if q.dtype.kind not in "iu":
        raise TypeError(f"q must be integer codes, not {q.dtype.name}")
    if np.dtype(dtype) not in (np.float16, np.float32, np.float64):
        raise TypeError(f"dtype must be float16, float32 or float64, not {np.dtype(dtype).name}")
    zp = np.asarray(zero_point, np.int64)
    s = np.asarray(scale, dtype)
    if (not zp.any() and q.ndim == 2 and s.shape == (q.shape[0], 1) and q.dtype.itemsize <= 2
            and np.dtype(dtype) in (np.float32, np.float64)):
        # one scale per row: value table of every code (through the unsigned view) times the row's scale, one pass
        unsigned = np.dtype(f"u{q.dtype.itemsize}")
        return lookup_rows(q.view(unsigned), _code_values(q.dtype, np.dtype(dtype)), s)
    d = q.astype(dtype) if not zp.any() else (q.astype(np.int64) - zp).astype(dtype)
    return np.multiply(d, np.asarray(scale, dtype), out=d if d.shape == np.broadcast_shapes(d.shape, np.shape(scale)) else None)


def _absmax_rows(data: np.ndarray) -> np.ndarray:
    return np.max(np.abs(data), axis=1) if data.shape[1] else np.zeros(data.shape[0], data.dtype)


def _check_finite_rows(data: np.ndarray, argument="x"):
    bad = ~np.isfinite(data)
    if bad.any():
        raise ValueError(
            f"{argument} contains {int(bad.sum())} NaN / inf value(s): a range derived from the data would be "
            "non-finite; replace them, or pass an explicit range (min_val / max_val or amax)"
        )


def _check_flags(obj, *names):
    for name in names:
        _check_bool(name, getattr(obj, name))


def _check_scale_options(obj):
    """The scale-storage fields shared by the affine quantizers, checked once."""
    Rounding.parse(obj.scale_rounding, "scale_rounding")
    sf, _ = _pow2_rule(obj.power_of_two, obj.scale_format, obj.scale_rounding)
    scale_format_of(sf)


def _pow2_rule(power_of_two, scale_format, scale_rounding):
    if power_of_two is None:
        return scale_format, scale_rounding
    rule = check_choice("power_of_two", power_of_two, tuple(_POW2))
    if scale_format is not None:
        raise ValueError("give either power_of_two or scale_format, not both")
    return "float8_e8m0fnu", _POW2[rule]


@dataclasses.dataclass(frozen=True, kw_only=True)
class IntQuantizer(Quantizer):
    """Affine integer quantization: symmetric (absmax) or asymmetric (zero point).

    Per block of the granularity: the range `[min, max]` comes from the data (or
    from `quantize(x, min_val=, max_val=)`), `choose_qparams` gives the scale `s`
    and zero point `zp`, the codes are `clamp(round(x * (1/s)) + zp, qmin, qmax)`
    (`quantize_affine`) and dequantization is `(q - zp) * s`. All arguments are
    keywords.

    Parameters
    ----------
    bits : int, default 8
        Code width, 2 to 16.
    signed : bool, default True
        Signed codes (two's complement, `[-2**(bits-1), 2**(bits-1)-1]`) or
        unsigned (`[0, 2**bits - 1]`).
    symmetric : bool, default True
        Symmetric (zero point fixed at the middle code: 0 signed, 128 for uint8) or
        asymmetric (zero point from the minimum).
    narrow_range : bool, default False
        Drop the most negative code ([-127, 127] for int8: TFLite / TensorRT
        weights). Signed only.
    divisor : {"half_range", "qmax", "no_clipping"}, default "half_range"
        Symmetric scale convention: `"half_range"` (torch observers and torchao:
        amax / 127.5 for full-range int8), `"qmax"` (amax / qmax: TensorRT, TFLite,
        LLM.int8), `"no_clipping"` (max(min / qmin, max / qmax)).
    granularity : str or Granularity, optional
        Which elements share a scale: None or `"tensor"` (default), `"channel[:AXIS]"`,
        `"group:SIZE[:AXIS]"`, `"flat:SIZE"` (see `Granularity`). Stored as a
        `Granularity`.
    rounding : str, default "nearest_even"
        Core rounding mode for `x * (1/s)`; `"stochastic"` uses `seed`.
    reciprocal : bool, default True
        `x * (1/s)` (torch / torchao) or, when False, `x / s` (ONNX, GPTQ / AWQ).
    eps : float, default float32 machine epsilon
        Smallest scale (torch observers: float32 eps; torchao: the input dtype's
        smallest normal).
    scale_format : str or FloatFormat, optional
        Store scales in a low-precision float format (`"float16"`, `"bfloat16"`,
        `"float8_e4m3fn"`, `"float8_e8m0fnu"` ...); None keeps float32.
    scale_rounding : str, default "nearest_even"
        Rounding mode of the scales into `scale_format`.
    power_of_two : {"floor", "ceil"}, optional
        Power-of-two scales: `2**floor(log2 s)` (may clip the largest values) or
        `2**ceil(log2 s)` (never clips), stored as E8M0. Not together with
        `scale_format`.
    seed : int, optional
        Seed for stochastic rounding (None: fresh random bits on each call). With
        a non-stochastic `rounding`, `quantize` raises `ValueError`.

    Attributes
    ----------
    qrange : tuple of (int, int)
        `(qmin, qmax)` of the codes.
    element_bits : int
        `bits`.

    Raises
    ------
    ValueError
        For `bits` outside 2 to 16, an unknown `divisor`, rounding mode or scale
        format, `narrow_range` with unsigned codes, `eps <= 0`, or both
        `power_of_two` and `scale_format`.
    TypeError
        For a flag that is not a bool, or an integer `scale_format`.

    Notes
    -----
    Codes are stored in the smallest NumPy integer dtype holding the range (int8
    up to 8 signed bits, uint8, int16, uint16). `zero_point` is stored only for
    asymmetric schemes (and counts `bits` per block in `bits_per_value`).
    Partial last group: its own scale (the remainder rule of `Granularity`).
    All-zero block: scale = `eps`, codes = the zero point. NaN / inf in `x`:
    `ValueError` (a range from the data would be non-finite) unless an explicit
    range is given to `quantize`, in which case ±inf saturate to qmin / qmax and
    NaN raises.

    Examples
    --------
    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> x = np.float32([-1.0, -0.25, 0.0, 0.5, 2.55])
    >>> q = fq.IntQuantizer(bits=8, symmetric=False, signed=False).quantize(x)
    >>> q.codes.tolist(), float(q.scale), int(q.zero_point)
    ([0, 54, 72, 108, 255], 0.013921568170189857, 72)
    >>> q.dequantize().tolist()
    [-1.0023529529571533, -0.25058823823928833, 0.0, 0.5011764764785767, 2.547646999359131]
    >>> q.bits_per_value                      # 5 codes of 8 bits + a float32 scale + an 8-bit zero point
    16.0
    >>> fq.IntQuantizer(bits=8).quantize(x).codes.tolist()   # symmetric: s = 2.55 / 127.5
    [-50, -12, 0, 25, 127]
    """

    bits: int = 8
    signed: bool = True
    symmetric: bool = True
    narrow_range: bool = False
    divisor: str = "half_range"
    granularity: Granularity | str | None = None
    rounding: str | Rounding = "nearest_even"
    reciprocal: bool = True
    eps: float = TORCH_EPS
    scale_format: str | FloatFormat | None = None
    scale_rounding: str = "nearest_even"
    power_of_two: str | None = None
    seed: int | None = None

    def __post_init__(self):
        if isinstance(self.bits, bool) or not isinstance(self.bits, int | np.integer) or not 2 <= self.bits <= 16:
            raise ValueError(f"bits must be an integer from 2 to 16, not {self.bits!r}")
        _check_flags(self, "signed", "symmetric", "narrow_range", "reciprocal")
        object.__setattr__(self, "granularity", parse_granularity(self.granularity))
        Rounding.parse(self.rounding)
        if self.symmetric:
            check_choice("divisor", self.divisor, DIVISORS)
        int_range(self.bits, self.signed, self.narrow_range)
        _check_eps(self.eps)
        _check_scale_options(self)

    @property
    def element_bits(self) -> int:  # type: ignore[override]
        """Bits of one stored code: `bits`."""
        return self.bits

    @property
    def qrange(self) -> tuple[int, int]:
        """`(qmin, qmax)`: the range of the integer codes."""
        return int_range(self.bits, self.signed, self.narrow_range)

    def qparams(self, min_val, max_val):
        """Scale and zero point for the range `[min_val, max_val]` under this scheme.

        `choose_qparams` with this quantizer's range, symmetry, divisor, `eps` and
        scale storage.

        Parameters
        ----------
        min_val : array_like
            Smallest value of each range.
        max_val : array_like
            Largest value of each range; broadcasts with `min_val`.

        Returns
        -------
        scale : numpy.ndarray
            float32 scales, the broadcast shape.
        zero_point : numpy.ndarray
            int32 zero points (the middle code for symmetric schemes).

        Raises
        ------
        ValueError
            For a non-finite range or one too wide for float32 scales.

        Examples
        --------
        >>> import floatsim.quant as fq
        >>> fq.IntQuantizer(bits=8, signed=False, symmetric=False).qparams(-1.0, 2.55)
        (array(0.01392157, dtype=float32), np.int32(72))
        """
        qmin, qmax = self.qrange
        sf, sr = _pow2_rule(self.power_of_two, self.scale_format, self.scale_rounding)
        return choose_qparams(min_val, max_val, qmin=qmin, qmax=qmax, symmetric=self.symmetric,
                              divisor=self.divisor, eps=self.eps, scale_format=sf, scale_rounding=sr)

    @dask_aware
    def quantize(self, x, *, min_val=None, max_val=None) -> QuantizedTensor:
        """Quantize `x`; the range comes from the data per block, or from `min_val` / `max_val`.

        Parameters
        ----------
        x : array_like
            float16, float32 or float64 values of any shape (lists and integers
            become float64).
        min_val : array_like, optional
            Calibrated minimum of each block (e.g. from a calibrator or observer),
            broadcastable to the granularity's parameter shape. Give both
            `min_val` and `max_val`, or neither.
        max_val : array_like, optional
            Calibrated maximum of each block, same shape rules. Values outside
            the given range are clipped to `qmin` / `qmax`.

        Returns
        -------
        QuantizedTensor
            `codes` (integers in `x`'s shape), `scale` (float32, parameter shape),
            `zero_point` (int32, asymmetric schemes only, else None),
            `scale_format` (None for float32 scales).

        Raises
        ------
        ValueError
            For NaN in `x`; for ±inf when the range comes from the data; when only
            one of `min_val` / `max_val` is given; for an axis out of range.
        TypeError
            For an unsupported input dtype.

        Examples
        --------
        >>> import numpy as np
        >>> import floatsim.quant as fq
        >>> quantizer = fq.IntQuantizer(bits=8)
        >>> x = np.float32([-1.0, -0.25, 0.0, 0.5, 2.55])
        >>> quantizer.quantize(x).codes.tolist()
        [-50, -12, 0, 25, 127]
        >>> quantizer.quantize(x, min_val=-1.0, max_val=1.0).codes.tolist()   # 2.55 clips
        [-127, -32, 0, 64, 127]
        >>> fq.IntQuantizer(bits=4, granularity="channel").quantize(np.float32([[0.1, -0.2], [1.0, 3.0]])).scale
        array([[0.02666667],
               [0.4       ]], dtype=float32)
        """
        x = float_input(x)
        blocks = to_blocks(x, self.granularity)
        if (min_val is None) != (max_val is None):
            raise ValueError("give both min_val and max_val, or neither")
        if min_val is None:
            lo, hi, _, bad = block_stats(blocks.data)
            if bad.any():
                _check_finite_rows(blocks.data)
            scale, zp = self.qparams(blocks.params(lo), blocks.params(hi))
        else:
            scale, zp = self.qparams(np.broadcast_to(min_val, blocks.param_shape),
                                     np.broadcast_to(max_val, blocks.param_shape))
        qmin, qmax = self.qrange
        codes = quantize_affine(blocks.data, blocks.rows(scale), blocks.rows(zp), qmin=qmin, qmax=qmax,
                                rounding=self.rounding, seed=self.seed, reciprocal=self.reciprocal)
        sf, _ = _pow2_rule(self.power_of_two, self.scale_format, self.scale_rounding)
        return QuantizedTensor(codes=blocks.unblock(codes), scale=scale, zero_point=None if self.symmetric else zp,
                               quantizer=self, shape=x.shape, dtype=x.dtype, scale_format=sf,
                               extra={"symmetric_zero_point": int(zp.reshape(-1)[0]) if self.symmetric and zp.size else 0})

    @dask_aware
    def dequantize(self, q: QuantizedTensor, dtype=None) -> np.ndarray:
        """`(codes - zero_point) * scale`: in float32, or in float64 for float64 output (exact there).

        Parameters
        ----------
        q : QuantizedTensor
            Made by this quantizer (or an equal one).
        dtype : numpy.dtype or str, optional
            float16, float32 or float64; None (default) gives the input's dtype.
            float16 output is rounded once from the float32 product.

        Returns
        -------
        numpy.ndarray
            Dequantized values in the input's shape.

        Raises
        ------
        TypeError
            If `q` is not a `QuantizedTensor` or `dtype` is not a float dtype.
        ValueError
            If `q` was made by a different quantizer.

        Examples
        --------
        >>> import numpy as np
        >>> import floatsim.quant as fq
        >>> quantizer = fq.IntQuantizer(bits=8, signed=False, symmetric=False)
        >>> q = quantizer.quantize(np.float32([-1.0, -0.25, 0.0, 0.5, 2.55]))
        >>> quantizer.dequantize(q, np.float64).tolist()           # exact products in float64
        [-1.0023529082536697, -0.25058822706341743, 0.0, 0.5011764541268349, 2.547646975144744]
        """
        self._check_q(q)
        dt = self._out_dtype(q, dtype)
        work = np.float64 if dt == np.float64 else np.float32
        blocks = to_blocks(q.codes, self.granularity)
        zp = q.zero_point if q.zero_point is not None else np.int32(q.extra.get("symmetric_zero_point", 0))
        zp_rows = blocks.rows(np.broadcast_to(zp, np.shape(q.scale))) if np.ndim(zp) else zp
        vals = dequantize_affine(blocks.data, blocks.rows(q.scale).astype(work), zp_rows, dtype=work)
        return as_output(blocks.unblock(vals), dt)


@dataclasses.dataclass(frozen=True, kw_only=True)
class FloatQuantizer(Quantizer):
    """Scaled float-format quantization (per-tensor / per-channel FP8 and any emulated format).

    `s = amax / fmt.max` per block (torchao `_choose_scale_float8`: a divisor),
    codes = `encode(clip(x / s, -max, max), fmt)` with the core rounding mode, and
    dequantization `decode(codes) * s`. The block's largest magnitude thus maps
    to the format's largest value. All arguments are keywords.

    Parameters
    ----------
    format : str or FloatFormat, default "float8_e4m3fn"
        The element format: any signed float format with zero (`"float8_e5m2"`,
        `"float6_e2m3fn"`, `"bfloat16"`, a `FloatFormat` ...). Stored as a
        `FloatFormat`.
    granularity : str or Granularity, optional
        Which elements share a scale (default per tensor; see `Granularity`).
    rounding : str, default "nearest_even"
        Element rounding, any core mode.
    reciprocal : bool, default False
        False: `x / s` as torchao's float8 path; True: `x * (1/s)`.
    scale_format : str or FloatFormat, optional
        Float format the scales are stored in (None: float32), as for `IntQuantizer`.
    scale_rounding : str, default "nearest_even"
        Rounding of the scales into `scale_format`.
    power_of_two : {"floor", "ceil"}, optional
        Power-of-two scales stored as E8M0 (`"ceil"` never clips). Not together
        with `scale_format`.
    amax_floor : float, default 1e-12
        Lower bound on amax (torchao `amax_to_scale`), so all-zero blocks get a
        finite scale and quantize to zeros. Positive.
    seed : int, optional
        Seed for stochastic rounding (None: fresh random bits). Only with a
        stochastic `rounding` (else `quantize` raises `ValueError`).

    Attributes
    ----------
    element_bits : int
        Bits of the element format.

    Raises
    ------
    TypeError
        If `format` is an integer format (use `IntQuantizer`) or `reciprocal` is
        not a bool.
    ValueError
        For an unsigned format or one without zero, an unknown rounding mode,
        `amax_floor <= 0`, or both `power_of_two` and `scale_format`.

    Notes
    -----
    NaN: the scale ignores NaN (amax over the non-NaN values); NaN elements stay NaN
    when the format has NaN, else `ValueError`. ±inf elements saturate to ±max
    (as torch 2.13's saturating e4m3fn cast does) and are excluded from amax.
    Partial last group: its own scale. Codes are the format's bit patterns
    (uint8 for formats of up to 8 bits).

    Examples
    --------
    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> q = fq.FloatQuantizer(format="float8_e4m3fn").quantize(np.float32([0.1, -3.0, 7.0]))
    >>> float(q.scale), q.codes.tolist(), q.dequantize().tolist()
    (0.015625, [77, 244, 126], [0.1015625, -3.0, 7.0])
    >>> fq.FloatQuantizer().fake_quantize(np.float32([1.0, np.nan, np.inf, -2.0])).tolist()  # inf -> block max
    [1.0, nan, 2.0, -2.0]
    """

    format: str | FloatFormat = "float8_e4m3fn"
    granularity: Granularity | str | None = None
    rounding: str | Rounding = "nearest_even"
    reciprocal: bool = False
    scale_format: str | FloatFormat | None = None
    scale_rounding: str = "nearest_even"
    power_of_two: str | None = None
    amax_floor: float = 1e-12
    seed: int | None = None

    def __post_init__(self):
        fmt = get_format(self.format)
        if not isinstance(fmt, FloatFormat):
            raise TypeError(f"format must be a float format (use IntQuantizer for {fmt}), not {fmt}")
        if not (fmt.signed and fmt.has_zero):
            raise ValueError(f"format must be a signed float format with zero (scaled quantization keeps signs and "
                             f"zeros), not {fmt}")
        object.__setattr__(self, "format", fmt)
        _check_flags(self, "reciprocal")
        object.__setattr__(self, "granularity", parse_granularity(self.granularity))
        Rounding.parse(self.rounding)
        _check_eps(self.amax_floor, "amax_floor")
        _check_scale_options(self)

    @property
    def element_bits(self) -> int:  # type: ignore[override]
        """Bits of one stored code: the element format's width."""
        return self.format.bits

    @dask_aware
    def quantize(self, x, *, amax=None) -> QuantizedTensor:
        """Quantize `x`; `amax` (in the granularity's parameter shape) overrides the data's.

        Parameters
        ----------
        x : array_like
            float16, float32 or float64 values of any shape (lists and integers
            become float64).
        amax : array_like, optional
            Calibrated largest magnitude of each block, finite and non-negative,
            broadcastable to the granularity's parameter shape. Values beyond it
            saturate to the format's largest value.

        Returns
        -------
        QuantizedTensor
            `codes` (the element format's bit patterns, in `x`'s shape), `scale`
            (float32, parameter shape), `scale_format` (None for float32 scales).

        Raises
        ------
        ValueError
            For a negative, non-finite or ill-shaped `amax`; a range too wide for
            float32 scales; NaN in `x` when the format has no NaN; an axis out of
            range.
        TypeError
            For an unsupported input dtype.

        Examples
        --------
        >>> import numpy as np
        >>> import floatsim.quant as fq
        >>> quantizer = fq.FloatQuantizer(format="float8_e4m3fn")
        >>> quantizer.quantize(np.float32([0.1, -3.0, 7.0]), amax=3.5).dequantize().tolist()   # 7 saturates
        [0.1015625, -3.0, 3.5]
        """
        x = float_input(x)
        fmt = self.format
        blocks = to_blocks(x, self.granularity)
        data = blocks.data
        if amax is None:
            _, _, amax_rows, bad = block_stats(data)
            if bad.any():  # amax over the finite values only
                a = np.abs(data)
                amax_rows = np.where(np.isfinite(a), a, 0).max(axis=1)
            amax = blocks.params(amax_rows)
        else:
            amax = np.asarray(amax)
            if amax.dtype.kind not in "iuf" or np.any(amax < 0) or not np.all(np.isfinite(amax)):
                raise ValueError("amax must hold finite, non-negative numbers")
            try:
                amax = np.broadcast_to(amax, blocks.param_shape)
            except ValueError:
                raise ValueError(f"amax of shape {amax.shape} does not fit the parameter shape "
                                 f"{blocks.param_shape} of {self.granularity}") from None
        with np.errstate(over="ignore"):
            amax = np.maximum(np.asarray(amax, np.float32), np.float32(self.amax_floor))
        if not np.all(np.isfinite(amax)):
            raise ValueError(_WIDE_RANGE)
        sf, sr = _pow2_rule(self.power_of_two, self.scale_format, self.scale_rounding)
        scale = round_scale(np.broadcast_to(amax, blocks.param_shape) / np.float32(fmt.max), sf, sr)
        s = blocks.rows(scale)
        v = data * (np.float32(1) / s) if self.reciprocal else data / s
        m = v.dtype.type(fmt.max)
        v = np.clip(v, -m, m) if fmt.signed else np.clip(v, 0, m)
        codes = encode(v, fmt, rounding=self.rounding, overflow="saturate", seed=self.seed)
        return QuantizedTensor(codes=blocks.unblock(codes), scale=scale, zero_point=None, quantizer=self,
                               shape=x.shape, dtype=x.dtype, scale_format=sf)

    @dask_aware
    def dequantize(self, q: QuantizedTensor, dtype=None) -> np.ndarray:
        """`decode(codes) * scale`: in float32, or in float64 for float64 output.

        Parameters
        ----------
        q : QuantizedTensor
            Made by this quantizer (or an equal one).
        dtype : numpy.dtype or str, optional
            float16, float32 or float64; None (default) gives the input's dtype.

        Returns
        -------
        numpy.ndarray
            Dequantized values in the input's shape.

        Raises
        ------
        TypeError
            If `q` is not a `QuantizedTensor` or `dtype` is not a float dtype.
        ValueError
            If `q` was made by a different quantizer.

        Examples
        --------
        >>> import numpy as np
        >>> import floatsim.quant as fq
        >>> quantizer = fq.FloatQuantizer(format="float4_e2m1fn")
        >>> quantizer.dequantize(quantizer.quantize(np.float32([1.0, 2.0, 3.0, 6.5]))).tolist()
        [1.0833333730697632, 2.1666667461395264, 3.25, 6.5]
        """
        self._check_q(q)
        dt = self._out_dtype(q, dtype)
        work = np.float64 if dt == np.float64 else np.float32
        blocks = to_blocks(q.codes, self.granularity)
        vals = decode(blocks.data, self.format, dtype=work) * blocks.rows(q.scale).astype(work)
        return as_output(blocks.unblock(vals), dt)
