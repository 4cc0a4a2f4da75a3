"""Observers against torch.ao.quantization (torch 2.13): min/max and qparams bit for bit."""

import warnings

import numpy as np
import pytest

from floatsim import IntFormat
from floatsim.quant.observers import (
    HistogramObserver,
    MinMaxObserver,
    MovingAverageMinMaxObserver,
    MovingAveragePerChannelMinMaxObserver,
    PerChannelMinMaxObserver,
    observer_qrange,
)


def _batches(seed, shape=(4, 5, 6)):
    r = np.random.default_rng(seed)
    return [(r.standard_normal(shape) * s + o).astype(np.float32) for s, o in ((1.0, 0.0), (3.0, 0.7), (0.2, -0.4))]


def _bits(a):
    return np.asarray(a, np.float32).view(np.uint32)


def _same_qparams(torch_qp, ours_qp):
    s, z = torch_qp
    s2, z2 = ours_qp
    np.testing.assert_array_equal(_bits(s.numpy()).reshape(-1), _bits(s2).reshape(-1))
    np.testing.assert_array_equal(z.numpy().astype(np.int64).reshape(-1), np.asarray(z2, np.int64).reshape(-1))
    assert s2.dtype == np.float32 and z2.dtype == np.int32


DTYPES = ["qint8", "quint8"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("qscheme", ["per_tensor_affine", "per_tensor_symmetric"])
@pytest.mark.parametrize("kind", ["minmax", "moving"])
def test_per_tensor_against_torch(dtype, qscheme, kind):
    torch = pytest.importorskip("torch")
    from torch.ao.quantization import observer as tob

    kw = dict(dtype=getattr(torch, dtype), qscheme=getattr(torch, qscheme))
    if kind == "minmax":
        ref, ours = tob.MinMaxObserver(**kw), MinMaxObserver(dtype=dtype, qscheme=qscheme)
    else:
        ref = tob.MovingAverageMinMaxObserver(averaging_constant=0.3, **kw)
        ours = MovingAverageMinMaxObserver(averaging_constant=0.3, dtype=dtype, qscheme=qscheme)
    for b in _batches(1):
        assert ours(b) is b
        ref(torch.from_numpy(b))
        np.testing.assert_array_equal(_bits(ref.min_val.numpy()), _bits(ours.min_val))
        np.testing.assert_array_equal(_bits(ref.max_val.numpy()), _bits(ours.max_val))
        _same_qparams(ref.calculate_qparams(), ours.calculate_qparams())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("qscheme", ["per_channel_affine", "per_channel_symmetric"])
@pytest.mark.parametrize("kind", ["minmax", "moving"])
@pytest.mark.parametrize("ch_axis", [0, 1, -1])
def test_per_channel_against_torch(dtype, qscheme, kind, ch_axis):
    torch = pytest.importorskip("torch")
    from torch.ao.quantization import observer as tob

    kw = dict(dtype=getattr(torch, dtype), qscheme=getattr(torch, qscheme), ch_axis=ch_axis)
    if kind == "minmax":
        ref, ours = tob.PerChannelMinMaxObserver(**kw), PerChannelMinMaxObserver(dtype=dtype, qscheme=qscheme,
                                                                                 ch_axis=ch_axis)
    else:
        ref = tob.MovingAveragePerChannelMinMaxObserver(averaging_constant=0.1, **kw)
        ours = MovingAveragePerChannelMinMaxObserver(averaging_constant=0.1, dtype=dtype, qscheme=qscheme,
                                                     ch_axis=ch_axis)
    for b in _batches(2):
        ours(b)
        ref(torch.from_numpy(b))
        np.testing.assert_array_equal(_bits(ref.min_val.numpy()), _bits(ours.min_val))
        np.testing.assert_array_equal(_bits(ref.max_val.numpy()), _bits(ours.max_val))
        _same_qparams(ref.calculate_qparams(), ours.calculate_qparams())


_RANGES = [(dt, kw) for dt in DTYPES for kw in (dict(reduce_range=True), dict(quant_min=0, quant_max=15))] + [
    ("qint8", dict(quant_min=-8, quant_max=7)), ("qint8", dict(quant_min=-8, quant_max=7, reduce_range=True))]


@pytest.mark.parametrize("dtype,kw", _RANGES, ids=str)
@pytest.mark.parametrize("qscheme", ["per_tensor_affine", "per_tensor_symmetric"])
def test_ranges_against_torch(kw, dtype, qscheme):
    torch = pytest.importorskip("torch")
    from torch.ao.quantization import observer as tob

    if qscheme.endswith("symmetric") and dtype == "quint8" and kw.get("reduce_range"):
        with pytest.raises(ValueError, match="reduce_range"):
            MinMaxObserver(dtype=dtype, qscheme=qscheme, **kw)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = tob.MinMaxObserver(dtype=getattr(torch, dtype), qscheme=getattr(torch, qscheme), **kw)
    ours = MinMaxObserver(dtype=dtype, qscheme=qscheme, **kw)
    assert (ours.quant_min, ours.quant_max) == (ref.quant_min, ref.quant_max)
    for b in _batches(3):
        ref(torch.from_numpy(b))
        ours(b)
    _same_qparams(ref.calculate_qparams(), ours.calculate_qparams())


def _hist_cases(seed):
    r = np.random.default_rng(seed)
    f = np.float32
    return {
        "normal": [r.standard_normal(4000).astype(f)],
        "shifting": [(r.standard_normal(3000) * s + o).astype(f) for s, o in ((1, 0), (2, 0.5), (0.5, -1))],
        "laplace": [r.laplace(size=5000).astype(f), (r.laplace(size=5000) * 3).astype(f)],
        "relu": [np.maximum(r.standard_normal(5000), 0).astype(f)],
        "constant_then_uniform": [np.full(10, 0.5, f), r.uniform(-2, 3, 2000).astype(f)],
    }


@pytest.mark.parametrize("case", list(_hist_cases(0)))
@pytest.mark.parametrize("dtype,qscheme", [("quint8", "per_tensor_affine"), ("qint8", "per_tensor_symmetric"),
                                           ("qint8", "per_tensor_affine")])
def test_histogram_against_torch(case, dtype, qscheme):
    torch = pytest.importorskip("torch")
    from torch.ao.quantization import observer as tob

    ref = tob.HistogramObserver(dtype=getattr(torch, dtype), qscheme=getattr(torch, qscheme))
    ours = HistogramObserver(dtype=dtype, qscheme=qscheme)
    for b in _hist_cases(0)[case]:
        ref(torch.from_numpy(b))
        ours(b)
    np.testing.assert_array_equal(_bits(ref.histogram.numpy()), _bits(ours.histogram))
    np.testing.assert_array_equal(_bits(ref.min_val.numpy()), _bits(ours.min_val))
    np.testing.assert_array_equal(_bits(ref.max_val.numpy()), _bits(ours.max_val))
    _same_qparams(ref.calculate_qparams(), ours.calculate_qparams())


def test_histogram_small_bins_and_inf_against_torch():
    torch = pytest.importorskip("torch")
    from torch.ao.quantization import observer as tob

    x = np.linspace(-1, 1, 1001, dtype=np.float32)
    x[[3, 500]] = [np.inf, -np.inf]
    ref, ours = tob.HistogramObserver(bins=64), HistogramObserver(bins=64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref(torch.from_numpy(x))
    with pytest.warns(RuntimeWarning, match="inf"):
        ours(x)
    _same_qparams(ref.calculate_qparams(), ours.calculate_qparams())


# ------------------------------------------------------------------- hand-checked behaviour (no torch needed)


def test_never_observed_defaults():
    for obs in (MinMaxObserver(), MovingAverageMinMaxObserver(), PerChannelMinMaxObserver(), HistogramObserver()):
        s, z = obs.calculate_qparams()
        assert s.tolist() == 1.0 and z.tolist() == 0
        obs(np.zeros((2, 0), np.float32))      # empty tensors are ignored
        assert obs.calculate_qparams()[0].tolist() == 1.0


def test_moving_average_arithmetic_float32():
    obs = MovingAverageMinMaxObserver(averaging_constant=0.25)
    obs(np.float32([-4.0, 8.0]))
    obs(np.float32([0.0, 0.0]))
    assert (obs.min_val.tolist(), obs.max_val.tolist()) == (-3.0, 6.0)   # -4 + 0.25 * 4, 8 - 0.25 * 8
    obs(np.float64([0.1, 0.1]))
    c = np.float32(0.25)
    assert obs.max_val == np.float32(6.0) + c * (np.float32(0.1) - np.float32(6.0))


def test_symmetric_zero_points_and_formats():
    x = np.float32([-1.0, 2.0])
    assert MinMaxObserver(dtype="quint8", qscheme="per_tensor_symmetric")(x) is x
    o = MinMaxObserver(dtype="quint8", qscheme="per_tensor_symmetric")
    o(x)
    assert o.calculate_qparams()[1].tolist() == 128
    o = MinMaxObserver(dtype="quint8", qscheme="per_tensor_symmetric", quant_min=0, quant_max=255)
    o(x)
    assert o.calculate_qparams()[1].tolist() == 127        # torch: custom range -> (qmin + qmax) // 2
    o = MinMaxObserver(dtype=IntFormat(bits=4, signed=False), qscheme="per_tensor_symmetric")
    o(x)
    s, z = o.calculate_qparams()
    assert z.tolist() == 8 and s.tolist() == np.float32(np.float32(2.0) / np.float32(7.5)).tolist()
    assert observer_qrange(IntFormat(bits=4)) == (-8, 7)
    assert observer_qrange("int16", reduce_range=True) == (-32768, 32767)
    assert HistogramObserver(dtype="int16").dst_nbins == 65536


@pytest.mark.parametrize("make,match", [
    (lambda: MinMaxObserver(dtype="float8"), "dtype"),
    (lambda: MinMaxObserver(qscheme="per_channel_affine"), "qscheme"),
    (lambda: PerChannelMinMaxObserver(qscheme="per_tensor_affine"), "qscheme"),
    (lambda: MinMaxObserver(quant_min=1, quant_max=5), "include 0"),
    (lambda: MinMaxObserver(quant_min=-1), "both"),
    (lambda: MinMaxObserver(dtype="qint8", quant_min=-200, quant_max=100), "256"),
    (lambda: MinMaxObserver(eps=0.0), "eps"),
    (lambda: MovingAverageMinMaxObserver(averaging_constant=0.0), "averaging_constant"),
    (lambda: MovingAveragePerChannelMinMaxObserver(averaging_constant=2), "averaging_constant"),
    (lambda: HistogramObserver(bins=0), "bins"),
    (lambda: HistogramObserver(upsample_rate=1.5), "upsample_rate"),
    (lambda: PerChannelMinMaxObserver(dtype="quint8", qscheme="per_channel_symmetric", reduce_range=True),
     "reduce_range"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_data():
    with pytest.raises(ValueError, match="NaN"):
        MinMaxObserver()(np.float32([1.0, np.nan]))
    with pytest.raises(ValueError, match="inf"):
        MinMaxObserver()(np.float32([1.0, np.inf]))
    with pytest.raises(ValueError, match="NaN"):
        HistogramObserver()(np.float32([np.nan]))
    with pytest.raises(TypeError, match="x must be"):
        MinMaxObserver()(np.int8([1]).astype(bool))
    obs = PerChannelMinMaxObserver(ch_axis=2)
    with pytest.raises(ValueError, match="ch_axis"):
        obs(np.zeros((2, 2), np.float32))
    obs(np.zeros((2, 3), np.float32).reshape(2, 1, 3))
    with pytest.raises(ValueError, match="channels"):
        obs(np.zeros((2, 1, 4), np.float32))
    with pytest.raises(TypeError, match="ch_axis"):
        PerChannelMinMaxObserver(ch_axis=1.0)
