"""The notebooks of ``notebooks/``: stored without outputs, seeded, light on imports, and executed without error.

Execution goes through ``tools/docs_site.py`` (the documentation build uses the same function), which keeps the
executed copy in ``build/notebooks/`` keyed by a hash of the notebook, floatsim's sources and the library
versions: a docs build after the tests renders those runs instead of executing every notebook again.
"""

import ast
import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
EXPECTED = [
    "01-anatomy-of-a-float.ipynb",
    "02-density-near-zero.ipynb",
    "03-rounding.ipynb",
    "04-integer-quantization.ipynb",
    "05-block-formats.ipynb",
    "06-end-to-end.ipynb",
]
# the issue: floatsim plus the plot extra, NumPy / scikit-learn for data, and the standard library
ALLOWED_IMPORTS = {"floatsim", "numpy", "matplotlib", "sklearn"}

if not NOTEBOOK_DIR.exists():
    pytest.skip("notebooks/ not present (installed package)", allow_module_level=True)
nbformat = pytest.importorskip("nbformat", reason="the notebook tests need nbformat (the test extra)")


def _site():
    spec = importlib.util.spec_from_file_location("floatsim_docs_site", ROOT / "tools" / "docs_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read(name):
    return nbformat.read(NOTEBOOK_DIR / name, as_version=4)


def _code(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def test_the_six_notebooks_are_there():
    assert [p.name for p in sorted(NOTEBOOK_DIR.glob("*.ipynb"))] == EXPECTED
    assert [p.name for p in _site().notebook_paths()] == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_stored_without_outputs(name):
    nb = _read(name)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{name}: cells {dirty} have outputs; store notebooks cleared (CI executes them)"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", f"{name}: kernelspec must be python3"
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), f"{name}: must open with a H1 title"


@pytest.mark.parametrize("name", EXPECTED)
def test_imports_and_seeds(name):
    code = _code(_read(name))
    tree = ast.parse("\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module.split(".")[0])
    foreign = modules - ALLOWED_IMPORTS - set(sys.stdlib_module_names)
    assert not foreign, f"{name} imports {sorted(foreign)}; allowed: floatsim, numpy, matplotlib, sklearn, stdlib"
    # randomness only through seeded generators: default_rng(<seed>), never the global legacy state
    assert not re.search(r"default_rng\(\s*\)", code), f"{name}: default_rng() without a seed"
    legacy = re.findall(r"np\.random\.(rand|randn|randint|normal|uniform|choice|seed|shuffle|permutation)\b", code)
    assert not legacy, f"{name}: uses the global np.random state ({legacy}); use np.random.default_rng(seed)"
    assert 'rounding="stochastic"' not in code or "seed" in code, f"{name}: stochastic rounding without a seed"


@pytest.mark.parametrize("name", EXPECTED)
def test_executes_without_error(name):
    pytest.importorskip("nbclient", reason="executing notebooks needs nbclient (the test extra)")
    pytest.importorskip("ipykernel", reason="executing notebooks needs ipykernel (the test extra)")
    site = _site()
    target, _seconds = site.executed_notebook(NOTEBOOK_DIR / name)
    nb = nbformat.read(target, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code_cells), f"{name}: not every cell ran"
    images = sum("image/png" in o.get("data", {}) for c in code_cells for o in c.outputs)
    assert images >= 1, f"{name}: tells its story without a single plot"
