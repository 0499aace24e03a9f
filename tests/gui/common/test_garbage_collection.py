"""Python's cycle collector runs on the GUI thread only (gui.app.prepare_app), never on a job's thread.

On a job or training thread a collection finalises Qt objects of the GUI thread caught in reference cycles
(pyqtgraph's menus, wrapped widgets), and PySide lets the GUI thread run while it does: forcing one at the
start of every job crashed the suite (the GUI thread restyling widgets that a job thread was destroying), and
the same race hung it on 2026-12-05.
"""

from __future__ import annotations

import gc
import threading

from gui.common.jobs import JobRunner


class Finalised:
    """Cyclic garbage that notes the thread it is finalised on."""

    def __init__(self, seen: list[int]) -> None:
        self.seen, self.me = seen, self

    def __del__(self) -> None:
        self.seen.append(threading.get_ident())


def test_cyclic_garbage_is_collected_on_the_gui_thread_not_on_a_job_thread(qtbot):
    assert not gc.isenabled()  # automatic collection is off: a timer on the GUI thread collects instead
    seen: list[int] = []
    for _ in range(50):
        Finalised(seen)  # each one unreachable at once, kept only by its own cycle
    runner, kept = JobRunner(), []

    def allocate(state) -> list:
        return [[object()] for _ in range(200_000)]  # far past every collection threshold, and kept

    with qtbot.waitSignal(runner.busyChanged, timeout=20000, check_params_cb=lambda busy: not busy):
        runner.start(allocate, on_done=kept.append)
    assert len(kept[0]) == 200_000
    qtbot.waitUntil(lambda: len(seen) == 50, timeout=10000)  # the GUI thread's timer collected them
    assert set(seen) == {threading.main_thread().ident}  # never the job's thread
