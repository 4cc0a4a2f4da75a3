"""Argument handling shared by the elementwise and reduction verbs, and the :func:`context`."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import itertools
import math
import secrets

import numpy as np

from .._jit import threads_for
from ..core import _float_input, _key, _projection, _resolve_overflow, _resolve_sr_bits
from ..format import FloatFormat, IntFormat, Specials
from ..formats import get_format
from ..rounding import Overflow, Rounding

#: precision and exponent-range limits of the compiled path (see _kernels' proof)
MAX_PRECISION = 26
MAX_EXPONENT = 480

INPUTS = ("check", "round")
ORDERS = ("sequential", "pairwise", "blocked")


# --------------------------------------------------------------------------- context
@dataclasses.dataclass(frozen=True)
class _Settings:
    values: dict
    seeds: object = None  # itertools.count of the context's stochastic calls, or None


_SETTINGS: contextvars.ContextVar[_Settings | None] = contextvars.ContextVar("floatsim_arith_settings",
                                                                            default=None)
_NO_SETTINGS = _Settings({})


def _current() -> _Settings:
    return _SETTINGS.get() or _NO_SETTINGS
#: the arguments a context may set
CONTEXT_KEYS = ("fmt", "accumulate", "product", "outer", "rounding", "overflow", "sr_bits", "order", "block",
                "inputs", "seed")


@contextlib.contextmanager
def context(**settings):
    """Run a block of code with default arguments for every `floatsim.arith` verb.

    Use it in a `with` statement. Inside the block, a verb called without one of the settings
    below takes the context's value; an argument passed to the verb explicitly wins, and an inner
    context extends (and overrides) the outer one. The settings live in a
    `contextvars.ContextVar`: they belong to the thread (or asyncio task) that entered the
    block, so other threads never see them. Values are checked when a verb uses them, except
    `seed`, which is checked on entry.

    With `seed=s`, the stochastic calls inside the block draw their random bits from `s` and
    the call's position in the block (first stochastic call, second, ...): the block is
    reproducible, and no two calls share random bits. A stochastic call inside a context without
    a seed gets a fresh seed, as outside one.

    Parameters
    ----------
    **settings : object
        Defaults by argument name: any of `fmt`, `accumulate`, `product`, `outer`,
        `rounding`, `overflow`, `sr_bits`, `order`, `block`, `inputs` and `seed`
        (see the verbs for their meaning, e.g. `floatsim.arith.add` and `floatsim.arith.matmul`).
        `seed=None` turns an outer context's seed off.

    Yields
    ------
    None
        The block runs with the settings; they are removed when it exits, even on an exception.

    Raises
    ------
    TypeError
        A setting that is not one of the names above.
    ValueError
        `seed` is not a non-negative integer (or None).

    Examples
    --------
    >>> import numpy as np, floatsim.arith as fa
    >>> x = np.float32([1.0, 2.0, 3.0])
    >>> with fa.context(fmt="bfloat16", rounding="toward_zero"):
    ...     fa.div(x, np.float32([3.0, 3.0, 3.0]))
    array([0.33203125, 0.6640625 , 1.        ], dtype=float32)

    An argument passed to the verb wins over the context; an inner context keeps the outer
    settings it does not change (here the rounding `toward_zero`):

    >>> with fa.context(fmt="bfloat16", rounding="toward_zero"):
    ...     a = fa.div(np.float32(1.0), np.float32(3.0), rounding="toward_positive")
    ...     with fa.context(fmt="float16"):
    ...         b = fa.div(np.float32(1.0), np.float32(3.0))
    >>> float(a), float(b)    # 1/3 rounded up in bfloat16, 1/3 rounded toward zero in float16
    (0.333984375, 0.333251953125)

    A seeded block is reproducible, and its successive stochastic calls draw different bits:

    >>> def run():
    ...     with fa.context(fmt="bfloat16", rounding="stochastic", seed=42):
    ...         u = fa.add(np.float32([1.0] * 4), np.float32(2**-9))
    ...         v = fa.add(np.float32([1.0] * 4), np.float32(2**-9))
    ...     return u.tolist(), v.tolist()
    >>> run()
    ([1.0, 1.0, 1.0, 1.0078125], [1.0078125, 1.0, 1.0, 1.0])
    >>> run() == run()
    True
    """
    unknown = sorted(set(settings) - set(CONTEXT_KEYS))
    if unknown:
        raise TypeError(f"context() got unknown setting(s) {', '.join(map(repr, unknown))}; "
                        f"allowed: {', '.join(CONTEXT_KEYS)}")
    outer = _current()
    values = {**outer.values, **settings}
    seeds = outer.seeds
    if "seed" in settings:
        seed = settings["seed"]
        if seed is not None:
            _key(seed)  # validates
        seeds = None if seed is None else itertools.count()
    token = _SETTINGS.set(_Settings(values, seeds))
    try:
        yield
    finally:
        _SETTINGS.reset(token)


def setting(name, value, default):
    """``value`` if the caller passed one, else the context's, else ``default``."""
    if value is not None:
        return value
    return _current().values.get(name, default)


def stream_seed(seed):
    """The seed of one stochastic call: the caller's, the context's next, or None (a fresh one)."""
    if seed is not None:
        return seed
    settings = _current()
    base = settings.values.get("seed")
    if base is None or settings.seeds is None:
        return None
    n = next(settings.seeds)
    return (int(base) * 0x9E3779B97F4A7C15 + n + 1) & 0x7FFFFFFFFFFFFFFF


# --------------------------------------------------------------------------- formats
class Binary64:
    """IEEE binary64 (float64) as an accumulation format: NumPy's own arithmetic, nearest-even only.

    Float formats are at most 32 bits wide, so binary64 has no FloatFormat; the arithmetic
    layer accepts it by name where the hardware's float64 operations are the emulation.
    """

    name = "float64"
    precision = 53
    value_dtype = np.dtype(np.float64)

    def exact_in(self, dtype) -> bool:
        return np.dtype(dtype) == np.float64

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return "Binary64()"


BINARY64 = Binary64()
_BINARY64_NAMES = ("float64", "binary64", "fp64", "f64", "double")


def resolve_format(value, argument: str, *, required: bool = True):
    fmt = setting(argument, value, None)
    if fmt is None:
        if not required:
            return None
        raise TypeError(f"{argument} is required: pass it, or set it for a block with "
                        f"floatsim.arith.context({argument}=...)")
    if isinstance(fmt, Binary64) or (isinstance(fmt, str) and fmt.strip().lower() in _BINARY64_NAMES):
        return BINARY64
    if not isinstance(fmt, (str, FloatFormat, IntFormat)):
        try:
            if np.dtype(fmt) == np.float64:
                return BINARY64
        except TypeError:
            pass
    return get_format(fmt, argument)


def exponent_span_hi(fmt: FloatFormat) -> int:
    """``h`` with every finite ``|x| < 2**h``."""
    return math.frexp(fmt.max)[1]


def exponent_span(fmt: FloatFormat) -> int:
    """The largest |exponent| among the format's range and its quantum."""
    hi = exponent_span_hi(fmt)
    quantum = fmt.emin - fmt.mantissa_bits  # every finite x is a multiple of 2**quantum
    return max(hi, -quantum)


def kernel_supports(fmt) -> bool:
    """Whether the compiled float64 path is correctly rounded for ``fmt`` (see _kernels)."""
    return isinstance(fmt, FloatFormat) and fmt.precision <= MAX_PRECISION and exponent_span(fmt) <= MAX_EXPONENT


def is_binary(fmt, bits: int) -> bool:
    """Whether ``fmt`` is IEEE binary32 (whatever its name) / binary64."""
    if bits == 64:
        return isinstance(fmt, Binary64)
    e, m = 8, 23
    return (isinstance(fmt, FloatFormat) and fmt.exponent_bits == e and fmt.mantissa_bits == m
            and fmt.bias == (1 << (e - 1)) - 1 and fmt.signed and fmt.subnormals and fmt.has_zero
            and fmt.specials is Specials.IEEE)


def max_bits(fmt) -> np.int64:
    """The float64 bit pattern of the format's largest finite value (the fast paths' overflow bound)."""
    return np.array(fmt.max, np.float64).view(np.int64)[()]


def unsupported(fmt, argument: str, what: str) -> ValueError:
    if isinstance(fmt, Binary64):
        return ValueError(f"{argument}=float64 is supported for {what} with rounding='nearest_even' and the ieee "
                          "overflow policy only (NumPy's own float64 arithmetic)")
    return ValueError(
        f"{argument}={fmt} is not supported for {what}: the compiled arithmetic needs precision <= "
        f"{MAX_PRECISION} and exponents within +-{MAX_EXPONENT} (this format has precision "
        f"{fmt.precision}, exponent span {exponent_span(fmt)})"
    )


@dataclasses.dataclass(frozen=True)
class Rules:
    """The resolved rounding arguments of one call."""

    rnd: Rounding
    ov: Overflow
    sr_bits: int

    def projection(self, fmt):
        return _projection(fmt, self.rnd, self.ov, self.sr_bits)


#: the rounding of membership checks: a value of the format is its own nearest-even, IEEE-overflow cast
CHECK = Rules(Rounding.NEAREST_EVEN, Overflow.IEEE, 0)


def resolve_rounding(fmt, rounding, overflow, sr_bits) -> Rules:
    rnd = Rounding.parse(setting("rounding", rounding, "nearest_even"))
    ov = _resolve_overflow(fmt, setting("overflow", overflow, None))
    nbits = _resolve_sr_bits(rnd, setting("sr_bits", sr_bits, None) if rnd.is_stochastic else sr_bits)
    return Rules(rnd, ov, nbits)


def resolve_inputs(inputs) -> str:
    value = setting("inputs", inputs, "check")
    if value not in INPUTS:
        raise ValueError(f"inputs={value!r} is invalid; allowed: 'check' (inputs must be values of the format) "
                         "or 'round' (round them to the format first, nearest-even)")
    return value


def key_of(seed, rnd: Rounding) -> np.uint64:
    """The counter-hash key of a stochastic call (a fresh seed when none is given)."""
    if not rnd.is_stochastic:
        return np.uint64(0)
    seed = stream_seed(seed)
    return _key(secrets.randbits(63) if seed is None else seed)


def float_operand(x, argument: str) -> np.ndarray:
    return _float_input(x, argument)


def output_dtype(fmt, dtype, default) -> np.dtype:
    """``dtype`` if given (checked), else ``default`` widened until the format is exact in it."""
    from ..core import _output_dtype

    if dtype is not None:
        return _output_dtype(fmt, dtype, default)
    dt = np.dtype(default)
    if not fmt.exact_in(dt):
        dt = np.promote_types(dt, fmt.value_dtype)
    return dt


def first_nonmember(arr: np.ndarray, fmt) -> tuple[int, float]:
    """Flat index and value of the first element of ``arr`` that is not a value of ``fmt`` (slow path)."""
    from ..core import cast

    flat = arr.reshape(-1)
    with np.errstate(invalid="ignore"):
        for start in range(0, flat.size, 1 << 16):
            part = flat[start:start + (1 << 16)].astype(np.float64)  # a chunk at a time: no input-sized copy
            if isinstance(fmt, IntFormat):
                ok = np.isfinite(part) & (part == np.round(part)) & (part >= fmt.min) & (part <= fmt.max)
            else:
                ok = np.isnan(part) if fmt.has_nan else np.zeros(part.shape, bool)
                finite = ~np.isnan(part)
                if finite.any():
                    try:
                        back = cast(part[finite], fmt)
                    except ValueError:
                        back = np.full(int(finite.sum()), np.nan)
                    ok[finite] = back == part[finite]
            bad = np.flatnonzero(~ok)
            if bad.size:
                i = start + int(bad[0])
                return i, float(flat[i])
    return -1, 0.0


def not_in_format(argument: str, fmt, arr: np.ndarray) -> ValueError:
    i, v = first_nonmember(arr, fmt)
    where = f": the first is {v!r} at flat index {i}" if i >= 0 else ""
    return ValueError(
        f"{argument} holds values that are not values of {fmt}{where}. The arithmetic takes inputs already "
        f"in the format: round them first (floatsim.cast(x, {str(fmt)!r})) or pass inputs='round'"
    )


def check_members(arrays, names, fmt) -> None:
    """Raise :func:`not_in_format` for the first operand holding a non-value of ``fmt``.

    Formats of the compiled path are checked by a kernel (no temporaries); the slow
    :func:`first_nonmember` runs only to find the culprit, or for the other formats.
    """
    from . import _kernels as K

    compiled = kernel_supports(fmt)
    for a, n in zip(arrays, names, strict=False):
        if compiled:
            flat = np.ascontiguousarray(a).reshape(-1)
            if flat.dtype not in (np.float32, np.float64):
                flat = flat.astype(np.float32 if flat.dtype == np.float16 else np.float64)
            with threads_for(flat.size):
                bad = K.count_nonmembers(flat, fmt.kernel_params(), CHECK.projection(fmt))
            if bad:
                raise not_in_format(n, fmt, a)
        elif not is_binary(fmt, 64) and first_nonmember(a, fmt)[0] >= 0:
            raise not_in_format(n, fmt, a)
