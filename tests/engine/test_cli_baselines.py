"""``evaluate --baselines`` (and with ``--curve``): every baseline beside the model, MSE, PSNR and SSIM, JSON keys
named after the baselines, on the model's own data set; the training images read only when something is fitted."""

from __future__ import annotations

import json

import numpy as np
import pytest

import engine.cli.evaluate
from engine.baselines import BaselineBank, baseline_names
from engine.cli import main
from engine.dataset import read_split
from engine.nn import build_mlp

LEVELS = ["--noise", "0.2", "0.5"]


def save_model(path, dataset: str = "mnist", noise=0.2, width: int = 6):
    model = build_mlp([784, width, 784], ["relu", "sigmoid"], seed=1)
    model.metadata["dataset"] = {"name": dataset}
    model.metadata["training"] = {"noise": noise, "noise_kind": "gaussian"}
    model.save(path)
    return path


@pytest.fixture
def splits_read(monkeypatch):
    """The (split, data set) pairs ``evaluate`` reads, in order."""
    read = []

    def spy(split, *args, **kwargs):
        read.append((split, kwargs.get("dataset", "mnist")))
        return read_split(split, *args, **kwargs)

    monkeypatch.setattr(engine.cli.evaluate, "read_split", spy)
    return read


def test_baselines_at_each_level_are_keyed_by_name_and_scored_as_the_bank_scores_them(tiny_mnist, tmp_path, capsys,
                                                                                      splits_read):  # fmt: skip
    path = save_model(tmp_path / "m.npz")
    assert main(["evaluate", str(path), *LEVELS, "--test-size", "16", "--baselines", "--json", "--workers", "1"]) == 0
    captured = capsys.readouterr()
    assert "64 MNIST training images" in captured.err and splits_read == [("test", "mnist"), ("train", "mnist")]
    report = json.loads(captured.out)
    bank = BaselineBank(lambda name: read_split("train", dataset=name)[0], workers=1)
    test = read_split("test", 16)[0]
    for result, level in zip(report["results"], (0.2, 0.5), strict=True):
        assert 0 < result["ssim"] < 1 and result["mse"] > 0
        assert list(result["baselines"]) == list(baseline_names(6))
        assert all(set(got) == {"mse", "psnr", "ssim", "setting"} for got in result["baselines"].values())
        for name in ("pca_6", "best_linear", "total_variation"):
            got = result["baselines"][name]
            assert got["mse"] == pytest.approx(bank.scores(name, test, "gaussian", level).mse, rel=1e-9), name
            assert got["setting"] == bank.denoiser(name, "gaussian", level).setting
    assert report["results"][1]["baselines"]["best_linear"]["setting"].startswith("fitted at σ 0.5")


def test_the_plain_table_reads_only_the_test_images_and_shows_ssim(tiny_mnist, tmp_path, capsys, splits_read):
    path = save_model(tmp_path / "m.npz")
    assert main(["evaluate", str(path), *LEVELS, "--test-size", "16"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert splits_read == [("test", "mnist")]
    assert lines[1].split() == ["sigma", "MSE", "PSNR", "dB", "SSIM", "noisy", "MSE"] and len(lines) == 4


def test_the_text_table_names_every_baseline_with_its_setting(tiny_mnist, tmp_path, capsys):
    path = save_model(tmp_path / "m.npz")
    assert main(["evaluate", str(path), "--noise", "0.3", "--test-size", "16", "--baselines", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    for words in ("m ", "the model", "noisy input", "PCA-6", "best linear denoiser", "fitted at σ 0.3",
                  "median filter", "Gaussian blur", "total-variation filter", "non-local-means filter",
                  "wavelet filter", "picked on 64 training images"):  # fmt: skip
        assert words in out, words


def test_the_curve_with_baselines_gives_every_method_mse_psnr_and_ssim_and_says_where_the_model_wins(
    tiny_mnist, tmp_path, capsys
):
    path = save_model(tmp_path / "m.npz", noise=[0.0, 0.8])  # trained on a range: its linear map too
    argv = ["evaluate", str(path), "--curve", "--baselines", "--noise", "0", "0.3", "0.6", "--test-size", "16",
            "--workers", "1"]  # fmt: skip
    assert main([*argv, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    names = ["model", *baseline_names(6), "best_linear_range"]
    assert sorted(payload["scores"]) == sorted(names)
    for name in names:
        assert all(len(payload["scores"][name][m]) == 3 for m in ("mse", "psnr", "ssim")), name
    assert [row["noisy_input"] for row in payload["curve"]] == payload["scores"]["noisy_input"]["mse"]
    assert payload["scores"]["noisy_input"]["ssim"][0] == pytest.approx(1.0)  # σ 0: the clean image itself
    assert payload["scores"]["best_linear_range"]["settings"][0] == "fitted at σ 0–0.8 on 64 training images"
    assert payload["summary"].startswith("m beats every baseline") and "the best linear denoiser" in payload["summary"]
    assert main([*argv[:5], "0", "0.6", *argv[8:]]) == 0  # the text tables, at two levels
    out = capsys.readouterr().out
    assert "test MSE" in out and "test PSNR (dB)" in out and "test SSIM" in out
    header = next(line for line in out.splitlines() if line.split()[:2] == ["sigma", "model"])
    assert header.split() == ["sigma", "model", "noisy", "PCA-6", "linear", "median", "blur", "TV", "NL-means",
                              "wavelet", "lin-range"]  # fmt: skip
    assert out.strip().splitlines()[-1].startswith("m beats every baseline")


def test_a_fashion_model_is_judged_against_baselines_fitted_on_fashion_training_images(tiny_mnist, tiny_fashion,
                                                                                        tmp_path, capsys,
                                                                                        splits_read):  # fmt: skip
    path = save_model(tmp_path / "f.npz", dataset="fashion_mnist")
    assert main(["evaluate", str(path), "--noise", "0.3", "--test-size", "16", "--baselines", "--json",
                 "--workers", "1"]) == 0  # fmt: skip
    captured = capsys.readouterr()
    assert "Fashion-MNIST training images" in captured.err
    assert splits_read == [("test", "fashion_mnist"), ("train", "fashion_mnist")]
    report = json.loads(captured.out)
    assert report["dataset"] == "fashion_mnist"
    fashion = BaselineBank(lambda name: read_split("train", dataset=name)[0], workers=1)
    test = read_split("test", 16, dataset="fashion_mnist")[0]
    got = report["results"][0]["baselines"]["best_linear"]["mse"]
    assert got == pytest.approx(fashion.scores("best_linear", test, "gaussian", 0.3, "fashion_mnist").mse, rel=1e-9)


@pytest.mark.parametrize("argv, words", [
    (["--workers", "0"], "--workers must be at least 1"),
    (["--curve", "--noise", "0.5", "0.2"], "two increasing --noise levels"),
    (["--curve", "--noise", "0.5"], "two increasing --noise levels"),
])  # fmt: skip
def test_bad_flags_are_usage_errors(argv, words, tiny_mnist, tmp_path, capsys):
    path = save_model(tmp_path / "m.npz")
    assert main(["evaluate", str(path), *argv]) == 2
    assert words in capsys.readouterr().err


def test_the_bank_owns_nothing_module_wide():
    """Two banks on different training sets keep their own fits (no cache shared between them)."""
    one = BaselineBank(lambda _: np.zeros((20, 784), np.uint8), workers=1)
    other = BaselineBank(lambda _: np.full((20, 784), 200, np.uint8), workers=1)
    assert not np.allclose(one.best_linear("gaussian", 0.2).bias, other.best_linear("gaussian", 0.2).bias)
