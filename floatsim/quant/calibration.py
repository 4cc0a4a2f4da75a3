"""Calibration: choosing the range (amax, or min and max) that a quantizer maps onto its grid.

A quantizer that takes its range from the data lets one outlier stretch the grid over values
that never occur. The functions here choose a range that clips such outliers, from the data or
from a histogram of `|x|`. Each returns either an `amax` (for symmetric schemes) or a
`(min, max)` pair, to pass to a quantizer: `IntQuantizer(...).quantize(x, min_val=-amax,
max_val=amax)` or `FloatQuantizer(...).quantize(x, amax=amax)`. Every function is
deterministic.

| method | definition | reference |
|---|---|---|
| `amax_max` | `max abs(x)` (per block with `granularity`) | TensorRT "max" |
| `minmax` | `(min x, max x)` (per block) | torch `MinMaxObserver` |
| `MovingAverageMax` | EMA of per-batch maxima: the first sets it, then `v += c * (cur - v)` | torch moving-average observers |
| `MeanMax` | arithmetic mean of per-batch maxima | running mean of maxima |
| `percentile_amax` | the first histogram edge of `abs(x)` where the CDF reaches `p` | pytorch-quantization `_compute_amax_percentile` |
| `mse_amax` | the bin centre with the least histogram-weighted fake-quantization MSE | pytorch-quantization `_compute_amax_mse` |
| `entropy_amax` | the threshold minimising KL(P ‖ Q) (TensorRT / Migacz 2017) | TensorRT entropy calibrator |
| `aciq_amax` | `alpha(M) * b` (Laplace) or `alpha(M) * sigma` (Gaussian) | Banner et al. (ACIQ) |

Shared input rules. `x`: any shape, float16 / float32 / float64 (lists and integers become
float64). Empty input raises `ValueError`. **NaN and ±inf raise** `ValueError`: a range derived
from non-finite data is meaningless, and silently dropping them would hide a bug upstream
(filter them out first if that is what you want). The histogram methods take either `x` or a
precomputed `histogram=(hist, edges)` (as from `abs_histogram` or `np.histogram`); they compute
in float64.

Examples
--------
One outlier among 10,000 normal values: max calibration spreads int4's 16 codes over
[-40, 40]; the 99.9th percentile of `abs(x)` keeps them where the data are.

>>> import numpy as np
>>> import floatsim.quant as fq
>>> x = np.random.default_rng(0).standard_normal(10_000).astype(np.float32)
>>> x[0] = 40.0
>>> a_max, a_pct = float(fq.calibration.amax_max(x)), fq.calibration.percentile_amax(x, 99.9)
>>> a_max, round(a_pct, 4)
(40.0, 3.2422)
>>> q = fq.IntQuantizer(bits=4)
>>> y_max = q.quantize(x).dequantize()                              # range from the data
>>> y_pct = q.quantize(x, min_val=-a_pct, max_val=a_pct).dequantize()
>>> round(fq.sqnr(x, y_max), 2), round(fq.sqnr(x, y_pct), 2)         # SQNR in dB
(0.74, 8.79)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._layout import parse_granularity, to_blocks
from .affine import quantize_affine
from .base import check_choice, float_input

__all__ = [
    "amax_max", "minmax", "MovingAverageMax", "MeanMax", "abs_histogram", "percentile_amax", "mse_amax",
    "entropy_amax", "aciq_alpha", "aciq_amax", "ENTROPY_VARIANTS", "ACIQ_DISTRIBUTIONS",
]

ENTROPY_VARIANTS = ("reference", "pytorch_quantization")
"""The `variant` values of `entropy_amax`."""
ACIQ_DISTRIBUTIONS = ("laplace", "gaussian")
"""The `distribution` values of `aciq_alpha` and `aciq_amax`."""
#: pytorch-quantization's fake quantizer treats amax <= 2**-24 (the smallest float16 subnormal) as zero
_ZERO_AMAX = 2.0 ** -24


# ----------------------------------------------------------------------------------------------- checks


def _data(x, argument: str = "x") -> np.ndarray:
    x = float_input(x, argument)
    if x.size == 0:
        raise ValueError(f"{argument} is empty: calibration needs at least one value")
    bad = ~np.isfinite(x)
    if bad.any():
        raise ValueError(
            f"{argument} contains {int(bad.sum())} NaN / inf value(s): calibration needs finite data "
            "(filter them out first)"
        )
    return x


def _int_arg(name: str, value, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    if value < lo or (hi is not None and value > hi):
        allowed = f"from {lo} to {hi}" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} must be an integer {allowed}, not {value!r}")
    return int(value)


def _bool_arg(name: str, value) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, not {value!r}")
    return bool(value)


# ------------------------------------------------------------------------------------------------ max


def _block_reduce(x: np.ndarray, granularity, fn):
    blocks = to_blocks(x, parse_granularity(granularity))
    data = blocks.data
    rows = fn(data, axis=1) if data.shape[1] else np.zeros(data.shape[0], data.dtype)
    return blocks.params(rows.astype(x.dtype, copy=False))


def amax_max(x, granularity=None) -> np.ndarray:
    """`max abs(x)` over the whole tensor or per block.

    The TensorRT "max" calibrator: the largest magnitude, so nothing is clipped.

    Parameters
    ----------
    x : array_like of float
        The data: finite, non-empty, any shape.
    granularity : str or Granularity, optional
        Which elements share one amax: None or `"tensor"` (default), `"channel[:AXIS]"`,
        `"group:SIZE[:AXIS]"` or `"flat:SIZE"` (see `floatsim.quant.Granularity`). A partial last
        group gets the max of its own elements.

    Returns
    -------
    numpy.ndarray
        In `x`'s dtype (exact), shaped like the granularity's parameters: 0-d per tensor,
        `x.shape` with 1 elsewhere per channel, and so on.

    Raises
    ------
    ValueError
        `x` is empty or holds NaN or ±inf; a bad `granularity`.
    TypeError
        `x` is not a float16 / float32 / float64 array (lists and integers are converted).

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.calibration import amax_max
    >>> amax_max(np.float32([0.5, -3.0, 2.0]))
    array(3., dtype=float32)
    >>> amax_max(np.float32([[1, -4, 2], [0.5, 0, -0.25]]), "channel").tolist()
    [[4.0], [0.5]]
    >>> amax_max(np.float32([1, -4, 2, 0.5, 0]), "group:2").tolist()   # the last group is partial
    [4.0, 2.0, 0.0]
    """
    x = _data(x)
    return _block_reduce(np.abs(x), granularity, np.max)


def minmax(x, granularity=None) -> tuple[np.ndarray, np.ndarray]:
    """`(min x, max x)` over the whole tensor or per block.

    The range of asymmetric schemes (torch's `MinMaxObserver` on one tensor); same conventions
    as `amax_max`.

    Parameters
    ----------
    x : array_like of float
        The data: finite, non-empty, any shape.
    granularity : str or Granularity, optional
        Which elements share one range: None or `"tensor"` (default), `"channel[:AXIS]"`,
        `"group:SIZE[:AXIS]"` or `"flat:SIZE"` (see `floatsim.quant.Granularity`).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The minima and the maxima, in `x`'s dtype, each shaped like the granularity's parameters
        (0-d per tensor).

    Raises
    ------
    ValueError
        `x` is empty or holds NaN or ±inf; a bad `granularity`.
    TypeError
        `x` is not a float16 / float32 / float64 array (lists and integers are converted).

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.calibration import minmax
    >>> lo, hi = minmax(np.float32([0.5, -3.0, 2.0]))
    >>> lo.tolist(), hi.tolist()
    (-3.0, 2.0)
    >>> lo, hi = minmax(np.arange(5.0), "group:2")
    >>> lo.tolist(), hi.tolist()
    ([0.0, 2.0, 4.0], [1.0, 3.0, 4.0])
    """
    x = _data(x)
    return _block_reduce(x, granularity, np.min), _block_reduce(x, granularity, np.max)


class _BatchMax:
    """Shared state of the running per-batch-maximum calibrators."""

    def __init__(self, granularity=None):
        self.granularity = parse_granularity(granularity)
        self.num_batches = 0
        self.amax: np.ndarray | None = None

    def _batch_amax(self, x) -> np.ndarray:
        cur = amax_max(x, self.granularity).astype(np.float64)
        if self.amax is not None and cur.shape != self.amax.shape:
            raise ValueError(
                f"x gives per-block maxima of shape {cur.shape}, but earlier batches gave {self.amax.shape}: "
                "keep the blocked dimensions the same from batch to batch"
            )
        return cur

    def reset(self) -> None:
        """Forget all batches: `amax` becomes None and `num_batches` 0.

        Returns
        -------
        None
        """
        self.num_batches = 0
        self.amax = None


class MovingAverageMax(_BatchMax):
    """Exponential moving average of per-batch `max abs(x)` (activation calibration).

    Convention (torch's moving-average observers): the first batch sets `amax = cur`; every
    later batch does `amax += c * (cur - amax)`, i.e. `amax = (1 - c) * amax + c * cur`, with
    `c = averaging_constant` the weight of the **new** batch (`c = 1`: the last batch only).
    Arithmetic in float64 (`floatsim.quant.observers.MovingAverageMinMaxObserver` is the
    float32, bit-exact torch port). `update(x)` folds in a batch; `reset()` forgets all batches.

    Parameters
    ----------
    averaging_constant : float, default 0.01
        Weight of each new batch, in (0, 1].
    granularity : str or Granularity, optional
        Per-block maxima as in `amax_max`; every batch must give the same parameter shape.

    Attributes
    ----------
    amax : numpy.ndarray of float64 or None
        The current average (`None` before the first batch).
    num_batches : int
        Batches folded in so far.
    granularity : Granularity
        The parsed `granularity`.

    Raises
    ------
    ValueError
        `averaging_constant` outside (0, 1]; a bad `granularity`.

    Notes
    -----
    NaN or ±inf in a batch raise `ValueError` and leave the state unchanged; an empty batch
    raises too.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.calibration import MovingAverageMax
    >>> ema = MovingAverageMax(averaging_constant=0.5)
    >>> for batch in ([1.0, -2.0], [4.0], [0.0, 1.0]):
    ...     _ = ema.update(np.float32(batch))
    >>> ema.amax.tolist(), ema.num_batches   # 2, then 2 + 0.5 * (4 - 2) = 3, then 3 + 0.5 * (1 - 3) = 2
    (2.0, 3)
    """

    def __init__(self, averaging_constant: float = 0.01, granularity=None):
        c = averaging_constant
        if isinstance(c, bool) or not isinstance(c, numbers.Real) or not 0 < c <= 1:
            raise ValueError(f"averaging_constant must be a number in (0, 1], not {c!r}")
        super().__init__(granularity)
        self.averaging_constant = float(c)

    def update(self, x):
        """Fold in one batch: update `amax` with its `max abs(x)` (per block).

        Parameters
        ----------
        x : array_like of float
            One batch: finite, non-empty; its blocked dimensions must match earlier batches'.

        Returns
        -------
        array_like
            `x` itself, unchanged (so the calibrator can sit in a pipeline).

        Raises
        ------
        ValueError
            `x` is empty or holds NaN or ±inf, or gives a different parameter shape than earlier
            batches; the state is then unchanged.

        Examples
        --------
        >>> import numpy as np
        >>> from floatsim.quant.calibration import MovingAverageMax
        >>> ema = MovingAverageMax(averaging_constant=0.25, granularity="channel")
        >>> _ = ema.update(np.float32([[1.0, -2.0], [0.5, 0.0]]))
        >>> _ = ema.update(np.float32([[6.0, 0.0], [0.5, 0.0]]))
        >>> ema.amax.tolist()      # [2 + 0.25 * (6 - 2)], [0.5]
        [[3.0], [0.5]]
        """
        cur = self._batch_amax(x)
        self.amax = cur if self.amax is None else self.amax + self.averaging_constant * (cur - self.amax)
        self.num_batches += 1
        return x


class MeanMax(_BatchMax):
    """Arithmetic mean of per-batch `max abs(x)` (float64: running sum / number of batches).

    Same attributes and error rules as `MovingAverageMax`, with equal weights for every batch.

    Parameters
    ----------
    granularity : str or Granularity, optional
        Per-block maxima as in `amax_max`; every batch must give the same parameter shape.

    Attributes
    ----------
    amax : numpy.ndarray of float64 or None
        The current mean (`None` before the first batch).
    num_batches : int
        Batches folded in so far.
    granularity : Granularity
        The parsed `granularity`.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.calibration import MeanMax
    >>> m = MeanMax()
    >>> for batch in ([1.0, -2.0], [4.0], [0.0, 1.0]):
    ...     _ = m.update(np.float32(batch))
    >>> m.amax.tolist()  # (2 + 4 + 1) / 3
    2.3333333333333335
    """

    def __init__(self, granularity=None):
        super().__init__(granularity)
        self._sum: np.ndarray | None = None

    def update(self, x):
        """Fold in one batch: `amax` becomes the mean of the per-batch maxima so far.

        Parameters
        ----------
        x : array_like of float
            One batch: finite, non-empty; its blocked dimensions must match earlier batches'.

        Returns
        -------
        array_like
            `x` itself, unchanged.

        Raises
        ------
        ValueError
            `x` is empty or holds NaN or ±inf, or gives a different parameter shape than earlier
            batches; the state is then unchanged.

        Examples
        --------
        >>> import numpy as np
        >>> from floatsim.quant.calibration import MeanMax
        >>> m = MeanMax()
        >>> _ = m.update(np.float32([1.0, -3.0])); _ = m.update(np.float32([2.0]))
        >>> m.amax.tolist(), m.num_batches
        (2.5, 2)
        """
        cur = self._batch_amax(x)
        self._sum = cur if self._sum is None else self._sum + cur
        self.num_batches += 1
        self.amax = self._sum / self.num_batches
        return x

    def reset(self) -> None:
        """Forget all batches: `amax` becomes None and `num_batches` 0.

        Returns
        -------
        None
        """
        super().reset()
        self._sum = None


# ----------------------------------------------------------------------------------------- histograms


def abs_histogram(x, bins: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of `abs(x)` on `[0, max abs(x)]` with `bins` equal bins.

    `edges = np.linspace(0, max abs(x), bins + 1)` (float64); bin `k` counts
    `edges[k] <= abs(x) < edges[k + 1]`, and the last bin is closed (`np.histogram`'s rule).
    When `x` is all zeros every edge is 0 and bin 0 holds all values. The result is what the
    histogram calibrators (`percentile_amax`, `mse_amax`, `entropy_amax`) take as `histogram=`.

    Parameters
    ----------
    x : array_like of float
        The data: finite, non-empty, any shape.
    bins : int, default 2048
        Number of bins, at least 1.

    Returns
    -------
    hist : numpy.ndarray of int64
        The counts, length `bins`.
    edges : numpy.ndarray of float64
        The bin edges, length `bins + 1`.

    Raises
    ------
    ValueError
        `x` is empty or holds NaN or ±inf; `bins` below 1.
    TypeError
        `bins` is not an integer; `x` is not a float16 / float32 / float64 array.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.calibration import abs_histogram
    >>> hist, edges = abs_histogram(np.float32([0.0, -0.5, 1.0, 3.0, -4.0]), bins=4)
    >>> hist.tolist(), edges.tolist()
    ([2, 1, 0, 2], [0.0, 1.0, 2.0, 3.0, 4.0])
    """
    a = np.abs(_data(x).astype(np.float64)).ravel()
    bins = _int_arg("bins", bins, 1)
    top = float(a.max())
    if top == 0.0:
        hist = np.zeros(bins, np.int64)
        hist[0] = a.size
        return hist, np.zeros(bins + 1)
    edges = np.linspace(0.0, top, bins + 1)
    hist, _ = np.histogram(a, bins=edges)
    return hist.astype(np.int64), edges


def _histogram_input(x, histogram, bins) -> tuple[np.ndarray, np.ndarray]:
    if (x is None) == (histogram is None):
        raise ValueError("give either x (data) or histogram=(hist, edges), not both and not neither")
    if histogram is None:
        hist, edges = abs_histogram(x, bins)
        return hist.astype(np.float64), edges
    try:
        hist, edges = histogram
    except (TypeError, ValueError):
        raise TypeError("histogram must be a pair (hist, edges)") from None
    hist = np.asarray(hist, np.float64)
    edges = np.asarray(edges, np.float64)
    if hist.ndim != 1 or hist.size == 0 or edges.shape != (hist.size + 1,):
        raise ValueError(
            f"histogram needs a 1-D non-empty hist and len(edges) == len(hist) + 1, got hist shape {hist.shape} "
            f"and edges shape {edges.shape}"
        )
    if not (np.all(np.isfinite(hist)) and np.all(hist >= 0)):
        raise ValueError("histogram counts must be finite and non-negative")
    if not (np.all(np.isfinite(edges)) and np.all(np.diff(edges) >= 0)):
        raise ValueError("histogram edges must be finite and non-decreasing")
    if hist.sum() <= 0:
        raise ValueError("histogram is empty (all counts are zero)")
    return hist, edges


def percentile_amax(x=None, percentile: float = 99.99, bins: int = 2048, *, histogram=None) -> float:
    """amax at a percentile of `abs(x)`, as pytorch-quantization's `_compute_amax_percentile`.

    Definition (float64): `hist, edges` = `abs_histogram(x, bins)` (or the given `histogram`);
    `cdf = cumsum(hist / total)`; `idx = searchsorted(cdf, percentile / 100, side="left")` (the
    first bin whose cumulative share reaches the percentile); `amax = edges[idx]`, the **lower**
    edge of that bin (pytorch-quantization's choice; its upper edge would be `edges[idx + 1]`).

    Parameters
    ----------
    x : array_like of float, optional
        The data (finite, non-empty); or give `histogram` instead.
    percentile : float, default 99.99
        In [0, 100]; typical values are 99.9, 99.99 and 99.999.
    bins : int, default 2048
        Number of histogram bins when `x` is given.
    histogram : (numpy.ndarray, numpy.ndarray), optional
        A precomputed histogram `(hist, edges)` of `abs(x)`: non-negative counts and
        non-decreasing edges, `len(edges) == len(hist) + 1`.

    Returns
    -------
    float
        The amax: one of the histogram's edges.

    Raises
    ------
    ValueError
        Both or neither of `x` and `histogram`; `percentile` outside [0, 100]; a malformed or
        empty histogram; `x` empty or holding NaN or ±inf.
    TypeError
        `histogram` is not a pair; `bins` is not an integer.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.calibration import percentile_amax
    >>> hist, edges = np.ones(10), np.arange(11.0)   # uniform counts: 10 % per bin
    >>> percentile_amax(histogram=(hist, edges), percentile=35.0)   # cdf reaches 0.35 in bin 3
    3.0
    >>> percentile_amax(np.float32([0.0, 1.0, 2.0, 3.0]), percentile=50.0, bins=3)
    1.0
    """
    if isinstance(percentile, bool) or not isinstance(percentile, numbers.Real) or not 0 <= percentile <= 100:
        raise ValueError(f"percentile must be a number in [0, 100], not {percentile!r}")
    hist, edges = _histogram_input(x, histogram, bins)
    cdf = np.cumsum(hist / hist.sum())
    idx = int(np.searchsorted(cdf, percentile / 100, side="left"))
    return float(edges[idx])


def _check_bits(bits, lo=2, hi=16) -> int:
    return _int_arg("bits", bits, lo, hi)


def mse_amax(x=None, bits: int = 8, start_bin: int = 128, *, bins: int = 2048, histogram=None,
             unsigned: bool = False, narrow_range: bool = True, stride: int = 1) -> float:
    """The bin centre minimising the histogram-weighted quantization MSE (pytorch-quantization `_compute_amax_mse`).

    Definition (float64 throughout): `centers = (edges[1:] + edges[:-1]) / 2`; for each candidate
    `i = start_bin, start_bin + stride, ...` below `len(centers)`, `amax = centers[i]` and

    `mse_i = mean((fq(centers, amax) - centers)**2 * counts)`

    (the mean runs over **all** bins), where `fq` is NVIDIA's fake quantizer:
    `m = qmax / amax` (a multiplier, `qmax = 2**(bits - 1 + unsigned) - 1`),
    `q = clamp(round_half_even(c * m), qmin, qmax)` with `qmin = -qmax` (narrow range, default),
    `-qmax - 1` (full range) or 0 (unsigned), and `fq = q / m`; `amax <= 2**-24` gives `fq = 0`.
    The result is `centers[argmin]`, the **first** minimum. The rounding is a core cast
    (`floatsim.quant.quantize_affine` on `c * m` with unit scale). Squared errors weigh outliers
    heavily: an isolated far value is often kept rather than clipped.

    Parameters
    ----------
    x : array_like of float, optional
        The data; or give `histogram` instead.
    bits : int, default 8
        Width of the fake quantizer, 2 to 16.
    start_bin : int, default 128
        First candidate bin; must be below the number of bins.
    bins : int, default 2048
        Histogram bins when `x` is given.
    histogram : (numpy.ndarray, numpy.ndarray), optional
        A precomputed histogram `(hist, edges)` of `abs(x)`.
    unsigned : bool, default False
        Unsigned fake quantizer: codes 0 to `2**bits - 1`.
    narrow_range : bool, default True
        Signed codes `[-qmax, qmax]`; False adds `-qmax - 1`.
    stride : int, default 1
        Step between candidate bins.

    Returns
    -------
    float
        The chosen amax: a bin centre.

    Raises
    ------
    ValueError
        Both or neither of `x` and `histogram`; `bits` outside 2 to 16; `start_bin` not below
        the number of bins; `stride` below 1; a malformed histogram; `x` empty or non-finite.
    TypeError
        A non-integer `bits`, `start_bin`, `bins` or `stride`; a non-bool `unsigned` or
        `narrow_range`.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.calibration import mse_amax
    >>> hist = np.zeros(8); hist[[1, 7]] = [100, 1]          # one outlier in the last bin
    >>> mse_amax(histogram=(hist, np.arange(9.0)), bits=2, start_bin=1)   # clip it
    1.5
    """
    bits = _check_bits(bits)
    start_bin = _int_arg("start_bin", start_bin, 0)
    stride = _int_arg("stride", stride, 1)
    unsigned, narrow_range = _bool_arg("unsigned", unsigned), _bool_arg("narrow_range", narrow_range)
    hist, edges = _histogram_input(x, histogram, bins)
    centers = (edges[1:] + edges[:-1]) / 2
    n = centers.size
    if start_bin >= n:
        raise ValueError(f"start_bin ({start_bin}) must be less than the number of bins ({n})")
    qmax = 2 ** (bits - 1 + unsigned) - 1
    qmin = 0 if unsigned else (-qmax if narrow_range else -qmax - 1)
    cand = np.arange(start_bin, n, stride)
    mses = np.empty(cand.size)
    one = np.float64(1.0)
    chunk = max(1, (1 << 20) // n)
    for k0 in range(0, cand.size, chunk):
        amax = centers[cand[k0:k0 + chunk]][:, None]
        live = amax > _ZERO_AMAX
        mult = np.where(live, qmax / np.where(live, amax, 1.0), 0.0)
        q = quantize_affine(centers[None, :] * mult, one, qmin=qmin, qmax=qmax).astype(np.float64)
        fq = np.where(live, q / np.where(live, mult, 1.0), 0.0)
        mses[k0:k0 + chunk] = np.mean((fq - centers) ** 2 * hist, axis=1)
    return float(centers[cand[int(np.argmin(mses))]])


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p || q) in nats for unnormalized p, q (both normalized here); inf where p > 0 = q."""
    sp, sq = p.sum(), q.sum()
    if sq <= 0:
        return math.inf
    p = p / sp
    q = q / sq
    pos = p > 0
    if np.any(q[pos] <= 0):
        return math.inf
    return float(np.sum(p[pos] * np.log(p[pos] / q[pos])))


def entropy_amax(x=None, bits: int = 8, bins: int = 2048, start_bin: int = 128, *, histogram=None,
                 unsigned: bool = False, variant: str = "reference") -> float:
    """The KL-divergence (entropy) calibration threshold of TensorRT (Migacz, GTC 2017).

    Let `H` be the histogram of `abs(x)` (`abs_histogram`, or `histogram`) with `n` bins of width
    `w`, and `L = 2**(bits - 1 + unsigned)` levels (128 for signed 8-bit). For each candidate `i`
    (the number of kept bins):

    - `P = H[0:i]` with the tail mass `sum(H[i:])` added to `P[i - 1]`;
    - `Q`: source bin `j < i` belongs to level `floor(j * L / i)` (levels of `i / L` bins, sizes
      differing by at most one; identical to pytorch-quantization's
      `digitize(range(i), linspace(0, i, L + 1)) - 1`); each level's total count is spread
      uniformly over its **non-empty** source bins, and empty source bins stay 0;
    - `D[i] = KL(P || Q)` (both normalized, natural log; `inf` when `P` has mass where `Q` has
      none, e.g. when bin `i - 1` is empty but a tail exists).

    `variant="reference"` (default) is the procedure of the slides: candidates
    `i = start_bin, ..., n` (inclusive, so "no clipping" is a candidate; the slides' Python
    `range(128, 2048)` would stop at 2047), `m` = the **first** argmin, and
    `threshold = edges[0] + (m + 0.5) * w` exactly as written: the centre of bin `m`, i.e. half a
    bin **beyond** the kept bins `[0, m)` (whose upper edge is `m * w`); for `m = n` it is
    `max abs(x) + w / 2`.

    `variant="pytorch_quantization"` is pytorch-quantization's `_compute_amax_entropy`: first
    `H[0] = H[1]` (the zero bin of ReLU outputs takes its neighbour's count), the same candidates
    and `P` / `Q`, the **last** argmin, and `threshold = edges[i]` (the upper edge of the kept
    bins).

    Parameters
    ----------
    x : array_like of float, optional
        The data; or give `histogram` instead.
    bits : int, default 8
        Width of the target integers, 2 to 16.
    bins : int, default 2048
        Histogram bins when `x` is given.
    start_bin : int, default 128
        Smallest candidate `i`, from 1 to the number of bins.
    histogram : (numpy.ndarray, numpy.ndarray), optional
        A precomputed histogram `(hist, edges)` of `abs(x)`, with equal-width bins.
    unsigned : bool, default False
        Use `2**bits` levels instead of `2**(bits - 1)` (one-sided data).
    variant : {"reference", "pytorch_quantization"}, default "reference"
        Which procedure (see above); the choices are `ENTROPY_VARIANTS`.

    Returns
    -------
    float
        The threshold (amax).

    Raises
    ------
    ValueError
        Both or neither of `x` and `histogram`; `bits` outside 2 to 16; `start_bin` outside 1 to
        the number of bins; an unknown `variant`; a malformed histogram; `x` empty or non-finite.
    TypeError
        A non-integer `bits`, `bins` or `start_bin`; a non-bool `unsigned`.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.calibration import entropy_amax
    >>> hist = np.array([50.0, 30, 10, 5, 0, 0, 0, 1])   # a lone outlier at the top
    >>> entropy_amax(histogram=(hist, np.arange(9.0)), bits=3, start_bin=2)   # keeps m = 4 bins -> 4.5
    4.5
    >>> entropy_amax(histogram=(hist, np.arange(9.0)), bits=3, start_bin=2, variant="pytorch_quantization")
    4.0
    >>> entropy_amax(histogram=(np.full(8, 5.0), np.arange(9.0)), bits=3, start_bin=2)   # uniform: keep all
    8.5
    """
    bits = _check_bits(bits)
    variant = check_choice("variant", variant, ENTROPY_VARIANTS)
    unsigned = _bool_arg("unsigned", unsigned)
    hist, edges = _histogram_input(x, histogram, bins)
    n = hist.size
    start_bin = _int_arg("start_bin", start_bin, 1)
    if start_bin > n:
        raise ValueError(f"start_bin ({start_bin}) must not exceed the number of bins ({n})")
    h = hist.copy()
    if variant == "pytorch_quantization" and n > 1:
        h[0] = h[1]
    levels = 1 << (bits - 1 + unsigned)
    tail = np.concatenate([np.cumsum(h[::-1])[::-1], [0.0]])   # tail[i] = sum(h[i:])
    cands = range(start_bin, n + 1)
    div = np.empty(len(cands))
    for k, i in enumerate(cands):
        src = h[:i]
        p = src.copy()
        p[-1] += tail[i]
        lev = (np.arange(i) * levels) // i
        nonempty = src > 0
        total = np.bincount(lev, weights=src, minlength=levels)
        count = np.bincount(lev, weights=nonempty, minlength=levels)
        q = np.where(nonempty, total[lev] / np.maximum(count[lev], 1), 0.0)
        div[k] = _kl(p, q)
    if variant == "reference":
        m = start_bin + int(np.argmin(div))
        w = (edges[-1] - edges[0]) / n
        return float(edges[0] + (m + 0.5) * w)
    m = start_bin + len(div) - 1 - int(np.argmin(div[::-1]))
    return float(edges[m])


# ------------------------------------------------------------------------------------------------ ACIQ


def _bisect_root(f) -> float:
    """The root of an increasing function f on (0, 128), to the last bit (plain bisection)."""
    lo, hi = 0.0, 128.0
    while True:
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            return lo
        if f(mid) < 0:
            lo = mid
        else:
            hi = mid


def aciq_alpha(bits: int, distribution: str = "laplace") -> float:
    """ACIQ's optimal clipping value in units of the distribution's scale (`alpha / b` or `alpha / sigma`).

    Banner et al. (arXiv:1810.05723) model the MSE of clipping at `alpha` and quantizing
    `[-alpha, alpha]` uniformly to `2**M` levels (`M = bits`):

    - Laplace(b): `E = 2 b**2 exp(-alpha / b) + alpha**2 / (3 * 4**M)`;
    - Gaussian(sigma): `E = (alpha**2 + sigma**2) (1 - erf(alpha / (sqrt 2 sigma))) -
      sqrt(2 / pi) alpha sigma exp(-alpha**2 / (2 sigma**2)) + alpha**2 / (3 * 4**M)`.

    The result is the root of `dE / dalpha` with unit scale, found by bisection to full double
    precision: Laplace `alpha / (3 * 4**M) = exp(-alpha)`; Gaussian `alpha erfc(alpha / sqrt 2) -
    sqrt(2 / pi) exp(-alpha**2 / 2) + alpha / (3 * 4**M) = 0`.

    Parameters
    ----------
    bits : int
        `M`, 1 to 32 (use `bits + 1` for one-sided data, as `aciq_amax` does).
    distribution : {"laplace", "gaussian"}, default "laplace"
        The model of the data (`ACIQ_DISTRIBUTIONS`).

    Returns
    -------
    float
        `alpha` for a unit scale (`b = 1` or `sigma = 1`).

    Raises
    ------
    ValueError
        `bits` outside 1 to 32; an unknown `distribution`.
    TypeError
        A non-integer `bits`.

    Examples
    --------
    >>> from floatsim.quant.calibration import aciq_alpha
    >>> round(aciq_alpha(8, "laplace"), 4), round(aciq_alpha(4, "gaussian"), 4)
    (9.8968, 2.5591)
    """
    bits = _int_arg("bits", bits, 1, 32)
    distribution = check_choice("distribution", distribution, ACIQ_DISTRIBUTIONS)
    c = 3.0 * 4.0 ** bits
    if distribution == "laplace":
        return _bisect_root(lambda a: a / c - math.exp(-a))
    k = math.sqrt(2.0 / math.pi)
    return _bisect_root(lambda a: a * math.erfc(a / math.sqrt(2.0)) - k * math.exp(-a * a / 2.0) + a / c)


def aciq_amax(x, bits: int = 8, distribution: str = "laplace", one_sided: bool = False) -> float:
    """ACIQ clipping value for data `x`: `aciq_alpha(bits') * scale`.

    `scale` is `b = mean(abs(x - mean(x)))` (Laplace) or `sigma = std(x)` (Gaussian, population
    std), in float64; `bits' = bits + 1` when `one_sided` (post-ReLU data use the next entry of
    the table, as the paper does), else `bits`. The value is a half-width about zero: the data are
    assumed centred (the mean is not added back).

    Parameters
    ----------
    x : array_like of float
        The data: finite, non-empty, any shape.
    bits : int, default 8
        Width of the target integers, 1 to 31.
    distribution : {"laplace", "gaussian"}, default "laplace"
        The model of the data.
    one_sided : bool, default False
        The data are one-sided (e.g. after a ReLU): use `bits + 1`.

    Returns
    -------
    float
        The clipping value (amax).

    Raises
    ------
    ValueError
        `x` empty or holding NaN or ±inf; `bits` outside 1 to 31; an unknown `distribution`.
    TypeError
        A non-integer `bits`; a non-bool `one_sided`.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.calibration import aciq_amax
    >>> x = np.float64([-2.0, -1.0, 1.0, 2.0])          # mean 0, b = 1.5
    >>> round(aciq_amax(x, bits=8, distribution="laplace"), 4)   # 9.8968 * 1.5
    14.8451
    >>> round(aciq_amax(x, bits=4, distribution="gaussian"), 4)  # aciq_alpha(4, "gaussian") * std(x)
    4.0464
    """
    x = _data(x).astype(np.float64)
    one_sided = _bool_arg("one_sided", one_sided)
    alpha = aciq_alpha(_int_arg("bits", bits, 1, 31) + one_sided, distribution)
    if check_choice("distribution", distribution, ACIQ_DISTRIBUTIONS) == "laplace":
        scale = float(np.mean(np.abs(x - x.mean())))
    else:
        scale = float(np.std(x))
    return alpha * scale
