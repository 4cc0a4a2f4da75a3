"""Packed storage of sub-byte codes: several 1- to 7-bit codes per byte, saved to and loaded from files.

`floatsim.encode` returns one code per byte (uint8), which wastes half the memory of an FP4 or INT4 array. `pack`
stores the codes as a dense bit stream in a `PackedArray`, `unpack` restores them; `save` / `load` write a
self-describing `.npz` file (the bytes, the shape and the format descriptor), `save_safetensors` /
`load_safetensors` a safetensors file.

The layout is a little-endian bit stream: element `i` of a `b`-bit format occupies bits `[i*b, (i+1)*b)` of the
stream, counting from the least significant bit of byte 0; the last byte is padded with zero bits. For 4 bits this
puts two codes in a byte, the first in the low nibble; for 2 bits four codes, the first in the lowest two bits; for
6 bits four codes in three bytes:

```text
4 bits:  byte 0 = [c1 c1 c1 c1 | c0 c0 c0 c0]        (MSB ... LSB)
2 bits:  byte 0 = [c3 c3 | c2 c2 | c1 c1 | c0 c0]
6 bits:  byte 0 = [c1 c1 | c0 c0 c0 c0 c0 c0]
         byte 1 = [c2 c2 c2 c2 | c1 c1 c1 c1]
         byte 2 = [c3 c3 c3 c3 c3 c3 | c2 c2]
```

The 4-bit order is the one of the packed FP4 types of the ecosystem, checked against their specifications:

- ONNX (`onnx.ai/onnx/technical/float4.html`, "Packing and Unpacking"): "Float4 is stored as 2x4bit in a single
  byte. The first element is stored in the 4 LSB and the second element is stored in the 4 MSB"; ONNX Runtime's
  `Int4x2` packs INT4 / UINT4 the same way (`((val1 & 0xF) << 4) | (val0 & 0xF)`, `core/framework/int4.h`);
- PyTorch `torch.float4_e2m1fn_x2` (`torch/headeronly/util/Float4_e2m1fn_x2.h`): "val1 : val0", bits 7654 : 3210;
- NVIDIA's `__nv_fp4x2_e2m1` (as documented by the Rust `float4` crate's `F4E2M1x2`: "The lower nibble (bits
  3:0) holds the first value").

For 2 bits, Keras' `keras.quantizers.pack_int2` also stores four values per byte "from the least significant
2-bit field to the most significant one". The OCP MX specification v1.0 (which `Float4_e2m1fn_x2.h` cites for
the element format) defines the E2M1, E2M3 and E3M2 elements; we found no byte layout for packed elements in it
(so does the summary at `yiliu30.github.io/viz/mxfp4.html`: "the spec does not prescribe the exact physical
layout"). safetensors 0.8 names `F4`, `F6_E2M3` and `F6_E3M2` without fixing the bit order inside a byte either.
For every width floatsim uses the same least-significant-bits-first stream.

Examples
--------
>>> import numpy as np, floatsim as fs
>>> from floatsim.packing import pack, unpack
>>> codes = fs.encode(np.array([1.0, -0.5, 6.0], np.float32), "float4_e2m1fn")
>>> p = pack(codes, "float4_e2m1fn")
>>> codes, p.data, p.nbytes
(array([2, 9, 7], dtype=uint8), array([146,   7], dtype=uint8), 2)
>>> unpack(p), p.decode()
(array([2, 9, 7], dtype=uint8), array([ 1. , -0.5,  6. ], dtype=float32))
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import zipfile

import numba
import numpy as np
from numba import prange

from ._jit import kernel, parallel_kernel, threads_for
from .format import FloatFormat, IntFormat
from .formats import CATALOGUE, get_format

__all__ = ["PackedArray", "load", "load_safetensors", "pack", "save", "save_safetensors", "unpack"]

#: version of the `.npz` layout written by `save` (and of the floatsim entry in safetensors metadata)
FILE_VERSION = 1
_MAGIC = "floatsim.packed"
_ST_KEY = "floatsim"  # the key of floatsim's entry in the safetensors metadata


# --------------------------------------------------------------------------- kernels
# Each parallel driver splits the stream into chunks of whole packing units (a unit is the smallest run of codes
# that fills whole bytes: 2 codes for 4 bits, 4 codes for 2 and 6 bits, 8 codes for odd widths) and runs a serial,
# vectorisable loop on each chunk; the codes after the last whole unit (fewer than one unit) are done by the tail
# functions. The pack loops also return the largest code they saw (a running `max` keeps the loop vectorised; an
# `|=` reduction of uint8 codes is widened to int64 by Numba and ran 2.5x slower by hand), and the driver returns the number
# of chunks holding a code >= 2**bits, so that the caller can find the first one.
UNITS_PER_CHUNK = 1 << 14


@kernel
def _pack4_chunk(codes, out):
    # byte i = [hi hi hi hi | lo lo lo lo] with lo = codes[2i], hi = codes[2i + 1]
    top = np.uint8(0)
    for i in range(out.size):
        lo = codes[2 * i]
        hi = codes[2 * i + 1]
        top = max(top, max(lo, hi))
        out[i] = lo | (hi << 4)
    return top


@kernel
def _unpack4_chunk(data, out):
    for i in range(data.size):
        b = data[i]
        out[2 * i] = b & 0xF
        out[2 * i + 1] = b >> 4


@kernel
def _pack2_chunk(codes, out):
    # byte i = [c3 c3 | c2 c2 | c1 c1 | c0 c0] with c_k = codes[4i + k]
    top = np.uint8(0)
    for i in range(out.size):
        c0 = codes[4 * i]
        c1 = codes[4 * i + 1]
        c2 = codes[4 * i + 2]
        c3 = codes[4 * i + 3]
        top = max(top, max(max(c0, c1), max(c2, c3)))
        out[i] = c0 | (c1 << 2) | (c2 << 4) | (c3 << 6)
    return top


@kernel
def _unpack2_chunk(data, out):
    for i in range(data.size):
        b = data[i]
        out[4 * i] = b & 3
        out[4 * i + 1] = (b >> 2) & 3
        out[4 * i + 2] = (b >> 4) & 3
        out[4 * i + 3] = b >> 6


@kernel
def _pack6_chunk(codes, out):
    # 4 codes -> 3 bytes (c_k = codes[4u + k], bit 7 on the left):
    #   byte 3u     = [c1 c1 | c0 c0 c0 c0 c0 c0]
    #   byte 3u + 1 = [c2 c2 c2 c2 | c1 c1 c1 c1]
    #   byte 3u + 2 = [c3 c3 c3 c3 c3 c3 | c2 c2]
    top = np.uint8(0)
    for u in range(out.size // 3):
        c0 = codes[4 * u]
        c1 = codes[4 * u + 1]
        c2 = codes[4 * u + 2]
        c3 = codes[4 * u + 3]
        top = max(top, max(max(c0, c1), max(c2, c3)))
        out[3 * u] = c0 | (c1 << 6)
        out[3 * u + 1] = (c1 >> 2) | (c2 << 4)
        out[3 * u + 2] = (c2 >> 4) | (c3 << 2)
    return top


@kernel
def _unpack6_chunk(data, out):
    for u in range(data.size // 3):
        b0 = data[3 * u]
        b1 = data[3 * u + 1]
        b2 = data[3 * u + 2]
        out[4 * u] = b0 & 63
        out[4 * u + 1] = (b0 >> 6) | ((b1 & 15) << 2)
        out[4 * u + 2] = (b1 >> 4) | ((b2 & 3) << 4)
        out[4 * u + 3] = b2 >> 2


@kernel
def _pack_bits_chunk(codes, out, bits):
    # any width: 8 codes -> `bits` bytes through the 64-bit word w = sum(c_k << (bits * k)), stored little-endian.
    # `literally` compiles one version per width (1, 3, 5, 7), whose constant trip counts LLVM unrolls: 3 to 13x
    # faster than one version with `bits` as a runtime argument (measured by hand during development).
    numba.literally(bits)
    top = np.uint8(0)
    for u in range(out.size // bits):
        w = np.uint64(0)
        for k in range(8):
            c = codes[8 * u + k]
            top = max(top, c)
            w |= np.uint64(c) << np.uint64(bits * k)
        for j in range(bits):
            out[bits * u + j] = (w >> np.uint64(8 * j)) & np.uint64(0xFF)
    return top


@kernel
def _unpack_bits_chunk(data, out, bits):
    numba.literally(bits)
    mask = np.uint64((1 << bits) - 1)
    for u in range(data.size // bits):
        w = np.uint64(0)
        for j in range(bits):
            w |= np.uint64(data[bits * u + j]) << np.uint64(8 * j)
        for k in range(8):
            out[8 * u + k] = (w >> np.uint64(bits * k)) & mask


@kernel
def _pack_tail(codes, data, bits):
    """Pack the last `codes.size` (< 8) codes, bit by bit, into the last bytes `data`."""
    mask = np.uint64((1 << bits) - 1)
    top = np.uint8(0)
    w = np.uint64(0)
    for k in range(codes.size):
        top = max(top, codes[k])
        w |= (np.uint64(codes[k]) & mask) << np.uint64(bits * k)
    for j in range(data.size):
        data[j] = (w >> np.uint64(8 * j)) & np.uint64(0xFF)
    return top


@kernel
def _unpack_tail(data, codes, bits):
    mask = np.uint64((1 << bits) - 1)
    w = np.uint64(0)
    for j in range(data.size):
        w |= np.uint64(data[j]) << np.uint64(8 * j)
    for k in range(codes.size):
        codes[k] = (w >> np.uint64(bits * k)) & mask


@kernel
def _pack_chunk(codes, data, bits):
    if bits == 4:
        return _pack4_chunk(codes, data)
    if bits == 2:
        return _pack2_chunk(codes, data)
    if bits == 6:
        return _pack6_chunk(codes, data)
    if bits == 1:
        return _pack_bits_chunk(codes, data, 1)
    if bits == 3:
        return _pack_bits_chunk(codes, data, 3)
    if bits == 5:
        return _pack_bits_chunk(codes, data, 5)
    return _pack_bits_chunk(codes, data, 7)


@kernel
def _unpack_chunk(data, codes, bits):
    if bits == 4:
        _unpack4_chunk(data, codes)
    elif bits == 2:
        _unpack2_chunk(data, codes)
    elif bits == 6:
        _unpack6_chunk(data, codes)
    elif bits == 1:
        _unpack_bits_chunk(data, codes, 1)
    elif bits == 3:
        _unpack_bits_chunk(data, codes, 3)
    elif bits == 5:
        _unpack_bits_chunk(data, codes, 5)
    else:
        _unpack_bits_chunk(data, codes, 7)


@parallel_kernel
def _pack_kernel(codes, data, bits, unit_codes, unit_bytes):
    """Pack `codes` into `data` (1 <= bits <= 7); returns the number of chunks holding a code >= 2**bits."""
    n_units = codes.size // unit_codes
    n_chunks = (n_units + UNITS_PER_CHUNK - 1) // UNITS_PER_CHUNK
    limit = (1 << bits) - 1
    bad = 0
    for c in prange(n_chunks):
        u0 = c * UNITS_PER_CHUNK
        u1 = min(n_units, u0 + UNITS_PER_CHUNK)
        top = _pack_chunk(codes[u0 * unit_codes:u1 * unit_codes], data[u0 * unit_bytes:u1 * unit_bytes], bits)
        bad += np.int64(top > limit)
    top = _pack_tail(codes[n_units * unit_codes:], data[n_units * unit_bytes:], bits)
    bad += np.int64(top > limit)
    return bad


@parallel_kernel
def _unpack_kernel(data, codes, bits, unit_codes, unit_bytes):
    """Unpack `data` into `codes` (every bit pattern is a valid code)."""
    n_units = codes.size // unit_codes
    n_chunks = (n_units + UNITS_PER_CHUNK - 1) // UNITS_PER_CHUNK
    for c in prange(n_chunks):
        u0 = c * UNITS_PER_CHUNK
        u1 = min(n_units, u0 + UNITS_PER_CHUNK)
        _unpack_chunk(data[u0 * unit_bytes:u1 * unit_bytes], codes[u0 * unit_codes:u1 * unit_codes], bits)
    _unpack_tail(data[n_units * unit_bytes:], codes[n_units * unit_codes:], bits)


def _unit(bits: int) -> tuple[int, int]:
    """(codes, bytes) of the smallest run of codes that fills whole bytes."""
    codes = 8 // math.gcd(8, bits)
    return codes, codes * bits // 8


def _packed_nbytes(size: int, bits: int) -> int:
    return (size * bits + 7) // 8


# --------------------------------------------------------------------------- the packed array
def _sub_byte_format(fmt, argument="fmt"):
    fmt = get_format(fmt, argument)
    if fmt.bits >= 8:
        raise ValueError(
            f"{argument}: packing is for sub-byte formats (1 to 7 bits); {fmt} has {fmt.bits} bits, so its codes "
            f"already fill whole bytes: store the {np.dtype(fmt.code_dtype).name} array of floatsim.encode as it is"
        )
    return fmt


def _check_shape(shape, argument="shape") -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"{argument} must be a tuple of non-negative integers, not {shape!r}") from None
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0:
            raise ValueError(f"{argument}={shape!r} is invalid: dimensions must be non-negative integers")
    return tuple(int(d) for d in dims)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class PackedArray:
    """Codes of a sub-byte format packed into a dense little-endian bit stream.

    Build one with `pack` (or `load`, `load_safetensors`); the constructor checks that the three fields agree, so
    a `PackedArray` is always valid. Element `i` (in C order) occupies bits `[i*b, (i+1)*b)` of `data`, counting
    from the least significant bit of byte 0, with `b = fmt.bits`; the bits after the last element are zero.
    `data` is a read-only view of the array given (no copy is made). Two packed arrays are equal (`==`) when their
    formats (by descriptor, not name), shapes and bytes are.

    Parameters
    ----------
    data : numpy.ndarray of uint8
        The packed bytes, 1-D, exactly `ceil(size * bits / 8)` of them.
    shape : tuple of int
        The shape of the unpacked codes.
    fmt : FloatFormat, IntFormat or str
        The format of the codes, 1 to 7 bits wide (a name is resolved with `floatsim.get_format`).

    Raises
    ------
    ValueError
        If the format is 8 bits or wider, `data` has the wrong length or is not 1-D, the padding bits of the last
        byte are not zero, or a dimension is negative.
    TypeError
        If `data` is not uint8 or `shape` is not a sequence of integers.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.packing import PackedArray, pack
    >>> p = pack(np.arange(16, dtype=np.uint8).reshape(2, 8), "uint4")
    >>> p
    PackedArray(shape=(2, 8), fmt=uint4, nbytes=8)
    >>> p.size, p.bits, p.data[:2]
    (16, 4, array([16, 50], dtype=uint8))
    >>> PackedArray(data=p.data, shape=(2, 8), fmt="uint4") == p
    True
    """

    data: np.ndarray
    shape: tuple[int, ...]
    fmt: FloatFormat | IntFormat

    def __post_init__(self):
        fmt = _sub_byte_format(self.fmt)
        shape = _check_shape(self.shape)
        data = np.asarray(self.data)
        if data.dtype != np.uint8:
            raise TypeError(f"data must be a uint8 array of packed bytes, not {data.dtype.name}")
        if data.ndim != 1:
            raise ValueError(f"data must be 1-D (the packed byte stream), not of shape {data.shape}")
        size = math.prod(shape)
        expected = _packed_nbytes(size, fmt.bits)
        if data.size != expected:
            raise ValueError(
                f"data has {data.size} bytes, but {size} codes of the {fmt.bits}-bit format {fmt} "
                f"(shape {shape}) take {expected}"
            )
        spare = expected * 8 - size * fmt.bits
        if spare and data[-1] >> (8 - spare):
            raise ValueError(f"the {spare} padding bits of the last byte of data must be zero, "
                             f"not {int(data[-1]) >> (8 - spare):#x}")
        data = np.ascontiguousarray(data).view()
        data.flags.writeable = False
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "fmt", fmt)

    @property
    def size(self) -> int:
        """Number of codes, the product of `shape`."""
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        """Number of packed bytes, `ceil(size * bits / 8)`."""
        return int(self.data.size)

    @property
    def bits(self) -> int:
        """Width of one code in bits, `fmt.bits`."""
        return self.fmt.bits

    def unpack(self) -> np.ndarray:
        """The codes, one per byte: the same as `floatsim.packing.unpack(self)`.

        Returns
        -------
        numpy.ndarray
            A new array of `fmt.code_dtype` (uint8) with shape `shape`.

        Examples
        --------
        >>> from floatsim.packing import pack
        >>> pack([3, 1, 2], "int2").unpack()
        array([3, 1, 2], dtype=uint8)
        """
        return unpack(self)

    def decode(self, *, dtype=None) -> np.ndarray:
        """The values of the codes, `floatsim.decode(self.unpack(), self.fmt)`.

        Parameters
        ----------
        dtype : numpy dtype or type, optional
            The float dtype of the values; the default is `fmt.value_dtype` (see `floatsim.decode`).

        Returns
        -------
        numpy.ndarray
            The values, with shape `shape`.

        Examples
        --------
        >>> from floatsim.packing import pack
        >>> pack([3, 1, 2], "int2").decode()
        array([-1.,  1., -2.], dtype=float32)
        """
        from .core import decode

        return decode(self.unpack(), self.fmt, dtype=dtype)

    def __eq__(self, other):
        if not isinstance(other, PackedArray):
            return NotImplemented
        return self.fmt == other.fmt and self.shape == other.shape and np.array_equal(self.data, other.data)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PackedArray(shape={self.shape}, fmt={self.fmt}, nbytes={self.nbytes})"


# --------------------------------------------------------------------------- pack / unpack
def _integer_codes(codes, fmt) -> np.ndarray:
    arr = np.asarray(codes)
    if arr.dtype.kind == "V" and arr.dtype.itemsize == 1:
        from .core import ml_dtype_of

        if ml_dtype_of(fmt) == arr.dtype:  # typed codes (floatsim.encode(..., typed=True)) of this very format
            return arr.view(np.uint8)
        raise TypeError(f"codes are {arr.dtype.name} values, not codes of {fmt}; to reinterpret their bits, "
                        "pass codes.view(np.uint8)")
    if arr.dtype.kind not in "iu":
        if arr.size == 0 and arr.dtype.kind == "f":  # np.asarray([]) is float64
            return np.zeros(arr.shape, np.uint8)
        raise TypeError(f"codes must be an integer array of codes of {fmt} (floatsim.encode returns them), "
                        f"not {arr.dtype.name}")
    return arr


def _first_bad(arr: np.ndarray, limit: int) -> tuple[tuple[int, ...], int]:
    flat = arr.reshape(-1)
    i = int(np.flatnonzero((flat < 0) | (flat >= limit))[0])
    return tuple(int(k) for k in np.unravel_index(i, arr.shape)), int(flat[i])


def _raise_bad(arr, fmt):
    index, value = _first_bad(arr, fmt.num_codes)
    where = ", ".join(map(str, index))
    raise ValueError(f"codes[{where}] = {value} is out of range for the {fmt.bits}-bit format {fmt}: "
                     f"codes must be in 0..{fmt.num_codes - 1}")


def pack(codes, fmt) -> PackedArray:
    """Pack the codes of a 1- to 7-bit format into a dense bit stream.

    Element `i` of the C-order flattened `codes` occupies bits `[i*b, (i+1)*b)` of the result's bytes
    (`b = fmt.bits`), counting from the least significant bit of byte 0; the last byte is zero-padded. For FP4 and
    INT4 this is two codes per byte with the first in the low nibble (the order of ONNX and
    `torch.float4_e2m1fn_x2`); 6-bit codes take three bytes per four, 2-bit codes one byte per four. The shape is
    kept, so any length (odd ones too) and any shape round-trip exactly.

    Parameters
    ----------
    codes : array_like of int
        The codes, any shape, each in `[0, 2**fmt.bits)` (`floatsim.encode` returns them). The ml_dtypes array
        of `encode(..., typed=True)` is accepted too, for the format of its own dtype.
    fmt : str, FloatFormat or IntFormat
        The format, 1 to 7 bits wide: `"float4_e2m1fn"`, `"int4"`, `"uint2"`, `"float6_e3m2fn"`,
        `"binary5p2se"`, a custom `FloatFormat` ...

    Returns
    -------
    PackedArray
        The packed bytes with the shape and the format descriptor.

    Raises
    ------
    ValueError
        If the format is 8 bits or wider (packing is for sub-byte formats), or a code is out of range (the message
        names the first one and its index).
    TypeError
        If `codes` are not integers.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.packing import pack
    >>> pack(np.array([1, 2, 3], np.uint8), "int4").data  # 0x21, then 0x03 and four zero padding bits
    array([33,  3], dtype=uint8)
    >>> pack(np.array([[63, 0, 0, 1]], np.uint8), "float6_e2m3fn").data  # 4 codes in 3 bytes; 1 lands on bit 18
    array([63,  0,  4], dtype=uint8)
    >>> pack([16], "float4_e2m1fn")
    Traceback (most recent call last):
    ...
    ValueError: codes[0] = 16 is out of range for the 4-bit format float4_e2m1fn: codes must be in 0..15
    >>> pack([1], "float8_e4m3fn")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: fmt: packing is for sub-byte formats (1 to 7 bits); float8_e4m3fn has 8 bits, ...
    """
    fmt = _sub_byte_format(fmt)
    arr = _integer_codes(codes, fmt)
    if arr.dtype != np.uint8:
        if arr.size and (arr.min() < 0 or arr.max() >= fmt.num_codes):
            _raise_bad(arr, fmt)
        src = np.ascontiguousarray(arr, dtype=np.uint8).reshape(-1)
    else:
        src = np.ascontiguousarray(arr).reshape(-1)
    out = np.empty(_packed_nbytes(src.size, fmt.bits), np.uint8)
    unit_codes, unit_bytes = _unit(fmt.bits)
    with threads_for(src.size):
        bad = _pack_kernel(src, out, fmt.bits, unit_codes, unit_bytes)
    if bad:
        _raise_bad(arr, fmt)
    return PackedArray(data=out, shape=arr.shape, fmt=fmt)


def unpack(packed: PackedArray) -> np.ndarray:
    """The codes of a `PackedArray`, one per byte, in their original shape.

    Parameters
    ----------
    packed : PackedArray
        The packed codes (from `pack`, `load` or `load_safetensors`).

    Returns
    -------
    numpy.ndarray
        A new array of `packed.fmt.code_dtype` (uint8) with shape `packed.shape`.

    Raises
    ------
    TypeError
        If `packed` is not a `PackedArray`.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.packing import pack, unpack
    >>> codes = np.array([[1, 2, 3], [4, 5, 6]], np.uint8)
    >>> unpack(pack(codes, "binary3p2se"))
    array([[1, 2, 3],
           [4, 5, 6]], dtype=uint8)
    """
    if not isinstance(packed, PackedArray):
        raise TypeError(f"packed must be a PackedArray (from floatsim.packing.pack), not {type(packed).__name__}")
    out = np.empty(packed.size, packed.fmt.code_dtype)
    unit_codes, unit_bytes = _unit(packed.bits)
    with threads_for(out.size):
        _unpack_kernel(packed.data, out, packed.bits, unit_codes, unit_bytes)
    return out.reshape(packed.shape)


# --------------------------------------------------------------------------- descriptors as JSON
def _format_to_json(fmt) -> dict:
    fields = {}
    for f in dataclasses.fields(fmt):
        value = getattr(fmt, f.name)
        fields[f.name] = value.value if hasattr(value, "value") else value
    return {"kind": fmt.kind, "fields": fields}


def _format_from_json(obj, where: str):
    if not isinstance(obj, dict) or obj.get("kind") not in ("float", "int") or not isinstance(obj.get("fields"), dict):
        raise ValueError(f"{where}: the format descriptor must be {{'kind': 'float' | 'int', 'fields': {{...}}}}, "
                         f"not {obj!r}")
    cls = FloatFormat if obj["kind"] == "float" else IntFormat
    try:
        return cls(**obj["fields"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: invalid format descriptor {obj['fields']!r}: {exc}") from None


def _json_metadata(metadata: dict) -> dict:
    try:
        json.dumps(metadata)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"metadata must be JSON-serialisable (str, numbers, lists, dicts): {exc}") from None
    return metadata


# --------------------------------------------------------------------------- .npz files
def save(path, packed: PackedArray, **metadata) -> None:
    """Write a `PackedArray` to a self-describing `.npz` file.

    The file is a NumPy `.npz` archive (readable with `numpy.load(path, allow_pickle=False)`) with two arrays:
    `data`, the packed bytes, and `header`, a JSON string holding the file version (`FILE_VERSION`), the shape,
    the width in bits, the layout, the format descriptor (`{"kind": "float" | "int", "fields": {...}}`: the
    fields of the `FloatFormat` / `IntFormat`, name included) and your `metadata`.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write, exactly as given (no `.npz` suffix is added); an existing file is replaced.
    packed : PackedArray
        The packed codes.
    **metadata
        JSON-serialisable values stored with the array (`load(path, return_metadata=True)` returns them).

    Returns
    -------
    None

    Raises
    ------
    TypeError
        If `packed` is not a `PackedArray`, or the metadata is not JSON-serialisable.

    Examples
    --------
    >>> import os, tempfile
    >>> import floatsim as fs
    >>> from floatsim.packing import pack, save, load
    >>> e3m2 = fs.FloatFormat(exponent_bits=3, mantissa_bits=2, specials="fn", signed=False, name="u_e3m2")
    >>> p = pack([0, 5, 31, 7, 1], e3m2)
    >>> path = os.path.join(tempfile.mkdtemp(), "weights.npz")
    >>> save(path, p, layer="fc1")
    >>> q, meta = load(path, return_metadata=True)
    >>> q == p, q.fmt.name, meta
    (True, 'u_e3m2', {'layer': 'fc1'})
    """
    if not isinstance(packed, PackedArray):
        raise TypeError(f"packed must be a PackedArray (from floatsim.packing.pack), not {type(packed).__name__}")
    header = {
        "magic": _MAGIC,
        "version": FILE_VERSION,
        "shape": list(packed.shape),
        "bits": packed.bits,
        "layout": "lsb-first bit stream",
        "format": _format_to_json(packed.fmt),
        "metadata": _json_metadata(metadata),
    }
    with open(os.fspath(path), "wb") as f:
        np.savez(f, data=np.asarray(packed.data), header=np.array(json.dumps(header)))


def load(path, *, return_metadata: bool = False):
    """Read a `PackedArray` written by `save`.

    Parameters
    ----------
    path : str or os.PathLike
        The `.npz` file.
    return_metadata : bool, default False
        Also return the metadata given to `save`.

    Returns
    -------
    PackedArray or (PackedArray, dict)
        The packed codes with their shape and format descriptor (rebuilt from its fields), and the metadata if
        `return_metadata`.

    Raises
    ------
    ValueError
        If the file is not a floatsim packed file, is of a version this floatsim does not read, or is corrupted
        (a missing or malformed header, a descriptor that does not build, bytes that do not match the shape).
    FileNotFoundError
        If there is no such file.

    Examples
    --------
    >>> import os, tempfile
    >>> from floatsim.packing import pack, save, load
    >>> path = os.path.join(tempfile.mkdtemp(), "codes.npz")
    >>> save(path, pack([[1, 2, 3]], "uint2"))
    >>> q = load(path)
    >>> q, q.unpack()
    (PackedArray(shape=(1, 3), fmt=uint2, nbytes=1), array([[1, 2, 3]], dtype=uint8))
    """
    path = os.fspath(path)
    where = f"{path!r}"
    try:
        with np.load(path, allow_pickle=False) as npz:
            files = set(npz.files)
            if not {"data", "header"} <= files:
                raise ValueError(f"{where} is not a floatsim packed file: it holds {sorted(files)}, "
                                 "not the arrays 'data' and 'header' written by floatsim.packing.save")
            raw_header = npz["header"]
            data = npz["data"]
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"{where} is not a floatsim packed file (not a readable .npz archive: {exc})") from None
    except ValueError as exc:
        if str(exc).startswith(where):
            raise
        raise ValueError(f"{where} is not a floatsim packed file ({exc})") from None
    try:
        header = json.loads(str(raw_header[()]))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{where}: corrupted header (not JSON: {exc})") from None
    if not isinstance(header, dict) or header.get("magic") != _MAGIC:
        raise ValueError(f"{where} is not a floatsim packed file (its header lacks magic={_MAGIC!r})")
    version = header.get("version")
    if version != FILE_VERSION:
        raise ValueError(f"{where} has file version {version!r}; this floatsim reads version {FILE_VERSION} only "
                         "(a newer floatsim wrote it?)")
    fmt = _format_from_json(header.get("format"), where)
    try:
        packed = PackedArray(data=data, shape=header.get("shape"), fmt=fmt)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: corrupted file: {exc}") from None
    if header.get("bits") != packed.bits:
        raise ValueError(f"{where}: corrupted header: bits={header.get('bits')!r} but the format has {packed.bits}")
    if return_metadata:
        return packed, dict(header.get("metadata") or {})
    return packed


# --------------------------------------------------------------------------- safetensors
# header dtype -> NumPy / ml_dtypes dtype name, for the byte-sized and wider dtypes of safetensors 0.8
_ST_NUMPY = {
    "BOOL": "bool", "U8": "uint8", "I8": "int8", "U16": "uint16", "I16": "int16", "U32": "uint32", "I32": "int32",
    "U64": "uint64", "I64": "int64", "F16": "float16", "F32": "float32", "F64": "float64", "C64": "complex64",
    "BF16": "bfloat16", "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2", "F8_E8M0": "float8_e8m0fnu",
    "F8_E4M3FNUZ": "float8_e4m3fnuz", "F8_E5M2FNUZ": "float8_e5m2fnuz",
}
# the dtype names the safetensors 0.8 writer (TensorSpec) takes for arrays: the NumPy / ml_dtypes names above
_ST_WRITABLE = set(_ST_NUMPY.values())
# sub-byte header dtypes -> floatsim format (the packed codes are read as floatsim's bit stream)
_ST_PACKED = {"F4": "float4_e2m1fn", "F6_E2M3": "float6_e2m3fn", "F6_E3M2": "float6_e3m2fn"}


def _np_dtype(name: str) -> np.dtype:
    import ml_dtypes

    return np.dtype(getattr(ml_dtypes, name, None) or name)


def _is_ml_dtype(dtype: np.dtype) -> bool:
    import ml_dtypes

    t = getattr(ml_dtypes, dtype.name, None)
    return t is not None and dtype.kind == "V" and np.dtype(t) == dtype


def _import_safetensors():
    try:
        import safetensors
    except ImportError:
        raise ImportError("safetensors files need the safetensors package (0.8 or newer): "
                          "pip install 'floatsim[safetensors]' (or pip install 'safetensors>=0.8')") from None
    if not hasattr(safetensors, "TensorSpec"):  # the writer API used here (tested with safetensors 0.8)
        raise ImportError(f"safetensors {getattr(safetensors, '__version__', '?')} lacks safetensors.TensorSpec, "
                          "which floatsim writes with: pip install -U 'safetensors>=0.8'")
    return safetensors


def save_safetensors(path, tensors: dict, *, metadata: dict | None = None) -> None:
    """Write packed arrays and ordinary arrays to a safetensors file.

    A `PackedArray` of `float4_e2m1fn` whose last dimension is even is stored as the safetensors dtype `F4`
    (two codes per byte, the first in the low nibble: the bytes of a `torch.float4_e2m1fn_x2` tensor, readable by
    `safetensors.torch.load_file`); every other `PackedArray` (INT4, 2-, 3-, 5-, 6- and 7-bit formats, custom
    formats, FP4 with an odd last dimension) is stored as its packed bytes with dtype `U8` and shape
    `[nbytes]`. safetensors 0.8 reads the header dtypes `F6_E2M3` / `F6_E3M2` but its writer takes no 6-bit
    dtype, so 6-bit arrays take the `U8` form too. Either way the format descriptor, the shape and the storage
    are recorded in the file's metadata (the key `"floatsim"`), so `load_safetensors` gives back equal packed
    arrays. A NumPy array is stored with its own dtype where safetensors has it (bool, integers, float16/32/64,
    complex64, and the ml_dtypes bfloat16, float8_e4m3fn, float8_e5m2, float8_e8m0fnu, float8_e4m3fnuz,
    float8_e5m2fnuz); an array of another ml_dtypes type (float8_e3m4, float4_e2m1fn, int4, ...) is stored as
    its raw bytes (`U8`) with its dtype name in the metadata.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; an existing file is replaced.
    tensors : dict of str to PackedArray or numpy.ndarray
        The tensors by name (any name but `"__metadata__"`).
    metadata : dict of str to str, optional
        Extra text metadata for the file header (any key but `"floatsim"`).

    Returns
    -------
    None

    Raises
    ------
    TypeError
        If `tensors` is not a dict of `PackedArray` / NumPy arrays, a name or a metadata value is not a string, or
        an array's dtype cannot be stored (object, strings, ...).
    ValueError
        For the reserved names `"__metadata__"` (tensor) and `"floatsim"` (metadata key).
    ImportError
        If safetensors is not installed.

    Examples
    --------
    Run only where safetensors is installed:

    >>> import importlib.util, os, tempfile
    >>> import numpy as np
    >>> from floatsim.packing import pack, save_safetensors, load_safetensors
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> w = pack(np.array([[1, 2, 3, 4], [9, 10, 11, 12]], np.uint8), "float4_e2m1fn")
    >>> s = np.array([1.0, 0.5], np.float32)
    >>> if importlib.util.find_spec("safetensors") is not None:
    ...     save_safetensors(path, {"w": w, "scale": s}, metadata={"note": "demo"})
    ...     back, meta = load_safetensors(path, return_metadata=True)
    ...     assert back["w"] == w and back["scale"].tolist() == [1.0, 0.5] and meta == {"note": "demo"}
    """
    _import_safetensors()
    from safetensors import TensorSpec, serialize_file

    if not isinstance(tensors, dict):
        raise TypeError(f"tensors must be a dict of name -> PackedArray / numpy array, not {type(tensors).__name__}")
    extra = {} if metadata is None else dict(metadata)
    if _ST_KEY in extra:
        raise ValueError(f"metadata: the key {_ST_KEY!r} is reserved for floatsim's own entry")
    for k, v in extra.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError(f"metadata must map strings to strings (safetensors metadata is text), not {k!r}: {v!r}")
    entries, specs, keep = {}, {}, []
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"tensors: names must be strings, not {name!r}")
        if name == "__metadata__":
            raise ValueError("tensors: the name '__metadata__' is reserved by the safetensors format")
        if isinstance(value, PackedArray):
            buf = np.asarray(value.data)
            shape = value.shape
            if value.fmt == CATALOGUE["float4_e2m1fn"] and len(shape) and shape[-1] % 2 == 0:
                storage, spec_dtype, spec_shape = "F4", "float4_e2m1fn_x2", [*shape[:-1], shape[-1] // 2]
            else:
                storage, spec_dtype, spec_shape = "U8", "uint8", [buf.size]
            entries[name] = {"kind": "packed", "format": _format_to_json(value.fmt), "shape": list(shape),
                             "storage": storage}
        elif isinstance(value, np.ndarray):
            arr = value
            if arr.dtype.byteorder == ">":
                arr = arr.astype(arr.dtype.newbyteorder("<"))
            arr = np.require(arr, requirements="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
            dtype_name = arr.dtype.name
            if dtype_name in _ST_WRITABLE:
                spec_dtype, spec_shape, buf = dtype_name, list(arr.shape), arr
            else:
                if not _is_ml_dtype(arr.dtype):
                    raise TypeError(f"tensors[{name!r}]: arrays of dtype {arr.dtype} cannot be stored in safetensors "
                                    "(allowed: bool, integers, float16/32/64, complex64 and the ml_dtypes types)")
                spec_dtype, spec_shape, buf = "uint8", [arr.nbytes], arr.reshape(-1).view(np.uint8)
                entries[name] = {"kind": "ndarray", "dtype": dtype_name, "shape": list(arr.shape), "storage": "U8"}
        else:
            raise TypeError(f"tensors[{name!r}] must be a PackedArray or a numpy array, not {type(value).__name__}")
        keep.append(buf)
        specs[name] = TensorSpec(dtype=spec_dtype, shape=spec_shape, data_ptr=buf.ctypes.data, data_len=buf.nbytes)
    header = {_ST_KEY: json.dumps({"version": FILE_VERSION, "layout": "lsb-first bit stream", "tensors": entries})}
    serialize_file(specs, os.fspath(path), metadata={**extra, **header})
    del keep  # the buffers had to live until serialize_file returned


def load_safetensors(path, *, return_metadata: bool = False):
    """Read the tensors of a safetensors file, packed arrays as `PackedArray`.

    Tensors written by `save_safetensors` come back as they were given (a `PackedArray` with its descriptor and
    shape, an array with its dtype). Tensors of other files: `F4` becomes a `PackedArray` of `float4_e2m1fn`
    (the `torch.float4_e2m1fn_x2` byte order), `F6_E2M3` / `F6_E3M2` a `PackedArray` of `float6_e2m3fn` /
    `float6_e3m2fn` (read as floatsim's least-significant-bits-first stream: safetensors does not fix the bit
    order of 6-bit data, so check it against the writer's convention), and the other dtypes NumPy arrays
    (`BF16` and `F8_*` as the ml_dtypes types).

    Parameters
    ----------
    path : str or os.PathLike
        The safetensors file.
    return_metadata : bool, default False
        Also return the file's text metadata (without floatsim's own entry).

    Returns
    -------
    dict of str to PackedArray or numpy.ndarray, or (that dict, dict of str to str)
        The tensors by name, in file order, and the metadata if `return_metadata`.

    Raises
    ------
    ValueError
        If the file is not valid safetensors, floatsim's entry has a version this floatsim does not read, or the
        entry does not match the tensors (a corrupted file).
    ImportError
        If safetensors is not installed.

    Examples
    --------
    Run only where safetensors is installed:

    >>> import importlib.util, os, tempfile
    >>> import numpy as np
    >>> from floatsim.packing import pack, save_safetensors, load_safetensors
    >>> path = os.path.join(tempfile.mkdtemp(), "int4.safetensors")
    >>> if importlib.util.find_spec("safetensors") is not None:
    ...     save_safetensors(path, {"q": pack(np.arange(5, dtype=np.uint8), "int4")})
    ...     assert repr(load_safetensors(path)) == "{'q': PackedArray(shape=(5,), fmt=int4, nbytes=3)}"
    """
    _import_safetensors()
    from safetensors import SafetensorError, deserialize, safe_open

    path = os.fspath(path)
    where = f"{path!r}"
    try:
        with safe_open(path, framework="numpy") as f:
            file_meta = dict(f.metadata() or {})
            order = list(f.offset_keys())
        with open(path, "rb") as fh:
            raw = dict(deserialize(fh.read()))
    except SafetensorError as exc:
        raise ValueError(f"{where} is not a valid safetensors file: {exc}") from None
    entries = {}
    if _ST_KEY in file_meta:
        try:
            own = json.loads(file_meta.pop(_ST_KEY))
        except ValueError as exc:
            raise ValueError(f"{where}: corrupted floatsim metadata (not JSON: {exc})") from None
        if not isinstance(own, dict) or own.get("version") != FILE_VERSION:
            version = own.get("version") if isinstance(own, dict) else None
            raise ValueError(f"{where}: floatsim metadata version {version!r}; this floatsim reads version "
                             f"{FILE_VERSION} only")
        entries = own.get("tensors") or {}
    out = {}
    for name in order:
        info = raw[name]
        st_dtype, st_shape, buf = info["dtype"], [int(d) for d in info["shape"]], info["data"]
        entry = entries.get(name)
        try:
            if entry is not None and entry.get("storage") != st_dtype:
                raise ValueError(f"stored as {st_dtype}, but floatsim's metadata says {entry.get('storage')!r}")
            if entry is not None and entry.get("kind") == "packed":
                fmt = _format_from_json(entry.get("format"), f"{where}, tensor {name!r}")
                if st_dtype == "F4" and st_shape != list(entry.get("shape", [])):
                    raise ValueError(f"header shape {st_shape} differs from the recorded shape {entry.get('shape')}")
                value = PackedArray(data=np.frombuffer(buf, np.uint8), shape=entry.get("shape"), fmt=fmt)
            elif entry is not None and entry.get("kind") == "ndarray":
                value = np.frombuffer(buf, _np_dtype(entry["dtype"])).reshape(entry["shape"])
            elif entry is not None:
                raise ValueError(f"unknown kind {entry.get('kind')!r} in floatsim's metadata")
            elif st_dtype in _ST_PACKED:
                value = PackedArray(data=np.frombuffer(buf, np.uint8), shape=st_shape,
                                    fmt=CATALOGUE[_ST_PACKED[st_dtype]])
            elif st_dtype in _ST_NUMPY:
                value = np.frombuffer(buf, _np_dtype(_ST_NUMPY[st_dtype])).reshape(st_shape)
            else:
                raise ValueError(f"dtype {st_dtype} is not one floatsim reads")
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise ValueError(f"{where}, tensor {name!r}: corrupted or unsupported: {exc}") from None
        out[name] = value
    return (out, file_meta) if return_metadata else out
