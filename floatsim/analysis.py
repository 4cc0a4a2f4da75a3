"""Inspect number formats: value tables, neighbours, ulp, rounding explanations, binades and comparisons.

This module answers questions about a format rather than converting arrays. Which values does it hold and
how are they encoded (`value_table`, `classify_values`, `binades`)? What are the neighbours of a number in
the format, and how far apart are they (`next_up`, `next_down`, `ulp`)? How does one number round under each
rounding mode (`explain`, `explain_text`)? How many codes lie in a range (`count_within`, `share_within`)?
How do formats compare (`compare`), and how much error does rounding a sample into them cause
(`quantization_error`, `sample_distribution`)? The command line tool uses these functions for
`floatsim table`, `info`, `explain` and `compare`.

Every function takes the format as a descriptor (`floatsim.FloatFormat`, `floatsim.IntFormat`), a name
(`"float8_e4m3fn"`) or a dtype. A *code* is the unsigned integer whose bits encode a value (`0x38` is 1.0 in
`float8_e4m3fn`). Values are returned as Python floats or float64 arrays.

Everything here is built on the public verbs (`floatsim.encode`, `floatsim.decode`, `floatsim.cast`) and the
format descriptor; no value is assembled from bits here. Splitting a code into its sign / exponent /
mantissa fields by the descriptor's widths is the only bit work done.

Examples
--------
>>> from floatsim.analysis import next_up, ulp
>>> float(next_up(1.0, "float8_e4m3fn")), float(ulp(1.0, "float8_e4m3fn"))
(1.125, 0.125)
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .core import cast, decode, encode
from .format import FloatFormat, IntFormat, Specials
from .formats import CATALOGUE, get_format

__all__ = [
    "classify_values", "value_table", "next_up", "next_down", "ulp", "explain", "explain_text", "binades", "sample_distribution",
    "count_within", "share_within", "compare", "quantization_error", "DETERMINISTIC_MODES",
]

DETERMINISTIC_MODES = ("nearest_even", "nearest_away", "toward_zero", "toward_positive", "toward_negative", "odd")
"""The six deterministic rounding modes, in the order `explain` reports them (a tuple of str)."""

_MAX_ROWS = 1 << 20


# -- helpers --------------------------------------------------------------------------


def _fields(code: int, fmt) -> tuple[int, int | None, int | None]:
    """(sign, exponent field, mantissa field) of a code, split by the descriptor's widths."""
    if isinstance(fmt, IntFormat):
        return (code >> (fmt.bits - 1)) & 1 if fmt.signed else 0, None, None
    m, e = fmt.mantissa_bits, fmt.exponent_bits
    sign = (code >> (fmt.bits - 1)) & 1 if fmt.signed else 0
    return sign, (code >> m) & ((1 << e) - 1), code & ((1 << m) - 1)


def _bits_str(code: int, fmt) -> str:
    """The code's bits, grouped as ``sign exponent mantissa`` (e.g. ``"0 1111 110"``)."""
    s = format(int(code), f"0{fmt.bits}b")
    if isinstance(fmt, IntFormat):
        return s
    groups = []
    i = 0
    if fmt.signed:
        groups.append(s[0])
        i = 1
    groups.append(s[i:i + fmt.exponent_bits])
    if fmt.mantissa_bits:
        groups.append(s[i + fmt.exponent_bits:])
    return " ".join(groups)


def _hex_code(code: int, fmt) -> str:
    return f"0x{int(code):0{(fmt.bits + 3) // 4}x}"


def _as_f64(x):
    a = np.asarray(x, dtype=np.float64)
    return a, a.ndim == 0


def _out(r, scalar):
    return np.float64(r[()]) if scalar else r


def _float_format(fmt, argument="fmt") -> FloatFormat:
    fmt = get_format(fmt, argument)
    if not isinstance(fmt, FloatFormat):
        raise TypeError(f"{argument} must be a floating-point format, not the integer format {fmt}")
    return fmt


# -- value table ----------------------------------------------------------------------


def _codes_in_range(fmt, lo: float, hi: float) -> np.ndarray:
    """Candidate codes whose values may lie in ``[lo, hi]`` (filtered by the caller)."""
    parts = []

    def span(a, b):  # codes of the positive-sign values in [a, b], 0 <= a <= b
        ca = int(encode(np.float64(min(a, fmt.max)), fmt, rounding="toward_positive", overflow="saturate"))
        cb = int(encode(np.float64(min(b, fmt.max)), fmt, rounding="toward_negative", overflow="saturate"))
        return ca, cb

    ranges = []
    if hi >= 0:
        ca, cb = span(max(lo, 0.0), hi)
        if cb >= ca:
            ranges.append((0, ca, cb))
    if lo <= 0 and fmt.signed:
        ca, cb = span(max(-hi, 0.0), -lo)
        if cb >= ca:
            ranges.append((fmt.sign_bit, ca, cb))
    total = sum(cb - ca + 1 for _, ca, cb in ranges)
    if total > _MAX_ROWS + 2:
        raise ValueError(
            f"value_range=({lo!r}, {hi!r}) holds about {total} values of {fmt}; "
            f"at most {_MAX_ROWS} rows are allowed: narrow the range"
        )
    for sign, ca, cb in ranges:
        parts.append(sign | np.arange(ca, cb + 1, dtype=np.int64))
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def value_table(fmt, *, codes=None, value_range=None) -> list[dict]:
    """List codes of a format, one row per code: its bit fields, class and exact value.

    By default every code of the format is listed, in code order; this needs a format of at most 16 bits. For a
    wider format, choose the rows with `codes` or `value_range`.

    Parameters
    ----------
    fmt : str, FloatFormat, IntFormat or numpy.dtype
        The format, or its name (`"float8_e4m3fn"`) or dtype.
    codes : range or array_like of int, optional
        The codes to list, in the order given (at most `2**20` of them). Each must lie in `[0, 2**bits)`.
    value_range : tuple of (float, float), optional
        `(lo, hi)`: list every code whose value is finite and lies in `[lo, hi]` (at most `2**20` rows), in code
        order. Both zeros are listed when the range holds 0.

    Returns
    -------
    list of dict
        One dict per code, with the keys `code` (int), `sign` (0 or 1), `exponent_field` and `mantissa_field`
        (ints; None for integer formats), `bits` (the bits grouped as sign, exponent and mantissa, e.g.
        `"0 1111 110"`; ungrouped for integer formats), `cls` (`"zero"`, `"subnormal"`, `"normal"`, `"inf"`,
        `"nan"`; `"int"` for integer formats, see `classify_values`), `exponent` (unbiased; `emin` for
        subnormals; None for zero, NaN, infinities and integers), `value` (float), `hex` (`float.hex` of the
        value, or `"nan"` / `"inf"` / `"-inf"`) and `fraction` (the exact value as a string such as `"3/512"`;
        None for NaN and infinities).

    Raises
    ------
    ValueError
        For a format wider than 16 bits without `codes` or `value_range`; for both given; for a code outside
        the format; for more than `2**20` rows; for an unknown format name; for a `value_range` with `lo > hi`
        or a NaN bound.
    TypeError
        For `codes` that are not integers.

    Examples
    --------
    >>> rows = value_table("float4_e2m1fn")
    >>> len(rows), rows[7]["bits"], rows[7]["value"], rows[1]["cls"]
    (16, '0 11 1', 6.0, 'subnormal')

    One code of a wider format, and every value in a range:

    >>> row = value_table("float8_e4m3fn", codes=[0x03])[0]
    >>> row["bits"], row["cls"], row["exponent"], row["fraction"]
    ('0 0000 011', 'subnormal', -6, '3/512')
    >>> [r["hex"] for r in value_table("float32", value_range=(1.0, 1.0000002))]
    ['0x1.0000000000000p+0', '0x1.0000020000000p+0']

    A NaN code has no exponent and no exact value:

    >>> row = value_table("float8_e4m3fn", codes=[0x7F])[0]
    >>> row["cls"], row["exponent"], row["fraction"]
    ('nan', None, None)
    """
    fmt = get_format(fmt)
    if codes is not None and value_range is not None:
        raise ValueError("give codes= or value_range=, not both")
    filter_range = None
    if codes is not None:
        arr = np.asarray(list(codes) if isinstance(codes, range) else codes)
        if arr.size and arr.dtype.kind not in "iu":
            raise TypeError(f"codes must be integers, not {arr.dtype.name}")
        arr = arr.astype(np.int64).reshape(-1)
        if arr.size > _MAX_ROWS:
            raise ValueError(f"codes has {arr.size} entries; at most {_MAX_ROWS} rows are allowed")
    elif value_range is not None:
        lo, hi = (float(v) for v in value_range)
        if math.isnan(lo) or math.isnan(hi) or lo > hi:
            raise ValueError(f"value_range=({lo!r}, {hi!r}) is invalid: it needs lo <= hi, neither NaN")
        arr = np.arange(fmt.num_codes, dtype=np.int64) if fmt.bits <= 16 else _codes_in_range(fmt, lo, hi)
        filter_range = (lo, hi)
    elif fmt.bits > 16:
        raise ValueError(
            f"{fmt} has {fmt.bits}-bit codes ({fmt.num_codes} of them): pass codes= (a range or array) "
            "or value_range=(lo, hi) to choose which rows to list"
        )
    else:
        arr = np.arange(fmt.num_codes, dtype=np.int64)
    values = decode(arr, fmt, dtype=np.float64) if arr.size else np.zeros(0)
    if filter_range is not None:
        keep = np.isfinite(values) & (values >= filter_range[0]) & (values <= filter_range[1])
        arr, values = arr[keep], values[keep]
        if arr.size > _MAX_ROWS:
            raise ValueError(f"value_range holds {arr.size} values; at most {_MAX_ROWS} rows are allowed")
    is_int = isinstance(fmt, IntFormat)
    rows = []
    for code, value, cls in zip(arr.tolist(), values.tolist(), classify_values(values, fmt).tolist(), strict=True):
        sign, ef, mf = _fields(code, fmt)
        if cls == "normal":
            exponent = ef - fmt.bias
        elif cls == "subnormal":
            exponent = fmt.emin
        else:
            exponent = None
        finite = math.isfinite(value)
        rows.append(dict(
            code=code, sign=sign, exponent_field=ef, mantissa_field=mf, bits=_bits_str(code, fmt),
            cls=cls, exponent=exponent, value=value, hex=float.hex(value),
            fraction=(str(int(value)) if is_int else str(Fraction(value))) if finite else None,
        ))
    return rows


def classify_values(values, fmt) -> np.ndarray:
    """Classify values of a format as `"zero"`, `"subnormal"`, `"normal"`, `"inf"` or `"nan"`.

    The class is decided from the value and the format descriptor alone, without the code: zeros, NaN and
    infinities are recognised by value, and a nonzero finite value is `"subnormal"` when its magnitude is below
    the format's smallest normal value. Every value of an integer format is `"int"`.

    Parameters
    ----------
    values : array_like of float
        Decoded values of `fmt` (for example the output of `floatsim.decode`), any shape.
    fmt : str, FloatFormat, IntFormat or numpy.dtype
        The format the values belong to, or its name or dtype.

    Returns
    -------
    numpy.ndarray of str
        The class of each value (`"nan"`, `"inf"`, `"zero"`, `"subnormal"`, `"normal"`, or `"int"` for an
        integer format), with the shape of `values` and dtype `<U9`.

    Raises
    ------
    ValueError
        For an unknown format name.

    Examples
    --------
    >>> classify_values([0.0, 0.5, 6.0, -0.0], "float4_e2m1fn").tolist()
    ['zero', 'subnormal', 'normal', 'zero']
    >>> classify_values([float("nan"), float("-inf"), 2.0**-15], "float8_e5m2").tolist()
    ['nan', 'inf', 'subnormal']
    >>> classify_values([-3.0, 7.0], "int4").tolist()
    ['int', 'int']
    """
    fmt = get_format(fmt)
    v = np.asarray(values, dtype=np.float64)
    if isinstance(fmt, IntFormat):
        return np.full(v.shape, "int", dtype="<U9")
    a = np.abs(v)
    with np.errstate(invalid="ignore"):
        return np.select(
            [np.isnan(v), np.isinf(v), v == 0, a < fmt.smallest_normal],
            ["nan", "inf", "zero", "subnormal"], default="normal",
        ).astype("<U9")


# -- neighbours and ulp ---------------------------------------------------------------


def next_up(x, fmt):
    """The smallest value of `fmt` strictly above `x` (`x` need not be representable).

    At or above the largest finite value (`x = inf` included) the result is `inf` where the format has
    infinities, else NaN; NaN stays NaN. `next_up(0.0)` and `next_up(-0.0)` are the smallest positive value (the
    smallest subnormal where the format has subnormals).

    Parameters
    ----------
    x : float or array_like of float
        The starting points, any shape.
    fmt : str, FloatFormat, IntFormat or numpy.dtype
        The format, or its name or dtype.

    Returns
    -------
    numpy.float64 or numpy.ndarray of float64
        A `numpy.float64` for a scalar `x`, else an array of the shape of `x`.

    Raises
    ------
    ValueError
        For an unknown format name.

    Examples
    --------
    >>> float(next_up(1.0, "float8_e4m3fn")), float(next_up(1.01, "float8_e4m3fn"))
    (1.125, 1.125)
    >>> next_up([0.0, 2.5, 6.0], "float4_e2m1fn")
    array([0.5, 3. , nan])
    >>> float(next_up(448.0, "float8_e4m3fn")), float(next_up(-0.0, "float16"))
    (nan, 5.960464477539063e-08)
    """
    fmt = get_format(fmt)
    a, scalar = _as_f64(x)
    y = np.nextafter(a, np.inf)  # every value of fmt is a float64: smallest value >= y is the answer
    nan = np.isnan(y)
    over = ~nan & (y > fmt.max)
    yc = np.where(nan | over, 0.0, y)
    r = cast(yc, fmt, rounding="toward_positive", overflow="saturate", dtype=np.float64)
    r = np.where(over, np.inf if fmt.has_inf else np.nan, r)
    r = np.where(nan, np.nan, r)
    return _out(r, scalar)


def next_down(x, fmt):
    """The largest value of `fmt` strictly below `x` (`x` need not be representable).

    At or below the smallest finite value (`x = -inf` included) the result is `-inf` where the format has
    it, else NaN; NaN stays NaN. For an unsigned format the smallest finite value is its smallest positive
    value or zero.

    Parameters
    ----------
    x : float or array_like of float
        The starting points, any shape.
    fmt : str, FloatFormat, IntFormat or numpy.dtype
        The format, or its name or dtype.

    Returns
    -------
    numpy.float64 or numpy.ndarray of float64
        A `numpy.float64` for a scalar `x`, else an array of the shape of `x`.

    Raises
    ------
    ValueError
        For an unknown format name.

    Examples
    --------
    >>> float(next_down(1.0, "float8_e4m3fn")), float(next_down(0.0, "float4_e2m1fn"))
    (0.9375, -0.5)
    >>> next_down([-57344.0, float("inf")], "float8_e5m2")
    array([  -inf, 57344.])
    >>> float(next_down(0.0, "uint4"))
    nan
    """
    fmt = get_format(fmt)
    a, scalar = _as_f64(x)
    y = np.nextafter(a, -np.inf)
    nan = np.isnan(y)
    under = ~nan & (y < fmt.min)
    yc = np.where(nan | under, fmt.max, y)
    r = cast(yc, fmt, rounding="toward_negative", overflow="saturate", dtype=np.float64)
    has_neginf = isinstance(fmt, FloatFormat) and fmt.neginf_code is not None
    r = np.where(under, -np.inf if has_neginf else np.nan, r)
    r = np.where(nan, np.nan, r)
    return _out(r, scalar)


def ulp(x, fmt):
    """Unit in the last place: the gap between the values of `fmt` around `|x|`.

    For a representable `x` this is `next_up(|x|) - |x|` (at a power of two, the gap above), except at the
    largest finite value, where it is the gap below (so it is finite). For `|x|` between two values it is the
    gap between them; for `|x|` beyond the largest value it is the gap below the largest value. It is NaN for
    NaN and infinite `x`. Unlike `numpy.spacing` the result is never negative.

    Parameters
    ----------
    x : float or array_like of float
        The points to measure at, any shape.
    fmt : str, FloatFormat, IntFormat or numpy.dtype
        The format, or its name or dtype.

    Returns
    -------
    numpy.float64 or numpy.ndarray of float64
        A `numpy.float64` for a scalar `x`, else an array of the shape of `x`.

    Raises
    ------
    ValueError
        For an unknown format name.

    Examples
    --------
    >>> [float(u) for u in ulp([1.0, -1.0, 448.0, 0.0], "float8_e4m3fn")]
    [0.125, 0.125, 32.0, 0.001953125]
    >>> float(ulp(1000.0, "float8_e4m3fn")), float(ulp(float("inf"), "float8_e4m3fn"))
    (32.0, nan)
    """
    fmt = get_format(fmt)
    a, scalar = _as_f64(x)
    a = np.abs(a)
    finite = np.isfinite(a)
    ac = np.where(finite, a, 0.0)
    lo = cast(ac, fmt, rounding="toward_negative", overflow="saturate", dtype=np.float64)
    hi = next_up(lo, fmt)
    top = ~np.isfinite(hi)
    below = next_down(np.where(top, lo, fmt.max), fmt)
    gap = np.where(top, lo - below, hi - lo)
    return _out(np.where(finite, gap, np.nan), scalar)


# -- explain --------------------------------------------------------------------------


def explain(x, fmt, *, overflow=None) -> dict:
    """How `x` rounds into `fmt` under every deterministic rounding mode.

    For each mode of `DETERMINISTIC_MODES` the result gives the value `x` rounds to, its code, bits and error.
    It also gives the two neighbours of `x` in the format and the probability that stochastic rounding picks
    the upper one.

    Parameters
    ----------
    x : float
        The number to explain (anything `float()` accepts).
    fmt : str, FloatFormat, IntFormat or numpy.dtype
        The format, or its name or dtype.
    overflow : str, optional
        Overflow policy for the per-mode results, as in `floatsim.cast`. Default: `"ieee"` for float
        formats, `"saturate"` for integer formats (which do not accept `"ieee"`).

    Returns
    -------
    dict
        `input` (`x` as a float), `format` (the format's name), `representable` (True when `x` is a finite
        value of the format), `lo` / `hi` (the largest value `<= x` and the smallest value `>= x`; `-inf` /
        `inf` / NaN beyond the range), `p_round_up` (probability that stochastic rounding picks `hi`:
        `(x - lo) / (hi - lo)`; 0 when `x` is representable, None when `x` or a neighbour is not finite) and
        `modes`: for each mode of `DETERMINISTIC_MODES` a dict with `value` (float), `code` (hex string),
        `bits` (grouped as in `value_table`), `abs_error` and `rel_error` (exact errors rounded to float;
        `rel_error` is None for `x == 0` or a non-finite result).

    Raises
    ------
    ValueError
        For an unknown format name or overflow policy, or an explicit `overflow="ieee"` with an integer format.
    TypeError
        For an `x` that is not a number (a list, for example).

    Examples
    --------
    >>> e = explain(1.0625, "float8_e4m3fn")
    >>> e["lo"], e["hi"], e["p_round_up"], e["modes"]["nearest_even"]["value"]
    (1.0, 1.125, 0.5, 1.0)
    >>> e["modes"]["toward_positive"]
    {'value': 1.125, 'code': '0x39', 'bits': '0 0111 001', 'abs_error': 0.0625, 'rel_error': 0.058823529411764705}

    Overflow: `float8_e4m3fn` has no infinity, so by default an overflowing value rounds to NaN;
    `overflow="saturate"` gives the largest finite value instead:

    >>> explain(500.0, "float8_e4m3fn")["modes"]["nearest_even"]["value"]
    nan
    >>> explain(500.0, "float8_e4m3fn", overflow="saturate")["modes"]["nearest_even"]["value"]
    448.0
    """
    fmt = get_format(fmt)
    if overflow is None:
        overflow = "saturate" if isinstance(fmt, IntFormat) else "ieee"
    x = float(x)
    xa = np.float64(x)
    modes = {}
    for mode in DETERMINISTIC_MODES:
        code = int(encode(xa, fmt, rounding=mode, overflow=overflow))
        value = float(cast(xa, fmt, rounding=mode, overflow=overflow, dtype=np.float64))
        if math.isfinite(value) and math.isfinite(x):
            err = abs(Fraction(value) - Fraction(x))
            abs_err = float(err)
            rel_err = float(err / abs(Fraction(x))) if x != 0 else None
        else:
            abs_err = abs(value - x) if not (math.isinf(value) and value == x) else 0.0
            rel_err = None
        modes[mode] = dict(value=value, code=_hex_code(code, fmt), bits=_bits_str(code, fmt),
                           abs_error=abs_err, rel_error=rel_err)
    if math.isnan(x):
        lo = hi = math.nan
    elif math.isinf(x) and fmt.has_inf:
        lo = hi = x
    elif math.isinf(x):  # nothing of the format lies beyond the infinity: one side is empty
        big = np.finfo(np.float64).max
        lo, hi = (float(next_down(big, fmt)), math.nan) if x > 0 else (math.nan, float(next_up(-big, fmt)))
    else:
        lo = float(next_down(np.nextafter(xa, np.inf), fmt))  # largest value <= x
        hi = float(next_up(np.nextafter(xa, -np.inf), fmt))  # smallest value >= x
    representable = not math.isnan(x) and lo == x
    if representable:
        p_up = 0.0
    elif math.isfinite(lo) and math.isfinite(hi) and math.isfinite(x):
        p_up = float((Fraction(x) - Fraction(lo)) / (Fraction(hi) - Fraction(lo)))
    else:
        p_up = None
    return dict(input=x, format=str(fmt), representable=representable, lo=lo, hi=hi,
                p_round_up=p_up, modes=modes)


def explain_text(x, fmt, *, overflow=None) -> str:
    """A readable multi-line rendering of `explain`.

    The first line says whether `x` is representable, or between which two values it lies and the probability
    that stochastic rounding goes up. Then comes one line per deterministic rounding mode: the rounded value,
    its code and bits, and the absolute and relative errors (`-` where the relative error is undefined).

    Parameters
    ----------
    x : float
        The number to explain.
    fmt : str, FloatFormat, IntFormat or numpy.dtype
        The format, or its name or dtype.
    overflow : str, optional
        Overflow policy, as in `explain` (default: `"ieee"`, `"saturate"` for integer formats).

    Returns
    -------
    str
        The lines, joined by newlines (no trailing newline).

    Raises
    ------
    ValueError
        As `explain`.
    TypeError
        As `explain`.

    Examples
    --------
    >>> print(explain_text(1.0625, "float8_e4m3fn").splitlines()[0])
    1.0625 in float8_e4m3fn: between 1.0 and 1.125 (stochastic rounding goes up with p = 0.5)
    >>> print(explain_text(1.0625, "float8_e4m3fn"))
    1.0625 in float8_e4m3fn: between 1.0 and 1.125 (stochastic rounding goes up with p = 0.5)
      nearest_even                1.0  code 0x38  bits 0 0111 000  abs err 0.0625  rel err 0.0588
      nearest_away              1.125  code 0x39  bits 0 0111 001  abs err 0.0625  rel err 0.0588
      toward_zero                 1.0  code 0x38  bits 0 0111 000  abs err 0.0625  rel err 0.0588
      toward_positive           1.125  code 0x39  bits 0 0111 001  abs err 0.0625  rel err 0.0588
      toward_negative             1.0  code 0x38  bits 0 0111 000  abs err 0.0625  rel err 0.0588
      odd                       1.125  code 0x39  bits 0 0111 001  abs err 0.0625  rel err 0.0588
    >>> print(explain_text(0.5, "float4_e2m1fn").splitlines()[0])
    0.5 in float4_e2m1fn: exactly representable
    """
    e = explain(x, fmt, overflow=overflow)
    if e["representable"]:
        head = f"{e['input']!r} in {e['format']}: exactly representable"
    else:
        p, lo, hi = e["p_round_up"], e["lo"], e["hi"]
        tail = f" (stochastic rounding goes up with p = {p:.6g})" if p is not None else ""
        if math.isnan(x) or (math.isnan(lo) and math.isnan(hi)):
            where = "not a number"
        elif math.isnan(hi):
            where = f"above the largest value, {lo!r}"
        elif math.isnan(lo):
            where = f"below the smallest value, {hi!r}"
        else:
            where = f"between {lo!r} and {hi!r}"
        head = f"{e['input']!r} in {e['format']}: {where}{tail}"
    lines = [head]
    width = max(len(m) for m in e["modes"])
    for mode, r in e["modes"].items():
        rel = "-" if r["rel_error"] is None else f"{r['rel_error']:.3g}"
        lines.append(f"  {mode:<{width}}  {r['value']!r:>14}  code {r['code']}  bits {r['bits']}  "
                     f"abs err {r['abs_error']:.3g}  rel err {rel}")
    return "\n".join(lines)


# -- binades and counts ---------------------------------------------------------------


def binades(fmt) -> list[dict]:
    """One row per binade of the finite positive values of a float format.

    A *binade* holds the values with the same exponent `e`, that is the values in `[2**e, 2**(e + 1))`. All
    values in a binade are equally spaced. The subnormals (the values below the smallest normal value) form
    their own row, first.

    Parameters
    ----------
    fmt : str, FloatFormat or numpy.dtype
        A floating-point format, or its name or dtype.

    Returns
    -------
    list of dict
        In increasing order of value. Keys: `kind` (`"subnormal"` or `"normal"`), `exponent` (`emin` for the
        subnormal row), `lo` / `hi` (smallest and largest value in the row), `count` (number of values),
        `spacing` (gap between neighbours) and `unit_roundoff` (`spacing / 2 / lo`, the usual bound on the
        relative error of round-to-nearest, for normal binades; None for the subnormal row). Counts are derived
        from the values, and equal `2**mantissa_bits` per normal binade except the top one when special values
        take some of its codes.

    Raises
    ------
    TypeError
        For an integer format.
    ValueError
        For an unknown format name.

    Examples
    --------
    >>> [(r["exponent"], r["count"]) for r in binades("float4_e2m1fn")]
    [(0, 1), (0, 2), (1, 2), (2, 2)]

    The top binade of `float8_e4m3fn` has 7 values, not 8: its last code is NaN.

    >>> top = binades("float8_e4m3fn")[-1]
    >>> top["lo"], top["hi"], top["count"], top["spacing"]
    (256.0, 448.0, 7, 32.0)
    """
    fmt = _float_format(fmt)
    m = fmt.mantissa_bits
    rows = []
    if fmt.has_zero and fmt.subnormals and m > 0:
        sp = fmt.smallest_subnormal
        hi = fmt.smallest_normal - sp
        rows.append(dict(kind="subnormal", exponent=fmt.emin, lo=sp, hi=hi,
                         count=round(hi / sp), spacing=sp, unit_roundoff=None))
    for e in range(fmt.emin, fmt.emax + 1):
        lo = math.ldexp(1.0, e)
        sp = math.ldexp(1.0, e - m)
        hi = min(fmt.max, math.ldexp(1.0, e + 1) - sp)
        rows.append(dict(kind="normal", exponent=e, lo=lo, hi=hi, count=round((hi - lo) / sp) + 1,
                         spacing=sp, unit_roundoff=sp / 2 / lo))
    return rows


def count_within(fmt, t) -> int:
    """Number of codes whose value is finite and lies in `[-t, t]`.

    Codes are counted, not distinct values: `+0` and `-0` count once each where the format has both (so does
    every non-canonical zero of a format without subnormals). NaN and infinity codes never count.

    Parameters
    ----------
    fmt : str, FloatFormat, IntFormat or numpy.dtype
        The format, or its name or dtype.
    t : float
        The bound. `inf` counts every finite code; a negative `t` gives 0.

    Returns
    -------
    int
        The number of codes.

    Raises
    ------
    ValueError
        For a NaN `t` or an unknown format name.

    Examples
    --------
    >>> count_within("float4_e2m1fn", 1.0), count_within("float4_e2m1fn", float("inf"))
    (6, 16)
    >>> count_within("float8_e4m3fn", float("inf")), count_within("int4", 3)
    (254, 7)
    """
    fmt = get_format(fmt)
    t = float(t)
    if math.isnan(t):
        raise ValueError("t must not be NaN")
    if t < 0:
        return 0
    if isinstance(fmt, IntFormat):
        k = fmt.max - fmt.min if math.isinf(t) else math.floor(t)
        return min(k, fmt.max) + 1 + (min(k, -fmt.min) if fmt.signed else 0)
    tc = min(t, fmt.max)
    c = int(encode(np.float64(tc), fmt, rounding="toward_negative", overflow="saturate"))
    if float(decode(c, fmt, dtype=np.float64)) > t:  # below the smallest value (no zero)
        return 0
    if fmt.has_zero and not fmt.subnormals and c < (1 << fmt.mantissa_bits):
        c = (1 << fmt.mantissa_bits) - 1  # the non-canonical zeros (exponent field 0) decode to 0 too
    n = c + 1  # positive-sign codes 0..c are in value order and all finite
    if fmt.signed:
        n += c + 1 - (1 if fmt.has_zero and not fmt.has_negative_zero else 0)
    return n


def share_within(fmt, t) -> float:
    """Fraction of all `2**bits` codes counted by `count_within`.

    Parameters
    ----------
    fmt : str, FloatFormat, IntFormat or numpy.dtype
        The format, or its name or dtype.
    t : float
        The bound, as in `count_within`.

    Returns
    -------
    float
        `count_within(fmt, t) / 2**bits`, between 0 and 1.

    Raises
    ------
    ValueError
        For a NaN `t` or an unknown format name.

    Examples
    --------
    >>> share_within("float4_e2m1fn", 1.0)
    0.375
    >>> share_within("float8_e4m3fn", float("inf"))
    0.9921875
    """
    fmt = get_format(fmt)
    return count_within(fmt, t) / fmt.num_codes


# -- comparison -----------------------------------------------------------------------

_NAN_CONVENTION = {
    Specials.IEEE: "ieee (exponent all ones, mantissa != 0)",
    Specials.FN: "magnitude all ones",
    Specials.FNUZ: "the -0 pattern",
    Specials.EXTENDED: "the -0 pattern",
    Specials.NONE: "none",
}


def compare(formats=None) -> list[dict]:
    """A row of derived properties per float format, for side-by-side comparison.

    Parameters
    ----------
    formats : str, FloatFormat, or iterable of formats, optional
        The floating-point formats to describe, in order (names, descriptors or dtypes). Default: every float
        format of the catalogue (`floatsim.list_formats`).

    Returns
    -------
    list of dict
        One dict per format. Keys: `name`, `bits`, `exponent_bits`, `mantissa_bits`, `bias`, `max`,
        `smallest_normal`, `smallest_subnormal`, `eps`, `binades` (`log2(max / smallest_subnormal)`),
        `subnormal_binades` (the range subnormals add, `log2(smallest_normal / smallest_subnormal)`),
        `dynamic_range_db` (`20 log10(max / smallest_subnormal)`), `decimal_digits` (`precision * log10(2)`),
        `finite_values` (codes with a finite value, both zeros counted), `nan_codes`, and the conventions
        `nan` (which codes are NaN, in words), `inf` (`"none"`, `"+-inf"` or `"+inf"`) and `negative_zero`
        (`"yes"` / `"no"`).

    Raises
    ------
    TypeError
        For an integer format.
    ValueError
        For an unknown format name.

    Examples
    --------
    >>> r = compare(["float8_e4m3fn"])[0]
    >>> r["max"], r["finite_values"], r["nan"], r["inf"], r["negative_zero"]
    (448.0, 254, 'magnitude all ones', 'none', 'yes')
    >>> r = compare("float8_e5m2")[0]
    >>> r["max"], r["finite_values"], r["nan_codes"], r["inf"], r["subnormal_binades"]
    (57344.0, 248, 6, '+-inf', 2.0)
    """
    if formats is None:
        formats = [f for f in CATALOGUE.values() if isinstance(f, FloatFormat)]
    elif isinstance(formats, (str, FloatFormat)):
        formats = [formats]
    rows = []
    for f in formats:
        fmt = _float_format(f, "formats")
        ratio = fmt.max / fmt.smallest_subnormal
        finite = count_within(fmt, math.inf)
        inf_codes = 0 if not fmt.has_inf else (2 if fmt.signed else 1)
        rows.append(dict(
            name=str(fmt), bits=fmt.bits, exponent_bits=fmt.exponent_bits, mantissa_bits=fmt.mantissa_bits,
            bias=fmt.bias, max=fmt.max, smallest_normal=fmt.smallest_normal,
            smallest_subnormal=fmt.smallest_subnormal, eps=fmt.eps, binades=math.log2(ratio),
            subnormal_binades=math.log2(fmt.smallest_normal / fmt.smallest_subnormal),
            dynamic_range_db=20 * math.log10(ratio), decimal_digits=fmt.precision * math.log10(2),
            finite_values=finite, nan_codes=fmt.num_codes - finite - inf_codes,
            nan=_NAN_CONVENTION[fmt.specials],
            inf="none" if not fmt.has_inf else ("+-inf" if fmt.signed else "+inf"),
            negative_zero="yes" if fmt.has_negative_zero else "no",
        ))
    return rows


# -- quantization error ---------------------------------------------------------------


_DISTRIBUTIONS = ("normal", "laplace", "uniform")


def sample_distribution(name: str, n: int = 100_000, *, seed: int = 0) -> np.ndarray:
    """`n` reproducible draws of a unit distribution: `"normal"`, `"laplace"` or `"uniform"`.

    `"normal"` is the standard normal distribution (mean 0, standard deviation 1), `"laplace"` the Laplace
    distribution with location 0 and scale 1, and `"uniform"` the uniform distribution on `[-1, 1)`. The draws
    come from `numpy.random.default_rng(seed)`, so the same arguments give the same sample.

    Parameters
    ----------
    name : str
        `"normal"`, `"laplace"` or `"uniform"`.
    n : int, default 100000
        Number of draws.
    seed : int, default 0
        Seed of the random generator.

    Returns
    -------
    numpy.ndarray of float64
        Shape `(n,)`.

    Raises
    ------
    ValueError
        For an unknown distribution name.

    Examples
    --------
    >>> sample_distribution("uniform", 3).shape
    (3,)
    >>> a = sample_distribution("laplace", 5, seed=1)
    >>> bool((a == sample_distribution("laplace", 5, seed=1)).all())
    True
    """
    rng = np.random.default_rng(seed)
    if name == "normal":
        return rng.standard_normal(n)
    if name == "laplace":
        return rng.laplace(size=n)
    if name == "uniform":
        return rng.uniform(-1.0, 1.0, n)
    raise ValueError(f"unknown distribution {name!r}; allowed: {', '.join(_DISTRIBUTIONS)}")


def quantization_error(sample, formats, *, scale=None) -> list[dict]:
    """Error statistics of rounding `sample` into each format (nearest-even, saturating).

    Each value is cast with round-to-nearest-even and `overflow="saturate"` (values beyond the range become
    the largest finite value of that sign), and the result is compared with the original.

    Parameters
    ----------
    sample : array_like of float, or str
        Finite values, any shape (NaN or infinities raise `ValueError`), or the name of a distribution
        (`"normal"`, `"laplace"` or `"uniform"`: 100,000 draws of `sample_distribution` with seed 0).
    formats : str, FloatFormat, IntFormat, or iterable of formats
        The formats to measure, in order.
    scale : {None, "absmax"}, default None
        `"absmax"` multiplies the sample by `fmt.max / max|x|` before the cast and divides it out after
        (per-tensor scaling, so the largest magnitude maps to the largest value); None casts as is.

    Returns
    -------
    list of dict
        One dict per format. Keys: `format` (name), `scale` (the factor used, 1.0 without scaling), `mse`
        (mean squared error), `sqnr_db` (signal-to-quantization-noise ratio, `10 log10(mean(x**2) / mse)`;
        `inf` when `mse == 0`), `max_abs_error` and `max_rel_error` (over nonzero `x`; NaN if there are none).

    Raises
    ------
    ValueError
        For an empty sample, a NaN or infinite value, an unknown `scale` or distribution name, or an unknown
        format name.

    Examples
    --------
    >>> r = quantization_error([1.0, 0.5, -6.0], "float4_e2m1fn")[0]
    >>> r["mse"], r["sqnr_db"]
    (0.0, inf)
    >>> r = quantization_error([0.3, -1.7, 2.2], "float8_e4m3fn", scale="absmax")[0]
    >>> round(r["scale"], 4), round(r["sqnr_db"], 2), round(r["max_rel_error"], 4)
    (203.6364, 39.66, 0.0179)
    """
    if isinstance(sample, str):
        x = sample_distribution(sample)
    else:
        x = np.asarray(sample, dtype=np.float64).reshape(-1)
    if x.size == 0:
        raise ValueError("sample is empty")
    if not np.all(np.isfinite(x)):
        raise ValueError("sample must hold finite values only (no NaN or infinities)")
    if scale not in (None, "absmax"):
        raise ValueError(f"scale={scale!r} is invalid: use None or 'absmax'")
    if isinstance(formats, (str, FloatFormat, IntFormat)) or not np.iterable(formats):
        formats = [formats]
    power = float(np.mean(x * x))
    nz = x != 0
    rows = []
    for f in formats:
        fmt = get_format(f, "formats")
        s = 1.0
        if scale == "absmax":
            amax = float(np.max(np.abs(x)))
            s = float(fmt.max) / amax if amax > 0 else 1.0
        q = cast(x * s, fmt, overflow="saturate", dtype=np.float64) / s
        err = q - x
        mse = float(np.mean(err * err))
        rel = np.abs(err[nz]) / np.abs(x[nz])
        rows.append(dict(
            format=str(fmt), scale=s, mse=mse,
            sqnr_db=math.inf if mse == 0 else 10 * math.log10(power / mse) if power > 0 else -math.inf,
            max_abs_error=float(np.max(np.abs(err))),
            max_rel_error=float(np.max(rel)) if rel.size else math.nan,
        ))
    return rows
