"""In CI every oracle and every integration must be importable, so no test skips there unnoticed.

``.ci/run`` sets ``FLOATSIM_REQUIRE_ORACLES=1`` after installing the ``oracle`` and ``interop`` extras;
locally (without it) those tests skip with a reason instead.
"""

import importlib
import os
import warnings

import pytest

ORACLES = ["ml_dtypes", "gmpy2", "gfloat", "torch", "torchao", "bitsandbytes", "sklearn", "scipy", "pychop",
           # the integrations of floatsim._adapt, floatsim.quant.dask and floatsim.packing (the interop extra)
           "dask.array", "distributed", "xarray", "zarr", "safetensors", "tqdm"]


@pytest.mark.skipif(os.environ.get("FLOATSIM_REQUIRE_ORACLES") != "1", reason="only enforced in CI (.ci/run)")
@pytest.mark.parametrize("module", ORACLES)
def test_oracle_is_installed(module):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchao's import warns about torch.jit
        importlib.import_module(module)
