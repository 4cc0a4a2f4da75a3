"""Memory footprint of tensors and training state stored in a given number format.

How much memory does a model take in bfloat16, FP8 or 4-bit integers? This module answers with pure arithmetic
on bit widths (nothing is allocated): `n` values of a `b`-bit format take `n * b / 8` bytes, plus the shared
scales of block formats (MX / NVFP4 style). `parameter_bytes` sizes one tensor, `memory_table` compares formats,
`training_memory` adds up the state of a training run, and `format_bits` gives a format's width. Formats are
floatsim formats or names, numpy dtypes, or plain bit widths; `"float64"` (64 bits) is accepted although floatsim
has no float64 format.

Examples
--------
>>> from floatsim.memory import parameter_bytes
>>> parameter_bytes(70e9, "float16") / 1e9  # 70 billion parameters in float16: 140 GB
140.0
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .format import FloatFormat, IntFormat
from .formats import get_format

__all__ = ["format_bits", "memory_table", "parameter_bytes", "training_memory"]

DEFAULT_FORMATS = ("float64", "float32", "bfloat16", "float8_e4m3fn", "float4_e2m1fn", "int4")


def format_bits(fmt, argument: str = "fmt") -> int:
    """Storage width in bits of a format, format name, numpy dtype or bit width.

    Parameters
    ----------
    fmt : str, FloatFormat, IntFormat, numpy dtype or int
        A floatsim format or name (`"bfloat16"`, `"e4m3fn"`, ...), a numpy
        dtype or its name (`"float64"`, `np.int32`), or a positive integer
        number of bits.
    argument : str, default "fmt"
        The argument name that error messages quote.

    Returns
    -------
    int
        The width in bits (for a numpy dtype, 8 times its item size).

    Raises
    ------
    ValueError
        For an unknown name or a non-positive bit width.
    TypeError
        For anything else.

    Examples
    --------
    >>> format_bits("bfloat16"), format_bits("float64"), format_bits(12)
    (16, 64, 12)
    """
    if fmt is None or isinstance(fmt, (bool, np.bool_)):  # np.dtype(None) would be float64
        raise TypeError(f"{argument} must be a format, a format name or a bit width, not {fmt!r}")
    if isinstance(fmt, numbers.Integral):
        if int(fmt) <= 0:
            raise ValueError(f"{argument}={fmt} is invalid: a bit width must be a positive integer")
        return int(fmt)
    if isinstance(fmt, (FloatFormat, IntFormat)):
        return fmt.bits
    try:
        return get_format(fmt, argument).bits
    except (ValueError, TypeError) as err:
        # formats floatsim does not emulate (float64, int32, ...) still have a width
        try:
            dt = np.dtype(fmt)
        except (TypeError, ValueError):
            raise err from None
        if dt.kind not in "biufc":
            raise err from None
        return dt.itemsize * 8


def _format_label(fmt) -> str:
    if isinstance(fmt, str):
        return fmt
    if isinstance(fmt, numbers.Integral) and not isinstance(fmt, bool):
        return f"{int(fmt)}-bit"
    if isinstance(fmt, (FloatFormat, IntFormat)):
        return str(fmt)
    try:
        return np.dtype(fmt).name
    except TypeError:
        return str(fmt)


def _check_n(n) -> float:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Real):
        raise TypeError(f"n must be a number of values, not {type(n).__name__} ({n!r})")
    n = float(n)
    if not math.isfinite(n) or n <= 0:
        raise ValueError(f"n={n!r} is invalid: the number of values must be positive and finite")
    return n


def _block_bits(block_size, scale_bits) -> float:
    """Extra bits per value for one ``scale_bits`` scale shared by ``block_size`` values."""
    if block_size is None and scale_bits is None:
        return 0.0
    if block_size is None or scale_bits is None:
        raise ValueError("block_size and scale_bits go together: give both (block formats) or neither")
    if isinstance(block_size, (bool, np.bool_)) or not isinstance(block_size, numbers.Integral):
        raise TypeError(f"block_size must be a positive integer, not {block_size!r}")
    if block_size <= 0:
        raise ValueError(f"block_size={block_size} is invalid: it must be a positive integer")
    return format_bits(scale_bits, "scale_bits") / int(block_size)


def parameter_bytes(n, fmt, *, block_size=None, scale_bits=None) -> float:
    """Bytes taken by `n` values stored in `fmt`.

    Parameters
    ----------
    n : int or float
        Number of values (e.g. `70e9` parameters); positive.
    fmt : str, FloatFormat, IntFormat, numpy dtype or int
        Element format or its bit width (see `format_bits`).
    block_size : int, optional
        Values sharing one scale (block formats such as MXFP8 / MXFP4: 32).
    scale_bits : int or format, optional
        Width of each shared scale (MX: 8, `"float8_e8m0fnu"`). Given
        together with `block_size`; adds `scale_bits / block_size` bits
        per value.

    Returns
    -------
    float
        `n * (bits + scale_bits / block_size) / 8`.

    Raises
    ------
    ValueError
        For a non-positive `n` or `block_size`, an unknown format, or only
        one of `block_size` / `scale_bits`.
    TypeError
        If `n` is not a number, `block_size` not an integer, or a format of
        the wrong type.

    Examples
    --------
    >>> parameter_bytes(1e9, "float8_e4m3fn")
    1000000000.0
    >>> parameter_bytes(1000, 64)
    8000.0

    MXFP4: 4-bit elements plus one 8-bit E8M0 scale per 32 values (4.25 bits each):

    >>> parameter_bytes(32, "float4_e2m1fn", block_size=32, scale_bits="float8_e8m0fnu")
    17.0
    """
    n = _check_n(n)
    bits = format_bits(fmt)
    extra = _block_bits(block_size, scale_bits)
    main = n * bits / 8
    return float(main + n * extra / 8) if extra else float(main)


def memory_table(n, formats=DEFAULT_FORMATS, *, block_size=None, scale_bits=None) -> list[dict]:
    """Memory for `n` values in each of several formats.

    Parameters
    ----------
    n : int or float
        Number of values; positive.
    formats : sequence of formats, names or bit widths
        Default: float64, float32, bfloat16, float8_e4m3fn, float4_e2m1fn, int4.
        A single format is accepted too.
    block_size : int, optional
        Values sharing one scale, applied to every row (see `parameter_bytes`).
    scale_bits : int or format, optional
        Width of each shared scale, given together with `block_size`.

    Returns
    -------
    list of dict
        One row per format with keys `format` (label), `bits` (element
        width), `bytes`, `gb` (`1e9` bytes) and `gib` (`2**30` bytes).

    Raises
    ------
    ValueError
        As `parameter_bytes`, for any of the formats.
    TypeError
        As `parameter_bytes`, for any of the formats.

    Examples
    --------
    >>> [(r["format"], r["gb"]) for r in memory_table(70e9, ["float64", "float32", "bfloat16"])]
    [('float64', 560.0), ('float32', 280.0), ('bfloat16', 140.0)]
    """
    n = _check_n(n)
    if isinstance(formats, (str, FloatFormat, IntFormat)) or isinstance(formats, numbers.Integral):
        formats = [formats]
    rows = []
    for fmt in formats:
        b = parameter_bytes(n, fmt, block_size=block_size, scale_bits=scale_bits)
        rows.append({"format": _format_label(fmt), "bits": format_bits(fmt), "bytes": b, "gb": b / 1e9, "gib": b / 2**30})
    return rows


def training_memory(n, *, weights="float32", gradients="float32", optimizer_states=("float32", "float32"),
                    master_weights=None) -> dict:
    """Bytes of the model state during training (activations not included).

    Parameters
    ----------
    n : int or float
        Number of parameters; positive.
    weights : format, name or bit width
        Format of the working weights.
    gradients : format, name or bit width, or None
        Format of the gradients (None: no gradients, e.g. inference).
    optimizer_states : sequence of formats
        One entry per state tensor: Adam keeps two (first and second moment),
        SGD with momentum one, plain SGD none.
    master_weights : format, optional
        A separate high-precision copy of the weights (mixed-precision
        training usually keeps a float32 master copy).

    Returns
    -------
    dict
        Bytes per component: `weights`, `gradients`, `optimizer_states`
        (all states together), `master_weights` (0 when none) and `total`.

    Raises
    ------
    ValueError
        For a non-positive `n` or an unknown format.
    TypeError
        If `n` is not a number or a format has the wrong type.

    Examples
    --------
    8-bit Adam with float16 weights and gradients: 2N + 2N + 1N + 1N bytes.

    >>> training_memory(1e9, weights="float16", gradients="float16", optimizer_states=("int8", "int8"))["total"]
    6000000000.0

    Mixed precision: bfloat16 weights and gradients, float32 Adam states and master copy (16 bytes per parameter):

    >>> m = training_memory(1e9, weights="bfloat16", gradients="bfloat16", master_weights="float32")
    >>> m["total"] / 1e9
    16.0
    """
    n = _check_n(n)
    if isinstance(optimizer_states, (str, FloatFormat, IntFormat)) or isinstance(optimizer_states, numbers.Integral):
        optimizer_states = (optimizer_states,)
    out = {
        "weights": parameter_bytes(n, weights),
        "gradients": 0.0 if gradients is None else parameter_bytes(n, gradients),
        "optimizer_states": float(sum(parameter_bytes(n, s) for s in optimizer_states)),
        "master_weights": 0.0 if master_weights is None else parameter_bytes(n, master_weights),
    }
    out["total"] = float(sum(out.values()))
    return out
