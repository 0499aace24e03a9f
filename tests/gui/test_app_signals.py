"""The app ends on SIGTERM (a logout, ``kill``) and SIGHUP (its terminal closed) the way Quit ends it — the event
loop left, the run and the background jobs stopped, exit code 0 — instead of being killed where it stands, which
left the filters' worker processes running (issue 36: the window always closes)."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.nn import MLP

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120
CHILD = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])


def up():  # the event loop runs: the window is shown
    state = app.main_window.state
    if "--unsaved" in sys.argv:  # closing the window would ask to save the model
        if state.model is None:  # (the model it opens with is read off the GUI thread)
            QTimer.singleShot(20, up)
            return
        state.dirty = True
    if "--second-signal" in sys.argv:  # a job that, as quitting cancels it, sends the app another quit signal
        import os
        import signal
        import threading

        from gui.common.jobs import JobRunner

        def job(state):
            while not state.cancelled():
                threading.Event().wait(0.01)
            os.kill(os.getpid(), signal.SIGHUP)  # (a logout's next signal, while the app ends)
            threading.Event().wait(0.5)

        JobRunner(app.main_window).start(job, on_done=lambda result: None)
    print("up", flush=True)


QTimer.singleShot(0, up)
from gui.app import main

code = main([])
print(f"main returned {code}", flush=True)
sys.exit(code)
"""


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize(
    ("kind", "unsaved", "second"),
    [("SIGTERM", False, False), ("SIGHUP", False, False), ("SIGTERM", True, False), ("SIGTERM", True, True)],
)
def test_a_termination_signal_quits_the_app_as_quit_does(tmp_path, user_data, kind, unsaved, second):
    """With unsaved changes too, which Quit asks about: nobody may be there to answer (a logout), so the model is
    kept for the next start (``$XDG_DATA_HOME/denoise-studio/kept``); a second signal while the app ends (a
    logout's SIGHUP after its SIGTERM) neither kills it nor loses the model."""
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_RUNTIME_DIR": str(runtime)}  # fmt: skip
    argv = [sys.executable, "-c", CHILD, *(["--unsaved"] if unsaved else []), *(["--second-signal"] if second else [])]
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], TIMEOUT_S)
        assert ready and proc.stdout.readline().strip() == "up", proc.stderr.read() if proc.poll() is not None else ""
        proc.send_signal(getattr(signal, kind))
        out, err = proc.communicate(timeout=TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "main returned 0" in out
    assert "Traceback" not in err
    kept = list((user_data / "denoise-studio" / "kept").glob("*.npz"))
    assert len(kept) == unsaved
    if unsaved:
        assert f"was kept in {kept[0]}" in err and MLP.from_file(kept[0]).n_in == 784
