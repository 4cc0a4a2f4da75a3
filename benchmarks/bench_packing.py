#!/usr/bin/env python
"""Throughput of floatsim.packing (pack / unpack of FP4 and FP6 codes) against a copy of the same bytes.

Run from the repository root::

    python benchmarks/bench_packing.py              # FP4: 2**26 codes, FP6: 2**24 codes, median of 9 rounds
    python benchmarks/bench_packing.py --quick      # 2**22 / 2**20 codes, 3 rounds (smoke run)
    python benchmarks/bench_packing.py --threads 1  # everything on one thread

Every case is timed round-robin in one run (one warm-up call each, then ``--repeats`` rounds of one call per
case), and the median is printed in nanoseconds per code. The references move the codes array itself (one
byte per code), the larger of the two arrays that pack and unpack touch:

- ``np.copyto``: a serial copy of the codes into a preallocated array;
- ``parallel copy``: a Numba ``prange`` copy of the same bytes with floatsim's thread count;
- ``codes.copy()``: a serial copy into a new array, which pays for fresh pages as ``pack`` / ``unpack`` do.

``pack`` reads the codes and writes ``bits / 8`` of a byte per code; ``unpack`` reads the packed bytes and writes
one byte per code; so a copy of the codes array bounds both from below (memory bandwidth). The public functions
allocate their result on every call; the ``into`` rows time the same kernels writing into a preallocated array,
which separates the kernel from the cost of fresh pages. On a machine shared with other processes a parallel call
waits for its slowest thread, so the parallel rows (floatsim's and the copy's alike) can be far slower than the
serial ``np.copyto``; compare them with the parallel copy, or run with ``--threads 1``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numba
import numpy as np

import floatsim as fs
from floatsim import packing


@numba.njit(parallel=True, nogil=True)
def _parallel_copy(src, dst):
    for i in numba.prange(src.size):
        dst[i] = src[i]


def _run(cases, repeats):
    for fn in cases.values():
        fn()
    times = {k: [] for k in cases}
    for _ in range(repeats):
        for k, fn in cases.items():
            t0 = time.perf_counter_ns()
            fn()
            times[k].append(time.perf_counter_ns() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def _cases(name, fmt, n, rng):
    codes = rng.integers(0, fmt.num_codes, n, dtype=np.uint8)
    packed = packing.pack(codes, fmt)
    assert np.array_equal(packing.unpack(packed), codes)
    copy_dst = np.empty_like(codes)
    pack_dst = np.empty(packed.nbytes, np.uint8)
    unpack_dst = np.empty_like(codes)
    unit_codes, unit_bytes = packing._unit(fmt.bits)
    data = np.asarray(packed.data)
    return {
        (name, "np.copyto of the codes"): lambda: np.copyto(copy_dst, codes),
        (name, "parallel copy of the codes"): lambda: _parallel_copy(codes, copy_dst),
        (name, "codes.copy() (allocates)"): lambda: codes.copy(),
        (name, "pack"): lambda: packing.pack(codes, fmt),
        (name, "unpack"): lambda: packing.unpack(packed),
        (name, "pack into"): lambda: packing._pack_kernel(codes, pack_dst, fmt.bits, unit_codes, unit_bytes),
        (name, "unpack into"): lambda: packing._unpack_kernel(data, unpack_dst, fmt.bits, unit_codes, unit_bytes),
    }, n


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2**22 FP4 / 2**20 FP6 codes, 3 rounds")
    parser.add_argument("--repeats", type=int, default=None, help="rounds (default 9, 3 with --quick)")
    parser.add_argument("--threads", type=int, default=None,
                        help="Numba threads for floatsim and the parallel copy (default: all); on a busy machine "
                             "--threads 1 compares with the serial np.copyto without waiting for descheduled threads")
    args = parser.parse_args(argv)
    if args.threads:
        numba.set_num_threads(args.threads)
    n4, n6 = (1 << 22, 1 << 20) if args.quick else (1 << 26, 1 << 24)
    repeats = args.repeats or (3 if args.quick else 9)
    rng = np.random.default_rng(0)
    cases, sizes = {}, {}
    for name, fmt, n in (("FP4 E2M1", fs.get_format("float4_e2m1fn"), n4),
                         ("FP6 E3M2", fs.get_format("float6_e3m2fn"), n6)):
        c, size = _cases(name, fmt, n, rng)
        cases.update(c)
        sizes[name] = size
    res = _run(cases, repeats)

    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(f"floatsim.packing benchmark: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"numba {numba.__version__} with {numba.get_num_threads()} threads, numpy {np.__version__}, "
          f"load average {load[0]}, median of {repeats} rounds")
    for name, n in sizes.items():
        pcopy = res[(name, "parallel copy of the codes")] / n
        scopy = res[(name, "np.copyto of the codes")] / n
        print(f"\n{name}: {n:,} codes (2**{n.bit_length() - 1}), {n / 2**20:.0f} MiB of codes")
        print(f"  {'case':30} {'ns/code':>9} {'GB/s (codes)':>13} {'÷ par. copy':>12} {'÷ np.copyto':>12}")
        for (group, case), t in res.items():
            if group != name:
                continue
            per = t / n
            print(f"  {case:30} {per:9.3f} {1 / per:13.2f} {per / pcopy:11.2f}× {per / scopy:11.2f}×")
    return res, sizes


if __name__ == "__main__":
    main()
