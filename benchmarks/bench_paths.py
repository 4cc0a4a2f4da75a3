#!/usr/bin/env python
"""Two core decisions that the integer quantizers rest on, each timed against its alternative in one run.

    python benchmarks/bench_paths.py

1. Saturating float-to-integer encode: the fast path (exact trunc / fraction in
   float64) against the generic bit-pattern kernel (``core._USE_TABLES = False``) and
   NumPy's ``clip(rint(x))``, on 2**24 float32 values; ns per element, median of 7.
2. Small calls: 200 one-element casts interleaved with a 256x64 @ 64x64 float32
   matmul, with small calls on one thread (``_jit.SERIAL_BELOW``, the default) and
   with every call using the thread pool (``SERIAL_BELOW = 0``); ms per iteration.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_core import machine_info  # noqa: E402

import floatsim as fs  # noqa: E402
import floatsim._jit as jit  # noqa: E402
import floatsim.core as core  # noqa: E402


def median_time(fn, repeats=7):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def int_encode():
    x = (np.random.default_rng(0).standard_normal(1 << 24) * 50).astype(np.float32)
    out = np.empty(x.size, np.uint8)
    int8 = fs.IntFormat(bits=8)
    rows = []
    saved = core._USE_TABLES
    try:
        for label, tables in (("floatsim fast path", True), ("floatsim generic kernel", False)):
            core._USE_TABLES = tables
            t = median_time(lambda: fs.encode(x, int8, overflow="saturate", out=out))
            rows.append((label, t / x.size * 1e9))
    finally:
        core._USE_TABLES = saved
    tmp = np.empty_like(x)
    t = median_time(lambda: np.clip(np.rint(x, out=tmp), -128, 127, out=tmp).astype(np.int8))
    rows.append(("numpy clip(rint(x)).astype(int8)", t / x.size * 1e9))
    return rows


def small_calls():
    a = np.random.default_rng(1).random((256, 64), dtype=np.float32)
    b = np.random.default_rng(2).random((64, 64), dtype=np.float32)
    x = np.float32([0.3])
    fs.cast(x, "float8_e4m3fn")

    def loop():
        for _ in range(200):
            a @ b
            fs.cast(x, "float8_e4m3fn")

    rows = []
    saved = jit.SERIAL_BELOW
    try:
        for label, below in (("small calls on one thread (default)", saved), ("every call on the thread pool", 0)):
            jit.SERIAL_BELOW = below
            rows.append((label, median_time(loop, 5) / 200 * 1e3))
    finally:
        jit.SERIAL_BELOW = saved
    return rows


def main():
    print("1. float32 -> int8, nearest even, saturating, 2**24 values (ns/element)")
    for label, v in int_encode():
        print(f"   {label:<40} {v:8.3f}")
    print("2. one-element cast after a small matmul, 200 iterations (ms/iteration)")
    for label, v in small_calls():
        print(f"   {label:<40} {v:8.3f}")
    print("machine: " + ", ".join(f"{k} {v}" for k, v in machine_info().items() if k in ("CPU", "nproc", "numba threads")))


if __name__ == "__main__":
    main()
