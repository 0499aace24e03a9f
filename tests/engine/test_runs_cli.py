"""``denoise-studio train`` records its runs; ``runs`` lists, shows, compares, exports, deletes and reruns them."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import numpy as np
import pytest

from engine.cli import main
from engine.nn import MLP
from engine.runs import RunStore
from engine.runs.files import file_sha256, weights_sha256

TRAIN = ["train", "--train-size", "64", "--test-size", "16", "--batch-size", "8", "--epochs", "2", "--quiet"]
LAYERS = ["--layers", "784:8:relu,784:sigmoid"]


def _train(tmp_path, name: str, *extra: str) -> int:
    return main([*TRAIN, *LAYERS, *extra, "-o", str(tmp_path / name)])


def _runs(capsys, *argv: str):
    code = main(["runs", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_train_records_its_run_with_the_model_and_its_sha256(tiny_mnist, tmp_path, runs_db):
    assert _train(tmp_path, "a.npz", "--lr", "3e-3") == 0
    with RunStore(runs_db) as store:
        [run] = store.runs()
        run = store.get(run.id)
    assert run.status == "finished" and run.source == "cli" and run.dataset == "mnist"
    assert run.settings["lr"] == 0.003 and run.settings["data_dir"] == str(tiny_mnist)
    assert run.model_path == str(tmp_path / "a.npz") and run.model_sha256 == file_sha256(tmp_path / "a.npz")
    assert run.checkpoint_path == str(tmp_path / "a.ckpt.npz")
    assert run.command.startswith("denoise-studio ")
    model = MLP.from_file(tmp_path / "a.npz")
    assert run.weights_sha256 == weights_sha256(model.params)
    assert run.test_mse == pytest.approx(model.metadata["metrics"]["test_mse@0.1"])
    assert run.scores["noisy_mse"] > 0 and len(run.epochs) == 2


def test_no_record_and_runs_db(tiny_mnist, tmp_path, runs_db):
    assert _train(tmp_path, "a.npz", "--no-record") == 0
    assert not runs_db.exists()
    other = tmp_path / "elsewhere" / "my.db"
    assert _train(tmp_path, "b.npz", "--runs-db", str(other)) == 0
    assert not runs_db.exists()
    with RunStore(other) as store:
        assert [r.model_path for r in store.runs()] == [str(tmp_path / "b.npz")]


def test_a_damaged_database_costs_one_line_and_the_model_is_saved(tiny_mnist, tmp_path, runs_db, capsys):
    runs_db.write_bytes(b"not sqlite" * 1000)
    assert _train(tmp_path, "a.npz") == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "runs database" in line]
    assert len(lines) == 1 and "damaged" in lines[0] and "not recorded" in lines[0]
    assert MLP.from_file(tmp_path / "a.npz").metadata["history"]["epochs"]
    code, _, err = _runs(capsys)
    assert code == 1 and err.count("\n") == 1 and "damaged" in err


def test_runs_lists_newest_first_with_filters(tiny_mnist, tmp_path, capsys):
    for name, lr in (("a.npz", "1e-3"), ("b.npz", "3e-3")):
        assert _train(tmp_path, name, "--lr", lr) == 0
    capsys.readouterr()
    code, out, _ = _runs(capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["ID", "started", "status"]
    assert [line.split()[0] for line in lines[1:]] == ["2", "1"]
    assert "b.npz" in lines[1] and "0.003" in lines[1] and "2/2" in lines[1]
    _, out, err = _runs(capsys, "--limit", "1")
    assert len(out.splitlines()) == 2 and "the newest 1 of 2 runs" in err
    _, out, _ = _runs(capsys, "list", "--json")
    assert [r["id"] for r in json.loads(out)] == [2, 1]
    assert json.loads(_runs(capsys, "--status", "failed", "--json")[1]) == []
    assert json.loads(_runs(capsys, "--dataset", "fashion-mnist", "--json")[1]) == []
    assert len(json.loads(_runs(capsys, "--since", "1h", "--json")[1])) == 2
    assert json.loads(_runs(capsys, "--since", "2999-01-01", "--json")[1]) == []
    code, _, err = _runs(capsys, "--since", "yesterday")
    assert code == 2 and "--since" in err


def test_show_and_compare_mark_what_differs(tiny_mnist, tmp_path, capsys):
    assert _train(tmp_path, "a.npz") == 0
    assert _train(tmp_path, "b.npz", "--lr", "3e-3") == 0
    capsys.readouterr()
    code, out, _ = _runs(capsys, "show", "1")
    assert code == 0 and out.startswith("run 1: finished")
    assert "unchanged since the run saved it" in out and "784:8:relu,784:sigmoid" in out
    (tmp_path / "a.npz").write_bytes(b"changed")
    _, out, _ = _runs(capsys, "show", "1")
    assert "CHANGED since the run saved it" in out
    (tmp_path / "a.npz").unlink()
    assert "gone" in _runs(capsys, "show", "1")[1]
    code, out, _ = _runs(capsys, "compare", "1", "2")
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("*")}
    assert code == 0 and set(rows) == {"lr"}  # the one setting that differs, marked
    assert "0.001" in rows["lr"] and "0.003" in rows["lr"]
    assert "test loss by epoch" in out and "test MSE" in out
    code, _, err = _runs(capsys, "compare", "1")
    assert code == 2 and "two or more" in err
    code, _, err = _runs(capsys, "show", "99")
    assert code == 2 and "no run 99" in err


def test_export_csv_and_json(tiny_mnist, tmp_path, capsys):
    assert _train(tmp_path, "a.npz") == 0
    assert _train(tmp_path, "b.npz", "--seed", "3") == 0
    capsys.readouterr()
    _, out, _ = _runs(capsys, "export", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["id"] for r in rows] == ["2", "1"] and [r["settings.seed"] for r in rows] == ["3", "0"]
    assert float(rows[0]["test_mse"]) > 0 and rows[0]["versions.numpy"] == np.__version__
    assert main(["runs", "export", "--json", "1", "-o", str(tmp_path / "one.json")]) == 0
    [record] = json.loads((tmp_path / "one.json").read_text())
    assert record["id"] == 1 and len(record["epochs"]) == 2 and len(record["curve"]["loss"]) == 16


def test_delete_keeps_model_files_unless_asked_and_then_only_its_own(tiny_mnist, tmp_path, capsys):
    for name in ("a.npz", "b.npz", "c.npz"):
        assert _train(tmp_path, name) == 0
    assert main(["runs", "delete", "1"]) == 0
    assert "model files are kept" in capsys.readouterr().err
    assert (tmp_path / "a.npz").is_file() and (tmp_path / "a.ckpt.npz").is_file()
    (tmp_path / "c.npz").write_bytes((tmp_path / "c.npz").read_bytes() + b"!")  # changed by someone since
    assert main(["runs", "delete", "2", "3", "--models"]) == 0
    err = capsys.readouterr().err
    assert not (tmp_path / "b.npz").exists() and not (tmp_path / "b.ckpt.npz").exists()
    assert (tmp_path / "c.npz").is_file() and "kept" in err and not (tmp_path / "c.ckpt.npz").exists()
    with RunStore() as store:
        assert store.count() == 0


def test_rerun_gives_the_same_weights_bit_for_bit(tiny_mnist, tmp_path, capsys):
    assert _train(tmp_path, "a.npz", "--noise", "0:0.5", "--seed", "4", "--optimizer", "sgd", "--lr", "0.05") == 0
    out = tmp_path / "again.npz"
    assert main(["runs", "rerun", "1", "-o", str(out), "--quiet"]) == 0
    assert "the same weights, bit for bit" in capsys.readouterr().err
    assert np.array_equal(MLP.from_file(out).params, MLP.from_file(tmp_path / "a.npz").params)
    with RunStore() as store:
        first, again = store.get(1), store.get(2)
    assert again.rerun_of == first.uuid and again.settings["noise"] == [0.0, 0.5]
    assert again.settings.items() >= {k: v for k, v in first.settings.items()}.items()
    _, text, _ = _runs(capsys, "show", "2")
    assert "rerun of: run 1: the same weights, bit for bit" in text
    assert "rerun as run 2" in _runs(capsys, "show", "1")[1]


def test_a_run_records_its_skip_path_and_reruns_with_it(tiny_mnist, tmp_path, capsys):
    assert _train(tmp_path, "plain.npz", "--noise", "0:0.5") == 0
    assert _train(tmp_path, "gated.npz", "--noise", "0:0.5", "--skip", "gate", "--noise-weighting", "0.02") == 0
    with RunStore() as store:
        plain, gated = store.get(1), store.get(2)
    assert plain.settings["skip"] is None and gated.settings["skip"] == "gate"
    assert main(["runs", "rerun", "2", "-o", str(tmp_path / "again.npz"), "--quiet"]) == 0
    assert "the same weights, bit for bit" in capsys.readouterr().err
    again = MLP.from_file(tmp_path / "again.npz")
    assert again.skip is not None and again.skip.kind == "gate"
    assert np.array_equal(again.params, MLP.from_file(tmp_path / "gated.npz").params)
    _, text, _ = _runs(capsys, "compare", "1", "2")
    assert "* skip - gate" in [" ".join(line.split()) for line in text.splitlines()]  # marked as differing


def test_show_says_when_a_reruns_weights_differ(tiny_mnist, tmp_path, capsys, runs_db):
    assert _train(tmp_path, "a.npz") == 0
    assert main(["runs", "rerun", "1", "-o", str(tmp_path / "again.npz"), "--quiet"]) == 0
    # the original as if made with another NumPy and other weights

    conn = sqlite3.connect(runs_db)
    conn.execute("UPDATE runs SET weights_sha256 = 'x', versions = json_set(versions, '$.numpy', '1.0') WHERE id = 1")
    conn.commit()
    conn.close()
    _, text, _ = _runs(capsys, "show", "2")
    assert "the weights DIFFER" in text and "numpy 1.0 / " in text
