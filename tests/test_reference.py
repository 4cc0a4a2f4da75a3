"""floatsim.reference against independent oracles only.

Oracles: ml_dtypes 0.6.0 and numpy (decode, float32-source RNE casts), gfloat 0.5.2
(decode of the OCP and P3109 formats), gmpy2 / MPFR (every non-stochastic rounding
mode on any format, with the manual rules of formats.md §6.4 and the P3109 v4
saturation rules of §2.2), and the P3109 stochastic-rounding definitions (§2.1),
fed with neighbours computed by MPFR. The reference is never its own oracle.
"""

from __future__ import annotations

import math
from fractions import Fraction

import gfloat
import gmpy2
import ml_dtypes
import numpy as np
import pytest
from gfloat import formats as gff

from floatsim import reference
from floatsim.format import FloatFormat, IntFormat, Specials
from floatsim.formats import CATALOGUE, get_format, p3109

pytestmark = pytest.mark.filterwarnings("ignore:(invalid value|overflow) encountered in cast:RuntimeWarning")

FLOATS = {n: f for n, f in CATALOGUE.items() if isinstance(f, FloatFormat)}
INTS = {n: f for n, f in CATALOGUE.items() if isinstance(f, IntFormat)}
ML_FLOATS = [n for n in FLOATS if hasattr(ml_dtypes, n)]  # everything but float16/32 and tfloat32
RNG_SEED = 20260626


def np_type(name):
    return {"float16": np.float16, "float32": np.float32}.get(name) or getattr(ml_dtypes, name)


def assert_same_values(got, expected, what=""):
    """Equal as floats, NaN by isnan, zeros by sign."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    nan = np.isnan(expected)
    bad = (np.isnan(got) != nan) | (~nan & ((got != expected) | (np.signbit(got) != np.signbit(expected))))
    idx = np.flatnonzero(bad)
    assert idx.size == 0, (
        f"{what}: {idx.size} mismatches, first at {idx[:5]}: got {got[idx[:5]]}, expected {expected[idx[:5]]}"
    )


def ref_decode_all(codes, fmt):
    return np.array([reference.decode(int(c), fmt) for c in codes], np.float64)


def sample_codes(bits, count, seed=0):
    """A strided + random sample of codes with the interesting edges of each binade's ends."""
    n = 1 << bits
    rng = np.random.default_rng(seed)
    codes = set(range(0, n, max(1, n // count))) | set(rng.integers(0, n, count).tolist())
    half = n >> 1
    for c in (0, 1, 2, half - 2, half - 1, half, half + 1, n - 2, n - 1):
        codes.add(c)
    return np.array(sorted(codes), np.uint64)


# ---------------------------------------------------------------------------------
# 1. decode against ml_dtypes / numpy
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ML_FLOATS + ["float16"])
def test_decode_every_code_vs_ml_dtypes(name):
    fmt = FLOATS[name]
    codes = np.arange(fmt.num_codes)  # FP4/FP6: only codes < 2**bits (ml_dtypes reads higher bits as sign)
    expected = codes.astype(fmt.code_dtype).view(np_type(name)).astype(np.float64)
    assert_same_values(ref_decode_all(codes, fmt), expected, name)


def test_decode_float32_vs_numpy():
    fmt = FLOATS["float32"]
    codes = sample_codes(32, 20000)
    edges = [
        0x00000001,
        0x007FFFFF,
        0x00800000,
        0x7F7FFFFF,
        0x7F800000,
        0x7F800001,
        0x7FC00000,
        0x80000000,
        0x807FFFFF,
        0xFF800000,
        0xFFFFFFFF,
        0x3F800000,
    ]
    codes = np.unique(np.concatenate([codes, np.array(edges, np.uint64)]))
    expected = codes.astype(np.uint32).view(np.float32).astype(np.float64)
    assert_same_values(ref_decode_all(codes, fmt), expected, "float32")


def test_decode_tfloat32_vs_float32_container():
    """TF32 is a binary32 with the low 13 mantissa bits zero (formats.md §1.3)."""
    fmt = FLOATS["tfloat32"]
    codes = sample_codes(19, 8000)
    expected = (codes << np.uint64(13)).astype(np.uint32).view(np.float32).astype(np.float64)
    assert_same_values(ref_decode_all(codes, fmt), expected, "tfloat32")


@pytest.mark.parametrize("name", ["int2", "int4", "uint2", "uint4", "int8", "uint8", "int16"])
def test_decode_integer_formats(name):
    fmt = INTS[name]
    codes = np.arange(fmt.num_codes)
    np_int = getattr(ml_dtypes, name, None) or getattr(np, name)
    expected = codes.astype(fmt.code_dtype).view(np_int).astype(np.int64).tolist()
    assert [reference.decode(int(c), fmt) for c in codes] == expected
    assert {reference.classify(int(c), fmt) for c in codes[:3]} == {"int"}


# ---------------------------------------------------------------------------------
# 2. decode against gfloat
# ---------------------------------------------------------------------------------

P3109_PARAMS = [
    (k, p, signed, extended)
    for k in range(3, 9)
    for signed in (True, False)
    for p in range(1, (k - 1 if signed else k) + 1)
    for extended in (True, False)
]


def _gfloat_decode_all(fi, n):
    return np.array([gfloat.decode_float(fi, c).fval for c in range(n)], np.float64)


@pytest.mark.parametrize(
    "k,p,signed,extended",
    P3109_PARAMS,
    ids=[f"binary{k}p{p}{'s' if s else 'u'}{'e' if e else 'f'}" for k, p, s, e in P3109_PARAMS],
)
def test_decode_p3109_vs_gfloat(k, p, signed, extended):
    fmt = p3109(k, p, signed=signed, extended=extended)
    fi = gff.format_info_p3109(
        k,
        p,
        gfloat.Signedness.Signed if signed else gfloat.Signedness.Unsigned,
        gfloat.Domain.Extended if extended else gfloat.Domain.Finite,
    )
    assert_same_values(ref_decode_all(range(fmt.num_codes), fmt), _gfloat_decode_all(fi, 1 << k), fmt.name)


def _fi(name, k, p, bias, extended, has_nz, nans):
    return gfloat.FormatInfo(
        name,
        k=k,
        precision=p,
        bias=bias,
        is_signed=True,
        domain=gfloat.Domain.Extended if extended else gfloat.Domain.Finite,
        has_nz=has_nz,
        num_high_nans=nans,
        has_subnormals=True,
        is_twos_complement=False,
    )


GFLOAT_CATALOGUE = {  # formats.md §6.3
    "float8_e4m3fn": gff.format_info_ocp_e4m3,
    "float8_e5m2": gff.format_info_ocp_e5m2,
    "float6_e2m3fn": gff.format_info_ocp_e2m3,
    "float6_e3m2fn": gff.format_info_ocp_e3m2,
    "float4_e2m1fn": gff.format_info_ocp_e2m1,
    "float8_e8m0fnu": gff.format_info_ocp_e8m0,
    "float16": gff.format_info_binary16,
    "bfloat16": gff.format_info_bfloat16,
    "float32": gff.format_info_binary32,
    "float8_e4m3": _fi("e4m3", 8, 4, 7, True, True, 7),
    "float8_e3m4": _fi("e3m4", 8, 5, 3, True, True, 15),
    "float8_e4m3fnuz": _fi("e4m3fnuz", 8, 4, 8, False, False, 0),
    "float8_e5m2fnuz": _fi("e5m2fnuz", 8, 3, 16, False, False, 0),
    "float8_e4m3b11fnuz": _fi("e4m3b11fnuz", 8, 4, 11, False, False, 0),
    "tfloat32": _fi("tf32", 19, 11, 127, True, True, 1023),
}


@pytest.mark.parametrize("name", list(GFLOAT_CATALOGUE))
def test_decode_catalogue_vs_gfloat(name):
    fmt, fi = FLOATS[name], GFLOAT_CATALOGUE[name]
    codes = range(fmt.num_codes) if fmt.bits <= 8 else sample_codes(fmt.bits, 3000, seed=1).tolist()
    expected = np.array([gfloat.decode_float(fi, int(c)).fval for c in codes], np.float64)
    assert_same_values(ref_decode_all(codes, fmt), expected, name)
    # the format-level constants agree too
    assert (fmt.max, fmt.smallest_normal) == (fi.max, fi.smallest_normal)


# ---------------------------------------------------------------------------------
# 3. round_to_code against ml_dtypes / numpy astype from float32 (RNE, default overflow)
# ---------------------------------------------------------------------------------


def _e8m0_tie(x):
    m, e = math.frexp(x)  # x = m * 2**e, 0.5 <= m < 1
    return x > 0 and m == 0.75 and e - 1 >= -127


def _e8m0_tie_even(x):
    k = math.frexp(x)[1] - 1  # tie between 2**k (code k + 127) and 2**(k+1)
    return k + 127 if (k + 127) % 2 == 0 else k + 128


#: Documented differences from ml_dtypes 0.6.0: (format, inputs matched, floatsim's result, reason).
#: First matching row wins. Each row must match some input AND differ from ml_dtypes there.
ML_DTYPES_DIFFERENCES = [
    (
        "float8_e8m0fnu",
        _e8m0_tie,
        _e8m0_tie_even,
        "exact ties 1.5*2**k: ml_dtypes rounds up in magnitude, floatsim to the even code (P3109, formats.md §3.5)",
    ),
    (
        "float8_e8m0fnu",
        lambda x: 2.0**-127 < x < 2.0**-126,
        lambda x: 0 if x < 1.5 * 2.0**-127 else 1,
        "ml_dtypes sends every float32-subnormal input in (2**-127, 2**-126) to 2**-126 (formats.md §3.2)",
    ),
    ("float4_e2m1fn", math.isnan, ValueError, "no NaN in the format: ml_dtypes writes -0/+0, floatsim raises"),
    ("float6_e2m3fn", math.isnan, ValueError, "no NaN in the format: ml_dtypes writes -0/+0, floatsim raises"),
    ("float6_e3m2fn", math.isnan, ValueError, "no NaN in the format: ml_dtypes writes -0/+0, floatsim raises"),
]


def _float32_inputs(fmt, name, rng, max_codes=None):
    """Every value, every midpoint of neighbours (incl. max and the next grid value above)
    and their float32 neighbours, specials, and random values, all as float32."""
    codes = np.arange(fmt.num_codes) if max_codes is None else sample_codes(fmt.bits, max_codes, seed=3)
    vals = codes.astype(fmt.code_dtype).view(np_type(name)).astype(np.float64)
    pos = np.unique(np.abs(vals[np.isfinite(vals)]))
    above_max = pos[-1] + math.ldexp(1.0, math.frexp(pos[-1])[1] - 1 - fmt.mantissa_bits)
    pos = np.append(pos, above_max)
    mids = (pos[:-1] + pos[1:]) / 2
    if max_codes is not None:  # sampled: neighbours of sampled values are not neighbours; add real midpoints
        ulp = np.array([math.ldexp(1.0, max(math.frexp(v)[1] - 1, fmt.emin) - fmt.mantissa_bits) for v in pos])
        mids = np.concatenate([mids, pos + ulp / 2])
    mids32 = mids.astype(np.float32)
    lo_exp, hi_exp = fmt.emin - fmt.mantissa_bits - 4, min(fmt.emax + 3, 127)
    rand = np.exp2(rng.uniform(lo_exp, hi_exp, 2000)) * rng.choice([-1.0, 1.0], 2000)
    xs = np.concatenate(
        [
            pos,
            mids,
            np.nextafter(mids32, np.float32(0)),
            np.nextafter(mids32, np.float32(np.inf)),
            rand,
            [0.0, 1e6, 1e30, 3.4e38, 1e-30, 1e-40, 2.0**-149, np.inf, np.nan],
        ]
    ).astype(np.float32)
    xs = np.concatenate([xs, -xs])
    return xs


@pytest.mark.parametrize("name", ML_FLOATS + ["float16"])
def test_round_nearest_even_vs_ml_dtypes(name):
    fmt = FLOATS[name]
    rng = np.random.default_rng(RNG_SEED)
    xs = _float32_inputs(fmt, name, rng, max_codes=3000 if fmt.bits > 8 else None)
    expected = xs.astype(np_type(name)).view(fmt.code_dtype).astype(np.int64)
    rows = [r for r in ML_DTYPES_DIFFERENCES if r[0] == name]
    matched = {i: 0 for i in range(len(rows))}
    differs = dict(matched)
    bad = []
    for x, exp in zip(xs.tolist(), expected.tolist(), strict=True):
        row = next((i for i, r in enumerate(rows) if r[1](x)), None)
        if row is None:
            got = reference.round_to_code(x, fmt)
            if got != exp:
                bad.append((x, got, exp))
            continue
        matched[row] += 1
        want = rows[row][2]
        if want is ValueError:
            with pytest.raises(ValueError):
                reference.round_to_code(x, fmt)
            differs[row] += 1
        else:
            got = reference.round_to_code(x, fmt)
            if got != want(x):
                bad.append((x, got, want(x)))
            differs[row] += got != exp
    assert not bad, f"{len(bad)} mismatches (x, reference, expected): {bad[:5]}"
    for i, r in enumerate(rows):  # the exceptions are real, not silent filters
        assert matched[i] and differs[i], f"documented difference never observed: {r[3]}"


def test_round_float64_single_rounding():
    """ml_dtypes' astype from float64 rounds twice via float32; the reference rounds once."""
    x = 1.0625 + 2.0**-30
    assert np.array([x]).astype(ml_dtypes.float8_e4m3fn).astype(float)[0] == 1.0  # the double rounding
    assert reference.cast(x, "float8_e4m3fn") == 1.125 == float(ml_dtypes.float8_e4m3fn(x))  # scalar path: once
    assert reference.cast(-431.99999999999994, "float8_e4m3fn") == -416.0
    assert reference.cast(1 + 2.0**-8 + 2.0**-30, "bfloat16") == 1.0078125


# ---------------------------------------------------------------------------------
# 4. every non-stochastic mode against MPFR (gmpy2), with the P3109 / IEEE overflow rules
# ---------------------------------------------------------------------------------


def _ff(name, e, m, **kw):
    return FloatFormat(exponent_bits=e, mantissa_bits=m, name=name, **kw)


MPFR_FORMATS = [
    get_format(n)
    for n in [
        "float8_e4m3fn",
        "float8_e5m2",
        "float8_e3m4",
        "float8_e4m3fnuz",
        "float8_e4m3b11fnuz",
        "float6_e3m2fn",
        "float6_e2m3fn",
        "float4_e2m1fn",
        "float8_e8m0fnu",
        "float16",
        "bfloat16",
        "binary8p3se",
        "binary8p1uf",
        "binary8p1ue",
        "binary8p4ue",
        "binary4p2se",
        "binary6p3sf",
    ]
] + [
    _ff("e2m5", 2, 5),
    _ff("e5m0_none", 5, 0, specials="none"),
    _ff("e5m0_fn", 5, 0, specials="fn"),
    _ff("e6m1", 6, 1),
    _ff("u_e4m3fn", 4, 3, signed=False, specials="fn"),
    _ff("u_e5m2_ieee", 5, 2, signed=False),
    _ff("e4m3fn_nosub", 4, 3, specials="fn", subnormals=False),
    _ff("e3m2_nosub_none", 3, 2, specials="none", subnormals=False, bias=1),
]
MODES = ["nearest_even", "nearest_away", "toward_zero", "toward_positive", "toward_negative", "odd"]
POLICIES = ["ieee", "saturate", "sat_propagate", "sat_none"]

_MPFR_ROUND = {
    "toward_zero": gmpy2.RoundToZero,
    "toward_positive": gmpy2.RoundUp,
    "toward_negative": gmpy2.RoundDown,
    "away": gmpy2.RoundAwayZero,
    "nearest": gmpy2.RoundToNearest,
}


def _mpfr_ctx(fmt, mode):
    """formats.md §6.4, with emax raised so the grid is unbounded above (overflow is resolved by hand)."""
    p = fmt.mantissa_bits + 1
    sub = fmt.subnormals and p > 1
    emin = fmt.emin - p + 2 if sub else fmt.emin + 1  # smallest positive = 0.5 * 2**emin
    return gmpy2.context(precision=p, emin=emin, emax=4096, subnormalize=sub, round=_MPFR_ROUND[mode])


def _frac(v):
    n, d = v.as_integer_ratio()  # gmpy2 gives mpz: make plain ints
    return Fraction(int(n), int(d))


def _code_is_even(z: Fraction, fmt) -> bool:
    """P3109 CodeIsEven of the truncated result z (formats.md §2.1), from the value of z:
    Q = max(floor(log2|z|), emin) - P + 1, S = |z| / 2**Q; IsEven(S) for P > 1, else
    S = 0 or IsEven(Q + B)."""
    z, p = abs(z), fmt.mantissa_bits + 1
    if z == 0:
        return True
    q = max(math.frexp(float(z))[1] - 1, fmt.emin) - p + 1  # z is a float64 value: frexp is exact
    s = z / Fraction(2) ** q
    assert s.denominator == 1
    return s % 2 == 0 if p > 1 else (q + fmt.bias) % 2 == 0


def _mpfr(x, fmt, mode) -> Fraction:
    """x (float or Fraction) rounded once by MPFR: an exact n / d, correctly rounded by ctx.div."""
    n, d = Fraction(x).as_integer_ratio()
    return _frac(_mpfr_ctx(fmt, mode).div(gmpy2.mpz(n), gmpy2.mpz(d)))


def mpfr_neighbours(x, fmt):
    """(z, a): x rounded toward zero and away from zero by MPFR, as Fractions (signed)."""
    z, a = _mpfr(x, fmt, "toward_zero"), _mpfr(x, fmt, "away")
    if not fmt.has_zero and abs(x) < fmt.smallest_normal:  # E8M0: nothing below 2**emin
        z = a = Fraction(fmt.smallest_normal) * (1 if x > 0 else -1)
    return z, a


def mpfr_round(x, fmt, mode: str) -> Fraction:
    """x rounded on fmt's grid (unbounded above) by MPFR + the recipes of formats.md §6.4."""
    p = fmt.mantissa_bits + 1
    if mode in ("toward_zero", "toward_positive", "toward_negative") or (mode == "nearest_even" and p > 1):
        r = _mpfr(x, fmt, "nearest" if mode == "nearest_even" else mode)
        if not fmt.has_zero and abs(x) < fmt.smallest_normal:
            r = Fraction(fmt.smallest_normal) * (1 if x > 0 else -1)
        return r
    z, a = mpfr_neighbours(x, fmt)
    if z == a:
        return z
    xf = Fraction(x)
    if mode == "odd":
        return a if _code_is_even(z, fmt) else z
    mid = (z + a) / 2
    if abs(xf) != abs(mid):
        return a if abs(xf) > abs(mid) else z
    if mode == "nearest_away":
        return a
    return z if _code_is_even(z, fmt) else a  # nearest_even tie at P = 1


def expected_value(r: Fraction, negative: bool, fmt, mode: str, policy: str) -> float:
    """The projection's value from the rounded r: P3109 v4 §4.7.5 rules (formats.md §2.2) for the
    sat_* policies, the ieee column of docs/semantics.md otherwise. NaN is math.nan."""
    hi = Fraction(fmt.max)
    lo = -hi if fmt.signed else Fraction(fmt.min)
    extended = fmt.has_inf

    def nan_or(v):
        return math.nan if fmt.has_nan else v

    if r == 0 or lo <= r <= hi:
        if r == 0:
            return -0.0 if negative and fmt.has_negative_zero else 0.0
        return float(r)
    over = r > hi
    if policy in ("saturate", "sat_propagate"):  # rules 3, 4, 9
        return float(hi if over else lo)
    if policy == "sat_none":
        if mode == "odd" and over and not fmt.signed and extended:  # rule 15
            return float(hi)
        if mode in ("toward_zero", "toward_negative") and over:  # 16
            return float(hi)
        if mode in ("toward_zero", "toward_positive") and not over:  # 17
            return float(lo)
        if not over:
            if fmt.signed:
                return -math.inf if extended else float(lo)  # 18, 20
            return nan_or(float(lo))  # 19 (a format without NaN keeps M_lo)
        return math.inf if extended else float(hi)  # 21, 22
    assert policy == "ieee"
    inf = math.inf if extended else (math.nan if fmt.has_nan else float(hi))
    if not over and not fmt.signed:  # negative result in an unsigned format
        return nan_or(float(lo))
    if over:
        return float(hi) if mode in ("toward_zero", "toward_negative", "odd") else inf
    return float(lo) if mode in ("toward_zero", "toward_positive", "odd") else -inf


def _mpfr_inputs(fmt, count=250, seed=0):
    """Inputs over the whole range, from below the smallest subnormal to beyond max: float64
    log-uniform values, grid points, midpoints and midpoints +- one float64 ulp, and Fractions."""
    rng = np.random.default_rng(RNG_SEED + seed)
    m, emin = fmt.mantissa_bits, fmt.emin
    e = rng.integers(emin - 2, fmt.emax + 3, count)
    quantum = np.exp2(np.maximum(e, emin) - m)
    q = rng.integers(0, 2 << m, count).astype(np.float64)
    grid = q * quantum
    mids = (q + 0.5) * quantum
    rand = np.exp2(rng.uniform(emin - m - 3, fmt.emax + 2, 2 * count))
    xs = np.concatenate([grid, mids, np.nextafter(mids, 0), np.nextafter(mids, np.inf), rand])
    xs = xs[(xs > 0) & np.isfinite(xs)]
    sign = rng.choice([-1.0, 1.0], xs.size)
    # non-dyadic rationals (exact Fraction inputs): n / d with odd d
    dens = rng.integers(1, 1 << 20, count // 2) * 2 + 1
    rats = [Fraction(round(v * int(d)), int(d)) * int(s) for v, d, s in zip(rand, dens, sign, strict=False)]
    return (xs * sign).tolist() + [r for r in rats if r != 0]


@pytest.fixture(scope="module")
def mpfr_inputs():
    cache = {}

    def get(fmt):
        if fmt not in cache:
            cache[fmt] = _mpfr_inputs(fmt, seed=len(cache))
        return cache[fmt]

    return get


def _check(x, fmt, mode, policy, want, **kw):
    code = reference.round_to_code(x, fmt, mode, policy, **kw)
    got = reference.decode(code, fmt)
    if math.isnan(want):
        ok = math.isnan(got)
        if ok and fmt.signed and fmt.specials in (Specials.IEEE, Specials.FN):
            ok = bool(code & fmt.sign_bit) == (x < 0)  # signed NaNs keep the input's sign
        return ok
    return got == want and math.copysign(1, got) == math.copysign(1, want)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fmt", MPFR_FORMATS, ids=str)
def test_modes_vs_mpfr(fmt, mode, mpfr_inputs):
    bad = []
    n_out = 0
    for x in mpfr_inputs(fmt):
        r = mpfr_round(x, fmt, mode)
        out_of_range = abs(r) > Fraction(fmt.max) or (r < 0 and not fmt.signed)
        n_out += out_of_range
        # the policy only matters out of range: test all policies there, the default elsewhere
        for policy in POLICIES if out_of_range else ["ieee"]:
            want = expected_value(r, x < 0, fmt, mode, policy)
            if not _check(x, fmt, mode, policy, want):
                bad.append((x, policy, reference.cast(x, fmt, mode, policy), want))
    assert not bad, f"{len(bad)} mismatches (x, policy, reference, MPFR): {bad[:6]}"
    assert n_out > 0  # the overflow rules were exercised


@pytest.mark.parametrize("fmt", MPFR_FORMATS, ids=str)
def test_infinities_and_zero_policies(fmt):
    """+-inf and +-0 inputs under every policy, against formats.md §2.2 / docs/semantics.md."""
    hi = fmt.max
    for policy in POLICIES:
        for mode in MODES:
            pinf = reference.cast(math.inf, fmt, mode, policy)
            want = {"ieee": math.inf if fmt.has_inf else (math.nan if fmt.has_nan else hi), "saturate": hi}.get(
                policy, math.inf if fmt.has_inf else hi
            )
            assert pinf == want or (math.isnan(pinf) and math.isnan(want)), (policy, mode, pinf)
            ninf = reference.cast(-math.inf, fmt, mode, policy)
            if fmt.signed:
                assert _same(ninf, -want), (policy, mode, ninf)
            else:  # -inf in an unsigned format: NaN under ieee and sat_none (P3109 v4 rule 13), else M_lo
                to_nan = policy in ("ieee", "sat_none")
                assert _same(ninf, math.nan if to_nan and fmt.has_nan else fmt.min), (policy, mode, ninf)
            if fmt.has_zero:
                assert math.copysign(1, reference.cast(-0.0, fmt, mode, policy)) == (-1 if fmt.has_negative_zero else 1)
                assert reference.round_to_code(0.0, fmt, mode, policy) == 0


# ---------------------------------------------------------------------------------
# 5. stochastic rounding: exact counts over every R, from the P3109 definitions
# ---------------------------------------------------------------------------------

SR_FORMATS = [
    get_format(n)
    for n in ["float8_e4m3fn", "float8_e5m2", "float4_e2m1fn", "binary8p3se", "float8_e8m0fnu", "bfloat16"]
] + [_ff("u_e4m3fn", 4, 3, signed=False, specials="fn")]


def _sr_inputs(fmt):
    tiny, mx = fmt.smallest_subnormal, fmt.max
    ulp_max = math.ldexp(1.0, math.frexp(mx)[1] - 1 - fmt.mantissa_bits)
    xs = [
        1.5,
        1.0 + 2.0**-40,
        1.0 + fmt.eps / 3,
        1.0 + fmt.eps / 2,
        1.0 + 0.7 * fmt.eps,
        3.0 * 2.0**fmt.emin / 2 + 2.0**fmt.emin * 0.01,
        mx + ulp_max / 2,
        mx + ulp_max * 0.3,
        mx + ulp_max * 0.9,
        0.3 * tiny,
        0.5 * tiny,
        1.7 * tiny,
        2.5 * tiny,
        1.0 + fmt.eps * 0.25 + 2.0**-40,
    ]
    if fmt.mantissa_bits == 0:
        xs += [3.0, 0.75, 1.25, 1.75]
    return xs + [-x for x in xs]


def _same(u, v):
    return (math.isnan(u) and math.isnan(v)) or (u == v and math.copysign(1, u) == math.copysign(1, v))


def _k(variant, y: Fraction) -> int:
    """Number of R in [0, 2**N) that round away (formats.md §2.1): y = nu * 2**N."""
    if variant == "stochastic_a":
        return math.floor(y)
    if variant == "stochastic_b":
        return math.floor(y + Fraction(1, 2))
    f = math.floor(y)  # RNITE
    return f + (y - f > Fraction(1, 2) or (y - f == Fraction(1, 2) and f % 2 == 1))


@pytest.mark.parametrize("fmt", SR_FORMATS, ids=str)
def test_stochastic_counts(fmt):
    for x in _sr_inputs(fmt):
        z, a = mpfr_neighbours(x, fmt)
        nu = Fraction(0) if z == a else (Fraction(x) - z) / (a - z)
        z_val = expected_value(z, x < 0, fmt, "toward_zero", "ieee")
        a_val = expected_value(a, x < 0, fmt, "nearest_away", "ieee")
        for variant in ("stochastic_a", "stochastic_b", "stochastic_c"):
            for n in range(1, 5):
                results = [reference.cast(x, fmt, variant, random_bits=r, sr_bits=n) for r in range(2**n)]
                if z == a or _same(z_val, a_val):  # exact, or both neighbours give the same result
                    assert all(_same(v, z_val) for v in results), (x, results)
                    continue
                away = [not _same(v, z_val) for v in results]
                for v, is_away in zip(results, away, strict=True):
                    if is_away:
                        assert _same(v, a_val), (x, variant, n, v, a_val)
                assert sum(away) == _k(variant, nu * 2**n), (fmt, x, variant, n, results)
                assert away == sorted(away), (x, variant, n)  # away exactly for the largest R


def test_stochastic_64_bits():
    fmt = get_format("float8_e4m3fn")
    for x in [1.0 + 2.0**-40, 1.0 + 1 / 3 * 0.125, -3.3, 1e-3]:
        z, a = mpfr_neighbours(x, fmt)
        k = math.floor((Fraction(x) - z) / (a - z) * 2**64)
        assert reference.cast(x, fmt, "stochastic", random_bits=2**64 - k) == float(a)
        assert reference.cast(x, fmt, "stochastic", random_bits=2**64 - k - 1) == float(z)


# ---------------------------------------------------------------------------------
# 6. specific values (formats.md §2.1, §2.3, §3.6)
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("x,want", [(3.0, 2.0), (1.5, 2.0), (6.0, 8.0), (12.0, 8.0), (0.75, 0.5), (1.4, 1.0)])
def test_e8m0_ties_to_even_code(x, want):
    assert reference.cast(x, "float8_e8m0fnu") == want


@pytest.mark.parametrize("x,want", [(1.5, 1.0), (3.0, 4.0), (6.0, 4.0), (12.0, 16.0), (0.75, 1.0)])
def test_binary8p1uf_ties(x, want):
    assert reference.cast(x, "binary8p1uf") == want


def test_specific_values():
    c = reference.cast
    assert c(300.0, "binary8p4sf", overflow="sat_none") == 240.0
    assert c(math.inf, "binary8p4sf", overflow="sat_none") == 240.0
    assert c(300.0, "binary8p4se", overflow="sat_none") == math.inf
    assert math.isnan(c(300.0, "binary8p4sf"))  # the ieee default, as ml_dtypes fnuz
    assert math.isnan(c(-1.0, "binary8p4uf", overflow="sat_none"))
    assert c(-1.0, "binary8p4uf", "toward_zero", overflow="sat_none") == 0.0
    assert c(1.0625 + 2.0**-30, "float8_e4m3fn") == 1.125
    assert c(1.0625, "float8_e4m3fn") == 1.0
    assert c(464.0, "float8_e4m3fn") == 448.0 and math.isnan(c(465.0, "float8_e4m3fn"))
    assert c(465.0, "float8_e4m3fn", overflow="saturate") == 448.0
    assert c(2.0**-128, "float8_e8m0fnu") == 2.0**-127
    assert math.isnan(c(0.0, "float8_e8m0fnu")) and c(0.0, "float8_e8m0fnu", overflow="saturate") == 2.0**-127
    assert math.isnan(c(-1.0, "float8_e8m0fnu"))
    assert math.copysign(1, c(-1e-30, "float8_e4m3fn")) == -1 and math.copysign(1, c(-1e-30, "e4m3fnuz")) == 1
    assert reference.round_to_code(-math.nan, "float8_e4m3fn") == 0xFF
    assert reference.round_to_code(math.nan, "float8_e5m2") == 0x7E
    assert reference.round_to_code(-math.nan, "float8_e4m3fnuz") == 0x80
    assert reference.round_to_code(np.float32(-1.5), "float8_e4m3fn") == 0xBC  # numpy scalars are exact
    assert reference.round_to_code(Fraction(3, 2), "float8_e4m3fn") == 0x3C
    assert reference.classify(0x01, "float8_e4m3fn") == "subnormal"
    assert reference.classify(0x7F, "float8_e4m3fn") == "nan"
    assert reference.classify(0x7C, "float8_e5m2") == "inf"
    assert reference.classify(0x80, "float8_e4m3fn") == "zero"
    assert reference.classify(0x00, "float8_e8m0fnu") == "normal"


def test_noncanonical_codes_without_subnormals():
    fmt = FloatFormat(exponent_bits=4, mantissa_bits=3, specials="fn", subnormals=False)
    assert reference.decode(0x03, fmt) == 0.0 and math.copysign(1, reference.decode(0x83, fmt)) == -1
    assert reference.classify(0x03, fmt) == "zero"


def test_integer_rounding():
    """ml_dtypes float -> intN truncates then wraps; numpy int8 saturating RNE via clip(rint)."""
    rng = np.random.default_rng(RNG_SEED)
    xs = np.concatenate([rng.uniform(-40, 40, 300), np.arange(-20, 20) + 0.5, [np.inf, -np.inf]]).astype(np.float32)
    for name in ["int2", "int4", "uint2", "uint4"]:
        fmt = INTS[name]
        want = xs.astype(getattr(ml_dtypes, name)).astype(np.int64).tolist()
        got = [reference.decode(reference.round_to_code(x, fmt, "toward_zero", "wrap"), fmt) for x in xs.tolist()]
        assert got == want, name
    fin = xs[np.isfinite(xs)]
    for name in ["int4", "uint4", "int8"]:
        fmt = INTS[name]
        want = np.clip(np.rint(fin.astype(np.float64)), fmt.min, fmt.max).astype(np.int64).tolist()
        assert [reference.cast(x, fmt) for x in fin.tolist()] == want, name
    assert reference.cast(math.inf, "int8") == 127 and reference.cast(-math.inf, "uint8") == 0
    assert reference.cast(2.5, "int8", "nearest_away") == 3 and reference.cast(-2.5, "int8", "odd") == -3
    assert reference.cast(-2.5, "int8", "toward_negative") == -3 and reference.cast(2.5, "int8", "toward_positive") == 3
    # stochastic on the integer grid: nu = 1/4, so with N = 2 exactly k = 1 of the 4 values of R rounds away
    assert [reference.cast(2.25, "int8", "stochastic_a", random_bits=r, sr_bits=2) for r in range(4)] == [2, 2, 2, 3]
    assert [reference.cast(-2.5, "int8", "stochastic_c", random_bits=r, sr_bits=1) for r in range(2)] == [-2, -3]


# ---------------------------------------------------------------------------------
# 7. error paths
# ---------------------------------------------------------------------------------


def test_errors():
    with pytest.raises(ValueError):
        reference.decode(256, "float8_e4m3fn")
    with pytest.raises(ValueError):
        reference.decode(-1, "float8_e4m3fn")
    with pytest.raises(ValueError):
        reference.decode(16, "float4_e2m1fn")
    with pytest.raises(ValueError):
        reference.classify(1 << 16, "int16")
    with pytest.raises(ValueError):
        reference.round_to_code(math.nan, "float4_e2m1fn")
    with pytest.raises(ValueError):
        reference.round_to_code(math.nan, "int8")
    with pytest.raises(ValueError):
        reference.round_to_code(1.0, "float8_e4m3fn", "stochastic_a", random_bits=0)  # no sr_bits
    with pytest.raises(ValueError):
        reference.round_to_code(1.0, "float8_e4m3fn", "stochastic_a", sr_bits=4)  # no random_bits
    with pytest.raises(ValueError):
        reference.round_to_code(1.0, "float8_e4m3fn", "stochastic_b", random_bits=16, sr_bits=4)  # R >= 2**N
    with pytest.raises(ValueError):
        reference.round_to_code(1.0, "float8_e4m3fn", "stochastic", random_bits=0, sr_bits=8)
    with pytest.raises(ValueError):
        reference.round_to_code(1.0, "float8_e4m3fn", overflow="wrap")
    with pytest.raises(ValueError):
        reference.round_to_code(1.0, "int8", overflow="sat_none")
    with pytest.raises(ValueError):
        reference.round_to_code(1.0, "float8_e4m3fn", "nearest_sideways")
    with pytest.raises(TypeError):
        reference.round_to_code("1.0", "float8_e4m3fn")


@pytest.mark.parametrize("bias", [141, 130, 1060])
def test_no_subnormal_formats_decode_exactly_near_the_float32_and_float64_limits(bias):
    """Without subnormals the finest spacing is still 2**(emin - m): value_dtype must hold it (it used 2**emin).

    The exact value comes from the definition, (1 + M / 2**m) * 2**emin, in Python Fractions.
    """
    import floatsim as fs

    if bias == 1060:  # emin = -1059: (1 + 2**-10) * 2**-1059 needs 2**-1069, inside float64
        fmt = FloatFormat(exponent_bits=11, mantissa_bits=10, bias=bias, subnormals=False)
    else:
        fmt = FloatFormat(exponent_bits=8, mantissa_bits=10, bias=bias, subnormals=False)
    m = fmt.mantissa_bits
    codes = np.array([(1 << m) | 1, (1 << m) | 3, (1 << m)], fmt.code_dtype)
    got = fs.decode(codes, fmt)
    want = [(1 + Fraction(mf, 1 << m)) * Fraction(2) ** fmt.emin for mf in (1, 3, 0)]
    assert [Fraction(float(v)) for v in got] == want
    assert [Fraction(reference.decode(int(c), fmt)) for c in codes] == want
    with pytest.raises(ValueError, match="outside float64"):
        FloatFormat(exponent_bits=11, mantissa_bits=10, bias=1070, subnormals=False)  # needs 2**-1079
