"""What every quantizer returns and shares: :class:`QuantizedTensor` and :class:`Quantizer`.

A quantizer is a frozen dataclass (its scheme: format, granularity, scale rule,
rounding); ``quantize(x)`` returns a :class:`QuantizedTensor` holding exactly
what would be written to memory (element codes, scales, zero points, and any
second-level statistics), ``dequantize(q)`` maps it back, and
``fake_quantize(x)`` (also ``quantizer(x)``) does both, returning ``x``'s dtype.

Input rules shared by all quantizers (:func:`float_input`): float16, float32 or
float64 arrays of any shape; lists, scalars and integer arrays become float64;
anything else (bool, complex, strings, objects, other float widths) is a
``TypeError`` that names the argument.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from ..core import cast, decode, encode
from ..formats import get_format
from ._kernels import multiply_rows

__all__ = ["QuantizedTensor", "Quantizer", "float_input", "check_choice", "encode_rows", "as_output"]

#: elements per pass of :func:`encode_rows` (a 1 MiB float32 scratch buffer: stays in cache)
ROWS_CHUNK = 1 << 18

_FLOATS = (np.float16, np.float32, np.float64)


def float_input(x, argument: str = "x") -> np.ndarray:
    """``x`` as a float16 / float32 / float64 ndarray (lists, scalars and integers become float64)."""
    if isinstance(x, np.ndarray):
        arr = x
    else:
        if hasattr(x, "__array__") and not isinstance(x, list | tuple | int | float):
            arr = np.asarray(x)
        else:
            arr = np.asarray(x)
            if arr.dtype.kind in "iub" or arr.dtype == object:
                arr = arr.astype(np.float64) if arr.dtype.kind in "iu" else arr
    if arr.dtype.kind in "iu":
        arr = arr.astype(np.float64)
    if arr.dtype not in _FLOATS:
        raise TypeError(f"{argument} must be a float16, float32 or float64 array, not {arr.dtype.name}")
    return arr


def check_choice(argument: str, value, allowed) -> str:
    """``value`` if it is one of ``allowed`` (strings), else a ValueError naming the argument."""
    if not isinstance(value, str) or value.lower() not in allowed:
        raise ValueError(f"{argument} must be one of {', '.join(map(repr, allowed))}, not {value!r}")
    return value.lower()


@dataclasses.dataclass(frozen=True, eq=False)
class QuantizedTensor:
    """The stored form of a quantized tensor.

    Attributes
    ----------
    codes : ndarray
        Element codes in the input's shape: integers (int8 / uint8 / int16 ...) for
        integer schemes, the element format's bit patterns (uint8 ...) for float
        formats, codebook indices for codebooks. Unpacked: one element per entry.
    scale : ndarray or None
        The scale of each block (float32 unless the scheme says otherwise), shaped
        by the granularity (see :mod:`floatsim.quant._layout`). Dequantization
        multiplies by it. Values are exact in ``scale_format``.
    zero_point : ndarray or None
        Integer zero points (same shape as ``scale``) for asymmetric schemes.
    quantizer : Quantizer
        The scheme that produced it; ``dequantize`` delegates to it.
    shape, dtype :
        Shape and float dtype of the original input (the default output dtype).
    scale_format : str or FloatFormat, optional
        The format scales are stored in (``None``: float32).
    extra : dict
        Further stored statistics (e.g. NVFP4's per-tensor scale, double-quantized
        absmax codes), documented by each quantizer.
    """

    codes: np.ndarray
    scale: np.ndarray | None
    zero_point: np.ndarray | None
    quantizer: Any
    shape: tuple
    dtype: np.dtype
    scale_format: Any = None
    extra: dict = dataclasses.field(default_factory=dict)

    def dequantize(self, dtype=None) -> np.ndarray:
        """The dequantized values (``dtype``, default the input's dtype)."""
        return self.quantizer.dequantize(self, dtype=dtype)

    @property
    def scale_codes(self) -> np.ndarray | None:
        """The scales as stored: codes of ``scale_format`` (the float32 values when it is None)."""
        if self.scale is None or self.scale_format is None:
            return self.scale
        return encode(self.scale, self.scale_format)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> float:
        """Bytes this tensor takes when stored densely (codes packed, scales in their format)."""
        return self.bits_per_value * self.size / 8

    @property
    def bits_per_value(self) -> float:
        """Storage bits per element including scales, zero points and second-level terms."""
        return self.quantizer.storage_bits(self) / max(1, self.size)


def _format_bits(fmt) -> int:
    return 32 if fmt is None else get_format(fmt).bits


class Quantizer:
    """Base of all quantizers. Subclasses are frozen dataclasses implementing
    :meth:`quantize` and :meth:`dequantize`; the rest is shared."""

    #: bits of one stored element code (subclasses set it from their format)
    element_bits: int = 8

    def quantize(self, x) -> QuantizedTensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def dequantize(self, q: QuantizedTensor, dtype=None) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def fake_quantize(self, x) -> np.ndarray:
        """``dequantize(quantize(x))`` in ``x``'s dtype."""
        q = self.quantize(x)
        return q.dequantize()

    def __call__(self, x) -> np.ndarray:
        return self.fake_quantize(x)

    def storage_bits(self, q: QuantizedTensor) -> int:
        """Total stored bits of ``q``: elements, scales, zero points and ``extra`` statistics."""
        total = q.size * self.element_bits
        if q.scale is not None:
            total += np.size(q.scale) * _format_bits(q.scale_format)
        if q.zero_point is not None:
            total += np.size(q.zero_point) * self.element_bits
        return total + int(q.extra.get("extra_bits", 0))

    def _check_q(self, q) -> None:
        """``q`` must be a QuantizedTensor made by this quantizer (or an equal one)."""
        if not isinstance(q, QuantizedTensor):
            raise TypeError(f"q must be a QuantizedTensor, not {type(q).__name__}")
        if q.quantizer is self:
            return
        try:
            same = type(q.quantizer) is type(self) and bool(q.quantizer == self)
        except (ValueError, TypeError):  # fields that compare elementwise (arrays)
            same = False
        if not same:
            raise ValueError(f"q was made by {q.quantizer!r}, not by this quantizer {self!r}")

    def _out_dtype(self, q: QuantizedTensor, dtype) -> np.dtype:
        dt = np.dtype(q.dtype if dtype is None else dtype)
        if dt not in _FLOATS:
            raise TypeError(f"dtype must be float16, float32 or float64, not {dt.name}")
        return dt


def decode_scale(codes, fmt) -> np.ndarray:
    """Scale values from stored codes (float64, exact)."""
    return decode(codes, fmt, dtype=np.float64)


def encode_rows(data: np.ndarray, factors: np.ndarray, fmt, *, post_factor=None, clip=None, zero_rows=None,
                **encode_kw) -> np.ndarray:
    """Codes of ``data * factors[:, None]`` for a 2-D blocks array: the core :func:`~floatsim.encode` of the
    scaled rows, bit for bit, without a full-size temporary.

    The product is formed in ``data``'s dtype chunk by chunk in a small cache-resident
    buffer (a full-size product costs a second pass over memory and, for fresh
    memory, page faults). ``post_factor`` (a scalar) multiplies the products once more
    (MXINT's implicit 2**6, kept apart so that 1 / (scale * 2**-6) cannot overflow);
    ``clip=(lo, hi)`` clamps the scaled values first; rows
    flagged in ``zero_rows`` are encoded as +0. Stochastic rounding draws the same
    random bits as one call on the whole array (``index_offset`` advances per chunk).
    """
    rows, n = data.shape
    codes = np.empty(data.shape, get_format(fmt).code_dtype)
    if data.size == 0:
        return codes
    step = max(1, ROWS_CHUNK // max(1, n))
    scratch = np.empty((min(step, rows), n), data.dtype)
    base = int(encode_kw.pop("index_offset", 0))
    factors = np.asarray(factors).reshape(-1)
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        v = multiply_rows(data[r0:r1], factors[r0:r1], out=scratch[: r1 - r0])
        if post_factor is not None:
            v *= v.dtype.type(post_factor)
        if zero_rows is not None and zero_rows[r0:r1].any():
            v[zero_rows[r0:r1]] = 0
        if clip is not None:
            np.clip(v, clip[0], clip[1], out=v)
        encode(v, fmt, out=codes[r0:r1], index_offset=base + r0 * n, **encode_kw)
    return codes


def as_output(values: np.ndarray, dtype) -> np.ndarray:
    """Dequantized ``values`` (float32 / float64) in the output ``dtype``: widening is exact, narrowing
    (to float16, or float64 to float32) rounds to nearest even through :func:`floatsim.cast`."""
    dt = np.dtype(dtype)
    if values.dtype == dt or values.dtype.itemsize < dt.itemsize:
        return values.astype(dt, copy=False)
    return np.asarray(cast(values, {2: "float16", 4: "float32"}[dt.itemsize], dtype=dt))
