"""Every code of every format of 16 bits or fewer: the kernels against the exact reference.

* ``decode`` of every code equals :func:`floatsim.reference.decode` (NaN as a class,
  the sign of zero compared);
* ``encode(decode(code)) == code`` for every canonical code (NaN codes give the
  format's canonical NaN, signed where the format has signed NaNs);
* finite values are strictly monotone in code order within each sign half, and the
  negative half mirrors the positive one;
* ``decode`` to float32 / float16 equals the float64 decode where those are exact.

Non-canonical codes of formats without subnormals (exponent field 0, mantissa != 0)
decode to +-0; they are tested on their own.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import floatsim as fs
from floatsim import reference as ref
from floatsim.format import FloatFormat, IntFormat
from floatsim.formats import CATALOGUE, p3109

# --------------------------------------------------------------------------- the formats

CUSTOM = [
    FloatFormat(exponent_bits=2, mantissa_bits=5, name="e2m5"),
    FloatFormat(exponent_bits=5, mantissa_bits=0, specials="fn", name="e5m0fn"),
    FloatFormat(exponent_bits=6, mantissa_bits=1, name="e6m1"),
    FloatFormat(exponent_bits=3, mantissa_bits=4, subnormals=False, name="e3m4_nosub"),
    FloatFormat(exponent_bits=4, mantissa_bits=3, bias=8, subnormals=False, specials="fnuz", name="e4m3fnuz_nosub"),
    FloatFormat(exponent_bits=2, mantissa_bits=3, subnormals=False, specials="none", name="e2m3_none_nosub"),
    FloatFormat(exponent_bits=4, mantissa_bits=3, signed=False, specials="fn", name="ue4m3fn"),
    FloatFormat(exponent_bits=5, mantissa_bits=2, signed=False, specials="extended", name="ue5m2_extended"),
    FloatFormat(exponent_bits=4, mantissa_bits=4, signed=False, specials="none", name="ue4m4_none"),
    FloatFormat(exponent_bits=8, mantissa_bits=7, bias=150, name="e8m7_bias150"),  # needs float64
    FloatFormat(exponent_bits=6, mantissa_bits=9, bias=-100, name="e6m9_bias-100"),  # needs float64
    FloatFormat(exponent_bits=4, mantissa_bits=0, bias=3, signed=False, subnormals=False, has_zero=False,
                specials="fn", name="ue4m0_nozero"),
    p3109(8, 1, signed=False, extended=False),  # binary8p1uf
    p3109(8, 1, signed=False, extended=True),  # binary8p1ue
    p3109(8, 3, signed=True, extended=True),
    p3109(8, 4, signed=True, extended=True),
    p3109(8, 7, signed=True, extended=False),
    p3109(8, 8, signed=False, extended=True),
    p3109(6, 3, signed=True, extended=False),
    p3109(4, 2, signed=True, extended=False),  # binary4p2sf
    p3109(4, 2, signed=True, extended=True),
    p3109(3, 2, signed=True, extended=False),  # binary3p2sf
    p3109(3, 1, signed=False, extended=True),
    p3109(16, 8, signed=True, extended=True),
    p3109(16, 11, signed=False, extended=False),
    p3109(16, 5, signed=True, extended=False),
]

INT_FORMATS = [f for f in CATALOGUE.values() if isinstance(f, IntFormat)] + [
    IntFormat(bits=1, signed=False, name="uint1"),
    IntFormat(bits=12, name="int12"),
    IntFormat(bits=16, signed=False, name="uint16"),
]

FLOAT_FORMATS = [f for f in CATALOGUE.values() if isinstance(f, FloatFormat) and f.bits <= 16] + CUSTOM
ALL_FORMATS = FLOAT_FORMATS + INT_FORMATS


from kernel_paths import PATHS, kernel_path  # noqa: E402


def _id(f):
    return str(f)


@functools.cache
def _ref_values(fmt) -> np.ndarray:
    """reference.decode of every code, as float64 (exact: the descriptor guarantees it)."""
    return np.array([float(ref.decode(c, fmt)) for c in range(fmt.num_codes)], dtype=np.float64)


def _codes(fmt):
    return np.arange(fmt.num_codes, dtype=np.int64)


def _noncanonical(fmt) -> np.ndarray:
    """Mask of codes with exponent field 0 and mantissa != 0 in a format without subnormals."""
    codes = _codes(fmt)
    if isinstance(fmt, IntFormat) or fmt.subnormals or fmt.mantissa_bits == 0 or not fmt.has_zero:
        return np.zeros(codes.size, bool)
    mag = codes & ~fmt.sign_bit
    return (mag >> fmt.mantissa_bits == 0) & (mag & ((1 << fmt.mantissa_bits) - 1) != 0)


def assert_same_values(actual, expected, what=""):
    """Equal as values; NaN compared as a class; the sign of zeros (and infinities) compared."""
    actual = np.asarray(actual, np.float64)
    expected = np.asarray(expected, np.float64)
    nan_a, nan_e = np.isnan(actual), np.isnan(expected)
    bad = (nan_a != nan_e) | (~nan_e & ((actual != expected) | (np.signbit(actual) != np.signbit(expected))))
    if bad.any():
        i = np.flatnonzero(bad)
        raise AssertionError(
            f"{what}: {i.size} mismatches; first at index {i[:5].tolist()}: "
            f"actual {actual[i[:5]].tolist()}, expected {expected[i[:5]].tolist()}"
        )


# --------------------------------------------------------------------------- (a) decode vs reference
@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=_id)
def test_decode_every_code_matches_reference(fmt):
    for path in PATHS:
        with kernel_path(path):
            got = fs.decode(_codes(fmt), fmt, dtype=np.float64)
            assert got.dtype == np.float64 and got.shape == (fmt.num_codes,)
            assert_same_values(got, _ref_values(fmt), f"decode {fmt} ({path} path)")


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=_id)
def test_decode_default_dtype(fmt):
    got = fs.decode(_codes(fmt), fmt)
    assert got.dtype == fmt.value_dtype
    assert_same_values(got, _ref_values(fmt), f"decode {fmt} (default dtype)")


# --------------------------------------------------------------------------- (b) encode(decode(c)) == c
def _expected_roundtrip(fmt) -> np.ndarray:
    """The code encode(decode(c)) must give, from the reference values and the descriptor."""
    codes = _codes(fmt)
    if isinstance(fmt, IntFormat):
        return codes
    values = _ref_values(fmt)
    expected = codes.copy()
    nan = np.isnan(values)
    signed_nans = fmt.signed and fmt.specials.value in ("ieee", "fn")
    neg = (codes & fmt.sign_bit) != 0
    expected[nan] = fmt.nan_code | np.where(neg[nan] & signed_nans, fmt.sign_bit, 0)
    return expected


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=_id)
def test_encode_decode_roundtrip(fmt):
    codes = _codes(fmt)
    canonical = ~_noncanonical(fmt)
    values = fs.decode(codes, fmt, dtype=np.float64)
    expected = _expected_roundtrip(fmt)
    for path in PATHS:
        with kernel_path(path):
            got = fs.encode(values, fmt)
        assert got.dtype == fmt.code_dtype
        bad = canonical & (got.astype(np.int64) != expected)
        assert not bad.any(), (
            f"{fmt} ({path} path): encode(decode(c)) != c for codes {np.flatnonzero(bad)[:8].tolist()} "
            f"-> {got[bad][:8].tolist()}"
        )
    if not isinstance(fmt, IntFormat) and fmt.has_nan:
        assert np.isnan(_ref_values(fmt)).any()


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=_id)
def test_roundtrip_float32_input(fmt):
    """The same round trip through float32 values, where they are exact."""
    if not fmt.exact_in(np.float32):
        pytest.skip(f"{fmt} values are not all exact in float32")
    codes = _codes(fmt)
    canonical = ~_noncanonical(fmt)
    expected = _expected_roundtrip(fmt)
    for path in PATHS:
        with kernel_path(path):
            got = fs.encode(fs.decode(codes, fmt, dtype=np.float32), fmt).astype(np.int64)
        assert np.array_equal(got[canonical], expected[canonical]), path


NOSUB = [f for f in FLOAT_FORMATS if _noncanonical(f).any()]


@pytest.mark.parametrize("fmt", NOSUB, ids=_id)
def test_noncanonical_codes_decode_to_zero(fmt):
    codes = _codes(fmt)
    mask = _noncanonical(fmt)
    assert mask.sum() == (2 if fmt.signed else 1) * ((1 << fmt.mantissa_bits) - 1)
    values = fs.decode(codes[mask], fmt, dtype=np.float64)
    assert np.all(values == 0)
    neg = (codes[mask] & fmt.sign_bit) != 0
    assert np.array_equal(np.signbit(values), neg)  # the sign bit is read, as for the canonical -0
    assert_same_values(values, _ref_values(fmt)[mask], f"non-canonical {fmt}")
    # and they encode to the canonical zero of their sign (+0 where the format has no -0)
    zero_neg = fmt.sign_bit if fmt.has_negative_zero else 0
    assert np.array_equal(fs.encode(values, fmt).astype(np.int64), np.where(neg, zero_neg, 0))


# --------------------------------------------------------------------------- (c) monotone in code order
@pytest.mark.parametrize("fmt", FLOAT_FORMATS, ids=_id)
def test_decode_monotone_in_code_order(fmt):
    codes = _codes(fmt)
    values = fs.decode(codes, fmt, dtype=np.float64)
    half = fmt.num_codes // 2 if fmt.signed else fmt.num_codes
    pos_vals, pos_keep = values[:half], ~_noncanonical(fmt)[:half]
    finite = np.isfinite(pos_vals) & pos_keep
    # finite codes come first, then infinity / NaN: no finite value after the first special
    nfin = np.count_nonzero(np.isfinite(pos_vals))
    assert np.all(np.isfinite(pos_vals[:nfin])) and not np.isfinite(pos_vals[nfin:]).any()
    assert nfin - 1 == fmt.max_code
    assert np.all(np.diff(pos_vals[finite]) > 0), f"{fmt}: positive half not strictly increasing"
    assert pos_vals[fmt.max_code] == fmt.max
    if fmt.has_inf:
        assert values[fmt.inf_code] == np.inf
    if fmt.signed:
        neg_vals = values[half:]
        negzero_is_nan = np.isnan(neg_vals[0])
        start = 1 if negzero_is_nan else 0
        mirror = neg_vals[start:nfin]
        assert np.all(np.isfinite(mirror))
        assert np.array_equal(mirror, -pos_vals[start:nfin])  # -0 for the -0 code, where it exists
        assert np.all(np.diff(mirror[pos_keep[start:nfin]]) < 0)
        if fmt.has_inf:
            assert values[fmt.neginf_code] == -np.inf


@pytest.mark.parametrize("fmt", INT_FORMATS, ids=_id)
def test_int_decode_twos_complement_order(fmt):
    values = fs.decode(_codes(fmt), fmt, dtype=np.float64)
    if fmt.signed:
        half = fmt.num_codes // 2
        order = np.concatenate([values[half:], values[:half]])  # min ... -1, 0 ... max
    else:
        order = values
    assert np.array_equal(order, np.arange(fmt.min, fmt.max + 1, dtype=np.float64))


# --------------------------------------------------------------------------- (d) narrower dtypes
@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=_id)
def test_decode_narrow_dtypes_equal_float64(fmt):
    codes = _codes(fmt)
    wide = fs.decode(codes, fmt, dtype=np.float64)
    for dt in (np.float32, np.float16):
        if fmt.exact_in(dt):
            narrow = fs.decode(codes, fmt, dtype=dt)
            assert narrow.dtype == dt
            assert_same_values(narrow.astype(np.float64), wide, f"decode {fmt} as {np.dtype(dt).name}")
        else:
            with pytest.raises(ValueError, match="dtype=np.float64|exact"):
                fs.decode(codes, fmt, dtype=dt)


def test_format_lists_cover_what_the_brief_asks():
    names = {str(f) for f in ALL_FORMATS}
    for n in ("binary8p1uf", "binary8p1ue", "binary4p2sf", "binary3p2sf", "float8_e8m0fnu", "bfloat16",
              "float16", "float4_e2m1fn", "int4", "uint2"):
        assert n in names
    assert any(f.bits == 16 and not isinstance(f, IntFormat) and f.name.startswith("binary16") for f in CUSTOM)
