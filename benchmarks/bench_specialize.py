"""Generic kernel (format as runtime integers) vs a kernel generated per format (constants baked in).

The issue asks to measure both on first-call latency and throughput and to keep
the winner. This script compiles, in a fresh process each, (a) floatsim's
generic arithmetic kernel and (b) a copy of the same loop whose format numbers are
module-level constants (so LLVM folds them), and times both on 2**24 float32
elements (bfloat16 and float8_e4m3fn targets, nearest-even, generic path only:
no lookup tables). Run: ``python benchmarks/bench_specialize.py``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import os, sys, time
    os.environ["FLOATSIM_DISABLE_CACHE"] = "1"
    import numpy as np
    from numba import njit, prange
    import floatsim as fs
    from floatsim import _kernels as K
    from floatsim.core import _projection
    from floatsim.rounding import Rounding, Overflow
    variant, name = sys.argv[1], sys.argv[2]
    fmt = fs.get_format(name)
    FP = fmt.kernel_params()
    PP = _projection(fmt, Rounding.NEAREST_EVEN, Overflow.IEEE, 0)
    x = np.random.default_rng(0).standard_normal(1 << 24).astype(np.float32)
    src, out = x.view(np.int32), np.empty(x.size, np.int32)
    fs.core._USE_TABLES = False
    if variant == "generic":
        def run():
            K.round_kernel(src, out, FP, PP, True, False, np.zeros(0, np.uint64), np.uint64(0), np.int64(0))
    else:
        @njit(parallel=True, nogil=True)
        def spec(src, out):
            for i in prange(src.size):
                code = K.project(src[i], 23, 127, FP, PP, np.uint64(0), False)
                out[i] = K.code_to_float_bits(code, FP, 23, 127, 8)
        def run():
            spec(src, out)
    t0 = time.perf_counter(); run(); first = time.perf_counter() - t0
    ts = []
    for _ in range(7):
        t0 = time.perf_counter(); run(); ts.append(time.perf_counter() - t0)
    print(first, sorted(ts)[3] * 1e9 / x.size)
    """
)


def main():
    print("| format | variant | first call incl. compile (s) | ns/element (median of 7) |")
    print("|---|---|---|---|")
    for name in ("bfloat16", "float8_e4m3fn"):
        for variant in ("generic", "specialised"):
            res = subprocess.run([sys.executable, "-c", CHILD, variant, name], capture_output=True, text=True,
                                 check=True)
            first, ns = res.stdout.split()
            print(f"| {name} | {variant} | {float(first):.2f} | {float(ns):.3f} |")
    print("\nThe generic kernel compiles once per dtype signature and serves every format from the disk cache;")
    print("a specialised kernel compiles again for every format (no cache hit across formats).")


if __name__ == "__main__":
    main()
