"""The lookup-table fast path against the generic arithmetic kernel, class by class.

core rounds few-mantissa formats through a table indexed by (sign, exponent, kept
bits, round bit, sticky bit) of the source. The table is built by the generic
kernel from one representative per class, so what needs proving is the class
argument: every member of a class rounds like its representative. This test draws
members of every class (all 2**17 classes for float32 sources, random low bits) and
compares both paths; the oracle tests (ml_dtypes, MPFR, the reference) then check
the default path against independent libraries.
"""

from __future__ import annotations

import numpy as np
import pytest

import floatsim as fs
import floatsim.core as core

MODES = ["nearest_even", "nearest_away", "toward_zero", "toward_positive", "toward_negative", "odd"]
FORMATS = ["float8_e4m3fn", "float8_e5m2", "float8_e3m4", "float8_e4m3fnuz", "float4_e2m1fn", "float6_e3m2fn",
           "binary8p3se", "binary8p1uf"]
_UINT = {np.dtype(np.float16): np.uint16, np.dtype(np.float32): np.uint32, np.dtype(np.float64): np.uint64}


def _members(dtype, fmt, rng):
    """Bit patterns covering every table class of ``dtype`` for ``fmt`` (random bits below the index)."""
    shift, width = core._table_shape(fmt, np.dtype(dtype))
    n_index = 1 << (width - shift)
    index = np.arange(n_index, dtype=np.uint64)
    if n_index > 1 << 17:  # float64 sources: a random half of the classes keeps the test quick
        index = rng.choice(index, 1 << 16, replace=False)
    low = rng.integers(0, 1 << shift, size=(3, index.size), dtype=np.uint64)
    low[0] = 0  # exact members
    low[1] |= np.uint64(1)  # sticky set
    bits = (index[None, :] << np.uint64(shift)) | low
    return bits.reshape(-1).astype(_UINT[np.dtype(dtype)]).view(dtype)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", FORMATS)
def test_table_path_equals_generic_kernel(name, dtype, monkeypatch):
    fmt = fs.get_format(name)
    if core._table_shape(fmt, np.dtype(dtype)) is None:
        pytest.skip(f"{name} from {np.dtype(dtype).name} takes the generic kernel (range or table size)")
    x = _members(dtype, fmt, np.random.default_rng(7))
    if not fmt.has_nan:
        x = x[~np.isnan(x)]
    for mode in MODES:
        for overflow in ("ieee", "saturate", "sat_none"):
            monkeypatch.setattr(core, "_USE_TABLES", True)
            fast = fs.encode(x, fmt, rounding=mode, overflow=overflow)
            fast_values = fs.cast(x, fmt, rounding=mode, overflow=overflow, dtype=np.float64)
            monkeypatch.setattr(core, "_USE_TABLES", False)
            slow = fs.encode(x, fmt, rounding=mode, overflow=overflow)
            slow_values = fs.cast(x, fmt, rounding=mode, overflow=overflow, dtype=np.float64)
            bad = np.flatnonzero(fast != slow)
            assert bad.size == 0, (mode, overflow, x[bad[:5]], fast[bad[:5]], slow[bad[:5]])
            np.testing.assert_array_equal(fast_values.view(np.uint64) | np.isnan(fast_values),
                                          slow_values.view(np.uint64) | np.isnan(slow_values))


def test_common_formats_take_the_table_path():
    for name in ["float8_e4m3fn", "float8_e5m2", "float4_e2m1fn", "float6_e2m3fn"]:
        for dtype in (np.float16, np.float32, np.float64):
            assert core._table_shape(fs.get_format(name), np.dtype(dtype)) is not None, (name, dtype)


@pytest.mark.parametrize("name", ["bfloat16", "float16", "tfloat32", "float8_e8m0fnu", "int8"])
def test_formats_outside_the_table_path(name):
    """Many mantissa bits, a range below float32's, integers: no table (the generic kernel)."""
    assert core._table_shape(fs.get_format(name), np.dtype(np.float32)) is None


def test_decode_table_equals_arithmetic_decode(monkeypatch):
    for name in ["float8_e4m3fn", "float16", "bfloat16", "float4_e2m1fn", "float8_e8m0fnu", "int4", "binary8p1ue"]:
        fmt = fs.get_format(name)
        codes = np.arange(fmt.num_codes, dtype=np.int64)
        monkeypatch.setattr(core, "_USE_TABLES", True)
        fast = fs.decode(codes, fmt, dtype=np.float64)
        monkeypatch.setattr(core, "_USE_TABLES", False)
        slow = fs.decode(codes, fmt, dtype=np.float64)
        np.testing.assert_array_equal(fast.view(np.uint64) | np.isnan(fast), slow.view(np.uint64) | np.isnan(slow))


@pytest.mark.parametrize(("name", "dtype"), [("bfloat16", np.float32), ("tfloat32", np.float32),
                                             ("float16", np.float16), ("float32", np.float32)])
def test_prefix_path_equals_generic_kernel(name, dtype, monkeypatch):
    """bfloat16 / TF32 from float32 round at a fixed bit position: every mode, policy and stochastic variant."""
    fmt = fs.get_format(name)
    assert core._is_prefix(fmt, np.dtype(dtype))
    rng = np.random.default_rng(3)
    width = np.dtype(dtype).itemsize * 8
    bits = rng.integers(0, 1 << width, 200_000, dtype=np.uint64)
    s = fmt.mantissa_bits - (np.finfo(dtype).nmant)  # make ties and near-ties common
    bits[::3] &= ~np.uint64((1 << max(-s - 1, 0)) - 1)
    x = bits.astype(_UINT[np.dtype(dtype)]).view(dtype)
    r = rng.integers(0, 1 << 62, x.size, dtype=np.uint64)
    cases = [(m, {}) for m in MODES] + [("stochastic", {"random_bits": r * np.uint64(4)}),
                                        ("stochastic_c", {"random_bits": r >> np.uint64(59), "sr_bits": 3}),
                                        ("stochastic", {"seed": 5})]
    for mode, kw in cases:
        for overflow in ("ieee", "saturate", "sat_none"):
            results = []
            for fast in (True, False):
                monkeypatch.setattr(core, "_USE_TABLES", fast)
                results.append((fs.encode(x, fmt, rounding=mode, overflow=overflow, **kw),
                                fs.cast(x, fmt, rounding=mode, overflow=overflow, **kw)))
            (c1, v1), (c2, v2) = results
            bad = np.flatnonzero(c1 != c2)
            assert bad.size == 0, (mode, overflow, x[bad[:5]], c1[bad[:5]], c2[bad[:5]])
            np.testing.assert_array_equal(v1.view(_UINT[np.dtype(dtype)]), v2.view(_UINT[np.dtype(dtype)]))


@pytest.mark.parametrize("name", ["bfloat16", "tfloat32", "e8m5"])
def test_float64_through_float32_round_to_odd(name, monkeypatch):
    """float64 -> bfloat16 / TF32 rounds to odd into float32 first: equal to rounding directly."""
    fmt = fs.FloatFormat(exponent_bits=8, mantissa_bits=5) if name == "e8m5" else fs.get_format(name)
    rng = np.random.default_rng(11)
    bits = rng.integers(0, 1 << 63, 200_000, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, 200_000,
                                                                                             dtype=np.uint64)
    x = bits.view(np.float64)
    # values near the float32 and format boundaries: subnormals, max, ties in both formats
    edges = np.array([np.finfo(np.float32).max, fmt.max, fmt.smallest_subnormal, 2.0**-149, 2.0**-150,
                      1 + 2.0**-8 + 2.0**-40, 1 + 2.0**-8, 7.9e38, 1e300, np.inf, np.nan, 0.0])
    x = np.concatenate([x, edges, -edges, rng.standard_normal(100_000) * 2.0 ** rng.integers(-140, 130, 100_000)])
    for mode in MODES:
        for overflow in ("ieee", "saturate", "sat_none", "sat_propagate"):
            results = []
            for fast in (True, False):
                monkeypatch.setattr(core, "_USE_TABLES", fast)
                results.append((fs.encode(x, fmt, rounding=mode, overflow=overflow),
                                fs.cast(x, fmt, rounding=mode, overflow=overflow)))
            (c1, v1), (c2, v2) = results
            bad = np.flatnonzero(c1 != c2)
            assert bad.size == 0, (mode, overflow, x[bad[:5]], c1[bad[:5]], c2[bad[:5]])
            np.testing.assert_array_equal(v1.view(np.uint64), v2.view(np.uint64))


def _int_inputs(dtype, fmt, rng):
    """Specials, halves and their neighbours around every small integer and around the range ends, and random
    values of every magnitude."""
    half = np.arange(-300, 300, dtype=np.float64) / 2
    ends = np.array([fmt.min, fmt.max], np.float64)
    around = np.concatenate([half, ends - 0.5, ends + 0.5, ends, ends - 1, ends + 1, ends * 2])
    around = around.astype(dtype)
    nudged = np.concatenate([around, np.nextafter(around, np.inf), np.nextafter(around, -np.inf)])
    info = np.finfo(dtype)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, info.max, -info.max, info.smallest_subnormal,
                         -info.smallest_subnormal, 2.0**40, -(2.0**40), 2.0**70], dtype)
    bits = rng.integers(0, np.iinfo(_UINT[np.dtype(dtype)]).max, 50_000, dtype=_UINT[np.dtype(dtype)],
                        endpoint=True).view(dtype)
    x = np.concatenate([nudged, specials, bits, (rng.standard_normal(50_000) * fmt.max).astype(dtype)])
    return x[~np.isnan(x)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("fmt", [fs.IntFormat(bits=b, signed=s) for b in (2, 4, 8, 16, 24, 32) for s in (True, False)],
                         ids=str)
def test_saturating_int_path_equals_generic_kernel(fmt, dtype, monkeypatch):
    """Deterministic rounding to integers with saturation takes a float fast path; it equals the generic kernel."""
    x = _int_inputs(dtype, fmt, np.random.default_rng(fmt.bits))
    for mode in MODES:
        monkeypatch.setattr(core, "_USE_TABLES", True)
        fast = fs.encode(x, fmt, rounding=mode, overflow="saturate")
        monkeypatch.setattr(core, "_USE_TABLES", False)
        slow = fs.encode(x, fmt, rounding=mode, overflow="saturate")
        bad = np.flatnonzero(fast != slow)
        assert bad.size == 0, (mode, x[bad[:5]], fast[bad[:5]], slow[bad[:5]])
    monkeypatch.setattr(core, "_USE_TABLES", True)
    with pytest.raises(ValueError, match="1 NaN"):
        fs.encode(np.array([1.0, np.nan], dtype), fmt, overflow="saturate")
