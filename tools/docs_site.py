"""The generated parts of the documentation site: an MkDocs hook, also used by the tests.

``mkdocs build`` (``mkdocs.yml`` names this file under ``hooks:``) adds three kinds of pages that are
made from the code at build time, so they cannot drift from it:

- ``reference/formats.md``: every format of the catalogue, its constants, binades and (for formats of
  8 bits or fewer) every code, all computed by ``floatsim.analysis``;
- ``figures/<name>.png``: each ``figure_<name>()`` of ``tools/docs_figures.py``, rendered with matplotlib;
- ``notebooks/<name>.ipynb``: the notebooks of ``notebooks/`` (stored without outputs), executed in a
  fresh kernel. An executed copy is kept in ``build/notebooks/`` with the SHA-256 of everything it depends
  on (the notebook, floatsim's sources, the Python and library versions); the test suite executes the
  notebooks through :func:`executed_notebook` too, so a docs build after the tests reuses those runs.

Nothing is written into ``docs/``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import logging
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
BUILD = ROOT / "build"
EXECUTED = BUILD / "notebooks"
FIGURES_MODULE = ROOT / "tools" / "docs_figures.py"
NOTEBOOK_TIMEOUT_S = 600  # per cell; a notebook should take well under a minute

log = logging.getLogger("mkdocs.hooks.docs_site")


# -- notebooks --------------------------------------------------------------------------------


def notebook_paths() -> list[Path]:
    """The notebooks of the site, in reading order (``notebooks/NN-*.ipynb``)."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def _dependency_digest(path: Path) -> str:
    from importlib import metadata

    h = hashlib.sha256()
    h.update(path.read_bytes())
    for source in sorted((ROOT / "floatsim").rglob("*.py")):
        h.update(source.relative_to(ROOT).as_posix().encode())
        h.update(source.read_bytes())
    h.update(sys.version.encode())
    for dist in ("numpy", "numba", "ml_dtypes", "matplotlib", "scikit-learn"):
        try:
            h.update(f"{dist} {metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{dist} missing".encode())
    return h.hexdigest()


def execute_notebook(path: Path):
    """Run every cell of ``path`` in a fresh ``python3`` kernel (working directory: the notebook's folder).

    Returns ``(notebook, seconds)``; raises ``nbclient.exceptions.CellExecutionError`` naming the failing
    cell on any error.
    """
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = nbclient.NotebookClient(
        nb, timeout=NOTEBOOK_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    # the kernel imports floatsim from this checkout, as pytest does (pythonpath = ["."]): a folder of stale Numba
    # cache files left in site-packages by an earlier `pip install .` would otherwise shadow the editable install
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *([previous] if previous else [])])
    try:
        client.execute()
    finally:
        if previous is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = previous
    return nb, time.perf_counter() - start


def executed_notebook(path: Path) -> tuple[Path, float | None]:
    """The executed copy of ``path`` in ``build/notebooks/``, running it only when it is missing or stale.

    Returns ``(executed_path, seconds)``; ``seconds`` is None when the cached copy was current.
    """
    import nbformat

    EXECUTED.mkdir(parents=True, exist_ok=True)
    target = EXECUTED / path.name
    stamp = target.with_suffix(".sha256")
    digest = _dependency_digest(path)
    if target.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return target, None
    nb, seconds = execute_notebook(path)
    nbformat.write(nb, target)
    stamp.write_text(digest + "\n")
    return target, seconds


# -- the formats reference ----------------------------------------------------------------------


def _num(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        if x == 0 or not math.isfinite(x):
            return repr(x)
        m, e = math.frexp(x)
        if m == 0.5 and abs(e - 1) > 6:
            return f"2^{e - 1}"
        if x == int(x) and abs(x) < 2**53:
            return str(int(x))
        return repr(x)  # shortest string that reads back as exactly this float
    return str(x)


def _code_value(row) -> str:
    fraction = row["fraction"]
    return fraction if fraction and len(fraction) <= 16 else _num(row["value"])


def formats_reference_markdown() -> str:
    """``reference/formats.md``: the catalogue, rendered by ``floatsim.analysis`` from the descriptors."""
    import floatsim as fs
    from floatsim import analysis
    from floatsim.format import IntFormat
    from floatsim.formats import aliases

    names = fs.list_formats()
    alias = aliases()
    out = io.StringIO()
    w = out.write
    w("# Formats reference\n\n")
    w(
        "<!-- generated at build time by tools/docs_site.py from floatsim's catalogue; do not edit -->\n\n"
        "Every named format of floatsim, with the constants derived from its descriptor and, for formats of "
        "8 bits or fewer, every code. This page is generated when the site is built, by `floatsim.analysis` "
        "from the same `FloatFormat` objects the kernels use, so it cannot drift from the code. "
        "The terms are defined in [Concepts](../concepts.md); the conventions in [Formats](../formats.md).\n\n"
    )
    floats = [n for n in names if not isinstance(fs.get_format(n), IntFormat)]
    ints = [n for n in names if isinstance(fs.get_format(n), IntFormat)]
    rows = {r["name"]: r for r in analysis.compare(floats)}
    w("## Overview\n\n")
    w("| format | bits | layout | bias | max | smallest normal | smallest subnormal | eps | finite values | decimal digits |\n")
    w("|---|---|---|---|---|---|---|---|---|---|\n")
    for n in floats:
        f, r = fs.get_format(n), rows[n]
        sub = _num(f.smallest_subnormal) if f.subnormals and f.mantissa_bits and f.has_zero else "-"
        w(
            f"| [`{n}`](#{n}) | {f.bits} | E{f.exponent_bits}M{f.mantissa_bits}{'' if f.signed else ' (unsigned)'} "
            f"| {f.bias} | {_num(f.max)} | {_num(f.smallest_normal)} | {sub} | {_num(f.eps)} "
            f"| {r['finite_values']} | {r['decimal_digits']:.2f} |\n"
        )
    w("\nIntegers: " + ", ".join(f"`{n}` ({_num(fs.get_format(n).min)} … {_num(fs.get_format(n).max)})" for n in ints))
    w(".\n\n")
    for n in floats:
        f, r = fs.get_format(n), rows[n]
        w(f"## `{n}` {{#{n}}}\n\n")
        if alias.get(n):
            w("Aliases: " + ", ".join(f"`{a}`" for a in alias[n]) + ".\n\n")
        w("| property | value |\n|---|---|\n")
        w(f"| layout | {'sign, ' if f.signed else 'unsigned, '}{f.exponent_bits} exponent bits, {f.mantissa_bits} mantissa bits |\n")
        w(f"| bias | {f.bias} |\n| specials convention | `{f.specials.value}` |\n")
        w(f"| NaN | {r['nan']} |\n| infinities | {r['inf']} |\n| negative zero | {r['negative_zero']} |\n")
        w(f"| subnormals | {'yes' if f.subnormals and f.mantissa_bits else 'no'} |\n")
        w(f"| max | {_num(f.max)} |\n| smallest normal | {_num(f.smallest_normal)} |\n")
        w(f"| eps (spacing above 1) | {_num(f.eps)} |\n")
        w(f"| finite values / NaN codes | {r['finite_values']} / {r['nan_codes']} |\n")
        w(f"| dynamic range | {r['binades']:.1f} binades ({r['dynamic_range_db']:.0f} dB) |\n\n")
        bins = analysis.binades(n)
        shown = bins if len(bins) <= 12 else bins[:4] + [None] + bins[-4:]
        w("| binade | from | to | values | spacing |\n|---|---|---|---|---|\n")
        for b in shown:
            if b is None:
                w(f"| … | | | ({len(bins) - 8} more binades) | |\n")
                continue
            label = "subnormal" if b["kind"] == "subnormal" else f"2^{b['exponent']}"
            w(f"| {label} | {_num(b['lo'])} | {_num(b['hi'])} | {b['count']} | {_num(b['spacing'])} |\n")
        w("\n")
        if f.bits <= 8:
            table = analysis.value_table(n)
            w(f'??? note "All {len(table)} codes of {n}"\n\n')
            w("    | code | bits | class | value |\n    |---|---|---|---|\n")
            for t in table:
                w(f"    | 0x{t['code']:02x} | `{t['bits']}` | {t['cls']} | {_code_value(t)} |\n")
            w("\n")
    return out.getvalue()


# -- figures ----------------------------------------------------------------------------------------


def figure_functions() -> dict:
    """``{name: figure_<name>}`` from ``tools/docs_figures.py``."""
    if not FIGURES_MODULE.exists():
        return {}
    spec = importlib.util.spec_from_file_location("floatsim_docs_figures", FIGURES_MODULE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {n[len("figure_"):]: getattr(module, n) for n in sorted(dir(module)) if n.startswith("figure_")}


def render_figures() -> dict[str, bytes]:
    """Every figure as PNG bytes, ``{name: png}`` (the Agg backend; nothing is shown)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pngs = {}
    for name, make in figure_functions().items():
        fig = make()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        pngs[name] = buf.getvalue()
    return pngs


# -- the MkDocs hook -------------------------------------------------------------------------------


def _generated_files(config):
    from mkdocs.structure.files import File

    yield File.generated(config, "reference/formats.md", content=formats_reference_markdown())
    for name, png in render_figures().items():
        yield File.generated(config, f"figures/{name}.png", content=png)
    if os.environ.get("FLOATSIM_DOCS_SKIP_NOTEBOOKS") == "1":  # a quick look at the prose (the nav then warns)
        return
    for path in notebook_paths():
        target, seconds = executed_notebook(path)
        log.info("notebook %s: %s", path.name, "cached" if seconds is None else f"executed in {seconds:.1f} s")
        yield File(f"notebooks/{target.name}", str(BUILD), config["site_dir"], config["use_directory_urls"])


def _priority(n):
    try:
        from mkdocs.plugins import event_priority
    except ImportError:  # imported by the tests without mkdocs
        return lambda f: f
    return event_priority(n)


@_priority(100)  # before mkdocs-jupyter's on_files, which turns the .ipynb files into pages
def on_files(files, config):
    # build the pages from this checkout's floatsim, as the tests do (see execute_notebook); set here, not at import:
    # MkDocs restores sys.path after importing a hook module
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    for file in _generated_files(config):
        files.append(file)
    return files
