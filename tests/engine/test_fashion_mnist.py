"""Fashion-MNIST by name: the same code path as MNIST, its own folder, variable, cache and checksums.

Tiny generated IDX files stand in for the data everywhere except the tests marked as needing the
real files (``real_fashion_dir``: $DENOISE_STUDIO_FASHION_MNIST_DATA, set by .ci/run), which
skip, saying why, when the files are missing.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json

import numpy as np
import pytest

from engine import data_sources, download
from engine.cli import main
from engine.data_sources import FASHION_MNIST_SHA256, data_source, trained_on
from engine.dataset import Dataset, read_split
from engine.download import locate_data
from engine.idx import DatasetFileError
from engine.nn import MLP, build_mlp
from tests.conftest import FASHION_ENV, REAL_DATA_ENV, make_tiny_mnist
from tests.engine.test_download import MnistServer, _tiny_files

FASHION_URL_ENV = "DENOISE_STUDIO_FASHION_MNIST_URL"


@pytest.fixture
def no_installed_copy(monkeypatch):
    """Fashion-MNIST as if no package had installed it on this machine."""
    source = dataclasses.replace(download.SOURCES["fashion_mnist"], system_folders=())
    monkeypatch.setitem(download.SOURCES, "fashion_mnist", source)


@pytest.fixture
def user_cache(tmp_path, monkeypatch, no_installed_copy):
    """An empty per-user cache root; no data folder named for either set; local addresses bypass any proxy."""
    root = tmp_path / "user-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(root))  # platformdirs' per-user cache on Linux: root / "denoise-studio"
    for var in (REAL_DATA_ENV, FASHION_ENV, FASHION_URL_ENV, "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return root / "denoise-studio"


def test_the_two_sets_are_read_by_one_code_path_from_their_own_folders(tiny_mnist, tiny_fashion):
    mnist = Dataset("mnist", train_size=64, test_size=16)
    fashion = Dataset("fashion-mnist", train_size=64, test_size=16)
    assert (mnist.name, fashion.name) == ("mnist", "fashion_mnist")
    assert fashion.title == "Fashion-MNIST" and fashion.classes[9] == "Ankle boot"
    assert fashion.folder == tiny_fashion and mnist.folder == tiny_mnist
    assert fashion.train_u8.shape == (64, 784) and not np.array_equal(fashion.train_u8, mnist.train_u8)
    images, labels = read_split("test", dataset="fashion_mnist", download=False)
    assert np.array_equal(images, fashion.test_u8) and np.array_equal(labels, fashion.test_labels)


def test_a_named_folder_wins_over_the_variable(tiny_fashion, tmp_path):
    other = make_tiny_mnist(tmp_path / "elsewhere", seed=5)
    assert Dataset("fashion_mnist", train_size=64, test_size=16, data_dir=other).folder == other


def test_an_unknown_data_set_is_named_with_the_allowed_ones():
    with pytest.raises(ValueError) as info:
        Dataset("cifar10")
    assert "cifar10" in str(info.value) and "'fashion_mnist'" in str(info.value)


def test_the_fashion_variable_naming_a_missing_folder_says_which_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(FASHION_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(DatasetFileError) as info:
        Dataset("fashion_mnist")
    assert "Fashion-MNIST folder not found" in info.value.problem and FASHION_ENV in info.value.fix


def test_each_set_has_its_own_cache_folder(user_cache):
    assert download.cache_dir("mnist") == user_cache / "mnist"
    assert download.cache_dir("fashion_mnist") == user_cache / "fashion-mnist"


def test_fashion_downloads_into_its_own_cache_verified_against_its_own_checksums(
    user_cache, tmp_path, monkeypatch
):
    tiny = _tiny_files(tmp_path / "served")
    table = {name.removesuffix(".gz"): hashlib.sha256(gzip.decompress(body)).hexdigest() for name, body in tiny.items()}
    monkeypatch.setattr(data_sources, "FASHION_MNIST_SHA256", table)
    with MnistServer(tiny) as server:
        monkeypatch.setenv(FASHION_URL_ENV, server.url)
        data = Dataset("fashion_mnist", train_size=24, test_size=8, batch_size=8, progress=False)
    assert data.folder == user_cache / "fashion-mnist"
    assert sorted(p.name for p in data.folder.iterdir()) == sorted(tiny)
    assert not (user_cache / "mnist").exists()  # MNIST's cache is another folder, untouched


def test_the_real_fashion_checksums_reject_other_files(user_cache, tmp_path):
    with MnistServer(_tiny_files(tmp_path / "served")) as server, pytest.raises(DatasetFileError) as info:
        locate_data("fashion_mnist", base_url=server.url, progress=False)
    assert "checksum mismatch" in info.value.problem and "not Fashion-MNIST" in info.value.problem
    assert FASHION_URL_ENV in info.value.fix and FASHION_ENV in info.value.fix
    assert [p for p in (user_cache / "fashion-mnist").iterdir() if not p.name.startswith(".")] == []


def test_an_installed_copy_is_used_before_any_download(user_cache, tmp_path, monkeypatch):
    installed = make_tiny_mnist(tmp_path / "usr-share", seed=2)
    folders = (str(tmp_path / "none"), str(installed))
    source = dataclasses.replace(download.SOURCES["fashion_mnist"], system_folders=folders)
    monkeypatch.setitem(download.SOURCES, "fashion_mnist", source)
    paths = locate_data("fashion_mnist", download=False)
    assert {p.parent for p in paths.values()} == {installed}


def test_without_data_or_download_the_error_names_the_set(user_cache):
    with pytest.raises(DatasetFileError) as info:
        locate_data("fashion_mnist", download=False)
    assert "Fashion-MNIST file missing" in info.value.problem


def test_cli_trains_on_fashion_by_name_and_the_file_records_it(tiny_mnist, tiny_fashion, tmp_path, capsys):
    out = tmp_path / "fashion.npz"
    argv = ["train", "--dataset", "fashion-mnist", "--epochs", "1", "--batch-size", "16", "--train-size", "64",
            "--test-size", "16", "--layers", "784:6:relu,784:sigmoid", "--quiet", "-o", str(out)]  # fmt: skip
    assert main(argv) == 0
    model = MLP.from_file(out)
    assert model.metadata["dataset"]["name"] == "fashion_mnist" and trained_on(model.metadata) == "fashion_mnist"
    fashion = Dataset("fashion_mnist", train_size=1, test_size=16, batch_size=1)
    assert model.metadata["metrics"]["test_mse@0.1"] == model.evaluate(fashion, 0.1)["mse"]
    capsys.readouterr()

    # evaluate defaults to the set the model was trained on; --dataset picks another
    assert main(["evaluate", str(out), "--noise", "0.1", "--test-size", "16", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dataset"] == "fashion_mnist"
    assert report["results"][0]["mse"] == model.evaluate(fashion, 0.1)["mse"]
    assert main(["evaluate", str(out), "--noise", "0.1", "--test-size", "16", "--json", "--dataset", "mnist"]) == 0
    mnist = Dataset("mnist", train_size=1, test_size=16, batch_size=1)
    assert json.loads(capsys.readouterr().out)["results"][0]["mse"] == model.evaluate(mnist, 0.1)["mse"]


def test_a_resumed_run_keeps_its_data_set(tiny_mnist, tiny_fashion, tmp_path, capsys):
    common = ["--batch-size", "16", "--train-size", "64", "--test-size", "16", "--layers", "784:6:relu,784:sigmoid",
              "--quiet"]  # fmt: skip
    assert main(["train", "--dataset", "fashion-mnist", "--epochs", "3", *common, "-o", str(tmp_path / "a.npz")]) == 0
    assert main(["train", "--dataset", "fashion-mnist", "--epochs", "1", *common, "-o", str(tmp_path / "b.npz")]) == 0
    capsys.readouterr()
    resume = ["train", "--resume", str(tmp_path / "b.ckpt.npz"), "--epochs", "3", "--dataset", "mnist", "--quiet"]
    assert main([*resume, "-o", str(tmp_path / "c.npz")]) == 0
    assert "ignored --dataset mnist" in capsys.readouterr().err
    straight, resumed = MLP.from_file(tmp_path / "a.npz"), MLP.from_file(tmp_path / "c.npz")
    assert np.array_equal(straight.params, resumed.params)
    assert trained_on(resumed.metadata) == "fashion_mnist"


def test_fit_on_a_dataset_records_its_name(tiny_fashion):
    model = build_mlp([784, 4, 784], ["relu", "sigmoid"])
    model.fit(Dataset("fashion_mnist", train_size=32, test_size=8), epochs=1, batch_size=16)
    assert model.metadata["dataset"]["name"] == "fashion_mnist"


def test_models_from_before_fashion_read_as_mnist_models():
    assert trained_on({}) == "mnist"
    assert trained_on(MLP.from_file("mnist_denoising_autoencoder").metadata) == "mnist"
    assert data_source("Fashion-MNIST").name == "fashion_mnist"


# ----- the real files ------------------------------------------------------------------------


def test_real_fashion_files_match_the_published_checksums_and_counts(real_fashion_dir):
    for stem, digest in FASHION_MNIST_SHA256.items():
        path = download.find_file(real_fashion_dir, stem)
        assert path is not None, stem
        download.verify(path, stem, data_set=download.SOURCES["fashion_mnist"])  # raises on a mismatch
        assert digest == FASHION_MNIST_SHA256[stem]
    data = Dataset("fashion_mnist", data_dir=real_fashion_dir)
    assert data.train_u8.shape == (60000, 784) and data.test_u8.shape == (10000, 784)
    assert data.train_labels[:5].tolist() == [9, 0, 0, 3, 0] and data.test_labels[:5].tolist() == [9, 2, 1, 1, 6]
    assert np.bincount(data.train_labels).tolist() == [6000] * 10
    assert np.bincount(data.test_labels).tolist() == [1000] * 10
    pixels = data.train_u8 / 255
    assert pixels.mean() == pytest.approx(0.2860, abs=5e-4) and pixels.std() == pytest.approx(0.3530, abs=5e-4)


def test_the_shipped_fashion_model_meets_its_goal_on_the_real_test_set(real_fashion_dir):
    model = MLP.from_file("fashion_mnist_denoising_autoencoder")
    assert [layer.n_out for layer in model.layers] == [10, 784]
    assert trained_on(model.metadata) == "fashion_mnist"
    data = Dataset("fashion_mnist", train_size=1, test_size=10000, batch_size=1, data_dir=real_fashion_dir)
    scores = model.evaluate(data, 0.1)
    assert scores["mse"] <= 0.0230
    assert scores["mse"] == pytest.approx(model.metadata["metrics"]["test_mse@0.1"], rel=1e-6)


FASHION_BEST_LINEAR = {0.05: 0.00121, 0.1: 0.00339, 0.2: 0.00774, 0.3: 0.01164, 0.4: 0.01518, 0.5: 0.01838,
                       0.7: 0.02399, 0.9: 0.02881, 1.0: 0.03103}  # fmt: skip
"""Test MSE of the best linear denoiser fitted on the Fashion-MNIST training images at each σ, under the fixed
evaluation noise draw (docs/benchmarks.md; `bench/quality.py` reproduces it; fitting nine here would take minutes)."""


@pytest.fixture(scope="module")
def fashion_test_set(real_fashion_dir) -> Dataset:
    return Dataset("fashion_mnist", train_size=1, test_size=10000, batch_size=1, data_dir=real_fashion_dir)


@pytest.fixture(scope="module")
def gated_fashion() -> MLP:
    return MLP.from_file("fashion_mnist_denoising_autoencoder_gated")


def test_the_gated_fashion_model_is_the_mnist_default_recipe_trained_on_fashion(gated_fashion):
    model = gated_fashion
    assert trained_on(model.metadata) == "fashion_mnist"
    assert model.skip is not None and model.skip.kind == "gate"
    assert [layer.n_out for layer in model.layers] == [1024, 1024, 784]
    assert model.metadata["training"]["noise"] == [0.0, 1.0] and model.metadata["training"]["noise_weighting"] == 0.05


@pytest.mark.parametrize("sigma", sorted(FASHION_BEST_LINEAR))
def test_the_gated_fashion_model_beats_the_best_linear_denoiser(gated_fashion, fashion_test_set, sigma):
    assert gated_fashion.evaluate(fashion_test_set, sigma)["mse"] < FASHION_BEST_LINEAR[sigma]
