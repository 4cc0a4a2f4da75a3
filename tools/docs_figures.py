"""The figures of the hand-written documentation pages.

Each ``figure_<name>()`` takes no arguments and returns a :class:`matplotlib.figure.Figure`; the docs
build (``tools/docs_site.py``) saves it as ``figures/<name>.png`` at the site root. Every number drawn
comes from floatsim itself (casts, codes, value tables), so a figure cannot disagree with the code.

Check one by hand::

    python -c "import sys; sys.path.insert(0, 'tools'); import docs_figures as d; d.figure_rounding_modes().savefig('/tmp/fig.png')"
"""

from __future__ import annotations

import numpy as np

import floatsim as fs
from floatsim import analysis

_E4M3 = "float8_e4m3fn"
_DETERMINISTIC = ("nearest_even", "nearest_away", "toward_zero", "toward_positive", "toward_negative", "odd")
_FIELD_COLORS = {"sign": "#e45756", "exponent": "#4c78a8", "mantissa": "#54a24b"}


def _figure(**kw):
    from matplotlib.figure import Figure

    return Figure(**kw)


# -- rounding ---------------------------------------------------------------------------------------


def _interval_panel(ax, lo, hi, fractions, *, show_labels):
    """One panel of :func:`figure_rounding_modes`: the inputs between ``lo`` and ``hi`` and where each mode sends them."""
    fmt = fs.get_format(_E4M3)
    width = hi - lo
    xs = np.array([lo + f * width for f in fractions])
    modes = list(_DETERMINISTIC) + ["stochastic"]
    offsets = np.linspace(-0.25, 0.25, len(xs))
    colors = ["C0", "C1", "C2"]
    for row, mode in enumerate(modes):
        y0 = len(modes) - 1 - row
        ax.axhspan(y0 - 0.45, y0 + 0.45, color="0.96" if row % 2 else "white", zorder=0)
        for x, dy, color in zip(xs, offsets, colors, strict=True):
            y = y0 + dy
            ax.plot([x], [y], "o", color=color, markersize=5, zorder=3)
            if mode == "stochastic":
                p_up = analysis.explain(x, fmt)["p_round_up"]  # probability of the larger neighbour
                for target, p in ((max(lo, hi), p_up), (min(lo, hi), 1 - p_up)):
                    ax.annotate("", xy=(target, y), xytext=(x, y),
                                arrowprops=dict(arrowstyle="-|>", color=color, lw=0.6 + 2.4 * p, alpha=0.25 + 0.75 * p,
                                                shrinkA=3, shrinkB=0))
                    ax.text((x + target) / 2, y + 0.03, f"p = {p:.1f}", ha="center", va="bottom", fontsize=6.5,
                            color=color)
            else:
                target = float(fs.cast(np.float64(x), fmt, rounding=mode, dtype=np.float64))
                ax.annotate("", xy=(target, y), xytext=(x, y),
                            arrowprops=dict(arrowstyle="-|>", color=color, lw=1.6, shrinkA=3, shrinkB=0))
    for v in (lo, hi):
        code = int(fs.encode(np.float64(v), fmt))
        parity = "even" if code % 2 == 0 else "odd"
        ax.axvline(v, color="0.25", lw=1.5, zorder=1)
        ax.text(v, len(modes) - 0.35, f"{v:g}\ncode 0x{code:02x} ({parity})", ha="center", va="bottom", fontsize=8,
                bbox=dict(facecolor="white", edgecolor="none", pad=1))
    ax.axvline((lo + hi) / 2, color="0.6", lw=0.8, ls=":", zorder=1)
    ax.set_ylim(-0.6, len(modes) + 0.5)
    ax.set_xlim(min(lo, hi) - 0.12 * abs(width), max(lo, hi) + 0.12 * abs(width))
    if show_labels:
        ax.set_yticks(range(len(modes)))
        ax.set_yticklabels(list(reversed(modes)))
    ax.tick_params(axis="y", length=0, labelleft=show_labels)
    ax.set_xticks([lo + f * width for f in fractions])
    ax.set_xticklabels([f"{lo + f * width:g}" for f in fractions], fontsize=8)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def figure_rounding_modes():
    """Where each rounding mode sends three inputs that lie between two neighbouring FP8 E4M3 values.

    The inputs sit at 20 %, 50 % (a tie) and 80 % of the gap; the right panel mirrors the left one below zero,
    where the directed modes differ. Stochastic rounding goes to either neighbour, with the printed probability.
    """
    fig = _figure(figsize=(10, 5.2), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    fractions = (0.2, 0.5, 0.8)
    _interval_panel(left, 1.0, 1.125, fractions, show_labels=True)
    _interval_panel(right, -1.0, -1.125, fractions, show_labels=False)
    left.set_xlabel("input x (positive)")
    right.set_xlabel("input x (negative)")
    fig.suptitle("Rounding modes: where x goes between two neighbouring float8_e4m3fn values", fontsize=11)
    return fig


def figure_rounding_staircase():
    """``cast(x)`` against ``x`` for FP4 E2M1 under four rounding modes (``floatsim.plotting.rounding_modes``)."""
    from floatsim import plotting

    fig = _figure(figsize=(9, 6.4), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True, sharey=True)
    for ax, mode in zip(axes.flat, ("nearest_even", "toward_zero", "toward_positive", "toward_negative"), strict=True):
        plotting.rounding_modes("float4_e2m1fn", -3.5, 3.5, n=1401, modes=[mode], ax=ax)
        ax.set_title(mode, fontsize=10)
        ax.legend().remove()
        ax.grid(True, alpha=0.3)
        ax.set_xlabel("")
        ax.set_ylabel("")
    fig.supxlabel("x")
    fig.supylabel("cast(x, float4_e2m1fn)")
    fig.suptitle("The same inputs under four rounding modes (dashed: y = x)", fontsize=11)
    return fig


def _sr_probabilities(mode, sr_bits, nus):
    """Exact probability of rounding up, per ``nu``, by trying every random integer ``R`` in ``[0, 2**sr_bits)``."""
    lo, hi = 1.0, 1.125  # neighbouring float8_e4m3fn values, 2**-3 apart
    n = 1 << sr_bits
    x = lo + nus * (hi - lo)  # exact in float64: nu has few bits
    xs = np.repeat(x, n)
    rbits = np.tile(np.arange(n, dtype=np.uint64), x.size)
    y = fs.cast(xs, _E4M3, rounding=mode, sr_bits=sr_bits, random_bits=rbits, dtype=np.float64)
    return (y.reshape(x.size, n) == hi).mean(axis=1)


def figure_stochastic_variants():
    """Probability of rounding up against the position ``nu`` of ``x`` between its neighbours, for the
    stochastic modes with N = 2 random bits (exact: every random integer is tried)."""
    fig = _figure(figsize=(9, 4.2), layout="constrained")
    ax_p, ax_b = fig.subplots(1, 2)
    nus = np.arange(0, 257) / 256
    ax_p.plot(nus, nus, color="0.5", ls="--", lw=1, label="ideal: P(up) = nu")
    for mode, color, ls in (("stochastic_a", "C0", "-"), ("stochastic_b", "C1", "--"), ("stochastic_c", "C2", ":")):
        p = _sr_probabilities(mode, 2, nus)
        ax_p.step(nus, p, where="post", color=color, ls=ls, lw=1.6, label=f"{mode}, sr_bits=2")
        ax_b.step(nus, p - nus, where="post", color=color, ls=ls, lw=1.6, label=mode)
    ax_b.axhline(0, color="0.5", ls="--", lw=1)
    ax_p.set_xlabel("nu = (x - lo) / (hi - lo)")
    ax_p.set_ylabel("P(round up to hi)")
    ax_p.set_title("probability of rounding up")
    ax_p.legend(fontsize=8)
    ax_b.set_xlabel("nu")
    ax_b.set_ylabel("P(up) - nu   (bias, in units of hi - lo)")
    ax_b.set_title("bias with N = 2 random bits")
    ax_b.legend(fontsize=8)
    for ax in (ax_p, ax_b):
        ax.grid(True, alpha=0.3)
    return fig


def figure_stochastic_sum():
    """Adding 1e-4 to a float16 accumulator 10,000 times: round-to-nearest stalls, stochastic rounding follows
    the exact sum. Each step rounds the exact sum (a float64: two float16 values add exactly) once with
    ``floatsim.cast``, which is what ``floatsim.arith.add`` computes."""
    steps, trials = 10_000, 8
    inc = float(fs.cast(np.float64(1e-4), "float16", dtype=np.float64))
    acc_rn = np.zeros(1)
    acc_sr = np.zeros(trials)
    step_x = np.arange(1, steps + 1)
    hist_rn = np.empty(steps)
    hist_sr = np.empty((steps, trials))
    for i in range(steps):
        acc_rn = fs.cast(acc_rn + inc, "float16", dtype=np.float64)
        acc_sr = fs.cast(acc_sr + inc, "float16", rounding="stochastic", seed=0, index_offset=i * trials,
                         dtype=np.float64)
        hist_rn[i] = acc_rn[0]
        hist_sr[i] = acc_sr
    fig = _figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.plot(step_x, step_x * inc, color="0.3", ls="--", lw=1.2, label="exact sum")
    ax.plot(step_x, hist_rn, color="C3", lw=1.6, label="float16, nearest_even")
    for j in range(trials):
        ax.plot(step_x, hist_sr[:, j], color="C0", lw=0.7, alpha=0.6, label="float16, stochastic (8 runs)" if j == 0 else None)
    ax.set_xlabel("number of additions of 1e-4")
    ax.set_ylabel("accumulator")
    ax.set_title("Summing 1e-4 in float16")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    return fig


# -- the layout of a float --------------------------------------------------------------------------


def _draw_code(ax, y, code, fmt, label):
    """One row of boxes, one per bit of ``code`` in ``fmt``, coloured by field, with the decoding under it."""
    row = analysis.value_table(fmt, codes=[code])[0]
    f = fs.get_format(fmt)
    bits = format(code, f"0{f.bits}b")
    fields = (["sign"] if f.signed else []) + ["exponent"] * f.exponent_bits + ["mantissa"] * f.mantissa_bits
    for i, (bit, field) in enumerate(zip(bits, fields, strict=True)):
        ax.add_patch(_rect((i, y), 1, 1, _FIELD_COLORS[field]))
        ax.text(i + 0.5, y + 0.5, bit, ha="center", va="center", fontsize=15, family="monospace", color="white",
                weight="bold")
        ax.text(i + 0.5, y + 1.08, str(f.bits - 1 - i), ha="center", va="bottom", fontsize=7, color="0.4")
    start = 0
    for field, n in (("sign", int(f.signed)), ("exponent", f.exponent_bits), ("mantissa", f.mantissa_bits)):
        if n:
            ax.text(start + n / 2, y - 0.12, field, ha="center", va="top", fontsize=9, color=_FIELD_COLORS[field])
        start += n
    s, e, m = row["sign"], row["exponent_field"], row["mantissa_field"]
    if row["cls"] == "normal":
        formula = (rf"$(-1)^{{{s}}} \times 2^{{{e} - {f.bias}}} \times (1 + {m}/{1 << f.mantissa_bits})"
                   rf" = {row['fraction']} = {row['value']!r}$")
    else:
        formula = (rf"$(-1)^{{{s}}} \times 2^{{{f.emin}}} \times ({m}/{1 << f.mantissa_bits})"
                   rf" = {row['fraction']} = {row['value']!r}$  (subnormal)")
    ax.text(f.bits + 0.6, y + 0.72, f"{label}: code 0x{code:02x}", ha="left", va="center", fontsize=10)
    ax.text(f.bits + 0.6, y + 0.25, formula, ha="left", va="center", fontsize=11)


def _rect(xy, w, h, color):
    from matplotlib.patches import Rectangle

    return Rectangle(xy, w, h, facecolor=color, edgecolor="white", linewidth=2)


def figure_bit_fields():
    """The bit fields of FP8 E4M3 (OCP ``float8_e4m3fn``) and E5M2: the code of 0.1 rounded into each,
    and a subnormal, with the formula that gives the value."""
    fig = _figure(figsize=(10, 4.6), layout="constrained")
    ax = fig.subplots()
    c1 = int(fs.encode(np.float64(0.1), "float8_e4m3fn"))
    c2 = int(fs.encode(np.float64(0.1), "float8_e5m2"))
    c3 = int(fs.encode(np.float64(-3 * 2.0**-9), "float8_e4m3fn"))
    _draw_code(ax, 4.2, c1, "float8_e4m3fn", "0.1 in float8_e4m3fn (E4M3, bias 7)")
    _draw_code(ax, 2.1, c2, "float8_e5m2", "0.1 in float8_e5m2 (E5M2, bias 15)")
    _draw_code(ax, 0.0, c3, "float8_e4m3fn", "a subnormal of float8_e4m3fn")
    ax.set_xlim(-0.2, 19)
    ax.set_ylim(-0.6, 5.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("Sign, exponent and mantissa fields of 8-bit floats", fontsize=11)
    return fig


# -- spacing and density ----------------------------------------------------------------------------


def figure_spacing():
    """Top: every positive finite value of FP8 E4M3 on a linear axis (dense near zero). Bottom: the spacing
    between neighbouring values against magnitude for several formats (``floatsim.plotting.spacing``)."""
    from floatsim import plotting

    fig = _figure(figsize=(9, 7.2), layout="constrained")
    top, bottom = fig.subplots(2, 1, height_ratios=[1, 2.6])
    f = fs.get_format(_E4M3)
    values = fs.decode(np.arange(f.num_codes), f, dtype=np.float64)
    values = np.unique(values[np.isfinite(values) & (values >= 0)])
    sub = values < f.smallest_normal
    top.vlines(values[~sub], 0, 1, color="C0", lw=0.8, label="normal")
    top.vlines(values[sub], 0, 1, color="C1", lw=0.8, label="subnormal and zero")
    top.set_yticks([])
    top.set_xlim(-5, 455)
    top.set_xlabel("value")
    top.set_title(f"the {values.size} non-negative values of float8_e4m3fn: {int((values < 2).sum())} of them lie "
                  "below 2", fontsize=10)
    top.legend(fontsize=8, loc="upper right")
    plotting.spacing(["float4_e2m1fn", "float8_e4m3fn", "float8_e5m2", "float16"], ax=bottom)
    bottom.set_title("spacing between neighbouring values: constant in the subnormals, doubling every binade",
                     fontsize=10)
    return fig


def figure_subnormals():
    """The values of a small format near zero with and without subnormals (gradual underflow)."""
    fig = _figure(figsize=(9, 3.4), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    with_sub = fs.FloatFormat(exponent_bits=3, mantissa_bits=2, specials="none", name="E3M2 with subnormals")
    without = with_sub.replace(subnormals=False, name="E3M2 without subnormals")
    for ax, fmt in zip(axes, (with_sub, without), strict=True):
        v = fs.decode(np.arange(fmt.num_codes), fmt, dtype=np.float64)
        v = np.unique(v[np.isfinite(v)])
        v = v[np.abs(v) <= 1.0]
        sub = (v != 0) & (np.abs(v) < fmt.smallest_normal)
        ax.vlines(v[~sub], -1, 1, color="C0", lw=1.2)
        ax.vlines(v[sub], -1, 1, color="C1", lw=1.2)
        ax.axvspan(-fmt.smallest_normal, fmt.smallest_normal, color="C1", alpha=0.08)
        ax.set_yticks([])
        ax.set_ylim(-1.4, 1.4)
        ax.set_title(f"{fmt.name}: {int(sub.sum())} subnormal values (orange) between ±{fmt.smallest_normal:g}",
                     fontsize=9)
    axes[1].set_xlabel("value (|x| <= 1)")
    return fig


def figure_format_naming():
    """The catalogue's 8-bit float variants side by side: where each puts NaN, infinity and -0."""
    fig = _figure(figsize=(9.5, 3.6), layout="constrained")
    ax = fig.subplots()
    names = ["float8_e5m2", "float8_e4m3", "float8_e4m3fn", "float8_e4m3fnuz", "binary8p4se", "float8_e8m0fnu"]
    for i, name in enumerate(names):
        f = fs.get_format(name)
        y = len(names) - 1 - i
        values = fs.decode(np.arange(f.num_codes), f, dtype=np.float64)
        cls = np.where(np.isnan(values), 2, np.where(np.isinf(values), 1, 0))
        neg_zero = np.array([v == 0 and np.signbit(v) for v in values])
        colors = np.array(["#c9d7e8", "#f58518", "#e45756"], dtype=object)[cls]
        colors[neg_zero] = "#72b7b2"
        ax.bar(np.arange(f.num_codes), 0.8, bottom=y - 0.4, width=1.0, color=list(colors), linewidth=0)
        ax.text(-4, y, name, ha="right", va="center", fontsize=9, family="monospace")
    ax.set_xlim(-90, 258)
    ax.set_ylim(-0.6, len(names) - 0.4)
    ax.set_yticks([])
    ax.set_xticks([0, 64, 128, 192, 255])
    ax.set_xlabel("code (0x00 ... 0xff)")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color="#c9d7e8", label="finite number"), Patch(color="#72b7b2", label="-0"),
                       Patch(color="#f58518", label="±inf"), Patch(color="#e45756", label="NaN")],
              loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=4, fontsize=8, frameon=False)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title("The 256 codes of six 8-bit formats: where the special values live", fontsize=10)
    return fig
