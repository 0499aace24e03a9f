"""A runs database of many runs as real ones look, for the benchmarks (``runs_db.py``, ``runs_view.py``)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import numpy as np

from engine.runs import RunStore
from engine.runs.curve import MAX_POINTS, pack
from engine.runs.environment import machine, versions


def make_runs(path: Path, n: int) -> None:
    """``n`` runs as real ones look: settings, versions, machine, 10 epochs, a full curve; one transaction."""
    RunStore(path).close()  # the schema
    rng = np.random.default_rng(0)
    curve = pack(np.linspace(0, 10, MAX_POINTS), rng.random(MAX_POINTS) * 0.05)
    common = {"versions": json.dumps(versions()), "machine": json.dumps(machine())}
    conn = sqlite3.connect(path)
    with conn:
        for i in range(n):
            width = int(rng.choice([10, 16, 32, 64]))
            lr = float(rng.choice([1e-3, 3e-3, 1e-2]))
            settings = {"layers": f"784:{width}:relu,784:sigmoid", "epochs": 10, "batch_size": 128, "lr": lr,
                        "optimizer": "adam", "momentum": 0.9, "noise": 0.1, "seed": i % 5, "loss": "mse",
                        "noise_kind": "gaussian", "dataset": "mnist", "train_size": 60000, "test_size": 10000,
                        "steps": "auto", "data_dir": "/data/mnist"}  # fmt: skip
            started = 1.7e9 + i * 600
            mse = float(0.02 + rng.random() * 0.01)
            cursor = conn.execute(
                "INSERT INTO runs (uuid, source, status, started, ended, updated, host, pid, command, dataset, layers,"
                " settings, versions, machine, epochs_done, seconds, scores, test_mse, model_path, model_sha256) "
                "VALUES (?, 'cli', 'finished', ?, ?, ?, 'bench', 1, 'denoise-studio train', 'mnist', ?, ?, ?, ?, 10, "
                "40.0, ?, ?, ?, ?)",
                (str(uuid.uuid4()), started, started + 40, started + 40, settings["layers"], json.dumps(settings),
                 common["versions"], common["machine"], json.dumps({"level": 0.1, "kind": "gaussian", "mse": mse}),
                 mse, f"/models/run{i}.npz", "0" * 64),
            )  # fmt: skip
            conn.execute("INSERT INTO curves (run_id, stride, points) VALUES (?, 4, ?)", (cursor.lastrowid, curve))
            conn.executemany(
                "INSERT INTO epochs (run_id, epoch, loss, val_loss, val_mse, seconds, samples_per_s, lr, progress) "
                "VALUES (?, ?, ?, ?, ?, 4.0, 15000.0, ?, 1.0)",
                [(cursor.lastrowid, e, mse + 0.01 / (e + 1), mse + 0.005 / (e + 1), mse, lr) for e in range(10)],
            )
    conn.close()
