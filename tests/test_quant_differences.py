"""Both sides of every row of the quantization part of tests/differences.py (so the table cannot go stale)."""

import math
import warnings

import numpy as np
import pytest
from differences import QUANT_DIFFERENCES, QUANT_PREAMBLE

_NEEDS = {"torchao": "torchao", "bitsandbytes": "bitsandbytes", "gfloat": "gfloat", "torch": "torch"}


def _same(a, b):
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    a, b = np.atleast_1d(np.asarray(a, float)), np.atleast_1d(np.asarray(b, float))
    return a.shape == b.shape and all(
        (math.isnan(u) and math.isnan(v)) or u == v for u, v in zip(a.tolist(), b.tolist(), strict=True))


def _run(ns, code):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return eval(code, ns)  # noqa: S307 - the table's own snippets
    except ValueError:
        return "ValueError"


@pytest.mark.parametrize("row", QUANT_DIFFERENCES, ids=lambda d: d.id)
def test_quant_difference_row(row):
    pytest.importorskip("torch")
    pytest.importorskip(_NEEDS[row.oracle])
    ns: dict = {"math": math}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(QUANT_PREAMBLE + "\n" + row.setup, ns)  # noqa: S102
    got_fs, got_oracle = _run(ns, row.floatsim_code), _run(ns, row.oracle_code)
    assert _same(got_fs, row.floatsim_result), f"floatsim gives {got_fs!r}"
    assert _same(got_oracle, row.oracle_result), f"{row.oracle} gives {got_oracle!r}"
    assert _same(got_fs, got_oracle) != row.differs


def test_quant_ids_unique():
    ids = [d.id for d in QUANT_DIFFERENCES]
    assert len(ids) == len(set(ids))
