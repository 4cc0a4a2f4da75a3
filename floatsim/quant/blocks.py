"""Block formats: generic block floating point, OCP Microscaling (MX) and NVFP4.

A block format stores, for every `block_size` consecutive elements along an
axis, one shared scale and one low-precision code per element. The shared scale
lets elements of a few bits cover a wide range: each block is scaled so that
its largest magnitude lands near the top of the element format.

- `BlockFloatQuantizer`: the generic scheme. Elements in any float format
  (or a signed `IntFormat` with an implicit scale, MXINT style),
  a power-of-two scale per block stored in an exponent-only format (default
  `float8_e8m0fnu`), four scale rules (OCP `"floor"`, `"ceil"`, `"even"`,
  NVIDIA `"rceil"`).
- `mx`: the OCP MX v1.0 presets (`mxfp8_e4m3`, `mxfp8_e5m2`, `mxfp6_e2m3`,
  `mxfp6_e3m2`, `mxfp4`, `mxint8`), with their element formats in `MX_FORMATS`.
- `NVFP4Quantizer`: E2M1 elements in blocks of 16, FP8 E4M3 block scales
  and an FP32 per-tensor scale (torchao / TransformerEngine recipe).

Every rounding goes through `floatsim.core` (`encode` / `cast`); this module
only computes block maxima, multiplies by scales and clips to integer bounds.

Examples
--------
>>> import numpy as np
>>> import floatsim.quant as fq
>>> x = np.random.default_rng(0).standard_normal((4, 64)).astype(np.float32)
>>> [(name, fq.mx(name).quantize(x).bits_per_value) for name in ("mxfp8_e4m3", "mxfp4")]
[('mxfp8_e4m3', 8.25), ('mxfp4', 4.25)]
>>> q = fq.NVFP4Quantizer().quantize(x)
>>> q.scale.shape, q.scale_format.name, q.bits_per_value
((4, 4), 'float8_e4m3fn', 4.625)
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from ..core import cast, decode
from ..format import FloatFormat, IntFormat, _check_int
from ..formats import get_format
from ..rounding import Rounding
from ._kernels import block_stats, lookup_rows
from ._layout import per_group, to_blocks
from .base import QuantizedTensor, Quantizer, as_output, check_choice, dask_aware, encode_rows, float_input

__all__ = ["BlockFloatQuantizer", "NVFP4Quantizer", "mx", "MX_FORMATS"]

_SCALE_RULES = ("floor", "ceil", "even", "rceil")
_NONFINITE = ("nan_block", "torchao_0_18")

#: The OCP MX v1.0 element formats, by their spec names (``mx(name)``).
MX_FORMATS: dict[str, FloatFormat | IntFormat] = {
    "mxfp8_e4m3": get_format("float8_e4m3fn"),
    "mxfp8_e5m2": get_format("float8_e5m2"),
    "mxfp6_e2m3": get_format("float6_e2m3fn"),
    "mxfp6_e3m2": get_format("float6_e3m2fn"),
    "mxfp4": get_format("float4_e2m1fn"),
    "mxint8": get_format("int8"),
}
"""The OCP MX v1.0 element formats by their spec names, the names `mx` accepts.

`"mxfp8_e4m3"`: float8_e4m3fn, `"mxfp8_e5m2"`: float8_e5m2, `"mxfp6_e2m3"`:
float6_e2m3fn, `"mxfp6_e3m2"`: float6_e3m2fn, `"mxfp4"`: float4_e2m1fn,
`"mxint8"`: int8 (codes `k` standing for `k/64`).
"""


# --------------------------------------------------------------------------- helpers
def _get_format(value, argument):
    try:
        return get_format(value, argument)
    except ValueError as exc:
        raise ValueError(f"{argument}: {exc}") from None


def _check_rounding(rounding, seed, sr_bits):
    rnd = Rounding.parse(rounding)
    if seed is not None:
        if not rnd.is_stochastic:
            raise ValueError(f"seed applies to stochastic rounding only, not to rounding={rnd.name.lower()!r}")
        _check_int("seed", seed, 0)
    if rnd.is_stochastic and rnd is not Rounding.STOCHASTIC:
        if sr_bits is None:
            raise ValueError(f"rounding={rnd.name.lower()!r} needs sr_bits=N, the number of random bits (1 to 62)")
        _check_int("sr_bits", sr_bits, 1)
    elif sr_bits is not None:
        raise ValueError(f"sr_bits applies to rounding='stochastic_a' / '_b' / '_c' only, not {rnd.name.lower()!r}")
    return rnd


def _absmax(data: np.ndarray) -> np.ndarray:
    """max |x| of each row of a 2-D array (NaN where a row holds a NaN), via the fused one-pass kernel."""
    _, _, amax, bad = block_stats(data)
    if bad.any():  # rows with NaN / inf: NumPy's propagation rules (NaN wins over inf)
        rows = np.nonzero(bad)[0]
        amax[rows] = np.max(np.abs(data[rows]), axis=1)
    return amax


@functools.cache
def _values(fmt, dtype: np.dtype) -> np.ndarray:
    """Every code's value (``decode`` of all codes), the lookup table of ``lookup_rows``."""
    values = decode(np.arange(fmt.num_codes), fmt, dtype=dtype)
    values.flags.writeable = False
    return values


@functools.cache
def _mantissa_rounder(mantissa_bits: int) -> FloatFormat:
    """float64's exponent range with ``mantissa_bits`` trailing bits (for the "even" scale rule)."""
    return FloatFormat(exponent_bits=11, mantissa_bits=mantissa_bits, bias=1023, name=f"e11m{mantissa_bits}")


def _unblock(blocks, data) -> np.ndarray:
    return np.ascontiguousarray(blocks.unblock(data))


# --------------------------------------------------------------------------- generic block floating point
@dataclasses.dataclass(frozen=True, kw_only=True)
class BlockFloatQuantizer(Quantizer):
    """Block floating point: one power-of-two scale per block, low-precision elements.

    For each block `V` of `block_size` elements along `axis`:

    1. `amax = max |V_i|` (in float32 for float16 / float32 input, float64 for
       float64 input);
    2. the scale `X`, a power of two chosen by `scale_rule` (table below) and
       clamped below to the scale format's smallest value (`2**-127` for E8M0).
       A scale above the scale format's largest value (unreachable from float32
       input with E8M0) is NaN;
    3. the elements `P_i = round(V_i / X)` into `element` with `rounding`,
       values beyond the element range saturating to `±max`. Dequantization is
       `P_i * X`.

    Scale rules, with `emax = element.emax` and `max = element.max`:

    | `scale_rule` | scale `X` |
    |---|---|
    | `"floor"` | `2**(floor(log2 amax) - emax)` (OCP MX spec, torchao FLOOR); may saturate the block maximum |
    | `"ceil"` | `2**(ceil(log2 amax) - emax)` (torchao CEIL) |
    | `"even"` | `amax` rounded to the element's mantissa bits (RNE), then `"floor"` (torchao EVEN) |
    | `"rceil"` | `2**ceil(log2(amax / max))`, the division in the working dtype (NVIDIA / cuBLAS, torchao RCEIL); never clips |

    Integer elements (a signed `IntFormat` of `b` bits, MXINT) carry an implicit
    scale `2**-(b - 2)`: int8 codes `k` stand for `k/64`, so `max = 127/64` and
    `emax = 0`; their mantissa bits (for `"even"`) are `b - 2`.

    Layout and special values:

    - **partial last block**: when the axis length is not a multiple of
      `block_size` the last block of each row is shorter and gets its own scale
      from its real elements (the remainder rule of `Granularity`);
    - **all-zero block**: `amax = 0` gives the smallest scale (E8M0 byte 0,
      `2**-127`, as torchao and gfloat) and zero elements;
    - **NaN / inf** (`nonfinite="nan_block"`, default): a block holding any NaN
      or ±inf gets a NaN scale (E8M0 code 0xFF) and element codes 0; it
      dequantizes to NaN throughout (current torchao; microxcaling also gives an
      all-NaN block). `nonfinite="torchao_0_18"` reproduces torchao 0.18.0: NaN
      blocks as above, but a block with ±inf (and no NaN) takes the scale of an
      `amax` whose exponent field is all ones (`2**(emax_scale + 1 - emax)`,
      E8M0 byte 247 for E4M3; `rceil`: the largest scale), its infinities
      saturate to `±max` (float32 dequantization then overflows back to ±inf)
      and its finite elements mostly flush to zero. gfloat instead clips the
      scale to `2**127` and saturates; that mode is not offered.

    All arguments are keywords; `mx` builds the OCP presets.

    Parameters
    ----------
    element : str, FloatFormat or IntFormat, default "float8_e4m3fn"
        Element format: a signed float format with zero, or a signed integer
        format.
    block_size : int, default 32
        Elements per block (positive).
    axis : int, default -1
        The axis along which blocks run (the last by default).
    scale_format : str or FloatFormat, default "float8_e8m0fnu"
        Format of the stored scales: an exponent-only format with NaN and no zero
        (`mantissa_bits=0`).
    scale_rule : {"floor", "ceil", "even", "rceil"}, default "floor"
        How the block scale is chosen (see the table; `"floor"` is the OCP spec).
    rounding : str, default "nearest_even"
        Element rounding, any core rounding mode.
    seed : int, optional
        Seed for stochastic rounding (random bits keyed by the element's position
        in the blocked view, which is its C-order index for `axis=-1` without a
        partial block). Only with a stochastic rounding mode.
    sr_bits : int, optional
        Random bits for `stochastic_a` / `_b` / `_c` (required there, refused
        elsewhere).
    nonfinite : {"nan_block", "torchao_0_18"}, default "nan_block"
        Treatment of blocks with NaN / inf (see above).
    int_min : int, optional
        Integer elements only: the most negative code used. None (default)
        keeps the range symmetric (`-127` for int8, as microxcaling and the OCP
        spec); `element.min` (`-128`) also uses `-2.0` as gfloat does.

    Attributes
    ----------
    element_bits : int
        Bits of one element code.

    Raises
    ------
    ValueError
        For an unsigned or zero-less element format, a scale format that is not
        exponent-only with NaN and no zero, an unknown `scale_rule`, `nonfinite`
        or rounding mode, a `seed` without stochastic rounding, a missing or
        superfluous `sr_bits`, a `block_size` below 1, or a bad `int_min`.
    TypeError
        For a `block_size` or `axis` that is not an integer.

    Notes
    -----
    `quantize` returns a `QuantizedTensor` whose `codes` are the element codes
    (uint8 for formats up to 8 bits; two's complement for integers) in the
    input's shape, `scale` the float32 scale values (exact powers of two, NaN for
    NaN blocks) shaped like the input with `axis` reduced to the number of
    blocks, and `scale_format` the scale format; `scale_codes` gives the stored
    bytes.

    Known differences from torchao 0.18.0 (tested): where the scale is `2**-127`
    (E8M0 byte 0) and the block is not all zero, torchao divides by `2**-126` but
    multiplies back by `2**-127`, halving the block (floatsim and gfloat use
    `2**-127` both ways); its `rceil` takes `ceil(log2(amax / max))` in float32,
    which misses the step for quotients just above a power of two (floatsim rounds
    exactly), and it multiplies by 1 instead of `2**127` when the scale byte is 0.

    Examples
    --------
    The MXFP4 example of the reference notes: one large value among small ones.

    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> x = np.array([7.0] + [0.3] * 31, np.float32)
    >>> q = fq.BlockFloatQuantizer(element="float4_e2m1fn").quantize(x)
    >>> q.scale.tolist(), q.scale_codes.tolist(), q.dequantize()[:3].tolist()
    ([1.0], [127], [6.0, 0.5, 0.5])
    >>> fq.BlockFloatQuantizer(element="float4_e2m1fn", scale_rule="ceil")(x)[:3].tolist()
    [8.0, 0.0, 0.0]
    >>> q.bits_per_value
    4.25

    A block holding NaN or inf dequantizes to NaN; an all-zero block gets the
    smallest scale:

    >>> y = np.float32([[1.0, 2.0, 3.0, np.nan], [0.5, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    >>> q = fq.BlockFloatQuantizer(element="float4_e2m1fn", block_size=4).quantize(y)
    >>> q.scale_codes.ravel().tolist(), q.dequantize().tolist()
    ([255, 124, 0], [[nan, nan, nan, nan], [0.5, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    """

    element: str | FloatFormat | IntFormat = "float8_e4m3fn"
    block_size: int = 32
    axis: int = -1
    scale_format: str | FloatFormat = "float8_e8m0fnu"
    scale_rule: str = "floor"
    rounding: str = "nearest_even"
    seed: int | None = None
    sr_bits: int | None = None
    nonfinite: str = "nan_block"
    int_min: int | None = None

    def __post_init__(self):
        set_ = object.__setattr__
        fmt = _get_format(self.element, "element")
        if isinstance(fmt, IntFormat):
            if not fmt.signed:
                raise ValueError(f"element {fmt} is unsigned; integer elements must be signed (e.g. 'int8')")
            emax, mbits, implicit = 0, fmt.bits - 2, 2.0 ** -(fmt.bits - 2)
            if self.int_min is None:
                int_min = -fmt.max
            elif self.int_min in (-fmt.max, fmt.min) and not isinstance(self.int_min, bool):
                int_min = int(self.int_min)
            else:
                raise ValueError(f"int_min must be None, {-fmt.max} or {fmt.min} for element {fmt}, not {self.int_min!r}")
            max_value = fmt.max * implicit
        else:
            if not fmt.signed or not fmt.has_zero:
                raise ValueError(f"element {fmt} must be a signed float format with zero")
            if self.int_min is not None:
                raise ValueError(f"int_min applies to integer elements only, not to {fmt}")
            emax, mbits, implicit, int_min, max_value = fmt.emax, fmt.mantissa_bits, 1.0, None, fmt.max
        set_(self, "block_size", _check_int("block_size", self.block_size, 1))
        set_(self, "axis", _check_int("axis", self.axis))
        sfmt = _get_format(self.scale_format, "scale_format")
        if not isinstance(sfmt, FloatFormat) or sfmt.mantissa_bits != 0 or sfmt.has_zero or not sfmt.has_nan:
            raise ValueError(
                f"scale_format must be an exponent-only format with NaN and no zero "
                f"(mantissa_bits=0, has_zero=False, like 'float8_e8m0fnu'), not {sfmt}"
            )
        set_(self, "scale_rule", check_choice("scale_rule", self.scale_rule, _SCALE_RULES))
        set_(self, "nonfinite", check_choice("nonfinite", self.nonfinite, _NONFINITE))
        _check_rounding(self.rounding, self.seed, self.sr_bits)
        set_(self, "element_bits", fmt.bits)
        set_(self, "_fmt", fmt)
        set_(self, "_sfmt", sfmt)
        set_(self, "_emax", emax)
        set_(self, "_mbits", mbits)
        set_(self, "_implicit", implicit)
        set_(self, "_int_min", int_min)
        set_(self, "_max", max_value)

    # -- scales -------------------------------------------------------------------------
    def _scales(self, amax: np.ndarray) -> np.ndarray:
        """Scale values (the scale format's value dtype; NaN where a block is non-finite or overflows)."""
        sfmt, rule = self._sfmt, self.scale_rule
        top = 2.0 ** sfmt.emax
        if rule == "rceil":
            t = (amax / amax.dtype.type(self._max)).astype(np.float64)
        else:
            a = amax.astype(np.float64)
            if rule == "even":
                a = cast(a, _mantissa_rounder(self._mbits), rounding="nearest_even")
            t = a * 2.0 ** -self._emax  # exact: a power-of-two shift in float64
        up = rule in ("ceil", "rceil")
        with np.errstate(invalid="ignore"):
            over = t > top if up else t >= 2 * top
            safe = np.where(np.isfinite(t), t, 0.0)
        s = cast(safe, sfmt, rounding="toward_positive" if up else "toward_negative", overflow="saturate",
                 dtype=sfmt.value_dtype)
        s[over] = np.nan
        bad = ~np.isfinite(amax)
        if bad.any():
            if self.nonfinite == "torchao_0_18":
                inf = np.isinf(amax)
                big = top if rule == "rceil" else 2.0 ** (sfmt.emax + 1 - self._emax)
                s[inf] = big if big <= top else np.nan
                s[np.isnan(amax)] = np.nan
            else:
                s[bad] = np.nan
        return s

    # -- quantize / dequantize ----------------------------------------------------------
    @dask_aware
    def quantize(self, x) -> QuantizedTensor:
        """Quantize `x` (float16 / float32 / float64, any shape) into blocks.

        Parameters
        ----------
        x : array_like
            Values to quantize (lists and integers become float64); at least one
            dimension.

        Returns
        -------
        QuantizedTensor
            `codes` (element codes in `x`'s shape), `scale` (float32 powers of
            two, NaN for blocks with NaN / inf; `x`'s shape with `axis` reduced
            to the number of blocks), `scale_format` (the scale format).

        Raises
        ------
        ValueError
            When `axis` is out of range or `x` is 0-d.
        TypeError
            For an unsupported input dtype.

        Examples
        --------
        >>> import numpy as np
        >>> import floatsim.quant as fq
        >>> q = fq.mx("mxfp8_e4m3").quantize(np.float32([[7.0] + [0.3] * 39]))  # a block of 32, then 8
        >>> q.scale.tolist(), q.codes[0, [0, 1, 32]].tolist(), q.dequantize()[0, [0, 1, 32]].tolist()
        ([[0.015625, 0.0009765625]], [126, 90, 122], [7.0, 0.3125, 0.3125])
        """
        arr = float_input(x)
        work = np.dtype(np.float64 if arr.dtype == np.float64 else np.float32)
        blocks = to_blocks(arr.astype(work, copy=False), per_group(self.block_size, self.axis))
        data = blocks.data
        scale = self._scales(_absmax(data)) if data.size else np.zeros(data.shape[0], self._sfmt.value_dtype)
        inv = np.reciprocal(scale.astype(work))  # exact: scales are powers of two
        nan_rows = np.isnan(scale)
        fmt = self._fmt
        # integer elements: x / scale, then times 2**(bits - 2) (microxcaling's order; one factor could overflow)
        post = None if self._implicit == 1.0 else 1.0 / self._implicit
        codes = encode_rows(data, inv, fmt, post_factor=post, zero_rows=nan_rows if nan_rows.any() else None,
                            clip=(self._int_min, fmt.max) if isinstance(fmt, IntFormat) else None,
                            rounding=self.rounding, overflow="saturate", seed=self.seed, sr_bits=self.sr_bits)
        return QuantizedTensor(
            codes=_unblock(blocks, codes),
            scale=blocks.params(scale),
            zero_point=None,
            quantizer=self,
            shape=arr.shape,
            dtype=arr.dtype,
            scale_format=self._sfmt,
        )

    @dask_aware
    def dequantize(self, q: QuantizedTensor, dtype=None) -> np.ndarray:
        """`codes * scale` in `dtype` (default: the input's dtype).

        Computed in float32 (exact for the MX formats unless the result over- or
        underflows float32) or, for float64 output, in float64.

        Parameters
        ----------
        q : QuantizedTensor
            Made by this quantizer (or an equal one).
        dtype : numpy.dtype or str, optional
            float16, float32 or float64; None (default) gives the input's dtype.

        Returns
        -------
        numpy.ndarray
            Dequantized values in the input's shape.

        Raises
        ------
        TypeError
            If `q` is not a `QuantizedTensor` or `dtype` is not a float dtype.
        ValueError
            If `q` was made by a different quantizer.

        Examples
        --------
        >>> import numpy as np
        >>> import floatsim.quant as fq
        >>> quantizer = fq.mx("mxfp4")
        >>> q = quantizer.quantize(np.float32([7.0] + [0.3] * 31))
        >>> quantizer.dequantize(q)[:3].tolist(), quantizer.dequantize(q, np.float16).dtype
        ([6.0, 0.5, 0.5], dtype('float16'))
        """
        self._check_q(q)
        out = self._out_dtype(q, dtype)
        work = np.dtype(np.float64 if out == np.float64 else np.float32)
        blocks = to_blocks(q.codes, per_group(self.block_size, self.axis))
        s = blocks.rows(q.scale).astype(work)
        if self._implicit != 1.0:
            s *= work.type(self._implicit)
        vals = lookup_rows(blocks.data, _values(self._fmt, work), s)  # decode and scale in one pass
        return as_output(_unblock(blocks, vals), out)


def mx(name: str, *, mxint8_min: int | None = None, **kwargs) -> BlockFloatQuantizer:
    """The OCP MX v1.0 format `name` as a `BlockFloatQuantizer`.

    Blocks of 32 along the last axis, E8M0 scales, the spec's `"floor"` rule,
    round-to-nearest-even elements that saturate. `emax` comes from the element
    format (E4M3 8, E5M2 15, E3M2 4, E2M3 2, E2M1 2, INT8 0). Each format costs
    its element width plus 8/32 = 0.25 bits per value for the scales.

    Parameters
    ----------
    name : str
        `"mxfp8_e4m3"`, `"mxfp8_e5m2"`, `"mxfp6_e2m3"`, `"mxfp6_e3m2"`,
        `"mxfp4"` (E2M1) or `"mxint8"` (INT8 codes `k` meaning `k/64`);
        case-insensitive. The keys of `MX_FORMATS`.
    mxint8_min : {-127, -128}, optional
        MXINT8 only: the most negative code. `-127` (default) keeps the range
        symmetric (OCP spec, microxcaling: `-1.999 -> -1.984375`); `-128`
        allows `-2.0` as gfloat does.
    **kwargs
        Any other `BlockFloatQuantizer` field (`block_size`, `axis`,
        `scale_rule`, `rounding`, `seed`, `nonfinite` ...), but not `element`
        or `int_min`.

    Returns
    -------
    BlockFloatQuantizer
        The configured quantizer.

    Raises
    ------
    ValueError
        For an unknown `name`, or `mxint8_min` with another format or a value
        other than -127 / -128.
    TypeError
        If `kwargs` holds `element` or `int_min`.

    Examples
    --------
    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> x = np.float32([7.0] + [0.3] * 31)
    >>> [float(fq.mx("mxfp4", scale_rule=r).fake_quantize(x)[0]) for r in ("floor", "ceil", "even", "rceil")]
    [6.0, 8.0, 8.0, 8.0]
    >>> q = fq.mx("mxint8").quantize(np.array([1.0, -1.999, 0.01] + [0.0] * 29))
    >>> q.dequantize()[:3].tolist(), q.bits_per_value
    ([1.0, -1.984375, 0.015625], 8.25)
    >>> fq.mx("mxint8", mxint8_min=-128)(np.array([-1.999] + [0.0] * 31))[0]
    np.float64(-2.0)
    """
    if not isinstance(name, str) or name.strip().lower() not in MX_FORMATS:
        raise ValueError(f"name must be one of {', '.join(map(repr, MX_FORMATS))}, not {name!r}")
    key = name.strip().lower()
    for reserved in ("element", "int_min"):
        if reserved in kwargs:
            raise TypeError(f"mx() sets {reserved} itself; use BlockFloatQuantizer for other element formats")
    if key == "mxint8":
        if mxint8_min is None:
            mxint8_min = -127
        if mxint8_min not in (-127, -128) or isinstance(mxint8_min, bool):
            raise ValueError(f"mxint8_min must be -127 or -128, not {mxint8_min!r}")
        kwargs["int_min"] = int(mxint8_min)
    elif mxint8_min is not None:
        raise ValueError(f"mxint8_min applies to 'mxint8' only, not to {name!r}")
    return BlockFloatQuantizer(element=MX_FORMATS[key], **kwargs)


# --------------------------------------------------------------------------- NVFP4
_E2M1 = get_format("float4_e2m1fn")
_E4M3 = get_format("float8_e4m3fn")
_F32 = np.float32
_ELEM_MAX = _F32(_E2M1.max)  # 6
_SCALE_MAX = _F32(_E4M3.max)  # 448
_SCALE_MIN = _F32(_E4M3.smallest_normal)  # 2**-6: torchao's floor on block scales


@dataclasses.dataclass(frozen=True, kw_only=True)
class NVFP4Quantizer(Quantizer):
    """NVIDIA NVFP4: E2M1 elements, one FP8 E4M3 scale per 16 elements, one FP32 tensor scale.

    All arithmetic is float32, in torchao's order (`nvfp4_quantize`; it agrees
    with TransformerEngine's reference formula). With `m_b` the block's max
    `|x|`, `A` the tensor's max `|x|` and every operation rounded to float32:

    | quantity | definition |
    |---|---|
    | tensor scale | `g = A / 2688` (2688 = 448 * 6) |
    | block scale (two-level) | `d_b = e4m3(clip((m_b / 6) / g, 2**-6, 448))` |
    | block scale (single-level) | `d_b = e4m3(clip(m_b / 6, 2**-6, 448))` |
    | elements | `e2m1(clip(x * ((1 / g) / d_b), -6, 6))` (single-level: `x * (1 / d_b)`) |
    | dequantized | `q * (g * d_b)` (single-level: `q * d_b`) |

    where `e4m3` / `e2m1` round to nearest even (the elements use `rounding`).
    The block-scale clip at `2**-6` (E4M3's smallest normal) is torchao's;
    TransformerEngine does not clip below.

    Special cases:

    - input is converted to float32 first (float64 input is rounded once);
    - **partial last block**: shorter last block with its own scale (the
      remainder rule of `Granularity`; torchao requires divisibility by 16);
    - **all-zero block**: `d_b = 2**-6`, elements 0;
    - **tensor scale**: `A` is the max over the blocks without NaN / inf (or
      `tensor_amax` when given); if `g` would be 0 or not finite (an all-zero
      tensor) it is 1. torchao would produce NaN scales there;
    - **NaN / inf**: a block with any NaN or ±inf gets a NaN scale (E4M3 code
      0x7F) and element codes 0, and dequantizes to NaN.

    All arguments are keywords.

    Parameters
    ----------
    per_tensor_scale : bool, default True
        Two-level scaling with the FP32 tensor scale, or (False) block scales
        only.
    tensor_amax : float, optional
        A calibrated tensor maximum (finite, >= 0) to use instead of the
        input's. Needs `per_tensor_scale=True`.
    block_size : int, default 16
        Elements per block (16 is the NVFP4 value).
    axis : int, default -1
        Axis along which blocks run.
    rounding : str, default "nearest_even"
        Element rounding; any core mode.
    seed : int, optional
        Seed for stochastic rounding, as for `BlockFloatQuantizer`.
    sr_bits : int, optional
        Random bits for `stochastic_a` / `_b` / `_c`, as for `BlockFloatQuantizer`.

    Attributes
    ----------
    element_bits : int
        4.

    Raises
    ------
    TypeError
        For a `per_tensor_scale` that is not a bool, a `tensor_amax` that is
        not a number, or a `block_size` or `axis` that is not an integer.
    ValueError
        For a negative or non-finite `tensor_amax`, `tensor_amax` with
        `per_tensor_scale=False`, a bad `block_size`, or bad `rounding` / `seed`
        / `sr_bits` combinations.

    Notes
    -----
    `codes` are E2M1 codes (uint8, one per element, unpacked), `scale` the
    float32 values of the E4M3 block scales `d_b`, `scale_format` E4M3, and
    `extra` holds `"tensor_scale"` (float32 `g`; 1.0 single-level) and
    `"extra_bits"` (32 with a tensor scale, else 0): 4.5 bits per value plus 32
    bits per tensor.

    Examples
    --------
    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> x = np.linspace(-3, 3, 16, dtype=np.float32)
    >>> q = fq.NVFP4Quantizer().quantize(x)
    >>> q.extra["tensor_scale"], q.scale.tolist()
    (np.float32(0.0011160715), [448.0])
    >>> q.dequantize().tolist()[:4]
    [-3.0, -3.0, -2.0, -2.0]
    >>> q.bits_per_value                       # 4 + 8 / 16 + 32 / 16 for one block
    6.5
    >>> q1 = fq.NVFP4Quantizer(per_tensor_scale=False).quantize(x)
    >>> q1.scale.tolist(), q1.bits_per_value
    ([0.5], 4.5)
    """

    per_tensor_scale: bool = True
    tensor_amax: float | None = None
    block_size: int = 16
    axis: int = -1
    rounding: str = "nearest_even"
    seed: int | None = None
    sr_bits: int | None = None

    element_bits = 4

    def __post_init__(self):
        if not isinstance(self.per_tensor_scale, bool | np.bool_):
            raise TypeError(f"per_tensor_scale must be True or False, not {self.per_tensor_scale!r}")
        if self.tensor_amax is not None:
            if isinstance(self.tensor_amax, bool) or not isinstance(self.tensor_amax, int | float | np.number):
                raise TypeError(f"tensor_amax must be a number, not {self.tensor_amax!r}")
            if not (np.isfinite(self.tensor_amax) and self.tensor_amax >= 0):
                raise ValueError(f"tensor_amax must be finite and >= 0, not {self.tensor_amax!r}")
            if not self.per_tensor_scale:
                raise ValueError("tensor_amax needs per_tensor_scale=True")
        object.__setattr__(self, "block_size", _check_int("block_size", self.block_size, 1))
        object.__setattr__(self, "axis", _check_int("axis", self.axis))
        _check_rounding(self.rounding, self.seed, self.sr_bits)

    def _tensor_scale(self, amax: np.ndarray) -> np.float32:
        """``g`` from the block maxima (blocks with NaN / inf left out) or ``tensor_amax``."""
        if not self.per_tensor_scale:
            return _F32(1.0)
        if self.tensor_amax is not None:
            top = _F32(self.tensor_amax)
        else:
            finite = amax[np.isfinite(amax)]
            top = finite.max() if finite.size else _F32(0.0)
        g = top / (_SCALE_MAX * _ELEM_MAX)
        if not (np.isfinite(g) and g > 0):
            return _F32(1.0)
        # 1 / g must stay finite (TransformerEngine clamps the encode scale at FLT_MAX): tensors with
        # amax below about 8e-36 share the smallest such g
        return max(g, _F32(1.0) / np.finfo(np.float32).max)

    @dask_aware
    def quantize(self, x) -> QuantizedTensor:
        """Quantize `x` (any shape; computed in float32) to NVFP4.

        Parameters
        ----------
        x : array_like
            float16, float32 or float64 values (lists and integers become
            float64), at least one dimension.

        Returns
        -------
        QuantizedTensor
            `codes` (E2M1 codes, uint8, `x`'s shape), `scale` (float32 values of
            the E4M3 block scales, NaN for blocks with NaN / inf), `scale_format`
            E4M3, `extra["tensor_scale"]` and `extra["extra_bits"]`.

        Raises
        ------
        ValueError
            For float64 values beyond the float32 range, an axis out of range or
            a 0-d `x`.
        TypeError
            For an unsupported input dtype.

        Examples
        --------
        >>> import numpy as np
        >>> import floatsim.quant as fq
        >>> x = np.float32([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0], [np.nan, 1.0, 1.0, 1.0]])
        >>> q = fq.NVFP4Quantizer(block_size=4).quantize(x)
        >>> q.scale.ravel().tolist(), q.scale_codes.ravel().tolist()
        ([448.0, 0.015625, nan], [126, 8, 127])
        >>> q.dequantize().tolist()
        [[1.0, 2.0, 2.6666667461395264, 4.0], [0.0, 0.0, 0.0, 0.0], [nan, nan, nan, nan]]
        """
        arr = float_input(x)
        if arr.dtype == np.float64 and arr.size:
            big = np.isfinite(arr) & (np.abs(arr) > np.finfo(np.float32).max)
            if big.any():
                raise ValueError(f"x holds {int(big.sum())} finite value(s) beyond the float32 range; NVFP4 works "
                                 "in float32 (rescale x first)")
        blocks = to_blocks(arr.astype(np.float32, copy=False), per_group(self.block_size, self.axis))
        data = blocks.data
        amax = _absmax(data) if data.size else np.zeros(data.shape[0], np.float32)
        g = self._tensor_scale(amax)
        bad = ~np.isfinite(amax)
        with np.errstate(invalid="ignore", over="ignore"):
            raw = amax / _ELEM_MAX
            if self.per_tensor_scale:
                raw = raw / g
            d = cast(np.clip(np.where(bad, _F32(1.0), raw), _SCALE_MIN, _SCALE_MAX), _E4M3)
        with np.errstate(invalid="ignore", over="ignore"):
            rec = (_F32(1.0) / g) / d if self.per_tensor_scale else _F32(1.0) / d
            rec = np.minimum(rec, np.finfo(np.float32).max)  # TransformerEngine's min(..., FLT_MAX)
        codes = encode_rows(data, rec, _E2M1, zero_rows=bad if bad.any() else None, clip=(-_ELEM_MAX, _ELEM_MAX),
                            rounding=self.rounding, overflow="saturate", seed=self.seed, sr_bits=self.sr_bits)
        d[bad] = np.nan
        return QuantizedTensor(
            codes=_unblock(blocks, codes),
            scale=blocks.params(d),
            zero_point=None,
            quantizer=self,
            shape=arr.shape,
            dtype=arr.dtype,
            scale_format=_E4M3,
            extra={"tensor_scale": g, "extra_bits": 32 if self.per_tensor_scale else 0},
        )

    @dask_aware
    def dequantize(self, q: QuantizedTensor, dtype=None) -> np.ndarray:
        """`codes * (tensor_scale * scale)` in float32, then `dtype` (default: the input's).

        Parameters
        ----------
        q : QuantizedTensor
            Made by this quantizer (or an equal one).
        dtype : numpy.dtype or str, optional
            float16, float32 or float64; None (default) gives the input's dtype.

        Returns
        -------
        numpy.ndarray
            Dequantized values in the input's shape.

        Raises
        ------
        TypeError
            If `q` is not a `QuantizedTensor` or `dtype` is not a float dtype.
        ValueError
            If `q` was made by a different quantizer.

        Examples
        --------
        >>> import numpy as np
        >>> import floatsim.quant as fq
        >>> quantizer = fq.NVFP4Quantizer()
        >>> q = quantizer.quantize(np.linspace(-3, 3, 16, dtype=np.float32))
        >>> quantizer.dequantize(q, np.float64)[:3].tolist()
        [-3.0, -3.0, -2.0]
        """
        self._check_q(q)
        out = self._out_dtype(q, dtype)
        blocks = to_blocks(q.codes, per_group(self.block_size, self.axis))
        s = blocks.rows(q.scale).astype(np.float32)
        if self.per_tensor_scale:
            s = _F32(q.extra["tensor_scale"]) * s
        vals = lookup_rows(blocks.data, _values(_E2M1, np.dtype(np.float32)), s)
        return as_output(_unblock(blocks, vals), out)
