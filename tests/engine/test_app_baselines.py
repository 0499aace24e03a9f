"""What the app shows of the baselines, computed by the engine: one image through a baseline with its three scores,
the test images a slow filter's curve scores, a curve's values in each metric, the sentence in each metric, the best
linear level for a run's loss plot, and a model beside the best linear denoiser for the Guide."""

from __future__ import annotations

import numpy as np
import pytest

from engine.baselines import (
    BaselineBank,
    best_linear_mse,
    curve_images,
    denoise_image,
    strongest,
)
from engine.linear_denoiser import fit_linear_denoiser
from engine.metrics import image_scores, psnr, scores
from engine.nn import build_mlp
from engine.noise import fixed_noisy
from engine.robustness import as_errors, compare_with_linear, describe_baselines, robustness_curve
from tests.engine.test_classical import digits

TRAIN, TEST = digits(64, 10), digits(16, 11)


def test_one_image_through_a_baseline_is_scored_against_the_clean_one_and_an_empty_canvas_is_not():
    bank = BaselineBank(lambda name: TRAIN, workers=1)
    linear = bank.denoiser("best_linear", "gaussian", 0.3)
    clean = TEST[0].reshape(28, 28)
    noisy = fixed_noisy(TEST[:1], 0.3)[0].reshape(28, 28)
    shown = denoise_image(linear, noisy, clean)
    expected = scores(linear(noisy.reshape(1, 784)).reshape(1, 28, 28), clean.reshape(1, 28, 28))
    assert shown.image.shape == (28, 28)
    assert (shown.scores.mse, shown.scores.psnr, shown.scores.ssim) == pytest.approx(
        (expected.mse, expected.psnr, expected.ssim), rel=1e-6
    )
    assert denoise_image(linear, noisy, np.zeros((28, 28))).scores is None  # nothing drawn: nothing to score
    assert image_scores(clean, clean).mse == 0 and image_scores(clean, clean).ssim == pytest.approx(1.0)


def test_only_a_slow_filter_scores_a_fixed_evenly_spread_subset():
    test = np.arange(5000)[:, None] * np.ones((1, 4), np.int64)
    for name in ("total_variation", "nl_means", "wavelet", "median"):
        chosen = curve_images(name, test, limit=100)
        assert len(chosen) == 100 and chosen[0, 0] == 0 and chosen[-1, 0] == 4999
        np.testing.assert_array_equal(chosen, curve_images(name, test, limit=100))  # the same choice each time
    for name in ("best_linear", "gaussian_blur", "pca_10", "noisy_input"):
        assert len(curve_images(name, test, limit=100)) == 5000


def test_the_strongest_is_the_lowest_error():
    assert strongest({"noisy_input": 0.05, "best_linear": 0.009, "median": 0.02}) == "best_linear"
    with pytest.raises(ValueError):
        strongest({})


def test_a_curve_gives_each_metric_and_a_perfect_psnr_as_a_gap():
    bank = BaselineBank(lambda name: TRAIN, workers=1)
    curve = bank.curve("noisy_input", TEST, "gaussian", [0.0, 0.3])
    psnrs = curve.values("psnr")
    assert np.isnan(psnrs[0]) and psnrs[1] == pytest.approx(psnr(curve.mse[1]))
    np.testing.assert_array_equal(curve.values("ssim"), curve.ssim)
    model = build_mlp([784, 6, 784], ["relu", "sigmoid"], seed=0)
    mcurve = robustness_curve(model, TRAIN, TEST, [0.0, 0.3], ssim=True)
    assert np.isnan(mcurve.values("noisy_input", "psnr")[0])
    assert mcurve.values("model", "ssim")[1] == pytest.approx(mcurve.ssim["model"][1])
    with pytest.raises(ValueError, match="unknown metric"):
        curve.values("mae")


def test_the_sentence_compares_in_the_chosen_metric_higher_being_better_for_psnr_and_ssim():
    s = np.array([0.0, 0.1, 0.2, 0.3])
    model_mse, linear_mse = np.array([0.01, 0.02, 0.03, 0.04]), np.array([0.005, 0.015, 0.035, 0.06])
    text = describe_baselines(s, model_mse, {"best_linear": linear_mse})
    assert "beats every baseline from σ ≈ 0.1" in text and "the strongest is the best linear denoiser" in text
    model_psnr = np.array([psnr(v) for v in model_mse])
    linear_psnr = np.array([psnr(v) for v in linear_mse])
    assert describe_baselines(s, model_psnr, {"best_linear": linear_psnr}, metric="psnr") == text[:-2] + " by PSNR)."
    ssim_text = describe_baselines(s, 1 - model_mse, {"best_linear": 1 - linear_mse}, metric="ssim")
    assert "from σ ≈ 0.1" in ssim_text and ssim_text.endswith("by SSIM).")
    assert as_errors([np.inf, 20.0], "psnr")[0] == 0 and as_errors([20.0], "psnr")[0] == pytest.approx(0.01)


def test_the_best_linear_level_is_that_fit_scored_on_the_fixed_noisy_test_images():
    level = best_linear_mse(TRAIN, TEST, 0.3)
    linear = fit_linear_denoiser(TRAIN, 0.3)
    expected = float(np.mean((linear(fixed_noisy(TEST, 0.3)).astype(np.float64) - TEST) ** 2))
    assert level == pytest.approx(expected, rel=1e-6)


def test_a_smaller_tuning_set_is_the_banks_own_choice():
    few, many = BaselineBank(lambda n: TRAIN, workers=1, tune_images=8), BaselineBank(lambda n: TRAIN, workers=1)
    assert few.denoiser("median", "gaussian", 0.4).tuned_on == 8
    assert many.denoiser("median", "gaussian", 0.4).tuned_on == len(TRAIN)  # 64 < TUNE_IMAGES: all of them


def test_a_model_beside_the_best_linear_denoiser_at_each_level():
    bank = BaselineBank(lambda name: TRAIN, workers=1)
    model = build_mlp([784, 6, 784], ["relu", "sigmoid"], seed=0)
    found = compare_with_linear(model, bank, TEST, [0.1, 0.5])
    for i, level in enumerate((0.1, 0.5)):
        assert found.model[i] == model.evaluate(TEST, level)["mse"]
        assert found.linear[i] == bank.scores("best_linear", TEST, "gaussian", level).mse
    assert found.words == "nowhere"  # an untrained model loses to the fitted map


def test_the_strongest_at_a_level_is_the_lowest_mse_of_every_baseline_scored_there():
    bank = BaselineBank(lambda name: TRAIN, workers=1, tune_images=16)
    name, found = bank.strongest_at(TEST, "gaussian", 0.4)
    every = {n: bank.scores(n, TEST, "gaussian", 0.4).mse for n in ("noisy_input", "best_linear", "median",
                                                                    "gaussian_blur", "total_variation", "nl_means",
                                                                    "wavelet")}  # fmt: skip
    assert name == min(every, key=every.get) and found.mse == every[name]
