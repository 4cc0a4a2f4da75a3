"""Optional PyTorch bridge: floatsim fake quantization inside autograd (CPU emulation).

Needs PyTorch (``pip install torch==2.13.0``); ``import floatsim.quant`` never
imports it. Without torch this module still imports, and using any of its names
raises an ``ImportError`` that says how to install it.

* :class:`FakeQuantizeFunction` — ``torch.autograd.Function``: forward through a
  :class:`~floatsim.quant.qat.FakeQuantizer` (NumPy, via ``.detach().cpu().numpy()``
  and back to the input's dtype and device), backward with its STE mask.
* :class:`FakeQuantize` — ``nn.Module`` wrapping any supported floatsim quantizer.
* :class:`LearnableFakeQuantize` — LSQ with a learnable per-tensor scale and zero
  point (gradients from :func:`~floatsim.quant.qat.lsq_grads`).

bfloat16 tensors are computed in float32 and the result rounded back to bfloat16.
"""

from __future__ import annotations

import numpy as np

from .qat import FakeQuantizer, fake_quantize_affine, lsq_grads

__all__ = ["FakeQuantizeFunction", "FakeQuantize", "LearnableFakeQuantize"]

_MISSING = ("floatsim.quant.torch needs PyTorch, which is not installed: "
            "pip install torch==2.13.0 (or the 'oracle' extra)")

try:
    import torch
except ImportError:  # pragma: no cover - exercised only without torch
    torch = None


def __getattr__(name):  # pragma: no cover - only reached without torch
    if name in __all__:
        raise ImportError(_MISSING)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _to_numpy(t):
    a = t.detach().cpu()
    if a.dtype == torch.bfloat16:
        a = a.float()
    return a.numpy()


def _back(a: np.ndarray, like):
    return torch.from_numpy(np.ascontiguousarray(a)).to(dtype=like.dtype, device=like.device)


if torch is not None:

    class FakeQuantizeFunction(torch.autograd.Function):
        """Autograd function: ``apply(x, fake_quantizer, kwargs=None)`` fake-quantizes ``x`` with a
        :class:`~floatsim.quant.qat.FakeQuantizer` (``kwargs`` go to its ``quantize``, e.g. a
        calibrated ``min_val`` / ``max_val``); the backward passes the gradient where the
        element was not clipped (straight-through estimator).

        Examples
        --------
        >>> import torch
        >>> from floatsim.quant.affine import IntQuantizer
        >>> fq = FakeQuantizer(quantizer=IntQuantizer(bits=8))
        >>> x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
        >>> y = FakeQuantizeFunction.apply(x, fq, {"min_val": -1.0, "max_val": 1.0})   # a calibrated range
        >>> y.sum().backward()
        >>> x.grad.tolist()
        [1.0, 1.0, 0.0]
        """

        @staticmethod
        def forward(ctx, x, fake_quantizer, kwargs=None):
            y, mask = fake_quantizer.forward(_to_numpy(x), **(kwargs or {}))
            ctx.save_for_backward(torch.from_numpy(np.ascontiguousarray(mask)).to(x.device))
            return _back(y, x)

        @staticmethod
        def backward(ctx, grad):
            (mask,) = ctx.saved_tensors
            return grad * mask.to(grad.dtype), None, None

    class FakeQuantize(torch.nn.Module):
        """Fake-quantization module for QAT with any supported floatsim quantizer.

        Parameters
        ----------
        quantizer : Quantizer or FakeQuantizer
            E.g. ``IntQuantizer(bits=8)`` or ``FloatQuantizer(format="float4_e2m1fn",
            granularity="group:32")``; wrapped in a :class:`FakeQuantizer` (see it for the
            STE mask).

        Attributes
        ----------
        enabled : bool
            When False the module is the identity.

        Examples
        --------
        >>> import torch
        >>> from floatsim.quant.affine import FloatQuantizer
        >>> m = FakeQuantize(FloatQuantizer(format="float4_e2m1fn"))
        >>> m(torch.tensor([0.7, 6.0, -2.5])).tolist()
        [0.5, 6.0, -2.0]
        """

        def __init__(self, quantizer):
            super().__init__()
            self.fake_quantizer = quantizer if isinstance(quantizer, FakeQuantizer) else FakeQuantizer(
                quantizer=quantizer)
            self.enabled = True

        def forward(self, x, **kwargs):
            if not self.enabled:
                return x
            return FakeQuantizeFunction.apply(x, self.fake_quantizer, kwargs or None)

        def extra_repr(self) -> str:
            return f"quantizer={self.fake_quantizer.quantizer!r}, enabled={self.enabled}"

    def _zero_point_forward(zp: float, qmin: int, qmax: int) -> int:
        # torch's forward: clamp(nearbyint(zp)) (half to even)
        return int(np.clip(fake_quantize_affine(np.float32([zp]), 1.0, 0, -(1 << 31), (1 << 31) - 1)[0],
                           qmin, qmax))

    class _LSQFunction(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale, zero_point, qmin, qmax, grad_factor):
            xs = _to_numpy(x).astype(np.float32, copy=False)
            s = float(scale.detach().reshape(-1)[0])
            zp = float(zero_point.detach().reshape(-1)[0])
            y = fake_quantize_affine(xs, s, _zero_point_forward(zp, qmin, qmax), qmin, qmax)
            ctx.save_for_backward(x, scale, zero_point)
            ctx.args = (s, zp, qmin, qmax, grad_factor)
            return _back(y, x)

        @staticmethod
        def backward(ctx, grad):
            x, scale, zero_point = ctx.saved_tensors
            s, zp, qmin, qmax, gf = ctx.args
            dx, ds, dz = lsq_grads(_to_numpy(x), s, zp, qmin, qmax, _to_numpy(grad), grad_factor=gf)
            return (_back(dx, x), torch.tensor([ds], dtype=scale.dtype, device=scale.device).reshape(scale.shape),
                    torch.tensor([dz], dtype=zero_point.dtype, device=zero_point.device).reshape(zero_point.shape),
                    None, None, None)

    class LearnableFakeQuantize(torch.nn.Module):
        """LSQ fake quantization with a learnable per-tensor scale and zero point.

        Forward and gradients follow ``torch._fake_quantize_learnable_per_tensor_affine``
        (see :func:`~floatsim.quant.qat.lsq_grads`): the forward rounds the float zero
        point half to even and clamps it to [qmin, qmax].

        Parameters
        ----------
        qmin, qmax : int
            Integer range (e.g. ``int_range(8)``).
        scale : float
            Initial scale.
        zero_point : float
            Initial zero point.
        grad_factor : float or None
            LSQ gradient scale; ``None`` (default) uses ``1 / sqrt(numel * qmax)`` of each
            input, as in the LSQ paper.
        learn_zero_point : bool
            Whether the zero point is a trainable parameter (default False: a buffer).

        Examples
        --------
        >>> import torch
        >>> m = LearnableFakeQuantize(-8, 7, scale=0.5)
        >>> x = torch.tensor([0.26, 1.0, 5.0, -5.0], requires_grad=True)
        >>> m(x).tolist()
        [0.5, 1.0, 3.5, -4.0]
        >>> m(x).sum().backward()
        >>> x.grad.tolist(), round(float(m.scale.grad), 4)
        ([1.0, 1.0, 0.0, 0.0], -0.0983)
        """

        def __init__(self, qmin: int, qmax: int, *, scale: float = 1.0, zero_point: float = 0.0,
                     grad_factor: float | None = None, learn_zero_point: bool = False):
            super().__init__()
            if not qmin < qmax:
                raise ValueError(f"need qmin < qmax, got qmin={qmin}, qmax={qmax}")
            if not (np.isfinite(scale) and scale > 0):
                raise ValueError(f"scale must be positive and finite, not {scale!r}")
            self.qmin, self.qmax, self.grad_factor = int(qmin), int(qmax), grad_factor
            self.scale = torch.nn.Parameter(torch.tensor([float(scale)], dtype=torch.float32))
            zp = torch.tensor([float(zero_point)], dtype=torch.float32)
            if learn_zero_point:
                self.zero_point = torch.nn.Parameter(zp)
            else:
                self.register_buffer("zero_point", zp)

        def forward(self, x):
            gf = self.grad_factor
            if gf is None:
                gf = 1.0 / float(np.sqrt(max(1, x.numel()) * max(1, self.qmax)))
            return _LSQFunction.apply(x, self.scale, self.zero_point, self.qmin, self.qmax, float(gf))
