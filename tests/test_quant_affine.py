"""Affine integer and scaled float quantization: layouts, hand cases, and torch / torchao oracles bit for bit."""

import math

import numpy as np
import pytest

import floatsim as fs
from floatsim.quant._layout import flat, parse_granularity, per_channel, per_group, per_tensor, to_blocks
from floatsim.quant.affine import (
    FloatQuantizer,
    IntQuantizer,
    choose_qparams,
    dequantize_affine,
    int_range,
    quantize_affine,
)
from floatsim.quant.metrics import sqnr

F32_SMALLEST_NORMAL = float(np.finfo(np.float32).smallest_normal)


def _bits(a):
    a = np.asarray(a)
    return a.view(np.uint32) if a.dtype == np.float32 else a


# --------------------------------------------------------------------------- layouts
LAYOUTS = [per_tensor(), per_channel(0), per_channel(1), per_channel(-1), per_group(4, -1), per_group(3, 0),
           per_group(5, 1), flat(7), flat(1)]


@pytest.mark.parametrize("gran", LAYOUTS, ids=str)
@pytest.mark.parametrize("shape", [(6, 10), (3, 4, 5), (12, 1, 2)])
def test_blocks_round_trip_and_parameter_shapes(gran, shape):
    x = np.arange(math.prod(shape), dtype=np.float64).reshape(shape) * 1.5 - 7
    if gran.kind in ("channel", "group") and gran.axis >= len(shape):
        pytest.skip("axis out of range")
    b = to_blocks(x, gran)
    np.testing.assert_array_equal(b.unblock(b.data), x)
    rows = np.arange(b.data.shape[0], dtype=np.float64)
    params = b.params(rows)
    assert params.shape == b.param_shape
    np.testing.assert_array_equal(b.rows(params).ravel(), rows)
    # every row's reductions see only real elements of its block (padding repeats one of them)
    for r in range(b.data.shape[0]):
        assert set(b.data[r]) <= set(x.ravel())


def test_partial_group_gets_its_own_parameters():
    x = np.float32([[1, 2, 3, 4, 100], [1, 1, 1, 1, 0.5]])
    q = IntQuantizer(bits=8, divisor="qmax", granularity="group:4").quantize(x)
    assert q.scale.shape == (2, 2)
    np.testing.assert_array_equal(q.scale, np.float32([[4 / 127, 100 / 127], [1 / 127, 0.5 / 127]]))
    assert q.codes.shape == x.shape and q.codes[0, 4] == 127 and q.codes[1, 4] == 127


def test_parse_granularity_strings_and_errors():
    assert parse_granularity("channel:1") == per_channel(1)
    assert parse_granularity("group:32:0") == per_group(32, 0)
    assert parse_granularity("flat:64") == flat(64)
    assert parse_granularity(None) == per_tensor()
    for bad in ("group", "group:0", "channel:x", "blocks:3", "flat"):
        with pytest.raises(ValueError, match="granularity|group size"):
            parse_granularity(bad)
    with pytest.raises(TypeError, match="granularity"):
        parse_granularity(3)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        to_blocks(np.zeros((2, 2)), per_channel(2))


# --------------------------------------------------------------------------- hand cases
def test_int_ranges():
    assert int_range(8) == (-128, 127)
    assert int_range(8, narrow_range=True) == (-127, 127)
    assert int_range(8, signed=False) == (0, 255)
    assert int_range(2) == (-2, 1)
    with pytest.raises(ValueError, match="narrow_range"):
        int_range(8, signed=False, narrow_range=True)


def test_symmetric_divisors_worked_example():
    # amax 2.55: torch/torchao 2.55/127.5 = 0.02; TensorRT 2.55/127; C++ observer max(1/128, 2.55/127)
    lo, hi = np.float32(-1.0), np.float32(2.55)
    s1, z1 = choose_qparams(lo, hi, qmin=-128, qmax=127)
    s2, _ = choose_qparams(lo, hi, qmin=-127, qmax=127, divisor="qmax")
    s3, _ = choose_qparams(lo, hi, qmin=-128, qmax=127, divisor="no_clipping")
    assert s1 == np.float32(np.float32(2.55) / np.float32(127.5)) and z1 == 0
    assert s2 == np.float32(np.float32(2.55) / np.float32(127))
    assert s3 == max(np.float32(-1.0) / np.float32(-128), np.float32(2.55) / np.float32(127))
    _, zu = choose_qparams(lo, hi, qmin=0, qmax=255)
    assert zu == 128


def test_amax_element_clips_under_half_range_and_not_under_qmax():
    x = np.float32([-0.5, 0.25, 1.0])
    half = IntQuantizer(bits=8).quantize(x)
    assert half.codes.tolist()[-1] == 127  # 1.0 / (1/127.5) = 127.5 -> 128 -> clamped
    full = IntQuantizer(bits=8, divisor="qmax", narrow_range=True).quantize(x)
    assert full.codes.tolist() == [-64, 32, 127]  # -63.5 -> -64 (even), 31.75 -> 32


def test_reciprocal_versus_division_differ_and_are_each_what_they_say():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(200_000) * 100).astype(np.float32)
    s = np.float32(0.1)
    a = quantize_affine(x, s, qmin=-(2**15), qmax=2**15 - 1)
    b = quantize_affine(x, s, qmin=-(2**15), qmax=2**15 - 1, reciprocal=False)
    inv = np.float32(1) / s
    np.testing.assert_array_equal(a, np.rint(x * inv))  # numpy rint is half-to-even: an independent rounding
    np.testing.assert_array_equal(b, np.rint(x / s))
    assert 0 < np.count_nonzero(a != b) < 100


def test_stochastic_rounding_is_unbiased_and_reproducible():
    x = np.full(100_000, 0.3, np.float32)
    quant = IntQuantizer(bits=8, divisor="qmax", rounding="stochastic", seed=7)
    q1, q2 = quant.quantize(np.float32([0.3, 1.0])), quant.quantize(np.float32([0.3, 1.0]))
    np.testing.assert_array_equal(q1.codes, q2.codes)
    codes = quantize_affine(x, np.float32(1.0), qmin=-128, qmax=127, rounding="stochastic", seed=3)
    assert set(np.unique(codes)) == {0, 1}
    p = codes.mean()
    assert abs(p - 0.3) < 5 * math.sqrt(0.3 * 0.7 / x.size)


def test_power_of_two_and_low_precision_scales():
    x = np.float32([0.0, 1.0, -3.0])  # raw symmetric qmax scale 3/127 = 0.02362...
    ceil = IntQuantizer(bits=8, divisor="qmax", power_of_two="ceil").quantize(x)
    floor = IntQuantizer(bits=8, divisor="qmax", power_of_two="floor").quantize(x)
    assert float(ceil.scale) == 2.0**-5 and float(floor.scale) == 2.0**-6
    assert ceil.codes.tolist() == [0, 32, -96]
    assert floor.codes.tolist() == [0, 64, -128]  # -192 clips: floor may saturate the top
    assert ceil.scale_format == "float8_e8m0fnu" and int(ceil.scale_codes) == 127 - 5
    e4m3 = IntQuantizer(bits=8, divisor="qmax", scale_format="float8_e4m3fn").quantize(x)
    assert float(e4m3.scale) == float(fs.cast(np.float32(3 / 127), "float8_e4m3fn"))
    with pytest.raises(ValueError, match="either power_of_two or scale_format"):
        IntQuantizer(power_of_two="ceil", scale_format="float16").quantize(x)


def test_all_zero_blocks_and_asymmetric_dequantization():
    x = np.zeros((2, 4), np.float32)
    q = IntQuantizer(bits=8, symmetric=False, granularity="channel").quantize(x)
    assert np.all(q.dequantize() == 0) and np.all(q.scale > 0)
    x = np.float32([[0.0, 1.0, 2.0, 3.0], [-6.0, -4.0, -2.0, 0.0]])
    q = IntQuantizer(bits=4, signed=False, symmetric=False, granularity="channel").quantize(x)
    np.testing.assert_array_equal(q.zero_point.ravel(), [0, 15])
    np.testing.assert_allclose(q.dequantize(), x, atol=0.21)


def test_dtypes_and_shapes_are_kept():
    for dt in (np.float16, np.float32, np.float64):
        x = np.linspace(-2, 2, 24, dtype=dt).reshape(2, 3, 4)
        for quant in (IntQuantizer(bits=6, granularity="group:3:1"), FloatQuantizer(granularity="channel:2")):
            y = quant.fake_quantize(x)
            assert y.dtype == dt and y.shape == x.shape
            np.testing.assert_allclose(y, x, atol=0.1)


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="bits must be an integer from 2 to 16"):
        IntQuantizer(bits=17)
    with pytest.raises(ValueError, match="divisor must be one of"):
        IntQuantizer(divisor="127")
    with pytest.raises(ValueError, match="rounding"):
        IntQuantizer(rounding="upwards")
    with pytest.raises(ValueError, match="1 NaN / inf"):
        IntQuantizer().quantize(np.float32([1.0, np.nan]))
    with pytest.raises(TypeError, match="x must be a float16, float32 or float64 array"):
        IntQuantizer().quantize(np.array(["a"]))
    with pytest.raises(TypeError, match="format must be a float format"):
        FloatQuantizer(format="int8")
    with pytest.raises(ValueError, match="NaN"):
        quantize_affine(np.float32([np.nan]), 1.0, qmin=-128, qmax=127)
    with pytest.raises(ValueError, match="qmin < qmax"):
        quantize_affine(np.float32([1.0]), 1.0, qmin=5, qmax=5)
    with pytest.raises(TypeError, match="q must be integer codes"):
        dequantize_affine(np.float32([1.0]), 1.0)


def test_explicit_range_saturates_inf():
    q = IntQuantizer(bits=8).quantize(np.float32([np.inf, -np.inf, 0.5]), min_val=-1.0, max_val=1.0)
    assert q.codes.tolist() == [127, -128, 64]


def test_float_quantizer_nan_and_inf():
    q = FloatQuantizer(format="float8_e4m3fn").quantize(np.float32([np.nan, np.inf, -2.0, 1.0]))
    y = q.dequantize()
    assert np.isnan(y[0]) and y[1] == 2.0 and y[2] == -2.0 and y[3] == 1.0  # inf saturates to amax of the finite


def test_bits_per_value():
    x = np.zeros((4, 256), np.float32)
    assert IntQuantizer(bits=4, granularity="group:128").quantize(x).bits_per_value == 4 + 32 / 128
    assert IntQuantizer(bits=4, symmetric=False, granularity="group:128").quantize(x).bits_per_value == 4 + 36 / 128
    assert IntQuantizer(bits=4, granularity="group:128", scale_format="float16").quantize(x).bits_per_value == 4.125


# --------------------------------------------------------------------------- torch / torchao oracles
torch = None


@pytest.fixture(scope="module")
def tq():
    global torch
    torch = pytest.importorskip("torch")
    qp = pytest.importorskip("torchao.quantization.quant_primitives")
    return qp


def _block_size(gran, shape):
    if gran.kind == "tensor":
        return shape
    if gran.kind == "channel":
        return (1, shape[1])
    return (1, gran.size)


CASES = [
    # (bits, signed, symmetric, granularity)
    (8, True, True, "tensor"), (8, True, True, "channel"), (8, True, True, "group:32"),
    (8, False, False, "tensor"), (8, False, False, "group:16"), (8, True, False, "channel"),
    (4, True, True, "group:32"), (4, False, False, "group:32"), (4, True, False, "channel"),
    (2, True, True, "group:16"), (16, True, True, "channel"), (8, False, True, "tensor"),
]


@pytest.mark.parametrize("bits,signed,symmetric,gran", CASES, ids=lambda c: str(c))
def test_matches_torchao_affine_bit_for_bit(tq, bits, signed, symmetric, gran):
    rng = np.random.default_rng(bits * 7 + signed)
    x = (rng.standard_normal((8, 64)) * rng.uniform(0.01, 10, (8, 1))).astype(np.float32)
    x[0, :3] = [0.5, -0.5, 0.0]
    quant = IntQuantizer(bits=bits, signed=signed, symmetric=symmetric, granularity=gran, eps=F32_SMALLEST_NORMAL)
    q = quant.quantize(x)
    qmin, qmax = quant.qrange
    target = {8: torch.int8 if signed else torch.uint8, 16: torch.int16}.get(bits, torch.int8 if signed else torch.uint8)
    mapping = tq.MappingType.SYMMETRIC if symmetric else tq.MappingType.ASYMMETRIC
    bs = _block_size(quant.granularity, x.shape)
    xt = torch.from_numpy(x)
    s_t, zp_t = tq.choose_qparams_affine(xt, mapping, bs, target, qmin, qmax, eps=F32_SMALLEST_NORMAL)
    np.testing.assert_array_equal(_bits(q.scale).ravel(), _bits(s_t.numpy()).ravel())
    zp = q.zero_point if q.zero_point is not None else np.full(np.shape(q.scale), q.extra["symmetric_zero_point"])
    np.testing.assert_array_equal(np.ravel(zp), zp_t.numpy().ravel())
    out_dtype = torch.int32 if bits == 16 else (torch.int8 if signed else torch.uint8)
    q_t = tq.quantize_affine(xt, bs, s_t, zp_t, out_dtype, qmin, qmax)
    np.testing.assert_array_equal(q.codes.astype(np.int64), q_t.numpy().astype(np.int64))
    d_t = tq.dequantize_affine(q_t, bs, s_t, zp_t, out_dtype, qmin, qmax, output_dtype=torch.float32)
    np.testing.assert_array_equal(_bits(q.dequantize()), _bits(d_t.numpy()))


def test_symmetric_no_clipping_matches_torchao(tq):
    x = np.random.default_rng(1).standard_normal((4, 32)).astype(np.float32)
    s, _ = choose_qparams(x.min(axis=1), x.max(axis=1), qmin=-128, qmax=127, divisor="no_clipping",
                          eps=F32_SMALLEST_NORMAL)
    s_t, _ = tq.choose_qparams_affine(torch.from_numpy(x), tq.MappingType.SYMMETRIC_NO_CLIPPING_ERR, (1, 32),
                                      torch.int8, -128, 127, eps=F32_SMALLEST_NORMAL)
    np.testing.assert_array_equal(_bits(s), _bits(s_t.numpy()))


def test_torch_quantize_per_tensor_uses_the_reciprocal(tq):
    import warnings

    rng = np.random.default_rng(0)
    x = (rng.standard_normal(100_000) * 100).astype(np.float32)
    s = 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q_t = torch.quantize_per_tensor(torch.from_numpy(x), s, 0, torch.qint32).int_repr().numpy()
    ours = quantize_affine(x, np.float32(s), qmin=-(2**31), qmax=2**31 - 1)
    ours_div = quantize_affine(x, np.float32(s), qmin=-(2**31), qmax=2**31 - 1, reciprocal=False)
    np.testing.assert_array_equal(ours, q_t)
    assert np.count_nonzero(ours_div != q_t) > 0


@pytest.mark.parametrize("fmt,tdt", [("float8_e4m3fn", "float8_e4m3fn"), ("float8_e5m2", "float8_e5m2")])
@pytest.mark.parametrize("gran", ["tensor", "channel"])
def test_scaled_fp8_matches_torchao(tq, fmt, tdt, gran):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((16, 64)) * np.logspace(-3, 3, 16)[:, None]).astype(np.float32)
    quant = FloatQuantizer(format=fmt, granularity=gran)
    q = quant.quantize(x)
    tdtype = getattr(torch, tdt)
    bs = list(x.shape) if gran == "tensor" else [1, x.shape[1]]
    s_t = tq._choose_scale_float8(torch.from_numpy(x), bs, tdtype)
    np.testing.assert_array_equal(_bits(np.ravel(q.scale)), _bits(s_t.numpy().ravel()))
    q_t = tq._quantize_affine_float8(torch.from_numpy(x), s_t, tdtype)
    np.testing.assert_array_equal(q.codes, q_t.view(torch.uint8).numpy())


SQNR_ANCHORS = [  # (bits, granularity, dB) from the reference notes, torchao SYMMETRIC convention
    (8, "tensor", 38.79), (8, "channel", 41.25), (8, "group:128", 43.71), (8, "group:32", 45.07),
    (4, "tensor", 14.18), (4, "channel", 16.64), (4, "group:128", 19.10), (4, "group:32", 20.46),
]


@pytest.fixture(scope="module")
def randn_1024x4096():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    return torch.randn(1024, 4096).numpy()


@pytest.mark.parametrize("bits,gran,expected", SQNR_ANCHORS)
def test_sqnr_anchors(randn_1024x4096, bits, gran, expected):
    quant = IntQuantizer(bits=bits, granularity=gran, eps=F32_SMALLEST_NORMAL)
    assert round(sqnr(randn_1024x4096, quant.fake_quantize(randn_1024x4096)), 2) == pytest.approx(expected, abs=0.011)


@pytest.mark.parametrize("shape", [(0, 32), (3, 0), (0,), (2, 0, 5)])
@pytest.mark.parametrize("gran", ["tensor", "channel", "group:4", "group:4:0", "flat:4"])
def test_empty_arrays_round_trip(shape, gran):
    x = np.zeros(shape, np.float32)
    for quant in (IntQuantizer(bits=4, granularity=gran), FloatQuantizer(granularity=gran)):
        y = quant.fake_quantize(x)
        assert y.shape == shape and y.dtype == np.float32
