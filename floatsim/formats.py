"""Named formats: the catalogue, name lookup and the IEEE P3109 family.

Everywhere floatsim takes a format it accepts a name as well as a descriptor. This module turns names into
descriptors. `CATALOGUE` holds the standard formats under their ml_dtypes names (`"float8_e4m3fn"`,
`"bfloat16"`, `"int4"`, ...); `get_format` also resolves aliases (`"fp8_e4m3"`, `"bf16"`, `"mxfp4"`), IEEE P3109
names (`"binary8p4se"`), compact specs (`"e5m2:bias=15:fn"`) and numpy / ml_dtypes dtypes; `p3109` builds any
member of the P3109 family; `list_formats` and `aliases` list what is known.

Examples
--------
>>> import floatsim as fs
>>> fs.get_format("fp8_e4m3").name, fs.get_format("binary8p4se").max
('float8_e4m3fn', 224.0)
"""

from __future__ import annotations

import difflib
import re

import numpy as np

from .format import FloatFormat, IntFormat, Specials

__all__ = ["aliases", "get_format", "list_formats", "p3109", "CATALOGUE"]


def _f(name, e, m, bias=None, **kw):
    return FloatFormat(exponent_bits=e, mantissa_bits=m, bias=bias, name=name, **kw)


CATALOGUE: dict[str, FloatFormat | IntFormat] = {
    f.name: f
    for f in [
        _f("float32", 8, 23),
        _f("tfloat32", 8, 10),
        _f("float16", 5, 10),
        _f("bfloat16", 8, 7),
        _f("float8_e4m3fn", 4, 3, specials=Specials.FN),
        _f("float8_e5m2", 5, 2),
        _f("float8_e4m3", 4, 3),
        _f("float8_e3m4", 3, 4),
        _f("float8_e4m3fnuz", 4, 3, 8, specials=Specials.FNUZ),
        _f("float8_e5m2fnuz", 5, 2, 16, specials=Specials.FNUZ),
        _f("float8_e4m3b11fnuz", 4, 3, 11, specials=Specials.FNUZ),
        _f("float6_e2m3fn", 2, 3, specials=Specials.NONE),
        _f("float6_e3m2fn", 3, 2, specials=Specials.NONE),
        _f("float4_e2m1fn", 2, 1, specials=Specials.NONE),
        _f("float8_e8m0fnu", 8, 0, 127, signed=False, subnormals=False, has_zero=False, specials=Specials.FN),
        IntFormat(bits=2, name="int2"),
        IntFormat(bits=4, name="int4"),
        IntFormat(bits=8, name="int8"),
        IntFormat(bits=16, name="int16"),
        IntFormat(bits=2, signed=False, name="uint2"),
        IntFormat(bits=4, signed=False, name="uint4"),
        IntFormat(bits=8, signed=False, name="uint8"),
    ]
}
"""Every named format, keyed by its ml_dtypes name: the float formats from `float32` to `float8_e8m0fnu`, then
`int2` to `uint8`. Read it, do not change it; `list_formats` returns its keys and `get_format` looks names up in it."""

_ALIASES = {
    "fp32": "float32", "f32": "float32", "single": "float32", "binary32": "float32",
    "tf32": "tfloat32", "tensorfloat32": "tfloat32",
    "fp16": "float16", "f16": "float16", "half": "float16", "binary16": "float16",
    "bf16": "bfloat16",
    "e4m3fn": "float8_e4m3fn", "fp8_e4m3": "float8_e4m3fn", "fp8_e4m3fn": "float8_e4m3fn",
    "ocp_e4m3": "float8_e4m3fn", "mxfp8_e4m3": "float8_e4m3fn",
    "e5m2": "float8_e5m2", "fp8_e5m2": "float8_e5m2", "ocp_e5m2": "float8_e5m2", "mxfp8_e5m2": "float8_e5m2",
    "e4m3": "float8_e4m3", "e3m4": "float8_e3m4",
    "e4m3fnuz": "float8_e4m3fnuz", "fp8_e4m3fnuz": "float8_e4m3fnuz",
    "e5m2fnuz": "float8_e5m2fnuz", "fp8_e5m2fnuz": "float8_e5m2fnuz",
    "e4m3b11fnuz": "float8_e4m3b11fnuz",
    "e2m3": "float6_e2m3fn", "fp6_e2m3": "float6_e2m3fn", "e2m3fn": "float6_e2m3fn", "mxfp6_e2m3": "float6_e2m3fn",
    "e3m2": "float6_e3m2fn", "fp6_e3m2": "float6_e3m2fn", "e3m2fn": "float6_e3m2fn", "mxfp6_e3m2": "float6_e3m2fn",
    "e2m1": "float4_e2m1fn", "fp4": "float4_e2m1fn", "fp4_e2m1": "float4_e2m1fn", "e2m1fn": "float4_e2m1fn",
    "mxfp4": "float4_e2m1fn", "mxfp4_e2m1": "float4_e2m1fn", "nvfp4": "float4_e2m1fn",
    "e8m0": "float8_e8m0fnu", "e8m0fnu": "float8_e8m0fnu", "fp8_e8m0": "float8_e8m0fnu",
}

_P3109_RE = re.compile(r"^(?:p3109_)?(?:binary|k)(\d+)p(\d+)(s|u)?(e|f)?$")


def p3109(k: int, p: int, *, signed: bool = True, extended: bool = True) -> FloatFormat:
    """The IEEE P3109 (Interim Report v4) format `binary<k>p<p><s|u><e|f>`.

    P3109 formats are named by their width `k` and precision `p` (significand bits, including the implicit one),
    whether they are signed (`s`) or unsigned (`u`), and whether they are extended (`e`, with infinities) or
    finite (`f`). They have subnormals, a single NaN and no -0 (in signed formats the -0 code is the NaN). The
    descriptor has `exponent_bits = k - p` (signed) or `k - p + 1` (unsigned), `mantissa_bits = p - 1`, bias
    `2**(k - p - 1)` (signed) or `2**(k - p)` (unsigned), and `specials` `"extended"` or `"fnuz"`.

    Parameters
    ----------
    k : int
        Width in bits, 3 to 32.
    p : int
        Precision, 1 to `k - 1` (signed) or 1 to `k` (unsigned).
    signed : bool, default True
        Signed (`s`) or unsigned (`u`).
    extended : bool, default True
        Extended (`e`: +inf, and -inf if signed) or finite (`f`: no infinities).

    Returns
    -------
    FloatFormat
        The descriptor, named like `"binary8p4se"`.

    Raises
    ------
    ValueError
        If `k` or `p` is out of range, or the format's values do not fit in float64 (a small `p` with `k` of 12 or
        more, e.g. `p3109(16, 1)`).

    Examples
    --------
    >>> import floatsim as fs
    >>> f = fs.p3109(8, 4, signed=True, extended=False)
    >>> f.name, f.max, f.bias
    ('binary8p4sf', 240.0, 8)
    >>> g = fs.p3109(8, 3)
    >>> g.name, g.max, g.has_inf, g == fs.get_format("binary8p3se")
    ('binary8p3se', 49152.0, True, True)
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 3 <= k <= 32:
        raise ValueError(f"k={k!r} is invalid: P3109 bit widths are integers from 3 (floatsim supports up to 32)")
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
        raise ValueError(f"p={p!r} is invalid: the precision must be an integer")
    top = k - 1 if signed else k
    if not 1 <= p <= top:
        raise ValueError(
            f"p={p} is invalid for a {'signed' if signed else 'unsigned'} P3109 format with k={k}: "
            f"it must satisfy 1 <= p <= {top}"
        )
    k, p = int(k), int(p)
    ebits = k - p if signed else k - p + 1
    bias = 1 << (k - p - 1) if signed else 1 << (k - p)
    name = f"binary{k}p{p}{'s' if signed else 'u'}{'e' if extended else 'f'}"
    return FloatFormat(
        exponent_bits=ebits, mantissa_bits=p - 1, bias=bias, signed=bool(signed), subnormals=True,
        specials=Specials.EXTENDED if extended else Specials.FNUZ, name=name,
    )


_EM_RE = re.compile(r"^e(\d+)m(\d+)$")
_INT_RE = re.compile(r"^(u?)int(\d+)$")
_FLAGS = {"unsigned": ("signed", False), "nosub": ("subnormals", False), "nozero": ("has_zero", False)}


def _parse_spec(key: str, original: str):
    """A compact format spec, or None if ``key`` is not one.

    ``e<E>m<M>[:bias=B][:ieee|fn|fnuz|extended|none][:unsigned][:nosub][:nozero]``,
    ``p3109:k=<K>:p=<P>:<s|u><e|f>``, ``int<K>`` / ``uint<K>``.
    """
    m = _INT_RE.match(key)
    if m:
        return IntFormat(bits=int(m.group(2)), signed=not m.group(1))
    head, *opts = key.split(":")
    if head == "p3109":
        fields = dict(o.split("=", 1) for o in opts if "=" in o)
        kinds = [o for o in opts if "=" not in o]
        try:
            k, p = int(fields["k"]), int(fields["p"])
        except (KeyError, ValueError):
            raise ValueError(f"format spec {original!r}: a p3109 spec needs k=<bits>:p=<precision>, "
                             "e.g. 'p3109:k=8:p=3:se'") from None
        kind = kinds[0] if kinds else "se"
        if len(kind) != 2 or kind[0] not in "su" or kind[1] not in "ef":
            raise ValueError(f"format spec {original!r}: the P3109 kind must be se, sf, ue or uf, not {kind!r}")
        return p3109(k, p, signed=kind[0] == "s", extended=kind[1] == "e")
    m = _EM_RE.match(head)
    if not m or (not opts and key in _ALIASES):
        return None
    kw: dict = {"exponent_bits": int(m.group(1)), "mantissa_bits": int(m.group(2))}
    for opt in opts:
        if opt.startswith("bias="):
            try:
                kw["bias"] = int(opt[5:])
            except ValueError:
                raise ValueError(f"format spec {original!r}: bias must be an integer, not {opt[5:]!r}") from None
        elif opt in {s.value for s in Specials}:
            kw["specials"] = opt
        elif opt in _FLAGS:
            field, value = _FLAGS[opt]
            kw[field] = value
        else:
            raise ValueError(
                f"format spec {original!r}: unknown option {opt!r}; allowed: bias=N, "
                f"{', '.join(s.value for s in Specials)}, {', '.join(_FLAGS)}"
            )
    return FloatFormat(**kw, name=original)


def aliases() -> dict[str, list[str]]:
    """The accepted aliases of each catalogue format.

    Returns
    -------
    dict of str to list of str
        For each catalogue name that has aliases, the aliases `get_format` accepts for it, e.g.
        `{"bfloat16": ["bf16"], ...}`. A new dict on each call.

    Examples
    --------
    >>> import floatsim as fs
    >>> fs.formats.aliases()["bfloat16"], fs.formats.aliases()["float4_e2m1fn"][:3]
    (['bf16'], ['e2m1', 'fp4', 'fp4_e2m1'])
    """
    out: dict[str, list[str]] = {}
    for alias, target in _ALIASES.items():
        out.setdefault(target, []).append(alias)
    return out


def list_formats() -> list[str]:
    """Names of every format in the catalogue, in ml_dtypes spelling.

    Returns
    -------
    list of str
        The keys of `CATALOGUE`: the float formats first (`"float32"` ... `"float8_e8m0fnu"`), then the integer
        formats (`"int2"` ... `"uint8"`). Aliases, P3109 names and specs are not listed.

    Examples
    --------
    >>> import floatsim as fs
    >>> fs.list_formats()[:4], len(fs.list_formats())
    (['float32', 'tfloat32', 'float16', 'bfloat16'], 22)
    """
    return list(CATALOGUE)


def _lookup_name(name: str):
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key in CATALOGUE:
        return CATALOGUE[key]
    m = _P3109_RE.match(key)
    if m:
        k, p, s, d = m.groups()
        return p3109(int(k), int(p), signed=s != "u", extended=d != "f")
    spec = _parse_spec(key, name)
    if spec is not None:
        return spec
    choices = list(CATALOGUE) + list(_ALIASES)
    close = difflib.get_close_matches(key, choices, n=4, cutoff=0.5)
    hint = f" Close matches: {', '.join(close)}." if close else ""
    raise ValueError(
        f"unknown format {name!r}.{hint} See floatsim.list_formats() for the catalogue; "
        "P3109 formats are named like 'binary8p4se'; build others with floatsim.FloatFormat(...)."
    )


def get_format(fmt, argument: str = "fmt") -> FloatFormat | IntFormat:
    """Resolve a format given as a descriptor, a name, an alias, a spec, or a numpy / ml_dtypes dtype.

    Names are matched without regard to case or surrounding spaces. A string is looked up in this order:

    1. a catalogue name (`"float8_e4m3fn"`, see `list_formats`) or an alias (`"fp8_e4m3"`, `"e4m3fn"`, `"bf16"`,
       `"fp4"`, `"mxfp4"`, `"e8m0"`, ...; see `aliases`);
    2. an IEEE P3109 name, `binary<K>p<P>` with optional `s`/`u` and `e`/`f` (default `se`), also spelled
       `k<K>p<P>...` or `p3109_k<K>p<P>...`: `"binary8p4se"`, `"p3109_k8p1uf"` (see `p3109`);
    3. a compact spec: `e<E>m<M>` followed by any of `:bias=<B>`, `:ieee` / `:fn` / `:fnuz` / `:extended` /
       `:none` (default `ieee`), `:unsigned`, `:nosub`, `:nozero` (e.g. `"e5m2:bias=15:fn"`); or
       `p3109:k=<K>:p=<P>:<se|sf|ue|uf>`; or `int<K>` / `uint<K>` for integer widths up to 32.

    Parameters
    ----------
    fmt : str, FloatFormat, IntFormat or dtype
        The format. A descriptor is returned unchanged; a dtype (`ml_dtypes.bfloat16`, `np.float16`,
        `np.int8`, ...) gives the catalogue format of the same name.
    argument : str, default "fmt"
        The argument name that error messages quote.

    Returns
    -------
    FloatFormat or IntFormat
        The descriptor. Catalogue names and aliases give the shared catalogue objects; other names give new
        descriptors, named after the P3109 name or the spec (integer specs are unnamed).

    Raises
    ------
    ValueError
        For an unknown name (the message lists close matches), an invalid spec, or a dtype with no floatsim format
        (`np.float64`: float64 is an input type, not a target format).
    TypeError
        For anything that is not a name, a descriptor or a dtype (`None`, numbers, lists).

    Examples
    --------
    >>> import numpy as np, ml_dtypes, floatsim as fs
    >>> fs.get_format("e4m3fn").name, fs.get_format(" BF16 ").name, fs.get_format(ml_dtypes.float8_e5m2).name
    ('float8_e4m3fn', 'bfloat16', 'float8_e5m2')
    >>> fs.get_format("e5m2:bias=15:fn").max  # E5M2 with the fn convention: no infinity, so a larger max
    98304.0
    >>> fs.get_format("int12").min
    -2048
    >>> fs.get_format("float64")
    Traceback (most recent call last):
    ...
    ValueError: unknown format 'float64'. Close matches: float16, bfloat16, float32, tfloat32. See floatsim.list_formats() for the catalogue; P3109 formats are named like 'binary8p4se'; build others with floatsim.FloatFormat(...).
    """
    if isinstance(fmt, (FloatFormat, IntFormat)):
        return fmt
    if isinstance(fmt, str):
        return _lookup_name(fmt)
    if fmt is None or isinstance(fmt, (bool, int, float)):
        raise TypeError(f"{argument} must be a format name, a FloatFormat / IntFormat, or a dtype, not {fmt!r}")
    try:
        dt = np.dtype(fmt)
    except TypeError:
        raise TypeError(
            f"{argument} must be a format name, a FloatFormat / IntFormat, or a dtype, not {type(fmt).__name__}"
        ) from None
    if dt.name in CATALOGUE:
        return CATALOGUE[dt.name]
    raise ValueError(f"{argument}: dtype {dt.name!r} has no floatsim format; see floatsim.list_formats()")
