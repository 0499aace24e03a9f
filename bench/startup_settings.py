"""Start-up with a huge settings file: the time to the app's first event-loop turn and its peak memory (Linux).

    .venv/bin/python bench/startup_settings.py [--rounds 3] [--before DIR]

Each start is a fresh process running the app as ``denoise-studio`` does (``gui.app.main``, Qt offscreen) with a
settings file of its own (``$XDG_CONFIG_HOME/DenoiseStudio/Denoise Studio.conf``); the child reports, at its
first event-loop turn, the seconds since the parent started it and its peak resident memory (``VmHWM``).  Cases:
8 recent models (what the app itself writes), 100,000 (issue 33: a file another program or a bug filled), and
the same file's second start (the app rewrote it with 8).  ``--before DIR`` runs the same starts against another
checkout of the code (e.g. ``git archive main | tar -x -C DIR``), alternating with this one in every round.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECENT = 100_000
CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

def first_turn():
    peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
    print(json.dumps({"at": time.time(), "peak_kb": peak}), flush=True)
    QApplication.instance().main_window.state.dirty = False
    QApplication.quit()

exec_ = QApplication.exec
QApplication.exec = lambda *a: (QTimer.singleShot(0, first_turn), exec_())[1]
from gui.app import main
main([])
"""


def write_settings(config: Path, recent: int) -> Path:
    """A settings file listing ``recent`` models (as a settings file of the app's, INI format)."""
    from PySide6.QtCore import QSettings

    path = config / "DenoiseStudio" / "Denoise Studio.conf"
    path.unlink(missing_ok=True)
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    settings.setValue("recent", [f"/home/user/models/model-{i:06d}.npz" for i in range(recent)])
    settings.setValue("tab", 2)
    settings.sync()
    return path


def start(code: Path, config: Path) -> tuple[float, float]:
    """(seconds to the first event-loop turn, peak MB) of one start of the app in ``code``."""
    env = dict(os.environ, XDG_CONFIG_HOME=str(config), QT_QPA_PLATFORM="offscreen")
    runtime = tempfile.mkdtemp(prefix="xdg-")
    os.chmod(runtime, 0o700)
    env["XDG_RUNTIME_DIR"] = runtime
    began = time.time()
    done = subprocess.run([sys.executable, "-c", CHILD, str(code)], env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"the app did not start: {done.stderr[-2000:]}")
    report = json.loads(lines[-1])
    return report["at"] - began, report["peak_kb"] / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", type=Path, help="another checkout to compare with (the code before a change)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    codes = {"now": ROOT} | ({"before": args.before.resolve()} if args.before else {})
    cases = ("8 recent", f"{RECENT:,} recent, first start", f"{RECENT:,} recent, second start")
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    print(f"load average {os.getloadavg()[0]:.2f} at the start (2 cores shared with other jobs)")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp)
        for round_ in range(args.rounds):
            order = list(codes.items()) if round_ % 2 == 0 else list(codes.items())[::-1]
            for label, code in order:
                write_settings(config, 8)
                results.setdefault((label, cases[0]), []).append(start(code, config))
                path = write_settings(config, RECENT)
                size = path.stat().st_size
                results.setdefault((label, cases[1]), []).append(start(code, config))
                results.setdefault((label, cases[2]), []).append(start(code, config))
    print(f"settings file with {RECENT:,} recent entries: {size / 1e6:.1f} MB")
    print(f"{'code':8} {'case':34} {'s to first turn (median)':>26} {'peak MB (median)':>18}")
    for (label, case), runs in results.items():
        seconds = statistics.median(s for s, _ in runs)
        peak = statistics.median(mb for _, mb in runs)
        print(f"{label:8} {case:34} {seconds:26.2f} {peak:18.0f}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
