"""How long the app's window takes to appear, against a bare Qt window, in one run.

Each start is a fresh process, timed from just before it is spawned to the first paint of its top-level
window (``CLOCK_MONOTONIC`` is shared by every process, so the child reports the moment itself), and to the first
paint once the model is current (``model s``: the app reads it once its window is on screen):

- ``bare``: PySide6 and pyqtgraph imported, a ``QApplication`` and an empty ``QMainWindow`` shown;
- ``app``: ``python -m gui`` as users start it (``gui.app.main``: the shipped model, every tab);
- ``base`` (with ``--base DIR``): the same app from another checkout (e.g. a worktree of main at a fixed commit).

The kinds alternate start by start (ABBA), so a busy moment on the machine hits all of them alike, and each
figure is the median (after one untimed start of each, which also writes the bytecode an installed app has);
the CPU seconds each start used are given too (less sensitive to the other jobs on the
machine than the wall clock).  ``--importtime`` prints the app's slowest imports (``python -X importtime``).

Run:  QT_QPA_PLATFORM=offscreen .venv/bin/python bench/start_time.py --starts 8 [--base ../wt-main]
(offscreen by default; under ``xvfb-run -a`` with ``QT_QPA_PLATFORM=xcb`` for a real X server).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import os, resource, sys, time
t0 = float(os.environ["_DS_START_T0"])
kind = sys.argv[1]
sys.argv = sys.argv[:1]
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication


def report(what):
    used = resource.getrusage(resource.RUSAGE_SELF)
    print(f"{what} {time.monotonic() - t0:.4f} {used.ru_utime + used.ru_stime:.4f}", flush=True)


def model_on_screen():  # the app's model is current (read after its window appears); a bare window has none
    window = getattr(QApplication.instance(), "main_window", None)
    return window is None or window.state.model is not None


class FirstPaint(QObject):  # SHOWN: the window's first paint; MODEL: the first paint with the model current
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and not self.modelled:
            if getattr(watched, "isWindow", lambda: False)() and not self.seen:
                self.seen = True
                report("SHOWN")
            if self.seen and model_on_screen():
                self.modelled = True
                report("MODEL")
                QTimer.singleShot(0, QApplication.instance().quit)
        return False


watcher = FirstPaint()
watcher.seen = watcher.modelled = False
if kind == "bare":
    import pyqtgraph  # noqa: F401  (the app's plots need it: a bare window that can plot)
    from PySide6.QtWidgets import QMainWindow

    app = QApplication([])
    app.installEventFilter(watcher)
    window = QMainWindow()
    window.resize(1024, 700)
    window.show()
    app.exec()
else:
    import gui.app

    make_app = gui.app.make_app

    def watched_app(argv=None):
        app = make_app(argv)
        app.installEventFilter(watcher)
        return app

    gui.app.make_app = watched_app
    gui.app.main([])
"""


def start(kind: str, root: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """(seconds to the first paint, CPU seconds by then, seconds to the first paint with the model) of one fresh
    process."""
    env = {**env, "PYTHONPATH": str(root), "_DS_START_T0": repr(time.monotonic())}
    proc = subprocess.run([sys.executable, "-c", CHILD, kind], cwd=root, env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    marks = {line.split()[0]: line.split()[1:] for line in proc.stdout.splitlines() if line.startswith(("SHOWN ",
             "MODEL "))}  # fmt: skip
    if len(marks) != 2:
        raise RuntimeError(f"{kind} start failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
    return float(marks["SHOWN"][0]), float(marks["SHOWN"][1]), float(marks["MODEL"][0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=8, help="starts of each kind")
    parser.add_argument("--base", help="another checkout whose app to start alongside")
    parser.add_argument("--importtime", action="store_true", help="also list the app's slowest imports")
    args = parser.parse_args(argv)

    env = {**os.environ}
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    # An installed app has its bytecode (pip compiles it); without it every start compiles ~140 modules anew.
    # The first start of each kind below writes it, the timed ones read it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    home = tempfile.mkdtemp(prefix="start-time-home-")  # fresh settings: the first start users get
    env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"), XDG_DATA_HOME=os.path.join(home, ".data"))
    if "XDG_RUNTIME_DIR" not in env:
        env["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="xdg-")
        os.chmod(env["XDG_RUNTIME_DIR"], 0o700)
    kinds = {"bare": ROOT, "app": ROOT}
    if args.base:
        kinds["base"] = Path(args.base).resolve()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; python {platform.python_version()}; "
          f"QT_QPA_PLATFORM={env['QT_QPA_PLATFORM']}; load avg before {os.getloadavg()[0]:.2f}")  # fmt: skip
    for kind, root in kinds.items():  # a first start of each warms the OS's file cache for all
        start(kind if kind == "bare" else "app", root, env)
    results: dict[str, list[tuple[float, float, float]]] = {kind: [] for kind in kinds}
    names = list(kinds)
    for i in range(args.starts):
        for kind in names if i % 2 == 0 else names[::-1]:
            results[kind].append(start(kind if kind == "bare" else "app", kinds[kind], env))
    bare = statistics.median(s for s, _, _ in results["bare"])
    print(f"\n{'window':<8}{'median s':>10}{'min s':>8}{'max s':>8}{'CPU s':>8}{'/ bare':>8}{'model s':>9}", end="")
    print(f"   ({args.starts} starts each; model s: the first paint with the model)")
    for kind, runs in results.items():
        wall = [s for s, _, _ in runs]
        cpu = statistics.median(c for _, c, _ in runs)
        modelled = statistics.median(m for _, _, m in runs)
        print(f"{kind:<8}{statistics.median(wall):>10.3f}{min(wall):>8.3f}{max(wall):>8.3f}{cpu:>8.3f}"
              f"{statistics.median(wall) / bare:>8.2f}{modelled:>9.3f}")  # fmt: skip
    print(f"load avg after {os.getloadavg()[0]:.2f} (2 cores shared with other jobs: the spread is theirs too)")
    if args.importtime:
        code = "import gui.app, gui.main_window"
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, env={**env, "PYTHONPATH":
                              str(ROOT)}, capture_output=True, text=True)  # fmt: skip
        rows = []
        for line in proc.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[1].strip().isdigit():
                rows.append((int(parts[1]), parts[2].rstrip()))
        print("\nslowest imports of gui.app + gui.main_window (cumulative µs, one run):")
        for us, name in sorted(rows, reverse=True)[:25]:
            print(f"  {us:>9,}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
