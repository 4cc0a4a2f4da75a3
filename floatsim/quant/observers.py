"""NumPy ports of the `torch.ao.quantization` observers (torch 2.13), bit for bit.

An observer watches tensors as they flow through a model during calibration (`obs(x)` or
`obs.observe(x)` records statistics and returns `x` unchanged) and turns what it saw into
affine quantization parameters: `calculate_qparams()` returns `(scale, zero_point)`, a float32
scale and an int32 zero point, ready for `floatsim.quant.quantize_affine` or
`floatsim.quant.fake_quantize_affine`. The ranges and qparams equal torch's bit for bit.

| observer | statistic |
|---|---|
| `MinMaxObserver` | running min / max |
| `MovingAverageMinMaxObserver` | the first batch sets min / max, then `v += c * (cur - v)` (float32) |
| `PerChannelMinMaxObserver` | running min / max per index along `ch_axis` |
| `MovingAveragePerChannelMinMaxObserver` | the moving average per channel |
| `HistogramObserver` | a running histogram and torch's greedy L2 range search |

**qparams** (torch's `_calculate_qparams`; `min_neg = min(min_val, 0)`, `max_pos =
max(max_val, 0)`, `eps` = float32 eps by default):

- symmetric: `scale = max(max(-min_neg, max_pos) / ((qmax - qmin) / 2), eps)` (amax / 127.5
  for int8; `floatsim.quant.choose_qparams` with `divisor="half_range"`); zero point 0, except
  128 for `quint8` / `uint8` (`(qmin + qmax) // 2` with custom bounds), `2**15` for `uint16`,
  and `(qmin + qmax + 1) // 2` for an unsigned `floatsim.IntFormat`;
- affine: `scale = max((max_pos - min_neg) / (qmax - qmin), eps)`, `zero_point =
  clamp(qmin - round_half_even(min_neg / scale), qmin, qmax)`;
- never observed: `(1.0, 0)`.

All arithmetic is float32, as torch's; inputs are cast to float32 first (torch's
`x.to(min_val.dtype)`). Per-tensor qparams are 0-d arrays (torch returns shape `[1]`),
per-channel ones have shape `(C,)`.

**Python vs C++ mismatch.** These are the *Python* observers' rules. torch's fused C++ path
(`torch.fused_moving_avg_obs_fake_quant`, `ChooseQuantizationParams`) uses
`max(abs(min) / 128, max / 127)` for symmetric int8 instead of `amax / 127.5`
(`choose_qparams(..., divisor="no_clipping")`); affine qparams agree (pytorch/pytorch PR
#180990, pytorch/ao PR #4345).

**Dtypes** (`dtype=`): `"quint8"` (default, torch's default) / `"uint8"`: [0, 255]; `"qint8"` /
`"int8"`: [-128, 127]; `"qint32"` / `"int32"`, `"int16"`, `"uint16"`: full range; `"quint4x2"`:
[0, 15]; or any `floatsim.IntFormat(bits=, signed=)`: its full range. `reduce_range=True`
halves the range (qint8 [-64, 63], quint8 [0, 127]; custom bounds and IntFormat ranges are
floor-divided by 2; qint32 / int16 / uint16 ignore it, as torch does). Custom `quant_min` /
`quant_max` must include 0.

**Non-finite input.** NaN raises `ValueError` everywhere (torch would silently store NaN).
±inf raises in the min / max observers (torch would store an infinite range);
`HistogramObserver` drops ±inf with a `RuntimeWarning`, as torch does.

Examples
--------
>>> import numpy as np
>>> import floatsim.quant as fq
>>> x = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
>>> obs = fq.observers.MinMaxObserver(dtype="qint8", qscheme="per_tensor_symmetric")
>>> _ = obs(x)                                      # observe a calibration batch
>>> scale, zero_point = obs.calculate_qparams()
>>> scale, zero_point
(array(0.0305837, dtype=float32), array(0, dtype=int32))
>>> y = fq.fake_quantize_affine(x, scale, zero_point, -128, 127)
>>> round(fq.sqnr(x, y), 2)
40.89
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ..format import IntFormat
from .affine import TORCH_EPS, choose_qparams
from .base import check_choice, float_input

__all__ = [
    "MinMaxObserver", "MovingAverageMinMaxObserver", "PerChannelMinMaxObserver",
    "MovingAveragePerChannelMinMaxObserver", "HistogramObserver", "observer_qrange", "QSCHEMES",
]

F32 = np.float32
QSCHEMES = ("per_tensor_affine", "per_tensor_symmetric", "per_channel_affine", "per_channel_symmetric")
"""The `qscheme` names (torch's): the first two for per-tensor observers, the last two per channel."""
# name -> (default qmin, qmax, reduced qmin, qmax or None when reduce_range is ignored, bits)
_DTYPES = {
    "qint8": (-128, 127, (-64, 63), 8), "int8": (-128, 127, (-64, 63), 8),
    "quint8": (0, 255, (0, 127), 8), "uint8": (0, 255, (0, 127), 8),
    "qint32": (-(2 ** 31), 2 ** 31 - 1, None, 32), "int32": (-(2 ** 31), 2 ** 31 - 1, None, 32),
    "int16": (-(2 ** 15), 2 ** 15 - 1, None, 16), "uint16": (0, 2 ** 16 - 1, None, 16),
    "quint4x2": (0, 15, None, 8),
}


def _dtype_key(dtype):
    if isinstance(dtype, IntFormat):
        return dtype
    if isinstance(dtype, str) and dtype.lower() in _DTYPES:
        return dtype.lower()
    raise ValueError(f"dtype must be one of {', '.join(map(repr, _DTYPES))} or an IntFormat, not {dtype!r}")


def observer_qrange(dtype="quint8", reduce_range: bool = False, quant_min=None, quant_max=None) -> tuple[int, int]:
    """`(qmin, qmax)` of an observer, as torch's `calculate_qmin_qmax`.

    Parameters
    ----------
    dtype : str or IntFormat, default "quint8"
        `"quint8"` / `"uint8"`, `"qint8"` / `"int8"`, `"qint32"` / `"int32"`, `"int16"`,
        `"uint16"`, `"quint4x2"`, or a `floatsim.IntFormat` (its full range).
    reduce_range : bool, default False
        Halve the range, as torch does (qint8 [-64, 63], quint8 [0, 127]; custom bounds and
        IntFormat ranges are floor-divided by 2; qint32, int16 and uint16 ignore it).
    quant_min : int, optional
        Custom lower bound; give both bounds or neither. The range must include 0.
    quant_max : int, optional
        Custom upper bound; for qint8 at most 256 values in all, for qint32 at most 2**32.

    Returns
    -------
    (int, int)
        `(qmin, qmax)`.

    Raises
    ------
    ValueError
        An unknown `dtype`; only one of `quant_min` / `quant_max`; a custom range that excludes 0,
        is empty or is too wide for `dtype`.
    TypeError
        A non-integer `quant_min` or `quant_max`.

    Examples
    --------
    >>> from floatsim.quant.observers import observer_qrange
    >>> observer_qrange("qint8"), observer_qrange("quint8", reduce_range=True), observer_qrange("qint8", True, -8, 7)
    ((-128, 127), (0, 127), (-4, 3))
    """
    key = _dtype_key(dtype)
    if (quant_min is None) != (quant_max is None):
        raise ValueError("give both quant_min and quant_max, or neither")
    if quant_min is not None:
        for name, v in (("quant_min", quant_min), ("quant_max", quant_max)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"{name} must be an integer, not {v!r}")
        if not quant_min <= 0 <= quant_max:
            raise ValueError(f"the range [quant_min, quant_max] = [{quant_min}, {quant_max}] must include 0")
        if quant_min >= quant_max:
            raise ValueError(f"quant_min ({quant_min}) must be less than quant_max ({quant_max})")
        span = 256 if key in ("qint8", "int8") else (2 ** 32 if key in ("qint32", "int32") else None)
        if span is not None and quant_max - quant_min + 1 > span:
            raise ValueError(f"the range [{quant_min}, {quant_max}] has more than {span} values for dtype {dtype!r}")
        lo, hi = int(quant_min), int(quant_max)
        return (lo // 2, hi // 2) if reduce_range else (lo, hi)
    if isinstance(key, IntFormat):
        lo, hi = int(key.min), int(key.max)
        return (lo // 2, hi // 2) if reduce_range else (lo, hi)
    lo, hi, reduced, _ = _DTYPES[key]
    return reduced if reduce_range and reduced is not None else (lo, hi)


def _dst_nbins(key) -> int:
    return 2 ** (key.bits if isinstance(key, IntFormat) else _DTYPES[key][3])


class _UniformObserver:
    """Shared configuration and torch's `_calculate_qparams`."""

    _per_channel = False

    def __init__(self, *, dtype="quint8", qscheme=None, reduce_range=False, quant_min=None, quant_max=None,
                 eps=TORCH_EPS):
        self._key = _dtype_key(dtype)
        self.dtype = dtype
        allowed = QSCHEMES[2:] if self._per_channel else QSCHEMES[:2]
        self.qscheme = check_choice("qscheme", allowed[0] if qscheme is None else qscheme, allowed)
        if not isinstance(reduce_range, bool | np.bool_):
            raise TypeError(f"reduce_range must be True or False, not {reduce_range!r}")
        self.reduce_range = bool(reduce_range)
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps > 0 or not math.isfinite(eps):
            raise ValueError(f"eps must be a positive finite number, not {eps!r}")
        self.eps = float(eps)
        self.has_customized_qrange = quant_min is not None and quant_max is not None
        self.quant_min, self.quant_max = observer_qrange(dtype, self.reduce_range, quant_min, quant_max)

    @property
    def symmetric(self) -> bool:
        """Whether `qscheme` is a symmetric one (`"per_tensor_symmetric"` or `"per_channel_symmetric"`)."""
        return self.qscheme.endswith("symmetric")

    def _symmetric_zero_point(self) -> int:
        key, lo, hi = self._key, self.quant_min, self.quant_max
        if key in ("quint8", "uint8"):
            return (lo + hi) // 2 if self.has_customized_qrange else 128
        if key == "uint16":
            return 2 ** 15
        if isinstance(key, IntFormat) and not key.signed:
            return (lo + hi + 1) // 2
        return 0

    def _qparams(self, min_val, max_val) -> tuple[np.ndarray, np.ndarray]:
        lo = np.asarray(min_val, F32)
        hi = np.asarray(max_val, F32)
        if lo.size == 0 or (lo.ndim == 0 and lo == np.inf and hi == -np.inf):
            return np.asarray(F32(1.0)), np.asarray(np.int32(0))
        if np.any(lo > hi):
            raise ValueError(f"min_val {lo} must not exceed max_val {hi}")
        scale, zp = choose_qparams(lo, hi, qmin=self.quant_min, qmax=self.quant_max, symmetric=self.symmetric,
                                   divisor="half_range", eps=self.eps)
        if self.symmetric:
            zp = np.full(np.shape(scale), self._symmetric_zero_point(), np.int32)
        return np.asarray(scale, F32), np.asarray(zp, np.int32)

    def __call__(self, x):
        return self.observe(x)

    def observe(self, x):  # pragma: no cover - abstract
        raise NotImplementedError


def _finite32(x, *, allow_inf=False) -> np.ndarray:
    x = float_input(x)
    if np.isnan(x).any():
        raise ValueError(f"x contains {int(np.isnan(x).sum())} NaN value(s): observers need NaN-free data")
    with np.errstate(over="ignore"):
        x32 = x.astype(F32, copy=False)
    if not allow_inf and np.isinf(x32).any():
        raise ValueError(f"x contains {int(np.isinf(x32).sum())} inf value(s) (or values beyond the float32 range): "
                         "the observed range would be infinite")
    return x32


class MinMaxObserver(_UniformObserver):
    """Running min / max (torch `MinMaxObserver`).

    `min_val = min(min_val, min(x))`, `max_val = max(max_val, max(x))` in float32, starting from
    `+inf` / `-inf`; empty tensors are ignored. The qparams follow the rules of the module
    docstring.

    Parameters
    ----------
    dtype : str or IntFormat, default "quint8"
        The integer type of the codes: `"quint8"` / `"uint8"`, `"qint8"` / `"int8"`, `"qint32"` /
        `"int32"`, `"int16"`, `"uint16"`, `"quint4x2"`, or a `floatsim.IntFormat` (see the module
        docstring for the ranges).
    qscheme : {"per_tensor_affine", "per_tensor_symmetric"}, default "per_tensor_affine"
        Affine (a zero point from the minimum) or symmetric (scale from the larger magnitude).
    reduce_range : bool, default False
        Halve the range (see `observer_qrange`); not allowed with symmetric `quint8` / `uint8`, as
        in torch.
    quant_min : int, optional
        Custom lower bound of the codes (give both bounds or neither; the range must include 0).
    quant_max : int, optional
        Custom upper bound of the codes.
    eps : float, default float32 eps
        Smallest scale (`np.finfo(np.float32).eps`, torch's default).

    Attributes
    ----------
    min_val : numpy.ndarray
        0-d float32: the smallest value seen (`+inf` before any data).
    max_val : numpy.ndarray
        0-d float32: the largest value seen (`-inf` before any data).
    quant_min : int
        Lower bound of the codes (after `reduce_range`).
    quant_max : int
        Upper bound of the codes.

    Raises
    ------
    ValueError
        An unknown `dtype` or `qscheme`; `reduce_range=True` with symmetric `quint8`; a bad custom
        range; `eps` not positive and finite.
    TypeError
        A non-bool `reduce_range`; non-integer bounds.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.observers import MinMaxObserver
    >>> obs = MinMaxObserver(dtype="quint8")
    >>> _ = obs(np.float32([-1.0, 0.5])); _ = obs(np.float32([2.55]))
    >>> scale, zp = obs.calculate_qparams()
    >>> obs.min_val.tolist(), obs.max_val.tolist(), scale.tolist(), zp.tolist()
    (-1.0, 2.549999952316284, 0.013921568170189857, 72)
    """

    def __init__(self, *, dtype="quint8", qscheme="per_tensor_affine", reduce_range=False, quant_min=None,
                 quant_max=None, eps=TORCH_EPS):
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range, quant_min=quant_min,
                         quant_max=quant_max, eps=eps)
        if self.symmetric and self.reduce_range and self._key in ("quint8", "uint8"):
            raise ValueError("reduce_range=True is not supported with symmetric quint8 (torch raises too)")
        self.reset_min_max_vals()

    def reset_min_max_vals(self) -> None:
        """Forget what was observed: `min_val` back to `+inf`, `max_val` to `-inf`.

        Returns
        -------
        None
        """
        self.min_val = np.asarray(F32(np.inf))
        self.max_val = np.asarray(F32(-np.inf))

    def _update(self, lo, hi) -> None:
        self.min_val = np.minimum(lo, self.min_val)
        self.max_val = np.maximum(hi, self.max_val)

    def observe(self, x):
        """Record `x`: fold its min and max into `min_val` / `max_val` (also `obs(x)`).

        Parameters
        ----------
        x : array_like of float
            Any shape; cast to float32 first. An empty `x` is ignored.

        Returns
        -------
        array_like
            `x` itself, unchanged.

        Raises
        ------
        ValueError
            `x` holds NaN or ±inf (or values beyond the float32 range).
        TypeError
            `x` is not a float16 / float32 / float64 array (lists and integers are converted).

        Examples
        --------
        >>> import numpy as np
        >>> from floatsim.quant.observers import MinMaxObserver
        >>> obs = MinMaxObserver()
        >>> obs.observe(np.float32([0.5, -1.0])).tolist()   # returns x
        [0.5, -1.0]
        >>> _ = obs.observe(np.float32([3.0]))
        >>> obs.min_val.tolist(), obs.max_val.tolist()
        (-1.0, 3.0)
        """
        x32 = _finite32(x)
        if x32.size:
            self._update(np.asarray(x32.min()), np.asarray(x32.max()))
        return x

    def calculate_qparams(self) -> tuple[np.ndarray, np.ndarray]:
        """The affine quantization parameters of the observed range.

        Returns
        -------
        scale : numpy.ndarray
            0-d float32.
        zero_point : numpy.ndarray
            0-d int32. Before any data: `(1.0, 0)`.

        Examples
        --------
        >>> import numpy as np
        >>> from floatsim.quant.observers import MinMaxObserver
        >>> obs = MinMaxObserver(dtype="qint8", qscheme="per_tensor_symmetric")
        >>> obs.calculate_qparams()                      # nothing observed yet
        (array(1., dtype=float32), array(0, dtype=int32))
        >>> _ = obs(np.float32([-2.0, 1.0]))
        >>> [v.tolist() for v in obs.calculate_qparams()]   # 2 / 127.5
        [0.01568627543747425, 0]
        """
        return self._qparams(self.min_val, self.max_val)


class MovingAverageMinMaxObserver(MinMaxObserver):
    """Moving average of per-batch min / max (torch `MovingAverageMinMaxObserver`).

    The first batch sets `min_val` / `max_val`; each later batch does
    `min_val = min_val + c * (min(x) - min_val)` (the same for max), in float32 with
    `c = float32(averaging_constant)`. Methods and attributes as `MinMaxObserver`.

    Parameters
    ----------
    averaging_constant : float, default 0.01
        Weight of each new batch, in (0, 1].
    dtype : str or IntFormat, default "quint8"
        The integer type of the codes: `"quint8"` / `"uint8"`, `"qint8"` / `"int8"`, `"qint32"` /
        `"int32"`, `"int16"`, `"uint16"`, `"quint4x2"`, or a `floatsim.IntFormat` (see the module
        docstring for the ranges).
    qscheme : {"per_tensor_affine", "per_tensor_symmetric"}, default "per_tensor_affine"
        Affine (a zero point from the minimum) or symmetric (scale from the larger magnitude).
    reduce_range : bool, default False
        Halve the range (see `observer_qrange`); not allowed with symmetric `quint8` / `uint8`, as
        in torch.
    quant_min : int, optional
        Custom lower bound of the codes (give both bounds or neither; the range must include 0).
    quant_max : int, optional
        Custom upper bound of the codes.
    eps : float, default float32 eps
        Smallest scale (`np.finfo(np.float32).eps`, torch's default).

    Attributes
    ----------
    min_val : numpy.ndarray
        0-d float32: the averaged minimum (`+inf` before any data).
    max_val : numpy.ndarray
        0-d float32: the averaged maximum (`-inf` before any data).

    Raises
    ------
    ValueError
        An unknown `dtype` or `qscheme`; `reduce_range=True` with symmetric `quint8`; a bad custom
        range; `eps` not positive and finite; `averaging_constant` outside (0, 1].
    TypeError
        A non-bool `reduce_range`; non-integer bounds.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.observers import MovingAverageMinMaxObserver
    >>> obs = MovingAverageMinMaxObserver(averaging_constant=0.5, dtype="qint8", qscheme="per_tensor_symmetric")
    >>> _ = obs(np.float32([-1.0, 1.0])); _ = obs(np.float32([0.0, 3.0]))
    >>> obs.min_val.tolist(), obs.max_val.tolist(), obs.calculate_qparams()[0].tolist()
    (-0.5, 2.0, 0.01568627543747425)
    """

    def __init__(self, *, averaging_constant=0.01, dtype="quint8", qscheme="per_tensor_affine", reduce_range=False,
                 quant_min=None, quant_max=None, eps=TORCH_EPS):
        c = averaging_constant
        if isinstance(c, bool) or not isinstance(c, numbers.Real) or not 0 < c <= 1:
            raise ValueError(f"averaging_constant must be a number in (0, 1], not {c!r}")
        self.averaging_constant = float(c)
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range, quant_min=quant_min,
                         quant_max=quant_max, eps=eps)

    def _update(self, lo, hi) -> None:
        if self.min_val == np.inf and self.max_val == -np.inf:
            self.min_val, self.max_val = lo, hi
            return
        c = F32(self.averaging_constant)
        self.min_val = np.asarray(self.min_val + c * (lo - self.min_val), F32)
        self.max_val = np.asarray(self.max_val + c * (hi - self.max_val), F32)


class PerChannelMinMaxObserver(_UniformObserver):
    """Running min / max per index along `ch_axis` (torch `PerChannelMinMaxObserver`).

    For weights: one scale and zero point per output channel. The qparams follow the rules of
    the module docstring, channel by channel.

    Parameters
    ----------
    ch_axis : int, default 0
        The channel axis (0: the output channels of a weight); negative values count from the
        end. Every observed tensor must have the same number of channels.
    dtype : str or IntFormat, default "quint8"
        The integer type of the codes: `"quint8"` / `"uint8"`, `"qint8"` / `"int8"`, `"qint32"` /
        `"int32"`, `"int16"`, `"uint16"`, `"quint4x2"`, or a `floatsim.IntFormat` (see the module
        docstring for the ranges).
    qscheme : {"per_channel_affine", "per_channel_symmetric"}, default "per_channel_affine"
        Affine (a zero point per channel) or symmetric.
    reduce_range : bool, default False
        Halve the range (see `observer_qrange`); not allowed with symmetric `quint8` / `uint8`, as
        in torch.
    quant_min : int, optional
        Custom lower bound of the codes (give both bounds or neither; the range must include 0).
    quant_max : int, optional
        Custom upper bound of the codes.
    eps : float, default float32 eps
        Smallest scale (`np.finfo(np.float32).eps`, torch's default).

    Attributes
    ----------
    min_val : numpy.ndarray
        float32, shape `(C,)`: the per-channel minima (empty before the first tensor).
    max_val : numpy.ndarray
        float32, shape `(C,)`: the per-channel maxima.

    Raises
    ------
    ValueError
        An unknown `dtype` or `qscheme`; `reduce_range=True` with symmetric `quint8`; a bad custom
        range; `eps` not positive and finite.
    TypeError
        A non-bool `reduce_range`; non-integer bounds; a non-integer `ch_axis`.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.observers import PerChannelMinMaxObserver
    >>> obs = PerChannelMinMaxObserver(dtype="qint8", qscheme="per_channel_symmetric")
    >>> _ = obs(np.float32([[1.0, -2.0], [0.5, 0.25]]))
    >>> scale, zp = obs.calculate_qparams()
    >>> scale.tolist(), zp.tolist()
    ([0.01568627543747425, 0.003921568859368563], [0, 0])
    """

    _per_channel = True

    def __init__(self, *, ch_axis=0, dtype="quint8", qscheme="per_channel_affine", reduce_range=False,
                 quant_min=None, quant_max=None, eps=TORCH_EPS):
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range, quant_min=quant_min,
                         quant_max=quant_max, eps=eps)
        if isinstance(ch_axis, bool) or not isinstance(ch_axis, numbers.Integral):
            raise TypeError(f"ch_axis must be an integer, not {ch_axis!r}")
        self.ch_axis = int(ch_axis)
        if self.symmetric and self.reduce_range and self._key in ("quint8", "uint8"):
            raise ValueError("reduce_range=True is not supported with symmetric quint8 (torch raises too)")
        self.reset_min_max_vals()

    def reset_min_max_vals(self) -> None:
        """Forget what was observed: `min_val` and `max_val` become empty again.

        Returns
        -------
        None
        """
        self.min_val = np.zeros(0, F32)
        self.max_val = np.zeros(0, F32)

    def _rows(self, x32: np.ndarray) -> np.ndarray:
        if x32.ndim == 0 or not -x32.ndim <= self.ch_axis < x32.ndim:
            raise ValueError(f"ch_axis={self.ch_axis} is out of range for x with {x32.ndim} dimension(s)")
        rows = np.moveaxis(x32, self.ch_axis, 0).reshape(x32.shape[self.ch_axis], -1)
        if self.min_val.size and rows.shape[0] != self.min_val.size:
            raise ValueError(f"x has {rows.shape[0]} channels along axis {self.ch_axis}, "
                             f"earlier tensors had {self.min_val.size}")
        return rows

    def _update(self, lo, hi) -> None:
        if self.min_val.size == 0:
            self.min_val, self.max_val = lo, hi
        else:
            self.min_val = np.minimum(lo, self.min_val)
            self.max_val = np.maximum(hi, self.max_val)

    def observe(self, x):
        """Record `x`: fold its per-channel min and max into `min_val` / `max_val` (also `obs(x)`).

        Parameters
        ----------
        x : array_like of float
            At least 1-D, cast to float32 first; `x.shape[ch_axis]` must equal the number of channels
            seen before. An empty `x` is ignored.

        Returns
        -------
        array_like
            `x` itself, unchanged.

        Raises
        ------
        ValueError
            `x` holds NaN or ±inf; `ch_axis` is out of range for `x`; the number of channels
            changed.
        TypeError
            `x` is not a float16 / float32 / float64 array (lists and integers are converted).

        Examples
        --------
        >>> import numpy as np
        >>> from floatsim.quant.observers import PerChannelMinMaxObserver
        >>> obs = PerChannelMinMaxObserver(ch_axis=1)
        >>> _ = obs.observe(np.float32([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]]))
        >>> obs.min_val.tolist(), obs.max_val.tolist()
        ([1.0, -2.0, -6.0], [4.0, 5.0, 3.0])
        """
        x32 = _finite32(x)
        if x32.size:
            rows = self._rows(x32)
            self._update(rows.min(axis=1), rows.max(axis=1))
        return x

    def calculate_qparams(self) -> tuple[np.ndarray, np.ndarray]:
        """The per-channel quantization parameters of the observed ranges.

        Returns
        -------
        scale : numpy.ndarray
            float32, shape `(C,)`.
        zero_point : numpy.ndarray
            int32, shape `(C,)`. Before any data: 0-d `(1.0, 0)`.

        Examples
        --------
        >>> import numpy as np
        >>> from floatsim.quant.observers import PerChannelMinMaxObserver
        >>> obs = PerChannelMinMaxObserver(dtype="quint8")
        >>> _ = obs(np.float32([[0.0, 2.55], [-1.0, 1.0]]))
        >>> [v.tolist() for v in obs.calculate_qparams()]   # -1 / scale is -127.49999...: zero point 127
        [[0.009999999776482582, 0.007843137718737125], [0, 127]]
        """
        return self._qparams(self.min_val, self.max_val)


class MovingAveragePerChannelMinMaxObserver(PerChannelMinMaxObserver):
    """Per-channel moving average of min / max (torch `MovingAveragePerChannelMinMaxObserver`).

    The first tensor sets the per-channel min / max; later ones do `v = v + c * (cur - v)` in
    float32. Methods and attributes as `PerChannelMinMaxObserver`.

    Parameters
    ----------
    averaging_constant : float, default 0.01
        Weight of each new tensor, in (0, 1].
    ch_axis : int, default 0
        The channel axis; negative values count from the end.
    dtype : str or IntFormat, default "quint8"
        The integer type of the codes: `"quint8"` / `"uint8"`, `"qint8"` / `"int8"`, `"qint32"` /
        `"int32"`, `"int16"`, `"uint16"`, `"quint4x2"`, or a `floatsim.IntFormat` (see the module
        docstring for the ranges).
    qscheme : {"per_channel_affine", "per_channel_symmetric"}, default "per_channel_affine"
        Affine (a zero point per channel) or symmetric.
    reduce_range : bool, default False
        Halve the range (see `observer_qrange`); not allowed with symmetric `quint8` / `uint8`, as
        in torch.
    quant_min : int, optional
        Custom lower bound of the codes (give both bounds or neither; the range must include 0).
    quant_max : int, optional
        Custom upper bound of the codes.
    eps : float, default float32 eps
        Smallest scale (`np.finfo(np.float32).eps`, torch's default).

    Raises
    ------
    ValueError
        An unknown `dtype` or `qscheme`; `reduce_range=True` with symmetric `quint8`; a bad custom
        range; `eps` not positive and finite; `averaging_constant` outside (0, 1].
    TypeError
        A non-bool `reduce_range`; non-integer bounds; a non-integer `ch_axis`.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.observers import MovingAveragePerChannelMinMaxObserver
    >>> obs = MovingAveragePerChannelMinMaxObserver(averaging_constant=0.25)
    >>> _ = obs(np.float32([[0.0, 4.0], [-4.0, 0.0]])); _ = obs(np.float32([[0.0, 8.0], [0.0, 0.0]]))
    >>> obs.min_val.tolist(), obs.max_val.tolist()
    ([0.0, -3.0], [5.0, 0.0])
    """

    def __init__(self, *, averaging_constant=0.01, ch_axis=0, dtype="quint8", qscheme="per_channel_affine",
                 reduce_range=False, quant_min=None, quant_max=None, eps=TORCH_EPS):
        c = averaging_constant
        if isinstance(c, bool) or not isinstance(c, numbers.Real) or not 0 < c <= 1:
            raise ValueError(f"averaging_constant must be a number in (0, 1], not {c!r}")
        self.averaging_constant = float(c)
        super().__init__(ch_axis=ch_axis, dtype=dtype, qscheme=qscheme, reduce_range=reduce_range,
                         quant_min=quant_min, quant_max=quant_max, eps=eps)

    def _update(self, lo, hi) -> None:
        if self.min_val.size == 0:
            self.min_val, self.max_val = lo, hi
            return
        c = F32(self.averaging_constant)
        self.min_val = (self.min_val + c * (lo - self.min_val)).astype(F32)
        self.max_val = (self.max_val + c * (hi - self.max_val)).astype(F32)


# ------------------------------------------------------------------------------------------ histogram


def _histc(x32: np.ndarray, bins: int, lo, hi) -> np.ndarray:
    """torch.histc(x, bins, min=lo, max=hi) on float32 data (CPU kernel arithmetic)."""
    lo, hi = float(lo), float(hi)
    if lo == hi and x32.size:
        lo, hi = float(x32.min()), float(x32.max())
    if lo == hi:
        lo, hi = lo - 1.0, hi + 1.0
    left, right = F32(lo), F32(hi)
    with np.errstate(over="ignore"):
        if not np.isfinite((right - left) * F32(bins)):
            raise ValueError(f"the observed range [{lo:g}, {hi:g}] is too wide for a float32 histogram of {bins} bins "
                             "(torch's arithmetic): rescale x")
    kept = x32[(x32 >= left) & (x32 <= right)]
    # bin = trunc((x - left) * bins / (right - left)), each step rounded to float32; x == right -> last bin
    pos = (((kept - left) * F32(bins)) / (right - left)).astype(np.int64)
    return np.bincount(np.minimum(pos, bins - 1), minlength=bins).astype(F32)


def _linspace32(start, end, steps: int) -> np.ndarray:
    """torch.linspace(start, end, steps) in float32 on CPU: step = (end - start) / (steps - 1) in float32,
    then start + step * i (first half) / end - step * (steps - 1 - i) (second half), each with one rounding
    (the kernel's fused multiply-add; the product is exact in float64 here)."""
    start, end = F32(start), F32(end)
    step = np.float64(F32(F32(end - start) / F32(steps - 1)))
    i = np.arange(steps)
    first = (np.float64(start) + step * i).astype(F32)
    second = (np.float64(end) - step * (steps - 1 - i)).astype(F32)
    return np.where(i < steps // 2, first, second)


def _floordiv32(a: np.ndarray, b) -> np.ndarray:
    return np.floor_divide(a, F32(b))


class HistogramObserver(_UniformObserver):
    """Running histogram and torch's greedy L2 range search (torch `HistogramObserver`).

    **Histogram.** The first tensor sets `[min_val, max_val]` = its range and a `bins`-bin
    histogram (`torch.histc` arithmetic: bin = trunc((x - min) * bins / (max - min)) in float32,
    `x == max` in the last bin). A later tensor widens the range to
    `[min(min_val, min x), max(max_val, max x)]`, is histogrammed on it, and the old histogram is
    mapped onto the new range: each old bin is split into `upsample_rate` sub-bins of
    `count / upsample_rate`, each sub-bin's midpoint is bucketed into the new bins
    (`bucketize(right=True)`) and the weights summed in float32 in order; an old single-value
    range puts its whole count into the bin of that value.

    **Search** (`_non_linear_param_search`, a port of caffe2
    `NormMinimization::NonlinearQuantizationParamsSearch`): with `cSum` the cumulative histogram
    (accumulated in float64, stored float32), move quantiles `alpha` up and `beta` down by 1e-5
    per step; the side whose bin boundary moves further (`l - start_bin > end_bin - r`; ties move
    the end) is moved; for each new `[start_bin, end_bin]` compute the L2 error of quantizing the
    histogram (uniform density within each source bin) onto `dst_nbins = 2**bits(dtype)` (256 for
    8-bit dtypes, whatever the quant range) equal destination bins, per piece
    `density * (end**3 - begin**3) / 3`; **stop at the first increase**. Then
    `new_min = min_val + w * start_bin`, `new_max = min_val + w * (end_bin + 1)`
    (`w = (max_val - min_val) / bins`, float32) and the MinMax qparams of `[new_min, new_max]`.

    Exactness: every float32 element-wise step of torch is reproduced; the one difference is the
    final `sum` of the 2048 per-bin errors, done here in float64 (torch sums float32 in its own
    SIMD order), so a greedy comparison of two errors closer than about 1e-7 relative could go
    the other way.

    Parameters
    ----------
    bins : int, default 2048
        Histogram bins.
    upsample_rate : int, default 16
        Sub-bins per old bin when re-binning (torch's value).
    dtype : str or IntFormat, default "quint8"
        The integer type of the codes: `"quint8"` / `"uint8"`, `"qint8"` / `"int8"`, `"qint32"` /
        `"int32"`, `"int16"`, `"uint16"`, `"quint4x2"`, or a `floatsim.IntFormat` (see the module
        docstring for the ranges).
    qscheme : {"per_tensor_affine", "per_tensor_symmetric"}, default "per_tensor_affine"
        Affine (a zero point from the minimum) or symmetric (scale from the larger magnitude).
    reduce_range : bool, default False
        Halve the range (see `observer_qrange`); not allowed with symmetric `quint8` / `uint8`, as
        in torch.
    quant_min : int, optional
        Custom lower bound of the codes (give both bounds or neither; the range must include 0).
    quant_max : int, optional
        Custom upper bound of the codes.
    eps : float, default float32 eps
        Smallest scale (`np.finfo(np.float32).eps`, torch's default).

    Attributes
    ----------
    histogram : numpy.ndarray
        float32, shape `(bins,)`: the counts.
    min_val : numpy.ndarray
        0-d float32: the low end of the histogram's range (`+inf` before any data).
    max_val : numpy.ndarray
        0-d float32: the high end (`-inf` before any data).

    Raises
    ------
    ValueError
        An unknown `dtype` or `qscheme`; `reduce_range=True` with symmetric `quint8`; a bad custom
        range; `eps` not positive and finite; `bins` or `upsample_rate` not a positive integer.
    TypeError
        A non-bool `reduce_range`; non-integer bounds.

    Notes
    -----
    Inputs are cast to float32 first (torch histograms float64 input in float64). ±inf values are
    dropped with a `RuntimeWarning` (torch warns and drops them); NaN raises `ValueError`. Counts
    are float32, exact up to 2**24 per bin.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant.observers import HistogramObserver
    >>> obs = HistogramObserver(bins=64)
    >>> _ = obs(np.linspace(-1, 1, 1001, dtype=np.float32))
    >>> scale, zp = obs.calculate_qparams()
    >>> scale.tolist(), zp.tolist()
    (0.007720588240772486, 130)
    """

    def __init__(self, *, bins=2048, upsample_rate=16, dtype="quint8", qscheme="per_tensor_affine",
                 reduce_range=False, quant_min=None, quant_max=None, eps=TORCH_EPS):
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range, quant_min=quant_min,
                         quant_max=quant_max, eps=eps)
        for name, v in (("bins", bins), ("upsample_rate", upsample_rate)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
                raise ValueError(f"{name} must be a positive integer, not {v!r}")
        self.bins = int(bins)
        self.upsample_rate = int(upsample_rate)
        self.dst_nbins = _dst_nbins(self._key)
        self.reset_histogram()

    def reset_histogram(self) -> None:
        """Forget what was observed: the histogram back to zeros, `min_val` / `max_val` to `+inf` / `-inf`.

        Returns
        -------
        None
        """
        self.histogram = np.zeros(self.bins, F32)
        self.min_val = np.asarray(F32(np.inf))
        self.max_val = np.asarray(F32(-np.inf))

    def observe(self, x):
        """Record `x`: add it to the running histogram, widening its range if needed (also `obs(x)`).

        Parameters
        ----------
        x : array_like of float
            Any shape; cast to float32 first. ±inf values are dropped with a `RuntimeWarning`; an
            empty `x` (or one of only infinities) is ignored.

        Returns
        -------
        array_like
            `x` itself, unchanged.

        Raises
        ------
        ValueError
            `x` holds NaN; the range is too wide for a float32 histogram.
        TypeError
            `x` is not a float16 / float32 / float64 array (lists and integers are converted).

        Examples
        --------
        >>> import numpy as np
        >>> from floatsim.quant.observers import HistogramObserver
        >>> obs = HistogramObserver(bins=4)
        >>> _ = obs.observe(np.float32([0.0, 1.0, 1.5, 4.0]))
        >>> obs.histogram.tolist(), obs.min_val.tolist(), obs.max_val.tolist()
        ([1.0, 2.0, 0.0, 1.0], 0.0, 4.0)
        """
        x32 = _finite32(x, allow_inf=True).ravel()
        if x32.size == 0:
            return x
        inf = np.isinf(x32)
        if inf.any():
            warnings.warn(f"x contains {int(inf.sum())} inf value(s); they are ignored", RuntimeWarning, stacklevel=2)
            x32 = x32[~inf]
            if x32.size == 0:
                return x
        x_min, x_max = x32.min(), x32.max()
        cur_min, cur_max = F32(self.min_val), F32(self.max_val)
        if cur_min == np.inf or cur_max == -np.inf:
            self.min_val, self.max_val = np.asarray(x_min), np.asarray(x_max)
            self.histogram = _histc(x32, self.bins, x_min, x_max)
            return x
        new_min, new_max = min(cur_min, x_min), max(cur_max, x_max)
        update = _histc(x32, self.bins, new_min, new_max)
        if new_min == cur_min and new_max == cur_max:
            self.histogram = self.histogram + update
            return x
        if cur_min == cur_max:
            old = _histc(np.asarray([cur_min], F32), self.bins, new_min, new_max) * F32(self.histogram.sum())
        else:
            old = self._upscale(cur_min, cur_max, new_min, new_max)
        self.histogram = (update + old).astype(F32)
        self.min_val, self.max_val = np.asarray(F32(new_min)), np.asarray(F32(new_max))
        return x

    def _upscale(self, orig_min, orig_max, new_min, new_max) -> np.ndarray:
        up, bins = self.upsample_rate, self.bins
        weights = np.repeat(self.histogram, up) / F32(up)
        sub = F32(F32(orig_max - orig_min) / F32(bins * up))
        mids = _linspace32(orig_min, orig_max, bins * up + 1)[:-1] + F32(0.5) * sub
        bounds = _linspace32(new_min, new_max, bins + 1)
        where = np.clip(np.searchsorted(bounds, mids, side="right") - 1, 0, bins - 1)
        out = np.zeros(bins, F32)
        np.add.at(out, where, weights)   # float32, in index order (torch.bincount with float weights)
        return out

    def _quantization_error(self, start_bin: int, end_bin: int) -> float:
        bins = self.bins
        bin_width = (float(self.max_val) - float(self.min_val)) / bins
        dst_width = bin_width * (end_bin - start_bin + 1) / self.dst_nbins
        if dst_width == 0.0:
            return 0.0
        w, dw, half = F32(bin_width), F32(dst_width), F32(dst_width / 2)
        begin = (np.arange(bins) - start_bin).astype(F32) * w
        end = begin + w
        top = F32(self.dst_nbins - 1)
        dst_begin = np.clip(_floordiv32(begin, dw), F32(0), top)
        dst_end = np.clip(_floordiv32(end, dw), F32(0), top)
        density = self.histogram / w
        three = F32(3)

        def piece(d0, d1):
            return density * ((d1 * d1 * d1 - d0 * d0 * d0) / three)

        norm = piece(begin - (dst_begin + F32(0.5)) * dw, half)
        norm = norm + (dst_end - dst_begin - F32(1)) * piece(-half, half)
        norm = norm + piece(-half, end - (dst_end * dw + half))
        return float(np.sum(norm, dtype=np.float64))

    def _non_linear_param_search(self) -> tuple[np.float32, np.float32]:
        hist = self.histogram
        total = float(F32(np.sum(hist, dtype=np.float64)))
        csum = np.cumsum(hist, dtype=np.float64).astype(F32)
        step = 1e-5
        alpha, beta = 0.0, 1.0
        start_bin, end_bin = 0, self.bins - 1
        norm_min = math.inf
        while alpha < beta:
            next_alpha, next_beta = alpha + step, beta - step
            # first l >= start_bin with cSum[l] >= next_alpha * total (compared in float32), at most end_bin;
            # last r <= end_bin with cSum[r] <= next_beta * total, at least start_bin
            lb = int(np.searchsorted(csum, F32(next_alpha * total), side="left"))
            rb = int(np.searchsorted(csum, F32(next_beta * total), side="right")) - 1
            left = min(max(lb, start_bin), end_bin)
            right = min(max(rb, start_bin), end_bin)
            next_start, next_end = start_bin, end_bin
            if left - start_bin > end_bin - right:
                next_start, alpha = left, next_alpha
            else:
                next_end, beta = right, next_beta
            if next_start == start_bin and next_end == end_bin:
                continue
            norm = self._quantization_error(next_start, next_end)
            if norm > norm_min:
                break
            norm_min, start_bin, end_bin = norm, next_start, next_end
        width = F32(F32(self.max_val - self.min_val) / F32(self.bins))
        lo = F32(self.min_val + width * F32(start_bin))
        hi = F32(self.min_val + width * F32(end_bin + 1))
        return lo, hi

    def calculate_qparams(self) -> tuple[np.ndarray, np.ndarray]:
        """The quantization parameters of the range found by the L2 search.

        Returns
        -------
        scale : numpy.ndarray
            0-d float32.
        zero_point : numpy.ndarray
            0-d int32. Before any data: `(1.0, 0)`.

        Examples
        --------
        >>> import numpy as np
        >>> from floatsim.quant.observers import HistogramObserver
        >>> obs = HistogramObserver(bins=64, dtype="qint8", qscheme="per_tensor_symmetric")
        >>> _ = obs(np.linspace(-1, 1, 1001, dtype=np.float32))
        >>> [v.tolist() for v in obs.calculate_qparams()]
        [0.007843137718737125, 0]
        """
        if self.min_val == np.inf and self.max_val == -np.inf:
            return np.asarray(F32(1.0)), np.asarray(np.int32(0))
        return self._qparams(*self._non_linear_param_search())
