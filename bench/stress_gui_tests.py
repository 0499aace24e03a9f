"""Run the tests that share threads with training — the Training tab, the PCA check, background jobs — many times,
alone and beside a competing CPU load, and count hangs and failures (issue 36: the suite deadlocked in 2 of 8
runs on 2026-12-05; the goal is 0 of 50 both ways).

    python bench/stress_gui_tests.py                 # 50 runs alone, then 50 under load
    python bench/stress_gui_tests.py --runs 10 --only load

A run that makes no progress (its CPU time flat) for ``--stall`` seconds counts as a hang: its threads are dumped
(``py-spy`` if installed, else the tests' own faulthandler output) and it is killed.  Not part of CI's timed path.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = [
    "tests/gui/training/test_training_tab.py",
    "tests/gui/training/test_pca_check_panel.py",
    "tests/gui/common/test_jobs.py",
    "tests/gui/common/test_garbage_collection.py",
]


def _spin(stop) -> None:
    """A competing load: one core busy with arithmetic until ``stop`` is set."""
    x = 0
    while not stop.is_set():
        for i in range(100_000):
            x = (x * 31 + i) % 1_000_003


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(log: Path, stall_s: float) -> str:
    """One pytest run of ``TESTS``: "passed", "failed" or "hung"."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=tempfile.mkdtemp())
    os.chmod(env["XDG_RUNTIME_DIR"], 0o700)
    cmd = [sys.executable, "-X", "faulthandler", "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
        last, flat_since = -1.0, time.monotonic()
        while proc.poll() is None:
            time.sleep(2)
            cpu = _cpu_seconds(proc.pid)
            if cpu != last:
                last, flat_since = cpu, time.monotonic()
            elif time.monotonic() - flat_since > stall_s:
                subprocess.run(["py-spy", "dump", "--pid", str(proc.pid)], stdout=out, stderr=out, check=False)
                proc.kill()
                proc.wait()
                return "hung"
    return "passed" if proc.returncode == 0 else "failed"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--only", choices=["alone", "load"], help="one of the two conditions")
    parser.add_argument("--stall", type=float, default=120.0, help="seconds of flat CPU time that make a hang")
    parser.add_argument("--logs", default=None, help="folder for each run's output (default: a temporary one)")
    args = parser.parse_args()
    logs = Path(args.logs or tempfile.mkdtemp(prefix="stress-"))
    logs.mkdir(parents=True, exist_ok=True)
    print(f"{len(TESTS)} test files × {args.runs} runs; logs in {logs}; {os.cpu_count()} cores", flush=True)
    for condition in ("alone", "load"):
        if args.only and condition != args.only:
            continue
        stop = multiprocessing.Event()
        load = [multiprocessing.Process(target=_spin, args=(stop,), daemon=True) for _ in range(os.cpu_count() or 2)]
        if condition == "load":
            for process in load:
                process.start()
        counts = {"passed": 0, "failed": 0, "hung": 0}
        started = time.monotonic()
        for i in range(args.runs):
            outcome = run_once(logs / f"{condition}-{i + 1:02d}.log", args.stall)
            counts[outcome] += 1
            print(f"{condition} {i + 1:2d}/{args.runs}: {outcome}", flush=True)
        stop.set()
        for process in load:
            if process.is_alive():
                process.join()
        minutes = (time.monotonic() - started) / 60
        print(f"{condition}: {counts['hung']} hung, {counts['failed']} failed, {counts['passed']} passed of "
              f"{args.runs} ({minutes:.0f} min)", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
