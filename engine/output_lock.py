"""One writer per output file: a second process about to write the same file is refused, never silently lost.

Saves are atomic (``engine.atomic``), so two processes writing one file never mix their bytes, but
the one that finishes last wins and the other's work is lost without a word.  A process that will
write a file holds an OS lock (``flock``) on a lock file beside it, ``.NAME.lock``, for as long as
it works towards that file; another process asking for the same file is told who holds it.  The
kernel drops the lock when its process ends, however it ends (a SIGKILL included), so a killed
writer never leaves a file locked; the lock file is removed when the lock is let go, and one left
by a killed process is taken over.  Where ``flock`` does not exist (Windows) nothing is locked.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

LOCK_SUFFIX = ".lock"
_NAME_IN_LOCK = 200
"""Bytes of the file name kept in its lock file's name (``.NAME.lock`` must fit in 255 bytes)."""


class OutputBusy(OSError):
    """Another process is writing the same file; the message names the file and that process."""

    def __init__(self, path: Path, holder: str) -> None:
        self.path = path
        who = f"process {holder}" if holder.isdigit() else "another process"
        super().__init__(
            errno.EBUSY, f"{path} is being written by another Denoise Studio run ({who}); "
            "wait for it to finish, or write to another file",
        )  # fmt: skip

    def __str__(self) -> str:
        return self.strerror


def lock_path(path: str | os.PathLike) -> Path:
    """The lock file of ``path``: ``.NAME.lock`` beside it (its folder's real path, the name as given)."""
    path = Path(path)
    name = os.fsdecode(os.fsencode(path.name)[:_NAME_IN_LOCK])
    return path.parent.resolve() / f".{name}{LOCK_SUFFIX}"


@contextlib.contextmanager
def writing(*paths: str | os.PathLike) -> Iterator[None]:
    """Hold the locks of ``paths`` (their folders must exist) for the ``with`` block.

    Raises ``OutputBusy`` at once when another process holds one of them (the ones taken so far
    are let go); ``OSError`` when a lock file cannot be made.
    """
    with contextlib.ExitStack() as stack:
        for path in dict.fromkeys(lock_path(p) for p in paths):  # the same file twice is one lock
            stack.enter_context(_held(path))
        yield


@contextlib.contextmanager
def _held(lock: Path) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    fd = _acquire(lock)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()  # before the lock goes: a process that opened this file now finds it replaced
        os.close(fd)


def _acquire(lock: Path) -> int:
    """The descriptor of ``lock``, opened and exclusively locked, holding our process id."""
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _holder(fd)
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise OutputBusy(_locked_file(lock), holder) from None
            raise
        try:
            current = os.stat(lock)
        except FileNotFoundError:
            current = None
        if current is not None and os.path.samestat(current, os.fstat(fd)):
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            return fd
        os.close(fd)  # the holder let go and removed it between our open and our lock: take the new one


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError):
        return os.pread(fd, 20, 0).decode(errors="replace").strip()
    return ""


def _locked_file(lock: Path) -> Path:
    return lock.with_name(lock.name[1 : -len(LOCK_SUFFIX)])
