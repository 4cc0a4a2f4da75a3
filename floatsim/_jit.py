"""The one place where Numba options are set.

* ``cache=True``: compiled machine code is stored next to the module (or in
  ``NUMBA_CACHE_DIR``) and reused by later processes; set ``FLOATSIM_DISABLE_CACHE=1``
  to turn the disk cache off.
* ``nogil=True``: kernels release the GIL, so callers may use Python threads.
* never ``fastmath``: the kernels rely on exact IEEE behaviour and classify
  NaN / inf from bit patterns.
* nothing compiles at import: ``njit`` is lazy and the kernels are specialised on
  first call for the argument types they see.
"""

from __future__ import annotations

import os

from numba import njit

CACHE = os.environ.get("FLOATSIM_DISABLE_CACHE", "").strip().lower() in ("", "0", "false", "no")

#: inlined helpers (Numba IR inlining keeps the kernels one LLVM function for vectorisation)
helper = njit(cache=CACHE, nogil=True, inline="always")

#: serial kernels
kernel = njit(cache=CACHE, nogil=True)

#: parallel kernels (``prange`` loops over elements)
parallel_kernel = njit(cache=CACHE, nogil=True, parallel=True)
