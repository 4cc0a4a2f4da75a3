"""In CI every oracle must be importable, so no oracle test skips there unnoticed.

``.ci/run`` sets ``FLOATSIM_REQUIRE_ORACLES=1`` after installing the ``oracle`` extra;
locally (without it) the oracle tests skip with a reason instead.
"""

import importlib
import os
import warnings

import pytest

ORACLES = ["ml_dtypes", "gmpy2", "gfloat", "torch", "torchao", "bitsandbytes", "sklearn", "scipy", "pychop"]


@pytest.mark.skipif(os.environ.get("FLOATSIM_REQUIRE_ORACLES") != "1", reason="only enforced in CI (.ci/run)")
@pytest.mark.parametrize("module", ORACLES)
def test_oracle_is_installed(module):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchao's import warns about torch.jit
        importlib.import_module(module)
