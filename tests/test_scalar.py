"""floatsim.scalar: the scalar rounding functions called element by element from a user's own Numba code.

The loops below are written the way a user would write them: module-level `@numba.njit` functions that call the
public scalar functions, one element at a time. Their results must equal the array verbs (`floatsim.encode`,
`cast`, `decode`, `random_bits`) bit for bit; the exact pure-Python `floatsim.reference` and ml_dtypes / NumPy casts
are independent oracles on samples. The loops are not disk-cached on purpose: Numba's cache checks only the source
file of the cached function, so a cached loop here would keep testing an old floatsim after a change to
floatsim/scalar.py or floatsim/_kernels.py.
"""

import functools
import math
import zlib

import numba
import numpy as np
import pytest

import floatsim as fs
from floatsim import reference, scalar

DETERMINISTIC = ["nearest_even", "nearest_away", "toward_zero", "toward_positive", "toward_negative", "odd"]
FLOAT_OVERFLOWS = ["ieee", "saturate", "sat_propagate", "sat_none"]
INT_OVERFLOWS = ["saturate", "wrap"]

# a custom format without subnormals (values below 2**emin round to 0 or to 2**emin), and an unsigned custom float
NO_SUBNORMALS = fs.FloatFormat(exponent_bits=4, mantissa_bits=3, subnormals=False, specials="fn", name="e4m3_nosub")
UNSIGNED_E5M3 = fs.FloatFormat(exponent_bits=5, mantissa_bits=3, signed=False, specials="ieee", name="ue5m3")

FLOAT_FORMATS = [
    "float8_e4m3fn", "float8_e5m2", "float8_e4m3", "float8_e3m4", "float8_e4m3fnuz", "float8_e5m2fnuz",
    "float8_e4m3b11fnuz", "float6_e2m3fn", "float6_e3m2fn", "float4_e2m1fn", "bfloat16", "float16",
    "float8_e8m0fnu", "binary8p3se", "binary8p5sf", NO_SUBNORMALS, UNSIGNED_E5M3,
]
INT_FORMATS = ["int4", "int8", "uint8", "int2", "uint4"]
ALL_FORMATS = FLOAT_FORMATS + INT_FORMATS


def _name(f):
    return str(f)


# --------------------------------------------------------------------------- the user's loops
@numba.njit
def user_round(x, p, r, key, offset, codes, values):
    """Code and value of every element. The random integer of element i is r[i], or, when r is empty, the one
    of its global index offset + i under the seed's key."""
    for i in range(x.size):
        ri = r[i] if r.size > 0 else scalar.random_r_scalar(key, offset + i, p)
        codes[i] = scalar.encode_scalar(x[i], p, ri)
        values[i] = scalar.cast_scalar(x[i], p, ri)


@numba.njit
def user_decode(codes, p, out):
    for i in range(codes.size):
        out[i] = scalar.decode_scalar(codes[i], p)


@numba.njit(parallel=True)
def user_parallel(x, p, key, codes):
    """Codes of x (float32 here), elements spread over threads; seeded random integers for stochastic modes."""
    for i in numba.prange(x.size):
        codes[i] = scalar.encode_scalar(x[i], p, scalar.random_r_scalar(key, i, p))


@numba.njit
def user_bits(key, offset, out):
    for i in range(out.size):
        out[i] = scalar.random_bits_scalar(key, offset + i)


@numba.njit
def absmax_quantize(x, p, fmt_max, key):
    """A custom quantizer in one compiled function: per-row absmax scale, then rounding of x / scale.

    Returns the codes (uint8), the scale of each row, the dequantized values (float32) and the number of errors.
    With a stochastic `p`, element (i, j) takes the random bits of its C-order index i * cols + j, as
    `floatsim.encode(..., seed=...)` does.
    """
    rows, cols = x.shape
    codes = np.empty((rows, cols), np.uint8)
    scales = np.empty(rows)
    deq = np.empty((rows, cols), np.float32)
    errors = 0
    for i in range(rows):
        amax = 0.0
        for j in range(cols):
            amax = max(amax, abs(np.float64(x[i, j])))
        s = amax / fmt_max if amax > 0 else 1.0
        scales[i] = s
        for j in range(cols):
            c = scalar.encode_scalar(x[i, j] / s, p, scalar.random_r_scalar(key, i * cols + j, p))
            errors += c < 0
            codes[i, j] = c
            deq[i, j] = scalar.decode_scalar(c, p) * s
    return codes, scales, deq, errors


def absmax_quantize_numpy(x, fmt, rounding="nearest_even", seed=None):
    """The same quantizer composed from NumPy and the array verbs."""
    fmt = fs.get_format(fmt)
    amax = np.abs(x.astype(np.float64)).max(axis=1)
    s = np.where(amax > 0, amax / fmt.max, 1.0)
    kw = {} if seed is None else dict(seed=seed)
    codes = fs.encode(x / s[:, None], fmt, rounding=rounding, **kw)
    deq = (fs.decode(codes, fmt, dtype=np.float64) * s[:, None]).astype(np.float32)
    return codes, s, deq


# --------------------------------------------------------------------------- inputs
def _specials(fmt, top):
    """NaN, infinities, zeros, float64 subnormals, ties near 0 and 1, values beyond the format's range (`top` is
    its largest finite value) and beyond int64."""
    specials = [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1e300,
                -1e300, 1.5 * top, -1.5 * top, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 1e20, -1e20, 2.0**62, -(2.0**62),
                2.0**64 + 2**12, float(np.finfo(np.float64).max)]
    if isinstance(fmt, fs.FloatFormat):
        tiny = fmt.smallest_subnormal
        specials += [tiny / 2, -tiny / 2, tiny / 4, tiny * 0.75, -tiny * 0.75, tiny * 1.5]
    return np.array(specials)


@functools.cache
def _inputs(fmt) -> np.ndarray:
    """Every value of the format, the midpoints between neighbours and the floats next to them, the specials,
    float64 subnormals, values beyond the range, and random values at several scales (float64)."""
    fmt = fs.get_format(fmt)
    rng = np.random.default_rng(zlib.crc32(str(fmt).encode()))
    values = fs.decode(np.arange(fmt.num_codes), fmt, dtype=np.float64)
    finite = np.unique(values[np.isfinite(values)])
    top = float(finite[-1])
    step = top - finite[-2]  # the spacing at max: the extended grid goes on with it above max
    ext = np.concatenate([finite, [top + step, 2 * top]])
    mid = (ext[1:] + ext[:-1]) / 2  # includes the tie between max and the first value beyond it
    near = np.concatenate([np.nextafter(mid, -np.inf), np.nextafter(mid, np.inf)])
    specials = _specials(fmt, top)
    rand = np.concatenate([rng.standard_normal(2000) * scale for scale in (1e-3, 1.0, 10.0, top)])
    x = np.concatenate([finite, -finite, mid, -mid, near, -near, specials, rand])
    x.setflags(write=False)
    return x


def _params(fmt, rounding, overflow, sr_bits=None):
    return scalar.params(fmt, rounding, overflow, sr_bits)


def _run(x, p, r=None, seed=None, offset=0):
    """The user loop on a writeable copy of x (a read-only array is another Numba type: another compilation)."""
    x = np.array(x)
    r = np.zeros(x.size if seed is None else 0, np.uint64) if r is None else r
    codes = np.empty(x.size, np.int64)
    values = np.empty(x.size)
    user_round(x, p, r, scalar.seed_key(seed or 0), offset, codes, values)
    return codes, values


def _bits(a):
    return np.asarray(a, np.float64).view(np.int64)


def _check_against_verbs(x, fmt, codes, values, **kw):
    """codes / values of the user loop equal encode / cast (and decode of the codes); NaN into a format without
    NaN gives ERROR_NAN and NaN."""
    fmt = fs.get_format(fmt)
    nan = np.isnan(np.asarray(x, np.float64))
    ok = ~nan if not fmt.has_nan else np.ones(x.size, bool)
    sub = {k: (v[ok] if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    want_codes = fs.encode(x[ok], fmt, **sub)
    np.testing.assert_array_equal(codes[ok], want_codes.astype(np.int64))
    np.testing.assert_array_equal(_bits(values[ok]), _bits(fs.cast(x[ok], fmt, dtype=np.float64, **sub)))
    np.testing.assert_array_equal(_bits(values[ok]), _bits(fs.decode(want_codes, fmt, dtype=np.float64)))
    if not fmt.has_nan and nan.any():
        assert (codes[nan] == scalar.ERROR_NAN).all()
        assert np.isnan(values[nan]).all()
        with pytest.raises(ValueError, match="NaN"):
            fs.encode(x, fmt, **kw)


# --------------------------------------------------------------------------- deterministic rounding
@pytest.mark.parametrize("overflow", FLOAT_OVERFLOWS)
@pytest.mark.parametrize("rounding", DETERMINISTIC)
@pytest.mark.parametrize("fmt", FLOAT_FORMATS, ids=_name)
def test_float_formats_deterministic(fmt, rounding, overflow):
    x = _inputs(fmt)
    codes, values = _run(x, _params(fmt, rounding, overflow))
    _check_against_verbs(x, fmt, codes, values, rounding=rounding, overflow=overflow)


@pytest.mark.parametrize("overflow", INT_OVERFLOWS)
@pytest.mark.parametrize("rounding", DETERMINISTIC)
@pytest.mark.parametrize("fmt", INT_FORMATS, ids=_name)
def test_int_formats_deterministic(fmt, rounding, overflow):
    fmt = fs.get_format(fmt)
    near_range = np.arange(fmt.min - 40, fmt.max + 40, dtype=np.float64)
    x = np.concatenate([_inputs(fmt), near_range, near_range + 0.5, np.arange(-300, 300) / 8])
    codes, values = _run(x, _params(fmt, rounding, overflow))
    _check_against_verbs(x, fmt, codes, values, rounding=rounding, overflow=overflow)


def _run_parallel(x, p, seed=0, threads=None):
    codes = np.empty(x.size, np.int64)
    previous = numba.get_num_threads()
    numba.set_num_threads(threads or previous)
    try:
        user_parallel(np.array(x, np.float32), p, scalar.seed_key(seed), codes)
    finally:
        numba.set_num_threads(previous)
    return codes


@pytest.mark.parametrize("fmt", ["float8_e4m3fn", "bfloat16", "float4_e2m1fn", "float8_e8m0fnu"], ids=_name)
def test_float32_inputs(fmt):
    """float32 elements convert exactly to float64: the codes of the array verbs on float32 arrays (and on the
    float16 values among them: Numba has no float16 arrays on the CPU, so float16 data enters a loop as float32)."""
    p = _params(fmt, "nearest_even", None)
    with np.errstate(over="ignore"):
        x32 = _inputs(fmt).astype(np.float32)
        x16 = _inputs(fmt).astype(np.float16)
    for x_in in (x32, x16):
        x_in = x_in[~np.isnan(x_in)] if not fs.get_format(fmt).has_nan else x_in
        np.testing.assert_array_equal(_run_parallel(x_in, p), fs.encode(x_in, fmt).astype(np.int64))


@pytest.mark.parametrize("mode,n", [("stochastic", None), ("stochastic_c", 5)])
def test_parallel_seeded_loop_does_not_depend_on_threads(mode, n):
    x = (np.random.default_rng(4).standard_normal(300_000) * 10).astype(np.float32)  # several chunks per thread
    p = _params("float8_e5m2", mode, None, n)
    want = fs.encode(x, "float8_e5m2", rounding=mode, sr_bits=n, seed=77).astype(np.int64)
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        np.testing.assert_array_equal(_run_parallel(x, p, seed=77, threads=threads), want)


def test_float32_scalars_from_python_into_integer_formats():
    with np.errstate(over="ignore"):
        x = _inputs("int8")[::7].astype(np.float32)
    x = x[~np.isnan(x)]
    for fmt, overflow in (("int8", "saturate"), ("uint4", "wrap")):
        p = _params(fmt, "nearest_even", overflow)
        assert [scalar.encode_scalar(v, p) for v in x] == fs.encode(x, fmt, overflow=overflow).tolist()


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=_name)
def test_decode_every_code(fmt):
    """Every code (exhaustive), and codes outside [0, 2**bits) give NaN."""
    fmt = fs.get_format(fmt)
    p = _params(fmt, "nearest_even", None)
    codes = np.arange(fmt.num_codes, dtype=np.int64)
    out = np.empty(codes.size)
    user_decode(codes, p, out)
    np.testing.assert_array_equal(_bits(out), _bits(fs.decode(codes, fmt, dtype=np.float64)))
    bad = np.array([-1, -2, fmt.num_codes, fmt.num_codes + 1, 2**40, np.iinfo(np.int64).min], np.int64)
    out = np.empty(bad.size)
    user_decode(bad, p, out)
    assert np.isnan(out).all()


def test_negative_zero_nan_inf_and_subnormals_by_hand():
    """Specials written out from the definitions (codes in hex), independent of the verbs."""
    e4m3 = _params("float8_e4m3fn", "nearest_even", None)
    e5m2 = _params("float8_e5m2", "nearest_even", None)
    fnuz = _params("float8_e4m3fnuz", "nearest_even", None)
    x = np.array([-0.0, 0.0, np.nan, -np.nan, np.inf, -np.inf, 2.0**-9, 2.0**-10, 3 * 2.0**-10, 5e-324, -5e-324])
    codes, values = _run(x, e4m3)
    # E4M3FN: -0 is 0x80, NaN 0x7F / 0xFF (signed), inf has no code: NaN; 2**-9 is the smallest subnormal 0x01;
    # 2**-10 is a tie between 0 and 2**-9 (to even: 0); 3 * 2**-10 a tie between 0x01 and 0x02 (to even: 0x02)
    assert [hex(c) for c in codes] == ["0x80", "0x0", "0x7f", "0xff", "0x7f", "0xff", "0x1", "0x0", "0x2", "0x0",
                                       "0x80"]
    assert math.copysign(1, values[0]) == -1 and values[1] == 0 and math.copysign(1, values[1]) == 1
    codes, values = _run(x, e5m2)
    assert [hex(c) for c in codes[:6]] == ["0x80", "0x0", "0x7e", "0xfe", "0x7c", "0xfc"]
    assert values[4] == np.inf and values[5] == -np.inf
    codes, values = _run(x, fnuz)  # fnuz: no -0 (it is the NaN), -0 rounds to +0
    assert [hex(c) for c in codes[:4]] == ["0x0", "0x0", "0x80", "0x80"]
    assert math.copysign(1, values[0]) == 1


# --------------------------------------------------------------------------- stochastic rounding
def _stochastic_cases():
    for fmt in ["float8_e4m3fn", "float8_e5m2", "float4_e2m1fn", "bfloat16", "float8_e8m0fnu", "float6_e3m2fn",
                NO_SUBNORMALS, "int4", "uint8"]:
        yield fmt, "stochastic", None
        for mode in ("stochastic_a", "stochastic_b", "stochastic_c"):
            for n in (1, 3, 13, 62):
                yield fmt, mode, n


STOCHASTIC_CASES = list(_stochastic_cases())


def _case_id(case):
    fmt, mode, n = case
    return f"{fmt}-{mode}" + ("" if n is None else f"-N{n}")


@pytest.mark.parametrize("case", STOCHASTIC_CASES, ids=_case_id)
def test_stochastic_with_explicit_bits(case):
    fmt, mode, n = case
    overflow = "saturate" if mode == "stochastic_b" else None
    x = _inputs(fmt)
    rng = np.random.default_rng(n or 64)
    if n is None:
        r = rng.integers(0, 2**64, x.size, dtype=np.uint64, endpoint=False)
    else:
        r = rng.integers(0, 2**n, x.size, dtype=np.uint64, endpoint=False)
    codes, values = _run(x, _params(fmt, mode, overflow, n), r)
    _check_against_verbs(x, fmt, codes, values, rounding=mode, overflow=overflow, sr_bits=n, random_bits=r)


@pytest.mark.parametrize("mode", ["stochastic_a", "stochastic_b", "stochastic_c"])
@pytest.mark.parametrize("fmt", ["float8_e4m3fn", "float4_e2m1fn", "int4"], ids=_name)
def test_stochastic_every_random_integer(fmt, mode):
    """With N = 3 bits, every R from 0 to 7 for every input (exhaustive in R)."""
    x = _inputs(fmt)
    xs = np.repeat(x, 8)
    r = np.tile(np.arange(8, dtype=np.uint64), x.size)
    codes, values = _run(xs, _params(fmt, mode, None, 3), r)
    _check_against_verbs(xs, fmt, codes, values, rounding=mode, sr_bits=3, random_bits=r)


@pytest.mark.parametrize("offset", [0, 12345])
@pytest.mark.parametrize("case", [c for c in STOCHASTIC_CASES if c[2] in (None, 13)], ids=_case_id)
def test_stochastic_with_seed(case, offset):
    """random_r_scalar(seed_key(s), global index, p) reproduces cast(..., seed=s, index_offset=k)."""
    fmt, mode, n = case
    x = _inputs(fmt)
    x = x[~np.isnan(x)]
    codes, values = _run(x, _params(fmt, mode, None, n), seed=2024, offset=offset)
    kw = dict(rounding=mode, sr_bits=n, seed=2024, index_offset=offset)
    np.testing.assert_array_equal(codes, fs.encode(x, fmt, **kw).astype(np.int64))
    np.testing.assert_array_equal(_bits(values), _bits(fs.cast(x, fmt, dtype=np.float64, **kw)))


@pytest.mark.parametrize("offset", [0, 1, 2**40])
def test_random_bits_scalar_equals_random_bits(offset):
    for seed in (0, 1, 2**63 + 5):
        out = np.empty(5000, np.uint64)
        user_bits(scalar.seed_key(seed), offset, out)
        np.testing.assert_array_equal(out, fs.random_bits(5000, seed, index_offset=offset))


def test_random_r_scalar_top_bits_and_deterministic_modes():
    key = scalar.seed_key(9)
    bits = fs.random_bits(50, 9)
    for n in (1, 8, 62):
        p = _params("float8_e4m3fn", "stochastic_c", None, n)
        assert [scalar.random_r_scalar(key, i, p) for i in range(50)] == list(bits >> np.uint64(64 - n))
    p = _params("float8_e4m3fn", "stochastic", None)
    assert [scalar.random_r_scalar(key, i, p) for i in range(50)] == list(bits)
    for mode in DETERMINISTIC:
        assert scalar.random_r_scalar(key, 3, _params("int8", mode, None)) == 0


def test_random_integer_too_large_is_an_error_code():
    p = _params("float8_e4m3fn", "stochastic_a", None, 8)
    assert scalar.encode_scalar(1.0625, p, 255) == 57  # the largest valid R rounds a tie up
    assert scalar.encode_scalar(1.0625, p, 256) == scalar.ERROR_RANDOM
    assert scalar.encode_scalar(1.0, p, np.uint64(2**63)) == scalar.ERROR_RANDOM  # checked for exact inputs too
    assert math.isnan(scalar.cast_scalar(1.0625, p, 256))
    with pytest.raises(ValueError, match="random_bits must be < 2\\*\\*sr_bits"):
        fs.encode(np.array([1.0625]), "float8_e4m3fn", rounding="stochastic_a", sr_bits=8,
                  random_bits=np.array([256], np.uint64))
    full = _params("float8_e4m3fn", "stochastic", None)  # 64 bits: every uint64 is valid
    assert scalar.encode_scalar(1.0625, full, np.uint64(2**64 - 1)) == 57
    assert scalar.encode_scalar(1.0625, full, np.uint64(2**63 - 1)) == 56  # nu = 1/2: up iff R >= 2**63
    assert scalar.encode_scalar(1.0625, full, np.uint64(2**63)) == 57
    det = _params("float8_e4m3fn", "nearest_even", None)  # deterministic modes ignore r
    assert scalar.encode_scalar(1.0625, det, 2**40) == 56


# --------------------------------------------------------------------------- independent oracles
def _reference_sample(fmt):
    x = _inputs(fmt)
    idx = np.random.default_rng(1).choice(x.size, 200, replace=False)
    return np.concatenate([_specials(fmt, fmt.max), x[idx]])


@pytest.mark.parametrize("rounding,overflow,n", [("nearest_even", None, None), ("toward_negative", "saturate", None),
                                                 ("odd", "sat_none", None), ("nearest_away", "sat_propagate", None),
                                                 ("stochastic_c", None, 3), ("stochastic_b", "saturate", 2)])
@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=_name)
def test_against_exact_reference(fmt, rounding, overflow, n):
    """The exact pure-Python reference (integers and Fractions, no kernels) on a sample of inputs."""
    fmt = fs.get_format(fmt)
    if isinstance(fmt, fs.IntFormat) and overflow not in (None, "saturate"):
        overflow = "wrap"
    x = _reference_sample(fmt)
    x = x[~np.isnan(x)] if not fmt.has_nan else x
    r = np.arange(x.size, dtype=np.uint64) % np.uint64(2 ** (n or 1))
    codes, _ = _run(x, _params(fmt, rounding, overflow, n), r)
    want = [reference.round_to_code(float(v), fmt, rounding, overflow, random_bits=int(ri) if n else None, sr_bits=n)
            for v, ri in zip(x, r, strict=True)]
    assert codes.tolist() == want


ML_DTYPES_FORMATS = ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e4m3",
                     "float8_e3m4", "bfloat16", "float6_e2m3fn", "float6_e3m2fn", "float4_e2m1fn"]


@pytest.mark.parametrize("fmt", ML_DTYPES_FORMATS + ["float16"])
def test_against_ml_dtypes_casts(fmt):
    """float32 inputs (not NaN) rounded to nearest-even with the default policy: ml_dtypes' own astype (NumPy's
    for float16); float32 inputs avoid ml_dtypes' double rounding of float64 (tests/differences.py)."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    dtype = np.float16 if fmt == "float16" else getattr(ml_dtypes, fmt)
    with np.errstate(over="ignore"):
        x = _inputs(fmt).astype(np.float32)
    x = x[~np.isnan(x)]
    _, values = _run(x.astype(np.float64), _params(fmt, "nearest_even", None))  # exact; float32 is tested above
    with np.errstate(over="ignore", invalid="ignore"):
        want = x.astype(dtype).astype(np.float64)
    np.testing.assert_array_equal(values, want)  # NaN equals NaN here
    assert (np.signbit(values) == np.signbit(want))[~np.isnan(want)].all()


# --------------------------------------------------------------------------- a custom quantizer
@pytest.mark.parametrize("rounding,seed", [("nearest_even", None), ("toward_zero", None), ("stochastic", 5)])
@pytest.mark.parametrize("fmt", ["float8_e4m3fn", "float8_e5m2", "float4_e2m1fn"])
def test_absmax_quantizer_equals_numpy_composition(fmt, rounding, seed):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((64, 100)) * rng.uniform(0.01, 100, (64, 1))).astype(np.float32)
    x[5] = 0.0  # an all-zero row: scale 1
    x[6, 7] = -1e30  # one huge element: its row is mostly flushed to zero
    f = fs.get_format(fmt)
    key = scalar.seed_key(seed if seed is not None else 0)
    p = _params(fmt, rounding, None)
    codes, scales, deq, errors = absmax_quantize(x, p, f.max, key)
    want_codes, want_scales, want_deq = absmax_quantize_numpy(x, fmt, rounding, seed)
    assert errors == 0
    np.testing.assert_array_equal(codes, want_codes)
    np.testing.assert_array_equal(scales, want_scales)
    np.testing.assert_array_equal(deq.view(np.int32), want_deq.view(np.int32))
    assert np.abs(deq - x).max() <= np.abs(x).max()  # a sanity bound, not the test


# --------------------------------------------------------------------------- from Python
def test_python_calls():
    p = scalar.params("float8_e4m3fn", overflow="saturate")
    assert scalar.encode_scalar(1.0625, p) == 56 and scalar.encode_scalar(np.float32(-500.0), p) == 0xFE
    assert scalar.cast_scalar(0.1, p) == float(fs.cast(0.1, "float8_e4m3fn"))
    assert scalar.decode_scalar(np.uint8(0x7E), p) == 448.0
    assert math.isnan(scalar.cast_scalar(math.nan, scalar.params("int8")))
    assert scalar.encode_scalar(math.nan, scalar.params("int8")) == scalar.ERROR_NAN
    assert scalar.cast_scalar(-3.5, scalar.params("int4", "nearest_away")) == -4.0
    assert scalar.encode_scalar(9, scalar.params("int4", overflow="wrap")) == 9  # 9 wraps to -7, code 0b1001


def test_params_cached_typed_and_immutable():
    p = scalar.params("float8_e4m3fn", "rne")
    assert p is scalar.params(fs.get_format("float8_e4m3fn"), fs.Rounding.NEAREST_EVEN, "ieee")
    assert isinstance(p, tuple) and all(type(v) is int for v in p)
    with pytest.raises(AttributeError):
        p.mode = 3
    q = scalar.params("int8")
    assert type(q) is scalar.IntScalarParams and isinstance(q, scalar.ScalarParams)
    assert (q.is_int, q.int_min, q.int_max, q.nan_pos) == (1, -128, 127, -1)
    assert numba.typeof(p) != numba.typeof(q)  # one compiled version per kind of format
    assert scalar.params("float4_e2m1fn").nan_pos == -1 and p.nan_pos == 0x7F
    s = scalar.params("bfloat16", "stochastic")
    assert (s.mode, s.sr_bits) == (int(fs.Rounding.STOCHASTIC), 64)


# --------------------------------------------------------------------------- errors
PARAMS_ERRORS = [
    (dict(fmt="float9"), ValueError, "unknown format 'float9'"),
    (dict(fmt=None), TypeError, "fmt must be"),
    (dict(fmt="float8_e4m3fn", rounding="nearest_odd"), ValueError, "rounding='nearest_odd' is not a known"),
    (dict(fmt="float8_e4m3fn", rounding=0), TypeError, "rounding must be a string"),
    (dict(fmt="float8_e4m3fn", overflow="clip"), ValueError, "overflow='clip' is not a known"),
    (dict(fmt="float8_e4m3fn", overflow="wrap"), ValueError, "overflow='wrap' applies to integer formats only"),
    (dict(fmt="int8", overflow="sat_none"), ValueError, "is not available for integer format"),
    (dict(fmt="float8_e4m3fn", rounding="stochastic_a"), ValueError, "needs sr_bits=N"),
    (dict(fmt="float8_e4m3fn", rounding="stochastic_b", sr_bits=0), ValueError, "sr_bits=0 is invalid"),
    (dict(fmt="float8_e4m3fn", rounding="stochastic_b", sr_bits=63), ValueError, "sr_bits=63 is invalid"),
    (dict(fmt="float8_e4m3fn", rounding="stochastic_c", sr_bits=2.0), ValueError, "sr_bits=2.0 is invalid"),
    (dict(fmt="float8_e4m3fn", rounding="stochastic", sr_bits=8), ValueError, "uses 64 random bits"),
    (dict(fmt="float8_e4m3fn", sr_bits=8), ValueError, "sr_bits applies to stochastic rounding only"),
]


@pytest.mark.parametrize("kwargs,error,match", PARAMS_ERRORS,
                         ids=[",".join(f"{k}={v!r}" for k, v in c[0].items()) for c in PARAMS_ERRORS])
def test_params_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        scalar.params(**kwargs)


@pytest.mark.parametrize("seed", [-1, 1.5, "1", True, None])
def test_seed_key_errors(seed):
    with pytest.raises(ValueError, match="seed=.* is invalid: it must be a non-negative integer"):
        scalar.seed_key(seed)


def test_wrong_parameter_tuple_is_a_typing_error():
    """The kernels' own parameter tuples are not ScalarParams: Numba refuses them when it compiles."""
    with pytest.raises(numba.core.errors.TypingError):
        scalar.encode_scalar(1.0, fs.get_format("float8_e4m3fn").kernel_params())
