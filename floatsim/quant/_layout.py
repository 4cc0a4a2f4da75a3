"""Granularity: which elements share one scale / zero point, and the block views.

Every quantizer reduces its input to a 2-D array of blocks, one row per set of
elements that share quantization parameters (a scale, and for asymmetric
integer schemes a zero point), quantizes row by row, and puts the result back
into the input's shape. `Granularity` names the four layouts in use;
`to_blocks` and `Blocks.unblock` are the only reshaping code.

Layouts (`x` of shape `(..., L, ...)`, `axis` pointing at `L`):

| granularity | string | one parameter set per | parameter shape |
|---|---|---|---|
| `per_tensor()` | `"tensor"` | the whole tensor | `()` |
| `per_channel(axis)` | `"channel"`, `"channel:1"` | index along `axis` (reduce over the rest) | `x.shape` with 1 elsewhere |
| `per_group(g, axis)` | `"group:128"`, `"group:32:0"` | `g` consecutive elements along `axis` | `x.shape`, `axis` -> `ceil(L/g)` |
| `flat(g)` | `"flat:64"` | `g` consecutive elements of `x.ravel()` | `(ceil(x.size/g),)` |

**Remainder rule.** When `L` (or `x.size` for `flat`) is not a multiple of
`g` the last block of each row is partial and gets its own parameters,
computed from its real elements only (bitsandbytes' rule; torchao and MX
require divisibility, microxcaling pads with zeros, which gives the same
parameters for absmax rules). Internally the partial block is padded by
repeating its last real element, which leaves its min, max and absmax
unchanged; padded positions are dropped on the way back.

Examples
--------
>>> import numpy as np
>>> from floatsim.quant._layout import per_group, to_blocks
>>> b = to_blocks(np.arange(10.0).reshape(2, 5), per_group(2))
>>> b.data.shape, b.param_shape
((6, 2), (2, 3))
>>> b.data[2]          # the partial block of row 0: [4] padded with itself
array([4., 4.])
>>> b.unblock(b.data).tolist()
[[0.0, 1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0, 9.0]]
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["Granularity", "per_tensor", "per_channel", "per_group", "flat", "parse_granularity", "to_blocks", "Blocks"]

_KINDS = ("tensor", "channel", "group", "flat")


@dataclasses.dataclass(frozen=True)
class Granularity:
    """Which elements of a tensor share one scale (and zero point).

    Build one with `per_tensor()`, `per_channel(axis)`, `per_group(size, axis)` or
    `flat(size)` rather than by hand; wherever a quantizer takes a `granularity`,
    a string such as `"group:128"` works too (grammar: `"tensor"`,
    `"channel[:AXIS]"`, `"group:SIZE[:AXIS]"`, `"flat:SIZE"`). Instances are frozen,
    hashable and compare by value; `str()` gives a short description.

    Parameters
    ----------
    kind : {"tensor", "channel", "group", "flat"}, default "tensor"
        The layout: one scale for the whole tensor, one per index along `axis`,
        one per `size` consecutive elements along `axis`, or one per `size`
        consecutive elements of the flattened (C-order) tensor.
    axis : int, optional
        The axis of `"channel"` and `"group"` (required there; negative values
        count from the end, checked against the array when quantizing). Must be
        None for `"tensor"` and `"flat"`.
    size : int, optional
        Elements per block of `"group"` and `"flat"` (a positive integer, required
        there). Must be None for `"tensor"` and `"channel"`.

    Raises
    ------
    ValueError
        For an unknown `kind`, a missing or non-positive `size` where one is
        needed, or an `axis` or `size` given to a kind that takes none.
    TypeError
        For a `"channel"` or `"group"` axis that is not an integer.

    Examples
    --------
    >>> import floatsim.quant as fq
    >>> g = fq.per_group(32)
    >>> g
    Granularity(kind='group', axis=-1, size=32)
    >>> str(g), g == fq.Granularity("group", axis=-1, size=32)
    ('per-group(32, axis=-1)', True)
    >>> fq.Granularity("group", axis=-1)
    Traceback (most recent call last):
    ...
    ValueError: group size must be a positive integer, not None
    """

    kind: str = "tensor"
    axis: int | None = None
    size: int | None = None

    def __post_init__(self):
        if self.kind not in _KINDS:
            raise ValueError(f"granularity kind must be one of {', '.join(_KINDS)}, not {self.kind!r}")
        if self.kind in ("group", "flat"):
            if isinstance(self.size, bool) or not isinstance(self.size, int | np.integer) or self.size < 1:
                raise ValueError(f"group size must be a positive integer, not {self.size!r}")
        elif self.size is not None:
            raise ValueError(f"granularity {self.kind!r} takes no size")
        if self.kind in ("channel", "group"):
            if isinstance(self.axis, bool) or not isinstance(self.axis, int | np.integer):
                raise TypeError(f"axis must be an integer, not {self.axis!r}")
        elif self.axis is not None:
            raise ValueError(f"granularity {self.kind!r} takes no axis")

    def __str__(self) -> str:
        if self.kind == "tensor":
            return "per-tensor"
        if self.kind == "channel":
            return f"per-channel(axis={self.axis})"
        if self.kind == "group":
            return f"per-group({self.size}, axis={self.axis})"
        return f"flat blocks of {self.size}"


def per_tensor() -> Granularity:
    """One scale (and zero point) for the whole tensor.

    The string form is `"tensor"`; it is also what a `granularity` of None means.

    Returns
    -------
    Granularity
        `Granularity(kind="tensor")`; parameters have shape `()`.

    Examples
    --------
    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> fq.per_tensor()
    Granularity(kind='tensor', axis=None, size=None)
    >>> fq.IntQuantizer(granularity=fq.per_tensor()).quantize(np.ones((4, 6), np.float32)).scale.shape
    ()
    """
    return Granularity("tensor")


def per_channel(axis: int = 0) -> Granularity:
    """One scale per index along `axis`, computed over all the other axes.

    This is torch's per-channel quantization (`ch_axis`); for a weight matrix of
    shape `(out_features, in_features)` axis 0 gives one scale per output
    channel. String form: `"channel"` (axis 0) or `"channel:AXIS"`.

    Parameters
    ----------
    axis : int, default 0
        The channel axis; negative values count from the end. It is checked
        against the array's dimensions when quantizing (`ValueError` if out of
        range, or for a 0-d array).

    Returns
    -------
    Granularity
        `Granularity(kind="channel", axis=axis)`; parameters have `x.shape` with
        1 on every other axis.

    Raises
    ------
    TypeError
        If `axis` is not an integer.

    Examples
    --------
    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> fq.per_channel()
    Granularity(kind='channel', axis=0, size=None)
    >>> x = np.ones((4, 6), np.float32)
    >>> fq.IntQuantizer(granularity=fq.per_channel(0)).quantize(x).scale.shape
    (4, 1)
    >>> fq.IntQuantizer(granularity="channel:1").quantize(x).scale.shape
    (1, 6)
    """
    return Granularity("channel", axis=axis)


def per_group(size: int, axis: int = -1) -> Granularity:
    """One scale per `size` consecutive elements along `axis` (per-group or per-block quantization).

    When the axis length `L` is not a multiple of `size`, the last group of each
    row is shorter and gets its own scale from its real elements (the remainder
    rule of the module docstring). String form: `"group:SIZE"` (last axis) or
    `"group:SIZE:AXIS"`.

    Parameters
    ----------
    size : int
        Elements per group, a positive integer.
    axis : int, default -1
        The axis the groups run along (default the last); negative values count
        from the end. Checked against the array when quantizing.

    Returns
    -------
    Granularity
        `Granularity(kind="group", axis=axis, size=size)`; parameters have
        `x.shape` with `axis` replaced by `ceil(L / size)`.

    Raises
    ------
    ValueError
        If `size` is not a positive integer.
    TypeError
        If `axis` is not an integer.

    Examples
    --------
    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> fq.per_group(128)
    Granularity(kind='group', axis=-1, size=128)
    >>> x = np.ones((4, 6), np.float32)
    >>> fq.IntQuantizer(granularity=fq.per_group(4)).quantize(x).scale.shape   # 6 = 4 + a partial group of 2
    (4, 2)
    >>> fq.IntQuantizer(granularity=fq.per_group(2, axis=0)).quantize(x).scale.shape
    (2, 6)
    """
    return Granularity("group", axis=axis, size=size)


def flat(size: int) -> Granularity:
    """One scale per `size` consecutive elements of the flattened (C-order) tensor.

    This is bitsandbytes' blockwise layout and the default of the codebook
    quantizers. Blocks ignore the tensor's shape: a block may span rows. The last
    block is partial when `x.size` is not a multiple of `size` and gets its own
    scale. String form: `"flat:SIZE"`.

    Parameters
    ----------
    size : int
        Elements per block, a positive integer.

    Returns
    -------
    Granularity
        `Granularity(kind="flat", size=size)`; parameters have shape
        `(ceil(x.size / size),)`.

    Raises
    ------
    ValueError
        If `size` is not a positive integer.

    Examples
    --------
    >>> import numpy as np
    >>> import floatsim.quant as fq
    >>> fq.flat(64)
    Granularity(kind='flat', axis=None, size=64)
    >>> fq.IntQuantizer(granularity=fq.flat(5)).quantize(np.ones((4, 6), np.float32)).scale.shape  # 24 = 4 * 5 + 4
    (5,)
    """
    return Granularity("flat", size=size)


def parse_granularity(spec) -> Granularity:
    """A `Granularity` from itself, None (per-tensor) or a string.

    Strings (case-insensitive): `"tensor"`, `"channel"` / `"channel:AXIS"`,
    `"group:SIZE"` / `"group:SIZE:AXIS"`, `"flat:SIZE"`.

    Parameters
    ----------
    spec : Granularity, str or None
        The granularity, its string form, or None for per-tensor.

    Returns
    -------
    Granularity
        `spec` itself when it already is one.

    Raises
    ------
    ValueError
        For a string that does not follow the grammar or holds a bad size.
    TypeError
        For anything that is neither a `Granularity`, a string nor None.

    Examples
    --------
    >>> from floatsim.quant._layout import parse_granularity
    >>> parse_granularity("group:128")
    Granularity(kind='group', axis=-1, size=128)
    >>> parse_granularity("channel:1"), parse_granularity(None)
    (Granularity(kind='channel', axis=1, size=None), Granularity(kind='tensor', axis=None, size=None))
    """
    if spec is None:
        return per_tensor()
    if isinstance(spec, Granularity):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"granularity must be a Granularity or a string, not {type(spec).__name__}")
    parts = spec.strip().lower().split(":")
    try:
        if parts[0] == "tensor" and len(parts) == 1:
            return per_tensor()
        if parts[0] == "channel" and len(parts) <= 2:
            return per_channel(int(parts[1]) if len(parts) == 2 else 0)
        if parts[0] == "group" and len(parts) in (2, 3):
            return per_group(int(parts[1]), int(parts[2]) if len(parts) == 3 else -1)
        if parts[0] == "flat" and len(parts) == 2:
            return flat(int(parts[1]))
    except ValueError as exc:
        raise ValueError(f"bad granularity {spec!r}: {exc}") from None
    raise ValueError(
        f"bad granularity {spec!r}: expected 'tensor', 'channel[:AXIS]', 'group:SIZE[:AXIS]' or 'flat:SIZE'"
    )


def _norm_axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for an array with {ndim} dimension(s)")
    return axis % ndim


@dataclasses.dataclass(frozen=True, eq=False)
class Blocks:
    """`x` as a 2-D array of blocks (one row per parameter set) and the way back; made by `to_blocks`.

    Parameters
    ----------
    data : numpy.ndarray
        `(number of blocks, block length)`, padded rows included.
    granularity : Granularity
        The layout.
    shape : tuple of int
        The original shape.
    param_shape : tuple of int
        The shape of per-block parameters (scales, zero points).

    Notes
    -----
    The remaining fields (`_moved`, `_axis`, `_length`, `_per_row`) are
    internal bookkeeping for `unblock`.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant._layout import per_channel, to_blocks
    >>> b = to_blocks(np.arange(6.0).reshape(2, 3), per_channel(1))
    >>> b.data.tolist(), b.param_shape
    ([[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]], (1, 3))
    >>> b.params([1.0, 2.0, 3.0]).tolist()
    [[1.0, 2.0, 3.0]]
    """

    data: np.ndarray           #: (number of blocks, block length), padded rows included
    granularity: Granularity
    shape: tuple               #: the original shape
    param_shape: tuple         #: the shape of per-block parameters (scales, zero points)
    _moved: tuple              #: shape after moving the block axis last (group) or first (channel)
    _axis: int | None
    _length: int               #: real length of the blocked dimension (group / flat)
    _per_row: int = 1          #: blocks per row along the blocked axis (group)

    def params(self, values) -> np.ndarray:
        """Per-block values (one per row of `data`) in `param_shape`.

        Parameters
        ----------
        values : array_like
            One value per row of `data`, in row order.

        Returns
        -------
        numpy.ndarray
            The values in `param_shape`.
        """
        v = np.asarray(values).reshape(-1)
        g = self.granularity
        if g.kind == "tensor":
            return v.reshape(())
        if g.kind == "channel":
            return v.reshape(self.param_shape)
        if g.kind == "flat":
            return v.reshape(self.param_shape)
        return np.moveaxis(v.reshape(*self._moved[:-1], self._per_row), -1, self._axis)

    def rows(self, params) -> np.ndarray:
        """The inverse of `params`: parameters in `param_shape` -> one per row, as a column.

        Parameters
        ----------
        params : array_like
            Values in `param_shape`.

        Returns
        -------
        numpy.ndarray
            Shape `(number of blocks, 1)`, ready to broadcast against `data`.
        """
        p = np.asarray(params)
        g = self.granularity
        if g.kind == "group":
            p = np.moveaxis(p, self._axis, -1)
        return np.ascontiguousarray(p).reshape(-1, 1)

    def unblock(self, blocked) -> np.ndarray:
        """A `data`-shaped array back in the original shape (padding dropped).

        Parameters
        ----------
        blocked : array_like
            An array shaped like `data` (e.g. the codes of each block).

        Returns
        -------
        numpy.ndarray
            The values in `shape`, padded positions removed.
        """
        b = np.asarray(blocked)
        g = self.granularity
        if g.kind == "tensor":
            return b.reshape(self.shape)
        if g.kind == "channel":
            return np.moveaxis(b.reshape(self._moved), 0, self._axis)
        if g.kind == "flat":
            return b.reshape(-1)[: self._length].reshape(self.shape)
        lead = self._moved[:-1]
        b = b.reshape(*lead, self._per_row * g.size)[..., : self._length]
        return np.moveaxis(b, -1, self._axis)


def _pad_edge(a: np.ndarray, padded: int) -> np.ndarray:
    """Pad the last axis to ``padded`` by repeating its last element."""
    extra = padded - a.shape[-1]
    if extra == 0:
        return a
    if a.shape[-1] == 0:
        return np.zeros((*a.shape[:-1], padded), a.dtype)
    return np.concatenate([a, np.repeat(a[..., -1:], extra, axis=-1)], axis=-1)


def to_blocks(x: np.ndarray, granularity) -> Blocks:
    """Reshape `x` into blocks for `granularity` (see the module docstring).

    Parameters
    ----------
    x : array_like
        The array to block, any shape and dtype.
    granularity : Granularity, str or None
        The layout (None: per tensor).

    Returns
    -------
    Blocks
        The 2-D blocks view (partial blocks padded by repeating their last
        element) and the way back.

    Raises
    ------
    ValueError
        For an axis out of range, and for a per-channel / per-group layout of a
        0-d array.

    Examples
    --------
    >>> import numpy as np
    >>> from floatsim.quant._layout import to_blocks
    >>> b = to_blocks(np.arange(10.0), "flat:4")
    >>> b.data.tolist(), b.param_shape
    ([[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 9.0, 9.0]], (3,))
    """
    g = parse_granularity(granularity)
    x = np.asarray(x)
    shape = x.shape
    if g.kind == "tensor":
        return Blocks(x.reshape(1, -1), g, shape, (), shape, None, x.size)
    if g.kind == "flat":
        nb = -(-x.size // g.size)
        data = _pad_edge(x.reshape(-1), nb * g.size).reshape(nb, g.size)
        return Blocks(data, g, shape, (nb,), shape, None, x.size)
    if x.ndim == 0:
        raise ValueError(f"{g} needs an array with at least one dimension, not a 0-d array")
    axis = _norm_axis(g.axis, x.ndim)
    if g.kind == "channel":
        moved = np.moveaxis(x, axis, 0)
        data = moved.reshape(shape[axis], x.size // shape[axis] if shape[axis] else 0)
        pshape = tuple(n if i == axis else 1 for i, n in enumerate(shape))
        return Blocks(data, g, shape, pshape, moved.shape, axis, shape[axis])
    moved = np.moveaxis(x, axis, -1)
    length = shape[axis]
    nb = -(-length // g.size)
    data = _pad_edge(moved, nb * g.size).reshape(-1, g.size)
    pshape = tuple(nb if i == axis else n for i, n in enumerate(shape))
    return Blocks(data, g, shape, pshape, moved.shape, axis, length, nb)
