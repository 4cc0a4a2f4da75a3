"""Adam and 8-bit Adam (floatsim.quant.optim).

No oracle is bit-exact for 8-bit Adam (torch fuses multiply-adds; bitsandbytes uses a
lookup-table quantizer): the update is checked against the definition evaluated in
float64 with injected states, the first step against its closed form, convergence
against float32 Adam, and bitsandbytes' CPU Adam8bit within an ulp.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from floatsim.quant.base import QuantizedTensor
from floatsim.quant.codebooks import dynamic8
from floatsim.quant.optim import Adam, Adam8bit


@pytest.mark.parametrize("cls", [Adam, Adam8bit])
def test_first_step_is_lr_times_sign(cls):
    """Step 1 from zero moments: m_hat = g, v_hat = g^2, so p -= lr * g / (|g| + eps)."""
    rng = np.random.default_rng(0)
    p = rng.normal(size=(64, 80)).astype(np.float32)
    g = rng.normal(size=p.shape).astype(np.float32)
    p0 = p.copy()
    opt = cls(lr=0.01)
    opt.step([p], [g])
    np.testing.assert_allclose(p, p0 - 0.01 * np.sign(g), rtol=0, atol=2e-6)
    assert opt.t == 1


def test_injected_states_follow_the_definition():
    """One step from arbitrary quantized states against the definition in float64."""
    rng = np.random.default_rng(1)
    shape = (32, 160)
    lr, (b1, b2), eps, wd = 3e-3, (0.8, 0.95), 1e-6, 0.1
    p = rng.normal(size=shape).astype(np.float32)
    opt = Adam8bit(lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    opt.step([p], [np.zeros(shape, np.float32)])  # creates the states; t = 1
    qm, qv = dynamic8(signed=True), dynamic8(signed=False)
    m_in = qm.quantize(rng.normal(0, 0.1, shape).astype(np.float32))
    v_in = qv.quantize(rng.uniform(0, 0.02, shape).astype(np.float32))
    opt.state[0]["m"], opt.state[0]["v"] = m_in, v_in
    g = rng.normal(0, 0.1, shape).astype(np.float32)
    p_before = p.astype(np.float64)
    opt.step([p], [g])
    t = 2
    m = b1 * m_in.dequantize().astype(np.float64) + (1 - b1) * g
    v = b2 * v_in.dequantize().astype(np.float64) + (1 - b2) * g.astype(np.float64) ** 2
    denom = np.sqrt(v) / math.sqrt(1 - b2**t) + eps
    want = p_before * (1 - lr * wd) - lr / (1 - b1**t) * m / denom
    np.testing.assert_allclose(p, want, rtol=0, atol=1e-6 * np.abs(want).max())
    # the new states are the requantized new moments
    np.testing.assert_allclose(opt.state[0]["m"].dequantize(), m, rtol=0, atol=0.02 * np.abs(m).max())
    np.testing.assert_allclose(opt.state[0]["m"].scale, np.abs(m).reshape(-1, 256).max(axis=1), rtol=1e-6)
    np.testing.assert_allclose(opt.state[0]["v"].scale, v.reshape(-1, 256).max(axis=1), rtol=1e-6)


def test_float32_adam_two_steps_by_hand():
    p = np.array([1.0, -1.0], np.float32)
    opt = Adam(lr=0.5, betas=(0.5, 0.5), eps=0.0)
    opt.step([p], [np.array([1.0, 2.0], np.float32)])
    assert p.tolist() == [0.5, -1.5]  # m_hat = g, v_hat = g^2: p -= lr
    # m = (0.5, 1)/2 + (2, 2)/2 = (1.25, 1.5), v = (0.5, 2)/2 + (4, 4)/2 = (2.25, 3);
    # m_hat = m / 0.75 = (5/3, 2), v_hat = v / 0.75 = (3, 4)
    opt.step([p], [np.array([2.0, 2.0], np.float32)])
    want = [0.5 - 0.5 * (5 / 3) / math.sqrt(3), -1.5 - 0.5 * 2 / 2]
    np.testing.assert_allclose(p, want, rtol=1e-6)
    assert opt.state[0]["m"].dtype == np.float32 and opt.state_nbytes == 16


def test_state_layout_and_memory():
    big = np.zeros((64, 64), np.float32)
    small = np.zeros(100, np.float16)
    opt = Adam8bit()
    opt.step([big, small], [np.ones_like(big), np.ones(100)])
    assert isinstance(opt.state[0]["m"], QuantizedTensor) and isinstance(opt.state[0]["v"], QuantizedTensor)
    assert opt.state[0]["m"].codes.dtype == np.uint8 and opt.state[0]["m"].scale.shape == (16,)
    assert isinstance(opt.state[1]["m"], np.ndarray) and opt.state[1]["m"].dtype == np.float32
    assert opt.state_nbytes == big.size * (2 + 8 / 256) + small.size * 8
    assert small.dtype == np.float16 and np.all(small == np.float16(-0.001))
    assert Adam8bit(min_8bit_size=0, block_size=64).state_nbytes == 0
    assert "block_size=256" in repr(opt) and "lr=0.001" in repr(Adam())


def test_8bit_tracks_float32_adam_on_least_squares():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(256, 64)).astype(np.float32)
    W_true = rng.normal(size=(64, 128)).astype(np.float32)
    Y = X @ W_true + 0.1 * rng.normal(size=(256, 128)).astype(np.float32)

    def loss_and_grad(W):
        r = X @ W - Y
        return float(np.mean(r.astype(np.float64) ** 2)), (2.0 / r.size) * (X.T @ r)

    losses = {}
    for cls in (Adam, Adam8bit):
        W = np.zeros((64, 128), np.float32)
        opt = cls(lr=0.05, weight_decay=1e-4)
        for _ in range(300):
            _, g = loss_and_grad(W)
            opt.step([W], [g])
        losses[cls.__name__] = loss_and_grad(W)[0]
    start = loss_and_grad(np.zeros((64, 128), np.float32))[0]
    assert losses["Adam"] < 1e-3 * start
    assert losses["Adam8bit"] == pytest.approx(losses["Adam"], rel=0.02)


def test_matches_bitsandbytes_adam8bit_within_an_ulp():
    torch = pytest.importorskip("torch")
    bnb = pytest.importorskip("bitsandbytes")
    rng = np.random.default_rng(3)
    p0 = rng.normal(size=(64, 128)).astype(np.float32)
    tp = torch.nn.Parameter(torch.from_numpy(p0.copy()))
    theirs = bnb.optim.Adam8bit([tp], lr=1e-2, weight_decay=0.1)
    ours = Adam8bit(lr=1e-2, weight_decay=0.1, tie="bnb_cpu_lut")
    p = p0.copy()
    for _ in range(5):
        g = (0.1 * rng.normal(size=p0.shape)).astype(np.float32)
        tp.grad = torch.from_numpy(g.copy())
        theirs.step()
        ours.step([p], [g])
        st = theirs.state[tp]
        np.testing.assert_allclose(tp.detach().numpy(), p, rtol=0, atol=4 * np.spacing(np.float32(4)))
        # codes agree except where a fused multiply-add moves a moment across a code boundary
        assert np.mean(st["state1"].numpy() == ours.state[0]["m"].codes) > 0.999
        assert np.mean(st["state2"].numpy() == ours.state[0]["v"].codes) > 0.999
        np.testing.assert_allclose(st["absmax1"].numpy(), ours.state[0]["m"].scale, rtol=1e-6)
        np.testing.assert_allclose(st["absmax2"].numpy(), ours.state[0]["v"].scale, rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"lr": -1.0}, ValueError, "lr"),
        ({"lr": "big"}, TypeError, "lr"),
        ({"betas": (0.9, 1.0)}, ValueError, r"betas\[1\]"),
        ({"betas": 0.9}, TypeError, "betas"),
        ({"eps": float("nan")}, ValueError, "eps"),
        ({"weight_decay": -0.1}, ValueError, "weight_decay"),
        ({"block_size": 0}, ValueError, "block_size"),
        ({"min_8bit_size": -1}, ValueError, "min_8bit_size"),
        ({"min_8bit_size": 1.5}, TypeError, "min_8bit_size"),
        ({"tie": "upper"}, ValueError, "tie"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        Adam8bit(**kwargs)


def test_bad_steps():
    p = np.zeros(4, np.float32)
    opt = Adam()
    with pytest.raises(TypeError, match="lists"):
        opt.step(p, p)
    with pytest.raises(ValueError, match="same length"):
        opt.step([p], [])
    with pytest.raises(TypeError, match=r"params\[0\].*float64"):
        opt.step([np.zeros(4)], [np.zeros(4)])
    with pytest.raises(TypeError, match=r"grads\[0\]"):
        opt.step([p], [np.zeros(4, np.int32)])
    with pytest.raises(ValueError, match="shape"):
        opt.step([p], [np.zeros(3)])
    ro = np.zeros(4, np.float32)
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        opt.step([ro], [np.zeros(4)])
    opt.step([p], [np.ones(4)])
    with pytest.raises(ValueError, match="first step"):
        opt.step([np.zeros(5, np.float32)], [np.ones(5)])
    assert opt.t == 1
