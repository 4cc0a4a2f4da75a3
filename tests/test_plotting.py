"""floatsim.plotting: every function renders a PNG; the module imports without matplotlib."""

import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from floatsim import plotting  # noqa: E402


def _png(fig, tmp_path, name="x.png"):
    assert isinstance(fig, Figure)
    path = tmp_path / name
    fig.savefig(path)
    assert path.stat().st_size > 1000
    return path


def test_import_does_not_import_matplotlib():
    code = "import sys, floatsim, floatsim.plotting; assert 'matplotlib' not in sys.modules, 'imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("scale", ["linear", "symlog"])
@pytest.mark.parametrize("fmt", ["float8_e4m3fn", "float4_e2m1fn", "int4", "float8_e8m0fnu", "bfloat16"])
def test_number_line(tmp_path, fmt, scale):
    _png(plotting.number_line(fmt, scale=scale), tmp_path)


def test_number_line_bad_scale():
    with pytest.raises(ValueError, match="scale"):
        plotting.number_line("float8_e4m3fn", scale="log")


def test_number_line_too_wide():
    with pytest.raises(ValueError, match="16 bits"):
        plotting.number_line("float32")


def test_spacing(tmp_path):
    fig = plotting.spacing(["float8_e4m3fn", "float8_e5m2", "bfloat16", "float16", "float32", "int8"])
    _png(fig, tmp_path)
    assert len(fig.axes[0].get_lines()) == 6


def test_spacing_values():
    mag, ulp = plotting._spacing_of(plotting.get_format("float8_e4m3fn"))
    assert mag[0] == 2.0**-9 and ulp[0] == 2.0**-9
    assert mag[-1] == 416.0 and ulp[-1] == 32.0
    # sampled path (> 16 bits): float32 spacing is 2**-23 relative in [1, 2)
    mag, ulp = plotting._spacing_of(plotting.get_format("float32"))
    sel = (mag >= 1) & (mag < 2)
    assert sel.any() and np.all(ulp[sel] == 2.0**-23)
    assert np.all(ulp > 0)


def test_binade_histogram(tmp_path):
    for fmt in ["float8_e4m3fn", "float6_e2m3fn", "int8", "float8_e8m0fnu"]:
        _png(plotting.binade_histogram(fmt), tmp_path, f"{fmt}.png")


def test_binade_histogram_counts():
    fig = plotting.binade_histogram("float8_e4m3fn")
    heights = [p.get_height() for p in fig.axes[0].patches]
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels[0] == "sub" and heights[0] == 14  # 7 positive + 7 negative subnormals
    assert heights[1] == 16  # a full binade: 8 mantissas x 2 signs
    assert sum(heights) == 254 - 2  # 256 codes minus 2 NaNs minus +-0


def test_cast_error(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(5000)
    _png(plotting.cast_error(x, ["float8_e4m3fn", "float8_e5m2", "bfloat16", "int8"]), tmp_path)


def test_cast_error_rejects_empty():
    with pytest.raises(ValueError):
        plotting.cast_error([0.0, np.nan], ["float8_e4m3fn"])


def test_rounding_modes(tmp_path):
    fig = plotting.rounding_modes("float4_e2m1fn", -3, 3, n=500)
    _png(fig, tmp_path)
    assert len(fig.axes[0].get_lines()) == 7  # identity + 6 modes


def test_rounding_modes_rejects_stochastic_and_bad_range():
    with pytest.raises(ValueError, match="stochastic"):
        plotting.rounding_modes("float4_e2m1fn", 0, 1, modes=["stochastic"])
    with pytest.raises(ValueError):
        plotting.rounding_modes("float4_e2m1fn", 1, 0)
    with pytest.raises(ValueError):
        plotting.rounding_modes("float4_e2m1fn", 0, 1, n=1)


def test_draws_on_given_axes(tmp_path):
    fig = Figure()
    axes = fig.subplots(1, 2)
    assert plotting.number_line("float4_e2m1fn", ax=axes[0]) is fig
    assert plotting.spacing("float8_e4m3fn", ax=axes[1]) is fig
    _png(fig, tmp_path)
