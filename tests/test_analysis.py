"""Tests of floatsim.analysis against decode, numpy and ml_dtypes."""

import math
import warnings

import ml_dtypes
import numpy as np
import pytest

import floatsim as fs
from floatsim import analysis as an
from floatsim.format import FloatFormat, IntFormat
from floatsim.formats import CATALOGUE

SMALL_FLOATS = [f for f in CATALOGUE.values() if isinstance(f, FloatFormat) and f.bits <= 16]
EXTRA = [
    fs.p3109(8, 4), fs.p3109(6, 3, signed=False), fs.p3109(8, 3, extended=False),
    FloatFormat(exponent_bits=4, mantissa_bits=3, subnormals=False, specials="fn", name="e4m3_nosub"),
]
ALL_SMALL = SMALL_FLOATS + EXTRA


def _values(fmt):
    """Every code and its decoded value (float64)."""
    codes = np.arange(fmt.num_codes)
    return codes, fs.decode(codes, fmt, dtype=np.float64)


def _finfo(fmt):
    dt = np.float16 if fmt.name == "float16" else np.float32 if fmt.name == "float32" else getattr(
        ml_dtypes, fmt.name, None)
    return None if dt is None else ml_dtypes.finfo(dt)


@pytest.mark.parametrize("fmt", ALL_SMALL, ids=str)
def test_ulp_equals_spacing_of_decoded_values(fmt):
    _, v = _values(fmt)
    pos = np.unique(v[np.isfinite(v) & (v >= 0)])
    gaps = np.diff(pos)
    np.testing.assert_array_equal(an.ulp(pos[:-1], fmt), gaps)
    assert an.ulp(pos[-1], fmt) == gaps[-1]  # at max: the gap below
    np.testing.assert_array_equal(an.next_up(pos[:-1], fmt), pos[1:])
    np.testing.assert_array_equal(an.next_down(pos[1:], fmt), pos[:-1])
    if fmt.signed:
        np.testing.assert_array_equal(an.ulp(-pos, fmt), an.ulp(pos, fmt))
        # midpoints are not representable: neighbours are the surrounding values
        mid = (pos[:-1] + pos[1:]) / 2
        np.testing.assert_array_equal(an.next_up(mid, fmt), pos[1:])
        np.testing.assert_array_equal(an.next_down(-mid, fmt), -pos[1:])
        np.testing.assert_array_equal(an.ulp(mid, fmt), gaps)


@pytest.mark.parametrize("fmt", ALL_SMALL, ids=str)
def test_next_up_down_at_the_ends(fmt):
    top = an.next_up(fmt.max, fmt)
    assert top == math.inf if fmt.has_inf else math.isnan(top)
    assert math.isnan(an.next_up(math.nan, fmt))
    if fmt.has_zero:
        assert an.next_up(-0.0, fmt) == fmt.smallest_subnormal
        assert an.next_up(0.0, fmt) == fmt.smallest_subnormal
    if fmt.signed:
        bottom = an.next_down(-fmt.max, fmt)
        assert bottom == -math.inf if fmt.has_inf else math.isnan(bottom)
        assert an.next_up(-1e300, fmt) == -fmt.max
    else:
        assert math.isnan(an.next_down(fmt.min, fmt))
    assert an.next_down(1e300, fmt) == fmt.max


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_float16_exhaustive_against_numpy():
    x = np.arange(1 << 16, dtype=np.uint16).view(np.float16)
    x = x[~np.isnan(x)]
    np.testing.assert_array_equal(an.next_up(x, "float16"), np.nextafter(x, np.float16(np.inf)).astype(np.float64))
    np.testing.assert_array_equal(an.next_down(x, "float16"),
                                  np.nextafter(x, np.float16(-np.inf)).astype(np.float64))
    # numpy's float16 spacing of a negative power of two is the gap toward zero (float32 / float64
    # give the gap away from zero), so compare on x >= 0 and check the symmetry separately
    fin = x[np.isfinite(x) & (x >= 0) & (x != np.finfo(np.float16).max)]
    np.testing.assert_array_equal(an.ulp(fin, "float16"), np.spacing(fin).astype(np.float64))
    np.testing.assert_array_equal(an.ulp(-fin, "float16"), an.ulp(fin, "float16"))


def test_float32_random_against_numpy():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 1 << 32, 200_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    x = x[np.isfinite(x) & (np.abs(x) != np.finfo(np.float32).max)]
    np.testing.assert_array_equal(an.next_up(x, "float32"), np.nextafter(x, np.float32(np.inf)).astype(np.float64))
    np.testing.assert_array_equal(an.next_down(x, "float32"),
                                  np.nextafter(x, np.float32(-np.inf)).astype(np.float64))
    np.testing.assert_array_equal(an.ulp(x, "float32"), np.abs(np.spacing(x)).astype(np.float64))
    # non-representable float64 inputs: neighbours of their float32 rounding interval
    y = rng.standard_normal(10_000) * 10.0 ** rng.integers(-30, 30, 10_000)
    lo = y.astype(np.float32)  # nearest; fix up to the floor / ceiling
    lo = np.where(lo.astype(np.float64) > y, np.nextafter(lo, np.float32(-np.inf)), lo)
    hi = np.nextafter(lo, np.float32(np.inf))
    np.testing.assert_array_equal(an.next_up(y, "float32"), hi.astype(np.float64))
    np.testing.assert_array_equal(an.next_down(y, "float32"), lo.astype(np.float64))


@pytest.mark.parametrize("fmt", [f for f in CATALOGUE.values() if isinstance(f, FloatFormat)], ids=str)
def test_ulp_at_one_is_finfo_eps(fmt):
    fi = _finfo(fmt)
    if fi is None:
        pytest.skip(f"no ml_dtypes type for {fmt}")
    if fmt.max < 2.0:
        pytest.skip("1.0 is the top value")
    assert an.ulp(1.0, fmt) == float(fi.eps) == fmt.eps


def _closed_form_top_count(fmt):
    m = fmt.mantissa_bits
    return (fmt.max_code & ((1 << m) - 1)) + 1


@pytest.mark.parametrize("fmt", ALL_SMALL, ids=str)
def test_binades_counts(fmt):
    rows = an.binades(fmt)
    _, v = _values(fmt)
    n_pos = int(np.count_nonzero(np.isfinite(v) & (v > 0)))
    assert sum(r["count"] for r in rows) == n_pos
    m = fmt.mantissa_bits
    normal = [r for r in rows if r["kind"] == "normal"]
    assert [r["exponent"] for r in normal] == list(range(fmt.emin, fmt.emax + 1))
    for r in normal[:-1]:
        assert r["count"] == 1 << m
        assert r["unit_roundoff"] == 2.0 ** (-m - 1)
    assert normal[-1]["count"] == _closed_form_top_count(fmt)
    assert normal[-1]["hi"] == fmt.max
    sub = [r for r in rows if r["kind"] == "subnormal"]
    if fmt.subnormals and m:
        assert sub[0]["count"] == (1 << m) - 1 and sub[0]["lo"] == fmt.smallest_subnormal
    else:
        assert not sub
    # each row's values really are there, spaced by `spacing`
    for r in rows:
        inside = v[np.isfinite(v) & (v >= r["lo"]) & (v <= r["hi"])]
        assert inside.size == r["count"]


def test_binades_float32_closed_form():
    rows = an.binades("float32")
    assert len(rows) == 1 + 254
    assert sum(r["count"] for r in rows) == 0x7F800000 - 1


@pytest.mark.parametrize("fmt", ALL_SMALL + [f for f in CATALOGUE.values() if isinstance(f, IntFormat)], ids=str)
def test_count_within_matches_decode(fmt):
    _, v = _values(fmt)
    fin = v[np.isfinite(v)]
    for t in [0.0, 1e-300, 0.3, 1.0, 1.5, 7.0, 100.0, float(fmt.max), math.inf, -1.0]:
        expected = int(np.count_nonzero((fin >= -t) & (fin <= t)))
        assert an.count_within(fmt, t) == expected, t
    assert an.share_within(fmt, math.inf) == fin.size / fmt.num_codes


def test_compare_matches_finfo():
    rows = an.compare()
    assert {r["name"] for r in rows} == {n for n, f in CATALOGUE.items() if isinstance(f, FloatFormat)}
    checked = 0
    for r in rows:
        fmt = CATALOGUE[r["name"]]
        fi = _finfo(fmt)
        if fi is None:
            continue
        checked += 1
        assert r["max"] == float(fi.max)
        assert r["smallest_normal"] == float(fi.smallest_normal)
        assert r["smallest_subnormal"] == float(fi.smallest_subnormal)
        assert r["eps"] == float(fi.eps)
        assert r["binades"] == pytest.approx(math.log2(r["max"] / r["smallest_subnormal"]))
        assert r["decimal_digits"] == pytest.approx((r["mantissa_bits"] + 1) * math.log10(2))
        if fmt.bits <= 16:
            _, v = _values(fmt)
            assert r["finite_values"] == int(np.count_nonzero(np.isfinite(v)))
            assert r["nan_codes"] == int(np.count_nonzero(np.isnan(v)))
    assert checked >= 13
    e5m2 = an.compare(["float8_e5m2"])[0]
    assert (e5m2["inf"], e5m2["negative_zero"], e5m2["nan_codes"]) == ("+-inf", "yes", 6)
    fnuz = an.compare(["float8_e4m3fnuz"])[0]
    assert (fnuz["inf"], fnuz["negative_zero"], fnuz["nan_codes"]) == ("none", "no", 1)


def test_value_table_e2m1():
    rows = an.value_table("float4_e2m1fn")
    ocp = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]
    assert len(rows) == 16
    assert [r["value"] for r in rows] == ocp + [-x for x in ocp]
    assert [r["code"] for r in rows] == list(range(16))
    assert rows[8]["cls"] == "zero" and math.copysign(1, rows[8]["value"]) == -1
    assert [r["cls"] for r in rows[:3]] == ["zero", "subnormal", "normal"]
    assert rows[15]["bits"] == "1 11 1" and rows[15]["fraction"] == "-6"
    assert rows[1]["fraction"] == "1/2" and rows[1]["exponent"] == 0 and rows[1]["hex"] == (0.5).hex()
    assert rows[6]["exponent"] == 2 and rows[6]["exponent_field"] == 3 and rows[6]["mantissa_field"] == 0


def test_value_table_specials_and_ints():
    rows = an.value_table("float8_e4m3fn")
    assert rows[0x7E]["bits"] == "0 1111 110" and rows[0x7E]["value"] == 448.0
    assert rows[0x7F]["cls"] == "nan" and rows[0x7F]["hex"] == "nan" and rows[0x7F]["fraction"] is None
    e5m2 = an.value_table("float8_e5m2", codes=[0x7C, 0xFC])
    assert [r["hex"] for r in e5m2] == ["inf", "-inf"] and e5m2[0]["cls"] == "inf"
    ints = an.value_table("int4")
    assert [r["value"] for r in ints[:9]] == [0, 1, 2, 3, 4, 5, 6, 7, -8] and ints[0]["cls"] == "int"
    assert len(an.value_table("float8_e8m0fnu")) == 256


def test_value_table_wide_formats():
    with pytest.raises(ValueError, match="codes=|value_range="):
        an.value_table("float32")
    rows = an.value_table("float32", codes=range(0x3F800000, 0x3F800004))
    assert [r["value"] for r in rows] == [1.0 + k * 2.0 ** -23 for k in range(4)]
    rows = an.value_table("float32", value_range=(-2e-45, 2e-45))  # +-0 and +-2**-149
    assert [r["value"] for r in rows] == [0.0, 2.0 ** -149, -0.0, -(2.0 ** -149)]
    rows = an.value_table("float32", value_range=(-1.0, -1.0 + 2.0 ** -22))
    assert [r["value"] for r in rows] == [-1.0 + k * 2.0 ** -24 for k in (4, 3, 2, 1, 0)]
    rows = an.value_table("float32", value_range=(1.0, 1.0 + 2.0 ** -13))
    assert len(rows) == (1 << 10) + 1 and rows[0]["code"] == 0x3F800000
    with pytest.raises(ValueError, match="rows"):
        an.value_table("float32", value_range=(1.0, 1e10))
    small = an.value_table("tfloat32", value_range=(-2.0, -1.0))
    assert len(small) == (1 << 10) + 1 and all(-2.0 <= r["value"] <= -1.0 for r in small)


def test_explain():
    e = an.explain(1.0625, "float8_e4m3fn")
    assert (e["lo"], e["hi"], e["p_round_up"]) == (1.0, 1.125, 0.5)
    m = e["modes"]
    assert m["nearest_even"]["value"] == 1.0 and m["nearest_away"]["value"] == 1.125
    assert m["toward_positive"]["code"] == "0x39" and m["odd"]["value"] == 1.125
    assert m["toward_zero"]["abs_error"] == 0.0625 and m["toward_zero"]["rel_error"] == 0.0625 / 1.0625
    e = an.explain(2.0, "float8_e4m3fn")
    assert e["representable"] and e["p_round_up"] == 0.0 and e["lo"] == e["hi"] == 2.0
    e = an.explain(1000.0, "float8_e4m3fn")
    assert e["lo"] == 448.0 and math.isnan(e["hi"]) and e["p_round_up"] is None
    text = an.explain_text(-0.3, "float4_e2m1fn")
    assert "between -0.5 and -0.0" in text and len(text.splitlines()) == 1 + len(an.DETERMINISTIC_MODES)


def test_quantization_error():
    sample = fs.cast(np.random.default_rng(1).standard_normal(1000), "float8_e4m3fn", dtype=np.float64)
    rows = an.quantization_error(sample, ["float8_e4m3fn", "float16", "bfloat16"])
    for r in rows:
        assert r["mse"] == 0.0 and r["sqnr_db"] == math.inf and r["max_abs_error"] == 0.0
    x = np.random.default_rng(2).standard_normal(10_000)
    e4, e5 = an.quantization_error(x, ["float8_e4m3fn", "float8_e5m2"])
    assert e4["sqnr_db"] > e5["sqnr_db"] > 20
    assert 0 < e4["max_rel_error"] <= 1.0
    q = fs.cast(x, "float8_e4m3fn", overflow="saturate", dtype=np.float64)
    assert e4["mse"] == pytest.approx(float(np.mean((q - x) ** 2)))
    big = x * 1e4
    raw, scaled = an.quantization_error(big, "float8_e4m3fn"), an.quantization_error(big, "float8_e4m3fn",
                                                                                       scale="absmax")
    assert scaled[0]["sqnr_db"] > raw[0]["sqnr_db"] and scaled[0]["scale"] == 448.0 / np.max(np.abs(big))
    with pytest.raises(ValueError):
        an.quantization_error([np.nan], "float16")


def test_classify_values_agrees_with_the_reference_for_every_code():
    """The value-based classifier of the analysis layer against the reference's code-based one."""
    from floatsim import reference
    from floatsim.analysis import classify_values

    for name in ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e8m0fnu", "float4_e2m1fn",
                 "binary8p1uf", "binary8p3se", "int4"]:
        fmt = fs.get_format(name)
        codes = np.arange(fmt.num_codes)
        got = classify_values(fs.decode(codes, fmt, dtype=np.float64), fmt).tolist()
        assert got == [reference.classify(int(c), fmt) for c in codes], name
    nosub = fs.FloatFormat(exponent_bits=3, mantissa_bits=2, subnormals=False)
    codes = np.arange(nosub.num_codes)
    assert classify_values(fs.decode(codes, nosub, dtype=np.float64), nosub).tolist() == [
        reference.classify(int(c), nosub) for c in codes]


@pytest.mark.parametrize("name,x,lo,hi,representable", [
    ("float8_e5m2", math.inf, math.inf, math.inf, True),          # IEEE infinities are values of the format
    ("float8_e5m2", -math.inf, -math.inf, -math.inf, True),
    ("float8_e4m3fn", math.inf, 448.0, math.nan, False),          # no infinity: nothing above the max
    ("float8_e4m3fn", -math.inf, math.nan, -448.0, False),
    ("float8_e8m0fnu", -math.inf, math.nan, 2.0**-127, False),     # unsigned: the smallest value is 2^-127
    ("int4", math.inf, 7.0, math.nan, False),
])
def test_explain_infinities(name, x, lo, hi, representable):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's nextafter used to warn about overflow here
        e = an.explain(x, name)
    assert e["representable"] is representable
    assert (e["lo"] == lo or (math.isnan(lo) and math.isnan(e["lo"])))
    assert (e["hi"] == hi or (math.isnan(hi) and math.isnan(e["hi"])))
    first = an.explain_text(x, name).splitlines()[0]
    assert "nan" not in first.split(":", 1)[1], first   # "above the largest value", not "between 448 and nan"


def test_explain_integer_formats_default_to_saturate():
    e = an.explain(2.5, "int4")
    assert {m: r["value"] for m, r in e["modes"].items()}["nearest_even"] == 2.0
    assert e["modes"]["nearest_away"]["value"] == 3.0
    assert an.explain(100.0, "int4")["modes"]["toward_zero"]["value"] == 7.0   # saturated
    with pytest.raises(ValueError, match="ieee"):
        an.explain(2.5, "int4", overflow="ieee")


@pytest.mark.parametrize("name", ["float8_e4m3fn", "bfloat16", "float32"])
@pytest.mark.parametrize("bad", [(1.0, 0.0), (math.nan, 1.0), (0.0, math.nan)])
def test_value_table_rejects_a_bad_range_at_any_width(name, bad):
    with pytest.raises(ValueError, match="needs lo <= hi, neither NaN"):
        an.value_table(name, value_range=bad)
