"""Emulated arithmetic: compute *in* a low-precision format, bit for bit.

Every verb behaves as a hardware unit of the format would. Elementwise operations are correctly
rounded: the exact result, rounded once, with any rounding mode and overflow policy of the core
(`floatsim.cast`'s). Sums, dot products and matrix products take an accumulation format, an
optional product format, a summation order and a rounding mode, and round after every step.
Operands must already be values of the format (or pass `inputs="round"`). The guide, with the
exact definitions, the special values and the proof of correct rounding, is docs/arithmetic.md.

| name | computes |
|---|---|
| `add`, `sub`, `mul`, `div` | `x + y`, `x - y`, `x * y`, `x / y`, rounded once |
| `fma` | `x * y + z`, rounded once (fused multiply-add) |
| `sqrt` | the square root, rounded once |
| `neg`, `abs` | `-x` and `abs(x)`, exact (the overflow policy decides where they leave the format) |
| `eq`, `ne`, `lt`, `le`, `gt`, `ge` | IEEE 754 comparisons (NaN is unordered, `-0 == +0`) |
| `sum`, `dot`, `matmul` | reductions with chosen product and accumulation formats and a sequential, pairwise or blocked order |
| `context` | default arguments for a block of code, per thread |

The elementwise verbs are defined in `floatsim.arith.elementwise`, the reductions in
`floatsim.arith.reductions`; all are importable from `floatsim.arith`.

Examples
--------
>>> import numpy as np, floatsim.arith as fa
>>> fa.add(np.float32(1.0), np.float32(2**-11), "float16")  # a tie: to even
np.float32(1.0)
>>> fa.add(np.float32(1.0), np.float32(2**-11), "float16", rounding="toward_positive")
np.float32(1.0009766)
>>> h = np.full(10_000, np.float16(1e-4))                   # ten thousand float16 values 1.0001659e-4
>>> float(fa.sum(h, "float16")), float(fa.sum(h, "float16", accumulate="float32"))   # float16 sum stagnates
(0.25, 1.0001659393310547)
"""

from ._common import context
from .elementwise import abs, add, div, eq, fma, ge, gt, le, lt, mul, ne, neg, sqrt, sub
from .reductions import dot, matmul, sum

__all__ = ["abs", "add", "context", "div", "dot", "eq", "fma", "ge", "gt", "le", "lt", "matmul", "mul", "ne", "neg",
           "sqrt", "sub", "sum"]
