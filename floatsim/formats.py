"""The catalogue of standard formats (ml_dtypes names), family factories, and lookup."""

from __future__ import annotations

import difflib
import re

import numpy as np

from .format import FloatFormat, IntFormat, Specials

__all__ = ["aliases", "get_format", "list_formats", "p3109", "CATALOGUE"]


def _f(name, e, m, bias=None, **kw):
    return FloatFormat(exponent_bits=e, mantissa_bits=m, bias=bias, name=name, **kw)


#: Every named format, keyed by its ml_dtypes name.
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
    """IEEE P3109 (Interim Report v4) format ``Binary<k>p<p><s|u><e|f>``.

    Bias is ``2**(k-p-1)`` (signed) or ``2**(k-p)`` (unsigned); one NaN, no -0,
    subnormals always; ``extended=True`` adds infinities.

    Examples
    --------
    >>> f = p3109(8, 4, signed=True, extended=False)
    >>> f.name, f.max, f.bias
    ('binary8p4sf', 240.0, 8)
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
    """Accepted aliases of each catalogue format, e.g. ``{"bfloat16": ["bf16"], ...}``."""
    out: dict[str, list[str]] = {}
    for alias, target in _ALIASES.items():
        out.setdefault(target, []).append(alias)
    return out


def list_formats() -> list[str]:
    """Names of every format in the catalogue (ml_dtypes spelling)."""
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
    """Resolve a format given as a descriptor, a name or alias, or a numpy / ml_dtypes dtype.

    Raises
    ------
    ValueError
        For an unknown name (the message lists close matches).
    TypeError
        For anything that is not a name, descriptor or dtype.

    Examples
    --------
    >>> get_format("e4m3fn").name
    'float8_e4m3fn'
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
