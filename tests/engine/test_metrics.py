"""SSIM beside MSE and PSNR: all images at once, equal to scikit-image's per-image value; and where scores carry it."""

from __future__ import annotations

import re

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from engine.metrics import Scores, is_square_image, mse, psnr, scores, ssim
from engine.nn import build_mlp
from engine.noise import fixed_noisy


def blobs(n: int, seed: int, shape=(28, 28)) -> np.ndarray:
    """Dark images with one bright rectangle each, float32 in [0, 1]: (n, h, w)."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, *shape), np.float32)
    for img in images:
        r, c = rng.integers(1, shape[0] // 2), rng.integers(1, shape[1] // 2)
        img[r : r + rng.integers(3, 10), c : c + rng.integers(3, 10)] = rng.uniform(0.5, 1)
    return images


def reference(pred: np.ndarray, target: np.ndarray) -> float:
    """scikit-image, one image at a time, data range 1."""
    return float(np.mean([structural_similarity(p, t, data_range=1.0) for p, t in zip(pred, target, strict=True)]))


@pytest.mark.parametrize("shape", [(28, 28), (20, 33), (7, 7)])
def test_ssim_is_scikit_images_mean_over_the_images(shape):
    clean = blobs(40, 0, shape)
    noisy = np.clip(clean + 0.3 * np.random.default_rng(1).standard_normal(clean.shape), 0, 1).astype(np.float32)
    assert ssim(noisy, clean) == pytest.approx(reference(noisy, clean), abs=1e-6)
    smooth = np.random.default_rng(2).uniform(0.4, 0.6, clean.shape).astype(np.float32)  # near-flat windows
    assert ssim(smooth, clean) == pytest.approx(reference(smooth, clean), abs=1e-6)


def test_ssim_reads_flat_rows_as_square_images_and_scores_each_image_alike():
    clean = blobs(3000, 3)  # more than one chunk of images
    noisy = fixed_noisy(clean.reshape(len(clean), -1), 0.2)
    assert ssim(noisy, clean.reshape(len(clean), -1)) == pytest.approx(ssim(noisy.reshape(clean.shape), clean))
    assert ssim(noisy[:50], clean[:50].reshape(50, -1)) == pytest.approx(reference(noisy[:50].reshape(-1, 28, 28),
                                                                                    clean[:50]), abs=1e-6)  # fmt: skip


def test_ssim_is_one_for_a_perfect_match_and_falls_with_the_noise():
    clean = blobs(50, 4).reshape(50, -1)
    values = [ssim(fixed_noisy(clean, s), clean) for s in (0.0, 0.1, 0.3, 0.6)]
    assert values[0] == pytest.approx(1.0)
    assert values == sorted(values, reverse=True) and values[-1] < 0.5


@pytest.mark.parametrize("pred, target, words", [
    (np.zeros((2, 784)), np.zeros((3, 784)), "same shape"),
    (np.zeros((2, 5, 5)), np.zeros((2, 5, 5)), "at least 7"),
    (np.zeros((2, 700)), np.zeros((2, 700)), "square"),
    (np.zeros(784), np.zeros(784), "(n, h, w)"),
])  # fmt: skip
def test_ssim_refuses_what_is_not_a_stack_of_images(pred, target, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        ssim(pred, target)


def test_scores_carry_mse_psnr_and_ssim_and_write_strict_json():
    clean = blobs(20, 5).reshape(20, -1)
    noisy = fixed_noisy(clean, 0.2)
    got = scores(noisy, clean)
    assert got == Scores(mse(noisy, clean), psnr(mse(noisy, clean)), ssim(noisy, clean))
    assert scores(clean, clean).as_dict() == {"mse": 0.0, "psnr": None, "ssim": pytest.approx(1.0)}


def test_evaluate_reports_the_ssim_of_its_reconstructions():
    model = build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=0)
    clean = blobs(30, 6).reshape(30, -1)
    result = model.evaluate(clean, 0.3)
    assert result["ssim"] == pytest.approx(ssim(model.predict(fixed_noisy(clean, 0.3)), clean), rel=1e-6)
    assert is_square_image(784) and not is_square_image(700) and not is_square_image(36)


def test_evaluate_without_ssim_gives_the_same_errors_and_no_ssim():
    """The app's status bar and the CLI's saved score need only the MSE: SSIM (as costly as a small model's
    reconstructions) is left out when asked, nothing else changes."""
    model = build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=0)
    clean = blobs(30, 6).reshape(30, -1)
    full, quick = model.evaluate(clean, 0.3), model.evaluate(clean, 0.3, with_ssim=False)
    assert "ssim" not in quick and quick == {key: value for key, value in full.items() if key != "ssim"}
