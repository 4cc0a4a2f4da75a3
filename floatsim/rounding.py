"""Rounding modes and overflow policies (the enums accepted by every verb).

Strings are accepted at the public boundary only and converted once with
:meth:`Rounding.parse` / :meth:`Overflow.parse`; everything below the verbs sees
the integer enum values.
"""

from __future__ import annotations

import difflib
import enum

__all__ = ["Overflow", "Rounding"]


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
            f"{argument}={value!r} is not a known {argument} mode; "
            f"allowed: {', '.join(repr(a) for a in allowed)}.{hint}"
        )
    raise TypeError(
        f"{argument} must be a string or a floatsim.{enum_cls.__name__} member, "
        f"not {type(value).__name__}"
    )


class Rounding(enum.IntEnum):
    """How a value between two representable neighbours ``lo < x < hi`` is rounded.

    "Even" and "odd" refer to the last bit of the candidate's *code* (the IEEE
    P3109 ``CodeIsEven`` rule), which is the last mantissa bit for formats with a
    mantissa and the last exponent bit for formats with none (E8M0, P = 1).
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
        return self >= Rounding.STOCHASTIC

    @property
    def is_directed(self) -> bool:
        return self in (Rounding.TOWARD_ZERO, Rounding.TOWARD_POSITIVE, Rounding.TOWARD_NEGATIVE)

    @classmethod
    def parse(cls, value, argument: str = "rounding") -> Rounding:
        """Convert a string such as ``"nearest_even"`` (or a member) to a member."""
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
    """What happens to values beyond the format's largest finite magnitude.

    The policy is applied after rounding to precision (P3109 "round, then
    saturate"): a value that rounds down to ``max`` never overflows.
    """

    IEEE = 0  #: ml_dtypes semantics: IEEE formats -> +-inf, fn/fnuz/E8M0 -> NaN, formats without specials saturate; directed rounding as IEEE 754
    SATURATE = 1  #: OCP saturating mode / P3109 SatFinite: every out-of-range value, +-inf included, -> the nearest finite extreme
    SAT_PROPAGATE = 2  #: P3109 SatPropagate: finite overflow saturates, +-inf stays +-inf where the format has it
    SAT_NONE = 3  #: P3109 v4 SatNone (IEEE-like overflow; finite domains saturate; unsigned negatives -> NaN)
    WRAP = 4  #: integer formats only: keep the low bits (two's complement wrap-around, as ml_dtypes intN)

    @classmethod
    def parse(cls, value, argument: str = "overflow") -> Overflow:
        """Convert a string such as ``"saturate"`` (or a member) to a member."""
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
