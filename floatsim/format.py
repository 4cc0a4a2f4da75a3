"""Format descriptors: `FloatFormat`, `IntFormat` and the `Specials` conventions.

A *format descriptor* says how numbers are stored in a few bits. `FloatFormat` holds only the independent fields of
a binary floating-point format (field widths, bias, sign, subnormals, zero, and where NaN and infinities live);
every other quantity (`bits`, `emin`, `max`, `eps`, the code of NaN, ...) is derived from them here, once, and the
rest of floatsim reads it from the descriptor. `IntFormat` does the same for two's-complement and unsigned
integers. You rarely build a descriptor by hand: `floatsim.get_format` returns the named ones (`"float8_e4m3fn"`,
`"bfloat16"`, `"int4"`, ...), and `FloatFormat.kernel_params` lowers one to the plain integers (`FloatParams`,
`IntParams`) that the compiled kernels take.

A *code* is the unsigned integer whose bits are the stored pattern, most significant bit first:

```text
signed:    S EEEE MMM     (sign, exponent field, trailing mantissa)
unsigned:    EEEE MMM
```

The value of a code with exponent field `ef` and mantissa field `mf` (`M = mantissa_bits`), unless `specials`
reserves the code for NaN or infinity:

```text
ef > 0 (or has_zero=False):  (-1)^S * 2^(ef - bias) * (1 + mf / 2^M)
ef = 0, subnormals:          (-1)^S * 2^(1 - bias) * (mf / 2^M)
ef = 0, no subnormals:       (-1)^S * 0      (mf must be 0 in canonical codes)
```

Examples
--------
>>> import floatsim as fs
>>> e4m3 = fs.FloatFormat(exponent_bits=4, mantissa_bits=3, specials="fn")
>>> e4m3 == fs.get_format("float8_e4m3fn"), e4m3.max, e4m3.nan_code
(True, 448.0, 127)
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
    """Special-value conventions: where a float format keeps NaN, infinities and -0.

    A `FloatFormat` takes one of these as its `specials` field, as a member or as its string value (`"fn"`).
    Below, `T = 2**(exponent_bits + mantissa_bits)` is the number of magnitude codes (codes without the sign bit),
    so "magnitude all ones" is `T - 1`; -0 exists only in signed formats.

    | member | value | NaN | infinity | -0 | examples |
    |---|---|---|---|---|---|
    | `IEEE` | `"ieee"` | exponent all ones, mantissa != 0 | exponent all ones, mantissa 0 | yes | float32, bfloat16, float8_e5m2 |
    | `FN` | `"fn"` | magnitude `T - 1` (both signs) | none | yes | float8_e4m3fn; unsigned: float8_e8m0fnu |
    | `FNUZ` | `"fnuz"` | the -0 code (signed) / `T - 1` (unsigned) | none | no | float8_e4m3fnuz, P3109 finite formats |
    | `EXTENDED` | `"extended"` | as `FNUZ` | magnitude `T - 1` (signed) / `T - 2` (unsigned) | no | P3109 extended formats |
    | `NONE` | `"none"` | none | none | yes | float6_e2m3fn, float6_e3m2fn, float4_e2m1fn |

    The suffixes "fn" (finite: no infinity), "fnuz" (finite, unsigned zero: no -0) and "fnu" (finite, unsigned)
    are the LLVM / ml_dtypes naming. `FNUZ` and `EXTENDED` are the finite and extended domains of IEEE P3109;
    OCP E8M0 (`float8_e8m0fnu`) is an unsigned `FN` format with `has_zero=False`. Every code that is neither NaN
    nor infinity is a finite value.

    Examples
    --------
    >>> import floatsim as fs
    >>> fs.Specials("fnuz")
    <Specials.FNUZ: 'fnuz'>
    >>> f = fs.get_format("float8_e4m3fnuz")
    >>> f.specials, hex(f.nan_code), f.has_inf, f.has_negative_zero
    (<Specials.FNUZ: 'fnuz'>, '0x80', False, False)
    """

    IEEE = "ieee"
    FN = "fn"
    FNUZ = "fnuz"
    EXTENDED = "extended"
    NONE = "none"


class FloatParams(NamedTuple):
    """A float format lowered to plain integers, the form the compiled kernels take.

    `FloatFormat.kernel_params` builds it; you need it only to call floatsim's kernels yourself. Being a
    `NamedTuple`, it is built from its fields, in the order below, which are also its attributes. A *magnitude
    code* is a code without its sign bit; flags are the integers 0 and 1.

    Other Parameters
    ----------------
    mant_bits : int
        `M`, the stored trailing significand bits (`FloatFormat.mantissa_bits`).
    bias : int
        The exponent bias.
    emin : int
        Exponent of the smallest normal binade.
    has_zero : int
        1, or 0 for E8M0-like formats whose exponent field 0 is an ordinary binade.
    subnormals : int
        1 if the format has subnormals, else 0.
    max_mag : int
        Magnitude code of the largest finite value.
    inf_mag : int
        Magnitude code of infinity, -1 if the format has none.
    nan_mag : int
        Magnitude code of the canonical (quiet) NaN, -1 if the format has none.
    sign_bit : int
        Mask of the sign bit, `1 << (bits - 1)`, or 0 for unsigned formats.
    negzero_is_nan : int
        1 if the -0 pattern is the NaN (signed fnuz and extended formats), else 0.
    num_codes : int
        Number of codes, `2**bits`.

    Examples
    --------
    >>> import floatsim as fs
    >>> p = fs.get_format("float8_e4m3fn").kernel_params()
    >>> p.max_mag, p.inf_mag, p.nan_mag, p.sign_bit
    (126, -1, 127, 128)
    """

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
    """An integer format lowered to plain integers, the form the compiled kernels take.

    `IntFormat.kernel_params` builds it. Being a `NamedTuple`, it is built from its fields, in the order below,
    which are also its attributes.

    Other Parameters
    ----------------
    bits : int
        Width in bits.
    signed : int
        1 for two's complement, 0 for unsigned.
    min : int
        Smallest value.
    max : int
        Largest value.

    Examples
    --------
    >>> import floatsim as fs
    >>> fs.IntFormat(bits=4).kernel_params()
    IntParams(bits=4, signed=1, min=-8, max=7)
    """

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

    The fields below are all there is to a format; every other quantity (`bits`, `precision`, `emin`, `emax`,
    `max`, `min`, `smallest_normal`, `smallest_subnormal`, `eps`, the codes of NaN and infinity, `code_dtype`,
    `value_dtype`) is a read-only property derived from them. The numeric properties use the `numpy.finfo` names,
    so they compare directly with `ml_dtypes.finfo`. Descriptors are frozen (immutable) and hashable; use
    `replace` for a modified copy, and `floatsim.get_format` for the named formats.

    Parameters
    ----------
    exponent_bits : int
        Width of the exponent field (>= 1).
    mantissa_bits : int
        Stored trailing significand bits (>= 0); `precision = mantissa_bits + 1`.
    bias : int, optional
        Exponent bias; default `2**(exponent_bits - 1) - 1`. After construction the field holds the actual bias.
    signed : bool, default True
        Whether the format has a sign bit.
    subnormals : bool, default True
        Gradual underflow. Without subnormals, exponent field 0 holds only zero and values below
        `smallest_normal` round to 0 or to `smallest_normal`.
    has_zero : bool, default True
        False only for formats like OCP E8M0 whose exponent field 0 is an ordinary binade (requires
        `subnormals=False`); such a format has no zero.
    specials : Specials or str, default "ieee"
        Where NaN / infinities / -0 live: `"ieee"`, `"fn"`, `"fnuz"`, `"extended"` or `"none"` (any case; see
        `Specials`). After construction the field holds a `Specials` member.
    name : str, optional
        Display name, used by `str()`. Not part of equality: two descriptors with the same fields are the same
        format.

    Raises
    ------
    ValueError
        If a field is out of range, the format is wider than 32 bits or narrower than 2, or the combination
        leaves no normal values, lets a special code collide with a value, or has values outside float64 (the
        message names the field).
    TypeError
        If a width or the bias is not an integer, a flag is not a bool, or `name` is not a string.

    Examples
    --------
    >>> import floatsim as fs
    >>> f = fs.FloatFormat(exponent_bits=4, mantissa_bits=3, specials="fn")
    >>> f.max, f.smallest_subnormal, f.bits
    (448.0, 0.001953125, 8)
    >>> f == fs.get_format("float8_e4m3fn")  # the name is not compared
    True

    An IEEE-style format needs a mantissa bit to encode NaN:

    >>> fs.FloatFormat(exponent_bits=4, mantissa_bits=0)
    Traceback (most recent call last):
    ...
    ValueError: specials='ieee' needs mantissa_bits >= 1 to encode NaN (exponent all ones, mantissa != 0)
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
        if self.emax > 1023 or self.emin - m < -1074 or m > 52:  # the finest spacing, 2**(emin - m)
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
        """Number of codes, `2**bits`."""
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
        """Whether the format has infinities (`ieee` and `extended` specials)."""
        return self._inf_mag is not None

    @property
    def has_nan(self) -> bool:
        """Whether the format has a NaN (every `specials` but `"none"`)."""
        return self.specials is not Specials.NONE

    @property
    def has_negative_zero(self) -> bool:
        """Whether -0 is a distinct code (signed `ieee`, `fn` and `none` formats)."""
        return self.signed and self.specials in (Specials.IEEE, Specials.FN, Specials.NONE)

    @property
    def _negzero_is_nan(self) -> bool:
        return self.signed and self.specials in (Specials.FNUZ, Specials.EXTENDED)

    @property
    def nan_code(self) -> int | None:
        """Code of the canonical (quiet, positive) NaN, or None if the format has no NaN."""
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
        """Code of +infinity, or None if the format has no infinity."""
        return self._inf_mag

    @property
    def neginf_code(self) -> int | None:
        """Code of -infinity, or None if the format has no infinity or no sign."""
        return None if self._inf_mag is None or not self.signed else self.sign_bit | self._inf_mag

    @property
    def max_code(self) -> int:
        """Code of the largest finite value, `max`."""
        return self._max_mag

    @property
    def emin(self) -> int:
        """Exponent of the smallest normal value, `1 - bias` (`-bias` without zero); `smallest_normal = 2**emin`."""
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
        """Smallest finite value: `-max` if signed, else 0 (`smallest_normal` for a format without zero)."""
        return -self.max if self.signed else (0.0 if self.has_zero else self.smallest_normal)

    @property
    def smallest_normal(self) -> float:
        """Smallest positive normal value, `2**emin` (numpy.finfo name)."""
        return math.ldexp(1.0, self.emin)

    @property
    def smallest_subnormal(self) -> float:
        """Smallest positive value, `2**(emin - mantissa_bits)` (`smallest_normal` without subnormals)."""
        if self.subnormals and self.mantissa_bits > 0:
            return math.ldexp(1.0, self.emin - self.mantissa_bits)
        return self.smallest_normal

    @property
    def eps(self) -> float:
        """Spacing of the values just above 1.0, `2**-mantissa_bits` (numpy.finfo name)."""
        return math.ldexp(1.0, -self.mantissa_bits)

    @property
    def code_dtype(self) -> np.dtype:
        """Smallest unsigned dtype that holds a code: uint8, uint16 or uint32."""
        return _code_dtype(self.bits)

    def exact_in(self, dtype) -> bool:
        """Whether every finite value of the format is exactly representable in the float `dtype`.

        Parameters
        ----------
        dtype : numpy dtype or type
            A numpy floating-point dtype: `np.float16`, `np.float32` or `np.float64`.

        Returns
        -------
        bool
            True if the format's precision, largest exponent and smallest value all fit in `dtype`.

        Examples
        --------
        >>> import numpy as np, floatsim as fs
        >>> fs.get_format("float8_e4m3fn").exact_in(np.float16), fs.get_format("bfloat16").exact_in(np.float16)
        (True, False)
        """
        fi = np.finfo(dtype)
        quantum_exp = self.emin - self.mantissa_bits  # the spacing of the lowest binade, with or without subnormals
        return (
            self.mantissa_bits <= fi.nmant
            and self.emax <= fi.maxexp - 1
            and quantum_exp >= fi.minexp - fi.nmant
        )

    @property
    def value_dtype(self) -> np.dtype:
        """The dtype `floatsim.decode` returns by default: float32 if every value is exact in it, else float64."""
        return np.dtype(np.float32) if self.exact_in(np.float32) else np.dtype(np.float64)

    @property
    def kind(self) -> str:
        """The string `"float"` (`"int"` for an `IntFormat`)."""
        return "float"

    def kernel_params(self) -> FloatParams:
        """The descriptor lowered to plain integers for the compiled kernels.

        Returns
        -------
        FloatParams
            The integers the kernels need (computed once per format and cached).

        Examples
        --------
        >>> import floatsim as fs
        >>> fs.get_format("float8_e5m2").kernel_params().inf_mag
        124
        """
        return _float_params(self)

    def __str__(self) -> str:
        return self.name or self.describe()

    def describe(self) -> str:
        """The constructor call that rebuilds this format.

        Returns
        -------
        str
            `FloatFormat(...)` with every field but `name`, which `eval` turns back into an equal descriptor.

        Examples
        --------
        >>> import floatsim as fs
        >>> fs.get_format("float4_e2m1fn").describe()
        "FloatFormat(exponent_bits=2, mantissa_bits=1, bias=1, signed=True, subnormals=True, has_zero=True, specials='none')"
        """
        return (
            f"FloatFormat(exponent_bits={self.exponent_bits}, mantissa_bits={self.mantissa_bits}, "
            f"bias={self.bias}, signed={self.signed}, subnormals={self.subnormals}, "
            f"has_zero={self.has_zero}, specials={self.specials.value!r})"
        )

    def replace(self, **changes) -> FloatFormat:
        """A copy with some fields changed; the name is dropped unless given.

        Parameters
        ----------
        **changes
            New values of fields, by name (`exponent_bits=5`, `specials="fn"`, `name="mine"`, ...).

        Returns
        -------
        FloatFormat
            The new descriptor, validated like a fresh one.

        Raises
        ------
        ValueError
            If the changed fields make an invalid format.
        TypeError
            If a name is not a field, or a value has the wrong type.

        Examples
        --------
        >>> import floatsim as fs
        >>> f = fs.get_format("float8_e4m3fn").replace(specials="ieee")
        >>> f.max, f == fs.get_format("float8_e4m3"), f.name is None
        (240.0, True, True)
        """
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

    Values are integers; codes are the bit patterns (two's complement for signed formats), held in the smallest
    unsigned dtype that fits. When a float is converted, the rounding modes apply with grid spacing 1 ("even" is
    the parity of the integer). The default overflow policy saturates to `[min, max]`; `overflow="wrap"` keeps
    the low `bits` bits, as ml_dtypes' intN types do. An integer format has no NaN and no infinity.

    Parameters
    ----------
    bits : int
        Width in bits, 1 to 32 (at least 2 when signed).
    signed : bool, default True
        Two's complement (True) or unsigned (False).
    name : str, optional
        Display name, used by `str()`; not part of equality.

    Raises
    ------
    ValueError
        If `bits` is out of range.
    TypeError
        If `bits` is not an integer or `signed` not a bool.

    Examples
    --------
    >>> import floatsim as fs
    >>> fs.IntFormat(bits=4).min, fs.IntFormat(bits=4).max
    (-8, 7)
    >>> fs.IntFormat(bits=4, signed=False).max, fs.IntFormat(bits=4) == fs.get_format("int4")
    (15, True)
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
        """Smallest value: `-2**(bits - 1)` if signed, else 0."""
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        """Largest value: `2**(bits - 1) - 1` if signed, else `2**bits - 1`."""
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def num_codes(self) -> int:
        """Number of codes, `2**bits`."""
        return 1 << self.bits

    @property
    def code_dtype(self) -> np.dtype:
        """Smallest unsigned dtype that holds a code: uint8, uint16 or uint32."""
        return _code_dtype(self.bits)

    @property
    def has_nan(self) -> bool:
        """Always False: integer formats have no NaN."""
        return False

    @property
    def has_inf(self) -> bool:
        """Always False: integer formats have no infinity."""
        return False

    def exact_in(self, dtype) -> bool:
        """Whether every value is exactly representable in the float `dtype`.

        Parameters
        ----------
        dtype : numpy dtype or type
            A numpy floating-point dtype: `np.float16`, `np.float32` or `np.float64`.

        Returns
        -------
        bool
            True if `max` and `min` need no more significand bits than `dtype` has.

        Examples
        --------
        >>> import numpy as np, floatsim as fs
        >>> fs.IntFormat(bits=12).exact_in(np.float16), fs.IntFormat(bits=16).exact_in(np.float16)
        (True, False)
        """
        return self.bits - (0 if not self.signed else 1) <= np.finfo(dtype).nmant + 1

    @property
    def value_dtype(self) -> np.dtype:
        """The dtype `floatsim.decode` returns by default: float32 if every value is exact in it, else float64."""
        return np.dtype(np.float32) if self.exact_in(np.float32) else np.dtype(np.float64)

    @property
    def kind(self) -> str:
        """The string `"int"` (`"float"` for a `FloatFormat`)."""
        return "int"

    def kernel_params(self) -> IntParams:
        """The descriptor lowered to plain integers for the compiled kernels.

        Returns
        -------
        IntParams
            `bits`, `signed` (0 or 1), `min` and `max`.

        Examples
        --------
        >>> import floatsim as fs
        >>> fs.IntFormat(bits=8, signed=False).kernel_params()
        IntParams(bits=8, signed=0, min=0, max=255)
        """
        return IntParams(bits=self.bits, signed=int(self.signed), min=self.min, max=self.max)

    def __str__(self) -> str:
        return self.name or f"IntFormat(bits={self.bits}, signed={self.signed})"

    def describe(self) -> str:
        """The constructor call that rebuilds this format.

        Returns
        -------
        str
            `IntFormat(bits=..., signed=...)`, without the name.

        Examples
        --------
        >>> import floatsim as fs
        >>> fs.get_format("uint4").describe()
        'IntFormat(bits=4, signed=False)'
        """
        return f"IntFormat(bits={self.bits}, signed={self.signed})"
