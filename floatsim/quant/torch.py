"""Optional PyTorch bridge: floatsim fake quantization inside autograd (CPU emulation).

Quantization-aware training in PyTorch needs the fake quantization in the forward pass and a
gradient in the backward pass. The classes here run the forward through floatsim's NumPy
quantizers (via `.detach().cpu().numpy()` and back to the input's dtype and device) and return
the straight-through (STE) or LSQ gradients of `floatsim.quant.qat`, so a model can train with
any integer or scaled-float floatsim format (INT4, FP8, FP4 ...).

| name | what it is |
|---|---|
| `FakeQuantizeFunction` | a `torch.autograd.Function`: forward through a `floatsim.quant.FakeQuantizer`, backward with its STE mask |
| `FakeQuantize` | an `nn.Module` wrapping any supported floatsim quantizer |
| `LearnableFakeQuantize` | an `nn.Module` for LSQ, with a learnable per-tensor scale and zero point (gradients from `floatsim.quant.lsq_grads`) |

Needs PyTorch (`pip install torch==2.13.0`, or the `oracle` extra); `import floatsim.quant`
never imports it. Without torch this module still imports, and using any of its names raises
an `ImportError` that says how to install it (the classes, and so their examples, exist only
when torch is installed). bfloat16 tensors are computed in float32 and the result rounded back
to bfloat16.
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
        """Autograd function: fake-quantize a tensor with a `FakeQuantizer`, straight-through backward.

        Call it as `FakeQuantizeFunction.apply(x, fake_quantizer, kwargs=None)`. The forward runs
        `fake_quantizer.forward` on a NumPy copy of `x` (`kwargs` go to its `quantize`, e.g. a
        calibrated `min_val` / `max_val`) and returns the result in `x`'s dtype and device; the
        backward passes the gradient where the element was not clipped and 0 elsewhere (the
        straight-through estimator). `FakeQuantize` wraps it in a module.

        Examples
        --------
        >>> import torch
        >>> from floatsim.quant import FakeQuantizer, IntQuantizer
        >>> from floatsim.quant.torch import FakeQuantizeFunction
        >>> fq = FakeQuantizer(quantizer=IntQuantizer(bits=8))
        >>> x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
        >>> y = FakeQuantizeFunction.apply(x, fq, {"min_val": -1.0, "max_val": 1.0})   # a calibrated range
        >>> y.sum().backward()
        >>> x.grad.tolist()
        [1.0, 1.0, 0.0]
        """

        @staticmethod
        def forward(ctx, x, fake_quantizer, kwargs=None):
            """Fake-quantize `x` and save the STE mask for the backward (called by `apply`).

            Parameters
            ----------
            ctx : torch.autograd.function.FunctionCtx
                The autograd context.
            x : torch.Tensor
                The input, any shape, dtype and device (bfloat16 is computed in float32).
            fake_quantizer : FakeQuantizer
                The scheme.
            kwargs : dict, optional
                Keyword arguments for the quantizer's `quantize` (e.g. `min_val`, `max_val`, `amax`).

            Returns
            -------
            torch.Tensor
                The fake-quantized values, `x`'s shape, dtype and device.
            """
            y, mask = fake_quantizer.forward(_to_numpy(x), **(kwargs or {}))
            ctx.save_for_backward(torch.from_numpy(np.ascontiguousarray(mask)).to(x.device))
            return _back(y, x)

        @staticmethod
        def backward(ctx, grad):
            """Straight-through gradient: `grad` where the element was not clipped, 0 elsewhere.

            Parameters
            ----------
            ctx : torch.autograd.function.FunctionCtx
                The autograd context holding the mask.
            grad : torch.Tensor
                The incoming gradient.

            Returns
            -------
            tuple
                `(grad * mask, None, None)`: the gradient with respect to `x`, and none for
                `fake_quantizer` and `kwargs`.
            """
            (mask,) = ctx.saved_tensors
            return grad * mask.to(grad.dtype), None, None

    class FakeQuantize(torch.nn.Module):
        """Fake-quantization module for QAT with any supported floatsim quantizer.

        Drop it into a model where a tensor (weights or activations) should be quantized: the forward
        returns the fake-quantized tensor, and the backward the straight-through gradient of
        `FakeQuantizeFunction`.

        Parameters
        ----------
        quantizer : Quantizer or FakeQuantizer
            E.g. `IntQuantizer(bits=8)` or `FloatQuantizer(format="float4_e2m1fn",
            granularity="group:32")`; wrapped in a `floatsim.quant.FakeQuantizer` (see it for the STE
            mask and the quantizers it accepts).

        Attributes
        ----------
        fake_quantizer : FakeQuantizer
            The wrapped scheme.
        enabled : bool
            When False the module is the identity (default True).

        Raises
        ------
        TypeError
            A quantizer `FakeQuantizer` does not accept (e.g. a codebook).

        Examples
        --------
        >>> import torch
        >>> from floatsim.quant import FloatQuantizer
        >>> from floatsim.quant.torch import FakeQuantize
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
            """Fake-quantize `x` (the identity when `enabled` is False).

            Parameters
            ----------
            x : torch.Tensor
                Any shape, dtype and device.
            **kwargs
                Passed to the quantizer's `quantize`, e.g. a calibrated `min_val` / `max_val`
                (`IntQuantizer`) or `amax` (`FloatQuantizer`).

            Returns
            -------
            torch.Tensor
                The fake-quantized values in `x`'s shape, dtype and device, with the straight-through
                gradient; `x` itself when disabled.

            Examples
            --------
            >>> import torch
            >>> from floatsim.quant import IntQuantizer
            >>> from floatsim.quant.torch import FakeQuantize
            >>> m = FakeQuantize(IntQuantizer(bits=4))
            >>> x = torch.tensor([0.3, -1.0, 2.0], requires_grad=True)
            >>> y = m(x, min_val=-1.0, max_val=1.0)
            >>> [round(v, 4) for v in y.tolist()]
            [0.2667, -0.9333, 0.9333]
            >>> y.sum().backward()
            >>> x.grad.tolist()                        # 2.0 was clipped
            [1.0, 1.0, 0.0]
            """
            if not self.enabled:
                return x
            return FakeQuantizeFunction.apply(x, self.fake_quantizer, kwargs or None)

        def extra_repr(self) -> str:
            """The module's description in `repr`: the wrapped quantizer and `enabled`.

            Returns
            -------
            str
            """
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

        Learned step-size quantization (LSQ) trains the scale with the model. The forward and the
        gradients follow `torch._fake_quantize_learnable_per_tensor_affine` (see
        `floatsim.quant.lsq_grads`): the forward rounds the float zero point half to even and clamps
        it to [qmin, qmax].

        Parameters
        ----------
        qmin : int
            Smallest integer code (e.g. -128).
        qmax : int
            Largest integer code (e.g. 127); must exceed `qmin`.
        scale : float, default 1.0
            Initial scale, positive and finite.
        zero_point : float, default 0.0
            Initial zero point.
        grad_factor : float or None, default None
            LSQ gradient scale; None uses `1 / sqrt(numel * qmax)` of each input, as in the LSQ paper.
        learn_zero_point : bool, default False
            Whether the zero point is a trainable parameter (False: a buffer).

        Attributes
        ----------
        scale : torch.nn.Parameter
            float32, shape (1,).
        zero_point : torch.Tensor
            float32, shape (1,): a parameter or a buffer (`learn_zero_point`).

        Raises
        ------
        ValueError
            `qmin >= qmax`; a scale that is not positive and finite.

        Examples
        --------
        >>> import torch
        >>> from floatsim.quant.torch import LearnableFakeQuantize
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
            """Fake-quantize `x` with the current scale and zero point (LSQ gradients in the backward).

            Parameters
            ----------
            x : torch.Tensor
                Any shape; computed in float32.

            Returns
            -------
            torch.Tensor
                `(clamp(round(x / scale) + zp, qmin, qmax) - zp) * scale` in `x`'s shape, dtype and
                device; its backward gives `x`, `scale` (and `zero_point`) their LSQ gradients.

            Examples
            --------
            >>> import torch
            >>> from floatsim.quant.torch import LearnableFakeQuantize
            >>> m = LearnableFakeQuantize(-128, 127, scale=0.1, learn_zero_point=True)
            >>> y = m(torch.tensor([0.26, 13.0, -20.0]))
            >>> [round(v, 4) for v in y.tolist()]          # 13.0 and -20.0 clamp to 127 and -128 steps
            [0.3, 12.7, -12.8]
            >>> y.sum().backward()
            >>> round(float(m.scale.grad), 4), round(float(m.zero_point.grad), 4)
            (-0.0307, -0.0102)
            """
            gf = self.grad_factor
            if gf is None:
                gf = 1.0 / float(np.sqrt(max(1, x.numel()) * max(1, self.qmax)))
            return _LSQFunction.apply(x, self.scale, self.zero_point, self.qmin, self.qmax, float(gf))
