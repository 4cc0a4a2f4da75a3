#!/usr/bin/env python
"""Quantize + dequantize throughput of floatsim's quantizers beside torchao / bitsandbytes on the CPU.

Run from the repository root (needs the ``oracle`` extra for the peer columns)::

    python benchmarks/bench_quant.py                                   # 2**24 float32 values, 5 repeats
    python benchmarks/bench_quant.py --quick                           # 2**20 values, 3 repeats
    python benchmarks/bench_quant.py --markdown docs/performance-quant.md

Each case quantizes a (rows, 4096) float32 standard-normal matrix and dequantizes
it back to float32 (a fake-quantization round trip, what both libraries need to
measure an error), timed as the median of ``--repeats`` calls after a warm-up
call, in ns per element. Peers run in the same process on the same data:
torchao 0.18.0 (``to_mx`` + ``to_dtype``, ``nvfp4_quantize`` + unpack,
``choose_qparams_affine`` + ``quantize_affine`` + ``dequantize_affine``,
``to_nf4`` + ``get_original_weight``) and bitsandbytes 0.50.2 (``quantize_4bit`` + ``dequantize_4bit``). The memory
reference is a parallel float32 copy of the same array.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_core import _parallel_copy, _version, machine_info, wait_idle  # noqa: E402

from floatsim.quant.affine import IntQuantizer  # noqa: E402
from floatsim.quant.blocks import NVFP4Quantizer, mx  # noqa: E402
from floatsim.quant.codebooks import nf4  # noqa: E402

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import torch
        from torchao.prototype.mx_formats.config import ScaleCalculationMode
        from torchao.prototype.mx_formats.kernels import f4_unpacked_to_f32, unpack_uint4
        from torchao.prototype.mx_formats.mx_tensor import to_dtype, to_mx
        from torchao.prototype.mx_formats.nvfp4_tensor import nvfp4_quantize, per_tensor_amax_to_scale
        from torchao.quantization import quant_primitives as tqp
        from torchao.quantization.quantize_.workflows.nf4.nf4_tensor import to_nf4
except Exception:  # the peers are optional
    torch = None

try:
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import bitsandbytes.functional as bnbf
except Exception:
    bnbf = None

COLS = 4096


def prefault(nbytes=2 << 30):
    """Touch (then free) ``nbytes`` of memory once, so that the timed calls' fresh arrays land on memory the
    machine has already backed (on a VM the very first touch of a page costs microseconds; seen here as 10x
    slower first calls)."""
    a = np.ones(nbytes // 8)
    del a


def timeit(fn, repeats):
    fn()
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# --------------------------------------------------------------------------- peers
def _torchao_mx(elem):
    def run(xt):
        scale, data = to_mx(xt, elem, 32, ScaleCalculationMode.FLOOR)
        return to_dtype(data, scale, elem, 32, torch.float32)
    return run


def _torchao_nvfp4(xt):
    amax = xt.abs().max()
    scale, packed = nvfp4_quantize(xt, 16, per_tensor_amax_to_scale(amax))
    vals = f4_unpacked_to_f32(unpack_uint4(packed.view(torch.uint8)))
    s = scale.to(torch.float32).repeat_interleave(16, dim=-1)
    return vals.reshape(xt.shape) * s.reshape(xt.shape) * per_tensor_amax_to_scale(amax)


def _torchao_int4_g128(xt):
    bs = (1, 128)
    s, zp = tqp.choose_qparams_affine(xt, tqp.MappingType.SYMMETRIC, bs, torch.int8, -8, 7)
    q = tqp.quantize_affine(xt, bs, s, zp, torch.int8, -8, 7)
    return tqp.dequantize_affine(q, bs, s, zp, torch.int8, -8, 7, output_dtype=torch.float32)


def _torchao_nf4(xt):
    return to_nf4(xt, 64, 256).get_original_weight()  # NF4 with its scales double-quantized in blocks of 256


def _bnb_nf4(xt):
    q, st = bnbf.quantize_4bit(xt, blocksize=64, quant_type="nf4")
    return bnbf.dequantize_4bit(q, st)


def cases():
    """(label, floatsim quantizer, peer name, peer function taking a torch tensor or None)."""
    have_t = torch is not None
    return [
        ("MXFP8 E4M3 (32, E8M0)", mx("mxfp8_e4m3"), "torchao", _torchao_mx(torch.float8_e4m3fn) if have_t else None),
        ("MXFP6 E2M3", mx("mxfp6_e2m3"), "torchao", _torchao_mx("fp6_e2m3") if have_t else None),
        ("MXFP4 E2M1", mx("mxfp4"), "torchao", _torchao_mx(torch.float4_e2m1fn_x2) if have_t else None),
        ("NVFP4 (16, E4M3, FP32)", NVFP4Quantizer(), "torchao", _torchao_nvfp4 if have_t else None),
        ("INT4 sym, group 128", IntQuantizer(bits=4, granularity="group:128"), "torchao",
         _torchao_int4_g128 if have_t else None),
        ("NF4 block 64", nf4(block_size=64), "bitsandbytes", _bnb_nf4 if bnbf is not None else None),
        ("NF4 block 64, double quant", nf4(block_size=64, double_quant=True), "torchao",
         _torchao_nf4 if have_t else None),
    ]


def run(n_log2, repeats):
    prefault()
    rows_n = (1 << n_log2) // COLS
    x = np.random.default_rng(0).standard_normal((rows_n, COLS), dtype=np.float32)
    n = x.size
    dst = np.empty_like(x)
    copy = timeit(lambda: _parallel_copy(x.reshape(-1), dst.reshape(-1)), repeats)
    xt = torch.from_numpy(x) if torch is not None else None
    table = []
    for label, quant, peer, peer_fn in cases():
        ours = timeit(lambda q=quant: q.fake_quantize(x), repeats)
        theirs = None
        if peer_fn is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs = timeit(lambda f=peer_fn: f(xt), repeats)
        table.append((label, ours / n * 1e9, peer, None if theirs is None else theirs / n * 1e9, copy / n * 1e9))
    return n, table


def render(n, table, markdown=False):
    head = ["case", "floatsim ns/elem", "peer", "peer ns/elem", "speed-up vs peer", "x parallel copy"]
    lines = []
    for label, ours, peer, theirs, copy in table:
        lines.append([label, f"{ours:.2f}", peer, "n/a" if theirs is None else f"{theirs:.2f}",
                      "n/a" if theirs is None else f"{theirs / ours:.1f}x", f"{ours / copy:.1f}"])
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(r) + " |" for r in lines]
        return "\n".join(out)
    widths = [max(len(h), *(len(r[i]) for r in lines)) for i, h in enumerate(head)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *lines])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n-log2", type=int, default=None, help="log2 of the number of values (default 24)")
    p.add_argument("--repeats", type=int, default=None, help="timed calls per case (default 5)")
    p.add_argument("--quick", action="store_true", help="2**20 values, 3 repeats")
    p.add_argument("--markdown", metavar="FILE", help="also write the table and the machine as Markdown")
    p.add_argument("--wait-idle", type=float, default=0, metavar="MIN", help="wait up to MIN minutes for idle CPUs")
    args = p.parse_args(argv)
    n_log2 = args.n_log2 or (20 if args.quick else 24)
    repeats = args.repeats or (3 if args.quick else 5)
    wait_idle(args.wait_idle)
    n, table = run(n_log2, repeats)
    machine = machine_info()
    machine["torch / torchao / bitsandbytes"] = " / ".join(_version(d) for d in ("torch", "torchao", "bitsandbytes"))
    print(f"quantize + dequantize of {n:,} float32 values (median of {repeats})")
    print(render(n, table))
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write("# Quantizer performance\n\n")
            fh.write("Generated by `python benchmarks/bench_quant.py --wait-idle 3 --markdown docs/performance-quant.md`; "
                     f"quantize + dequantize of {n:,} float32 values (a ({n // COLS}, {COLS}) standard-normal matrix), "
                     f"median of {repeats} calls after a warm-up, in ns per value; the peer runs in the same process "
                     "on the same data.\n\n")
            fh.write(render(n, table, markdown=True) + "\n\n## Machine\n\n")
            fh.write("\n".join(f"- {k}: {v}" for k, v in machine.items()) + "\n")


if __name__ == "__main__":
    main()
