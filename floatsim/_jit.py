"""The one place where Numba options are set.

* ``cache=True``: compiled machine code is stored next to the module (or in
  ``NUMBA_CACHE_DIR``) and reused by later processes; set ``FLOATSIM_DISABLE_CACHE=1``
  to turn the disk cache off.
* ``nogil=True``: kernels release the GIL, so callers may use Python threads.
* never ``fastmath``: the kernels rely on exact IEEE behaviour and classify
  NaN / inf from bit patterns.
* the arithmetic kernels (:mod:`floatsim.arith`) use NumPy's error model: a float64
  division by zero gives inf / NaN as IEEE 754 says, instead of raising
  ``ZeroDivisionError`` as Python's model (Numba's default) does.
* small calls run on one thread (:func:`threads_for`): waking the thread pool for a
  few elements costs far more than the work, and next to a busy BLAS pool (NumPy's
  matmul threads spin after each call) it cost milliseconds per call (benchmarks/bench_paths.py).
* nothing compiles at import: ``njit`` is lazy and the kernels are specialised on
  first call for the argument types they see.
"""

from __future__ import annotations

import contextlib
import os

import numba
from numba import njit

CACHE = os.environ.get("FLOATSIM_DISABLE_CACHE", "").strip().lower() in ("", "0", "false", "no")

#: inlined helpers (Numba IR inlining keeps the kernels one LLVM function for vectorisation)
helper = njit(cache=CACHE, nogil=True, inline="always")

#: serial kernels
kernel = njit(cache=CACHE, nogil=True)

#: parallel kernels (``prange`` loops over elements)
parallel_kernel = njit(cache=CACHE, nogil=True, parallel=True)


#: the same three with IEEE float semantics for ``/`` and ``sqrt`` (used by floatsim.arith)
arith_helper = njit(cache=CACHE, nogil=True, inline="always", error_model="numpy")
arith_kernel = njit(cache=CACHE, nogil=True, error_model="numpy")
arith_parallel_kernel = njit(cache=CACHE, nogil=True, parallel=True, error_model="numpy")


#: arrays with fewer elements than this run a parallel kernel on the calling thread alone
SERIAL_BELOW = 1 << 15


@contextlib.contextmanager
def threads_for(n: int):
    """Run the parallel kernels called inside on one thread when ``n`` (elements) is small.

    ``numba.set_num_threads`` is per calling thread, so this is safe under Python threads.
    """
    if n >= SERIAL_BELOW:
        yield
        return
    previous = numba.get_num_threads()
    if previous == 1:
        yield
        return
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)
