"""Block formats (floatsim.quant.blocks): MX, NVFP4, generic block floating point.

Oracles (optional, skipped when missing): torchao 0.18.0 ``to_mx`` / ``to_dtype``
(five MX float formats, all four scale modes, its Inf semantics) and
``nvfp4_quantize``; gfloat 0.5.2 ``quantize_block`` (MX formats and MXINT8).
Elsewhere: hand-computed cases from the reference notes.
"""

import math

import numpy as np
import pytest

from floatsim import FloatFormat, IntFormat
from floatsim.quant.blocks import MX_FORMATS, BlockFloatQuantizer, NVFP4Quantizer, mx

MX_FLOAT = ["mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e2m3", "mxfp6_e3m2", "mxfp4"]
RULES = ["floor", "ceil", "even", "rceil"]


def _bits(a):
    a = np.asarray(a)
    return a.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[a.itemsize])


def assert_same(a, b):
    """Bit-for-bit equality of two float arrays of the same dtype (NaN payloads aside)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    nan = np.isnan(a)
    np.testing.assert_array_equal(nan, np.isnan(b))
    np.testing.assert_array_equal(_bits(np.where(nan, 0, a)), _bits(np.where(nan, 0, b)))


def sqnr(x, y):
    x = np.asarray(x, np.float64)
    return 20 * math.log10(np.linalg.norm(x) / np.linalg.norm(x - np.asarray(y, np.float64)))


def wide_data(shape, seed=0, dtype=np.float32):
    """Normal values times 2**U(-20, 20): every block spans many binades."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * np.exp2(rng.uniform(-20, 20, shape))).astype(dtype)


# --------------------------------------------------------------------------- torchao MX oracle
@pytest.fixture(scope="module")
def tao():
    torch = pytest.importorskip("torch")
    pytest.importorskip("torchao")
    from torchao.prototype.mx_formats.config import ScaleCalculationMode
    from torchao.prototype.mx_formats.mx_tensor import to_dtype, to_mx

    dtypes = {
        "mxfp8_e4m3": torch.float8_e4m3fn,
        "mxfp8_e5m2": torch.float8_e5m2,
        "mxfp6_e2m3": "fp6_e2m3",
        "mxfp6_e3m2": "fp6_e3m2",
        "mxfp4": torch.float4_e2m1fn_x2,
    }

    def run(x, name, rule="floor", block=32):
        dt = dtypes[name]
        scale, data = to_mx(torch.from_numpy(np.ascontiguousarray(x)), dt, block, getattr(ScaleCalculationMode,
                                                                                         rule.upper()))
        deq = to_dtype(data, scale, dt, block, torch.float32).numpy()
        return scale.view(torch.uint8).numpy(), deq

    return run


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("name", MX_FLOAT)
def test_mx_matches_torchao(tao, name, rule):
    x = wide_data((64, 256), seed=1)
    x[0, :32] = 0.0  # an all-zero block: scale byte 0
    ref_scale, ref = tao(x, name, rule)
    q = mx(name, scale_rule=rule).quantize(x)
    assert q.scale.shape == (64, 8) and q.scale.dtype == np.float32
    assert q.codes.shape == x.shape and q.codes.dtype == np.uint8
    np.testing.assert_array_equal(q.scale_codes, ref_scale)
    assert q.scale_codes[0, 0] == 0
    assert_same(q.dequantize(), ref)


@pytest.mark.parametrize("name", ["mxfp8_e4m3", "mxfp4"])
def test_other_block_size_matches_torchao(tao, name):
    x = wide_data((8, 64), seed=2)
    ref_scale, ref = tao(x, name, "floor", block=16)
    q = mx(name, block_size=16).quantize(x)
    np.testing.assert_array_equal(q.scale_codes, ref_scale)
    assert_same(q.dequantize(), ref)


def test_fp4_tie_vector(tao):
    x = np.zeros(32, np.float32)
    x[:8] = [4, 2.5, 0.25, 0.75, 1.25, -2.5, 5, 3.5]
    expected = [4, 2, 0, 1, 1, -2, 4, 4]  # RNE (torchao, gfloat); microxcaling "nearest" differs
    y = mx("mxfp4")(x)
    assert y[:8].tolist() == expected and y.dtype == np.float32
    assert_same(y, tao(x.reshape(1, 32), "mxfp4")[1].reshape(32))
    # ties away from zero: microxcaling's default round="nearest"
    assert mx("mxfp4", rounding="nearest_away")(x)[:8].tolist() == [4, 3, 0.5, 1, 1.5, -3, 6, 4]


def test_partial_last_block_matches_zero_padded_torchao(tao):
    # the remainder rule gives the partial block its own scale; zero padding to a full
    # block (what microxcaling does) leaves that scale unchanged
    x = wide_data((3, 40), seed=3)
    padded = np.zeros((3, 64), np.float32)
    padded[:, :40] = x
    ref_scale, ref = tao(padded, "mxfp8_e4m3")
    q = mx("mxfp8_e4m3").quantize(x)
    assert q.scale.shape == (3, 2) and q.codes.shape == (3, 40)
    np.testing.assert_array_equal(q.scale_codes, ref_scale)
    assert_same(q.dequantize(), ref[:, :40])


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("name", MX_FLOAT)
def test_torchao_0_18_inf_semantics(tao, name, rule):
    x = wide_data((4, 64), seed=4, dtype=np.float32) / 1e3
    x[0, 3] = np.inf
    x[1, 40] = -np.inf
    x[2, 5] = np.nan
    x[3, 0], x[3, 1] = np.inf, np.nan
    ref_scale, ref = tao(x, name, rule)
    with np.errstate(over="ignore"):
        q = mx(name, scale_rule=rule, nonfinite="torchao_0_18").quantize(x)
        np.testing.assert_array_equal(q.scale_codes, ref_scale)
        assert_same(q.dequantize(), ref)
    if name == "mxfp8_e4m3" and rule == "floor":
        assert q.scale_codes[0, 0] == 247  # the reference notes' value


def test_documented_differences_from_torchao(tao):
    # 1. scale byte 0 (2**-127) with nonzero elements: torchao 0.18 divides by 2**-126 (its
    #    F32_MIN_NORMAL clamp) but multiplies back by 2**-127, halving the block; floatsim
    #    (and gfloat) use 2**-127 both ways
    x = np.zeros((1, 32), np.float32)
    x[0, :2] = [2.0 ** -120, 3 * 2.0 ** -125]
    ref_scale, ref = tao(x, "mxfp8_e4m3")
    q = mx("mxfp8_e4m3").quantize(x)
    assert q.scale_codes.tolist() == ref_scale.tolist() == [[0]]
    assert q.dequantize()[0, :2].tolist() == x[0, :2].tolist()
    assert ref[0, :2].tolist() == (x[0, :2] / 2).tolist()
    # 2. rceil: torchao's CPU fallback takes ceil(log2(amax / 448)) in float32, where log2 of
    #    1024 * (1 + 2**-23) rounds to 10; floatsim rounds up exactly (cuBLAS's definition)
    x = np.zeros((1, 32), np.float32)
    x[0, 0] = np.nextafter(np.float32(448 * 1024), np.float32(np.inf))
    ref_scale, ref = tao(x, "mxfp8_e4m3", "rceil")
    q = mx("mxfp8_e4m3", scale_rule="rceil").quantize(x)
    assert ref_scale.tolist() == [[127 + 10]] and q.scale_codes.tolist() == [[127 + 11]]


# --------------------------------------------------------------------------- hand-computed
@pytest.mark.parametrize("rule, scale, first", [("floor", 1.0, 6.0), ("ceil", 2.0, 8.0), ("even", 2.0, 8.0),
                                                ("rceil", 2.0, 8.0)])
def test_scale_rules_mxfp4_example(rule, scale, first):
    x = np.array([7.0] + [0.3] * 31, np.float32)
    q = mx("mxfp4", scale_rule=rule).quantize(x)
    assert q.scale.tolist() == [scale]
    y = q.dequantize()
    assert y[0] == first
    assert y[1] == (0.5 if scale == 1.0 else 0.0)


def test_scale_rules_hand_cases():
    # E4M3, emax 8: amax 448 -> floor 2**0; amax 449 -> floor 2**0, ceil 2**1;
    # even rounds 1.75 * 2**8 ... to 3 mantissa bits: 480 = 1.875 * 2**8 -> 2**0, 496 -> 2**9 -> 2**1
    def scale(amax, rule):
        return mx("mxfp8_e4m3", scale_rule=rule).quantize(np.array([amax, 1.0])).scale.tolist()[0]

    assert scale(448.0, "floor") == 1.0 and scale(449.0, "floor") == 1.0
    assert scale(256.0, "ceil") == 1.0 and scale(257.0, "ceil") == 2.0
    assert scale(480.0, "even") == 1.0 and scale(495.9, "even") == 1.0 and scale(496.0, "even") == 2.0
    # rceil: 2**ceil(log2(amax / 448)): 448 -> 1, 448.5 -> 2, 224 -> 0.5
    assert scale(448.0, "rceil") == 1.0 and scale(448.5, "rceil") == 2.0 and scale(224.0, "rceil") == 0.5


def test_saturation_under_floor():
    # pytorch/ao #436: FLOOR can leave the block maximum above the element max
    q = mx("mxfp8_e4m3").quantize(np.array([511.0, -500.0, 1.0], np.float32))
    assert q.scale.tolist() == [1.0]
    assert q.dequantize().tolist() == [448.0, -448.0, 1.0]


def test_scale_clamps_and_zero_blocks():
    x = np.zeros((3, 32), np.float32)
    x[1, 0] = 2.0 ** -130  # fp32 subnormal amax
    x[2, 0] = 2.0 ** -100
    q = mx("mxfp8_e4m3").quantize(x)
    np.testing.assert_array_equal(q.scale_codes[:, 0], [0, 0, 127 - 108])
    y = q.dequantize()
    assert not y[0].any() and y[2, 0] == 2.0 ** -100
    assert y[1, 0] == 2.0 ** -130  # 2**-130 / 2**-127 = 1/8 is an E4M3 value


def test_bits_per_value():
    x = np.ones((4, 128), np.float32)
    for name, bits in [("mxfp8_e4m3", 8.25), ("mxfp8_e5m2", 8.25), ("mxfp6_e2m3", 6.25), ("mxfp6_e3m2", 6.25),
                       ("mxfp4", 4.25), ("mxint8", 8.25)]:
        assert mx(name).quantize(x).bits_per_value == bits, name
    q = NVFP4Quantizer().quantize(x)
    assert q.bits_per_value == 4.5 + 32 / x.size
    assert q.extra["extra_bits"] == 32
    assert NVFP4Quantizer(per_tensor_scale=False).quantize(x).bits_per_value == 4.5


def test_emax_from_descriptor():
    emax = {name: fmt.emax for name, fmt in MX_FORMATS.items() if isinstance(fmt, FloatFormat)}
    assert emax == {"mxfp8_e4m3": 8, "mxfp8_e5m2": 15, "mxfp6_e2m3": 2, "mxfp6_e3m2": 4, "mxfp4": 2}
    # amax 1 -> scale 2**-emax for each format
    for name, e in emax.items():
        assert mx(name).quantize(np.ones(32)).scale.tolist() == [2.0 ** -e]
    assert mx("mxint8").quantize(np.ones(32)).scale.tolist() == [1.0]


def test_mxint8_symmetric_and_gfloat_style():
    x = np.zeros(32)
    x[:4] = [1.0, -1.999, 1.999, 0.5 + 1 / 128]
    q = mx("mxint8").quantize(x)
    assert q.dequantize()[:4].tolist() == [1.0, -1.984375, 1.984375, 0.5]  # 0.5 + 1/128: tie to even -> 32/64
    assert q.codes.dtype == np.uint8 and q.codes[1] == 0x81  # -127 in two's complement
    q2 = mx("mxint8", mxint8_min=-128).quantize(x)
    assert q2.dequantize()[1] == -2.0 and q2.codes[1] == 0x80


def test_nonfinite_nan_block():
    x = wide_data((3, 64), seed=5)
    x[0, 7] = np.nan
    x[1, 33] = np.inf
    x[2, 0] = -np.inf
    for name in MX_FLOAT + ["mxint8"]:
        q = mx(name).quantize(x)
        np.testing.assert_array_equal(np.isnan(q.scale), [[True, False], [False, True], [True, False]])
        assert (q.scale_codes[np.isnan(q.scale)] == 0xFF).all()
        y = q.dequantize()
        assert np.isnan(y[0, :32]).all() and np.isnan(y[1, 32:]).all() and np.isnan(y[2, :32]).all()
        assert not np.isnan(y[0, 32:]).any() and not np.isnan(y[1, :32]).any()
        assert (q.codes[0, :32] == 0).all()
        # the finite blocks are untouched by their neighbours
        assert_same(y[0, 32:], mx(name)(x[0, 32:]))


def test_axis_zero_and_3d():
    x = wide_data((64, 5), seed=6)
    q = mx("mxfp6_e3m2", axis=0).quantize(x)
    assert q.scale.shape == (2, 5) and q.codes.shape == (64, 5)
    ref = mx("mxfp6_e3m2").quantize(np.ascontiguousarray(x.T))
    np.testing.assert_array_equal(q.codes, ref.codes.T)
    assert_same(q.scale, ref.scale.T)
    assert_same(q.dequantize(), ref.dequantize().T)
    x3 = wide_data((2, 3, 70), seed=7)
    q3 = mx("mxfp4", axis=2).quantize(x3)
    assert q3.scale.shape == (2, 3, 3)
    assert_same(q3.dequantize(), mx("mxfp4")(x3.reshape(6, 70)).reshape(2, 3, 70))


def test_input_dtypes():
    x32 = wide_data((4, 64), seed=8) / 2.0 ** 12
    x16 = x32.astype(np.float16)
    y16 = mx("mxfp8_e5m2")(x16)
    assert y16.dtype == np.float16
    assert_same(y16, mx("mxfp8_e5m2")(x16.astype(np.float32)).astype(np.float16))
    y64 = mx("mxfp8_e4m3")(x32.astype(np.float64))
    assert y64.dtype == np.float64
    assert_same(y64, mx("mxfp8_e4m3")(x32).astype(np.float64))
    q = mx("mxfp8_e4m3").quantize(x32)
    assert q.dequantize(np.float64).dtype == np.float64
    assert_same(q.dequantize(np.float64), q.dequantize().astype(np.float64))
    # lists become float64
    assert mx("mxfp4")([1.0, 2.0, 3.0]).tolist() == [1.0, 2.0, 3.0]
    # float64 inputs beyond E8M0's range: the scale overflows to NaN
    big = np.full(32, 2.0 ** 200)
    assert np.isnan(mx("mxfp8_e4m3").quantize(big).scale).all()


def test_generic_scale_format_and_int4_elements():
    e5m0 = FloatFormat(exponent_bits=5, mantissa_bits=0, bias=15, signed=False, subnormals=False, has_zero=False,
                       specials="fn")
    q = BlockFloatQuantizer(element="float8_e4m3fn", scale_format=e5m0).quantize(np.array([2.0 ** -20, 2.0 ** -30]))
    assert q.scale.tolist() == [2.0 ** -15]  # clamped at the scale format's smallest value
    assert q.dequantize().tolist() == [2.0 ** -20, 0.0]  # 2**-15 * 2**-9 is the smallest element step
    assert np.isnan(BlockFloatQuantizer(scale_format=e5m0).quantize(np.array([2.0 ** 30])).scale).all()
    # int4 elements: implicit 2**-2, codes -7..7 stand for -1.75..1.75
    q4 = BlockFloatQuantizer(element=IntFormat(bits=4), block_size=4).quantize(np.array([1.0, -1.9, 0.3, 0.0]))
    assert q4.dequantize().tolist() == [1.0, -1.75, 0.25, 0.0]
    assert q4.quantizer.element_bits == 4 and q4.codes.tolist() == [4, 9, 1, 0]


def test_stochastic_rounding_seeded():
    x = np.full((200, 32), 0.3, np.float32)
    x[:, 0] = 4.0  # scale 1: 0.3 lies between the E2M1 values 0 and 0.5
    q = mx("mxfp4", rounding="stochastic", seed=11)
    y = q(x)
    assert set(np.unique(y[:, 1:]).tolist()) == {0.0, 0.5}
    assert abs(y[:, 1:].mean() - 0.3) < 0.01
    assert_same(y, mx("mxfp4", rounding="stochastic", seed=11)(x))
    assert not np.array_equal(y, mx("mxfp4", rounding="stochastic", seed=12)(x))
    assert (y[:, 0] == 4.0).all()


def test_fake_quantize():
    x = wide_data((2, 32), seed=9)
    assert_same(mx("mxfp8_e4m3")(x), mx("mxfp8_e4m3").quantize(x).dequantize())


# --------------------------------------------------------------------------- gfloat oracle
@pytest.mark.parametrize("name", MX_FLOAT + ["mxint8"])
def test_mx_matches_gfloat(name):
    gfloat = pytest.importorskip("gfloat")
    from gfloat import formats as gf

    fi = {
        "mxfp8_e4m3": gf.format_info_mxfp8_e4m3,
        "mxfp8_e5m2": gf.format_info_mxfp8_e5m2,
        "mxfp6_e2m3": gf.format_info_mxfp6_e2m3,
        "mxfp6_e3m2": gf.format_info_mxfp6_e3m2,
        "mxfp4": gf.format_info_mxfp4_e2m1,
        "mxint8": gf.format_info_mxint8,
    }[name]
    x = wide_data((24, 32), seed=10, dtype=np.float64)  # float64 input: the float64 path
    x[0] = 0.0
    ref = np.stack([gfloat.quantize_block(fi, row, gfloat.compute_scale_amax) for row in x])
    kw = {"mxint8_min": -128} if name == "mxint8" else {}
    y = mx(name, **kw)(x)
    assert_same(y, ref)


# --------------------------------------------------------------------------- NVFP4
@pytest.fixture(scope="module")
def tao_nvfp4():
    torch = pytest.importorskip("torch")
    pytest.importorskip("torchao")
    from torchao.prototype.mx_formats.kernels import f4_unpacked_to_f32, unpack_uint4
    from torchao.prototype.mx_formats.nvfp4_tensor import nvfp4_quantize, per_tensor_amax_to_scale

    def run(x, two_level=True):
        xt = torch.from_numpy(np.ascontiguousarray(x))
        pts = per_tensor_amax_to_scale(xt.abs().max()) if two_level else None
        scales, packed = nvfp4_quantize(xt, 16, pts)
        codes = unpack_uint4(packed)
        elems = f4_unpacked_to_f32(codes).reshape(-1, 16)
        hp = scales.to(torch.float32).reshape(-1, 1)
        if two_level:
            hp = pts * hp  # NVFP4Tensor.get_hp_scales order
        deq = (elems * hp).reshape(x.shape).numpy()
        return (scales.view(torch.uint8).numpy(), codes.numpy().reshape(x.shape), deq,
                None if pts is None else np.float32(pts.item()))

    return run


@pytest.mark.parametrize("two_level", [True, False])
def test_nvfp4_matches_torchao(tao_nvfp4, two_level):
    x = wide_data((64, 256), seed=12) * 2.0 ** -10
    x[3, :16] = 0.0
    ref_scale, ref_codes, ref, pts = tao_nvfp4(x, two_level)
    q = NVFP4Quantizer(per_tensor_scale=two_level).quantize(x)
    assert q.scale.shape == (64, 16) and q.scale_format.name == "float8_e4m3fn"
    np.testing.assert_array_equal(q.scale_codes, ref_scale)
    np.testing.assert_array_equal(q.codes, ref_codes)
    assert_same(q.dequantize(), ref)
    if two_level:
        assert _bits(q.extra["tensor_scale"]) == _bits(pts)
    else:
        assert q.extra["tensor_scale"] == 1.0 and q.extra["extra_bits"] == 0


def test_nvfp4_randn_matches_torchao(tao_nvfp4):
    x = np.random.default_rng(13).standard_normal((32, 512)).astype(np.float32)
    ref_scale, ref_codes, ref, _ = tao_nvfp4(x)
    q = NVFP4Quantizer().quantize(x)
    np.testing.assert_array_equal(q.scale_codes, ref_scale)
    assert_same(q.dequantize(), ref)


def test_nvfp4_hand_and_special_cases():
    x = np.linspace(-3, 3, 16, dtype=np.float32)
    q = NVFP4Quantizer().quantize(x)
    assert q.scale.tolist() == [448.0]  # the block holding the tensor max uses all of E4M3
    assert q.extra["tensor_scale"] == np.float32(3.0) / np.float32(2688.0)
    # single level: d = e4m3(3 / 6) = 0.5, elements x / 0.5 in E2M1
    q1 = NVFP4Quantizer(per_tensor_scale=False).quantize(x)
    assert q1.scale.tolist() == [0.5] and q1.dequantize()[0] == -3.0
    # all-zero tensor: tensor scale 1, block scale 2**-6, zeros
    qz = NVFP4Quantizer().quantize(np.zeros((2, 16)))
    assert qz.extra["tensor_scale"] == 1.0 and qz.scale.tolist() == [[2.0 ** -6], [2.0 ** -6]]
    assert not qz.dequantize().any() and qz.dequantize().dtype == np.float64
    # NaN / inf blocks
    xn = np.ones((3, 16), np.float32)
    xn[0, 1], xn[2, 2] = np.nan, -np.inf
    qn = NVFP4Quantizer().quantize(xn)
    assert qn.extra["tensor_scale"] == np.float32(1.0) / np.float32(2688.0)
    np.testing.assert_array_equal(qn.scale_codes.ravel(), [0x7F, 0x7E, 0x7F])
    y = qn.dequantize()
    assert np.isnan(y[[0, 2]]).all() and (y[1] == 1.0).all()
    # a calibrated tensor amax and partial blocks along axis 0
    qc = NVFP4Quantizer(tensor_amax=6.0 * 448.0, axis=0).quantize(np.full((20, 2), 6.0))
    assert qc.extra["tensor_scale"] == 1.0 and qc.scale.shape == (2, 2) and (qc.scale == 1.0).all()
    assert (qc.dequantize() == 6.0).all()
    # 1 / 6 rounds to the E4M3 value 0.171875, 1 / 0.171875 to E2M1 6: 6 * 0.171875
    assert (NVFP4Quantizer(tensor_amax=6.0 * 448.0)(np.ones(16)) == 1.03125).all()


# --------------------------------------------------------------------------- SQNR anchors
def test_sqnr_anchors():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    x = torch.randn(1024, 4096).numpy()
    anchors = {"mxfp8_e4m3": 30.65, "mxfp8_e5m2": 25.37, "mxfp6_e2m3": 30.94, "mxfp6_e3m2": 25.37, "mxfp4": 18.78}
    for name, db in anchors.items():
        assert abs(sqnr(x, mx(name)(x)) - db) < 0.01, name
    assert abs(sqnr(x, NVFP4Quantizer()(x)) - 20.44) < 0.01


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, exc, match", [
    ({"element": "uint8"}, ValueError, "unsigned"),
    ({"element": "float8_e8m0fnu"}, ValueError, "signed float format"),
    ({"element": "nope"}, ValueError, "element"),
    ({"element": 3.5}, TypeError, "element"),
    ({"block_size": 0}, ValueError, "block_size"),
    ({"block_size": 1.5}, TypeError, "block_size"),
    ({"block_size": True}, TypeError, "block_size"),
    ({"axis": "x"}, TypeError, "axis"),
    ({"scale_format": "float8_e4m3fn"}, ValueError, "scale_format"),
    ({"scale_rule": "round"}, ValueError, "scale_rule"),
    ({"rounding": "nearest_up"}, ValueError, "rounding"),
    ({"seed": 3}, ValueError, "seed"),
    ({"rounding": "stochastic", "seed": -1}, ValueError, "seed"),
    ({"rounding": "stochastic_a"}, ValueError, "sr_bits"),
    ({"sr_bits": 4}, ValueError, "sr_bits"),
    ({"nonfinite": "ignore"}, ValueError, "nonfinite"),
    ({"int_min": -128}, ValueError, "int_min"),
    ({"element": "int8", "int_min": -100}, ValueError, "int_min"),
])
def test_block_float_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        BlockFloatQuantizer(**kwargs)


def test_mx_and_runtime_errors():
    with pytest.raises(ValueError, match="name must be one of"):
        mx("mxfp5")
    with pytest.raises(ValueError, match="mxint8_min"):
        mx("mxint8", mxint8_min=-126)
    with pytest.raises(ValueError, match="mxint8_min"):
        mx("mxfp4", mxint8_min=-128)
    with pytest.raises(TypeError, match="element"):
        mx("mxfp4", element="int8")
    with pytest.raises(ValueError, match="axis"):
        mx("mxfp4", axis=2).quantize(np.ones((2, 32)))
    with pytest.raises(ValueError, match="0-d"):
        mx("mxfp4").quantize(np.float32(1.0))
    with pytest.raises(TypeError, match="x must be"):
        mx("mxfp4").quantize(np.ones(4, np.complex64))
    q = mx("mxfp4").quantize(np.ones(32))
    with pytest.raises(ValueError, match="made by"):
        mx("mxfp8_e4m3").dequantize(q)
    with pytest.raises(TypeError, match="QuantizedTensor"):
        mx("mxfp4").dequantize(np.ones(32))
    with pytest.raises(TypeError, match="dtype"):
        q.dequantize(np.int32)
    for kwargs, exc, match in [
        ({"per_tensor_scale": 1}, TypeError, "per_tensor_scale"),
        ({"tensor_amax": -1.0}, ValueError, "tensor_amax"),
        ({"tensor_amax": "1"}, TypeError, "tensor_amax"),
        ({"tensor_amax": 1.0, "per_tensor_scale": False}, ValueError, "tensor_amax"),
        ({"block_size": 0}, ValueError, "block_size"),
        ({"seed": 1}, ValueError, "seed"),
    ]:
        with pytest.raises(exc, match=match):
            NVFP4Quantizer(**kwargs)
