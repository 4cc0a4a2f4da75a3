"""Plot number formats: value positions, spacing, binades, cast error, rounding modes.

These functions draw what a format can represent and how rounding into it behaves: where its values lie on
the real line (`number_line`), how far apart neighbouring values are (`spacing`), how many values each
binade holds (`binade_histogram`), how large the error of casting a sample is (`cast_error`) and what each
rounding mode does over a range (`rounding_modes`). `quantization_report` draws the error of several
quantization schemes. The `floatsim plot` command draws the same pictures to an image file.

matplotlib is needed (`pip install 'floatsim[plot]'`). It is imported only when a function is called,
never by `import floatsim.plotting`. Every function draws on `ax` when given, else on a new standalone
`matplotlib.figure.Figure`. pyplot is not used, so no global state changes and no window opens, whatever
the backend. Every function returns the figure, except `quantization_report`, which returns the Axes. Save
a figure with `fig.savefig("plot.png")`.

Examples
--------
>>> import io
>>> from floatsim.plotting import number_line
>>> fig = number_line("float8_e4m3fn", scale="symlog")
>>> type(fig).__name__, fig.axes[0].get_title()
('Figure', 'float8_e4m3fn: 253 finite values (symlog scale)')
>>> buf = io.BytesIO()
>>> fig.savefig(buf, format="png")
>>> buf.getvalue()[1:4]
b'PNG'

Several plots side by side, on Axes of your own figure:

>>> from matplotlib.figure import Figure
>>> from floatsim.plotting import spacing
>>> fig = Figure(figsize=(12, 4))
>>> left, right = fig.subplots(1, 2)
>>> number_line("float4_e2m1fn", ax=left) is fig, spacing("float4_e2m1fn", ax=right) is fig
(True, True)
"""

from __future__ import annotations

import numpy as np

from .core import cast, decode
from .format import FloatFormat
from .formats import get_format
from .rounding import Rounding

__all__ = ["binade_histogram", "cast_error", "number_line", "quantization_report", "rounding_modes", "spacing"]

_MAX_ENUM_BITS = 16  # formats whose every code is decoded
_DETERMINISTIC = ("nearest_even", "nearest_away", "toward_zero", "toward_positive", "toward_negative", "odd")


def _plt():
    """Import matplotlib (lazily) and return the module."""
    try:
        import matplotlib
        import matplotlib.figure  # noqa: F401
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'floatsim[plot]'") from None
    return matplotlib


def _figure_axes(ax, **fig_kw):
    """``(figure, axes)``: ``ax`` and its figure, or a new standalone Figure with one Axes."""
    mpl = _plt()
    if ax is not None:
        return ax.figure, ax
    fig = mpl.figure.Figure(**fig_kw)
    return fig, fig.add_subplot()


def _name(fmt) -> str:
    return str(fmt)


def _all_values(fmt, argument="fmt"):
    """Sorted unique finite values of a format of at most 16 bits (float64)."""
    if fmt.bits > _MAX_ENUM_BITS:
        raise ValueError(
            f"{argument}={_name(fmt)} has {fmt.bits} bits; this plot enumerates every code and needs "
            f"at most {_MAX_ENUM_BITS} bits"
        )
    v = decode(np.arange(fmt.num_codes), fmt, dtype=np.float64)
    return np.unique(v[np.isfinite(v)])


def _formats(formats, argument="formats"):
    if isinstance(formats, (str, FloatFormat)) or not np.iterable(formats):
        formats = [formats]
    fmts = [get_format(f, argument) for f in formats]
    if not fmts:
        raise ValueError(f"{argument} is empty: give at least one format")
    return fmts


def _smallest_positive(fmt) -> float:
    if fmt.kind == "int":
        return 1.0
    return float(fmt.smallest_subnormal)


def number_line(fmt, *, scale="linear", ax=None):
    """Every finite value of `fmt` as a tick on the real line.

    Each distinct finite value is drawn once as a vertical tick (`+0` and `-0` share one); the title gives the
    number of distinct finite values.

    Parameters
    ----------
    fmt : str, FloatFormat, IntFormat or numpy.dtype
        A format of at most 16 bits, or its name or dtype.
    scale : {"linear", "symlog"}, default "linear"
        The x axis. `"symlog"` is logarithmic in both directions and linear between minus and plus the smallest
        positive value, so that every binade (the values in `[2**e, 2**(e + 1))`) gets the same width.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on. Default: a new figure with one Axes.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on (the figure of `ax` when given).

    Raises
    ------
    ValueError
        For an unknown `scale`, a format wider than 16 bits, or an unknown format name.

    Examples
    --------
    >>> fig = number_line("float4_e2m1fn")
    >>> ax = fig.axes[0]
    >>> ax.get_title(), ax.get_xlabel(), ax.get_xscale()
    ('float4_e2m1fn: 15 finite values (linear scale)', 'value', 'linear')
    >>> ticks = ax.collections[0].get_segments()
    >>> len(ticks), [float(t[0, 0]) for t in ticks[:3]]
    (15, [-6.0, -4.0, -3.0])
    >>> number_line("float32")
    Traceback (most recent call last):
        ...
    ValueError: fmt=float32 has 32 bits; this plot enumerates every code and needs at most 16 bits
    """
    if scale not in ("linear", "symlog"):
        raise ValueError(f"scale={scale!r} is not supported; allowed: 'linear', 'symlog'")
    fmt = get_format(fmt)
    values = _all_values(fmt)
    fig, ax = _figure_axes(ax, figsize=(10, 2.2))
    ax.vlines(values, -1.0, 1.0, linewidth=0.6, color="C0")
    if scale == "symlog":
        ax.set_xscale("symlog", linthresh=_smallest_positive(fmt))
    ax.axhline(0.0, color="0.6", linewidth=0.5, zorder=0)
    ax.set_ylim(-1.5, 1.5)
    ax.set_yticks([])
    ax.set_xlabel("value")
    ax.set_title(f"{_name(fmt)}: {values.size} finite values ({scale} scale)")
    return fig


def _spacing_of(fmt, samples=2048):
    """``(magnitudes, ulps)``: gap from each positive value to the next larger one."""
    if fmt.bits <= _MAX_ENUM_BITS:
        v = _all_values(fmt)
        v = v[v > 0]
        return v[:-1], np.diff(v)
    lo, hi = _smallest_positive(fmt), float(fmt.max)
    x = np.geomspace(lo, hi, samples)
    down = cast(x, fmt, rounding="toward_negative", overflow="saturate", dtype=np.float64)
    # values of a <= 32-bit format are far coarser than float64: the next double above a value
    # rounds up to that value's successor
    up = cast(np.nextafter(down, np.inf), fmt, rounding="toward_positive", overflow="saturate", dtype=np.float64)
    keep = (up > down) & (down > 0)
    down, up = down[keep], up[keep]
    down, idx = np.unique(down, return_index=True)
    return down, up[idx] - down


def spacing(formats, *, ax=None):
    """Distance between neighbouring values (ulp) against magnitude, on log-log axes.

    For each positive value `v` of a format, the curve shows the gap from `v` to the next larger value, as a
    step curve with one line per format. Both axes are logarithmic with base 2.

    Parameters
    ----------
    formats : str, FloatFormat, IntFormat, or iterable of formats
        The formats to draw, one line each, labelled with the format's name. Formats of at most 16 bits are
        enumerated exactly; wider ones are sampled at 2048 log-spaced magnitudes with directed-rounding casts.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on. Default: a new figure with one Axes.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on (the figure of `ax` when given).

    Raises
    ------
    ValueError
        For an empty `formats` or an unknown format name.

    Examples
    --------
    >>> fig = spacing(["float8_e4m3fn", "float8_e5m2", "bfloat16"])
    >>> ax = fig.axes[0]
    >>> [line.get_label() for line in ax.get_lines()]
    ['float8_e4m3fn', 'float8_e5m2', 'bfloat16']
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('magnitude |x|', 'spacing to next value (ulp)')
    """
    fmts = _formats(formats)
    fig, ax = _figure_axes(ax, figsize=(7, 5))
    for f in fmts:
        mag, ulp = _spacing_of(f)
        if mag.size:
            ax.step(mag, ulp, where="post", label=_name(f))
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_xlabel("magnitude |x|")
    ax.set_ylabel("spacing to next value (ulp)")
    ax.set_title("value spacing")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    return fig


def binade_histogram(fmt, *, ax=None):
    """Number of finite nonzero values (both signs) in each binade `[2**e, 2**(e+1))`.

    A *binade* holds the values whose magnitude lies in `[2**e, 2**(e+1))`; there is one bar per exponent `e`.
    Subnormals (values below `smallest_normal`) get their own bar, labelled `"sub"`. Zeros are not counted;
    each other value counts once per sign.

    Parameters
    ----------
    fmt : str, FloatFormat, IntFormat or numpy.dtype
        A format of at most 16 bits, or its name or dtype.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on. Default: a new figure with one Axes.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on (the figure of `ax` when given).

    Raises
    ------
    ValueError
        For a format wider than 16 bits or an unknown format name.

    Examples
    --------
    >>> ax = binade_histogram("float4_e2m1fn").axes[0]
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['sub', '0', '1', '2']
    >>> [int(bar.get_height()) for bar in ax.patches]
    [2, 4, 4, 4]
    """
    fmt = get_format(fmt)
    values = _all_values(fmt)  # unique: one entry per value, so +x and -x count twice, 0 (and -0) not at all
    vals = np.abs(values[values != 0])
    sub = np.zeros(vals.shape, bool)
    if fmt.kind == "float" and fmt.subnormals:
        sub = vals < fmt.smallest_normal
    _, e = np.frexp(vals[~sub])
    exps, counts = np.unique(e.astype(np.int64) - 1, return_counts=True)
    labels = [str(int(x)) for x in exps]
    heights = list(counts)
    colors = ["C0"] * len(heights)
    if sub.any():
        labels.insert(0, "sub")
        heights.insert(0, int(sub.sum()))
        colors.insert(0, "C1")
    fig, ax = _figure_axes(ax, figsize=(max(6.0, 0.25 * len(labels) + 2), 4))
    pos = np.arange(len(labels))
    ax.bar(pos, heights, color=colors)
    step = max(1, len(labels) // 24)
    ax.set_xticks(pos[::step], labels[::step])
    ax.set_xlabel("binade exponent e (|x| in [2^e, 2^(e+1)))")
    ax.set_ylabel("number of values")
    ax.set_title(f"{_name(fmt)}: values per binade")
    return fig


def cast_error(sample, formats, *, ax=None):
    """Histogram of the `log10` relative error when casting `sample` to each format.

    Casts use round-to-nearest-even with `overflow="saturate"`. The relative error of an entry `x` is
    `|cast(x) - x| / |x|`. Exactly representable entries (error 0) have no logarithm; the legend gives their
    share and the median relative error. All formats share the same 60 bins.

    Parameters
    ----------
    sample : array_like of float
        Values to cast, any shape; non-finite and zero entries are ignored.
    formats : str, FloatFormat, IntFormat, or iterable of formats
        The formats to compare, one outline histogram each.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on. Default: a new figure with one Axes.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on (the figure of `ax` when given).

    Raises
    ------
    ValueError
        For a sample with no finite nonzero value, an empty `formats`, or an unknown format name.

    Examples
    --------
    >>> fig = cast_error([0.1, 0.2, 0.3, 1.0], ["float8_e4m3fn", "float8_e5m2"])
    >>> ax = fig.axes[0]
    >>> ax.get_title()
    'cast error over 4 values'
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['float8_e4m3fn (median 0.016, exact 25%)', 'float8_e5m2 (median 0.052, exact 25%)']
    """
    x = np.asarray(sample, dtype=np.float64).ravel()
    x = x[np.isfinite(x) & (x != 0)]
    if x.size == 0:
        raise ValueError("sample has no finite nonzero values")
    fmts = _formats(formats)
    errs = []
    for f in fmts:
        y = cast(x, f, overflow="saturate", dtype=np.float64)
        errs.append(np.abs(y - x) / np.abs(x))
    fig, ax = _figure_axes(ax, figsize=(7, 4.5))
    pos = [np.log10(r[r > 0]) for r in errs]
    nonempty = [p for p in pos if p.size]
    if nonempty:
        lo = min(p.min() for p in nonempty)
        hi = max(p.max() for p in nonempty)
        bins = np.linspace(lo, hi if hi > lo else lo + 1, 61)
    else:
        bins = 60
    for f, r, p in zip(fmts, errs, pos, strict=True):
        exact = np.mean(r == 0)
        label = f"{_name(f)} (median {np.median(r):.2g}, exact {exact:.0%})"
        if p.size:
            ax.hist(p, bins=bins, histtype="step", linewidth=1.4, label=label)
        else:
            ax.plot([], [], label=label)
    ax.set_xlabel("log10 relative error |cast(x) - x| / |x|")
    ax.set_ylabel("count")
    ax.set_title(f"cast error over {x.size} values")
    ax.legend(fontsize="small")
    return fig


def rounding_modes(fmt, lo, hi, *, n=1000, modes=_DETERMINISTIC, ax=None):
    """`cast(x, fmt)` over `linspace(lo, hi, n)` under each rounding mode, as step curves.

    The plot shows the identity `x` as a dashed grey line, then one step curve per mode, labelled with the
    mode's name. Casts use `overflow="saturate"`, so inputs beyond the range plot at the largest finite value.

    Parameters
    ----------
    fmt : str, FloatFormat, IntFormat or numpy.dtype
        The format, or its name or dtype.
    lo : float
        Smallest input, finite.
    hi : float
        Largest input, finite, `hi > lo`.
    n : int, default 1000
        Number of evenly spaced inputs, at least 2.
    modes : str, Rounding, or sequence of these, optional
        Deterministic rounding modes (names such as `"nearest_even"`, or `floatsim.Rounding` members).
        Default: all six, in the order of `floatsim.analysis.DETERMINISTIC_MODES`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on. Default: a new figure with one Axes.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on (the figure of `ax` when given).

    Raises
    ------
    ValueError
        For `lo >= hi` or a non-finite bound, an `n` that is not an integer of at least 2, an empty `modes`, an
        unknown or stochastic mode, or an unknown format name.

    Examples
    --------
    >>> ax = rounding_modes("float4_e2m1fn", -3, 3).axes[0]
    >>> [line.get_label() for line in ax.get_lines()]
    ['x', 'nearest_even', 'nearest_away', 'toward_zero', 'toward_positive', 'toward_negative', 'odd']

    The ties at 0.25 and 0.75 (halfway between two values of `float4_e2m1fn`): nearest-even picks the value
    with an even last bit, toward-zero the smaller one.

    >>> ax = rounding_modes("float4_e2m1fn", 0, 1, n=5, modes=["nearest_even", "toward_zero"]).axes[0]
    >>> [line.get_ydata().tolist() for line in ax.get_lines()[1:]]
    [[0.0, 0.0, 0.5, 1.0, 1.0], [0.0, 0.0, 0.5, 0.5, 1.0]]
    """
    fmt = get_format(fmt)
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"lo={lo!r}, hi={hi!r} is invalid: need finite lo < hi")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n={n!r} is invalid: it must be an integer >= 2")
    if isinstance(modes, (str, Rounding)):
        modes = [modes]
    parsed = [Rounding.parse(m, "modes") for m in modes]
    if not parsed:
        raise ValueError("modes is empty: give at least one rounding mode")
    for m in parsed:
        if m.is_stochastic:
            raise ValueError(f"modes: {m.name.lower()} is stochastic; only deterministic modes can be plotted")
    x = np.linspace(lo, hi, int(n))
    fig, ax = _figure_axes(ax, figsize=(7, 5))
    ax.plot(x, x, color="0.6", linestyle="--", linewidth=0.8, label="x")
    for m in parsed:
        y = cast(x, fmt, rounding=m, overflow="saturate", dtype=np.float64)
        ax.plot(x, y, drawstyle="steps-post", linewidth=1.2, label=m.name.lower())
    ax.set_xlabel("x")
    ax.set_ylabel(f"cast(x, {_name(fmt)})")
    ax.set_title(f"rounding modes, {_name(fmt)}")
    ax.legend(fontsize="small")
    return fig


def quantization_report(rows, *, ax=None):
    """SQNR of each scheme of a `floatsim.quant.metrics.report`, labelled with its bits per value.

    One horizontal bar per row, the first row at the top, with the row's bits per value written at the end of
    its bar. SQNR (signal-to-quantization-noise ratio, in dB) is higher for a more accurate scheme.

    Parameters
    ----------
    rows : list of dict
        Rows as returned by `floatsim.quant.metrics.report`. Each row needs the keys `"scheme"` (the label),
        `"sqnr_db"` and `"bits_per_value"`; other keys are ignored.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on. Default: a new figure with one Axes.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on. Unlike the other functions of this module it returns the Axes, not the figure: save
        it with `quantization_report(rows).figure.savefig("report.png")`.

    Raises
    ------
    KeyError
        For a row without one of the three keys.

    Examples
    --------
    >>> rows = [{"scheme": "int8", "bits_per_value": 8.125, "sqnr_db": 39.6},
    ...         {"scheme": "int4 g32", "bits_per_value": 5.0, "sqnr_db": 20.3}]
    >>> quantization_report(rows).get_xlabel()
    'SQNR (dB, higher is better)'
    >>> ax = quantization_report(rows)
    >>> [t.get_text() for t in ax.get_yticklabels()], [t.get_text() for t in ax.texts]
    (['int8', 'int4 g32'], [' 8.12 bits/value', ' 5 bits/value'])
    """
    fig, ax = _figure_axes(ax, figsize=(6, 0.5 + 0.4 * max(1, len(rows))))
    names = [r["scheme"] for r in rows]
    ax.barh(names, [r["sqnr_db"] for r in rows], color="tab:blue")
    for i, r in enumerate(rows):
        ax.text(r["sqnr_db"], i, f" {r['bits_per_value']:.3g} bits/value", va="center", fontsize=8)
    ax.set_xlabel("SQNR (dB, higher is better)")
    ax.invert_yaxis()
    ax.set_title("Quantization error by scheme")
    return ax
