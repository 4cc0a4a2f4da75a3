"""Run a test on floatsim's default path and on the generic kernels alone.

floatsim has fast paths (lookup tables, prefix formats) beside the generic arithmetic
kernels; ``core._USE_TABLES`` is the switch that ``FLOATSIM_NO_TABLES=1`` sets. Tests
that sweep many inputs parametrize over ``PATHS`` and wrap their calls in
``kernel_path(name)``.
"""

from __future__ import annotations

import contextlib

import floatsim.core as core

PATHS = ["default", "generic"]


@contextlib.contextmanager
def kernel_path(name):
    saved = core._USE_TABLES
    core._USE_TABLES = saved and name != "generic"
    try:
        yield
    finally:
        core._USE_TABLES = saved
