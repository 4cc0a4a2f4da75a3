"""Format descriptors: the single source of truth for every number in floatsim.

A :class:`FloatFormat` holds only independent fields (widths, bias, sign,
subnormals, zero, special-value convention); every other quantity (``bits``,
``emin``, ``max``, ``eps``, the code of NaN, ...) is derived here, once.
:meth:`FloatFormat.kernel_params` lowers a descriptor to plain integers for the
compiled kernels.

Code layout (most significant bit first)::

    signed:    S EEEE MMM     (sign, exponent field, trailing mantissa)
    unsigned:    EEEE MMM

Value of a code with exponent field ``ef`` and mantissa field ``mf``::

    ef > 0 (or has_zero=False):  (-1)^S * 2^(ef - bias) * (1 + mf / 2^M)
    ef = 0, subnormals:          (-1)^S * 2^(1 - bias) * (mf / 2^M)
    ef = 0, no subnormals:       (-1)^S * 0      (mf must be 0 in canonical codes)
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
from fractions import Fraction
from typing import NamedTuple

import numpy as np

__all__ = ["FloatFormat", "IntFormat", "Specials", "FloatParams", "IntParams"]


class Specials(str, enum.Enum):
    """Special-value conventions (where NaN, infinities and -0 live).

    ``T`` is the number of magnitude codes, ``2**(exponent_bits + mantissa_bits)``.

    ========  ===================================  ==========================  =====
    member    NaN                                  infinity                    -0
    ========  ===================================  ==========================  =====
    IEEE      exponent all ones, mantissa != 0     exponent all ones, m = 0    yes
    FN        magnitude all ones (both signs)      none                        yes
    FNUZ      the -0 code (signed) / T-1 (unsig.)  none                        no
    EXTENDED  as FNUZ                              magnitude T-1 (signed) /    no
                                                   T-2 (unsigned)
    NONE      none                                 none                        yes
    ========  ===================================  ==========================  =====

    FNUZ and EXTENDED are IEEE P3109's finite and extended domains; OCP E8M0 is
    an unsigned FN format with ``has_zero=False``.
    """

    IEEE = "ieee"
    FN = "fn"
    FNUZ = "fnuz"
    EXTENDED = "extended"
    NONE = "none"


class FloatParams(NamedTuple):
    """A float format lowered to plain integers for the kernels (see _kernels)."""

    mant_bits: int  # M, stored trailing significand bits
    bias: int
    emin: int  # exponent of the smallest normal binade
    has_zero: int  # 0 only for E8M0-like formats: exponent field 0 is a normal binade
    subnormals: int
    max_mag: int  # largest finite magnitude code
    inf_mag: int  # magnitude code of infinity, -1 if none
    nan_mag: int  # magnitude code of the canonical (quiet) NaN, -1 if none
    sign_bit: int  # 1 << (bits - 1) for signed formats, 0 for unsigned
    negzero_is_nan: int  # the -0 pattern is the NaN (fnuz / P3109)
    num_codes: int  # 2**bits


class IntParams(NamedTuple):
    """An integer format lowered to plain integers for the kernels."""

    bits: int
    signed: int
    min: int
    max: int


def _check_int(name, value, low=None, high=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__} ({value!r})")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name}={value} is invalid: it must be >= {low}")
    if high is not None and value > high:
        raise ValueError(f"{name}={value} is invalid: it must be <= {high}")
    return value


def _check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, not {value!r}")
    return bool(value)


def _code_dtype(bits):
    return np.dtype(np.uint8 if bits <= 8 else np.uint16 if bits <= 16 else np.uint32)


@dataclasses.dataclass(frozen=True, kw_only=True)
class FloatFormat:
    """A binary floating-point format, described by independent fields only.

    Parameters
    ----------
    exponent_bits : int
        Width of the exponent field (>= 1).
    mantissa_bits : int
        Stored trailing significand bits (>= 0); ``precision = mantissa_bits + 1``.
    bias : int, optional
        Exponent bias; default ``2**(exponent_bits - 1) - 1``.
    signed : bool
        Whether the format has a sign bit (default True).
    subnormals : bool
        Gradual underflow (default True). Without subnormals, exponent field 0
        holds only zero and values below ``smallest_normal`` round to 0 or to it.
    has_zero : bool
        False only for formats like OCP E8M0 whose exponent field 0 is an
        ordinary binade (requires ``subnormals=False``).
    specials : Specials or str
        Where NaN / infinities / -0 live: ``"ieee"``, ``"fn"``, ``"fnuz"``,
        ``"extended"`` or ``"none"`` (see :class:`Specials`).
    name : str, optional
        Display name; not part of equality (two descriptors with the same
        fields are the same format).

    Raises
    ------
    ValueError
        If a field is out of range or the combination leaves no finite values,
        lets a special code collide with a value, or has values outside float64.

    Examples
    --------
    >>> f = FloatFormat(exponent_bits=4, mantissa_bits=3, specials="fn")
    >>> f.max, f.smallest_subnormal, f.bits
    (448.0, 0.001953125, 8)
    """

    exponent_bits: int
    mantissa_bits: int
    bias: int | None = None
    signed: bool = True
    subnormals: bool = True
    has_zero: bool = True
    specials: Specials | str = Specials.IEEE
    name: str | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self):
        e = _check_int("exponent_bits", self.exponent_bits, 1)
        m = _check_int("mantissa_bits", self.mantissa_bits, 0)
        signed = _check_bool("signed", self.signed)
        subnormals = _check_bool("subnormals", self.subnormals)
        has_zero = _check_bool("has_zero", self.has_zero)
        try:
            specials = Specials(self.specials.lower() if isinstance(self.specials, str) else self.specials)
        except ValueError:
            allowed = ", ".join(repr(s.value) for s in Specials)
            raise ValueError(f"specials={self.specials!r} is not a known convention; allowed: {allowed}") from None
        bias = (1 << (e - 1)) - 1 if self.bias is None else _check_int("bias", self.bias)
        set_ = object.__setattr__
        for k, v in dict(exponent_bits=e, mantissa_bits=m, bias=bias, signed=signed,
                         subnormals=subnormals, has_zero=has_zero, specials=specials).items():
            set_(self, k, v)
        if self.name is not None and not isinstance(self.name, str):
            raise TypeError(f"name must be a string, not {type(self.name).__name__}")
        bits = signed + e + m
        if bits > 32:
            raise ValueError(
                f"exponent_bits + mantissa_bits + sign = {bits} bits is invalid: at most 32 bits are supported"
            )
        if bits < 2:
            raise ValueError(f"a format needs at least 2 bits, this one has {bits}")
        if not has_zero and subnormals:
            raise ValueError("has_zero=False requires subnormals=False (exponent field 0 is then a normal binade)")
        if not has_zero and specials not in (Specials.FN, Specials.NONE, Specials.IEEE):
            raise ValueError(
                f"specials={specials.value!r} puts NaN or infinity on the -0 / zero code, "
                "which collides with a value when has_zero=False; use 'fn' or 'none'"
            )
        if specials is Specials.IEEE and m == 0:
            raise ValueError("specials='ieee' needs mantissa_bits >= 1 to encode NaN (exponent all ones, mantissa != 0)")
        lowest_normal_mag = (1 << m) if has_zero else 0
        if self._max_mag < lowest_normal_mag:
            raise ValueError(
                f"exponent_bits={e} with specials={specials.value!r} leaves no normal numbers "
                "(every nonzero exponent field is taken by NaN or infinity)"
            )
        # every value must be exact in float64 (decode's widest result)
        if self.emax > 1023 or self.emin - (m if self.subnormals else 0) < -1074 or m > 52:
            raise ValueError(
                f"bias={bias} with exponent_bits={e}, mantissa_bits={m} gives values outside float64 "
                f"(emin={self.emin}, emax={self.emax}); choose a bias that keeps 2**emax < 2**1024 "
                "and the smallest value >= 2**-1074"
            )

    # -- derived, in one place ---------------------------------------------------------
    @property
    def bits(self) -> int:
        """Total width in bits (numpy.finfo name)."""
        return int(self.signed) + self.exponent_bits + self.mantissa_bits

    @property
    def precision(self) -> int:
        """Significand bits including the implicit bit (P in IEEE P3109)."""
        return self.mantissa_bits + 1

    @property
    def num_codes(self) -> int:
        return 1 << self.bits

    @property
    def _num_mags(self) -> int:
        return 1 << (self.exponent_bits + self.mantissa_bits)

    @property
    def _max_mag(self) -> int:
        t, s = self._num_mags, self.specials
        if s is Specials.IEEE:
            return ((1 << self.exponent_bits) - 1 << self.mantissa_bits) - 1
        if s is Specials.FN:
            return t - 2
        if s is Specials.FNUZ:
            return t - 1 if self.signed else t - 2
        if s is Specials.EXTENDED:
            return t - 2 if self.signed else t - 3
        return t - 1

    @property
    def _inf_mag(self) -> int | None:
        if self.specials is Specials.IEEE:
            return (1 << self.exponent_bits) - 1 << self.mantissa_bits
        if self.specials is Specials.EXTENDED:
            return self._num_mags - (1 if self.signed else 2)
        return None

    @property
    def sign_bit(self) -> int:
        """Mask of the sign bit in a code (0 for unsigned formats)."""
        return 1 << (self.bits - 1) if self.signed else 0

    @property
    def has_inf(self) -> bool:
        return self._inf_mag is not None

    @property
    def has_nan(self) -> bool:
        return self.specials is not Specials.NONE

    @property
    def has_negative_zero(self) -> bool:
        return self.signed and self.specials in (Specials.IEEE, Specials.FN, Specials.NONE)

    @property
    def _negzero_is_nan(self) -> bool:
        return self.signed and self.specials in (Specials.FNUZ, Specials.EXTENDED)

    @property
    def nan_code(self) -> int | None:
        """Code of the canonical (quiet, positive) NaN, or None."""
        s = self.specials
        if s is Specials.NONE:
            return None
        if s is Specials.IEEE:
            return self._inf_mag | (1 << (self.mantissa_bits - 1))
        if self._negzero_is_nan:
            return self.sign_bit
        return self._num_mags - 1

    @property
    def inf_code(self) -> int | None:
        """Code of +infinity, or None."""
        return self._inf_mag

    @property
    def neginf_code(self) -> int | None:
        """Code of -infinity, or None."""
        return None if self._inf_mag is None or not self.signed else self.sign_bit | self._inf_mag

    @property
    def max_code(self) -> int:
        """Code of the largest finite value."""
        return self._max_mag

    @property
    def emin(self) -> int:
        """Exponent of the smallest normal value (``smallest_normal = 2**emin``)."""
        return (1 if self.has_zero else 0) - self.bias

    @property
    def emax(self) -> int:
        """Exponent of the largest binade that holds finite values."""
        ef = self._max_mag >> self.mantissa_bits
        return ef - self.bias if (ef or not self.has_zero) else self.emin

    def _mag_fraction(self, mag: int) -> Fraction:
        m = self.mantissa_bits
        ef, mf = mag >> m, mag & ((1 << m) - 1)
        if ef == 0 and self.has_zero:
            return Fraction(mf if self.subnormals else 0, 1 << m) * Fraction(2) ** self.emin
        return Fraction((1 << m) + mf, 1 << m) * Fraction(2) ** (ef - self.bias)

    @property
    def max(self) -> float:
        """Largest finite value (numpy.finfo name)."""
        return float(self._mag_fraction(self._max_mag))

    @property
    def min(self) -> float:
        """Most negative finite value (0 or smallest value for unsigned formats)."""
        return -self.max if self.signed else (0.0 if self.has_zero else self.smallest_normal)

    @property
    def smallest_normal(self) -> float:
        """Smallest positive normal value, 2**emin (numpy.finfo name)."""
        return math.ldexp(1.0, self.emin)

    @property
    def smallest_subnormal(self) -> float:
        """Smallest positive value (equals smallest_normal without subnormals)."""
        if self.subnormals and self.mantissa_bits > 0:
            return math.ldexp(1.0, self.emin - self.mantissa_bits)
        return self.smallest_normal

    @property
    def eps(self) -> float:
        """Spacing just above 1.0, 2**-mantissa_bits (numpy.finfo name)."""
        return math.ldexp(1.0, -self.mantissa_bits)

    @property
    def code_dtype(self) -> np.dtype:
        """Smallest unsigned dtype that holds a code."""
        return _code_dtype(self.bits)

    def exact_in(self, dtype) -> bool:
        """Whether every finite value of the format is exactly representable in ``dtype``."""
        fi = np.finfo(dtype)
        quantum_exp = self.emin - (self.mantissa_bits if self.subnormals else 0)
        return (
            self.mantissa_bits <= fi.nmant
            and self.emax <= fi.maxexp - 1
            and quantum_exp >= fi.minexp - fi.nmant
        )

    @property
    def value_dtype(self) -> np.dtype:
        """What decode returns by default: float32 if every value is exact in it, else float64."""
        return np.dtype(np.float32) if self.exact_in(np.float32) else np.dtype(np.float64)

    @property
    def kind(self) -> str:
        return "float"

    def kernel_params(self) -> FloatParams:
        """The descriptor lowered to plain integers for the compiled kernels."""
        return _float_params(self)

    def __str__(self) -> str:
        return self.name or self.describe()

    def describe(self) -> str:
        """The constructor call that rebuilds this format."""
        return (
            f"FloatFormat(exponent_bits={self.exponent_bits}, mantissa_bits={self.mantissa_bits}, "
            f"bias={self.bias}, signed={self.signed}, subnormals={self.subnormals}, "
            f"has_zero={self.has_zero}, specials={self.specials.value!r})"
        )

    def replace(self, **changes) -> FloatFormat:
        """A copy with some fields changed (the name is dropped unless given)."""
        changes.setdefault("name", None)
        return dataclasses.replace(self, **changes)


@functools.cache
def _float_params(fmt: FloatFormat) -> FloatParams:
    nan = fmt.nan_code
    return FloatParams(
        mant_bits=fmt.mantissa_bits,
        bias=fmt.bias,
        emin=fmt.emin,
        has_zero=int(fmt.has_zero),
        subnormals=int(fmt.subnormals),
        max_mag=fmt._max_mag,
        inf_mag=-1 if fmt._inf_mag is None else fmt._inf_mag,
        nan_mag=-1 if nan is None else nan & ~fmt.sign_bit,
        sign_bit=fmt.sign_bit,
        negzero_is_nan=int(fmt._negzero_is_nan),
        num_codes=fmt.num_codes,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class IntFormat:
    """A two's-complement (signed) or plain binary (unsigned) integer format.

    Values are integers; codes are the bit patterns (two's complement for signed
    formats), held in the smallest unsigned dtype. Rounding modes apply when a
    float is converted; the default overflow policy saturates, ``"wrap"`` keeps
    the low bits as ml_dtypes' intN types do.

    Examples
    --------
    >>> IntFormat(bits=4).min, IntFormat(bits=4).max
    (-8, 7)
    """

    bits: int
    signed: bool = True
    name: str | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "bits", _check_int("bits", self.bits, 1, 32))
        object.__setattr__(self, "signed", _check_bool("signed", self.signed))
        if self.signed and self.bits < 2:
            raise ValueError("bits=1 is invalid for a signed integer format: it must be >= 2")

    @property
    def min(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def num_codes(self) -> int:
        return 1 << self.bits

    @property
    def code_dtype(self) -> np.dtype:
        return _code_dtype(self.bits)

    @property
    def has_nan(self) -> bool:
        return False

    @property
    def has_inf(self) -> bool:
        return False

    def exact_in(self, dtype) -> bool:
        """Whether every value is exactly representable in the float ``dtype``."""
        return self.bits - (0 if not self.signed else 1) <= np.finfo(dtype).nmant + 1

    @property
    def value_dtype(self) -> np.dtype:
        return np.dtype(np.float32) if self.exact_in(np.float32) else np.dtype(np.float64)

    @property
    def kind(self) -> str:
        return "int"

    def kernel_params(self) -> IntParams:
        return IntParams(bits=self.bits, signed=int(self.signed), min=self.min, max=self.max)

    def __str__(self) -> str:
        return self.name or f"IntFormat(bits={self.bits}, signed={self.signed})"

    def describe(self) -> str:
        return f"IntFormat(bits={self.bits}, signed={self.signed})"
