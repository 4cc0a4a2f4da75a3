"""floatsim.testing.assert_bitwise_equal: signed zeros, NaNs and the ml_dtypes float types."""

import ml_dtypes
import numpy as np
import pytest

from floatsim.testing import assert_bitwise_equal

FLOAT_DTYPES = [np.float16, np.float32, np.float64, ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_tells_signed_zeros_apart(dtype):
    with pytest.raises(AssertionError, match="1 of 1 elements differ"):
        assert_bitwise_equal(np.array([0.0], dtype), np.array([-0.0], dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_nan_matches_nan_unless_payloads_asked(dtype):
    nan = np.array([np.nan, 1.0], dtype)
    assert_bitwise_equal(nan, nan.copy())
    flipped = np.array([-np.nan, 1.0], dtype)  # the sign bit of the NaN flipped
    bits = np.dtype(f"u{nan.itemsize}")
    assert nan.view(bits)[0] != flipped.view(bits)[0]
    assert_bitwise_equal(nan, flipped)
    with pytest.raises(AssertionError):
        assert_bitwise_equal(nan, flipped, nan_payloads=True)


def test_integer_codes_and_mismatched_dtypes():
    assert_bitwise_equal(np.array([1, 2], ml_dtypes.int4), np.array([1, 2], ml_dtypes.int4))
    with pytest.raises(AssertionError, match="0x38 != 0x39"):
        assert_bitwise_equal(np.array([1.0], ml_dtypes.float8_e4m3fn), np.array([1.125], ml_dtypes.float8_e4m3fn))
    with pytest.raises(AssertionError, match="shape/dtype differ"):
        assert_bitwise_equal(np.zeros(2, np.float32), np.zeros(2, np.float64))
