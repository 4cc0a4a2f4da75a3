"""Stochastic rounding: exact counts over every random value, unbiasedness, reproducibility.

The expected counts come from exact fractions of the decoded neighbours
(:func:`floatsim.reference.decode`), never from floatsim's kernels: with N random bits
each P3109 variant reduces ``y = nu * 2**N`` to an integer ``k`` and rounds away for
exactly ``k`` of the ``2**N`` values of ``R`` (the largest ones):

* StochasticA: ``k = floor(y)``; StochasticB: ``k = floor(y + 1/2)``; StochasticC: ``k = RNITE(y)``.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numba
import numpy as np
import pytest

import floatsim as fs
from floatsim import reference as ref
from floatsim.format import FloatFormat, IntFormat

HALF = Fraction(1, 2)

from kernel_paths import PATHS, kernel_path  # noqa: E402


def _rnite(y: Fraction) -> int:
    f = math.floor(y)
    return f + 1 if y - f > HALF or (y - f == HALF and f % 2 == 1) else f


K_OF = {
    "stochastic_a": lambda y: math.floor(y),
    "stochastic_b": lambda y: math.floor(y + HALF),
    "stochastic_c": _rnite,
}


def _value(code, fmt) -> Fraction:
    return Fraction(ref.decode(code, fmt))


def _cases(fmt):
    """(label, lo_code, lo, hi) for neighbour pairs: normal, subnormal, the smallest, around 1, max."""
    out = []
    if isinstance(fmt, IntFormat):
        return [("int-3", None, Fraction(3), Fraction(4)), ("int-0", None, Fraction(0), Fraction(1))]
    one = fs.encode(np.float64(1.0), fmt).item()
    out.append(("at-1", one, _value(one, fmt), _value(one + 1, fmt)))
    out.append(("mid", fmt.max_code // 2, _value(fmt.max_code // 2, fmt), _value(fmt.max_code // 2 + 1, fmt)))
    if fmt.subnormals and fmt.mantissa_bits > 1:
        out.append(("subnormal", 1, _value(1, fmt), _value(2, fmt)))
    if fmt.has_zero:  # between 0 and the smallest positive value (2**emin without subnormals)
        out.append(("zero", 0, Fraction(0), Fraction(fmt.smallest_subnormal)))
    if fmt.has_inf or fmt.has_nan:
        # max and the next value of the grid unbounded above: an overflow (inf or NaN under 'ieee')
        mx = _value(fmt.max_code, fmt)
        e = math.floor(math.log2(mx))
        out.append(("max", fmt.max_code, mx, mx + Fraction(2) ** (e - fmt.mantissa_bits)))
    return out


def _overflow(fmt, label):
    if isinstance(fmt, IntFormat):
        return None
    return "ieee" if label == "max" else "saturate"


def _nus(n_bits):
    """nu values: exact multiples k/2**N, halfway between them (RNITE ties), the 1/2 tie, others
    (all dyadic, so that lo + nu * (hi - lo) is exact in float64)."""
    scale = 1 << n_bits
    nus = {Fraction(k, scale) for k in range(1, scale)}
    nus |= {Fraction(2 * k + 1, 2 * scale) for k in range(scale)}
    nus |= {HALF, Fraction(11, 128), Fraction(101, 128), Fraction(1, 1 << 12), 1 - Fraction(1, 1 << 12)}
    return sorted(nus)


STOCH_FORMATS = [
    fs.get_format(n) for n in ["float8_e4m3fn", "float8_e5m2", "bfloat16", "float4_e2m1fn", "binary8p1uf",
                               "float8_e8m0fnu", "binary8p3se", "int4"]
] + [FloatFormat(exponent_bits=3, mantissa_bits=4, subnormals=False, name="e3m4_nosub")]


@pytest.mark.parametrize("mode", ["stochastic_a", "stochastic_b", "stochastic_c"])
@pytest.mark.parametrize("n_bits", [1, 2, 3, 4])
@pytest.mark.parametrize("fmt", STOCH_FORMATS, ids=str)
def test_exact_count_over_every_random_value(fmt, n_bits, mode):
    scale = 1 << n_bits
    groups = []  # (label, nu, sign, lo, hi, k): one group of 2**N elements each, R = 0 .. 2**N - 1
    for label, _, lo, hi in _cases(fmt):
        for nu in _nus(n_bits):
            x = lo + nu * (hi - lo)
            assert Fraction(float(x)) == x  # exact in float64 for these formats
            for sign in (1, -1) if (isinstance(fmt, IntFormat) or fmt.signed) else (1,):
                groups.append((label, nu, sign, lo, hi, K_OF[mode](nu * scale)))
    r = np.tile(np.arange(scale, dtype=np.uint64), len(groups))
    xs = np.repeat([g[2] * float(g[3] + g[1] * (g[4] - g[3])) for g in groups], scale)
    xg = xs.reshape(len(groups), scale)[:, 0]
    with np.errstate(over="ignore"):
        exact32 = xg.astype(np.float32).astype(np.float64) == xg  # float32 inputs take the table path
    checked = 0
    for path in PATHS:
        for dtype in (np.float64, np.float32):
            for label in {g[0] for g in groups}:
                sel = np.array([g[0] == label for g in groups]) & (exact32 if dtype == np.float32 else True)
                if not sel.any():
                    continue
                with kernel_path(path):
                    got = fs.cast(np.repeat(xg[sel], scale).astype(dtype), fmt, rounding=mode, sr_bits=n_bits,
                                  random_bits=np.tile(r[:scale], sel.sum()), overflow=_overflow(fmt, label),
                                  dtype=np.float64).reshape(-1, scale)
                for row, i in zip(got, np.flatnonzero(sel), strict=True):
                    _, nu, sign, lo, hi, k = groups[i]
                    away = row != sign * float(lo)
                    # exactly k of the 2**N random values round away, and they are the largest R
                    where = f"{label} nu={nu} sign={sign} ({path} path, {np.dtype(dtype).name})"
                    assert away.sum() == k, f"{where}: {away.sum()} away, expected {k}"
                    assert np.array_equal(away, np.arange(scale) >= scale - k), where
                    if label != "max":  # (beyond max: inf or NaN under 'ieee')
                        assert np.all(row[away] == sign * float(hi)), where
                    checked += 1
    assert checked >= 2 * len(groups)
    assert len(groups) >= 10


@pytest.mark.parametrize("fmt", ["float8_e4m3fn", "bfloat16", "binary8p1uf", "int4"])
def test_stochastic_64_bit_threshold(fmt):
    """'stochastic' rounds away exactly when R >= 2**64 - floor(nu * 2**64) (checked at the threshold)."""
    fmt = fs.get_format(fmt)
    for label, _, lo, hi in _cases(fmt):
        for nu in (Fraction(11, 128), HALF, Fraction(1, 1 << 20), 1 - Fraction(1, 1 << 30)):
            x = lo + nu * (hi - lo)
            assert Fraction(float(x)) == x
            k = math.floor(nu * 2**64)
            bits = np.array([0, 2**64 - k - 1, 2**64 - k, 2**64 - 1], dtype=np.uint64)
            got = fs.cast(np.full(4, float(x)), fmt, rounding="stochastic", random_bits=bits,
                          overflow=_overflow(fmt, label), dtype=np.float64)
            assert got[0] == float(lo) and got[1] == float(lo), label
            assert got[2] != float(lo) and got[3] != float(lo), label


UNBIASED = [
    ("float8_e4m3fn", 1.0 + 0.3 * 0.125),
    ("float8_e4m3fn", -3.7),
    ("float8_e4m3fn", 0.7 * 2.0**-9),  # below the smallest subnormal
    ("bfloat16", math.pi),
    ("float4_e2m1fn", 2.2),
    ("float8_e8m0fnu", 3.0),  # P = 1: between 2 and 4
    ("int8", -17.35),
]


@pytest.mark.parametrize("name,x", UNBIASED, ids=[f"{n}-{x:.4g}" for n, x in UNBIASED])
def test_stochastic_is_unbiased(name, x):
    n = 1_000_000
    xs = np.full(n, x)
    got = fs.cast(xs, name, rounding="stochastic", seed=12345)
    lo_hi = np.unique(got)
    assert lo_hi.size == 2 and lo_hi[0] < x < lo_hi[1]
    lo, hi = lo_hi
    nu = (x - lo) / (hi - lo)
    sigma = (hi - lo) * math.sqrt(nu * (1 - nu) / n)
    assert abs(got.mean() - x) < 6 * sigma, (got.mean(), x, sigma)


def test_seed_reproducible_and_distinct():
    x = np.full(10_000, 1.0 + 0.0625)  # a tie in float8_e4m3fn: each seed flips ~half the elements
    a = fs.encode(x, "float8_e4m3fn", rounding="stochastic", seed=7)
    b = fs.encode(x, "float8_e4m3fn", rounding="stochastic", seed=7)
    c = fs.encode(x, "float8_e4m3fn", rounding="stochastic", seed=8)
    assert np.array_equal(a, b)
    assert 0.4 < np.mean(a != c) < 0.6
    assert np.array_equal(fs.random_bits(100, seed=3), fs.random_bits(100, seed=3))
    assert not np.array_equal(fs.random_bits(100, seed=3), fs.random_bits(100, seed=4))
    for mode in ("stochastic_a", "stochastic_b", "stochastic_c"):
        p = fs.encode(x, "float8_e4m3fn", rounding=mode, sr_bits=5, seed=11)
        q = fs.encode(x, "float8_e4m3fn", rounding=mode, sr_bits=5, seed=11)
        assert np.array_equal(p, q)


def test_unseeded_calls_differ():
    x = np.full(10_000, 1.0 + 0.0625)
    a = fs.encode(x, "float8_e4m3fn", rounding="stochastic")
    b = fs.encode(x, "float8_e4m3fn", rounding="stochastic")
    assert not np.array_equal(a, b)


def test_thread_count_invariance():
    n = 1 << 18  # large enough for the parallel loops to split the work
    x = np.random.default_rng(0).standard_normal(n).astype(np.float32) * 10
    saved = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = fs.encode(x, "float8_e4m3fn", rounding="stochastic", seed=99)
        one_c = fs.encode(x, "bfloat16", rounding="stochastic_c", sr_bits=7, seed=99)
        one_bits = fs.random_bits(n, seed=99)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = fs.encode(x, "float8_e4m3fn", rounding="stochastic", seed=99)
        two_c = fs.encode(x, "bfloat16", rounding="stochastic_c", sr_bits=7, seed=99)
        two_bits = fs.random_bits(n, seed=99)
    finally:
        numba.set_num_threads(saved)
    assert np.array_equal(one, two)
    assert np.array_equal(one_c, two_c)
    assert np.array_equal(one_bits, two_bits)


@pytest.mark.parametrize("mode,kw", [("stochastic", {}), ("stochastic_b", {"sr_bits": 4})])
def test_chunk_invariance(mode, kw):
    x = np.random.default_rng(1).standard_normal(10_001) * 3
    whole = fs.cast(x, "float8_e5m2", rounding=mode, seed=5, **kw)
    bounds = [0, 1, 999, 4096, 7777, x.size]
    parts = [fs.cast(x[a:b], "float8_e5m2", rounding=mode, seed=5, index_offset=a, **kw)
             for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    assert np.array_equal(whole, np.concatenate(parts))
    bits = fs.random_bits(x.size, seed=5)
    assert np.array_equal(bits[4096:7777], fs.random_bits(7777 - 4096, seed=5, index_offset=4096))
    # without the offset, a chunk gets other bits
    assert not np.array_equal(whole[4096:7777], fs.cast(x[4096:7777], "float8_e5m2", rounding=mode, seed=5, **kw))


def test_random_bits_are_the_bits_used():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 33)) * 100  # 2-D: element i in C order gets index i
    bits = fs.random_bits(x.shape, seed=21)
    assert bits.shape == x.shape and bits.dtype == np.uint64
    assert np.array_equal(bits.reshape(-1), fs.random_bits(x.size, seed=21))
    seeded = fs.cast(x, "float8_e4m3fn", rounding="stochastic", seed=21)
    explicit = fs.cast(x, "float8_e4m3fn", rounding="stochastic", random_bits=bits)
    assert np.array_equal(seeded, explicit)
    for n_bits in (1, 3, 13):
        for mode in ("stochastic_a", "stochastic_b", "stochastic_c"):
            seeded = fs.encode(x, "bfloat16", rounding=mode, sr_bits=n_bits, seed=21)
            top = bits >> np.uint64(64 - n_bits)  # the top N bits
            explicit = fs.encode(x, "bfloat16", rounding=mode, sr_bits=n_bits, random_bits=top)
            assert np.array_equal(seeded, explicit), (mode, n_bits)
    # non-contiguous x: bits follow the logical C order of x, not memory order
    xt = x.T
    assert np.array_equal(
        fs.cast(xt, "float8_e4m3fn", rounding="stochastic", seed=21),
        fs.cast(np.ascontiguousarray(xt), "float8_e4m3fn", rounding="stochastic", seed=21),
    )


def test_random_bits_look_uniform():
    bits = fs.random_bits(200_000, seed=0)
    top = (bits >> np.uint64(60)).astype(np.int64)  # 16 buckets
    counts = np.bincount(top, minlength=16)
    expected = bits.size / 16
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 60  # 15 degrees of freedom; p ~ 1e-7
    low = (bits & np.uint64(1)).astype(np.int64)
    assert abs(low.mean() - 0.5) < 6 * 0.5 / math.sqrt(bits.size)


def test_scalar_input():
    got = fs.cast(1.0 + 0.3 * 0.125, "float8_e4m3fn", rounding="stochastic", seed=1)
    assert np.ndim(got) == 0 and float(got) in (1.0, 1.125)
    # 1.1 lies at nu = 0.8 between 1.0 (0x38) and 1.125 (0x39): floor(0.8 * 4) + R >= 4 for R >= 1
    code = fs.encode(1.1, "float8_e4m3fn", rounding="stochastic_a", sr_bits=2, random_bits=np.uint64(1))
    assert np.ndim(code) == 0 and int(code) == 0x39
    code = fs.encode(1.1, "float8_e4m3fn", rounding="stochastic_a", sr_bits=2, random_bits=np.uint64(0))
    assert int(code) == 0x38
