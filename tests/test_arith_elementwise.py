"""floatsim.arith's elementwise verbs and its context(), against independent oracles.

* add / sub / mul / div / fma / sqrt in every deterministic rounding mode and every
  overflow policy, against MPFR (gmpy2): the correctly rounded RZ and RA results of
  MPFR's own operations in a context of the format's precision and exponent range
  (unbounded above), an exact comparison with their midpoint (MPFR at 4400 bits, where
  every comparison made here is exact: the context's inexact flag is asserted clear),
  then the overflow / specials policy through :func:`floatsim.cast` of that grid value
  (the core cast is proven against oracles in test_core_oracles.py; a value on the
  grid is only subject to the overflow rule), or ``_policy`` of test_core_oracles
  where the value lies beyond float64. Formats of at most 8 bits: every pair of codes
  (every code for sqrt, a sample of triples for fma); 16-bit formats, TF32 and FP32:
  seeded random pairs with near-cancellations, tiny addends (FP32 ``1 + 2**-60``),
  subnormal results, overflow and exact zeros; formats beyond the compiled path
  (precision 27 / 30, exponents beyond +-480): a few hundred values.
* float16 / float32 nearest-even against numpy's hardware arithmetic.
* The IEEE 754 special cases (explicit rows, signs included) and the projection of
  specials into formats without infinity / NaN.
* Stochastic rounding: every value of the N random bits against the P3109 definitions
  in docs/semantics.md with the position ``nu`` computed exactly (Fractions); the
  64-bit mode's reproducibility, chunking and unbiasedness (binomial bounds).
* Integer formats against Python integer arithmetic (saturate and wrap, every
  deterministic rounding of a quotient).
* neg / abs / comparisons against numpy; argument handling and errors; context().
"""

from __future__ import annotations

import functools
import math
import threading
from fractions import Fraction

import numpy as np
import pytest

import floatsim as fs
import floatsim.arith as fa
from floatsim.format import FloatFormat
from floatsim.formats import p3109

gmpy2 = pytest.importorskip("gmpy2")
from test_core_oracles import _policy, same_values  # noqa: E402

DETERMINISTIC = ["nearest_even", "nearest_away", "toward_zero", "toward_positive", "toward_negative", "odd"]
POLICIES = ["ieee", "saturate", "sat_propagate", "sat_none"]
OPS = ["add", "sub", "mul", "div", "sqrt", "fma"]
NARGS = {"add": 2, "sub": 2, "mul": 2, "div": 2, "sqrt": 1, "fma": 3}
BIG = 1 << 20  # MPFR exponent bound standing for "unbounded"
EXACT_PRECISION = 4400  # enough for any sum / fma of values of the formats tested here

SMALL = {  # formats of at most 8 bits: exhaustive
    "float4_e2m1fn": fs.get_format("float4_e2m1fn"),
    "float6_e2m3fn": fs.get_format("float6_e2m3fn"),
    "float6_e3m2fn": fs.get_format("float6_e3m2fn"),
    "float8_e4m3fn": fs.get_format("float8_e4m3fn"),
    "float8_e5m2": fs.get_format("float8_e5m2"),
    "float8_e4m3fnuz": fs.get_format("float8_e4m3fnuz"),
    "float8_e5m2fnuz": fs.get_format("float8_e5m2fnuz"),
    "float8_e8m0fnu": fs.get_format("float8_e8m0fnu"),
    "e3m4_nosub": FloatFormat(exponent_bits=3, mantissa_bits=4, subnormals=False, name="e3m4_nosub"),
    "u_e4m3_fn": FloatFormat(exponent_bits=4, mantissa_bits=3, signed=False, specials="fn", name="u_e4m3_fn"),
    "binary8p3se": p3109(8, 3),
    "binary8p4ue": p3109(8, 4, signed=False, extended=True),
}
MEDIUM = {name: fs.get_format(name) for name in ["float16", "bfloat16", "tfloat32", "float32"]}
WIDE = {  # beyond the compiled path: the exact pure-Python fallback
    "e2m29_p30": FloatFormat(exponent_bits=2, mantissa_bits=29, name="e2m29_p30"),
    "e5m26_p27": FloatFormat(exponent_bits=5, mantissa_bits=26, name="e5m26_p27"),
    "u_e6m26_p27": FloatFormat(exponent_bits=6, mantissa_bits=26, signed=False, name="u_e6m26_p27"),
    "e10m10_wide_exp": FloatFormat(exponent_bits=10, mantissa_bits=10, name="e10m10_wide_exp"),
}


# =========================================================================== the MPFR oracle
def _mpfr_context(fmt, rnd):
    """Precision P, the format's subnormal grid (tests/test_core_oracles.py::_mpfr_round_values), emax unbounded.

    Without subnormals MPFR's underflow does the job: RZ gives 0 and RA gives ``2**emin``
    (the smallest positive number of the context) below ``2**emin``.
    """
    p = fmt.precision
    subnormal_grid = fmt.subnormals and fmt.mantissa_bits > 0
    emin_ctx = fmt.emin - p + 2 if subnormal_grid else fmt.emin + 1
    return gmpy2.context(precision=p, emin=emin_ctx, emax=BIG, subnormalize=subnormal_grid, round=rnd)


def _zero_sum(t1: float, t2: float) -> tuple[float, float]:
    """Sign of an exact zero sum ``t1 + t2`` (IEEE 754 §6.3): (other modes, toward_negative)."""
    both_neg = t1 == 0 and t2 == 0 and math.copysign(1, t1) < 0 and math.copysign(1, t2) < 0
    both_pos = t1 == 0 and t2 == 0 and math.copysign(1, t1) > 0 and math.copysign(1, t2) > 0
    return (-0.0 if both_neg else 0.0), (0.0 if both_pos else -0.0)


def _special(op: str, args: tuple[float, ...]):
    """IEEE result where it is a special or an exact zero: (other modes, toward_negative), else None.

    Special results come from numpy float64 arithmetic, which is exact for them.
    """
    finite = all(math.isfinite(v) for v in args)
    f = [np.float64(v) for v in args]
    with np.errstate(all="ignore"):
        if op in ("add", "sub"):
            y = args[1] if op == "add" else -args[1]
            if not finite:
                s = float(f[0] + np.float64(y))
                return s, s
            return _zero_sum(args[0], y) if args[0] + y == 0 else None
        if op == "mul":
            if not finite or args[0] == 0 or args[1] == 0:
                s = float(f[0] * f[1])
                return s, s
            return None
        if op == "div":
            if not finite or args[0] == 0 or args[1] == 0:
                s = float(f[0] / f[1])
                return s, s
            return None
        if op == "sqrt":
            if not finite or args[0] <= 0:
                s = float(np.sqrt(f[0]))
                return s, s
            return None
        # fma: exact zeros are found in the general path
        if not finite:
            s = args[2] if math.isfinite(args[0]) and math.isfinite(args[1]) else float(f[0] * f[1] + f[2])
            return s, s
        return None


class Oracle:
    """Per element: the rounded magnitudes ``z`` (RZ) and ``a`` (RA), the comparison of the exact
    magnitude with their midpoint (``cmp``), the sign, and specials (with their toward_negative sign)."""

    def __init__(self, fmt, op, cols):
        n = cols[0].size
        rz, ra = _mpfr_context(fmt, gmpy2.RoundToZero), _mpfr_context(fmt, gmpy2.RoundAwayZero)
        ex = gmpy2.context(precision=EXACT_PRECISION, emin=-BIG, emax=BIG)
        name = {"add": "add", "sub": "sub", "mul": "mul", "div": "div", "sqrt": "sqrt", "fma": "fma"}[op]
        f_rz, f_ra, f_ex = getattr(rz, name), getattr(ra, name), getattr(ex, name)
        mpfr, cmp_abs = gmpy2.mpfr, gmpy2.cmp_abs
        z, a, cmp, neg = [0.0] * n, [0.0] * n, [0] * n, [False] * n
        spec, spec_tn, is_spec = [0.0] * n, [0.0] * n, [False] * n
        no_zero = not fmt.has_zero
        for i, args in enumerate(zip(*(c.tolist() for c in cols), strict=True)):
            s = _special(op, args)
            m = None
            if s is None:
                m = [mpfr(v) for v in args]
                if op == "fma":
                    v = f_ex(*m)
                    if v == 0:
                        prod = args[0] * args[1] if args[0] == 0 or args[1] == 0 else 1.0
                        s = _zero_sum(prod, args[2])
            if s is not None:
                is_spec[i] = True
                spec[i], spec_tn[i] = s
                continue
            vz, va = f_rz(*m), f_ra(*m)
            neg[i] = va < 0  # RA never gives 0 for a nonzero result
            zm, am = abs(vz), abs(va)
            if zm == am:
                c = 0
            elif no_zero and zm == 0:  # every |v| < 2**emin gives 2**emin
                zm, c = am, -1
            else:
                mid = ex.div(ex.add(zm, am), 2)
                if op == "div":
                    c = cmp_abs(m[0], ex.mul(mid, m[1]))
                elif op == "sqrt":
                    c = cmp_abs(m[0], ex.mul(mid, mid))
                else:
                    c = cmp_abs(f_ex(*m), mid)
            z[i], a[i], cmp[i] = float(zm), float(am), c
        assert not ex.inexact, "the exact context rounded: raise EXACT_PRECISION"
        self.fmt = fmt
        self.z, self.a = np.array(z), np.array(a)
        self.cmp, self.neg = np.array(cmp), np.array(neg, bool)
        self.spec, self.spec_tn, self.is_spec = np.array(spec), np.array(spec_tn), np.array(is_spec, bool)

    def rounded(self, mode: str) -> np.ndarray:
        """The signed value rounded on the grid unbounded above (specials as they are)."""
        z, a, neg = self.z, self.a, self.neg
        even = _code_even(z, self.fmt)
        below, tie = self.cmp < 0, self.cmp == 0
        mag = {
            "nearest_even": np.where(below | (tie & even), z, a),
            "nearest_away": np.where(below, z, a),
            "toward_zero": z,
            "toward_positive": np.where(neg, z, a),
            "toward_negative": np.where(neg, a, z),
            "odd": np.where(even, a, z),
        }[mode]
        r = np.where(neg, -mag, mag)
        return np.where(self.is_spec, self.spec_tn if mode == "toward_negative" else self.spec, r)

    def expected(self, mode: str, overflow: str) -> np.ndarray:
        """The value floatsim must return: the overflow / specials policy applied to the rounded value."""
        r = self.rounded(mode)
        if np.all(np.isfinite(r) | self.is_spec):
            return fs.cast(r, self.fmt, rounding=mode, overflow=overflow, dtype=np.float64)
        # beyond float64: _policy takes the sign of the exact result from a stand-in
        sign = np.where(self.neg, -1.0, 1.0)
        x = np.where(self.is_spec, r, sign)
        return np.array([_policy(self.fmt, xv, rv, mode, overflow) for xv, rv in zip(x.tolist(), r.tolist(), strict=True)])


def _code_even(z: np.ndarray, fmt) -> np.ndarray:
    """Parity of the magnitude code of grid values ``z >= 0`` (P3109 CodeIsEven), vectorised
    from test_core_oracles._code_is_even."""
    with np.errstate(all="ignore"):
        _, e = np.frexp(z)
        if fmt.mantissa_bits == 0:  # P = 1: the code is the exponent field
            even = (e - 1 - fmt.emin + int(fmt.has_zero)) % 2 == 0
        else:
            quantum = np.maximum(e - 1, fmt.emin) - fmt.mantissa_bits
            even = np.fmod(np.ldexp(z, -quantum), 2) == 0
    return np.where(z == 0, True, even)


def _finite_nan_ok(fmt, op, cols):
    """Mask of the inputs to keep: in a format without NaN, drop those whose IEEE result is NaN."""
    if fmt.has_nan:
        return np.ones(cols[0].size, bool)
    with np.errstate(all="ignore"):
        r = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": np.multiply, "div": np.divide,
             "sqrt": np.sqrt, "fma": lambda x, y, w: x * y + w}[op](*cols)
    return ~np.isnan(r)


def _compare_all(fmt, op, cols, oracle, mode, policies, dtype, what):
    """Run ``op`` on ``cols`` (cast to ``dtype``) under each policy; collect every mismatch with the oracle."""
    failures = []
    args = [c.astype(dtype) for c in cols]
    for ov in policies:
        expected = oracle.expected(mode, ov)
        got = getattr(fa, op)(*args, fmt, rounding=mode, overflow=ov)
        ok = same_values(got, expected)
        if not ok.all():
            i = np.flatnonzero(~ok)[:5]
            ins = list(zip(*(c[i].tolist() for c in cols), strict=True))
            failures.append(f"{what} {op} {mode}/{ov}: {np.count_nonzero(~ok)} of {ok.size} differ; inputs {ins} "
                            f"floatsim {np.asarray(got)[i].tolist()} mpfr {expected[i].tolist()}")
    assert not failures, "\n".join(failures)


# =========================================================================== formats of <= 8 bits: exhaustive
def _all_values(fmt) -> np.ndarray:
    """Every non-NaN value of the format (decoded by floatsim.decode), float64."""
    v = fs.decode(np.arange(fmt.num_codes), fmt, dtype=np.float64)
    return v[~np.isnan(v)]


@functools.cache
def _small_case(fmt_id: str, op: str):
    """Every pair of values (every value for sqrt, sampled triples for fma) and the MPFR oracle."""
    fmt = SMALL[fmt_id]
    v = _all_values(fmt)
    if op == "sqrt":
        cols = [v]
    elif op == "fma":
        rng = np.random.default_rng(11)
        if v.size ** 3 <= 6000:
            cols = [g.reshape(-1) for g in np.meshgrid(v, v, v, indexing="ij")]
        else:
            cols = [rng.choice(v, 20000) for _ in range(3)]
            # near-cancellations: z = -round(x * y), so the exact result is the product's rounding error
            x, y = rng.choice(v, 4000), rng.choice(v, 4000)
            with np.errstate(all="ignore"):
                prod = x * y
            ok = np.isfinite(prod) & (np.abs(prod) <= fmt.max)
            zc = -fs.cast(prod[ok], fmt, overflow="saturate", dtype=np.float64) if fmt.signed else None
            if zc is not None:
                cols = [np.concatenate([cols[0], x[ok]]), np.concatenate([cols[1], y[ok]]),
                        np.concatenate([cols[2], zc])]
    else:
        xs, ys = np.meshgrid(v, v, indexing="ij")
        cols = [xs.reshape(-1), ys.reshape(-1)]
    keep = _finite_nan_ok(fmt, op, cols)
    cols = [c[keep] for c in cols]
    return cols, Oracle(fmt, op, cols)


@pytest.mark.parametrize("mode", DETERMINISTIC)
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("fmt_id", SMALL)
def test_small_formats_every_code_vs_mpfr(fmt_id, op, mode):
    """Every pair of codes (every code for sqrt; triples sampled for fma), every policy."""
    cols, oracle = _small_case(fmt_id, op)
    _compare_all(SMALL[fmt_id], op, cols, oracle, mode, POLICIES, np.float32, fmt_id)


# =========================================================================== 16-bit formats, TF32, FP32
def _random_values(fmt, n, rng):
    """Random non-NaN values from random codes (uniform over the exponents)."""
    codes = rng.integers(0, fmt.num_codes, 3 * n)
    v = fs.decode(codes, fmt, dtype=np.float64)
    return v[~np.isnan(v)][:n]


def _step(fmt, v, k):
    """The value ``k`` codes above finite ``v >= 0`` (clamped to the finite range)."""
    codes = fs.encode(v, fmt).astype(np.int64) + k
    return fs.decode(np.clip(codes, 0, fmt.max_code), fmt, dtype=np.float64)


def _medium_pairs(fmt, rng):
    """Operand pairs: random codes, near-cancellations, tiny addends, subnormal results, overflow, zeros."""
    n = 1500
    x, y = _random_values(fmt, n, rng), _random_values(fmt, n, rng)
    cols = [[x], [y]]

    def add(xs, ys):
        cols[0].append(np.asarray(xs, np.float64))
        cols[1].append(np.asarray(ys, np.float64))

    sign = np.where(rng.uniform(size=400) < 0.5, -1.0, 1.0)
    mags = np.abs(_random_values(fmt, 400, rng))
    mags = mags[np.isfinite(mags)]
    sign = sign[:mags.size]
    # near-cancellation: x and a neighbour of x, opposite signs (add) / same signs (sub)
    for k in (0, 1, -1, 2, -3):
        nb = _step(fmt, mags, k)
        add(sign * mags, -sign * nb)
        add(sign * mags, sign * nb)
    # exact sums within a tiny relative distance of a representable value
    ss, mx, one = fmt.smallest_subnormal, fmt.max, 1.0
    tiny = [ss, 2 * ss, 3 * ss, 2.0**-60 if 2.0**-60 >= ss else ss, fmt.smallest_normal]
    for big in (one, -one, 1.5, mx, -mx, 2.0 ** (fmt.emax - 1), fmt.smallest_normal * 2**fmt.mantissa_bits):
        for t in tiny:
            add([big] * 2, [t, -t])
    # subnormal results
    sub = fs.decode(rng.integers(0, 1 << fmt.mantissa_bits, 300), fmt, dtype=np.float64)
    add(sub * np.where(rng.uniform(size=300) < 0.5, -1, 1), np.roll(sub, 1))
    small = fs.decode(rng.integers(1 << fmt.mantissa_bits, 3 << fmt.mantissa_bits, 200), fmt, dtype=np.float64)
    add(small, -np.roll(small, 3))
    # overflow
    top = _step(fmt, np.full(60, mx), -rng.integers(0, 40, 60))
    add(top, np.roll(top, 7))
    add(top, -_random_values(fmt, 60, rng))
    # zeros and infinities
    zs = [0.0, -0.0]
    specials = zs + ([np.inf, -np.inf] if fmt.has_inf else [])
    for s in specials:
        add([s] * 4, [0.0, -0.0, 1.0, -mx])
        add([1.0, -mx, 0.0, -0.0], [s] * 4)
    return [np.concatenate(c) for c in cols]


@functools.cache
def _medium_case(fmt_id: str, op: str):
    """Operands (seeded) and the MPFR oracle of one op in a 16-bit format, TF32 or FP32."""
    fmt = MEDIUM[fmt_id]
    rng = np.random.default_rng(5)
    xs, ys = _medium_pairs(fmt, rng)
    if op == "sqrt":
        cols = [np.concatenate([np.abs(xs), xs[:300], _step(fmt, np.full(50, 1.0), np.arange(50)),
                                np.array([fmt.max, fmt.smallest_subnormal, 0.0, -0.0])])]
    elif op == "fma":
        zs = np.roll(ys, 17)
        with np.errstate(all="ignore"):
            prod = xs * ys
        ok = np.isfinite(prod) & (np.abs(prod) <= fmt.max)
        zc = -fs.cast(prod[ok], fmt, dtype=np.float64)  # near-cancellation: the product's rounding error
        cols = [np.concatenate([xs, xs[ok]]), np.concatenate([ys, ys[ok]]), np.concatenate([zs, zc])]
    else:
        cols = [xs, ys]
    return cols, Oracle(fmt, op, cols)


@pytest.mark.parametrize("mode", DETERMINISTIC)
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("fmt_id", MEDIUM)
def test_medium_formats_random_vs_mpfr(fmt_id, op, mode):
    dtype = np.float16 if fmt_id == "float16" else np.float32
    cols, oracle = _medium_case(fmt_id, op)
    _compare_all(MEDIUM[fmt_id], op, cols, oracle, mode, POLICIES, dtype, fmt_id)


def test_fp32_one_plus_2_pow_minus_60_toward_positive():
    """The exact sum is within 2**-60 of 1: rounding the float64 sum (1.0) again would give 1."""
    one, tiny = np.float32(1.0), np.float32(2.0**-60)
    up = np.nextafter(one, np.float32(2))
    assert fa.add(one, tiny, "float32", rounding="toward_positive") == up
    assert fa.add(one, tiny, "float32", rounding="odd") == up
    assert fa.add(one, tiny, "float32", rounding="toward_negative") == one
    assert fa.sub(one, tiny, "float32", rounding="toward_negative") == np.nextafter(one, np.float32(0))
    assert fa.sub(one, tiny, "float32", rounding="nearest_even") == one
    assert fa.fma(one, one, tiny, "float32", rounding="toward_positive") == up


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "sqrt"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32], ids=["float16", "float32"])
def test_nearest_even_matches_numpy_hardware(op, dtype):
    """IEEE binary16 / binary32 with round-to-nearest-even is what numpy computes."""
    name = "float16" if dtype == np.float16 else "float32"
    fmt = fs.get_format(name)
    rng = np.random.default_rng(3)
    bits = 16 if dtype == np.float16 else 32
    x = rng.integers(0, 1 << bits, 20000, dtype=np.uint64).astype(f"u{bits // 8}").view(dtype)
    y = rng.integers(0, 1 << bits, 20000, dtype=np.uint64).astype(f"u{bits // 8}").view(dtype)
    args = (x,) if op == "sqrt" else (x, y)
    with np.errstate(all="ignore"):
        expected = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "sqrt": np.sqrt}[op](*args)
    got = getattr(fa, op)(*args, fmt)
    assert got.dtype == dtype
    ok = same_values(got, expected)
    assert ok.all(), (np.flatnonzero(~ok)[:5], got[~ok][:5], expected[~ok][:5])


# =========================================================================== the exact fallback
def _wide_cols(fmt, op, rng):
    """A few hundred operands for a format beyond the compiled path, with the same kinds of edge cases."""
    n = 160
    x, y, w = (_random_values(fmt, n, rng) for _ in range(3))
    mx, ss = fmt.max, fmt.smallest_subnormal
    near = _step(fmt, np.abs(x[:20][np.isfinite(x[:20])]), 1)
    extra_x = [1.0, 1.0, mx, mx, ss, ss, 1.0, -1.0, 0.0, -0.0, 1.5] + list(np.abs(x[:near.size]))
    extra_y = [ss, -ss, mx, -_step(fmt, np.array([mx]), -1)[0], ss, -ss, 3.0, 3.0, -0.0, -0.0, 1.5] + list(-near)
    if not fmt.signed:
        extra_x = [abs(v) for v in extra_x]
        extra_y = [abs(v) for v in extra_y]
    x = np.concatenate([x, extra_x])
    y = np.concatenate([y, extra_y])
    w = np.concatenate([w, rng.choice(np.concatenate([x, y]), len(extra_x))])
    if op == "sqrt":
        return [np.concatenate([np.abs(x), x[:40]])]
    if op == "fma":
        with np.errstate(all="ignore"):
            prod = x * y
        ok = np.isfinite(prod) & (np.abs(prod) <= mx) & (prod >= (-mx if fmt.signed else 0))
        zc = fs.cast(prod[ok], fmt, dtype=np.float64)
        zc = -zc if fmt.signed else zc
        return [np.concatenate([x, x[ok]]), np.concatenate([y, y[ok]]), np.concatenate([w, zc])]
    return [x, y]


@functools.cache
def _wide_case(fmt_id: str, op: str):
    """Operands and MPFR oracle of one op in a wide format."""
    fmt = WIDE[fmt_id]
    cols = _wide_cols(fmt, op, np.random.default_rng(17))
    return cols, Oracle(fmt, op, cols)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("fmt_id", WIDE)
def test_wide_formats_exact_fallback_vs_mpfr(fmt_id, op):
    """Precision > 26 or exponents beyond +-480: the pure-Python path, every mode, two policies."""
    fmt = WIDE[fmt_id]
    cols, oracle = _wide_case(fmt_id, op)
    for mode in DETERMINISTIC:
        _compare_all(fmt, op, cols, oracle, mode, ["ieee", "sat_none"] if op != "add" else POLICIES,
                     np.float64, fmt_id)


def test_wide_sqrt_of_tiny_values():
    """sqrt(2**-200) = 2**-100 exactly in a format with exponents beyond +-480 (the exact fallback)."""
    fmt = WIDE["e10m10_wide_exp"]
    x = np.array([2.0**-200, 2.0**-300, 2.0**-518, 2.0**-100, 2.0**-60])
    for mode in DETERMINISTIC:
        got = fa.sqrt(x, fmt, rounding=mode)
        assert got.tolist() == [2.0**-100, 2.0**-150, 2.0**-259, 2.0**-50, 2.0**-30], mode


# =========================================================================== IEEE 754 special cases
INF, NAN = math.inf, math.nan
ALL = DETERMINISTIC + ["stochastic"]
# (op, operands, expected, expected under toward_negative)
IEEE_ROWS = [
    ("add", (INF, -INF), NAN, NAN),
    ("sub", (INF, INF), NAN, NAN),
    ("add", (INF, 1.0), INF, INF),
    ("add", (-INF, -INF), -INF, -INF),
    ("sub", (-1.0, INF), -INF, -INF),
    ("mul", (0.0, INF), NAN, NAN),
    ("mul", (-INF, 0.0), NAN, NAN),
    ("mul", (INF, -2.0), -INF, -INF),
    ("mul", (-0.0, 5.0), -0.0, -0.0),
    ("mul", (-2.0, -0.0), 0.0, 0.0),
    ("mul", (0.0, -0.0), -0.0, -0.0),
    ("div", (INF, INF), NAN, NAN),
    ("div", (-INF, INF), NAN, NAN),
    ("div", (0.0, 0.0), NAN, NAN),
    ("div", (-0.0, 0.0), NAN, NAN),
    ("div", (1.0, 0.0), INF, INF),
    ("div", (1.0, -0.0), -INF, -INF),
    ("div", (-1.0, 0.0), -INF, -INF),
    ("div", (-1.0, -0.0), INF, INF),
    ("div", (INF, -3.0), -INF, -INF),
    ("div", (1.0, -INF), -0.0, -0.0),
    ("div", (-0.0, 5.0), -0.0, -0.0),
    ("div", (0.0, -INF), -0.0, -0.0),
    ("sqrt", (-1.0,), NAN, NAN),
    ("sqrt", (-INF,), NAN, NAN),
    ("sqrt", (INF,), INF, INF),
    ("sqrt", (-0.0,), -0.0, -0.0),
    ("sqrt", (0.0,), 0.0, 0.0),
    ("add", (-0.0, -0.0), -0.0, -0.0),
    ("add", (0.0, 0.0), 0.0, 0.0),
    ("add", (-0.0, 0.0), 0.0, -0.0),
    ("add", (0.0, -0.0), 0.0, -0.0),
    ("sub", (0.0, 0.0), 0.0, -0.0),
    ("sub", (-0.0, 0.0), -0.0, -0.0),
    ("sub", (0.0, -0.0), 0.0, 0.0),
    ("add", (1.5, -1.5), 0.0, -0.0),
    ("add", (-1.5, 1.5), 0.0, -0.0),
    ("sub", (3.0, 3.0), 0.0, -0.0),
    ("sub", (-3.0, -3.0), 0.0, -0.0),
    ("add", (-0.0, 2.0), 2.0, 2.0),
    ("fma", (0.0, INF, 1.0), NAN, NAN),
    ("fma", (INF, 0.0, NAN), NAN, NAN),
    ("fma", (INF, 1.0, -INF), NAN, NAN),
    ("fma", (INF, 2.0, 1.0), INF, INF),
    ("fma", (1.0, 2.0, -INF), -INF, -INF),
    ("fma", (2.0, 3.0, -6.0), 0.0, -0.0),
    ("fma", (-0.0, 1.0, -0.0), -0.0, -0.0),
    ("fma", (0.0, -1.0, 0.0), 0.0, -0.0),
    ("fma", (0.0, 1.0, 0.0), 0.0, 0.0),
    ("fma", (-2.0, 0.0, -0.0), -0.0, -0.0),
    ("fma", (2.0, 3.0, 0.0), 6.0, 6.0),
    ("add", (NAN, 1.0), NAN, NAN),
    ("add", (INF, NAN), NAN, NAN),
    ("mul", (NAN, 0.0), NAN, NAN),
    ("div", (NAN, 0.0), NAN, NAN),
    ("div", (0.0, NAN), NAN, NAN),
    ("sqrt", (NAN,), NAN, NAN),
    ("fma", (NAN, 0.0, INF), NAN, NAN),
    ("fma", (1.0, 1.0, NAN), NAN, NAN),
]
IEEE_FORMATS = {
    "float16": fs.get_format("float16"),
    "bfloat16": fs.get_format("bfloat16"),
    "float8_e5m2": fs.get_format("float8_e5m2"),
    "float32": fs.get_format("float32"),
    "e5m26_p27": WIDE["e5m26_p27"],
    "e10m10_wide_exp": WIDE["e10m10_wide_exp"],
}


def _row_id(row):
    """Readable test id of an IEEE_ROWS entry, e.g. ``add(inf, -inf)``."""
    op, args, _, _ = row
    return f"{op}({', '.join(repr(a) for a in args)})"


@pytest.mark.parametrize("fmt_id", IEEE_FORMATS)
@pytest.mark.parametrize("row", IEEE_ROWS, ids=_row_id)
def test_ieee_special_cases(row, fmt_id):
    op, args, expected, expected_tn = row
    fmt = IEEE_FORMATS[fmt_id]
    dtype = np.float32 if fmt.exact_in(np.float32) else np.float64
    for mode in ALL:
        for ov in POLICIES:
            got = getattr(fa, op)(*(dtype(a) for a in args), fmt, rounding=mode, overflow=ov)
            want = expected_tn if mode == "toward_negative" else expected
            if math.isinf(want) and ov == "saturate":  # SatFinite: an infinite result becomes +-max
                want = math.copysign(fmt.max, want)
            assert same_values(got, want), f"{op}{args} {mode}/{ov}: got {got!r}, expected {want!r}"


@pytest.mark.parametrize("fmt_id", ["float16", "float32", "e5m26_p27"])
def test_overflow_rows(fmt_id):
    """max + max: inf under nearest / away-from-zero directions, max toward zero (IEEE 754 §7.4)."""
    fmt = IEEE_FORMATS[fmt_id]
    mx = fmt.max
    dtype = np.float32 if fmt.exact_in(np.float32) else np.float64
    rows = {"nearest_even": (INF, -INF), "nearest_away": (INF, -INF), "toward_zero": (mx, -mx),
            "toward_positive": (INF, -mx), "toward_negative": (mx, -INF), "odd": (mx, -mx)}
    for mode, (pos, neg) in rows.items():
        assert fa.add(dtype(mx), dtype(mx), fmt, rounding=mode) == pos, mode
        assert fa.add(dtype(-mx), dtype(-mx), fmt, rounding=mode) == neg, mode
        assert fa.mul(dtype(mx), dtype(-2), fmt, rounding=mode) == neg, mode
        assert fa.add(dtype(mx), dtype(mx), fmt, rounding=mode, overflow="saturate") == mx, mode


def test_formats_without_inf_or_nan_project_like_cast():
    """Specials into formats without them follow the core cast table."""
    f4, e4m3 = "float4_e2m1fn", "float8_e4m3fn"
    one, zero = np.float32(1), np.float32(0)
    assert fa.div(one, zero, f4) == 6.0  # no inf, no NaN: 'inf' is max
    assert fa.div(-one, zero, f4) == -6.0
    assert fa.add(np.float32(6), np.float32(6), f4) == 6.0
    assert fa.mul(np.float32(-6), np.float32(6), f4, rounding="toward_positive") == -6.0
    for call in (lambda: fa.div(zero, zero, f4), lambda: fa.sqrt(-one, f4),
                 lambda: fa.div(np.float32([1, 0]), np.float32([0, 0]), f4),
                 lambda: fa.sqrt(-one, "float6_e2m3fn"), lambda: fa.div(zero, -zero, "float6_e3m2fn")):
        with pytest.raises(ValueError, match="no NaN"):
            call()
    # e4m3fn: NaN but no inf
    assert np.isnan(fa.add(np.float32(448), np.float32(448), e4m3))
    assert fa.add(np.float32(448), np.float32(448), e4m3, overflow="saturate") == 448.0
    assert fa.add(np.float32(448), np.float32(448), e4m3, rounding="toward_zero") == 448.0
    assert np.isnan(fa.div(one, zero, e4m3))
    assert fa.div(one, zero, e4m3, overflow="saturate") == 448.0
    assert fa.div(-one, zero, e4m3, overflow="sat_propagate") == -448.0
    assert np.isnan(fa.div(zero, zero, e4m3, overflow="saturate"))
    # fnuz: one NaN, no -0
    r = fa.mul(np.float32(-0.0), np.float32(3), "float8_e4m3fnuz")
    assert r == 0 and not np.signbit(r)
    r = fa.sub(np.float32(2), np.float32(2), "float8_e4m3fnuz", rounding="toward_negative")
    assert r == 0 and not np.signbit(r)
    # E8M0: no zero; x - x is 0, which it lacks: NaN, or its smallest value under saturate
    e8 = "float8_e8m0fnu"
    assert np.isnan(fa.sub(np.float32(4), np.float32(4), e8))
    assert fa.sub(np.float32(4), np.float32(4), e8, overflow="saturate") == 2.0**-127
    assert np.isnan(fa.sub(np.float32(2), np.float32(4), e8))  # negative result, unsigned format


# =========================================================================== stochastic rounding
SR_FORMATS = {
    "float4_e2m1fn": fs.get_format("float4_e2m1fn"),
    "float8_e4m3fn": fs.get_format("float8_e4m3fn"),
    "float8_e8m0fnu": fs.get_format("float8_e8m0fnu"),
    "binary8p3se": p3109(8, 3),
    "float16": fs.get_format("float16"),
    "bfloat16": fs.get_format("bfloat16"),
    "float32": fs.get_format("float32"),
}
SR_VARIANTS = ["stochastic_a", "stochastic_b", "stochastic_c"]


class ExactPosition:
    """For inexact results between grid neighbours ``z < |v| < a``: ``floor(nu * 2**K)`` and whether
    ``nu * 2**K`` is an integer, ``nu = (|v| - z) / (a - z)`` exactly (Fractions; integer square roots)."""

    def __init__(self, op, cols, z, a):
        self.op = op
        self.args = [[Fraction(v) for v in c.tolist()] for c in cols]
        self.z = [Fraction(v) for v in z.tolist()]
        self.d = [Fraction(hi) - lo for hi, lo in zip(a.tolist(), self.z, strict=True)]

    def _exact(self, i) -> Fraction:
        x = [c[i] for c in self.args]
        v = {"add": lambda: x[0] + x[1], "sub": lambda: x[0] - x[1], "mul": lambda: x[0] * x[1],
             "div": lambda: x[0] / x[1], "fma": lambda: x[0] * x[1] + x[2]}[self.op]()
        return abs(v)

    def floor_scaled(self, k: int) -> tuple[list[int], list[bool]]:
        floors, integral = [], []
        for i in range(len(self.z)):
            z, d = self.z[i], self.d[i]
            scale = Fraction(1 << k) / d  # a power of two; z * scale is an integer
            if self.op == "sqrt":
                q = self.args[0][i] * scale * scale
                root = math.isqrt(math.floor(q))
                floors.append(root - int(z * scale))
                integral.append(root * root == q)
            else:
                y = (self._exact(i) - z) * scale
                floors.append(math.floor(y))
                integral.append(y.denominator == 1)
        return floors, integral


def _away_counts(variant, n_bits, pos):
    """Per element, the set of R in [0, 2**N) that round away (docs/semantics.md table)."""
    scale = 1 << n_bits
    fa_, _ = pos.floor_scaled(n_bits)
    fb, exact_b = pos.floor_scaled(n_bits + 1)
    out = []
    for i in range(len(fa_)):
        if variant == "stochastic_a":
            k = fa_[i]
            away = [k + r >= scale for r in range(scale)]
        elif variant == "stochastic_b":
            away = [fb[i] + 2 * r + 1 >= 2 * scale for r in range(scale)]
        else:
            f = fb[i] // 2
            if fb[i] % 2 == 0:
                k = f
            elif exact_b[i]:  # nu * 2**N = f + 1/2: a tie, to even
                k = f + (f % 2)
            else:
                k = f + 1
            away = [k + r >= scale for r in range(scale)]
        out.append(away)
    return np.array(out, bool)


@functools.cache
def _sr_case(fmt_id: str, op: str):
    """Up to 150 operand tuples with an inexact, in-range result, their neighbours and exact positions."""
    fmt = SR_FORMATS[fmt_id]
    rng = np.random.default_rng(29)
    n = 1500
    vals = _random_values(fmt, 3 * n, rng)
    vals = vals[np.isfinite(vals)]
    if fmt.max > 1e30:  # keep wide formats' operands moderate so that most results are in range
        vals = vals[(np.abs(vals) < 2.0**40) & (np.abs(vals) > 2.0**-40)]
    vals = np.concatenate([vals, rng.choice(_all_values(fmt), n) if fmt.bits <= 8 else vals[:n]])
    vals = vals[np.isfinite(vals)]
    cols = [rng.choice(vals, n) for _ in range(NARGS[op])]
    if op == "sqrt":
        cols = [np.abs(cols[0])]
    oracle = Oracle(fmt, op, cols)
    keep = ~oracle.is_spec & (oracle.z != oracle.a) & (oracle.a <= fmt.max) & (fmt.signed | ~oracle.neg)
    idx = np.flatnonzero(keep)[:150]
    cols = [c[idx] for c in cols]
    z, a, neg = oracle.z[idx], oracle.a[idx], oracle.neg[idx]
    return cols, z, a, neg, ExactPosition(op, cols, z, a)


SR_CASES = [(f, op) for f in SR_FORMATS for op in OPS
            if not (f == "float8_e8m0fnu" and op in ("mul", "div"))]  # powers of two: always exact


@pytest.mark.parametrize("variant", SR_VARIANTS)
@pytest.mark.parametrize(("fmt_id", "op"), SR_CASES, ids=[f"{f}-{op}" for f, op in SR_CASES])
def test_p3109_stochastic_every_random_value(fmt_id, op, variant):
    """Every R in [0, 2**N), N = 1..4: away from zero exactly when the P3109 definition says so."""
    fmt = SR_FORMATS[fmt_id]
    cols, z, a, neg, pos = _sr_case(fmt_id, op)
    assert len(z) >= 40, "too few inexact results to test"
    n = len(z)
    for n_bits in range(1, 5):
        scale = 1 << n_bits
        expected = _away_counts(variant, n_bits, pos)  # (n, 2**N)
        args = [np.repeat(c, scale).astype(np.float32) for c in cols]
        r = np.tile(np.arange(scale, dtype=np.uint64), n)
        got = getattr(fa, op)(*args, fmt, rounding=variant, sr_bits=n_bits, random_bits=r)
        got = np.asarray(got, np.float64).reshape(n, scale)
        hi, lo = np.repeat(a, scale).reshape(n, scale), np.repeat(z, scale).reshape(n, scale)
        sign = np.where(np.repeat(neg, scale).reshape(n, scale), -1.0, 1.0)
        assert np.all((got == sign * hi) | (got == sign * lo)), "a result is not one of the two neighbours"
        away = np.abs(got) == hi
        bad = np.flatnonzero((away != expected).any(axis=1))
        assert bad.size == 0, (f"{variant} N={n_bits}: inputs {[c[bad[0]] for c in cols]} away for R="
                               f"{np.flatnonzero(away[bad[0]]).tolist()}, expected "
                               f"{np.flatnonzero(expected[bad[0]]).tolist()}")
        if variant == "stochastic_a":  # the count of "up" results is floor(nu * 2**N)
            assert away.sum(axis=1).tolist() == pos.floor_scaled(n_bits)[0]


@pytest.mark.parametrize("fmt_id", ["float8_e4m3fn", "float4_e2m1fn", "bfloat16"])
def test_stochastic_64_bit_thresholds(fmt_id):
    """64-bit stochastic: away iff floor(nu * 2**64) + R >= 2**64, checked at R = threshold and one below
    (sums of these formats are exact in float64, so nu has few bits and the kernel resolves it exactly)."""
    cols, z, a, neg, pos = _sr_case(fmt_id, "add")
    fmt = SR_FORMATS[fmt_id]
    k, _ = pos.floor_scaled(64)
    _, resolved = pos.floor_scaled(52 - fmt.precision)  # the kernel sees 52 - p bits of nu exactly
    sel = np.flatnonzero(np.array(resolved) & (np.array(k, dtype=object) > 0))
    assert sel.size >= 30
    cols, z, a = [c[sel] for c in cols], z[sel], a[sel]
    thr = [(1 << 64) - k[i] for i in sel]
    args = [c.astype(np.float32) for c in cols]
    for delta, want_away in ((0, True), (-1, False)):
        r = np.array([t + delta for t in thr], np.uint64)
        got = fa.add(*args, fmt, rounding="stochastic", random_bits=r)
        assert np.all(np.abs(got) == (a if want_away else z)), delta
    got = fa.add(*args, fmt, rounding="stochastic", random_bits=np.zeros(len(z), np.uint64))
    assert np.all(np.abs(got) == z)  # R = 0 never rounds away (nu < 1)


def _nu(x: Fraction, fmt) -> tuple[float, float, float]:
    """(lo, hi, nu) for a positive value x (exact fractions, via MPFR RZ / RA of x)."""
    ctx_z, ctx_a = _mpfr_context(fmt, gmpy2.RoundToZero), _mpfr_context(fmt, gmpy2.RoundAwayZero)
    num, den = gmpy2.mpz(x.numerator), gmpy2.mpz(x.denominator)
    lo, hi = (Fraction(*(int(t) for t in ctx.div(num, den).as_integer_ratio())) for ctx in (ctx_z, ctx_a))
    return float(lo), float(hi), float((x - lo) / (hi - lo))


def test_stochastic_64_reproducible_chunked_unbiased():
    fmt = "bfloat16"
    n = 60_000
    x = np.ones(n, np.float32)
    y = np.full(n, 3 * 2.0**-10, np.float32)  # 1 + 3/8 of an ulp of bfloat16
    r1 = fa.add(x, y, fmt, rounding="stochastic", seed=12)
    assert np.array_equal(r1, fa.add(x, y, fmt, rounding="stochastic", seed=12))
    assert not np.array_equal(r1, fa.add(x, y, fmt, rounding="stochastic", seed=13))
    parts = [fa.add(x[lo:hi], y[lo:hi], fmt, rounding="stochastic", seed=12, index_offset=lo)
             for lo, hi in ((0, 1000), (1000, 33_333), (33_333, n))]
    assert np.array_equal(np.concatenate(parts), r1)
    assert set(np.unique(r1).tolist()) == {1.0, 1.0 + 2.0**-7}
    # unbiased: mean over elements and seeds, within 6 standard deviations of the binomial count
    cases = [("add", (np.float32(1.0), np.float32(3 * 2.0**-10)), Fraction(1) + Fraction(3, 1024)),
             ("div", (np.float32(1.0), np.float32(3.0)), Fraction(1, 3)),
             ("mul", (np.float32(1.0 + 2.0**-7), np.float32(1.0 + 5 * 2.0**-7)),
              (1 + Fraction(1, 128)) * (1 + Fraction(5, 128)))]
    for op, (xs, ys), exact in cases:
        lo, hi, nu = _nu(exact, fs.get_format(fmt))
        total, trials = 0, 0
        for seed in range(8):
            got = getattr(fa, op)(np.full(n // 4, xs), np.full(n // 4, ys), fmt, rounding="stochastic", seed=seed)
            assert np.all((got == lo) | (got == hi))
            total += int(np.count_nonzero(got == hi))
            trials += got.size
        sigma = math.sqrt(trials * nu * (1 - nu))
        assert abs(total - trials * nu) <= 6 * sigma, (op, total, trials * nu, sigma)
    # sqrt(2) in float16 (irrational position): the same bound
    lo, hi = 1.4140625, 1.4150390625
    nu = (math.sqrt(2) - lo) / (hi - lo)
    got = fa.sqrt(np.full(n, 2.0, np.float32), "float16", rounding="stochastic", seed=4)
    assert abs(np.count_nonzero(got == hi) - n * nu) <= 6 * math.sqrt(n * nu * (1 - nu))


def test_stochastic_a_with_few_bits_is_biased_as_defined():
    """StochasticA with N = 2 at nu = 3/8: away with probability floor(3/8 * 4) / 4 = 1/4, not 3/8."""
    n = 80_000
    got = fa.add(np.ones(n, np.float32), np.full(n, 3 * 2.0**-10, np.float32), "bfloat16",
                 rounding="stochastic_a", sr_bits=2, seed=3)
    frac = np.count_nonzero(got > 1) / n
    assert abs(frac - 0.25) <= 6 * math.sqrt(0.25 * 0.75 / n)


# =========================================================================== integer formats
INT_FORMATS = {"int8": (-128, 127, np.int8), "uint8": (0, 255, np.uint8), "int4": (-8, 7, np.int8)}


def _int_project(r: np.ndarray, lo: int, hi: int, overflow: str) -> np.ndarray:
    """Saturate, or keep the low bits (two's complement) of exact integers ``r`` (int64)."""
    if overflow == "saturate":
        return np.clip(r, lo, hi)
    width = hi - lo + 1
    return (r - lo) % width + lo


def _int_quotient(x: np.ndarray, y: np.ndarray, mode: str) -> np.ndarray:
    """``x / y`` (y != 0) rounded to an integer, from the floor quotient and remainder (int64)."""
    q = np.floor_divide(x, y)
    rem = x - q * y  # 0 <= rem / y < 1
    inexact = rem != 0
    twice = 2 * np.abs(rem)
    half_cmp = np.sign(twice - np.abs(y))  # fraction vs 1/2
    up = q + 1
    neg = (x < 0) != (y < 0)  # sign of the exact quotient (when inexact)
    toward_zero = np.where(neg & inexact, up, q)
    away = np.where(~neg & inexact, up, q)
    out = {
        "nearest_even": np.where(half_cmp > 0, up, np.where(half_cmp < 0, q, np.where(q % 2 == 0, q, up))),
        "nearest_away": np.where(half_cmp > 0, up, np.where(half_cmp < 0, q, away)),
        "toward_zero": toward_zero,
        "toward_positive": np.where(inexact, up, q),
        "toward_negative": q,
        "odd": np.where(inexact & (q % 2 == 0), up, q),
    }[mode]
    return np.where(inexact, out, q)


@pytest.mark.parametrize("overflow", ["saturate", "wrap"])
@pytest.mark.parametrize("name", INT_FORMATS)
def test_integer_formats_every_pair(name, overflow):
    lo, hi, dt = INT_FORMATS[name]
    v = np.arange(lo, hi + 1)
    xs, ys = (g.reshape(-1) for g in np.meshgrid(v, v, indexing="ij"))
    xi, yi = xs.astype(dt), ys.astype(dt)
    for op, exact in (("add", xs + ys), ("sub", xs - ys), ("mul", xs * ys)):
        got = getattr(fa, op)(xi, yi, name, overflow=overflow)
        assert got.dtype == dt, (op, got.dtype)
        np.testing.assert_array_equal(got, _int_project(exact, lo, hi, overflow), err_msg=f"{name} {op}")
    nz = ys != 0
    for mode in DETERMINISTIC:
        got = fa.div(xi[nz], yi[nz], name, rounding=mode, overflow=overflow)
        assert got.dtype == dt
        expected = _int_project(_int_quotient(xs[nz], ys[nz], mode), lo, hi, overflow)
        np.testing.assert_array_equal(got, expected, err_msg=f"{name} div {mode}")
    # the same values given as floats: float results
    got = fa.mul(xs.astype(np.float64), ys.astype(np.float64), name, overflow=overflow)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, _int_project(xs * ys, lo, hi, overflow))


def test_integer_division_spot_checks_and_errors():
    assert fa.div(np.int8(-128), np.int8(-1), "int8").item() == 127
    assert fa.div(np.int8(-128), np.int8(-1), "int8", overflow="wrap").item() == -128
    assert fa.div(np.int8(7), np.int8(2), "int8").item() == 4  # 3.5: to even
    assert fa.div(np.int8(5), np.int8(2), "int8").item() == 2  # 2.5: to even
    assert fa.div(np.int8(-7), np.int8(2), "int8", rounding="toward_zero").item() == -3
    assert fa.div(np.int8(-7), np.int8(2), "int8", rounding="toward_negative").item() == -4
    assert fa.sqrt(np.int8(10), "int8").item() == 3
    with pytest.raises(ValueError, match="undefined"):
        fa.div(np.int8([1, 2]), np.int8([1, 0]), "int8")
    with pytest.raises(ValueError, match="undefined"):
        fa.sqrt(np.int8(-4), "int8")
    with pytest.raises(ValueError, match="'ieee' is not available|not available"):
        fa.add(np.int8(1), np.int8(2), "int8", overflow="ieee")
    with pytest.raises(ValueError, match="x holds values"):
        fa.add(np.float64(1.5), np.float64(1.0), "int8")
    with pytest.raises(ValueError, match="y holds values"):
        fa.add(np.int16(1), np.int16(300), "int8")
    assert fa.add(np.float64(1.5), np.float64(1.0), "int8", inputs="round").item() == 3.0  # 2 + 1


@pytest.mark.parametrize("fn", [lambda x, f, **k: fa.add(x, x, f, **k), lambda x, f, **k: fa.neg(x, f, **k)],
                         ids=["add", "neg"])
def test_integer_formats_output_dtype(fn):
    """Integer operands give the format's integer dtype; float operands keep their float dtype (widened until the
    format is exact in it); dtype= overrides both, as for float formats (docs/arithmetic.md)."""
    assert fn(np.int8([3]), "int8").dtype == np.int8
    assert fn(np.float16([3]), "int8").dtype == np.float16
    assert fn(np.float16([3]), "int16").dtype == np.float32   # int16 is not exact in float16
    assert fn(np.float32([3]), "int8").dtype == np.float32
    assert fn(np.int8([3]), "int8", dtype=np.float32).dtype == np.float32
    assert fn(np.float32([3]), "int8", dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="exact"):
        fn(np.float32([3]), "int16", dtype=np.float16)


def test_integer_neg_abs_of_the_most_negative_value():
    assert fa.neg(np.int8([5, -128, 0, 127]), "int8").tolist() == [-5, 127, 0, -127]
    assert fa.neg(np.int8([-128]), "int8", overflow="wrap").tolist() == [-128]
    assert fa.abs(np.int8([-128, -3, 3]), "int8").tolist() == [127, 3, 3]
    assert fa.abs(np.int8([-128]), "int8", overflow="wrap").tolist() == [-128]
    assert fa.neg(np.int8([-8, 7]), "int4").tolist() == [7, -7]
    assert fa.neg(np.int8([-8]), "int4", overflow="wrap").tolist() == [-8]
    assert fa.abs(np.int8([-8]), "int4").tolist() == [7]
    assert fa.neg(np.uint8([0, 5, 255]), "uint8").tolist() == [0, 0, 0]
    assert fa.neg(np.uint8([0, 5, 255]), "uint8", overflow="wrap").tolist() == [0, 251, 1]
    assert fa.neg(np.int8([3]), "int8").dtype == np.int8
    assert fa.neg(np.uint8([3]), "uint8").dtype == np.uint8
    assert fa.neg(np.int8([3]), "int4").dtype == np.int8
    v = np.arange(-128, 128)
    np.testing.assert_array_equal(fa.neg(v.astype(np.int8), "int8"), np.clip(-v, -128, 127))
    np.testing.assert_array_equal(fa.abs(v.astype(np.int8), "int8"), np.clip(np.abs(v), -128, 127))


# =========================================================================== neg / abs / comparisons
NEG_FORMATS = ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float4_e2m1fn", "float6_e3m2fn", "bfloat16",
               "binary8p3se"]


def _codes_values(fmt):
    """The value of every code of ``fmt`` (NaN included), float32."""
    return fs.decode(np.arange(fmt.num_codes), fmt, dtype=np.float32)


@pytest.mark.parametrize("name", NEG_FORMATS)
def test_neg_abs_every_code_vs_numpy(name):
    fmt = fs.get_format(name)
    x = _codes_values(fmt)
    expected_neg, expected_abs = np.negative(x), np.abs(x)
    if not fmt.has_negative_zero:  # no -0: negating +0 gives the only zero
        expected_neg = np.where(expected_neg == 0, np.float32(0), expected_neg)
    assert np.all(same_values(fa.neg(x, fmt), expected_neg))
    assert np.all(same_values(fa.abs(x, fmt), expected_abs))
    assert fa.neg(x, fmt).dtype == np.float32
    assert fa.abs(x.astype(np.float64), fmt).dtype == np.float64
    for ov in POLICIES:  # negation is exact for signed formats, infinities included: no policy applies
        assert np.all(same_values(fa.neg(x, fmt, overflow=ov), expected_neg)), ov
        assert np.all(same_values(fa.abs(x, fmt, overflow=ov), expected_abs)), ov


def test_neg_in_unsigned_float_formats():
    fmt = SMALL["u_e4m3_fn"]
    x = np.float32([0.0, 1.0, 448.0])
    assert same_values(fa.neg(x, fmt), [0.0, np.nan, np.nan]).all()  # negative R: NaN under ieee
    assert same_values(fa.neg(x, fmt, overflow="saturate"), [0.0, 0.0, 0.0]).all()
    assert fa.abs(x, fmt).tolist() == [0.0, 1.0, 448.0]
    e8 = "float8_e8m0fnu"
    assert np.isnan(fa.neg(np.float32(1.0), e8))
    assert fa.neg(np.float32(1.0), e8, overflow="saturate") == 2.0**-127  # M_lo: its smallest value


COMPARISONS = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
               "ge": np.greater_equal}


@pytest.mark.parametrize("name", ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float4_e2m1fn",
                                  "float8_e8m0fnu"])
def test_comparisons_every_pair_vs_numpy(name):
    fmt = fs.get_format(name)
    v = _codes_values(fmt)  # NaN and -0 included
    xs, ys = (g.reshape(-1) for g in np.meshgrid(v, v, indexing="ij"))
    for verb, ref_fn in COMPARISONS.items():
        got = getattr(fa, verb)(xs, ys, fmt)
        assert got.dtype == np.bool_
        with np.errstate(invalid="ignore"):
            np.testing.assert_array_equal(got, ref_fn(xs, ys), err_msg=f"{name} {verb}")
    assert fa.eq(np.float32(-0.0), np.float32(0.0), "float16") is np.True_
    assert fa.lt(np.float32(np.nan), np.float32(1.0), "float16") is np.False_
    assert fa.ne(np.float32(np.nan), np.float32(np.nan), "float16") is np.True_


# =========================================================================== inputs, dtypes, errors
@pytest.mark.parametrize("verb", ["add", "sub", "mul", "div", "fma", "sqrt", "neg", "abs", "eq", "lt"])
def test_inputs_check_names_the_argument_and_value(verb):
    fn = getattr(fa, verb)
    nargs = {"fma": 3, "sqrt": 1, "neg": 1, "abs": 1}.get(verb, 2)
    good = np.array([1.0, 2.0, 3.0])
    for k, name in enumerate("xyz"[:nargs]):
        args = [good] * nargs
        args[k] = np.array([1.0, 1.1, 0.3])  # 1.1 is not a value of e4m3fn; 0.3 neither
        with pytest.raises(ValueError, match=rf"^{name} holds values that are not values of float8_e4m3fn: "
                                             r"the first is 1\.1 at flat index 1"):
            fn(*args, "float8_e4m3fn")


def test_inputs_round_rounds_first():
    # 1.1 -> 1.125 (e4m3fn spacing 1/8 in [1, 2)); 1.125 + 1.125 = 2.25, a value of the format
    assert fa.add(1.1, 1.1, "float8_e4m3fn", inputs="round") == 2.25
    assert fa.mul(1.1, 3.3, "float8_e4m3fn", inputs="round") == 3.75  # 1.125 * 3.25 = 3.65625 -> 3.75
    assert fa.sqrt(np.float64(3.9), "float4_e2m1fn", inputs="round") == 2.0  # 3.9 -> 4, sqrt = 2
    assert fa.neg(1.1, "float8_e4m3fn", inputs="round") == -1.125
    assert fa.lt(1.1, 1.12, "float8_e4m3fn", inputs="round") is np.False_  # both 1.125
    assert fa.eq(1.1, 1.12, "float8_e4m3fn", inputs="round") is np.True_
    # an input above max rounds under the call's overflow policy
    assert np.isnan(fa.add(1000.0, 1.0, "float8_e4m3fn", inputs="round"))
    assert fa.add(1000.0, -448.0, "float8_e4m3fn", inputs="round", overflow="saturate") == 0.0
    with pytest.raises(ValueError, match="inputs="):
        fa.add(1.0, 1.0, "float16", inputs="clip")


def test_scalars_dtypes_out_and_broadcasting():
    r = fa.add(1.0, 2.0, "float16")
    assert isinstance(r, np.float64) and r == 3.0  # Python floats: float64, a NumPy scalar
    r = fa.add(np.float32(1.0), np.float32(2.0), "float16")
    assert isinstance(r, np.float32)
    r = fa.add(np.float16([1.0]), np.float16([2.0**-11]), "float16")
    assert r.dtype == np.float16 and r[0] == 1.0  # a tie: to even
    assert fa.add(np.float16([1.0]), np.float16([1.0]), "bfloat16").dtype == np.float32  # widened
    assert fa.add(np.float32([1.0]), np.float32([1.0]), WIDE["e5m26_p27"]).dtype == np.float64
    assert fa.add(np.int32([1]), np.int32([2]), "float16").dtype == np.float64
    assert fa.add(np.float32([1.0]), np.float32([2.0]), "float8_e4m3fn", dtype=np.float16).dtype == np.float16
    assert fa.add(np.float32([1.0]), np.float32([2.0]), "float8_e4m3fn", dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="not every value"):
        fa.add(np.float32([1.0]), np.float32([2.0]), "bfloat16", dtype=np.float16)
    with pytest.raises(TypeError):
        fa.add(np.float32([1.0]), np.float32([2.0]), "bfloat16", dtype=np.int32)
    # out
    out = np.empty(3, np.float32)
    res = fa.mul(np.float32([1, 2, 3]), np.float32(3), "float8_e4m3fn", out=out)
    assert res is out and out.tolist() == [3.0, 6.0, 9.0]
    with pytest.raises(ValueError, match="shape"):
        fa.mul(np.float32([1, 2, 3]), np.float32(3), "float8_e4m3fn", out=np.empty(2, np.float32))
    with pytest.raises(ValueError, match="dtype"):
        fa.mul(np.float32([1, 2, 3]), np.float32(3), "float8_e4m3fn", out=np.empty(3, np.float64))
    # broadcasting, including fma's three operands, against the explicitly broadcast operands
    x = np.float32([[1.0], [2.0], [3.0]])
    y = np.float32([0.5, 1.0, 1.5, 2.0])
    got = fa.mul(x, y, "float4_e2m1fn", rounding="toward_zero")
    assert got.shape == (3, 4)
    xb, yb = np.broadcast_arrays(x, y)
    flat = fa.mul(xb.reshape(-1), yb.reshape(-1), "float4_e2m1fn", rounding="toward_zero")
    np.testing.assert_array_equal(got.reshape(-1), flat)
    assert got.tolist()[2] == [1.5, 3.0, 4.0, 6.0]  # 3 * y = 1.5, 3, 4.5, 6
    assert fa.fma(x, y, np.float32(1.0), "float16").shape == (3, 4)
    with pytest.raises(ValueError, match="do not broadcast"):
        fa.add(np.float32([1, 2]), np.float32([1, 2, 3]), "float16")
    # ml_dtypes operands widen exactly
    import ml_dtypes

    assert fa.add(np.array([1.5], ml_dtypes.bfloat16), np.array([2.0], ml_dtypes.bfloat16), "bfloat16")[0] == 3.5


def test_error_paths():
    one = np.float32(1.0)
    with pytest.raises(ValueError, match="rounding"):
        fa.add(one, one, "float16", rounding="nearest_banana")
    with pytest.raises(ValueError, match="overflow"):
        fa.add(one, one, "float16", overflow="explode")
    with pytest.raises(ValueError, match="wrap"):
        fa.add(one, one, "float16", overflow="wrap")
    with pytest.raises(TypeError, match="fmt is required"):
        fa.add(one, one)
    with pytest.raises(TypeError, match="fmt is required"):
        fa.neg(one)
    with pytest.raises(TypeError, match="fmt is required"):
        fa.eq(one, one)
    with pytest.raises(ValueError, match="sr_bits applies to stochastic rounding only"):
        fa.add(one, one, "float16", sr_bits=3)
    with pytest.raises(ValueError, match="needs sr_bits"):
        fa.add(one, one, "float16", rounding="stochastic_a")
    with pytest.raises(ValueError, match="sr_bits"):
        fa.add(one, one, "float16", rounding="stochastic_b", sr_bits=0)
    with pytest.raises(ValueError, match="stochastic rounding only"):
        fa.add(one, one, "float16", seed=3)
    with pytest.raises(ValueError, match="either seed or random_bits"):
        fa.add(one, one, "float16", rounding="stochastic", seed=1, random_bits=np.uint64(5))
    with pytest.raises(ValueError, match="random_bits must be < 2"):
        fa.add(np.float32([1]), np.float32([1]), "float16", rounding="stochastic_a", sr_bits=2,
               random_bits=np.uint64([4]))
    with pytest.raises(ValueError, match="no NaN"):
        fa.div(np.float32([1.0, 0.0]), np.float32([2.0, 0.0]), "float6_e2m3fn")
    with pytest.raises(ValueError, match="no NaN"):
        fa.sqrt(np.float32(-4.0), "float4_e2m1fn")
    with pytest.raises(ValueError, match="unknown format"):
        fa.add(one, one, "float17")
    with pytest.raises(TypeError):
        fa.add(np.array(["a"]), one, "float16")


# =========================================================================== context()
THIRD = {"float16": 0.333251953125, "bfloat16": 0.333984375, "bfloat16_rz": 0.33203125,
         "float8_e4m3fn": 0.34375, "float16_rp": 0.33349609375}  # 1/3 rounded (nearest unless noted)


def test_context_defaults_and_explicit_arguments():
    one, three = np.float32(1), np.float32(3)
    with fa.context(fmt="bfloat16", rounding="toward_zero"):
        assert fa.div(one, three) == THIRD["bfloat16_rz"]
        assert fa.div(one, three, "float16", rounding="nearest_even") == THIRD["float16"]  # explicit wins
        assert fa.div(one, three, rounding="nearest_even") == THIRD["bfloat16"]
        assert fa.neg(np.float32(1.5)) == -1.5
        assert fa.lt(one, three) is np.True_
    with pytest.raises(TypeError, match="fmt is required"):
        fa.div(one, three)  # the defaults end with the block
    with fa.context(fmt="float8_e4m3fn", overflow="saturate", inputs="round"):
        assert fa.add(np.float32(1000), np.float32(1)) == 448.0  # inputs rounded, result saturated
        assert np.isnan(fa.add(np.float32(400), np.float32(100), overflow="ieee"))
        with pytest.raises(ValueError, match="x holds values"):
            fa.add(np.float32(1.1), np.float32(1), inputs="check")
    with fa.context(fmt="bfloat16", rounding="stochastic_a", sr_bits=1):
        # N = 1, R = 1: away iff floor(2 nu) >= 1, i.e. nu >= 1/2 (1/3 in bfloat16: nu > 1/2)
        r = fa.div(np.float32([1]), np.float32([3]), random_bits=np.uint64([1]))
        assert r[0] == THIRD["bfloat16"]


def test_context_nesting():
    one, three = np.float32(1), np.float32(3)
    with fa.context(fmt="bfloat16"):
        with fa.context(rounding="toward_positive"):
            assert fa.div(one, three) == THIRD["bfloat16"]  # nearest is also up here
            with fa.context(fmt="float16"):
                assert fa.div(one, three) == THIRD["float16_rp"]
            assert fa.div(-one, three) == -THIRD["bfloat16_rz"]
        assert fa.div(-one, three) == -THIRD["bfloat16"]  # inner rounding gone
        with fa.context(fmt="float8_e4m3fn"):
            assert fa.div(one, three) == THIRD["float8_e4m3fn"]
        assert fa.div(one, three) == THIRD["bfloat16"]


def test_context_unknown_setting():
    with pytest.raises(TypeError, match="unknown setting"):
        with fa.context(fmt="float16", round="toward_zero"):
            pass
    with pytest.raises(TypeError, match="unknown setting"):
        with fa.context(format="float16"):
            pass


def test_seeded_context_streams():
    x = np.ones(4000, np.float32)
    y = np.full(4000, 2.0**-9, np.float32)  # nu = 1/2 in bfloat16

    def two_calls(**kw):
        with fa.context(fmt="bfloat16", rounding="stochastic", **kw):
            return fa.add(x, y), fa.add(x, y)

    a1, a2 = two_calls(seed=21)
    b1, b2 = two_calls(seed=21)
    assert np.array_equal(a1, b1) and np.array_equal(a2, b2)  # reproducible
    assert not np.array_equal(a1, a2)  # successive calls: distinct streams
    c1, _ = two_calls(seed=22)
    assert not np.array_equal(a1, c1)
    d1, d2 = two_calls()  # no seed: fresh seeds
    assert not np.array_equal(d1, d2)
    with fa.context(seed=21):
        explicit = fa.add(x, y, "bfloat16", rounding="stochastic", seed=5)  # an explicit seed wins
    assert np.array_equal(explicit, fa.add(x, y, "bfloat16", rounding="stochastic", seed=5))
    with fa.context(seed=21, fmt="bfloat16", rounding="stochastic"):
        e1 = fa.add(x, y)
        with fa.context(seed=None):
            fa.add(x, y)  # unseeded inside: does not advance the outer stream
        e2 = fa.add(x, y)
    assert np.array_equal(e1, a1) and np.array_equal(e2, a2)
    for values in (a1, a2, d1):
        assert set(np.unique(values).tolist()) == {1.0, 1.0 + 2.0**-7}


def test_context_is_per_thread():
    barrier = threading.Barrier(2, timeout=60)
    results, errors = {}, []

    def worker(name):
        try:
            with fa.context(fmt=name):
                barrier.wait()  # both threads are inside their own context now
                for _ in range(20):
                    results.setdefault(name, set()).add(float(fa.div(np.float32(1), np.float32(3))))
                barrier.wait()  # neither has left its block while the other computed
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("float16", "bfloat16")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert results == {"float16": {THIRD["float16"]}, "bfloat16": {THIRD["bfloat16"]}}

    seen = []

    def child():
        try:
            fa.div(np.float32(1), np.float32(3))
            seen.append("context leaked")
        except TypeError:
            seen.append("no fmt")

    with fa.context(fmt="float16"):
        t = threading.Thread(target=child)
        t.start()
        t.join()
        assert fa.div(np.float32(1), np.float32(3)) == THIRD["float16"]
    assert seen == ["no fmt"]
