"""Rounding modes and overflow policies: the `Rounding` and `Overflow` enums that every verb accepts.

Converting a number into a narrow format takes two decisions. The *rounding mode* picks one of the two
representable neighbours of a value that the format cannot hold exactly; the *overflow policy* then says what a
result beyond the format's largest finite value (or an infinite input) becomes. floatsim keeps the two apart, as
IEEE P3109 does: round first, then apply the policy. Every verb (`floatsim.encode`, `floatsim.cast`, the
quantizers, the arithmetic) takes them as `rounding=` and `overflow=` arguments, either as members of these enums
or as their lower-case names (`"nearest_even"`, `"saturate"`); `Rounding.parse` and `Overflow.parse` convert a name,
or one of the aliases listed below, to a member. The precise rules are on the Semantics page
(`docs/semantics.md`).
"""

from __future__ import annotations

import difflib
import enum

__all__ = ["Overflow", "Rounding"]


_NOUN = {"Rounding": "rounding mode", "Overflow": "overflow policy"}


def _parse(enum_cls, value, argument):
    if isinstance(value, enum_cls):
        return value
    if isinstance(value, str):
        key = value.strip().lower().replace("-", "_")
        key = enum_cls._ALIASES.get(key, key)
        for member in enum_cls:
            if member.name.lower() == key:
                return member
        allowed = [m.name.lower() for m in enum_cls]
        close = difflib.get_close_matches(key, allowed + list(enum_cls._ALIASES), n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"{argument}={value!r} is not a known {_NOUN[enum_cls.__name__]}; "
            f"allowed: {', '.join(repr(a) for a in allowed)}.{hint}"
        )
    raise TypeError(
        f"{argument} must be a string or a floatsim.{enum_cls.__name__} member, "
        f"not {type(value).__name__}"
    )


class Rounding(enum.IntEnum):
    """Rounding modes: how a value that the format cannot hold exactly is rounded.

    A finite value `x` that is not representable lies between two neighbours on the format's grid: `lo`, the
    one nearer zero, and `hi`, the next one away from zero (the grid is extended without bound above, so `hi`
    may be beyond the largest finite value; the overflow policy deals with that afterwards). Let
    `nu = (abs(x) - lo) / (hi - lo)`, in `(0, 1)`, be where the magnitude of `x` lies between them. The mode
    chooses `lo` or `hi`, and the result keeps the sign of `x`. Representable values are never changed.

    "Even" and "odd" refer to the last bit of the candidate's *code* (the IEEE P3109 `CodeIsEven` rule): the last
    mantissa bit, or, for formats without mantissa bits (E8M0, precision 1), the last exponent bit, so E8M0 ties
    go to the even exponent. For integer formats they are the parity of the integer.

    | member | name (aliases) | result |
    |---|---|---|
    | `NEAREST_EVEN` | `"nearest_even"` (`"rne"`, `"nearest"`, `"ties_to_even"`) | the nearer neighbour; a tie goes to the even code. IEEE roundTiesToEven; the default |
    | `NEAREST_AWAY` | `"nearest_away"` (`"rna"`, `"ties_to_away"`) | the nearer neighbour; a tie goes to `hi`, away from zero. IEEE roundTiesToAway |
    | `TOWARD_ZERO` | `"toward_zero"` (`"rz"`, `"rtz"`, `"truncate"`) | always `lo`: the magnitude is truncated. IEEE roundTowardZero |
    | `TOWARD_POSITIVE` | `"toward_positive"` (`"ru"`, `"up"`, `"ceil"`) | the neighbour toward +inf (`hi` for positive `x`, `lo` for negative). IEEE roundTowardPositive |
    | `TOWARD_NEGATIVE` | `"toward_negative"` (`"rd"`, `"down"`, `"floor"`) | the neighbour toward -inf. IEEE roundTowardNegative |
    | `ODD` | `"odd"` (`"to_odd"`) | the neighbour with the odd code (round to odd, which makes a later second rounding safe) |
    | `STOCHASTIC` | `"stochastic"` (`"sr"`) | `hi` with probability `nu`, from 64 random bits per element (exact when `nu` is a multiple of `2**-64`): P3109 StochasticA with N = 64 |
    | `STOCHASTIC_A` | `"stochastic_a"` | P3109 StochasticA(N): `hi` when `floor(nu * 2**N) + R >= 2**N` |
    | `STOCHASTIC_B` | `"stochastic_b"` | P3109 StochasticB(N): `hi` when `floor(nu * 2**(N+1)) + 2*R + 1 >= 2**(N+1)` |
    | `STOCHASTIC_C` | `"stochastic_c"` | P3109 StochasticC(N): `hi` when `RNITE(nu * 2**N) + R >= 2**N`, RNITE = round half to even |

    In the stochastic modes `R` is the element's random integer in `[0, 2**N)` and `N` the verbs' `sr_bits`
    argument (always 64 for `STOCHASTIC`). `R` comes from the counter-based random bits of a `seed` (the top `N`
    of the 64 bits that `floatsim.random_bits` returns) or from the caller's `random_bits` array, so results are
    reproducible. Names are matched without regard to case, and `-` may stand for `_`.

    Examples
    --------
    In `float8_e4m3fn` the values between 1 and 2 are 0.125 apart, so 1.0625 and 1.1875 are ties:

    >>> import numpy as np, floatsim as fs
    >>> x = np.array([1.0625, 1.1875, -1.0625], np.float32)
    >>> fs.cast(x, "float8_e4m3fn", rounding=fs.Rounding.NEAREST_EVEN)
    array([ 1.  ,  1.25, -1.  ], dtype=float32)
    >>> fs.cast(x, "float8_e4m3fn", rounding="nearest_away")
    array([ 1.125,  1.25 , -1.125], dtype=float32)
    >>> fs.cast(x, "float8_e4m3fn", rounding="toward_negative")
    array([ 1.   ,  1.125, -1.125], dtype=float32)

    Stochastic rounding with two random bits: the tie (`nu = 1/2`) goes to `hi` when `2 + R >= 4`:

    >>> fs.cast(np.full(4, 1.0625), "float8_e4m3fn", rounding="stochastic_a", sr_bits=2,
    ...         random_bits=np.array([0, 1, 2, 3], np.uint8))
    array([1.   , 1.   , 1.125, 1.125])
    """

    NEAREST_EVEN = 0  #: nearest; ties to the even code (IEEE roundTiesToEven, the default)
    NEAREST_AWAY = 1  #: nearest; ties away from zero (IEEE roundTiesToAway)
    TOWARD_ZERO = 2  #: truncate the magnitude (IEEE roundTowardZero)
    TOWARD_POSITIVE = 3  #: toward +inf (IEEE roundTowardPositive, ceiling)
    TOWARD_NEGATIVE = 4  #: toward -inf (IEEE roundTowardNegative, floor)
    ODD = 5  #: inexact results go to the neighbour with the odd code (round to odd)
    STOCHASTIC = 6  #: up with probability (x - lo) / (hi - lo), resolved to 2**-64 (P3109 StochasticA, N = 64)
    STOCHASTIC_A = 7  #: P3109 StochasticA(N): away iff floor(nu*2^N) + R >= 2^N
    STOCHASTIC_B = 8  #: P3109 StochasticB(N): away iff floor(nu*2^(N+1)) + 2R + 1 >= 2^(N+1)
    STOCHASTIC_C = 9  #: P3109 StochasticC(N): away iff RNITE(nu*2^N) + R >= 2^N

    @property
    def is_stochastic(self) -> bool:
        """Whether the mode uses random bits (the four stochastic modes)."""
        return self >= Rounding.STOCHASTIC

    @property
    def is_directed(self) -> bool:
        """Whether the mode is `TOWARD_ZERO`, `TOWARD_POSITIVE` or `TOWARD_NEGATIVE`."""
        return self in (Rounding.TOWARD_ZERO, Rounding.TOWARD_POSITIVE, Rounding.TOWARD_NEGATIVE)

    @classmethod
    def parse(cls, value, argument: str = "rounding") -> Rounding:
        """Convert a name such as `"nearest_even"` or `"rne"` (or a member) to a member.

        Parameters
        ----------
        value : str or Rounding
            A member (returned unchanged), or a mode's name or alias; case is ignored and `-` may stand for `_`.
        argument : str, default "rounding"
            The argument name that error messages quote.

        Returns
        -------
        Rounding
            The member.

        Raises
        ------
        ValueError
            For an unknown name; the message lists the modes and the closest matches.
        TypeError
            If `value` is neither a string nor a member (an integer is refused too).

        Examples
        --------
        >>> import floatsim as fs
        >>> fs.Rounding.parse("RNE"), fs.Rounding.parse("toward-zero")
        (<Rounding.NEAREST_EVEN: 0>, <Rounding.TOWARD_ZERO: 2>)
        """
        return _parse(cls, value, argument)


Rounding._ALIASES = {
    "rne": "nearest_even",
    "nearest": "nearest_even",
    "ties_to_even": "nearest_even",
    "rna": "nearest_away",
    "ties_to_away": "nearest_away",
    "rz": "toward_zero",
    "rtz": "toward_zero",
    "truncate": "toward_zero",
    "ru": "toward_positive",
    "up": "toward_positive",
    "ceil": "toward_positive",
    "rd": "toward_negative",
    "down": "toward_negative",
    "floor": "toward_negative",
    "to_odd": "odd",
    "sr": "stochastic",
}


class Overflow(enum.IntEnum):
    """Overflow policies: what a result beyond the format's finite range, or an infinite input, becomes.

    The policy is applied after rounding to precision (P3109 "round, then saturate"): a value that rounds down to
    `max` never overflows. It covers a rounded result above `max` or below `-max`, the inputs `+inf` and `-inf`,
    and negative results in an unsigned format. "inf" below means infinity where the format has it (`ieee` and
    `extended` specials), else NaN where it has NaN (fn, fnuz, E8M0), else `max` (FP6, FP4).

    - `IEEE`, `"ieee"` (alias `"default"`): the default for float formats, and ml_dtypes' behaviour. A result
      beyond the range, and ±inf, give ±"inf": E5M2 overflows to ±inf, E4M3FN to NaN, FP4 saturates. As IEEE 754
      directs, a result rounded toward zero stays at ±`max` instead: under `toward_zero`, `toward_negative`
      (positive values), `toward_positive` (negative values) and `odd`. A negative value in an unsigned format
      gives NaN (the smallest value where the format has no NaN).
    - `SATURATE`, `"saturate"` (aliases `"sat"`, `"satfinite"`, `"sat_finite"`, `"clamp"`): the default for
      integer formats; OCP's saturating mode and P3109 SatFinite. Every out-of-range value, ±inf included,
      becomes the nearest finite extreme: `max`, `-max` (`min` for integers), or for a negative value in an
      unsigned format its smallest value.
    - `SAT_PROPAGATE`, `"sat_propagate"` (aliases `"satpropagate"`, `"propagate"`): P3109 SatPropagate. A finite
      overflow saturates to ±`max`; ±inf inputs stay ±inf where the format has infinities (else ±`max`).
    - `SAT_NONE`, `"sat_none"` (aliases `"satnone"`, `"none"`): P3109 v4 SatNone. Overflow and ±inf give ±inf
      where the format has infinities and ±`max` where it has none; a result rounded toward zero stays at
      ±`max`. A negative value in an unsigned format (-inf included) gives NaN, except a finite one rounded by
      `toward_zero` or `toward_positive`, which gives the smallest value.
    - `WRAP`, `"wrap"`: integer formats only. Keep the low `bits` bits of the rounded integer (two's-complement
      wrap-around, as ml_dtypes' intN types); ±inf gives 0.

    Float formats accept `IEEE`, `SATURATE`, `SAT_PROPAGATE` and `SAT_NONE`; integer formats `SATURATE` and
    `WRAP`. The full table, sign by sign, is on the Semantics page (`docs/semantics.md`).

    Examples
    --------
    >>> import numpy as np, floatsim as fs
    >>> x = np.array([1e6, -1e6, np.inf, -np.inf], np.float32)
    >>> for policy in ["ieee", "saturate", "sat_propagate", "sat_none"]:
    ...     e5m2, e4m3fn = fs.cast(x, "float8_e5m2", overflow=policy), fs.cast(x, "float8_e4m3fn", overflow=policy)
    ...     print(f"{policy:14}", e5m2, e4m3fn)
    ieee           [ inf -inf  inf -inf] [nan nan nan nan]
    saturate       [ 57344. -57344.  57344. -57344.] [ 448. -448.  448. -448.]
    sat_propagate  [ 57344. -57344.     inf    -inf] [ 448. -448.  448. -448.]
    sat_none       [ inf -inf  inf -inf] [ 448. -448.  448. -448.]

    Rounding comes first: 464 is a tie between 448 (`max`) and 480, and goes to 448; 465 rounds to 480 and
    overflows. Integer formats saturate unless asked to wrap:

    >>> fs.cast(np.array([464.0, 465.0], np.float32), "float8_e4m3fn")
    array([448.,  nan], dtype=float32)
    >>> fs.cast([200.0, -200.0], "int8"), fs.cast([200.0, -200.0], "int8", overflow="wrap")
    (array([ 127., -128.]), array([-56.,  56.]))
    """

    IEEE = 0  #: ml_dtypes semantics: IEEE formats -> +-inf, fn/fnuz/E8M0 -> NaN, formats without specials saturate; directed rounding as IEEE 754
    SATURATE = 1  #: OCP saturating mode / P3109 SatFinite: every out-of-range value, +-inf included, -> the nearest finite extreme
    SAT_PROPAGATE = 2  #: P3109 SatPropagate: finite overflow saturates, +-inf stays +-inf where the format has it
    SAT_NONE = 3  #: P3109 v4 SatNone (IEEE-like overflow; finite domains saturate; unsigned negatives -> NaN)
    WRAP = 4  #: integer formats only: keep the low bits (two's complement wrap-around, as ml_dtypes intN)

    @classmethod
    def parse(cls, value, argument: str = "overflow") -> Overflow:
        """Convert a name such as `"saturate"` or `"satfinite"` (or a member) to a member.

        Parameters
        ----------
        value : str or Overflow
            A member (returned unchanged), or a policy's name or alias; case is ignored and `-` may stand for `_`.
        argument : str, default "overflow"
            The argument name that error messages quote.

        Returns
        -------
        Overflow
            The member. Whether the format accepts it is checked by the verb, not here.

        Raises
        ------
        ValueError
            For an unknown name; the message lists the policies and the closest matches.
        TypeError
            If `value` is neither a string nor a member.

        Examples
        --------
        >>> import floatsim as fs
        >>> fs.Overflow.parse("satfinite"), fs.Overflow.parse("sat-propagate")
        (<Overflow.SATURATE: 1>, <Overflow.SAT_PROPAGATE: 2>)
        """
        return _parse(cls, value, argument)


Overflow._ALIASES = {
    "sat": "saturate",
    "satfinite": "saturate",
    "sat_finite": "saturate",
    "clamp": "saturate",
    "satpropagate": "sat_propagate",
    "propagate": "sat_propagate",
    "satnone": "sat_none",
    "none": "sat_none",
    "default": "ieee",
}
