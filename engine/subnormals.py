"""Subnormal numbers taken as zero while training: a run's moments decay into them, and each costs ~15x a normal one.

Adam's first moment shrinks by beta1 at every step where a weight's gradient is zero (a ReLU unit that never
fires): after ~800 such steps it falls below float32's smallest normal number (1.2e-38) and stays *subnormal* for
~150 steps more.  The large model had 73k of its 435k moments there after three epochs, and its steps took over a
millisecond (~25 %) longer than at the start (``bench/train_speed.py --subnormals``).  x86 processors work on
subnormal numbers in microcode, ~15x slower than on normal ones, but can take them as zero instead (the MXCSR
register's FTZ and DAZ bits): what ``torch.set_flush_denormal`` does.  Nothing a run learns depends on numbers
that small — Adam's step is the moment over the square root of the second one plus eps = 1e-8.

The setting belongs to each thread, and a new thread starts with that of the thread that made it:
``flush_subnormals`` sets it on the calling thread for a ``with`` and then puts back what was there; a training
step's worker thread is made under it, and its worker process sets it as the trainer's thread has it (so the numbers
never depend on which ran what).  Where the C library cannot do it (only glibc on x86-64 is supported)
nothing changes.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct
from collections.abc import Iterator
from contextlib import contextmanager

FENV_SIZE = 32
"""Bytes of glibc's ``fenv_t`` on x86-64: the x87 environment (28), then the SSE unit's MXCSR register (4)."""
MXCSR_OFFSET = 28
FLUSH_BITS = 0x8040
"""MXCSR's flush-to-zero (results, bit 15) and denormals-are-zero (inputs, bit 6) bits."""


def supported() -> bool:
    """Whether this machine's C library lets the engine take subnormal numbers as zero."""
    return _libm() is not None


def flushing() -> bool:
    """Whether the calling thread takes subnormal numbers as zero now."""
    env = _environment()
    return env is not None and _mxcsr(env) & FLUSH_BITS == FLUSH_BITS


@contextmanager
def flush_subnormals(on: bool = True) -> Iterator[None]:
    """Subnormal results and inputs taken as zero (``on``) or not on this thread for the ``with``, then as before."""
    before = _environment()
    if before is None or (_mxcsr(before) & FLUSH_BITS == FLUSH_BITS) == on:
        yield
        return
    changed = ctypes.create_string_buffer(before.raw, FENV_SIZE)
    mxcsr = _mxcsr(before) | FLUSH_BITS if on else _mxcsr(before) & ~FLUSH_BITS
    struct.pack_into("<I", changed, MXCSR_OFFSET, mxcsr)
    libm = _libm()
    libm.fesetenv(changed)
    try:
        yield
    finally:
        libm.fesetenv(before)


def _environment() -> ctypes.Array | None:
    libm = _libm()
    if libm is None:
        return None
    env = ctypes.create_string_buffer(FENV_SIZE)
    return env if libm.fegetenv(env) == 0 else None


def _mxcsr(env: ctypes.Array) -> int:
    return struct.unpack_from("<I", env.raw, MXCSR_OFFSET)[0]


def _libm() -> ctypes.CDLL | None:
    if platform.machine().lower() not in ("x86_64", "amd64") or not _glibc():
        return None
    try:
        return ctypes.CDLL("libm.so.6")
    except OSError:
        return None


def _glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (ValueError, OSError, AttributeError):
        return False
