"""Processes on one runs database: two writers lose nothing; a writer killed (SIGKILL) mid-run leaves the file
intact and its run crashed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from engine.runs import RunStore

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 120


def _writer(runs: int, epochs: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # $DENOISE_STUDIO_RUNS: this test's database
    return subprocess.Popen([sys.executable, "-m", "tests.engine.runs_writer", str(runs), str(epochs)], cwd=REPO,
                            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip


def _expect(proc: subprocess.Popen, word: str) -> None:
    line = proc.stdout.readline().strip()  # blocks until the child says it (or dies: then "")
    if line != word:
        proc.kill()
        pytest.fail(f"expected {word!r} from the writer, got {line!r}: {proc.communicate()[1]}")


def test_two_writer_processes_lose_no_row(runs_db):
    runs, epochs = 6, 10
    writers = [_writer(runs, epochs) for _ in range(2)]
    for proc in writers:
        _expect(proc, "ready")
    for proc in writers:  # both start writing at once
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in writers:
        _, err = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0, err
        assert "not recorded" not in err
    with RunStore(runs_db) as store:
        found = store.runs()
        assert len(found) == 2 * runs and {r.pid for r in found} == {p.pid for p in writers}
        assert all(r.status == "finished" and r.epochs_done == epochs for r in found)
        assert all(len(store.get(r.id).epochs) == epochs for r in found)


@pytest.mark.skipif(os.name != "posix", reason="sends SIGKILL")
def test_sigkill_mid_run_leaves_the_database_intact_and_the_run_crashed(runs_db):
    proc = _writer(1, 1_000_000)  # writes an epoch every few milliseconds until killed
    _expect(proc, "ready")
    proc.stdin.write("go\n")
    proc.stdin.flush()
    _expect(proc, "recorded")
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == -signal.SIGKILL
    conn = sqlite3.connect(runs_db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    with RunStore(runs_db) as store:
        [run] = store.runs()
        assert run.status == "crashed" and run.pid == proc.pid
        assert len(store.get(run.id).epochs) >= 1
        store.reap()
    assert sqlite3.connect(runs_db).execute("SELECT status FROM runs").fetchone()[0] == "crashed"
