#!/usr/bin/env python
"""What the integrations cost: torch tensors against NumPy arrays, and a dask LocalCluster against the in-memory path.

Run from the repository root::

    python benchmarks/bench_interop.py            # torch at 2**24 elements; dask on a 4 GiB float32 array
    python benchmarks/bench_interop.py --quick    # smaller sizes (smoke run)

Torch: the same verbs on the same 2**24 float32 values, once as a NumPy array and once as a CPU torch tensor
(``torch.from_numpy`` of it), medians of interleaved repeats; the tensor path adds the conversions of
``floatsim._adapt`` (a view in, ``torch.from_numpy`` out). bfloat16 compares a torch bfloat16 tensor with the
ml_dtypes bfloat16 array of the same bits: the tensor comes back as bfloat16 (the format's values are bfloat16
values), so the NumPy side converts its float32 result with ``astype``. The issue's target: the tensor path at most 10 % over NumPy.

Dask: a 4 GiB float32 array (2**30 elements in 64 MiB chunks), generated lazily (each chunk tiles one seeded
block of 2**16 standard-normal values, so generating costs a memory copy), encoded to FP8 E4M3 with seeded stochastic
rounding and reduced to a checksum, on a ``dask.distributed.LocalCluster`` with 2 worker processes of one thread
each (Numba kernels on one thread per worker). The in-memory reference does the same work, chunk by chunk, in this
process with floatsim's own threads (as many as the machine has cores). Both use every core, so the ratio of their
times is the ratio of their throughputs per core. The issue's target: within 2x. The two checksums must agree (the
stochastic codes do not depend on the chunking or the workers).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numba
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_core import Table, machine_info  # noqa: E402

import floatsim as fs  # noqa: E402

FMT = "float8_e4m3fn"


def _median_ns(fn, n, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - t0)
    return statistics.median(times) / n


def bench_torch(n, repeats):
    import ml_dtypes
    import torch

    x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    t = torch.from_numpy(x)
    xb = x.astype(ml_dtypes.bfloat16)
    tb = torch.from_numpy(xb.view(np.int16)).view(torch.bfloat16)
    out = np.empty(n, np.float32)
    out_t = torch.empty(n, dtype=torch.float32)
    cases = [
        ("cast", lambda: fs.cast(x, FMT), lambda: fs.cast(t, FMT)),
        ("cast, out=", lambda: fs.cast(x, FMT, out=out), lambda: fs.cast(t, FMT, out=out_t)),
        ("encode", lambda: fs.encode(x, FMT), lambda: fs.encode(t, FMT)),
        ("encode, typed", lambda: fs.encode(x, FMT, typed=True), lambda: fs.encode(t, FMT, typed=True)),
        ("cast, stochastic", lambda: fs.cast(x, FMT, rounding="stochastic", seed=1),
         lambda: fs.cast(t, FMT, rounding="stochastic", seed=1)),
        # a bfloat16 tensor comes back as bfloat16; the NumPy user converts the float32 result to get the same
        ("cast bfloat16 -> bfloat16", lambda: fs.cast(xb, FMT).astype(ml_dtypes.bfloat16), lambda: fs.cast(tb, FMT)),
    ]
    for name, a, b in cases:  # the tensor path gives the NumPy path's values (bfloat16 input: kept as bfloat16)
        ra, rb = _values(a()), _values(b())
        assert np.array_equal(ra, rb, equal_nan=True) and np.array_equal(np.signbit(ra), np.signbit(rb)), name
    rows = []
    for name, a, b in cases:
        times = {"np": [], "torch": []}
        for _ in range(repeats):  # interleaved, so load bursts hit both alike
            for key, fn in (("np", a), ("torch", b)):
                t0 = time.perf_counter_ns()
                fn()
                times[key].append(time.perf_counter_ns() - t0)
        tn, tt = statistics.median(times["np"]) / n, statistics.median(times["torch"]) / n
        rows.append((name, f"{tn:.3f}", f"{tt:.3f}", f"{tt / tn:.3f}"))
    return Table(f"torch tensors against NumPy arrays, {n:,} float32 elements (ns/element, medians of {repeats})",
                 ["verb", "NumPy", "torch", "torch / NumPy"], rows,
                 notes=["target: torch / NumPy <= 1.10"])


def _values(r):
    """Codes as integers, values as float64 (exact for every float dtype here), from NumPy or torch."""
    if not isinstance(r, np.ndarray):
        r = r.float().numpy() if r.is_floating_point() else r.numpy()
    return r.astype(np.float64) if r.dtype.kind in "fV" else r


def _make_block(block_info=None, *, pattern):
    (start, stop), = block_info[None]["array-location"]
    return np.resize(pattern, stop - start)  # a copy of the seeded block: generating costs a memory copy


def _checksum(codes):
    return np.array([int(codes.astype(np.uint64).sum())], dtype=np.uint64)


def bench_dask(n, chunk, repeats):
    import dask.array as da
    from dask.distributed import Client, LocalCluster

    pattern = np.random.default_rng(1).standard_normal(1 << 16).astype(np.float32)  # 256 KiB, tiled per chunk
    nchunks = n // chunk

    def in_memory():
        total = 0
        for k in range(nchunks):
            block = np.resize(pattern, chunk)  # what _make_block does
            codes = fs.encode(block, FMT, rounding="stochastic", seed=7, index_offset=k * chunk)
            total += int(codes.astype(np.uint64).sum())
        return total

    def lazy():
        x = da.map_blocks(_make_block, pattern=pattern, chunks=((chunk,) * nchunks,), dtype=np.float32)
        codes = fs.encode(x, FMT, rounding="stochastic", seed=7)
        return int(codes.map_blocks(_checksum, chunks=((1,) * nchunks,), dtype=np.uint64).sum().compute())

    previous = os.environ.get("NUMBA_NUM_THREADS")
    os.environ["NUMBA_NUM_THREADS"] = "1"  # the worker processes: one Numba thread each
    try:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                               memory_limit="8GiB")
    finally:
        if previous is None:
            os.environ.pop("NUMBA_NUM_THREADS")
        else:
            os.environ["NUMBA_NUM_THREADS"] = previous
    with cluster, Client(cluster) as client:
        client.run(lambda: fs.encode(np.zeros(4, np.float32), FMT, rounding="stochastic", seed=0))  # warm the workers
        expected = in_memory()
        assert lazy() == expected, "the dask checksum differs from the in-memory one"
        t_mem, t_dask = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            in_memory()
            t_mem.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            lazy()
            t_dask.append(time.perf_counter() - t0)
    tm, td = statistics.median(t_mem), statistics.median(t_dask)
    gib = n * 4 / 2**30
    rows = [(f"in memory (this process, {numba.get_num_threads()} Numba threads)", f"{tm:.2f}", f"{gib / tm:.2f}",
             "1.00"),
            ("dask LocalCluster, 2 workers x 1 thread", f"{td:.2f}", f"{gib / td:.2f}", f"{td / tm:.2f}")]
    return Table(f"FP8 E4M3 stochastic encode of {gib:g} GiB float32 ({nchunks} chunks of {chunk * 4 >> 20} MiB), "
                 f"medians of {repeats}", ["path", "s", "GiB/s", "time / in memory"], rows,
                 notes=["target: dask within 2x of the in-memory path per core (both use every core)",
                        f"checksum of the codes, equal on both paths: {expected}"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--skip-dask", action="store_true", help="only the torch table")
    args = parser.parse_args(argv)
    m = machine_info()
    print(f"machine: {m.get('cpu', '?')}, {os.cpu_count()} cores; floatsim {fs.__version__}; "
          f"Numba threads {numba.get_num_threads()}")
    n_torch, rep = (1 << 20, 5) if args.quick else (1 << 24, 15)
    print()
    print(bench_torch(n_torch, rep).text())
    if not args.skip_dask:
        n, chunk, rep = ((1 << 26, 1 << 22, 2) if args.quick else (1 << 30, 1 << 24, 3))
        print()
        print(bench_dask(n, chunk, rep).text())


if __name__ == "__main__":
    main()
