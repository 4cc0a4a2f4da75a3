"""The `floatsim` command line: inspect formats, round numbers and estimate memory from the shell.

Installing floatsim installs a `floatsim` command (`python -m floatsim` is the same). Its subcommands print the
catalogue (`list`), every code of a format with its exact value (`table`), a format's constants (`info`), the
rounding of numbers (`cast`), how one value is encoded under every rounding mode (`explain`), formats side by
side (`compare`), memory footprints (`memory`), quantization reports (`quantize`) and plots (`plot`);
`floatsim COMMAND --help` shows each one's options and an example. The command is a thin layer: it parses
arguments, asks the library (`floatsim.get_format`, `floatsim.decode`, `floatsim.cast`, `floatsim.analysis`,
...) for the numbers, and prints them; nothing is recomputed here. From Python, call `main` with the argument
list.

```sh
floatsim list
floatsim table float4_e2m1fn
floatsim table float8_e4m3fn --format csv > e4m3fn.csv
floatsim table float32 --limit 16
floatsim cast float8_e4m3fn 0.1 1.0625 500 --overflow saturate
```
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import sys
from collections.abc import Iterable, Sequence
from decimal import Context, Decimal

import numpy as np

from . import __version__
from .core import decode
from .format import FloatFormat, IntFormat, Specials
from .formats import CATALOGUE, aliases, get_format
from .rounding import Rounding

__all__ = ["main"]

#: Formats wider than this many bits are only printed with ``--limit``.
MAX_FULL_TABLE_BITS = 16

_PROG = "floatsim"

# a float64 has at most 767 significant decimal digits; normalize() must not round them away
_EXACT = Context(prec=1100)


# -- number formatting ---------------------------------------------------------------------


def exact_decimal(x: float) -> str:
    """The exact decimal value of a float64, as short as the value allows.

    Fixed notation for moderate magnitudes, scientific notation with every
    digit otherwise; never rounded (every binary float has a finite decimal
    expansion).

    >>> exact_decimal(448.0), exact_decimal(-0.001953125), exact_decimal(2.0**-24)
    ('448', '-0.001953125', '5.9604644775390625e-8')
    >>> exact_decimal(float("-inf")), exact_decimal(-0.0)
    ('-inf', '-0')
    """
    if math.isnan(x):
        return "-nan" if math.copysign(1.0, x) < 0 else "nan"
    if math.isinf(x):
        return "-inf" if x < 0 else "inf"
    d = Decimal(x)  # exact: Decimal(float) keeps every binary digit
    if d.is_zero():
        return "-0" if d.is_signed() else "0"
    d = d.normalize(_EXACT)  # strip trailing zeros; the wide context keeps every digit
    if -5 <= d.adjusted() < 21:
        return f"{d:f}"
    return f"{d:e}"


def hex_float(x: float) -> str:
    """``float.hex`` without trailing zeros: ``0x1.cp+8`` for 448, ``0x1p-9`` for 2**-9.

    >>> hex_float(448.0), hex_float(2.0**-9), hex_float(-0.0)
    ('0x1.cp+8', '0x1p-9', '-0x0p+0')
    """
    if math.isnan(x):
        return "-nan" if math.copysign(1.0, x) < 0 else "nan"
    if math.isinf(x):
        return "-inf" if x < 0 else "inf"
    mant, _, exp = x.hex().partition("p")
    mant = mant.rstrip("0").rstrip(".")
    return f"{mant}p{exp}"


def _power_of_two(x: float) -> str:
    """``2^-9`` for a positive power of two (the smallest values of every format)."""
    mant, exp = math.frexp(x)
    if mant != 0.5:
        return exact_decimal(x)
    return f"2^{exp - 1}"


def _short(x: float) -> str:
    """Integers as integers, other values as the shortest repr that round-trips."""
    if math.isfinite(x) and x == int(x) and abs(x) < 2.0**53:
        return str(int(x))
    return repr(x)


# -- the catalogue -------------------------------------------------------------------------


def _layout(fmt: FloatFormat | IntFormat) -> str:
    if isinstance(fmt, IntFormat):
        return "two's complement" if fmt.signed else "unsigned"
    layout = f"E{fmt.exponent_bits}M{fmt.mantissa_bits}"
    return layout if fmt.signed else f"{layout} (unsigned)"


_LIST_COLUMNS = ("name", "bits", "layout", "bias", "specials", "max", "smallest normal", "smallest subnormal")


def _specials(fmt: FloatFormat) -> str:
    return Specials(fmt.specials).value  # the field is normalised to a Specials member at construction


def _list_rows() -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for name, fmt in CATALOGUE.items():
        if isinstance(fmt, IntFormat):
            rows.append((name, str(fmt.bits), _layout(fmt), "-", "-", str(fmt.max), "-", "-"))
            continue
        subnormal = _power_of_two(fmt.smallest_subnormal) if fmt.subnormals and fmt.mantissa_bits else "-"
        rows.append(
            (
                name,
                str(fmt.bits),
                _layout(fmt),
                str(fmt.bias),
                _specials(fmt),
                _short(fmt.max),
                _power_of_two(fmt.smallest_normal),
                subnormal,
            )
        )
    return rows


def _print_list(style: str, out) -> None:
    rows = _list_rows()
    if style == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(_LIST_COLUMNS)
        w.writerows(rows)
    elif style == "markdown":
        out.write("| " + " | ".join(_LIST_COLUMNS) + " |\n")
        out.write("|" + "|".join("---" for _ in _LIST_COLUMNS) + "|\n")
        for r in rows:
            out.write("| " + " | ".join(f"`{r[0]}`" if i == 0 else c for i, c in enumerate(r)) + " |\n")
    else:
        _write_columns([_LIST_COLUMNS, *rows], out)
        out.write("\nAliases:\n")
        for target, names in aliases().items():
            out.write(f"  {target:<20}{', '.join(names)}\n")
        out.write(
            "\nIEEE P3109 names ('binary8p4se') and specs ('e5m2:bias=15:fn', 'p3109:k=8:p=3:se', 'int4') work too.\n"
        )


def _write_columns(rows: Sequence[Sequence[str]], out, chunk: int = 8192) -> None:
    """Left-aligned columns separated by two spaces, written in chunks of lines."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for start in range(0, len(rows), chunk):
        lines = (
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows[start : start + chunk]
        )
        out.write("\n".join(lines) + "\n")


# -- the code table ------------------------------------------------------------------------


def _fields(fmt: FloatFormat | IntFormat, code: int) -> list[str]:
    """The code's bit fields as binary strings, most significant first."""
    if isinstance(fmt, IntFormat):
        return [format(code, f"0{fmt.bits}b")]
    e, m = fmt.exponent_bits, fmt.mantissa_bits
    # code = S EEEE MMM  (no S for unsigned formats, no M when mantissa_bits == 0)
    fields = []
    if fmt.signed:
        fields.append(str(code >> (e + m) & 1))
    fields.append(format(code >> m & ((1 << e) - 1), f"0{e}b"))
    if m:
        fields.append(format(code & ((1 << m) - 1), f"0{m}b"))
    return fields


def _field_names(fmt: FloatFormat | IntFormat) -> list[str]:
    if isinstance(fmt, IntFormat):
        return ["bits"]
    names = ["sign"] if fmt.signed else []
    names.append("exponent")
    if fmt.mantissa_bits:
        names.append("mantissa")
    return names


def _header(fmt: FloatFormat | IntFormat) -> list[str]:
    name = fmt.name or str(fmt)
    lines = [f"{name}: {fmt.describe()}"]
    if isinstance(fmt, IntFormat):
        lines.append(f"bits {fmt.bits}, min {fmt.min}, max {fmt.max}, {fmt.num_codes} codes")
        lines.append("layout: " + ("two's complement" if fmt.signed else "unsigned binary"))
        return lines

    def both(x: float) -> str:
        return f"{exact_decimal(x)} ({hex_float(x)})"

    lines.append(f"bits {fmt.bits}, {fmt.num_codes} codes, max {both(fmt.max)}")
    lines.append(
        f"smallest normal {both(fmt.smallest_normal)}, smallest subnormal "
        + (both(fmt.smallest_subnormal) if fmt.subnormals and fmt.mantissa_bits else "none")
        + f", eps {both(fmt.eps)}"
    )
    layout = ("S " if fmt.signed else "") + "E" * fmt.exponent_bits + (" " + "M" * fmt.mantissa_bits)
    lines.append(f"layout: {layout.rstrip()}  (specials: {_specials(fmt)})")
    return lines


def _table_rows(fmt: FloatFormat | IntFormat, codes: np.ndarray, values: np.ndarray) -> Iterable[list[str]]:
    """One row per code: code, bit fields..., class, [hex,] value."""
    hex_width = (fmt.bits + 3) // 4
    if isinstance(fmt, IntFormat):
        for code, v in zip(codes.tolist(), values.tolist(), strict=True):
            yield [f"0x{code:0{hex_width}X}", *_fields(fmt, code), "int", str(int(v))]
        return
    from .analysis import classify_values

    classes = classify_values(values, fmt).tolist()
    for code, v, cls in zip(codes.tolist(), values.tolist(), classes, strict=True):
        yield [f"0x{code:0{hex_width}X}", *_fields(fmt, code), cls, hex_float(v), exact_decimal(v)]


def _print_table(fmt: FloatFormat | IntFormat, limit: int | None, style: str, out) -> None:
    n = fmt.num_codes if limit is None else min(limit, fmt.num_codes)
    codes = np.arange(n, dtype=fmt.code_dtype)
    values = np.asarray(decode(codes, fmt, dtype=np.float64))
    # the exact decimal goes last: it can be hundreds of digits long (2**-149 has 105)
    value_columns = ["value"] if isinstance(fmt, IntFormat) else ["hex", "value"]
    field_names = _field_names(fmt)
    rows = _table_rows(fmt, codes, values)
    if style == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["code", *field_names, "class", *value_columns])
        w.writerows(rows)
        return
    for line in _header(fmt):
        out.write(f"# {line}\n")
    if n < fmt.num_codes:
        out.write(f"# first {n} of {fmt.num_codes} codes\n")
    nf = len(field_names)
    # text: the bit fields share one column ("0 1111 110"); the column titles are a '#' line too,
    # so every line that does not start with '#' is exactly one code
    table = [["# code", "bits", "class", *value_columns]]
    table += [[r[0], " ".join(r[1 : 1 + nf]), *r[1 + nf :]] for r in rows]
    _write_columns(table, out)


# -- argument parsing ----------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 1")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Inspect low-precision number formats (bit-exact, from floatsim's descriptors and decoder).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p_list = sub.add_parser(
        "list",
        help="list the catalogue of named formats",
        description="List every named format: width, layout, bias, special-value convention, max and smallest values.",
    )
    p_list.add_argument(
        "--format", dest="style", choices=("text", "csv", "markdown"), default="text", help="output style"
    )

    p_table = sub.add_parser(
        "table",
        help="print every code of a format with its bits, class and exact value",
        description=(
            "Print every code of FORMAT: the code in hex, its bit fields (sign exponent mantissa, or the "
            "two's-complement bits of an integer format), its class (nan, inf, zero, subnormal, normal; int) "
            "and its exact value (exact decimal and hex float), as decoded by floatsim.decode. "
            f"Formats wider than {MAX_FULL_TABLE_BITS} bits (float32, tfloat32, wide P3109 formats) have too many "
            "codes to print; for them --limit is required and the first N codes (from code 0) are printed."
        ),
        epilog="FORMAT is a catalogue name (see 'floatsim list'), an alias such as fp8_e4m3 or bf16, "
        "or an IEEE P3109 name such as binary8p4se.",
    )
    p_table.add_argument("fmt", metavar="FORMAT", help="format name or alias")
    p_table.add_argument(
        "--limit",
        type=_positive_int,
        metavar="N",
        help=f"print only the first N codes (required for formats wider than {MAX_FULL_TABLE_BITS} bits)",
    )
    p_table.add_argument("--range", nargs=2, type=float, metavar=("LO", "HI"),
                         help="only the codes whose values lie in [LO, HI] (any width of format)")
    p_table.add_argument("--json", action="store_true", help="machine-readable rows (floatsim.analysis.value_table)")
    p_table.add_argument("--markdown", action="store_true", help="a Markdown table")
    p_table.add_argument("--csv", action="store_true", help="same as --format csv")
    p_table.add_argument(
        "--format",
        dest="style",
        choices=("text", "csv"),
        default="text",
        help="text: aligned columns under '#' header lines (default); csv: one header row, then one row per code",
    )
    _more_commands(sub)
    return parser


def _fmt_arg(p, many=False):
    p.add_argument("fmt", metavar="FORMAT", nargs="+" if many else None,
                   help="format name, alias, P3109 name, or a spec such as e5m2:bias=15:fn, p3109:k=8:p=3:se, int4")


def _more_commands(sub) -> None:
    p = sub.add_parser("info", help="everything the descriptor knows about a format",
                       description="Print the derived constants of FORMAT.",
                       epilog="example: floatsim info e5m2:bias=15:fn")
    _fmt_arg(p)
    p.add_argument("--binades", action="store_true",
                   help="also the values, spacing and unit roundoff of every binade, and the density near zero")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("cast", help="round numbers into a format",
                       description="Round VALUES (or the array in a .npy file) into FORMAT and print or save them.",
                       epilog="example: floatsim cast float8_e4m3fn 0.1 1.0625 500 --overflow saturate")
    _fmt_arg(p)
    p.add_argument("values", metavar="VALUE", nargs="*", help="numbers (or use --input)")
    p.add_argument("--input", metavar="FILE.npy", help="read the values from a .npy file")
    p.add_argument("--output", metavar="FILE.npy", help="write the result to a .npy file instead of printing")
    p.add_argument("--rounding", default="nearest_even", help="rounding mode (default nearest_even)")
    p.add_argument("--overflow", default=None, help="overflow policy (default: the format's)")
    p.add_argument("--seed", type=int, default=None, help="seed for stochastic rounding")
    p.add_argument("--sr-bits", type=int, default=None, help="random bits N for stochastic_a/b/c")
    p.add_argument("--codes", action="store_true", help="print the codes too")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("explain", help="how a value is encoded, bit by bit, with its error",
                       description="Show where VALUE falls in FORMAT: its neighbours, the result and error of every "
                       "rounding mode, and the chance of rounding up under stochastic rounding.",
                       epilog="example: floatsim explain 0.1 float8_e4m3fn")
    p.add_argument("value", metavar="VALUE", help="the number")
    _fmt_arg(p)
    p.add_argument("--rounding", default=None, help="show only this (deterministic) rounding mode")
    p.add_argument("--overflow", default=None, help="overflow policy (default: ieee, saturate for integer formats)")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("compare", help="side-by-side table of formats",
                       description="Compare formats: range, precision, number of values, special-value conventions.",
                       epilog="example: floatsim compare float16 bfloat16 float8_e4m3fn float8_e5m2")
    p.add_argument("fmt", metavar="FORMAT", nargs="*", help="formats (default: the float formats of the catalogue)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--markdown", action="store_true", help="a Markdown table")

    p = sub.add_parser("memory", help="bytes needed to store (or train) N parameters",
                       description="Memory to store PARAMS parameters in each format (and, with --training, "
                       "weights + gradients + Adam states).",
                       epilog="example: floatsim memory 70e9")
    p.add_argument("params", metavar="PARAMS", type=float, help="number of parameters, e.g. 70e9")
    p.add_argument("--formats", nargs="+", default=None, help="formats (default: float64 float32 bfloat16 ...)")
    p.add_argument("--training", action="store_true", help="also the training budget (fp32 master, Adam)")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("quantize", help="quantize one tensor under several schemes and compare the errors",
                       description="Quantize a tensor (a seeded sample, or a .npy file) with each SCHEME and print "
                       "bits per value (scales included), SQNR, cosine similarity, MSE and max abs error. Schemes: "
                       "intN / uintN, a float format, mxfp8_e4m3 / mxfp8_e5m2 / mxfp6_e2m3 / mxfp6_e3m2 / mxfp4 / "
                       "mxint8, nvfp4, nf4 / fp4_bnb / dynamic8, with options :gN (group size), :channel, :asym, "
                       ":narrow, :qmax, :pow2, :dq, :sr (see floatsim.quant.schemes).",
                       epilog="example: floatsim quantize int8 int4:g128 mxfp4 nvfp4 nf4 --shape 256x4096")
    p.add_argument("schemes", metavar="SCHEME", nargs="*", help="schemes (default: a representative set)")
    p.add_argument("--input", metavar="FILE.npy", help="quantize this array instead of a sample")
    p.add_argument("--distribution", choices=("normal", "laplace", "uniform"), default="normal",
                   help="sample distribution (default normal)")
    p.add_argument("--shape", default="256x4096", help="sample shape, e.g. 1024x4096 (default 256x4096)")
    p.add_argument("--seed", type=int, default=0, help="sample seed (default 0)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--markdown", action="store_true", help="a Markdown table")
    p.add_argument("--plot", metavar="FILE.png", help="also draw SQNR by scheme (needs matplotlib)")

    p = sub.add_parser("plot", help="draw a plot of one or more formats to an image file",
                       description="Plots (needs matplotlib: pip install 'floatsim[plot]'): number-line, "
                       "spacing, binades, rounding.",
                       epilog="example: floatsim plot spacing float16 bfloat16 float8_e4m3fn -o spacing.png")
    p.add_argument("kind", choices=("number-line", "spacing", "binades", "rounding", "cast-error"),
                   help="which plot (cast-error: relative error of casting a unit normal sample)")
    _fmt_arg(p, many=True)
    p.add_argument("-o", "--output", required=True, metavar="FILE.png", help="image file to write")


def _emit(obj, as_json: bool, out, text: str) -> int:
    if as_json:
        json.dump(obj, out, indent=2, default=_jsonable)
        out.write("\n")
    else:
        out.write(text if text.endswith("\n") else text + "\n")
    return 0


def _jsonable(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        return float(x) if np.isfinite(x) else str(float(x))
    if isinstance(x, np.ndarray):
        return [_jsonable(v) for v in x.tolist()]
    return str(x)


def _clean(obj):
    """Floats that JSON cannot hold (nan, inf) as strings; everything else as is."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if np.isfinite(v) else str(v)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def _rows_text(rows: list[dict], markdown: bool = False) -> str:
    if not rows:
        return ""
    keys = list(rows[0])
    cells = [[str(_short(v) if isinstance(v, float) else v) for v in (r[k] for k in keys)] for r in rows]
    if markdown:
        lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
        lines += ["| " + " | ".join(c) + " |" for c in cells]
        return "\n".join(lines)
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    lines = ["  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _cmd_info(args, out) -> int:
    fmt = get_format(args.fmt)
    if isinstance(fmt, IntFormat):
        info = {"name": str(fmt), "kind": "int", "bits": fmt.bits, "signed": fmt.signed, "min": fmt.min,
                "max": fmt.max, "codes": fmt.num_codes}
    else:
        info = {
            "name": str(fmt), "kind": "float", "descriptor": fmt.describe(), "bits": fmt.bits,
            "exponent_bits": fmt.exponent_bits, "mantissa_bits": fmt.mantissa_bits, "precision": fmt.precision,
            "bias": fmt.bias, "signed": fmt.signed, "subnormals": fmt.subnormals, "has_zero": fmt.has_zero,
            "specials": fmt.specials.value, "emin": fmt.emin, "emax": fmt.emax, "max": fmt.max, "min": fmt.min,
            "smallest_normal": fmt.smallest_normal, "smallest_subnormal": fmt.smallest_subnormal, "eps": fmt.eps,
            "has_inf": fmt.has_inf, "has_nan": fmt.has_nan, "has_negative_zero": fmt.has_negative_zero,
            "max_code": hex(fmt.max_code), "nan_code": None if fmt.nan_code is None else hex(fmt.nan_code),
            "inf_code": None if fmt.inf_code is None else hex(fmt.inf_code), "codes": fmt.num_codes,
            "code_dtype": fmt.code_dtype.name, "value_dtype": fmt.value_dtype.name,
        }
    text = "\n".join(f"{k:<20}{hex_float(v) + '  (' + _short(v) + ')' if isinstance(v, float) else v}"
                      for k, v in info.items())
    if args.binades and isinstance(fmt, FloatFormat):
        from . import analysis

        rows = analysis.binades(fmt)
        info["binades"] = rows
        near = [{"t": t, "values_in_[-t,t]": analysis.count_within(fmt, t),
                 "share_of_codes": analysis.share_within(fmt, t)} for t in (fmt.smallest_normal, 1.0, fmt.max)]
        info["near_zero"] = near
        text += "\n\nper binade:\n" + _rows_text(rows) + "\n\nnear zero:\n" + _rows_text(near)
    return _emit(_clean(info), args.json, out, text)


def _cmd_cast(args, out) -> int:
    import floatsim as fs

    fmt = get_format(args.fmt)
    if args.input:
        try:
            x = np.load(args.input, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read {args.input}: {exc}") from None
    elif args.values:
        try:
            x = np.array([float(v) for v in args.values], dtype=np.float64)
        except ValueError as exc:
            raise ValueError(f"VALUE must be numbers: {exc}") from None
    else:
        raise ValueError("give VALUEs or --input FILE.npy")
    kw = dict(rounding=args.rounding, overflow=args.overflow, seed=args.seed, sr_bits=args.sr_bits)
    if args.seed is None:
        kw.pop("seed")
    y = fs.cast(x, fmt, dtype=np.float64 if x.dtype not in (np.float16, np.float32) else None, **kw)
    codes = fs.encode(x, fmt, **kw)
    if args.output:
        np.save(args.output, y)
        return 0
    rows = [{"input": float(a), "value": float(b), **({"code": hex(int(c))} if args.codes else {})}
            for a, b, c in zip(x.reshape(-1), y.reshape(-1), codes.reshape(-1), strict=True)]
    text = "\n".join(f"{r['input']!r:>24} -> {r['value']!r}" + (f"  ({r['code']})" if args.codes else "")
                      for r in rows)
    return _emit(_clean(rows), args.json, out, text)


def _cmd_explain(args, out) -> int:
    from . import analysis

    try:
        value = float(args.value)
    except ValueError:
        raise ValueError(f"VALUE must be a number, not {args.value!r}") from None
    fmt = get_format(args.fmt)
    keep = None
    if args.rounding is not None:
        keep = Rounding.parse(args.rounding).name.lower()
        if keep not in analysis.DETERMINISTIC_MODES:
            raise ValueError(f"--rounding {args.rounding!r}: explain shows the deterministic modes "
                             f"({', '.join(analysis.DETERMINISTIC_MODES)}); the stochastic probability is always shown")
    if args.json:
        data = analysis.explain(value, fmt, overflow=args.overflow)
        if keep:
            data["modes"] = {keep: data["modes"][keep]}
        return _emit(_clean(data), True, out, "")
    lines = analysis.explain_text(value, fmt, overflow=args.overflow).splitlines()
    if keep:
        lines = lines[:1] + [ln for ln in lines[1:] if ln.split()[0] == keep]
    return _emit(None, False, out, "\n".join(lines))


def _cmd_compare(args, out) -> int:
    from . import analysis

    rows = analysis.compare([get_format(f) for f in args.fmt] if args.fmt else None)
    return _emit(_clean(rows), args.json, out, _rows_text(rows, args.markdown))


def _cmd_memory(args, out) -> int:
    from . import memory

    rows = memory.memory_table(args.params, args.formats) if args.formats else memory.memory_table(args.params)
    result = {"storage": rows}
    text = _rows_text(rows)
    if args.training:
        train = memory.training_memory(args.params)
        result["training"] = train
        text += "\n\ntraining (fp32 weights, gradients, Adam states):\n" + "\n".join(
            f"  {k:<20}{v}" for k, v in train.items())
    return _emit(_clean(result), args.json, out, text)


def _cmd_plot(args, out) -> int:
    from . import plotting

    fmts = [get_format(f) for f in args.fmt]
    if args.kind == "number-line":
        fig = plotting.number_line(fmts[0])
    elif args.kind == "spacing":
        fig = plotting.spacing(fmts)
    elif args.kind == "binades":
        fig = plotting.binade_histogram(fmts[0])
    elif args.kind == "cast-error":
        from .analysis import sample_distribution

        fig = plotting.cast_error(sample_distribution("normal"), fmts)
    else:
        f = fmts[0]
        fig = plotting.rounding_modes(f, -2 * f.smallest_normal, 2 * f.smallest_normal * 8)
    fig.savefig(args.output)
    out.write(f"wrote {args.output}\n")
    return 0


def _cmd_quantize(args, out) -> int:
    from .quant import metrics, schemes

    if args.input:
        try:
            x = np.load(args.input, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read --input {args.input!r}: {exc}") from None
    else:
        try:
            shape = tuple(int(n) for n in args.shape.lower().split("x"))
        except ValueError:
            raise ValueError(f"--shape must look like 1024x4096, not {args.shape!r}") from None
        if not shape or min(shape) < 1:
            raise ValueError(f"--shape must have positive sizes, not {args.shape!r}")
        rng = np.random.default_rng(args.seed)
        draw = {"normal": rng.standard_normal, "laplace": rng.laplace,
                "uniform": lambda size: rng.uniform(-1.0, 1.0, size)}[args.distribution]
        x = draw(size=shape).astype(np.float32)
    names = args.schemes or list(schemes.EXAMPLE_SCHEMES)
    rows = metrics.report(x, {name: schemes.get_quantizer(name) for name in names})
    if args.plot:
        from . import plotting

        plotting.quantization_report(rows).figure.savefig(args.plot)
    if args.json or args.markdown:
        return _emit(_clean(rows), args.json, out, _rows_text(rows, markdown=True))
    head = f"{x.dtype} {'x'.join(map(str, x.shape))} ({args.input or args.distribution})"
    return _emit(None, False, out, head + "\n" + metrics.report_text(rows))


def _table_records(fmt, args, out) -> int:
    from . import analysis

    codes = None
    if args.limit is not None and not args.range:
        codes = range(min(args.limit, fmt.num_codes))
    rows = analysis.value_table(fmt, codes=codes, value_range=tuple(args.range) if args.range else None)
    if args.limit is not None:
        rows = rows[: args.limit]
    if args.json:
        return _emit(_clean(rows), True, out, "")
    keys = ("code", "bits", "cls", "exponent", "hex", "value")
    slim = [{k: (hex(r[k]) if k == "code" else r[k]) for k in keys} for r in rows]
    return _emit(None, False, out, _rows_text(slim, markdown=args.markdown))


_COMMANDS = {"info": _cmd_info, "cast": _cmd_cast, "explain": _cmd_explain, "compare": _cmd_compare,
             "memory": _cmd_memory, "plot": _cmd_plot, "quantize": _cmd_quantize}


def _error(message: str) -> int:
    print(f"{_PROG}: error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `floatsim` command line with the given arguments.

    Output goes to `sys.stdout`, error messages to `sys.stderr`.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name, e.g. `["table", "float4_e2m1fn"]`. Default: `sys.argv[1:]`.

    Returns
    -------
    int
        The exit status: 0 on success; 2 when a command fails on a bad value (an unknown format, a bad number,
        too many codes to print) or lacks an optional dependency (matplotlib for `plot`); 1 when the reader of
        the output went away (a broken pipe).

    Raises
    ------
    SystemExit
        From the argument parser, for `--help` and `--version` (status 0) and for malformed arguments such as an
        unknown command or option (status 2), as every argparse program does.

    Examples
    --------
    >>> from floatsim.cli import main
    >>> main(["cast", "float8_e4m3fn", "0.1", "1.0625", "500", "--overflow", "saturate"])
                         0.1 -> 0.1015625
                      1.0625 -> 1.0
                       500.0 -> 448.0
    0
    >>> main(["table", "no_such_format"])  # the error message goes to stderr
    2
    """
    args = _parser().parse_args(argv)
    out = sys.stdout
    try:
        if args.command == "list":
            _print_list(args.style, out)
            return 0
        if args.command in _COMMANDS:
            try:
                return _COMMANDS[args.command](args, out)
            except (ValueError, TypeError) as exc:
                return _error(str(exc))
            except ImportError as exc:
                return _error(str(exc))
        try:
            fmt = get_format(args.fmt)
        except ValueError as exc:
            return _error(str(exc))
        if args.csv:
            args.style = "csv"
        if args.range or args.json or args.markdown:
            try:
                return _table_records(fmt, args, out)
            except (ValueError, TypeError) as exc:
                return _error(str(exc))
        if fmt.bits > MAX_FULL_TABLE_BITS and args.limit is None:
            return _error(
                f"{fmt.name or args.fmt} has {fmt.num_codes} codes ({fmt.bits} bits), too many to print; "
                "pass --limit N to print the first N codes"
            )
        _print_table(fmt, args.limit, args.style, out)
        out.flush()
    except BrokenPipeError:
        # the reader (e.g. `| head`) went away: silence the flush at exit, as Python's docs advise
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, io.UnsupportedOperation, ValueError):
            pass
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
