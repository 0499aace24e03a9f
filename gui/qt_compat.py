"""Work-around for reference-count bugs of PySide6 6.12 on CPython 3.11 (as installed here).

Measured on this machine (PySide6-Essentials 6.12.0, Python 3.11.7): a wrapped C++ call that
returns ``void`` (``QLabel.setText``, ``QTimer.start``, ``QWidget.repaint``, a Python
``paintEvent`` override, ...) hands back ``None`` without a reference, and ``signal.emit()``
does the same with ``True``.  Each call lowers the count by one, and after some thousands of
calls CPython aborts ("none_dealloc: deallocating None", "bool_dealloc").  Python 3.12 made these
singletons immortal, which hides the bug; on 3.11 we do the same by hand: when importing this
module detects the leak, it adds 2**40 to the counts of ``None``, ``True`` and ``False`` so they
can never reach zero.  Nothing happens on an unaffected PySide6 or on Python >= 3.12.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

PIN = 1 << 40
_PINNED = False


class _Probe(QObject):
    ping = Signal()


def leaks() -> dict[str, bool]:
    """Which singletons lose a reference per call: {'None': ..., 'True': ...}."""
    probe = _Probe()
    n0, t0 = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(3):
        probe.setObjectName("probe")  # returns None
        probe.ping.emit()  # returns True
    return {"None": sys.getrefcount(None) - n0 <= -3, "True": sys.getrefcount(True) - t0 <= -3}


def install() -> bool:
    """Pin the singletons if the leak is present; returns whether they are pinned."""
    global _PINNED
    if _PINNED:
        return True
    if sys.version_info >= (3, 12) or not any(leaks().values()):
        return False
    for obj in (None, True, False):
        # ob_refcnt is the first field of every PyObject in release builds of CPython 3.11
        ctypes.c_ssize_t.from_address(id(obj)).value += PIN
    _PINNED = True
    return True


install()
