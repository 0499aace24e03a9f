"""Issue 33 (1, 9): one rule for a run's levels, rates and counts (``engine.run_limits``), the same in the API, the
CLI (exit 2) and the model file (refused when saving, clamped with a note when loading), and NumPy's
floating-point warnings never reach the user: an overflow while training ends as divergence."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from engine.cli import main
from engine.model_format import HEADER_KEY
from engine.nn import MLP, build_mlp
from engine.run_limits import MAX_EPOCHS, MAX_SIGMA, MAX_TRAIN_IMAGES, checked_metadata, metadata_problems
from engine.training import TrainConfig, Trainer, TrainingDiverged

TINY = ["--train-size", "64", "--test-size", "16", "--layers", "784:6:relu,784:sigmoid", "--quiet"]


def rewrite_metadata(path, change) -> None:
    """Change a saved model's header metadata in place, as another program could (the weights are kept)."""
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    raw = members[f"{HEADER_KEY}.npy"]
    start = raw.index(b"{", raw.index(b"\n") + 1)  # the JSON after the .npy preamble
    header = json.loads(raw[start:])
    change(header["metadata"])
    text = json.dumps(header).encode()
    members[f"{HEADER_KEY}.npy"] = crafted_npy(text)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def crafted_npy(text: bytes) -> bytes:
    from tests.engine.crafted import npy_header

    return npy_header((len(text),), "|u1") + text


# ----- the CLI: anything beyond the rule is a usage error, exit 2 ---------------------------------------------------


@pytest.mark.parametrize(
    "argv, words",
    [
        (["train", "--batch-size", "3000000000"], ["batch_size", "between 1 and 60000"]),
        (["train", "--epochs", "1000000000000"], ["epochs", f"between 1 and {MAX_EPOCHS}"]),
        (["train", "--lr", "1e30"], ["lr", "<= 100"]),
        (["train", "--lr", "nan"], ["lr", "finite"]),
        (["train", "--momentum", "1"], ["momentum", "< 1"]),
        (["train", "--noise", "1e308"], ["level", "between 0 and 10"]),
        (["train", "--noise", "0:1e308"], ["level", "between 0 and 10"]),
        (["train", "--noise", "1e30"], ["level"]),
        (["train", "--seed", "99999999999"], ["seed"]),
        (["train", "--train-size", "70000"], ["train_size", "60000"]),
        (["evaluate", "mnist_denoising_autoencoder", "--noise", "1e308"], ["noise sigma", "between 0 and 10"]),
        (["evaluate", "mnist_denoising_autoencoder", "--test-size", "0"], ["test_size"]),
    ],
)
def test_numbers_beyond_the_rule_are_usage_errors(argv, words, tiny_mnist, tmp_path, capsys):
    if argv[0] == "train":
        argv = [*argv, "-o", str(tmp_path / "m.npz")]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert all(word in err for word in words), err
    assert len(err) < 300 and "RuntimeWarning" not in err  # never a 309-digit number or a NumPy warning
    assert not (tmp_path / "m.npz").exists()


def test_a_batch_larger_than_the_training_set_is_used_and_recorded_as_the_set(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "m.npz"
    assert main(["train", "--epochs", "1", "--batch-size", "1000", *TINY, "-o", str(out)]) == 0
    assert "--batch-size 1000 is more than the 64 training images" in capsys.readouterr().err
    assert MLP.from_file(out).metadata["training"]["batch_size"] == 64  # what the run did


# ----- the API: TrainConfig and the noise checks obey the same bounds ----------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [("batch_size", MAX_TRAIN_IMAGES + 1), ("epochs", MAX_EPOCHS + 1), ("lr", 1e30), ("noise", 1e30),
     ("noise", (0.0, MAX_SIGMA * 2)), ("seed", 2**40), ("lr", float("inf"))],
)  # fmt: skip
def test_train_config_refuses_what_the_cli_refuses(field, value):
    with pytest.raises(ValueError):
        TrainConfig(**{field: value})


# ----- the model file: saving refuses, loading clamps with a note ---------------------------------------------------


def test_metadata_beyond_the_rule_is_never_saved(tmp_path):
    net = build_mlp([784, 4, 784], ["relu", "sigmoid"], seed=0)
    net.metadata["training"] = {"epochs": 10**30, "batch_size": 128}
    with pytest.raises(ValueError, match="epochs"):
        net.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize(
    "change, field, clamped",
    [
        (lambda m: m["training"].update(epochs=1e30), "epochs", MAX_EPOCHS),
        (lambda m: m["training"].update(batch_size=3_000_000_000), "batch_size", MAX_TRAIN_IMAGES),
        (lambda m: m["training"].update(noise=[0.0, 1e300]), "noise", [0.0, MAX_SIGMA]),
        (lambda m: m["training"].update(lr="fast"), "lr", None),
        (lambda m: m["dataset"].update(train_size=10**40), "train_size", MAX_TRAIN_IMAGES),
    ],
)
def test_a_file_beyond_the_rule_opens_clamped_with_a_note_and_saves_again(change, field, clamped, tmp_path, capsys):
    path = tmp_path / "m.npz"
    net = build_mlp([784, 4, 784], ["relu", "sigmoid"], seed=0)
    net.metadata.update(training={"epochs": 3, "batch_size": 8, "lr": 1e-3, "noise": 0.2},
                        dataset={"name": "mnist", "train_size": 64, "test_size": 16})  # fmt: skip
    net.save(path)
    rewrite_metadata(path, change)
    loaded = MLP.from_file(path)
    record = loaded.metadata["dataset" if field == "train_size" else "training"]
    assert record.get(field) == clamped
    assert len(loaded.load_notes) == 1 and field in loaded.load_notes[0]
    TrainConfig.from_dict(loaded.metadata["training"])  # what the app's form builds from it now holds
    loaded.save(tmp_path / "again.npz")  # a model that opens saves
    assert main(["summary", str(path)]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"note: {path}: ") and err.count("\n") == 1


def test_checked_metadata_reports_and_a_writer_can_refuse_on_the_same_notes():
    metadata = {"training": {"epochs": 5, "noise": [0.6, 0.2]}, "resume": {"next_epoch": 10**30}}
    fixed, notes = checked_metadata(metadata)
    assert fixed["training"]["noise"] == [0.2, 0.6] and "high to low" in notes[0]
    assert fixed["resume"] == metadata["resume"]  # a checkpoint's own entry: engine.checkpoint refuses it whole
    assert metadata_problems(metadata) == notes
    assert metadata["training"]["noise"] == [0.6, 0.2]  # the caller's dict is left as it was


# ----- overflow while training: the divergence outcome, never a NumPy warning ---------------------------------------


def huge_weights(seed: int = 0) -> MLP:
    """Finite weights of 1e20: the first forward pass overflows float32 (as a run at too high a rate comes to)."""
    model = build_mlp([784, 32, 784], ["linear", "linear"], seed=seed)
    model.params[...] = np.float32(1e20)
    return model


@pytest.mark.filterwarnings("error::RuntimeWarning")  # any NumPy floating-point warning fails the test
@pytest.mark.parametrize("parallel", [False, True])
def test_an_overflow_while_training_ends_as_divergence_without_a_warning(parallel):
    x = (np.random.default_rng(0).random((64, 784)) > 0.7).astype(np.float32)
    model = huge_weights()
    before = model.params.copy()
    with pytest.raises(TrainingDiverged, match="smaller learning rate"):
        Trainer(model, TrainConfig(epochs=2, batch_size=32), parallel=parallel).fit(x, x[:8])
    assert np.array_equal(model.params, before)  # the last good weights: the epoch's start


def test_the_cli_ends_an_overflowing_run_with_exit_1_and_the_hint(tiny_mnist, tmp_path, capfd):
    ckpt = tmp_path / "run.ckpt.npz"
    resume = {"next_epoch": 1, "config": {"epochs": 3, "batch_size": 32, "optimizer": "sgd", "lr": 0.01}}
    model = huge_weights()
    model.metadata["dataset"] = {"name": "mnist", "train_size": 64, "test_size": 16}
    model.save(ckpt, resume=resume)
    code = main(["train", "--resume", str(ckpt), "--quiet", "-o", str(tmp_path / "m.npz")])
    err = capfd.readouterr().err
    assert code == 1 and "diverged" in err and "smaller learning rate" in err, err
    assert "Warning" not in err and "overflow encountered" not in err
    assert not (tmp_path / "m.npz").exists()
