"""Fake quantization for quantization-aware training: forward, STE and LSQ gradients (NumPy).

Quantization-aware training (QAT) runs the forward pass through *fake quantization*
(quantize, then dequantize at once, so the model sees the rounding error) and needs a gradient
for a step that is flat almost everywhere. The usual choice is the straight-through estimator
(STE): pass the incoming gradient where the value was not clipped, 0 where it was. This module
reproduces torch's fake-quantize functions and their gradients, bit for bit:

- `fake_quantize_affine`: `(clamp(round(x * (1/s)) + zp, qmin, qmax) - zp) * s`, the forward
  of `torch.fake_quantize_per_tensor_affine` / `torch.fake_quantize_per_channel_affine`
  (`axis`).
- `fake_quantize_affine_grad`: the STE: the incoming gradient where the **rounded** code
  `round(x * (1/s)) + zp` lies in [qmin, qmax], else 0 (so `x / s = 127.5` rounds to 128 and
  gets 0, while `-128.5` rounds to -128 and keeps its gradient), as torch.
- `lsq_grads`: the gradients of learned step-size quantization (LSQ, Esser et al. 2020) with
  the arithmetic of `torch._fake_quantize_learnable_per_tensor_affine`.
- `FakeQuantizer`: any integer or scaled-float floatsim quantizer as a QAT node: the
  fake-quantized forward plus an STE mask ("the element was not clipped").

Scales are float32 and `1/s` is taken in float32 first, as torch does; float16 input is
computed in float32 and the result rounded back to float16. For training inside a PyTorch
model, `floatsim.quant.torch` wraps these in autograd functions and modules.

Examples
--------
>>> import numpy as np
>>> import floatsim.quant as fq
>>> x = np.float32([0.26, 1.0, 12.76, 13.0])
>>> fq.fake_quantize_affine(x, 0.1, 0, -128, 127).tolist()
[0.30000001192092896, 1.0, 12.699999809265137, 12.699999809265137]
>>> fq.fake_quantize_affine_grad(x, 0.1, 0, -128, 127, np.ones(4, np.float32)).tolist()   # 127.6 rounds to 128
[1.0, 1.0, 0.0, 0.0]
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..core import encode
from ._layout import to_blocks
from .affine import INT32, IntQuantizer, check_bounds, dequantize_affine, quantize_affine
from .base import QuantizedTensor, Quantizer, as_output, check_choice, float_input

__all__ = ["fake_quantize_affine", "fake_quantize_affine_grad", "lsq_grads", "FakeQuantizer"]

_WIDE = {"qmin": INT32.min, "qmax": INT32.max}


def _params(x: np.ndarray, scale, zero_point, qmin: int, qmax: int, axis):
    """float32 scale and int64 zero point, shaped to broadcast against `x` (per channel along `axis`)."""
    s = np.asarray(scale, dtype=np.float32)
    zp = np.asarray(zero_point)
    if zp.dtype.kind == "f":
        if not np.all(zp == np.round(zp)):
            raise ValueError("zero_point must hold integer values (round a learned float zero point first)")
    elif zp.dtype.kind not in "iu":
        raise TypeError(f"zero_point must be integers, not {zp.dtype.name}")
    zp = zp.astype(np.int64)
    if not (np.all(np.isfinite(s)) and np.all(s > 0)):
        raise ValueError("scale must be positive and finite")
    if np.any(zp < qmin) or np.any(zp > qmax):
        raise ValueError(f"zero_point must be between qmin={qmin} and qmax={qmax}")
    if axis is None:
        if s.ndim or zp.ndim:
            if s.size != 1 or zp.size != 1:
                raise ValueError("per-tensor fake quantization takes a scalar scale and zero_point; "
                                 "pass axis= for per-channel parameters")
            s, zp = s.reshape(()), zp.reshape(())
        return s, zp
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"axis must be an integer or None, not {axis!r}")
    if x.ndim == 0 or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis {axis} is out of range for an array with {x.ndim} dimension(s)")
    ax = int(axis) % x.ndim
    n = x.shape[ax]
    shape = [1] * x.ndim
    shape[ax] = n
    if s.shape != (n,) or zp.shape != (n,):
        raise ValueError(f"per-channel scale and zero_point must have shape ({n},) (x.shape[{axis}]), "
                         f"got {s.shape} and {zp.shape}")
    return s.reshape(shape), zp.reshape(shape)


def _work(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float32) if x.dtype == np.float16 else x


def fake_quantize_affine(x, scale, zero_point, qmin: int, qmax: int, *, axis=None, rounding="nearest_even",
                         seed=None) -> np.ndarray:
    """`(clamp(round(x * (1/scale)) + zero_point, qmin, qmax) - zero_point) * scale` in `x`'s dtype.

    The forward of `torch.fake_quantize_per_tensor_affine` (a scalar `scale` and `zero_point`)
    and, with `axis`, of `torch.fake_quantize_per_channel_affine`, bit for bit: `1/scale` in
    float32, the rounding a core cast to integers, the product `(q - zp) * scale` in float32.

    Parameters
    ----------
    x : array_like of float
        float16 / float32 / float64, any shape (lists and integers become float64).
    scale : float or array_like of float
        Per tensor (a scalar) or, with `axis`, one per index along `axis` (shape
        `(x.shape[axis],)`). Positive and finite; taken as float32.
    zero_point : int or array_like of int
        Same shape as `scale`; integer values within [qmin, qmax] (a float array of whole
        numbers is accepted).
    qmin : int
        Smallest code (e.g. -128).
    qmax : int
        Largest code (e.g. 127).
    axis : int, optional
        Channel axis (`torch.fake_quantize_per_channel_affine`'s `axis`); None: per tensor.
    rounding : str or Rounding, default "nearest_even"
        Core rounding mode of `x * (1/scale)` (`"nearest_even"` is torch's `nearbyint`);
        `"stochastic"` with `seed`.
    seed : int, optional
        Seed of stochastic rounding (only with a stochastic `rounding`).

    Returns
    -------
    numpy.ndarray
        `x`'s shape and dtype (float16 input is computed in float32, then rounded; float64 input
        gets the float32 product, widened).

    Raises
    ------
    ValueError
        NaN in `x` (integers have no NaN; torch propagates it); a scale that is not positive and
        finite; a zero point outside [qmin, qmax] or not a whole number; `qmin >= qmax`;
        parameters of the wrong shape for `axis`; `axis` out of range; `seed` with a
        non-stochastic `rounding`.
    TypeError
        Non-integer zero points; an `axis` that is not an integer.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.qat import fake_quantize_affine
    >>> x = np.float32([0.05, 0.15, 12.75, 12.85, -12.9])
    >>> fake_quantize_affine(x, 0.1, 0, -128, 127).tolist()     # ties to even; 128.5 and -129 clamp
    [0.0, 0.20000000298023224, 12.699999809265137, 12.699999809265137, -12.800000190734863]
    >>> fake_quantize_affine(np.float32([[1.0, 2.0], [1.0, 2.0]]), [0.5, 1.5], [0, 1], 0, 3, axis=0).tolist()
    [[1.0, 1.5], [1.5, 1.5]]
    """
    x = float_input(x)
    qmin, qmax = check_bounds(qmin, qmax)
    s, zp = _params(x, scale, zero_point, qmin, qmax, axis)
    q = quantize_affine(_work(x), s, zp, qmin=qmin, qmax=qmax, rounding=rounding, seed=seed)
    # torch forms (q - zp) * scale in float32 for every input dtype (float64 input: the code is rounded in
    # float64, the output product in float32, then widened)
    return as_output(dequantize_affine(q, s, zp, dtype=np.float32), x.dtype)


def _rounded(x: np.ndarray, s, rounding="nearest_even", seed=None) -> np.ndarray:
    """`round(x * (1/s))` without clamping, int64: values that round beyond int32 become +-2**40, outside
    every integer range the masks compare with (quantize_affine itself saturates at int32)."""
    xw = _work(x)
    r = quantize_affine(xw, s, 0, rounding=rounding, seed=seed, **_WIDE).astype(np.int64)
    edge = np.flatnonzero((r == INT32.max) | (r == INT32.min))  # saturated, or exactly at an int32 end
    if edge.size:
        sa = np.broadcast_to(np.asarray(s), r.shape).reshape(-1)[edge]
        with np.errstate(over="ignore"):
            v = np.broadcast_to(xw, r.shape).reshape(-1)[edge] * (sa.dtype.type(1) / sa)
        flat = r.reshape(-1)
        flat[edge[v >= 2.0**31 - 0.5]] = 1 << 40  # rounds to 2**31 or more (-2**31 - 0.5 ties to the even -2**31)
        flat[edge[v < -(2.0**31) - 0.5]] = -(1 << 40)
    return r


def _grad_input(grad, shape, argument="grad") -> np.ndarray:
    g = float_input(grad, argument)
    if g.shape != shape:
        raise ValueError(f"{argument} must have x's shape {shape}, not {g.shape}")
    return g


def fake_quantize_affine_grad(x, scale, zero_point, qmin: int, qmax: int, grad, *, axis=None) -> np.ndarray:
    """Straight-through-estimator gradient of `fake_quantize_affine` with respect to `x`.

    `grad` where `qmin <= round(x * (1/scale)) + zero_point <= qmax` (round half to even, the
    value *before* clamping), else 0: torch's `fake_quantize_*` backward. Masked entries are the
    product `grad * 0`, so a negative gradient gives -0.0, as in torch.

    Parameters
    ----------
    x : array_like of float
        The forward input, any shape.
    scale : float or array_like of float
        As for `fake_quantize_affine`.
    zero_point : int or array_like of int
        As for `fake_quantize_affine`.
    qmin : int
        Smallest code.
    qmax : int
        Largest code.
    grad : array_like of float
        The incoming gradient, `x`'s shape.
    axis : int, optional
        Channel axis of per-channel parameters; None: per tensor.

    Returns
    -------
    numpy.ndarray
        `grad`'s dtype, `x`'s shape.

    Raises
    ------
    ValueError
        `grad` of another shape than `x`; the parameter errors of `fake_quantize_affine`.
    TypeError
        Non-float `grad`; non-integer zero points.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.qat import fake_quantize_affine_grad
    >>> x = np.float32([127.4, 127.5, 128.0, -128.5, -128.6])   # 127.5 rounds to 128, -128.5 to -128
    >>> fake_quantize_affine_grad(x, 1.0, 0, -128, 127, np.ones(5, np.float32)).tolist()
    [1.0, 0.0, 0.0, 1.0, 0.0]
    """
    x = float_input(x)
    qmin, qmax = check_bounds(qmin, qmax)
    g = _grad_input(grad, x.shape)
    s, zp = _params(x, scale, zero_point, qmin, qmax, axis)
    r = _rounded(x, s) + zp
    return g * ((r >= qmin) & (r <= qmax)).astype(g.dtype)  # a product, as torch: -g * 0 = -0.0


def _lsq_zero_point(zero_point, qmin: int, qmax: int, rule: str) -> int:
    z = np.float32(zero_point)
    if not np.isfinite(z):
        raise ValueError(f"zero_point must be finite, not {zero_point!r}")
    if rule == "torch":  # trunc(clamp(zp + 0.5)), the C++ backward's conversion
        return int(np.clip(z + np.float32(0.5), np.float32(qmin), np.float32(qmax)))
    r = int(encode(z, INT32, rounding="nearest_even", overflow="saturate").view(np.int32))
    return min(max(r, qmin), qmax)


def lsq_grads(x, scale, zero_point, qmin: int, qmax: int, grad, *, grad_factor: float = 1.0,
              zero_point_rounding: str | None = None, axis: int | None = None):
    """Gradients of LSQ fake quantization, as `torch._fake_quantize_learnable_per_tensor_affine`.

    With `axis`, as `torch._fake_quantize_learnable_per_channel_affine`. Learned step-size
    quantization (LSQ) trains the scale (and zero point) with the model. With
    `xq = round(x * (1/s) + zp)` (RNE of `fma(x, 1/s, zp)` rounded to float32: torch's backward
    adds the integer zero point *before* rounding and without rounding the product, unlike its
    forward, so ties such as `x * (1/s) = 121.5` with an odd zero point round the other way),
    `r = xq - zp` and `g` the incoming gradient:

    | element | d scale | d zero_point |
    |---|---|---|
    | `qmin <= xq <= qmax` | `g * ((r*s - x) * (1/s)) * grad_factor` | 0 |
    | `xq < qmin` | `g * (qmin - zp) * grad_factor` | `-g * s * grad_factor` |
    | `xq > qmax` | `g * (qmax - zp) * grad_factor` | `-g * s * grad_factor` |

    `dx = g` in range, 0 outside. The in-range term is `round(x/s) - x/s` of the LSQ paper,
    computed the way torch's CPU kernel does (found by experiment, bit for bit): `r*s - x` rounded
    once to float32 (the compiler fuses it into one FMA; here it is exact in float64 for
    `abs(r) < 2**29`), then float32 products, `grad_factor` rounded to float32. The per-element
    terms are summed in float64 and rounded to float32; torch sums in float32 in its own order, so
    the totals agree to within a few float32 ulps, not bit for bit.

    Parameters
    ----------
    x : array_like of float
        The forward input; computed in float32 (torch's learnable kernels are float32).
    scale : float, or 1-D array_like with `axis`
        The learned scale (per tensor, or one per index along `axis`), positive and finite;
        taken as float32.
    zero_point : float, or 1-D array_like with `axis`
        The learned zero point (a float parameter in LSQ).
    qmin : int
        Smallest code.
    qmax : int
        Largest code.
    grad : array_like of float
        The incoming gradient, `x`'s shape.
    grad_factor : float, default 1.0
        LSQ's gradient scale (typically `1 / sqrt(numel * qmax)`).
    zero_point_rounding : {"torch", "nearest_even"}, optional
        How the float zero point becomes an integer for the backward. `"torch"` (the per-tensor
        default): `trunc(clamp(zp + 0.5, qmin, qmax))` as torch's per-tensor backward does; note
        that this is `zp + 1` for negative integer zero points (-8 becomes -7), unlike torch's
        forward, which rounds half to even. `"nearest_even"`: the forward's rule, and what torch's
        per-channel backward does (the default with `axis`).
    axis : int, optional
        Per-channel LSQ: one scale and zero point per index along `axis`; `dscale` and
        `dzero_point` are then arrays (per channel, each summed as above).

    Returns
    -------
    dx : numpy.ndarray
        float32, `x`'s shape.
    dscale : numpy.float32 or numpy.ndarray
        The scale gradient: a float32 scalar, or float32 of shape `(x.shape[axis],)` with `axis`.
    dzero_point : numpy.float32 or numpy.ndarray
        The zero-point gradient, shaped like `dscale`.

    Raises
    ------
    ValueError
        A scale that is not positive and finite; parameters of the wrong size or shape; a
        non-finite zero point or `grad_factor`; an unknown `zero_point_rounding`; `axis` out of
        range; `grad` of another shape than `x`; `qmin >= qmax`.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.qat import lsq_grads
    >>> x = np.float32([0.26, 1.0, 5.0, -5.0])
    >>> dx, ds, dz = lsq_grads(x, 0.5, 0.0, -4, 3, np.ones(4, np.float32))
    >>> dx.tolist(), float(ds), float(dz)      # 5.0 and -5.0 are clipped
    ([1.0, 1.0, 0.0, 0.0], -0.5199999809265137, -1.0)
    """
    x = float_input(x).astype(np.float32, copy=False)
    qmin, qmax = check_bounds(qmin, qmax)
    g = _grad_input(grad, x.shape).astype(np.float32, copy=False)
    rule = check_choice("zero_point_rounding", zero_point_rounding or ("torch" if axis is None else "nearest_even"),
                        ("torch", "nearest_even"))
    if not isinstance(grad_factor, float | int | np.floating) or not np.isfinite(grad_factor):
        raise ValueError(f"grad_factor must be a finite number, not {grad_factor!r}")
    s = np.asarray(scale, np.float32)
    zps = np.asarray(zero_point, np.float64)
    if axis is None:
        if s.size != 1 or not (np.isfinite(s).all() and (s > 0).all()):
            raise ValueError(f"scale must be one positive finite number, not {scale!r}")
        if zps.size != 1:
            raise ValueError(f"zero_point must be one number (per-tensor LSQ; per channel: pass axis), "
                             f"not shape {np.shape(zero_point)}")
        return _lsq_one(x, s.reshape(()), zps.reshape(-1)[0], qmin, qmax, g, np.float32(grad_factor), rule)
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer) or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis must be an integer in [-{x.ndim}, {x.ndim}), not {axis!r}")
    channels = x.shape[axis]
    if s.shape != (channels,) or zps.shape != (channels,):
        raise ValueError(f"scale and zero_point must be 1-D of length x.shape[axis] = {channels}, "
                         f"not {s.shape} and {zps.shape}")
    if not (np.isfinite(s).all() and (s > 0).all()):
        raise ValueError("scale must be positive and finite")
    xm, gm = np.moveaxis(x, axis, 0), np.moveaxis(g, axis, 0)
    dx = np.empty_like(xm)
    ds = np.empty(channels, np.float32)
    dz = np.empty(channels, np.float32)
    for c in range(channels):
        dx[c], ds[c], dz[c] = _lsq_one(xm[c], s[c], zps[c], qmin, qmax, gm[c], np.float32(grad_factor), rule)
    return np.moveaxis(dx, 0, axis), ds, dz


def _lsq_one(x, s, zero_point, qmin, qmax, g, gf, rule):
    """Per-tensor LSQ gradients (see `lsq_grads`); `s` a float32 scalar."""
    f32 = np.float32
    zp = _lsq_zero_point(zero_point, qmin, qmax, rule)
    inv = f32(1) / s
    # torch's backward adds the zero point before rounding, fused: xq = RNE(fma(x, inv, zp)); the
    # product and sum are exact in float64 whenever they can matter (|x * inv| >= 2**-20, |zp| < 2**24)
    v = (x.astype(np.float64) * np.float64(inv) + np.float64(zp)).astype(np.float32)
    xq = _rounded(v, f32(1))
    r = xq - zp
    below, above = xq < qmin, xq > qmax
    inside = ~(below | above)
    # r * s is exact in float64 (|r| < 2**29), and so is r*s - x: one rounding to float32, as an FMA
    t = (r.astype(np.float64) * np.float64(s) - x.astype(np.float64)).astype(np.float32)
    ds_in = ((g * t) * inv) * gf
    ds_out = (g * np.where(below, f32(qmin - zp), f32(qmax - zp))) * gf
    ds = np.where(inside, ds_in, ds_out)
    dz = np.where(inside, f32(0), ((-g) * s) * gf)
    dx = g * inside.astype(np.float32)
    return dx, f32(np.sum(ds, dtype=np.float64)), f32(np.sum(dz, dtype=np.float64))


def _clip_bound(fmt) -> float:
    """`max + ulp(max) / 2`: scaled values at or beyond it are changed by the clamp (nearest rounding)."""
    if hasattr(fmt, "mantissa_bits") and hasattr(fmt, "emax"):
        return float(fmt.max) + 2.0 ** (fmt.emax - fmt.mantissa_bits - 1)
    return float(fmt.max) + 0.5


@dataclasses.dataclass(frozen=True, kw_only=True)
class FakeQuantizer(Quantizer):
    """A floatsim quantizer as a QAT node: fake-quantized forward, straight-through backward.

    `quantize` / `dequantize` / `fake_quantize` delegate to `quantizer`; `forward` also returns
    the STE mask, and `backward` applies it.

    STE mask ("the element was not clipped"):

    - `floatsim.quant.IntQuantizer`: the unclamped code `round(x * (1/s)) + zp` (the quantizer's
      own rounding, seed and division order, per block) lies in its [qmin, qmax]: torch's rule.
    - any other quantizer with a `format` (its element format) and a `granularity`, whose
      `QuantizedTensor` carries per-block scales (e.g. `floatsim.quant.FloatQuantizer` for FP8 /
      FP4): `abs(x) < B * scale` for the element's block, with `B = max + ulp(max) / 2`
      (`ulp(max) = 2**(emax - mantissa_bits)`; integer formats: `max + 1/2`), the magnitude from
      which nearest rounding would leave the format's top value, i.e. where the clamp starts to
      change the result. This is the float analogue of torch's integer rule (`round(v) <= qmax`
      iff `v < qmax + 1/2`). The bound is deliberately not the largest representable magnitude
      `max * scale` itself: the block maximum, whose scale `amax / max` was rounded to float32,
      often lands a hair above `max * scale` and would lose its gradient in about half of all
      blocks.

    Other quantizers (codebooks ...) are rejected with a `TypeError`. NaN and inf follow the
    wrapped quantizer (`IntQuantizer` rejects them when deriving its range); an infinite element
    is clipped, so its gradient is 0. Partial last blocks and all-zero blocks behave as in the
    wrapped quantizer (all-zero blocks: every element is in range).

    Parameters
    ----------
    quantizer : Quantizer
        The scheme to train with: an `IntQuantizer`, or a quantizer with a `format` and a
        `granularity` (such as `FloatQuantizer`). Not a `FakeQuantizer`.

    Attributes
    ----------
    element_bits : int
        The wrapped quantizer's `element_bits`.

    Raises
    ------
    TypeError
        `quantizer` is not a floatsim `Quantizer`, is already a `FakeQuantizer`, or has no
        clipping bound (codebooks).

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant import FakeQuantizer, FloatQuantizer, IntQuantizer
    >>> fq = FakeQuantizer(quantizer=IntQuantizer(bits=4))
    >>> y, mask = fq.forward(np.float32([-1.0, 0.2, 0.5, 1.0]), min_val=-0.5, max_val=0.5)
    >>> mask.tolist()
    [False, True, True, False]
    >>> fq.backward(np.ones(4, np.float32), mask).tolist()
    [0.0, 1.0, 1.0, 0.0]
    >>> fp4 = FakeQuantizer(quantizer=FloatQuantizer(format="float4_e2m1fn", granularity="group:2"))
    >>> fp4.forward(np.float32([0.7, 6.0, -1.2, 0.5]))[1].tolist()
    [True, True, True, True]
    >>> y, mask = fp4.forward(np.float32([0.7, 6.0, -1.2, 0.5]), amax=np.float32([3.0, 1.0]))
    >>> y.tolist(), mask.tolist()    # block scales 0.5 and 1/6: 6.0 and -1.2 are clipped
    ([0.75, 3.0, -1.0, 0.5], [True, False, False, True])
    """

    quantizer: Quantizer

    def __post_init__(self):
        q = self.quantizer
        if not isinstance(q, Quantizer):
            raise TypeError(f"quantizer must be a floatsim Quantizer, not {type(q).__name__}")
        if isinstance(q, FakeQuantizer):
            raise TypeError("quantizer is already a FakeQuantizer; pass the quantizer it wraps")
        if not isinstance(q, IntQuantizer):
            fmt = getattr(q, "format", None)
            if fmt is None or not hasattr(fmt, "max") or getattr(q, "granularity", None) is None:
                raise TypeError(
                    f"FakeQuantizer needs an IntQuantizer or a scaled-format quantizer (with .format and "
                    f".granularity); {type(q).__name__} has no clipping bound it can use for the STE mask")

    @property
    def element_bits(self) -> int:  # type: ignore[override]
        """Bits of one stored element code: the wrapped quantizer's `element_bits`."""
        return self.quantizer.element_bits

    def quantize(self, x, **kwargs) -> QuantizedTensor:
        """The wrapped quantizer's `quantize` (keyword arguments passed on).

        Parameters
        ----------
        x : array_like
            float16, float32 or float64 values of any shape.
        **kwargs
            Passed to the wrapped quantizer's `quantize`, e.g. a calibrated `min_val` / `max_val`
            (`IntQuantizer`) or `amax` (`FloatQuantizer`).

        Returns
        -------
        QuantizedTensor
            What the wrapped quantizer returns.

        Examples
        --------
        >>> import numpy as np
        >>> from floatsim.quant import FakeQuantizer, IntQuantizer
        >>> FakeQuantizer(quantizer=IntQuantizer(bits=4)).quantize(np.float32([0.7, -0.35])).codes.tolist()
        [7, -4]
        """
        return self.quantizer.quantize(x, **kwargs)

    def dequantize(self, q: QuantizedTensor, dtype=None) -> np.ndarray:
        """The wrapped quantizer's `dequantize`.

        Parameters
        ----------
        q : QuantizedTensor
            Made by this quantizer (or the wrapped one).
        dtype : numpy.dtype or str, optional
            float16, float32 or float64; None (default) gives the input's dtype.

        Returns
        -------
        numpy.ndarray
            The values `q` stands for.

        Examples
        --------
        >>> import numpy as np
        >>> from floatsim.quant import FakeQuantizer, IntQuantizer
        >>> fq = FakeQuantizer(quantizer=IntQuantizer(bits=4))
        >>> fq.dequantize(fq.quantize(np.float32([0.7, -0.35]))).tolist()
        [0.653333306312561, -0.3733333349227905]
        """
        return self.quantizer.dequantize(q, dtype=dtype)

    def forward(self, x, **kwargs):
        """The forward pass: `(fake_quantize(x), mask)`.

        Parameters
        ----------
        x : array_like
            float16, float32 or float64 values of any shape.
        **kwargs
            Passed to the wrapped quantizer's `quantize`, e.g. a calibrated `min_val` / `max_val`
            (`IntQuantizer`) or `amax` (`FloatQuantizer`).

        Returns
        -------
        values : numpy.ndarray
            The dequantized values, `x`'s shape and dtype.
        mask : numpy.ndarray of bool
            The STE mask, `x`'s shape: True where the element was not clipped.

        Raises
        ------
        ValueError, TypeError
            What the wrapped quantizer raises for `x` and `kwargs`.

        Examples
        --------
        >>> import numpy as np
        >>> from floatsim.quant import FakeQuantizer, IntQuantizer
        >>> fq = FakeQuantizer(quantizer=IntQuantizer(bits=8))
        >>> y, mask = fq.forward(np.float32([0.5, 3.0]), min_val=-1.0, max_val=1.0)   # a calibrated range
        >>> y.tolist(), mask.tolist()
        ([0.501960813999176, 0.9960784912109375], [True, False])
        """
        x = float_input(x)
        q = self.quantize(x, **kwargs)
        return q.dequantize(), self._mask(x, q)

    def grad_mask(self, x, **kwargs) -> np.ndarray:
        """The STE mask alone: `forward(x, **kwargs)[1]`.

        Parameters
        ----------
        x : array_like
            float16, float32 or float64 values of any shape.
        **kwargs
            Passed to the wrapped quantizer's `quantize`.

        Returns
        -------
        numpy.ndarray of bool
            `x`'s shape: True where the element was not clipped.

        Examples
        --------
        >>> import numpy as np
        >>> from floatsim.quant import FakeQuantizer, IntQuantizer
        >>> fq = FakeQuantizer(quantizer=IntQuantizer(bits=4))
        >>> fq.grad_mask(np.float32([1.0, 2.0]), min_val=-1.0, max_val=1.0).tolist()
        [True, False]
        """
        return self.forward(x, **kwargs)[1]

    def backward(self, grad, mask) -> np.ndarray:
        """The backward pass: `grad * mask`.

        Parameters
        ----------
        grad : array_like of float
            The incoming gradient.
        mask : numpy.ndarray of bool
            The STE mask from `forward`, `grad`'s shape.

        Returns
        -------
        numpy.ndarray
            `grad`'s dtype and shape; -0.0 where a negative gradient is masked, as in torch.

        Raises
        ------
        ValueError
            `mask` is not a boolean array of `grad`'s shape.

        Examples
        --------
        >>> import numpy as np
        >>> from floatsim.quant import FakeQuantizer, IntQuantizer
        >>> FakeQuantizer(quantizer=IntQuantizer(bits=4)).backward(np.float32([-1.0, 2.0]), np.array([False, True]))
        array([-0.,  2.], dtype=float32)
        """
        g = float_input(grad, "grad")
        m = np.asarray(mask)
        if m.dtype != np.bool_ or m.shape != g.shape:
            raise ValueError(f"mask must be a boolean array of grad's shape {g.shape}, not {m.dtype} {m.shape}")
        return g * m.astype(g.dtype)

    def _mask(self, x: np.ndarray, q: QuantizedTensor) -> np.ndarray:
        qz = self.quantizer
        blocks = to_blocks(x, qz.granularity)
        scale_rows = blocks.rows(q.scale)
        if isinstance(qz, IntQuantizer):
            qmin, qmax = qz.qrange
            zp = q.zero_point if q.zero_point is not None else np.int32(q.extra.get("symmetric_zero_point", 0))
            zp_rows = blocks.rows(np.broadcast_to(zp, np.shape(q.scale)))
            r = quantize_affine(blocks.data, scale_rows, 0, rounding=qz.rounding, seed=qz.seed,
                                reciprocal=qz.reciprocal, **_WIDE).astype(np.int64) + zp_rows
            inside = (r >= qmin) & (r <= qmax)
        else:
            inside = np.abs(blocks.data.astype(np.float64)) < _clip_bound(qz.format) * scale_rows.astype(np.float64)
        return blocks.unblock(inside)
