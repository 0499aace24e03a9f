"""Is the process that records a run still alive?  How a run whose process died shows as *crashed*.

A recording process writes its host, pid and identity (``process_identity``) when a run starts and
a heartbeat every ``HEARTBEAT_S`` seconds while it trains (paused runs too).  A reader on the same
host asks the operating system (``process_alive``): on Linux the identity is the boot and the
process's start time, so a pid the system has since given to another program does not count; on
other POSIX systems the pid alone.  Where that cannot answer (another host, Windows) a heartbeat older
than ``STALE_AFTER_S`` means the process died.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

HEARTBEAT_S = 15.0
"""Seconds between heartbeats of a training process."""
STALE_AFTER_S = 8 * HEARTBEAT_S
"""A run whose last heartbeat is older than this, and whose process cannot be asked, crashed."""


def host_name() -> str:
    return platform.node() or "unknown"


def process_identity(pid: int | None = None) -> str:
    """This (or ``pid``'s) process as the OS tells it apart from later ones with the same pid:
    ``"linux:BOOT_ID:START_TICKS"``, else ``"pid"``."""
    pid = os.getpid() if pid is None else pid
    boot, start = _boot_id(), _start_ticks(pid)
    return f"linux:{boot}:{start}" if boot and start else "pid"


def process_alive(pid: int | None, identity: str | None) -> bool | None:
    """Whether the process ``pid`` with ``identity`` (from ``process_identity``) runs on this host;
    None when the OS cannot tell (Windows, or an identity of another kind)."""
    if not pid or not identity:
        return None
    if identity.startswith("linux:"):
        if _boot_id() is None:
            return None
        return process_identity(pid) == identity
    if identity == "pid" and os.name == "posix":
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # another user's process
            return True
        return True
    return None


def has_crashed(
    *, host: str | None, pid: int | None, identity: str | None, heartbeat: float | None, now: float
) -> bool:
    """A run recorded as running: did its process die?  The OS's answer on this host, else the heartbeat's age."""
    if host == host_name():
        alive = process_alive(pid, identity)
        if alive is not None:
            return not alive
    return heartbeat is None or now - heartbeat > STALE_AFTER_S


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def _start_ticks(pid: int) -> str | None:
    """Field 22 of ``/proc/PID/stat``: when the process started, in clock ticks since boot."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()  # the command name (field 2) may hold spaces and parentheses
    return fields[19] if len(fields) > 19 else None
