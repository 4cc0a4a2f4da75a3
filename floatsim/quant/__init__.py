"""Quantizers built on the core verbs: what happens to a tensor stored in format X with scheme Y.

`floatsim.quant` emulates the quantization schemes of deep-learning libraries
(integer, scaled FP8, MX, NVFP4, bitsandbytes codebooks); the tests check them
bit for bit against torch, torchao, bitsandbytes and gfloat, and the deliberate
differences are listed in `docs/differences.md`. Every rounding to an element
format or to integers is a core `floatsim.encode` / `floatsim.cast`, so all core
rounding modes (stochastic included) and overflow policies are available.

Every quantizer is a frozen dataclass holding a scheme (element format,
granularity, scale rule, rounding) with three verbs: `quantize(x)` returns a
`QuantizedTensor` (element codes, scales, zero points: what would be stored),
`dequantize` maps it back, and `fake_quantize(x)` (or `quantizer(x)`) does both.
Inputs are float16, float32 or float64 arrays of any shape. The guide is
`docs/quantization.md`.

Map of the layer (the main names are importable from `floatsim.quant` itself):

| module or names | contents |
|---|---|
| `floatsim.quant.base` | `QuantizedTensor` (the stored form) and `Quantizer` (the base class) |
| `Granularity`, `per_tensor`, `per_channel`, `per_group`, `flat` | which elements share a scale, and the partial-block rule |
| `floatsim.quant.affine` | `IntQuantizer` (INT2 to INT16), `FloatQuantizer` (scaled FP8 and other float formats), `choose_qparams`, `quantize_affine`, `dequantize_affine` |
| `floatsim.quant.blocks` | `BlockFloatQuantizer` (block floating point), `mx` (OCP MX formats), `NVFP4Quantizer` |
| `floatsim.quant.codebooks` | `CodebookQuantizer`, `nf4`, `bnb_fp4`, `dynamic8`, the `NF4` table, `kmeans_codebook`, `lloyd_max` |
| `floatsim.quant.calibration` | range selection against outliers (percentile, MSE, entropy, ACIQ) |
| `floatsim.quant.observers` | NumPy ports of torch.ao's observers |
| `floatsim.quant.intmm` | `int_matmul` (exact integer matmul) and `requantize` (int32 accumulators back to int8) |
| `floatsim.quant.qat` | `fake_quantize_affine`, its straight-through gradient, `lsq_grads`, `FakeQuantizer` |
| `floatsim.quant.optim` | `Adam8bit` (blockwise 8-bit states) and the float32 `Adam` reference |
| `floatsim.quant.metrics` | `sqnr`, `mse`, `max_abs`, `cosine`, `relative_l2`, `error_metrics`, `report`, `report_text` |
| `floatsim.quant.schemes` | `get_quantizer`: quantizers by name (`"int4:g128"`, `"mxfp4"`, `"nf4:dq"`) |
| `floatsim.quant.torch` | PyTorch modules (`FakeQuantize`, `LearnableFakeQuantize`); imported only on request, needs torch |

Examples
--------
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
