"""Packed sub-byte storage (floatsim.packing): layout, round trips, files, errors.

Oracles, all written independently of the kernels:

- `stream_pack` / `stream_unpack`: the definition of the layout with a Python big integer as the bit stream
  (code i is `(stream >> (i * bits)) & mask`, bytes are the stream's little-endian bytes);
- `bitplane_pack`: the same layout through `numpy.packbits(..., bitorder="little")` on the codes' bits, for the
  long arrays the big integer would be slow on;
- the 4-bit order against torchao's FP4 packing and `torch.float4_e2m1fn_x2` (through safetensors' torch loader),
  and against the ONNX specification's sentence written out by hand.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

import floatsim as fs
from floatsim import FloatFormat, IntFormat
from floatsim.packing import FILE_VERSION, PackedArray, load, load_safetensors, pack, save, save_safetensors, unpack

ROOT = Path(__file__).resolve().parent.parent

# every sub-byte format family: catalogue floats and ints, custom floats of 3, 5 and 7 bits, P3109 binary3..7
FORMATS = [
    fs.get_format("float4_e2m1fn"),
    fs.get_format("int4"),
    fs.get_format("uint4"),
    fs.get_format("float6_e2m3fn"),
    fs.get_format("float6_e3m2fn"),
    fs.get_format("int2"),
    fs.get_format("uint2"),
    IntFormat(bits=1, signed=False, name="uint1"),
    IntFormat(bits=3, name="int3"),
    IntFormat(bits=5, signed=False, name="uint5"),
    IntFormat(bits=7, name="int7"),
    FloatFormat(exponent_bits=1, mantissa_bits=1, specials="none", name="e1m1"),
    FloatFormat(exponent_bits=3, mantissa_bits=1, name="e3m1_ieee"),
    FloatFormat(exponent_bits=2, mantissa_bits=2, signed=False, specials="fn", name="ue2m2fn"),
    FloatFormat(exponent_bits=4, mantissa_bits=2, specials="fn", name="e4m2fn"),
    FloatFormat(exponent_bits=3, mantissa_bits=3, bias=2, subnormals=False, specials="fnuz", name="e3m3_b2_nosub"),
    fs.p3109(3, 1),
    fs.p3109(3, 2, signed=False, extended=False),
    fs.p3109(4, 2),
    fs.p3109(5, 2),
    fs.p3109(5, 3, extended=False),
    fs.p3109(6, 3),
    fs.p3109(7, 3),
    fs.p3109(7, 4, signed=False),
]
BY_BITS = sorted({f.bits for f in FORMATS})
assert BY_BITS == [1, 2, 3, 4, 5, 6, 7]


def fid(f):
    return f"{f}-{f.bits}b"


def period(bits):
    """Codes after which the bit position repeats modulo 8."""
    return 8 // math.gcd(8, bits)


def stream_pack(codes, bits) -> bytes:
    flat = [int(c) for c in np.asarray(codes).reshape(-1)]
    stream = 0
    for i, c in enumerate(flat):
        assert 0 <= c < 1 << bits
        stream |= c << (i * bits)
    return stream.to_bytes((len(flat) * bits + 7) // 8, "little")


def stream_unpack(data: bytes, bits, n) -> list[int]:
    stream = int.from_bytes(bytes(data), "little")
    return [(stream >> (i * bits)) & ((1 << bits) - 1) for i in range(n)]


def bitplane_pack(codes, bits) -> np.ndarray:
    flat = np.asarray(codes, np.uint8).reshape(-1)
    planes = (flat[:, None] >> np.arange(bits, dtype=np.uint8)) & 1  # row i: the bits of code i, LSB first
    return np.packbits(planes.reshape(-1), bitorder="little")


# --------------------------------------------------------------------------- exhaustive layout
@pytest.mark.parametrize("fmt", FORMATS, ids=fid)
def test_every_code_at_every_position_matches_the_stream_oracle(fmt):
    """Each code at each position modulo the packing period, next to equal and to different neighbours."""
    p = period(fmt.bits)
    n = fmt.num_codes
    runs = np.repeat(np.arange(n, dtype=np.uint8), p)  # code c at positions c*p .. c*p+p-1: every residue
    rng = np.random.default_rng(fmt.bits)
    mixed = rng.permutation(np.tile(np.arange(n, dtype=np.uint8), p))
    shifted = np.concatenate([np.arange(r, dtype=np.uint8) % n for r in range(p + 1)] + [runs])
    for codes in (runs, mixed, shifted, runs[::-1].copy()):
        for cut in range(p + 1):  # every tail length, so every count of padding bits
            part = codes[: codes.size - cut]
            packed = pack(part, fmt)
            assert bytes(packed.data) == stream_pack(part, fmt.bits)
            assert packed.nbytes == (part.size * fmt.bits + 7) // 8
            back = unpack(packed)
            assert back.dtype == fmt.code_dtype and np.array_equal(back, part)
            assert stream_unpack(packed.data, fmt.bits, part.size) == part.tolist()


@pytest.mark.parametrize("fmt", FORMATS, ids=fid)
def test_unpack_of_oracle_bytes(fmt):
    """unpack reads any byte stream (every bit pattern is a code) as the definition says."""
    rng = np.random.default_rng(100 + fmt.bits)
    for n in (0, 1, 7, 8, 9, 64, 65, 129):
        nbytes = (n * fmt.bits + 7) // 8
        raw = rng.integers(0, 256, nbytes, dtype=np.uint8)
        spare = nbytes * 8 - n * fmt.bits
        if spare:
            raw[-1] &= 0xFF >> spare  # padding bits are zero in a valid PackedArray
        p = PackedArray(data=raw, shape=(n,), fmt=fmt)
        assert unpack(p).tolist() == stream_unpack(raw, fmt.bits, n)


@pytest.mark.parametrize("fmt", FORMATS, ids=fid)
def test_random_lengths_and_shapes(fmt):
    rng = np.random.default_rng(fmt.bits * 7 + fmt.num_codes)
    lengths = [0, 1, 2, 3, 5, 299, 300] + rng.integers(0, 301, 25).tolist()
    for n in lengths:
        codes = rng.integers(0, fmt.num_codes, n, dtype=np.uint8)
        p = pack(codes, fmt)
        assert p.shape == (n,) and p.size == n and p.bits == fmt.bits
        assert bytes(p.data) == stream_pack(codes, fmt.bits)
        assert np.array_equal(unpack(p), codes)
    for shape in [(), (0,), (3, 0, 2), (1, 1), (3, 5), (2, 3, 7), (7, 1, 3, 3), (1, 299)]:
        codes = rng.integers(0, fmt.num_codes, shape, dtype=np.uint8)
        p = pack(codes, fmt)
        assert p.shape == shape
        assert bytes(p.data) == stream_pack(codes, fmt.bits)  # C order
        back = p.unpack()
        assert back.shape == shape and np.array_equal(back, codes)


@pytest.mark.parametrize("bits", BY_BITS)
def test_long_arrays_through_the_parallel_chunks(bits):
    """Several chunks, a partial last chunk and a tail; packbits as the oracle."""
    fmt = next(f for f in FORMATS if f.bits == bits)
    rng = np.random.default_rng(bits)
    n = 3 * (1 << 16) * period(bits) // 2 + 5  # > 16384 units per chunk, not a whole number of chunks
    codes = rng.integers(0, fmt.num_codes, n, dtype=np.uint8)
    p = pack(codes, fmt)
    assert np.array_equal(p.data, bitplane_pack(codes, bits))
    assert np.array_equal(unpack(p), codes)


def test_bitplane_oracle_agrees_with_stream_oracle():
    rng = np.random.default_rng(0)
    for bits in BY_BITS:
        codes = rng.integers(0, 1 << bits, 77, dtype=np.uint8)
        assert bytes(bitplane_pack(codes, bits)) == stream_pack(codes, bits)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint16, np.uint32, np.uint64])
def test_any_integer_dtype(dtype):
    codes = np.array([[0, 15, 7], [8, 1, 2]], dtype)
    p = pack(codes, "int4")
    assert p == pack(codes.astype(np.uint8), "int4")
    assert pack(codes.tolist(), "int4") == p


def test_views_fortran_order_and_read_only_input():
    rng = np.random.default_rng(5)
    base = rng.integers(0, 16, (40, 30), dtype=np.uint8)
    for codes in (base[::3, 1::2], np.asfortranarray(base), base.T):
        assert bytes(pack(codes, "uint4").data) == stream_pack(codes, 4)  # C order of the logical array
    ro = base.copy()
    ro.flags.writeable = False
    assert np.array_equal(pack(ro, "uint4").unpack(), base)


# --------------------------------------------------------------------------- the 4-bit order
def test_fp4_nibble_order_is_the_onnx_sentence():
    """ONNX float4: "The first element is stored in the 4 LSB and the second element is stored in the 4 MSB"."""
    x, y = 0b0010, 0b1001  # 1.0, -0.5
    assert pack([x, y], "float4_e2m1fn").data.tolist() == [y << 4 | x]
    assert pack([x, y, x], "float4_e2m1fn").data.tolist() == [y << 4 | x, x]
    assert pack([1, 2, 3, 0], "int2").data.tolist() == [0b00_11_10_01]


def _torchao_fp4_bytes(values):
    torch = pytest.importorskip("torch")
    kernels = pytest.importorskip("torchao.prototype.mx_formats.kernels")
    packed = kernels.pack_uint4(kernels.f32_to_f4_unpacked(torch.tensor(values, dtype=torch.float32)))
    return torch, packed.view(torch.float4_e2m1fn_x2)


def test_fp4_nibble_order_matches_torch_float4_e2m1fn_x2():
    """torchao rounds float32 to FP4 and packs a torch.float4_e2m1fn_x2 tensor; its bytes are ours."""
    values = fs.decode(np.arange(16, dtype=np.uint8), "float4_e2m1fn").astype(np.float32)
    values = np.concatenate([values, values[::-1], values[3:11]]).reshape(2, -1)  # every code in both nibbles
    torch, t = _torchao_fp4_bytes(values)
    assert t.dtype == torch.float4_e2m1fn_x2 and tuple(t.shape) == (2, values.shape[1] // 2)
    ours = pack(fs.encode(values, "float4_e2m1fn"), "float4_e2m1fn")
    assert np.array_equal(t.view(torch.uint8).numpy().reshape(-1), ours.data)


def test_fp4_bytes_of_torchao_mxtensor():
    """A whole MXFP4 quantization in torchao (scale 1: the block maximum is 6) stores our bytes."""
    torch = pytest.importorskip("torch")
    mx = pytest.importorskip("torchao.prototype.mx_formats.mx_tensor")
    rng = np.random.default_rng(1)
    values = fs.decode(rng.integers(0, 16, (4, 32), dtype=np.uint8), "float4_e2m1fn").astype(np.float32)
    values[:, 0] = 6.0
    m = mx.MXTensor.to_mx(torch.from_numpy(values), torch.float4_e2m1fn_x2, block_size=32)
    assert np.all(m.scale.view(torch.uint8).numpy() == 127)  # 2**0
    ours = pack(fs.encode(values, "float4_e2m1fn"), "float4_e2m1fn")
    assert np.array_equal(m.qdata.view(torch.uint8).numpy().reshape(-1), ours.data)


# --------------------------------------------------------------------------- PackedArray
def test_packed_array_properties_and_decode():
    codes = np.array([[1, 2, 3], [13, 14, 15]], np.uint8)
    p = pack(codes, "float4_e2m1fn")
    assert (p.size, p.nbytes, p.bits, p.shape) == (6, 3, 4, (2, 3))
    assert p.fmt is fs.get_format("float4_e2m1fn")
    assert repr(p) == "PackedArray(shape=(2, 3), fmt=float4_e2m1fn, nbytes=3)"
    np.testing.assert_array_equal(p.decode(), fs.decode(codes, "float4_e2m1fn"))
    assert p.decode(dtype=np.float64).dtype == np.float64
    assert not p.data.flags.writeable
    with pytest.raises(ValueError):
        p.data[0] = 0
    with pytest.raises(dataclasses_frozen_error()):
        p.shape = (6,)
    with pytest.raises(TypeError):
        hash(p)


def dataclasses_frozen_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


def test_packed_array_equality():
    a = pack([1, 2, 3], "int4")
    assert a == pack(np.array([1, 2, 3]), fs.IntFormat(bits=4, name="other name"))  # names are not compared
    assert a != pack([1, 2, 3], "uint4")
    assert a != pack([1, 2, 4], "int4")
    assert a != pack([[1, 2, 3]], "int4")
    assert a != "not packed"


def test_packed_array_does_not_alias_a_writeable_caller_array():
    raw = np.array([0x21, 0x03], np.uint8)
    p = PackedArray(data=raw, shape=(3,), fmt="int4")
    assert raw.flags.writeable  # the caller's array is left as it was
    assert p.fmt == fs.get_format("int4") and p.unpack().tolist() == [1, 2, 3]


BAD_PACKED = [
    ("wide-format", dict(data=np.zeros(3, np.uint8), shape=(3,), fmt="float8_e4m3fn"), ValueError,
     "packing is for sub-byte formats"),
    ("int8", dict(data=np.zeros(3, np.uint8), shape=(3,), fmt="int8"), ValueError, "int8 has 8 bits"),
    ("data-dtype", dict(data=np.zeros(2, np.int64), shape=(3,), fmt="int4"), TypeError, "uint8"),
    ("data-2d", dict(data=np.zeros((1, 2), np.uint8), shape=(3,), fmt="int4"), ValueError, "1-D"),
    ("too-short", dict(data=np.zeros(1, np.uint8), shape=(3,), fmt="int4"), ValueError, "take 2"),
    ("too-long", dict(data=np.zeros(3, np.uint8), shape=(3,), fmt="int4"), ValueError, "take 2"),
    ("padding", dict(data=np.array([0, 0x10], np.uint8), shape=(3,), fmt="int4"), ValueError, "padding bits"),
    ("negative-dim", dict(data=np.zeros(0, np.uint8), shape=(-1,), fmt="int4"), ValueError, "shape"),
    ("float-dim", dict(data=np.zeros(2, np.uint8), shape=(3.0,), fmt="int4"), ValueError, "shape"),
    ("shape-none", dict(data=np.zeros(2, np.uint8), shape=None, fmt="int4"), TypeError, "shape"),
    ("unknown-format", dict(data=np.zeros(2, np.uint8), shape=(3,), fmt="float5"), ValueError, "unknown format"),
]


@pytest.mark.parametrize("kwargs,exc,match", [b[1:] for b in BAD_PACKED], ids=[b[0] for b in BAD_PACKED])
def test_packed_array_validates(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        PackedArray(**kwargs)


# --------------------------------------------------------------------------- pack / unpack errors
@pytest.mark.parametrize("fmt", FORMATS, ids=fid)
def test_first_out_of_range_code_is_named(fmt):
    n = fmt.num_codes
    codes = np.zeros((3, 50), np.uint8)
    codes[1, 7] = n
    codes[2, 3] = 255
    with pytest.raises(ValueError, match=re.escape(f"codes[1, 7] = {n} is out of range for the {fmt.bits}-bit")):
        pack(codes, fmt)
    wide = codes.astype(np.int64)
    wide[0, 40] = -1
    with pytest.raises(ValueError, match=re.escape("codes[0, 40] = -1 is out of range")):
        pack(wide, fmt)
    with pytest.raises(ValueError, match=re.escape(f"codes must be in 0..{n - 1}")):
        pack(np.full(100_000, n, np.uint16), fmt)


def test_out_of_range_in_tail_and_in_a_late_chunk():
    codes = np.zeros(3 * (1 << 16) + 1, np.uint8)
    codes[-1] = 16
    with pytest.raises(ValueError, match=re.escape(f"codes[{codes.size - 1}] = 16")):
        pack(codes, "int4")
    codes[-1] = 0
    codes[70_000] = 200
    with pytest.raises(ValueError, match=re.escape("codes[70000] = 200")):
        pack(codes, "int4")


@pytest.mark.parametrize("name", ["float8_e4m3fn", "float8_e8m0fnu", "int8", "uint8", "bfloat16", "float32"])
def test_wide_formats_are_refused(name):
    with pytest.raises(ValueError, match=r"fmt: packing is for sub-byte formats \(1 to 7 bits\)"):
        pack([1, 2], name)


@pytest.mark.parametrize("codes", [np.array([1.0, 2.0]), np.array([True, False]), ["a"], np.array([1 + 0j])],
                         ids=["float", "bool", "str", "complex"])
def test_non_integer_codes_are_refused(codes):
    with pytest.raises(TypeError, match="codes must be an integer array"):
        pack(codes, "int4")


@pytest.mark.parametrize("name", ["float4_e2m1fn", "float6_e2m3fn", "float6_e3m2fn"])
def test_typed_codes_of_the_same_format(name):
    """encode(..., typed=True) gives ml_dtypes values whose bytes are the codes: pack takes them as codes."""
    fmt = fs.get_format(name)
    codes = np.arange(fmt.num_codes, dtype=np.uint8)
    typed = fs.encode(fs.decode(codes, fmt), fmt, typed=True)
    assert typed.dtype.name == name
    assert pack(typed, fmt) == pack(codes, fmt)
    other = "int4" if name == "float4_e2m1fn" else "float4_e2m1fn"
    with pytest.raises(TypeError, match=f"values, not codes of {other}"):
        pack(typed, other)


def test_empty_list_packs_to_nothing():
    p = pack([], "int4")
    assert p.shape == (0,) and p.nbytes == 0 and unpack(p).shape == (0,)


def test_unpack_refuses_other_objects():
    with pytest.raises(TypeError, match="packed must be a PackedArray"):
        unpack(np.zeros(3, np.uint8))


# --------------------------------------------------------------------------- .npz files
@pytest.mark.parametrize("fmt", FORMATS, ids=fid)
def test_npz_round_trip_keeps_bits_and_descriptor(tmp_path, fmt):
    rng = np.random.default_rng(fmt.num_codes)
    codes = rng.integers(0, fmt.num_codes, (3, 11), dtype=np.uint8)
    p = pack(codes, fmt)
    path = tmp_path / "p.npz"
    save(path, p)
    q = load(path)
    assert q == p and q.fmt == fmt and q.fmt.name == fmt.name and type(q.fmt) is type(fmt)
    assert np.array_equal(q.unpack(), codes)
    with np.load(path, allow_pickle=False) as npz:  # readable without floatsim
        assert np.array_equal(npz["data"], p.data)
        header = json.loads(str(npz["header"]))
    assert header["version"] == FILE_VERSION and header["shape"] == [3, 11] and header["bits"] == fmt.bits


def test_npz_metadata_and_path_kinds(tmp_path):
    p = pack(np.arange(5, dtype=np.uint8), "uint4")
    save(str(tmp_path / "a"), p, note="no suffix added", nested={"k": [1, 2.5, None]})
    assert (tmp_path / "a").exists() and not (tmp_path / "a.npz").exists()
    q, meta = load(tmp_path / "a", return_metadata=True)
    assert q == p and meta == {"note": "no suffix added", "nested": {"k": [1, 2.5, None]}}
    with pytest.raises(TypeError, match="metadata must be JSON-serialisable"):
        save(tmp_path / "b.npz", p, bad=object())
    with pytest.raises(TypeError, match="packed must be a PackedArray"):
        save(tmp_path / "c.npz", np.zeros(3, np.uint8))
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.npz")


def _write_npz(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _header(**changes):
    h = {"magic": "floatsim.packed", "version": FILE_VERSION, "shape": [3], "bits": 4,
         "layout": "lsb-first bit stream", "format": {"kind": "int", "fields": {"bits": 4, "signed": True}},
         "metadata": {}}
    h.update(changes)
    return np.array(json.dumps(h))


CORRUPT_NPZ = [
    ("not-a-zip", None, "not a floatsim packed file"),
    ("missing-header", dict(data=np.zeros(2, np.uint8)), "not the arrays 'data' and 'header'"),
    ("header-not-json", dict(data=np.zeros(2, np.uint8), header=np.array("{oops")), "not JSON"),
    ("no-magic", dict(data=np.zeros(2, np.uint8), header=np.array(json.dumps({"version": 1}))), "lacks magic"),
    ("future-version", dict(data=np.zeros(2, np.uint8), header=_header(version=2)),
     "file version 2; this floatsim reads version 1 only"),
    ("no-version", dict(data=np.zeros(2, np.uint8), header=_header(version=None)), "file version None"),
    ("bad-kind", dict(data=np.zeros(2, np.uint8), header=_header(format={"kind": "posit", "fields": {}})),
     "format descriptor must be"),
    ("bad-fields", dict(data=np.zeros(2, np.uint8),
                        header=_header(format={"kind": "float", "fields": {"exponent_bits": 0, "mantissa_bits": 1}})),
     "invalid format descriptor"),
    ("unknown-field", dict(data=np.zeros(2, np.uint8),
                           header=_header(format={"kind": "int", "fields": {"bits": 4, "colour": "red"}})),
     "invalid format descriptor"),
    ("wide-format", dict(data=np.zeros(3, np.uint8),
                         header=_header(bits=8, format={"kind": "int", "fields": {"bits": 8}})),
     "packing is for sub-byte formats"),
    ("truncated-data", dict(data=np.zeros(1, np.uint8), header=_header()), "data has 1 bytes"),
    ("nonzero-padding", dict(data=np.array([0, 0xF0], np.uint8), header=_header()), "padding bits"),
    ("wrong-bits", dict(data=np.zeros(2, np.uint8), header=_header(bits=5)), "bits=5 but the format has 4"),
    ("data-dtype", dict(data=np.zeros(2, np.int16), header=_header()), "uint8"),
    ("pickled-header", dict(data=np.zeros(2, np.uint8), header=np.array({"magic": "x"}, dtype=object)),
     "not a floatsim packed file"),
    ("shape-not-a-list", dict(data=np.zeros(2, np.uint8), header=_header(shape="abc")), "shape"),
]


@pytest.mark.parametrize("arrays,match", [c[1:] for c in CORRUPT_NPZ], ids=[c[0] for c in CORRUPT_NPZ])
def test_corrupted_npz_files_are_refused_clearly(tmp_path, arrays, match):
    path = tmp_path / "bad.npz"
    if arrays is None:
        path.write_bytes(b"this is not a zip archive")
    else:
        _write_npz(path, **arrays)
    with pytest.raises(ValueError, match=re.escape(match)) as info:
        load(path)
    assert str(path) in str(info.value)


def test_truncated_zip_is_refused(tmp_path):
    path = tmp_path / "p.npz"
    save(path, pack(np.arange(100, dtype=np.uint8) % 16, "int4"))
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="not a floatsim packed file"):
        load(path)
    assert zipfile.is_zipfile(tmp_path / "p.npz") is False


# --------------------------------------------------------------------------- safetensors
@pytest.fixture
def st():
    return pytest.importorskip("safetensors")


def _raw_header(path):
    raw = Path(path).read_bytes()
    n = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8:8 + n])


@pytest.mark.parametrize("fmt", FORMATS, ids=fid)
def test_safetensors_round_trip_of_every_format(st, tmp_path, fmt):
    rng = np.random.default_rng(fmt.num_codes + 1)
    tensors = {f"t{i}": pack(rng.integers(0, fmt.num_codes, shape, dtype=np.uint8), fmt)
               for i, shape in enumerate([(4, 6), (3, 5), (7,), (), (0, 2)])}
    path = tmp_path / "m.safetensors"
    save_safetensors(path, tensors)
    back = load_safetensors(path)
    assert set(back) == set(tensors)
    for name, p in tensors.items():
        assert back[name] == p and back[name].fmt.name == fmt.name, name
    header = _raw_header(path)
    native = fmt == fs.get_format("float4_e2m1fn")
    assert header["t0"]["dtype"] == ("F4" if native else "U8")
    assert header["t0"]["shape"] == ([4, 6] if native else [tensors["t0"].nbytes])
    assert header["t1"]["dtype"] == "U8"  # odd last dimension: no F4 shape for it


def test_safetensors_f4_is_torch_float4_e2m1fn_x2(st, tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file, save_file

    codes = np.random.default_rng(2).integers(0, 16, (3, 8), dtype=np.uint8)
    p = pack(codes, "float4_e2m1fn")
    path = tmp_path / "fp4.safetensors"
    save_safetensors(path, {"w": p})
    t = load_file(path)["w"]
    assert t.dtype == torch.float4_e2m1fn_x2 and tuple(t.shape) == (3, 4)
    assert np.array_equal(t.view(torch.uint8).numpy().reshape(-1), p.data)
    # and a file torch wrote (no floatsim metadata) reads as float4_e2m1fn codes
    other = tmp_path / "torch.safetensors"
    save_file({"x": t.clone()}, other)
    back = load_safetensors(other)["x"]
    assert back.fmt == fs.get_format("float4_e2m1fn") and back.shape == (3, 8) and np.array_equal(back.unpack(), codes)


def test_safetensors_arrays_keep_their_dtype(st, tmp_path):
    import ml_dtypes

    arrays = {
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3),
        "f64": np.array([0.1, 0.2]),
        "f16": np.array([1.5], np.float16),
        "c64": np.array([1 + 2j], np.complex64),
        "i8": np.array([-1, 2], np.int8),
        "u64": np.array([2**63], np.uint64),
        "bool": np.array([True, False]),
        "big_endian": np.array([1.0, 2.0], ">f4"),
        "fortran": np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3)),
        "scalar": np.array(3, np.int32),
    }
    for name in ("bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e8m0fnu", "float8_e4m3fnuz",
                 "float8_e5m2fnuz", "float8_e3m4", "float8_e4m3", "float8_e4m3b11fnuz", "float4_e2m1fn",
                 "float6_e2m3fn", "int4", "uint2"):
        arrays[name] = np.array([[1, 0], [-1, 0.5]] if "int" not in name else [[1, 0], [1, 1]],
                                dtype=getattr(ml_dtypes, name))
    path = tmp_path / "a.safetensors"
    save_safetensors(path, arrays)
    back = load_safetensors(path)
    for name, a in arrays.items():
        b = back[name]
        expected_dtype = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
        assert b.dtype == expected_dtype and b.shape == a.shape, name
        assert b.tobytes() == a.astype(expected_dtype).tobytes(), name  # bit for bit
    header = _raw_header(path)
    assert header["bfloat16"]["dtype"] == "BF16" and header["float8_e4m3fn"]["dtype"] == "F8_E4M3"
    assert header["float8_e8m0fnu"]["dtype"] == "F8_E8M0" and header["float8_e3m4"]["dtype"] == "U8"


def test_safetensors_order_and_metadata(st, tmp_path):
    path = tmp_path / "m.safetensors"
    tensors = {"b": pack([1, 2], "int2"), "a": np.zeros(3, np.float32), "c": pack([1, 2, 3, 4], "float4_e2m1fn")}
    save_safetensors(path, tensors, metadata={"author": "me", "format": "pt"})
    back, meta = load_safetensors(path, return_metadata=True)
    assert meta == {"author": "me", "format": "pt"}
    with st.safe_open(path, framework="numpy") as f:
        assert list(back) == list(f.offset_keys())


def _write_raw_safetensors(path, entries: dict, payload: bytes, metadata=None):
    header = dict(entries)
    if metadata is not None:
        header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    Path(path).write_bytes(len(raw).to_bytes(8, "little") + raw + payload)


def test_safetensors_f6_headers_of_other_writers_read_as_floatsim_stream(st, tmp_path):
    codes = np.random.default_rng(3).integers(0, 64, (2, 8), dtype=np.uint8)
    payload = stream_pack(codes, 6)
    path = tmp_path / "f6.safetensors"
    _write_raw_safetensors(path, {
        "e2m3": {"dtype": "F6_E2M3", "shape": [2, 8], "data_offsets": [0, 12]},
        "e3m2": {"dtype": "F6_E3M2", "shape": [2, 8], "data_offsets": [12, 24]},
    }, payload + payload)
    back = load_safetensors(path)
    assert back["e2m3"].fmt == fs.get_format("float6_e2m3fn") and back["e3m2"].fmt == fs.get_format("float6_e3m2fn")
    assert np.array_equal(back["e2m3"].unpack(), codes) and np.array_equal(back["e3m2"].unpack(), codes)


SAVE_ERRORS = [
    ("not-a-dict", [pack([1], "int4")], None, TypeError, "tensors must be a dict"),
    ("bad-value", {"x": [1, 2]}, None, TypeError, "must be a PackedArray or a numpy array"),
    ("bad-name", {1: np.zeros(2)}, None, TypeError, "names must be strings"),
    ("reserved-name", {"__metadata__": np.zeros(2)}, None, ValueError, "'__metadata__' is reserved"),
    ("reserved-key", {"x": np.zeros(2)}, {"floatsim": "x"}, ValueError, "'floatsim' is reserved"),
    ("non-str-meta", {"x": np.zeros(2)}, {"n": 1}, TypeError, "strings to strings"),
    ("object-dtype", {"x": np.array([None])}, None, TypeError, "cannot be stored in safetensors"),
    ("complex128", {"x": np.array([1j])}, None, TypeError, "cannot be stored in safetensors"),
    ("strings", {"x": np.array(["a"])}, None, TypeError, "cannot be stored in safetensors"),
]


@pytest.mark.parametrize("tensors,metadata,exc,match", [e[1:] for e in SAVE_ERRORS], ids=[e[0] for e in SAVE_ERRORS])
def test_save_safetensors_errors(st, tmp_path, tensors, metadata, exc, match):
    with pytest.raises(exc, match=re.escape(match)):
        save_safetensors(tmp_path / "x.safetensors", tensors, metadata=metadata)


def _floatsim_entry(**changes):
    entry = {"version": FILE_VERSION, "layout": "lsb-first bit stream",
             "tensors": {"x": {"kind": "packed", "format": {"kind": "int", "fields": {"bits": 4}}, "shape": [3],
                               "storage": "U8"}}}
    entry.update(changes)
    return json.dumps(entry)


LOAD_ERRORS = [
    ("not-safetensors", "garbage", None, "not a valid safetensors file"),
    ("future-version", {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}, _floatsim_entry(version=9),
     "floatsim metadata version 9; this floatsim reads version 1 only"),
    ("meta-not-json", {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}, "{nope", "not JSON"),
    ("bytes-mismatch", {"dtype": "U8", "shape": [3], "data_offsets": [0, 3]}, _floatsim_entry(), "data has 3 bytes"),
    ("storage-mismatch", {"dtype": "I8", "shape": [2], "data_offsets": [0, 2]}, _floatsim_entry(),
     "stored as I8, but floatsim's metadata says 'U8'"),
    ("bad-descriptor", {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},
     _floatsim_entry(tensors={"x": {"kind": "packed", "format": {"kind": "int", "fields": {"bits": 99}},
                                    "shape": [3], "storage": "U8"}}), "invalid format descriptor"),
    ("unknown-kind", {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},
     _floatsim_entry(tensors={"x": {"kind": "sparse", "storage": "U8"}}), "unknown kind 'sparse'"),
]


@pytest.mark.parametrize("entry,meta,match", [e[1:] for e in LOAD_ERRORS], ids=[e[0] for e in LOAD_ERRORS])
def test_load_safetensors_refuses_corrupted_files(st, tmp_path, entry, meta, match):
    path = tmp_path / "bad.safetensors"
    if entry == "garbage":
        path.write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00{oops")
    else:
        size = entry["data_offsets"][1]
        _write_raw_safetensors(path, {"x": entry}, bytes(size), metadata={"floatsim": meta})
    with pytest.raises(ValueError, match=re.escape(match)) as info:
        load_safetensors(path)
    assert str(path) in str(info.value)


def test_without_safetensors_the_error_names_the_extra(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "safetensors", None)  # import safetensors now raises ImportError
    with pytest.raises(ImportError, match=re.escape("pip install 'floatsim[safetensors]'")):
        save_safetensors(tmp_path / "x.safetensors", {"x": np.zeros(2)})
    with pytest.raises(ImportError, match="safetensors"):
        load_safetensors(tmp_path / "x.safetensors")
    p = pack([1, 2], "int4")  # the rest of the module needs no safetensors
    save(tmp_path / "x.npz", p)
    assert load(tmp_path / "x.npz") == p


# --------------------------------------------------------------------------- the how-to page
def test_howto_page_examples_run():
    import doctest

    page = ROOT / "docs" / "howto" / "packed-storage.md"
    if not page.exists():
        pytest.skip("docs/ not present (installed package)")
    pytest.importorskip("safetensors")
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    runner.run(doctest.DocTestParser().get_doctest("\n".join(blocks), {}, page.name, str(page), 0))
    assert runner.failures == 0
