#!/usr/bin/env python
"""Throughput of floatsim.arith (elementwise add / mul, matmul with per-step rounding) beside pychop and gfloat.

Run from the repository root::

    python benchmarks/bench_arith.py                                        # 2**24 elements, 7 repeats
    python benchmarks/bench_arith.py --quick                                # 2**20 elements, 3 repeats (smoke run)
    python benchmarks/bench_arith.py --markdown docs/performance-arith.md   # also write the page as Markdown

Elementwise: ``fa.add`` / ``fa.mul`` of two 2**24-element float32 arrays whose
values are already in the format (``floatsim.cast`` of seeded standard-normal
data), in bfloat16 and float8_e4m3fn (nearest-even), plus a stochastic and a
directed case, in ns per element. Peers in the same run, on the same data:
numpy's float32 ``x + y`` / ``x * y`` (the plain, unemulated operation), pychop
0.6.2 (numpy backend; ``Chop(...)(x + y)`` as shipped, whose default
``chunk_size=800`` runs every array through Dask in 800-element chunks, and with
``chunk_size=2**16``, its fastest setting here; also ``pychop.add`` /
``pychop.multiply``, which round the inputs too) and gfloat 0.5.2
(``round_ndarray(fi, x + y)``); pychop and gfloat are slow, so they run on a
2**20-element slice of the same arrays and are reported per element. The
memory-bandwidth references are a parallel float32 copy and a parallel float32
add (Numba ``prange`` loops with floatsim's thread count).

Matmul: 512 x 512 x 512 with FP8 (float8_e4m3fn) inputs: ``fa.matmul`` with float32
accumulation (sequential, blocked, pairwise, stochastic), a 14-bit-precision inner
accumulator promoted into float32 every 128 products (DeepSeek-V3 style), and
bfloat16 accumulation, in ms and as a ratio to numpy's float32 ``a @ b`` of the
same shape. pychop and gfloat have no matmul with per-step rounding, so the peer
is the loop a user of theirs would write: ``acc = rnd(acc + rnd(a[:, k:k+1] *
b[k:k+1, :]))`` over k.

Before anything is timed, every deterministic result is compared with an
independent oracle (numpy float32 / float64 hardware arithmetic where that is
exact or is the operation itself, then ml_dtypes or ``floatsim.cast`` for the
single final rounding), so the benchmark never times wrong code.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import os
import shlex
import sys
import time
import warnings

import numba
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_core import (  # noqa: E402
    CpuMeter,
    Pool,
    Table,
    _conditions,
    _load,
    _noisy,
    _parallel_copy,
    _quiet,
    gff,
    gfloat,
    machine_info,
    ml_dtypes,
    ns,
    pychop,
    ratio,
    render_text,
    wait_idle,
)  # the peers (ml_dtypes, gfloat, pychop) are imported once, by bench_core, each None when missing

import floatsim  # noqa: E402
import floatsim.arith as fa  # noqa: E402
from floatsim.format import FloatFormat  # noqa: E402

SLICE = 1 << 20  # elements timed for the slow peers (pychop, gfloat)
CHECK = 1 << 20  # elements of each elementwise result compared with the oracle
MM = 512  # the matmul is MM x MM x MM
MM_SLICE = 128  # per-step peer loops too slow for the full problem run on (MM_SLICE x MM x MM_SLICE)
PYCHOP_CHUNK = 1 << 16  # Dask chunks of pychop's tuned configuration (2 cores, 2**20 elements: 800 -> ~300 ns/elem,
# 2**14 -> 30, 2**16 -> 21, 2**18 -> 29, one pass (chunk_size >= n) -> 34)
MM_CHECK_ROWS = 16  # rows of each matmul result compared with the oracle
E8M13 = FloatFormat(exponent_bits=8, mantissa_bits=13, bias=127)  # DeepSeek-V3's FP8 GEMM inner accumulator
ELEMENTWISE_TARGET = 20.0  # elementwise ops at least 20x faster than pychop
MATMUL_TARGET = 50.0  # matmul with per-step rounding within 50x of numpy float32 matmul


def prefault(nbytes=2 << 30):
    """Touch (then free) ``nbytes`` of memory once, so that the timed calls' fresh arrays land on memory the
    machine has already backed (on a VM the first touch of a page costs microseconds)."""
    a = np.ones(nbytes // 8)
    del a


@numba.njit(parallel=True, nogil=True)
def _parallel_add(x, y, out):
    for i in numba.prange(x.size):
        out[i] = x[i] + y[i]


def _chop(exp_bits, sig_bits, rmode, chunk_size=None):
    """A pychop ``Chop`` (IEEE-style format with subnormals and inf), or None without pychop.

    ``chunk_size=None`` keeps pychop's default (800): its numpy backend then splits every array of more
    than 800 elements into Dask chunks of 800 (deterministic modes only; the stochastic modes never use
    Dask). ``PYCHOP_CHUNK`` is the fastest chunk size we found on the benchmark machine.
    """
    if pychop is None:
        return None
    kw = {} if chunk_size is None else {"chunk_size": chunk_size}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return pychop.Chop(exp_bits=exp_bits, sig_bits=sig_bits, rmode=rmode, subnormal=True, **kw)


# --------------------------------------------------------------------------- elementwise cases
class Case:
    """One elementwise case: floatsim's call and each peer's spelling of it (None: not timed)."""

    def __init__(self, op, fmt, rounding, chop_shape, gfi, pychop_rmode, gf_mode):
        self.op, self.fmt, self.rounding = op, fmt, rounding
        self.chop_shape, self.gfi = chop_shape, gfi
        self.pychop_rmode, self.gf_mode = pychop_rmode, gf_mode

    @property
    def label(self):
        sym = "+" if self.op == "add" else "*"
        return f"x {sym} y, {self.fmt}, {self.rounding}"

    def kwargs(self):
        kw = {"rounding": self.rounding}
        if self.rounding == "stochastic":
            kw["seed"] = 0
        return kw


def elementwise_cases():
    g = gff if gfloat is not None else None
    bf, e4 = (g and g.format_info_bfloat16), (g and g.format_info_ocp_e4m3)
    rm = gfloat.RoundMode if gfloat is not None else None
    ne, sr, tz = (rm and rm.TiesToEven), (rm and rm.Stochastic), (rm and rm.TowardZero)
    return [
        Case("add", "bfloat16", "nearest_even", (8, 7), bf, 1, ne),
        Case("mul", "bfloat16", "nearest_even", (8, 7), bf, 1, ne),
        Case("add", "float8_e4m3fn", "nearest_even", (4, 3), e4, 1, ne),
        Case("mul", "float8_e4m3fn", "nearest_even", (4, 3), e4, 1, ne),
        Case("add", "bfloat16", "stochastic", (8, 7), bf, 5, sr),
        Case("add", "bfloat16", "toward_zero", (8, 7), bf, 4, tz),
    ]


def make_operands(n, fmt):
    """Two float32 arrays of ``n`` values of ``fmt``: seeded standard-normal data rounded by floatsim.cast."""
    x = floatsim.cast(np.random.default_rng(1).standard_normal(n, dtype=np.float32), fmt)
    y = floatsim.cast(np.random.default_rng(2).standard_normal(n, dtype=np.float32), fmt)
    return x, y


def _exact_f64(op, x, y):
    """``x op y`` in float64, asserted exact (TwoSum error / float32-vs-float64 check), as float64."""
    a, b = x.astype(np.float64), y.astype(np.float64)
    if op == "add":
        s = a + b
        bb = s - a
        err = (a - (s - bb)) + (b - bb)  # TwoSum: s + err == a + b exactly
        assert not err.any(), "float64 sum not exact: the oracle does not apply to this data"
        return s
    p = a * b
    # significands of at most 8 bits: the product has at most 16 bits; the data keep it far from float64's limits
    assert np.all((p == 0) | (np.abs(p) > 2.0**-900)), "float64 product may be inexact"
    return p


def oracle(case, x, y):
    """The correctly rounded result of ``case`` on ``x``, ``y`` from hardware arithmetic and one rounding.

    Returns ``(expected, check)``: ``check(got)`` is True when ``got`` is right.

    * FP8 add / mul, bfloat16 mul: the float32 sum or product of two such values is exact (checked against
      float64), so ml_dtypes' nearest-even ``astype`` of it is the correctly rounded result.
    * bfloat16 add: the float64 sum is exact (TwoSum error zero, checked), so ``floatsim.cast`` of it (the
      core's one rounding, tested against ml_dtypes elsewhere) is the correctly rounded result, in any mode.
      (float32 ``x + y`` then a bfloat16 cast would round twice.)
    * stochastic: each result must be one of the two bfloat16 neighbours of the exact sum (the exact sum
      itself when representable), and not every result the nearest-even one.
    """
    exact = _exact_f64(case.op, x, y)
    if case.rounding == "stochastic":
        lo = floatsim.cast(exact, case.fmt, rounding="toward_negative").astype(np.float32)
        hi = floatsim.cast(exact, case.fmt, rounding="toward_positive").astype(np.float32)
        ne = floatsim.cast(exact, case.fmt).astype(np.float32)
        return None, lambda got: bool(np.all((got == lo) | (got == hi)) and np.any(got != ne))
    f32 = (x + y) if case.op == "add" else (x * y)
    if case.rounding == "nearest_even" and ml_dtypes is not None and np.array_equal(f32.astype(np.float64), exact):
        expected = f32.astype(getattr(ml_dtypes, case.fmt)).astype(np.float32)
    else:
        expected = floatsim.cast(exact, case.fmt, rounding=case.rounding).astype(np.float32)
    return expected, lambda got: np.array_equal(got, expected)


def verify_elementwise(cases, data, k):
    """Run every floatsim case once on the full arrays and compare the first ``k`` results with the oracle."""
    verdict = {}
    for c in cases:
        x, y = data[c.fmt]
        got = getattr(fa, c.op)(x, y, c.fmt, **c.kwargs())[:k]
        _, check = oracle(c, x[:k], y[:k])
        if not check(got):
            raise AssertionError(f"floatsim.arith.{c.op} {c.fmt} {c.rounding} disagrees with the oracle; "
                                 "refusing to time wrong code")
        verdict[c.label] = "yes" if c.rounding != "stochastic" else "yes (neighbours)"
    return verdict


def bench_elementwise(n, repeats, slice_n, full_pychop):
    cases = elementwise_cases()
    data = {f: make_operands(n, f) for f in ("bfloat16", "float8_e4m3fn")}
    verdict = verify_elementwise(cases, data, min(CHECK, n))
    x0, y0 = data["bfloat16"]
    out = np.empty(n, np.float32)
    pool = Pool()
    pool.add(("ref", "parallel copy"), lambda: _parallel_copy(x0, out), n)
    pool.add(("ref", "parallel add"), lambda: _parallel_add(x0, y0, out), n)
    pool.add(("ref", "numpy add"), lambda: np.add(x0, y0), n)
    pool.add(("ref", "numpy add out="), lambda: np.add(x0, y0, out=out), n)
    sliced = {f: (x[:slice_n].copy(), y[:slice_n].copy()) for f, (x, y) in data.items()}
    for c in cases:
        x, y = data[c.fmt]
        xs, ys = sliced[c.fmt]
        npop = np.add if c.op == "add" else np.multiply
        key = c.label
        pool.add((key, "fs"), lambda c=c, x=x, y=y: getattr(fa, c.op)(x, y, c.fmt, **c.kwargs()), n)
        pool.add((key, "np"), lambda npop=npop, x=x, y=y: npop(x, y), n)
        ch = _chop(*c.chop_shape, c.pychop_rmode)
        if ch is not None:
            pool.add((key, "pc"), _quiet(lambda ch=ch, npop=npop, xs=xs, ys=ys: ch(npop(xs, ys))), slice_n)
            cht = _chop(*c.chop_shape, c.pychop_rmode, PYCHOP_CHUNK)
            pool.add((key, "pct"), _quiet(lambda ch=cht, npop=npop, xs=xs, ys=ys: ch(npop(xs, ys))), slice_n)
            if c.rounding == "nearest_even":
                pfn = pychop.add if c.op == "add" else pychop.multiply
                pool.add((key, "pc_op"), _quiet(lambda ch=ch, pfn=pfn, xs=xs, ys=ys: pfn(xs, ys, ch)), slice_n)
        if c.gfi is not None:
            sr = {}
            if c.rounding == "stochastic":  # random bits drawn here, not timed
                sr = dict(srbits=np.random.default_rng(3).integers(0, 1 << 16, slice_n, dtype=np.int64), srnumbits=16)

            def gfn(c=c, npop=npop, xs=xs, ys=ys, sr=sr):
                return gfloat.round_ndarray(c.gfi, npop(xs, ys), rnd=c.gf_mode, **sr)

            pool.add((key, "gf"), _quiet(gfn), slice_n)
    get = pool.run(repeats)
    ref = {k: get("ref", k) for k in ("parallel copy", "parallel add", "numpy add", "numpy add out=")}
    rows = [dict(case=c, verified=verdict[c.label], **{p: get(c.label, p) for p in ("fs", "np", "pc", "pct", "pc_op", "gf")})
            for c in cases]
    full = {}
    if full_pychop and pychop is not None:
        # one call of pychop on the whole arrays (too slow to repeat): shows the slice is representative
        c = cases[0]
        x, y = data[c.fmt]
        for col, chunk in (("pc", None), ("pct", PYCHOP_CHUNK)):
            ch = _chop(*c.chop_shape, 1, chunk)
            fn = _quiet(lambda ch=ch: ch(x + y))
            t0 = time.perf_counter_ns()
            fn()
            full[col] = (time.perf_counter_ns() - t0) / n
    return ref, rows, full


# --------------------------------------------------------------------------- matmul
def matmul_cases():
    """(label, keyword arguments of fa.matmul, oracle name or None)."""
    return [
        ("float32, sequential", dict(accumulate="float32"), "seq32"),
        ("float32, blocked 32", dict(accumulate="float32", order="blocked", block=32), "blocked32"),
        ("E8M13 inner, blocked 128, float32 outer", dict(accumulate=E8M13, outer="float32", order="blocked",
                                                         block=128), "deepseek"),
        ("float32, stochastic (seed 0)", dict(accumulate="float32", rounding="stochastic", seed=0), "bound"),
        ("bfloat16, sequential", dict(accumulate="bfloat16"), "seq_bf16"),
        ("float32, pairwise", dict(accumulate="float32", order="pairwise"), "pairwise32"),
    ]


def _path(kw):
    """Which kernel fa.matmul uses for these arguments (from the library's own plan; '?' if that changes)."""
    try:
        from floatsim.arith import reductions

        f = floatsim.get_format("float8_e4m3fn")
        plan = reductions._Plan((f, f), kw.get("accumulate"), None, kw.get("outer"), kw.get("order"),
                                kw.get("block"), kw.get("rounding"), None, None, kw.get("seed"), None, None, True)
        return f"native float{plan.native}" if plan.native else "generic (per-step rounding)"
    except Exception:
        return "?"


def _products(a, b):
    """All products ``a[i, k] * b[k, j]`` as a (K, M, N) float32 array (exact: FP8 x FP8 has <= 8 bits)."""
    return a.T[:, :, None] * b[:, None, :]


def matmul_oracle(name, a, b):
    """The expected ``a @ b`` (rows of ``a`` only) under the named accumulation, from hardware arithmetic.

    Products of two float8_e4m3fn values are exact in float32 (<= 8 significant bits, |p| <= 448**2, quantum
    2**-18). float32 accumulation with nearest-even is float32 hardware addition. For bfloat16 and E8M13
    accumulators every partial sum is a multiple of 2**-18 below 2**30, so the float64 sum is exact and
    ``floatsim.cast`` rounds it once.
    """
    p = _products(a, b)  # (K, m, N) float32
    k = p.shape[0]
    if name == "seq32":
        s = p[0].copy()
        for t in range(1, k):
            s = s + p[t]
        return s
    if name == "blocked32":
        sums = []
        for j in range(0, k, 32):
            s = p[j].copy()
            for t in range(j + 1, min(j + 32, k)):
                s = s + p[t]
            sums.append(s)
        t_ = sums[0]
        for s in sums[1:]:
            t_ = t_ + s
        return t_
    if name == "pairwise32":
        level = list(p)
        while len(level) > 1:
            nxt = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            level = nxt
        return level[0]
    if name in ("seq_bf16", "deepseek"):
        fmt, block = ("bfloat16", k) if name == "seq_bf16" else (E8M13, 128)
        p64 = p.astype(np.float64)
        sums = []
        for j in range(0, k, block):
            s = floatsim.cast(p64[j], fmt)
            for t in range(j + 1, min(j + block, k)):
                total = s + p64[t]
                assert np.all(np.abs(total) < 2.0**30), "partial sums too large for an exact float64 oracle"
                s = floatsim.cast(total, fmt)
            sums.append(s.astype(np.float32))
        t_ = sums[0]
        for s in sums[1:]:
            t_ = t_ + s  # the outer format is float32 (bfloat16 sequential has one block)
        return t_
    raise ValueError(name)


def verify_matmul(results, a, b):
    """Compare the first rows of each fa.matmul result with its oracle; raise when one disagrees."""
    r = MM_CHECK_ROWS
    verdict = {}
    exact = a[:r].astype(np.float64) @ b.astype(np.float64)
    for label, _, name in matmul_cases():
        got = results[label][:r]
        if name == "bound":
            # stochastic: each of the K roundings moves the sum by less than one float32 ulp of a partial sum,
            # and every partial sum is at most sum_k |a_ik b_kj|
            bound = a.shape[1] * 2.0**-23 * (np.abs(a[:r]).astype(np.float64) @ np.abs(b).astype(np.float64))
            ok = bool(np.all(np.abs(got - exact) <= bound)) and not np.array_equal(got, results[matmul_cases()[0][0]][:r])
            verdict[label] = "error bound" if ok else "NO"
        else:
            ok = np.array_equal(got, matmul_oracle(name, a[:r], b))
            verdict[label] = "yes" if ok else "NO"
        if not ok:
            raise AssertionError(f"fa.matmul {label} disagrees with the oracle; refusing to time wrong code")
    return verdict


def _per_step_loop(a64, b64, rnd, steps):
    acc = np.zeros((a64.shape[0], b64.shape[1]))
    for k in range(steps):
        acc = rnd(acc + rnd(a64[:, k:k + 1] * b64[k:k + 1, :]))
    return acc


def bench_per_step_peers(a8, b8, reference, budget_s):
    """Time the per-step-rounding loop of pychop and gfloat once (full problem if the estimate fits in
    ``budget_s``, else on a (MM_SLICE, MM, MM_SLICE) slice scaled to the full problem)."""
    rounders = []
    if pychop is not None:
        rounders.append(("pychop Chop(8, 23) (binary32), default chunk_size", _chop(8, 23, 1)))
        rounders.append((f"pychop Chop(8, 23), chunk_size=2**{PYCHOP_CHUNK.bit_length() - 1}",
                         _chop(8, 23, 1, PYCHOP_CHUNK)))
    if gfloat is not None:
        rounders.append(("gfloat round_ndarray(format_info_binary32)",
                         lambda v: gfloat.round_ndarray(gff.format_info_binary32, v)))
    a64, b64 = a8.astype(np.float64), b8.astype(np.float64)
    k = a64.shape[1]
    out = []
    for label, rnd in rounders:
        rnd_q = _quiet_fn(rnd)
        estimate = float("inf")
        if budget_s > 0:
            probe = 16
            t0 = time.perf_counter()
            _per_step_loop(a64, b64, rnd_q, probe)
            estimate = (time.perf_counter() - t0) * k / probe
        if estimate <= budget_s:
            aa, bb, scale, what = a64, b64, 1.0, f"full {MM}x{MM}x{MM}"
        else:
            aa, bb = a64[:MM_SLICE], b64[:, :MM_SLICE]
            scale = (a64.shape[0] * b64.shape[1]) / (MM_SLICE * MM_SLICE)
            what = f"{MM_SLICE}x{MM}x{MM_SLICE} slice, x{scale:.0f}"
        t0 = time.perf_counter()
        res = _per_step_loop(aa, bb, rnd_q, k)
        secs = time.perf_counter() - t0
        same = np.array_equal(res, reference[:aa.shape[0], :bb.shape[1]])
        out.append(dict(peer=label, what=what, measured_s=secs, full_ms=secs * scale * 1e3,
                        same="yes" if same else f"no ({int(np.sum(res != reference[:aa.shape[0], :bb.shape[1]]))} "
                                                "elements differ)"))
    return out


def _quiet_fn(fn):
    def wrapped(v):
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            return fn(v)

    return wrapped


def bench_matmul(repeats, peer_budget_s):
    rng = np.random.default_rng(4)
    a8 = floatsim.cast(rng.standard_normal((MM, MM), dtype=np.float32), "float8_e4m3fn")
    b8 = floatsim.cast(rng.standard_normal((MM, MM), dtype=np.float32), "float8_e4m3fn")
    results = {label: fa.matmul(a8, b8, "float8_e4m3fn", **kw) for label, kw, _ in matmul_cases()}
    verdict = verify_matmul(results, a8, b8)
    inner = 8  # numpy's matmul is short: each round times 8 calls
    pool = Pool()
    pool.add(("numpy",), lambda: [a8 @ b8 for _ in range(inner)], inner)
    for label, kw, _ in matmul_cases():
        pool.add((label,), lambda kw=kw: fa.matmul(a8, b8, "float8_e4m3fn", **kw), 1)
    get = pool.run(repeats)
    base = get("numpy")
    rows = [dict(label=label, path=_path(kw), ms=get(label) / 1e6, ratio=get(label) / base, verified=verdict[label])
            for label, kw, _ in matmul_cases()]
    peers = bench_per_step_peers(a8, b8, results[matmul_cases()[0][0]], peer_budget_s)
    return base / 1e6, rows, peers, repeats * inner


# --------------------------------------------------------------------------- tables
def _x(a, b):
    """``a / b`` as a speed-up (or slow-down) string."""
    return ratio(a, b)


def build_tables(n, repeats, slice_n, ref, rows, full_pychop, mm_base, mm_rows, peers, mm_repeats):
    pcopy = ref["parallel copy"]
    threads = numba.get_num_threads()
    chunk = f"2**{PYCHOP_CHUNK.bit_length() - 1}"
    head = ["case", "floatsim", "numpy float32", "pychop ‡", f"pychop chunk {chunk} ‡", "pychop.add/multiply ‡",
            "gfloat ‡", "speed-up vs pychop", f"speed-up vs pychop chunk {chunk}", "speed-up vs gfloat",
            "floatsim ÷ par. copy", "verified"]
    body = []
    for r in rows:
        body.append([r["case"].label, ns(r["fs"]), ns(r["np"]), ns(r["pc"]), ns(r["pct"]), ns(r["pc_op"]),
                     ns(r["gf"]), _x(r["pc"], r["fs"]), _x(r["pct"], r["fs"]), _x(r["gf"], r["fs"]),
                     _x(r["fs"], pcopy), r["verified"]])
    notes = [
        "floatsim: fa.add / fa.mul(x, y, fmt, rounding=...) with the default inputs='check' (the operands are "
        "checked to be values of fmt inside the kernel) and a freshly allocated float32 result; "
        "stochastic: seed=0, 64 counter-based random bits per element generated in the kernel (timed). "
        "numpy float32: x + y / x * y (allocating), the unemulated operation.",
        f"‡ pychop 0.6.2 (numpy backend) and gfloat 0.5.2 are slow: timed on a 2**{slice_n.bit_length() - 1}-"
        "element slice of the same arrays, reported per element. pychop: Chop(exp_bits, sig_bits, rmode, "
        "subnormal=True) applied to the float32 x ∘ y (rmode 1 nearest, 5 stochastic, 4 toward zero); the "
        "inputs are already in the format, so rounding only the result is the same operation. With its default "
        "chunk_size=800 pychop's numpy backend cuts every array into Dask chunks of 800 elements (deterministic "
        f"modes), which dominates its time; 'pychop chunk {chunk}' passes chunk_size={PYCHOP_CHUNK} (Dask "
        "threads over bigger chunks), the fastest setting we found (800, 2**14, 2**16, 2**18 and one pass "
        "tried). Its stochastic mode (rmode 5) never uses Dask, so both columns time the same code there. "
        "pychop.add / pychop.multiply(x, y, chop) (default Chop) additionally round both inputs (3 roundings), "
        "shown for the nearest-even cases. For FP8 pychop gets Chop(4, 3): the IEEE-style E4M3 shape (with inf, max 240), "
        "not OCP E4M3FN; pychop's Chop also returns wrong values in some cases (e.g. 0 in the all-ones "
        "binade), so its results are compared for speed only.",
        "gfloat: round_ndarray(format_info_bfloat16 / format_info_ocp_e4m3, x ∘ y, rnd=...) (returns float64); "
        "stochastic = RoundMode.Stochastic with srnumbits=16 (random bits drawn beforehand, not timed).",
        "x ∘ y in float32 is exact for FP8 operands and for bfloat16 products; a bfloat16 sum can be rounded "
        "once by float32 first, which does not matter for timing.",
        f"par. copy = parallel float32 copy ({threads} threads), 8 bytes per element; a binary op moves 12 "
        f"(parallel float32 add: {ns(ref['parallel add'])} ns/element = {_x(ref['parallel add'], pcopy)} the "
        "copy).",
        f"verified: the first {min(CHECK, n):,} results of floatsim's call on the full arrays equal the correctly "
        "rounded result from an independent oracle (float32 / float64 hardware arithmetic where it is exact, "
        "then ml_dtypes or one floatsim.cast); stochastic: each result is one of the two neighbours of the "
        "exact value, and some differ from the nearest-even result.",
    ]
    for col, what in (("pc", "default Chop"), ("pct", f"chunk_size={PYCHOP_CHUNK}")):
        if full_pychop.get(col) is not None:
            notes.append(f"pychop ({what}) on the full 2**{n.bit_length() - 1} arrays, one call, "
                         f"{rows[0]['case'].label}: {ns(full_pychop[col])} ns/element "
                         f"({_x(full_pychop[col], rows[0]['fs'])} floatsim), against {ns(rows[0][col])} on the slice.")
    t1 = Table(f"Elementwise, 2**{n.bit_length() - 1} float32 elements: ns/element (median of {repeats})", head,
               body, notes)
    t2 = Table(
        "Memory-bandwidth and plain-arithmetic references (same arrays)",
        ["reference", "threads", "ns/element", "GB/s"],
        [
            ["parallel float32 copy (numba prange)", str(threads), ns(pcopy), f"{8 / pcopy:.1f}"],
            ["parallel float32 add (numba prange, out=)", str(threads), ns(ref["parallel add"]),
             f"{12 / ref['parallel add']:.1f}"],
            ["numpy float32 x + y (allocating)", "1", ns(ref["numpy add"]), f"{12 / ref['numpy add']:.1f}"],
            ["numpy float32 x + y, out=", "1", ns(ref["numpy add out="]), f"{12 / ref['numpy add out=']:.1f}"],
        ],
    )
    t3 = Table(
        f"matmul {MM}x{MM}x{MM}, float8_e4m3fn inputs: ms (median of {repeats})",
        ["accumulation", "path", "ms", "÷ numpy float32 matmul", "verified"],
        [[r["label"], r["path"], f"{r['ms']:.1f}", _x(r["ratio"], 1), r["verified"]] for r in mm_rows],
        [
            f"numpy float32 a @ b of the same arrays (float32 holding the FP8 values): {mm_base:.2f} ms (median "
            f"of {repeats} rounds of 8 calls, {mm_repeats} calls).",
            "fa.matmul(a8, b8, 'float8_e4m3fn', accumulate=..., order=..., block=..., outer=...). path: "
            "'native float32' = FP8 products are exact in float32, so hardware float32 adds are the emulation; "
            "'generic' = every step is an exact product-sum rounded by the core's projection.",
            f"verified: the first {MM_CHECK_ROWS} rows equal an independent oracle (exact float32 products; "
            "float32 hardware adds in the definition's order; bfloat16 / E8M13 steps as an exact float64 sum "
            "rounded by floatsim.cast); stochastic: within the per-step error bound K·2**-23·Σ|a||b| of the "
            "exact product and different from the nearest-even result.",
        ],
        left=2,
    )
    seq = mm_rows[0]
    t4 = Table(
        "Per-step rounding with pychop / gfloat (no matmul of theirs rounds per step): one run",
        ["peer loop", "timed on", "seconds measured", "full-problem ms", "÷ numpy float32 matmul",
         "÷ floatsim float32 sequential", "result = floatsim's"],
        [[p["peer"], p["what"], f"{p['measured_s']:.2f}", f"{p['full_ms']:.0f}", _x(p["full_ms"], mm_base),
          _x(p["full_ms"], seq["ms"]), p["same"]] for p in peers],
        [
            "acc = rnd(acc + rnd(a[:, k:k+1] * b[k:k+1, :])) for k in range(512), in float64 arrays (a chop "
            "user's emulation of float32 accumulation with per-step rounding; pychop.matmul(a, b, chop) rounds "
            "only the inputs and the result, so it is not the same computation). A slice is used when the "
            "full problem would take longer than 60 s (always with --quick); its time is scaled by the ratio of "
            "output elements, which also scales fixed per-call costs (pychop's Dask set-up, about 2 ms a call), "
            "so a scaled slice overstates such a peer. pychop's chunk_size=800 means 800 x 800 Dask blocks for "
            "these 2-D arrays, so both pychop rows run one block per call on the full problem. result = floatsim's: the loop's result equals fa.matmul(..., accumulate='float32') "
            "on the same elements.",
        ],
        left=2,
    )
    return [t1, t2, t3, t4]


def targets_table(rows, mm_rows):
    out = []
    chunk = f"chunk_size=2**{PYCHOP_CHUNK.bit_length() - 1}"
    variants = [("pc", "default Chop", lambda r: True),
                ("pc", "default Chop, deterministic modes only", lambda r: r["case"].rounding != "stochastic"),
                ("pct", f"Chop({chunk})", lambda r: True)]
    for col, what, keep in variants:
        with_pc = [r for r in rows if r[col] is not None and keep(r)]
        if not with_pc:
            out.append([f"elementwise ops >= {ELEMENTWISE_TARGET:.0f}× faster than pychop", "pychop not installed",
                        "—"])
            break
        worst = min(with_pc, key=lambda r, col=col: r[col] / r["fs"])
        s = worst[col] / worst["fs"]
        out.append([f"elementwise ops >= {ELEMENTWISE_TARGET:.0f}× faster than pychop, {what} (worst case: "
                    f"{worst['case'].label})", f"{s:.1f}×", "yes" if s >= ELEMENTWISE_TARGET else "NO"])
    # the matmul cases are FP8 inputs with FP32 accumulation, sequential and blocked; the other
    # accumulators of the table (bfloat16, E8M13, stochastic) take the generic per-step kernel: reported too
    for what, keep in (("FP8 inputs, FP32 accumulation, sequential and blocked (the issue's cases)",
                        lambda r: r["label"] in ("float32, sequential", "float32, blocked 32")),
                       ("every accumulation of the table, generic per-step kernel included", lambda r: True)):
        chosen = [r for r in mm_rows if keep(r)]
        worst = max(chosen, key=lambda r: r["ratio"])
        out.append([f"matmul with per-step rounding within {MATMUL_TARGET:.0f}× numpy float32 matmul, {what} "
                    f"(worst case: {worst['label']})", f"{worst['ratio']:.1f}×",
                    "yes" if worst["ratio"] <= MATMUL_TARGET else "NO"])
    return Table("Targets", ["target", "reached", "met?"], out,
                 ["Each target is checked on the worst case of its table (the ratios of every case are below). "
                  "The issue names pychop without a configuration: the first rows are pychop as shipped, the "
                  "third its fastest chunk size on this machine. The issue's matmul cases accumulate in FP32, which "
                  "runs on hardware float32 adds (bit-exact: FP8 products are exact in float32); the last row adds "
                  "the accumulators that need the generic kernel."])


HOW_TO_READ = """\
Every number is the median of repeated calls after a warm-up call, all taken in one run of the
script on the machine listed below; the cases of each table are timed round-robin (one call of each
case per round), so a burst of load from other processes hits them alike. Absolute times move with
the machine and its load; the ratios compare numbers taken seconds apart in the same process, so
they are what to quote. "speed-up vs pychop / gfloat" is how many times faster floatsim is;
"floatsim ÷ par. copy" compares it with a parallel copy of the same float32 array (the memory
bandwidth). For matmul, "÷ numpy float32 matmul" is how many times slower than an unemulated
float32 `a @ b` (BLAS) of the same shape the emulation is. Every floatsim result was checked against
an independent oracle before it was timed."""


def render_markdown(machine, args, tables, target_tbl, cond, command):
    md = ["# Arithmetic performance", ""]
    md.append("Generated by `benchmarks/bench_arith.py`; to reproduce, from the repository root:")
    md += ["", "```", command, "```", ""]
    md.append(f"Run on {datetime.date.today().isoformat()}: elementwise on 2**{args.n_log2} = {1 << args.n_log2:,} "
              f"elements, matmul {MM}x{MM}x{MM}, median of {args.repeats} repeats"
              f"{' (--quick smoke run)' if args.quick else ''}.")
    md += ["", "## How to read this", "", HOW_TO_READ, "", "## Machine", ""]
    md += ["| | |", "|:--|:--|"] + [f"| {k} | {v} |" for k, v in machine.items()]
    md += [f"| {k} | {v} |" for k, v in _conditions(cond).items()]
    if _noisy(cond):
        md += ["", "**Note:** the machine was busy with other work during this run (other processes used >= 0.25 "
               "CPU on average during the timings); absolute times are noisier than usual, ratios less so."]
    md += ["", "## Targets", "", target_tbl.markdown(heading=False), "", "## Results", ""]
    for t in tables:
        md += [t.markdown(), ""]
    return "\n".join(md).rstrip() + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n-log2", type=int, default=None, help="log2 of the elementwise size (default 24)")
    p.add_argument("--repeats", type=int, default=None, help="timed calls per case (default 7)")
    p.add_argument("--quick", action="store_true", help="2**20 elements, 3 repeats, small peer slices (smoke run)")
    p.add_argument("--markdown", metavar="FILE", help="also write the results as a Markdown page")
    p.add_argument("--wait-idle", type=float, default=0, metavar="MIN",
                   help="first wait up to MIN minutes for a 10-second window with other processes using < 0.2 CPU")
    args = p.parse_args(argv)
    if args.n_log2 is None:
        args.n_log2 = 20 if args.quick else 24
    if args.repeats is None:
        args.repeats = 3 if args.quick else 7
    n = 1 << args.n_log2
    slice_n = min(n, (1 << 16) if args.quick else SLICE)
    peer_budget = 0.0 if args.quick else 60.0  # --quick: always the slice
    command = "python benchmarks/bench_arith.py" + "".join(
        f" {shlex.quote(a)}" for a in (sys.argv[1:] if argv is None else argv))

    wait_idle(args.wait_idle)
    load_before = _load()
    print(f"load average before: {load_before}; 2**{args.n_log2} elements, {args.repeats} repeats", file=sys.stderr)
    prefault(min(2 << 30, 128 * n))
    with CpuMeter() as meter:
        print("elementwise (verify, then all cases interleaved) ...", file=sys.stderr)
        ref, rows, full_pychop = bench_elementwise(n, args.repeats, slice_n, full_pychop=not args.quick)
        print("matmul (verify, then all cases interleaved; then the per-step peer loops) ...", file=sys.stderr)
        mm_base, mm_rows, peers, mm_repeats = bench_matmul(args.repeats, peer_budget)
    print(f"  during the timings: {meter.describe()}", file=sys.stderr)
    cond = {"load_before": load_before, "meter": meter}
    machine = machine_info()
    tables = build_tables(n, args.repeats, slice_n, ref, rows, full_pychop, mm_base, mm_rows, peers, mm_repeats)
    target_tbl = targets_table(rows, mm_rows)
    print(render_text(machine, None, tables, target_tbl, cond, title="floatsim.arith benchmark"))
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(render_markdown(machine, args, tables, target_tbl, cond, command))
        print(f"\nwrote {args.markdown}", file=sys.stderr)


if __name__ == "__main__":
    main()
