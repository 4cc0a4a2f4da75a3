"""Fake quantization for quantization-aware training: forward, STE and LSQ gradients (NumPy).

* :func:`fake_quantize_affine` — ``(clamp(round(x * (1/s)) + zp, qmin, qmax) - zp) * s``,
  the forward of ``torch.fake_quantize_per_tensor_affine`` /
  ``torch.fake_quantize_per_channel_affine`` (``axis``).
* :func:`fake_quantize_affine_grad` — the straight-through estimator: the incoming
  gradient where the **rounded** code ``round(x * (1/s)) + zp`` lies in
  [qmin, qmax], else 0 (so ``x / s = 127.5`` rounds to 128 and gets 0, while
  ``-128.5`` rounds to -128 and keeps its gradient), as torch.
* :func:`lsq_grads` — gradients of learned step-size quantization (LSQ, Esser et
  al. 2020) with the arithmetic of ``torch._fake_quantize_learnable_per_tensor_affine``.
* :class:`FakeQuantizer` — any floatsim quantizer as a QAT node: fake-quantized
  forward plus an STE mask ("the element was not clipped").

Scales are float32 and ``1/s`` is taken in float32 first, as torch does; float16
input is computed in float32 and the result rounded back to float16.
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
    """float32 scale and int64 zero point, shaped to broadcast against ``x`` (per channel along ``axis``)."""
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
    """``(clamp(round(x * (1/scale)) + zero_point, qmin, qmax) - zero_point) * scale`` in ``x``'s dtype.

    Parameters
    ----------
    x : array_like of float
        float16 / float32 / float64, any shape.
    scale : float or array_like
        Per tensor (a scalar) or, with ``axis``, one per index along ``axis`` (shape
        ``(x.shape[axis],)``). Taken as float32; ``1/scale`` is computed in float32.
    zero_point : int or array_like of int
        Same shape as ``scale``; within [qmin, qmax].
    qmin, qmax : int
    axis : int, optional
        Channel axis (``torch.fake_quantize_per_channel_affine``'s ``axis``).
    rounding, seed :
        Core rounding mode (default ``"nearest_even"``, torch's ``nearbyint``);
        ``"stochastic"`` with ``seed``.

    Returns
    -------
    ndarray of ``x``'s dtype (float16 input is computed in float32, then rounded)

    Raises
    ------
    ValueError
        NaN in ``x`` (integers have no NaN; torch propagates it), bad parameters.

    Examples
    --------
    >>> x = np.float32([0.05, 0.15, 12.75, 12.85, -12.9])
    >>> fake_quantize_affine(x, 0.1, 0, -128, 127).tolist()
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
    """``round(x * (1/s))`` without clamping, int64: values that round beyond int32 become +-2**40, outside
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
    """Straight-through-estimator gradient of :func:`fake_quantize_affine` with respect to ``x``.

    ``grad`` where ``qmin <= round(x * (1/scale)) + zero_point <= qmax`` (round half
    to even, the value *before* clamping), else 0 — torch's ``fake_quantize_*``
    backward.

    Parameters
    ----------
    x, scale, zero_point, qmin, qmax, axis :
        As for :func:`fake_quantize_affine`.
    grad : array_like of float
        The incoming gradient, ``x``'s shape.

    Returns
    -------
    ndarray of ``grad``'s dtype

    Examples
    --------
    >>> x = np.float32([127.4, 127.5, 128.0, -128.5, -128.6])
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
    """Gradients of LSQ fake quantization, as ``torch._fake_quantize_learnable_per_tensor_affine``
    (or, with ``axis``, ``_fake_quantize_learnable_per_channel_affine``).

    With ``xq = round(x * (1/s) + zp)`` (RNE of ``fma(x, 1/s, zp)`` rounded to float32:
    torch's backward adds the integer zero point *before* rounding and without rounding
    the product, unlike its forward, so ties such as ``x * (1/s) = 121.5`` with an odd
    zero point round the other way), ``r = xq - zp`` and ``g`` the incoming gradient:

    ======================  ===============================================  ================
    element                 d scale                                          d zero_point
    ======================  ===============================================  ================
    ``qmin <= xq <= qmax``  ``g * ((r*s - x) * (1/s)) * grad_factor``         0
    ``xq < qmin``           ``g * (qmin - zp) * grad_factor``                ``-g*s*grad_factor``
    ``xq > qmax``           ``g * (qmax - zp) * grad_factor``                ``-g*s*grad_factor``
    ======================  ===============================================  ================

    ``dx = g`` in range, 0 outside. The in-range term is ``round(x/s) - x/s`` of the LSQ
    paper, computed the way torch's CPU kernel does (found by experiment, bit for bit):
    ``r*s - x`` rounded once to float32 (the compiler fuses it into one FMA; here it is
    exact in float64 for ``|r| < 2**29``), then float32 products, ``grad_factor``
    rounded to float32. The per-element terms are summed in float64 and rounded to
    float32; torch sums in float32 in its own order, so the totals agree to within a
    few float32 ulps, not bit for bit.

    Parameters
    ----------
    x : array_like of float
        Computed in float32 (torch's learnable kernels are float32).
    scale : float, or 1-D array with ``axis``
        The learned scale (per tensor, or one per index along ``axis``), taken as float32.
    zero_point : float, or 1-D array with ``axis``
        The learned zero point (a float parameter in LSQ).
    qmin, qmax : int
    grad : array_like of float
        The incoming gradient, ``x``'s shape.
    grad_factor : float
        LSQ's gradient scale (typically ``1 / sqrt(numel * qmax)``).
    zero_point_rounding : {"torch", "nearest_even"}, optional
        How the float zero point becomes an integer for the backward. ``"torch"``
        (the per-tensor default): ``trunc(clamp(zp + 0.5, qmin, qmax))`` as torch's
        per-tensor backward does — note this is ``zp + 1`` for negative integer zero
        points (-8 becomes -7), unlike torch's forward, which rounds half to even.
        ``"nearest_even"``: the forward's rule, and what torch's per-channel backward
        does (the default with ``axis``).
    axis : int, optional
        Per-channel LSQ: one scale and zero point per index along ``axis``; ``dscale``
        and ``dzero_point`` are then arrays (per channel, each summed as above).

    Returns
    -------
    (dx, dscale, dzero_point) : ndarray (x's shape, float32), float32 scalars (arrays with ``axis``)

    Examples
    --------
    >>> x = np.float32([0.26, 1.0, 5.0, -5.0])
    >>> dx, ds, dz = lsq_grads(x, 0.5, 0.0, -4, 3, np.ones(4, np.float32))
    >>> dx.tolist(), float(ds), float(dz)
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
    """Per-tensor LSQ gradients (see :func:`lsq_grads`); ``s`` a float32 scalar."""
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
    """``max + ulp(max) / 2``: scaled values at or beyond it are changed by the clamp (nearest rounding)."""
    if hasattr(fmt, "mantissa_bits") and hasattr(fmt, "emax"):
        return float(fmt.max) + 2.0 ** (fmt.emax - fmt.mantissa_bits - 1)
    return float(fmt.max) + 0.5


@dataclasses.dataclass(frozen=True, kw_only=True)
class FakeQuantizer(Quantizer):
    """A floatsim quantizer as a QAT node: fake-quantized forward, straight-through backward.

    ``quantize`` / ``dequantize`` / ``fake_quantize`` delegate to ``quantizer``;
    :meth:`forward` also returns the STE mask, and :meth:`backward` applies it.

    STE mask ("the element was not clipped"):

    * :class:`~floatsim.quant.affine.IntQuantizer`: the unclamped code
      ``round(x * (1/s)) + zp`` (the quantizer's own rounding, seed and division
      order, per block) lies in its [qmin, qmax] — torch's rule.
    * any other quantizer with a ``format`` (its element format) and a ``granularity``,
      whose :class:`QuantizedTensor` carries per-block scales (e.g.
      :class:`~floatsim.quant.affine.FloatQuantizer` for FP8 / FP4): ``|x| < B * scale``
      for the element's block, with ``B = max + ulp(max) / 2`` (``ulp(max) =
      2**(emax - mantissa_bits)``; integer formats: ``max + 1/2``) — the magnitude from
      which nearest rounding would leave the format's top value, i.e. where the clamp
      starts to change the result. This is the float analogue of torch's integer rule
      (``round(v) <= qmax`` iff ``v < qmax + 1/2``). The bound is deliberately not the
      largest representable magnitude ``max * scale`` itself: the block maximum, whose
      scale ``amax / max`` was rounded to float32, often lands a hair above
      ``max * scale`` and would lose its gradient in about half of all blocks.

    Other quantizers (codebooks ...) are rejected with a ``TypeError``. NaN and inf
    follow the wrapped quantizer (IntQuantizer rejects them when deriving its range);
    an infinite element is clipped, so its gradient is 0. Partial last blocks and
    all-zero blocks behave as in the wrapped quantizer (all-zero blocks: every
    element is in range).

    Parameters
    ----------
    quantizer : Quantizer
        The scheme to train with.

    Examples
    --------
    >>> from floatsim.quant.affine import IntQuantizer, FloatQuantizer
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
        return self.quantizer.element_bits

    def quantize(self, x, **kwargs) -> QuantizedTensor:
        """The wrapped quantizer's ``quantize`` (keyword arguments passed on)."""
        return self.quantizer.quantize(x, **kwargs)

    def dequantize(self, q: QuantizedTensor, dtype=None) -> np.ndarray:
        return self.quantizer.dequantize(q, dtype=dtype)

    def forward(self, x, **kwargs):
        """``(fake_quantize(x), mask)``: the dequantized values in ``x``'s dtype and the boolean
        STE mask (True where the element was not clipped)."""
        x = float_input(x)
        q = self.quantize(x, **kwargs)
        return q.dequantize(), self._mask(x, q)

    def grad_mask(self, x, **kwargs) -> np.ndarray:
        """The boolean STE mask for ``x`` (True where not clipped)."""
        return self.forward(x, **kwargs)[1]

    def backward(self, grad, mask) -> np.ndarray:
        """``grad * mask`` (``grad``'s dtype; -0.0 where a negative gradient is masked, as torch)."""
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
