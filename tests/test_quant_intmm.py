"""Integer matmul and requantization (floatsim.quant.intmm).

Oracles: ``torch._int_mm`` (exact int32 with wrap-around on CPU), numpy int64
matmul and Python integers; requantization against hand-computed cases from the
gemmlowp / TFLite definitions and exact Python-integer / Fraction roundings.
"""

from fractions import Fraction

import numpy as np
import pytest

from floatsim.quant.affine import dequantize_affine, quantize_affine
from floatsim.quant.intmm import (
    int_matmul,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    requantize,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
)

RNG = np.random.default_rng(20260821)


def _np_wrap32(a, b):
    exact = a.astype(np.int64) @ b.astype(np.int64)
    return exact.astype(np.uint32).view(np.int32)  # modular truncation


# ---------------------------------------------------------------- int_matmul

@pytest.mark.parametrize("shape", [(32, 64, 16), (17, 8, 3), (1, 5, 7), (4, 300, 9)], ids=str)
def test_int_mm_matches_torch(shape):
    torch = pytest.importorskip("torch")
    m, k, n = shape
    a = RNG.integers(-128, 128, (m, k), dtype=np.int8)
    b = RNG.integers(-128, 128, (k, n), dtype=np.int8)
    ref = torch._int_mm(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    got = int_matmul(a, b)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(got, a.astype(np.int64) @ b.astype(np.int64))


def test_int_mm_wraparound_matches_torch():
    torch = pytest.importorskip("torch")
    k = 131_136
    a = np.full((17, k), -128, np.int8)
    a[1::2, :] = 127
    b = np.full((k, 8), -128, np.int8)
    ref = torch._int_mm(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    got = int_matmul(a, b)
    assert int(got[0, 0]) == -2_146_435_072  # 131136 * 16384 = 2,148,532,224 wrapped
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(got, _np_wrap32(a, b))


def test_overflow_error_names_position_and_value():
    k = 131_136
    a = np.zeros((2, k), np.int8)
    a[1] = -128
    b = np.full((k, 3), -128, np.int8)
    with pytest.raises(OverflowError, match=r"position \(1, 0\) is 2148532224"):
        int_matmul(a, b, overflow="error")
    # fits once the accumulator is wider
    assert int(int_matmul(a, b, accumulator_bits=40, overflow="error")[1, 2]) == 2_148_532_224
    assert int_matmul(a, b, accumulator_bits=40).dtype == np.int64
    # the edges of the int32 range are fine, one past them is not
    edge = np.int32([[2**31 - 1], [1]])
    assert int(int_matmul(np.int8([[1, 0]]), edge, overflow="error")[0, 0]) == 2**31 - 1
    assert int(int_matmul(np.int8([[-1, -1]]), edge, overflow="error")[0, 0]) == -(2**31)
    with pytest.raises(OverflowError, match=r"position \(0, 0\) is 2147483648,"):
        int_matmul(np.int8([[1, 1]]), edge, overflow="error")
    assert int(int_matmul(np.int8([[1, 1]]), edge)[0, 0]) == -(2**31)


def test_zero_points_bias_and_batch_against_python_ints():
    a = RNG.integers(0, 256, (2, 3, 5, 7), dtype=np.uint8)
    b = RNG.integers(-8, 8, (7, 4), dtype=np.int8)  # int4 values in int8
    zpa, zpb = 128, np.int32([1, -2, 0, 3])
    bias = RNG.integers(-1000, 1000, 4, dtype=np.int32)
    got = int_matmul(a, b, a_zero_point=zpa, b_zero_point=zpb, bias=bias, input_bits=8)
    assert got.shape == (2, 3, 5, 4)
    for idx in np.ndindex(2, 3, 5):
        for n in range(4):
            exact = sum((int(a[idx][k]) - zpa) * (int(b[k, n]) - int(zpb[n])) for k in range(7)) + int(bias[n])
            assert int(got[idx][n]) == exact


def test_wide_inputs_use_exact_chunks():
    # int32 inputs: single products above 2**53, and a total above 2**63 (Python-int accumulation)
    a = np.full((2, 3), 2**31 - 1, np.int64)
    a[1] = -(2**31)
    b = np.full((3, 2), 2**31 - 1, np.int64)
    exact = [[3 * (2**31 - 1) ** 2] * 2, [-3 * 2**31 * (2**31 - 1)] * 2]
    got = int_matmul(a, b, accumulator_bits=64)
    np.testing.assert_array_equal(got, np.array([[((v + 2**63) % 2**64) - 2**63 for v in r] for r in exact]))
    with pytest.raises(OverflowError, match="64-bit accumulator"):
        int_matmul(a, b, accumulator_bits=64, overflow="error")
    # products just above 2**53 but sums within int64
    a2, b2 = np.int64([[2**27 + 1, -(2**27 + 3)]]), np.int64([[2**27 - 1], [2**27 + 5]])
    assert int(int_matmul(a2, b2, accumulator_bits=64)[0, 0]) == (2**27 + 1) * (2**27 - 1) - (2**27 + 3) * (2**27 + 5)


def test_int_matmul_errors():
    a8 = np.zeros((2, 3), np.int8)
    with pytest.raises(TypeError, match="a must be an integer array"):
        int_matmul(a8.astype(np.float32), np.zeros((3, 2), np.int8))
    with pytest.raises(ValueError, match="inner dimensions differ"):
        int_matmul(a8, np.zeros((4, 2), np.int8))
    with pytest.raises(ValueError, match="shape"):
        int_matmul(np.zeros(3, np.int8), np.zeros((3, 2), np.int8))
    with pytest.raises(ValueError, match="overflow must be one of"):
        int_matmul(a8, np.zeros((3, 2), np.int8), overflow="saturate")
    with pytest.raises(ValueError, match="accumulator_bits"):
        int_matmul(a8, np.zeros((3, 2), np.int8), accumulator_bits=65)
    with pytest.raises(ValueError, match=r"outside the signed 4-bit range \[-8, 7\]"):
        int_matmul(a8, np.int8([[8, 0], [0, 0], [0, 0]]), input_bits=4)
    with pytest.raises(ValueError, match="bias of shape"):
        int_matmul(a8, np.zeros((3, 2), np.int8), bias=np.int32([1, 2, 3]))


# ---------------------------------------------------------------- requantization primitives

def test_quantize_multiplier_cases():
    m0, e = quantize_multiplier(0.0072474)
    assert (int(m0), int(e)) == (1992150143, -7)
    # exact powers of two; the M0 == 2**31 fix (q rounds up to 1.0); flush below 2**-32; zero
    m0, e = quantize_multiplier([0.25, 1.0, 1 - 2.0**-40, 2.0**-33, 0.0, 3.0])
    assert m0.tolist() == [2**30, 2**30, 2**30, 0, 0, 3 * 2**29]
    assert e.tolist() == [-1, 1, 1, 0, 0, 2]
    assert m0.dtype == np.int32 and e.dtype == np.int32
    # TFLite's round-half-away: q * 2**31 = 2**30 + 0.5 rounds up
    m0, _ = quantize_multiplier(0.5 + 2.0**-32)
    assert int(m0) == 2**30 + 1
    # the newer e > 30 clamp
    assert [int(v) for v in quantize_multiplier(2.0**40)] == [2**30, 41]
    assert [int(v) for v in quantize_multiplier(2.0**40, clamp_large=True)] == [2**31 - 1, 30]
    for bad in (-0.5, np.inf, np.nan):
        with pytest.raises(ValueError, match="non-negative"):
            quantize_multiplier(bad)


def test_srdhm_ties_and_saturation():
    h = 1 << 15  # a * b = ±2**30 -> ±0.5, ±3 * 2**30 -> ±1.5
    a = np.int32([h, -h, 3 * h, -3 * h, 2**31 - 1, -(2**31), -(2**31), 7])
    b = np.int32([h, h, h, h, 2**31 - 1, -(2**31), 2**31 - 1, 0])
    # +0.5 -> 1, -0.5 -> 0, +1.5 -> 2, -1.5 -> -1 (ties toward +inf); saturation of -2**31 * -2**31
    assert saturating_rounding_doubling_high_mul(a, b).tolist() == [1, 0, 2, -1, 2**31 - 2, 2**31 - 1,
                                                                    -(2**31 - 1), 0]
    # random pairs against the exact rational definition: floor(a * b / 2**31 + 1/2)
    x = RNG.integers(-(2**31), 2**31, 2000)
    y = RNG.integers(-(2**31), 2**31, 2000)
    got = saturating_rounding_doubling_high_mul(x, y)
    assert got.tolist() == [(Fraction(int(p) * int(q), 2**31) + Fraction(1, 2)).__floor__() for p, q in zip(x, y, strict=True)]


def test_rdbpot_ties_away_from_zero():
    x = np.int32([3, -3, 5, -5, 1, -1, 6, -6, 7, -7, 0])
    assert rounding_divide_by_pot(x, 1).tolist() == [2, -2, 3, -3, 1, -1, 3, -3, 4, -4, 0]
    assert rounding_divide_by_pot(np.int32([12, -12, 11, -11]), 3).tolist() == [2, -2, 1, -1]  # ±1.5, ±1.375
    assert rounding_divide_by_pot(np.int32([5, 5, 5]), np.int32([0, 2, 31])).tolist() == [5, 1, 0]
    with pytest.raises(ValueError, match="exponent must be in 0 .. 31"):
        rounding_divide_by_pot(1, 32)
    with pytest.raises(ValueError, match="int32 values"):
        rounding_divide_by_pot(2**31, 1)


def _exact_single(x, m0, e):
    return (Fraction(int(x) * int(m0), 2 ** (31 - int(e))) + Fraction(1, 2)).__floor__()


def _exact_double(x, m0, e):
    left, right = max(int(e), 0), max(-int(e), 0)
    first = (Fraction(int(x) * 2**left * int(m0), 2**31) + Fraction(1, 2)).__floor__()  # half toward +inf
    v = Fraction(first, 2**right)
    r = (abs(v) + Fraction(1, 2)).__floor__()  # half away from zero
    return r if v >= 0 else -r


def test_double_vs_single_rounding_on_random_pairs():
    n = 200_000
    mult = RNG.uniform(0.0, 1.0, n)  # M ~ U(0, 1), x ~ U(int32): 8.4 % differ (the notes: about 9 %)
    m0, e = quantize_multiplier(mult)
    x = RNG.integers(-(2**31), 2**31, n).astype(np.int32)
    d = multiply_by_quantized_multiplier(x, m0, e)
    s = multiply_by_quantized_multiplier(x, m0, e, style="single")
    rate = float(np.mean(d != s))
    assert 0.075 < rate < 0.095, rate
    assert np.all(np.abs(d.astype(np.int64) - s) <= 1)
    # exact Python-integer definitions on a subsample, plus every differing pair among them
    idx = np.concatenate([np.arange(1500), np.flatnonzero(d != s)[:1500]])
    assert [int(v) for v in s[idx]] == [_exact_single(x[i], m0[i], e[i]) for i in idx]
    assert [int(v) for v in d[idx]] == [_exact_double(x[i], m0[i], e[i]) for i in idx]


def test_multiply_by_quantized_multiplier_shifts_and_errors():
    m0, e = quantize_multiplier(3.0)  # left shift 2
    assert multiply_by_quantized_multiplier([5, -5, 7], m0, e).tolist() == [15, -15, 21]
    assert multiply_by_quantized_multiplier([5, -5, 7], m0, e, style="single").tolist() == [15, -15, 21]
    with pytest.raises(OverflowError, match="overflows int32"):
        multiply_by_quantized_multiplier([2**30], m0, e)
    with pytest.raises(OverflowError, match="overflows int32"):
        multiply_by_quantized_multiplier([2**30], m0, e, style="single")
    with pytest.raises(ValueError, match="shift must be in -31 .. 30"):
        multiply_by_quantized_multiplier([1], 2**30, 31, style="single")
    with pytest.raises(ValueError, match="style must be one of"):
        multiply_by_quantized_multiplier([1], 2**30, 0, style="float")


def test_requantize_styles_and_errors():
    acc = np.int32([8, -8, 100, 1000, -1000, 2**31 - 1])
    assert requantize(acc, 0.3).tolist() == [3, -3, 30, 127, -128, 127]
    assert requantize(acc, 0.3, style="single").tolist() == [2, -2, 30, 127, -128, 127]
    # float: RNE(float32(acc) * float32(0.3)); 2.4000001 -> 2, 300.00000 -> clamp
    assert requantize(acc, 0.3, style="float").tolist() == [2, -2, 30, 127, -128, 127]
    assert requantize(np.int32([5, 15, 25]), 0.5, style="float", qmin=0, qmax=255).tolist() == [2, 8, 12]
    out = requantize(np.int32([[10, 10], [-10, 10]]), np.float64([0.25, 0.75]), zero_point=128, qmin=0, qmax=255)
    assert out.dtype == np.uint8 and out.tolist() == [[131, 136], [125, 136]]  # 2.5 -> 3 (away), 7.5 -> 8
    assert requantize(np.int32([70000]), 1.0, qmin=-32768, qmax=32767).dtype == np.int16
    with pytest.raises(ValueError, match="style must be one of"):
        requantize(acc, 0.3, style="nearest")
    with pytest.raises(TypeError, match="acc must be an integer array"):
        requantize(np.float32([1.0]), 0.3)
    with pytest.raises(ValueError, match="qmin < qmax"):
        requantize(acc, 0.3, qmin=5, qmax=5)


def test_int8_linear_layer_within_one_output_lsb():
    """quantize a (asymmetric int8) and w (symmetric per-channel int8), int32 bias, int_matmul,
    requantize: the dequantized output is within one output LSB of the real-valued result."""
    m, k, n = 16, 96, 12
    x = RNG.normal(0.3, 1.0, (m, k)).astype(np.float32)
    w = (RNG.normal(0, 0.2, (n, k)) * RNG.uniform(0.2, 2.0, (n, 1))).astype(np.float32)
    bias = RNG.normal(0, 0.5, n).astype(np.float32)
    s_a = np.float32((x.max() - x.min()) / 255)
    zp_a = int(-128 - np.round(x.min() / s_a))
    a_q = quantize_affine(x, s_a, zp_a, qmin=-128, qmax=127)
    s_w = (np.abs(w).max(axis=1) / 127).astype(np.float32)
    w_q = quantize_affine(w, s_w[:, None], qmin=-127, qmax=127)
    s_b = s_a.astype(np.float64) * s_w
    bias_q = np.round(bias / s_b).astype(np.int32)
    acc = int_matmul(a_q, w_q.T, a_zero_point=zp_a, bias=bias_q, overflow="error")
    # the real value the integer pipeline represents (dequantized operands, exact in float64)
    real = (dequantize_affine(a_q, s_a, zp_a, dtype=np.float64) @ dequantize_affine(w_q, s_w[:, None], dtype=np.float64).T
            + bias_q * s_b)
    y_lo, y_hi = real.min(), real.max()
    s_y = (y_hi - y_lo) / 255
    zp_y = int(-128 - np.round(y_lo / s_y))
    for style in ("double", "single", "float"):
        y_q = requantize(acc, s_b / s_y, zero_point=zp_y, style=style)
        y = (y_q.astype(np.float64) - zp_y) * s_y
        assert np.max(np.abs(y - real)) <= s_y, style
    # and close to the float layer itself (input quantization error included)
    ref = x.astype(np.float64) @ w.T.astype(np.float64) + bias
    assert np.max(np.abs(y - ref)) < 0.05 * np.abs(ref).max()
