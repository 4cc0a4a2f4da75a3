"""floatsim: bit-exact emulation of low-precision number formats.

>>> import numpy as np, floatsim as fs
>>> fs.cast(np.array([1.0625, 500.0], np.float32), "float8_e4m3fn", overflow="saturate")
array([  1., 448.], dtype=float32)
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
