"""floatsim.quant: quantizers built on the core verbs (guide: docs/quantization.md).

Every quantizer is a frozen dataclass; ``quantize(x)`` returns a
:class:`QuantizedTensor` (element codes, scales, zero points: what would be
stored), ``dequantize`` maps it back and ``fake_quantize(x)`` does both.

>>> import numpy as np
>>> import floatsim.quant as fq
>>> x = np.random.default_rng(0).standard_normal((8, 64)).astype(np.float32)
>>> q = fq.mx("mxfp4").quantize(x)
>>> q.codes.dtype, q.scale.shape, q.bits_per_value
(dtype('uint8'), (8, 2), 4.25)
>>> round(fq.sqnr(x, q.dequantize()), 1)
18.0
>>> round(fq.sqnr(x, fq.get_quantizer("int4:g32").fake_quantize(x)), 1)
19.5

Modules: :mod:`~floatsim.quant.affine` (integer and scaled-float quantizers,
qparams), :mod:`~floatsim.quant.blocks` (MX, NVFP4, block floating point),
:mod:`~floatsim.quant.codebooks` (NF4, dynamic 8-bit, k-means, Lloyd-Max),
:mod:`~floatsim.quant.calibration` and :mod:`~floatsim.quant.observers`,
:mod:`~floatsim.quant.intmm` (integer matmul, requantization),
:mod:`~floatsim.quant.qat` (fake quantization and its gradients),
:mod:`~floatsim.quant.optim` (8-bit Adam), :mod:`~floatsim.quant.metrics`,
:mod:`~floatsim.quant.schemes` (quantizers by name). The PyTorch bridge,
``floatsim.quant.torch``, is imported only on request (it needs torch).
"""

from . import affine, blocks, calibration, codebooks, intmm, metrics, observers, optim, qat, schemes
from ._layout import Granularity, flat, per_channel, per_group, per_tensor
from .affine import FloatQuantizer, IntQuantizer, choose_qparams, dequantize_affine, quantize_affine
from .base import QuantizedTensor, Quantizer
from .blocks import BlockFloatQuantizer, NVFP4Quantizer, mx
from .codebooks import NF4, CodebookQuantizer, bnb_fp4, dynamic8, kmeans_codebook, lloyd_max, nf4
from .intmm import int_matmul, requantize
from .metrics import cosine, error_metrics, max_abs, mse, relative_l2, report, report_text, sqnr
from .optim import Adam, Adam8bit
from .qat import FakeQuantizer, fake_quantize_affine, fake_quantize_affine_grad, lsq_grads
from .schemes import get_quantizer

__all__ = [
    "Granularity", "per_tensor", "per_channel", "per_group", "flat",
    "QuantizedTensor", "Quantizer", "IntQuantizer", "FloatQuantizer", "BlockFloatQuantizer", "NVFP4Quantizer",
    "CodebookQuantizer", "FakeQuantizer", "mx", "nf4", "bnb_fp4", "dynamic8", "NF4", "kmeans_codebook", "lloyd_max",
    "choose_qparams", "quantize_affine", "dequantize_affine", "int_matmul", "requantize",
    "fake_quantize_affine", "fake_quantize_affine_grad", "lsq_grads", "Adam", "Adam8bit",
    "sqnr", "mse", "max_abs", "cosine", "relative_l2", "error_metrics", "report", "report_text", "get_quantizer",
    "affine", "blocks", "calibration", "codebooks", "intmm", "metrics", "observers", "optim", "qat", "schemes",
]
