"""Property-based tests (hypothesis): rounding laws that hold for every format, mode and input.

* idempotent: ``cast(cast(x)) == cast(x)``;
* monotone: ``x <= y`` implies ``cast(x) <= cast(y)`` (nearest and directed modes);
* nearest modes pick the nearer of the two decoded neighbours (within half a spacing);
* directed modes return the decoded neighbour on their side (they bracket ``x``);
* ``decode(encode(x)) == cast(x)`` for every mode and overflow policy.

The neighbours come from decoding every code of the format (formats of <= 12 bits
here) and sorting the values, not from floatsim's rounding.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import floatsim as fs  # noqa: E402
from floatsim.format import FloatFormat, IntFormat  # noqa: E402
from floatsim.formats import p3109  # noqa: E402
from floatsim.testing import float_formats  # noqa: E402

settings.register_profile(
    "floatsim-properties", deadline=None, max_examples=150, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
PROPS = settings.get_profile("floatsim-properties")

NAMED = [fs.get_format(n) for n in [
    "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e3m4", "float6_e2m3fn", "float6_e3m2fn",
    "float4_e2m1fn", "float8_e8m0fnu", "bfloat16", "float16", "binary8p1uf", "binary8p3se", "binary4p2se",
    "binary3p2sf", "int4", "uint8", "int2",
]] + [
    FloatFormat(exponent_bits=3, mantissa_bits=4, subnormals=False, name="e3m4_nosub"),
    FloatFormat(exponent_bits=4, mantissa_bits=3, signed=False, specials="fn", name="ue4m3fn"),
    FloatFormat(exponent_bits=5, mantissa_bits=0, specials="fn", name="e5m0fn"),
    p3109(6, 3, signed=False, extended=True),
]

NEAREST = ["nearest_even", "nearest_away"]
DIRECTED = ["toward_zero", "toward_positive", "toward_negative"]
DETERMINISTIC = NEAREST + DIRECTED + ["odd"]
ALL_MODES = DETERMINISTIC + ["stochastic", "stochastic_a", "stochastic_b", "stochastic_c"]


def _policies(fmt):
    return ["saturate", "wrap"] if isinstance(fmt, IntFormat) else ["ieee", "saturate", "sat_propagate", "sat_none"]


formats = st.one_of(st.sampled_from(NAMED), float_formats(max_bits=12))


@st.composite
def format_and_values(draw, dtype=np.float64, min_size=1, max_size=24):
    fmt = draw(formats)
    with np.errstate(over="ignore", under="ignore"):
        hi = float(dtype(min(fmt.max * 2.5, np.finfo(dtype).max)))
        tiny = float(dtype(4 * getattr(fmt, "smallest_subnormal", 1.0)))
    width = np.dtype(dtype).itemsize * 8
    element = st.one_of(
        st.floats(-hi, hi, allow_nan=False, width=width),
        st.floats(-tiny, tiny, allow_nan=False, width=width),  # around zero and the subnormals
        st.sampled_from([0.0, -0.0, math.inf, -math.inf, fmt.max, -fmt.max]),
    )
    xs = draw(st.lists(element, min_size=min_size, max_size=max_size))
    with np.errstate(over="ignore"):
        return fmt, np.array(xs, dtype=np.float64).astype(dtype)


def _kw(mode, seed=17):
    if mode == "stochastic":
        return dict(seed=seed)
    if mode.startswith("stochastic"):
        return dict(seed=seed, sr_bits=5)
    return {}


def same(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return bool(np.all(np.where(np.isnan(a) | np.isnan(b), np.isnan(a) & np.isnan(b),
                                (a == b) & (np.signbit(a) == np.signbit(b)))))


@functools.cache
def _sorted_values(fmt):
    """Every finite value of the format, sorted (-0 and +0 merged)."""
    v = fs.decode(np.arange(fmt.num_codes), fmt, dtype=np.float64)
    return np.unique(v[np.isfinite(v)])


# --------------------------------------------------------------------------- idempotent
@PROPS
@given(fv=format_and_values(), mode=st.sampled_from(ALL_MODES), data=st.data())
def test_idempotent(fv, mode, data):
    fmt, x = fv
    ov = data.draw(st.sampled_from(_policies(fmt)))
    c = fs.cast(x, fmt, rounding=mode, overflow=ov, **_kw(mode))
    keep = ~np.isnan(c)
    again = fs.cast(c[keep], fmt, rounding=mode, overflow=ov, **_kw(mode, seed=99))
    assert same(again, c[keep]), (x[keep], c[keep], again)


# --------------------------------------------------------------------------- monotone
@PROPS
@given(fv=format_and_values(min_size=2), mode=st.sampled_from(NEAREST + DIRECTED),
       ov=st.sampled_from(["saturate", "ieee", "wrap"]))
def test_monotone(fv, mode, ov):
    fmt, x = fv
    if isinstance(fmt, IntFormat):
        ov = "saturate"  # wrap is not monotone by design
    elif ov == "wrap":
        ov = "sat_propagate"
    xs = np.sort(x)
    c = fs.cast(xs, fmt, rounding=mode, overflow=ov, dtype=np.float64)
    c = c[~np.isnan(c)]
    assert np.all(np.diff(c) >= 0), (xs, c)


# --------------------------------------------------------------------------- neighbours
def _in_range(fmt, x):
    """Finite inputs between the smallest and the largest value of the format."""
    vals = _sorted_values(fmt)
    return np.isfinite(x) & (x >= vals[0]) & (x <= vals[-1])


@PROPS
@given(fv=format_and_values(), mode=st.sampled_from(NEAREST + DIRECTED + ["odd"]),
       ov=st.sampled_from(["saturate", "ieee"]))
def test_result_is_a_decoded_neighbour(fv, mode, ov):
    fmt, x = fv
    if isinstance(fmt, IntFormat):
        ov = "saturate"
    vals = _sorted_values(fmt)
    x = x[_in_range(fmt, x)]
    if x.size == 0:
        return
    c = fs.cast(x, fmt, rounding=mode, overflow=ov, dtype=np.float64)
    i = np.searchsorted(vals, x, side="right") - 1  # vals[i] <= x < vals[i + 1]
    lo = vals[i]
    hi = vals[np.minimum(i + 1, vals.size - 1)]
    exact = lo == x
    assert np.all(c[exact] == x[exact])
    lo, hi, xs, cs = lo[~exact], hi[~exact], x[~exact], c[~exact]
    assert np.all((cs == lo) | (cs == hi))
    if mode in NEAREST:
        d_c, d_other = np.abs(cs - xs), np.abs(np.where(cs == lo, hi, lo) - xs)
        assert np.all(d_c <= d_other)  # within half a spacing
        assert np.all(d_c <= (hi - lo) / 2)
        if mode == "nearest_away":
            tie = d_c == d_other
            assert np.all(np.abs(cs[tie]) >= np.abs(xs[tie]))
    elif mode == "toward_negative":
        assert np.all(cs == lo)
    elif mode == "toward_positive":
        assert np.all(cs == hi)
    elif mode == "toward_zero":
        assert np.all(np.abs(cs) <= np.abs(xs))
    # signed zero: a negative input that rounds to zero keeps its sign where the format has -0
    zero = cs == 0
    if isinstance(fmt, FloatFormat) and zero.any():
        assert np.all(np.signbit(cs[zero]) == ((xs[zero] < 0) & fmt.has_negative_zero))


@PROPS
@given(fv=format_and_values(), mode=st.sampled_from(DIRECTED))
def test_directed_modes_bracket(fv, mode):
    fmt, x = fv
    ov = "saturate"
    x = x[_in_range(fmt, x)]
    c = fs.cast(x, fmt, rounding=mode, overflow=ov, dtype=np.float64)
    if mode == "toward_negative":
        assert np.all(c <= x)
    elif mode == "toward_positive":
        assert np.all(c >= x)
    else:
        assert np.all(np.abs(c) <= np.abs(x))
    lo = fs.cast(x, fmt, rounding="toward_negative", overflow=ov, dtype=np.float64)
    hi = fs.cast(x, fmt, rounding="toward_positive", overflow=ov, dtype=np.float64)
    assert np.all((lo <= x) & (x <= hi))
    for m in NEAREST + ["odd", "toward_zero"]:  # every other mode lands on one of the two
        r = fs.cast(x, fmt, rounding=m, overflow=ov, dtype=np.float64)
        assert np.all((r == lo) | (r == hi))


# --------------------------------------------------------------------------- decode(encode(x)) == cast(x)
@PROPS
@given(fv=format_and_values(), mode=st.sampled_from(ALL_MODES), data=st.data(),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_decode_encode_is_cast(fv, mode, data, dtype):
    fmt, x = fv
    with np.errstate(over="ignore"):
        x = x.astype(dtype)
    ov = data.draw(st.sampled_from(_policies(fmt)))
    if fmt.has_nan:
        x = np.concatenate([x, [np.nan]]).astype(dtype)
    codes = fs.encode(x, fmt, rounding=mode, overflow=ov, **_kw(mode))
    assert codes.dtype == fmt.code_dtype
    assert np.all(codes.astype(np.int64) < fmt.num_codes)
    vdt = np.float64 if not fmt.exact_in(dtype) else dtype
    values = fs.cast(x, fmt, rounding=mode, overflow=ov, dtype=vdt, **_kw(mode))
    assert same(fs.decode(codes, fmt, dtype=np.float64), values)


@PROPS
@given(fv=format_and_values(dtype=np.float32))
def test_float32_and_float64_inputs_agree(fv):
    """A float32 value rounds the same whether it arrives as float32 or widened to float64."""
    fmt, x = fv
    for mode in ("nearest_even", "toward_zero", "odd"):
        a = fs.encode(x, fmt, rounding=mode, overflow="saturate" if not isinstance(fmt, IntFormat) else None)
        b = fs.encode(x.astype(np.float64), fmt, rounding=mode,
                      overflow="saturate" if not isinstance(fmt, IntFormat) else None)
        assert np.array_equal(a, b)


@PROPS
@given(fv=format_and_values(), mode=st.sampled_from(NEAREST + DIRECTED + ["odd"]))
def test_sign_symmetry(fv, mode):
    """Signed float formats: cast(-x) == -cast(x) with toward_positive and toward_negative swapped."""
    fmt, x = fv
    if isinstance(fmt, IntFormat) or not fmt.signed:
        return
    swap = {"toward_positive": "toward_negative", "toward_negative": "toward_positive"}.get(mode, mode)
    a = fs.cast(x, fmt, rounding=mode, overflow="saturate", dtype=np.float64)
    b = fs.cast(-x, fmt, rounding=swap, overflow="saturate", dtype=np.float64)
    if fmt.has_negative_zero:
        assert same(a, -b)
    else:
        assert np.array_equal(a, -b)  # +0 either way
