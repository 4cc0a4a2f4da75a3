"""Memory footprint arithmetic (floatsim.memory)."""

import numpy as np
import pytest

import floatsim as fs
from floatsim.memory import format_bits, memory_table, parameter_bytes, training_memory


def test_format_bits():
    assert format_bits("float64") == 64
    assert format_bits(64) == 64
    assert format_bits(np.float64) == 64
    assert format_bits("float32") == 32
    assert format_bits("bf16") == 16
    assert format_bits("float4_e2m1fn") == 4
    assert format_bits("int4") == 4
    assert format_bits(fs.p3109(6, 3)) == 6
    assert format_bits(fs.FloatFormat(exponent_bits=3, mantissa_bits=2, specials="none")) == 6


@pytest.mark.parametrize("bad", [0, -8])
def test_format_bits_rejects_nonpositive_width(bad):
    with pytest.raises(ValueError, match="bit width"):
        format_bits(bad)


def test_format_bits_rejects_unknown():
    with pytest.raises(ValueError, match="unknown format"):
        format_bits("float7_nonsense")
    with pytest.raises(TypeError):
        format_bits(True)
    with pytest.raises(TypeError):
        format_bits(None)


def test_70b_table_exact_gb():
    rows = {r["format"]: r for r in memory_table(70e9)}
    assert list(rows) == ["float64", "float32", "bfloat16", "float8_e4m3fn", "float4_e2m1fn", "int4"]
    assert rows["float64"]["gb"] == 560.0
    assert rows["float32"]["gb"] == 280.0
    assert rows["bfloat16"]["gb"] == 140.0
    assert rows["float8_e4m3fn"]["gb"] == 70.0
    assert rows["float4_e2m1fn"]["gb"] == 35.0
    assert rows["int4"]["gb"] == 35.0
    assert rows["float64"]["bits"] == 64
    assert rows["float64"]["bytes"] == 560e9
    assert rows["float32"]["gib"] == pytest.approx(280e9 / 2**30)
    assert set(rows["int4"]) == {"format", "bits", "bytes", "gb", "gib"}


def test_table_accepts_widths_and_formats():
    rows = memory_table(1000, [64, fs.get_format("float16"), "e4m3fn"])
    assert [r["format"] for r in rows] == ["64-bit", "float16", "e4m3fn"]
    assert [r["bytes"] for r in rows] == [8000.0, 2000.0, 1000.0]


def test_parameter_bytes_integer_n():
    assert parameter_bytes(10, "float32") == 40.0
    assert parameter_bytes(3, "float4_e2m1fn") == 1.5


def test_block_overhead_quarter_bit():
    n = 32 * 1000
    plain = parameter_bytes(n, "float8_e4m3fn")
    blocked = parameter_bytes(n, "float8_e4m3fn", block_size=32, scale_bits=8)
    assert (blocked - plain) * 8 / n == 0.25
    # MXFP4: 4.25 bits per value; the scale may be given as a format
    assert parameter_bytes(n, "float4_e2m1fn", block_size=32, scale_bits="float8_e8m0fnu") * 8 / n == 4.25
    # NVFP4-like: 16-element blocks with an 8-bit scale
    assert parameter_bytes(n, "float4_e2m1fn", block_size=16, scale_bits=8) * 8 / n == 4.5


@pytest.mark.parametrize("kw", [dict(block_size=32), dict(scale_bits=8), dict(block_size=0, scale_bits=8),
                                dict(block_size=-32, scale_bits=8)])
def test_block_validation(kw):
    with pytest.raises(ValueError):
        parameter_bytes(100, "float8_e4m3fn", **kw)


def test_block_size_must_be_int():
    with pytest.raises(TypeError):
        parameter_bytes(100, "float8_e4m3fn", block_size=32.5, scale_bits=8)


@pytest.mark.parametrize("n", [0, -1, float("nan"), float("inf")])
def test_n_must_be_positive(n):
    with pytest.raises(ValueError):
        parameter_bytes(n, "float32")


@pytest.mark.parametrize("n", ["10", None, True])
def test_n_must_be_number(n):
    with pytest.raises(TypeError):
        parameter_bytes(n, "float32")


def test_training_memory_8bit_adam():
    m = training_memory(1e9, weights="float16", gradients="float16", optimizer_states=("int8", "int8"))
    assert m == {"weights": 2e9, "gradients": 2e9, "optimizer_states": 2e9, "master_weights": 0.0, "total": 6e9}


def test_training_memory_defaults_fp32_adam():
    m = training_memory(1e9)
    assert m["total"] == 16e9  # 4 + 4 + 4 + 4 bytes per parameter


def test_training_memory_mixed_precision_and_sgd():
    m = training_memory(1e6, weights="bfloat16", gradients="bfloat16", master_weights="float32")
    assert m["master_weights"] == 4e6
    assert m["total"] == 16e6
    sgd = training_memory(1e6, optimizer_states=())
    assert sgd["optimizer_states"] == 0.0 and sgd["total"] == 8e6
    inference = training_memory(1e6, weights="int4", gradients=None, optimizer_states=())
    assert inference["total"] == 0.5e6
    momentum = training_memory(1e6, optimizer_states="float32")
    assert momentum["optimizer_states"] == 4e6
