"""Helpers for testing code that uses floatsim (public, for downstream users too).

* :func:`assert_bitwise_equal` compares float arrays bit for bit (NaNs as a class).
* :func:`float_formats` and :func:`finite_values` are hypothesis strategies
  (hypothesis is imported lazily: it is only needed when you call them).
"""

from __future__ import annotations

import numpy as np

__all__ = ["assert_bitwise_equal", "finite_values", "float_formats"]

_UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def assert_bitwise_equal(actual, desired, *, nan_payloads: bool = False, err_msg: str = "") -> None:
    """Assert two arrays hold the same bit patterns.

    Unlike ``numpy.testing.assert_array_equal`` this tells +0 from -0. Any NaN
    equals any NaN unless ``nan_payloads=True``. Integer arrays (codes) are
    compared as integers.

    Raises
    ------
    AssertionError
        With the number of mismatches and the first few, in hex.

    Examples
    --------
    >>> assert_bitwise_equal(np.array([0.0, np.nan]), np.array([0.0, -np.nan]))
    >>> assert_bitwise_equal(np.array([0.0]), np.array([-0.0]))
    Traceback (most recent call last):
    ...
    AssertionError: 1 of 1 elements differ; first: [0] 0x0 != 0x8000000000000000
    """
    a, d = np.asarray(actual), np.asarray(desired)
    if a.shape != d.shape or a.dtype != d.dtype:
        raise AssertionError(f"{err_msg}shape/dtype differ: {a.shape} {a.dtype} vs {d.shape} {d.dtype}")
    if a.dtype.kind == "f":
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
    """Hypothesis strategy of valid :class:`floatsim.FloatFormat` descriptors up to ``max_bits`` bits."""
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
    """Hypothesis strategy of finite ``dtype`` values spanning ``fmt``'s range (and a little beyond)."""
    from hypothesis import strategies as st

    hi = float(min(fmt.max * 1.5, np.finfo(dtype).max))
    return st.floats(-hi, hi, allow_nan=False, allow_infinity=False, width=np.dtype(dtype).itemsize * 8)
