"""``denoise-studio sweep`` on a tiny generated data set: a 2×2 grid on two workers, a failing cell, Ctrl-C, and
``--resume`` after a stop."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main
from engine.nn import MLP
from engine.runs import RunStore

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 120
TINY = ["--train-size", "64", "--test-size", "16", "--batch-size", "8"]
TWO_LAYERS = ["--layers", "784:8:relu,784:sigmoid", "--layers", "784:16:relu,784:sigmoid"]


def _table(out: str) -> list[list[str]]:
    """The summary's rows, split into cells."""
    lines = out.strip().splitlines()
    assert lines[0].split()[:3] == ["#", "cell", "status"]
    return [line.split() for line in lines[1:]]


def test_a_two_by_two_sweep_records_every_cell_and_ranks_them(tiny_mnist, tmp_path, runs_db, capsys):
    out_dir = tmp_path / "sweep"
    code = main(["sweep", *TWO_LAYERS, "--lr", "1e-3", "--lr", "3e-3", "--epochs", "2", *TINY,
                 "-o", str(out_dir), "--jobs", "2"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    names = {f"layers784-{w}relu-784sigmoid_lr{lr}" for w in (8, 16) for lr in ("0.001", "0.003")}
    assert {p.name for p in out_dir.glob("*.npz") if ".ckpt" not in p.name} == {f"{n}.npz" for n in names}
    rows = _table(out)
    assert {r[1] for r in rows} == names and all(r[2] == "finished" for r in rows)
    mses = [float(r[4]) for r in rows]
    assert mses == sorted(mses)  # best first
    with RunStore(runs_db) as store:
        runs = store.runs()
        assert len(runs) == 4 and {r.sweep_id for r in runs} == {1} and len({r.cell for r in runs}) == 4
        assert all(r.source == "sweep" and r.status == "finished" and r.settings["steps"] == "serial" for r in runs)
        assert all(r.machine["blas_threads"] == 1 for r in runs)  # two workers: each on one thread
        for run in runs:  # each cell's model is the one its run recorded
            model = MLP.from_file(run.model_path)
            assert model.metadata["run"] == run.uuid and model.metadata["training"]["lr"] == run.settings["lr"]
    assert "runs compare --sweep 1" in err
    assert main(["runs", "compare", "--sweep", "1"]) == 0
    marked = {line.split()[1] for line in capsys.readouterr().out.splitlines() if line.startswith("*")}
    assert marked == {"layers", "lr"}


def test_a_failing_cell_is_recorded_as_failed_and_the_sweep_goes_on(tiny_mnist, tmp_path, runs_db, capsys):
    out_dir = tmp_path / "sweep"
    out_dir.mkdir()
    taken = out_dir / "lr0.003.npz"
    taken.write_text("my notes, not a model")
    code = main(["sweep", "--layers", "784:8:relu,784:sigmoid", "--lr", "1e-3", "--lr", "3e-3", "--epochs", "2",
                 *TINY, "-o", str(out_dir)])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 1
    assert taken.read_text() == "my notes, not a model"  # never replaced
    rows = _table(out)
    assert [r[1:3] for r in rows] == [["lr0.001", "finished"], ["lr0.003", "failed"]]
    assert (out_dir / "lr0.001.npz").is_file()
    assert "lr0.003: failed:" in err and "not a Denoise Studio model" in err
    with RunStore(runs_db) as store:
        cells = store.sweep_cells(1)
    status = {run.cell.split()[1]: (run.status, run.error) for run in cells.values()}
    assert status["lr=0.001"][0] == "finished"
    assert status["lr=0.003"][0] == "failed" and "not a Denoise Studio model" in status["lr=0.003"][1]
    failed = next(run for run in cells.values() if run.status == "failed")
    assert failed.settings["lr"] == 0.003 and failed.layers == "784:8:relu,784:sigmoid" and failed.dataset == "mnist"


def test_bad_grid_values_are_usage_errors_before_anything_trains(tiny_mnist, tmp_path, runs_db, capsys):
    for bad in (["--lr", "fast"], ["--layers", "784:8:relu"], ["--noise", "0.5:0.1"],
                ["--noise-kind", "masking", "--noise", "1.5"], ["--jobs", "0"]):  # fmt: skip
        assert main(["sweep", *bad, *TINY, "-o", str(tmp_path / "s")]) == 2, bad
    assert not runs_db.exists() and not (tmp_path / "s").exists()
    capsys.readouterr()


posix_only = pytest.mark.skipif(os.name != "posix", reason="sends POSIX signals to a process group")


def _still_running(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rpartition(")")[2].split()[0] == "Z")


STOP_GRID = ["--layers", "784:4:relu,784:sigmoid", "--epochs", "1", "--epochs", "60", "--seeds", "2", *TINY,
             "--jobs", "2"]  # fmt: skip


@posix_only
def test_ctrl_c_stops_every_worker_keeps_finished_cells_and_resume_trains_the_rest(tiny_mnist, tmp_path, runs_db,
                                                                                    capsys):  # fmt: skip
    out_dir = tmp_path / "sweep"
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this test's data and runs database
    proc = subprocess.Popen([sys.executable, "-m", "engine", "sweep", *STOP_GRID, "-o", str(out_dir)], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # fmt: skip  (its own process group, as a terminal's job)
    lines = []
    for line in iter(proc.stderr.readline, ""):  # the progress display's lines, as they come
        lines.append(line)
        if "✓" in line:  # a cell finished: press Ctrl-C, which a terminal sends to the whole group
            os.killpg(proc.pid, signal.SIGINT)
            break
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 1, "".join(lines) + err
    assert "stopping: the running cells end after their current batch" in err
    assert "--resume" in err
    conn = sqlite3.connect(runs_db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    with RunStore(runs_db) as store:
        before = store.sweep_cells(1)
    assert all(run.status in ("finished", "stopped") for run in before.values())  # none left running or crashed
    assert not any(_still_running(run.pid) for run in before.values())  # the sweep waited for every worker
    finished = {key: run.id for key, run in before.items() if run.status == "finished"}
    assert any(" epochs=1 " in key for key in finished)
    stamps = {key: Path(before[key].model_path).stat().st_mtime_ns for key in finished}

    assert main(["sweep", *STOP_GRID, "-o", str(out_dir), "--resume"]) == 0
    err = capsys.readouterr().err
    assert f"{len(finished)} finished before; {4 - len(finished)} to train" in err
    with RunStore(runs_db) as store:
        after = store.sweep_cells(1)
        assert len(store.runs(sweep=2)) == 0  # the same sweep continued, not a new one
    assert len(after) == 4 and all(run.status == "finished" for run in after.values())
    assert all(after[key].id == run_id for key, run_id in finished.items())  # not trained again
    assert all(Path(after[key].model_path).stat().st_mtime_ns == stamp for key, stamp in stamps.items())
    for run in after.values():
        assert np.isfinite(MLP.from_file(run.model_path).params).all()


def test_resume_without_an_earlier_sweep_says_so(tiny_mnist, tmp_path, capsys):
    assert main(["sweep", "--epochs", "1", *TINY, "-o", str(tmp_path / "s"), "--resume"]) == 2
    assert "no earlier sweep of this grid" in capsys.readouterr().err
