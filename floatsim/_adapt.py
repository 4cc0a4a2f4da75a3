"""Arrays of other libraries through the core verbs: torch tensors, xarray DataArrays, dask arrays.

The verbs compute on NumPy arrays. For any other input, `kind(x)` names the library that made it, without
importing anything (a library the caller has not imported cannot have made `x`), and `apply` converts the
input to NumPy, runs the verb and converts the result back:

| input | to NumPy | result |
|---|---|---|
| torch tensor (CPU) | `Tensor.numpy()`, a view; bfloat16 and float8 tensors through an integer view read as the ml_dtypes type (no copy) | `torch.from_numpy`, a view; `cast` keeps a bfloat16 / float8 input's dtype where every value of the format is one of its values (else float32); `typed=True` gives the torch dtype of the format's name; `dtype=` takes torch dtypes too |
| xarray DataArray | its `.data` (NumPy, or dask: chunk by chunk) | a DataArray with the same dims, coords, name and attrs, plus `floatsim_format` (and the rounding and overflow policy) |
| dask array | chunk by chunk (`map_blocks`) | a dask array with the same chunks |

Seeded stochastic rounding of a dask array gives every element the random bits of its global index (its
C-order position in the whole array, plus `index_offset`), so the result does not depend on the chunking or
on the number of workers: it equals the in-memory result bit for bit.
"""

from __future__ import annotations

import functools
import secrets
import sys

import numpy as np

# torch dtypes whose bits ml_dtypes reads: the tensor is viewed as integers, then as the ml_dtypes type
TORCH_VIA_ML_DTYPES = ("bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz",
                       "float8_e8m0fnu")


def kind(x) -> str | None:
    """`"torch"`, `"xarray"` or `"dask"` for an array of that library, None for anything else."""
    if type(x) is np.ndarray:
        return None
    modules = sys.modules
    torch = modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        return "torch"
    xarray = modules.get("xarray")
    if xarray is not None and isinstance(x, xarray.DataArray):
        return "xarray"
    dask_array = modules.get("dask.array")
    if dask_array is not None and isinstance(x, dask_array.Array):
        return "dask"
    return None


def apply(verb: str, x, fmt, kwargs: dict):
    """Run the core verb `verb` on the foreign array `x` (see the module docstring)."""
    return {"torch": _torch, "xarray": _xarray, "dask": _dask}[kind(x)](verb, x, fmt, kwargs)


def _core(verb):
    from . import core

    return getattr(core, verb)


# -- torch -------------------------------------------------------------------------------------


def torch_to_numpy(t, argument: str = "x") -> np.ndarray:
    """A NumPy view of the CPU tensor `t` (bfloat16 / float8 tensors as ml_dtypes arrays); no copy."""
    import torch

    if t.device.type != "cpu":
        raise ValueError(f"{argument} is a torch tensor on {t.device}; floatsim computes on the CPU: "
                         f"pass {argument}.cpu()")
    if t.layout != torch.strided:
        raise TypeError(f"{argument} is a torch tensor with layout {t.layout}; floatsim reads dense tensors: "
                        f"pass {argument}.to_dense()")
    t = t.detach()
    if t.is_conj() or t.is_neg():
        t = t.resolve_conj().resolve_neg()
    name = str(t.dtype).removeprefix("torch.")
    if name in TORCH_VIA_ML_DTYPES:
        import ml_dtypes

        as_int = t.view(torch.int16 if t.element_size() == 2 else torch.uint8)
        return as_int.numpy().view(getattr(ml_dtypes, name))
    if t.is_complex() or t.dtype == torch.bool:
        raise TypeError(f"{argument} must hold real numbers, not {t.dtype}")
    try:
        return t.numpy()
    except (TypeError, RuntimeError) as err:  # quantized (qint8 ...), packed (float4_e2m1fn_x2) and other dtypes
        raise TypeError(f"{argument} is a torch tensor of dtype {t.dtype}, which floatsim does not read; it takes "
                        f"float16 / float32 / float64, {' / '.join(TORCH_VIA_ML_DTYPES)} and integer "
                        f"tensors") from err


def numpy_to_torch(a: np.ndarray):
    """A tensor sharing `a`'s memory; ml_dtypes arrays become the torch dtype of the same name."""
    import torch

    if not a.flags.writeable:
        a = a.copy()  # torch.from_numpy warns on read-only memory
    name = a.dtype.name
    if name in TORCH_VIA_ML_DTYPES:  # bfloat16, float8_*: view the bits (ml_dtypes' float8_e5m2 has kind "f")
        ints = a.view(np.int16 if a.itemsize == 2 else np.uint8)
        return torch.from_numpy(ints).view(getattr(torch, name))
    return torch.from_numpy(a)


def _torch_dtype_arg(dtype):
    """A torch float dtype given as `dtype=` becomes the NumPy dtype of the same name."""
    import torch

    if not isinstance(dtype, torch.dtype):
        return dtype
    names = {torch.float16: np.float16, torch.float32: np.float32, torch.float64: np.float64}
    if dtype not in names:
        raise TypeError(f"dtype must be float16, float32 or float64 (NumPy or torch), not {dtype}")
    return names[dtype]


def _check_typed_torch(fmt):
    """typed=True on a torch tensor needs a torch dtype of the format's name."""
    from .core import ml_dtype_of

    dtype = ml_dtype_of(fmt)
    if dtype is None:
        return  # the core verb explains
    if dtype not in (np.float16, np.float32) and dtype.name not in TORCH_VIA_ML_DTYPES:
        raise ValueError(f"typed=True with a torch tensor needs a format that torch has a dtype for (float16, "
                         f"float32, {', '.join(TORCH_VIA_ML_DTYPES)}); torch has no {dtype.name}: pass "
                         f"typed=False for the codes, or x.numpy() for an ml_dtypes array")


def _torch(verb, x, fmt, kwargs):
    kwargs = dict(kwargs)
    out_tensor = kwargs.get("out")
    for name in ("random_bits", "out"):
        if kind(kwargs.get(name)) == "torch":
            kwargs[name] = torch_to_numpy(kwargs[name], name)
    if "dtype" in kwargs:
        kwargs["dtype"] = _torch_dtype_arg(kwargs["dtype"])
    if kwargs.get("typed"):
        _check_typed_torch(fmt)
    arr = torch_to_numpy(x)
    result = _core(verb)(arr, fmt, **kwargs)
    if out_tensor is not None:
        if kind(out_tensor) != "torch":
            return result  # a NumPy out: the core's own answer (out, or its typed view)
        if kwargs.get("typed"):
            import torch

            return out_tensor.view(getattr(torch, np.asarray(result).dtype.name))
        return out_tensor
    if (verb == "cast" and kwargs.get("dtype") is None and arr.dtype.name in TORCH_VIA_ML_DTYPES
            and _keep_dtype(fmt, arr.dtype)):
        result = _narrow(np.asarray(result), arr.dtype)  # exact: every value of fmt is a value of that dtype
    return numpy_to_torch(np.asarray(result))


def _narrow(values: np.ndarray, dtype) -> np.ndarray:
    """float32 `values` that are all values of the ml_dtypes float `dtype`, converted to that dtype."""
    if dtype.name == "bfloat16" and values.dtype == np.float32 and sys.byteorder == "little":
        # a bfloat16 value is the top half of its float32 (the low half is zero): copy the halves, no rounding pass
        halves = values.reshape(-1).view(np.uint16)[1::2]
        return np.ascontiguousarray(halves).view(dtype).reshape(values.shape)
    return values.astype(dtype)


def _keep_dtype(fmt, dtype) -> bool:
    """Whether every value of `fmt` (NaN, infinities and -0 included) is a value of the ml_dtypes float `dtype`."""
    from .formats import get_format

    return _values_fit(get_format(fmt), np.dtype(dtype))


@functools.cache
def _values_fit(fmt, dtype: np.dtype) -> bool:
    # every code of fmt decoded, converted to `dtype` and back: exact when nothing changes (the sign of zero
    # included; any NaN stands for NaN); formats above 16 bits have more values than a 16-bit dtype holds
    if fmt.bits > 16:
        return False
    values = _core("decode")(np.arange(fmt.num_codes, dtype=np.int64), fmt, dtype=np.float64)
    with np.errstate(all="ignore"):  # values beyond float32 become inf (and then do not fit)
        back = values.astype(np.float32).astype(dtype).astype(np.float64)
    nan = np.isnan(values)
    return bool(np.array_equal(np.isnan(back), nan) and np.array_equal(back[~nan], values[~nan])
                and np.array_equal(np.signbit(back[~nan]), np.signbit(values[~nan])))


# -- xarray ------------------------------------------------------------------------------------


def _xarray(verb, x, fmt, kwargs):
    from .formats import get_format

    if kwargs.get("out") is not None:
        raise TypeError("out= takes a NumPy array; for an xarray DataArray, use the returned DataArray")
    data = x.data
    result = apply(verb, data, fmt, kwargs) if kind(data) is not None else _core(verb)(data, fmt, **kwargs)
    res = x.copy(data=result)
    fmt = get_format(fmt)
    attrs = {"floatsim_format": str(fmt)}  # the name, or the description of a custom format
    if verb != "decode":  # the policies in effect (the defaults resolved), as names: "nearest_even", "ieee" ...
        from .core import _resolve_overflow
        from .rounding import Rounding

        attrs["floatsim_rounding"] = Rounding.parse(kwargs.get("rounding", "nearest_even")).name.lower()
        attrs["floatsim_overflow"] = _resolve_overflow(fmt, kwargs.get("overflow")).name.lower()
    attrs["floatsim_content"] = "codes" if verb == "encode" else "values"
    res.attrs.update(attrs)
    return res


# -- dask ----------------------------------------------------------------------------------------


def global_indices(location, shape, offset: int = 0) -> np.ndarray:
    """The C-order flat indices, in an array of `shape`, of the block at `location` ((start, stop) per axis)."""
    idx = np.zeros((), dtype=np.int64)
    for (start, stop), n in zip(location, shape, strict=True):
        idx = idx[..., None] * np.int64(n) + np.arange(start, stop, dtype=np.int64)
    return idx + np.int64(offset)


def run_start(location, shape) -> int | None:
    """The C-order flat index of the block's first element when the block at `location` is one contiguous run
    of the array of `shape` (all axes but one whole, those before it of length 1), else None."""
    partial = [i for i, ((a, b), n) in enumerate(zip(location, shape, strict=True)) if (a, b) != (0, n)]
    last = partial[-1] if partial else -1
    if any(b - a != 1 for a, b in location[:max(last, 0)]):
        return None
    start = 0
    for (a, _), n in zip(location, shape, strict=True):
        start = start * n + a
    return start


def _dask(verb, x, fmt, kwargs):
    import dask.array as da

    from .core import _check_offset, _key, _resolve_sr_bits
    from .formats import get_format
    from .rounding import Rounding

    kwargs = dict(kwargs)
    if kwargs.get("out") is not None:
        raise TypeError("out= takes a NumPy array; a dask result is lazy: store it with dask.array.store or .to_zarr")
    fmt = get_format(fmt)
    sample = np.zeros((1,) * x.ndim, x.dtype)
    probe = {k: v for k, v in kwargs.items() if k not in ("seed", "random_bits", "index_offset", "sr_bits", "rounding")}
    out_dtype = _core(verb)(sample, fmt, **probe).dtype  # checks fmt, overflow and dtype before any chunk runs
    if verb == "decode":
        return x.map_blocks(_plain_block, verb, fmt, kwargs, dtype=out_dtype, meta=np.empty((0,) * x.ndim, out_dtype))
    rnd = Rounding.parse(kwargs.get("rounding", "nearest_even"))
    seed = kwargs.pop("seed", None)
    offset = _check_offset(kwargs.pop("index_offset", 0))  # the core's message for a negative or non-integer one
    bits = kwargs.pop("random_bits", None)
    if rnd.is_stochastic and bits is None:
        nbits = _resolve_sr_bits(rnd, kwargs.get("sr_bits"))
        seed = secrets.randbits(63) if seed is None else seed
        _key(seed)  # an invalid seed raises now, not when a chunk runs
        return x.map_blocks(_seeded_block, verb, fmt, kwargs, seed, offset, nbits, x.shape,
                            dtype=out_dtype, meta=np.empty((0,) * x.ndim, out_dtype))
    if seed is not None or offset or bits is not None:
        # let the core raise its own message (seed or random_bits with a deterministic mode, both together,
        # index_offset with random_bits, random_bits of a wrong dtype) before any chunk runs
        check = dict(kwargs, seed=seed, index_offset=offset)
        if bits is not None:
            check["random_bits"] = np.zeros(sample.shape, bits.dtype if hasattr(bits, "dtype") else np.asarray(bits).dtype)
        _core(verb)(sample, fmt, **check)
    if bits is not None:
        bits = da.asarray(bits)
        if bits.shape != x.shape:
            raise ValueError(f"random_bits has shape {bits.shape}, expected the shape of x {x.shape}")
        return da.map_blocks(_bits_block, x, bits.rechunk(x.chunks), verb, fmt, kwargs,
                             dtype=out_dtype, meta=np.empty((0,) * x.ndim, out_dtype))
    return x.map_blocks(_plain_block, verb, fmt, kwargs, dtype=out_dtype, meta=np.empty((0,) * x.ndim, out_dtype))


def _plain_block(block, verb, fmt, kwargs):
    return _core(verb)(block, fmt, **kwargs)


def _bits_block(block, bits, verb, fmt, kwargs):
    return _core(verb)(block, fmt, random_bits=bits, **kwargs)


def _seeded_block(block, verb, fmt, kwargs, seed, offset, nbits, shape, block_info=None):
    from . import _kernels as K
    from ._jit import threads_for
    from .core import _key

    location = block_info[0]["array-location"]
    start = run_start(location, shape)
    if start is not None:  # one contiguous run of the whole array: the seeded kernel draws the same bits itself
        return _core(verb)(block, fmt, seed=seed, index_offset=offset + start, **kwargs)
    indices = global_indices(location, shape, offset)
    bits = np.empty(indices.shape, np.uint64)
    with threads_for(bits.size):  # a small chunk must not wake the thread pool (milliseconds per call)
        K.fill_random_bits_at(bits.reshape(-1), _key(seed), np.ascontiguousarray(indices).reshape(-1))
    if nbits < 64:
        bits >>= np.uint64(64 - nbits)  # the top N bits, as the seeded in-memory path takes them
    return _core(verb)(block, fmt, random_bits=bits, **kwargs)
