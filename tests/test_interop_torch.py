"""CPU torch tensors through encode / decode / cast and the quantizers: bits identical to the NumPy path.

The oracle is the in-memory NumPy path of floatsim on an independent NumPy twin of each tensor (its bits
read through an integer view, never through floatsim's adapter), and torch's own casts (`Tensor.to`,
`Tensor.float`) where torch rounds the same way (docs/howto/match-pytorch.md lists where it does not).
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

import floatsim as fs
import floatsim.quant as fq
from floatsim import _adapt, core
from floatsim.testing import assert_bitwise_equal

torch = pytest.importorskip("torch")
ml_dtypes = pytest.importorskip("ml_dtypes")

FORMATS = fs.list_formats()
# torch float dtypes read through an ml_dtypes view (the rest map to NumPy directly)
VIA_ML = ("bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu")
INPUT_DTYPES = ("float16", "float32", "float64", *VIA_ML)
# formats torch has a dtype for: encode(..., typed=True) of a tensor returns that dtype
TORCH_TYPED = ("float16", "float32", *VIA_ML)
ML_ONLY = tuple(n for n in core._ML_DTYPE_NAMES if n not in TORCH_TYPED)
_INT_VIEW = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}
_NP_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def twin(t) -> np.ndarray:
    """A NumPy copy of tensor `t`, made without floatsim: float8 / bfloat16 through their bits."""
    t = t.detach().resolve_neg()
    name = str(t.dtype).removeprefix("torch.")
    if name in VIA_ML:
        ints = t.contiguous().view(_INT_VIEW[t.element_size()]).numpy()
        return ints.view(_NP_UINT[t.element_size()]).view(getattr(ml_dtypes, name)).copy()
    return t.contiguous().numpy().copy()


def bits(t) -> np.ndarray:
    """The bit patterns of a tensor (float dtypes) or its integers, as a NumPy array."""
    t = t.detach().contiguous()
    if t.is_floating_point():
        return t.view(_INT_VIEW[t.element_size()]).numpy().view(_NP_UINT[t.element_size()])
    return t.numpy()


def np_bits(a) -> np.ndarray:
    a = np.asarray(a).copy(order="C")  # np.ascontiguousarray would make a 0-d array 1-d
    return a.view(_NP_UINT[a.itemsize]) if a.dtype.kind in "fV" else a


def same_dtype(t, a) -> bool:
    """Whether tensor `t` has the dtype of the NumPy / ml_dtypes array `a`."""
    return str(t.dtype).removeprefix("torch.") == a.dtype.name


def sample_f32(n: int = 1500, seed: int = 0) -> np.ndarray:
    """float32 values of every kind: normals over a wide range, specials, ties, subnormals, overflow."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * np.exp2(rng.integers(-24, 24, n))).astype(np.float32)
    special = np.float32([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0625, -1.0625, 448.0, 464.0, 500.0, 57344.0,
                          65504.0, 1e-40, -1e-45, 3.0, 0.75, 12.0, 2.0**-127 * 1.25, 1 + 2.0**-8, 255.5])
    return np.concatenate([special, x])


def tensor_of(dtype_name: str, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(sample_f32(seed=seed)).to(getattr(torch, dtype_name))


def without_nan(t, fmt):
    """Drop NaN inputs for formats without NaN (FP6, FP4, integers: floatsim raises for them)."""
    if fs.get_format(fmt).has_nan:
        return t
    return t[~torch.isnan(t.float())]


def outcome(fn):
    """fn() or the type of the exception it raises."""
    try:
        return fn()
    except (TypeError, ValueError) as err:
        return type(err)


def assert_tensor_matches(got, want, *, nan_payloads=False):
    """A tensor `got` equals the NumPy array `want`: shape, dtype, bits."""
    assert isinstance(got, torch.Tensor), type(got)
    assert tuple(got.shape) == want.shape
    assert same_dtype(got, want), (got.dtype, want.dtype)
    g, w = bits(got), np_bits(want)
    if want.dtype.kind in "fV" and not nan_payloads:
        nan = np.isnan(want.astype(np.float64))
        assert np.isnan(got.detach().double().numpy())[nan].all()
        g, w = g[~nan], w[~nan]
    np.testing.assert_array_equal(g, w)


# --------------------------------------------------------------------------------- every verb, bits
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype_name", INPUT_DTYPES)
def test_encode_bits_identical_to_numpy_path(dtype_name, fmt):
    t = without_nan(tensor_of(dtype_name), fmt)
    want = outcome(lambda: fs.encode(twin(t), fmt))
    if isinstance(want, type):
        with pytest.raises(want):
            fs.encode(t, fmt)
        return
    assert_tensor_matches(fs.encode(t, fmt), want)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype_name", INPUT_DTYPES)
def test_cast_values_identical_to_numpy_path(dtype_name, fmt):
    t = without_nan(tensor_of(dtype_name, seed=1), fmt)
    want = outcome(lambda: fs.cast(twin(t), fmt))
    if isinstance(want, type):  # e.g. bfloat16 values into float16 input
        with pytest.raises(want):
            fs.cast(t, fmt)
        return
    got = fs.cast(t, fmt)
    if dtype_name in VIA_ML and got.dtype != torch.float32:  # kept in the input's dtype: every value is exact
        assert got.dtype == t.dtype
        want = want.astype(twin(t).dtype)
    assert_tensor_matches(got, want)


@pytest.mark.parametrize("fmt", FORMATS)
def test_decode_every_code_identical_to_numpy_path(fmt):
    f = fs.get_format(fmt)
    codes = np.arange(min(f.num_codes, 1 << 16), dtype=f.code_dtype)
    for tdtype in (torch.uint8, torch.int16, torch.int32, torch.int64):
        if codes.max() > torch.iinfo(tdtype).max:
            continue
        t = torch.from_numpy(codes.astype(np.int64)).to(tdtype)
        assert_tensor_matches(fs.decode(t, fmt), fs.decode(codes, fmt), nan_payloads=True)
    assert_tensor_matches(fs.decode(torch.from_numpy(codes), fmt, dtype=np.float64),
                          fs.decode(codes, fmt, dtype=np.float64), nan_payloads=True)


@pytest.mark.parametrize("name", VIA_ML)
def test_decode_typed_tensor_equals_torch_widening(name):
    """decode of a torch float8 / bfloat16 tensor of its own format: torch's own `.float()` (every code)."""
    dt = getattr(torch, name)
    ints = torch.arange(1 << (8 * dt.itemsize), dtype=torch.int64).to(_INT_VIEW[dt.itemsize])
    t = ints.view(dt)
    got = fs.decode(t, name)
    assert got.dtype == torch.float32 and got.shape == t.shape
    assert_bitwise_equal(got.numpy(), t.float().numpy())


@pytest.mark.parametrize("name", ["float8_e4m3fn", "bfloat16"])
def test_decode_typed_tensor_of_another_format_is_refused(name):
    t = torch.zeros(3, dtype=getattr(torch, name))
    other = "float8_e5m2" if name == "float8_e4m3fn" else "float16"
    with pytest.raises(TypeError, match="not codes of"):
        fs.decode(t, other)


# --------------------------------------------------------------------------------- shapes
SHAPES = {
    "0-d": lambda: torch.tensor(1.0625),
    "empty": lambda: torch.empty(0),
    "empty-2d": lambda: torch.empty(0, 3),
    "3-d": lambda: torch.linspace(-600, 600, 60).reshape(3, 4, 5),
    "transposed": lambda: torch.linspace(-3, 3, 12).reshape(3, 4).T,
    "strided": lambda: torch.linspace(-3, 3, 40)[::3],
    "expanded": lambda: torch.linspace(-3, 3, 5).expand(4, 5),
    "negative-view": lambda: torch.linspace(-3, 3, 7)._neg_view(),
}


@pytest.mark.parametrize("dtype_name", ["float32", "bfloat16", "float64"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_shapes_and_layouts(shape, dtype_name):
    t = SHAPES[shape]().to(getattr(torch, dtype_name))
    if shape == "negative-view":
        t = t._neg_view() if dtype_name != "float32" else t
    x = twin(t)
    for verb, kw in ((fs.encode, {}), (fs.cast, {}), (fs.encode, {"rounding": "stochastic", "seed": 3}),
                     (fs.cast, {"rounding": "toward_zero", "overflow": "saturate"})):
        got, want = verb(t, "float8_e4m3fn", **kw), verb(x, "float8_e4m3fn", **kw)
        want = np.asarray(want)
        if got.dtype == torch.bfloat16:
            want = want.astype(ml_dtypes.bfloat16)
        assert_tensor_matches(got, want)
    codes = fs.encode(t, "float8_e4m3fn")
    assert_tensor_matches(fs.decode(codes, "float8_e4m3fn"), fs.decode(fs.encode(x, "float8_e4m3fn"), "float8_e4m3fn"))


def test_zero_d_tensor_stays_a_tensor():
    got = fs.cast(torch.tensor(1.0625), "float8_e4m3fn", rounding="nearest_away")
    assert isinstance(got, torch.Tensor) and got.shape == () and got.item() == 1.125
    assert fs.encode(torch.tensor(1.0625), "float8_e4m3fn").item() == 56
    assert fs.decode(torch.tensor(56, dtype=torch.uint8), "float8_e4m3fn").item() == 1.0


def test_requires_grad_tensor_is_read_without_gradient():
    t = torch.linspace(-2, 2, 17, requires_grad=True)
    x = t.detach().numpy().copy()
    got = fs.cast(t, "float8_e4m3fn")
    assert not got.requires_grad and got.grad_fn is None
    assert_tensor_matches(got, fs.cast(x, "float8_e4m3fn"))
    assert_tensor_matches(fs.encode(t, "float8_e5m2"), fs.encode(x, "float8_e5m2"))
    b = t.detach().to(torch.bfloat16).requires_grad_(True)
    assert_tensor_matches(fs.cast(b, "float4_e2m1fn"), fs.cast(twin(b), "float4_e2m1fn").astype(ml_dtypes.bfloat16))


def test_parameter_is_a_tensor():
    p = torch.nn.Parameter(torch.linspace(-1, 1, 9))
    assert_tensor_matches(fs.cast(p, "int4"), fs.cast(twin(p), "int4"))


# --------------------------------------------------------------------------------- dtypes kept
def test_float_dtypes_kept():
    x = torch.linspace(-3, 3, 11)
    for dt in (torch.float16, torch.float32, torch.float64):
        assert fs.cast(x.to(dt), "float8_e4m3fn").dtype == dt
        assert fs.cast(x.to(dt), "float8_e4m3fn", dtype=np.float64).dtype == torch.float64
        assert fs.encode(x.to(dt), "float8_e4m3fn").dtype == torch.uint8
        assert fs.encode(x.to(dt), "bfloat16").dtype == torch.uint16
    assert fs.decode(torch.arange(4), "float8_e4m3fn").dtype == torch.float32
    assert fs.cast(torch.arange(4), "float8_e4m3fn").dtype == torch.float64  # integers: float64, as NumPy


# Hand-written from the definitions: the formats all of whose values (NaN, infinities, -0 included) are values
# of the input dtype, for which cast keeps that dtype; the rest give float32.
KEPT = {
    "bfloat16": {"bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e4m3", "float8_e3m4", "float8_e4m3fnuz",
                 "float8_e5m2fnuz", "float8_e4m3b11fnuz", "float6_e2m3fn", "float6_e3m2fn", "float4_e2m1fn",
                 "float8_e8m0fnu", "int2", "int4", "int8", "uint2", "uint4", "uint8"},
    # E4M3FN: no infinity, max 448, 3 mantissa bits, smallest value 2**-9
    "float8_e4m3fn": {"float8_e4m3fn", "float6_e2m3fn", "float6_e3m2fn", "float4_e2m1fn", "int2", "int4",
                      "uint2", "uint4"},
    # E5M2: 2 mantissa bits (integers of 3 bits: int4's -8..7, not uint4's 15), max 57344, smallest 2**-16
    "float8_e5m2": {"float8_e5m2", "float6_e3m2fn", "float4_e2m1fn", "int2", "int4", "uint2"},
    # fnuz types have no -0 (and E4M3FNUZ has no infinity): signed formats with -0 do not fit
    "float8_e4m3fnuz": {"float8_e4m3fnuz", "int2", "int4", "uint2", "uint4"},
    "float8_e5m2fnuz": {"float8_e5m2fnuz", "int2", "int4", "uint2"},
    "float8_e8m0fnu": {"float8_e8m0fnu"},
}


@pytest.mark.parametrize("name", VIA_ML)
def test_cast_keeps_narrow_dtype_exactly_where_every_value_fits(name):
    dt = getattr(torch, name)
    t = torch.tensor([0.5, 1.0, 2.0], dtype=dt)
    kept = {f for f in FORMATS if fs.cast(t, f).dtype == dt}
    assert kept == KEPT[name]
    for f in FORMATS:  # cross-check with torch's own cast: every value of f survives f -> float32 -> dt -> float32
        values = fs.decode(np.arange(min(fs.get_format(f).num_codes, 1 << 17)), f, dtype=np.float64)
        if fs.get_format(f).bits > 16:
            assert f not in kept
            continue
        back = torch.from_numpy(values).float().to(dt).double().numpy()
        nan = np.isnan(values)  # any NaN stands for NaN; the sign of zero counts
        fits = bool(np.array_equal(np.isnan(back), nan) and np.array_equal(back[~nan], values[~nan])
                    and np.array_equal(np.signbit(back[~nan]), np.signbit(values[~nan])))
        assert fits == (f in kept), f


def test_bfloat16_into_float16_gives_float32():
    """bfloat16 input: the NumPy path computes in float32; float16 values do not all fit bfloat16."""
    t = torch.tensor([0.1, 65504.0, 1e-7], dtype=torch.bfloat16)
    got = fs.cast(t, "float16")
    assert got.dtype == torch.float32
    assert_tensor_matches(got, fs.cast(twin(t), "float16"))
    assert fs.cast(t, "float8_e4m3fn").dtype == torch.bfloat16
    assert fs.cast(t, "int16").dtype == torch.float32
    assert fs.cast(t, "float8_e4m3fn", dtype=np.float32).dtype == torch.float32


def test_torch_dtype_argument():
    t = torch.linspace(-3, 3, 9)
    assert_tensor_matches(fs.cast(t, "float8_e4m3fn", dtype=torch.float64),
                          fs.cast(twin(t), "float8_e4m3fn", dtype=np.float64))
    assert fs.decode(torch.arange(5), "float8_e4m3fn", dtype=torch.float16).dtype == torch.float16
    with pytest.raises(TypeError, match="dtype must be float16, float32 or float64"):
        fs.cast(t, "float8_e4m3fn", dtype=torch.bfloat16)
    with pytest.raises(ValueError, match="not every value of bfloat16 is exact in float16"):
        fs.cast(t, "bfloat16", dtype=torch.float16)


# --------------------------------------------------------------------------------- typed codes
@pytest.mark.parametrize("name", TORCH_TYPED)
def test_typed_gives_the_torch_dtype_of_the_codes(name):
    t = torch.from_numpy(sample_f32(seed=2))
    got = fs.encode(t, name, typed=True)
    assert got.dtype == getattr(torch, name) and got.shape == t.shape
    codes = fs.encode(twin(t), name)
    np.testing.assert_array_equal(bits(got), codes.view(_NP_UINT[codes.itemsize]))


@pytest.mark.parametrize("name", TORCH_TYPED)
def test_typed_tensor_decodes_back(name):
    t = torch.from_numpy(sample_f32(seed=2))
    codes = fs.encode(twin(t), name)
    assert_tensor_matches(fs.decode(fs.encode(t, name, typed=True), name), fs.decode(codes, name))


# torch's casts from float32: the floatsim policy that reproduces each (docs/howto/match-pytorch.md)
TORCH_CAST_POLICY = {"float8_e4m3fn": "saturate", "float8_e5m2": "ieee", "float8_e4m3fnuz": "ieee",
                     "float8_e5m2fnuz": "ieee", "bfloat16": "ieee", "float16": "ieee", "float32": "ieee"}


@pytest.mark.parametrize("name", list(TORCH_CAST_POLICY))
def test_typed_equals_torch_to(name):
    """Every bfloat16 bit pattern as float32 plus random float32: equal to `t.to(dtype)`, NaN payloads aside."""
    rng = np.random.default_rng(5)
    x = np.concatenate([np.arange(1 << 16, dtype=np.uint32) << np.uint32(16),
                        rng.integers(0, 1 << 32, 100_000, dtype=np.uint64).astype(np.uint32)]).view(np.float32)
    t = torch.from_numpy(x)
    got = fs.encode(t, name, typed=True, overflow=TORCH_CAST_POLICY[name])
    want = t.to(getattr(torch, name))
    assert got.dtype == want.dtype
    nan = torch.isnan(want.float()).numpy()
    assert torch.isnan(got.float()).numpy()[nan].all()
    np.testing.assert_array_equal(bits(got)[~nan], bits(want)[~nan])


def test_typed_e4m3fn_default_policy_differs_from_torch_by_saturation():
    """torch's E4M3FN cast saturates; floatsim's default (as ml_dtypes) gives NaN beyond 464."""
    t = torch.tensor([470.0, 1e6, float("inf")])
    assert torch.isnan(fs.encode(t, "float8_e4m3fn", typed=True).float()).all()
    assert t.to(torch.float8_e4m3fn).float().tolist() == [448.0, 448.0, 448.0]


def test_typed_e8m0_equals_torch_on_exact_values():
    """E8M0 rounding differs from torch's (docs/howto/match-pytorch.md); on its own values both are exact."""
    e = np.arange(255, dtype=np.uint8)
    x = torch.from_numpy(fs.decode(e, "float8_e8m0fnu"))
    got = fs.encode(x, "float8_e8m0fnu", typed=True)
    assert got.dtype == torch.float8_e8m0fnu
    np.testing.assert_array_equal(bits(got), bits(x.to(torch.float8_e8m0fnu)))
    np.testing.assert_array_equal(bits(got), e)


@pytest.mark.parametrize("name", ML_ONLY)
def test_typed_refused_for_formats_torch_lacks(name):
    with pytest.raises(ValueError, match=f"torch has no {name}"):
        fs.encode(torch.ones(3), name, typed=True)
    assert fs.encode(torch.ones(3), name).dtype == torch.uint8  # the codes are fine
    assert fs.encode(np.ones(3, np.float32), name, typed=True).dtype.name == name  # and NumPy has the type


def test_typed_refused_for_formats_ml_dtypes_lacks():
    with pytest.raises(ValueError, match="typed=True needs a format that ml_dtypes has"):
        fs.encode(torch.ones(3), "int8", typed=True)
    with pytest.raises(ValueError, match="torch has no int4"):
        fs.encode(torch.ones(3), "int4", typed=True)


def test_typed_with_out_tensor():
    t = torch.linspace(-3, 3, 9)
    out = torch.empty(9, dtype=torch.uint8)
    got = fs.encode(t, "float8_e5m2", typed=True, out=out)
    assert got.dtype == torch.float8_e5m2 and got.data_ptr() == out.data_ptr()
    np.testing.assert_array_equal(out.numpy(), fs.encode(twin(t), "float8_e5m2"))


# --------------------------------------------------------------------------------- zero copy
def test_float32_input_is_not_copied():
    t = torch.linspace(-3, 3, 64)
    assert np.shares_memory(_adapt.torch_to_numpy(t), t.numpy())
    s = t[::2]
    assert np.shares_memory(_adapt.torch_to_numpy(s), t.numpy())
    for dt in (torch.float16, torch.float64, torch.int32):
        u = t.to(dt)
        assert np.shares_memory(_adapt.torch_to_numpy(u), u.numpy())


@pytest.mark.parametrize("name", VIA_ML)
def test_narrow_input_is_viewed_not_copied(name):
    t = torch.linspace(-3, 3, 64).to(getattr(torch, name))
    a = _adapt.torch_to_numpy(t)
    assert a.dtype == np.dtype(getattr(ml_dtypes, name))
    assert np.shares_memory(a, t.view(_INT_VIEW[t.element_size()]).numpy())
    assert_bitwise_equal(a, twin(t))


@pytest.mark.parametrize("dtype", [np.float32, np.uint8, np.float16, ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn,
                                   ml_dtypes.float8_e5m2])
def test_output_tensor_shares_numpy_memory(dtype):
    a = np.arange(12).astype(np.float32).astype(dtype)
    t = _adapt.numpy_to_torch(a)
    assert t.data_ptr() == a.ctypes.data and tuple(t.shape) == a.shape
    assert str(t.dtype).removeprefix("torch.") == np.dtype(dtype).name


def test_verbs_pass_views_both_ways(monkeypatch):
    """The core verb receives a view of the tensor and the tensor returned is a view of its result."""
    seen = {}
    for verb in ("encode", "decode", "cast"):
        original = getattr(core, verb)

        def spy(x, fmt, *, _original=original, _verb=verb, **kw):
            seen[_verb] = (x, _original(x, fmt, **kw))
            return seen[_verb][1]

        monkeypatch.setattr(core, verb, spy)
    t = torch.linspace(-3, 3, 1000)
    for verb, arg in (("encode", t), ("cast", t), ("decode", torch.arange(256, dtype=torch.uint8))):
        result = getattr(fs, verb)(arg, "float8_e4m3fn")
        x_seen, result_seen = seen[verb]
        assert np.shares_memory(x_seen, arg.numpy())
        assert result.data_ptr() == result_seen.ctypes.data


# --------------------------------------------------------------------------------- stochastic, out=
@pytest.mark.parametrize("dtype_name", ["float32", "bfloat16", "float64"])
def test_stochastic_with_seed(dtype_name):
    t = tensor_of(dtype_name, seed=3)
    x = twin(t)
    for kw in ({"rounding": "stochastic", "seed": 11}, {"rounding": "stochastic_a", "sr_bits": 6, "seed": 4},
               {"rounding": "stochastic_c", "sr_bits": 13, "seed": 4, "index_offset": 1000}):
        assert_tensor_matches(fs.encode(t, "float8_e4m3fn", **kw), fs.encode(x, "float8_e4m3fn", **kw))
        want = fs.cast(x, "float8_e5m2", **kw)
        got = fs.cast(t, "float8_e5m2", **kw)
        assert_tensor_matches(got, want.astype(x.dtype) if dtype_name == "bfloat16" else want)


def test_stochastic_with_torch_random_bits():
    rng = np.random.default_rng(8)
    x = sample_f32(seed=8)
    t = torch.from_numpy(x)
    r64 = rng.integers(0, 2**64, x.size, dtype=np.uint64)
    got = fs.cast(t, "float8_e4m3fn", rounding="stochastic", random_bits=torch.from_numpy(r64))
    assert_tensor_matches(got, fs.cast(x, "float8_e4m3fn", rounding="stochastic", random_bits=r64))
    r8 = rng.integers(0, 256, x.size, dtype=np.uint8)
    got = fs.encode(t, "bfloat16", rounding="stochastic_b", sr_bits=8, random_bits=torch.from_numpy(r8))
    assert_tensor_matches(got, fs.encode(x, "bfloat16", rounding="stochastic_b", sr_bits=8, random_bits=r8))
    # non-contiguous random bits, and random bits as a tensor with NumPy-equal seeded bits
    r16 = torch.from_numpy(rng.integers(0, 2**16, 2 * x.size, dtype=np.uint16))[::2]
    got = fs.encode(t, "float8_e5m2", rounding="stochastic_a", sr_bits=16, random_bits=r16)
    want = fs.encode(x, "float8_e5m2", rounding="stochastic_a", sr_bits=16, random_bits=r16.numpy().copy())
    assert_tensor_matches(got, want)
    seeded = fs.random_bits(x.shape, seed=9)
    assert_tensor_matches(fs.cast(t, "float8_e4m3fn", rounding="stochastic", random_bits=torch.from_numpy(seeded)),
                          fs.cast(x, "float8_e4m3fn", rounding="stochastic", seed=9))


def test_random_bits_must_be_unsigned():
    with pytest.raises(TypeError, match="random_bits must be an array of unsigned integers"):
        fs.cast(torch.ones(3), "float8_e4m3fn", rounding="stochastic", random_bits=torch.zeros(3, dtype=torch.int64))


def test_out_tensor():
    t = torch.from_numpy(sample_f32(seed=4))
    x = twin(t)
    out = torch.empty_like(t)
    got = fs.cast(t, "float8_e4m3fn", out=out)
    assert got is out
    assert_tensor_matches(out, fs.cast(x, "float8_e4m3fn"))
    codes = torch.empty(t.shape, dtype=torch.uint8)
    assert fs.encode(t, "float8_e4m3fn", rounding="stochastic", seed=2, out=codes) is codes
    assert_tensor_matches(codes, fs.encode(x, "float8_e4m3fn", rounding="stochastic", seed=2))
    values = torch.empty(t.shape, dtype=torch.float64)
    assert fs.decode(codes, "float8_e4m3fn", dtype=np.float64, out=values) is values
    assert_tensor_matches(values, fs.decode(codes.numpy(), "float8_e4m3fn", dtype=np.float64))
    # a non-contiguous out tensor is written through
    big = torch.zeros(2 * t.numel())
    assert fs.cast(t, "float8_e4m3fn", out=big[::2]) is not None
    assert_tensor_matches(big[::2], fs.cast(x, "float8_e4m3fn"))
    assert (big[1::2] == 0).all()


def test_numpy_out_with_a_tensor_input():
    """out= may be a NumPy array: it is written and returned (typed: viewed), as in the NumPy path."""
    t = torch.linspace(-3, 3, 9)
    out = np.empty(9, np.uint8)
    assert fs.encode(t, "float8_e4m3fn", out=out) is out
    got = fs.encode(t, "float8_e4m3fn", typed=True, out=out)
    assert isinstance(got, np.ndarray) and got.dtype == ml_dtypes.float8_e4m3fn and np.shares_memory(got, out)
    np.testing.assert_array_equal(out, fs.encode(twin(t), "float8_e4m3fn"))


def test_out_tensor_of_the_wrong_dtype():
    with pytest.raises(ValueError, match="out has dtype float16, expected float32"):
        fs.cast(torch.ones(3), "float8_e4m3fn", out=torch.empty(3, dtype=torch.float16))
    with pytest.raises(ValueError, match="out has dtype float32, expected uint8"):
        fs.encode(torch.ones(3), "float8_e4m3fn", out=torch.empty(3))


# --------------------------------------------------------------------------------- errors
def test_non_cpu_tensor():
    with pytest.raises(ValueError, match=r"x is a torch tensor on meta.*pass x\.cpu\(\)"):
        fs.cast(torch.empty(2, device="meta"), "float8_e4m3fn")
    with pytest.raises(ValueError, match="codes is a torch tensor on meta|x is a torch tensor on meta"):
        fs.decode(torch.empty(2, dtype=torch.uint8, device="meta"), "float8_e4m3fn")
    with pytest.raises(ValueError, match="out is a torch tensor on meta"):
        fs.cast(torch.ones(2), "float8_e4m3fn", out=torch.empty(2, device="meta"))
    with pytest.raises(ValueError, match="random_bits is a torch tensor on meta"):
        fs.cast(torch.ones(2), "float8_e4m3fn", rounding="stochastic",
                random_bits=torch.empty(2, dtype=torch.uint64, device="meta"))


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128, torch.bool])
def test_complex_and_bool_tensors(dtype):
    t = torch.zeros(3, dtype=dtype)
    for verb in (fs.encode, fs.cast):
        with pytest.raises(TypeError, match=f"x must hold real numbers, not {dtype}"):
            verb(t, "float8_e4m3fn")


def test_unreadable_tensors():
    packed = torch.zeros(2, dtype=torch.uint8).view(torch.float4_e2m1fn_x2)
    with pytest.raises(TypeError, match="float4_e2m1fn_x2, which floatsim does not read"):
        fs.cast(packed, "float8_e4m3fn")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates its quantized dtypes
        q = torch.quantize_per_tensor(torch.zeros(2), 0.1, 0, torch.qint8)
    with pytest.raises(TypeError, match="qint8, which floatsim does not read"):
        fs.cast(q, "float8_e4m3fn")
    with pytest.raises(TypeError, match=r"layout torch.sparse_coo.*to_dense"):
        fs.cast(torch.zeros(2, 2).to_sparse(), "float8_e4m3fn")


def test_decode_of_float_tensor_is_refused():
    with pytest.raises(TypeError, match="codes must be integers, not float32"):
        fs.decode(torch.ones(3), "float8_e4m3fn")


def test_import_floatsim_does_not_import_torch():
    code = ("import sys, numpy as np, floatsim as fs, floatsim.quant as fq\n"
            "fs.cast(np.float32([1.5]), 'float8_e4m3fn'); fs.encode([0.1], 'bfloat16'); fs.decode([1], 'int4')\n"
            "fq.get_quantizer('int8')(np.float32([0.5, 1.0]))\n"
            "print(sorted(m for m in ('torch', 'xarray', 'dask', 'zarr', 'safetensors') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --------------------------------------------------------------------------------- quantizers
QUANTIZERS = {
    "int8": fq.IntQuantizer(bits=8),
    "int4 asym g32": fq.get_quantizer("int4:g32:asym"),
    "int8 sr": fq.get_quantizer("int8:sr"),
    "float8_e4m3fn": fq.FloatQuantizer(format="float8_e4m3fn"),
    "float8_e5m2 channel": fq.get_quantizer("float8_e5m2:channel"),
    "mxfp4": fq.mx("mxfp4"),
    "mxfp8 sr": fq.get_quantizer("mxfp8_e4m3:sr"),
    "nvfp4": fq.NVFP4Quantizer(),
    "nf4": fq.nf4(),
    "nf4 dq": fq.nf4(double_quant=True),
}
QUANT_DTYPES = ("float32", "float16", "float64", "bfloat16", "float8_e4m3fn")


def quant_input(dtype_name, shape=(4, 64), seed=0):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32) * 3
    return torch.from_numpy(x).to(getattr(torch, dtype_name))


def numpy_twin_for_quant(t):
    """What the NumPy path is given: float16/32/64 as is, bfloat16 / float8 widened (exactly) to float32."""
    x = twin(t)
    return x.astype(np.float32) if x.dtype.name in VIA_ML else x


def assert_same_quantized(got, want):
    assert type(got) is type(want) and got.shape == want.shape and got.dtype == want.dtype
    for field in ("codes", "scale", "zero_point"):
        a, b = getattr(got, field), getattr(want, field)
        assert (a is None) == (b is None), field
        if a is not None:
            assert isinstance(a, np.ndarray), field
            assert_bitwise_equal(a, b, err_msg=f"{field}: ")
    assert got.extra.keys() == want.extra.keys()
    for key in got.extra:
        assert_bitwise_equal(np.asarray(got.extra[key]), np.asarray(want.extra[key]), err_msg=f"{key}: ")


@pytest.mark.parametrize("dtype_name", QUANT_DTYPES)
@pytest.mark.parametrize("name", list(QUANTIZERS))
def test_quantize_tensor_equals_numpy_path(name, dtype_name):
    quantizer = QUANTIZERS[name]
    t = quant_input(dtype_name, (2, 3, 64))
    x = numpy_twin_for_quant(t)
    got = quantizer.quantize(t)
    assert_same_quantized(got, quantizer.quantize(x))
    assert_bitwise_equal(got.dequantize(), quantizer.quantize(x).dequantize())


@pytest.mark.parametrize("dtype_name", QUANT_DTYPES)
@pytest.mark.parametrize("name", list(QUANTIZERS))
def test_fake_quantize_tensor_keeps_shape_and_dtype(name, dtype_name):
    quantizer = QUANTIZERS[name]
    t = quant_input(dtype_name, (4, 64), seed=1)
    want = quantizer.fake_quantize(numpy_twin_for_quant(t))
    for got in (quantizer.fake_quantize(t), quantizer(t)):
        assert isinstance(got, torch.Tensor) and got.shape == t.shape and got.dtype == t.dtype
        if dtype_name in VIA_ML:
            # computed in float32, then rounded to nearest even into the tensor's dtype (as torch's .to does;
            # the values stay far from the E4M3FN overflow where torch saturates)
            expect = torch.from_numpy(want).to(t.dtype)
            nan = torch.isnan(expect.float()).numpy()
            np.testing.assert_array_equal(bits(got)[~nan], bits(expect)[~nan])
        else:
            assert_tensor_matches(got, want)


@pytest.mark.parametrize("name", ["mxfp4", "nvfp4"])
def test_fake_quantize_bfloat16_is_exact_for_power_of_two_scaled_narrow_elements(name):
    """mxfp4 (E2M1 times a power of two) and nvfp4 here: every dequantized value is a bfloat16."""
    t = quant_input("bfloat16", (8, 64), seed=2)
    got = QUANTIZERS[name](t)
    want = QUANTIZERS[name](numpy_twin_for_quant(t))
    if name == "mxfp4":
        assert_bitwise_equal(got.float().numpy(), want)
    else:  # E4M3 block scales times a float32 tensor scale: not exact in general, rounded once
        assert got.dtype == torch.bfloat16


def test_fake_quantize_bfloat16_rounding_when_not_exact():
    """int8 with a float32 scale: the float32 values rounded to nearest even (tie cases included)."""
    quantizer = QUANTIZERS["int8"]
    t = quant_input("bfloat16", (1000,), seed=3)
    want32 = quantizer(numpy_twin_for_quant(t))
    got = quantizer(t)
    assert not np.array_equal(got.float().numpy(), want32)  # some values are not bfloat16
    assert_bitwise_equal(twin(got), fs.cast(want32, "bfloat16", dtype=np.float32).astype(ml_dtypes.bfloat16))


def test_quantizer_kwargs_and_grad_and_integers():
    quantizer = fq.IntQuantizer(bits=4)
    t = torch.tensor([0.1, 0.2, 0.7], requires_grad=True)
    got = quantizer.fake_quantize(t, min_val=-0.35, max_val=0.35)
    assert got.tolist() == quantizer.fake_quantize(np.float32([0.1, 0.2, 0.7]), min_val=-0.35, max_val=0.35).tolist()
    assert not got.requires_grad
    ints = quantizer(torch.arange(-4, 4))
    assert ints.dtype == torch.float64
    assert_tensor_matches(ints, quantizer(np.arange(-4, 4)))
    f16 = fq.FloatQuantizer(format="float8_e4m3fn").fake_quantize(torch.ones(4, dtype=torch.float16), amax=2.0)
    assert f16.dtype == torch.float16


def test_quantizer_errors():
    quantizer = QUANTIZERS["int8"]
    with pytest.raises(ValueError, match="x is a torch tensor on meta"):
        quantizer(torch.empty(4, device="meta"))
    with pytest.raises(ValueError, match="x is a torch tensor on meta"):
        quantizer.quantize(torch.empty(4, device="meta"))
    with pytest.raises(TypeError, match="x must hold real numbers, not torch.complex64"):
        quantizer(torch.zeros(4, dtype=torch.complex64))
    with pytest.raises(TypeError, match="x must hold real numbers, not torch.bool"):
        quantizer.quantize(torch.zeros(4, dtype=torch.bool))


def test_quant_torch_module_agrees_with_fake_quantize_of_a_tensor():
    """floatsim.quant.torch (autograd) and Quantizer.fake_quantize of a tensor give the same forward values."""
    from floatsim.quant.torch import FakeQuantize

    quantizer = fq.IntQuantizer(bits=8)
    for dt in (torch.float32, torch.bfloat16):
        t = quant_input("float32", (4, 64), seed=6).to(dt)
        module = FakeQuantize(quantizer)
        np.testing.assert_array_equal(bits(module(t)), bits(quantizer(t)))
