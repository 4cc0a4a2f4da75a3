"""floatsim: bit-exact emulation of low-precision number formats.

floatsim shows exactly what happens to your numbers when they are stored in a narrow format: the 8-, 6- and
4-bit floats of OCP (FP8 E4M3 / E5M2, MX FP6 / FP4, the E8M0 scale), the fnuz variants, bfloat16, TF32,
IEEE P3109 formats, small integers, and any other layout you describe. It works on ordinary NumPy arrays and is
bit-exact: every result is the bit pattern that the format's rules give, with every IEEE and P3109 rounding
mode, reproducible stochastic rounding, and a separate choice of what happens on overflow.

The top level holds the essentials:

- the verbs `encode` (values to codes), `decode` (codes to values), `cast` (round and return values) and
  `random_bits` (the bits of seeded stochastic rounding), from `floatsim.core`;
- the format descriptors `FloatFormat`, `IntFormat` and `Specials` (`floatsim.format`), and the lookup
  functions `get_format`, `list_formats` and `p3109` (`floatsim.formats`);
- the `Rounding` and `Overflow` enums (`floatsim.rounding`).

The other modules go further: `floatsim.quant` (quantizers: integer, scaled float, block formats, ...),
`floatsim.arith` (correctly rounded arithmetic in any format), `floatsim.analysis` (value tables, ulps, format
comparisons), `floatsim.plotting` (figures; needs matplotlib), `floatsim.memory` (memory footprints),
`floatsim.reference` (the exact, slow reference implementation) and `floatsim.testing` (test helpers).
`floatsim.quant` and `floatsim.arith` are imported on first use.

Examples
--------
>>> import numpy as np, floatsim as fs
>>> fs.cast(np.array([1.0625, 500.0], np.float32), "float8_e4m3fn", overflow="saturate")
array([  1., 448.], dtype=float32)
>>> fs.encode(np.float32(1.0625), "float8_e4m3fn"), fs.get_format("float8_e4m3fn").max
(np.uint8(56), 448.0)
"""

from . import analysis, formats, memory  # plotting is imported on use: it needs matplotlib
from .core import cast, decode, encode, random_bits
from .format import FloatFormat, IntFormat, Specials
from .formats import get_format, list_formats, p3109
from .rounding import Overflow, Rounding

__version__ = "0.1.0"


def __getattr__(name):
    # floatsim.quant / floatsim.arith are imported on first use (``fs.quant``), keeping ``import floatsim`` light
    if name in ("quant", "arith"):
        import importlib

        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'floatsim' has no attribute {name!r}")

__all__ = [
    "FloatFormat", "IntFormat", "Overflow", "Rounding", "Specials",
    "analysis", "arith", "quant", "cast", "decode", "encode", "formats", "memory", "get_format", "list_formats", "p3109", "random_bits",
]
