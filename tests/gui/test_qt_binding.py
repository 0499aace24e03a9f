"""The Qt binding in use must not drop references to None/True (PySide6 6.12.0 on Python 3.11 did).

With that bug every void Qt call and every signal emit lowered the reference count of None or
True; after a few thousand calls CPython aborted.  pyproject.toml pins PySide6-Essentials below
6.12 for that reason; this test catches a binding that brings the bug back.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Probe(QObject):
    ping = Signal()


def test_void_calls_and_emits_keep_singleton_reference_counts():
    probe = _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(100):
        probe.setObjectName("probe")  # a void C++ call returns None
        probe.ping.emit()  # emit returns True
    # other threads may move the counts a little; the bug moves them by exactly -100 each
    assert sys.getrefcount(None) - none_before > -50
    assert sys.getrefcount(True) - true_before > -50
