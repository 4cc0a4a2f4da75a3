"""Codebook quantization: NF4, bitsandbytes FP4, the dynamic 8-bit maps, k-means and Lloyd-Max codebooks.

A *codebook* is a table of at most 65,536 float32 values, in any order; an
element code is an index into it. `CodebookQuantizer` implements bitsandbytes'
blockwise scheme on any codebook (absmax per block, normalise to `[-1, 1]`,
nearest codebook entry, optional QLoRA double quantization of the absmax
values); `nf4`, `bnb_fp4` and `dynamic8` are its bitsandbytes presets, and
`kmeans_codebook` / `lloyd_max` build codebooks from data or for a normal
distribution. The constants are bitsandbytes' tables, bit for bit:

| constant | table |
|---|---|
| `NF4` | QLoRA NormalFloat4 (`get_4bit_type('nf4')`), 16 values, sorted |
| `BNB_FP4` | bitsandbytes "fp4" (`get_4bit_type('fp4')`), in bnb's code order `s e e m`; **not** OCP E2M1 (subnormal 1/192 of max, not 1/12) |
| `DYNAMIC8_SIGNED` | `create_dynamic_map(signed=True)`: 256 values, ascending |
| `DYNAMIC8_UNSIGNED` | `create_dynamic_map(signed=False)`: 256 values, ascending |

They are embedded as float32 bit patterns (hex text) and decoded at import with
a plain `ndarray.view`; the two dynamic maps are checked against the sha256
checksums of their hex text at import (a `RuntimeError` if the text was
damaged). The dynamic maps are embedded, not regenerated: torch's fp32
`linspace` is not reproduced by numpy's.

Choosing a code is the one place in floatsim where rounding is not a cast to a
number format (a codebook is not a format): it is a nearest-entry search,
vectorised with `numpy.searchsorted` against the float32 midpoints
`(c[k] + c[k+1]) / 2` of the sorted codebook, exactly as bitsandbytes computes
them. Two tie rules (`tie=`):

- `"lower"` (default): a normalised value `s` gets the entry whose midpoint
  interval contains it, `s <= mid` going to the lower entry: the exact nearest
  entry, exact-midpoint ties to the lower index. This is bitsandbytes'
  pure-torch op (`torch.bucketize(s, mid, right=False)`), which is also what
  `quantize_4bit` runs on CPU, and what its CUDA NF4/FP4 decision trees do.
  (The boundary is the float32 midpoint: where rounding made it differ from
  the real midpoint, a value equal to it still goes to the lower entry.)
- `"bnb_cpu_lut"`: bitsandbytes' CPU `quantize_blockwise` (0.50): a
  65,536-entry lookup table `lut[i] = #{k : mid[k] < -1 + 2i/65535}` indexed by
  `trunc((s + 1) * 0.5 * 65535 + 0.5)`, all in float32. On log-normal data it
  misses the exact nearest entry for about 0.26 % of the values at block 256
  (0.44 % at block 4096). As in bitsandbytes, a block whose absmax is 0 gets
  code 0 in this mode.

The k-means and Lloyd-Max codebooks are in data units (or units of sigma);
use them with `CodebookQuantizer(codebook, normalize=False)`, or divide by
their largest magnitude for a normalised (absmax-scaled) codebook.

Examples
--------
>>> import numpy as np
>>> import floatsim.quant as fq
>>> x = np.random.default_rng(0).standard_normal((4, 64)).astype(np.float32)
>>> q = fq.nf4().quantize(x)
>>> q.codes.dtype, q.scale.shape, q.bits_per_value, round(fq.sqnr(x, q.dequantize()), 2)
(dtype('uint8'), (4,), 4.5, 21.4)
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
from typing import Any, NamedTuple

import numpy as np

from ..core import cast, encode
from ..format import IntFormat, _check_int
from ._kernels import block_stats, lookup_rows, nearest_rows
from ._layout import Granularity, flat, parse_granularity, to_blocks
from .base import QuantizedTensor, Quantizer, as_output, check_choice, dask_aware, float_input

__all__ = [
    "NF4",
    "BNB_FP4",
    "DYNAMIC8_SIGNED",
    "DYNAMIC8_UNSIGNED",
    "CodebookQuantizer",
    "nf4",
    "bnb_fp4",
    "dynamic8",
    "KMeansResult",
    "kmeans_codebook",
    "LloydMaxResult",
    "lloyd_max",
]


# --------------------------------------------------------------------------- constants
def _table(hex_text: str) -> np.ndarray:
    """A read-only float32 array from whitespace-separated float32 bit patterns (hex)."""
    arr = np.array([int(h, 16) for h in hex_text.split()], dtype=np.uint32).view(np.float32)
    arr.setflags(write=False)
    return arr


# NF4, nibble order = table order (QLoRA; bitsandbytes get_4bit_type('nf4'))
_NF4_HEX = """\
bf800000 bf3239b1 bf066b30 beca32a0 be91a24d be3d353f bdba7871 00000000
3da2faff 3e24cae3 3e7c04dd 3ead033a 3ee1a4b8 3f1007ab 3f3913b3 3f800000
"""

# bitsandbytes "fp4", code bits s e e m; raw magnitudes (0, 0.0625, 8, 12, 4, 6, 2, 3) / 12 in float32.
# Code 8 ("-0") holds +0, as in bitsandbytes.
_BNB_FP4_HEX = """\
00000000 3baaaaab 3f2aaaab 3f800000 3eaaaaab 3f000000 3e2aaaab 3e800000
00000000 bbaaaaab bf2aaaab bf800000 beaaaaab bf000000 be2aaaab be800000
"""

# bitsandbytes 0.50.2 create_dynamic_map(signed=True / False): ascending float32 bit patterns, 8 per row
_DYNAMIC_SIGNED_HEX = """\
bf7e3333 bf7a999a bf770000 bf736666 bf6fcccd bf6c3333 bf68999a bf650000
bf616666 bf5dcccd bf5a3333 bf56999a bf530000 bf4f6666 bf4bcccd bf483333
bf44999a bf410000 bf3d6666 bf39cccd bf363334 bf32999a bf2f0000 bf2b6666
bf27cccd bf243334 bf20999a bf1d0000 bf196666 bf15cccd bf123334 bf0e999a
bf0b0000 bf076666 bf03cccc bf003333 bef93332 bef20000 beeacccc bee3999a
bedc6666 bed53333 bece0000 bec6cccc bebf999a beb86666 beb13333 beaa0000
bea2cccc be9b999a be946666 be8d3334 be860000 be7d9999 be6f3333 be60cccd
be526666 be440000 be35999a be273333 be18cccd be0a6666 bdf80000 bddb3334
bdc9eb85 bdc428f7 bdbe6667 bdb8a3d7 bdb2e148 bdad1eb8 bda75c2a bda1999a
bd9bd70a bd96147b bd9051eb bd8a8f5d bd84cccd bd7e147b bd728f5d bd670a3d
bd5b851f bd500000 bd447ae1 bd38f5c3 bd2d70a3 bd21eb85 bd166667 bd0ae148
bcfeb852 bce7ae15 bcd0a3d7 bcb9999a bca28f5d bc8b851f bc68f5c3 bc3ae148
bc1f3b64 bc160418 bc0ccccd bc039581 bbf4bc6a bbe24dd3 bbcfdf3b bbbd70a4
bbab020d bb989374 bb8624dd bb676c8a bb428f5c bb1db22d baf1a9fc baa7ef9d
ba7765ff ba59e83e ba3c6a80 ba1eecc1 ba016f01 b9c7e283 b98ce705 b923d70b
b8ba1f4b b88aefb3 b8378034 b7b24206 b70205ff b65a1a94 b513a3b7 00000000
3513a3b7 365a1a94 370205ff 37b24206 38378034 388aefb3 38ba1f4b 3923d70b
398ce705 39c7e283 3a016f01 3a1eecc1 3a3c6a80 3a59e83e 3a7765ff 3aa7ef9d
3af1a9fc 3b1db22d 3b428f5c 3b676c8a 3b8624dd 3b989374 3bab020d 3bbd70a4
3bcfdf3b 3be24dd3 3bf4bc6a 3c039581 3c0ccccd 3c160418 3c1f3b64 3c3ae148
3c68f5c3 3c8b851f 3ca28f5d 3cb9999a 3cd0a3d7 3ce7ae15 3cfeb852 3d0ae148
3d166667 3d21eb85 3d2d70a3 3d38f5c3 3d447ae1 3d500000 3d5b851f 3d670a3d
3d728f5d 3d7e147b 3d84cccd 3d8a8f5d 3d9051eb 3d96147b 3d9bd70a 3da1999a
3da75c2a 3dad1eb8 3db2e148 3db8a3d7 3dbe6667 3dc428f7 3dc9eb85 3ddb3334
3df80000 3e0a6666 3e18cccd 3e273333 3e35999a 3e440000 3e526666 3e60cccd
3e6f3333 3e7d9999 3e860000 3e8d3334 3e946666 3e9b999a 3ea2cccc 3eaa0000
3eb13333 3eb86666 3ebf999a 3ec6cccc 3ece0000 3ed53333 3edc6666 3ee3999a
3eeacccc 3ef20000 3ef93332 3f003333 3f03cccc 3f076666 3f0b0000 3f0e999a
3f123334 3f15cccd 3f196666 3f1d0000 3f20999a 3f243334 3f27cccd 3f2b6666
3f2f0000 3f32999a 3f363334 3f39cccd 3f3d6666 3f410000 3f44999a 3f483333
3f4bcccd 3f4f6666 3f530000 3f56999a 3f5a3333 3f5dcccd 3f616666 3f650000
3f68999a 3f6c3333 3f6fcccd 3f736666 3f770000 3f7a999a 3f7e3333 3f800000
"""

_DYNAMIC_UNSIGNED_HEX = """\
00000000 34ae7baa 35500998 360e9b38 3692ccf6 36de4c51 3714e5d5 3783126e
37e171a0 381fe868 384f1800 387e479a 3896bb99 38ae5364 38c5eb31 3906594b
394154ca 397c5049 399ba5e4 39b923a2 39d6a163 39f41f22 3a08ce71 3a178d50
3a264c30 3a350b10 3a43c9ef 3a5288d0 3a6147af 3a70068e 3a7ec56e 3a958106
3aba5e35 3adf3b64 3b020c4a 3b147ae1 3b26e978 3b395810 3b4bc6a7 3b5e3540
3b70a3d7 3b818937 3b8ac082 3b93f7cf 3b9d2f1a 3ba66666 3baf9db2 3bb8d4fd
3bc20c4a 3bcb4395 3bd47ae1 3bddb22e 3be6e978 3bf020c5 3bf9580f 3c0147ae
3c05e354 3c0a7ef9 3c0f1aa0 3c13b645 3c1851eb 3c1ced92 3c218937 3c2f5c2a
3c466667 3c5d70a3 3c747ae2 3c85c28f 3c9147af 3c9ccccd 3ca851eb 3cb3d70b
3cbf5c29 3ccae147 3cd66667 3ce1eb87 3ced70a3 3cf8f5c3 3d023d70 3d080000
3d0dc28f 3d13851f 3d1947af 3d1f0a3d 3d24cccd 3d2a8f5c 3d3051eb 3d36147b
3d3bd70a 3d41999a 3d475c28 3d4d1eb8 3d52e147 3d58a3d7 3d5e6667 3d6428f7
3d69eb87 3d6fae15 3d7570a3 3d7b3333 3d807ae2 3d835c2a 3d863d71 3d891eb8
3d8c0000 3d8ee148 3d91c290 3d94a3d7 3d97851f 3d9a6667 3d9d47af 3da028f6
3da30a3e 3da5eb85 3da8cccd 3dabae15 3dae8f5c 3db170a4 3db451eb 3db73333
3dba147b 3dbcf5c3 3dbfd70b 3dc2b852 3dc5999a 3dc87ae2 3dcb5c29 3dd40000
3de26666 3df0cccd 3dff3333 3e06cccc 3e0e0000 3e153334 3e1c6666 3e23999a
3e2acccc 3e320000 3e393334 3e406666 3e47999a 3e4ecccc 3e560000 3e5d3334
3e646666 3e6b999a 3e72cccc 3e7a0000 3e809999 3e843333 3e87cccd 3e8b6666
3e8f0000 3e92999a 3e963333 3e99cccc 3e9d6666 3ea10000 3ea4999a 3ea83333
3eabcccc 3eaf6666 3eb30000 3eb6999a 3eba3333 3ebdcccc 3ec16666 3ec50000
3ec8999a 3ecc3333 3ecfcccc 3ed36666 3ed70000 3eda999a 3ede3333 3ee1cccc
3ee56666 3ee90000 3eec999a 3ef03333 3ef3cccc 3ef76666 3efb0000 3efe9999
3f01199a 3f02e666 3f04b333 3f068000 3f084ccc 3f0a199a 3f0be666 3f0db334
3f0f8000 3f114ccd 3f13199a 3f14e666 3f16b334 3f188000 3f1a4ccd 3f1c199a
3f1de666 3f1fb334 3f218000 3f234ccd 3f25199a 3f26e666 3f28b334 3f2a8000
3f2c4ccd 3f2e199a 3f2fe666 3f31b334 3f338000 3f354ccd 3f37199a 3f38e666
3f3ab334 3f3c8000 3f3e4ccd 3f40199a 3f41e666 3f43b334 3f458000 3f474ccc
3f49199a 3f4ae666 3f4cb334 3f4e8000 3f504ccc 3f52199a 3f53e666 3f55b334
3f578000 3f594ccc 3f5b199a 3f5ce666 3f5eb334 3f608000 3f624ccc 3f64199a
3f65e666 3f67b334 3f698000 3f6b4ccc 3f6d199a 3f6ee666 3f70b334 3f728000
3f744ccc 3f76199a 3f77e666 3f79b334 3f7b8000 3f7d4ccc 3f7f199a 3f800000
"""

_SHA256 = {
    "signed": "2ac5417248aa2dbf840395a5252b978a08478f54469621263cfcbaedfd384c59",
    "unsigned": "1b5dfab4a740b6f8d43e93c6ccc50376c98647f11ea4537c687fad50dd5d92a5",
}


def _check_sha256(name: str, text: str) -> None:
    digest = hashlib.sha256(text.encode("ascii")).hexdigest()
    if digest != _SHA256[name]:
        raise RuntimeError(f"the embedded {name} dynamic map is damaged (sha256 {digest}, expected {_SHA256[name]})")


_check_sha256("signed", _DYNAMIC_SIGNED_HEX)
_check_sha256("unsigned", _DYNAMIC_UNSIGNED_HEX)

#: NF4 (QLoRA NormalFloat4): 16 float32 values, index 0 -> -1, 7 -> 0, 15 -> +1.
NF4 = _table(_NF4_HEX)
"""NF4 (QLoRA NormalFloat4): 16 float32 values, ascending, read-only; index 0 -> -1, 7 -> 0, 15 -> +1."""
#: bitsandbytes "fp4", normalised (raw / 12), in bitsandbytes' code order (sign = bit 3). Not OCP E2M1.
BNB_FP4 = _table(_BNB_FP4_HEX)
"""bitsandbytes "fp4": 16 float32 values (raw / 12), read-only, in bitsandbytes' code order (sign = bit 3).

Not OCP E2M1. Codes 0 and 8 both hold +0.
"""
#: bitsandbytes' signed dynamic ("dynamic tree") 8-bit map, ascending: -0.99297 ... 0 ... +1.
DYNAMIC8_SIGNED = _table(_DYNAMIC_SIGNED_HEX)
"""bitsandbytes' signed dynamic ("dynamic tree") 8-bit map: 256 float32 values, ascending, -0.99297 ... 0 ... +1."""
#: bitsandbytes' unsigned dynamic 8-bit map, ascending: 0, 3.25e-07 ... 1.
DYNAMIC8_UNSIGNED = _table(_DYNAMIC_UNSIGNED_HEX)
"""bitsandbytes' unsigned dynamic 8-bit map: 256 float32 values, ascending, 0, 3.25e-07 ... 1."""

_F32_TINY = np.float32(1e-38)  # bitsandbytes' absmax guard, absmax.clamp(min=1e-38)
_LUT_SIZE = 65536
_UINT16 = IntFormat(bits=16, signed=False)


def _to_float32(x: np.ndarray) -> np.ndarray:
    """`x` in float32: float16 / float32 widen exactly, float64 rounds to nearest even (floatsim.core)."""
    if x.dtype == np.float64:
        return np.asarray(cast(x, "float32", dtype=np.float32))
    return x.astype(np.float32, copy=False)




class _Search(NamedTuple):
    order: np.ndarray  # sorted position -> codebook index
    mid: np.ndarray  # float32 midpoints of the sorted codebook
    lut: np.ndarray | None  # sorted position for each LUT index (bnb_cpu_lut)


# --------------------------------------------------------------------------- the quantizer
@dataclasses.dataclass(frozen=True)
class CodebookQuantizer(Quantizer):
    """Blockwise absmax quantization to the nearest entry of a codebook (bitsandbytes' scheme).

    Per block (bitsandbytes, all in float32): `absmax = max |x|`;
    `s = clip(x * (1 / max(absmax, 1e-38)), -1, 1)` with the reciprocal taken
    first; the code is the index of the codebook entry nearest to `s` (tie rule
    `tie`, see the module docstring). Dequantization: `codebook[code] * absmax`
    in float32, then cast to the output dtype. float64 input is rounded to
    float32 first; float16 output is rounded from the float32 product.

    With `normalize=False` there is no scale: each value (in float32) gets the
    nearest entry directly (a k-means or Lloyd-Max codebook in data units), and
    the codebook itself counts as stored data (32 bits per entry).

    `nf4`, `bnb_fp4` and `dynamic8` build the bitsandbytes presets.

    Parameters
    ----------
    codebook : array_like
        1-D, 2 to 65,536 finite values, in any order (codes are indices into it as
        given). Equal entries are allowed (bitsandbytes' FP4 table holds 0 twice):
        the search runs over the stably sorted entries, so a value equal to the
        repeated entry gets the first of them and a value above it the last.
        Rounded to float32 (float64 values to nearest even) and kept as a tuple
        of Python floats (`table` gives the array). With `normalize=True` every
        entry must lie in `[-1, 1]`.
    block_size : int, default 64
        Elements per absmax block of the flattened tensor (64 as bitsandbytes'
        `quantize_4bit`); used only when `granularity` is None.
    granularity : Granularity or str, optional
        Which elements share an absmax (default `flat(block_size)`, bitsandbytes).
    normalize : bool, default True
        Scale blocks by their absmax.
    tie : {"lower", "bnb_cpu_lut"}, default "lower"
        Nearest-entry rule (`"bnb_cpu_lut"` needs `normalize=True`).
    double_quant : bool, default False
        QLoRA double quantization of the absmax values: `offset = mean(absmax)`
        (computed exactly with `math.fsum`, rounded once to float32),
        `absmax - offset` quantized with `DYNAMIC8_SIGNED` in flat blocks of
        `dq_block_size`; dequantized as `code * absmax2 + offset` in float32,
        in that order. Needs `normalize=True`.
    dq_block_size : int, default 256
        Block size of the second level (256 as bitsandbytes).
    dq_tie : {"lower", "bnb_cpu_lut"}, optional
        Tie rule of the second level (default: `tie`). bitsandbytes on CPU
        quantizes the 4-bit codes exactly but the absmax values with its lookup
        table: `tie="lower", dq_tie="bnb_cpu_lut"` reproduces it.
    name : str, default "codebook"
        A label for `repr` (the presets set it).

    Attributes
    ----------
    table : numpy.ndarray
        The codebook as a read-only float32 array (code -> value).
    element_bits : int
        Bits of one code: `ceil(log2(len(codebook)))`.
    code_dtype : numpy.dtype
        uint8 for codebooks of up to 256 entries, else uint16.

    Raises
    ------
    ValueError
        For a codebook that is not 1-D with 2 to 65,536 finite entries, entries
        outside `[-1, 1]` with `normalize=True`, an unknown `tie` / `dq_tie`, a
        bad block size, or `double_quant` / `tie="bnb_cpu_lut"` without
        `normalize`.
    TypeError
        For a non-numeric codebook, non-bool flags, or a `name` that is not a
        string.

    Notes
    -----
    Stored in the `QuantizedTensor`: `codes` (uint8 indices, uint16 for
    codebooks over 256 entries) in the input's shape; `scale` = absmax (float32,
    shaped by the granularity). With `double_quant` the float32 absmax is not
    stored: `scale` is None and `extra` holds `"absmax_codes"` (uint8, the
    scale's shape), `"absmax2"` (float32, one per `dq_block_size` absmax
    values, C order), `"offset"` (float32) and `"extra_bits"` (their bits).
    Bits per value: NF4 block 64: 4.5; with double quantization 4.127;
    dynamic 8-bit block 256: 8.125.

    - Partial last block: its absmax comes from its real elements only.
    - All-zero block: absmax 0; the guard makes `s = 0`, which gets the entry
      nearest to 0 (`"bnb_cpu_lut"`: code 0, as bitsandbytes); both dequantize
      to (signed) zero.
    - NaN and ±inf (also float64 values beyond the float32 range): a
      `ValueError` giving the count, since a codebook has neither.
    - Differences from bitsandbytes: its pure-torch op divides by the absmax in
      the partial last block (we multiply by the reciprocal everywhere, as its
      CUDA kernel does), and stores that block's absmax clamped to 1e-38 (we
      store the real absmax); its double-quantization offset is torch's float32
      mean, which can differ from the correctly rounded mean in the last bit;
      `BNB_FP4` code 8 (which tiny positive values get) is +0 in its table
      and here, but its native CPU dequantizer returns -0 for it on some paths.

    Examples
    --------
    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> q = fq.nf4(block_size=4).quantize(np.array([0.5, -1.0, 0.25, 2.0, 0, 0, 0, 0], np.float32))
    >>> q.codes.tolist(), q.scale.tolist()         # the second block is all zero
    ([10, 2, 9, 15, 7, 7, 7, 7], [2.0, 0.0])
    >>> q.dequantize().tolist()
    [0.4922246038913727, -1.0501461029052734, 0.3218604028224945, 2.0, 0.0, 0.0, 0.0, 0.0]
    >>> q.bits_per_value                           # 4 + 32 / 4
    12.0
    >>> fq.CodebookQuantizer([-1.0, 0.0, 1.0], block_size=2).fake_quantize([0.25, 1.0, 0.5, -4.0]).tolist()
    [0.0, 1.0, 0.0, -4.0]

    A codebook in data units (`normalize=False`): no scale, the codebook is stored.

    >>> q = fq.CodebookQuantizer([-1.5, -0.5, 0.5, 1.5], normalize=False).quantize(np.float32([0.1, -2.0, 0.9, 1.0]))
    >>> q.codes.tolist(), q.scale, q.dequantize().tolist(), q.bits_per_value   # 2 + 4 * 32 / 4
    ([2, 0, 2, 2], None, [0.5, -1.5, 0.5, 0.5], 34.0)
    """

    codebook: Any = dataclasses.field(repr=False)
    block_size: int = 64
    granularity: Granularity | str | None = None
    normalize: bool = True
    tie: str = "lower"
    double_quant: bool = False
    dq_block_size: int = 256
    dq_tie: str | None = None
    name: str = "codebook"

    def __post_init__(self):
        table = self._validated_codebook(self.codebook, self.normalize)
        object.__setattr__(self, "codebook", tuple(float(v) for v in table))
        object.__setattr__(self, "block_size", _check_int("block_size", self.block_size, 1))
        if self.granularity is not None:
            object.__setattr__(self, "granularity", parse_granularity(self.granularity))
        for arg in ("normalize", "double_quant"):
            if not isinstance(getattr(self, arg), bool | np.bool_):
                raise TypeError(f"{arg} must be True or False, not {getattr(self, arg)!r}")
        object.__setattr__(self, "tie", check_choice("tie", self.tie, ("lower", "bnb_cpu_lut")))
        object.__setattr__(self, "dq_block_size", _check_int("dq_block_size", self.dq_block_size, 1))
        if self.dq_tie is not None:
            object.__setattr__(self, "dq_tie", check_choice("dq_tie", self.dq_tie, ("lower", "bnb_cpu_lut")))
        if self.double_quant and not self.normalize:
            raise ValueError("double_quant=True needs normalize=True (there is no absmax to quantize)")
        if self.tie == "bnb_cpu_lut" and not self.normalize:
            raise ValueError("tie='bnb_cpu_lut' needs normalize=True (the lookup table covers [-1, 1] only)")
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string, not {type(self.name).__name__}")

    @staticmethod
    def _validated_codebook(codebook, normalize: bool) -> np.ndarray:
        try:
            arr = np.asarray(codebook)
        except (TypeError, ValueError):
            raise TypeError("codebook must be a 1-D array of numbers") from None
        if arr.dtype.kind not in "iuf":
            raise TypeError(f"codebook must be a 1-D array of numbers, not {arr.dtype.name}")
        if arr.ndim != 1 or not 2 <= arr.size <= _LUT_SIZE:
            raise ValueError(f"codebook must be 1-D with 2 to 65536 entries, not shape {arr.shape}")
        arr = _to_float32(arr.astype(np.float64) if arr.dtype.kind in "iu" else arr)
        if not np.all(np.isfinite(arr)):
            raise ValueError("codebook entries must be finite (in float32)")
        if normalize and np.max(np.abs(arr)) > 1:
            raise ValueError(
                "codebook entries must lie in [-1, 1] with normalize=True "
                f"(largest magnitude {float(np.max(np.abs(arr)))}); divide by it, or pass normalize=False"
            )
        return arr

    # ---------------------------------------------------------------- derived, cached
    @functools.cached_property
    def table(self) -> np.ndarray:
        """The codebook as a read-only float32 array (code -> value)."""
        arr = np.array(self.codebook, dtype=np.float64).astype(np.float32)  # exact: entries are float32 values
        arr.setflags(write=False)
        return arr

    @property
    def element_bits(self) -> int:
        """Bits of one code: ceil(log2(codebook size))."""
        return max(1, math.ceil(math.log2(len(self.codebook))))

    @property
    def code_dtype(self) -> np.dtype:
        """NumPy dtype of the codes: uint8 up to 256 entries, else uint16."""
        return np.dtype(np.uint8 if len(self.codebook) <= 256 else np.uint16)

    @functools.cached_property
    def _search(self) -> _Search:
        order = np.argsort(self.table, kind="stable")
        srt = self.table[order]
        mid = (srt[:-1] + srt[1:]) / np.float32(2)
        lut = None
        if self.tie == "bnb_cpu_lut":
            grid = np.float32(-1) + np.float32(2) * np.arange(_LUT_SIZE, dtype=np.float32) / np.float32(65535)
            lut = np.searchsorted(mid, grid, side="left")
        return _Search(order.astype(self.code_dtype), mid, lut)

    @property
    def _granularity(self) -> Granularity:
        return flat(self.block_size) if self.granularity is None else self.granularity

    @functools.cached_property
    def _second_level(self) -> CodebookQuantizer:
        return CodebookQuantizer(
            DYNAMIC8_SIGNED,
            block_size=self.dq_block_size,
            tie=self.tie if self.dq_tie is None else self.dq_tie,
            name="dynamic8_signed",
        )

    # ---------------------------------------------------------------- core steps
    def nearest(self, s) -> np.ndarray:
        """Codes of the codebook entries nearest to float32 values `s` under this quantizer's `tie` rule.

        `s` is used as is (no scaling, no clipping); with `tie="bnb_cpu_lut"`
        it must lie in `[-1, 1]`.

        Parameters
        ----------
        s : array_like
            Values to look up, any shape (converted to float32).

        Returns
        -------
        numpy.ndarray
            Codes (indices into the codebook as given) in `s`'s shape, in
            `code_dtype`.

        Raises
        ------
        ValueError
            With `tie="bnb_cpu_lut"`, for values outside `[-1, 1]`.

        Examples
        --------
        >>> import numpy as np
        >>> import floatsim.quant as fq
        >>> q = fq.CodebookQuantizer([0.0, 0.5, 1.0])
        >>> q.nearest(np.array([0.25, 0.2500001, 0.8], np.float32)).tolist()   # 0.25 is a tie: the lower entry
        [0, 1, 2]
        """
        s = np.asarray(s, dtype=np.float32)
        search = self._search
        if search.lut is None:
            pos = np.searchsorted(search.mid, s, side="left")
        else:
            if s.size and (np.min(s) < -1 or np.max(s) > 1):
                raise ValueError("tie='bnb_cpu_lut' needs values in [-1, 1]")
            # index = trunc((s + 1) * 0.5 * 65535 + 0.5), each step in float32
            idx = (s + np.float32(1)) * np.float32(0.5) * np.float32(65535) + np.float32(0.5)
            pos = search.lut[encode(idx, _UINT16, rounding="toward_zero")]
        return search.order[pos]

    def _checked_float32(self, x: np.ndarray) -> np.ndarray:
        x32 = _to_float32(x)
        if not block_stats(x32.reshape(1, -1))[3].any():
            return x32
        n_nan = int(np.count_nonzero(np.isnan(x)))
        if n_nan:
            raise ValueError(f"x contains {n_nan} NaN value(s); a codebook has no NaN")
        n_inf = int(np.count_nonzero(np.isinf(x32)))
        if n_inf:
            raise ValueError(f"x contains {n_inf} infinite value(s) (or beyond the float32 range); "
                             "a codebook has no infinity")
        return x32

    @dask_aware
    def quantize(self, x) -> QuantizedTensor:
        """Codes and absmax of `x` (any shape; float16 / float32 / float64).

        Parameters
        ----------
        x : array_like
            Values to quantize (lists and integers become float64); computed in
            float32.

        Returns
        -------
        QuantizedTensor
            `codes` (indices, `code_dtype`, `x`'s shape) and `scale` (float32
            absmax per block; None without normalisation or with
            `double_quant`, whose statistics are in `extra`).

        Raises
        ------
        ValueError
            For NaN or ±inf in `x` (or float64 values beyond the float32 range).
        TypeError
            For an unsupported input dtype.

        Examples
        --------
        >>> import numpy as np
        >>> import floatsim.quant as fq
        >>> q = fq.nf4(block_size=4, double_quant=True).quantize(np.float32([0.5, -1.0, 0.25, 2.0, 0, 0, 0, 0]))
        >>> q.codes.tolist(), q.scale, sorted(q.extra)
        ([10, 2, 9, 15, 7, 7, 7, 7], None, ['absmax2', 'absmax_codes', 'extra_bits', 'offset'])
        """
        x = float_input(x)
        x32 = self._checked_float32(x)
        if not self.normalize:
            codes = self.nearest(x32)
            extra = {"extra_bits": 32 * len(self.codebook)}
            return QuantizedTensor(codes, None, None, self, x.shape, x.dtype, extra=extra)
        blocks = to_blocks(x32, self._granularity)
        absmax = block_stats(blocks.data)[2]
        inv = np.float32(1) / np.maximum(absmax, _F32_TINY)
        if self.tie == "bnb_cpu_lut":
            codes = self.nearest(np.clip(blocks.data * inv[:, None], np.float32(-1), np.float32(1)))
            codes[absmax == 0] = 0
        else:  # the same float32 product, clip and left search, fused in one pass
            codes = nearest_rows(blocks.data, inv, self._search.mid, self._search.order)
        codes = blocks.unblock(codes)
        scale = blocks.params(absmax)
        if not self.double_quant:
            return QuantizedTensor(codes, scale, None, self, x.shape, x.dtype)
        flat_absmax = scale.reshape(-1)
        mean = math.fsum(flat_absmax.astype(np.float64)) / max(1, flat_absmax.size)
        offset = _to_float32(np.array(mean))
        q2 = self._second_level.quantize(flat_absmax - offset)
        extra = {
            "absmax_codes": q2.codes.reshape(scale.shape),
            "absmax2": q2.scale,
            "offset": offset,
            "extra_bits": q2.codes.size * 8 + q2.scale.size * 32 + 32,
        }
        return QuantizedTensor(codes, None, None, self, x.shape, x.dtype, extra=extra)

    def absmax(self, q: QuantizedTensor) -> np.ndarray:
        """The float32 absmax of each block of `q` (decoded from the second level with double quantization).

        Parameters
        ----------
        q : QuantizedTensor
            Made by this quantizer.

        Returns
        -------
        numpy.ndarray or None
            float32 absmax values in the granularity's parameter shape: `q.scale`
            without double quantization (None with `normalize=False`), else
            `dynamic8` codes times `absmax2` plus `offset`.

        Examples
        --------
        >>> import numpy as np
        >>> import floatsim.quant as fq
        >>> q = fq.nf4(block_size=2, double_quant=True).quantize(np.array([1.0, 0.0, -3.0, 0.0], np.float32))
        >>> q.scale is None, fq.nf4(block_size=2, double_quant=True).absmax(q).tolist()  # 2 - 0.99297, 2 + 1
        (True, [1.0070312023162842, 3.0])
        """
        if not self.double_quant:
            return q.scale
        codes = q.extra["absmax_codes"]
        inner = QuantizedTensor(codes.reshape(-1), q.extra["absmax2"], None, self._second_level,
                                (codes.size,), np.dtype(np.float32))
        return (self._second_level.dequantize(inner) + q.extra["offset"]).reshape(codes.shape)

    @dask_aware
    def dequantize(self, q: QuantizedTensor, dtype=None) -> np.ndarray:
        """`codebook[codes] * absmax` in float32, cast to `dtype` (default: the input's dtype).

        Without normalisation: `codebook[codes]`.

        Parameters
        ----------
        q : QuantizedTensor
            Made by this quantizer (or an equal one).
        dtype : numpy.dtype or str, optional
            float16, float32 or float64; None (default) gives the input's dtype.

        Returns
        -------
        numpy.ndarray
            Dequantized values in the input's shape.

        Raises
        ------
        TypeError
            If `q` is not a `QuantizedTensor` or `dtype` is not a float dtype.
        ValueError
            If `q` was made by a different quantizer.

        Examples
        --------
        >>> import numpy as np
        >>> import floatsim.quant as fq
        >>> quantizer = fq.nf4()
        >>> q = quantizer.quantize(np.float32([0.1, -0.3, 0.9, 1.0]))
        >>> quantizer.dequantize(q, np.float16).tolist()
        [0.07958984375, -0.284423828125, 1.0, 1.0]
        """
        self._check_q(q)
        out_dtype = self._out_dtype(q, dtype)
        if self.normalize:  # codebook[codes] * absmax in one pass
            blocks = to_blocks(q.codes, self._granularity)
            values = blocks.unblock(lookup_rows(blocks.data, self.table, blocks.rows(self.absmax(q))))
        else:
            values = self.table[q.codes]
        return as_output(values.reshape(q.shape), out_dtype)


def nf4(block_size: int = 64, double_quant: bool = False, **kwargs) -> CodebookQuantizer:
    """NF4 (QLoRA) blockwise quantizer: bitsandbytes `quantize_4bit(quant_type='nf4')`.

    A `CodebookQuantizer` on `NF4`. Defaults as bitsandbytes: block 64, no
    double quantization (`double_quant=True` is QLoRA's
    `compress_statistics=True`).

    Parameters
    ----------
    block_size : int, default 64
        Elements per absmax block of the flattened tensor.
    double_quant : bool, default False
        Quantize the absmax values too (QLoRA double quantization).
    **kwargs
        Further `CodebookQuantizer` fields (`granularity`, `tie`,
        `dq_block_size`, `dq_tie`).

    Returns
    -------
    CodebookQuantizer
        Named `"nf4"`.

    Raises
    ------
    ValueError
        For a bad block size or keyword value (see `CodebookQuantizer`).

    Examples
    --------
    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> fq.nf4().fake_quantize(np.array([0.1, -0.3, 0.9, 1.0], np.float32)).tolist()
    [0.07958029955625534, -0.28444138169288635, 1.0, 1.0]
    >>> q = fq.nf4(double_quant=True).quantize(np.zeros(64 * 256 * 16, np.float32))
    >>> round(q.bits_per_value, 3)              # 4 + 8/64 + 32/(64 * 256) (+ the offset)
    4.127
    """
    return CodebookQuantizer(NF4, block_size=block_size, double_quant=double_quant, name="nf4", **kwargs)


def bnb_fp4(block_size: int = 64, double_quant: bool = False, **kwargs) -> CodebookQuantizer:
    """bitsandbytes "fp4" blockwise quantizer (`quantize_4bit(quant_type='fp4')`; not OCP E2M1).

    A `CodebookQuantizer` on `BNB_FP4`. Codes are bitsandbytes' (`s e e m`,
    sign = bit 3). Defaults as bitsandbytes: block 64, no double quantization.

    Parameters
    ----------
    block_size : int, default 64
        Elements per absmax block of the flattened tensor.
    double_quant : bool, default False
        Quantize the absmax values too (QLoRA double quantization).
    **kwargs
        Further `CodebookQuantizer` fields (`granularity`, `tie`,
        `dq_block_size`, `dq_tie`).

    Returns
    -------
    CodebookQuantizer
        Named `"bnb_fp4"`.

    Raises
    ------
    ValueError
        For a bad block size or keyword value (see `CodebookQuantizer`).

    Examples
    --------
    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> q = fq.bnb_fp4().quantize(np.array([1.0, -1.0, 0.5, 0.0], np.float32))
    >>> q.codes.tolist(), q.dequantize().tolist()
    ([3, 11, 5, 0], [1.0, -1.0, 0.5, 0.0])
    """
    return CodebookQuantizer(BNB_FP4, block_size=block_size, double_quant=double_quant, name="bnb_fp4", **kwargs)


def dynamic8(signed: bool = True, block_size: int = 256, **kwargs) -> CodebookQuantizer:
    """Dynamic ("dynamic tree") 8-bit blockwise quantizer (bitsandbytes `quantize_blockwise`).

    A `CodebookQuantizer` on `DYNAMIC8_SIGNED` (or `DYNAMIC8_UNSIGNED`). The
    default block of 256 is the 8-bit optimizers' (bitsandbytes PR #1365;
    8.125 bits per value); `quantize_blockwise` itself defaults to 4096
    (pass `block_size=4096`). Pass `tie="bnb_cpu_lut"` for bit parity with
    bitsandbytes' CPU `quantize_blockwise`.

    Parameters
    ----------
    signed : bool, default True
        The signed map, or the unsigned one (negative values then quantize to 0).
    block_size : int, default 256
        Elements per absmax block of the flattened tensor.
    **kwargs
        Further `CodebookQuantizer` fields (`granularity`, `tie`,
        `double_quant`, `dq_block_size`, `dq_tie`).

    Returns
    -------
    CodebookQuantizer
        Named `"dynamic8_signed"` or `"dynamic8_unsigned"`.

    Raises
    ------
    TypeError
        If `signed` is not a bool.
    ValueError
        For a bad block size or keyword value (see `CodebookQuantizer`).

    Examples
    --------
    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> q = fq.dynamic8().quantize(np.linspace(-1, 1, 5, dtype=np.float32))
    >>> q.codes.tolist(), q.bits_per_value          # 8 + 32 / 5: one partial block
    ([0, 35, 127, 219, 255], 14.4)
    >>> fq.dynamic8(signed=False).fake_quantize(np.float32([-0.5, 0.25, 1.0])).tolist()
    [0.0, 0.25117185711860657, 1.0]
    """
    if not isinstance(signed, bool | np.bool_):
        raise TypeError(f"signed must be True or False, not {signed!r}")
    table, name = (DYNAMIC8_SIGNED, "dynamic8_signed") if signed else (DYNAMIC8_UNSIGNED, "dynamic8_unsigned")
    return CodebookQuantizer(table, block_size=block_size, name=name, **kwargs)


# --------------------------------------------------------------------------- k-means (Deep Compression)
class KMeansResult(NamedTuple):
    """Result of `kmeans_codebook`: a named tuple `(codebook, labels, n_iter)`.

    Other Parameters
    ----------------
    codebook : numpy.ndarray
        Sorted float64 centroids, in data units.
    labels : numpy.ndarray
        Index into `codebook` of each input value (flattened, int64).
    n_iter : int
        Lloyd iterations run.

    Examples
    --------
    >>> import floatsim.quant as fq
    >>> codebook, labels, n_iter = fq.kmeans_codebook([0.0, 0.1, 0.9, 1.0, 5.0], 2)
    >>> codebook.tolist(), labels.tolist(), n_iter
    ([0.5, 5.0], [0, 0, 0, 0, 1], 2)
    """

    codebook: np.ndarray  #: sorted float64 centroids, in data units
    labels: np.ndarray  #: index into ``codebook`` of each input value (flattened, int64)
    n_iter: int  #: Lloyd iterations run


def _finite_float64(x, argument: str) -> np.ndarray:
    arr = float_input(x, argument).astype(np.float64).reshape(-1)
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:
        raise ValueError(f"{argument} contains {bad} NaN or infinite value(s)")
    return arr


def _assign(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Nearest centroid (sorted ``centroids``); a value exactly at a midpoint goes to the lower one."""
    return np.searchsorted((centroids[:-1] + centroids[1:]) / 2, x, side="left")


def kmeans_codebook(x, k: int, *, max_iter: int = 300, tol: float = 0.0) -> KMeansResult:
    """1-D Lloyd k-means with Deep Compression's linear initialisation (Han et al., 2016).

    Deterministic: ``k`` centroids linearly spaced on ``[min x, max x]``, then
    alternate (assign each value to the nearest centroid; move each centroid to
    the mean of its values, in float64) until the assignment no longer changes,
    the squared centroid shift falls to ``tol * var(x)`` (scikit-learn's rule),
    or ``max_iter`` iterations. A centroid that loses all its values keeps its
    position (scikit-learn relocates it instead). The codebook is in data units:
    quantize with ``CodebookQuantizer(result.codebook, normalize=False)``.

    Parameters
    ----------
    x : array_like
        Weights, any shape (flattened), finite; float16 / float32 / float64,
        lists or integers. Computed in float64.
    k : int
        Number of centroids, `1 <= k <= x.size`.
    max_iter : int, default 300
        Largest number of iterations (positive).
    tol : float, default 0.0
        Non-negative; stop when the squared centroid shift is at most
        `tol * var(x)`.

    Returns
    -------
    KMeansResult
        `(codebook, labels, n_iter)`: sorted float64 centroids, the int64 index
        of each value's centroid, the iterations run.

    Raises
    ------
    ValueError
        For NaN or inf in `x`, `k` outside `1 ... x.size`, `max_iter < 1` or a
        negative or non-finite `tol`.
    TypeError
        For an unsupported input dtype.

    Examples
    --------
    >>> import floatsim.quant as fq
    >>> r = fq.kmeans_codebook([0.0, 0.1, 0.9, 1.0, 5.0], 2)
    >>> r.codebook.tolist(), r.labels.tolist(), r.n_iter
    ([0.5, 5.0], [0, 0, 0, 0, 1], 2)
    >>> fq.CodebookQuantizer(r.codebook, normalize=False).fake_quantize([0.2, 4.0]).tolist()
    [0.5, 5.0]

    A centroid that loses all its values stays where it is (here 2.5):

    >>> fq.kmeans_codebook([0.0, 0.1, 0.9, 1.0, 5.0], 3).codebook.tolist()
    [0.5, 2.5, 5.0]
    """
    arr = _finite_float64(x, "x")
    k = _check_int("k", k, 1)
    max_iter = _check_int("max_iter", max_iter, 1)
    if k > arr.size:
        raise ValueError(f"k must be at most the number of values ({arr.size}), not {k}")
    if not (isinstance(tol, int | float | np.floating) and math.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0, not {tol!r}")
    threshold = float(tol) * float(np.var(arr))
    centroids = np.linspace(arr.min(), arr.max(), k)
    labels_old = None
    converged = False
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        labels = _assign(arr, centroids)
        counts = np.bincount(labels, minlength=k)
        sums = np.bincount(labels, weights=arr, minlength=k)
        new = np.where(counts > 0, sums / np.maximum(counts, 1), centroids)
        shift = float(np.sum((new - centroids) ** 2))
        centroids = new
        if labels_old is not None and np.array_equal(labels, labels_old):
            converged = True
            break
        if shift <= threshold:
            break
        labels_old = labels
    if not converged:
        labels = _assign(arr, centroids)
    order = np.argsort(centroids, kind="stable")
    rank = np.empty(k, np.int64)
    rank[order] = np.arange(k)
    return KMeansResult(centroids[order], rank[labels].astype(np.int64), n_iter)


# --------------------------------------------------------------------------- Lloyd-Max
class LloydMaxResult(NamedTuple):
    """Result of `lloyd_max` (units of the standard deviation): a named tuple.

    Other Parameters
    ----------------
    levels : numpy.ndarray
        The k reconstruction levels, ascending (float64): the codebook.
    thresholds : numpy.ndarray
        The k - 1 decision thresholds (midpoints of adjacent levels).
    mse : float
        Mean squared error E[(X - Q(X))^2] for X ~ N(0, 1).
    n_iter : int
        Iterations run.

    Examples
    --------
    >>> import floatsim.quant as fq
    >>> r = fq.lloyd_max(4)
    >>> [round(float(v), 4) for v in r.levels], round(r.mse, 4)
    ([-1.5104, -0.4528, 0.4528, 1.5104], 0.1175)
    """

    levels: np.ndarray  #: the k reconstruction levels, ascending (float64): the codebook
    thresholds: np.ndarray  #: the k - 1 decision thresholds (midpoints of adjacent levels)
    mse: float  #: mean squared error E[(X - Q(X))^2]
    n_iter: int  #: iterations run


_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _pdf(t: float) -> float:
    return 0.0 if math.isinf(t) else _INV_SQRT_2PI * math.exp(-0.5 * t * t)


def _mass(a: float, b: float) -> float:
    """P(a < X < b) for X ~ N(0, 1), through erfc in the tails (no cancellation)."""
    if a >= 0:
        return 0.5 * (math.erfc(a / _SQRT2) - math.erfc(b / _SQRT2))
    if b <= 0:
        return 0.5 * (math.erfc(-b / _SQRT2) - math.erfc(-a / _SQRT2))
    return 0.5 * (math.erf(b / _SQRT2) - math.erf(a / _SQRT2))


def _cells(levels: list[float]) -> list[tuple[float, float]]:
    edges = [-math.inf] + [(lo + hi) / 2 for lo, hi in zip(levels[:-1], levels[1:], strict=True)] + [math.inf]
    return list(zip(edges[:-1], edges[1:], strict=True))


def lloyd_max(k: int, distribution: str = "normal", *, max_iter: int = 100_000, tol: float = 1e-14) -> LloydMaxResult:
    """The minimum-MSE ``k``-level scalar quantizer of N(0, 1) (Lloyd 1957 / Max 1960).

    Alternates *thresholds = midpoints of adjacent levels* and *each level =
    conditional mean of its cell*, ``(pdf(a) - pdf(b)) / (cdf(b) - cdf(a))``
    (normal pdf and cdf from `math.erf` / `math.erfc`), from levels at
    `(2j + 1 - k) / k * 2`, until no level moves by more than `tol`. For
    k = 4, 8, 16 this reproduces Max's table (MSE 0.1175, 0.03455, 0.009501).
    The levels are in units of sigma: use `CodebookQuantizer(levels * sigma,
    normalize=False)`, or `levels / levels.max()` as a normalised codebook.

    Parameters
    ----------
    k : int
        Number of levels (>= 2).
    distribution : {"normal"}, default "normal"
        The source distribution; only the standard normal is offered.
    max_iter : int, default 100000
        Largest number of iterations (positive).
    tol : float, default 1e-14
        Positive; stop when no level moves by more than this.

    Returns
    -------
    LloydMaxResult
        `(levels, thresholds, mse, n_iter)`.

    Raises
    ------
    ValueError
        For `k < 2`, another distribution, `max_iter < 1` or a non-positive
        `tol`.

    Examples
    --------
    >>> import floatsim.quant as fq
    >>> r = fq.lloyd_max(2)
    >>> r.levels.round(4).tolist(), r.thresholds.tolist(), round(r.mse, 4)
    ([-0.7979, 0.7979], [0.0], 0.3634)
    >>> round(fq.lloyd_max(8).mse, 5)
    0.03455
    """
    k = _check_int("k", k, 1)
    if k < 2:
        raise ValueError(f"k must be at least 2, not {k}")
    check_choice("distribution", distribution, ("normal",))
    max_iter = _check_int("max_iter", max_iter, 1)
    if not (isinstance(tol, int | float | np.floating) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a finite number > 0, not {tol!r}")
    levels = [2.0 * (2 * j + 1 - k) / k for j in range(k)]
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        new = [(_pdf(a) - _pdf(b)) / _mass(a, b) for a, b in _cells(levels)]
        moved = max(abs(u - v) for u, v in zip(new, levels, strict=True))
        levels = new
        if moved <= tol:
            break
    mse = 0.0
    for (a, b), y in zip(_cells(levels), levels, strict=True):
        p = _mass(a, b)
        # integral over (a, b) of (x - y)^2 pdf(x) = p + a pdf(a) - b pdf(b) - 2 y (pdf(a) - pdf(b)) + y^2 p
        apa = 0.0 if math.isinf(a) else a * _pdf(a)
        bpb = 0.0 if math.isinf(b) else b * _pdf(b)
        mse += p + apa - bpb - 2.0 * y * (_pdf(a) - _pdf(b)) + y * y * p
    lv = np.array(levels)
    return LloydMaxResult(lv, (lv[:-1] + lv[1:]) / 2, mse, n_iter)
