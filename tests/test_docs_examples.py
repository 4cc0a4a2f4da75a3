"""The Python examples of the documentation pages run and print what they show."""

import doctest
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    "README.md", "docs/quantization.md", "docs/arithmetic.md",
    "docs/getting-started.md", "docs/concepts.md",
    "docs/howto/match-ml-dtypes.md", "docs/howto/match-pytorch.md", "docs/howto/custom-format.md",
    "docs/howto/chunked-quantization.md", "docs/howto/reproducible-stochastic-rounding.md",
    "docs/howto/pytorch-and-xarray.md", "docs/howto/packed-storage.md", "docs/howto/numba-kernels.md",
    "docs/howto/larger-than-memory.md",
]
# a page whose examples need an optional package says so on a line of its own: <!-- doctest: requires torch -->
REQUIRES = re.compile(r"<!-- doctest: requires ([\w, ]+) -->")


@pytest.mark.parametrize("page", PAGES)
def test_python_blocks_of_page(page):
    path = ROOT / page
    if not path.exists():
        pytest.skip(f"{page} not present (installed package)")
    text = path.read_text(encoding="utf-8")
    for match in REQUIRES.finditer(text):
        for module in match.group(1).replace(",", " ").split():
            pytest.importorskip(module, reason=f"{page} needs {module} (the oracle extra)")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, f"{page} has no python block"
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    # one doctest for the whole page: later blocks use names defined by earlier ones
    runner.run(parser.get_doctest("\n".join(blocks), {}, f"{page} python blocks", str(path), 0))
    assert runner.failures == 0, f"{runner.failures} example(s) of {page} fail (see the output above)"
