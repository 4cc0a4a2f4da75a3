#!/usr/bin/env python
"""Throughput, start-up latency and memory of floatsim's cast / encode / decode, side by side with peers.

Run from the repository root::

    python benchmarks/bench_core.py                                  # 2**24 elements, 7 repeats
    python benchmarks/bench_core.py --quick                          # 2**20 elements, 3 repeats (smoke run)
    python benchmarks/bench_core.py --markdown docs/performance.md   # also write the whole page as Markdown

Every time is the median of ``--repeats`` calls after one warm-up call, in
nanoseconds per element, and every ratio compares numbers taken in the same run
(see "Performance method" in the design notes). Peers: ml_dtypes (``astype``),
numpy (float16 only), gfloat 0.5.2 and pychop 0.6.2 (numpy backend); gfloat and
pychop are slow, so they run on a 2**16-element slice. The memory-bandwidth
reference is a parallel float32 copy (a Numba ``prange`` loop with the same
thread count as floatsim) and a serial ``np.copyto``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import io
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time
import warnings

import numba
import numpy as np

import floatsim

try:
    import ml_dtypes
except ImportError:  # pragma: no cover - ml_dtypes is a dependency of floatsim
    ml_dtypes = None

try:
    import gfloat
    from gfloat import formats as gff
except ImportError:
    gfloat = None

try:
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        import pychop

        pychop.backend("numpy")
except Exception:  # pychop is optional (pip install pychop==0.6.2; it needs no torch with the numpy backend)
    pychop = None

SLICE = 1 << 16  # elements timed for the slow peers (gfloat, pychop)
FP4 = "float4_e2m1fn"
MEM_LIMIT = 4 << 20  # "a few MB": the peak extra memory target, in bytes
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------- formats under test
class Target:
    """One format and its spelling in every library (None: not available there)."""

    def __init__(self, name, mld, npt, gfi, chop):
        self.name = name
        self.mld = mld  # ml_dtypes scalar type
        self.npt = npt  # numpy scalar type
        self.gfi = gfi  # gfloat FormatInfo
        self.chop = chop  # pychop (exp_bits, sig_bits), an IEEE-style format


def targets():
    m = ml_dtypes
    g = gff if gfloat is not None else None
    return [
        Target("bfloat16", m and m.bfloat16, None, g and g.format_info_bfloat16, (8, 7)),
        Target("float16", None, np.float16, g and g.format_info_binary16, (5, 10)),
        Target("float8_e4m3fn", m and m.float8_e4m3fn, None, g and g.format_info_ocp_e4m3, (4, 3)),
        Target("float8_e5m2", m and m.float8_e5m2, None, g and g.format_info_ocp_e5m2, (5, 2)),
        Target(FP4, m and getattr(m, "float4_e2m1fn", None), None, g and g.format_info_ocp_e2m1, (2, 1)),
    ]


STOCHASTIC = ("bfloat16", "float8_e4m3fn")


# --------------------------------------------------------------------------- data and timing
def make_data(n: int) -> np.ndarray:
    """Standard normal float32 with subnormals (every 997th), NaN (every 10007th), +-inf (every 20011th)."""
    x = np.random.default_rng(0).standard_normal(n, dtype=np.float32)
    x[::997] = np.float32(1e-40)
    x[::10007] = np.nan
    idx = np.arange(0, n, 20011)
    x[idx] = np.where((idx // 20011) % 2 == 0, np.inf, -np.inf).astype(np.float32)
    return x


@numba.njit(parallel=True, nogil=True)
def _parallel_copy(src, dst):
    for i in numba.prange(src.size):
        dst[i] = src[i]


def _quiet(fn):
    """Run ``fn`` with warnings and stdout muted (pychop prints and warns a lot)."""

    def wrapped():
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            return fn()

    return wrapped


# --------------------------------------------------------------------------- machine
def _version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_rev():
    try:
        rev = subprocess.run(
            ["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return rev + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _load():
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


class CpuMeter:
    """CPU time that other processes used (and the hypervisor stole) while a block ran, from /proc/stat."""

    def __enter__(self):
        self.t0, self.stat0, self.own0 = time.perf_counter(), self._stat(), self._own()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.t0
        stat, own = self._stat(), self._own()
        if self.stat0 is None or stat is None or wall <= 0:
            self.others = self.steal = None
            return
        busy = stat[0] - self.stat0[0]
        self.others = max(0.0, busy - (own - self.own0)) / wall
        self.steal = (stat[1] - self.stat0[1]) / wall

    @staticmethod
    def _stat():
        try:
            with open("/proc/stat") as f:
                v = [int(a) for a in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        tick = os.sysconf("SC_CLK_TCK")
        # user nice system idle iowait irq softirq steal ...
        return (v[0] + v[1] + v[2] + v[5] + v[6]) / tick, (v[7] if len(v) > 7 else 0) / tick

    @staticmethod
    def _own():
        return sum(
            getattr(resource.getrusage(w), a)
            for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
            for a in ("ru_utime", "ru_stime")
        )

    def describe(self):
        if self.others is None:
            return "unknown"
        return (
            f"{self.others:.2f} of {os.cpu_count()} CPUs busy with other processes on average, "
            f"{self.steal:.2f} CPUs stolen by the hypervisor"
        )


def machine_info():
    return {
        "CPU": _cpu_model(),
        "nproc": str(os.cpu_count()),
        "numba threads": f"{numba.get_num_threads()} (threading layer {_threading_layer()})",
        "Python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "ml_dtypes": _version("ml_dtypes"),
        "gfloat": _version("gfloat"),
        "pychop": _version("pychop") if pychop is not None else "not installed (column skipped)",
        "floatsim": f"{floatsim.__version__} (git {_git_rev()})",
        "OS": platform.platform(),
    }


def _threading_layer():
    try:
        return numba.threading_layer()
    except ValueError:  # no parallel function has run yet
        return "not yet chosen"


# --------------------------------------------------------------------------- throughput
class Pool:
    """Cases timed round-robin: one warm-up call each, then ``repeats`` rounds of one call per case.

    Interleaving makes a burst of load from other processes hit every case alike, so
    ratios between cases stay meaningful on a noisy machine.
    """

    def __init__(self):
        self.cases = {}  # key -> (fn, elements)

    def add(self, key, fn, n):
        if fn:
            self.cases[key] = (fn, n)

    def run(self, repeats):
        for fn, _ in self.cases.values():
            fn()
        times = {k: [] for k in self.cases}
        for _ in range(repeats):
            for k, (fn, _) in self.cases.items():
                t0 = time.perf_counter_ns()
                fn()
                times[k].append(time.perf_counter_ns() - t0)
        res = {k: statistics.median(v) / self.cases[k][1] for k, v in times.items()}
        return lambda *key: res.get(key)


PEERS = ("fs", "fs_alloc", "mld", "npy", "gf", "pc")


def bench_all(x, repeats):
    n = x.size
    x4 = np.nan_to_num(x)  # FP4 has no NaN: NaN -> 0, +-inf -> +-float32 max, for every library
    xs = x[:SLICE].copy()
    xs4 = x4[:SLICE].copy()
    x64 = x.astype(np.float64)
    out32 = np.empty(n, np.float32)
    out32b = np.empty(n, np.float32)
    out64 = np.empty(n, np.float64)
    pool = Pool()
    pool.add(("ref", "parallel copy"), lambda: _parallel_copy(x, out32), n)
    pool.add(("ref", "np.copyto"), lambda: np.copyto(out32, x), n)
    pool.add(("ref", "parallel copy f64"), lambda: _parallel_copy(x64, out64), n)
    keys = []  # (op, fmt) in table order

    for t in targets():
        src, src_s = (x4, xs4) if t.name == FP4 else (x, xs)
        code_dtype = floatsim.get_format(t.name).code_dtype
        gf_sat = t.name == FP4  # gfloat raises on values beyond a format without inf / NaN unless sat=True
        codes_out = np.empty(n, code_dtype)
        codes = floatsim.encode(src, t.name)
        gf_rounded = gf_codes = None
        if t.gfi is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gf_rounded = gfloat.round_ndarray(t.gfi, src_s, sat=gf_sat)
                gf_codes = gfloat.encode_ndarray(t.gfi, gf_rounded)
        chop = None
        if pychop is not None:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                chop = pychop.Chop(exp_bits=t.chop[0], sig_bits=t.chop[1], rmode=1)
        peer = t.mld if t.mld is not None else t.npt
        peer_codes = codes.view(peer) if peer is not None else None
        cases = {
            "cast": dict(
                fs=lambda src=src, name=t.name: floatsim.cast(src, name, out=out32b),
                fs_alloc=lambda src=src, name=t.name: floatsim.cast(src, name),
                mld=t.mld and (lambda src=src, T=t.mld: src.astype(T).astype(np.float32)),
                npy=t.npt and (lambda src=src, T=t.npt: src.astype(T).astype(np.float32)),
                gf=t.gfi and _quiet(lambda s=src_s, fi=t.gfi, sat=gf_sat: gfloat.round_ndarray(fi, s, sat=sat)),
                pc=chop and _quiet(lambda s=src_s, c=chop: c(s)),
            ),
            "encode": dict(
                fs=lambda src=src, name=t.name, o=codes_out: floatsim.encode(src, name, out=o),
                fs_alloc=lambda src=src, name=t.name: floatsim.encode(src, name),
                mld=t.mld and (lambda src=src, T=t.mld: src.astype(T)),
                npy=t.npt and (lambda src=src, T=t.npt: src.astype(T)),
                gf=t.gfi and _quiet(lambda r=gf_rounded, fi=t.gfi: gfloat.encode_ndarray(fi, r)),
            ),
            "decode": dict(
                fs=lambda c=codes, name=t.name: floatsim.decode(c, name, out=out32b),
                fs_alloc=lambda c=codes, name=t.name: floatsim.decode(c, name),
                mld=t.mld and (lambda c=peer_codes: c.astype(np.float32)),
                npy=t.npt and (lambda c=peer_codes: c.astype(np.float32)),
                gf=t.gfi and _quiet(lambda c=gf_codes, fi=t.gfi: gfloat.decode_ndarray(fi, c)),
            ),
        }
        for op, fns in cases.items():
            keys.append((op, t.name))
            for peer_key, fn in fns.items():
                pool.add((op, t.name, peer_key), fn, SLICE if peer_key in ("gf", "pc") else n)

    # stochastic rounding (floatsim: 64 random bits per element from a counter-based hash, seed=0)
    for name in STOCHASTIC:
        t = next(t for t in targets() if t.name == name)
        srbits = np.random.default_rng(1).integers(0, 1 << 16, SLICE, dtype=np.int64)
        chop = None
        if pychop is not None:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                chop = pychop.Chop(exp_bits=t.chop[0], sig_bits=t.chop[1], rmode=5)
        op = "cast stochastic"
        keys.append((op, name))
        pool.add(
            (op, name, "fs"), lambda name=name: floatsim.cast(x, name, rounding="stochastic", seed=0, out=out32b), n
        )
        pool.add((op, name, "fs_alloc"), lambda name=name: floatsim.cast(x, name, rounding="stochastic", seed=0), n)
        pool.add(
            (op, name, "gf"),
            t.gfi
            and _quiet(
                lambda fi=t.gfi, b=srbits: gfloat.round_ndarray(
                    fi, xs, rnd=gfloat.RoundMode.Stochastic, srbits=b, srnumbits=16
                )
            ),
            SLICE,
        )
        pool.add((op, name, "pc"), chop and _quiet(lambda c=chop: c(xs)), SLICE)

    # float64 input (same values)
    f64names = ("float8_e4m3fn", "bfloat16")
    for name in f64names:
        T = getattr(ml_dtypes, name) if ml_dtypes is not None else None
        pool.add(("f64", name, "fs"), lambda name=name: floatsim.cast(x64, name, out=out64), n)
        pool.add(("f64", name, "mld"), T and (lambda T=T: x64.astype(T).astype(np.float64)), n)

    get = pool.run(repeats)
    ref = {k: get("ref", k) for k in ("parallel copy", "np.copyto")}
    rows = [dict(op=op, fmt=fmt, **{p: get(op, fmt, p) for p in PEERS}) for op, fmt in keys]
    f64rows = [
        {"fmt": name, "f32": get("cast", name, "fs"), "f64": get("f64", name, "fs"), "mld64": get("f64", name, "mld")}
        for name in f64names
    ]
    return ref, rows, get("ref", "parallel copy f64"), f64rows


# --------------------------------------------------------------------------- start-up and memory (subprocesses)
FIRST_CALL = (
    "import time; t=time.perf_counter(); import floatsim, numpy as np; "
    "floatsim.cast(np.ones(1000, np.float32), 'float8_e4m3fn'); print(time.perf_counter()-t)"
)
IMPORT_ONLY = "import time; t=time.perf_counter(); import floatsim; print(time.perf_counter()-t)"
IMPORT_DEPS = "import time; t=time.perf_counter(); import numpy, numba; print(time.perf_counter()-t)"


def _child(code):
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - t0
    if res.returncode:
        raise RuntimeError(f"subprocess failed:\n{res.stderr}")
    return float(res.stdout.strip().splitlines()[-1]), wall


def bench_startup():
    first = _child(FIRST_CALL)
    warm = [_child(FIRST_CALL) for _ in range(3)]
    return {
        "first": first,
        "warm": (statistics.median(w[0] for w in warm), statistics.median(w[1] for w in warm)),
        "import": statistics.median(_child(IMPORT_ONLY)[0] for _ in range(3)),
        "deps": statistics.median(_child(IMPORT_DEPS)[0] for _ in range(3)),
    }


MEMORY_CHILD = r"""
import json, sys, tracemalloc
import numpy as np, floatsim
n = int(sys.argv[1])

def status():
    d = {}
    with open('/proc/self/status') as f:
        for line in f:
            k, _, v = line.partition(':')
            if k in ('VmRSS', 'VmHWM'):
                d[k] = int(v.split()[0]) * 1024
    return d

def reset_hwm():
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False

x32 = np.random.default_rng(0).standard_normal(n, dtype=np.float32)
x64 = x32.astype(np.float64)
cases = [
    ('cast float32 -> float8_e4m3fn', lambda: floatsim.cast(x32, 'float8_e4m3fn')),
    ('cast float32 -> bfloat16, stochastic', lambda: floatsim.cast(x32, 'bfloat16', rounding='stochastic', seed=0)),
    ('cast float64 -> float8_e4m3fn', lambda: floatsim.cast(x64, 'float8_e4m3fn')),
    ('encode float32 -> float8_e4m3fn', lambda: floatsim.encode(x32, 'float8_e4m3fn')),
    ('decode float8_e4m3fn -> float32', None),
]
codes = floatsim.encode(x32, 'float8_e4m3fn')
cases[-1] = (cases[-1][0], lambda: floatsim.decode(codes, 'float8_e4m3fn'))
# warm-up on small arrays, serial and parallel sizes, so compilation memory is excluded
for k in (1000, 1 << 17):
    s32, s64 = x32[:k].copy(), x64[:k].copy()
    floatsim.cast(s32, 'float8_e4m3fn'); floatsim.cast(s32, 'bfloat16', rounding='stochastic', seed=0)
    floatsim.cast(s64, 'float8_e4m3fn'); c = floatsim.encode(s32, 'float8_e4m3fn'); floatsim.decode(c, 'float8_e4m3fn')
res = []
for name, fn in cases:
    hwm_ok = reset_hwm()
    before = status()
    y = fn()
    after = status()
    rss_extra = (after['VmHWM'] - before['VmRSS'] - y.nbytes) if hwm_ok else None
    del y
    tracemalloc.start()
    y = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    res.append({'case': name, 'out_bytes': y.nbytes, 'rss_extra': rss_extra, 'traced_extra': peak - y.nbytes})
    del y
print(json.dumps(res))
"""


def bench_memory(n):
    # a fixed mmap threshold turns off glibc's dynamic one, so every large array is a fresh mapping that
    # is returned to the system when freed (otherwise a freed array is reused from the heap, already resident)
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    res = subprocess.run(
        [sys.executable, "-c", MEMORY_CHILD, str(n)], capture_output=True, text=True, cwd=REPO, env=env
    )
    if res.returncode:
        raise RuntimeError(f"memory subprocess failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- formatting
def ns(v):
    if v is None:
        return "—"
    return f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:.0f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    r = a / b
    return f"{r:.2f}×" if r < 10 else f"{r:.1f}×" if r < 100 else f"{r:.0f}×"


def mib(b):
    return "—" if b is None else f"{b / 2**20:+.2f} MiB"


class Table:
    def __init__(self, title, header, rows, notes=(), left=1):
        self.title, self.header, self.rows, self.notes, self.left = title, header, rows, list(notes), left

    def text(self):
        cols = [self.header, *self.rows]
        widths = [max(len(str(r[i])) for r in cols) for i in range(len(self.header))]
        lines = [self.title, "-" * len(self.title)]
        for k, r in enumerate(cols):
            cells = [
                str(c).ljust(w) if i < self.left else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            ]
            lines.append("  ".join(cells).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines += [f"  {n}" for n in self.notes]
        return "\n".join(lines)

    def markdown(self, heading=True):
        out = [f"### {self.title}", ""] if heading else []
        out.append("| " + " | ".join(self.header) + " |")
        out.append("|" + "|".join(":--" if i < self.left else "--:" for i in range(len(self.header))) + "|")
        for r in self.rows:
            out.append("| " + " | ".join(str(c) for c in r) + " |")
        if self.notes:
            out.append("")
            out += [("\\" + n if n.startswith("*") else n) + "  " for n in self.notes]  # no list bullet
        return "\n".join(out)


def build_tables(n, repeats, ref, rows, copy64, f64rows, startup, memory):
    pcopy = ref["parallel copy"]
    threads = numba.get_num_threads()
    head = [
        "op",
        "format",
        "floatsim (out=)",
        "floatsim (alloc)",
        "ml_dtypes",
        "numpy",
        "gfloat ‡",
        "pychop ‡",
        "ml_dtypes ÷ floatsim",
        "floatsim ÷ par. copy",
    ]
    body = []
    for r in rows:
        peer = r["mld"] if r["mld"] is not None else r["npy"]
        speed = ratio(peer, r["fs"])
        if r["mld"] is None and r["npy"] is not None and speed != "—":
            speed += " (numpy)"
        fmt = r["fmt"] + (" *" if r["fmt"] == FP4 else "")
        body.append(
            [
                r["op"],
                fmt,
                ns(r["fs"]),
                ns(r["fs_alloc"]),
                ns(r["mld"]),
                ns(r["npy"]),
                ns(r["gf"]),
                ns(r["pc"]),
                speed,
                ratio(r["fs"], pcopy),
            ]
        )
    t1 = Table(
        f"float32 input, 2**{n.bit_length() - 1} elements: ns/element (median of {repeats})",
        head,
        body,
        [
            "floatsim (out=): output preallocated; floatsim (alloc): out=None. ml_dtypes: cast = "
            "x.astype(T).astype(float32), encode = x.astype(T), decode = codes.view(T).astype(float32); numpy "
            "the same with np.float16. All peers allocate their result.",
            f"* {FP4} has no NaN (floatsim raises on NaN into it, gfloat raises on NaN and inf): for this format "
            "every library gets np.nan_to_num(x) (NaN -> 0, ±inf -> ±float32 max); gfloat also needs sat=True "
            "for it (floatsim and ml_dtypes saturate there by default).",
            f"‡ gfloat 0.5.2 and pychop 0.6.2 (numpy backend) are slow: timed on a 2**{SLICE.bit_length() - 1}-"
            "element slice of the same data, reported per element. gfloat: cast = round_ndarray (returns float64), "
            "encode = encode_ndarray of the rounded values, decode = decode_ndarray; stochastic = "
            "RoundMode.Stochastic with srnumbits=16 (random bits drawn beforehand, not timed). pychop: Chop(exp_bits, "
            "sig_bits, rmode=1 or 5) is an IEEE-style format (with inf), so its e4m3 / e2m1 are not the OCP "
            "fn formats (timing only).",
            "floatsim stochastic: rounding='stochastic', seed=0 (64 counter-based random bits per element, "
            "generated inside the kernel and timed).",
            f"par. copy = parallel float32 copy below ({threads} threads); it moves 8 bytes per element, like "
            "cast; encode writes and decode reads fewer bytes, so their ratio to the copy is conservative.",
        ],
        left=2,
    )
    t2 = Table(
        "Memory-bandwidth reference (float32 -> float32 copy of the same array)",
        ["copy", "threads", "ns/element", "GB/s (read + write)"],
        [
            ["numba prange loop", str(threads), ns(pcopy), f"{8 / pcopy:.1f}"],
            ["np.copyto", "1", ns(ref["np.copyto"]), f"{8 / ref['np.copyto']:.1f}"],
        ],
    )
    t3 = Table(
        "float64 input (same values): floatsim cast with out=, ns/element",
        [
            "format",
            "float32 in",
            "float64 in",
            "float64 ÷ float32",
            "ml_dtypes float64 in",
            "ml_dtypes ÷ floatsim (f64)",
            "floatsim f64 ÷ f64 par. copy",
        ],
        [
            [
                r["fmt"],
                ns(r["f32"]),
                ns(r["f64"]),
                ratio(r["f64"], r["f32"]),
                ns(r["mld64"]),
                ratio(r["mld64"], r["f64"]),
                ratio(r["f64"], copy64),
            ]
            for r in f64rows
        ],
        [
            f"float64 parallel copy: {ns(copy64)} ns/element ({ratio(copy64, pcopy)} the float32 copy); a float64 "
            "input moves 12 bytes per element instead of 8."
        ],
    )
    t4 = Table(
        "Start-up: fresh Python process, seconds (time.perf_counter() inside the process)",
        ["what", "seconds", "process wall time"],
        [
            [
                "import floatsim + first cast (1000 float32 -> float8_e4m3fn), 1st process",
                f"{startup['first'][0]:.3f}",
                f"{startup['first'][1]:.3f}",
            ],
            [
                "same, warm disk cache (median of 3 more processes)",
                f"{startup['warm'][0]:.3f}",
                f"{startup['warm'][1]:.3f}",
            ],
            ["import floatsim alone (median of 3)", f"{startup['import']:.3f}", ""],
            ["import numpy, numba alone (median of 3; floor for the above)", f"{startup['deps']:.3f}", ""],
        ],
        [
            "The 1st process may compile the kernels and fill Numba's disk cache (if the sources changed since the "
            "last run); the later ones load the cached machine code. Process wall time adds interpreter start-up."
        ],
    )
    t5 = Table(
        f"Peak extra memory of one call with out=None, 2**{n.bit_length() - 1} elements (beyond the output)",
        ["case", "output", "peak RSS extra", "tracemalloc extra"],
        [[m["case"], f"{m['out_bytes'] / 2**20:.0f} MiB", mib(m["rss_extra"]), mib(m["traced_extra"])] for m in memory],
        [
            "Measured in a subprocess after warm-up calls on small arrays (compilation excluded). Peak RSS extra = "
            "VmHWM after the call (reset through /proc/self/clear_refs) - VmRSS before - output bytes; "
            "tracemalloc extra = traced peak (numpy allocations) - output bytes."
        ],
    )
    return [t1, t2, t3, t4, t5]


def targets_table(ref, rows, f64rows, startup, memory):
    def row(op, fmt):
        return next(r for r in rows if r["op"] == op and r["fmt"] == fmt)

    e4 = "float8_e4m3fn"
    cast, enc, dec = row("cast", e4), row("encode", e4), row("decode", e4)
    out = []

    def add(target, reached, met):
        out.append([target, reached, "yes" if met else "NO"])

    s = cast["mld"] / cast["fs"]
    add("cast float32 -> float8_e4m3fn >= 20× faster than ml_dtypes", f"{s:.1f}×", s >= 20)
    s = cast["fs"] / ref["parallel copy"]
    add("same cast <= 1.5× a parallel float32 copy", f"{s:.2f}×", s <= 1.5)
    s = enc["mld"] / enc["fs"]
    add("encode float32 -> float8_e4m3fn >= 10× ml_dtypes astype", f"{s:.1f}×", s >= 10)
    s = dec["mld"] / dec["fs"]
    add("decode float8_e4m3fn -> float32 >= 10× ml_dtypes astype", f"{s:.1f}×", s >= 10)
    for name in STOCHASTIC:
        s = row("cast stochastic", name)["fs"] / row("cast", name)["fs"]
        add(f"stochastic cast <= 2× nearest_even cast ({name})", f"{s:.2f}×", s <= 2)
    for r in f64rows:
        s = r["f64"] / r["f32"]
        add(f"float64 input <= 2× float32 per element ({r['fmt']})", f"{s:.2f}×", s <= 2)
    s = startup["warm"][0]
    add("first cast in a fresh process (warm disk cache) < 1 s incl. import", f"{s:.3f} s", s < 1)
    m = memory[0]
    extra = m["rss_extra"] if m["rss_extra"] is not None else m["traced_extra"]
    add(
        f"peak extra memory of a cast <= a few MB beyond the output (checked: <= {MEM_LIMIT >> 20} MiB)",
        mib(extra),
        extra <= MEM_LIMIT,
    )
    return Table(
        "Targets",
        ["target", "reached", "met?"],
        out,
        ["The ml_dtypes / copy ratios for the other formats are in the first table."],
    )


HOW_TO_READ = """\
Every number is the median of repeated calls after a warm-up call, in nanoseconds per element
(lower is better), all taken in one run of the script on the machine listed below. The cases
are timed round-robin (one call of each case per round), so a burst of load from other
processes hits them alike. Absolute times move with the machine and its load; the ratios
compare numbers taken seconds apart in the same process, so they are what to quote.
"ml_dtypes ÷ floatsim" is floatsim's speed-up over `ml_dtypes`' `astype` (numpy's for
float16). "floatsim ÷ par. copy" compares floatsim with the physical limit, a parallel copy
of the same float32 array with the same number of threads: 1.0× means the call runs at memory
bandwidth. "floatsim (alloc)" includes allocating the output (page faults on a fresh array),
which the peers always pay; "floatsim (out=)" writes into a preallocated array. gfloat and
pychop are pure-numpy reference implementations, timed on a small slice; they are there for
scale. The targets are the performance requirements of the issue; the ratio targets are
checked on the float8_e4m3fn rows."""


def _noisy(cond):
    """Busy: other processes used >= 0.25 CPU during the timings (the load average when that is unknown)."""
    if cond["meter"].others is not None:
        return cond["meter"].others >= 0.25
    try:
        return float(cond["load_before"].split(" / ")[0]) >= 0.5
    except ValueError:
        return False


def _conditions(cond):
    return {
        "load average before": f"{cond['load_before']} (1 / 5 / 15 min)",
        "during the timings": cond["meter"].describe(),
    }


def render_text(machine, args, tables, target_tbl, cond, title="floatsim benchmark"):
    lines = [title, "=" * len(title)]
    lines += [f"{k:20s} {v}" for k, v in {**machine, **_conditions(cond)}.items()]
    if _noisy(cond):
        lines.append("WARNING: the machine was busy with other work; absolute times are noisy, ratios less so.")
    lines.append("")
    for t in tables:
        lines += [t.text(), ""]
    lines.append(target_tbl.text())
    return "\n".join(lines)


def render_markdown(machine, args, tables, target_tbl, cond, command):
    n = 1 << args.n_log2
    md = ["# Performance", ""]
    md.append("Generated by `benchmarks/bench_core.py`; to reproduce, from the repository root:")
    md += ["", "```", command, "```", ""]
    md.append(
        f"Run on {datetime.date.today().isoformat()}: 2**{args.n_log2} = {n:,} elements, median of "
        f"{args.repeats} repeats{' (--quick smoke run)' if args.quick else ''}."
    )
    md += ["", "## How to read this", "", HOW_TO_READ, "", "## Machine", ""]
    md += ["| | |", "|:--|:--|"] + [f"| {k} | {v} |" for k, v in machine.items()]
    md += [f"| {k} | {v} |" for k, v in _conditions(cond).items()]
    if _noisy(cond):
        md += [
            "",
            "**Note:** the machine was busy with other work during this run (other processes used >= 0.25 "
            "CPU on average during the timings); absolute times are noisier than usual, ratios less so.",
        ]
    md += ["", "## Targets", "", target_tbl.markdown(heading=False), "", "## Results", ""]
    for t in tables:
        md += [t.markdown(), ""]
    return "\n".join(md).rstrip() + "\n"


def wait_idle(minutes):
    deadline = time.monotonic() + 60 * minutes
    while time.monotonic() < deadline:
        with CpuMeter() as m:
            time.sleep(10)
        print(f"waiting for an idle machine: {m.describe()}", file=sys.stderr)
        if m.others is None or m.others < 0.2:
            return
    if minutes:
        print("the machine did not become idle; running anyway", file=sys.stderr)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n-log2", type=int, default=None, help="log2 of the number of elements (default 24)")
    p.add_argument("--repeats", type=int, default=None, help="timed calls per case (default 7)")
    p.add_argument("--quick", action="store_true", help="2**20 elements and 3 repeats (smoke run)")
    p.add_argument("--markdown", metavar="FILE", help="also write the results as a Markdown page")
    p.add_argument(
        "--wait-idle",
        type=float,
        default=0,
        metavar="MIN",
        help="first wait up to MIN minutes for a 10-second window with other processes using < 0.2 CPU",
    )
    args = p.parse_args(argv)
    if args.n_log2 is None:
        args.n_log2 = 20 if args.quick else 24
    if args.repeats is None:
        args.repeats = 3 if args.quick else 7
    n = 1 << args.n_log2
    if n < SLICE:
        p.error(f"--n-log2 must be at least {SLICE.bit_length() - 1}")
    command = "python benchmarks/bench_core.py" + "".join(
        f" {shlex.quote(a)}" for a in (sys.argv[1:] if argv is None else argv)
    )

    wait_idle(args.wait_idle)
    load_before = _load()
    print(f"load average before: {load_before}; 2**{args.n_log2} elements, {args.repeats} repeats", file=sys.stderr)
    x = make_data(n)
    print("throughput (all cases interleaved) ...", file=sys.stderr)
    with CpuMeter() as meter:
        ref, rows, copy64, f64rows = bench_all(x, args.repeats)
    print(f"  during the timings: {meter.describe()}", file=sys.stderr)
    del x
    print("start-up ...", file=sys.stderr)
    startup = bench_startup()
    print("memory ...", file=sys.stderr)
    memory = bench_memory(n)
    cond = {"load_before": load_before, "meter": meter}

    machine = machine_info()
    tables = build_tables(n, args.repeats, ref, rows, copy64, f64rows, startup, memory)
    target_tbl = targets_table(ref, rows, f64rows, startup, memory)
    print(render_text(machine, args, tables, target_tbl, cond))
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(render_markdown(machine, args, tables, target_tbl, cond, command))
        print(f"\nwrote {args.markdown}", file=sys.stderr)


if __name__ == "__main__":
    main()
