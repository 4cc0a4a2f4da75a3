"""Sums, dot products and matrix products with a chosen accumulation format and order.

`sum`, `dot` and `matmul` reproduce how a reduction unit adds many terms: the inputs are values of
a format (for `dot` / `matmul` possibly two formats), products are exact or rounded to a
`product` format, and the running sum is rounded into an `accumulate` format after every
step, in a sequential, pairwise or blocked order. Integer inputs sum exactly and wrap to an
integer accumulator (int32 by default), as `floatsim.quant.intmm.int_matmul` does.

Definitions (every `round` is one rounding with the call's mode and overflow policy):

* **leaves**: the inputs (`sum`) or the products `a[i, k] * b[k, j]`, exact, or
  `round_P(a * b)` when a `product` format `P` is given. Exact products make
  each accumulation step a fused multiply-add.
* `order="sequential"`: `s = round_A(leaf_0)`, then `s = round_A(s + leaf_k)` for
  `k = 1 .. K-1` (left to right).
* `order="pairwise"`: leaves are added in pairs `round_A(leaf_0 + leaf_1)`,
  `round_A(leaf_2 + leaf_3)`, ...; an odd one out passes to the next level unchanged;
  the pairs are added in pairs again, until one value is left (Higham, *Accuracy and
  Stability of Numerical Algorithms*, §4.1). A single leaf is `round_A(leaf_0)`.
* `order="blocked"`: consecutive blocks of `block` leaves are summed sequentially
  in the accumulation format `A`; the block sums are then summed sequentially in
  the `outer` format `O` (default `A`): `t = round_O(b_0)`,
  `t = round_O(t + b_j)`. Tensor cores accumulate this way (e.g. FP8 products in
  a 13-bit-mantissa accumulator, promoted into FP32 every 128 products).

Stochastic rounding draws one random number per rounding event from the
counter-based hash of the seed and the event's number, so results are reproducible
and independent of the number of threads.
"""

from __future__ import annotations

import numpy as np

from .. import core
from ..core import _key
from ..format import FloatFormat, IntFormat
from ..rounding import Overflow, Rounding
from . import _common as C
from . import _kernels as K

__all__ = ["sum", "dot", "matmul"]

_ORDER_CODES = {"sequential": K.SEQUENTIAL, "pairwise": K.PAIRWISE, "blocked": K.BLOCKED}
_F64_SPAN = 1022  # sum inputs: every |x| < 2**1022, so no float64 sum of two of them overflows
_BINARY32 = FloatFormat(exponent_bits=8, mantissa_bits=23, bias=127)


def _products_exact_in(target, fa, fb) -> bool:
    """Whether every product of a value of `fa` and one of `fb` is a value of `target`."""
    if isinstance(target, C.Binary64):
        return C.kernel_supports(fa) and C.kernel_supports(fb)  # <= 26-bit significands, exponents within +-480
    if not (isinstance(target, FloatFormat) and target.has_zero and target.subnormals):
        return False
    if not target.signed and (fa.signed or fb.signed):
        return False
    hi = C.exponent_span_hi(fa) + C.exponent_span_hi(fb)
    quantum = (fa.emin - fa.mantissa_bits) + (fb.emin - fb.mantissa_bits)
    return (fa.precision + fb.precision <= target.precision and hi <= target.emax
            and quantum >= target.emin - target.mantissa_bits)


class _Plan:
    """The resolved arguments of one reduction."""

    def __init__(self, fmts, accumulate, product, outer, order, block, rounding, overflow, sr_bits, seed, inputs,
                 dtype, use_products):
        self.fmts = fmts
        self.is_int = any(isinstance(f, IntFormat) for f in fmts)
        default_acc = IntFormat(bits=32) if self.is_int else (fmts[0] if len(set(fmts)) == 1 else None)
        acc = C.resolve_format(accumulate, "accumulate", required=False) or default_acc
        if acc is None:
            raise TypeError(f"accumulate is required when the operands have different formats ({fmts[0]}, "
                            f"{fmts[1]}): pass accumulate=...")
        self.acc = acc
        self.order = C.setting("order", order, "sequential")
        if self.order not in C.ORDERS:
            raise ValueError(f"order={self.order!r} is invalid; allowed: {', '.join(map(repr, C.ORDERS))}")
        if block is not None and self.order != "blocked":
            raise ValueError(f"block applies to order='blocked', not order={self.order!r}")
        if outer is not None and self.order != "blocked":
            raise ValueError(f"outer applies to order='blocked', not order={self.order!r}")
        block = C.setting("block", block, 32)
        if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 1:
            raise ValueError(f"block={block!r} is invalid: it must be a positive integer (the number of leaves "
                             "summed in the accumulation format before each add into the outer format)")
        self.block = int(block)
        self.how = C.resolve_inputs(inputs)
        if self.is_int:
            self._plan_int(product, outer, rounding, overflow, sr_bits, seed, dtype)
            return
        self.outer = (C.resolve_format(outer, "outer", required=False) if self.order == "blocked" else None) or acc
        self.product = C.resolve_format(product, "product", required=False) if use_products else None
        for f, name in ((acc, "accumulate"), (self.outer, "outer"), (self.product, "product")):
            if f is not None and not isinstance(f, (FloatFormat, C.Binary64)):
                raise TypeError(f"{name}={f} must be a float format when the inputs are float formats")
        self.rules = C.resolve_rounding(acc, rounding, overflow, sr_bits)
        self.round_products = self.product is not None and not _products_exact_in(self.product, *fmts)
        self.native = self._native(use_products)
        for f, name in ((acc, "accumulate"), (self.outer, "outer"), (self.product if self.round_products else None,
                                                                      "product")):
            if f is not None and not self.native and not C.kernel_supports(f):
                raise C.unsupported(f, name, "accumulation" if name != "product" else "products")
        for f in fmts:
            if isinstance(f, C.Binary64) and use_products:
                raise ValueError("float64 inputs are not supported by dot / matmul: their products are not exact in "
                                 "float64 (use numpy for float64 linear algebra)")
            if isinstance(f, C.Binary64):
                span_ok = True  # sum checks |x| < 2**1022 at run time (so no float64 sum of two overflows)
            else:
                span_ok = C.kernel_supports(f) if use_products else (f.exact_in(np.float64)
                                                                      and C.exponent_span(f) <= _F64_SPAN)
            if not span_ok and not (self.native == 64 and not use_products):
                raise C.unsupported(f, "fmt", "the inputs of dot / matmul" if use_products else "sum inputs")
        final = self.outer if self.order == "blocked" else acc
        self.final = final
        self.out_dtype = C.output_dtype(final, dtype, final.value_dtype)
        self.key = C.key_of(seed, self.rules.rnd) if self.rules.rnd.is_stochastic else np.uint64(0)
        if seed is not None and not self.rules.rnd.is_stochastic:
            raise ValueError(f"seed applies to stochastic rounding only, not rounding={self.rules.rnd.name.lower()!r}")

    def _native(self, use_products) -> int:
        """32 / 64 when the accumulation (and outer) format is binary32 / binary64 with nearest-even and
        IEEE overflow and every leaf is exact in it, so that hardware float arithmetic is the emulation."""
        if self.rules.rnd is not Rounding.NEAREST_EVEN or self.rules.ov not in (Overflow.IEEE, Overflow.SAT_NONE):
            return 0
        for bits, dt in ((32, np.float32), (64, np.float64)):
            if not (C.is_binary(self.acc, bits) and C.is_binary(self.outer, bits)):
                continue
            if not use_products:
                return bits if self.fmts[0].exact_in(dt) else 0
            if self.round_products:
                return bits if self.product.exact_in(dt) and C.is_binary(self.product, bits) else 0
            target = _BINARY32 if bits == 32 else None
            return bits if bits == 64 or _products_exact_in(target, *self.fmts) else 0
        return 0

    def _plan_int(self, product, outer, rounding, overflow, sr_bits, seed, dtype):
        if not isinstance(self.acc, IntFormat) or not self.acc.signed or not all(isinstance(f, IntFormat)
                                                                                  for f in self.fmts):
            raise TypeError(f"integer inputs accumulate in a signed integer format (int32 by default), "
                            f"not {self.acc}; mixing integer and float inputs is not supported")
        for name, value in (("product", product), ("outer", outer), ("sr_bits", sr_bits), ("seed", seed),
                            ("dtype", dtype)):
            if value is not None:
                raise ValueError(f"{name} does not apply to integer accumulation (integer sums are exact, then "
                                 "wrapped to the accumulator)")
        if rounding is not None:
            raise ValueError("rounding does not apply to integer accumulation: integer sums are exact")
        ov = C.setting("overflow", overflow, "wrap")
        if isinstance(ov, Overflow):
            ov = ov.name.lower()
        if ov not in ("wrap", "error"):
            raise ValueError(f"overflow={ov!r} is invalid for integer accumulation; allowed: 'wrap' (two's "
                             "complement, what hardware does) or 'error' (raise OverflowError). Saturating "
                             "accumulation depends on the order and is not emulated")
        self.int_overflow = ov

    def keys(self) -> np.ndarray:
        k = int(self.key)
        return np.array([k, int(_key(k ^ 1)), int(_key(k ^ 2))], np.uint64)

    def shift(self) -> np.uint64:
        return np.uint64(64 - self.rules.sr_bits) if self.rules.rnd.is_stochastic else np.uint64(0)


def _float_operand(x, name):
    arr = C.float_operand(x, name)
    return arr.astype(np.float32) if arr.dtype == np.float16 else arr  # Numba has no float16 arithmetic


def _check_operand(arr, fmt, name, how, rules_ov):
    if how == "round":
        if isinstance(fmt, C.Binary64):
            return np.asarray(arr, np.float64)
        return core.cast(arr, fmt, overflow=rules_ov, dtype=C.output_dtype(fmt, None, arr.dtype))
    C.check_members([arr], [name], fmt)
    return arr


def _run(plan, a, b, use_a, rows_offset=0):
    """One kernel call: `out[i, j] = reduce_k a[i, k] * b[k, j]` (or `b[k, j]`) as float64."""
    m = a.shape[0] if use_a else 1
    if plan.native:
        dt = np.float32 if plan.native == 32 else np.float64
        out = np.empty((m, b.shape[1]), dt)
        with core.threads_for(out.size * max(b.shape[0], 1)):
            K.reduce_native_kernel(np.ascontiguousarray(a, dt), np.ascontiguousarray(b, dt), out, use_a,
                                   _ORDER_CODES[plan.order], np.int64(plan.block))
        return out
    out = np.empty((m, b.shape[1]), np.float64)
    # operands keep their float32 / float64 dtype (no float64 copy of a float32 input; the kernel forms the
    # leaves in float64); a mixed pair is brought to the common dtype, so two specialisations serve all
    common = np.result_type(a.dtype, b.dtype)
    a, b = np.ascontiguousarray(a, common), np.ascontiguousarray(b, common)
    acc, outer = plan.acc, plan.outer
    prod = plan.product if plan.round_products else acc
    rules = plan.rules
    with core.threads_for(out.size * max(b.shape[0], 1)):
        errors = K.reduce_kernel(
            a, b, out, use_a, _ORDER_CODES[plan.order], np.int64(plan.block), plan.round_products,
            prod.kernel_params(), rules.projection(prod), C.max_bits(prod), acc.kernel_params(),
            rules.projection(acc), C.max_bits(acc), outer.kernel_params(), rules.projection(outer), C.max_bits(outer),
            core._USE_TABLES, rules.rnd.is_stochastic, plan.shift(), plan.keys(), np.int64(rows_offset))
    if errors:
        raise ValueError(f"{errors} partial result(s) are NaN (inf - inf, or NaN inputs), but the accumulation "
                         f"format {plan.final} has no NaN")
    return out


def _empty(plan, shape):
    """The sum of no terms: +0 in the final format."""
    return core.cast(np.zeros(shape), plan.final, overflow=plan.rules.ov, dtype=plan.out_dtype)


def _input_formats(fmt, count):
    value = C.setting("fmt", fmt, None)
    if value is None:
        raise TypeError("fmt is required: pass it, or set it for a block with floatsim.arith.context(fmt=...)")
    if isinstance(value, tuple):
        if len(value) != count:
            raise ValueError(f"fmt must be one format or a tuple of {count} formats, not {value!r}")
        return tuple(C.resolve_format(v, "fmt") for v in value)
    f = C.resolve_format(value, "fmt")
    return (f,) * count


# --------------------------------------------------------------------------- verbs
def sum(x, fmt=None, *, axis=None, accumulate=None, order=None, block=None, outer=None, rounding=None,  # noqa: A001
        overflow=None, sr_bits=None, seed=None, inputs=None, dtype=None):
    """Sum of `x` (all of it, or along `axis`) with a chosen accumulation format and order.

    The leaves are the values of `x`. `order="sequential"` computes
    `s = round_A(x_0)`, then `s = round_A(s + x_k)` for each following value, where
    `round_A` is one rounding into the `accumulate` format with `rounding` and
    `overflow`; the other orders are defined in docs/arithmetic.md. Integer formats are summed
    exactly in an integer accumulator (int32 by default), then wrapped or checked.

    Parameters
    ----------
    x : array_like
        Values of `fmt` (float16, float32 or float64 arrays, ml_dtypes floats, or integers for
        integer formats), any shape.
    fmt : str, FloatFormat, IntFormat or dtype, optional
        The format of the values of `x` (`"float64"` too). Default: the `fmt` of the
        enclosing `floatsim.arith.context`; one of the two is required. Integer formats sum
        exactly and wrap to the accumulator (see `overflow`).
    axis : int, optional
        Sum along this axis only. Default None: every element, in C order, to one value.
    accumulate : str, FloatFormat, IntFormat or dtype, optional
        Format of the running sum (every step is rounded to it). Default: `fmt`; `int32` for
        integer inputs.
    order : {"sequential", "pairwise", "blocked"}, optional
        Summation order (default `"sequential"`, left to right). `"pairwise"` adds
        neighbours in pairs, level by level; `"blocked"` sums blocks of `block` values
        sequentially in `accumulate`, then adds the block sums sequentially in `outer`.
        Exact definitions: docs/arithmetic.md.
    block : int, optional
        Values per block for `order="blocked"` (default 32); an error with other orders.
    outer : str, FloatFormat or dtype, optional
        Format the block sums are added in, for `order="blocked"` (default `accumulate`);
        e.g. FP32 promotion of a narrower tensor-core accumulator.
    rounding : str or Rounding, optional
        Rounding of every step: any core mode, `"nearest_even"` (default), directed, `"odd"`
        or stochastic. Not allowed for integer inputs (their sums are exact).
    overflow : str or Overflow, optional
        Overflow policy of every step: `"ieee"` (default), `"saturate"`, `"sat_propagate"`
        or `"sat_none"` for float formats; `"wrap"` (default, two's complement, what
        hardware does) or `"error"` (raise `OverflowError`) for integer accumulators.
    sr_bits : int, optional
        Number of random bits of `"stochastic_a"` / `"stochastic_b"` / `"stochastic_c"`
        (1 to 62), as in `floatsim.cast`.
    seed : int, optional
        Seed of stochastic rounding: one random number per rounding event, from the
        counter-based hash of the seed and the event's number, so results are reproducible and
        do not depend on the number of threads. Default: the next stream of a seeded
        `floatsim.arith.context`, else a fresh seed.
    inputs : {"check", "round"}, optional
        `"check"` (default): the inputs must already be values of their format. `"round"`:
        round them into it first (nearest-even; integer formats saturate).
    dtype : numpy dtype, optional
        Output float dtype (float16, float32 or float64, exact for the final format). Default:
        the value dtype of the final format (`outer` for `order="blocked"`, else
        `accumulate`): float32 for every format up to FP32, float64 for `"float64"`. Not
        allowed for integer inputs.

    Returns
    -------
    numpy.ndarray or numpy scalar
        Values of the final format (`outer` for `order="blocked"`, else `accumulate`) in
        the output dtype: a NumPy scalar for `axis=None`, else `x`'s shape without `axis`.
        Integer inputs give int32 (int64 for accumulators wider than 32 bits). The sum of no
        values is `+0`.

    Raises
    ------
    TypeError
        `fmt` is missing; an integer `accumulate` for float inputs, or a float one for integer
        inputs.
    ValueError
        An input is not a value of its format (with `inputs="check"`); an `axis` out of range;
        an invalid `order`, `block`, rounding or overflow policy; `block` or `outer` without
        `order="blocked"`; `seed` or `sr_bits` without a stochastic mode; a partial result
        that is NaN in a format without NaN; a format the reductions do not support
        (docs/arithmetic.md, "Limits of the compiled path"); `product`, `outer`, `rounding`,
        `sr_bits`, `seed` or `dtype` with integer inputs.
    OverflowError
        Integer inputs with `overflow="error"` and a result that does not fit the accumulator.

    See Also
    --------
    floatsim.arith.dot : Dot product with the same accumulation options.
    floatsim.arith.add : One correctly rounded addition.

    Examples
    --------
    The classic stagnation: adding 1e-4 (as float16) ten thousand times in float16.

    >>> import numpy as np, floatsim as fs, floatsim.arith as fa
    >>> x = np.full(10_000, fs.cast(1e-4, "float16"))
    >>> float(fa.sum(x, "float16")), float(fa.sum(x, "float16", accumulate="float32"))
    (0.25, 1.0001659393310547)

    The order matters: sequentially, each `1 + 2**-24` rounds back to 1 in float32; pairwise,
    the last two values are added first and their sum, `2**-23`, survives.

    >>> y = np.float32([1.0, 2.0**-24, 2.0**-24, 2.0**-24])
    >>> float(fa.sum(y, "float32")), float(fa.sum(y, "float32", order="pairwise"))
    (1.0, 1.0000001192092896)
    >>> fa.sum(np.float32([[1, 2, 3], [0.5, 0.25, 0.125]]), "float16", axis=1)
    array([6.   , 0.875], dtype=float32)
    """
    fmts = _input_formats(fmt, 1)
    plan = _Plan(fmts, accumulate, None, outer, order, block, rounding, overflow, sr_bits, seed, inputs, dtype, False)
    arr = _float_operand(x, "x") if not plan.is_int else _int_values(x, fmts[0], "x", plan.how)
    if axis is None:
        moved = arr.reshape(-1, 1)
        rest = ()
    else:
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -arr.ndim <= axis < max(arr.ndim, 1):
            raise ValueError(f"axis={axis!r} is invalid for an array of {arr.ndim} dimension(s)")
        moved = np.moveaxis(arr, int(axis), 0)
        rest = moved.shape[1:]
        moved = moved.reshape(moved.shape[0], int(np.prod(rest)))
    if plan.is_int:  # (M, K) @ ones(K, 1): the integer GEMM's exact sum and wrap-around
        res = _int_reduce(plan, np.ascontiguousarray(moved.T), np.ones((moved.shape[0], 1), np.int64)).reshape(rest)
        return res[()] if axis is None else res
    moved = _check_operand(moved, fmts[0], "x", plan.how, plan.rules.ov)
    if isinstance(fmts[0], C.Binary64) and not plan.native and moved.size:
        with np.errstate(invalid="ignore"):
            big = np.nanmax(np.where(np.isinf(moved), 0.0, np.abs(moved)))
        if big >= 2.0**_F64_SPAN:
            raise ValueError(f"x holds {float(big)!r}: float64 inputs summed in {plan.acc} must stay below 2**1022 "
                             "in magnitude (so that no float64 sum of two of them overflows)")
    if moved.shape[0] == 0:
        res = _empty(plan, rest)
    else:
        res = _run(plan, np.zeros((1, 1), moved.dtype), np.ascontiguousarray(moved), False)[0].astype(plan.out_dtype)
        res = res.reshape(rest)
    return res[()] if axis is None else res


def dot(x, y, fmt=None, *, product=None, accumulate=None, order=None, block=None, outer=None, rounding=None,
        overflow=None, sr_bits=None, seed=None, inputs=None, dtype=None):
    """Dot product of two vectors with chosen product and accumulation formats and order.

    The leaves are the products `x[k] * y[k]`: exact by default, so every accumulation step is
    a fused multiply-add `s = round_A(s + x[k] * y[k])`; with `product=P` each product is
    first rounded to `P` (a separate multiply and add). The order and the rounding of each
    step are those of `floatsim.arith.sum`. Integer formats compute the exact dot product in an
    integer accumulator (int32 by default), then wrap or check it.

    Parameters
    ----------
    x, y : array_like
        1-D arrays of the same length: values of their format (float16, float32 or float64
        arrays, ml_dtypes floats, or integers for integer formats).
    fmt : str, FloatFormat, IntFormat or dtype, or a pair of them, optional
        The format of the inputs, or a pair `(format of x, format of y)` (e.g. E4M3
        activations times E5M2 gradients; then `accumulate` is required). Default: the `fmt`
        of the enclosing `floatsim.arith.context`; one of the two is required.
    product : str, FloatFormat or dtype, optional
        Format each product is rounded to before it is added (a separate multiply and add).
        Default None: products are exact, so every accumulation step is a fused multiply-add.
    accumulate : str, FloatFormat, IntFormat or dtype, optional
        Format of the running sum (every step is rounded to it). Default: `fmt` (for a pair of
        different formats there is no default); `int32` for integer inputs.
    order : {"sequential", "pairwise", "blocked"}, optional
        Summation order (default `"sequential"`, left to right). `"pairwise"` adds
        neighbours in pairs, level by level; `"blocked"` sums blocks of `block` products
        sequentially in `accumulate`, then adds the block sums sequentially in `outer`.
        Exact definitions: docs/arithmetic.md.
    block : int, optional
        Products per block for `order="blocked"` (default 32); an error with other orders.
    outer : str, FloatFormat or dtype, optional
        Format the block sums are added in, for `order="blocked"` (default `accumulate`);
        e.g. FP32 promotion of a narrower tensor-core accumulator.
    rounding : str or Rounding, optional
        Rounding of every step: any core mode, `"nearest_even"` (default), directed, `"odd"`
        or stochastic. Not allowed for integer inputs (their sums are exact).
    overflow : str or Overflow, optional
        Overflow policy of every step: `"ieee"` (default), `"saturate"`, `"sat_propagate"`
        or `"sat_none"` for float formats; `"wrap"` (default, two's complement, what
        hardware does) or `"error"` (raise `OverflowError`) for integer accumulators.
    sr_bits : int, optional
        Number of random bits of `"stochastic_a"` / `"stochastic_b"` / `"stochastic_c"`
        (1 to 62), as in `floatsim.cast`.
    seed : int, optional
        Seed of stochastic rounding: one random number per rounding event, from the
        counter-based hash of the seed and the event's number, so results are reproducible and
        do not depend on the number of threads. Default: the next stream of a seeded
        `floatsim.arith.context`, else a fresh seed.
    inputs : {"check", "round"}, optional
        `"check"` (default): the inputs must already be values of their format. `"round"`:
        round them into it first (nearest-even; integer formats saturate).
    dtype : numpy dtype, optional
        Output float dtype (float16, float32 or float64, exact for the final format). Default:
        the value dtype of the final format (`outer` for `order="blocked"`, else
        `accumulate`): float32 for every format up to FP32, float64 for `"float64"`. Not
        allowed for integer inputs.

    Returns
    -------
    numpy scalar
        The dot product, a value of the final format (`outer` for `order="blocked"`, else
        `accumulate`) in the output dtype; int32 for integer inputs (int64 for accumulators
        wider than 32 bits).

    Raises
    ------
    TypeError
        `fmt` is missing; `accumulate` is missing for a pair of different formats; integer
        and float inputs are mixed, or the accumulator's kind (integer or float) differs from the
        inputs'.
    ValueError
        An input is not a value of its format (with `inputs="check"`); `x` and `y` are not 1-D
        arrays of the same length; float64 inputs; an invalid `order`, `block`, rounding or
        overflow policy; `block` or `outer` without `order="blocked"`; `seed` or `sr_bits`
        without a stochastic mode; a partial result that is NaN in a format without NaN; a format
        the reductions do not support (docs/arithmetic.md, "Limits of the compiled path");
        `product`, `outer`, `rounding`, `sr_bits`, `seed` or `dtype` with integer
        inputs.
    OverflowError
        Integer inputs with `overflow="error"` and a result that does not fit the accumulator.

    See Also
    --------
    floatsim.arith.matmul : The same for matrices.
    floatsim.arith.fma : One fused multiply-add.

    Examples
    --------
    >>> import numpy as np, floatsim.arith as fa
    >>> x, ones = np.float32([1.0, 2.0**-24, 2.0**-24, 2.0**-24]), np.ones(4, np.float32)
    >>> float(fa.dot(x, ones, "float32")), float(fa.dot(x, ones, "float32", order="pairwise"))
    (1.0, 1.0000001192092896)

    Exact products (fused multiply-adds) against products rounded to E4M3 first:
    `1.125 * 1.125 = 1.265625` becomes 1.25.

    >>> a, b = np.float32([1.125, 1.0]), np.float32([1.125, -1.0])
    >>> float(fa.dot(a, b, "float8_e4m3fn", accumulate="float32"))
    0.265625
    >>> float(fa.dot(a, b, "float8_e4m3fn", accumulate="float32", product="float8_e4m3fn"))
    0.25
    """
    xa, ya = np.asarray(x), np.asarray(y)
    if xa.ndim != 1 or ya.ndim != 1 or xa.shape != ya.shape:
        raise ValueError(f"dot takes two 1-D arrays of the same length, not shapes {xa.shape} and {ya.shape}; "
                         "use matmul for matrices")
    res = matmul(xa.reshape(1, -1), ya.reshape(-1, 1), fmt, product=product, accumulate=accumulate, order=order,
                 block=block, outer=outer, rounding=rounding, overflow=overflow, sr_bits=sr_bits, seed=seed,
                 inputs=inputs, dtype=dtype)
    return res[0, 0]


def matmul(a, b, fmt=None, *, product=None, accumulate=None, order=None, block=None, outer=None, rounding=None,
           overflow=None, sr_bits=None, seed=None, inputs=None, dtype=None):
    """Matrix product `a @ b` (2-D or batched, broadcasting as `numpy.matmul`) with emulated accumulation.

    Every output element is the `floatsim.arith.dot` of a row of `a` and a column of `b`,
    with the same arguments: exact products by default (fused multiply-adds) or products
    rounded to `product`, then the chosen accumulation format, order and rounding. Batch
    dimensions broadcast, and a 1-D operand is promoted as in `numpy.matmul` (its dimension
    is removed from the result). Integer formats share
    `floatsim.quant.intmm.int_matmul`: exact products and sums, wrapped to the `accumulate`
    width (int32 by default) or checked with `overflow="error"`.

    Parameters
    ----------
    a, b : array_like
        The operands, shapes `(..., M, K)` and `(..., K, N)` (or 1-D): values of their format
        (float16, float32 or float64 arrays, ml_dtypes floats, or integers for integer formats).
    fmt : str, FloatFormat, IntFormat or dtype, or a pair of them, optional
        The format of the inputs, or a pair `(format of a, format of b)` (e.g. E4M3
        activations times E5M2 gradients; then `accumulate` is required). Default: the `fmt`
        of the enclosing `floatsim.arith.context`; one of the two is required.
    product : str, FloatFormat or dtype, optional
        Format each product is rounded to before it is added (a separate multiply and add).
        Default None: products are exact, so every accumulation step is a fused multiply-add.
    accumulate : str, FloatFormat, IntFormat or dtype, optional
        Format of the running sum (every step is rounded to it). Default: `fmt` (for a pair of
        different formats there is no default); `int32` for integer inputs.
    order : {"sequential", "pairwise", "blocked"}, optional
        Summation order (default `"sequential"`, left to right). `"pairwise"` adds
        neighbours in pairs, level by level; `"blocked"` sums blocks of `block` products
        sequentially in `accumulate`, then adds the block sums sequentially in `outer`.
        Exact definitions: docs/arithmetic.md.
    block : int, optional
        Products per block for `order="blocked"` (default 32); an error with other orders.
    outer : str, FloatFormat or dtype, optional
        Format the block sums are added in, for `order="blocked"` (default `accumulate`);
        e.g. FP32 promotion of a narrower tensor-core accumulator.
    rounding : str or Rounding, optional
        Rounding of every step: any core mode, `"nearest_even"` (default), directed, `"odd"`
        or stochastic. Not allowed for integer inputs (their sums are exact).
    overflow : str or Overflow, optional
        Overflow policy of every step: `"ieee"` (default), `"saturate"`, `"sat_propagate"`
        or `"sat_none"` for float formats; `"wrap"` (default, two's complement, what
        hardware does) or `"error"` (raise `OverflowError`) for integer accumulators.
    sr_bits : int, optional
        Number of random bits of `"stochastic_a"` / `"stochastic_b"` / `"stochastic_c"`
        (1 to 62), as in `floatsim.cast`.
    seed : int, optional
        Seed of stochastic rounding: one random number per rounding event, from the
        counter-based hash of the seed and the event's number, so results are reproducible and
        do not depend on the number of threads. Default: the next stream of a seeded
        `floatsim.arith.context`, else a fresh seed.
    inputs : {"check", "round"}, optional
        `"check"` (default): the inputs must already be values of their format. `"round"`:
        round them into it first (nearest-even; integer formats saturate).
    dtype : numpy dtype, optional
        Output float dtype (float16, float32 or float64, exact for the final format). Default:
        the value dtype of the final format (`outer` for `order="blocked"`, else
        `accumulate`): float32 for every format up to FP32, float64 for `"float64"`. Not
        allowed for integer inputs.

    Returns
    -------
    numpy.ndarray
        Shape `(..., M, N)` (batch dimensions broadcast; promoted 1-D dimensions removed):
        values of the final format (`outer` for `order="blocked"`, else `accumulate`) in
        the output dtype; int32 for integer inputs (int64 for accumulators wider than 32 bits).

    Raises
    ------
    TypeError
        `fmt` is missing; `accumulate` is missing for a pair of different formats; integer
        and float inputs are mixed, or the accumulator's kind (integer or float) differs from the
        inputs'.
    ValueError
        An input is not a value of its format (with `inputs="check"`); scalar operands, inner
        dimensions that differ or batch dimensions that do not broadcast; float64 inputs; an invalid
        `order`, `block`, rounding or overflow policy; `block` or `outer` without
        `order="blocked"`; `seed` or `sr_bits` without a stochastic mode; a partial result
        that is NaN in a format without NaN; a format the reductions do not support
        (docs/arithmetic.md, "Limits of the compiled path"); `product`, `outer`, `rounding`,
        `sr_bits`, `seed` or `dtype` with integer inputs.
    OverflowError
        Integer inputs with `overflow="error"` and a result that does not fit the accumulator.

    See Also
    --------
    floatsim.arith.dot : One row times one column.
    floatsim.quant.intmm.int_matmul : The integer matrix product with zero points and bias.

    Examples
    --------
    FP8 inputs, FP32 accumulation in blocks of 32 (as tensor cores do):

    >>> import numpy as np, floatsim as fs, floatsim.arith as fa
    >>> rng = np.random.default_rng(0)
    >>> a = fs.cast(rng.standard_normal((4, 64)).astype(np.float32), "float8_e4m3fn")
    >>> b = fs.cast(rng.standard_normal((64, 3)).astype(np.float32), "float8_e4m3fn")
    >>> c = fa.matmul(a, b, "float8_e4m3fn", accumulate="float32", order="blocked", block=32)
    >>> c.dtype, c.shape, bool(np.allclose(c, a.astype(np.float64) @ b, rtol=1e-6))
    (dtype('float32'), (4, 3), True)

    Integer inputs accumulate exactly in int32 and wrap around, as hardware and
    `torch._int_mm` do (131136 * 16384 is above 2**31 - 1):

    >>> fa.matmul(np.int8([[1, 2], [3, 4]]), np.int8([[5, 6], [7, 8]]), "int8")
    array([[19, 22],
           [43, 50]], dtype=int32)
    >>> a8 = np.full((1, 131136), -128, np.int8)
    >>> fa.matmul(a8, a8.T, "int8").tolist()
    [[-2146435072]]
    """
    fmts = _input_formats(fmt, 2)
    plan = _Plan(fmts, accumulate, product, outer, order, block, rounding, overflow, sr_bits, seed, inputs, dtype,
                 True)
    aa = np.asarray(a) if plan.is_int else _float_operand(a, "a")
    ba = np.asarray(b) if plan.is_int else _float_operand(b, "b")
    if aa.ndim == 0 or ba.ndim == 0:
        raise ValueError("matmul takes arrays of at least one dimension, not scalars; use mul")
    squeeze_a, squeeze_b = aa.ndim == 1, ba.ndim == 1
    aa = aa.reshape(1, -1) if squeeze_a else aa
    ba = ba.reshape(-1, 1) if squeeze_b else ba
    if aa.shape[-1] != ba.shape[-2]:
        raise ValueError(f"inner dimensions differ: a has K = {aa.shape[-1]} (shape {aa.shape}), b has "
                         f"K = {ba.shape[-2]} (shape {ba.shape})")
    try:
        batch = np.broadcast_shapes(aa.shape[:-2], ba.shape[:-2])
    except ValueError:
        raise ValueError(f"batch dimensions do not broadcast: a {aa.shape}, b {ba.shape}") from None
    m, k, n = aa.shape[-2], aa.shape[-1], ba.shape[-1]
    if plan.is_int:
        ai = _int_values(aa, fmts[0], "a", plan.how)
        bi = _int_values(ba, fmts[1], "b", plan.how)
        res = _int_reduce(plan, ai, bi)
    else:
        aa = _check_operand(aa, fmts[0], "a", plan.how, plan.rules.ov)
        ba = _check_operand(ba, fmts[1], "b", plan.how, plan.rules.ov)
        if k == 0:
            res = _empty(plan, batch + (m, n))
        elif ba.ndim == 2:  # one right operand: fold the batch into the rows
            a2 = np.ascontiguousarray(np.broadcast_to(aa, batch + (m, k))).reshape(-1, k)
            res = _run(plan, a2, np.ascontiguousarray(ba), True).reshape(batch + (m, n)).astype(plan.out_dtype)
        else:
            a_b = np.broadcast_to(aa, batch + (m, k)).reshape(-1, m, k)
            b_b = np.broadcast_to(ba, batch + (k, n)).reshape(-1, k, n)
            res = np.empty((a_b.shape[0], m, n), plan.out_dtype)
            for t in range(a_b.shape[0]):
                res[t] = _run(plan, np.ascontiguousarray(a_b[t]), np.ascontiguousarray(b_b[t]), True, t * m)
            res = res.reshape(batch + (m, n))
    if squeeze_a:
        res = res[..., 0, :]
    if squeeze_b:
        res = res[..., 0]
    return res


# --------------------------------------------------------------------------- integers
def _int_values(arr, fmt, name, how):
    """Integer operands as int64, checked against (or saturated into) the integer format."""
    arr = np.asarray(arr)
    if arr.dtype.kind not in "iuf" or arr.dtype == np.uint64:
        raise TypeError(f"{name} must hold integers (an integer array, or floats with integer values), "
                        f"not {arr.dtype.name}")
    if how == "round":
        return core.cast(arr, fmt, overflow="saturate", dtype=np.float64).astype(np.int64)
    C.check_members([arr], [name], fmt)
    return arr.astype(np.int64)


def _int_reduce(plan, a, b):
    from ..quant.intmm import int_matmul

    return int_matmul(a, b, accumulator_bits=plan.acc.bits, overflow=plan.int_overflow)
