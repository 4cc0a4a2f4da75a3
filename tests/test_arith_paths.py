"""floatsim.arith's fast paths against its generic path (each fast path must give the same bits).

* The value-domain rounding of reductions (``_kernels.round_fast``) against the generic
  projection (``core._USE_TABLES = False`` turns the fast path off, as FLOATSIM_NO_TABLES=1 does).
* The native binary32 / binary64 accumulation (hardware float arithmetic) against the generic
  path, reached through ``overflow="sat_propagate"``, which differs from ``"ieee"`` only on
  overflow (the data here never overflow).

The generic path itself is checked against MPFR in test_arith_reductions.py.
"""

import numpy as np
import pytest

import floatsim as fs
import floatsim.arith as fa
from floatsim import core
from floatsim.arith import elementwise

MODES = ["nearest_even", "nearest_away", "toward_zero", "toward_positive", "toward_negative", "odd", "stochastic",
         "stochastic_a"]
ORDERS = ["sequential", "pairwise", "blocked"]
ACCUMULATORS = ["float16", "bfloat16", "float8_e4m3fn", "float32", "tfloat32",
                fs.FloatFormat(exponent_bits=5, mantissa_bits=4, subnormals=False, name="e5m4_nosub"),
                fs.FloatFormat(exponent_bits=5, mantissa_bits=3, signed=False, specials="fn", name="ue5m3fn")]


def _wide_range(rng, shape, fmt, signed=True):
    x = rng.standard_normal(shape) * np.exp2(rng.integers(-12, 12, shape))
    x = np.abs(x) if not signed else x
    return fs.cast(x.astype(np.float32), fmt, overflow="saturate")


@pytest.mark.parametrize("acc", ACCUMULATORS, ids=str)
@pytest.mark.parametrize("order", ORDERS)
def test_value_domain_rounding_equals_generic(acc, order, monkeypatch):
    rng = np.random.default_rng(7)
    signed = fs.get_format(acc).signed
    a = _wide_range(rng, (5, 70), "float8_e5m2", signed)
    b = _wide_range(rng, (70, 11), "float8_e5m2", signed)
    for mode in MODES:
        kw = dict(accumulate=acc, rounding=mode, order=order, overflow="saturate")
        if mode.startswith("stochastic"):
            kw["seed"] = 5
            if mode == "stochastic_a":
                kw["sr_bits"] = 3
        if order == "blocked":
            kw["block"] = 8
        fast = fa.matmul(a, b, "float8_e5m2", **kw)
        monkeypatch.setattr(core, "_USE_TABLES", False)
        generic = fa.matmul(a, b, "float8_e5m2", **kw)
        monkeypatch.setattr(core, "_USE_TABLES", True)
        np.testing.assert_array_equal(fast.view(np.uint32), generic.view(np.uint32), err_msg=f"{mode}")


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("inputs", ["float8_e4m3fn", "bfloat16", "float16"])
def test_native_binary32_equals_generic(inputs, order):
    rng = np.random.default_rng(3)
    a = _wide_range(rng, (6, 300), inputs)
    b = _wide_range(rng, (300, 9), inputs)
    kw = dict(accumulate="float32", order=order) | ({"block": 16} if order == "blocked" else {})
    native = fa.matmul(a, b, inputs, **kw)
    generic = fa.matmul(a, b, inputs, overflow="sat_propagate", **kw)
    np.testing.assert_array_equal(native.view(np.uint32), generic.view(np.uint32))
    s_native = fa.sum(a, inputs, axis=1, **kw)
    s_generic = fa.sum(a, inputs, axis=1, overflow="sat_propagate", **kw)
    np.testing.assert_array_equal(s_native.view(np.uint32), s_generic.view(np.uint32))


def test_native_binary64_equals_python_floats():
    """float32 inputs accumulated in binary64: Python floats are IEEE binary64 with nearest-even."""
    rng = np.random.default_rng(4)
    a = rng.standard_normal((3, 200)).astype(np.float32)
    b = rng.standard_normal((200, 4)).astype(np.float32)
    got = fa.matmul(a, b, "float32", accumulate="float64")
    for i in range(3):
        for j in range(4):
            s = float(a[i, 0]) * float(b[0, j])
            for k in range(1, 200):
                s = s + float(a[i, k]) * float(b[k, j])  # the product of two float32 is exact in float64
            assert got[i, j] == s


ELEMENTWISE_FORMATS = ["bfloat16", "float16", "float32", "float8_e4m3fn", "float8_e5m2fnuz", "float4_e2m1fn",
                       "float8_e8m0fnu",
                       fs.FloatFormat(exponent_bits=4, mantissa_bits=3, subnormals=False, name="e4m3_nosub"),
                       fs.FloatFormat(exponent_bits=5, mantissa_bits=2, signed=False, specials="fn", name="ue5m2fn")]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fmt", ELEMENTWISE_FORMATS, ids=str)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "fma", "sqrt"])
def test_elementwise_fast_pass_equals_generic(fmt, op, dtype, monkeypatch):
    """The vectorised value-domain pass of the elementwise kernel against the generic projection, on
    values spread over the whole range (subnormal, zero, overflowing and special results included)."""
    f = fs.get_format(fmt)
    rng = np.random.default_rng(11)
    codes = rng.integers(0, f.num_codes, (3, 4000))
    vals = fs.decode(codes, f, dtype=dtype)
    vals = np.where(np.isnan(vals), 0.0, vals) if not f.has_nan else vals
    x, y, z = vals
    if op == "sqrt":
        x = np.abs(x)
    args = {"add": (x, y), "sub": (x, y), "mul": (x, y), "div": (x, y), "fma": (x, y, z), "sqrt": (x,)}[op]
    assert x.size >= elementwise._FAST_MIN_SIZE  # large enough for the vectorised pass
    for mode in MODES:
        kw = dict(rounding=mode, overflow="saturate" if not f.has_nan else None)
        if mode.startswith("stochastic"):
            kw["seed"] = 9
            if mode == "stochastic_a":
                kw["sr_bits"] = 5
        try:
            fast = getattr(fa, op)(*args, f, **kw)
        except ValueError as e:  # an invalid operation in a format without NaN: both paths must raise
            monkeypatch.setattr(core, "_USE_TABLES", False)
            with pytest.raises(ValueError, match="no NaN"):
                getattr(fa, op)(*args, f, **kw)
            monkeypatch.setattr(core, "_USE_TABLES", True)
            assert "no NaN" in str(e)
            continue
        monkeypatch.setattr(core, "_USE_TABLES", False)
        generic = getattr(fa, op)(*args, f, **kw)
        monkeypatch.setattr(core, "_USE_TABLES", True)
        assert fast.dtype == generic.dtype == dtype
        np.testing.assert_array_equal(fast.view(f"u{fast.itemsize}"), generic.view(f"u{fast.itemsize}"),
                                      err_msg=f"{op} {mode}")


def test_lazy_layer_attributes_are_the_right_modules():
    """``fs.arith`` and ``fs.quant`` are imported on first use, each as itself."""
    import floatsim.quant

    assert fs.arith is fa
    assert fs.quant is floatsim.quant
    assert fs.arith.add(np.float32(1.0), np.float32(2.0), "bfloat16") == 3.0


def test_float64_by_name_in_every_verb():
    """float64 (binary64, accepted by name) through the exact and comparison verbs as well as the arithmetic."""
    x, y = np.float64([0.1, -0.0, np.inf]), np.float64([0.2, 0.0, 1.0])
    np.testing.assert_array_equal(fa.lt(x, y, "float64"), x < y)
    np.testing.assert_array_equal(fa.neg(x, "float64").view(np.uint64), np.negative(x).view(np.uint64))
    np.testing.assert_array_equal(fa.abs(x, "float64"), np.abs(x))
    assert fa.add(x[0], y[0], "float64") == 0.1 + 0.2  # Python floats: IEEE binary64, nearest even
