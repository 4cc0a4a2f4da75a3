"""The API reference: every public module is on a page, every public name has a complete numpy-style docstring.

The reference (``docs/api/*.md``) is generated from the docstrings by mkdocstrings; the examples in them run as
doctests (``--doctest-modules`` in ``pyproject.toml``). This file checks what neither of those would notice:

- every public module of the package is rendered by some ``::: module`` line, and nothing else is;
- every name in a public module's ``__all__`` that is a function or a class has a summary line, the numpy
  sections ``Parameters`` (naming every parameter of its signature), ``Returns`` (functions), and an
  ``Examples`` section with at least one ``>>>`` line;
- every public method of those classes has a docstring.
"""

import ast
import enum
import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
API = ROOT / "docs" / "api"

if not API.exists():
    pytest.skip("docs/ not present (installed package)", allow_module_level=True)

# the public modules: every module under floatsim/ without a leading underscore in its name that declares __all__
# (floatsim.arith.exact and floatsim.__main__ are internal and declare none)
def _declares_all(path: Path) -> bool:
    return re.search(r"^__all__ = ", path.read_text(encoding="utf-8"), flags=re.M) is not None


PUBLIC_MODULES = sorted(
    ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for p in (ROOT / "floatsim").rglob("*.py")
    if not any(part.startswith("_") for part in p.relative_to(ROOT / "floatsim").with_suffix("").parts if part != "__init__")
    and _declares_all(p)
)
# modules documented through the package that re-exports them (their __all__ is rendered on the same page)
RENDERED_VIA = {"floatsim": "floatsim.core", "floatsim.quant._layout": "floatsim.quant._layout"}


def _rendered_modules() -> set[str]:
    lines = "\n".join(p.read_text(encoding="utf-8") for p in API.glob("*.md"))
    return set(re.findall(r"^::: ([\w.]+)", lines, flags=re.M))


def _import(name):
    try:
        return importlib.import_module(name)
    except ImportError as exc:  # floatsim.plotting without matplotlib
        pytest.skip(f"{name}: {exc}")


def _public_objects(kinds=("def", "class")):
    """(module, name) of every public function and class (data names in __all__ are described in the module)."""
    for module_name in PUBLIC_MODULES:
        if module_name in ("floatsim", "floatsim.quant", "floatsim.arith"):
            continue  # re-exports: each name is checked in the module that defines it
        source = _source(module_name)
        for name in _module_all(module_name):
            if any(re.search(rf"^\s*{kind} {name}\b", source, flags=re.M) for kind in kinds):
                yield module_name, name
    if "def" in kinds:
        yield "floatsim.arith._common", "context"


def _source(module_name):
    path = ROOT / Path(*module_name.split("."))
    return (path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).read_text(encoding="utf-8")


def _module_all(module_name):
    """``__all__`` read from the source, so collecting these tests imports nothing (plotting needs matplotlib)."""
    match = re.search(r"^__all__ = (\[.*?\])", _source(module_name), flags=re.S | re.M)
    return ast.literal_eval(match.group(1)) if match else []


def _sections(doc: str) -> dict[str, str]:
    """numpy-style sections: a title line followed by a line of dashes."""
    parts = re.split(r"^(\w[\w ]*)\n-{3,}\s*$", doc, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_every_public_module_is_on_an_api_page():
    rendered = _rendered_modules()
    missing = [m for m in PUBLIC_MODULES if RENDERED_VIA.get(m, m) not in rendered]
    assert not missing, f"public modules without an API page (add '::: module' to docs/api/): {missing}"
    unknown = [m for m in rendered if not _resolves(m)]
    assert not unknown, f"docs/api/ renders names that do not exist: {unknown}"


def _resolves(dotted: str) -> bool:
    path = ROOT / Path(*dotted.split("."))
    if path.with_suffix(".py").exists() or (path / "__init__.py").exists():
        return True
    module, _, name = dotted.rpartition(".")
    source = (ROOT / Path(*module.split("."))).with_suffix(".py")
    return source.exists() and re.search(rf"^(def|class) {name}\b", source.read_text(encoding="utf-8"), flags=re.M) is not None


@pytest.mark.parametrize("module_name,name", list(_public_objects()), ids=lambda v: v)
def test_public_docstring_is_complete(module_name, name):
    module = _import(module_name)
    try:
        obj = getattr(module, name)
    except ImportError as exc:  # floatsim.quant.torch without torch
        pytest.skip(str(exc))
    obj = getattr(obj, "py_func", obj)  # a Numba function (floatsim.scalar): its Python function
    doc = inspect.getdoc(obj) or ""
    where = f"{module_name}.{name}"
    assert doc.strip(), f"{where} has no docstring"
    summary = doc.strip().splitlines()[0]
    assert summary and not summary.endswith(":") and not re.match(r"^\w+\n-+", doc), f"{where}: no summary line"
    sections = _sections(doc)
    examples = sections.get("Examples", "")
    assert ">>>" in examples, f"{where}: no Examples section with a >>> example (sections: {list(sections)})"
    if inspect.isclass(obj) and issubclass(obj, enum.Enum):
        return  # members are listed in the description; the enum's constructor is not the API
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return
    params = [p for p in signature.parameters.values() if p.name not in ("self", "cls")]
    if inspect.isclass(obj) and all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        params = []  # e.g. a torch.autograd.Function: called through apply(), documented in its description
    if params:
        block = sections.get("Parameters", "") + sections.get("Other Parameters", "")
        assert block, f"{where}: no Parameters section"
        documented = set(re.findall(r"^\*{0,2}(\w+)\s*(?::|,|$)", block, flags=re.M))
        for extra in re.findall(r"^(\w+(?:\s*,\s*\w+)+)\s*:", block, flags=re.M):  # "x, y : array_like"
            documented |= {n.strip() for n in extra.split(",")}
        undocumented = [p.name for p in params if p.name not in documented]
        assert not undocumented, f"{where}: parameters missing from the Parameters section: {undocumented}"
    if inspect.isfunction(obj):
        assert "Returns" in sections or "Yields" in sections, f"{where}: no Returns section"


@pytest.mark.parametrize("module_name,name", list(_public_objects(kinds=("class",))), ids=lambda v: v)
def test_public_methods_have_docstrings(module_name, name):
    module = _import(module_name)
    try:
        obj = getattr(module, name)
    except ImportError as exc:
        pytest.skip(str(exc))
    assert inspect.isclass(obj)
    bare = [
        attr
        for attr, value in vars(obj).items()
        if not attr.startswith("_") and inspect.isfunction(value) and not (inspect.getdoc(value) or "").strip()
    ]
    assert not bare, f"{module_name}.{name}: public methods without a docstring: {bare}"
