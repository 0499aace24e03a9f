"""Giving freed memory back to the system after a training run.

A run allocates large NumPy buffers on several threads (the training thread, the step's worker, the job pool).
glibc keeps what they free in per-thread heaps, so the app's resident size wandered upward over many runs with
nothing leaked (Python's own allocations stayed flat).  ``malloc_trim`` hands the free parts back.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to do
        return None


def return_free_memory() -> None:
    """Release the free memory of every heap to the system, where the C library can (glibc); else nothing."""
    trim = _trim()
    if trim is not None:
        trim(0)
