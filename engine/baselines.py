"""The levels a denoiser must beat on a data set: the noisy input itself, and PCA with as many components.

Doing nothing scores the noisy input's error; PCA with k components is the best *linear* code of
k numbers.  A denoising autoencoder with a k-unit bottleneck is worth its training where it
beats both.  Both are scored like ``MLP.evaluate``: on the clean test images against their fixed
noisy copy (``engine.noise.EVAL_NOISE_SEED``).  PCA is fitted on all the clean training images;
the principal axes are computed once per training set (any k reuses them), and each score once
per (data set, sigma, k), so the app's tabs and ``bench/quality.py`` share one computation.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

import numpy as np

from engine.images import as_unit_float
from engine.metrics import mse
from engine.noise import check_kind, check_level, fixed_noisy
from engine.pca import PCA, principal_axes

_lock = threading.Lock()
_axes: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # training-set fingerprint -> (mean, axes, variances)
_scores: dict[tuple, float | None] = {}


@dataclass(frozen=True)
class Baselines:
    """Test MSE of doing nothing and of PCA-k at one noise level; ``pca`` is None when k >= the pixel count."""

    sigma: float
    components: int
    noisy_input: float
    pca: float | None
    kind: str = "gaussian"


def fit_pca(train_images: np.ndarray, k: int) -> PCA:
    """PCA with ``k`` components of clean training images (n, 784) uint8 or float in [0, 1]; cached."""
    pca = PCA(k)
    mean, axes, _ = _principal_axes(train_images)
    return pca.set_axes(mean, axes)


def pca_variances(train_images: np.ndarray) -> np.ndarray:
    """The variance of clean training images (n, 784) along each principal axis, strongest first: (784,)
    float64, in pixel units of [0, 1]; computed with the axes ``fit_pca`` uses (cached)."""
    return _principal_axes(train_images)[2].copy()


def baselines(
    train_images: np.ndarray, test_images: np.ndarray, sigma: float, k: int, kind: str = "gaussian"
) -> Baselines:
    """Noisy-input and PCA-k test MSE at noise level ``sigma`` of ``kind`` (σ, or the fraction of pixels hit);
    images (n, 784) uint8 or float in [0, 1]; cached."""
    kind = check_kind(kind)
    return Baselines(
        check_level(sigma, kind),
        int(k),
        noisy_input_mse(test_images, sigma, kind),
        pca_mse(train_images, test_images, sigma, k, kind),
        kind,
    )


def noisy_input_mse(test_images: np.ndarray, sigma: float, kind: str = "gaussian") -> float:
    """MSE of the fixed noisy copy of clean test images (n, 784) against them: what doing nothing scores; cached."""
    kind = check_kind(kind)
    sigma = check_level(sigma, kind)
    key = ("noisy", _fingerprint(test_images), sigma, kind)
    with _lock:
        if key in _scores:
            return _scores[key]
    clean = as_unit_float(test_images).reshape(len(test_images), -1)
    value = mse(fixed_noisy(clean, sigma, kind=kind), clean)
    with _lock:
        _scores[key] = value
    return value


def pca_mse(
    train_images: np.ndarray, test_images: np.ndarray, sigma: float, k: int, kind: str = "gaussian"
) -> float | None:
    """MSE of PCA-k reconstructions of the fixed noisy test images, PCA fitted on ``train_images``; cached.

    None when ``k`` is at least the pixel count (PCA would keep everything: no baseline).
    """
    kind = check_kind(kind)
    sigma = check_level(sigma, kind)
    key = ("pca", _fingerprint(train_images), _fingerprint(test_images), sigma, int(k), kind)
    with _lock:
        if key in _scores:
            return _scores[key]
    clean = as_unit_float(test_images).reshape(len(test_images), -1)
    if k >= clean.shape[1]:
        value = None
    else:
        value = mse(fit_pca(train_images, k).reconstruct(fixed_noisy(clean, sigma, kind=kind)), clean)
    with _lock:
        _scores[key] = value
    return value


def _principal_axes(train_images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    key = _fingerprint(train_images)
    with _lock:  # one fit at a time: a second caller waits for the first's result
        if key not in _axes:
            x = np.asarray(train_images).reshape(len(train_images), -1)
            mean, axes, variances = principal_axes(x)
            if x.dtype == np.uint8:  # the axes of x / 255 are those of x; the mean and variances scale
                mean, variances = mean / 255, variances / 255**2
            _axes[key] = (mean.astype(np.float32), axes.astype(np.float32), variances)
        return _axes[key]


def _fingerprint(images: np.ndarray) -> str:
    """A content hash of an image array (its shape and dtype too): the same data set gives the same key."""
    arr = np.ascontiguousarray(images)
    digest = hashlib.blake2b(f"{arr.shape}{arr.dtype}".encode(), digest_size=16)
    digest.update(memoryview(arr).cast("B"))
    return digest.hexdigest()
