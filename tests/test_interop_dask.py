"""Dask arrays through floatsim: the elementwise verbs and the block quantizers, chunk by chunk.

The oracle is the in-memory NumPy path of floatsim itself (the issue's requirement: "dask results equal the
in-memory results bit for bit for several chunkings, including stochastic rounding"): every dask result is
computed for several chunkings (one element per chunk, ragged chunks, one chunk; 1-D to 3-D) and compared
bit for bit (floats through their integer view, so NaN payloads and signed zeros count) with the same call on
the computed NumPy array. A `dask.distributed.LocalCluster` with two worker processes, started and closed by a
module fixture, checks that seeded stochastic rounding gives the same bits on one worker, on two, and in memory.
"""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

import floatsim as fs  # noqa: E402
import floatsim.quant as fq  # noqa: E402
from floatsim.quant import dask as fqd  # noqa: E402
from floatsim.quant._layout import to_blocks  # noqa: E402

# (shape, chunks) pairs: one element per chunk, ragged chunks, one chunk, 1-D to 3-D
CHUNKINGS = {
    "1d-one-element": ((37,), 1),
    "1d-ragged": ((37,), ((5, 20, 12),)),
    "1d-one-chunk": ((37,), 37),
    "2d-one-element": ((5, 7), 1),
    "2d-ragged": ((5, 7), ((2, 3), (1, 4, 2))),
    "3d": ((3, 4, 6), (2, 3, 5)),
    "3d-ragged": ((3, 4, 6), ((1, 2), (4,), (1, 1, 4))),
}


@pytest.fixture(autouse=True)
def _synchronous():
    """The local scheduler in the test's own thread (the distributed tests pass their client explicitly)."""
    with dask.config.set(scheduler="sync"):
        yield


def _bits(a) -> np.ndarray:
    a = np.asarray(a)
    return a.view(f"u{a.itemsize}") if a.dtype.kind in "fV" else a


def assert_bitwise(got, ref, what=""):
    got, ref = np.asarray(got), np.asarray(ref)
    assert got.dtype == ref.dtype, f"{what}: dtype {got.dtype} != {ref.dtype}"
    assert got.shape == ref.shape, f"{what}: shape {got.shape} != {ref.shape}"
    bad = np.flatnonzero(_bits(got).reshape(-1) != _bits(ref).reshape(-1))
    assert bad.size == 0, f"{what}: {bad.size} element(s) differ, first at flat index {bad[0]}"


def values(shape, dtype=np.float32, *, nan=True, seed=0) -> np.ndarray:
    """Values spread over many binades, with ties, zeros, infinities and (optionally) NaN in front."""
    n = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(n) * 2.0 ** rng.integers(-12, 12, n)
    special = [0.0, -0.0, 1.0625, -2.25, 0.5 + 2**-5, 1e-6, np.inf, -np.inf] + ([np.nan] if nan else [])
    k = min(n, len(special))
    v[:k] = special[:k]
    rng.shuffle(v)
    return v.astype(dtype).reshape(shape)


def chunked(x, chunks):
    return da.from_array(x, chunks=chunks)


# --------------------------------------------------------------------------- elementwise verbs
DETERMINISTIC = ["nearest_even", "nearest_away", "toward_zero", "toward_positive", "toward_negative", "odd"]
# (format, overflow, whether it takes NaN)
FORMATS = [
    ("float8_e4m3fn", None, True),
    ("float8_e5m2", "saturate", True),
    ("bfloat16", None, True),
    ("float6_e3m2fn", "saturate", False),
    ("int8", None, False),
    ("int4", "wrap", False),
    ("uint4", "saturate", False),
]


@pytest.mark.parametrize("verb", ["encode", "cast"])
@pytest.mark.parametrize("rounding", DETERMINISTIC)
@pytest.mark.parametrize("fmt, overflow, nan", FORMATS, ids=[f[0] for f in FORMATS])
def test_deterministic_verbs_match_numpy_for_every_chunking(verb, rounding, fmt, overflow, nan):
    func = getattr(fs, verb)
    for name, (shape, chunks) in CHUNKINGS.items():
        x = values(shape, nan=nan)
        ref = func(x, fmt, rounding=rounding, overflow=overflow)
        got = func(chunked(x, chunks), fmt, rounding=rounding, overflow=overflow)
        assert isinstance(got, da.Array) and got.chunks == chunked(x, chunks).chunks
        assert_bitwise(got.compute(), ref, f"{verb} {fmt} {rounding} {name}")


@pytest.mark.parametrize("dtype", [np.float16, np.float64, np.int32], ids=lambda d: np.dtype(d).name)
def test_other_input_dtypes_and_result_dtypes(dtype):
    x = values((6, 5), np.float64, nan=False) * 8
    x = np.nan_to_num(x, posinf=300.0, neginf=-300.0).astype(dtype)
    d = chunked(x, (4, 2))
    assert_bitwise(fs.cast(d, "float8_e4m3fn", overflow="saturate").compute(),
                   fs.cast(x, "float8_e4m3fn", overflow="saturate"), "cast")
    assert_bitwise(fs.cast(d, "float8_e5m2", dtype=np.float64).compute(), fs.cast(x, "float8_e5m2", dtype=np.float64))
    assert_bitwise(fs.encode(d, "bfloat16").compute(), fs.encode(x, "bfloat16"), "encode")


def test_typed_codes():
    x = values((4, 9))
    got = fs.encode(chunked(x, (3, 4)), "float8_e4m3fn", typed=True)
    ref = fs.encode(x, "float8_e4m3fn", typed=True)
    assert got.dtype == ref.dtype
    assert_bitwise(got.compute(), ref)


@pytest.mark.parametrize("fmt", ["float8_e4m3fn", "float6_e2m3fn", "bfloat16", "int4", "uint8"])
@pytest.mark.parametrize("dtype", [None, np.float64], ids=["default", "float64"])
def test_decode_every_code(fmt, dtype):
    f = fs.get_format(fmt)
    codes = np.arange(f.num_codes, dtype=f.code_dtype)
    for chunks in (1 if f.num_codes <= 256 else 997, 7 if f.num_codes <= 256 else 4099, ((f.num_codes - 3, 3),)):
        got = fs.decode(chunked(codes, chunks), fmt, dtype=dtype)
        assert_bitwise(got.compute(), fs.decode(codes, fmt, dtype=dtype), f"decode {fmt} {chunks}")
    square = codes[: (f.num_codes // 4) * 4].reshape(4, -1)  # 2-D
    assert_bitwise(fs.decode(chunked(square, (3, 5)), fmt).compute(), fs.decode(square, fmt))


STOCHASTIC = [("stochastic", None), ("stochastic_a", 3), ("stochastic_b", 8), ("stochastic_c", 1)]


@pytest.mark.parametrize("verb", ["encode", "cast"])
@pytest.mark.parametrize("rounding, sr_bits", STOCHASTIC, ids=[r for r, _ in STOCHASTIC])
@pytest.mark.parametrize("fmt", ["float8_e4m3fn", "int8"])
@pytest.mark.parametrize("index_offset", [0, 12345])
def test_seeded_stochastic_rounding_ignores_the_chunking(verb, rounding, sr_bits, fmt, index_offset):
    func = getattr(fs, verb)
    kw = dict(rounding=rounding, sr_bits=sr_bits, seed=2024, index_offset=index_offset, overflow="saturate")
    for name, (shape, chunks) in CHUNKINGS.items():
        x = values(shape, nan=fmt != "int8", seed=1)
        ref = func(x, fmt, **kw)
        assert_bitwise(func(chunked(x, chunks), fmt, **kw).compute(), ref, f"{verb} {fmt} {rounding} {name}")


def test_seeded_stochastic_rounding_with_threads():
    x = values((40, 30), nan=False, seed=3)
    ref = fs.cast(x, "float6_e2m3fn", rounding="stochastic", seed=5, overflow="saturate")
    got = fs.cast(chunked(x, (7, 11)), "float6_e2m3fn", rounding="stochastic", seed=5, overflow="saturate")
    assert_bitwise(got.compute(scheduler="threads", num_workers=4), ref)


def test_unseeded_stochastic_rounding_draws_one_seed_per_call():
    d = chunked(np.full((8, 8), 1.0625, np.float32), 3)
    y = fs.cast(d, "float8_e4m3fn", rounding="stochastic")
    assert_bitwise(y.compute(), y.compute())  # the graph holds one seed: computing again gives the same bits
    assert set(np.unique(y.compute())) == {1.0, 1.125}


@pytest.mark.parametrize("rounding, sr_bits, dtype", [("stochastic", None, np.uint64), ("stochastic_a", 4, np.uint8)])
def test_random_bits_as_a_dask_array_with_other_chunks(rounding, sr_bits, dtype):
    x = values((6, 10), nan=False, seed=4)
    r = (fs.random_bits(x.shape, seed=9) >> np.uint64(64 - (sr_bits or 64))).astype(dtype)
    ref = fs.encode(x, "float8_e5m2", rounding=rounding, sr_bits=sr_bits, random_bits=r)
    for xc, rc in [((6, 10), 1), ((1, 3), (4, 7)), ((4, 4), (6, 10))]:
        got = fs.encode(chunked(x, xc), "float8_e5m2", rounding=rounding, sr_bits=sr_bits, random_bits=chunked(r, rc))
        assert_bitwise(got.compute(), ref, f"x chunks {xc}, bits chunks {rc}")
    got = fs.encode(chunked(x, 3), "float8_e5m2", rounding=rounding, sr_bits=sr_bits, random_bits=r)  # NumPy bits
    assert_bitwise(got.compute(), ref)


def test_random_bits_reproduce_the_seeded_dask_result():
    x = values((5, 12), nan=False, seed=6)
    d = chunked(x, (2, 5))
    seeded = fs.cast(d, "float8_e4m3fn", rounding="stochastic", seed=77, index_offset=40)
    bits = fs.random_bits(x.shape, seed=77, index_offset=40)
    replay = fs.cast(d, "float8_e4m3fn", rounding="stochastic", random_bits=chunked(bits, 4))
    assert_bitwise(seeded.compute(), replay.compute())


ELEMENTWISE_ERRORS = [
    ("out", dict(out=np.empty(4, np.float32)), TypeError, "out= takes a NumPy array"),
    ("bits-shape", dict(rounding="stochastic", random_bits=np.zeros(5, np.uint64)), ValueError, "random_bits has shape"),
    ("bits-dtype", dict(rounding="stochastic", random_bits=np.zeros(4, np.int64)), TypeError, "unsigned"),
    ("bits-and-seed", dict(rounding="stochastic", seed=1, random_bits=np.zeros(4, np.uint64)), ValueError, "not both"),
    ("bits-and-offset", dict(rounding="stochastic", index_offset=3, random_bits=np.zeros(4, np.uint64)), ValueError,
     "index_offset applies"),
    ("bits-deterministic", dict(random_bits=np.zeros(4, np.uint64)), ValueError, "stochastic rounding only"),
    ("seed-deterministic", dict(seed=1), ValueError, "stochastic rounding only"),
    ("negative-offset", dict(rounding="stochastic", seed=1, index_offset=-3), ValueError, "index_offset=-3"),
    ("float-offset", dict(rounding="stochastic", seed=1, index_offset=2.5), ValueError, "index_offset=2.5"),
    ("negative-seed", dict(rounding="stochastic", seed=-1), ValueError, "seed=-1"),
    ("missing-sr-bits", dict(rounding="stochastic_a", seed=1), ValueError, "needs sr_bits"),
    ("bad-overflow", dict(overflow="wrap"), ValueError, "integer formats only"),
    ("bad-format", dict(), ValueError, "nope"),
]


@pytest.mark.parametrize("case, kwargs, error, match", ELEMENTWISE_ERRORS, ids=[c[0] for c in ELEMENTWISE_ERRORS])
def test_elementwise_argument_errors_are_raised_before_computing(case, kwargs, error, match):
    """The NumPy path's own error, raised when the graph is built (not when a chunk runs)."""
    x = np.float32([1.0, 1.5, 2.0, 3.0])
    fmt = "nope" if case == "bad-format" else "float8_e4m3fn"
    with pytest.raises(error, match=match):
        fs.cast(x, fmt, **kwargs) if case not in ("out", "bits-shape") else None
        fs.cast(chunked(x, 2), fmt, **kwargs)


def test_data_errors_are_raised_when_computing():
    d = chunked(np.float32([1.0, np.nan, 2.0]), 1)
    y = fs.cast(d, "float4_e2m1fn")  # FP4 has no NaN: the chunk holding it raises
    with pytest.raises(ValueError, match="has no NaN"):
        y.compute()


# --------------------------------------------------------------------------- block quantizers
QUANTIZERS = {
    "mxfp4": fq.mx("mxfp4"),
    "mxfp8-e4m3-sr": fq.mx("mxfp8_e4m3", rounding="stochastic", seed=5),
    "mxint8": fq.mx("mxint8"),
    "mxint8-sr-a5": fq.mx("mxint8", rounding="stochastic_a", sr_bits=5, seed=1),
    "blockfloat-axis0-rceil": fq.BlockFloatQuantizer(element="float4_e2m1fn", block_size=8, axis=0, scale_rule="rceil"),
    "nvfp4": fq.NVFP4Quantizer(),
    "nvfp4-single-level": fq.NVFP4Quantizer(per_tensor_scale=False),
    "nvfp4-tensor-amax": fq.NVFP4Quantizer(tensor_amax=3.0),
    "nvfp4-sr": fq.NVFP4Quantizer(rounding="stochastic", seed=2),
    "nvfp4-sr-b4-axis0": fq.NVFP4Quantizer(rounding="stochastic_b", sr_bits=4, seed=2, axis=0, block_size=4),
    "nf4": fq.nf4(),
    "nf4-double-quant": fq.nf4(block_size=16, double_quant=True, dq_block_size=4),
    "dynamic8-bnb-lut": fq.dynamic8(tie="bnb_cpu_lut", block_size=32),
    "nf4-per-channel": fq.nf4(granularity="channel:0"),
    "nf4-per-tensor-lut": fq.nf4(granularity="tensor", tie="bnb_cpu_lut"),
    "nf4-group-axis0": fq.nf4(granularity="group:2:0"),
    "codebook-data-units": fq.CodebookQuantizer([-1.5, -0.5, 0.5, 1.5], normalize=False),
    "int8-tensor": fq.IntQuantizer(),
    "uint4-asym-channel": fq.IntQuantizer(bits=4, signed=False, symmetric=False, granularity="channel:0"),
    "int8-group16": fq.IntQuantizer(granularity="group:16"),
    "int3-flat10": fq.IntQuantizer(bits=3, granularity="flat:10"),
    "fp8-tensor": fq.FloatQuantizer(),
    "fp8-channel-last-reciprocal": fq.FloatQuantizer(granularity="channel:-1", reciprocal=True),
    "e5m2-group8-pow2": fq.FloatQuantizer(format="float8_e5m2", granularity="group:8", power_of_two="ceil"),
    "int8-tensor-sr": fq.IntQuantizer(rounding="stochastic", seed=4),
    "int8-channel-sr": fq.IntQuantizer(rounding="stochastic", seed=4, granularity="channel:0"),
    "uint8-asym-group-axis0-sr": fq.IntQuantizer(rounding="stochastic", seed=4, granularity="group:2:0",
                                                 symmetric=False, signed=False),
    "int8-flat12-sr": fq.IntQuantizer(rounding="stochastic", seed=9, granularity="flat:12"),
    "uint8-symmetric-sr": fq.IntQuantizer(signed=False, rounding="stochastic", seed=8),  # zero point 128
    "fp8-channel-sr": fq.FloatQuantizer(rounding="stochastic", seed=3, granularity="channel:0"),
    "fp8-group-sr": fq.FloatQuantizer(rounding="stochastic", seed=3, granularity="group:8", reciprocal=True),
}
# (shape, chunks, dtype) the block quantizers are checked on
BLOCK_CASES = {
    "2d-one-element": ((3, 18), (1, 1), np.float32),
    "2d-splits-blocks": ((6, 40), (4, 13), np.float32),
    "2d-ragged": ((6, 40), ((1, 5), (7, 33)), np.float32),
    "3d": ((3, 4, 20), (2, 3, 7), np.float32),
    "2d-float16": ((6, 40), (5, 9), np.float16),
    "2d-float64": ((6, 40), (6, 17), np.float64),
}


def block_values(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * np.exp(rng.standard_normal(shape))
    x.reshape(-1)[: min(4, x.size)] = 0.0  # an all-zero start (a zero block for small blocks)
    return x.astype(dtype)


def assert_same_quantized(got: fq.QuantizedTensor, ref: fq.QuantizedTensor, what=""):
    assert type(got) is fq.QuantizedTensor
    assert got.quantizer is ref.quantizer and got.shape == ref.shape and got.dtype == ref.dtype, what
    assert got.scale_format == ref.scale_format, what
    assert_bitwise(got.codes, ref.codes, f"{what} codes")
    for field in ("scale", "zero_point"):
        a, b = getattr(got, field), getattr(ref, field)
        assert (a is None) == (b is None), f"{what} {field}"
        if b is not None:
            assert_bitwise(a, b, f"{what} {field}")
    assert set(got.extra) == set(ref.extra), what
    for key, value in ref.extra.items():
        assert type(got.extra[key]) is type(value), f"{what} extra[{key!r}]"
        assert_bitwise(got.extra[key], value, f"{what} extra[{key!r}]")


@pytest.mark.parametrize("case", list(BLOCK_CASES))
@pytest.mark.parametrize("name", list(QUANTIZERS))
def test_block_quantizers_match_numpy_for_every_chunking(name, case):
    quantizer = QUANTIZERS[name]
    shape, chunks, dtype = BLOCK_CASES[case]
    x = block_values(shape, dtype)
    ref = quantizer.quantize(x)
    lazy = fqd.quantize(quantizer, chunked(x, chunks))
    assert isinstance(lazy, fqd.DaskQuantizedTensor) and isinstance(lazy.codes, da.Array)
    assert lazy.codes.shape == shape and lazy.shape == shape and lazy.dtype == x.dtype
    assert lazy.bits_per_value == ref.bits_per_value and lazy.nbytes == ref.nbytes
    assert_same_quantized(lazy.compute(), ref, f"{name} {case}")
    assert_bitwise(lazy.dequantize().compute(), ref.dequantize(), f"{name} {case} dequantize")
    assert_bitwise(fqd.fake_quantize(quantizer, chunked(x, chunks)).compute(), quantizer.fake_quantize(x),
                   f"{name} {case} fake_quantize")


@pytest.mark.parametrize("name", ["mxfp4", "nf4", "int8-tensor", "int3-flat10", "nvfp4-sr", "codebook-data-units"])
def test_one_dimensional_input(name):
    quantizer = QUANTIZERS[name]
    x = block_values((100,), np.float32, seed=2)
    for chunks in (1, 7, ((50, 3, 47),)):
        assert_same_quantized(fqd.quantize(quantizer, chunked(x, chunks)).compute(), quantizer.quantize(x), name)


NONFINITE_QUANTIZERS = ["mxfp4", "mxfp8-e4m3-sr", "nvfp4", "nvfp4-sr", "fp8-tensor", "fp8-channel-sr"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", NONFINITE_QUANTIZERS)
def test_nan_and_inf_blocks(name, dtype):
    quantizer = QUANTIZERS[name]
    x = block_values((6, 40), dtype, seed=3) * 3
    x[1, 3], x[2, 35], x[4, 0] = np.nan, np.inf, -np.inf
    for chunks in ((1, 1), (4, 13)):
        lazy = fqd.quantize(quantizer, chunked(x, chunks))
        assert_same_quantized(lazy.compute(), quantizer.quantize(x), f"{name} {chunks}")
        assert_bitwise(lazy.dequantize().compute(), quantizer.quantize(x).dequantize())


def test_torchao_nonfinite_mode():
    quantizer = fq.mx("mxfp8_e4m3", nonfinite="torchao_0_18")
    x = block_values((4, 64), np.float32, seed=4)
    x[0, 5], x[3, 40] = np.inf, np.nan
    assert_same_quantized(fqd.quantize(quantizer, chunked(x, (3, 20))).compute(), quantizer.quantize(x))


def test_integer_input_becomes_float64():
    x = np.random.default_rng(5).integers(-100, 100, (6, 40))
    for quantizer in (fq.mx("mxfp4"), fq.IntQuantizer(), fq.nf4()):
        lazy = fqd.quantize(quantizer, chunked(x, (4, 13)))
        assert lazy.dtype == np.float64
        assert_same_quantized(lazy.compute(), quantizer.quantize(x))


def test_results_do_not_depend_on_the_scheduler():
    x = block_values((8, 64), np.float32, seed=6)
    quantizer = fq.IntQuantizer(rounding="stochastic", seed=12, granularity="channel:1")
    ref = quantizer.quantize(x)
    got = fqd.quantize(quantizer, chunked(x, (3, 10))).compute(scheduler="threads", num_workers=4)
    assert_same_quantized(got, ref)


def test_unseeded_stochastic_quantizer_shares_one_seed():
    x = np.full((4, 64), 0.3, np.float32)
    lazy = fqd.quantize(fq.mx("mxfp4", rounding="stochastic"), chunked(x, (1, 32)))
    assert_bitwise(lazy.codes.compute(), lazy.codes.compute())
    assert len(np.unique(lazy.codes.compute())) == 2  # both neighbours of 0.3 / scale occur


# --------------------------------------------------------------------------- calibrated ranges
def test_calibrated_range_int_per_tensor_and_per_channel():
    x = block_values((6, 40), np.float32, seed=7)
    d = chunked(x, (4, 13))
    q = fq.IntQuantizer(bits=4)
    assert_same_quantized(fqd.quantize(q, d, min_val=-0.5, max_val=0.5).compute(),
                          q.quantize(x, min_val=-0.5, max_val=0.5))
    qc = fq.IntQuantizer(bits=6, granularity="channel:0", symmetric=False, rounding="stochastic", seed=3)
    lo, hi = np.linspace(-2, -0.5, 6).reshape(6, 1), np.linspace(0.5, 3, 6).reshape(6, 1)
    assert_same_quantized(fqd.quantize(qc, d, min_val=lo, max_val=hi).compute(), qc.quantize(x, min_val=lo, max_val=hi))
    qg = fq.IntQuantizer(granularity="group:16")
    lo = -np.ones((6, 3))
    assert_same_quantized(fqd.quantize(qg, d, min_val=lo, max_val=-lo).compute(), qg.quantize(x, min_val=lo, max_val=-lo))
    assert_bitwise(fqd.fake_quantize(qg, d, min_val=lo, max_val=-lo).compute(), qg.fake_quantize(x, min_val=lo, max_val=-lo))


def test_calibrated_amax_float():
    x = block_values((6, 40), np.float32, seed=8)
    q = fq.FloatQuantizer(granularity="channel:0")
    amax = np.arange(1, 7, dtype=np.float32).reshape(6, 1)
    assert_same_quantized(fqd.quantize(q, chunked(x, (4, 13)), amax=amax).compute(), q.quantize(x, amax=amax))
    q = fq.FloatQuantizer(format="float8_e5m2")
    assert_same_quantized(fqd.quantize(q, chunked(x, 7), amax=2.5).compute(), q.quantize(x, amax=2.5))


# --------------------------------------------------------------------------- layouts and stored arrays
@pytest.mark.parametrize("name, shape, chunks, expected", [
    ("mxfp4", (8, 100), (3, 50), ((3, 3, 2), (64, 36))),
    ("mxfp4", (8, 100), (3, 64), ((3, 3, 2), (64, 36))),  # already whole blocks: unchanged
    ("nf4", (10, 24), 5, ((8, 2), (24,))),  # 8 rows of 24 = 3 blocks of 64
    ("nf4", (1000,), 100, ((128,) * 7 + (104,),)),
    ("int8-tensor", (10,), 3, ((3, 3, 3, 1),)),
    ("nvfp4-sr-b4-axis0", (10, 3), (3, 2), ((4, 4, 2), (2, 1))),
], ids=["mx-split", "mx-aligned", "flat-2d", "flat-1d", "per-tensor", "axis0"])
def test_block_chunks(name, shape, chunks, expected):
    x = da.zeros(shape, chunks=chunks)
    assert fqd.block_chunks(QUANTIZERS[name], x) == expected
    assert fqd.quantize(QUANTIZERS[name], x).codes.chunks == expected


def test_dequantize_from_stored_arrays_with_any_chunking():
    """A `DaskQuantizedTensor` built from arrays chunked otherwise (as read back from Zarr) dequantizes right."""
    x = block_values((6, 48), np.float32, seed=9)
    for quantizer in (fq.mx("mxfp4"), fq.NVFP4Quantizer(), fq.IntQuantizer(granularity="flat:10", symmetric=False),
                      fq.nf4(block_size=16, double_quant=True, dq_block_size=4), fq.FloatQuantizer(granularity="channel")):
        lazy = fqd.quantize(quantizer, chunked(x, (4, 13)))
        ref = quantizer.quantize(x)
        stored = fqd.DaskQuantizedTensor(
            codes=lazy.codes.rechunk((5, 7)),
            scale=None if lazy.scale is None else lazy.scale.rechunk(1),
            zero_point=None if lazy.zero_point is None else lazy.zero_point.rechunk(3),
            quantizer=quantizer, shape=x.shape, dtype=x.dtype, scale_format=lazy.scale_format,
            extra={k: (v.rechunk(2) if isinstance(v, da.Array) and v.ndim else v) for k, v in lazy.extra.items()})
        assert_bitwise(stored.dequantize().compute(), ref.dequantize(), repr(quantizer))
        assert_bitwise(stored.dequantize(np.float16).compute(), ref.dequantize(np.float16), repr(quantizer))


def test_scale_codes_are_the_stored_bytes():
    x = block_values((4, 64), np.float32, seed=10)
    for quantizer in (fq.mx("mxfp4"), fq.NVFP4Quantizer(), fq.IntQuantizer()):
        lazy = fqd.quantize(quantizer, chunked(x, (3, 20)))
        assert_bitwise(lazy.scale_codes.compute(), quantizer.quantize(x).scale_codes)


@pytest.mark.parametrize("name", ["mxfp4", "int8-tensor", "nf4", "uint4-asym-channel"])
def test_empty_and_zero_d_inputs(name):
    quantizer = QUANTIZERS[name]
    x = np.zeros((0, 32), np.float32)
    assert_same_quantized(fqd.quantize(quantizer, chunked(x, 8)).compute(), quantizer.quantize(x))
    assert fqd.fake_quantize(quantizer, chunked(x, 8)).compute().shape == (0, 32)
    scalar = np.float32(0.7)
    if name in ("mxfp4", "uint4-asym-channel"):
        with pytest.raises(ValueError, match="0-d"):
            fqd.quantize(quantizer, da.from_array(scalar))
    else:
        assert_same_quantized(fqd.quantize(quantizer, da.from_array(scalar)).compute(), quantizer.quantize(scalar))


# --------------------------------------------------------------------------- errors
def test_rechunk_false_refuses_chunks_that_split_blocks():
    x = chunked(np.zeros((4, 64), np.float32), (4, 48))
    with pytest.raises(ValueError, match=r"along axis 1 \(\(48, 16\)\) split the blocks of 32.*rechunk\(\{1: 64\}\)"):
        fqd.quantize(fq.mx("mxfp4"), x, rechunk=False)
    with pytest.raises(ValueError, match="split the flat blocks of 64"):
        fqd.fake_quantize(fq.nf4(), chunked(np.zeros((4, 48), np.float32), (4, 24)), rechunk=False)
    ok = fqd.quantize(fq.mx("mxfp4"), chunked(np.zeros((4, 64), np.float32), (3, 32)), rechunk=False)
    assert ok.codes.chunks == ((3, 1), (32, 32))
    ok = fqd.quantize(fq.IntQuantizer(), x, rechunk=False)  # per tensor: any chunking
    assert ok.codes.chunks == x.chunks


@pytest.mark.parametrize("call, error, match", [
    (lambda: fqd.quantize(fq.mx("mxfp4"), np.zeros((2, 32))), TypeError, "must be a dask.array.Array"),
    (lambda: fqd.quantize(fq.Quantizer(), da.zeros(4)), TypeError, "quantizer must be one of"),
    (lambda: fqd.quantize(fq.mx("mxfp4"), da.zeros(4), amax=1.0), TypeError, "unexpected keyword argument 'amax'"),
    (lambda: fqd.quantize(fq.FloatQuantizer(), da.zeros(4), min_val=1.0), TypeError, "takes only amax"),
    (lambda: fqd.quantize(fq.IntQuantizer(), da.zeros(4), min_val=1.0), ValueError, "give both min_val and max_val"),
    (lambda: fqd.quantize(fq.IntQuantizer(granularity="channel"), da.zeros((3, 4)), min_val=np.zeros(5),
                          max_val=np.ones(5)), ValueError, "does not fit the parameter shape"),
    (lambda: fqd.quantize(fq.IntQuantizer(), da.zeros(4), min_val=-np.inf, max_val=1.0), ValueError, "must be finite"),
    (lambda: fqd.quantize(fq.FloatQuantizer(), da.zeros(4), amax=-1.0), ValueError, "finite, non-negative"),
    (lambda: fqd.quantize(fq.mx("mxfp4", axis=2), da.zeros((3, 4))), ValueError, "axis 2 is out of range"),
    (lambda: fqd.quantize(fq.mx("mxfp4"), da.zeros(4, dtype=bool)), TypeError, "not bool"),
    (lambda: fqd.quantize(fq.FloatQuantizer(rounding="stochastic_a", seed=1), da.zeros(4)), ValueError, "sr_bits"),
    (lambda: fqd.fake_quantize(fq.mx("mxfp4"), [1.0, 2.0]), TypeError, "must be a dask.array.Array"),
    (lambda: fqd.quantize(fq.mx("mxfp4"), da.zeros(8)[da.zeros(8) > 0]), ValueError, "unknown chunk sizes"),
], ids=["numpy-x", "base-quantizer", "kwarg-not-taken", "kwarg-of-int", "half-range", "range-shape", "range-inf",
        "negative-amax", "axis", "bool", "sr-bits", "fake-list", "unknown-chunks"])
def test_quantize_argument_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("quantizer, match", [
    (fq.IntQuantizer(), r"x contains 3 NaN / inf value\(s\)"),  # per tensor: the whole tensor's count
    (fq.IntQuantizer(granularity="group:8"), "NaN / inf value"),  # block-local: the chunk's count
    (fq.nf4(), "a codebook has no"),
    (fq.nf4(granularity="tensor"), "a codebook has no"),
], ids=["int-tensor", "int-group", "nf4", "nf4-tensor"])
def test_data_errors_of_quantizers_are_raised_when_computing(quantizer, match):
    x = block_values((6, 40), np.float64, seed=11)
    x[1, 3], x[2, 35], x[4, 0] = np.nan, np.inf, -np.inf
    with pytest.raises(ValueError, match=match):
        quantizer.quantize(x)
    lazy = fqd.quantize(quantizer, chunked(x, (3, 20)))
    with pytest.raises(ValueError, match=match):
        lazy.compute()


def test_nvfp4_float64_beyond_float32_raises_when_computing():
    x = np.full((2, 16), 1e300)
    lazy = fqd.quantize(fq.NVFP4Quantizer(), chunked(x, (1, 16)))
    with pytest.raises(ValueError, match="beyond the float32 range"):
        lazy.compute()


# --------------------------------------------------------------------------- a LocalCluster of worker processes
@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster, set_as_default=False)
    try:
        client.wait_for_workers(2, timeout=60)
        yield client
    finally:
        client.close()
        cluster.close()


def _workers_used(client, collection):
    """Compute on the cluster and return (result, the set of workers that ran its tasks)."""
    from distributed import get_task_stream

    with get_task_stream(client) as ts:
        result = client.compute(collection).result()
    return result, {t["worker"] for t in ts.data}


def _on_one_worker(client, collection):
    worker = sorted(client.scheduler_info()["workers"])[0]
    return client.compute(collection, workers=[worker], allow_other_workers=False).result()


def test_cluster_seeded_stochastic_cast_is_the_same_on_one_and_two_workers(client):
    x = values((8, 6, 50), nan=True, seed=12)
    kw = dict(rounding="stochastic_b", sr_bits=6, seed=11, index_offset=5)
    ref = fs.cast(x, "float8_e4m3fn", **kw)
    workers = set()
    for chunks in ((3, 4, 17), (1, 6, 50), (8, 1, 5)):
        y = fs.cast(chunked(x, chunks), "float8_e4m3fn", **kw)
        both, used = _workers_used(client, y)
        workers |= used
        assert_bitwise(both, ref, f"two workers {chunks}")
        assert_bitwise(_on_one_worker(client, y), ref, f"one worker {chunks}")
    assert len(workers) == 2, f"the tasks ran on {workers} only"


@pytest.mark.parametrize("name", ["mxfp8-e4m3-sr", "nvfp4-sr", "int8-channel-sr", "nf4-double-quant"])
def test_cluster_block_quantizers(client, name):
    quantizer = QUANTIZERS[name]
    x = block_values((12, 64), np.float32, seed=13)
    ref = quantizer.quantize(x)
    for chunks in ((5, 20), (12, 7)):
        lazy = fqd.quantize(quantizer, chunked(x, chunks))
        assert_same_quantized(lazy.compute(scheduler=client), ref, f"{name} {chunks}")
        assert_bitwise(_on_one_worker(client, lazy.codes), ref.codes, f"{name} {chunks} one worker")
        fake, used = _workers_used(client, fqd.fake_quantize(quantizer, chunked(x, chunks)))
        assert_bitwise(fake, quantizer.fake_quantize(x), f"{name} {chunks} fake_quantize")


# --------------------------------------------------------------------------- internals worth pinning
def test_arrays_computed_together_share_the_chunk_tasks(monkeypatch):
    """`compute()` runs every chunk's quantization once, double quantization's second level included."""
    calls = []
    original = fqd._quantize_block

    def counting(*args, **kwargs):
        calls.append(kwargs["spec"].quantizer.name if hasattr(kwargs["spec"].quantizer, "name") else "other")
        return original(*args, **kwargs)

    monkeypatch.setattr(fqd, "_quantize_block", counting)
    x = block_values((8, 64), np.float32, seed=14)
    lazy = fqd.quantize(fq.nf4(block_size=16, double_quant=True, dq_block_size=4), chunked(x, (4, 32)))
    lazy.compute()
    assert calls.count("nf4") == lazy.codes.npartitions == 4
    assert calls.count("dynamic8_signed") == lazy.extra["absmax_codes"].npartitions
    calls.clear()
    lazy = fqd.quantize(fq.IntQuantizer(granularity="channel", symmetric=False), chunked(x, (3, 20)))
    lazy.compute()
    assert len(calls) == lazy.codes.npartitions


def test_exact_sum_of_the_double_quantization_offset():
    """The chunked mean equals `math.fsum(values) / n` rounded to float32, as the in-memory quantizer takes it."""
    import math
    from fractions import Fraction

    rng = np.random.default_rng(15)
    tiny = np.float32([2**-149, 3 * 2**-149, 2**-126, 0.0])
    big = np.float32([3.4e38, 1e30, 1.0, 1 + 2**-23])
    v = np.concatenate([tiny, big, rng.random(1000, dtype=np.float32) * 2.0 ** rng.integers(-140, 120, 1000)])
    v = v.astype(np.float32)
    parts = [fqd._exact_sum_parts(p) for p in np.array_split(v, 7)]
    exact = sum(Fraction(float(f)) for f in v) * 2**149  # an integer: float32 values are multiples of 2**-149
    assert exact.denominator == 1 and sum(parts) == exact.numerator
    assert fqd._offset(parts, v.size) == np.float32(math.fsum(v.astype(np.float64)) / v.size)


LAYOUTS = [fqd._Layout("tensor"), fqd._Layout("flat", None, 7), fqd._Layout("channel", 1), fqd._Layout("group", 2, 2),
           fqd._Layout("group", 0, 2), fqd._Layout("channel", 0)]


@pytest.mark.parametrize("lay", LAYOUTS, ids=lambda lay: f"{lay.kind}-{lay.axis}-{lay.size}")
def test_contiguous_chunks_use_the_seed_and_an_offset(lay):
    """Where `_contiguous_start` gives a start, the chunk's blocked view read from it is the global blocked
    index of every element (what the explicit random bits use); every chunk of every chunking of a small 3-D
    array, blocks aligned (as `quantize` makes them)."""
    shape = (3, 4, 5)
    x = da.zeros(shape, chunks=1)
    seen = set()
    for chunks in ((1, 1, 1), (2, 4, 5), (1, 4, 5), (3, 2, 2), (1, 1, 5), (3, 4, 5), (1, 3, 4)):
        aligned = fqd._aligned(x.rechunk(chunks), lay, True) if lay.kind in ("group", "flat") else x.rechunk(chunks)
        starts = [np.cumsum((0,) + c) for c in aligned.chunks]
        for block in np.ndindex(*aligned.numblocks):
            loc = [(int(s[i]), int(s[i + 1])) for s, i in zip(starts, block, strict=True)]
            start = fqd._contiguous_start(lay, loc, shape)
            seen.add(start is not None)
            if start is None:
                continue
            blocks = to_blocks(np.zeros([b - a for a, b in loc]), lay.granularity)
            run = blocks.unblock((start + np.arange(blocks.data.size)).reshape(blocks.data.shape))
            assert np.array_equal(run, fqd._blocked_index(lay, loc, shape)), (chunks, loc)
    assert seen == ({True} if lay.kind == "flat" else {True, False})  # flat chunks are whole runs of rows


def test_seeded_chunks_of_one_contiguous_run_use_the_seed_and_an_offset():
    """`_adapt.run_start` (the elementwise verbs' shortcut) gives a start exactly for the chunks whose C-order
    indices are one run; every chunk of several chunkings of a 3-D array."""
    from floatsim._adapt import global_indices, run_start

    shape = (3, 4, 5)
    for chunks in ((1, 1, 1), (2, 4, 5), (1, 4, 5), (3, 2, 2), (1, 1, 5), (3, 4, 5), (1, 3, 4), (2, 1, 5)):
        starts = [np.cumsum((0,) + c) for c in da.zeros(shape, chunks=chunks).chunks]
        for block in np.ndindex(*[len(s) - 1 for s in starts]):
            loc = [(int(s[i]), int(s[i + 1])) for s, i in zip(starts, block, strict=True)]
            idx = global_indices(loc, shape).reshape(-1)
            contiguous = bool(np.all(np.diff(idx) == 1))
            start = run_start(loc, shape)
            assert (start is not None) == contiguous, (chunks, loc)
            assert start is None or start == idx[0]
