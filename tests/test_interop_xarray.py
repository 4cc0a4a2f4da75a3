"""xarray DataArrays (NumPy- and dask-backed) through encode / decode / cast.

A DataArray keeps its dims, coords, name and attrs, gains `floatsim_format` (and the rounding and overflow
policy in effect, for cast and encode) in attrs, and holds bit for bit what the NumPy path gives for its data.
A dask-backed one stays lazy, with the same chunks, and seeded stochastic rounding does not depend on them.
"""

from __future__ import annotations

import numpy as np
import pytest

import floatsim as fs
from floatsim.testing import assert_bitwise_equal

xr = pytest.importorskip("xarray")

BACKINGS = ("numpy", "dask")
CASES = {  # (format, keyword arguments)
    "e4m3fn": ("float8_e4m3fn", {}),
    "e4m3fn-saturate-rtz": ("float8_e4m3fn", {"rounding": "toward_zero", "overflow": "saturate"}),
    "e5m2-stochastic": ("float8_e5m2", {"rounding": "stochastic", "seed": 7}),
    "bf16-stochastic_a": ("bfloat16", {"rounding": "stochastic_a", "sr_bits": 8, "seed": 3, "index_offset": 10}),
    "fp4-saturate": ("float4_e2m1fn", {"overflow": "saturate"}),
    "int4-wrap": ("int4", {"overflow": "wrap", "rounding": "nearest_away"}),
    "e8m0": ("float8_e8m0fnu", {}),
}
DEFAULT_OVERFLOW = {"int4": "saturate"}


def values(shape=(6, 10), seed=0, dtype=np.float32):
    x = np.random.default_rng(seed).standard_normal(shape) * np.exp2(np.arange(shape[-1]) - 3)
    return x.astype(dtype)


def data_array(x, backing):
    ndim = x.ndim
    dims = ("time", "chan", "z")[:ndim]
    coords = {d: np.arange(n) * 10 for d, n in zip(dims, x.shape, strict=True)}
    if ndim >= 1:
        coords["label"] = (dims[0], [f"r{i}" for i in range(x.shape[0])])
    arr = xr.DataArray(x, dims=dims, coords=coords, name="signal", attrs={"units": "V", "source": "test"})
    if backing == "dask":
        pytest.importorskip("dask.array")
        arr = arr.chunk({dims[0]: 4} if ndim else {})
    return arr


def assert_kept(result, original):
    assert isinstance(result, xr.DataArray)
    assert result.dims == original.dims and result.name == original.name and result.shape == original.shape
    xr.testing.assert_identical(result.coords.to_dataset(), original.coords.to_dataset())
    for key, value in original.attrs.items():
        assert result.attrs[key] == value
    if isinstance(original.data, np.ndarray):
        assert isinstance(result.data, np.ndarray)
    else:
        import dask.array as da

        assert isinstance(result.data, da.Array)  # still lazy
        assert result.chunks == original.chunks


@pytest.mark.parametrize("backing", BACKINGS)
@pytest.mark.parametrize("case", list(CASES))
def test_cast_and_encode(case, backing):
    fmt, kw = CASES[case]
    x = values()
    arr = data_array(x, backing)
    before = arr.copy(deep=True)
    for verb, content in ((fs.cast, "values"), (fs.encode, "codes")):
        got = verb(arr, fmt, **kw)
        assert_kept(got, arr)
        assert got.attrs["floatsim_format"] == fmt
        assert got.attrs["floatsim_rounding"] == kw.get("rounding", "nearest_even")
        assert got.attrs["floatsim_overflow"] == kw.get("overflow", DEFAULT_OVERFLOW.get(fmt, "ieee"))
        assert got.attrs["floatsim_content"] == content
        assert_bitwise_equal(got.values, verb(x, fmt, **kw))
    xr.testing.assert_identical(arr, before)  # the input is untouched, attrs included


@pytest.mark.parametrize("backing", BACKINGS)
@pytest.mark.parametrize("fmt", ["float8_e4m3fn", "bfloat16", "float4_e2m1fn", "int8", "float8_e8m0fnu"])
def test_decode(fmt, backing):
    f = fs.get_format(fmt)
    codes = np.arange(min(f.num_codes, 1 << 16), dtype=f.code_dtype)[: 40 * (min(f.num_codes, 1 << 16) // 40)]
    arr = data_array(codes.reshape(40, -1), backing)
    got = fs.decode(arr, fmt)
    assert_kept(got, arr)
    assert got.attrs["floatsim_format"] == fmt and got.attrs["floatsim_content"] == "values"
    assert "floatsim_rounding" not in got.attrs and "floatsim_overflow" not in got.attrs
    assert_bitwise_equal(got.values, fs.decode(codes.reshape(40, -1), fmt))
    assert_bitwise_equal(fs.decode(arr, fmt, dtype=np.float64).values,
                         fs.decode(codes.reshape(40, -1), fmt, dtype=np.float64))


@pytest.mark.parametrize("backing", BACKINGS)
def test_round_trip_keeps_the_encoding_policy(backing):
    x = values()
    arr = data_array(x, backing)
    codes = fs.encode(arr, "float8_e4m3fn", rounding="toward_zero", overflow="saturate")
    back = fs.decode(codes, "float8_e4m3fn")
    assert back.attrs["floatsim_rounding"] == "toward_zero" and back.attrs["floatsim_overflow"] == "saturate"
    assert back.attrs["floatsim_content"] == "values"
    assert_bitwise_equal(back.values, fs.cast(x, "float8_e4m3fn", rounding="toward_zero", overflow="saturate"))
    assert_bitwise_equal(back.values, fs.cast(arr, "float8_e4m3fn", rounding="toward_zero",
                                              overflow="saturate").values)


@pytest.mark.parametrize("backing", BACKINGS)
def test_typed_codes(backing):
    import ml_dtypes

    x = values()
    arr = data_array(x, backing)
    got = fs.encode(arr, "float8_e4m3fn", typed=True)
    assert got.dtype == np.dtype(ml_dtypes.float8_e4m3fn)
    assert_kept(got, arr)
    assert_bitwise_equal(got.values.view(np.uint8), fs.encode(x, "float8_e4m3fn"))
    assert_bitwise_equal(fs.decode(got, "float8_e4m3fn").values, fs.cast(x, "float8_e4m3fn"))
    bf = fs.encode(arr, "bfloat16", typed=True)  # an ml_dtypes-typed DataArray is also valid input
    assert_bitwise_equal(fs.cast(bf, "float8_e5m2").values, fs.cast(fs.cast(x, "bfloat16"), "float8_e5m2"))


def test_policy_names_from_members_and_aliases():
    arr = data_array(values(), "numpy")
    got = fs.cast(arr, "float8_e4m3fn", rounding=fs.Rounding.TOWARD_ZERO, overflow=fs.Overflow.SATURATE)
    assert got.attrs["floatsim_rounding"] == "toward_zero" and got.attrs["floatsim_overflow"] == "saturate"
    got = fs.cast(arr, "float8_e4m3fn", rounding="RNE", overflow="satfinite")
    assert got.attrs["floatsim_rounding"] == "nearest_even" and got.attrs["floatsim_overflow"] == "saturate"


def test_attrs_of_a_second_rounding_replace_the_first():
    arr = data_array(values(), "numpy")
    once = fs.cast(arr, "float8_e4m3fn", rounding="toward_zero", overflow="saturate")
    twice = fs.cast(once, "float4_e2m1fn", overflow="saturate")
    assert twice.attrs["floatsim_format"] == "float4_e2m1fn" and twice.attrs["floatsim_rounding"] == "nearest_even"
    again = fs.cast(once, "bfloat16")
    assert again.attrs["floatsim_overflow"] == "ieee"  # the policy in effect, not the earlier one


def test_custom_format_is_described():
    fmt = fs.FloatFormat(exponent_bits=3, mantissa_bits=2, specials="none")
    arr = data_array(values(), "numpy")
    got = fs.cast(arr, fmt, overflow="saturate")
    assert got.attrs["floatsim_format"] == str(fmt) and isinstance(got.attrs["floatsim_format"], str)
    assert_bitwise_equal(got.values, fs.cast(values(), fmt, overflow="saturate"))


def test_stochastic_rounding_of_dask_chunks_does_not_depend_on_chunking():
    pytest.importorskip("dask.array")
    x = values((12, 33), seed=4)
    want = fs.cast(x, "float8_e4m3fn", rounding="stochastic", seed=99)
    arr = data_array(x, "numpy")
    for chunks in ({"time": 1}, {"time": 5, "chan": 7}, {"chan": 32}):
        got = fs.cast(arr.chunk(chunks), "float8_e4m3fn", rounding="stochastic", seed=99)
        assert_bitwise_equal(got.values, want)
    bits = xr.DataArray(fs.random_bits(x.shape, seed=99), dims=arr.dims)
    got = fs.cast(arr.chunk({"time": 5}), "float8_e4m3fn", rounding="stochastic", random_bits=bits)
    assert_bitwise_equal(got.values, want)


def test_other_input_dtypes():
    import ml_dtypes

    for x in (values(dtype=np.float16), values(dtype=np.float64), np.arange(60).reshape(6, 10),
              values().astype(ml_dtypes.bfloat16)):
        arr = data_array(x, "numpy")
        got = fs.cast(arr, "float8_e5m2")
        assert_bitwise_equal(got.values, fs.cast(x, "float8_e5m2"))
    got = fs.cast(data_array(values(dtype=np.float64), "numpy"), "float8_e5m2", dtype=np.float16)
    assert got.dtype == np.float16


def test_zero_d_and_empty():
    x = np.float32(1.0625)
    arr = xr.DataArray(x, attrs={"a": 1})
    got = fs.cast(arr, "float8_e4m3fn", rounding="nearest_away")
    assert got.shape == () and float(got) == 1.125 and got.attrs["a"] == 1
    empty = data_array(np.empty((0, 3), np.float32), "numpy")
    assert fs.encode(empty, "float8_e4m3fn").shape == (0, 3)


def test_errors():
    arr = data_array(values(), "numpy")
    with pytest.raises(TypeError, match="out= takes a NumPy array; for an xarray DataArray"):
        fs.cast(arr, "float8_e4m3fn", out=np.empty(arr.shape, np.float32))
    with pytest.raises(ValueError, match="is not a known rounding mode"):
        fs.cast(arr, "float8_e4m3fn", rounding="nearest_sometimes")
    with pytest.raises(ValueError, match="overflow='wrap' applies to integer formats only"):
        fs.encode(arr, "float8_e4m3fn", overflow="wrap")
    nan = data_array(np.float32([[1.0, np.nan]]), "numpy")
    with pytest.raises(ValueError, match="float4_e2m1fn has no NaN"):
        fs.cast(nan, "float4_e2m1fn")


def test_dask_backed_errors():
    pytest.importorskip("dask.array")
    arr = data_array(values(), "dask")
    with pytest.raises(TypeError, match="out= takes a NumPy array"):
        fs.cast(arr, "float8_e4m3fn", out=np.empty(arr.shape, np.float32))
    with pytest.raises(ValueError, match="overflow='wrap' applies to integer formats only"):
        fs.cast(arr, "float8_e4m3fn", overflow="wrap")  # checked before any chunk runs
    nan = data_array(np.float32([[1.0, np.nan]]), "dask")
    lazy = fs.cast(nan, "float4_e2m1fn")  # a NaN is found when the chunk is computed
    with pytest.raises(ValueError, match="float4_e2m1fn has no NaN"):
        lazy.compute()
