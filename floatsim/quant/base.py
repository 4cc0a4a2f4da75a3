"""What every quantizer returns and shares: `QuantizedTensor` and `Quantizer`.

A quantizer is a frozen dataclass holding a scheme (element format, granularity,
scale rule, rounding). `quantize(x)` returns a `QuantizedTensor` holding exactly
what would be written to memory (element codes, scales, zero points, and any
second-level statistics), `dequantize(q)` maps it back, and `fake_quantize(x)`
(also `quantizer(x)`) does both, returning `x`'s dtype.

Input rules shared by all quantizers (`float_input`): float16, float32 or
float64 arrays of any shape; lists, scalars and integer arrays become float64;
anything else (bool, complex, strings, objects, other float widths) is a
`TypeError` that names the argument. The other helpers here (`check_choice`,
`encode_rows`, `as_output`) are the building blocks the quantizers share.

CPU torch tensors work too (torch is imported only when you pass one): a
float16 / float32 / float64 tensor is read without a copy, a bfloat16 or
float8 tensor is widened exactly to float32, `quantize` returns the usual
`QuantizedTensor` of NumPy arrays, and `fake_quantize` (`quantizer(x)`)
returns a torch tensor of `x`'s shape and dtype. For bfloat16 and float8
tensors the float32 dequantized values are rounded to nearest even into
that dtype (`floatsim.encode` with the default overflow policy: for bfloat16
what `torch.Tensor.to` gives); they are exact wherever the values fit it, e.g.
MX and other power-of-two scales with narrow elements. The result carries no
gradient: for autograd, see `floatsim.quant.torch`.

Examples
--------
>>> import numpy as np
>>> import floatsim.quant as fq
>>> q = fq.IntQuantizer(bits=4).quantize(np.float32([0.1, 0.2, 0.7]))
>>> type(q).__name__, q.codes.tolist(), q.dequantize().tolist()
('QuantizedTensor', [1, 2, 7], [0.09333333373069763, 0.18666666746139526, 0.653333306312561])
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .. import _adapt
from ..core import cast, decode, encode
from ..formats import get_format
from ._kernels import multiply_rows

__all__ = ["QuantizedTensor", "Quantizer", "float_input", "check_choice", "encode_rows", "as_output", "dask_aware"]

#: elements per pass of ``encode_rows`` (a 1 MiB float32 scratch buffer: stays in cache)
ROWS_CHUNK = 1 << 18

_FLOATS = (np.float16, np.float32, np.float64)


def float_input(x, argument: str = "x") -> np.ndarray:
    """`x` as a float16, float32 or float64 ndarray: the input check every quantizer runs.

    Parameters
    ----------
    x : array_like or torch.Tensor
        A float16 / float32 / float64 array (returned as is, no copy), or lists,
        scalars and integer arrays (converted to float64). A CPU torch tensor is
        read the same way (a NumPy view of a float16 / float32 / float64 tensor);
        bfloat16 and float8 tensors become float32 (exact).
    argument : str, default "x"
        The argument name used in the error message.

    Returns
    -------
    numpy.ndarray
        `x` as an array of one of the three float dtypes.

    Raises
    ------
    TypeError
        For any other dtype (bool, complex, strings, objects, other float widths),
        naming `argument`.
    ValueError
        For a torch tensor that is not on the CPU.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.base import float_input
    >>> float_input([1, 2]).dtype, float_input(np.float32([1.5])).dtype
    (dtype('float64'), dtype('float32'))
    >>> float_input(np.array([True]), "weights")
    Traceback (most recent call last):
    ...
    TypeError: weights must be a float16, float32 or float64 array, not bool
    """
    if isinstance(x, np.ndarray):
        arr = x
    elif _adapt.kind(x) == "torch":
        arr = _adapt.torch_to_numpy(x, argument)  # a view; CPU tensors only
        if arr.dtype.name in _adapt.TORCH_VIA_ML_DTYPES:
            arr = arr.astype(np.float32)  # bfloat16 / float8: every value is exact in float32
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
    """`value` in lower case if it is one of `allowed` (case-insensitively), else a `ValueError`.

    Parameters
    ----------
    argument : str
        The argument name used in the error message.
    value : str
        The value to check.
    allowed : sequence of str
        The accepted values, in lower case.

    Returns
    -------
    str
        `value.lower()`.

    Raises
    ------
    ValueError
        If `value` is not a string or not one of `allowed`; the message names
        `argument` and lists `allowed`.

    Examples
    --------
    >>> from floatsim.quant.base import check_choice
    >>> check_choice("divisor", "QMAX", ("half_range", "qmax"))
    'qmax'
    >>> check_choice("divisor", "max", ("half_range", "qmax"))
    Traceback (most recent call last):
    ...
    ValueError: divisor must be one of 'half_range', 'qmax', not 'max'
    """
    if not isinstance(value, str) or value.lower() not in allowed:
        raise ValueError(f"{argument} must be one of {', '.join(map(repr, allowed))}, not {value!r}")
    return value.lower()


@dataclasses.dataclass(frozen=True, eq=False)
class QuantizedTensor:
    """The stored form of a quantized tensor: what `Quantizer.quantize` returns.

    It holds exactly what would be written to memory (element codes, block
    scales, zero points, second-level statistics) plus the quantizer that made
    it, which `dequantize` delegates to. You normally get one from a quantizer
    rather than building it yourself. Frozen (the arrays themselves are not
    copied or locked).

    Parameters
    ----------
    codes : numpy.ndarray
        Element codes in the input's shape: integers (int8 / uint8 / int16 ...) for
        integer schemes, the element format's bit patterns (uint8 ...) for float
        formats, codebook indices for codebooks. Unpacked: one element per entry.
    scale : numpy.ndarray or None
        The scale of each block (float32 unless the scheme says otherwise), shaped
        by the granularity (see `Granularity`). Dequantization multiplies by it.
        Values are exact in `scale_format`. None when the scheme stores no scale
        (or stores it in `extra`, as double-quantized codebooks do).
    zero_point : numpy.ndarray or None
        Integer zero points (same shape as `scale`) for asymmetric schemes, else
        None.
    quantizer : Quantizer
        The scheme that produced it; `dequantize` delegates to it.
    shape : tuple of int
        Shape of the original input.
    dtype : numpy.dtype
        Float dtype of the original input: the default output dtype of
        `dequantize`.
    scale_format : str or FloatFormat, optional
        The format scales are stored in (None: float32).
    extra : dict, optional
        Further stored statistics (e.g. NVFP4's per-tensor scale, double-quantized
        absmax codes), documented by each quantizer. The key `"extra_bits"`, when
        present, is their size in bits and counts in `bits_per_value`.

    Examples
    --------
    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> x = np.float32([0.5, -1.0, 0.25, 2.0, 3.0, 0.0, -0.75, 1.5])
    >>> q = fq.IntQuantizer(bits=4, granularity="group:4").quantize(x)
    >>> q.codes.tolist(), q.codes.dtype, q.scale.tolist(), q.zero_point
    ([2, -4, 1, 7, 7, 0, -2, 4], dtype('int8'), [0.2666666805744171, 0.4000000059604645], None)
    >>> q.shape, q.dtype, q.size, q.bits_per_value, q.nbytes      # 4 bits + a float32 scale per 4 elements
    ((8,), dtype('float32'), 8, 12.0, 12.0)
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
        """The values the codes stand for, in `dtype` (default: the input's dtype).

        Same as `self.quantizer.dequantize(self, dtype=dtype)`.

        Parameters
        ----------
        dtype : numpy.dtype or str, optional
            float16, float32 or float64; None (default) gives the original
            input's dtype.

        Returns
        -------
        numpy.ndarray
            Dequantized values in the original input's shape.

        Raises
        ------
        TypeError
            If `dtype` is not float16, float32 or float64.

        Examples
        --------
        >>> import numpy as np
        >>> import floatsim.quant as fq
        >>> q = fq.IntQuantizer(bits=4).quantize(np.float32([0.1, 0.2, 0.7]))
        >>> q.dequantize().tolist()
        [0.09333333373069763, 0.18666666746139526, 0.653333306312561]
        >>> q.dequantize(np.float64).dtype
        dtype('float64')
        """
        return self.quantizer.dequantize(self, dtype=dtype)

    @property
    def scale_codes(self) -> np.ndarray | None:
        """The scales as stored: codes of `scale_format` (the float32 values themselves when it is None)."""
        if self.scale is None or self.scale_format is None:
            return self.scale
        return encode(self.scale, self.scale_format)

    @property
    def size(self) -> int:
        """Number of elements of the original tensor."""
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
    """Base class of all quantizers: the three verbs and the storage count.

    Subclasses (`IntQuantizer`, `FloatQuantizer`, `BlockFloatQuantizer`,
    `NVFP4Quantizer`, `CodebookQuantizer`) are frozen dataclasses implementing
    `quantize` and `dequantize`; `fake_quantize`, calling the quantizer
    (`quantizer(x)` is `quantizer.fake_quantize(x)`) and `storage_bits` are shared.
    The base class itself takes no arguments and cannot quantize.

    Attributes
    ----------
    element_bits : int
        Bits of one stored element code (8 here; subclasses set it from their
        format). Zero points are counted at this width too.

    Examples
    --------
    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> quantizer = fq.IntQuantizer(bits=4)
    >>> isinstance(quantizer, fq.Quantizer), quantizer.element_bits
    (True, 4)
    >>> x = np.float32([0.1, 0.2, 0.7])
    >>> quantizer(x).tolist() == quantizer.fake_quantize(x).tolist() == quantizer.quantize(x).dequantize().tolist()
    True
    """

    #: bits of one stored element code (subclasses set it from their format)
    element_bits: int = 8

    def quantize(self, x) -> QuantizedTensor:  # pragma: no cover - abstract
        """Quantize `x`: the codes and statistics that would be stored (implemented by each subclass).

        Parameters
        ----------
        x : array_like
            float16, float32 or float64 values of any shape (lists, scalars and
            integer arrays become float64).

        Returns
        -------
        QuantizedTensor
            Codes in `x`'s shape, the block scales and any other stored statistics.

        Raises
        ------
        NotImplementedError
            On the base class.

        Examples
        --------
        >>> import numpy as np
        >>> import floatsim.quant as fq
        >>> fq.IntQuantizer(bits=4).quantize(np.float32([0.1, 0.2, 0.7])).codes.tolist()
        [1, 2, 7]
        """
        raise NotImplementedError

    def dequantize(self, q: QuantizedTensor, dtype=None) -> np.ndarray:  # pragma: no cover - abstract
        """The values `q` stands for (implemented by each subclass).

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
        NotImplementedError
            On the base class.

        Examples
        --------
        >>> import numpy as np
        >>> import floatsim.quant as fq
        >>> quantizer = fq.IntQuantizer(bits=4)
        >>> quantizer.dequantize(quantizer.quantize(np.float32([0.1, 0.2, 0.7]))).tolist()
        [0.09333333373069763, 0.18666666746139526, 0.653333306312561]
        """
        raise NotImplementedError

    def fake_quantize(self, x, **kwargs) -> np.ndarray:
        """`dequantize(quantize(x))`: the values `x` becomes after a round trip, in `x`'s dtype.

        Calling the quantizer, `quantizer(x)`, does the same.

        Parameters
        ----------
        x : array_like or torch.Tensor
            float16, float32 or float64 values of any shape (lists, scalars and
            integer arrays become float64), or a CPU torch tensor (bfloat16 and
            float8 too).
        **kwargs
            Passed to `quantize`: a calibrated range, `min_val` / `max_val` for
            `IntQuantizer` or `amax` for `FloatQuantizer`.

        Returns
        -------
        numpy.ndarray or torch.Tensor
            Same shape and dtype as `x` (float64 for lists and integers). For a
            torch tensor, a torch tensor (sharing memory with the NumPy result):
            float16 / float32 / float64 as computed; bfloat16 and float8 are the
            float32 values rounded to nearest even into that dtype; integer
            tensors give float64. No gradient flows through it.

        Raises
        ------
        TypeError
            If `x` is not real floating-point data (see `float_input`).
        ValueError
            If `x` is a torch tensor not on the CPU.

        Examples
        --------
        >>> import numpy as np
        >>> import floatsim.quant as fq
        >>> fq.IntQuantizer(bits=4).fake_quantize(np.float32([0.1, 0.2, 0.7])).tolist()
        [0.09333333373069763, 0.18666666746139526, 0.653333306312561]
        >>> fq.mx("mxfp4")([7.0] + [0.3] * 31)[:2]          # a list: float64 out
        array([6. , 0.5])
        >>> q4 = fq.IntQuantizer(bits=4)
        >>> q4.fake_quantize(np.float32([0.1, 0.2, 0.7]), min_val=-0.35, max_val=0.35).tolist()  # 0.7 clips
        [0.09333333373069763, 0.18666666746139526, 0.3266666531562805]

        A CPU torch tensor gives a torch tensor of its shape and dtype (run only where torch is installed):

        >>> import importlib.util
        >>> if importlib.util.find_spec("torch") is not None:
        ...     import torch
        ...     y = fq.mx("mxfp4")(torch.tensor([7.0] + [0.3] * 31, dtype=torch.bfloat16))
        ...     assert y.dtype == torch.bfloat16 and y.shape == (32,) and y[:2].tolist() == [6.0, 0.5]
        """
        if _adapt.kind(x) == "torch":
            return _fake_quantize_torch(self, x, kwargs)
        if _adapt.kind(x) == "dask":
            from . import dask as quant_dask

            return quant_dask.fake_quantize(self, x, **kwargs)
        q = self.quantize(x, **kwargs)
        return q.dequantize()

    def __call__(self, x, **kwargs) -> np.ndarray:
        return self.fake_quantize(x, **kwargs)

    def storage_bits(self, q: QuantizedTensor) -> int:
        """Total stored bits of `q`: elements, scales, zero points and `extra` statistics.

        Elements count `element_bits` each, scales the width of `scale_format`
        (32 for float32), zero points `element_bits` each, plus `q.extra["extra_bits"]`.
        `QuantizedTensor.bits_per_value` is this divided by the number of elements.

        Parameters
        ----------
        q : QuantizedTensor
            A quantized tensor made by this quantizer.

        Returns
        -------
        int
            The number of bits a dense, packed encoding of `q` takes.

        Examples
        --------
        >>> import numpy as np
        >>> import floatsim.quant as fq
        >>> quantizer = fq.IntQuantizer(bits=4, granularity="group:32")
        >>> quantizer.storage_bits(quantizer.quantize(np.zeros(64, np.float32)))   # 64 * 4 + 2 * 32
        320
        """
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


def _fake_quantize_torch(quantizer, x, kwargs):
    """`quantizer.fake_quantize` of a torch tensor: a torch tensor of `x`'s shape and dtype."""
    values = quantizer.quantize(float_input(x), **kwargs).dequantize()
    name = str(x.dtype).removeprefix("torch.")
    if name in _adapt.TORCH_VIA_ML_DTYPES:  # computed in float32: round to nearest even into x's dtype
        values = encode(values, name, typed=True)
    return _adapt.numpy_to_torch(values)


def dask_aware(method):
    """Route a quantizer's `quantize` of a dask array to `floatsim.quant.dask.quantize` (chunk by chunk, lazy), and
    its `dequantize` of the resulting `DaskQuantizedTensor` to that tensor's own lazy `dequantize`.

    Parameters
    ----------
    method : function
        A quantizer's `quantize(self, x, **kwargs)` or `dequantize(self, q, dtype=None)`.

    Returns
    -------
    function
        The method, unchanged for NumPy and torch input.

    Examples
    --------
    >>> import numpy as np, floatsim.quant as fq
    >>> fq.mx("mxfp4").quantize(np.float32([1.0] * 32)).codes[:2].tolist()     # NumPy input: the method itself
    [6, 6]
    """
    import functools

    if method.__name__ == "quantize":
        @functools.wraps(method)
        def quantize(self, x, *args, **kwargs):
            if _adapt.kind(x) == "dask":
                from . import dask as quant_dask

                return quant_dask.quantize(self, x, *args, **kwargs)
            return method(self, x, *args, **kwargs)

        return quantize

    @functools.wraps(method)
    def dequantize(self, q, *args, **kwargs):
        if type(q).__name__ == "DaskQuantizedTensor":
            return q.dequantize(*args, **kwargs)
        return method(self, q, *args, **kwargs)

    return dequantize


def decode_scale(codes, fmt) -> np.ndarray:
    """Scale values from stored codes (float64, exact)."""
    return decode(codes, fmt, dtype=np.float64)


def encode_rows(data: np.ndarray, factors: np.ndarray, fmt, *, post_factor=None, clip=None, zero_rows=None,
                **encode_kw) -> np.ndarray:
    """Codes of `data * factors[:, None]` for a 2-D blocks array, without a full-size temporary.

    The result is the core `floatsim.encode` of the scaled rows, bit for bit. The
    product is formed in `data`'s dtype chunk by chunk in a small cache-resident
    buffer (a full-size product costs a second pass over memory and, for fresh
    memory, page faults). Stochastic rounding draws the same random bits as one
    call on the whole array (`index_offset` advances per chunk).

    Parameters
    ----------
    data : numpy.ndarray
        2-D float array, one block per row.
    factors : numpy.ndarray
        One factor per row (any shape with `data.shape[0]` elements).
    fmt : FloatFormat, IntFormat or str
        The format to encode into.
    post_factor : float, optional
        A scalar that multiplies the products once more (MXINT's implicit 2**6,
        kept apart so that 1 / (scale * 2**-6) cannot overflow).
    clip : tuple of (float, float), optional
        `(lo, hi)`: clamp the scaled values before encoding.
    zero_rows : numpy.ndarray of bool, optional
        Rows flagged here are encoded as +0.
    **encode_kw
        Keywords for `floatsim.encode` (`rounding`, `overflow`, `seed`, `sr_bits`,
        `index_offset`).

    Returns
    -------
    numpy.ndarray
        Codes of shape `data.shape`, in the format's code dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.base import encode_rows
    >>> encode_rows(np.float32([[1.0, 2.0], [3.0, 4.0]]), np.float32([0.5, 0.25]), "float8_e4m3fn").tolist()
    [[48, 56], [52, 56]]
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
    """Dequantized `values` (float32 / float64) in the output `dtype`.

    Widening is exact; narrowing (to float16, or float64 to float32) rounds to
    nearest even through `floatsim.cast` (values beyond float16's range become inf).

    Parameters
    ----------
    values : numpy.ndarray
        float32 or float64 values.
    dtype : numpy.dtype or str
        float16, float32 or float64.

    Returns
    -------
    numpy.ndarray
        `values` in `dtype` (`values` itself when the dtype already matches).

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.base import as_output
    >>> as_output(np.float32([1.0, 1e-8, 70000.0]), np.float16).tolist()
    [1.0, 0.0, inf]
    """
    dt = np.dtype(dtype)
    if values.dtype == dt or values.dtype.itemsize < dt.itemsize:
        return values.astype(dt, copy=False)
    return np.asarray(cast(values, {2: "float16", 4: "float32"}[dt.itemsize], dtype=dt))
