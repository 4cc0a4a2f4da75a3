"""The one table of deliberate differences between floatsim and its external oracles.

Every row names an oracle, a format and one input, and states what floatsim and the
oracle return for it, with the reason. ``floatsim_code`` and ``oracle_code`` are
Python expressions (evaluated with ``np``, ``math``, ``ml_dtypes``, ``fs`` = floatsim,
``gfloat`` and ``gmpy2`` in scope); ``test_difference_row`` in
``tests/test_core_oracles.py`` runs both for every row and asserts both stated results,
so the table cannot go stale. ``docs/differences.md`` renders the same table
(:func:`render_markdown`).

Rows with ``differs=False`` record an edge case where the two *agree* although one
might expect otherwise (or where an option of floatsim reproduces the oracle); the
test asserts that they agree.

A result is a float (NaN compared as a class, the sign of zero compared) or the name
of the exception the call raises (``"ValueError"``).

The comparison tests that sweep many inputs (``test_core_oracles.py``) never filter
silently: each input they leave out of a bit-exact comparison belongs to one of the
row ``kind`` s below, and the test counts the exceptions and asserts their kind.
"""

from __future__ import annotations

import dataclasses
import math

__all__ = ["DIFFERENCES", "Difference", "KINDS", "render_markdown", "PREAMBLE", "QUANT_DIFFERENCES", "QuantDifference",
           "QUANT_PREAMBLE", "ARITH_DIFFERENCES", "ARITH_PREAMBLE"]

#: imports every code snippet of the table needs
PREAMBLE = "import math\nimport numpy as np, ml_dtypes, gmpy2\nimport gfloat, gfloat.formats\nimport floatsim as fs"

NAN = math.nan
RAISES = "ValueError"


@dataclasses.dataclass(frozen=True)
class Difference:
    id: str
    oracle: str  # "ml_dtypes", "gfloat", "mpfr", "numpy"
    fmt: str  # floatsim format name
    x: str  # the input, as a Python expression
    dtype: str  # numpy dtype of the input: "float32" or "float64"
    floatsim_code: str
    oracle_code: str
    floatsim_result: float | str
    oracle_result: float | str
    reason: str
    kind: str  # the class of inputs this row stands for (used by the sweeping tests)
    differs: bool = True

    @property
    def value(self) -> float:
        return float(eval(self.x, {"math": math, "nan": math.nan, "inf": math.inf}))  # noqa: S307


# --------------------------------------------------------------------------- code builders
def _fs_cast(fmt, x, dtype, **kw):
    args = "".join(f", {k}={v!r}" for k, v in kw.items())
    return f"float(fs.cast(np.{dtype}({x}), {fmt!r}{args}))"


def _ml_astype(fmt, x, dtype):
    return f"float(np.array([{x}], np.{dtype}).astype(ml_dtypes.{fmt})[0])"


_GF_FI = {
    "float8_e8m0fnu": "gfloat.formats.format_info_ocp_e8m0",
    "float4_e2m1fn": "gfloat.formats.format_info_ocp_e2m1",
    "float8_e4m3fn": "gfloat.formats.format_info_ocp_e4m3",
    "binary8p4sf": "gfloat.formats.format_info_p3109(8, 4, gfloat.Signedness.Signed, gfloat.Domain.Finite)",
    "binary8p1uf": "gfloat.formats.format_info_p3109(8, 1, gfloat.Signedness.Unsigned, gfloat.Domain.Finite)",
}


def _gfloat(fmt, x, dtype, sat=False):
    return (f"float(gfloat.round_ndarray({_GF_FI[fmt]}, np.array([{x}], np.{dtype}), "
            f"gfloat.RoundMode.TiesToEven, sat={sat})[0])")


def _row(id, oracle, fmt, x, dtype, floatsim_code, oracle_code, fs_res, or_res, reason, kind, differs=True):
    return Difference(id, oracle, fmt, x, dtype, floatsim_code, oracle_code, fs_res, or_res, reason, kind, differs)


_DOUBLE = ("ml_dtypes array casts convert float64 to float32 first and round again (jax-ml/ml_dtypes PR #401); "
           "floatsim rounds float64 input once, directly to the target (the correctly rounded result, as MPFR)")
_E8M0_TIE = ("at precision 1 floatsim breaks ties to the even *code* (P3109 CodeIsEven; for E8M0 the parity of "
             "the exponent field), ml_dtypes / MPFR round ties up in magnitude (ml_dtypes PR #398 proposes "
             "the even rule)")
_E8M0_SUB = ("ml_dtypes maps every float32-subnormal input in (2**-127, 2**-126) to 2**-126 although 2**-127 is "
             "nearer below 1.5*2**-127 (torch does the same); floatsim rounds to nearest")
_FP_NAN = ("FP4 / FP6 have no NaN: ml_dtypes writes its 'quiet NaN', which is the -0 pattern (and -NaN gives "
           "+0); floatsim refuses, because a silent zero hides the NaN")
_GF_V3 = ("gfloat 0.5.2 follows P3109 v3 (OvfInf: finite-domain overflow -> NaN); floatsim's 'sat_none' is "
          "P3109 v4 SatNone, which sends finite-domain overflow and +inf to MaxFinite")
_GF62 = ("gfloat 0.5.2 returns values E8M0 cannot represent for zero, negatives and underflow "
         "(graphcore-research/gfloat #62, fixed after 0.5.2); floatsim returns format values")

DIFFERENCES: list[Difference] = [
    # ---------------------------------------------------------------- ml_dtypes 0.6.0
    _row("mldtypes-f64-double-rounding-e4m3fn", "ml_dtypes", "float8_e4m3fn", "1.0625 + 2**-30", "float64",
         _fs_cast("float8_e4m3fn", "1.0625 + 2**-30", "float64"),
         _ml_astype("float8_e4m3fn", "1.0625 + 2**-30", "float64"), 1.125, 1.0, _DOUBLE, "float64-double-rounding"),
    _row("mldtypes-f64-double-rounding-e4m3fn-negative", "ml_dtypes", "float8_e4m3fn", "-431.99999999999994",
         "float64", _fs_cast("float8_e4m3fn", "-431.99999999999994", "float64"),
         _ml_astype("float8_e4m3fn", "-431.99999999999994", "float64"), -416.0, -448.0,
         _DOUBLE + "; float32 rounds the input to -432, a tie between -416 and -448", "float64-double-rounding"),
    _row("mldtypes-f64-double-rounding-bfloat16", "ml_dtypes", "bfloat16", "1 + 2**-8 + 2**-30", "float64",
         _fs_cast("bfloat16", "1 + 2**-8 + 2**-30", "float64"),
         _ml_astype("bfloat16", "1 + 2**-8 + 2**-30", "float64"), 1.0078125, 1.0,
         _DOUBLE + "; for bfloat16 every ml_dtypes path (scalar constructor included) rounds twice",
         "float64-double-rounding"),
    _row("mldtypes-f64-double-rounding-e2m1", "ml_dtypes", "float4_e2m1fn", "1.25 + 2**-30", "float64",
         _fs_cast("float4_e2m1fn", "1.25 + 2**-30", "float64"),
         _ml_astype("float4_e2m1fn", "1.25 + 2**-30", "float64"), 1.5, 1.0, _DOUBLE, "float64-double-rounding"),
    _row("mldtypes-f64-scalar-path-rounds-once", "ml_dtypes", "float8_e4m3fn", "1.0625 + 2**-30", "float64",
         _fs_cast("float8_e4m3fn", "1.0625 + 2**-30", "float64"),
         "float(ml_dtypes.float8_e4m3fn(1.0625 + 2**-30))", 1.125, 1.125,
         "the ml_dtypes scalar constructor from a Python float rounds once, as floatsim does: the oracle "
         "for float64 inputs", "float64-double-rounding", differs=False),
    _row("mldtypes-e8m0-tie-3", "ml_dtypes", "float8_e8m0fnu", "3.0", "float32",
         _fs_cast("float8_e8m0fnu", "3.0", "float32"), _ml_astype("float8_e8m0fnu", "3.0", "float32"),
         2.0, 4.0, _E8M0_TIE, "e8m0-exact-tie"),
    _row("mldtypes-e8m0-tie-12", "ml_dtypes", "float8_e8m0fnu", "12.0", "float32",
         _fs_cast("float8_e8m0fnu", "12.0", "float32"), _ml_astype("float8_e8m0fnu", "12.0", "float32"),
         8.0, 16.0, _E8M0_TIE, "e8m0-exact-tie"),
    _row("mldtypes-e8m0-tie-0.75", "ml_dtypes", "float8_e8m0fnu", "0.75", "float32",
         _fs_cast("float8_e8m0fnu", "0.75", "float32"), _ml_astype("float8_e8m0fnu", "0.75", "float32"),
         0.5, 1.0, _E8M0_TIE, "e8m0-exact-tie"),
    _row("mldtypes-e8m0-tie-1.5", "ml_dtypes", "float8_e8m0fnu", "1.5", "float32",
         _fs_cast("float8_e8m0fnu", "1.5", "float32"), _ml_astype("float8_e8m0fnu", "1.5", "float32"),
         2.0, 2.0, "a tie whose upper neighbour has the even code (2 = code 128): both rules agree",
         "e8m0-exact-tie", differs=False),
    _row("mldtypes-e8m0-tie-6", "ml_dtypes", "float8_e8m0fnu", "6.0", "float32",
         _fs_cast("float8_e8m0fnu", "6.0", "float32"), _ml_astype("float8_e8m0fnu", "6.0", "float32"),
         8.0, 8.0, "a tie whose upper neighbour has the even code (8 = code 130): both rules agree",
         "e8m0-exact-tie", differs=False),
    _row("mldtypes-e8m0-float32-subnormal-input", "ml_dtypes", "float8_e8m0fnu", "1.25 * 2**-127", "float32",
         _fs_cast("float8_e8m0fnu", "1.25 * 2**-127", "float32"),
         _ml_astype("float8_e8m0fnu", "1.25 * 2**-127", "float32"), 2.0**-127, 2.0**-126, _E8M0_SUB,
         "e8m0-subnormal-anomaly"),
    _row("mldtypes-e8m0-scalar-overflow-wrap", "ml_dtypes", "float8_e8m0fnu", "1.75 * 2**128", "float64",
         _fs_cast("float8_e8m0fnu", "1.75 * 2**128", "float64"),
         "float(ml_dtypes.float8_e8m0fnu(1.75 * 2**128))", NAN, 2.0**-127,
         "the ml_dtypes E8M0 scalar constructor wraps float64 inputs in [1.5*2**128, 2**129) around to code 0 "
         "(2**-127); they overflow, and floatsim gives NaN (the array cast from float32 cannot reach them)",
         "e8m0-scalar-overflow-wrap"),
    _row("mldtypes-e8m0-zero", "ml_dtypes", "float8_e8m0fnu", "0.0", "float32",
         _fs_cast("float8_e8m0fnu", "0.0", "float32"), _ml_astype("float8_e8m0fnu", "0.0", "float32"),
         NAN, NAN, "E8M0 has no zero: both give NaN (floatsim: the smallest value under overflow='saturate')",
         "e8m0-no-zero", differs=False),
    _row("mldtypes-e8m0-negative", "ml_dtypes", "float8_e8m0fnu", "-1.0", "float32",
         _fs_cast("float8_e8m0fnu", "-1.0", "float32"), _ml_astype("float8_e8m0fnu", "-1.0", "float32"),
         NAN, NAN, "E8M0 is unsigned: both give NaN for negatives", "e8m0-no-zero", differs=False),
    _row("mldtypes-fp4-nan", "ml_dtypes", "float4_e2m1fn", "math.nan", "float32",
         _fs_cast("float4_e2m1fn", "math.nan", "float32"), _ml_astype("float4_e2m1fn", "math.nan", "float32"),
         RAISES, -0.0, _FP_NAN, "nan-into-no-nan-format"),
    _row("mldtypes-fp6-negative-nan", "ml_dtypes", "float6_e3m2fn", "-math.nan", "float32",
         _fs_cast("float6_e3m2fn", "-math.nan", "float32"), _ml_astype("float6_e3m2fn", "-math.nan", "float32"),
         RAISES, 0.0, _FP_NAN, "nan-into-no-nan-format"),
    _row("mldtypes-e4m3fn-saturate-option", "ml_dtypes", "float8_e4m3fn", "500.0", "float32",
         _fs_cast("float8_e4m3fn", "500.0", "float32", overflow="saturate"),
         _ml_astype("float8_e4m3fn", "500.0", "float32"), 448.0, NAN,
         "an option, not a default: floatsim's default overflow='ieee' gives NaN like ml_dtypes; ml_dtypes "
         "has no switch for the OCP saturating mode", "option"),
    _row("mldtypes-int4-nan", "ml_dtypes", "int4", "math.nan", "float32",
         _fs_cast("int4", "math.nan", "float32", rounding="toward_zero", overflow="wrap"),
         _ml_astype("int4", "math.nan", "float32"), RAISES, 0.0,
         "integer formats have no NaN: ml_dtypes writes 0, floatsim refuses", "nan-into-no-nan-format"),
    _row("mldtypes-int4-inf", "ml_dtypes", "int4", "math.inf", "float32",
         _fs_cast("int4", "math.inf", "float32", rounding="toward_zero", overflow="wrap"),
         _ml_astype("int4", "math.inf", "float32"), 0.0, 0.0,
         "with overflow='wrap', +-inf gives 0 as in ml_dtypes", "int-wrap", differs=False),
    _row("mldtypes-int4-default-policy", "ml_dtypes", "int4", "100.0", "float32",
         _fs_cast("int4", "100.0", "float32"), _ml_astype("int4", "100.0", "float32"), 7.0, 4.0,
         "floatsim's defaults for integer formats are nearest_even + saturate; ml_dtypes truncates and wraps "
         "(floatsim reproduces it with rounding='toward_zero', overflow='wrap')", "option"),
    # ---------------------------------------------------------------- gfloat 0.5.2
    _row("gfloat-p3109-finite-overflow", "gfloat", "binary8p4sf", "300.0", "float64",
         _fs_cast("binary8p4sf", "300.0", "float64", overflow="sat_none"), _gfloat("binary8p4sf", "300.0", "float64"),
         240.0, NAN, _GF_V3, "gfloat-finite-domain-overflow"),
    _row("gfloat-p3109-finite-inf", "gfloat", "binary8p4sf", "math.inf", "float64",
         _fs_cast("binary8p4sf", "math.inf", "float64", overflow="sat_none"),
         _gfloat("binary8p4sf", "math.inf", "float64"), 240.0, NAN, _GF_V3, "gfloat-finite-domain-overflow"),
    _row("gfloat-p3109-finite-overflow-ieee", "gfloat", "binary8p4sf", "300.0", "float64",
         _fs_cast("binary8p4sf", "300.0", "float64"), _gfloat("binary8p4sf", "300.0", "float64"), NAN, NAN,
         "floatsim's default overflow='ieee' (the ml_dtypes fnuz behaviour) gives NaN, as gfloat sat=False does",
         "gfloat-finite-domain-overflow", differs=False),
    _row("gfloat-e8m0-tie-3", "gfloat", "float8_e8m0fnu", "3.0", "float64",
         _fs_cast("float8_e8m0fnu", "3.0", "float64"), _gfloat("float8_e8m0fnu", "3.0", "float64"), 2.0, 2.0,
         "gfloat applies the P3109 even-code tie rule at precision 1, as floatsim does", "e8m0-exact-tie",
         differs=False),
    _row("gfloat-e8m0-zero", "gfloat", "float8_e8m0fnu", "0.0", "float64",
         _fs_cast("float8_e8m0fnu", "0.0", "float64"), _gfloat("float8_e8m0fnu", "0.0", "float64"), NAN, 0.0,
         _GF62, "gfloat-e8m0-non-value"),
    _row("gfloat-e8m0-negative", "gfloat", "float8_e8m0fnu", "-1.0", "float64",
         _fs_cast("float8_e8m0fnu", "-1.0", "float64"), _gfloat("float8_e8m0fnu", "-1.0", "float64"), NAN, -1.0,
         _GF62, "gfloat-e8m0-non-value"),
    _row("gfloat-e8m0-underflow", "gfloat", "float8_e8m0fnu", "2**-128", "float64",
         _fs_cast("float8_e8m0fnu", "2**-128", "float64"), _gfloat("float8_e8m0fnu", "2**-128", "float64"),
         2.0**-127, 2.0**-128, _GF62, "gfloat-e8m0-non-value"),
    _row("gfloat-e8m0-float32-subnormal-input", "gfloat", "float8_e8m0fnu", "1.25 * 2**-127", "float64",
         _fs_cast("float8_e8m0fnu", "1.25 * 2**-127", "float64"),
         _gfloat("float8_e8m0fnu", "1.25 * 2**-127", "float64"), 2.0**-127, 2.0**-127,
         "gfloat rounds to nearest here, as floatsim does (ml_dtypes does not, see "
         "mldtypes-e8m0-float32-subnormal-input)", "e8m0-subnormal-anomaly", differs=False),
    _row("gfloat-unsigned-negative", "gfloat", "binary8p1uf", "-1.0", "float64",
         _fs_cast("binary8p1uf", "-1.0", "float64"), _gfloat("binary8p1uf", "-1.0", "float64"), NAN, -1.0,
         "gfloat 0.5.2 rounds negative inputs into unsigned P3109 formats to negative numbers the format "
         "cannot represent; floatsim applies the overflow policy to a negative R (NaN under 'ieee' and "
         "'sat_none', 0 under 'saturate')", "gfloat-unsigned-negative"),
    _row("gfloat-fp4-nan", "gfloat", "float4_e2m1fn", "math.nan", "float64",
         _fs_cast("float4_e2m1fn", "math.nan", "float64"), _gfloat("float4_e2m1fn", "math.nan", "float64"),
         RAISES, NAN, "gfloat round_ndarray returns NaN, which FP4 cannot encode (its round_float raises, "
         "as floatsim does)", "nan-into-no-nan-format"),
    # ---------------------------------------------------------------- MPFR (gmpy2 2.3.2)
    _row("mpfr-e8m0-tie-3", "mpfr", "float8_e8m0fnu", "3.0", "float64",
         _fs_cast("float8_e8m0fnu", "3.0", "float64"),
         "float(gmpy2.context(precision=1, emin=-126, emax=128, round=gmpy2.RoundToNearest)"
         ".plus(gmpy2.mpfr(3.0)))", 2.0, 4.0,
         "MPFR's round-to-nearest at precision 1 breaks ties up in magnitude; floatsim uses the P3109 even-code "
         "rule (the MPFR comparisons in test_core_oracles.py resolve precision-1 ties with that rule)",
         "e8m0-exact-tie"),
    # ---------------------------------------------------------------- numpy float16
    _row("numpy-float16-f64-single-rounding", "numpy", "float16", "1 + 2**-11 + 2**-40", "float64",
         _fs_cast("float16", "1 + 2**-11 + 2**-40", "float64"),
         "float(np.array([1 + 2**-11 + 2**-40], np.float64).astype(np.float16)[0])", 1 + 2**-10, 1 + 2**-10,
         "numpy rounds float64 to float16 once, as floatsim does", "float64-double-rounding", differs=False),
]


#: every kind of the table, and where the sweeping tests handle its inputs
KINDS: dict[str, str] = {
    "float64-double-rounding": "float64 input: floatsim rounds once; ml_dtypes array casts round twice (via "
                               "float32). The float64 sweeps compare with the ml_dtypes scalar path and MPFR "
                               "instead (test_float64_vs_mldtypes_scalar_path, test_deterministic_modes_vs_mpfr).",
    "e8m0-exact-tie": "E8M0 ties 1.5*2**k whose lower neighbour has the even code; the float32 sweep against "
                      "ml_dtypes computes them from the input (test_mldtypes_encode_cast_float32).",
    "e8m0-subnormal-anomaly": "E8M0, inputs in (2**-127, 1.5*2**-127): ml_dtypes gives 2**-126 "
                              "(test_mldtypes_encode_cast_float32, test_float64_vs_mldtypes_scalar_path).",
    "e8m0-scalar-overflow-wrap": "E8M0, float64 inputs in [1.5*2**128, 2**129) through the ml_dtypes scalar "
                                 "constructor (test_float64_vs_mldtypes_scalar_path).",
    "e8m0-no-zero": "E8M0 zero and negatives: both give NaN (no difference).",
    "nan-into-no-nan-format": "NaN into FP4 / FP6 / integer formats: floatsim raises ValueError "
                              "(test_mldtypes_nan_into_fp4_fp6, test_mldtypes_int_truncate_wrap).",
    "gfloat-finite-domain-overflow": "P3109 finite formats, overflow and +-inf under SatNone: gfloat (v3) NaN, "
                                     "floatsim (v4) +-max (test_gfloat_finite_domain_overflow).",
    "gfloat-e8m0-non-value": "gfloat E8M0 zero, negatives, underflow: values outside the format (test_vs_gfloat).",
    "gfloat-unsigned-negative": "negative inputs into unsigned formats: gfloat returns negative numbers "
                                "(test_vs_gfloat).",
    "option": "a floatsim option or default that differs from the oracle's only behaviour.",
    "int-wrap": "integer formats with overflow='wrap' (no difference).",
}


def _fmt_result(r) -> str:
    if isinstance(r, str):
        return f"raises {r}"
    if math.isnan(r):
        return "nan"
    if r == 0:
        return "-0.0" if math.copysign(1, r) < 0 else "0.0"
    if r != 0 and abs(math.log2(abs(r))) > 20 and abs(r) == 2.0 ** round(math.log2(abs(r))):
        return f"{'-' if r < 0 else ''}2**{round(math.log2(abs(r)))}"
    return repr(r)


# =========================================================================== the quantization layer
#: imports every quantization row needs (torch, torchao, bitsandbytes and gfloat are the oracles)
QUANT_PREAMBLE = "import numpy as np, torch\nimport floatsim.quant as fq"


@dataclasses.dataclass(frozen=True)
class QuantDifference:
    """One deliberate difference (or edge-case agreement) of a quantizer with an oracle.

    ``setup`` is run first (statements: imports of the oracle and the input ``x``); the
    two codes are expressions whose results (lists or numbers, or an exception name)
    are asserted by ``tests/test_quant_differences.py``.
    """

    id: str
    oracle: str  # "torchao", "bitsandbytes", "gfloat", "torch"
    setup: str
    floatsim_code: str
    oracle_code: str
    floatsim_result: object
    oracle_result: object
    reason: str
    differs: bool = True


_MX = "from torchao.prototype.mx_formats.mx_tensor import to_mx, to_dtype\nfrom torchao.prototype.mx_formats.config import ScaleCalculationMode"
QUANT_DIFFERENCES = [
    QuantDifference(
        "mx-inf-in-block", "torchao", _MX + "\nx = np.float32([np.inf] + [1.0] * 31)",
        'fq.mx("mxfp8_e4m3").quantize(x).scale_codes.tolist()',
        "to_mx(torch.from_numpy(x), torch.float8_e4m3fn, 32)[0].view(torch.uint8).tolist()",
        [255], [247],
        "a block holding inf gets the NaN scale (0xFF) and dequantizes to NaN, as torchao after PR #4725; torchao "
        "0.18.0 keeps a finite scale (the inf stays, the rest flush to 0). `nonfinite=\"torchao_0_18\"` reproduces it",
    ),
    QuantDifference(
        "mx-scale-byte-0", "torchao", _MX + "\nx = np.float32([2.0**-130] + [0.0] * 31)",
        'float(fq.mx("mxfp8_e4m3").fake_quantize(x)[0])',
        "float(to_dtype(*reversed(to_mx(torch.from_numpy(x), torch.float8_e4m3fn, 32)), torch.float8_e4m3fn, 32, "
        "torch.float32)[0])",
        7.346839692639297e-40, 3.6734198463196485e-40,
        "scale byte 0 is 2**-127 both ways (the spec, gfloat); torchao 0.18.0 divides by 2**-126 when quantizing "
        "but multiplies by 2**-127 when dequantizing, halving the block",
    ),
    QuantDifference(
        "mx-rceil-float32-log2", "torchao",
        _MX + "\nx = np.float32([np.nextafter(np.float32(458752), np.float32(np.inf))] + [0.0] * 31)",
        'fq.mx("mxfp8_e4m3", scale_rule="rceil").quantize(x).scale_codes.tolist()',
        "to_mx(torch.from_numpy(x), torch.float8_e4m3fn, 32, ScaleCalculationMode.RCEIL)[0].view(torch.uint8).tolist()",
        [138], [137],
        "RCEIL is ceil(log2(amax / 448)) taken exactly (a core cast rounding up); torchao takes log2 in float32, "
        "which rounds 1024 * (1 + 2**-23) down to 2**10, so the scale is one binade too small and the element saturates",
    ),
    QuantDifference(
        "mxint8-most-negative", "gfloat",
        "import gfloat, gfloat.formats\nx = np.array([-1.999] + [0.0] * 31)",
        'float(fq.mx("mxint8").fake_quantize(x)[0])',
        "float(gfloat.quantize_block(gfloat.formats.format_info_mxint8, x, gfloat.compute_scale_amax)[0])",
        -1.984375, -2.0,
        "MXINT8 elements are symmetric (-127..127)/64 by default, as microxcaling; gfloat permits -128/64. "
        "`mx(\"mxint8\", mxint8_min=-128)` reproduces gfloat",
    ),
    QuantDifference(
        "mxint8-most-negative-option", "gfloat",
        "import gfloat, gfloat.formats\nx = np.array([-1.999] + [0.0] * 31)",
        'float(fq.mx("mxint8", mxint8_min=-128).fake_quantize(x)[0])',
        "float(gfloat.quantize_block(gfloat.formats.format_info_mxint8, x, gfloat.compute_scale_amax)[0])",
        -2.0, -2.0, "the gfloat convention, on request", differs=False,
    ),
    QuantDifference(
        "nvfp4-all-zero-tensor", "torchao",
        "from torchao.prototype.mx_formats.nvfp4_tensor import nvfp4_quantize, per_tensor_amax_to_scale\n"
        "x = np.zeros((1, 16), np.float32)",
        "fq.NVFP4Quantizer().fake_quantize(x)[0, :2].tolist()",
        "nvfp4_quantize(torch.from_numpy(x), 16, per_tensor_amax_to_scale(torch.tensor(0.0)))[0].float().flatten().tolist()",
        [0.0, 0.0], [math.nan],
        "an all-zero tensor has tensor amax 0; floatsim then uses a per-tensor scale of 1 (zeros come back as zeros), "
        "torchao divides by 0 and stores a NaN block scale",
    ),
    QuantDifference(
        "int-nan", "torch", "x = np.float32([np.nan, 1.0])",
        "fq.quantize_affine(x, np.float32(0.1), qmin=-128, qmax=127).tolist()",
        "torch.quantize_per_tensor(torch.from_numpy(x), 0.1, 0, torch.qint8).int_repr().tolist()",
        "ValueError", [127, 10],
        "integers have no NaN: floatsim raises (naming the count) rather than store a number; torch stores 127",
    ),
    QuantDifference(
        "bnb-cpu-lut", "bitsandbytes",
        "import contextlib, io\nwith contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "    import bitsandbytes.functional as F\nx = np.random.default_rng(0).lognormal(size=256).astype(np.float32)",
        "int(fq.dynamic8().quantize(x).codes[76])",
        "int(F.quantize_blockwise(torch.from_numpy(x), blocksize=256)[0][76])",
        163, 164,
        "floatsim picks the exact nearest code (ties to the lower); bitsandbytes' CPU quantize_blockwise looks up a "
        "65,536-entry table, which misses the nearest code on 0.26% of log-normal values at block 256 (0.44% at 4096). `tie=\"bnb_cpu_lut\"` reproduces it",
    ),
    QuantDifference(
        "bnb-cpu-lut-option", "bitsandbytes",
        "import contextlib, io\nwith contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "    import bitsandbytes.functional as F\nx = np.random.default_rng(0).lognormal(size=256).astype(np.float32)",
        'int(fq.dynamic8(tie="bnb_cpu_lut").quantize(x).codes[76])',
        "int(F.quantize_blockwise(torch.from_numpy(x), blocksize=256)[0][76])",
        164, 164, "bitsandbytes' CPU lookup-table rule, on request", differs=False,
    ),
    QuantDifference(
        "torch-reciprocal-order", "torch", "x = np.float32([-0.3])",
        "fq.quantize_affine(x, np.float32(0.1), qmin=-128, qmax=127).tolist()",
        "torch.quantize_per_tensor(torch.from_numpy(x), 0.1, 0, torch.qint8).int_repr().tolist()",
        [-3], [-3], "x * (1/s) with the reciprocal taken first in float32, as torch and torchao "
        "(`reciprocal=False` divides, as ONNX QuantizeLinear)", differs=False,
    ),
    QuantDifference(
        "torch-quantize-zero-point-fma", "torch", "x = np.float32([-12.45])",
        "fq.quantize_affine(x, np.float32(0.1), 3, qmin=-128, qmax=127).tolist()",
        "torch.quantize_per_tensor(torch.from_numpy(x), 0.1, 3, torch.qint8).int_repr().tolist()",
        [-121], [-122], "torch 2.13's CPU quantize_per_tensor / quantize_per_channel round fma(x, 1/s, z): a nonzero "
        "zero point is added before the rounding (x/s = -124.4999981 rounds to -124.5, a tie, -124, then +3; "
        "x/s + 3 = -121.4999981 rounds to -121.5, a tie, -122). floatsim, torchao quantize_affine and torch's "
        "fake_quantize round first, then add z; `fs.encode(fa.fma(x, 1/s, z, \"float32\"), \"int8\")` gives torch's "
        "codes (docs/howto/match-pytorch.md)",
    ),
]


# =========================================================================== the arithmetic layer
#: imports every arithmetic row needs (pychop, ml_dtypes and numpy are the oracles); rows reuse QuantDifference
ARITH_PREAMBLE = ("import warnings, numpy as np, ml_dtypes, pychop\nimport floatsim as fs, floatsim.arith as fa\n"
                  "pychop.backend('numpy'); warnings.simplefilter('ignore')")
ARITH_DIFFERENCES = [
    QuantDifference(
        "arith-directed-after-float64", "pychop",
        "ch = pychop.Chop(exp_bits=8, sig_bits=23, rmode=2, subnormal=True)  # binary32, toward +inf\n"
        "x, y = np.float32(1.0), np.float32(2.0**-60)",
        'float(fa.add(x, y, "float32", rounding="toward_positive"))',
        "float(ch(np.float64(x) + np.float64(y)))",
        1.0000001192092896, 1.0,
        "rounding after a float64 operation (the way chop / gfloat users emulate arithmetic) is wrong for directed "
        "modes when the exact result lies within half a float64 ulp of a representable value: the float64 sum is "
        "already 1.0. floatsim forms the exact error term and rounds once (docs/arithmetic.md)",
    ),
    QuantDifference(
        "arith-pychop-add-overflow", "pychop",
        "ch = pychop.Chop(exp_bits=5, sig_bits=10, rmode=1, subnormal=True)  # binary16\n"
        "x, y = np.float32(65504.0), np.float32(16.0)",
        'float(fa.add(x, y, "float16"))', "float(pychop.add(x, y, ch))",
        math.inf, 65536.0,
        "65520 is the midpoint between 65504 and the first value beyond float16's range, and ties to even go up: "
        "IEEE 754 overflows to inf; pychop's Chop returns 65536, which float16 cannot represent "
        "(formats.md §5)",
    ),
    QuantDifference(
        "arith-numpy-float16", "numpy", "x, y = np.float16(0.1), np.float16(3.0)",
        'float(fa.div(x, y, "float16"))', "float(x / y)",
        0.0333251953125, 0.0333251953125,
        "numpy computes float16 arithmetic in float32 and rounds: double rounding is harmless for + - * / and sqrt "
        "when 24 >= 2p + 2 (p = 11), so numpy.float16 is a valid oracle", differs=False,
    ),
    QuantDifference(
        "arith-ml-dtypes-e4m3fn-div-zero", "ml_dtypes",
        "x, y = np.float32(1.0), np.float32(0.0)",
        'float(fa.div(x, y, "float8_e4m3fn"))',
        "float((np.array([x], ml_dtypes.float8_e4m3fn) / np.array([y], ml_dtypes.float8_e4m3fn))[0])",
        math.nan, math.nan,
        "1/0 is inf, which E4M3FN does not have: under the default ieee policy it becomes NaN, as ml_dtypes' "
        "float32-then-cast arithmetic gives", differs=False,
    ),
]


def render_markdown() -> str:
    """docs/differences.md, generated from :data:`DIFFERENCES`."""
    lines = [
        "# Known differences between floatsim and other implementations",
        "",
        "<!-- generated: python tests/differences.py > docs/differences.md (edit the table in tests/differences.py) -->",
        "",
        "floatsim is tested bit for bit against ml_dtypes, numpy.float16, gfloat and MPFR (gmpy2). Where it",
        "deliberately differs, the difference is a row of one table, `tests/differences.py`, and a test",
        "(`tests/test_core_oracles.py::test_difference_row`) runs both sides of every row and asserts both",
        "stated results, so this page cannot go stale. Rows marked *agrees* record an edge case where the two",
        "give the same result (or where a floatsim option reproduces the oracle).",
        "",
        "The tests that sweep many inputs against an oracle leave out of the bit-exact comparison only the",
        "inputs of a listed *kind*, and assert how many there are and that each one is of that kind.",
        "",
        "Versions: ml_dtypes 0.6.0, gfloat 0.5.2, gmpy2 2.3.2 (MPFR 4.2.2), numpy 2.x.",
        "",
        "| id | oracle | format | input | floatsim | oracle | kind | reason |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for d in DIFFERENCES:
        oracle_res = _fmt_result(d.oracle_result) + ("" if d.differs else " (*agrees*)")
        lines.append(
            f"| `{d.id}` | {d.oracle} | `{d.fmt}` | {d.dtype} `{d.x}` | {_fmt_result(d.floatsim_result)} "
            f"| {oracle_res} | {d.kind} | {d.reason} |"
        )
    lines += [
        "",
        "## Quantization layer",
        "",
        "The quantizers of `floatsim.quant` against torch 2.13, torchao 0.18.0, bitsandbytes 0.50.2 and gfloat 0.5.2",
        "(`tests/test_quant_differences.py` runs both sides of each row; examples below).",
        "",
    ]
    lines += _setup_table(QUANT_DIFFERENCES)
    lines += [
        "",
        "## Arithmetic layer",
        "",
        "`floatsim.arith` against pychop 0.6.2, numpy and ml_dtypes (`tests/test_arith_differences.py` runs both",
        "sides of each row; examples below).",
        "",
    ]
    lines += _setup_table(ARITH_DIFFERENCES)
    lines += ["", "## Kinds", "", "| kind | inputs, and the tests that sweep them |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in KINDS.items()]
    lines += ["", "## Runnable examples", "", "Every example starts with", "", "```python", PREAMBLE, "```", ""]
    for d in DIFFERENCES:
        lines += [
            f"### `{d.id}`",
            "",
            "```python",
            f"{d.floatsim_code}  # floatsim: {_fmt_result(d.floatsim_result)}",
            f"{d.oracle_code}  # {d.oracle}: {_fmt_result(d.oracle_result)}",
            "```",
            "",
        ]
    lines += _setup_examples("quantization layer", QUANT_PREAMBLE, QUANT_DIFFERENCES)
    lines += _setup_examples("arithmetic layer", ARITH_PREAMBLE, ARITH_DIFFERENCES)
    return "\n".join(lines)


def _setup_table(rows) -> list[str]:
    """The table rows of a layer's differences (QuantDifference rows)."""
    lines = ["| id | oracle | floatsim | oracle | reason |", "|---|---|---|---|---|"]
    for d in rows:
        agrees = "" if d.differs else " (*agrees*)"
        lines.append(f"| `{d.id}` | {d.oracle} | `{d.floatsim_result}` | `{d.oracle_result}`{agrees} | {d.reason} |")
    return lines


def _setup_examples(layer: str, preamble: str, rows) -> list[str]:
    """The runnable examples of a layer's differences (QuantDifference rows)."""
    lines = ["", f"## Runnable examples: {layer}", "", "Every example starts with", "", "```python", preamble, "```", ""]
    for d in rows:
        lines += [
            f"### `{d.id}`",
            "",
            "```python",
            d.setup,
            f"{d.floatsim_code}  # floatsim: {d.floatsim_result}",
            f"{d.oracle_code}  # {d.oracle}: {d.oracle_result}",
            "```",
            "",
        ]
    return lines


if __name__ == "__main__":
    print(render_markdown())
