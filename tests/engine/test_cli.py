"""The command line end to end on tiny data: train, evaluate (--json), summary, resume, exit codes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.cli import main, parse_layers
from engine.nn import MLP


def test_parse_layers():
    assert parse_layers("784:10:relu,784:sigmoid") == ([784, 10, 784], ["relu", "sigmoid"])
    assert parse_layers("784:256:relu, 64:tanh, 784:sigmoid") == ([784, 256, 64, 784], ["relu", "tanh", "sigmoid"])


def test_train_then_evaluate_then_summary(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "tiny.npz"
    code = main(["train", "--epochs", "2", "--batch-size", "16", "--train-size", "64", "--test-size", "16",
                 "--layers", "784:8:relu,784:sigmoid", "--quiet", "-o", str(out)])  # fmt: skip
    assert code == 0
    model = MLP.from_file(out)
    assert [layer.n_out for layer in model.layers] == [8, 784]
    assert len(model.metadata["history"]["epochs"]) == 2
    assert model.metadata["training"]["batch_size"] == 16
    assert (tmp_path / "tiny.ckpt.npz").is_file()
    capsys.readouterr()

    assert main(["evaluate", str(out), "--noise", "0.1", "0.5", "--test-size", "16", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["noise"] for r in report["results"]] == [0.1, 0.5]
    assert all(r["mse"] > 0 and np.isfinite(r["psnr"]) for r in report["results"])
    assert report["results"][1]["identity_mse"] > report["results"][0]["identity_mse"]

    assert main(["summary", str(out)]) == 0
    assert "DENSE 784 -> 8 [ReLU]" in capsys.readouterr().out


def test_resume_continues_to_the_same_weights_as_a_straight_run(tiny_mnist, tmp_path):
    common = [
        "--batch-size",
        "16",
        "--train-size",
        "64",
        "--test-size",
        "16",
        "--layers",
        "784:6:relu,784:sigmoid",
        "--quiet",
    ]
    assert main(["train", "--epochs", "3", *common, "-o", str(tmp_path / "straight.npz")]) == 0
    assert main(["train", "--epochs", "1", *common, "-o", str(tmp_path / "part.npz")]) == 0
    assert main(["train", "--resume", str(tmp_path / "part.ckpt.npz"), "--epochs", "3", "--quiet",
                 "-o", str(tmp_path / "resumed.npz")]) == 0  # fmt: skip
    straight = MLP.from_file(tmp_path / "straight.npz")
    resumed = MLP.from_file(tmp_path / "resumed.npz")
    assert np.array_equal(straight.params, resumed.params)
    assert len(resumed.metadata["history"]["epochs"]) == 3


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--layers", "784:10"],
        ["train", "--layers", "784:10:swish,784:sigmoid"],
        ["train", "--layers", "784:10:relu,100:sigmoid"],
        ["train", "--layers", "100:10:relu,100:sigmoid"],
        ["train", "--epochs", "zero"],
        ["train", "--optimizer", "lbfgs"],
        ["train", "--batch-size", "0"],
        ["frobnicate"],
    ],
)
def test_bad_arguments_exit_2_with_a_one_line_reason(argv, tiny_mnist, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main([*argv, "-o", str(tmp_path / "x.npz")] if argv[0] == "train" else argv))
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and "error" in err[-1]


def test_failures_exit_1_with_a_one_line_reason(tmp_path, capsys):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"\x00" * 10)
    assert main(["summary", str(bad)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "broken.npz" in err[0]


def test_resume_says_which_flags_it_ignores(tiny_mnist, tmp_path, capsys):
    common = ["--batch-size", "16", "--train-size", "64", "--test-size", "16", "--quiet"]
    assert main(["train", "--epochs", "1", *common, "-o", str(tmp_path / "part.npz")]) == 0
    capsys.readouterr()
    argv = ["train", "--resume", str(tmp_path / "part.ckpt.npz"), "--epochs", "2", "--lr", "0.5", "--quiet"]
    assert main([*argv, "-o", str(tmp_path / "more.npz")]) == 0
    err = capsys.readouterr().err
    assert "ignored --lr 0.5" in err and "--batch-size" not in err
    assert MLP.from_file(tmp_path / "more.npz").metadata["training"]["lr"] == 0.001
