"""floatsim against external oracles, and the kernels against the exact reference.

Oracles: ml_dtypes (decode, float32 casts, the float64 scalar path, intN), numpy.float16,
MPFR through gmpy2 (every deterministic rounding mode, any format), gfloat (P3109 and
OCP, deterministic and stochastic), and :mod:`floatsim.reference` (every mode and
overflow policy, integer formats included).

Nothing is filtered silently: where floatsim deliberately differs from an oracle, the
inputs concerned belong to a ``kind`` of ``tests/differences.py``; each sweep computes
the expected set of exceptions from the input alone, asserts that the mismatches are
exactly that set (and that it is not empty), and checks both sides on it.
"""

from __future__ import annotations

import math
import pathlib
import warnings

import ml_dtypes
import numpy as np
import pytest
from differences import DIFFERENCES, KINDS, PREAMBLE, render_markdown

import floatsim as fs
from floatsim import reference as ref
from floatsim.format import FloatFormat, IntFormat
from floatsim.formats import p3109

try:
    import gmpy2
except ImportError:  # pragma: no cover
    gmpy2 = None
try:
    import gfloat
    import gfloat.formats
except ImportError:  # pragma: no cover
    gfloat = None

needs_gmpy2 = pytest.mark.skipif(gmpy2 is None, reason="gmpy2 (MPFR) not installed")
needs_gfloat = pytest.mark.skipif(gfloat is None, reason="gfloat not installed")

ROOT = pathlib.Path(__file__).resolve().parent.parent
from kernel_paths import PATHS, kernel_path  # noqa: E402

DETERMINISTIC = ["nearest_even", "nearest_away", "toward_zero", "toward_positive", "toward_negative", "odd"]
FLOAT_POLICIES = ["ieee", "saturate", "sat_propagate", "sat_none"]


def same_values(a, b) -> np.ndarray:
    """Elementwise: equal values, NaN as a class, the sign of zeros compared."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    return np.where(nan_a | nan_b, nan_a & nan_b, (a == b) & (np.signbit(a) == np.signbit(b)))


def assert_same(actual, expected, x=None, what=""):
    ok = same_values(actual, expected)
    if not ok.all():
        i = np.flatnonzero(~ok)[:6]
        xs = "" if x is None else f" inputs {np.asarray(x).reshape(-1)[i].tolist()}"
        raise AssertionError(
            f"{what}: {np.count_nonzero(~ok)} of {ok.size} differ;{xs} floatsim "
            f"{np.asarray(actual).reshape(-1)[i].tolist()} expected {np.asarray(expected).reshape(-1)[i].tolist()}"
        )


# =========================================================================== ml_dtypes
ML_TYPES = {
    name: getattr(ml_dtypes, name)
    for name in [
        "bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e4m3", "float8_e3m4", "float8_e4m3fnuz",
        "float8_e5m2fnuz", "float8_e4m3b11fnuz", "float6_e2m3fn", "float6_e3m2fn", "float4_e2m1fn",
        "float8_e8m0fnu",
    ]
}


def _uint(bits):
    return np.uint16 if bits > 8 else np.uint8


def _ml_decode_all(name):
    fmt = fs.get_format(name)
    codes = np.arange(fmt.num_codes, dtype=_uint(fmt.bits))  # FP4/FP6: only codes < 2**bits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # bfloat16 NaN payloads
        return codes, codes.view(ML_TYPES[name]).astype(np.float64)


@pytest.mark.parametrize("name", ML_TYPES)
def test_mldtypes_decode_every_code(name):
    codes, expected = _ml_decode_all(name)
    assert_same(fs.decode(codes, name, dtype=np.float64), expected, codes, f"decode {name}")
    # the default dtype (float32 for all of these) gives the same values
    got32 = fs.decode(codes, name)
    assert got32.dtype == np.float32
    assert_same(got32, expected, codes, f"decode {name} float32")


def _float32_sweep(name, n_random=100_000, seed=0):
    """Every value, every midpoint (also above max) and its float32 neighbours, random values, specials."""
    fmt = fs.get_format(name)
    _, values = _ml_decode_all(name)
    vals = np.unique(values[np.isfinite(values)])  # sorted; -0 and +0 merge
    top = vals[-1] + (vals[-1] - vals[-2]) / 2  # midpoint to the next value of the unbounded grid
    mids = np.concatenate([(vals[:-1] + vals[1:]) / 2, [top, -top] if fmt.signed else [top]])
    mids32 = mids.astype(np.float32)
    assert np.array_equal(mids32.astype(np.float64), mids), "midpoints must be exact in float32"
    rng = np.random.default_rng(seed)
    half = n_random // 2
    normal = rng.standard_normal(half) * (fmt.max / 4)
    lo, hi = math.log2(fmt.smallest_subnormal) - 3, min(math.log2(fmt.max) + 1.5, 127.9)
    logu = np.exp2(rng.uniform(lo, hi, n_random - half)) * rng.choice([-1.0, 1.0], n_random - half)
    specials = np.array([np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30, 1e-30, -1e-30])
    xs = [vals, mids32, np.nextafter(mids32, np.float32(np.inf)), np.nextafter(mids32, np.float32(-np.inf)),
          normal, logu, specials]
    with np.errstate(over="ignore"):
        return np.concatenate([np.asarray(v, np.float32) for v in xs])


def _e8m0_expected_mismatch(x):
    """Inputs where floatsim and ml_dtypes differ for E8M0, from the input alone (two kinds).

    * ``e8m0-exact-tie``: x = 1.5 * 2**k between two E8M0 values whose lower one has an
      even code (floatsim keeps it; ml_dtypes rounds up in magnitude);
    * ``e8m0-subnormal-anomaly``: 2**-127 < x < 1.5 * 2**-127 (ml_dtypes gives 2**-126).
    """
    x = x.astype(np.float64)
    pos = np.isfinite(x) & (x > 0)
    m, e = np.frexp(np.where(pos, x, 1.0))  # x = m * 2**e, 0.5 <= m < 1
    lo_code = (e - 1) + 127  # x is a tie between 2**(e-1) and 2**e
    tie = pos & (m == 0.75) & (lo_code >= 0) & (lo_code <= 254) & (lo_code % 2 == 0)
    anomaly = pos & (x > 2.0**-127) & (x < 1.5 * 2.0**-127)
    return tie, anomaly


@pytest.fixture(params=PATHS)
def path(request):
    """Run a test through floatsim's default path and with the lookup-table fast path off."""
    with kernel_path(request.param):
        yield request.param


@pytest.mark.parametrize("name", ML_TYPES)
def test_mldtypes_encode_cast_float32(name, path):
    fmt = fs.get_format(name)
    T = ML_TYPES[name]
    x = _float32_sweep(name)
    if fmt.has_nan:  # NaN into FP4/FP6: see test_mldtypes_nan_into_fp4_fp6 (kind nan-into-no-nan-format)
        x = np.concatenate([x, np.float32([np.nan, -np.nan])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ml_t = x.astype(T)
    ml_codes = ml_t.view(_uint(fmt.bits)).astype(np.int64)
    ml_vals = ml_t.astype(np.float32)
    got = fs.encode(x, name).astype(np.int64)
    got_vals = fs.cast(x, name)
    assert got_vals.dtype == np.float32
    mismatch = got != ml_codes
    if name == "float8_e8m0fnu":
        tie, anomaly = _e8m0_expected_mismatch(x)
        expected = tie | anomaly
        assert tie.sum() > 50 and anomaly.sum() > 5  # the sweep does reach both kinds
        assert np.array_equal(mismatch, expected), (
            f"unexpected E8M0 mismatches at {x[mismatch != expected][:8].tolist()}")
        # both sides as the table states: floatsim keeps the even-code neighbour / the nearest value
        assert np.all(got_vals[tie] < ml_vals[tie]) and np.all(ml_vals[tie] / got_vals[tie] == 2)
        assert np.all(got_vals[anomaly] == 2.0**-127) and np.all(ml_vals[anomaly] == 2.0**-126)
        keep = ~expected
    else:
        assert not mismatch.any(), (
            f"{name}: {mismatch.sum()} code mismatches, e.g. x={x[mismatch][:6].tolist()} "
            f"floatsim {got[mismatch][:6].tolist()} ml_dtypes {ml_codes[mismatch][:6].tolist()}")
        keep = np.ones(x.size, bool)
    assert_same(got_vals[keep], ml_vals[keep], x[keep], f"cast {name}")


@pytest.mark.parametrize("name", ["float4_e2m1fn", "float6_e2m3fn", "float6_e3m2fn"])
def test_mldtypes_nan_into_fp4_fp6(name):
    """Kind nan-into-no-nan-format: ml_dtypes writes -0 for NaN (+0 for -NaN); floatsim raises."""
    x = np.float32([np.nan, -np.nan])
    got = x.astype(ML_TYPES[name]).astype(np.float64)
    assert np.all(got == 0) and np.array_equal(np.signbit(got), [True, False])
    with pytest.raises(ValueError, match="NaN"):
        fs.encode(x, name)
    with pytest.raises(ValueError, match="NaN"):
        fs.cast(x[:1], name)


# --------------------------------------------------------------------------- float64 single rounding
# formats.md §3.6: float64 input, the ml_dtypes array cast (via float32) and the correct rounding
DOUBLE_ROUNDING = [
    ("float8_e4m3fn", 1.0625 + 2**-30, 1.0, 1.125),
    ("float8_e4m3fn", -431.99999999999994, -448.0, -416.0),
    ("float8_e5m2", 1.125 + 2**-30, 1.0, 1.25),
    ("float8_e3m4", 1.03125 + 2**-30, 1.0, 1.0625),
    ("float8_e4m3", 1.0625 + 2**-30, 1.0, 1.125),
    ("float8_e4m3fnuz", 1.0625 + 2**-30, 1.0, 1.125),
    ("float8_e4m3b11fnuz", 1.0625 + 2**-30, 1.0, 1.125),
    ("float6_e2m3fn", 1.0625 + 2**-30, 1.0, 1.125),
    ("float6_e3m2fn", 1.125 + 2**-30, 1.0, 1.25),
    ("float4_e2m1fn", 1.25 + 2**-30, 1.0, 1.5),
    ("bfloat16", 1 + 2**-8 + 2**-30, 1.0, 1.0078125),
]


@pytest.mark.parametrize("name,x,ml_astype,correct", DOUBLE_ROUNDING,
                         ids=[f"{r[0]}-{r[1]!r}" for r in DOUBLE_ROUNDING])
def test_float64_rounds_once(name, x, ml_astype, correct):
    xs = np.array([x], np.float64)
    assert fs.cast(xs, name)[0] == correct
    assert fs.decode(fs.encode(xs, name), name, dtype=np.float64)[0] == correct
    assert xs.astype(ML_TYPES[name]).astype(np.float64)[0] == ml_astype  # documented double rounding
    if name != "bfloat16":  # the ml_dtypes scalar path rounds once (not for bfloat16)
        assert float(ML_TYPES[name](x)) == correct
    if gmpy2 is not None:
        assert _mpfr_round_values(fs.get_format(name), xs)["nearest_even"][0] == correct


def test_float64_int64_input_rounds_once():
    """int64 16973823 (float32 -> 16973824, a bfloat16 tie): one rounding gives 16908288."""
    xi = np.array([16973823], np.int64)
    assert fs.cast(xi, "bfloat16")[0] == 16908288.0
    assert xi.astype(ml_dtypes.bfloat16).astype(np.float64)[0] == 17039360.0  # ml_dtypes: via float32


def _random_float64(fmt, n, rng, negative_share=0.5):
    lo = max(math.log2(fmt.smallest_subnormal) - 4, -1074)
    hi = min(math.log2(fmt.max) + 2, 1023.9)
    mag = np.exp2(rng.uniform(lo, hi, n)) * (1 + rng.uniform(-1e-3, 1e-3, n))  # full 53-bit significands
    sign = np.where(rng.uniform(size=n) < negative_share, -1.0, 1.0)
    return mag * sign


@pytest.mark.parametrize("name", [n for n in ML_TYPES if n != "bfloat16"])
def test_float64_vs_mldtypes_scalar_path(name):
    """Random float64 inputs: floatsim equals ml_dtypes' single-rounding scalar path ``T(float(v))``."""
    fmt = fs.get_format(name)
    rng = np.random.default_rng(1)
    x = _random_float64(fmt, 2000, rng)
    T = ML_TYPES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.array([float(T(float(v))) for v in x])
    got = fs.cast(x, name)
    assert got.dtype == np.float64
    if name == "float8_e8m0fnu":
        # random float64 values are never exact ties; two kinds of the table remain
        x = np.concatenate([x, [1.5 * 2.0**128, 1.75 * 2.0**128, np.nextafter(2.0**129, 0), 2.0**129,
                                np.nextafter(1.5 * 2.0**128, 0), 1.1 * 2.0**-127, 1.6 * 2.0**-127]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = np.array([float(T(float(v))) for v in x])
        got = fs.cast(x, name)
        _, anomaly = _e8m0_expected_mismatch(x)  # e8m0-subnormal-anomaly: the scalar path has it too
        wrap = (x >= 1.5 * 2.0**128) & (x < 2.0**129)  # e8m0-scalar-overflow-wrap
        mismatch = ~same_values(got, expected)
        assert np.array_equal(mismatch, anomaly | wrap), x[mismatch != (anomaly | wrap)]
        assert anomaly.sum() >= 1 and wrap.sum() >= 3
        assert np.all(got[anomaly] == 2.0**-127) and np.all(expected[anomaly] == 2.0**-126)
        assert np.all(np.isnan(got[wrap])) and np.all(expected[wrap] == 2.0**-127)
        return
    assert_same(got, expected, x, f"float64 -> {name}")


# =========================================================================== numpy float16
def _float16_sweep(dtype):
    codes = np.arange(1 << 16, dtype=np.uint16)
    h = codes.view(np.float16)
    vals = np.unique(h[np.isfinite(h)].astype(np.float64))
    top = 65504.0 + 16.0  # midpoint between max and 2**16
    mids = np.concatenate([(vals[:-1] + vals[1:]) / 2, [top, -top]]).astype(dtype)
    assert np.array_equal(mids.astype(np.float64), np.concatenate([(vals[:-1] + vals[1:]) / 2, [top, -top]]))
    inf = dtype(np.inf)
    return np.concatenate([vals.astype(dtype), mids, np.nextafter(mids, inf), np.nextafter(mids, -inf),
                           np.array([np.inf, -np.inf, np.nan, -np.nan, 0.0, -0.0, 1e30, -1e-30], dtype)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_numpy_float16_exhaustive(dtype):
    x = _float16_sweep(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy warns on overflow to inf
        h = x.astype(np.float16)
    got = fs.encode(x, "float16")
    assert got.dtype == np.uint16
    expected = h.view(np.uint16)
    bad = got != expected
    assert not bad.any(), f"{bad.sum()} mismatches, e.g. {x[bad][:6].tolist()}"
    vals = fs.cast(x, "float16")
    assert vals.dtype == dtype
    assert_same(vals, h.astype(dtype), x, "cast float16")
    # float16 input to cast into float16 is the identity, bit for bit
    assert np.array_equal(fs.encode(h, "float16"), h.view(np.uint16))


# =========================================================================== MPFR (gmpy2)
MPFR_FORMATS = [
    fs.get_format(n) for n in [
        "float32", "tfloat32", "float16", "bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e4m3",
        "float8_e3m4", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e4m3b11fnuz", "float6_e2m3fn",
        "float6_e3m2fn", "float4_e2m1fn", "float8_e8m0fnu",
    ]
] + [
    FloatFormat(exponent_bits=2, mantissa_bits=5, name="e2m5"),
    FloatFormat(exponent_bits=5, mantissa_bits=0, specials="fn", name="e5m0fn"),
    FloatFormat(exponent_bits=6, mantissa_bits=1, name="e6m1"),
    FloatFormat(exponent_bits=3, mantissa_bits=4, subnormals=False, name="e3m4_nosub"),
    FloatFormat(exponent_bits=4, mantissa_bits=3, signed=False, specials="fn", name="ue4m3fn"),
    FloatFormat(exponent_bits=5, mantissa_bits=2, signed=False, specials="extended", name="ue5m2_extended"),
    FloatFormat(exponent_bits=4, mantissa_bits=0, bias=3, signed=False, subnormals=False, has_zero=False,
                specials="fn", name="ue4m0_nozero"),
    FloatFormat(exponent_bits=8, mantissa_bits=7, bias=150, name="e8m7_bias150"),
    p3109(8, 1, signed=False, extended=False),
    p3109(8, 1, signed=False, extended=True),
    p3109(8, 3, signed=True, extended=True),
    p3109(8, 4, signed=True, extended=False),
    p3109(4, 2, signed=True, extended=True),
    p3109(4, 2, signed=True, extended=False),
    p3109(3, 2, signed=True, extended=False),
    p3109(6, 3, signed=False, extended=True),
]


def _code_is_even(z: float, fmt: FloatFormat) -> bool:
    """Parity of the magnitude code of the grid value ``z >= 0`` (P3109 CodeIsEven)."""
    if z == 0:
        return True
    _, e = math.frexp(z)  # z = f * 2**e, 0.5 <= f < 1
    if fmt.mantissa_bits == 0:  # P = 1: the code is the exponent field
        return (e - 1 - fmt.emin + int(fmt.has_zero)) % 2 == 0
    quantum = max(e - 1, fmt.emin) - fmt.mantissa_bits
    return int(math.ldexp(z, -quantum)) % 2 == 0


def _mpfr_round_values(fmt: FloatFormat, x: np.ndarray) -> dict[str, np.ndarray]:
    """Signed rounded values R (on the grid unbounded above) for every deterministic mode.

    formats.md §6.4: the exact input in the default context, one ``ctx.plus`` in a context
    of precision P with subnormals; ties-away and round-to-odd from RZ / RA. Precision-1
    ties use the P3109 even-code rule (MPFR would round them up in magnitude; see the
    difference row mpfr-e8m0-tie-3). Below 2**emin, formats without subnormals have the
    grid {0, 2**emin} (or only 2**emin without zero), which MPFR cannot express: done by hand.
    """
    p = fmt.mantissa_bits + 1
    big = 1 << 20
    subnormal_grid = fmt.subnormals and fmt.mantissa_bits > 0
    emin_ctx = fmt.emin - p + 2 if subnormal_grid else fmt.emin + 1

    def ctx(rnd):
        return gmpy2.context(precision=p, emin=emin_ctx, emax=big, subnormalize=subnormal_grid, round=rnd)

    rn, rz, ra = ctx(gmpy2.RoundToNearest), ctx(gmpy2.RoundToZero), ctx(gmpy2.RoundAwayZero)
    exact = gmpy2.context(precision=256, emin=-big, emax=big)
    two_emin = gmpy2.mpfr(2) ** fmt.emin
    out = {m: np.empty(x.size) for m in DETERMINISTIC}
    for i, xv in enumerate(x.tolist()):
        if not math.isfinite(xv) or xv == 0:
            for m in DETERMINISTIC:
                out[m][i] = xv
            continue
        neg = xv < 0
        y = gmpy2.mpfr(abs(xv))  # exact (53 bits, default context)
        if y < two_emin and not subnormal_grid:
            z, a = (two_emin, two_emin) if not fmt.has_zero else (gmpy2.mpfr(0), two_emin)
            near = None
        else:
            z, a = rz.plus(y), ra.plus(y)
            near = rn.plus(y) if p > 1 else None
        zf, af = float(z), float(a)
        if z == y:
            res = dict.fromkeys(DETERMINISTIC, zf)
        else:
            mid = exact.div(exact.add(z, a), 2)
            below, tie = y < mid, y == mid
            z_even = _code_is_even(zf, fmt)
            nearest_even = zf if below or (tie and z_even) else af
            if near is not None:
                assert float(near) == nearest_even  # MPFR's own ties-to-even agrees where it applies
            res = {
                "nearest_even": nearest_even,
                "nearest_away": zf if below else af,
                "toward_zero": zf,
                "toward_positive": zf if neg else af,
                "toward_negative": af if neg else zf,
                "odd": af if z_even else zf,
            }
        for m in DETERMINISTIC:
            out[m][i] = -res[m] if neg else res[m]
    return out


def _policy(fmt: FloatFormat, x: float, r: float, mode: str, ov: str) -> float:
    """The value floatsim must return, from the rounded R: P3109 v4 §4.7.5 / semantics.md tables."""
    mx = fmt.max
    m_lo = -mx if fmt.signed else (0.0 if fmt.has_zero else fmt.smallest_normal)
    nan = math.nan
    inf_or = (math.inf if fmt.has_inf else (nan if fmt.has_nan else mx))  # the "inf" of the ieee policy
    down = mode in ("toward_zero", "toward_negative")  # rounds a positive value down
    up = mode in ("toward_zero", "toward_positive")  # rounds a negative value up
    neg = math.copysign(1.0, x) < 0
    if math.isnan(x):
        return nan
    if x == 0:
        if not fmt.has_zero:
            return fmt.smallest_normal if ov == "saturate" else nan
        return -0.0 if neg and fmt.has_negative_zero else 0.0
    if neg and not fmt.signed and (r != 0 or math.isinf(x)):  # negative R (or -inf) in an unsigned format
        if ov == "ieee":
            return nan if fmt.has_nan else m_lo
        if ov == "sat_none":
            if math.isinf(x):  # P3109 v4 rule 13 comes first: -inf -> NaN in every mode
                return nan if fmt.has_nan else m_lo
            return m_lo if up else (nan if fmt.has_nan else m_lo)
        return m_lo
    if math.isinf(x):
        sat = mx if not neg else -mx
        if ov == "saturate":
            return sat
        if ov == "ieee":
            return math.copysign(inf_or, x) if not math.isnan(inf_or) else nan
        return x if fmt.has_inf else sat  # sat_propagate, sat_none
    if r == 0:
        return -0.0 if neg and fmt.has_negative_zero else 0.0
    if abs(r) <= mx:
        return r
    # finite overflow
    if not neg:
        if ov in ("saturate", "sat_propagate"):
            return mx
        if ov == "ieee":
            return mx if (down or mode == "odd") else inf_or
        keep = down or (not fmt.signed and fmt.has_inf and mode == "odd")
        return mx if keep else (math.inf if fmt.has_inf else mx)
    if ov in ("saturate", "sat_propagate"):
        return -mx
    if ov == "ieee":
        return -mx if (up or mode == "odd") else -inf_or
    return -mx if up else (-math.inf if fmt.has_inf else -mx)


def _mpfr_inputs(fmt: FloatFormat, dtype, n=2500, seed=2):
    rng = np.random.default_rng(seed)
    finfo = np.finfo(dtype)
    lo = max(math.log2(fmt.smallest_subnormal) - 4, math.log2(float(finfo.smallest_subnormal)))
    hi = min(math.log2(fmt.max) + 2, math.log2(float(finfo.max)) - 0.01)
    logu = np.exp2(rng.uniform(lo, hi, n)) * (1 + rng.uniform(-1e-3, 1e-3, n))
    ulp_max = 2.0 ** (math.frexp(fmt.max)[1] - 1 - fmt.mantissa_bits)  # spacing of max's binade
    near_max = fmt.max + ulp_max * np.concatenate([np.arange(-4, 6) / 2, rng.uniform(-3, 5, 60)])
    ss = fmt.smallest_subnormal
    near_min = ss * np.concatenate([[0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3], rng.uniform(0, 4, 60)])
    # grid points and midpoints, from the reference decoder
    codes = rng.integers(0, fmt.max_code, 150)
    v0 = np.array([ref.decode(int(c), fmt) for c in codes])
    v1 = np.array([ref.decode(int(c) + 1, fmt) for c in codes])
    grid = np.concatenate([v0, (v0 + v1) / 2])
    mags = np.concatenate([logu, near_max, near_min, grid])
    with np.errstate(over="ignore"):
        mags = np.abs(mags).astype(dtype)
    neg_share = 0.5 if fmt.signed else 0.2
    signs = np.where(rng.uniform(size=mags.size) < neg_share, -1, 1).astype(dtype)
    specials = np.array([np.inf, -np.inf, 0.0, -0.0], dtype)
    return np.concatenate([mags * signs, specials])


@needs_gmpy2
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("fmt", MPFR_FORMATS, ids=str)
def test_deterministic_modes_vs_mpfr(fmt, dtype):
    """Every deterministic mode and every float overflow policy against MPFR + the P3109 tables."""
    x = _mpfr_inputs(fmt, dtype)
    rounded = _mpfr_round_values(fmt, x.astype(np.float64))
    xs = x.astype(np.float64).tolist()
    out_dtype = dtype if fmt.exact_in(dtype) else np.float64
    paths = PATHS if dtype == np.float32 else ["default"]  # the table path takes float32 input only
    failures = []
    for mode in DETERMINISTIC:
        r = rounded[mode].tolist()
        for ov in FLOAT_POLICIES:
            expected = np.array([_policy(fmt, xv, rv, mode, ov) for xv, rv in zip(xs, r, strict=True)])
            for path in paths:
                with kernel_path(path):
                    got = fs.cast(x, fmt, rounding=mode, overflow=ov, dtype=out_dtype)
                ok = same_values(got, expected)
                if not ok.all():
                    i = np.flatnonzero(~ok)[:4]
                    failures.append(f"{mode}/{ov} ({path} path): {np.count_nonzero(~ok)} differ, x={x[i].tolist()} "
                                    f"floatsim={got[i].tolist()} mpfr={expected[i].tolist()}")
    assert not failures, f"{fmt}:\n" + "\n".join(failures)


# =========================================================================== gfloat
def _gf_formats():
    if gfloat is None:
        return []
    F, S, D = gfloat.formats, gfloat.Signedness, gfloat.Domain
    pairs = [
        ("float8_e4m3fn", F.format_info_ocp_e4m3), ("float8_e5m2", F.format_info_ocp_e5m2),
        ("float6_e2m3fn", F.format_info_ocp_e2m3), ("float6_e3m2fn", F.format_info_ocp_e3m2),
        ("float4_e2m1fn", F.format_info_ocp_e2m1), ("float8_e8m0fnu", F.format_info_ocp_e8m0),
        ("bfloat16", F.format_info_bfloat16), ("float16", F.format_info_binary16),
    ]
    for k, p, s, d in [(8, 3, True, True), (8, 4, True, True), (8, 5, True, True), (8, 3, True, False),
                       (8, 4, True, False), (8, 1, False, False), (8, 1, False, True), (8, 4, False, True),
                       (6, 3, True, False), (4, 2, True, False), (4, 2, True, True), (3, 2, True, False)]:
        fmt = p3109(k, p, signed=s, extended=d)
        fi = F.format_info_p3109(k, p, S.Signed if s else S.Unsigned, D.Extended if d else D.Finite)
        pairs.append((fmt.name, fi))
    return pairs


GF_FORMATS = _gf_formats()
GF_MODES = [("nearest_even", "TiesToEven"), ("nearest_away", "TiesToAway"), ("toward_zero", "TowardZero"),
            ("toward_positive", "TowardPositive"), ("toward_negative", "TowardNegative")]
GF_SR = [("stochastic_a", "StochasticFastest"), ("stochastic_b", "StochasticFast"), ("stochastic_c", "Stochastic")]


def _gf_inputs(fmt, seed=3):
    x = _mpfr_inputs(fmt, np.float64, n=3000, seed=seed)
    return np.concatenate([x, [np.nan]]) if fmt.has_nan else x


def _gf_expected_mismatch(fmt, x):
    """Inputs where gfloat 0.5.2 returns values the format cannot represent (kinds of the table)."""
    if not fmt.signed:  # kind gfloat-unsigned-negative (and gfloat-e8m0-non-value for E8M0)
        bad = (x < 0) | ((x == 0) & np.signbit(x))
        if not fmt.has_zero:
            bad |= (x == 0) | (np.abs(x) < fmt.smallest_normal)
        return bad
    return np.zeros(x.size, bool)


@needs_gfloat
@pytest.mark.parametrize("sat", [True, False], ids=["sat", "nosat"])
@pytest.mark.parametrize("name,fi", GF_FORMATS, ids=[n for n, _ in GF_FORMATS])
def test_vs_gfloat(name, fi, sat):
    """gfloat round_ndarray: sat=True is overflow='saturate', sat=False is floatsim's 'ieee'."""
    fmt = fs.get_format(name)
    if not sat and not fmt.has_nan:
        pytest.skip("gfloat raises on overflow into a format without NaN or inf when sat=False")
    x = _gf_inputs(fmt)
    expected_bad = _gf_expected_mismatch(fmt, x)
    ov = "saturate" if sat else "ieee"
    rng = np.random.default_rng(4)
    n_bits = 3
    srbits = rng.integers(0, 1 << n_bits, x.size)
    failures = []
    for mode, gmode in GF_MODES + GF_SR:
        kw = {}
        gkw = {}
        if mode.startswith("stochastic"):
            kw = dict(sr_bits=n_bits, random_bits=srbits.astype(np.uint64))
            gkw = dict(srbits=srbits, srnumbits=n_bits)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            g = gfloat.round_ndarray(fi, x, getattr(gfloat.RoundMode, gmode), sat, **gkw)
        got = fs.cast(x, fmt, rounding=mode, overflow=ov, **kw)
        ok = same_values(got, g)
        if not np.array_equal(~ok, expected_bad & ~ok) or not np.all(ok | expected_bad):
            bad = ~ok & ~expected_bad
            i = np.flatnonzero(bad)[:4]
            failures.append(f"{mode}: {bad.sum()} differ, x={x[i].tolist()} floatsim={got[i].tolist()} "
                            f"gfloat={g[i].tolist()}")
        if expected_bad.any():
            # the declared kind (negative input into an unsigned format, E8M0 zero / underflow): gfloat
            # gives values outside the format (negatives, -0, 2**-128 ...) for most of them; where it
            # gives a format value its rounding of the negative input is not meaningful either
            values = fs.decode(np.arange(fmt.num_codes), fmt, dtype=np.float64)
            gb = g[expected_bad]
            outside = np.signbit(gb) | ~np.isin(gb, values)  # negative (-0 included) or not a value
            assert outside.sum() > expected_bad.sum() // 2
    assert not failures, f"{name} sat={sat}:\n" + "\n".join(failures)
    if not fmt.signed:
        assert expected_bad.sum() > 100


@needs_gfloat
@pytest.mark.parametrize("k,p", [(8, 4), (8, 3), (6, 3), (4, 2), (3, 2)])
def test_gfloat_finite_domain_overflow(k, p):
    """Kind gfloat-finite-domain-overflow: gfloat (P3109 v3) gives NaN where SatNone (v4) gives +-max."""
    fmt = p3109(k, p, signed=True, extended=False)
    fi = gfloat.formats.format_info_p3109(k, p, gfloat.Signedness.Signed, gfloat.Domain.Finite)
    x = _gf_inputs(fmt)
    g = gfloat.round_ndarray(fi, x, gfloat.RoundMode.TiesToEven, False)
    got = fs.cast(x, fmt, overflow="sat_none")
    r = fs.cast(x, fmt, overflow="sat_propagate")  # R clamped: |R| = max exactly where R overflows
    over = np.isinf(x) | ((np.abs(r) == fmt.max) & ~same_values(fs.cast(x, fmt, overflow="ieee"), r))
    ok = same_values(got, g)
    assert np.array_equal(~ok, over)
    assert over.sum() > 20
    assert np.all(np.isnan(g[over])) and np.all(np.abs(got[over]) == fmt.max)


# =========================================================================== kernel vs reference
REF_FORMATS = [
    fs.get_format(n) for n in [
        "float8_e4m3fn", "float8_e5m2", "bfloat16", "float16", "float4_e2m1fn", "float6_e3m2fn",
        "float8_e4m3fnuz", "float8_e8m0fnu", "binary8p1uf", "binary8p1ue", "binary8p3se", "binary4p2se",
        "int4", "uint4", "int8", "uint2", "int16",
    ]
] + [
    FloatFormat(exponent_bits=5, mantissa_bits=2, signed=False, specials="extended", name="ue5m2_extended"),
    FloatFormat(exponent_bits=3, mantissa_bits=4, subnormals=False, name="e3m4_nosub"),
    FloatFormat(exponent_bits=5, mantissa_bits=0, specials="fn", name="e5m0fn"),
    FloatFormat(exponent_bits=4, mantissa_bits=0, bias=3, signed=False, subnormals=False, has_zero=False,
                specials="fn", name="ue4m0_nozero"),
    IntFormat(bits=12, name="int12"),
]
ALL_MODES = DETERMINISTIC + ["stochastic", "stochastic_a", "stochastic_b", "stochastic_c"]


def _ref_inputs(fmt, n, seed):
    rng = np.random.default_rng(seed)
    if isinstance(fmt, IntFormat):
        span = 2.0 ** fmt.bits
        x = np.concatenate([
            rng.uniform(-1.3 * span, 1.3 * span, n // 2),
            np.round(rng.uniform(-span, span, n // 4)) + rng.choice([0, 0.5, 0.25, -0.5], n // 4),
            [np.inf, -np.inf, 0.0, -0.0, fmt.max + 0.5, fmt.min - 0.5, -0.5, 0.5, 1.5, 2.5],
        ])
        return x
    x = _mpfr_inputs(fmt, np.float64, n=n, seed=seed)
    return np.concatenate([x, [np.nan, -np.nan]]) if fmt.has_nan else x


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("fmt", REF_FORMATS, ids=str)
def test_kernel_vs_reference(fmt, dtype):
    """encode == reference.round_to_code on a random sample: all modes, all policies (incl. stochastic)."""
    with np.errstate(over="ignore"):
        x = _ref_inputs(fmt, 500, seed=5).astype(dtype)
    xs = x.tolist()
    policies = ["saturate", "wrap"] if isinstance(fmt, IntFormat) else FLOAT_POLICIES
    rng = np.random.default_rng(6)
    n_bits = 3
    small = rng.integers(0, 1 << n_bits, x.size, dtype=np.uint64)
    full = rng.integers(0, 2**64, x.size, dtype=np.uint64, endpoint=False)
    failures = []
    for mode in ALL_MODES:
        if mode == "stochastic":
            kw, bits, nb = dict(random_bits=full), full.tolist(), None
        elif mode.startswith("stochastic"):
            kw, bits, nb = dict(random_bits=small, sr_bits=n_bits), small.tolist(), n_bits
        else:
            kw, bits, nb = {}, [None] * x.size, None
        for ov in policies:
            want = [None if isinstance(fmt, IntFormat) and math.isnan(xv)
                    else ref.round_to_code(x[i], fmt, mode, ov, random_bits=bits[i], sr_bits=nb)
                    for i, xv in enumerate(xs)]
            for path in PATHS:
                with kernel_path(path):
                    got = fs.encode(x, fmt, rounding=mode, overflow=ov, **kw)
                assert got.dtype == fmt.code_dtype
                for i, xv in enumerate(xs):
                    if want[i] is not None and int(got[i]) != want[i]:
                        failures.append(f"{mode}/{ov} ({path} path) x={xv!r}: kernel {int(got[i]):#x} "
                                        f"reference {want[i]:#x}")
    assert not failures, f"{fmt}: {len(failures)} mismatches\n" + "\n".join(failures[:12])


UNSIGNED_NEGINF = [fs.get_format(n) for n in ["binary8p1uf", "binary8p1ue", "float8_e8m0fnu"]] + [
    FloatFormat(exponent_bits=5, mantissa_bits=2, signed=False, specials="extended", name="ue5m2_extended")]


@pytest.mark.parametrize("mode", ["toward_zero", "toward_positive", "nearest_even"])
@pytest.mark.parametrize("fmt", UNSIGNED_NEGINF, ids=str)
def test_unsigned_neginf_sat_none_is_nan(fmt, mode):
    """P3109 v4 rule 13 comes before rule 17: -inf into an unsigned format under SatNone is NaN in every
    mode, while a finite negative R gives M_lo under toward_zero / toward_positive."""
    assert int(fs.encode(np.float64(-np.inf), fmt, rounding=mode, overflow="sat_none")) == fmt.nan_code
    assert ref.round_to_code(-math.inf, fmt, mode, "sat_none") == fmt.nan_code
    finite = int(fs.encode(np.float64(-3.0), fmt, rounding=mode, overflow="sat_none"))
    assert finite == (0 if mode != "nearest_even" else fmt.nan_code)
    assert ref.round_to_code(-3.0, fmt, mode, "sat_none") == finite


# =========================================================================== ml_dtypes intN
@pytest.mark.parametrize("name", ["int2", "int4", "uint2", "uint4"])
def test_mldtypes_int_truncate_wrap(name):
    """floatsim toward_zero + wrap == ml_dtypes float32 -> intN (truncate, then wrap)."""
    T = getattr(ml_dtypes, name)
    fmt = fs.get_format(name)
    rng = np.random.default_rng(7)
    x = np.concatenate([
        rng.uniform(-1000, 1000, 20000), np.arange(-40, 40, 0.25), rng.standard_normal(2000) * 4,
        [np.inf, -np.inf, 0.0, -0.0, 7.999, -8.0, -8.5, 2**31 - 1.0],
    ]).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # ml_dtypes warns on inf and NaN
        ml = x.astype(T)
        ml_nan = np.float32([np.nan]).astype(T)
    expected = ml.view(np.uint8).astype(np.int64) & (fmt.num_codes - 1)
    got = fs.encode(x, name, rounding="toward_zero", overflow="wrap")
    assert np.array_equal(got.astype(np.int64), expected), x[got != expected][:8]
    assert_same(fs.cast(x, name, rounding="toward_zero", overflow="wrap"), ml.astype(np.float32), x)
    with pytest.raises(ValueError, match="NaN"):  # kind nan-into-no-nan-format (ml_dtypes writes 0)
        fs.encode(np.float32([np.nan]), name, rounding="toward_zero", overflow="wrap")
    assert int(ml_nan.view(np.uint8)[0]) & (fmt.num_codes - 1) == 0


# =========================================================================== the differences table
_NS = {"math": math, "np": np, "ml_dtypes": ml_dtypes, "fs": fs, "gfloat": gfloat, "gmpy2": gmpy2}


def _run(code):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return eval(code, dict(_NS))  # noqa: S307 - the table's own snippets
    except ValueError:
        return "ValueError"


def _same_result(a, b):
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return bool(same_values(a, b))


@pytest.mark.parametrize("row", DIFFERENCES, ids=lambda d: d.id)
def test_difference_row(row):
    """Both sides of every row of tests/differences.py, as stated (so the table cannot go stale)."""
    if row.oracle == "gfloat" and gfloat is None or row.oracle == "mpfr" and gmpy2 is None:
        pytest.skip(f"{row.oracle} not installed")
    got_fs, got_oracle = _run(row.floatsim_code), _run(row.oracle_code)
    assert _same_result(got_fs, row.floatsim_result), f"floatsim gives {got_fs!r}"
    assert _same_result(got_oracle, row.oracle_result), f"{row.oracle} gives {got_oracle!r}"
    assert _same_result(got_fs, got_oracle) != row.differs
    # the snippets use the row's input, format and dtype
    for code in (row.floatsim_code,):
        assert row.x in code and row.fmt in code and row.dtype in code


def test_difference_ids_unique_and_documented():
    ids = [d.id for d in DIFFERENCES]
    assert len(ids) == len(set(ids))
    doc = (ROOT / "docs" / "differences.md").read_text()
    missing = [d.id for d in DIFFERENCES if f"`{d.id}`" not in doc]
    assert not missing, f"rows missing from docs/differences.md: {missing}"
    stale = [d.id for d in DIFFERENCES if d.floatsim_code not in doc or d.oracle_code not in doc]
    assert not stale, f"examples out of date in docs/differences.md (regenerate it): {stale}"
    assert PREAMBLE in doc
    assert {d.kind for d in DIFFERENCES} <= set(KINDS)
    assert doc.strip() == render_markdown().strip(), "docs/differences.md is stale: python tests/differences.py > docs/differences.md"
