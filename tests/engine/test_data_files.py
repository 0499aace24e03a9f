"""Issue 33 (4, 11): data files known by their content (``engine.data_files``).  An official file in the wrong
role is refused naming both, a file not the official one is used with a one-line note, counts are bounded by the
official ones before anything is read, the digest of a large file is cached; ``evaluate`` needs only the test
files; a pipe or a device where a data file belongs is named for what it is, not called missing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main
from engine.data_files import digest_cache_path, read_data_file
from engine.data_sources import DATA_ENV, MNIST_FILES, SOURCES, default_checksums
from engine.dataset import Dataset, read_split
from engine.idx import DatasetFileError, write_idx
from tests.conftest import make_tiny_mnist
from tests.engine import crafted

MNIST = SOURCES["mnist"]


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch) -> Path:
    """A per-user cache of this test's own (platformdirs reads XDG_CACHE_HOME on Linux)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    return tmp_path / "user-cache"


def folder_of(tmp_path: Path, real: Path, roles: dict[str, str]) -> Path:
    """A data folder whose file of each role (``MNIST_FILES`` key) links to ``real``'s file of ``roles[key]``."""
    folder = tmp_path / "data"
    folder.mkdir()
    for key, stem in MNIST_FILES.items():
        (folder / f"{stem}.gz").symlink_to(real / f"{MNIST_FILES[roles.get(key, key)]}.gz")
    return folder


SWAPPED = {"train_images": "test_images", "test_images": "train_images",
           "train_labels": "test_labels", "test_labels": "train_labels"}  # fmt: skip


def test_swapped_training_and_test_files_are_refused_naming_both(real_mnist_dir, tmp_path, capsys):
    folder = folder_of(tmp_path, real_mnist_dir, SWAPPED)
    # evaluate reads the test role: the training images there claim 60,000, refused from the header alone
    assert main(["evaluate", "mnist_denoising_autoencoder", "--data", str(folder), "--test-size", "100"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "60,000 items, more than the 10,000 of MNIST's test images" in err
    assert "as many as the training images" in err
    # a small training run reads the training role: the official test images, known by their content
    out = tmp_path / "m.npz"
    assert main(["train", "--train-size", "100", "--test-size", "16", "--epochs", "1", "--quiet", "--data",
                 str(folder), "-o", str(out)]) == 1  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "official test images file (t10k-images-idx3-ubyte), not the MNIST training images" in err
    assert not out.exists()


def test_a_fashion_mnist_file_in_the_mnist_folder_is_named_as_such(real_mnist_dir, real_fashion_dir, tmp_path):
    folder = folder_of(tmp_path, real_mnist_dir, {})
    labels = folder / f"{MNIST_FILES['test_labels']}.gz"
    labels.unlink()
    labels.symlink_to(real_fashion_dir / f"{MNIST_FILES['test_labels']}.gz")
    with pytest.raises(DatasetFileError) as info:
        read_split("test", data_dir=folder, download=False, progress=False)
    assert info.value.path == str(labels)
    assert "official Fashion-MNIST test labels file" in info.value.problem and "not the MNIST test labels" in (
        info.value.problem
    )


def test_the_official_files_load_without_a_note(real_mnist_dir):
    notes: list[str] = []
    images, labels = read_split("test", 50, data_dir=real_mnist_dir, download=False, progress=False, notes=notes)
    assert images.shape == (50, 784) and notes == []


def test_files_that_are_not_the_official_ones_are_used_with_one_note(tiny_mnist):
    data = Dataset(train_size=64, test_size=16, batch_size=8, download=False, progress=False)
    assert len(data.notes) == 1
    note = data.notes[0]
    assert note.startswith(f"{tiny_mnist}: not the official MNIST files") and "using them as they are" in note
    assert all(f"{stem}.gz" in note for stem in MNIST_FILES.values())


def test_the_cli_prints_the_note_once(tiny_mnist, tmp_path, capsys):
    assert main(["train", "--epochs", "1", "--train-size", "64", "--test-size", "16", "--quiet",
                 "--layers", "784:4:relu,784:sigmoid", "-o", str(tmp_path / "m.npz")]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert err.count("not the official MNIST files") == 1


def test_a_header_claiming_more_than_the_official_count_is_refused_before_reading(tmp_path):
    path = tmp_path / f"{MNIST_FILES['test_labels']}.gz"
    path.write_bytes(crafted.gzip_of_zeros(crafted.idx_header(10_001), 10_001))
    with pytest.raises(DatasetFileError, match="10,001 items, more than the 10,000 of MNIST's test labels"):
        read_data_file(path, MNIST, "test_labels")


def test_evaluate_needs_only_the_test_files(tiny_mnist, tmp_path, monkeypatch, capsys):
    for key in ("train_images", "train_labels"):
        (tiny_mnist / f"{MNIST_FILES[key]}.gz").unlink()
    monkeypatch.setattr("engine.download.fetch", lambda *a, **k: pytest.fail("evaluate tried to download"))
    out = tmp_path / "m.npz"
    crafted.checkpoint(tmp_path, "m")  # any 784 -> 784 model
    (tmp_path / "m.ckpt.npz").rename(out)
    assert main(["evaluate", str(out), "--test-size", "16", "--noise", "0.2"]) == 0
    assert "MNIST test set (16 images)" in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_pipe_or_a_device_where_a_data_file_belongs_is_named_not_called_missing(kind, tiny_mnist):
    if kind == "fifo" and not hasattr(os, "mkfifo") or kind == "device" and not Path("/dev/zero").exists():
        pytest.skip("needs named pipes and /dev/zero (POSIX)")
    path = tiny_mnist / f"{MNIST_FILES['test_labels']}.gz"
    path.unlink()
    os.mkfifo(path) if kind == "fifo" else path.symlink_to("/dev/zero")
    with pytest.raises(DatasetFileError) as info:
        read_split("test", download=False, progress=False)
    assert info.value.path == str(path) and "not a regular file" in info.value.problem


# ----- the digest cache ---------------------------------------------------------------------------------------------


def large_unknown_file(folder: Path) -> Path:
    """A 1.6 MB training images file (2,000 images): large enough for its digest to be cached."""
    path = folder / f"{MNIST_FILES['train_images']}"
    write_idx(path, np.random.default_rng(0).integers(0, 256, (2000, 28, 28), dtype=np.uint8))
    return path


def test_a_large_files_digest_is_cached_by_path_size_and_times(tmp_path, own_cache):
    path = large_unknown_file(tmp_path)
    array, official = read_data_file(path, MNIST, "train_images")
    assert array.shape == (2000, 28, 28) and not official
    entries = json.loads(digest_cache_path().read_text())
    assert digest_cache_path().is_relative_to(own_cache) and list(entries) == [str(path.resolve())]
    small = make_tiny_mnist(tmp_path / "tiny") / f"{MNIST_FILES['test_labels']}.gz"
    read_data_file(small, MNIST, "test_labels")  # hashed each time: too small to be worth an entry
    assert list(json.loads(digest_cache_path().read_text())) == [str(path.resolve())]


def test_a_cached_verdict_is_trusted_until_the_file_changes(tmp_path):
    path = large_unknown_file(tmp_path)
    read_data_file(path, MNIST, "train_images")
    # the cache now says this file is the official test images file: a verdict from the cache, not the content
    entries = json.loads(digest_cache_path().read_text())
    entries[str(path.resolve())][-1] = default_checksums("mnist")[MNIST_FILES["test_images"]]
    digest_cache_path().write_text(json.dumps(entries))
    with pytest.raises(DatasetFileError, match="official test images file"):
        read_data_file(path, MNIST, "train_images")
    write_idx(path, np.zeros((2000, 28, 28), np.uint8))  # a new file under the name: its content counts again
    assert read_data_file(path, MNIST, "train_images")[1] is False


def test_a_damaged_or_foreign_cache_file_is_ignored(tmp_path):
    digest_cache_path().parent.mkdir(parents=True)
    digest_cache_path().write_text("[[[not ours")
    path = large_unknown_file(tmp_path)
    assert read_data_file(path, MNIST, "train_images")[0].shape == (2000, 28, 28)
    assert str(path.resolve()) in json.loads(digest_cache_path().read_text())  # replaced by a good one


def test_the_environment_folder_is_what_the_tests_use(tiny_mnist):
    assert os.environ[DATA_ENV] == str(tiny_mnist)
