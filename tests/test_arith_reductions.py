"""floatsim.arith.sum / dot / matmul against loops written here from the definitions.

The orders are those of the module docstring of ``floatsim/arith/reductions.py``, written
in this file independently of the kernels' stack-based implementation:

* sequential: ``s = round_A(leaf_0)``, ``s = round_A(s + leaf_k)``;
* pairwise: level by level, ``round_A(l0 + l1), round_A(l2 + l3), ...``, an odd one out
  carried to the next level unrounded; a single leaf is ``round_A(leaf_0)``;
* blocked: blocks of ``block`` leaves summed sequentially in ``A``, the block sums summed
  sequentially in ``outer``.

Oracles (floatsim is never compared with a copy of its own formula):

* **MPFR** (gmpy2): every ``round_A`` is one MPFR operation in a context with the format's
  precision, ``emin = format.emin - p + 2`` and ``subnormalize=True`` (IEEE gradual
  underflow), and the call's rounding mode. ``nearest_away`` and ``odd`` are derived from
  MPFR's results toward zero and away from zero plus an exact midpoint comparison / the
  parity of the truncated code. The exponent range is unbounded above in MPFR; the IEEE
  overflow rule (docs/semantics.md) is applied here to the rounded value. Leaves are exact
  products (MPFR at 4096 bits) or products rounded to the ``product`` format the same way.
* **Python floats** (IEEE binary64, nearest even) for the native float64 path.
* **numpy.float16** loops (IEEE binary16 addition, nearest even) and integer arithmetic in
  units of 2**-24 for the float16 stagnation demo; **numpy int64** matmul for integers.
* **Statistics** for stochastic rounding: means over many seeds against the exact sum,
  within bounds derived from the variance of stochastic rounding (stated in each test).
"""

from __future__ import annotations

import math

import gmpy2
import numba
import numpy as np
import pytest

import floatsim as fs
import floatsim.arith as fa
from floatsim import FloatFormat

# --------------------------------------------------------------------------- the MPFR oracle
#: every product and sum of two values used here is exact at this precision (spans < 1100 bits)
_EXACT = gmpy2.context(precision=4096)
_MPFR_MODES = {
    "nearest_even": gmpy2.RoundToNearest,
    "toward_zero": gmpy2.RoundToZero,
    "toward_positive": gmpy2.RoundUp,
    "toward_negative": gmpy2.RoundDown,
}
DETERMINISTIC = ["nearest_even", "toward_zero", "toward_positive", "toward_negative", "nearest_away", "odd"]

#: DeepSeek-V3 style tensor-core accumulator: 8 exponent bits, 13 mantissa bits (precision 14)
FP22 = FloatFormat(exponent_bits=8, mantissa_bits=13, bias=127)


def _mp(x):
    """A float as an exact MPFR number."""
    return gmpy2.mpfr(float(x), 53)


class Rounder:
    """Rounding into a float format (with infinities) by one deterministic mode, through MPFR.

    Parameters
    ----------
    fmt : format name or FloatFormat
        The target format; must have infinities (the IEEE overflow rule written here).
    mode : str
        One of :data:`DETERMINISTIC`.
    """

    def __init__(self, fmt, mode):
        self.fmt = fs.get_format(fmt)
        assert self.fmt.has_inf
        self.mode = mode
        p = self.fmt.precision

        def ctx(rnd):
            return gmpy2.context(precision=p, emin=self.fmt.emin - p + 2, emax=1 << 20, subnormalize=True,
                                 round=rnd)

        self.direct = ctx(_MPFR_MODES[mode]) if mode in _MPFR_MODES else None
        self.rz = ctx(gmpy2.RoundToZero)
        self.ra = ctx(gmpy2.RoundAwayZero)
        self.max = _mp(self.fmt.max)

    def round(self, v):
        """``v`` (exact) rounded into the format."""
        return self._overflow(self.direct.plus(v) if self.direct is not None else self._derived(v))

    def add(self, a, b):
        """``a + b`` rounded once into the format."""
        if self.direct is not None:
            return self._overflow(self.direct.add(a, b))
        return self._overflow(self._derived(_EXACT.add(a, b)))

    def _derived(self, v):
        """nearest_away / odd from the truncated and the away-rounded values (unbounded exponent)."""
        if not gmpy2.is_finite(v):
            return v
        z = self.rz.plus(v)
        if z == v:  # exact (zeros keep their sign: IEEE's exact-zero-sum rule is that of RN here)
            return z
        a = self.ra.plus(v)
        if self.mode == "nearest_away":
            mid = _EXACT.div_2exp(_EXACT.add(z, a), 1)
            return a if abs(v) >= abs(mid) else z
        return a if _code_is_even(z, self.fmt) else z  # odd

    def _overflow(self, r):
        """IEEE overflow of a finite rounded value beyond max: inf, or max for modes rounding toward it."""
        if not gmpy2.is_finite(r) or abs(r) <= self.max:
            return r
        to_inf = {"nearest_even": True, "nearest_away": True, "toward_zero": False, "odd": False,
                  "toward_positive": r > 0, "toward_negative": r < 0}[self.mode]
        big = gmpy2.inf() if to_inf else self.max
        return big if r > 0 else -big


def _code_is_even(z, fmt) -> bool:
    """Whether the magnitude code of ``z`` (a value on the format's grid, unbounded above) is even."""
    f = abs(float(z))
    if f == 0:
        return True
    quantum = max(math.frexp(f)[1] - 1, fmt.emin) - fmt.mantissa_bits
    k = f / 2.0**quantum
    assert k == int(k)
    return int(k) % 2 == 0  # normal: 2**M + mantissa field, subnormal: the mantissa field


class PyFloat:
    """IEEE binary64 nearest-even arithmetic of Python floats, with the :class:`Rounder` interface."""

    @staticmethod
    def round(v):
        return v

    @staticmethod
    def add(a, b):
        return a + b


# --------------------------------------------------------------------------- orders, from the definitions
def sequential(leaves, acc):
    """``s = round_A(leaf_0)``, then ``s = round_A(s + leaf_k)``."""
    s = acc.round(leaves[0])
    for v in leaves[1:]:
        s = acc.add(s, v)
    return s


def pairwise(leaves, acc):
    """Level by level: adjacent pairs rounded into A, an odd one out carried unrounded."""
    if len(leaves) == 1:
        return acc.round(leaves[0])
    level = list(leaves)
    while len(level) > 1:
        nxt = [acc.add(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def blocked(leaves, acc, outer, block):
    """Blocks of ``block`` leaves summed sequentially in A, then the block sums sequentially in ``outer``."""
    sums = [sequential(leaves[i:i + block], acc) for i in range(0, len(leaves), block)]
    return sequential(sums, outer)


def reduce_with(order, leaves, acc, outer=None, block=None):
    """The oracle of one reduction."""
    if order == "sequential":
        return sequential(leaves, acc)
    if order == "pairwise":
        return pairwise(leaves, acc)
    return blocked(leaves, acc, outer or acc, block)


def products(avec, bvec, product=None):
    """Leaves of a dot product: exact products, or rounded by the ``product`` :class:`Rounder`."""
    exact = [_EXACT.mul(_mp(x), _mp(y)) for x, y in zip(avec, bvec, strict=True)]
    return exact if product is None else [product.round(v) for v in exact]


def oracle_matmul(a, b, acc, *, product=None, order="sequential", outer=None, block=None):
    """Every element of ``a @ b`` (2-D) from :func:`reduce_with`, as float64."""
    out = np.empty((a.shape[0], b.shape[1]))
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            out[i, j] = float(reduce_with(order, products(a[i], b[:, j], product), acc, outer, block))
    return out


def oracle_sum(x, axis, acc, *, order="sequential", outer=None, block=None):
    """``sum(x, axis)`` from :func:`reduce_with` over the leaves in C order, as float64."""
    if axis is None:
        return np.float64(float(reduce_with(order, [_mp(v) for v in x.ravel()], acc, outer, block)))
    moved = np.moveaxis(x, axis, 0)
    out = np.empty(moved.shape[1:])
    for idx in np.ndindex(out.shape):
        out[idx] = float(reduce_with(order, [_mp(v) for v in moved[(slice(None),) + idx]], acc, outer, block))
    return out


# --------------------------------------------------------------------------- helpers
def assert_same(got, want, msg=""):
    """Bit-for-bit equality of the float64 values (signed zeros told apart, any NaN equals any NaN)."""
    g = np.asarray(got, np.float64)
    w = np.asarray(want, np.float64)
    assert g.shape == w.shape, f"{msg}shape {g.shape} != {w.shape}"
    same = (g.view(np.uint64) == w.view(np.uint64)) | (np.isnan(g) & np.isnan(w))
    if not same.all():
        idx = tuple(int(i) for i in np.argwhere(~same)[0])
        raise AssertionError(f"{msg}{int((~same).sum())} of {same.size} differ; first at {idx}: "
                             f"got {g[idx]!r}, want {w[idx]!r}")


def values(fmt, shape, rng, lo=-4, hi=4, zeros=0.1):
    """Random values of ``fmt`` (as float32): normal samples scaled by ``2**[lo, hi]``, some of them ±0."""
    x = rng.standard_normal(shape) * np.exp2(rng.integers(lo, hi + 1, shape))
    x[rng.random(shape) < zeros / 2] = 0.0
    x[rng.random(shape) < zeros / 2] = -0.0
    out = np.asarray(fs.cast(x, fmt), np.float64)
    assert np.all(np.isfinite(out))
    return out.astype(np.float32)


# --------------------------------------------------------------------------- 1. sequential
SEQ_CASES = [  # input format, product format, accumulation format, exponent spread of the data
    pytest.param("float8_e4m3fn", None, "float32", (-3, 3), id="e4m3fn-acc-float32"),
    pytest.param("bfloat16", None, "float32", (-20, 20), id="bfloat16-acc-float32"),
    pytest.param("float16", None, "float16", (-9, 2), id="float16-acc-float16"),
    pytest.param("float8_e5m2", None, "bfloat16", (-8, 8), id="e5m2-acc-bfloat16"),
    pytest.param("bfloat16", "bfloat16", "float32", (-20, 20), id="bfloat16-product-bfloat16-acc-float32"),
    pytest.param("float16", "bfloat16", "float32", (-9, 4), id="float16-product-bfloat16-acc-float32"),
    pytest.param("float32", None, "float32", (-30, 30), id="float32-acc-float32"),
]


@pytest.mark.parametrize("mode", DETERMINISTIC)
@pytest.mark.parametrize("fmt, product, acc, spread", SEQ_CASES)
def test_matmul_and_dot_sequential(fmt, product, acc, spread, mode):
    rng = np.random.default_rng(list(map(ord, fmt + str(product) + acc)))
    a = values(fmt, (5, 37), rng, *spread)
    b = values(fmt, (37, 6), rng, *spread)
    kw = dict(accumulate=acc, product=product, rounding=mode)
    want = oracle_matmul(a, b, Rounder(acc, mode), product=Rounder(product, mode) if product else None)
    got = fa.matmul(a, b, fmt, **kw)
    assert got.shape == (5, 6) and got.dtype == np.float32
    assert_same(got, want)
    if fmt == "float16":  # numpy.float16 operands (widened for Numba) give the same sums
        assert_same(fa.matmul(a.astype(np.float16), b.astype(np.float16), fmt, **kw), want, "float16 dtype: ")
    for i, j in ((0, 0), (2, 3), (4, 5)):
        assert_same(fa.dot(a[i], b[:, j], fmt, **kw), want[i, j], f"dot row {i} col {j}: ")


SUM_CASES = [  # input format, accumulation format, exponent spread
    pytest.param("float8_e4m3fn", "float32", (-3, 3), id="e4m3fn-acc-float32"),
    pytest.param("bfloat16", "float32", (-20, 20), id="bfloat16-acc-float32"),
    pytest.param("float16", "float16", (-12, 4), id="float16-acc-float16"),
    pytest.param("float32", "bfloat16", (-6, 6), id="float32-acc-bfloat16"),
]


@pytest.mark.parametrize("mode", DETERMINISTIC)
@pytest.mark.parametrize("fmt, acc, spread", SUM_CASES)
def test_sum_sequential_axes(fmt, acc, spread, mode):
    rng = np.random.default_rng(list(map(ord, fmt + acc)))
    x = values(fmt, (6, 7, 8), rng, *spread)
    rounder = Rounder(acc, mode)
    for axis in (None, 0, 1, 2, -1):
        got = fa.sum(x, fmt, axis=axis, accumulate=acc, rounding=mode)
        assert_same(got, oracle_sum(x, axis, rounder), f"axis={axis}: ")
        if axis is None:
            assert np.ndim(got) == 0


SPECIAL_SUMS = [  # signed zeros, exact cancellations, ties of float16, underflow to zero
    [-0.0], [0.0], [-0.0, -0.0], [0.0, -0.0], [-0.0, 0.0], [1.0, -1.0], [-1.0, 1.0, -0.0],
    [2.0**-24, -(2.0**-24)], [1.0, 2.0**-11], [1.0 + 2.0**-10, 2.0**-11], [-1.0, -(2.0**-11)],
    [-1.0, 2.0**-11, -(2.0**-12)], [1.0, 2.0**-11, 2.0**-11], [2.0**-14, -(2.0**-24), 2.0**-25],
]


@pytest.mark.parametrize("mode", DETERMINISTIC)
@pytest.mark.parametrize("acc", ["float16", "bfloat16", "float32"])
def test_sum_signed_zeros_and_ties(acc, mode):
    rounder = Rounder(acc, mode)
    for terms in SPECIAL_SUMS:
        x = np.array(terms, np.float32)
        got = fa.sum(x, "float32", accumulate=acc, rounding=mode)
        assert_same(got, oracle_sum(x, None, rounder), f"{terms}: ")


@pytest.mark.parametrize("mode", DETERMINISTIC)
def test_sum_overflow_float16(mode):
    # 60000 + 10000 = 70000 > max = 65504; 65504 + 16 = 65520 is the tie between max and 2**16
    x = np.array([[60000.0, 10000.0, -10000.0], [-60000.0, -10000.0, 10000.0], [65504.0, 16.0, -65504.0],
                  [-65504.0, -16.0, 1.0], [65504.0, 8.0, -32.0], [-65504.0, -65504.0, 65504.0]], np.float32)
    got = fa.sum(x, "float16", axis=1, rounding=mode)
    assert_same(got, oracle_sum(x, 1, Rounder("float16", mode)))


# --------------------------------------------------------------------------- native float64
@pytest.mark.parametrize("order, block", [("sequential", None), ("pairwise", None), ("blocked", 5)],
                         ids=["sequential", "pairwise", "blocked5"])
def test_float32_inputs_float64_accumulation_is_python_floats(order, block):
    rng = np.random.default_rng(64)
    a = values("float32", (5, 37), rng, -60, 60)
    b = values("float32", (37, 6), rng, -60, 60)
    want = np.empty((5, 6))
    for i in range(5):
        for j in range(6):
            leaves = [float(x) * float(y) for x, y in zip(a[i], b[:, j], strict=True)]  # exact: 48-bit products
            want[i, j] = reduce_with(order, leaves, PyFloat, block=block)
    got = fa.matmul(a, b, "float32", accumulate="float64", order=order, block=block)
    assert got.dtype == np.float64
    assert_same(got, want)
    x = values("float32", (9, 4, 5), rng, -60, 60)
    for axis in (None, 0, 2):
        moved = x.reshape(-1, 1) if axis is None else np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)
        sums = [reduce_with(order, [float(v) for v in moved[:, c]], PyFloat, block=block)
                for c in range(moved.shape[1])]
        want_sum = np.array(sums).reshape(() if axis is None else np.delete(x.shape, axis))
        assert_same(fa.sum(x, "float32", axis=axis, accumulate="float64", order=order, block=block), want_sum,
                    f"axis={axis}: ")


# --------------------------------------------------------------------------- 2. pairwise and blocked
ORDER_CASES = [  # input format, accumulation, outer, order, block
    pytest.param("float16", "float16", None, "pairwise", None, id="pairwise-float16"),
    pytest.param("bfloat16", "bfloat16", None, "pairwise", None, id="pairwise-bfloat16"),
    pytest.param("float32", "float32", None, "pairwise", None, id="pairwise-float32"),
    *[pytest.param("float16", "float16", None, "blocked", k, id=f"blocked{k}-float16") for k in (1, 3, 8, 32)],
    *[pytest.param("bfloat16", "bfloat16", "float32", "blocked", k, id=f"blocked{k}-bfloat16-outer-float32")
      for k in (1, 3, 8, 32)],
    pytest.param("float8_e4m3fn", FP22, "float32", "blocked", 4, id="blocked4-e4m3fn-fp22-outer-float32"),
    pytest.param("float8_e5m2", FP22, "float32", "blocked", 4, id="blocked4-e5m2-fp22-outer-float32"),
    pytest.param("bfloat16", "float32", "bfloat16", "blocked", 3, id="blocked3-bfloat16-float32-outer-bfloat16"),
]
LENGTHS = list(range(1, 41)) + [129, 300]


@pytest.mark.parametrize("mode", ["nearest_even", "toward_zero", "toward_negative", "odd"])
@pytest.mark.parametrize("fmt, acc, outer, order, block", ORDER_CASES)
def test_matmul_pairwise_and_blocked(fmt, acc, outer, order, block, mode):
    rng = np.random.default_rng([len(str(acc)), block or 0, len(fmt)])
    racc = Rounder(acc, mode)
    router = Rounder(outer, mode) if outer else None
    spread = (-3, 3) if fmt.startswith("float8") else (-10, 10)
    for n in LENGTHS:
        a = values(fmt, (2, n), rng, *spread)
        b = values(fmt, (n, 3), rng, *spread)
        got = fa.matmul(a, b, fmt, accumulate=acc, order=order, block=block, outer=outer, rounding=mode)
        want = oracle_matmul(a, b, racc, order=order, outer=router, block=block)
        assert_same(got, want, f"K={n}: ")


@pytest.mark.parametrize("order, block", [("pairwise", None), ("blocked", 1), ("blocked", 3), ("blocked", 8),
                                          ("blocked", 32)], ids=["pairwise", "blocked1", "blocked3", "blocked8",
                                                                 "blocked32"])
@pytest.mark.parametrize("mode", ["nearest_even", "toward_positive"])
def test_sum_pairwise_and_blocked_unrounded_leaves(order, block, mode):
    # float32 leaves are not values of bfloat16: the odd one out of a pairwise level is carried unrounded
    rng = np.random.default_rng(5)
    racc = Rounder("bfloat16", mode)
    for n in range(1, 41):
        x = values("float32", (n, 5), rng, -8, 8)
        got = fa.sum(x, "float32", axis=0, accumulate="bfloat16", order=order, block=block, rounding=mode)
        assert_same(got, oracle_sum(x, 0, racc, order=order, block=block), f"n={n}: ")


def test_pairwise_odd_leaf_is_carried_unrounded():
    # bfloat16 (precision 8) spacing at 1 is 2**-7. Leaves 1, 2**-8, 2**-8 + 2**-20 (a float32 value, not a
    # bfloat16 one). Level 1: round(1 + 2**-8) = 1 (a tie, to even); the third leaf is carried unrounded.
    # Level 2: round(1 + 2**-8 + 2**-20) = 1 + 2**-7 (above the midpoint). Had the odd leaf been rounded into
    # bfloat16 first (to 2**-8), level 2 would be the tie 1 + 2**-8 again, giving 1.
    x = np.array([1.0, 2.0**-8, 2.0**-8 + 2.0**-20], np.float32)
    assert float(fa.sum(x, "float32", accumulate="bfloat16", order="pairwise")) == 1.0 + 2.0**-7
    rounded_odd_leaf = np.array([1.0, 2.0**-8, 2.0**-8], np.float32)
    assert float(fa.sum(rounded_odd_leaf, "float32", accumulate="bfloat16", order="pairwise")) == 1.0


# --------------------------------------------------------------------------- 3. stagnation
X16 = float(fs.cast(1e-4, "float16"))
N16 = 10_000


def _float16_rne_units(v: int) -> int:
    """Positive ``v * 2**-24`` rounded to float16 (nearest even, unbounded above), in units of ``2**-24``.

    float16 values in ``[2**(b-1), 2**b) * 2**-24`` (``b`` bits) are spaced ``2**(b-11)`` units
    apart (precision 11), and 1 unit below ``2**-14`` (subnormals).
    """
    spacing = 1 << max(v.bit_length() - 11, 0)
    q, r = divmod(v, spacing)
    if 2 * r > spacing or (2 * r == spacing and q % 2 == 1):
        q += 1
    return q * spacing


def test_stagnation_float16_sequential():
    assert X16 == 1678 * 2.0**-24  # 1e-4 / 2**-24 = 1677.72: rounded to 1678 units
    # Reasoning: in [0.125, 0.25) float16 spacing is 2**-13 > x > 2**-14 (half of it), so each step adds exactly
    # one spacing and the sum lands on 0.25 exactly; in [0.25, 0.5) the spacing is 2**-12 and half of it,
    # 2048 units, exceeds x (1678 units): 0.25 + x rounds back to 0.25 forever.
    quarter = 1 << 22  # 0.25 in units of 2**-24; float16 spacing is 2**11 units in [0.125, 0.25), 2**12 above
    assert (1 << 11) // 2 < 1678 < (1 << 11) and quarter % (1 << 11) == 0
    assert 1678 < (1 << 12) // 2 and _float16_rne_units(quarter + 1678) == quarter
    acc, step, trace = 1678, 1, {}
    while acc != quarter:
        acc = _float16_rne_units(acc + 1678)
        step += 1
        trace[step] = acc
    assert step == 2181
    # independent check: numpy.float16 addition is IEEE binary16 nearest-even
    h = np.float16(X16)
    s16, first = h, None
    for k in range(2, N16 + 1):
        s16 = np.float16(s16 + h)
        if first is None and s16 == 0.25:
            first = k
            assert float(np.float16(s16 + h)) == 0.25
    assert first == step and float(s16) == 0.25
    x = np.full(N16, X16)
    assert float(fa.sum(x, "float16")) == 0.25
    assert float(fa.sum(x[:step], "float16")) == 0.25
    below = fa.sum(x[:step - 1], "float16")
    assert float(below) == trace[step - 1] * 2.0**-24 == 0.25 - 2.0**-13
    # float32 accumulation is exact: every partial sum k * 839 * 2**-23 (k <= 10000) has at most 24 bits
    want32 = sequential([_mp(X16)] * N16, Rounder("float32", "nearest_even"))
    assert float(fa.sum(x, "float16", accumulate="float32")) == float(want32) == N16 * X16 == 1.0001659393310547


def test_stagnation_float16_pairwise():
    h = np.float16(X16)
    level = [h] * N16
    while len(level) > 1:  # numpy.float16 pairwise loop, level by level
        nxt = [np.float16(level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    got = float(fa.sum(np.full(N16, X16), "float16", order="pairwise"))
    assert got == float(level[0]) == 1.0
    exact = N16 * X16
    assert abs(got - exact) < 2e-4 < abs(0.25 - exact)


def test_stagnation_float16_stochastic_mean():
    # Each stochastic rounding of a step's exact value v between neighbours d apart has error e with E[e] = 0
    # (to within the 64-bit mode's resolution 2**-(52 - p) d, p = 11) and Var[e] = nu (1 - nu) d**2 <= d**2 / 4.
    # The errors form a martingale difference sequence, so Var[sum] <= sum d_k**2 / 4 <= N (2**-10)**2 / 4 while
    # the running sum stays below 2 (spacing <= 2**-10): the exact sum is 1.00017 and the standard deviation
    # <= 0.049, so leaving [0, 2) is a 20-sigma event. The mean of S independent seeds then has standard
    # deviation sigma = sqrt(N / (4 S)) 2**-10; we allow 6 sigma (normal approximation by the CLT; Chebyshev
    # alone would bound the failure probability by 1/36 only) plus N times the resolution bias.
    x = np.full(N16, X16)
    seeds = 600
    sums = np.array([float(fa.sum(x, "float16", rounding="stochastic", seed=s)) for s in range(seeds)])
    exact = N16 * X16
    spacing = 2.0**-10
    sigma_one = math.sqrt(N16 / 4) * spacing
    sigma = sigma_one / math.sqrt(seeds)
    bound = 6 * sigma + N16 * 2.0**-41 * spacing
    assert bound < 0.02
    assert abs(sums.mean() - exact) <= bound, (sums.mean(), exact, bound)
    assert 0 < sums.std() <= 1.2 * sigma_one  # the spread is that of per-step rounding, nothing larger
    assert abs(sums.mean() - exact) < abs(0.25 - exact) / 20


# --------------------------------------------------------------------------- 4. stochastic accumulation
def _sr_bound(partials, count, seeds, fmt):
    """6-sigma bound on |mean of ``seeds`` stochastic sums - exact sum| (see the caller)."""
    f = fs.get_format(fmt)
    top = 2 * max(abs(p) for p in partials)
    spacing = 2.0 ** (math.floor(math.log2(top)) - f.mantissa_bits)  # spacing of the binade of 2 * max partial
    sigma = math.sqrt(count / (4 * seeds)) * spacing
    return 6 * sigma + count * 2.0 ** -(52 - f.precision) * spacing


def _sr_data(verb, fmt, data, k, rng):
    """Operands of one stochastic-accumulation case (see the caller)."""
    half = 2.0 ** -(fs.get_format(fmt).precision)  # half the spacing at 1
    if data == "below-half-ulp":
        # 1, then K - 1 leaves in [half / 4, half): nearest-even stalls at 1, stochastic rounding does not
        small = np.asarray(fs.cast(rng.uniform(half / 4, half, k - 1), fmt, rounding="toward_zero"), np.float32)
        if verb == "sum":
            return np.concatenate([[1.0], small]).astype(np.float32), None
        root = np.asarray(fs.cast(np.sqrt(small), fmt, rounding="toward_zero"), np.float32)  # products < half
        return np.concatenate([[1.0], root]).astype(np.float32), np.concatenate([[1.0], root[::-1]]).astype(
            np.float32)
    x = np.abs(values(fmt, k, rng, -3, 3, zeros=0))
    y = np.abs(values(fmt, k, rng, -3, 3, zeros=0))
    return x, (None if verb == "sum" else y)


@pytest.mark.parametrize("data", ["random", "below-half-ulp"])
@pytest.mark.parametrize("fmt", ["bfloat16", "float16"])
@pytest.mark.parametrize("verb", ["sum", "dot"])
def test_stochastic_accumulation_is_unbiased(verb, fmt, data):
    # K stochastic roundings (the first leaf's included), each with an error of mean 0 (to within the 64-bit
    # mode's resolution 2**-(52 - p) of a spacing) and variance nu (1 - nu) d**2 <= d**2 / 4, d the spacing at the
    # running sum; the errors are martingale differences, so their variances add. The exact partial sums stay
    # below M = max |partial|, the stochastic ones below 2 M except with negligible probability (their deviation
    # has sd <= sqrt(K) d / 2, far less than M here), so d <= spacing(2 M) and the mean of S seeds has sd
    # <= sqrt(K / (4 S)) spacing(2 M). We allow 6 sd (CLT) plus the resolution bias.
    rng = np.random.default_rng([ord(verb[0]), len(fmt), len(data)])
    k, seeds = 96, 500
    x, y = _sr_data(verb, fmt, data, k, rng)
    leaves = [float(v) for v in x] if verb == "sum" else [float(a) * float(b) for a, b in zip(x, y, strict=True)]
    exact = float(_EXACT.fsum([_mp(v) for v in leaves]))  # products of 8- or 11-bit values: exact in float64
    assert all(v >= 0 for v in leaves)  # the running sum grows: rounding is at work all along

    def run(**kw):
        return float(fa.sum(x, fmt, **kw) if verb == "sum" else fa.dot(x, y, fmt, **kw))

    got = np.array([run(rounding="stochastic", seed=s) for s in range(seeds)])
    bound = _sr_bound(np.cumsum(leaves), k, seeds, fmt)
    assert abs(got.mean() - exact) <= bound, (got.mean(), exact, bound)
    assert got.std() > 0
    if data == "below-half-ulp":
        rn = run()
        assert rn == 1.0 and exact - rn > 5 * bound  # nearest-even is biased far beyond the bound


def test_stochastic_reproducible_and_seeded():
    rng = np.random.default_rng(11)
    a = values("bfloat16", (4, 50), rng)
    b = values("bfloat16", (50, 5), rng)
    kw = dict(accumulate="bfloat16", rounding="stochastic")
    for order, block in (("sequential", None), ("pairwise", None), ("blocked", 8)):
        one = fa.matmul(a, b, "bfloat16", order=order, block=block, seed=1, **kw)
        assert_same(fa.matmul(a, b, "bfloat16", order=order, block=block, seed=1, **kw), one, f"{order}: ")
        two = fa.matmul(a, b, "bfloat16", order=order, block=block, seed=2, **kw)
        assert np.count_nonzero(one != two) >= 5, order
    x = a.ravel()
    assert_same(fa.sum(x, "bfloat16", rounding="stochastic", seed=9), fa.sum(x, "bfloat16", rounding="stochastic",
                                                                           seed=9))
    assert len({float(fa.sum(x, "bfloat16", rounding="stochastic", seed=s)) for s in range(20)}) > 1
    assert_same(fa.dot(a[0], b[:, 0], "bfloat16", rounding="stochastic", seed=3),
                fa.dot(a[0], b[:, 0], "bfloat16", rounding="stochastic", seed=3))


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 Numba threads")
@pytest.mark.parametrize("rounding, order", [("stochastic", "sequential"), ("stochastic", "pairwise"),
                                             ("nearest_even", "blocked"), ("toward_zero", "sequential")])
def test_results_do_not_depend_on_thread_count(rounding, order):
    rng = np.random.default_rng(3)
    a = values("bfloat16", (16, 64), rng)
    b = values("bfloat16", (64, 300), rng)  # 16 * 300 * 64 leaves: above the serial threshold, two column tiles
    x = values("float16", (64, 1000), rng)
    seed = 7 if rounding == "stochastic" else None
    results = []
    previous = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            results.append((fa.matmul(a, b, "bfloat16", accumulate="bfloat16", order=order, rounding=rounding,
                                      seed=seed),
                            fa.sum(x, "float16", axis=0, order=order, rounding=rounding, seed=seed)))
    finally:
        numba.set_num_threads(previous)
    assert_same(results[0][0], results[1][0], "matmul: ")
    assert_same(results[0][1], results[1][1], "sum: ")


@pytest.mark.parametrize("order, block", [("sequential", None), ("pairwise", None), ("blocked", 4)],
                         ids=["sequential", "pairwise", "blocked4"])
@pytest.mark.parametrize("mode", ["nearest_even", "toward_zero", "toward_negative", "odd"])
def test_sum_of_batch_equals_per_row_sums(mode, order, block):
    rng = np.random.default_rng(8)
    x = values("float16", (7, 23), rng, -10, 4)
    kw = dict(accumulate="float16", order=order, block=block, rounding=mode)
    rows = fa.sum(x, "float16", axis=1, **kw)
    assert_same(rows, [fa.sum(r, "float16", **kw) for r in x])
    cols = fa.sum(x, "float16", axis=0, **kw)
    assert_same(cols, [fa.sum(c, "float16", **kw) for c in x.T])
    assert_same(rows, oracle_sum(x, 1, Rounder("float16", mode), order=order, block=block))


@pytest.mark.parametrize("mode", ["nearest_even", "toward_zero"])
def test_batched_matmul_broadcasts_like_numpy(mode):
    rng = np.random.default_rng(21)
    kw = dict(accumulate="float16", rounding=mode)
    rounder = Rounder("float16", mode)
    a = values("float16", (2, 1, 3, 7), rng, -6, 3)
    b = values("float16", (4, 7, 5), rng, -6, 3)
    got = fa.matmul(a, b, "float16", **kw)
    assert got.shape == np.matmul(a, b).shape == (2, 4, 3, 5)
    for i in range(2):
        for j in range(4):
            assert_same(got[i, j], fa.matmul(a[i, 0], b[j], "float16", **kw), f"slice {i},{j}: ")
            assert_same(got[i, j], oracle_matmul(a[i, 0], b[j], rounder), f"slice {i},{j} vs oracle: ")
    same_b = fa.matmul(a, b[0], "float16", **kw)  # one right operand: batch folded into the rows
    assert same_b.shape == (2, 1, 3, 5)
    for i in range(2):
        assert_same(same_b[i, 0], oracle_matmul(a[i, 0], b[0], rounder))
    v = values("float16", 7, rng, -6, 3)
    left = fa.matmul(v, b, "float16", **kw)  # 1-D on the left: a row vector, then dropped
    assert left.shape == np.matmul(v, b).shape == (4, 5)
    for j in range(4):
        assert_same(left[j], oracle_matmul(v[None, :], b[j], rounder)[0])
    right = fa.matmul(a[:, 0], v, "float16", **kw)  # 1-D on the right: a column vector, then dropped
    assert right.shape == np.matmul(a[:, 0], v).shape == (2, 3)
    for i in range(2):
        assert_same(right[i], oracle_matmul(a[i, 0], v[:, None], rounder)[:, 0])
    both = fa.matmul(v, v, "float16", **kw)
    assert np.shape(both) == np.shape(np.matmul(v, v)) == ()
    assert_same(both, oracle_matmul(v[None, :], v[:, None], rounder)[0, 0])


# --------------------------------------------------------------------------- 5. integers
def _wrap(v, bits):
    """Two's-complement wrap of int64 values to ``bits`` bits."""
    half = 1 << (bits - 1)
    return (np.asarray(v, np.int64) + half) % (2 * half) - half


def test_int8_matmul_int32_accumulation():
    rng = np.random.default_rng(1)
    a = rng.integers(-128, 128, (5, 37)).astype(np.int8)
    b = rng.integers(-128, 128, (37, 6)).astype(np.int8)
    exact = a.astype(np.int64) @ b.astype(np.int64)
    got = fa.matmul(a, b, "int8")
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, exact)
    np.testing.assert_array_equal(fa.matmul(a, b, "int8", accumulate="int16"), _wrap(exact, 16))
    assert int(fa.dot(a[1], b[:, 2], "int8")) == int(exact[1, 2])
    k = 140_000  # 140000 * 16384 > 2**31 - 1: the int32 accumulator wraps
    big_a = np.full((1, k), -128, np.int8)
    big_b = np.full((k, 1), -128, np.int8)
    want = k * 16384
    assert want > 2**31 - 1
    assert int(fa.matmul(big_a, big_b, "int8")[0, 0]) == want - 2**32 == int(_wrap(want, 32))
    with pytest.raises(OverflowError):
        fa.matmul(big_a, big_b, "int8", overflow="error")
    with pytest.raises(OverflowError):
        fa.matmul(a, b, "int8", accumulate="int16", overflow="error")


def test_int4_inputs_and_mixed_integer_formats():
    rng = np.random.default_rng(2)
    a = rng.integers(-8, 8, (4, 33)).astype(np.int8)
    b = rng.integers(-8, 8, (33, 3)).astype(np.int8)
    exact = a.astype(np.int64) @ b.astype(np.int64)
    np.testing.assert_array_equal(fa.matmul(a, b, "int4"), exact)
    c = rng.integers(-128, 128, (33, 3)).astype(np.int8)
    np.testing.assert_array_equal(fa.matmul(a, c, ("int4", "int8")), a.astype(np.int64) @ c.astype(np.int64))
    with pytest.raises(ValueError, match=r"\ba\b"):
        fa.matmul(np.int8([[8, 0]]), np.int8([[1], [1]]), "int4")
    with pytest.raises(ValueError, match=r"\bb\b"):
        fa.matmul(np.int8([[1, 0]]), np.int8([[1], [-9]]), "int4")


def test_int8_sum():
    rng = np.random.default_rng(4)
    x = rng.integers(-128, 128, (3, 300)).astype(np.int8)
    assert int(fa.sum(x, "int8")) == int(x.astype(np.int64).sum())
    np.testing.assert_array_equal(fa.sum(x, "int8", axis=1), x.astype(np.int64).sum(axis=1))
    np.testing.assert_array_equal(fa.sum(x, "int8", axis=0), x.astype(np.int64).sum(axis=0))
    y = np.full(300, 127, np.int8)  # 38100 > 2**15 - 1
    assert int(fa.sum(y, "int8", accumulate="int16")) == int(_wrap(38100, 16)) == 38100 - 65536
    with pytest.raises(OverflowError):
        fa.sum(y, "int8", accumulate="int16", overflow="error")


# --------------------------------------------------------------------------- 6. errors
F16 = np.array([[1.0, 2.0], [3.0, 0.5]], np.float32)


def test_shape_errors():
    with pytest.raises(ValueError, match="inner dimensions differ"):
        fa.matmul(np.ones((2, 3), np.float32), np.ones((4, 2), np.float32), "float16")
    with pytest.raises(ValueError, match="1-D"):
        fa.dot(F16, F16, "float16")
    with pytest.raises(ValueError, match="1-D"):
        fa.dot(np.ones(3, np.float32), np.ones(4, np.float32), "float16")


def test_argument_errors():
    with pytest.raises(ValueError, match="order='diagonal' is invalid"):
        fa.matmul(F16, F16, "float16", order="diagonal")
    for bad in (0, -3, True, 2.0):
        with pytest.raises(ValueError, match="block=.* is invalid"):
            fa.matmul(F16, F16, "float16", order="blocked", block=bad)
    with pytest.raises(ValueError, match="block applies to order='blocked'"):
        fa.matmul(F16, F16, "float16", block=4)
    with pytest.raises(ValueError, match="block applies to order='blocked'"):
        fa.sum(F16, "float16", order="pairwise", block=4)
    with pytest.raises(ValueError, match="outer applies to order='blocked'"):
        fa.matmul(F16, F16, "float16", order="pairwise", outer="float32")
    with pytest.raises(ValueError, match="outer applies to order='blocked'"):
        fa.sum(F16, "float16", outer="float32")
    with pytest.raises(TypeError, match="accumulate is required"):
        fa.matmul(F16, F16, ("float8_e4m3fn", "float8_e5m2"))
    with pytest.raises(ValueError, match="seed applies to stochastic rounding only"):
        fa.matmul(F16, F16, "float16", seed=1)
    with pytest.raises(ValueError, match="seed applies to stochastic rounding only"):
        fa.sum(F16, "float16", rounding="toward_zero", seed=1)


def test_inputs_not_in_format_name_the_operand():
    tenth = np.array([[0.1, 1.0], [1.0, 1.0]], np.float32)  # 0.1 is not a float16 value
    with pytest.raises(ValueError, match=r"^a holds values that are not values of float16"):
        fa.matmul(tenth, F16, "float16")
    with pytest.raises(ValueError, match=r"^b holds values that are not values of float16"):
        fa.matmul(F16, tenth, "float16")
    with pytest.raises(ValueError, match=r"^b holds values"):
        fa.dot(F16[0], tenth[0], "float16")
    with pytest.raises(ValueError, match=r"^x holds values that are not values of float16"):
        fa.sum(tenth, "float16")
    with pytest.raises(ValueError, match=r"^b holds values that are not values of float8_e5m2"):
        fa.matmul(F16, tenth, ("float16", "float8_e5m2"), accumulate="float32")
    # inputs="round" rounds them first (nearest even); the float32 sum of four float16 values is exact here
    assert float(fa.sum(tenth, "float16", accumulate="float32", inputs="round")) == float(np.float16(0.1)) + 3.0


def test_unsupported_accumulation_format():
    # 32-bit custom formats beyond the compiled path: precision 29 > 26, and exponents up to 511 > 480
    p29 = FloatFormat(exponent_bits=3, mantissa_bits=28)
    wide = FloatFormat(exponent_bits=10, mantissa_bits=21)
    for fmt, detail in ((p29, "precision 29"), (wide, "exponent span 531")):
        msg = rf"accumulate=.* is not supported for accumulation: .*precision <= 26 .*{detail}"
        with pytest.raises(ValueError, match=msg):
            fa.matmul(F16, F16, "float16", accumulate=fmt)
        with pytest.raises(ValueError, match=msg):
            fa.sum(F16, "float16", accumulate=fmt)
        with pytest.raises(ValueError, match=r"outer=.* is not supported for accumulation"):
            fa.sum(F16, "float16", order="blocked", outer=fmt)
    with pytest.raises(ValueError, match=r"product=.* is not supported for products"):
        fa.matmul(F16, F16, "float16", accumulate="float32", product=p29)
    # binary64 accumulation is NumPy's own float64 arithmetic: nearest-even only
    with pytest.raises(ValueError, match=r"accumulate=float64 .*nearest_even"):
        fa.sum(F16, "float16", accumulate="float64", rounding="toward_zero")
    # every product of two float16 values is a value of `wide` (22 bits, exponents -48..32): never rounded,
    # so the format is accepted and the products stay exact
    assert_same(fa.matmul(F16, F16, "float16", accumulate="float32", product=wide), [[7.0, 3.0], [4.5, 6.25]])


def test_nan_into_accumulation_format_without_nan():
    with pytest.raises(ValueError, match="has no NaN"):
        fa.sum(np.array([1.0, np.nan], np.float32), "float32", accumulate="float6_e3m2fn")
    with pytest.raises(ValueError, match="has no NaN"):  # inf * 0 is NaN
        fa.dot(np.array([np.inf], np.float32), np.array([0.0], np.float32), "float16", accumulate="float6_e3m2fn")
    # a format with NaN just holds it
    assert np.isnan(fa.sum(np.array([1.0, np.nan], np.float32), "float32", accumulate="float16"))


@pytest.mark.parametrize("mode", ["nearest_even", "toward_negative"])
def test_empty_reductions_are_plus_zero(mode):
    e = np.zeros((3, 0), np.float32)
    got = fa.matmul(e, np.zeros((0, 4), np.float32), "float16", rounding=mode)
    assert got.shape == (3, 4)
    assert_same(got, np.zeros((3, 4)))
    assert_same(fa.dot(np.zeros(0, np.float32), np.zeros(0, np.float32), "bfloat16", rounding=mode), 0.0)
    assert_same(fa.sum(np.zeros(0, np.float32), "float16", rounding=mode), 0.0)
    assert_same(fa.sum(e, "float16", axis=0, rounding=mode), np.zeros(0))  # no sums at all
    # sums along an axis of length 0: one +0 per remaining position, like numpy.sum
    assert_same(fa.sum(e, "float16", axis=1, rounding=mode), np.zeros(3))
    assert_same(fa.sum(e.T, "float16", axis=0, rounding=mode), np.zeros(3))
    assert_same(fa.sum(np.zeros((2, 0, 3), np.float32), "float16", axis=1, rounding=mode), np.zeros((2, 3)))
    assert_same(fa.matmul(np.zeros((2, 5, 0), np.float32), np.zeros((0, 1), np.float32), "float16",
                          accumulate="float32", order="blocked", block=2, rounding=mode), np.zeros((2, 5, 1)))

def test_empty_integer_reductions_are_zero():
    np.testing.assert_array_equal(fa.matmul(np.zeros((2, 0), np.int8), np.zeros((0, 3), np.int8), "int8"),
                                  np.zeros((2, 3), np.int32))
    assert int(fa.sum(np.zeros(0, np.int8), "int8")) == 0
    np.testing.assert_array_equal(fa.sum(np.zeros((3, 0), np.int8), "int8", axis=1), np.zeros(3, np.int32))
