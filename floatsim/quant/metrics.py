"""Error metrics (all in float64) and a side-by-side report of quantization schemes.

Each metric compares a reference `x` with its quantized version `y` (for
example `quantizer.fake_quantize(x)`); both are flattened and converted to
float64 first, and must have the same shape. `report` runs several quantizers
on one tensor and collects every metric plus the storage cost; `report_text`
prints the rows as a table. `METRICS` maps each metric's report name
(`sqnr_db`, `mse`, `max_abs`, `cosine`, `relative_l2`) to its function.

| metric | definition (x reference, y quantized) |
|---|---|
| `mse` | `mean((x - y)**2)` |
| `max_abs` | `max(abs(x - y))` |
| `sqnr` | `10 log10(sum(x**2) / sum((x - y)**2))` dB (inf when y == x; NaN when both sums are 0) |
| `cosine` | `dot(x, y) / (norm(x) norm(y))` (NaN when a norm is 0) |
| `relative_l2` | `norm(x - y)**2 / norm(x)**2` (NMSE; NaN when x is all zero) |

Computing in float64 matters: a float32 cosine similarity over millions of
elements can exceed 1. Empty inputs give NaN.

Examples
--------
>>> import numpy as np
>>> from floatsim.quant.metrics import max_abs, sqnr
>>> x = np.float32([1.0, 2.0, 3.0]); y = np.float32([1.0, 2.0, 2.5])
>>> round(sqnr(x, y), 4), float(max_abs(x, y))
(17.4819, 0.5)
"""

from __future__ import annotations

import numpy as np

__all__ = ["mse", "max_abs", "sqnr", "cosine", "relative_l2", "error_metrics", "METRICS", "report", "report_text"]


def _pair(x, y):
    a = np.asarray(x, np.float64)
    b = np.asarray(y, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"x and y must have the same shape, got {a.shape} and {b.shape}")
    return a.reshape(-1), b.reshape(-1)


def mse(x, y) -> float:
    """Mean squared error `mean((x - y)**2)`, in float64.

    Parameters
    ----------
    x : array_like
        The reference values, any shape.
    y : array_like
        The quantized (or otherwise approximated) values, same shape as `x`.

    Returns
    -------
    float
        The mean squared error (NaN for empty inputs).

    Raises
    ------
    ValueError
        If `x` and `y` differ in shape.

    Examples
    --------
    >>> import floatsim.quant as fq
    >>> fq.mse([1.0, 2.0, 3.0], [1.0, 2.0, 2.5])
    0.08333333333333333
    """
    a, b = _pair(x, y)
    return float(np.mean((a - b) ** 2)) if a.size else float("nan")


def max_abs(x, y) -> float:
    """Largest absolute error `max(abs(x - y))`, in float64.

    Parameters
    ----------
    x : array_like
        The reference values, any shape.
    y : array_like
        The quantized (or otherwise approximated) values, same shape as `x`.

    Returns
    -------
    float
        The largest absolute error (NaN for empty inputs; NaN if any difference is NaN).

    Raises
    ------
    ValueError
        If `x` and `y` differ in shape.

    Examples
    --------
    >>> import floatsim.quant as fq
    >>> fq.max_abs([1.0, 2.0, 3.0], [1.0, 2.0, 2.5])
    0.5
    """
    a, b = _pair(x, y)
    return float(np.max(np.abs(a - b))) if a.size else float("nan")


def sqnr(x, y) -> float:
    """Signal-to-quantization-noise ratio in dB: `20 log10(norm(x) / norm(x - y))` (torchao `compute_error`).

    Equivalently `10 log10(sum(x**2) / sum((x - y)**2))`. Higher is better; each bit
    of a uniform quantizer adds about 6 dB.

    Parameters
    ----------
    x : array_like
        The reference values, any shape.
    y : array_like
        The quantized (or otherwise approximated) values, same shape as `x`.

    Returns
    -------
    float
        The SQNR in dB: inf when `y == x` (and `x` is not all zero), NaN when both sums are 0 (empty or all-zero inputs), -inf when `x` is all zero but `y` is not.

    Raises
    ------
    ValueError
        If `x` and `y` differ in shape.

    Examples
    --------
    >>> import floatsim.quant as fq
    >>> round(fq.sqnr([1.0, 2.0, 3.0], [1.0, 2.0, 2.5]), 4)
    17.4819
    >>> fq.sqnr([1.0, 2.0], [1.0, 2.0]), fq.sqnr([0.0, 0.0], [1.0, 0.0])
    (inf, -inf)
    """
    a, b = _pair(x, y)
    sig, noise = float(np.dot(a, a)), float(np.dot(a - b, a - b))
    if noise == 0:
        return float("nan") if sig == 0 else float("inf")
    if sig == 0:
        return float("-inf")
    return float(10.0 * np.log10(sig / noise))


def cosine(x, y) -> float:
    """Cosine similarity `dot(x, y) / (norm(x) norm(y))`, in float64.

    1 means `y` points exactly along `x`; scale errors do not change it.

    Parameters
    ----------
    x : array_like
        The reference values, any shape.
    y : array_like
        The quantized (or otherwise approximated) values, same shape as `x`.

    Returns
    -------
    float
        The cosine similarity, NaN when either norm is 0.

    Raises
    ------
    ValueError
        If `x` and `y` differ in shape.

    Examples
    --------
    >>> import floatsim.quant as fq
    >>> round(fq.cosine([1.0, 2.0, 3.0], [1.0, 2.0, 2.5]), 6)
    0.996024
    >>> round(fq.cosine([1.0, 2.0], [2.0, 4.0]), 12)      # a scaled copy
    1.0
    """
    a, b = _pair(x, y)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(np.dot(a, b) / (na * nb)) if na and nb else float("nan")


def relative_l2(x, y) -> float:
    """Normalized MSE `norm(x - y)**2 / norm(x)**2` (the squared relative L2 error).

    Note that the ratio of squared norms is returned, not its square root.

    Parameters
    ----------
    x : array_like
        The reference values, any shape.
    y : array_like
        The quantized (or otherwise approximated) values, same shape as `x`.

    Returns
    -------
    float
        The normalized MSE, NaN when `x` is all zero (or empty).

    Raises
    ------
    ValueError
        If `x` and `y` differ in shape.

    Examples
    --------
    >>> import floatsim.quant as fq
    >>> fq.relative_l2([1.0, 2.0, 3.0], [1.0, 2.0, 2.5])     # 0.25 / 14
    0.017857142857142856
    """
    a, b = _pair(x, y)
    sig = float(np.dot(a, a))
    return float(np.dot(a - b, a - b)) / sig if sig else float("nan")


#: name -> function, in report order
METRICS = {"sqnr_db": sqnr, "mse": mse, "max_abs": max_abs, "cosine": cosine, "relative_l2": relative_l2}
"""Metric name -> function, in report order: `sqnr_db`, `mse`, `max_abs`, `cosine`, `relative_l2`."""


def error_metrics(x, y) -> dict:
    """All metrics of `METRICS` as a dict.

    Parameters
    ----------
    x : array_like
        The reference values, any shape.
    y : array_like
        The quantized values, same shape as `x`.

    Returns
    -------
    dict
        `{"sqnr_db": ..., "mse": ..., "max_abs": ..., "cosine": ..., "relative_l2": ...}`,
        floats, in that order.

    Raises
    ------
    ValueError
        If `x` and `y` differ in shape.

    Examples
    --------
    >>> import floatsim.quant as fq
    >>> sorted(fq.error_metrics([1.0, 2.0], [1.0, 2.0]))
    ['cosine', 'max_abs', 'mse', 'relative_l2', 'sqnr_db']
    >>> {k: round(v, 4) for k, v in fq.error_metrics([1.0, 2.0, 3.0], [1.0, 2.0, 2.5]).items()}
    {'sqnr_db': 17.4819, 'mse': 0.0833, 'max_abs': 0.5, 'cosine': 0.996, 'relative_l2': 0.0179}
    """
    return {name: fn(x, y) for name, fn in METRICS.items()}


def report(x, schemes) -> list[dict]:
    """Quantize `x` with each scheme and measure the error.

    Each quantizer's `quantize(x)` is dequantized (in `x`'s dtype) and compared
    with `x` by every metric of `METRICS`.

    Parameters
    ----------
    x : array_like of float
        The tensor to quantize (float16 / float32 / float64, any shape).
    schemes : dict or list of str
        Label -> quantizer (anything with `quantize(x)` returning a
        `QuantizedTensor`) or scheme name (built with `get_quantizer`); a list
        of scheme names labels each row by its name.

    Returns
    -------
    list of dict
        One row per scheme, in the dict's order: `scheme` (the label as a
        string), `bits_per_value` (elements plus scales, zero points and
        second-level statistics) and the metrics (`sqnr_db`, `mse`, `max_abs`,
        `cosine`, `relative_l2`).

    Raises
    ------
    ValueError
        Whatever a quantizer raises for `x` (e.g. NaN into an integer scheme).

    Examples
    --------
    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> x = np.random.default_rng(0).standard_normal((4, 64)).astype(np.float32)
    >>> rows = fq.report(x, {"int8": fq.IntQuantizer(bits=8), "int4 g32": fq.IntQuantizer(bits=4, granularity="group:32")})
    >>> [(r["scheme"], r["bits_per_value"], round(r["sqnr_db"], 1)) for r in rows]
    [('int8', 8.125, 43.1), ('int4 g32', 5.0, 20.4)]
    >>> [(r["scheme"], r["bits_per_value"]) for r in fq.report(x, ["mxfp4", "nf4"])]   # scheme names
    [('mxfp4', 4.25), ('nf4', 4.5)]
    """
    x = np.asarray(x)
    if isinstance(schemes, str):
        raise TypeError(f"schemes={schemes!r}: give a dict of label -> quantizer or a list of scheme names")
    if not isinstance(schemes, dict):
        schemes = {name: name for name in schemes}
    rows = []
    for label, quantizer in schemes.items():
        if isinstance(quantizer, str):
            from .schemes import get_quantizer

            quantizer = get_quantizer(quantizer)
        q = quantizer.quantize(x)
        y = q.dequantize()
        rows.append({"scheme": str(label), "bits_per_value": float(q.bits_per_value), **error_metrics(x, y)})
    return rows


def report_text(rows: list[dict]) -> str:
    """`report` rows as an aligned text table (SQNR, cosine, MSE, max abs, bits per value).

    Parameters
    ----------
    rows : list of dict
        Rows as `report` returns them (keys `scheme`, `bits_per_value`,
        `sqnr_db`, `cosine`, `mse`, `max_abs`).

    Returns
    -------
    str
        A header line and one line per row, columns separated by two spaces
        (no trailing newline).

    Examples
    --------
    >>> from floatsim.quant import report_text
    >>> print(report_text([{"scheme": "a", "bits_per_value": 8.0, "sqnr_db": 40.0, "mse": 1e-4,
    ...                     "max_abs": 0.01, "cosine": 0.99995, "relative_l2": 1e-4}]))
    scheme  bits/value  SQNR dB  cosine    MSE        max abs
    a            8.000    40.00  0.999950  1.000e-04  1.000e-02
    """
    header = ("scheme", "bits/value", "SQNR dB", "cosine", "MSE", "max abs")
    body = [(r["scheme"], f"{r['bits_per_value']:.3f}", f"{r['sqnr_db']:.2f}", f"{r['cosine']:.6f}",
             f"{r['mse']:.3e}", f"{r['max_abs']:.3e}") for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(header)]
    fmt_row = lambda cells: "  ".join(  # noqa: E731
        c.ljust(w) if i == 0 else (c.rjust(w) if i < 3 else c.ljust(w)) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    ).rstrip()
    return "\n".join([fmt_row(header), *(fmt_row(b) for b in body)])
