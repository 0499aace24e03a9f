"""The robustness curve: each point is the test MSE at that sigma; crossings come from the curves and read as words."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.baselines import noisy_input_mse, pca_mse
from engine.cli import main
from engine.nn import build_mlp
from engine.robustness import Cancelled, RobustnessCurve, crossings, describe, robustness_curve, where_better


def blobs(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    for img in images:
        r, c = rng.integers(4, 14, size=2)
        img[r : r + 8, c : c + 6] = 200
    return images.reshape(n, 784)


def test_each_point_is_the_models_test_score_at_that_sigma():
    model = build_mlp([784, 6, 784], ["relu", "sigmoid"], seed=0)
    train, test = blobs(40, 0), blobs(12, 1)
    sigmas = [0.0, 0.2, 0.5, 1.0]
    second = build_mlp([784, 9, 784], ["relu", "sigmoid"], seed=1)
    curve = robustness_curve(model, train, test, sigmas, second=second)
    for i, sigma in enumerate(sigmas):
        assert curve.model[i] == model.evaluate(test, sigma)["mse"]  # the same fixed noise, to the bit
        assert curve.second[i] == second.evaluate(test, sigma)["mse"]
        assert curve.noisy_input[i] == noisy_input_mse(test, sigma)
        assert curve.pca[i] == pca_mse(train, test, sigma, 6)
    assert curve.components == 6 and curve.noisy_input[0] == 0  # no noise: the input is the answer


def test_cancelling_stops_between_points_and_progress_is_reported():
    seen = []
    with pytest.raises(Cancelled):
        robustness_curve(build_mlp([784, 4, 784], ["relu", "sigmoid"]), blobs(20, 0), blobs(5, 1),
                         progress=seen.append, cancelled=lambda: len(seen) >= 2)  # fmt: skip
    assert seen == [pytest.approx(1 / 21), pytest.approx(2 / 21)]


def test_crossings_are_interpolated_between_points():
    s = np.linspace(0, 1, 11)
    model = 0.03 + 0.02 * s
    noisy = 0.25 * s**2  # crosses where 0.25 s^2 = 0.03 + 0.02 s: s = 0.3898...
    (point,) = crossings(s, model, noisy)
    assert point == pytest.approx(0.387, abs=0.01)  # linear between the 0.3 and 0.4 points
    assert crossings(s, model, model + 1) == []


@pytest.mark.parametrize(
    "a, b, words",
    [
        (np.full(5, 1.0), np.full(5, 2.0), "everywhere"),
        (np.full(5, 3.0), np.full(5, 2.0), "nowhere"),
        (np.array([3, 2, 1, 0, 0.0]), np.full(5, 1.5), "from σ ≈ 0.38"),
        (np.array([0, 1, 2, 3, 3.0]), np.full(5, 1.5), "up to σ ≈ 0.38"),
        (np.array([3, 3, 1, 3, 3.0]), np.full(5, 2.0), "between σ ≈ 0.38 and 0.62"),
    ],
)
def test_where_one_curve_beats_another_in_words(a, b, words):
    assert where_better(np.linspace(0, 1, 5), a, b) == words


@pytest.mark.parametrize(
    "a, words",
    [
        (np.array([0.001, 0.01, 0.02, 0.03, 0.04]), "at every σ from 0.25"),
        (np.array([0.001, 0.01, 0.02, 0.3, 0.4]), "from σ 0.25 up to σ ≈ 0.55"),
    ],
)
def test_a_crossing_just_above_no_noise_is_named_by_the_first_level_measured_there(a, words):
    """At σ 0 the noisy input is the clean image: a model loses there and wins at the next level; interpolating
    between the two put the crossing at σ ≈ 0.00 (read: everywhere) or at a made-up level."""
    s = np.linspace(0, 1, 5)
    assert where_better(s, a, 0.25 * s**2) == words


def test_the_sentence_names_both_baselines():
    s = np.linspace(0, 1, 5)
    curve = RobustnessCurve(s, np.full(5, 0.03), 0.1 * s, np.full(5, 0.04), 10)
    assert describe(curve, "This model") == (
        "This model beats the noisy input from σ ≈ 0.30; beats PCA-10 everywhere (σ from 0 to 1)."
    )


def test_the_cli_prints_the_curve_as_a_table_and_as_json(tiny_mnist, tmp_path, capsys):
    path = tmp_path / "m.npz"
    build_mlp([784, 5, 784], ["relu", "sigmoid"], seed=2).save(path)
    assert main(["evaluate", str(path), "--curve", "--test-size", "16"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["sigma", "model", "PSNR", "dB", "SSIM", "noisy", "input", "PCA-5"]
    assert len(lines) == 1 + 21 + 1 and lines[-1].startswith("m beats the noisy input")
    assert main(["evaluate", str(path), "--curve", "--json", "--test-size", "16"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [row["sigma"] for row in payload["curve"]] == pytest.approx(np.linspace(0, 1, 21))
    assert payload["pca_components"] == 5 and payload["summary"] == lines[-1]
