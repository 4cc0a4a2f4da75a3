"""Argument validation (every message names the argument) and the API's shape / dtype behaviour."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import floatsim as fs
from floatsim import FloatFormat, IntFormat

# --------------------------------------------------------------------------- descriptors
BAD_FLOAT_FORMATS = [
    ("negative-exponent", dict(exponent_bits=-1, mantissa_bits=3), ValueError, "exponent_bits"),
    ("zero-exponent", dict(exponent_bits=0, mantissa_bits=3), ValueError, "exponent_bits"),
    ("negative-mantissa", dict(exponent_bits=4, mantissa_bits=-3), ValueError, "mantissa_bits"),
    ("over-32-bits", dict(exponent_bits=8, mantissa_bits=24), ValueError, "exponent_bits \\+ mantissa_bits"),
    ("float-exponent", dict(exponent_bits=4.0, mantissa_bits=3), TypeError, "exponent_bits"),
    ("str-mantissa", dict(exponent_bits=4, mantissa_bits="3"), TypeError, "mantissa_bits"),
    ("bool-exponent", dict(exponent_bits=True, mantissa_bits=3), TypeError, "exponent_bits"),
    ("float-bias", dict(exponent_bits=4, mantissa_bits=3, bias=7.0), TypeError, "bias"),
    ("nonbool-signed", dict(exponent_bits=4, mantissa_bits=3, signed=1), TypeError, "signed"),
    ("nonbool-subnormals", dict(exponent_bits=4, mantissa_bits=3, subnormals="yes"), TypeError, "subnormals"),
    ("no-zero-with-subnormals", dict(exponent_bits=4, mantissa_bits=3, has_zero=False), ValueError, "has_zero"),
    ("ieee-without-mantissa", dict(exponent_bits=5, mantissa_bits=0), ValueError, "specials='ieee'.*mantissa_bits"),
    ("bias-too-small", dict(exponent_bits=8, mantissa_bits=7, bias=-1000), ValueError, "bias=-1000"),
    ("bias-too-large", dict(exponent_bits=8, mantissa_bits=7, bias=2000), ValueError, "bias=2000"),
    ("wide-exponent", dict(exponent_bits=12, mantissa_bits=3), ValueError, "bias"),
    ("unknown-specials", dict(exponent_bits=4, mantissa_bits=3, specials="bogus"), ValueError, "specials='bogus'"),
    ("fnuz-without-zero", dict(exponent_bits=4, mantissa_bits=3, subnormals=False, has_zero=False,
                               specials="fnuz"), ValueError, "specials='fnuz'"),
    ("extended-without-zero", dict(exponent_bits=4, mantissa_bits=3, subnormals=False, has_zero=False,
                                   specials="extended"), ValueError, "specials='extended'"),
    ("one-bit", dict(exponent_bits=1, mantissa_bits=0, signed=False, specials="none"), ValueError, "bits"),
    ("no-normal-numbers", dict(exponent_bits=1, mantissa_bits=2), ValueError, "exponent_bits=1"),
]


@pytest.mark.parametrize("kwargs,exc,match", [r[1:] for r in BAD_FLOAT_FORMATS], ids=[r[0] for r in BAD_FLOAT_FORMATS])
def test_invalid_float_format(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        FloatFormat(**kwargs)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(bits=0), ValueError, "bits=0"),
    (dict(bits=33), ValueError, "bits=33"),
    (dict(bits=1), ValueError, "bits=1"),
    (dict(bits=4.0), TypeError, "bits"),
    (dict(bits=4, signed="no"), TypeError, "signed"),
], ids=["zero", "33", "signed-1", "float", "nonbool-signed"])
def test_invalid_int_format(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        IntFormat(**kwargs)


def test_valid_edge_formats():
    assert FloatFormat(exponent_bits=8, mantissa_bits=23).bits == 32
    assert IntFormat(bits=1, signed=False).max == 1
    assert FloatFormat(exponent_bits=8, mantissa_bits=7, bias=1000).value_dtype == np.float64


@pytest.mark.parametrize("k,p,match", [(8, 8, "p=8"), (8, 0, "p=0"), (2, 1, "k=2"), (8, 9, "p=9")])
def test_invalid_p3109(k, p, match):
    with pytest.raises(ValueError, match=match):
        fs.p3109(k, p)


@pytest.mark.parametrize("k", range(3, 33))
def test_p3109_builds_exactly_the_formats_that_fit_float64(k):
    """docs/formats.md: every P whose exponent field has at most 11 bits (float64's) builds; the rest raise."""
    for signed in (True, False):
        for p in range(1, k if signed else k + 1):
            exponent_field = k - p + (0 if signed else 1)
            if exponent_field <= 11:
                assert fs.p3109(k, p, signed=signed).bits == k
            else:
                with pytest.raises(ValueError, match="float64"):
                    fs.p3109(k, p, signed=signed)


# --------------------------------------------------------------------------- names and enums
@pytest.mark.parametrize("name,close", [("float8_e4m3fm", "float8_e4m3fn"), ("e4m3fx", "e4m3fn"),
                                        ("bfloat61", "bfloat16")])
def test_unknown_format_name_lists_close_matches(name, close):
    with pytest.raises(ValueError, match=f"unknown format '{name}'.*Close matches:.*{close}"):
        fs.encode(1.0, name)
    with pytest.raises(ValueError, match="unknown format"):
        fs.decode([0], name)


def test_unknown_p3109_name():
    with pytest.raises(ValueError, match="p=9"):
        fs.get_format("binary8p9se")


@pytest.mark.parametrize("fmt,exc", [(3.5, TypeError), (np.dtype(np.complex64), ValueError),
                                     (object(), TypeError)])
def test_format_of_wrong_kind(fmt, exc):
    with pytest.raises(exc, match="fmt"):
        fs.encode(1.0, fmt)


def test_format_none():  # not np.dtype(None) = float64
    with pytest.raises(TypeError, match="fmt"):
        fs.encode(1.0, None)


def test_unknown_rounding_and_overflow():
    with pytest.raises(ValueError, match="rounding='nearest_evn'.*allowed:.*'nearest_even'"):
        fs.encode(1.0, "e4m3fn", rounding="nearest_evn")
    with pytest.raises(TypeError, match="rounding"):
        fs.encode(1.0, "e4m3fn", rounding=3)
    with pytest.raises(ValueError, match="overflow='satur'.*allowed:.*'saturate'"):
        fs.cast(1.0, "e4m3fn", overflow="satur")
    with pytest.raises(TypeError, match="overflow"):
        fs.cast(1.0, "e4m3fn", overflow=1.5)


def test_aliases_and_enums_accepted():
    x = np.array([1.0625, 500.0])
    a = fs.cast(x, "e4m3fn", rounding="rne", overflow="satfinite")
    b = fs.cast(x, "float8_e4m3fn", rounding=fs.Rounding.NEAREST_EVEN, overflow=fs.Overflow.SATURATE)
    c = fs.cast(x, ml_dtypes.float8_e4m3fn, rounding=" Nearest-Even ", overflow="SATURATE")
    assert np.array_equal(a, b) and np.array_equal(a, c) and a.tolist() == [1.0, 448.0]


def test_wrap_on_float_and_float_policies_on_int():
    with pytest.raises(ValueError, match="overflow='wrap'"):
        fs.encode(1.0, "e4m3fn", overflow="wrap")
    for ov in ("sat_none", "ieee", "sat_propagate"):
        with pytest.raises(ValueError, match=f"overflow='{ov}'"):
            fs.encode(1.0, "int4", overflow=ov)


# --------------------------------------------------------------------------- input data
@pytest.mark.parametrize("x", [
    np.array([1 + 2j]), np.array([1.0], object), np.array(["1.0"]), np.array([True]), "1.0",
    np.array([1.0], np.longdouble) if np.dtype(np.longdouble).itemsize > 8 else np.array([b"x"]),
], ids=["complex", "object", "str-array", "bool", "str", "longdouble"])
def test_non_real_input(x):
    with pytest.raises(TypeError, match="x"):
        fs.encode(x, "e4m3fn")
    with pytest.raises(TypeError, match="x"):
        fs.cast(x, "e4m3fn")


def test_int64_beyond_2_53():
    with pytest.raises(ValueError, match="x: int64"):
        fs.cast(np.array([2**60 + 1], np.int64), "e4m3fn")
    assert fs.cast(np.array([2**60], np.int64), "e4m3fn")[0] != 0  # exact in float64: fine (NaN: overflow)


@pytest.mark.parametrize("fmt,codes", [("float4_e2m1fn", [0x1F]), ("float4_e2m1fn", [0x10]),
                                       ("float8_e4m3fn", [-1]), ("float8_e4m3fn", [256]),
                                       ("float6_e2m3fn", [64]), ("int4", [16]), ("bfloat16", [1 << 16]),
                                       ("float8_e4m3fn", np.array([2**63], np.uint64))],
                         ids=["fp4-0x1f", "fp4-0x10", "minus1", "256", "fp6-64", "int4-16", "bf16-65536", "u64"])
def test_decode_codes_out_of_range(fmt, codes):
    with pytest.raises(ValueError, match="codes.*outside"):
        fs.decode(np.asarray(codes), fmt)


@pytest.mark.parametrize("codes", [np.array([1.0]), np.array([True]), np.array(["1"])], ids=["float", "bool", "str"])
def test_decode_codes_must_be_integers(codes):
    with pytest.raises(TypeError, match="codes"):
        fs.decode(codes, "e4m3fn")


@pytest.mark.parametrize("fmt", ["float4_e2m1fn", "float6_e2m3fn", "float6_e3m2fn", "int8", "uint4"])
def test_nan_into_format_without_nan(fmt):
    kw = {}
    with pytest.raises(ValueError, match="NaN"):
        fs.encode(np.array([1.0, np.nan, -np.nan]), fmt, **kw)
    with pytest.raises(ValueError, match="2 NaN"):
        fs.cast(np.array([1.0, np.nan, -np.nan], np.float32), fmt)


# --------------------------------------------------------------------------- stochastic arguments
def test_sr_bits_errors():
    with pytest.raises(ValueError, match="sr_bits"):
        fs.encode(1.0, "e4m3fn", rounding="stochastic_a", seed=1)  # missing
    for bad in (0, 63, -1, 3.0, True, "3"):
        with pytest.raises((ValueError, TypeError), match="sr_bits"):
            fs.encode(1.0, "e4m3fn", rounding="stochastic_b", sr_bits=bad, seed=1)
    with pytest.raises(ValueError, match="sr_bits"):
        fs.encode(1.0, "e4m3fn", sr_bits=3)  # not a stochastic mode
    with pytest.raises(ValueError, match="stochastic"):
        fs.encode(1.0, "e4m3fn", rounding="stochastic", sr_bits=8)
    assert fs.encode(1.0, "e4m3fn", rounding="stochastic", sr_bits=64, seed=1) == 0x38


def test_seed_errors():
    for bad in (-1, 1.5, "1", True):
        with pytest.raises((ValueError, TypeError), match="seed"):
            fs.encode(1.0, "e4m3fn", rounding="stochastic", seed=bad)
    with pytest.raises((ValueError, TypeError), match="seed"):
        fs.random_bits(3, seed=-5)
    with pytest.raises(ValueError, match="seed"):
        fs.encode(1.0, "e4m3fn", seed=1)  # deterministic rounding takes no seed
    with pytest.raises(ValueError, match="seed.*random_bits|random_bits.*seed"):
        fs.encode(np.ones(2), "e4m3fn", rounding="stochastic", seed=1, random_bits=np.zeros(2, np.uint64))
    with pytest.raises(ValueError, match="index_offset"):
        fs.encode(np.ones(2), "e4m3fn", rounding="stochastic", seed=1, index_offset=-1)
    with pytest.raises(ValueError, match="index_offset"):
        fs.random_bits(2, seed=1, index_offset=-3)


def test_random_bits_errors():
    with pytest.raises(ValueError, match="random_bits.*shape"):
        fs.encode(np.ones(3), "e4m3fn", rounding="stochastic", random_bits=np.zeros(2, np.uint64))
    with pytest.raises(ValueError, match="random_bits.*shape"):
        fs.encode(np.ones((2, 3)), "e4m3fn", rounding="stochastic", random_bits=np.zeros((3, 2), np.uint64))
    for dt in (np.int64, np.float64):
        with pytest.raises(TypeError, match="random_bits"):
            fs.encode(np.ones(2), "e4m3fn", rounding="stochastic_a", sr_bits=3, random_bits=np.zeros(2, dt))
    with pytest.raises(TypeError, match="random_bits.*uint64"):
        fs.encode(np.ones(2), "e4m3fn", rounding="stochastic", random_bits=np.zeros(2, np.uint32))
    with pytest.raises(ValueError, match="random_bits must be < 2\\*\\*sr_bits = 8"):
        fs.encode(np.ones(2), "e4m3fn", rounding="stochastic_a", sr_bits=3, random_bits=np.array([0, 8], np.uint64))
    with pytest.raises(ValueError, match="random_bits"):
        fs.encode(1.0, "e4m3fn", random_bits=np.uint64(1))  # deterministic rounding takes no bits
    # small unsigned dtypes are fine for small N
    got = fs.encode(np.full(2, 1.1), "e4m3fn", rounding="stochastic_a", sr_bits=2, random_bits=np.array([0, 3], np.uint8))
    assert got.tolist() == [0x38, 0x39]


# --------------------------------------------------------------------------- out= and dtype=
def test_out_errors():
    x = np.ones(3)
    with pytest.raises(ValueError, match="out has shape"):
        fs.encode(x, "e4m3fn", out=np.empty(2, np.uint8))
    with pytest.raises(ValueError, match="out has dtype uint16, expected uint8"):
        fs.encode(x, "e4m3fn", out=np.empty(3, np.uint16))
    with pytest.raises(TypeError, match="out must be a numpy array"):
        fs.encode(x, "e4m3fn", out=[0, 0, 0])
    with pytest.raises(ValueError, match="out is read-only"):
        fs.encode(x, "e4m3fn", out=np.broadcast_to(np.zeros(1, np.uint8), (3,)))
    with pytest.raises(ValueError, match="out has dtype float64, expected float32"):
        fs.cast(x.astype(np.float32), "e4m3fn", out=np.empty(3, np.float64))
    with pytest.raises(ValueError, match="out has dtype float64, expected float32"):
        fs.decode(np.ones(3, int), "e4m3fn", out=np.empty(3, np.float64))
    with pytest.raises(ValueError, match="out has shape"):
        fs.decode(np.ones(3, int), "e4m3fn", out=np.empty((3, 1), np.float32))


def test_dtype_errors():
    with pytest.raises(TypeError, match="dtype"):
        fs.cast(np.ones(3), "e4m3fn", dtype=np.int32)
    with pytest.raises(ValueError, match="float16"):
        fs.cast(np.ones(3), "bfloat16", dtype=np.float16)  # bfloat16 values are not exact in float16
    with pytest.raises(ValueError, match="float32"):
        fs.decode(np.ones(3, int), FloatFormat(exponent_bits=8, mantissa_bits=7, bias=150), dtype=np.float32)
    with pytest.raises(TypeError, match="dtype"):
        fs.decode(np.ones(3, int), "e4m3fn", dtype=np.int32)
    with pytest.raises(TypeError, match="dtype"):
        fs.encode(np.ones(3), "e4m3fn", dtype=np.float32)


# =========================================================================== API behaviour
@pytest.mark.parametrize("shape", [(), (0,), (7,), (2, 3, 4), (5, 0, 2), (1, 1, 1, 3)], ids=str)
def test_any_shape(shape):
    rng = np.random.default_rng(0)
    x = np.asarray(rng.standard_normal(shape) * 10)
    codes = fs.encode(x, "e4m3fn")
    assert codes.shape == x.shape and codes.dtype == np.uint8
    assert isinstance(codes, np.ndarray)  # a 0-d array in, a 0-d array out
    vals = fs.cast(x, "e4m3fn")
    assert vals.shape == x.shape and vals.dtype == x.dtype
    back = fs.decode(codes, "e4m3fn", dtype=np.float64)
    assert back.shape == x.shape
    assert np.array_equal(back, vals, equal_nan=True)
    sr = fs.cast(x, "e4m3fn", rounding="stochastic", seed=1)
    assert sr.shape == x.shape


def test_non_contiguous_input_and_output():
    rng = np.random.default_rng(1)
    base = rng.standard_normal((40, 30)).astype(np.float32) * 50
    for x in (base[::2], base.T, base[:, ::3], base[::-1]):
        assert not x.flags.c_contiguous
        c = np.ascontiguousarray(x)
        assert np.array_equal(fs.encode(x, "e5m2"), fs.encode(c, "e5m2"))
        assert np.array_equal(fs.cast(x, "bfloat16"), fs.cast(c, "bfloat16"))
        assert np.array_equal(fs.cast(x, "e5m2", rounding="stochastic", seed=3),
                              fs.cast(c, "e5m2", rounding="stochastic", seed=3))
    codes = fs.encode(base, "e5m2")
    assert np.array_equal(fs.decode(codes.T, "e5m2"), fs.decode(codes, "e5m2").T)
    # a strided out= is filled too
    out = np.zeros((40, 60), np.uint8)[:, ::2]
    res = fs.encode(base, "e5m2", out=out)
    assert res is out and np.array_equal(out, codes)


def test_python_scalars_and_lists():
    v = fs.cast(1.0625, "e4m3fn")
    assert np.ndim(v) == 0 and not isinstance(v, np.ndarray) and float(v) == 1.0
    assert isinstance(fs.encode(448.0, "e4m3fn"), np.uint8) and fs.encode(448.0, "e4m3fn") == 0x7E
    assert fs.encode(3, "int4") == 3 and fs.cast(-7, "e4m3fn") == -7.0
    lst = fs.cast([1.0625, -2.5, 3], "e4m3fn")
    assert isinstance(lst, np.ndarray) and lst.dtype == np.float64 and lst.tolist() == [1.0, -2.5, 3.0]
    assert fs.encode([[1.0], [2.0]], "e4m3fn").shape == (2, 1)
    assert float(fs.decode(0x7E, "e4m3fn")) == 448.0 and np.ndim(fs.decode(0x7E, "e4m3fn")) == 0
    assert fs.decode([0x38, 0x7E], "e4m3fn").tolist() == [1.0, 448.0]
    assert fs.cast(np.float32(1.0625), "e4m3fn").dtype == np.float32  # numpy scalars keep their dtype


@pytest.mark.parametrize("dt", [np.float16, np.float32, np.float64])
def test_float_input_dtypes(dt):
    x = np.array([1.0625, -300.0, 1e-3, 0.0], dt)
    v = fs.cast(x, "e4m3fn", overflow="saturate")
    assert v.dtype == dt
    expected = x.astype(np.float32).astype(ml_dtypes.float8_e4m3fn).astype(dt)
    assert np.array_equal(v, expected)
    assert np.array_equal(fs.encode(x, "e4m3fn"), x.astype(np.float32).astype(ml_dtypes.float8_e4m3fn).view(np.uint8))


def test_int_and_ml_dtypes_input():
    xi = np.array([1, -3, 100, 17], np.int32)
    v = fs.cast(xi, "e4m3fn")
    assert v.dtype == np.float64 and v.tolist() == [1.0, -3.0, 96.0, 16.0]
    xb = np.array([1.0, 3.140625, -2.5], ml_dtypes.bfloat16)
    vb = fs.cast(xb, "e4m3fn")
    assert vb.dtype == np.float32 and vb.tolist() == [1.0, 3.25, -2.5]
    assert np.array_equal(fs.encode(xb, "bfloat16"), xb.view(np.uint16))
    x8 = np.array([1.0, -448.0], ml_dtypes.float8_e4m3fn)
    assert np.array_equal(fs.encode(x8, "e4m3fn"), x8.view(np.uint8))


def test_out_is_filled_and_returned():
    x = np.linspace(-10, 10, 17, dtype=np.float32)
    out = np.empty(17, np.uint8)
    assert fs.encode(x, "e4m3fn", out=out) is out
    assert np.array_equal(out, fs.encode(x, "e4m3fn"))
    vout = np.empty(17, np.float32)
    assert fs.cast(x, "e4m3fn", out=vout) is vout and np.array_equal(vout, fs.cast(x, "e4m3fn"))
    v64 = np.empty(17, np.float64)
    assert fs.cast(x, "e4m3fn", dtype=np.float64, out=v64) is v64
    assert np.array_equal(v64, fs.cast(x, "e4m3fn").astype(np.float64))
    dout = np.empty(17, np.float32)
    assert fs.decode(out, "e4m3fn", out=dout) is dout and np.array_equal(dout, vout)
    sout = np.empty(17, np.uint8)
    assert fs.encode(x, "e4m3fn", rounding="stochastic", seed=4, out=sout) is sout
    assert np.array_equal(sout, fs.encode(x, "e4m3fn", rounding="stochastic", seed=4))


def test_cast_dtype_argument():
    x = np.array([1.0625, 3.3], np.float32)
    assert fs.cast(x, "e4m3fn").dtype == np.float32
    assert fs.cast(x, "e4m3fn", dtype=np.float64).dtype == np.float64
    assert fs.cast(x, "e4m3fn", dtype=np.float16).dtype == np.float16
    assert fs.cast(x.astype(np.float64), "e4m3fn", dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="float16"):
        fs.cast(x, "float32", dtype=np.float16)


def test_decode_dtype_defaults():
    assert fs.decode([0x3F800000], "float32").dtype == np.float32
    assert fs.decode([0x3F800000], "float32")[0] == 1.0
    assert fs.decode([1], "e4m3fn").dtype == np.float32
    assert fs.decode([1], "int16").dtype == np.float32
    wide = FloatFormat(exponent_bits=8, mantissa_bits=23, bias=140)  # smallest value 2**-162
    assert wide.value_dtype == np.float64
    got = fs.decode([1, 0x7F7FFFFF], wide)
    assert got.dtype == np.float64 and got[0] == 2.0**-162 and got[1] == (2 - 2.0**-23) * 2.0**114
    assert fs.decode([1], "e4m3fn", dtype=np.float64).dtype == np.float64
    assert fs.decode([1], "e4m3fn", dtype=np.float16).dtype == np.float16


@pytest.mark.parametrize("fmt,dt", [("float4_e2m1fn", np.uint8), ("bfloat16", np.uint16), ("tfloat32", np.uint32),
                                    ("float32", np.uint32), ("int16", np.uint16), ("binary3p2sf", np.uint8)])
def test_code_dtypes(fmt, dt):
    assert fs.encode(np.ones(2), fmt).dtype == dt


def test_decode_accepts_any_integer_dtype():
    for dt in (np.uint8, np.uint16, np.int64, np.uint64, int):
        assert fs.decode(np.array([0x38, 0x7E], dt), "e4m3fn").tolist() == [1.0, 448.0]


@pytest.mark.parametrize("enum_cls,noun", [(fs.Rounding, "rounding mode"), (fs.Overflow, "overflow policy")])
def test_enum_errors_name_argument_and_kind(enum_cls, noun):
    """The argument's own name, then what kind of value it should be (not 'a known modes mode')."""
    with pytest.raises(ValueError, match=f"^modes='bogus' is not a known {noun}; allowed: "):
        enum_cls.parse("bogus", "modes")
