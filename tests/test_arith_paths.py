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
