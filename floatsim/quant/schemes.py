"""Quantization schemes by name: one string builds a configured quantizer.

A scheme string names a quantizer and its options, so that scripts, reports
and the command line can compare schemes without building each quantizer by
hand: `get_quantizer("int4:g128")` is `IntQuantizer(bits=4, granularity="group:128")`.
The command line (`floatsim quantize`) and `floatsim.quant.report` users spell
schemes this way.

Grammar: `BASE[:OPTION]...` (case-insensitive).

| base | quantizer |
|---|---|
| `int2` ... `int16`, `uint2` ... `uint16` | `IntQuantizer` (symmetric, per tensor) |
| a float format (`float8_e4m3fn`, `fp8_e5m2`, `bfloat16` ...) | `FloatQuantizer` (amax scaling, per tensor) |
| `mxfp8_e4m3`, `mxfp8_e5m2`, `mxfp6_e2m3`, `mxfp6_e3m2`, `mxfp4`, `mxint8` | `mx` (OCP MX v1.0, 32-element blocks, E8M0 scales) |
| `nvfp4` | `NVFP4Quantizer` (two-level) |
| `nf4`, `fp4_bnb`, `dynamic8`, `dynamic8_unsigned` | `nf4`, `bnb_fp4`, `dynamic8` (bitsandbytes-style blockwise absmax) |

| option | meaning | applies to |
|---|---|---|
| `gN` | group / block size N (per-group along the last axis; block size for MX / NVFP4 / codebooks) | all |
| `channel` | per channel along axis 0 (`channel=AXIS` for another axis) | integers, float formats |
| `asym` | asymmetric (zero point) integer quantization | integers |
| `narrow` | narrow integer range (drops the most negative code) | integers |
| `qmax` | symmetric scale amax / qmax (TensorRT / TFLite) instead of amax / ((qmax - qmin) / 2) | integers |
| `pow2` | power-of-two scales, rounded up (never clip) | integers, float formats |
| `dq` | double quantization of the block absmax | `nf4`, `fp4_bnb` |
| `sr` | stochastic rounding (seed 0) | all but codebooks |

`gN` and `channel` exclude each other. `EXAMPLE_SCHEMES` is a representative
set.

Examples
--------
>>> from floatsim.quant import get_quantizer
>>> get_quantizer("int4:g128:asym")  # doctest: +ELLIPSIS
IntQuantizer(bits=4, signed=True, symmetric=False, ...)
>>> get_quantizer("mxfp4").block_size, get_quantizer("nf4:dq").double_quant
(32, True)
"""

from __future__ import annotations

import re

from ..format import FloatFormat
from ..formats import get_format
from ._layout import per_channel, per_group
from .affine import FloatQuantizer, IntQuantizer
from .blocks import MX_FORMATS, NVFP4Quantizer, mx
from .codebooks import bnb_fp4, dynamic8, nf4

__all__ = ["get_quantizer", "EXAMPLE_SCHEMES"]

#: a representative set (the default of ``floatsim quantize``)
EXAMPLE_SCHEMES = ("int8", "int8:channel", "int4:g128", "int4:g32:asym", "float8_e4m3fn", "float8_e4m3fn:channel",
                   "mxfp8_e4m3", "mxfp6_e2m3", "mxfp4", "nvfp4", "nf4", "nf4:dq", "dynamic8")
"""A representative tuple of scheme strings: the default set of `floatsim quantize`."""

_CODEBOOKS = {"nf4": nf4, "fp4_bnb": bnb_fp4, "dynamic8": dynamic8,
              "dynamic8_unsigned": lambda **kw: dynamic8(signed=False, **kw)}
_OPTIONS = ("gN", "channel[=AXIS]", "asym", "narrow", "qmax", "pow2", "dq", "sr")


def _parse_options(spec: str, parts: list[str]) -> dict:
    opts: dict = {}
    for part in parts:
        if m := re.fullmatch(r"g(\d+)", part):
            opts["group"] = int(m.group(1))
        elif m := re.fullmatch(r"channel(?:=(-?\d+))?", part):
            opts["channel"] = int(m.group(1) or 0)
        elif part in ("asym", "narrow", "qmax", "pow2", "dq", "sr"):
            opts[part] = True
        else:
            raise ValueError(f"scheme {spec!r}: unknown option {part!r}; options are {', '.join(_OPTIONS)}")
    return opts


def _reject(spec: str, opts: dict, allowed: set[str]) -> None:
    bad = sorted(set(opts) - allowed)
    if bad:
        raise ValueError(f"scheme {spec!r}: option(s) {', '.join(bad)} do not apply to this kind of scheme")


def get_quantizer(spec):
    """A quantizer from a scheme string (grammar in the module docstring); quantizer objects pass through.

    Parameters
    ----------
    spec : str or Quantizer
        A scheme string such as `"int4:g128:asym"`, `"mxfp4"` or `"nf4:dq"`, or
        an object with `quantize` and `dequantize` methods (returned unchanged).

    Returns
    -------
    Quantizer
        An `IntQuantizer`, `FloatQuantizer`, `BlockFloatQuantizer`,
        `NVFP4Quantizer` or `CodebookQuantizer` configured as the string says.

    Raises
    ------
    ValueError
        For an unknown base or option, or an option that does not apply (the
        message lists what is allowed), and for values the quantizer refuses
        (e.g. `"int32"`: bits must be 2 to 16).
    TypeError
        For something that is neither a string nor a quantizer.

    Examples
    --------
    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> q = fq.get_quantizer("int8:channel=1:narrow")
    >>> q.qrange, str(q.granularity)
    ((-127, 127), 'per-channel(axis=1)')
    >>> fq.get_quantizer("nvfp4:g32").block_size, fq.get_quantizer("fp4_bnb:g128").name
    (32, 'bnb_fp4')
    >>> fq.get_quantizer("int4:g32").fake_quantize(np.float32([0.1, 0.2, 0.7])).tolist()
    [0.09333333373069763, 0.18666666746139526, 0.653333306312561]
    >>> fq.get_quantizer("mxfp4:asym")
    Traceback (most recent call last):
    ...
    ValueError: scheme 'mxfp4:asym': option(s) asym do not apply to this kind of scheme
    """
    if hasattr(spec, "quantize") and hasattr(spec, "dequantize"):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"scheme must be a string such as 'int4:g128' or a quantizer, not {type(spec).__name__}")
    base, *rest = spec.strip().lower().split(":")
    opts = _parse_options(spec, rest)
    sr = {"rounding": "stochastic", "seed": 0} if opts.get("sr") else {}
    if "group" in opts and "channel" in opts:
        raise ValueError(f"scheme {spec!r}: give a group size or channel, not both")
    if m := re.fullmatch(r"(u?)int(\d+)", base):
        _reject(spec, opts, {"group", "channel", "asym", "narrow", "qmax", "pow2", "sr"})
        gran = per_group(opts["group"]) if "group" in opts else (
            per_channel(opts["channel"]) if "channel" in opts else None)
        return IntQuantizer(bits=int(m.group(2)), signed=not m.group(1), symmetric=not opts.get("asym"),
                            narrow_range=bool(opts.get("narrow")), divisor="qmax" if opts.get("qmax") else "half_range",
                            granularity=gran, power_of_two="ceil" if opts.get("pow2") else None, **sr)
    if base in MX_FORMATS:
        _reject(spec, opts, {"group", "sr"})
        return mx(base, **({"block_size": opts["group"]} if "group" in opts else {}), **sr)
    if base == "nvfp4":
        _reject(spec, opts, {"group", "sr"})
        return NVFP4Quantizer(**({"block_size": opts["group"]} if "group" in opts else {}), **sr)
    if base in _CODEBOOKS:
        _reject(spec, opts, {"group", "dq"})
        kw = {"block_size": opts["group"]} if "group" in opts else {}
        if opts.get("dq"):
            if base.startswith("dynamic8"):
                raise ValueError(f"scheme {spec!r}: double quantization (dq) applies to nf4 and fp4_bnb")
            kw["double_quant"] = True
        return _CODEBOOKS[base](**kw)
    try:
        fmt = get_format(base)
    except (ValueError, TypeError):
        fmt = None
    if isinstance(fmt, FloatFormat):
        _reject(spec, opts, {"group", "channel", "pow2", "sr"})
        gran = per_group(opts["group"]) if "group" in opts else (
            per_channel(opts["channel"]) if "channel" in opts else None)
        return FloatQuantizer(format=fmt, granularity=gran, power_of_two="ceil" if opts.get("pow2") else None, **sr)
    raise ValueError(
        f"unknown scheme base {base!r}: use intN / uintN, a float format name, one of "
        f"{', '.join(MX_FORMATS)}, nvfp4, or one of {', '.join(_CODEBOOKS)}"
    )
