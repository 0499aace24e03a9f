"""The baseline bank: every baseline fitted or tuned on training images only, scored on test images as a model is,
kept in bounded caches it owns, with progress and cancel for the app's jobs."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from engine.baselines import (
    BaselineBank,
    baseline_names,
    baseline_title,
    noisy_input_mse,
    pca_mse,
)
from engine.linear_denoiser import LinearDenoiser
from engine.lru import LruCache
from engine.metrics import scores
from engine.noise import fixed_noisy
from engine.progress import Cancelled
from tests.engine.test_classical import digits

TRAIN, TEST = digits(64, 10), digits(16, 11)
FILTER_NAMES = ["median", "gaussian_blur", "total_variation", "nl_means", "wavelet"]


class Loader:
    """Gives the training images by data set name and remembers what it was asked for."""

    def __init__(self, images: np.ndarray = TRAIN) -> None:
        self.images, self.asked = images, []

    def __call__(self, dataset: str) -> np.ndarray:
        self.asked.append(dataset)
        return self.images


def test_every_baseline_has_a_json_name_and_a_title():
    assert baseline_names(10) == ("noisy_input", "pca_10", "best_linear", *FILTER_NAMES)
    assert baseline_names(784) == baseline_names() == ("noisy_input", "best_linear", *FILTER_NAMES)
    titles = [baseline_title(n) for n in (*baseline_names(64), "best_linear_range")]
    assert titles[:3] == ["noisy input", "PCA-64", "best linear denoiser"] and len(set(titles)) == len(titles)
    curve = BaselineBank(Loader(), workers=1).curve("median", TEST, "gaussian", [0.0, 0.3])
    payload = json.loads(json.dumps(curve.as_dict()))  # strict JSON: the perfect PSNR at level 0 is null
    assert payload["title"] == "median filter" and payload["psnr"][0] is None and len(payload["settings"]) == 2


@pytest.mark.parametrize("name", ["noisy_input", "pca_8", "best_linear", "median", "wavelet"])
def test_each_point_scores_that_levels_denoiser_on_the_evaluation_noise(name):
    bank = BaselineBank(Loader(), workers=1)
    levels = [0.0, 0.2, 0.5]
    curve = bank.curve(name, TEST, "gaussian", levels)
    for i, level in enumerate(levels):
        denoiser = bank.denoiser(name, "gaussian", level)
        expected = scores(denoiser(fixed_noisy(TEST, level)), TEST)
        assert (curve.mse[i], curve.psnr[i], curve.ssim[i]) == pytest.approx(
            (expected.mse, expected.psnr, expected.ssim), rel=1e-6
        )
        assert curve.settings[i] == denoiser.setting
        assert bank.scores(name, TEST, "gaussian", level).mse == pytest.approx(curve.mse[i], rel=1e-9)
    if name == "noisy_input":
        assert list(curve.mse) == [noisy_input_mse(TEST, s) for s in levels]
    if name == "pca_8":
        assert curve.mse == pytest.approx([pca_mse(TRAIN, TEST, s, 8) for s in levels], rel=1e-6)


def test_fits_and_tuning_read_training_images_only_never_the_test_set():
    """The bank's only way to data is the training-image loader; test images that would wreck any tuning that
    read them (all NaN) change the scores, never the fitted maps nor the strengths picked."""
    loader = Loader()
    bank = BaselineBank(loader, workers=1)
    poisoned = np.full(TEST.shape, np.nan, np.float32)
    levels = [0.2, 0.5]
    for name in ["best_linear", *FILTER_NAMES]:
        fair = bank.curve(name, TEST, "gaussian", levels)
        fresh = BaselineBank(Loader(), workers=1)  # nothing kept from the fair run
        wrecked = fresh.curve(name, poisoned, "gaussian", levels)
        assert wrecked.settings == fair.settings, name
        assert np.isnan(wrecked.mse).all() and np.isfinite(fair.mse).all()
        if name == "best_linear":
            assert np.array_equal(fresh.best_linear("gaussian", 0.5).weights, bank.best_linear("gaussian", 0.5).weights)
    assert loader.asked == ["mnist"]  # read once, by name, and kept


def test_a_fit_is_kept_until_the_least_recently_used_must_go():
    bank = BaselineBank(Loader(), workers=1, capacity=2)
    first, second = bank.best_linear("gaussian", 0.1), bank.best_linear("gaussian", 0.2)
    assert isinstance(first, LinearDenoiser) and bank.best_linear("gaussian", 0.1) is first  # kept (and now recent)
    bank.best_linear("gaussian", 0.3)  # a third fit: the least recently used (0.2) goes
    assert bank.best_linear("gaussian", 0.1) is first
    assert bank.best_linear("gaussian", 0.2) is not second
    assert bank.best_linear("masking", 0.1) is not bank.best_linear("gaussian", 0.1)  # per noise kind
    assert bank.best_linear("gaussian", 0.1, "Fashion-MNIST") is not bank.best_linear("gaussian", 0.1, "mnist")


def test_two_threads_asking_for_one_missing_value_share_one_computation():
    cache, release, calls = LruCache(4), threading.Event(), []

    def slow() -> str:
        calls.append(1)
        release.wait(timeout=30)
        return "fitted"

    results = []
    first = threading.Thread(target=lambda: results.append(cache.get("key", slow)))
    second = threading.Thread(target=lambda: results.append(cache.get("key", slow)))
    first.start()
    second.start()
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert results == ["fitted", "fitted"] and calls == [1]
    with pytest.raises(RuntimeError):
        cache.get("other", lambda: (_ for _ in ()).throw(RuntimeError("fit failed")))
    assert "other" not in cache and cache.get("other", lambda: "second try") == "second try"


def test_a_curve_reports_progress_and_a_cancelled_one_keeps_nothing():
    bank = BaselineBank(Loader(), workers=1)
    seen: list[float] = []
    bank.curve("total_variation", TEST, "gaussian", [0.1, 0.3, 0.6], progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 6
    asked = []

    def cancel_on_the_second_look() -> bool:
        asked.append(1)
        return len(asked) >= 2

    with pytest.raises(Cancelled):
        bank.curve("best_linear", TEST, "gaussian", [0.1, 0.3, 0.6], cancelled=cancel_on_the_second_look)
    done = bank.curve("best_linear", TEST, "gaussian", [0.1, 0.3, 0.6])  # computed afresh, whole
    assert np.isfinite(done.mse).all() and len(done.settings) == 3


def test_the_range_fitted_linear_map_is_shown_apart_and_needs_its_range():
    bank = BaselineBank(Loader(), workers=1)
    ranged = bank.curve("best_linear_range", TEST, "gaussian", [0.1, 0.5], noise_range=(0.0, 0.8))
    assert set(ranged.settings) == {"fitted at σ 0–0.8 on 64 training images"}
    per_level = bank.curve("best_linear", TEST, "gaussian", [0.1, 0.5])
    assert per_level.settings == ("fitted at σ 0.1 on 64 training images", "fitted at σ 0.5 on 64 training images")
    with pytest.raises(ValueError, match="noise_range"):
        bank.denoiser("best_linear_range", "gaussian", 0.1)


@pytest.mark.parametrize("name", ["bm3d", "pca_0", "pca_x", "PCA-10"])
def test_an_unknown_baseline_is_named_with_the_known_ones(name):
    with pytest.raises(ValueError, match="known: noisy_input, pca_K, best_linear"):
        BaselineBank(Loader(), workers=1).curve(name, TEST, "gaussian", [0.1])


def test_a_best_linear_curve_fits_its_levels_in_one_pass_each_as_fitting_that_level_alone(monkeypatch):
    """The curve fits all its levels in one pass over the training images (not one pass a level), keeps each
    level's fit (asked for afterwards, it is not fitted again), and each is the fit of that level alone."""
    import engine.baselines
    from engine.linear_denoiser import fit_linear_denoiser

    def refuse(*args, **kwargs):
        raise AssertionError("a level fitted on its own")

    monkeypatch.setattr(engine.baselines, "fit_linear_denoiser", refuse)
    bank = BaselineBank(Loader(), workers=1)
    curve = bank.curve("best_linear", TEST, "gaussian", [0.0, 0.2, 0.5])
    kept = bank.denoiser("best_linear", "gaussian", 0.2)
    np.testing.assert_array_equal(kept.weights, fit_linear_denoiser(TRAIN, 0.2).weights)
    assert curve.settings[1] == kept.setting


def test_the_slow_filters_curves_share_the_banks_worker_processes_until_it_is_closed():
    """Starting a worker process imports scikit-image again (~1 s each): one curve after another keeps them."""
    import multiprocessing

    bank, here = BaselineBank(Loader(), workers=2, tune_images=8), BaselineBank(Loader(), workers=1, tune_images=8)
    try:
        first = bank.curve("wavelet", TEST, "gaussian", [0.3])
        workers = {p.pid for p in multiprocessing.active_children()}
        second = bank.curve("median", TEST, "gaussian", [0.3])
        assert workers and {p.pid for p in multiprocessing.active_children()} == workers
    finally:
        bank.close()
    assert not multiprocessing.active_children()
    for curve in (first, second):  # the workers give what this process gives
        again = here.curve(curve.name, TEST, "gaussian", [0.3])
        np.testing.assert_array_equal(curve.mse, again.mse)
        assert curve.settings == again.settings
