"""Calibration methods: hand-built histograms with known answers, brute force, ACIQ table, error paths."""

import math
from fractions import Fraction

import numpy as np
import pytest

from floatsim.quant.calibration import (
    MeanMax,
    MovingAverageMax,
    abs_histogram,
    aciq_alpha,
    aciq_amax,
    amax_max,
    entropy_amax,
    minmax,
    mse_amax,
    percentile_amax,
)

# ------------------------------------------------------------------------------------------- max / min-max


def test_amax_and_minmax_granularity():
    x = np.float32([[1.0, -4.0, 2.0, 0.5, -0.25], [3.0, 0.0, -7.0, 1.0, 2.0]])
    assert amax_max(x).tolist() == 7.0 and amax_max(x).dtype == np.float32
    assert amax_max(x, "channel").tolist() == [[4.0], [7.0]]
    assert amax_max(x, "group:2").tolist() == [[4.0, 2.0, 0.25], [3.0, 7.0, 2.0]]   # partial last group
    assert amax_max(x, "flat:4").tolist() == [4.0, 7.0, 2.0]
    lo, hi = minmax(x, "channel:1")
    assert lo.tolist() == [[1.0, -4.0, -7.0, 0.5, -0.25]] and hi.tolist() == [[3.0, 0.0, 2.0, 1.0, 2.0]]
    assert amax_max(np.float16([-2.5])).dtype == np.float16
    assert amax_max([1, -3]).tolist() == 3.0


def test_moving_average_and_mean_max():
    ema = MovingAverageMax(averaging_constant=0.25, granularity="channel")
    assert ema.amax is None
    for batch in ([[1.0], [-8.0]], [[5.0], [0.0]], [[-1.0], [4.0]]):
        b = np.float32(batch)
        assert ema.update(b) is b
    # ch0: 1 -> 1 + (5 - 1) / 4 = 2 -> 2 + (1 - 2) / 4 = 1.75; ch1: 8 -> 6 -> 5.5
    assert ema.amax.tolist() == [[1.75], [5.5]] and ema.num_batches == 3
    m = MeanMax()
    for batch in ([1.0, -2.0], [4.0], [0.5]):
        m.update(np.float32(batch))
    assert m.amax.tolist() == (2 + 4 + 0.5) / 3
    m.reset()
    assert m.amax is None and m.num_batches == 0
    with pytest.raises(ValueError, match="shape"):
        ema.update(np.float32([[1.0], [2.0], [3.0]]))
    with pytest.raises(ValueError, match="averaging_constant"):
        MovingAverageMax(averaging_constant=0)
    c1 = MovingAverageMax(averaging_constant=1.0)
    c1.update(np.float32([9.0]))
    c1.update(np.float32([2.0]))
    assert c1.amax.tolist() == 2.0   # c = 1: the last batch only


# ------------------------------------------------------------------------------------------ percentile


def test_abs_histogram():
    x = np.float64([0.0, -1.0, 1.0, 2.5, -4.0, 4.0])
    hist, edges = abs_histogram(x, bins=4)
    assert hist.tolist() == [1, 2, 1, 2] and edges.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]   # last bin closed
    hist, edges = abs_histogram(np.zeros(5), bins=3)
    assert hist.tolist() == [5, 0, 0] and edges.tolist() == [0.0] * 4


def test_percentile_uniform_counts_exact_edges():
    hist, edges = np.ones(8), np.arange(9.0) * 0.5          # cdf = k / 8 exactly
    for p, want in [(12.5, 0.0), (25.0, 0.5), (25.0001, 1.0), (50.0, 1.5), (100.0, 3.5), (0.0, 0.0)]:
        assert percentile_amax(histogram=(hist, edges), percentile=p) == want
    # pytorch-quantization takes the lower edge of the bin where the cdf reaches p: 99 % -> bin 7 -> 3.5


def test_percentile_close_to_numpy_percentile():
    x = np.random.default_rng(5).standard_normal(20000).astype(np.float32)
    a = np.abs(x.astype(np.float64))
    ranked = np.sort(a)
    width = a.max() / 2048
    for p in (90.0, 99.0, 99.9):
        got = percentile_amax(x, p, bins=2048)
        kth = ranked[math.ceil(p / 100 * a.size) - 1]   # the order statistic that completes p %
        # amax is the lower edge of the bin holding it (one bin later when the float cdf falls just short)
        assert got - width <= kth < got + width


# ------------------------------------------------------------------------------------------------ MSE


def _round_half_even(fr: Fraction) -> int:
    f = math.floor(fr)
    d = fr - f
    return f + (1 if d > Fraction(1, 2) or (d == Fraction(1, 2) and f % 2) else 0)


def _exact_mses(counts, bits, start_bin):
    """Exact MSE per candidate (Fractions), bins [k, k+1) so centres are k + 1/2."""
    qmax = 2 ** (bits - 1) - 1
    centers = [Fraction(2 * k + 1, 2) for k in range(len(counts))]
    out = []
    for i in range(start_bin, len(counts)):
        amax = centers[i]
        mult = Fraction(qmax) / amax
        err = Fraction(0)
        for c, n in zip(centers, counts, strict=True):
            q = max(-qmax, min(qmax, _round_half_even(c * mult)))
            err += (q / mult - c) ** 2 * n
        out.append(err / len(counts))
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("bits", [3, 4])
def test_mse_matches_exact_brute_force(seed, bits):
    rng = np.random.default_rng(seed)
    n = 24
    counts = np.floor(1000 * np.exp(-np.arange(n) / rng.uniform(1, 6))).astype(int)
    counts[rng.integers(n // 2, n, size=2)] += rng.integers(1, 5, size=2)   # a few outliers
    start = 4
    got = mse_amax(histogram=(counts, np.arange(n + 1.0)), bits=bits, start_bin=start)
    exact = _exact_mses(counts.tolist(), bits, start)
    best = min(exact)
    i = int(got - 0.5) - start
    assert got == i + start + 0.5 and exact[i] == best
    assert i == exact.index(best)   # first occurrence


def test_mse_outlier_vs_uniform():
    hist = np.zeros(256)
    hist[:64] = 1000
    hist[255] = 1
    got = mse_amax(histogram=(hist, np.arange(257.0)), bits=4, start_bin=0)
    assert got < 100      # 4 bits: clipping the single outlier wins
    assert 64 < mse_amax(histogram=(hist, np.arange(257.0)), bits=8, start_bin=0) < 255   # 8 bits: a compromise
    flat = mse_amax(histogram=(np.full(256, 10.0), np.arange(257.0)), bits=8, start_bin=0)
    assert flat >= 250.5  # uniform: (almost) the widest range
    x = np.random.default_rng(0).standard_normal(5000)
    assert 0 < mse_amax(x) <= np.abs(x).max()
    assert mse_amax(histogram=(np.ones(4), np.zeros(5)), start_bin=0) == 0.0   # amax = 0 -> fq = 0


# -------------------------------------------------------------------------------------------- entropy


def _brute_entropy(hist, bits, start, variant):
    """Plain-loop implementation of the written definition (levels found by exact comparisons)."""
    h = [float(v) for v in hist]
    if variant == "pytorch_quantization":
        h[0] = h[1]
    n = len(h)
    nlev = 2 ** (bits - 1)
    divs = []
    for i in range(start, n + 1):
        p = h[:i]
        p[-1] += sum(h[i:])
        # level of source bin j: the k with k * i / nlev <= j < (k + 1) * i / nlev
        level = []
        for j in range(i):
            k = 0
            while Fraction((k + 1) * i, nlev) <= j:
                k += 1
            level.append(k)
        q = [0.0] * i
        for k in range(nlev):
            members = [j for j in range(i) if level[j] == k]
            nonempty = [j for j in members if h[j] > 0]
            total = sum(h[j] for j in members)
            for j in nonempty:
                q[j] = total / len(nonempty)
        sp, sq = sum(p), sum(q)
        d = 0.0
        for pj, qj in zip(p, q, strict=True):
            if pj > 0:
                if qj == 0:
                    d = math.inf
                    break
                d += (pj / sp) * math.log((pj / sp) / (qj / sq))
        divs.append(d)
    best = min(divs)
    if variant == "reference":
        m = start + divs.index(best)
        return m + 0.5, divs
    m = start + len(divs) - 1 - divs[::-1].index(best)
    return float(m), divs


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("variant", ["reference", "pytorch_quantization"])
def test_entropy_matches_brute_force(seed, variant):
    rng = np.random.default_rng(seed)
    n = 20
    hist = np.floor(500 * np.exp(-np.arange(n) / rng.uniform(2, 8))).astype(float)
    hist[rng.integers(0, n, size=3)] = 0
    hist[-1] += rng.integers(0, 3)
    want, divs = _brute_entropy(hist, bits=3, start=4, variant=variant)
    finite = sorted(d for d in divs if math.isfinite(d))
    assert finite[1] - finite[0] > 1e-9 or variant == "pytorch_quantization"
    got = entropy_amax(histogram=(hist, np.arange(n + 1.0)), bits=3, start_bin=4, variant=variant)
    assert got == want


def test_entropy_clipping_vs_full_range():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(50000)
    x[0] = 60.0                                   # one huge outlier
    for variant in ("reference", "pytorch_quantization"):
        t = entropy_amax(x, variant=variant)
        assert 2.0 < t < 10.0                     # clips the outlier
    hist, edges = np.full(2048, 7.0), np.linspace(0, 4.0, 2049)   # uniform: nothing to clip (D = 0 at i = n)
    w = 4.0 / 2048
    assert entropy_amax(histogram=(hist, edges)) == 4.0 + 0.5 * w           # (m + 0.5) * w with m = n
    assert entropy_amax(histogram=(hist, edges), variant="pytorch_quantization") == 4.0


# ----------------------------------------------------------------------------------------------- ACIQ

LAPLACE = {2: 2.8307, 3: 3.8972, 4: 5.0286, 5: 6.2048, 6: 7.4131, 7: 8.6456, 8: 9.8968, 9: 11.1627}
GAUSS = {2: 1.7106, 3: 2.1516, 4: 2.5591, 5: 2.9362, 6: 3.2869, 7: 3.6151, 8: 3.9240, 9: 4.2163}


@pytest.mark.parametrize("bits", range(2, 10))
def test_aciq_table(bits):
    assert round(aciq_alpha(bits, "laplace"), 4) == LAPLACE[bits]
    assert round(aciq_alpha(bits, "gaussian"), 4) == GAUSS[bits]


def _laplace_mse(t, bits):
    return 2 * math.exp(-t) + t * t / (3 * 4.0 ** bits)


def _gauss_mse(t, bits):
    tail = (t * t + 1) * math.erfc(t / math.sqrt(2)) - math.sqrt(2 / math.pi) * t * math.exp(-t * t / 2)
    return tail + t * t / (3 * 4.0 ** bits)


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_aciq_alpha_is_the_mse_minimum(bits):
    for dist, mse in (("laplace", _laplace_mse), ("gaussian", _gauss_mse)):
        a = aciq_alpha(bits, dist)
        assert mse(a, bits) <= mse(a * 1.001, bits) and mse(a, bits) <= mse(a * 0.999, bits)


def test_aciq_on_samples():
    rng = np.random.default_rng(7)
    lap = rng.laplace(0.0, 2.0, 200000)
    assert aciq_amax(lap, 8, "laplace") == pytest.approx(9.8968 * 2.0, rel=0.01)
    assert aciq_amax(lap, 8, "laplace", one_sided=True) == pytest.approx(11.1627 * 2.0, rel=0.01)
    gau = rng.normal(1.0, 3.0, 200000)
    assert aciq_amax(gau, 4, "gaussian") == pytest.approx(2.5591 * 3.0, rel=0.01)
    assert aciq_amax(gau, 4, "gaussian") == aciq_alpha(4, "gaussian") * float(np.std(gau))


# ------------------------------------------------------------------------------------------ error paths


@pytest.mark.parametrize("call,exc,match", [
    (lambda: percentile_amax([1.0], percentile=100.5), ValueError, "percentile"),
    (lambda: percentile_amax([1.0], percentile=-1), ValueError, "percentile"),
    (lambda: percentile_amax([1.0], percentile="99"), ValueError, "percentile"),
    (lambda: percentile_amax([1.0], bins=0), ValueError, "bins"),
    (lambda: percentile_amax([1.0], bins=2.0), TypeError, "bins"),
    (lambda: percentile_amax(), ValueError, "either"),
    (lambda: percentile_amax([1.0], histogram=([1], [0, 1])), ValueError, "either"),
    (lambda: percentile_amax(histogram=[1, 2, 3]), TypeError, "pair"),
    (lambda: percentile_amax(histogram=([1, 2], [0, 1])), ValueError, "len"),
    (lambda: percentile_amax(histogram=([0, 0], [0, 1, 2])), ValueError, "empty"),
    (lambda: percentile_amax(histogram=([-1, 2], [0, 1, 2])), ValueError, "non-negative"),
    (lambda: percentile_amax(histogram=([1, 2], [0, 2, 1])), ValueError, "non-decreasing"),
    (lambda: mse_amax([1.0], bits=1), ValueError, "bits"),
    (lambda: mse_amax([1.0], bits=17), ValueError, "bits"),
    (lambda: mse_amax([1.0], bits="8"), TypeError, "bits"),
    (lambda: mse_amax([1.0], bins=64, start_bin=64), ValueError, "start_bin"),
    (lambda: mse_amax([1.0], stride=0), ValueError, "stride"),
    (lambda: mse_amax([1.0], unsigned=1), TypeError, "unsigned"),
    (lambda: entropy_amax([1.0], bins=64, start_bin=65), ValueError, "start_bin"),
    (lambda: entropy_amax([1.0], start_bin=0), ValueError, "start_bin"),
    (lambda: entropy_amax([1.0], variant="tensorrt"), ValueError, "variant"),
    (lambda: aciq_alpha(0), ValueError, "bits"),
    (lambda: aciq_alpha(8, "cauchy"), ValueError, "distribution"),
    (lambda: aciq_amax([1.0, 2.0], one_sided="yes"), TypeError, "one_sided"),
    (lambda: amax_max([]), ValueError, "empty"),
    (lambda: amax_max(np.float32([1.0, np.nan])), ValueError, "NaN"),
    (lambda: minmax(np.float32([1.0, -np.inf])), ValueError, "inf"),
    (lambda: abs_histogram(np.zeros((0, 3))), ValueError, "empty"),
    (lambda: entropy_amax(np.float64([np.nan])), ValueError, "NaN"),
    (lambda: amax_max(np.int8([1]).astype(bool)), TypeError, "x must be"),
    (lambda: amax_max([1.0], "group:0"), ValueError, "group size"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
