"""Adam with float32 states and 8-bit Adam with blockwise dynamic-map states (Dettmers et al., ICLR 2022).

8-bit Adam stores its two moment estimates in 8-bit codes instead of float32, cutting the
optimizer's memory by about 4x; this module emulates bitsandbytes' CPU implementation, and
`Adam` is the float32 reference with the same interface. Both work on NumPy arrays in place
and share one update, computed in float32 as bitsandbytes' CPU reference
(`_optimizer_update_8bit_blockwise_cpu`) does; `t` counts steps from 1:

| step | computation |
|---|---|
| moments | `m = b1 * m + (1 - b1) * g`;  `v = b2 * v + (1 - b2) * g * g` |
| denominator | `denom = sqrt(v) / sqrt(1 - b2**t) + eps` |
| weight decay | if `weight_decay > 0`: `p = p * (1 - lr * weight_decay)` (decoupled, AdamW) |
| update | `p = p + (-lr / (1 - b1**t)) * (m / denom)` |

The scalar factors (`b1`, `1 - b1`, `sqrt(1 - b2**t)`, `-lr / (1 - b1**t)` ...) are computed
in float64 and rounded once to float32; every array operation is a separately rounded float32
operation (no fused multiply-add; torch's CPU `add_(alpha=)` / `addcdiv_` may fuse, so
bitsandbytes can differ from this in the last bit).

`Adam8bit` stores m with bitsandbytes' signed dynamic map and v with the unsigned one, in flat
blocks of 256 with a float32 absmax each (`floatsim.quant.CodebookQuantizer`): each step
dequantizes them, runs the update in float32 and requantizes (a new absmax every step).
Tensors with fewer than `min_8bit_size` (4096) elements keep float32 states, as in
bitsandbytes.

Examples
--------
>>> import numpy as np
>>> import floatsim.quant as fq
>>> p32 = np.linspace(-1, 1, 8192, dtype=np.float32)
>>> p8 = p32.copy()
>>> adam, adam8 = fq.Adam(lr=0.01), fq.Adam8bit(lr=0.01)
>>> for _ in range(3):
...     adam.step([p32], [p32.copy()]); adam8.step([p8], [p8.copy()])   # gradient of sum(p**2) / 2
>>> adam.state_nbytes / p32.size, adam8.state_nbytes / p8.size          # bytes of state per parameter
(8.0, 2.03125)
>>> round(float(np.max(np.abs(p8 - p32))), 6)                          # after 3 steps of lr 0.01
0.000547
"""

from __future__ import annotations

import math

import numpy as np

from ..core import cast
from .base import QuantizedTensor, check_choice
from .codebooks import DYNAMIC8_SIGNED, DYNAMIC8_UNSIGNED, CodebookQuantizer

__all__ = ["Adam", "Adam8bit"]

_PARAM_DTYPES = (np.dtype(np.float16), np.dtype(np.float32))


def _f32(x) -> np.ndarray:
    """float32 values of `x` (float16 / float32 exactly; float64 rounded to nearest even by floatsim.core)."""
    arr = np.asarray(x)
    if arr.dtype == np.float64:
        return np.asarray(cast(arr, "float32", dtype=np.float32))
    return arr.astype(np.float32)


def _number(argument: str, value, *, low: float = 0.0, below: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{argument} must be a number, not {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < low or (below is not None and v >= below):
        allowed = f">= {low}" if below is None else f"in [{low}, {below})"
        raise ValueError(f"{argument} must be a finite number {allowed}, not {value!r}")
    return v


class Adam:
    """Adam (decoupled weight decay) on NumPy arrays with float32 moment states.

    The float32 reference of `Adam8bit`: the update of the module docstring, with `m` and `v` kept
    in float32. `step(params, grads)` updates the parameters in place.

    Parameters
    ----------
    lr : float, default 1e-3
        Learning rate, >= 0.
    betas : (float, float), default (0.9, 0.999)
        Decay rates of the first and second moments, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator, >= 0.
    weight_decay : float, default 0.0
        Decoupled (AdamW) weight decay, >= 0.

    Attributes
    ----------
    t : int
        Steps taken.
    state : list of dict
        One `{"m": ..., "v": ...}` per parameter (float32 arrays here), created at the first
        step.

    Raises
    ------
    ValueError
        A hyperparameter out of range or not finite.
    TypeError
        A hyperparameter that is not a number; `betas` not a pair.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant import Adam
    >>> p = np.array([1.0, -2.0, 0.5], np.float32)
    >>> opt = Adam(lr=0.1)
    >>> opt.step([p], [np.array([0.3, -0.2, 0.0])])   # first step: p - lr * sign(g)
    >>> p.tolist(), opt.t
    ([0.9000000357627869, -1.899999976158142, 0.5], 1)
    """

    def __init__(self, *, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0):
        self.lr = _number("lr", lr)
        try:
            b1, b2 = betas
        except (TypeError, ValueError):
            raise TypeError(f"betas must be a pair of numbers, not {betas!r}") from None
        self.betas = (_number("betas[0]", b1, below=1.0), _number("betas[1]", b2, below=1.0))
        self.eps = _number("eps", eps)
        self.weight_decay = _number("weight_decay", weight_decay)
        self.t = 0
        self.state: list[dict] = []
        self._shapes: list[tuple] | None = None

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(lr={self.lr}, betas={self.betas}, eps={self.eps}, "
                f"weight_decay={self.weight_decay})")

    # ---------------------------------------------------------------- states
    def _init_state(self, p: np.ndarray) -> dict:
        return {"m": np.zeros(p.shape, np.float32), "v": np.zeros(p.shape, np.float32)}

    def _load(self, state: dict) -> tuple[np.ndarray, np.ndarray]:
        return state["m"].astype(np.float32), state["v"].astype(np.float32)

    def _store(self, state: dict, m: np.ndarray, v: np.ndarray) -> None:
        state["m"], state["v"] = m, v

    @property
    def state_nbytes(self) -> float:
        """Bytes the optimizer states take (8 per element for float32 states; codes plus absmax for 8-bit ones)."""
        total = 0.0
        for st in self.state:
            for key in ("m", "v"):
                s = st[key]
                total += s.nbytes if isinstance(s, QuantizedTensor) else s.size * 4
        return total

    # ---------------------------------------------------------------- the step
    def _check(self, params, grads) -> None:
        if not isinstance(params, list | tuple) or not isinstance(grads, list | tuple):
            raise TypeError("params and grads must be lists of numpy arrays")
        if len(params) != len(grads):
            raise ValueError(f"params and grads must have the same length, not {len(params)} and {len(grads)}")
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            if not isinstance(p, np.ndarray) or p.dtype not in _PARAM_DTYPES:
                what = p.dtype.name if isinstance(p, np.ndarray) else type(p).__name__
                raise TypeError(f"params[{i}] must be a float32 or float16 numpy array (updated in place), not {what}")
            if not p.flags.writeable:
                raise ValueError(f"params[{i}] is read-only")
            if not isinstance(g, np.ndarray) or g.dtype.kind != "f" or g.dtype.itemsize not in (2, 4, 8):
                what = g.dtype.name if isinstance(g, np.ndarray) else type(g).__name__
                raise TypeError(f"grads[{i}] must be a float16, float32 or float64 numpy array, not {what}")
            if g.shape != p.shape:
                raise ValueError(f"grads[{i}] has shape {g.shape}, params[{i}] has shape {p.shape}")
        shapes = [p.shape for p in params]
        if self._shapes is not None and shapes != self._shapes:
            raise ValueError(f"params must keep the shapes of the first step {self._shapes}, not {shapes}")

    def step(self, params, grads) -> None:
        """One Adam step: update every array of `params` in place from `grads`.

        The update is computed in float32 (float16 parameters are rounded back to nearest even). The
        first call creates the states; every later call must pass the same number of parameters with
        the same shapes. A refused step changes nothing.

        Parameters
        ----------
        params : list of numpy.ndarray
            The parameters: writable float32 or float16 arrays, any shapes, updated in place.
        grads : list of numpy.ndarray
            Their gradients: float16, float32 or float64 arrays of the same shapes (float64 is
            rounded to float32).

        Returns
        -------
        None

        Raises
        ------
        TypeError
            `params` or `grads` is not a list or tuple, or holds an array of the wrong kind.
        ValueError
            Lengths or shapes that differ, shapes that changed since the first step, a read-only
            parameter; for `Adam8bit`, a gradient that makes an 8-bit state NaN or inf.

        Examples
        --------
        >>> import numpy as np
        >>> from floatsim.quant import Adam
        >>> p = np.zeros(3, np.float16)
        >>> opt = Adam(lr=0.1, weight_decay=0.5)
        >>> opt.step([p], [np.float64([1e-3, -2.0, 0.0])])   # float64 gradients are rounded to float32
        >>> p, opt.t
        (array([-0.1,  0.1,  0. ], dtype=float16), 1)
        """
        self._check(params, grads)
        first = self._shapes is None
        states = [self._init_state(p) for p in params] if first else self.state
        t = self.t + 1
        b1, b2 = self.betas
        # scalar factors: float64 arithmetic, one rounding to float32 (as torch's scalar arguments)
        beta1, one_m_b1 = np.float32(b1), np.float32(1.0 - b1)
        beta2, one_m_b2 = np.float32(b2), np.float32(1.0 - b2)
        corr2 = np.float32(math.sqrt(1.0 - b2**t))
        step_size = np.float32(-self.lr / (1.0 - b1**t))
        eps = np.float32(self.eps)
        decay = np.float32(1.0 - self.lr * self.weight_decay)
        new = []
        for p, g, state in zip(params, grads, states, strict=True):
            g32 = _f32(g)
            m, v = self._load(state)
            with np.errstate(over="ignore", invalid="ignore"):
                m = beta1 * m + one_m_b1 * g32
                v = beta2 * v + one_m_b2 * (g32 * g32)
                denom = np.sqrt(v) / corr2 + eps
                p32 = p.astype(np.float32)
                if self.weight_decay > 0:
                    p32 = p32 * decay
                p32 = p32 + step_size * (m / denom)
            new.append((m, v, p32))
        self._check_states(new)  # before anything is written: a refused step changes nothing
        if first:
            self._shapes, self.state = [p.shape for p in params], states
        self.t = t
        for p, state, (m, v, p32) in zip(params, self.state, new, strict=True):
            p[...] = p32 if p.dtype == np.float32 else cast(p32, "float16", dtype=np.float16)
            self._store(state, m, v)

    def _check_states(self, new) -> None:
        """float32 states hold anything (NaN propagates, as in torch)."""


class Adam8bit(Adam):
    """8-bit Adam: `Adam` with blockwise dynamic-map states (bitsandbytes `Adam8bit`).

    Parameters
    ----------
    lr : float, default 1e-3
        Learning rate, >= 0.
    betas : (float, float), default (0.9, 0.999)
        Decay rates of the first and second moments, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator, >= 0.
    weight_decay : float, default 0.0
        Decoupled (AdamW) weight decay, >= 0.
    block_size : int, default 256
        Elements per absmax block of the states (bitsandbytes' default since PR #1365; the paper
        used 2048).
    min_8bit_size : int, default 4096
        Tensors with fewer elements keep float32 states.
    tie : {"lower", "bnb_cpu_lut"}, default "lower"
        Nearest-code rule of the state quantizers (see `floatsim.quant.CodebookQuantizer`);
        `"bnb_cpu_lut"` is what bitsandbytes' CPU optimizer uses.

    Attributes
    ----------
    t : int
        Steps taken.
    state : list of dict
        One `{"m": ..., "v": ...}` per parameter: `QuantizedTensor` (uint8 codes and float32
        absmax) for 8-bit tensors, float32 arrays otherwise.
    quantizer_m, quantizer_v : CodebookQuantizer
        The quantizers of the first (signed dynamic map) and second (unsigned) moments.

    Raises
    ------
    ValueError
        A hyperparameter out of range; a bad `block_size`, a negative `min_8bit_size` or an
        unknown `tie`.
    TypeError
        A hyperparameter that is not a number; a non-integer `min_8bit_size`.

    Notes
    -----
    A caller may replace `state[i]["m"]` / `["v"]` (the tests inject states this way). New 8-bit
    states are the quantized zeros. State memory: 2 + 8/256 = 2.031 bytes per element. Compared
    with `bitsandbytes.optim.Adam8bit` (CPU, `tie="bnb_cpu_lut"`) the codes agree except where
    torch's fused multiply-adds move a moment by an ulp across a code boundary. A gradient that
    makes a state NaN or inf (which 8-bit codes cannot store) raises `ValueError` and changes
    nothing.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant import Adam8bit
    >>> p = np.linspace(-1, 1, 4096, dtype=np.float32)
    >>> opt = Adam8bit(lr=0.01)
    >>> opt.step([p], [p.copy()])
    >>> float(p[0]), float(p[-1]), opt.state[0]["m"].codes.dtype.name, opt.state_nbytes / p.size
    (-0.9900000095367432, 0.9900000095367432, 'uint8', 2.03125)
    """

    def __init__(self, *, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
                 block_size: int = 256, min_8bit_size: int = 4096, tie: str = "lower"):
        super().__init__(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        if isinstance(min_8bit_size, bool) or not isinstance(min_8bit_size, int | np.integer):
            raise TypeError(f"min_8bit_size must be an integer, not {min_8bit_size!r}")
        if min_8bit_size < 0:
            raise ValueError(f"min_8bit_size must be >= 0, not {min_8bit_size}")
        self.min_8bit_size = int(min_8bit_size)
        self.tie = check_choice("tie", tie, ("lower", "bnb_cpu_lut"))
        self.quantizer_m = CodebookQuantizer(DYNAMIC8_SIGNED, block_size=block_size, tie=self.tie,
                                             name="dynamic8_signed")
        self.quantizer_v = CodebookQuantizer(DYNAMIC8_UNSIGNED, block_size=block_size, tie=self.tie,
                                             name="dynamic8_unsigned")
        self.block_size = self.quantizer_m.block_size

    def __repr__(self) -> str:
        return (f"{super().__repr__()[:-1]}, block_size={self.block_size}, min_8bit_size={self.min_8bit_size}, "
                f"tie={self.tie!r})")

    def _check_states(self, new) -> None:
        # quantized states cannot hold NaN / inf (NaN or overflowing gradients): refuse the whole step
        for i, (m, v, _) in enumerate(new):
            if m.size >= self.min_8bit_size and not (np.all(np.isfinite(m)) and np.all(np.isfinite(v))):
                raise ValueError(f"grads[{i}] makes the Adam states NaN or inf (a NaN, inf or huge gradient); "
                                 "8-bit states cannot store them, and nothing was updated")

    def _init_state(self, p: np.ndarray) -> dict:
        zeros = np.zeros(p.shape, np.float32)
        if p.size < self.min_8bit_size:
            return {"m": zeros, "v": zeros.copy()}
        return {"m": self.quantizer_m.quantize(zeros), "v": self.quantizer_v.quantize(zeros)}

    def _load(self, state: dict) -> tuple[np.ndarray, np.ndarray]:
        m, v = state["m"], state["v"]
        if isinstance(m, QuantizedTensor):
            return self.quantizer_m.dequantize(m, np.float32), self.quantizer_v.dequantize(v, np.float32)
        return super()._load(state)

    def _store(self, state: dict, m: np.ndarray, v: np.ndarray) -> None:
        if isinstance(state["m"], QuantizedTensor):
            state["m"], state["v"] = self.quantizer_m.quantize(m), self.quantizer_v.quantize(v)
        else:
            super()._store(state, m, v)
