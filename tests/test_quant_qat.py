"""Fake quantization for QAT: forward, STE, LSQ (floatsim.quant.qat) and the torch bridge.

Oracles (torch 2.13, CPU): ``torch.fake_quantize_per_tensor_affine``,
``torch.fake_quantize_per_channel_affine`` (forward and backward, bit for bit) and
``torch._fake_quantize_learnable_per_tensor_affine`` (LSQ: per-element gradients bit
for bit, summed scale / zero-point gradients within a few float32 ulps because
torch sums in float32 in its own order).
"""

import subprocess
import sys

import numpy as np
import pytest

from floatsim.quant.affine import FloatQuantizer, IntQuantizer
from floatsim.quant.base import Quantizer
from floatsim.quant.qat import FakeQuantizer, fake_quantize_affine, fake_quantize_affine_grad, lsq_grads

RNG = np.random.default_rng(7)


def _bits(a):
    a = np.asarray(a)
    return a.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize])


def _data(scale, zp, n=3000, dtype=np.float32):
    """Random values, exact ties x * (1/s) = k + 1/2, and values clipped on both sides."""
    s = np.float32(scale)
    inv = np.float32(1) / s
    rand = RNG.normal(0, 60, n).astype(np.float32) * s
    k = RNG.integers(-140, 140, n // 4)
    ties = ((k + 0.5) / inv).astype(np.float32)
    ties = ties[(ties * inv) == (k + 0.5)]  # keep the exact ties
    edges = np.float32([127.5, 128.5, -128.5, -129.5, 126.5, 0.0, -0.0]) / inv
    big = np.finfo(dtype).max / 1e4  # clipped, and x * (1/s) stays finite
    x = np.concatenate([rand, ties, edges]).astype(dtype)
    x = np.concatenate([x, np.array([big, -big], dtype)])
    assert ties.size > 100
    return x


@pytest.mark.parametrize("scale,zp", [(0.5, 0), (0.1, 3), (0.0372, -20), (2.0**-7, 0)], ids=str)
def test_per_tensor_forward_and_ste_match_torch(scale, zp):
    torch = pytest.importorskip("torch")
    x = _data(scale, zp)
    g = RNG.normal(size=x.shape).astype(np.float32)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    yt = torch.fake_quantize_per_tensor_affine(xt, scale, zp, -128, 127)
    yt.backward(torch.from_numpy(g))
    y = fake_quantize_affine(x, scale, zp, -128, 127)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(_bits(y), _bits(yt.detach().numpy()))
    dx = fake_quantize_affine_grad(x, scale, zp, -128, 127, g)
    np.testing.assert_array_equal(_bits(dx), _bits(xt.grad.numpy()))


def test_ste_mask_uses_the_rounded_value():
    x = np.float32([127.5, 127.49998, 128.0, -128.5, -128.50002, -129.0, 126.5])
    g = np.ones_like(x)
    assert fake_quantize_affine_grad(x, 1.0, 0, -128, 127, g).tolist() == [0, 1, 0, 1, 0, 0, 1]
    # with a zero point the bounds move: round(x) + 10 in [0, 255]
    x = np.float32([-10.5, -11.0, 245.5, 244.5])
    assert fake_quantize_affine_grad(x, 1.0, 10, 0, 255, np.ones(4, np.float32)).tolist() == [1, 0, 0, 1]


def test_float16_input_matches_torch():
    torch = pytest.importorskip("torch")
    x = _data(0.05, 0, n=1000, dtype=np.float16)
    yt = torch.fake_quantize_per_tensor_affine(torch.from_numpy(x), 0.05, 0, -128, 127).numpy()
    y = fake_quantize_affine(x, 0.05, 0, -128, 127)
    assert y.dtype == np.float16
    np.testing.assert_array_equal(_bits(y), _bits(yt))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_per_channel_forward_and_ste_match_torch(axis):
    torch = pytest.importorskip("torch")
    shape = (6, 5, 40)
    c = shape[axis]
    scale = RNG.uniform(0.01, 0.5, c).astype(np.float32)
    zp = RNG.integers(0, 256, c).astype(np.int32)
    pshape = [1, 1, 1]
    pshape[axis] = c
    inv = (np.float32(1) / scale).reshape(pshape)
    x = (RNG.normal(0, 120, shape).astype(np.float32) / inv).astype(np.float32)
    ties = ((np.floor(RNG.normal(0, 150, shape)) + 0.5).astype(np.float32) / inv).astype(np.float32)
    x = np.where(RNG.random(shape) < 0.3, ties, x).astype(np.float32)
    g = RNG.normal(size=shape).astype(np.float32)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    yt = torch.fake_quantize_per_channel_affine(xt, torch.from_numpy(scale), torch.from_numpy(zp), axis % 3, 0, 255)
    yt.backward(torch.from_numpy(g))
    y = fake_quantize_affine(x, scale, zp, 0, 255, axis=axis)
    np.testing.assert_array_equal(_bits(y), _bits(yt.detach().numpy()))
    dx = fake_quantize_affine_grad(x, scale, zp, 0, 255, g, axis=axis)
    np.testing.assert_array_equal(_bits(dx), _bits(xt.grad.numpy()))


def test_fake_quantize_hand_values_and_stochastic():
    # RNE ties: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2; clamp at 127 / -128
    x = np.float32([0.5, 1.5, 2.5, -0.5, -1.5, 200.0, -200.0])
    assert fake_quantize_affine(x, 1.0, 0, -128, 127).tolist() == [0, 2, 2, -0, -2, 127, -128]
    assert fake_quantize_affine(np.float64([0.25]), 0.5, 0, -128, 127).dtype == np.float64
    # stochastic rounding: only the two neighbours, reproducible with a seed
    v = np.full(4000, 0.25, np.float32)
    y = fake_quantize_affine(v, 1.0, 0, -128, 127, rounding="stochastic", seed=3)
    assert set(np.unique(y).tolist()) == {0.0, 1.0} and 0.2 < y.mean() < 0.3
    np.testing.assert_array_equal(y, fake_quantize_affine(v, 1.0, 0, -128, 127, rounding="stochastic", seed=3))


def test_fake_quantize_errors():
    x = np.float32([1.0, 2.0])
    with pytest.raises(ValueError, match="scale must be positive"):
        fake_quantize_affine(x, 0.0, 0, -128, 127)
    with pytest.raises(ValueError, match="zero_point must be between"):
        fake_quantize_affine(x, 1.0, 200, -128, 127)
    with pytest.raises(ValueError, match="integer values"):
        fake_quantize_affine(x, 1.0, 0.5, -128, 127)
    with pytest.raises(ValueError, match="pass axis="):
        fake_quantize_affine(x, [1.0, 2.0], [0, 0], -128, 127)
    with pytest.raises(ValueError, match=r"must have shape \(2,\)"):
        fake_quantize_affine(x, [1.0], [0], -128, 127, axis=0)
    with pytest.raises(ValueError, match="axis 1 is out of range"):
        fake_quantize_affine(x, [1.0, 1.0], [0, 0], -128, 127, axis=1)
    with pytest.raises(TypeError, match="qmin must be an integer"):
        fake_quantize_affine(x, 1.0, 0, -128.0, 127)
    with pytest.raises(ValueError, match="qmin < qmax"):
        fake_quantize_affine(x, 1.0, 0, 5, 5)
    with pytest.raises(ValueError, match="NaN"):
        fake_quantize_affine(np.float32([np.nan]), 1.0, 0, -128, 127)
    with pytest.raises(ValueError, match="grad must have x's shape"):
        fake_quantize_affine_grad(x, 1.0, 0, -128, 127, np.ones(3, np.float32))
    with pytest.raises(TypeError, match="x must be a float16, float32 or float64"):
        fake_quantize_affine(np.array(["a"]), 1.0, 0, -128, 127)


# ---------------------------------------------------------------- LSQ

def _torch_lsq(torch, x, s, zp, qmin, qmax, gf, g):
    xt = torch.from_numpy(np.array(x, np.float32)).requires_grad_(True)
    st = torch.tensor([s], dtype=torch.float32, requires_grad=True)
    zt = torch.tensor([zp], dtype=torch.float32, requires_grad=True)
    y = torch._fake_quantize_learnable_per_tensor_affine(xt, st, zt, qmin, qmax, gf)
    y.backward(torch.from_numpy(np.array(g, np.float32)))
    return y.detach().numpy(), xt.grad.numpy(), st.grad.numpy()[0], zt.grad.numpy()[0]


def test_lsq_per_element_gradients_bit_exact():
    """One element per call, so torch's float32 sum is a single term: every gradient bit for bit."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    for i in range(300):
        s = np.float32(rng.uniform(0.001, 1))
        zp = float(rng.choice([rng.integers(-10, 10), rng.uniform(-10, 10), -8.0, 0.0]))
        x = np.float32(rng.normal(0, 100 * s) if i % 5 else (rng.integers(-140, 140) + 0.5) * s)
        g = np.float32(rng.normal())
        gf = float(rng.choice([1.0, 0.37, 1 / np.sqrt(3000 * 127)]))
        _, dx_t, ds_t, dz_t = _torch_lsq(torch, [x], s, zp, -128, 127, gf, [g])
        dx, ds, dz = lsq_grads(np.float32([x]), s, zp, -128, 127, np.float32([g]), grad_factor=gf)
        assert _bits(dx).tolist() == _bits(dx_t).tolist(), (x, s, zp)
        assert _bits(ds) == _bits(ds_t), (x, s, zp, gf, g, ds, ds_t)
        assert _bits(dz) == _bits(dz_t), (x, s, zp, gf, g, dz, dz_t)


@pytest.mark.parametrize("scale", [0.05, 0.5])
@pytest.mark.parametrize("zp", [3.0, -8.0, 0.0, 2.6])
def test_lsq_ties_with_zero_point_bit_exact(scale, zp):
    """Exact ties x * (1/s) = k + 1/2: torch's backward rounds fma(x, 1/s, zp), so the parity of the
    zero point and the unrounded product decide the direction."""
    torch = pytest.importorskip("torch")
    s = np.float32(scale)
    inv = np.float32(1) / s
    k = np.arange(-135, 135, 3)
    x = ((k + 0.5) / inv).astype(np.float32)
    for xi in x[(x * inv) == (k + 0.5)]:
        _, dx_t, ds_t, dz_t = _torch_lsq(torch, [xi], s, zp, -128, 127, 1.0, [1.0])
        dx, ds, dz = lsq_grads(np.float32([xi]), s, zp, -128, 127, np.ones(1, np.float32))
        assert (_bits(dx).tolist(), _bits(ds), _bits(dz)) == (_bits(dx_t).tolist(), _bits(ds_t), _bits(dz_t)), xi


def test_lsq_summed_gradients_close_to_torch():
    torch = pytest.importorskip("torch")
    x = _data(0.05, 0, n=4000)
    x = x[np.abs(x) < 1e20]
    g = RNG.normal(size=x.shape).astype(np.float32)
    for zp in (0.0, 3.4, -8.0):
        _, dx_t, ds_t, dz_t = _torch_lsq(torch, x, 0.05, zp, -128, 127, 0.01, g)
        dx, ds, dz = lsq_grads(x, 0.05, zp, -128, 127, g, grad_factor=0.01)
        np.testing.assert_array_equal(_bits(dx), _bits(dx_t))
        np.testing.assert_allclose(ds, ds_t, rtol=2e-5, atol=1e-6)
        np.testing.assert_allclose(dz, dz_t, rtol=2e-5, atol=1e-6)


def test_lsq_hand_values_and_zero_point_rules():
    x = np.float32([0.26, 1.0, 5.0, -5.0])
    dx, ds, dz = lsq_grads(x, 0.5, 0.0, -4, 3, np.ones(4, np.float32))
    assert dx.tolist() == [1, 1, 0, 0]
    # in range: (1 * 0.5 - 0.26) / 0.5 = 0.48 and 0; clipped: qmax - zp = 3, qmin - zp = -4
    assert float(ds) == pytest.approx(0.48 + 3 - 4, abs=1e-6)
    assert float(dz) == -1.0
    # torch's backward turns zp = -2 into trunc(-1.5) = -1: the clip terms use zp = -1
    _, ds_t, _ = lsq_grads(np.float32([5.0]), 0.5, -2.0, -4, 3, np.ones(1, np.float32))
    _, ds_n, _ = lsq_grads(np.float32([5.0]), 0.5, -2.0, -4, 3, np.ones(1, np.float32),
                           zero_point_rounding="nearest_even")
    assert (float(ds_t), float(ds_n)) == (4.0, 5.0)
    with pytest.raises(ValueError, match="zero_point_rounding must be one of"):
        lsq_grads(x, 0.5, 0.0, -4, 3, np.ones(4, np.float32), zero_point_rounding="up")
    with pytest.raises(ValueError, match="scale must be one positive"):
        lsq_grads(x, [0.5, 0.5], 0.0, -4, 3, np.ones(4, np.float32))
    with pytest.raises(ValueError, match="zero_point must be one number"):
        lsq_grads(x, 0.5, [0.0, 1.0], -4, 3, np.ones(4, np.float32))
    with pytest.raises(ValueError, match="grad_factor"):
        lsq_grads(x, 0.5, 0.0, -4, 3, np.ones(4, np.float32), grad_factor=np.inf)


# ---------------------------------------------------------------- FakeQuantizer

def test_fake_quantizer_int_mask_matches_torch():
    torch = pytest.importorskip("torch")
    x = RNG.normal(0, 1, (8, 64)).astype(np.float32)
    fq = FakeQuantizer(quantizer=IntQuantizer(bits=8, symmetric=False, signed=False, granularity="channel"))
    y, mask = fq.forward(x, min_val=np.full((8, 1), -1.5, np.float32), max_val=np.full((8, 1), 1.2, np.float32))
    q = fq.quantize(x, min_val=np.full((8, 1), -1.5, np.float32), max_val=np.full((8, 1), 1.2, np.float32))
    xt = torch.from_numpy(x).requires_grad_(True)
    yt = torch.fake_quantize_per_channel_affine(xt, torch.from_numpy(q.scale.reshape(-1)),
                                                torch.from_numpy(q.zero_point.reshape(-1)), 0, 0, 255)
    yt.sum().backward()
    np.testing.assert_array_equal(_bits(y), _bits(yt.detach().numpy()))
    np.testing.assert_array_equal(mask, xt.grad.numpy() == 1)
    assert 0 < (~mask).sum() < mask.size
    np.testing.assert_array_equal(fq.backward(np.full_like(x, 2.0), mask), np.where(mask, 2.0, 0.0))
    assert fq.element_bits == 8
    np.testing.assert_array_equal(fq.grad_mask(x, min_val=np.full((8, 1), -1.5), max_val=np.full((8, 1), 1.2)),
                                  mask)


def test_fake_quantizer_float_format_mask():
    fq = FakeQuantizer(quantizer=FloatQuantizer(format="float4_e2m1fn", granularity="group:4"))
    x = RNG.normal(0, 1, (64, 32)).astype(np.float32)
    y, mask = fq.forward(x)
    np.testing.assert_array_equal(y, fq.quantizer.fake_quantize(x))
    assert mask.all()  # data-derived scales: nothing is clipped, not even the block maxima
    # an explicit smaller amax: elements whose |x| / s reaches 7 = 6 + ulp(6) / 2 are clipped
    amax = np.full((64, 8), 0.6, np.float32)
    y, mask = fq.forward(x, amax=amax)
    s = np.float64(np.float32(np.float32(0.6) / np.float32(6.0)))
    np.testing.assert_array_equal(mask, np.abs(x.astype(np.float64)) < 7 * s)
    assert 0 < (~mask).sum() < mask.size
    # FP8 e4m3: boundary 448 + 16 = 464
    fq8 = FakeQuantizer(quantizer=FloatQuantizer(format="float8_e4m3fn"))
    _, m8 = fq8.forward(np.float32([463.0, 464.0, -500.0, 1.0]), amax=np.float32(448.0))
    assert m8.tolist() == [True, False, False, True]


def test_fake_quantizer_errors():
    class Codebook(Quantizer):
        pass

    with pytest.raises(TypeError, match="no clipping bound"):
        FakeQuantizer(quantizer=Codebook())
    with pytest.raises(TypeError, match="must be a floatsim Quantizer"):
        FakeQuantizer(quantizer="int8")
    with pytest.raises(TypeError, match="already a FakeQuantizer"):
        FakeQuantizer(quantizer=FakeQuantizer(quantizer=IntQuantizer()))
    fq = FakeQuantizer(quantizer=IntQuantizer())
    with pytest.raises(ValueError, match="mask must be a boolean array"):
        fq.backward(np.ones(3, np.float32), np.ones(3))


# ---------------------------------------------------------------- torch bridge

def test_import_floatsim_quant_does_not_import_torch():
    code = ("import sys, floatsim.quant, floatsim.quant.qat, floatsim.quant.intmm; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_torch_message():
    code = ("import sys; sys.modules['torch'] = None\n"
            "import floatsim.quant.torch as ft\n"
            "try:\n    ft.FakeQuantize\nexcept ImportError as e:\n    assert 'pip install torch==2.13.0' in str(e)\n"
            "else:\n    raise SystemExit('no ImportError')\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_fake_quantize_module_ste_dtype_and_device():
    torch = pytest.importorskip("torch")
    from floatsim.quant.torch import FakeQuantize

    m = FakeQuantize(IntQuantizer(bits=8, granularity="channel"))
    x = torch.randn(4, 16, generator=torch.Generator().manual_seed(0)) * 3
    x[0, 0] = 50.0
    x.requires_grad_(True)
    y = m(x, min_val=np.full((4, 1), -4.0), max_val=np.full((4, 1), 4.0))
    g = torch.randn(4, 16, generator=torch.Generator().manual_seed(1))
    y.backward(g)
    ref_y, ref_mask = m.fake_quantizer.forward(x.detach().numpy(), min_val=np.full((4, 1), -4.0),
                                               max_val=np.full((4, 1), 4.0))
    np.testing.assert_array_equal(y.detach().numpy(), ref_y)
    np.testing.assert_array_equal(x.grad.numpy(), np.where(ref_mask, g.numpy(), 0))
    assert x.grad[0, 0] == 0
    for dt in (torch.float16, torch.bfloat16, torch.float64):
        out = FakeQuantize(FloatQuantizer(format="float8_e4m3fn"))(torch.randn(8).to(dt))
        assert out.dtype == dt and out.device.type == "cpu"
    m.enabled = False
    assert m(x) is x
    assert "IntQuantizer" in repr(m)


def test_learnable_module_matches_torch_lsq():
    torch = pytest.importorskip("torch")
    from floatsim.quant.torch import LearnableFakeQuantize

    x = _data(0.05, 0, n=2000)
    x = x[np.abs(x) < 1e20]
    g = RNG.normal(size=x.shape).astype(np.float32)
    for zp in (0.0, 4.6, -8.0):
        m = LearnableFakeQuantize(-128, 127, scale=0.05, zero_point=zp, grad_factor=0.02, learn_zero_point=True)
        xt = torch.from_numpy(x.copy()).requires_grad_(True)
        m(xt).backward(torch.from_numpy(g))
        y_t, dx_t, ds_t, dz_t = _torch_lsq(torch, x, 0.05, zp, -128, 127, 0.02, g)
        np.testing.assert_array_equal(_bits(m(xt).detach().numpy()), _bits(y_t))
        np.testing.assert_array_equal(_bits(xt.grad.numpy()), _bits(dx_t))
        np.testing.assert_allclose(m.scale.grad.numpy()[0], ds_t, rtol=2e-5, atol=1e-6)
        np.testing.assert_allclose(m.zero_point.grad.numpy()[0], dz_t, rtol=2e-5, atol=1e-6)
    with pytest.raises(ValueError, match="scale must be positive"):
        LearnableFakeQuantize(-128, 127, scale=0.0)


def test_tiny_model_trains():
    torch = pytest.importorskip("torch")
    from floatsim.quant.torch import FakeQuantize, LearnableFakeQuantize

    torch.manual_seed(0)
    xs = torch.randn(64, 8)
    target = xs @ torch.randn(8, 1)
    lin = torch.nn.Linear(8, 1)
    model = torch.nn.Sequential(FakeQuantize(IntQuantizer(bits=4)), lin,
                                FakeQuantize(FloatQuantizer(format="float8_e4m3fn")),
                                LearnableFakeQuantize(-128, 127, scale=0.1))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(xs), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert lin.weight.grad is not None and model[3].scale.grad is not None


def test_lsq_per_channel_matches_torch():
    """Per-channel LSQ: torch's per-channel backward rounds the zero point to nearest (no +0.5 truncation)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((4, 300)) * 3).astype(np.float32)
    x[:, :5] = np.float32([0.75, 1.25, -0.75, 40, -40])  # ties and clipped values
    s = np.float32([0.5, 0.25, 0.1, 1.0])
    zp = np.float32([0, 3, -2, 5])
    g = rng.standard_normal((4, 300)).astype(np.float32)
    for axis in (0, 1):
        xa, ga = (x, g) if axis == 0 else (x.T.copy(), g.T.copy())
        xt = torch.tensor(xa, requires_grad=True)
        st = torch.tensor(s, requires_grad=True)
        zt = torch.tensor(zp, requires_grad=True)
        torch._fake_quantize_learnable_per_channel_affine(xt, st, zt, axis, -8, 7, 1.0).backward(torch.tensor(ga))
        dx, ds, dz = lsq_grads(xa, s, zp, -8, 7, ga, axis=axis)
        np.testing.assert_array_equal(dx, xt.grad.numpy())
        np.testing.assert_allclose(ds, st.grad.numpy(), rtol=2e-6)  # sums: torch's float32 order vs float64
        np.testing.assert_allclose(dz, zt.grad.numpy(), rtol=2e-6)
    with pytest.raises(ValueError, match="length x.shape"):
        lsq_grads(x, s[:2], zp[:2], -8, 7, g, axis=0)
