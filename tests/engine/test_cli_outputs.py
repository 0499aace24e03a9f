"""Where ``train`` and ``export`` write: never over a file they did not write (unless --force), never over the data
they read, checked before the first epoch, and every error names the file the user gave."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from engine import atomic, model_format, model_paths
from engine.cli import main
from engine.data_sources import MNIST_FILES
from engine.nn import MLP, build_mlp

TRAIN = ["train", "--train-size", "64", "--test-size", "16", "--batch-size", "8", "--layers", "784:8:relu,784:sigmoid",
         "--quiet", "--epochs", "1"]  # fmt: skip


def _train(*args: str) -> int:
    return main([*TRAIN, *args])


@pytest.fixture
def no_epoch(monkeypatch):
    """Fails the test if training starts: the checks must come first."""
    from engine import training

    def started(*args, **kwargs):
        raise AssertionError("training started before the output was checked")

    monkeypatch.setattr(training.Trainer, "fit", started)


def test_a_text_file_is_not_replaced(tiny_mnist, tmp_path, capsys, no_epoch):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    assert _train("-o", str(notes)) == 2
    err = capsys.readouterr().err
    assert "notes.txt exists and is not a Denoise Studio model" in err and "--force" in err
    assert notes.read_text() == "my notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist", "notes.txt"]


def test_force_replaces_it(tiny_mnist, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    assert _train("-o", str(notes), "--force") == 0
    MLP.from_file(notes)


def test_a_checkpoint_path_that_is_another_file_is_not_replaced(tiny_mnist, tmp_path, capsys, no_epoch):
    (tmp_path / "m.ckpt.npz").write_bytes(b"someone else's data")
    assert _train("-o", str(tmp_path / "m.npz")) == 2
    assert "--checkpoint" in capsys.readouterr().err
    assert (tmp_path / "m.ckpt.npz").read_bytes() == b"someone else's data"


@pytest.mark.parametrize("force", [False, True])
def test_the_data_files_it_reads_are_never_replaced(tiny_mnist, tmp_path, capsys, force, no_epoch):
    data = tiny_mnist / f"{MNIST_FILES['train_images']}.gz"
    before = data.read_bytes()
    assert _train("-o", str(data), *(["--force"] if force else [])) == 2
    assert str(data) in capsys.readouterr().err
    assert data.read_bytes() == before


def test_an_existing_model_is_replaced_and_said_so(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "m.npz"
    build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=5).save(out)
    assert _train("-o", str(out)) == 0
    assert f"replaces the existing model {out}" in capsys.readouterr().err
    assert not np.array_equal(MLP.from_file(out).params, build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=5).params)


def test_retraining_a_shipped_model_in_place_works(tiny_mnist, tmp_path, capsys, monkeypatch):
    """The command in models/README.md writes over a shipped model: allowed, with a note."""
    shipped = tmp_path / "models"
    shutil.copytree(model_paths.MODELS_DIR, shipped)
    monkeypatch.setattr(model_paths, "MODELS_DIR", shipped)
    target = shipped / "mnist_denoising_autoencoder.npz"
    assert _train("-o", str(target)) == 0
    assert "replaces the shipped model" in capsys.readouterr().err
    assert MLP.from_file(target).metadata["training"]["epochs"] == 1


@pytest.mark.parametrize(
    ("output", "words"),
    [("", "--output is empty"), ("parent-is-a-file/m.npz", "cannot be written"), ("x" * 300 + ".npz", "too long")],
)
def test_unwritable_outputs_are_refused_before_the_first_epoch(output, words, tiny_mnist, tmp_path, capsys, no_epoch):
    (tmp_path / "parent-is-a-file").write_text("a file, not a folder")
    target = str(tmp_path / output) if output else output
    assert _train("-o", target) == 2
    err = capsys.readouterr().err.strip()
    assert words in err.lower() or words in err, err
    assert err.count("\n") == 0 and ".tmp" not in err
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_checkpoint_folder_is_refused_before_the_first_epoch(tiny_mnist, tmp_path, capsys, no_epoch):
    (tmp_path / "ckpts").mkdir()
    assert _train("-o", str(tmp_path / "m.npz"), "--checkpoint", str(tmp_path / "ckpts")) == 2
    err = capsys.readouterr().err
    assert "--checkpoint" in err and "is a folder" in err


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root writes anywhere")
def test_a_read_only_folder_is_refused_before_the_first_epoch(tiny_mnist, tmp_path, capsys, no_epoch):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    assert _train("-o", str(folder / "m.npz")) == 2
    assert "permission denied" in capsys.readouterr().err.lower()


def test_a_full_disk_names_the_output_not_a_temp_file(tiny_mnist, tmp_path, capsys, monkeypatch):
    real = model_format.atomic_write

    def full(path, write):
        def fail(f):
            f.write(b"PK partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        return real(path, fail if Path(path).name == "m.npz" else write)

    monkeypatch.setattr(model_format, "atomic_write", full)
    assert _train("-o", str(tmp_path / "m.npz")) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"error: {tmp_path / 'm.npz'}: No space left on device"
    assert all(line.startswith("note: ") for line in err[:-1])  # the tiny data set is not the official one
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_stale_temp_files_of_interrupted_saves_are_cleaned_by_the_next_save(tmp_path):
    path = tmp_path / "m.npz"
    dead = _dead_pid()
    left = [tmp_path / f".m.npz.{dead}.abc123.tmp", tmp_path / ".m.npz.oldstyle.tmp"]
    for temp in left:
        temp.write_bytes(b"x" * 1000)
    old = 1_000_000_000
    os.utime(left[1], (old, old))
    live = tmp_path / f".m.npz.{os.getppid()}.live01.tmp"  # a save in progress in a live process
    live.write_bytes(b"y")
    build_mlp([16, 4, 16], ["relu", "sigmoid"]).save(path)
    assert not any(p.exists() for p in left)
    assert live.exists()


@pytest.mark.parametrize("name", ["m" * 246 + ".npz", "模" * 80 + ".npz"])  # 250 and 244 bytes (255 is the limit)
def test_a_long_file_name_still_saves(name, tmp_path):
    """The temp file's name must fit too."""
    path = tmp_path / name
    build_mlp([16, 4, 16], ["relu", "sigmoid"]).save(path)
    MLP.from_file(path)
    atomic.check_writable(path)
    assert [p.name for p in tmp_path.iterdir()] == [name]


def _dead_pid() -> int:
    pid = 999_999
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


# ----- reading odd paths ---------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_folder_a_device_and_a_fifo_are_named_for_what_they_are(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "folder").mkdir()
    for path, words in [(tmp_path / "folder", "is a folder"), ("/dev/null", "device, pipe or socket"),
                        (tmp_path / "pipe", "device, pipe or socket")]:  # fmt: skip
        assert main(["summary", str(path)]) == 1
        err = capsys.readouterr().err
        assert words in err and str(path) in err and "no such model file" not in err


# ----- --resume says what it ignores -----------------------------------------------------------------------------


def test_resume_warns_about_layers_and_sizes_it_ignores(tiny_mnist, tmp_path, capsys):
    assert _train("-o", str(tmp_path / "m.npz")) == 0
    capsys.readouterr()
    argv = ["train", "--resume", str(tmp_path / "m.ckpt.npz"), "--epochs", "2", "--quiet",
            "-o", str(tmp_path / "n.npz"), "--layers", "784:32:relu,784:sigmoid", "--train-size", "32"]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "ignored" in err and "--layers 784:32:relu,784:sigmoid" in err and "--train-size 32" in err
    assert MLP.from_file(tmp_path / "n.npz").layers[0].n_out == 8


# ----- export -o --------------------------------------------------------------------------------------------------


def test_export_does_not_replace_another_file_but_replaces_its_own(tmp_path, capsys):
    pytest.importorskip("onnx")
    other = tmp_path / "m.onnx"
    other.write_text("not ours")
    assert main(["export", "mnist_denoising_autoencoder", "-o", str(other)]) == 2
    assert "not exported by Denoise Studio" in capsys.readouterr().err and other.read_text() == "not ours"
    assert main(["export", "mnist_denoising_autoencoder", "-o", str(other), "--force"]) == 0
    assert main(["export", "mnist_denoising_autoencoder_large", "-o", str(other)]) == 0  # its own: replaced
    assert other.stat().st_size > 1_000_000
