"""What every quantizer promises: shapes, dtypes, stored form, non-finite policy; schemes by name; the CLI report."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

import floatsim.quant as fq
from floatsim.quant.schemes import EXAMPLE_SCHEMES, get_quantizer

#: every kind of quantizer, with the layout it blocks along
QUANTIZERS = {
    "int8": fq.IntQuantizer(bits=8),
    "uint4 asym g16": fq.IntQuantizer(bits=4, signed=False, symmetric=False, granularity="group:16"),
    "int6 channel narrow": fq.IntQuantizer(bits=6, narrow_range=True, granularity="channel"),
    "fp8 e4m3 channel": fq.FloatQuantizer(format="float8_e4m3fn", granularity="channel:-1"),
    "fp6 e3m2 g8 pow2": fq.FloatQuantizer(format="float6_e3m2fn", granularity="group:8", power_of_two="ceil"),
    "mxfp8": fq.mx("mxfp8_e4m3"),
    "mxfp4 b16": fq.mx("mxfp4", block_size=16),
    "mxint8": fq.mx("mxint8"),
    "bfp e5m2 e8m0 b8": fq.BlockFloatQuantizer(element="float8_e5m2", block_size=8),
    "nvfp4": fq.NVFP4Quantizer(),
    "nf4": fq.nf4(),
    "nf4 dq": fq.nf4(double_quant=True),
    "dynamic8": fq.dynamic8(),
}
ids = list(QUANTIZERS)


@pytest.mark.parametrize("name", ids)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(40,), (3, 37), (2, 3, 48)])
def test_any_shape_and_dtype_round_trips(name, dtype, shape):
    quant = QUANTIZERS[name]
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape).astype(dtype)
    q = quant.quantize(x)
    assert q.codes.shape == x.shape and q.codes.dtype.kind in "iu"
    y = q.dequantize()
    assert y.shape == x.shape and y.dtype == dtype
    assert q.dequantize(dtype=np.float64).dtype == np.float64
    np.testing.assert_array_equal(quant.fake_quantize(x), y)
    np.testing.assert_array_equal(quant(x), y)
    rel = np.linalg.norm((y - x).astype(np.float64)) / np.linalg.norm(x.astype(np.float64))
    assert rel < 0.2, f"{name}: relative error {rel}"
    assert q.bits_per_value > 0 and q.nbytes == q.bits_per_value * x.size / 8


@pytest.mark.parametrize("name", ids)
def test_all_zero_input_dequantizes_to_zero(name):
    x = np.zeros((4, 64), np.float32)
    y = QUANTIZERS[name].fake_quantize(x)
    assert np.all(y == 0)


#: what each family does with NaN / inf (documented in each class and in docs/quantization.md)
NONFINITE = {
    "int8": "raises", "uint4 asym g16": "raises", "int6 channel narrow": "raises",
    "fp8 e4m3 channel": "nan stays, inf saturates", "fp6 e3m2 g8 pow2": "raises",
    "mxfp8": "block becomes NaN", "mxfp4 b16": "block becomes NaN", "mxint8": "block becomes NaN",
    "bfp e5m2 e8m0 b8": "block becomes NaN", "nvfp4": "block becomes NaN",
    "nf4": "raises", "nf4 dq": "raises", "dynamic8": "raises",
}


@pytest.mark.parametrize("name", ids)
def test_nonfinite_policy(name):
    quant = QUANTIZERS[name]
    x = np.linspace(-1, 1, 64, dtype=np.float32).reshape(2, 32)
    x[0, 3] = np.nan
    x[1, 5] = np.inf
    policy = NONFINITE[name]
    if policy == "raises":
        with pytest.raises(ValueError, match="NaN|inf"):
            quant.quantize(x)
        return
    y = quant.fake_quantize(x)
    if policy == "block becomes NaN":
        bs = quant.block_size
        assert np.isnan(y[0, (3 // bs) * bs:(3 // bs + 1) * bs]).all()
        assert np.isnan(y[1, (5 // bs) * bs:(5 // bs + 1) * bs]).all()
        assert np.isfinite(y).sum() == 64 - 2 * bs
    else:
        assert np.isnan(y[0, 3]) and np.isfinite(y[1, 5]) and np.isfinite(y).sum() == 63


def test_partial_last_block_has_its_own_scale():
    x = np.concatenate([np.full(32, 0.01, np.float32), np.float32([100.0, 1.0])])
    for quant in (fq.mx("mxfp8_e4m3"), fq.nf4(block_size=32), fq.IntQuantizer(bits=8, granularity="group:32")):
        y = quant.fake_quantize(x)
        np.testing.assert_allclose(y[:32], x[:32], rtol=0.07)
        assert y[32] == pytest.approx(100.0, rel=0.07)


def test_nvfp4_and_mx_bits_per_value():
    x = np.zeros((16, 256), np.float32)
    assert fq.mx("mxfp8_e4m3").quantize(x).bits_per_value == 8.25
    assert fq.mx("mxfp6_e2m3").quantize(x).bits_per_value == 6.25
    assert fq.mx("mxfp4").quantize(x).bits_per_value == 4.25
    assert fq.NVFP4Quantizer().quantize(x).bits_per_value == 4.5 + 32 / x.size


# --------------------------------------------------------------------------- schemes by name
@pytest.mark.parametrize("spec", EXAMPLE_SCHEMES + ("uint8:asym", "int8:narrow:qmax", "int4:channel=1",
                                                    "float8_e5m2:g32", "mxint8", "fp4_bnb:g128", "nvfp4:sr",
                                                    "dynamic8_unsigned", "int8:pow2", "bfloat16"))
def test_every_scheme_builds_and_quantizes(spec):
    quant = get_quantizer(spec)
    x = np.random.default_rng(0).standard_normal((4, 256)).astype(np.float32)
    if spec == "dynamic8_unsigned":
        x = np.abs(x)
    assert fq.sqnr(x, quant.fake_quantize(x)) > 10


def test_scheme_options_map_to_parameters():
    q = get_quantizer("int4:g64:asym:narrow")
    assert q.bits == 4 and not q.symmetric and q.narrow_range and q.granularity == fq.per_group(64)
    assert get_quantizer("uint8").signed is False
    assert get_quantizer("int8:channel=1").granularity == fq.per_channel(1)
    assert get_quantizer("int8:qmax").divisor == "qmax"
    assert get_quantizer("mxfp4:g16").block_size == 16
    assert get_quantizer("nf4:g128:dq").block_size == 128
    assert get_quantizer("fp8_e4m3").format.name == "float8_e4m3fn"
    q = fq.IntQuantizer(bits=3)
    assert get_quantizer(q) is q


@pytest.mark.parametrize("spec,match", [
    ("int4:g128:foo", "unknown option 'foo'"),
    ("int4:g128:channel", "not both"),
    ("mxfp4:asym", "do not apply"),
    ("dynamic8:dq", "double quantization"),
    ("nonsense", "unknown scheme base"),
    ("int17", "bits must be an integer from 2 to 16"),
])
def test_scheme_errors(spec, match):
    with pytest.raises(ValueError, match=match):
        get_quantizer(spec)
    with pytest.raises(TypeError, match="scheme must be a string"):
        get_quantizer(8)


# --------------------------------------------------------------------------- report and CLI
def test_report_rows_and_text():
    x = np.random.default_rng(0).standard_normal((8, 128)).astype(np.float32)
    rows = fq.report(x, {"int8": get_quantizer("int8"), "mxfp4": get_quantizer("mxfp4")})
    assert [r["scheme"] for r in rows] == ["int8", "mxfp4"]
    assert rows[0]["sqnr_db"] > rows[1]["sqnr_db"] > 10
    assert rows[1]["bits_per_value"] == 4.25
    text = fq.report_text(rows)
    assert text.splitlines()[0].split()[:3] == ["scheme", "bits/value", "SQNR"]


def test_report_takes_scheme_names():
    x = np.random.default_rng(3).standard_normal(256).astype(np.float32)
    by_name = fq.report(x, ["int8", "mxfp4"])
    by_object = fq.report(x, {"int8": get_quantizer("int8"), "mxfp4": get_quantizer("mxfp4")})
    assert by_name == by_object
    assert fq.report(x, {"four bits": "nf4"})[0]["scheme"] == "four bits"
    with pytest.raises(TypeError, match="schemes='int8'"):
        fq.report(x, "int8")


@pytest.mark.parametrize("quant,kwargs", [(fq.IntQuantizer(bits=4), {"min_val": -0.5, "max_val": 0.5}),
                                          (fq.FloatQuantizer(format="float8_e4m3fn"), {"amax": 0.5})])
def test_fake_quantize_takes_a_calibrated_range(quant, kwargs):
    """fake_quantize(x, range) is the round trip through quantize(x, range): values beyond the range clip."""
    x = np.float32([0.1, -0.3, 0.9, -2.0])
    y = quant.fake_quantize(x, **kwargs)
    np.testing.assert_array_equal(y, quant.quantize(x, **kwargs).dequantize())
    np.testing.assert_array_equal(quant(x, **kwargs), y)
    assert np.abs(y).max() < 0.55 and np.abs(quant.fake_quantize(x)).max() > 1.5  # int4: qmin -8 reaches -0.533
    with pytest.raises(TypeError):
        quant.fake_quantize(x, bogus=1)


def test_metrics_edge_cases():
    assert fq.sqnr([1.0, 2.0], [1.0, 2.0]) == float("inf")
    assert np.isnan(fq.sqnr([0.0], [0.0]))
    assert np.isnan(fq.cosine([0.0, 0.0], [1.0, 0.0]))
    assert fq.cosine([1e20, 1.0], [1e20, 1.0]) <= 1.0
    with pytest.raises(ValueError, match="same shape"):
        fq.mse([1.0], [1.0, 2.0])


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "floatsim", "quantize", *args], capture_output=True, text=True,
                          timeout=300)


def test_cli_quantize_report(tmp_path):
    res = _cli("int8", "mxfp4", "nf4:dq", "--shape", "16x256", "--json")
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert [r["scheme"] for r in rows] == ["int8", "mxfp4", "nf4:dq"]
    assert rows[1]["bits_per_value"] == 4.25
    np.save(tmp_path / "w.npy", np.random.default_rng(1).laplace(size=(8, 64)).astype(np.float32))
    res = _cli("int4:g32", "--input", str(tmp_path / "w.npy"))
    assert res.returncode == 0 and "int4:g32" in res.stdout and "w.npy" in res.stdout
    bad = _cli("int4:g32:zz")
    assert bad.returncode == 2 and "unknown option 'zz'" in bad.stderr


def test_cli_quantize_plot(tmp_path):
    pytest.importorskip("matplotlib")
    res = _cli("int8", "nvfp4", "--shape", "8x64", "--plot", str(tmp_path / "r.png"))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "r.png").stat().st_size > 1000


def test_mxint8_block_below_the_smallest_scale():
    # amax = 1e-39 (a float32 subnormal): the scale clamps at 2**-127 and the elements are 11/64 of it;
    # 1 / (2**-127 * 2**-6) overflows float32, so the implicit 2**6 is applied as a second factor
    x = np.full(32, 1e-39, np.float32)
    y = fq.mx("mxint8").fake_quantize(x)
    assert np.all(y == np.float32(11 / 64 * 2.0**-127))
    assert np.all(fq.mx("mxint8").fake_quantize(np.zeros(32, np.float32)) == 0)


# --------------------------------------------------------------------------- regressions found in review
def test_low_precision_scales_never_round_to_zero():
    x = np.float32([0.1, -0.05, 0.02])
    y = fq.IntQuantizer(scale_format="float8_e4m3fn").fake_quantize(x)
    np.testing.assert_allclose(y, x, atol=0.002)
    assert np.all(fq.IntQuantizer(scale_format="float8_e4m3fn").fake_quantize(np.zeros(4, np.float32)) == 0)
    assert np.all(fq.FloatQuantizer(scale_format="float8_e4m3fn").fake_quantize(np.zeros(3, np.float32)) == 0)
    s, _ = fq.choose_qparams(0.0, 0.0, qmin=-128, qmax=127, scale_format="float8_e4m3fn")
    assert float(s) == 2.0**-9


@pytest.mark.parametrize("call,error,match", [
    (lambda: fq.quantize_affine(np.float32([-2.0]), 1.0, 0.7, qmin=-128, qmax=127), TypeError, "zero_point must be"),
    (lambda: fq.quantize_affine(np.float32([1.0]), 1.0, 300, qmin=-128, qmax=127), ValueError, "zero_point must lie"),
    (lambda: fq.quantize_affine(np.float32([1.0]), 0.0, qmin=-128, qmax=127), ValueError, "scale must be positive"),
    (lambda: fq.quantize_affine(np.float32([1.0]), -1.0, qmin=-128, qmax=127), ValueError, "scale must be positive"),
    (lambda: fq.quantize_affine(np.ones((2, 3), np.float32), np.ones(2, np.float32), qmin=-8, qmax=7), ValueError,
     "does not broadcast"),
    (lambda: fq.choose_qparams(0.0, 0.0, qmin=-128, qmax=127, eps=-1), ValueError, "eps must be a positive"),
    (lambda: fq.IntQuantizer(eps=float("inf")), ValueError, "eps must be a positive"),
    (lambda: fq.IntQuantizer(symmetric=None), TypeError, "symmetric must be True or False"),
    (lambda: fq.IntQuantizer(scale_format="int8"), TypeError, "scale_format must be a float format"),
    (lambda: fq.FloatQuantizer(amax_floor=-1), ValueError, "amax_floor"),
    (lambda: fq.FloatQuantizer(format="float8_e8m0fnu"), ValueError, "signed float format with zero"),
    (lambda: fq.FloatQuantizer().quantize(np.ones(4, np.float32), amax=-1.0), ValueError, "amax must hold"),
    (lambda: fq.FloatQuantizer().fake_quantize(np.array([1e300, 1.0])), ValueError, "too wide for float32"),
    (lambda: fq.IntQuantizer(symmetric=False).fake_quantize(np.float32([3e38, -3e38])), ValueError, "too wide"),
    (lambda: fq.NVFP4Quantizer().fake_quantize(np.array([1e300] + [0.0] * 15)), ValueError, "beyond the float32"),
    (lambda: fq.dequantize_affine(np.int8([1]), 0.5, dtype=np.int32), TypeError, "dtype must be float16"),
    (lambda: fq.per_channel(True), TypeError, "axis must be an integer"),
    (lambda: fq.per_group(32, 2.9), TypeError, "axis must be an integer"),
    (lambda: fq.IntQuantizer().quantize(np.float32([np.nan, 1]), min_val=-2, max_val=2), ValueError,
     "x contains 1 NaN value"),
])
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("make", [lambda: fq.IntQuantizer(), lambda: fq.FloatQuantizer(), lambda: fq.nf4(),
                                  lambda: fq.mx("mxfp4"), lambda: fq.NVFP4Quantizer()])
def test_dequantize_checks_who_made_q(make):
    x = np.random.default_rng(0).standard_normal((4, 64)).astype(np.float32)
    q = fq.IntQuantizer(bits=4).quantize(x) if not isinstance(make(), fq.IntQuantizer) else fq.nf4().quantize(x)
    with pytest.raises(ValueError, match="q was made by"):
        make().dequantize(q)
    with pytest.raises(TypeError, match="q must be a QuantizedTensor"):
        make().dequantize("x")
    own = make().quantize(x)
    np.testing.assert_array_equal(make().dequantize(own), own.dequantize())  # an equal quantizer is fine


def test_float64_dequantization_is_exact():
    x = np.random.default_rng(0).standard_normal(1000)
    q = fq.IntQuantizer(bits=16).quantize(x)
    exact = [float(Fraction(int(c)) * Fraction(float(q.scale))) for c in q.codes]  # code * scale, exactly
    np.testing.assert_array_equal(q.dequantize(), exact)


def test_nvfp4_tiny_tensors_stay_finite():
    y = fq.NVFP4Quantizer().fake_quantize(np.array([1e-37] + [0.0] * 15, np.float32))
    assert np.all(np.isfinite(y)) and y[0] > 0
    y = fq.NVFP4Quantizer(tensor_amax=1e-40).fake_quantize(np.float32([1.0] + [0.0] * 15))
    assert np.all(np.isfinite(y))


def test_adam8bit_refuses_nan_gradients_before_updating():
    p = np.ones(4096, np.float32)
    g = np.ones(4096, np.float32)
    g[5] = np.nan
    opt = fq.Adam8bit(lr=0.1)
    with pytest.raises(ValueError, match=r"grads\[0\] makes the Adam states NaN"):
        opt.step([p], [g])
    assert opt.t == 0 and np.all(p == 1)


def test_cli_quantize_missing_input():
    res = _cli("int8", "--input", "/nonexistent/w.npy")
    assert res.returncode == 2 and "cannot read --input" in res.stderr


@pytest.mark.parametrize("size", [2, 16, 255, 256, 257, 1000])
def test_nearest_code_search_both_strategies_equal_searchsorted(size):
    """Counting (up to 256 entries) and the branch-free binary search (above) both give the left search position."""
    from floatsim.quant._kernels import nearest_rows

    rng = np.random.default_rng(size)
    table = np.sort(rng.uniform(-1, 1, size)).astype(np.float32)
    table[: size // 3] = np.round(table[: size // 3], 1)  # duplicates
    mid = np.sort((table[:-1] + table[1:]) / np.float32(2))
    x = np.concatenate([rng.uniform(-1.5, 1.5, 4000), mid, np.nextafter(mid, 2), np.nextafter(mid, -2)])
    x = x.astype(np.float32)[: (x.size // 8) * 8].reshape(-1, 8)
    order = np.arange(size, dtype=np.uint16)
    expected = np.searchsorted(mid, np.clip(x, -1, 1), side="left")
    np.testing.assert_array_equal(nearest_rows(x, np.ones(x.shape[0], np.float32), mid, order), expected)


def test_adam8bit_refuses_huge_gradients_atomically():
    p = np.ones(4096, np.float32)
    opt = fq.Adam8bit(lr=0.1)
    with pytest.raises(ValueError, match="nothing was updated"):
        opt.step([p], [np.full(4096, 1e39)])
    assert opt.t == 0 and np.all(p == 1)
    opt.step([p], [np.ones(4096)])
    assert opt.t == 1 and np.all(p < 1)


def test_gradient_masks_at_the_int32_limits():
    """Inputs that round beyond int32 are outside every range (torch: gradient 0 there)."""
    from floatsim.quant import qat

    x = np.float32([3e9, -3e9, 1.0])
    g = qat.fake_quantize_affine_grad(x, 1.0, 0, -(2**31), 2**31 - 1, np.ones(3, np.float32))
    assert g.tolist() == [0.0, 0.0, 1.0]
    dx, ds, dz = qat.lsq_grads(np.float32([3e9, 1.0]), 1.0, 0.0, -(2**31), 2**31 - 1, np.ones(2, np.float32))
    assert dx.tolist() == [0.0, 1.0] and float(dz) == -1.0


def test_fake_quantize_affine_float64_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(1000) * 4
    ours = fq.fake_quantize_affine(x, 0.037, 0, -128, 127)
    theirs = torch.fake_quantize_per_tensor_affine(torch.from_numpy(x), 0.037, 0, -128, 127).numpy()
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("call,match", [
    (lambda: fq.observers.HistogramObserver()(np.float32([1e35, -1e35])), "too wide for a float32 histogram"),
    (lambda: fq.observers.MinMaxObserver()(np.float64([1e39, 0.0])), "beyond the float32 range"),
    (lambda: fq.int_matmul(np.int8([[1, 2]]), np.int8([[1], [2]]), b_zero_point=np.zeros(7, np.int64)),
     "b_zero_point of shape"),
    (lambda: fq.requantize(np.int32([[1, 2, 3]]), [0.5, 0.2]), "multiplier of shape"),
    (lambda: fq.requantize(np.int32([[1, 2, 3]]), 0.5, zero_point=np.int32([1, 2])), "zero_point of shape"),
    (lambda: fq.requantize(np.int32([10]), -0.5, style="float"), "non-negative"),
    (lambda: fq.requantize(np.int32([10]), 2.0**31), "below 2\\*\\*31"),
])
def test_second_review_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("block_size,rate", [(256, 0.0026), (4096, 0.0044)])
def test_bnb_cpu_lut_miss_rate(block_size, rate):
    """The rate quoted in the docs: how often bitsandbytes' CPU lookup table (reproduced bit for bit by
    tie="bnb_cpu_lut", see test_quant_codebooks.py) misses the exact nearest code on log-normal data."""
    x = np.random.default_rng(0).lognormal(size=1 << 18).astype(np.float32)
    exact = fq.dynamic8(block_size=block_size).quantize(x).codes
    lut = fq.dynamic8(block_size=block_size, tie="bnb_cpu_lut").quantize(x).codes
    assert np.mean(exact != lut) == pytest.approx(rate, abs=0.0003)
