"""Both sides of every row of the arithmetic part of tests/differences.py (so the table cannot go stale).

The rows have the shape of the quantization rows and are checked the same way (exact values).
"""

import math

import pytest
from differences import ARITH_DIFFERENCES, ARITH_PREAMBLE
from test_quant_differences import _run, _same


@pytest.mark.parametrize("row", ARITH_DIFFERENCES, ids=lambda d: d.id)
def test_arith_difference_row(row):
    pytest.importorskip("pychop")
    pytest.importorskip("ml_dtypes")
    ns: dict = {"math": math}
    exec(ARITH_PREAMBLE + "\n" + row.setup, ns)  # noqa: S102
    got_fs, got_oracle = _run(ns, row.floatsim_code), _run(ns, row.oracle_code)
    assert _same(got_fs, row.floatsim_result), f"floatsim gives {got_fs!r}"
    assert _same(got_oracle, row.oracle_result), f"{row.oracle} gives {got_oracle!r}"
    assert _same(got_fs, got_oracle) != row.differs


def test_arith_ids_unique():
    ids = [d.id for d in ARITH_DIFFERENCES]
    assert len(ids) == len(set(ids))
