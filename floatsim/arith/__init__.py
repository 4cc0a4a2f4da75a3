"""Emulated arithmetic: correctly rounded operations in any format, and reductions with a chosen
accumulation format, order and rounding.

* Elementwise: :func:`add`, :func:`sub`, :func:`mul`, :func:`div`, :func:`fma`,
  :func:`sqrt` (one rounding of the exact result, every core rounding mode and overflow
  policy), :func:`neg`, :func:`abs` (exact) and the comparisons :func:`eq`, :func:`ne`,
  :func:`lt`, :func:`le`, :func:`gt`, :func:`ge`.
* Reductions: :func:`sum`, :func:`dot`, :func:`matmul` with exact or rounded products,
  an accumulation format, and a sequential, pairwise or blocked order.
* :func:`context`: defaults for a block of code, per thread.

See ``docs/arithmetic.md`` for the definitions and the proof of correct rounding.

>>> import numpy as np, floatsim.arith as fa
>>> fa.add(np.float32(1.0), np.float32(2**-11), "float16")  # a tie: to even
np.float32(1.0)
"""

from ._common import context
from .elementwise import abs, add, div, eq, fma, ge, gt, le, lt, mul, ne, neg, sqrt, sub
from .reductions import dot, matmul, sum

__all__ = ["abs", "add", "context", "div", "dot", "eq", "fma", "ge", "gt", "le", "lt", "matmul", "mul", "ne", "neg",
           "sqrt", "sub", "sum"]
