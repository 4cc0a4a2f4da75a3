"""Test helpers: bitwise array comparison and hypothesis strategies for formats and values.

floatsim's own tests use these, and they are public so that code built on floatsim can be tested the same way.
Emulated formats are checked bit for bit, and the usual float comparisons are not enough for that: they treat
+0 and -0 as equal and NaN as unequal to itself.

- `assert_bitwise_equal` compares arrays bit for bit (every NaN equal to every NaN unless asked otherwise).
- `float_formats` and `finite_values` are strategies for the property-testing library hypothesis, which is
  imported only when you call them (it is needed then, not to import this module).
"""

from __future__ import annotations

import numpy as np

__all__ = ["assert_bitwise_equal", "finite_values", "float_formats"]

_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _is_float(dtype) -> bool:
    """numpy floats, and the ml_dtypes floats (bfloat16, float8_*, ...), whose dtype kind is 'V'."""
    if dtype.kind == "f":
        return True
    if dtype.kind != "V":
        return False
    import ml_dtypes

    try:
        ml_dtypes.finfo(dtype)
    except (ValueError, TypeError):
        return False
    return True


def assert_bitwise_equal(actual, desired, *, nan_payloads: bool = False, err_msg: str = "") -> None:
    """Assert that two arrays hold the same bit patterns.

    Unlike `numpy.testing.assert_array_equal` this tells +0 from -0. Any NaN equals any NaN unless
    `nan_payloads=True`. Float arrays (float16 / 32 / 64 and the ml_dtypes floats such as bfloat16 and
    float8_e4m3fn) are compared bit for bit; arrays of any other dtype (integer codes, for instance) with `==`.

    Parameters
    ----------
    actual : array_like
        The array to check.
    desired : array_like
        The expected array; it must have the same shape and dtype.
    nan_payloads : bool, default False
        If True, NaNs must match bit for bit too (sign and payload); by default any NaN matches any NaN.
    err_msg : str, default ""
        Text put in front of the failure message.

    Returns
    -------
    None
        Returns nothing when the arrays match.

    Raises
    ------
    AssertionError
        If the shapes or dtypes differ, or some elements differ; the message gives the number of mismatches and
        the first one, with both bit patterns in hex.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.testing import assert_bitwise_equal
    >>> assert_bitwise_equal(np.array([0.0, np.nan]), np.array([0.0, -np.nan]))
    >>> assert_bitwise_equal(np.array([0.0]), np.array([-0.0]))
    Traceback (most recent call last):
    ...
    AssertionError: 1 of 1 elements differ; first: [0] 0x0 != 0x8000000000000000
    """
    a, d = np.asarray(actual), np.asarray(desired)
    if a.shape != d.shape or a.dtype != d.dtype:
        raise AssertionError(f"{err_msg}shape/dtype differ: {a.shape} {a.dtype} vs {d.shape} {d.dtype}")
    if _is_float(a.dtype) and a.itemsize in _UINT:
        ua, ud = a.view(_UINT[a.itemsize]), d.view(_UINT[d.itemsize])
        same = ua == ud
        if not nan_payloads:
            same |= np.isnan(a) & np.isnan(d)
    else:
        ua, ud = a, d
        same = a == d
    if not np.all(same):
        bad = np.argwhere(~same)
        first = tuple(int(i) for i in bad[0])
        idx = list(first)
        raise AssertionError(
            f"{err_msg}{bad.shape[0]} of {a.size} elements differ; first: {idx} "
            f"{int(ua[first]):#x} != {int(ud[first]):#x}"
        )


def float_formats(max_bits: int = 16, *, signed=None):
    """A hypothesis strategy that draws valid `floatsim.FloatFormat` descriptors of at most `max_bits` bits.

    It draws the sign, the exponent and mantissa widths, the `specials` convention, subnormals on or off and a
    bias (default or from -3 to `2**exponent_bits + 3`), and rejects invalid combinations. Every descriptor it
    draws has a zero (`has_zero=True`). Requires hypothesis.

    Parameters
    ----------
    max_bits : int, default 16
        Largest total width, sign included.
    signed : bool, optional
        Draw only signed (True) or only unsigned (False) formats; default both.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        Strategy of `FloatFormat` descriptors.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from floatsim.testing import float_formats
    >>> @settings(max_examples=25, database=None)
    ... @given(float_formats(max_bits=8, signed=True))
    ... def test_max_is_finite(fmt):
    ...     assert fmt.bits <= 8 and fmt.signed and fmt.max > 0
    >>> test_max_is_finite()
    """
    from hypothesis import strategies as st

    from ..format import FloatFormat, Specials

    @st.composite
    def build(draw):
        sgn = draw(st.booleans()) if signed is None else signed
        e = draw(st.integers(1, max(1, max_bits - int(sgn) - 0)))
        m = draw(st.integers(0, max(0, max_bits - int(sgn) - e)))
        specials = draw(st.sampled_from(list(Specials)))
        subnormals = draw(st.booleans())
        bias = draw(st.one_of(st.none(), st.integers(-3, (1 << e) + 3)))
        try:
            return FloatFormat(exponent_bits=e, mantissa_bits=m, bias=bias, signed=sgn, subnormals=subnormals,
                               specials=specials)
        except ValueError:
            from hypothesis import assume

            assume(False)

    return build()


def finite_values(fmt, dtype=np.float64):
    """A hypothesis strategy that draws finite `dtype` floats spanning the range of `fmt`, and a little beyond.

    The values lie in `[-1.5 * fmt.max, 1.5 * fmt.max]` (clipped to the largest finite `dtype` value), so some
    of them overflow `fmt`. Negative values are drawn for unsigned formats too. Requires hypothesis.

    Parameters
    ----------
    fmt : FloatFormat or IntFormat
        A descriptor (not a name); only its `max` is used.
    dtype : numpy dtype or type, default numpy.float64
        float16, float32 or float64: the width of the drawn floats.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        Strategy of Python floats, each exactly representable in `dtype`.

    Examples
    --------
    >>> import numpy as np, floatsim as fs
    >>> from hypothesis import given, settings
    >>> from floatsim.testing import finite_values
    >>> e4m3 = fs.get_format("float8_e4m3fn")
    >>> @settings(max_examples=25, database=None)
    ... @given(finite_values(e4m3, np.float32))
    ... def test_saturated_cast_is_finite(x):
    ...     assert abs(fs.cast(np.float32(x), e4m3, overflow="saturate")) <= 448
    >>> test_saturated_cast_is_finite()
    """
    from hypothesis import strategies as st

    hi = float(min(fmt.max * 1.5, np.finfo(dtype).max))
    return st.floats(-hi, hi, allow_nan=False, allow_infinity=False, width=np.dtype(dtype).itemsize * 8)
