"""Quantizers on dask arrays, chunk by chunk, with the in-memory result bit for bit.

`quantize(quantizer, x)` and `fake_quantize(quantizer, x)` take a `dask.array.Array` and return lazy
results: a `DaskQuantizedTensor` (codes, scales, zero points and statistics as dask arrays) and a dask
array of values. Computed, they equal `quantizer.quantize(x.compute())` and
`quantizer.fake_quantize(x.compute())` bit for bit, for any chunking of `x` and any scheduler (threads,
processes, a `dask.distributed` cluster of any size). Every quantizer of `floatsim.quant` is supported:
`IntQuantizer`, `FloatQuantizer`, `BlockFloatQuantizer` (and `mx`), `NVFP4Quantizer` and
`CodebookQuantizer` (`nf4`, `bnb_fp4`, `dynamic8`, double quantization included).

How each layout is split into chunks (`Granularity` names the layouts):

| layout | what each chunk needs | what is done |
|---|---|---|
| blocks along an axis: `group:N`, MX / `BlockFloatQuantizer`, NVFP4 | whole blocks | `x` is rechunked along the block axis so that every chunk but the last holds a multiple of `N` elements there (the largest old chunk length rounded to a multiple of `N`, at least `N`); the other axes keep their chunks |
| `flat:N` (codebooks' default) | whole blocks of `x.ravel()` | every axis but the first becomes one chunk, and the first is chunked in steps whose element count is a multiple of `N` (about the old chunks' element count) |
| per tensor, per channel | the statistics of the whole tensor (of the channel) | no rechunking: the range or absmax is reduced over all chunks first (a dask reduction), then every chunk is quantized with it, as the in-memory quantizer does with a calibrated range (`min_val` / `max_val`, `amax`) |
| NVFP4's tensor scale | the largest block maximum of the tensor | reduced over the chunks first, then passed to each chunk as `tensor_amax` |
| codebook double quantization | the mean of all absmax values | an exact sum over the chunks (the in-memory `math.fsum`), then the absmax values are quantized lazily too |

`block_chunks(quantizer, x)` tells the chunks a quantizer will use. With `rechunk=False` a chunking that
splits blocks raises `ValueError` instead (it names the axis and the multiple needed). Nothing is computed by
`quantize` itself except a probe on a one-element array, which checks the quantizer's settings eagerly; the
statistics of the whole tensor are dask arrays too, so computing the codes reads the data twice for
per-tensor and per-channel schemes and NVFP4 (pass a calibrated range to read it once).

Stochastic rounding (a quantizer with `rounding="stochastic"` or `"stochastic_a/b/c"`) draws the random
bits of each element from its *global* index in the quantizer's blocked view (what the in-memory quantizer
uses: the C-order index for per-tensor, flat and last-axis blocks), never from its position in a chunk, so
the result does not depend on the chunking or the number of workers. A chunk takes the scales of the
deterministic quantizer (they do not depend on the element rounding), then rounds its elements as the
quantizer does, with `seed` and `index_offset` when its blocked view is one contiguous run of the whole
array's, else with the explicit random bits of its global indices. Without a `seed`, one fresh seed is drawn
per `quantize` call (shared by all chunks).

Errors that depend on the data (NaN for an integer scheme, float64 values beyond float32 for NVFP4, NaN / inf
for a codebook) are raised when the result is computed; for block-local schemes the count in the message is
the chunk's.

Needs dask (`pip install 'floatsim[dask]'`); `import floatsim.quant` does not import it.

Examples
--------
>>> import importlib.util
>>> import numpy as np
>>> import floatsim.quant as fq
>>> from floatsim.quant import dask as fqd
>>> if importlib.util.find_spec("dask") is not None:
...     import dask.array as da
...     x = np.random.default_rng(0).standard_normal((6, 70)).astype(np.float32)
...     lazy = fqd.quantize(fq.mx("mxfp4"), da.from_array(x, chunks=(4, 25)))  # chunks split MX blocks: rechunked
...     assert lazy.codes.chunks == ((4, 2), (32, 32, 6)) and lazy.scale.shape == (6, 3)
...     q = lazy.compute()                                                        # a QuantizedTensor
...     ref = fq.mx("mxfp4").quantize(x)
...     assert np.array_equal(q.codes, ref.codes) and np.array_equal(q.scale, ref.scale)
"""

from __future__ import annotations

import dataclasses
import math
import operator
import secrets
from typing import Any, NamedTuple

import numpy as np

from .._adapt import global_indices, run_start
from ..core import encode
from ..format import IntFormat
from ..rounding import Rounding
from ._kernels import block_stats, nearest_rows
from ._layout import Granularity, _norm_axis, flat, per_group, to_blocks
from .affine import INT32, FloatQuantizer, IntQuantizer, int_dtype
from .base import QuantizedTensor, Quantizer, float_input
from .blocks import _E2M1, _ELEM_MAX, BlockFloatQuantizer, NVFP4Quantizer, _absmax
from .codebooks import _F32_TINY, CodebookQuantizer, _to_float32

__all__ = ["DaskQuantizedTensor", "quantize", "fake_quantize", "block_chunks"]

_MISSING = "floatsim.quant.dask needs dask, which is not installed: pip install 'floatsim[dask]' (or dask[array])"
_SUPPORTED = (IntQuantizer, FloatQuantizer, BlockFloatQuantizer, NVFP4Quantizer, CodebookQuantizer)
_NONFINITE = ("x contains {} NaN / inf value(s): a range derived from the data would be non-finite; replace them, "
              "or pass an explicit range (min_val / max_val or amax)")


def _dask_array():
    try:
        import dask.array as da
    except ImportError:  # pragma: no cover - exercised only without dask
        raise ImportError(_MISSING) from None
    return da


# --------------------------------------------------------------------------- layouts
class _Layout(NamedTuple):
    """Which elements share parameters: `kind` in tensor / channel / group / flat / element, axis >= 0."""

    kind: str
    axis: int | None = None
    size: int | None = None

    @property
    def granularity(self) -> Granularity | None:
        if self.kind == "element":
            return None
        if self.kind == "group":
            return per_group(self.size, self.axis)
        if self.kind == "flat":
            return flat(self.size)
        return Granularity(self.kind, axis=self.axis)


def _layout(quantizer, ndim: int) -> _Layout:
    if isinstance(quantizer, BlockFloatQuantizer | NVFP4Quantizer):
        g = per_group(quantizer.block_size, quantizer.axis)
    elif isinstance(quantizer, CodebookQuantizer):
        if not quantizer.normalize:
            return _Layout("element")
        g = quantizer._granularity
    else:
        g = quantizer.granularity
    if g.kind in ("channel", "group"):
        if ndim == 0:
            raise ValueError(f"{g} needs an array with at least one dimension, not a 0-d array")
        return _Layout(g.kind, _norm_axis(g.axis, ndim), g.size)
    return _Layout(g.kind, None, g.size)


def _flat_step(shape, size: int) -> int:
    """Smallest number of leading-axis rows whose element count is a multiple of the flat block `size`."""
    row = math.prod(shape[1:])
    return size // math.gcd(size, row) if row else 1


def _misaligned(chunks, multiple: int) -> bool:
    return any(c % multiple for c in chunks[:-1])


def block_chunks(quantizer, x):
    """The chunks `quantize` gives `x` for `quantizer`: whole blocks in every chunk (see the module docstring).

    Parameters
    ----------
    quantizer : Quantizer
        One of the quantizers of `floatsim.quant`.
    x : dask.array.Array
        The array to quantize.

    Returns
    -------
    tuple of tuple of int
        Chunks in dask's form: `x.chunks` itself when they already hold whole blocks (and always for
        per-tensor, per-channel and elementwise schemes).

    Raises
    ------
    TypeError
        If `x` is not a dask array or `quantizer` not a supported quantizer.
    ValueError
        For an axis out of range, or a 0-d `x` with a layout that needs an axis.

    Examples
    --------
    >>> import importlib.util
    >>> import floatsim.quant as fq
    >>> from floatsim.quant.dask import block_chunks
    >>> if importlib.util.find_spec("dask") is not None:
    ...     import dask.array as da
    ...     assert block_chunks(fq.mx("mxfp4"), da.zeros((8, 100), chunks=(3, 50))) == ((3, 3, 2), (64, 36))
    ...     assert block_chunks(fq.nf4(), da.zeros((10, 24), chunks=5)) == ((8, 2), (24,))  # 8 rows = 3 blocks
    ...     assert block_chunks(fq.IntQuantizer(), da.zeros(10, chunks=3)) == ((3, 3, 3, 1),)   # per tensor
    """
    _check(quantizer, x)
    return _target_chunks(_layout(quantizer, x.ndim), x)


def _target_chunks(lay: _Layout, x):
    chunks = x.chunks
    if lay.kind == "group":
        along = chunks[lay.axis]
        if not _misaligned(along, lay.size):
            return chunks
        step = max(1, round(max(along) / lay.size)) * lay.size  # about the old chunk length
        n = x.shape[lay.axis]
        new = (step,) * (n // step) + ((n % step,) if n % step else ())
        return chunks[: lay.axis] + (new,) + chunks[lay.axis + 1:]
    if lay.kind == "flat" and x.ndim:
        k0 = _flat_step(x.shape, lay.size)
        if not _misaligned(chunks[0], k0) and all(len(c) <= 1 for c in chunks[1:]):
            return chunks
        row = max(1, math.prod(x.shape[1:]))
        target = max(math.prod(max(c) if c else 1 for c in chunks), 1)
        step = max(1, round(target / row / k0)) * k0  # about the old chunk's element count
        n = x.shape[0]
        lead = (step,) * (n // step) + ((n % step,) if n % step else ())
        return (lead,) + tuple((s,) for s in x.shape[1:])
    return chunks


def _aligned(x, lay: _Layout, rechunk: bool, argument: str = "x"):
    target = _target_chunks(lay, x)
    if target == x.chunks:
        return x
    if not rechunk:
        if lay.kind == "group":
            raise ValueError(
                f"the chunks of {argument} along axis {lay.axis} ({x.chunks[lay.axis]}) split the blocks of "
                f"{lay.size}: every chunk but the last must hold a multiple of {lay.size} elements there; "
                f"pass rechunk=True or rechunk {argument} yourself (e.g. {argument}.rechunk({{{lay.axis}: "
                f"{target[lay.axis][0]}}}))")
        raise ValueError(
            f"the chunks of {argument} split the flat blocks of {lay.size}: every axis but the first must be one "
            f"chunk and every chunk of the first but the last must hold a multiple of "
            f"{_flat_step(x.shape, lay.size)} rows; pass rechunk=True or rechunk {argument} yourself "
            f"(e.g. {argument}.rechunk({tuple(c[0] for c in target)}))")
    return x.rechunk(target)


def _param_shape(lay: _Layout, shape) -> tuple:
    """The parameter shape in "keepdims" form: the array's ndim (tensor: all ones; flat: (blocks, 1, ...))."""
    n = len(shape)
    if lay.kind == "tensor":
        return (1,) * n
    if lay.kind == "channel":
        return tuple(s if i == lay.axis else 1 for i, s in enumerate(shape))
    if lay.kind == "group":
        return tuple(-(-s // lay.size) if i == lay.axis else s for i, s in enumerate(shape))
    return (-(-math.prod(shape) // lay.size),) + (1,) * (n - 1)


def _param_chunks(lay: _Layout, chunks, shape) -> tuple:
    """Chunks of the keepdims parameters that pair block by block with the aligned `chunks`."""
    n = len(chunks)
    if lay.kind == "tensor":
        return ((1,),) * n
    if lay.kind == "channel":
        return tuple(c if i == lay.axis else (1,) for i, c in enumerate(chunks))
    if lay.kind == "group":
        return tuple(tuple(-(-k // lay.size) for k in c) if i == lay.axis else c for i, c in enumerate(chunks))
    row = math.prod(shape[1:])
    return (tuple(-(-(k * row) // lay.size) for k in chunks[0]),) + ((1,),) * (n - 1)


def _public(lay: _Layout, a, ndim: int):
    """Keepdims parameters -> the in-memory parameter shape (tensor: (), flat: (blocks,))."""
    if lay.kind == "tensor":
        return a.reshape(())
    if lay.kind == "flat" and ndim > 1:
        return a.reshape(a.shape[0])
    return a


def _keepdims(lay: _Layout, a, ndim: int):
    """The in-memory parameter shape -> keepdims (the inverse of `_public`), for NumPy and dask arrays alike."""
    if lay.kind == "tensor":
        return a.reshape((1,) * ndim)
    if lay.kind == "flat":
        return a.reshape((a.shape[0],) + (1,) * (ndim - 1))
    return a


def _unkeep(lay: _Layout, a: np.ndarray) -> np.ndarray:
    """A chunk's keepdims parameters -> the parameter shape of that chunk as the quantizer sees it."""
    if lay.kind == "tensor":
        return a.reshape(())
    if lay.kind == "flat":
        return a.reshape(-1)
    return a


def _blocked_index(lay: _Layout, location, shape) -> np.ndarray:
    """Global index, in the quantizer's blocked view of the whole array, of each element of one chunk.

    Per tensor and flat blocks: the C-order index. Per channel (axis k): the index in the array with axis k
    moved first. Groups along axis k: the index in the array with axis k moved last and padded to whole groups.
    """
    if lay.kind in ("tensor", "flat", "element"):
        return global_indices(location, shape)
    k = lay.axis
    others = [i for i in range(len(shape)) if i != k]
    if lay.kind == "channel":
        order = [k] + others
        idx = global_indices([location[i] for i in order], [shape[i] for i in order])
        return np.moveaxis(idx, 0, k)
    padded = -(-shape[k] // lay.size) * lay.size
    idx = global_indices([location[i] for i in others] + [location[k]], [shape[i] for i in others] + [padded])
    return np.moveaxis(idx, -1, k)


def _contiguous_start(lay: _Layout, location, shape) -> int | None:
    """The global blocked index of the chunk's first element when the chunk's blocked view is one contiguous
    run of the whole array's (then `seed` with `index_offset` draws its bits directly), else None."""
    n = len(shape)
    if lay.kind in ("tensor", "flat", "element"):
        order, sizes = list(range(n)), list(shape)
    else:
        k = lay.axis
        others = [i for i in range(n) if i != k]
        order = [k] + others if lay.kind == "channel" else others + [k]
        sizes = [shape[i] for i in order]
        if lay.kind == "group":
            padded = -(-shape[k] // lay.size) * lay.size
            if tuple(location[k]) == (0, shape[k]):  # a whole row: its padding is the whole array's padding
                location = list(location)
                location[k] = (0, padded)
            sizes[-1] = padded
    return run_start([tuple(location[i]) for i in order], sizes)


def _seeded_bits(seed: int, nbits: int, indices: np.ndarray) -> np.ndarray:
    """The random bits seeded stochastic rounding gives the elements of global `indices` (top `nbits` of 64)."""
    from .. import _kernels as K
    from .._jit import threads_for
    from ..core import _key

    bits = np.empty(indices.shape, np.uint64)
    with threads_for(bits.size):  # a small chunk must not wake the thread pool
        K.fill_random_bits_at(bits.reshape(-1), _key(seed), np.ascontiguousarray(indices, np.int64).reshape(-1))
    if nbits < 64:
        bits >>= np.uint64(64 - nbits)
    return bits


# --------------------------------------------------------------------------- the chunk computations
class _Spec(NamedTuple):
    """What every chunk task needs (pickled into the graph)."""

    quantizer: Any
    layout: _Layout
    stats: str | None  # "range" (+ "_checked"), "amax", "absmax", "tensor_amax" or None
    seed: int | None  # seeded stochastic rounding: the seed shared by all chunks
    nbits: int
    shape: tuple  # shape of the whole (aligned) array


def _local_quantizer(spec: _Spec, stats):
    q = spec.quantizer
    if isinstance(q, CodebookQuantizer) and q.double_quant:
        q = dataclasses.replace(q, double_quant=False)
    if spec.stats == "tensor_amax":
        q = dataclasses.replace(q, tensor_amax=float(stats[0].reshape(())))
    return q


def _stat_kwargs(spec: _Spec, stats) -> dict:
    lay = spec.layout
    if spec.stats in ("range", "range_checked"):
        if spec.stats == "range_checked":
            bad = int(stats[2].reshape(()))
            if bad:
                raise ValueError(_NONFINITE.format(bad))
        return {"min_val": _unkeep(lay, stats[0]), "max_val": _unkeep(lay, stats[1])}
    if spec.stats == "amax":
        return {"amax": _unkeep(lay, stats[0])}
    return {}


def _quantize_block(block, *stats, spec: _Spec, block_info=None) -> QuantizedTensor:
    """One chunk's `QuantizedTensor` (its quantizer: the chunk-local one, see `_local_quantizer`)."""
    local = _local_quantizer(spec, stats)
    if spec.stats == "absmax":
        return _codebook_with_absmax(local, block, _unkeep(spec.layout, stats[0]))
    kwargs = _stat_kwargs(spec, stats)
    if spec.seed is None:
        return local.quantize(block, **kwargs)
    return _stochastic(local, block, kwargs, spec, block_info[0]["array-location"])


def _codebook_with_absmax(q: CodebookQuantizer, block, absmax) -> QuantizedTensor:
    """`CodebookQuantizer.quantize` with the absmax of each block given (per tensor / per channel)."""
    x = float_input(block)
    x32 = q._checked_float32(x)
    blocks = to_blocks(x32, q._granularity)
    amax = np.asarray(absmax, np.float32)
    rows = blocks.rows(amax).reshape(-1)
    inv = np.float32(1) / np.maximum(rows, _F32_TINY)
    if q.tie == "bnb_cpu_lut":
        codes = q.nearest(np.clip(blocks.data * inv[:, None], np.float32(-1), np.float32(1)))
        codes[rows == 0] = 0
    else:
        codes = nearest_rows(blocks.data, inv, q._search.mid, q._search.order)
    return QuantizedTensor(blocks.unblock(codes), amax, None, q, x.shape, x.dtype)


def _stochastic(q, block, kwargs, spec: _Spec, location) -> QuantizedTensor:
    """A chunk with seeded stochastic rounding: the deterministic quantizer's scales (they do not depend on the
    element rounding), then the elements rounded as the quantizer rounds them, with the random bits of their
    global blocked index."""
    fields = {"rounding": "nearest_even", "seed": None}
    if hasattr(q, "sr_bits"):
        fields["sr_bits"] = None
    q0 = dataclasses.replace(q, **fields).quantize(block, **kwargs)
    lay = spec.layout
    sr = {"rounding": q.rounding, "sr_bits": getattr(q, "sr_bits", None)}
    start = _contiguous_start(lay, location, spec.shape)
    if start is not None:  # the fused kernel draws the bits itself
        sr.update(seed=spec.seed, index_offset=start)
    else:
        indices = to_blocks(_blocked_index(lay, location, spec.shape), lay.granularity).data
        sr["random_bits"] = _seeded_bits(spec.seed, spec.nbits, indices)
    if isinstance(q, BlockFloatQuantizer):
        arr = float_input(block)
        work = np.dtype(np.float64 if arr.dtype == np.float64 else np.float32)
        blocks = to_blocks(arr.astype(work, copy=False), lay.granularity)
        scale = blocks.rows(q0.scale)
        v = blocks.data * np.reciprocal(scale.astype(work))  # exact reciprocals: powers of two
        if q._implicit != 1.0:
            v *= work.type(1.0 / q._implicit)
        v[np.isnan(scale).reshape(-1)] = 0
        if isinstance(q._fmt, IntFormat):
            np.clip(v, q._int_min, q._fmt.max, out=v)
        codes = encode(v, q._fmt, overflow="saturate", **sr)
    elif isinstance(q, NVFP4Quantizer):
        blocks = to_blocks(float_input(block).astype(np.float32, copy=False), lay.granularity)
        d = blocks.rows(q0.scale)  # NaN for blocks with NaN / inf
        g = np.float32(q0.extra["tensor_scale"])
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            rec = (np.float32(1) / g) / d if q.per_tensor_scale else np.float32(1) / d
            rec = np.minimum(rec, np.finfo(np.float32).max)
            v = blocks.data * rec
        v[np.isnan(d).reshape(-1)] = 0
        np.clip(v, -_ELEM_MAX, _ELEM_MAX, out=v)
        codes = encode(v, _E2M1, overflow="saturate", **sr)
    elif isinstance(q, IntQuantizer):
        x = float_input(block)
        blocks = to_blocks(x, q.granularity)
        s = blocks.rows(q0.scale)
        zp = q0.zero_point if q0.zero_point is not None else np.int32(q0.extra.get("symmetric_zero_point", 0))
        zp = blocks.rows(np.broadcast_to(zp, np.shape(q0.scale))) if np.ndim(zp) else np.int64(zp)
        with np.errstate(over="ignore", divide="ignore"):
            v = blocks.data * (s.dtype.type(1) / s) if q.reciprocal else blocks.data / s
        r = encode(v, INT32, **sr).view(np.int32)
        qmin, qmax = q.qrange
        codes = np.clip(r.astype(np.int64) + zp, qmin, qmax).astype(int_dtype(qmin, qmax))
    else:  # FloatQuantizer
        x = float_input(block)
        blocks = to_blocks(x, q.granularity)
        s = blocks.rows(q0.scale)
        v = blocks.data * (np.float32(1) / s) if q.reciprocal else blocks.data / s
        m = v.dtype.type(q.format.max)
        codes = encode(np.clip(v, -m, m), q.format, overflow="saturate", **sr)
    return dataclasses.replace(q0, codes=np.ascontiguousarray(blocks.unblock(codes)), quantizer=q)


# --------------------------------------------------------------------------- statistics of the whole tensor
def _partial_block(block, *, lay: _Layout, what: str):
    """One chunk's partial statistics, keepdims over the reduced axes, with the statistics on a new last axis."""
    kept = () if lay.kind == "tensor" else (lay.axis,)
    shape = tuple(s if i in kept else 1 for i, s in enumerate(block.shape))
    if what == "nvfp4":  # the largest block maximum among the blocks without NaN / inf
        with np.errstate(over="ignore"):  # float64 beyond float32: the chunk's quantize raises its own error
            blocks = to_blocks(block.astype(np.float32, copy=False), lay.granularity)
        amax = _absmax(blocks.data)
        finite = amax[np.isfinite(amax)]
        return np.full((1,) * block.ndim + (1,), finite.max() if finite.size else 0.0, np.float64)
    data = np.moveaxis(block, kept, range(len(kept))).reshape(math.prod(shape), -1)
    if what == "absmax":
        data = _to_float32(data)
    lo, hi, amax, bad = block_stats(data)
    if what == "range":
        out = np.stack([lo, hi, bad.astype(np.float64)], axis=-1)
    else:  # amax over the finite values (FloatQuantizer), or the codebook's absmax
        if what == "amax" and bad.any():
            a = np.abs(data)
            amax = np.where(np.isfinite(a), a, 0).max(axis=1)
        out = amax[:, None]
    return np.asarray(out, np.float64).reshape(shape + (out.shape[-1],))


def _whole_stats(x, lay: _Layout, what: str) -> list:
    """Keepdims statistics of the whole tensor (per channel: of each channel), as dask arrays."""
    kept = () if lay.kind == "tensor" or what == "nvfp4" else (lay.axis,)
    width = 3 if what == "range" else 1
    chunks = tuple(c if i in kept else (1,) * len(c) for i, c in enumerate(x.chunks)) + ((width,),)
    parts = x.map_blocks(_partial_block, lay=lay, what=what, chunks=chunks, new_axis=x.ndim, dtype=np.float64,
                         meta=np.empty((0,) * (x.ndim + 1), np.float64))
    axes = tuple(i for i in range(x.ndim) if i not in kept)
    if what == "range":
        lo = parts[..., 0].min(axis=axes, keepdims=True)
        hi = parts[..., 1].max(axis=axes, keepdims=True)
        bad = parts[..., 2].sum(keepdims=True).reshape((1,) * x.ndim)
        return [lo, hi, bad]
    return [parts[..., 0].max(axis=axes, keepdims=True)]


def _given_stats(x, lay: _Layout, quantizer, kwargs) -> list:
    """A calibrated range (`min_val` / `max_val`, `amax`) as keepdims dask arrays paired with the chunks."""
    da = _dask_array()
    shape = _param_shape(lay, x.shape)
    public = _public(lay, np.empty(shape, np.float32), x.ndim).shape
    chunks = _param_chunks(lay, x.chunks, x.shape)
    arrays = []
    for name, value in kwargs.items():
        arr = np.asarray(value)
        if name == "amax" and (arr.dtype.kind not in "iuf" or np.any(arr < 0) or not np.all(np.isfinite(arr))):
            raise ValueError("amax must hold finite, non-negative numbers")
        try:
            arr = np.broadcast_to(arr, public)
        except ValueError:
            raise ValueError(f"{name} of shape {arr.shape} does not fit the parameter shape {public} of "
                             f"{lay.granularity}") from None
        arrays.append(da.from_array(np.ascontiguousarray(_keepdims(lay, arr, x.ndim)), chunks=chunks))
    if "min_val" in kwargs:
        quantizer.qparams(np.asarray(kwargs["min_val"]), np.asarray(kwargs["max_val"]))  # its errors, now
    return arrays


def _exact_sum_parts(block) -> int:
    """The exact sum of float32 values, times 2**149, as a Python integer (combines exactly across chunks)."""
    m, e = np.frexp(np.asarray(block, np.float64).reshape(-1))
    mant = (m * 2.0 ** 24).astype(np.int64)  # float32 significands: exact
    total = 0
    for u in np.unique(e):
        s = int(mant[e == u].sum())
        shift = int(u) + 125  # value * 2**149 = mant * 2**(e + 125); the shift is negative only for subnormals,
        total += s << shift if shift >= 0 else s >> -shift  # whose significands hold those trailing zeros
    return total


def _offset(parts, n: int) -> np.ndarray:
    """`_to_float32(math.fsum(values) / n)` from the exact partial sums (the double-quantization offset)."""
    mean = (sum(parts) / (1 << 149)) / max(1, n)  # int / int is correctly rounded, as math.fsum
    return _to_float32(np.array(mean))


# --------------------------------------------------------------------------- the lazy result
def _pick(q: QuantizedTensor, field: str, key, lay: _Layout, ndim: int):
    value = getattr(q, field) if key is None else q.extra[key]
    arr = np.asarray(value)
    if lay.kind == "tensor" or key is not None:
        return arr.reshape((1,) * ndim)
    if lay.kind == "flat":
        return arr.reshape((-1,) + (1,) * (ndim - 1))
    return arr


def _params_from(tmp, lay: _Layout, field: str, dtype, key=None):
    """A parameter array (scale, zero point, a per-tensor statistic) read from the chunk results `tmp`."""
    ndim = tmp.ndim
    meta = np.empty((0,) * ndim, dtype)
    if key is not None or lay.kind == "tensor":
        src = tmp.blocks[(0,) * ndim]
        arr = src.map_blocks(_pick, field, key, lay, ndim, chunks=((1,),) * ndim, dtype=dtype, meta=meta)
        return arr.reshape(())
    if lay.kind == "channel":
        src = tmp.blocks[tuple(slice(None) if i == lay.axis else slice(0, 1) for i in range(ndim))]
    else:
        src = tmp
    arr = src.map_blocks(_pick, field, key, lay, ndim, chunks=_param_chunks(lay, tmp.chunks, tmp.shape),
                         dtype=dtype, meta=meta)
    return _public(lay, arr, ndim)


@dataclasses.dataclass(frozen=True, eq=False)
class DaskQuantizedTensor:
    """A lazy `QuantizedTensor`: what `quantize` returns for a dask array.

    The fields are those of `QuantizedTensor`, with dask arrays where it has NumPy arrays; `compute()`
    returns the `QuantizedTensor` that `quantizer.quantize(x.compute())` gives, bit for bit. Compute the
    arrays you need together (`compute()`, `dask.compute(q.codes, q.scale)` or `dask.array.store` with
    several targets): they share the chunk tasks, which then run once.

    You can also build one from stored arrays (e.g. `dask.array.from_zarr`) to dequantize lazily: any
    chunking works, `dequantize` rechunks the codes to whole blocks and the parameters to match.

    Parameters
    ----------
    codes : dask.array.Array
        Element codes in the input's shape.
    scale : dask.array.Array or None
        Block scales in the granularity's parameter shape (0-d per tensor).
    zero_point : dask.array.Array or None
        Zero points (asymmetric integer schemes), like `scale`.
    quantizer : Quantizer
        The quantizer that made it.
    shape : tuple of int
        The input's shape.
    dtype : numpy.dtype
        The input's float dtype (`dequantize`'s default).
    scale_format : FloatFormat, optional
        The format the scales are stored in (None: float32).
    extra : dict, optional
        As `QuantizedTensor.extra`: NVFP4's `"tensor_scale"` (a 0-d dask array), double quantization's
        `"absmax_codes"`, `"absmax2"`, `"offset"` (dask arrays), plain values such as `"extra_bits"`.

    Examples
    --------
    >>> import importlib.util
    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> from floatsim.quant.dask import quantize
    >>> if importlib.util.find_spec("dask") is not None:
    ...     import dask.array as da
    ...     x = np.linspace(-1, 1, 96, dtype=np.float32).reshape(3, 32)
    ...     lazy = quantize(fq.IntQuantizer(bits=4, granularity="channel"), da.from_array(x, chunks=(1, 16)))
    ...     assert lazy.scale.shape == (3, 1) and lazy.bits_per_value == 4 + 32 / 32
    ...     assert np.array_equal(lazy.dequantize().compute(), fq.IntQuantizer(bits=4, granularity="channel")(x))
    """

    codes: Any
    scale: Any
    zero_point: Any
    quantizer: Any
    shape: tuple
    dtype: np.dtype
    scale_format: Any = None
    extra: dict = dataclasses.field(default_factory=dict)

    @property
    def size(self) -> int:
        """Number of elements of the original tensor."""
        return math.prod(self.shape)

    @property
    def bits_per_value(self) -> float:
        """Storage bits per element, as `QuantizedTensor.bits_per_value`."""
        def shape_only(a):  # storage_bits needs sizes only: no dask computation, no np.size on dask
            return None if a is None else np.broadcast_to(np.zeros((), np.uint8), a.shape)

        sized = dataclasses.replace(self, scale=shape_only(self.scale), zero_point=shape_only(self.zero_point))
        return self.quantizer.storage_bits(sized) / max(1, self.size)

    @property
    def nbytes(self) -> float:
        """Bytes when stored densely (codes packed, scales in their format)."""
        return self.bits_per_value * self.size / 8

    @property
    def scale_codes(self):
        """The scales as stored (codes of `scale_format`, lazily); the scale values when it is None."""
        if self.scale is None or self.scale_format is None:
            return self.scale
        return encode(self.scale, self.scale_format)

    def compute(self, **kwargs) -> QuantizedTensor:
        """Compute every array at once and return the in-memory `QuantizedTensor`.

        Parameters
        ----------
        **kwargs
            Passed to `dask.compute` (e.g. `scheduler="threads"`).

        Returns
        -------
        QuantizedTensor
            Equal, array for array, to `quantizer.quantize(x.compute())`.

        Examples
        --------
        >>> import importlib.util
        >>> import numpy as np
        >>> import floatsim.quant as fq
        >>> from floatsim.quant.dask import quantize
        >>> if importlib.util.find_spec("dask") is not None:
        ...     import dask.array as da
        ...     x = np.arange(40, dtype=np.float32)
        ...     q = quantize(fq.NVFP4Quantizer(), da.from_array(x, chunks=7)).compute()
        ...     assert type(q).__name__ == "QuantizedTensor" and q.extra["tensor_scale"] == np.float32(39 / 2688)
        """
        import dask

        names = [k for k, v in self.extra.items() if dask.is_dask_collection(v)]
        codes, scale, zero_point, *values = dask.compute(
            self.codes, self.scale, self.zero_point, *[self.extra[k] for k in names], **kwargs)
        extra = dict(self.extra)
        for k, v in zip(names, values, strict=True):
            extra[k] = np.float32(v) if k == "tensor_scale" else v  # NVFP4 keeps a NumPy scalar there
        return QuantizedTensor(codes, scale, zero_point, self.quantizer, tuple(self.shape), np.dtype(self.dtype),
                               self.scale_format, extra)

    def dequantize(self, dtype=None):
        """The values, lazily: a dask array equal to `self.compute().dequantize(dtype)`.

        Parameters
        ----------
        dtype : numpy.dtype or str, optional
            float16, float32 or float64; None (default) gives the input's dtype.

        Returns
        -------
        dask.array.Array
            In the input's shape, chunked like the codes after rechunking them to whole blocks.

        Raises
        ------
        TypeError
            If `dtype` is not a float dtype.

        Examples
        --------
        >>> import importlib.util
        >>> import numpy as np
        >>> import floatsim.quant as fq
        >>> from floatsim.quant.dask import quantize
        >>> if importlib.util.find_spec("dask") is not None:
        ...     import dask.array as da
        ...     x = np.linspace(-3, 3, 200, dtype=np.float32)
        ...     y = quantize(fq.nf4(double_quant=True), da.from_array(x, chunks=50)).dequantize(np.float64)
        ...     assert y.dtype == np.float64 and np.array_equal(y.compute(), fq.nf4(double_quant=True)(x).astype(np.float64))
        """
        da = _dask_array()
        q = self.quantizer
        out = q._out_dtype(self, dtype)
        ndim = len(self.shape)
        lay = _layout(q, ndim)
        codes = da.asarray(self.codes)
        if codes.size == 0 or ndim == 0:
            return da.from_array(self.compute().dequantize(out))
        codes = _aligned(codes, lay, True, "codes")
        scale = self.scale
        if isinstance(q, CodebookQuantizer) and q.double_quant:
            scale, q = self._absmax(), dataclasses.replace(q, double_quant=False)
        extra = {k: v for k, v in self.extra.items() if not _is_dask(v)}
        arrays, names = [], []
        for name, value in (("scale", scale), ("zero_point", self.zero_point)):
            if value is not None and lay.kind != "element":
                value = _keepdims(lay, da.asarray(value), ndim)
                arrays.append(value.rechunk(_param_chunks(lay, codes.chunks, codes.shape)))
                names.append(name)
        if _is_dask(self.extra.get("tensor_scale")):
            arrays.append(da.asarray(self.extra["tensor_scale"]).reshape((1,) * ndim))
            names.append("tensor_scale")
        return codes.map_blocks(_dequantize_block, *arrays, names=tuple(names), quantizer=q, layout=lay,
                                in_dtype=np.dtype(self.dtype), out=out, scale_format=self.scale_format, extra=extra,
                                dtype=out, meta=np.empty((0,) * ndim, out))

    def _absmax(self):
        """Double quantization: the absmax values decoded from the second level, lazily (parameter shape)."""
        q = self.quantizer
        codes = self.extra["absmax_codes"]
        inner = DaskQuantizedTensor(codes.reshape(-1), self.extra["absmax2"], None, q._second_level,
                                    (codes.size,), np.dtype(np.float32))
        return (inner.dequantize() + self.extra["offset"]).reshape(codes.shape)


def _is_dask(value) -> bool:
    return hasattr(value, "__dask_graph__") and value.__dask_graph__() is not None


def _dequantize_block(codes, *arrays, names, quantizer, layout, in_dtype, out, scale_format, extra):
    params = dict(zip(names, arrays, strict=True))
    extra = dict(extra)
    if "tensor_scale" in params:
        extra["tensor_scale"] = np.float32(params.pop("tensor_scale").reshape(()))
    scale, zp = (_unkeep(layout, params[k]) if k in params else None for k in ("scale", "zero_point"))
    q = QuantizedTensor(codes, scale, zp, quantizer, codes.shape, in_dtype, scale_format, extra)
    return quantizer.dequantize(q, out)


def _fake_block(q: QuantizedTensor):
    return q.dequantize()


# --------------------------------------------------------------------------- the public verbs
def _check(quantizer, x):
    da = _dask_array()
    if not isinstance(x, da.Array):
        raise TypeError(f"x must be a dask.array.Array, not {type(x).__name__}; for a NumPy array call "
                        "quantizer.quantize(x)")
    if not isinstance(quantizer, Quantizer) or not isinstance(quantizer, _SUPPORTED):
        raise TypeError(f"quantizer must be one of {', '.join(t.__name__ for t in _SUPPORTED)}, "
                        f"not {type(quantizer).__name__}")
    if any(math.isnan(s) for s in x.shape):
        raise ValueError("x has unknown chunk sizes (NaN in x.shape): call x.compute_chunk_sizes() first")


_KWARGS = {IntQuantizer: ("min_val", "max_val"), FloatQuantizer: ("amax",)}


def _prepare(quantizer, x, kwargs):
    """Validated inputs: `x` as a float dask array, the calibration keywords, the probe result."""
    _check(quantizer, x)
    allowed = next((v for t, v in _KWARGS.items() if isinstance(quantizer, t)), ())
    for name in kwargs:
        if name not in allowed:
            takes = f"only {', '.join(allowed)}" if allowed else "none"
            raise TypeError(f"{type(quantizer).__name__}.quantize got an unexpected keyword argument {name!r} "
                            f"(it takes {takes})")
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    if isinstance(quantizer, IntQuantizer) and len(kwargs) == 1:
        raise ValueError("give both min_val and max_val, or neither")
    dtype = float_input(np.empty(0, x.dtype)).dtype  # its TypeError for bool, complex, ...
    if dtype != x.dtype:
        x = x.astype(dtype)
    # a one-element probe: the quantizer's own errors for its settings (axis, rounding, sr_bits ...), now
    probe = quantizer.quantize(np.zeros((1,) * x.ndim, dtype))
    return x, kwargs, probe


def quantize(quantizer, x, *, rechunk: bool = True, **kwargs) -> DaskQuantizedTensor:
    """Quantize the dask array `x` with `quantizer`, lazily and chunk by chunk.

    The result computes to exactly `quantizer.quantize(x.compute(), **kwargs)`, whatever the chunking of `x`
    and the scheduler; see the module docstring for how chunks are aligned to blocks and how statistics of the
    whole tensor are obtained.

    Parameters
    ----------
    quantizer : Quantizer
        An `IntQuantizer`, `FloatQuantizer`, `BlockFloatQuantizer` (`mx`), `NVFP4Quantizer` or
        `CodebookQuantizer` (`nf4`, `bnb_fp4`, `dynamic8`).
    x : dask.array.Array
        float16, float32 or float64 values (integers become float64), any shape the quantizer accepts.
    rechunk : bool, default True
        Rechunk `x` so that chunks hold whole blocks where the layout needs it. False: raise `ValueError`
        for such a chunking instead.
    **kwargs
        A calibrated range, as for the in-memory `quantize`: `min_val` and `max_val` for `IntQuantizer`, `amax`
        for `FloatQuantizer` (NumPy arrays or numbers, broadcastable to the parameter shape).

    Returns
    -------
    DaskQuantizedTensor
        Codes (chunked like the aligned `x`), scales, zero points and statistics as dask arrays.

    Raises
    ------
    TypeError
        If `x` is not a dask array or holds no real numbers, `quantizer` is not a supported quantizer, or a
        keyword argument is not one the quantizer takes.
    ValueError
        For a chunking that splits blocks with `rechunk=False`, unknown chunk sizes, an invalid calibrated range,
        and every error the quantizer raises for its settings (axis out of range, a 0-d `x`, `sr_bits` ...).
        Errors that depend on the values are raised when computing.
    ImportError
        If dask is not installed.

    Examples
    --------
    >>> import importlib.util
    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> from floatsim.quant.dask import quantize
    >>> if importlib.util.find_spec("dask") is not None:
    ...     import dask.array as da
    ...     x = np.random.default_rng(1).standard_normal((4, 64)).astype(np.float32)
    ...     sr = fq.mx("mxfp8_e4m3", rounding="stochastic", seed=3)
    ...     a = quantize(sr, da.from_array(x, chunks=(1, 32))).compute()
    ...     b = quantize(sr, da.from_array(x, chunks=(3, 64))).compute()
    ...     assert np.array_equal(a.codes, b.codes) and np.array_equal(a.codes, sr.quantize(x).codes)
    ...     try:
    ...         quantize(sr, da.from_array(x, chunks=(4, 48)), rechunk=False)
    ...     except ValueError as e:
    ...         assert "split the blocks of 32" in str(e)
    """
    da = _dask_array()
    built = _build(quantizer, x, rechunk, kwargs)
    if isinstance(built, QuantizedTensor):
        return _wrap(built, da)
    x, lay, tmp, probe = built
    codes = tmp.map_blocks(operator.attrgetter("codes"), dtype=probe.codes.dtype,
                           meta=np.empty((0,) * x.ndim, probe.codes.dtype))
    return _assemble(quantizer, x, lay, tmp, codes, probe, da)


def _build(quantizer, x, rechunk: bool, kwargs):
    """The chunk tasks: `(aligned x, layout, chunk results, probe)`, or the in-memory result for 0-d / empty x."""
    x, kwargs, probe = _prepare(quantizer, x, kwargs)
    if x.ndim == 0 or x.size == 0:
        return quantizer.quantize(np.asarray(x.compute()), **kwargs)
    lay = _layout(quantizer, x.ndim)
    x = _aligned(x, lay, rechunk)
    stats, what = [], None
    if kwargs:
        stats, what = _given_stats(x, lay, quantizer, kwargs), "range" if "min_val" in kwargs else "amax"
    elif lay.kind in ("tensor", "channel") and not isinstance(quantizer, BlockFloatQuantizer | NVFP4Quantizer):
        if isinstance(quantizer, IntQuantizer):
            stats, what = _whole_stats(x, lay, "range"), "range_checked"
        elif isinstance(quantizer, FloatQuantizer):
            stats, what = _whole_stats(x, lay, "amax"), "amax"
        else:
            stats, what = _whole_stats(x, lay, "absmax"), "absmax"
    if isinstance(quantizer, NVFP4Quantizer) and quantizer.per_tensor_scale and quantizer.tensor_amax is None:
        stats, what = _whole_stats(x, lay, "nvfp4"), "tensor_amax"
    seed, nbits = None, 0
    rounding = getattr(quantizer, "rounding", None)
    if rounding is not None and Rounding.parse(rounding).is_stochastic:
        from ..core import _resolve_sr_bits

        rnd = Rounding.parse(rounding)
        nbits = _resolve_sr_bits(rnd, None if rnd is Rounding.STOCHASTIC else getattr(quantizer, "sr_bits", None))
        seed = quantizer.seed if quantizer.seed is not None else secrets.randbits(63)
    spec = _Spec(quantizer, lay, what, seed, nbits, tuple(x.shape))
    tmp = x.map_blocks(_quantize_block, *stats, spec=spec, dtype=object, meta=np.empty((0,) * x.ndim, object))
    return x, lay, tmp, probe


def _assemble(quantizer, x, lay, tmp, codes, probe, da) -> DaskQuantizedTensor:
    scale = zero_point = None
    if probe.zero_point is not None:
        zero_point = _params_from(tmp, lay, "zero_point", probe.zero_point.dtype)
    extra = dict(probe.extra)
    if isinstance(quantizer, NVFP4Quantizer):
        extra["tensor_scale"] = _params_from(tmp, lay, "extra", np.float32, key="tensor_scale")
    if isinstance(quantizer, CodebookQuantizer) and quantizer.double_quant:
        absmax = _params_from(tmp, lay, "scale", np.float32)
        flat_absmax = absmax.reshape(-1)
        import dask

        parts = [dask.delayed(_exact_sum_parts)(b) for b in flat_absmax.to_delayed(optimize_graph=False).ravel()]
        offset = da.from_delayed(dask.delayed(_offset)(parts, flat_absmax.size), shape=(), dtype=np.float32)
        q2 = quantize(quantizer._second_level, flat_absmax - offset)
        extra.update(absmax_codes=q2.codes.reshape(absmax.shape), absmax2=q2.scale, offset=offset,
                     extra_bits=q2.codes.size * 8 + q2.scale.size * 32 + 32)
    elif probe.scale is not None:
        scale = _params_from(tmp, lay, "scale", probe.scale.dtype)
    return DaskQuantizedTensor(codes, scale, zero_point, quantizer, tuple(x.shape), x.dtype,
                               probe.scale_format, extra)


def _wrap(q: QuantizedTensor, da) -> DaskQuantizedTensor:
    """An in-memory result (0-d or empty input) as a `DaskQuantizedTensor`."""
    def lazy(v):
        return da.from_array(np.asarray(v)) if isinstance(v, np.ndarray | np.generic) else v

    extra = {k: lazy(v) for k, v in q.extra.items()}
    return DaskQuantizedTensor(lazy(q.codes), lazy(q.scale), lazy(q.zero_point), q.quantizer, tuple(q.shape),
                               q.dtype, q.scale_format, extra)


def fake_quantize(quantizer, x, *, rechunk: bool = True, **kwargs):
    """`dequantize(quantize(x))` of the dask array `x`, lazily: what `quantizer.fake_quantize` gives, bit for bit.

    Parameters
    ----------
    quantizer : Quantizer
        A supported quantizer (see `quantize`).
    x : dask.array.Array
        float16, float32 or float64 values (integers become float64).
    rechunk : bool, default True
        As for `quantize`.
    **kwargs
        A calibrated range, as for `quantize`.

    Returns
    -------
    dask.array.Array
        The values in `x`'s dtype (float64 for integers), chunked like `x` after aligning it to whole blocks.

    Raises
    ------
    TypeError
        As `quantize`.
    ValueError
        As `quantize`.
    ImportError
        If dask is not installed.

    Examples
    --------
    >>> import importlib.util
    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> from floatsim.quant.dask import fake_quantize
    >>> if importlib.util.find_spec("dask") is not None:
    ...     import dask.array as da
    ...     x = np.random.default_rng(2).standard_normal((5, 3, 40))
    ...     quantizer = fq.FloatQuantizer(format="float8_e5m2", granularity="channel:1")
    ...     y = fake_quantize(quantizer, da.from_array(x, chunks=(2, 1, 15)))
    ...     assert y.dtype == np.float64 and np.array_equal(y.compute(), quantizer(x))
    """
    da = _dask_array()
    if isinstance(quantizer, CodebookQuantizer) and quantizer.double_quant:  # needs the global second level
        return quantize(quantizer, x, rechunk=rechunk, **kwargs).dequantize()
    built = _build(quantizer, x, rechunk, kwargs)
    if isinstance(built, QuantizedTensor):
        return da.from_array(built.dequantize())
    x, _, tmp, _ = built
    return tmp.map_blocks(_fake_block, dtype=x.dtype, meta=np.empty((0,) * x.ndim, x.dtype))
