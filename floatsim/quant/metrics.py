"""Error metrics (all in float64) and a side-by-side report of quantization schemes.

================  =====================================================
metric            definition (x reference, y quantized)
================  =====================================================
``mse``           mean((x - y)**2)
``max_abs``       max |x - y|
``sqnr``          10 log10(sum x**2 / sum (x - y)**2) dB (inf when y == x; NaN when both are 0)
``cosine``        <x, y> / (|x| |y|)  (NaN when a norm is 0)
``relative_l2``   |x - y|**2 / |x|**2  (NMSE)
================  =====================================================

Computing in float64 matters: a float32 cosine similarity over millions of
elements can exceed 1.

>>> import numpy as np
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
    """Mean squared error, in float64."""
    a, b = _pair(x, y)
    return float(np.mean((a - b) ** 2)) if a.size else float("nan")


def max_abs(x, y) -> float:
    """Largest absolute error."""
    a, b = _pair(x, y)
    return float(np.max(np.abs(a - b))) if a.size else float("nan")


def sqnr(x, y) -> float:
    """Signal-to-quantization-noise ratio in dB: 20 log10(|x| / |x - y|) (torchao ``compute_error``)."""
    a, b = _pair(x, y)
    sig, noise = float(np.dot(a, a)), float(np.dot(a - b, a - b))
    if noise == 0:
        return float("nan") if sig == 0 else float("inf")
    if sig == 0:
        return float("-inf")
    return float(10.0 * np.log10(sig / noise))


def cosine(x, y) -> float:
    """Cosine similarity <x, y> / (|x| |y|) in float64."""
    a, b = _pair(x, y)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(np.dot(a, b) / (na * nb)) if na and nb else float("nan")


def relative_l2(x, y) -> float:
    """Normalized MSE |x - y|^2 / |x|^2."""
    a, b = _pair(x, y)
    sig = float(np.dot(a, a))
    return float(np.dot(a - b, a - b)) / sig if sig else float("nan")


#: name -> function, in report order
METRICS = {"sqnr_db": sqnr, "mse": mse, "max_abs": max_abs, "cosine": cosine, "relative_l2": relative_l2}


def error_metrics(x, y) -> dict:
    """All metrics of :data:`METRICS` as a dict.

    >>> sorted(error_metrics([1.0, 2.0], [1.0, 2.0]))
    ['cosine', 'max_abs', 'mse', 'relative_l2', 'sqnr_db']
    """
    return {name: fn(x, y) for name, fn in METRICS.items()}


def report(x, schemes: dict) -> list[dict]:
    """Quantize ``x`` with each scheme and measure the error.

    Parameters
    ----------
    x : array_like of float
    schemes : dict
        Label -> quantizer (anything with ``quantize(x)`` returning a
        :class:`~floatsim.quant.base.QuantizedTensor`).

    Returns
    -------
    list of dict
        One row per scheme: ``scheme``, ``bits_per_value`` (elements plus scales,
        zero points and second-level statistics) and the metrics.

    Examples
    --------
    >>> from floatsim.quant.affine import IntQuantizer
    >>> x = np.random.default_rng(0).standard_normal((4, 64)).astype(np.float32)
    >>> rows = report(x, {"int8": IntQuantizer(bits=8), "int4 g32": IntQuantizer(bits=4, granularity="group:32")})
    >>> [(r["scheme"], r["bits_per_value"], round(r["sqnr_db"], 1)) for r in rows]
    [('int8', 8.125, 43.1), ('int4 g32', 5.0, 20.4)]
    """
    x = np.asarray(x)
    rows = []
    for label, quantizer in schemes.items():
        q = quantizer.quantize(x)
        y = q.dequantize()
        rows.append({"scheme": str(label), "bits_per_value": float(q.bits_per_value), **error_metrics(x, y)})
    return rows


def report_text(rows: list[dict]) -> str:
    """``report`` rows as an aligned text table (SQNR, cosine, MSE, max abs, bits per value).

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
