"""Plots of number formats: value positions, spacing, binades, cast error, rounding.

Needs matplotlib (``pip install 'floatsim[plot]'``), imported only when a
function is called, never by ``import floatsim.plotting``. Every function draws
on ``ax`` when given, else on a new :class:`matplotlib.figure.Figure` (no
pyplot, no global state), and returns the figure::

    fig = number_line("float8_e4m3fn", scale="symlog")
    fig.savefig("e4m3fn.png")
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
    """Every finite value of ``fmt`` as a tick on the real line.

    Parameters
    ----------
    fmt : str, FloatFormat or IntFormat
        A format of at most 16 bits.
    scale : {"linear", "symlog"}
        ``"symlog"`` is logarithmic in both directions, linear below the
        smallest positive value, so that every binade gets the same width.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        For an unknown ``scale`` or a format wider than 16 bits.
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
    """Distance between neighbouring values (ulp) against magnitude, log-log.

    Parameters
    ----------
    formats : format or sequence of formats
        Formats of at most 16 bits are enumerated exactly; wider ones are
        sampled at 2048 log-spaced magnitudes with directed-rounding casts.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
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
    """Number of finite nonzero values (both signs) in each binade ``[2**e, 2**(e+1))``.

    Subnormals (values below ``smallest_normal``) get their own bar, labelled
    ``"sub"``.

    Parameters
    ----------
    fmt : str, FloatFormat or IntFormat
        A format of at most 16 bits.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
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
    """Histogram of ``log10`` relative error when casting ``sample`` to each format.

    Casts use round-to-nearest-even with ``overflow="saturate"``. Exactly
    representable entries (error 0) have no logarithm; the legend gives their
    share and the median relative error.

    Parameters
    ----------
    sample : array_like of float
        Values to cast; non-finite and zero entries are ignored.
    formats : format or sequence of formats
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
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
    """``cast(x, fmt)`` over ``linspace(lo, hi, n)`` under each rounding mode, as step curves.

    Parameters
    ----------
    fmt : str, FloatFormat or IntFormat
    lo, hi : float
        Range of inputs, ``lo < hi``.
    n : int
        Number of points (>= 2).
    modes : sequence of str or Rounding
        Deterministic rounding modes (stochastic ones are rejected).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
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
    """SQNR of each scheme of a :func:`floatsim.quant.metrics.report`, labelled with its bits per value.

    Examples
    --------
    >>> rows = [{"scheme": "int8", "bits_per_value": 8.125, "sqnr_db": 39.6},
    ...         {"scheme": "int4 g32", "bits_per_value": 5.0, "sqnr_db": 20.3}]
    >>> quantization_report(rows).get_xlabel()
    'SQNR (dB, higher is better)'
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
