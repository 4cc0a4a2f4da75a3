"""Fused per-block reductions for the quantizers (the quantization layer's own kernels).

Rounding never happens here (that is :mod:`floatsim.core`'s job); these loops
only reduce each row of a blocks array (see :mod:`._layout`) to its statistics in
one pass, which NumPy needs four passes for (min, max, abs-max, isfinite), and
NumPy's reductions along short rows are slow. Options come from :mod:`floatsim._jit`.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import parallel_kernel, threads_for

_SPLIT = 1 << 16  # rows longer than this are reduced in pieces, so one long row (per-tensor) still uses every thread


@parallel_kernel
def _row_stats(data, lo, hi, nonfinite):
    """Per row: min and max over the non-NaN values, and the count of NaN / inf values."""
    rows, n = data.shape
    for r in prange(rows):
        mn = np.inf
        mx = -np.inf
        bad = 0
        for j in range(n):
            v = data[r, j]
            if v != v or v == np.inf or v == -np.inf:
                bad += 1
            if v < mn:
                mn = v
            if v > mx:
                mx = v
        lo[r] = mn
        hi[r] = mx
        nonfinite[r] = bad


def block_stats(data: np.ndarray):
    """``(min, max, absmax, nonfinite)`` of each row of a 2-D float array, in one pass.

    min / max ignore NaN (an all-NaN row gives +inf / -inf) and include ±inf;
    ``absmax = max(-min, max)``; ``nonfinite`` counts NaN and ±inf per row. Empty rows
    give min = max = absmax = 0. Results are float64 for float64 input, else float32.

    >>> lo, hi, amax, bad = block_stats(np.array([[1.0, -3.0, np.nan], [0.5, 2.0, 0.25]]))
    >>> lo.tolist(), hi.tolist(), amax.tolist(), bad.tolist()
    ([-3.0, 0.25], [1.0, 2.0], [3.0, 2.0], [1, 0])
    """
    data = np.asarray(data)
    rows, n = data.shape
    dt = np.float64 if data.dtype == np.float64 else np.float32
    if n == 0 or rows == 0:
        z = np.zeros(rows, dt)
        return z, z.copy(), z.copy(), np.zeros(rows, np.int64)
    src = np.ascontiguousarray(data, dtype=dt)
    pieces = 1
    if n > _SPLIT and n % _SPLIT == 0:
        pieces = n // _SPLIT
    elif n > _SPLIT:
        for p in range(n // _SPLIT, 1, -1):
            if n % p == 0:
                pieces = p
                break
    view = src.reshape(rows * pieces, n // pieces)
    lo = np.empty(view.shape[0], dt)
    hi = np.empty(view.shape[0], dt)
    bad = np.empty(view.shape[0], np.int64)
    with threads_for(data.size):
        _row_stats(view, lo, hi, bad)
    if pieces > 1:
        lo = lo.reshape(rows, pieces).min(axis=1)
        hi = hi.reshape(rows, pieces).max(axis=1)
        bad = bad.reshape(rows, pieces).sum(axis=1)
    return lo, hi, np.maximum(-lo, hi), bad


@parallel_kernel
def _mul_rows(data, factors, out):
    rows, n = data.shape
    for r in prange(rows):
        f = factors[r]
        for j in range(n):
            out[r, j] = data[r, j] * f


def multiply_rows(data: np.ndarray, factors: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``data * factors[:, None]`` for a 2-D float32 / float64 array, in parallel (``out`` may be ``data``).

    Plain IEEE multiplication in ``data``'s dtype (``factors`` are converted to it
    first), element for element what NumPy's broadcasting multiply returns.

    >>> multiply_rows(np.ones((2, 3), np.float32), np.float32([2, 0.5])).tolist()
    [[2.0, 2.0, 2.0], [0.5, 0.5, 0.5]]
    """
    data = np.asarray(data)
    if data.dtype not in (np.float32, np.float64) or data.ndim != 2 or not data.flags.c_contiguous:
        res = data * np.asarray(factors).reshape(-1, 1).astype(data.dtype)
        if out is not None:
            out[...] = res
            return out
        return res
    f = np.ascontiguousarray(np.asarray(factors).reshape(-1), dtype=data.dtype)
    if out is None:
        out = np.empty_like(data)
    with threads_for(data.size):
        _mul_rows(data, f, out)
    return out


@parallel_kernel
def _lookup_rows(codes, table, factors, out):
    rows, n = codes.shape
    for r in prange(rows):
        f = factors[r]
        for j in range(n):
            out[r, j] = table[codes[r, j]] * f


def lookup_rows(codes: np.ndarray, table: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """``table[codes] * factors[:, None]`` in one parallel pass (dequantization of a blocks array).

    ``table`` holds the element format's value for every code (from
    :func:`floatsim.decode`), so this is decode-then-scale without the intermediate
    array; the product is the same IEEE multiplication in ``table``'s dtype.

    >>> lookup_rows(np.uint8([[0, 1], [1, 2]]), np.float32([0.0, 1.5, -2.0]), np.float32([2, 4])).tolist()
    [[0.0, 3.0], [6.0, -8.0]]
    """
    codes = np.ascontiguousarray(codes)
    out = np.empty(codes.shape, table.dtype)
    with threads_for(codes.size):
        _lookup_rows(codes, np.ascontiguousarray(table), np.ascontiguousarray(np.reshape(factors, -1), table.dtype), out)
    return out


_LINEAR_MAX = 255  # codebooks of up to 256 entries are searched by counting (vectorises; 2x the binary search at 255)
_ROWS_PER_TASK = 256


@parallel_kernel
def _nearest_rows(data, factors, mid, order, out, linear):
    # Position = number of midpoints below v. Codebooks up to 256 entries (NF4, the 8-bit maps) count with a compare per
    # midpoint over a task's values, which vectorises; large ones use a branch-free binary search over
    # ``mid`` padded with +inf to 2**k - 1 entries (unpredictable branches cost more than the search).
    rows, n = data.shape
    tasks = (rows + _ROWS_PER_TASK - 1) // _ROWS_PER_TASK
    top = (mid.size + 1) >> 1
    for t in prange(tasks):
        r0 = t * _ROWS_PER_TASK
        r1 = min(rows, r0 + _ROWS_PER_TASK)
        m = (r1 - r0) * n
        vals = np.empty(m, np.float32)
        for r in range(r0, r1):
            f = factors[r]
            for j in range(n):
                v = data[r, j] * f
                vals[(r - r0) * n + j] = min(max(v, np.float32(-1.0)), np.float32(1.0))
        pos = np.zeros(m, np.int64)
        if linear:
            for k in range(mid.size):
                mk = mid[k]
                for i in range(m):
                    pos[i] += np.int64(mk < vals[i])
        else:
            for i in range(m):
                v = vals[i]
                p = 0
                step = top
                while step > 0:
                    p += step * np.int64(mid[p + step - 1] < v)
                    step >>= 1
                pos[i] = p
        for r in range(r0, r1):
            for j in range(n):
                out[r, j] = order[pos[(r - r0) * n + j]]


def nearest_rows(data: np.ndarray, factors: np.ndarray, mid: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Codebook codes of ``clip(data * factors[:, None], -1, 1)`` for a 2-D float32 blocks array.

    ``mid`` are the ascending midpoints between neighbouring sorted codebook
    entries and ``order`` maps sorted position to code; an element's position is
    the number of midpoints strictly below it (``np.searchsorted(mid, v, "left")``:
    an exact midpoint goes to the lower entry). The product and the clip are the
    float32 operations NumPy would do.

    >>> nearest_rows(np.float32([[0.2, 0.25, 0.9]]), np.float32([1]), np.float32([0.25, 0.75]), np.uint8([0, 1, 2]))
    array([[0, 0, 2]], dtype=uint8)
    """
    data = np.ascontiguousarray(data, dtype=np.float32)
    out = np.empty(data.shape, order.dtype)
    linear = len(mid) <= _LINEAR_MAX
    size = 1
    while size - 1 < len(mid):
        size <<= 1
    padded = np.full(len(mid) if linear else size - 1, np.inf, np.float32)
    padded[: len(mid)] = mid
    with threads_for(data.size):
        _nearest_rows(data, np.ascontiguousarray(np.reshape(factors, -1), np.float32), padded,
                      np.ascontiguousarray(order), out, linear)
    return out
