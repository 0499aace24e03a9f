"""Atomic file writing: a crash at any moment leaves the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

TEMP_SUFFIX = ".tmp"
STALE_TEMP_SECONDS = 3600
"""Temp files of a path older than this were left by a killed save (a live save takes seconds)."""
_NAME_IN_TEMP = 200
"""Bytes of the file name kept in its temp file's name (``.NAME.PID.XXXXXXXX.tmp`` must fit in 255 bytes)."""


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Write through ``write(file)`` to a temp file beside ``path``, fsync, then ``os.replace``.

    The temp file is hidden and ends in ``.tmp`` (``.NAME.PID.XXXX.tmp``), so it is never taken
    for a model; it is removed if ``write`` raises, and temp files that killed saves left beside
    ``path`` are removed after a successful one.  An existing file's permissions are kept.  An
    ``OSError`` names ``path``, never the temp file.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a folder; give a file name to save to", str(path))
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o644
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix(path), suffix=TEMP_SUFFIX)
    except OSError as exc:
        raise naming(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as tmp:
            write(tmp)
            tmp.flush()
            os.fsync(tmp.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError):
            raise naming(exc, path) from None
        raise
    _fsync_dir(path.parent)
    _remove_stale_temps(path)


def check_writable(path: str | os.PathLike) -> None:
    """Raise ``OSError`` naming ``path`` unless ``atomic_write`` could write it: a file name (not a
    folder, device or pipe) that is not too long, in a folder that exists (it is made if missing)
    and takes new files.  Nothing is left behind but the folder."""
    path = Path(path)
    try:
        if path.name in ("", ".", ".."):
            raise IsADirectoryError(errno.EISDIR, "is a folder, not a file name", str(path))
        try:
            st = os.stat(path)
        except FileNotFoundError:
            st = None
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder, not a file name", str(path))
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "is a device, pipe or socket, not a file", str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix(path), suffix=TEMP_SUFFIX)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise naming(exc, path) from None


def naming(exc: OSError, path: str | os.PathLike) -> OSError:
    """``exc`` as the same kind of error about ``path`` (the user's file, not a hidden temp file)."""
    if exc.errno is None:
        return OSError(f"{path}: {exc}")
    error = type(exc)(exc.errno, exc.strerror or os.strerror(exc.errno), str(path))
    return error


def _temp_base(path: Path) -> str:
    """``.NAME.``, the name cut to ``_NAME_IN_TEMP`` bytes (a long name's temp file must fit too)."""
    return f".{os.fsdecode(os.fsencode(path.name)[:_NAME_IN_TEMP])}."


def _temp_prefix(path: Path) -> str:
    return f"{_temp_base(path)}{os.getpid()}."


def _remove_stale_temps(path: Path) -> None:
    """Delete ``.NAME.*.tmp`` files killed saves left beside ``path``: at once when the process that
    wrote one is gone, else once it is an hour old (another process's save may be in progress)."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    base = _temp_base(path)
    for temp in path.parent.glob(f"{glob.escape(base)}*{TEMP_SUFFIX}"):
        pid = temp.name[len(base) :].split(".", 1)[0]
        with contextlib.suppress(OSError):
            writer_gone = pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid))
            if temp.is_file() and (writer_gone or temp.stat().st_mtime < cutoff):
                temp.unlink()


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (POSIX); elsewhere assumed alive, leaving the age rule."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
