"""The generated parts of the documentation site (``tools/docs_site.py``) without building the site.

``mkdocs build`` (strict) is run by ``.ci/run`` after the tests; these tests check the content the hook
generates, so a mistake there fails fast and names the format or figure.
"""

import importlib.util
import re
from pathlib import Path

import pytest

import floatsim as fs
from floatsim.format import IntFormat

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "tools" / "docs_site.py"

if not SITE.exists():
    pytest.skip("tools/ not present (installed package)", allow_module_level=True)


@pytest.fixture(scope="module")
def site():
    spec = importlib.util.spec_from_file_location("floatsim_docs_site", SITE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reference(site):
    return site.formats_reference_markdown()


FLOATS = [n for n in fs.list_formats() if not isinstance(fs.get_format(n), IntFormat)]


@pytest.mark.parametrize("name", FLOATS)
def test_formats_reference_has_every_format(reference, name):
    fmt = fs.get_format(name)
    section = reference.split(f"## `{name}` {{#{name}}}", 1)[1].split("\n## ", 1)[0]
    assert f"| bias | {fmt.bias} |" in section
    assert f"{fmt.exponent_bits} exponent bits, {fmt.mantissa_bits} mantissa bits" in section
    if fmt.bits <= 8:
        codes = re.findall(r"^    \| 0x([0-9a-f]{2}) \|", section, flags=re.M)
        assert [int(c, 16) for c in codes] == list(range(2**fmt.bits)), f"{name}: not every code listed once"
    else:
        assert "All " not in section  # 16-bit and wider formats list binades only


def test_formats_reference_values_are_exact(reference):
    """Spot checks against values known from the specifications (OCP FP8 / MX, IEEE 754)."""
    e4m3 = reference.split("## `float8_e4m3fn`", 1)[1].split("\n## ", 1)[0]
    assert "| 0x7e | `0 1111 110` | normal | 448 |" in e4m3  # OCP E4M3 max
    assert "| 0x7f | `0 1111 111` | nan |" in e4m3
    assert "| 0x01 | `0 0000 001` | subnormal | 1/512 |" in e4m3  # 2^-9
    fp4 = reference.split("## `float4_e2m1fn`", 1)[1].split("\n## ", 1)[0]
    assert "| 0x07 | `0 11 1` | normal | 6 |" in fp4
    assert "| max | 65504 |" in reference.split("## `float16`", 1)[1].split("\n## ", 1)[0]


def test_figures_render(site):
    pytest.importorskip("matplotlib")
    functions = site.figure_functions()
    assert functions, "tools/docs_figures.py defines no figure_<name>() function"
    pngs = site.render_figures()
    assert set(pngs) == set(functions)
    assert all(png.startswith(b"\x89PNG") for png in pngs.values())


def test_every_figure_is_used_and_every_used_figure_exists(site):
    used = set()
    for page in (ROOT / "docs").rglob("*.md"):
        used |= set(re.findall(r"figures/([\w-]+)\.png", page.read_text(encoding="utf-8")))
    defined = set(site.figure_functions())
    assert used <= defined, f"pages show figures that tools/docs_figures.py does not make: {sorted(used - defined)}"
    assert defined <= used, f"figures no page shows: {sorted(defined - used)}"


def test_site_build_is_strict_and_checks_links():
    """mkdocs.yml: strict (a warning fails the build) and every link / anchor / nav check raised to a warning."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert re.search(r"^strict: true$", config, flags=re.M)
    validation = config.split("\nvalidation:\n", 1)[1].split("\n\n", 1)[0]
    for check in ("omitted_files", "not_found", "absolute_links", "anchors", "unrecognized_links"):
        assert re.search(rf"^\s+{check}: warn$", validation, flags=re.M), f"validation.{check} is not 'warn'"
    assert "tools/docs_site.py" in config.split("\nhooks:\n", 1)[1].split("\n\n", 1)[0]


def test_every_page_and_notebook_is_in_the_nav():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = config.split("\nnav:\n", 1)[1]
    pages = sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md"))
    missing = [p for p in pages if p not in nav]
    assert not missing, f"pages missing from the nav of mkdocs.yml: {missing}"
    notebooks = [f"notebooks/{p.name}" for p in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    assert notebooks and all(n in nav for n in notebooks)
    assert "reference/formats.md" in nav
