"""Reconstruction quality measures for images in [0, 1]: MSE, PSNR and SSIM, and all three at once."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_BLOCK = 1 << 18
"""Values converted to float64 at a time: scoring 10,000 test images needs no 250 MB of temporaries."""

SSIM_WINDOW = 7
"""SSIM's square window, as ``skimage.metrics.structural_similarity`` uses by default (uniform, 7 × 7)."""
_SSIM_K1, _SSIM_K2 = 0.01, 0.03
_SSIM_CHUNK = 256
"""Images scored at a time by ``ssim`` (5 float32 stacks of 256 images: 4 MB, in a core's cache across the passes:
0.087 s for 10,000 images against 0.11 s in chunks of 1024)."""


def mse(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean squared error over all elements, accumulated in float64 (block by block)."""
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape or pred.size <= _BLOCK:
        diff = np.asarray(pred, np.float64) - np.asarray(target, np.float64)
        return float(np.mean(diff * diff))
    p, t = pred.reshape(-1), target.reshape(-1)
    total = 0.0
    for lo in range(0, p.size, _BLOCK):
        diff = p[lo : lo + _BLOCK].astype(np.float64) - t[lo : lo + _BLOCK]
        total += float(np.dot(diff, diff))
    return total / p.size


def psnr(mse_value: float, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB for a given MSE (infinite for a perfect match)."""
    if mse_value <= 0:
        return float("inf")
    return float(10.0 * np.log10(peak * peak / mse_value))


def ssim(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean structural similarity of images in [0, 1] against their targets (1 for a perfect match).

    pred, target : (n, h, w), or (n, side * side) square images (MNIST's (n, 784) are 28 × 28).

    Each image's SSIM is ``skimage.metrics.structural_similarity(p, t, data_range=1)`` (uniform 7 × 7
    window, sample covariance, K1 0.01, K2 0.03, averaged over the windows inside the image); this
    computes all images at once (the window sums as two small matrix products), ~10× faster than
    calling it per image, and equal to it within 1e-6 (``tests/engine/test_metrics.py``).
    """
    p, t = _as_image_stack(pred), _as_image_stack(target)
    if p.shape != t.shape:
        raise ValueError(f"ssim needs images of the same shape, got {np.shape(pred)} and {np.shape(target)}")
    h, w = p.shape[1:]
    if min(h, w) < SSIM_WINDOW:
        raise ValueError(f"ssim needs images of at least {SSIM_WINDOW} × {SSIM_WINDOW} pixels, got {h} × {w}")
    rows, cols = _window_sums(h), _window_sums(w)  # (h, h-6), (w, w-6)
    n_win = SSIM_WINDOW * SSIM_WINDOW
    f = np.float32
    cov_norm = f(n_win / (n_win - 1))  # the sample covariance, as skimage's default
    c1, c2 = f(_SSIM_K1**2), f(_SSIM_K2**2)  # data range 1
    total = 0.0
    stack = None
    for lo in range(0, len(p), _SSIM_CHUNK):
        a, b = p[lo : lo + _SSIM_CHUNK], t[lo : lo + _SSIM_CHUNK]
        if stack is None or stack.shape[1] != len(a):
            stack = np.empty((5, len(a), h, w), np.float32)
        stack[0], stack[1] = a, b
        np.multiply(a, a, out=stack[2])
        np.multiply(b, b, out=stack[3])
        np.multiply(a, b, out=stack[4])
        mean_a, mean_b, mean_aa, mean_bb, mean_ab = _window_means(stack, rows, cols, n_win)  # each (m, h-6, w-6)
        # index = (2 μa μb + c1)(2 cov + c2) / ((μa² + μb² + c1)(var a + var b + c2)), in place: each
        # quantity a buffer reused, one pass an operation (1.8x faster than a new array for each term)
        both = mean_a * mean_b
        mean_a *= mean_a
        mean_b *= mean_b
        squares = np.add(mean_a, mean_b, out=mean_a)  # μa² + μb²
        mean_ab -= both  # the covariance, before cov_norm
        mean_ab *= f(2) * cov_norm
        mean_ab += c2
        mean_aa += mean_bb  # var a + var b, before cov_norm
        mean_aa -= squares
        mean_aa *= cov_norm
        mean_aa += c2
        both *= f(2)
        both += c1
        squares += c1
        both *= mean_ab
        squares *= mean_aa
        both /= squares
        total += float(both.reshape(len(a), -1).mean(axis=1, dtype=np.float64).sum())
    return total / len(p)


@dataclass(frozen=True)
class Scores:
    """How close denoised images are to the clean ones: MSE, PSNR (dB, of that MSE) and mean SSIM."""

    mse: float
    psnr: float
    ssim: float

    def as_dict(self) -> dict[str, float | None]:
        """``{"mse", "psnr", "ssim"}`` for JSON (an infinite PSNR, a perfect match, as None)."""
        return {k: (v if math.isfinite(v) else None) for k, v in vars(self).items()}


def scores(pred: np.ndarray, target: np.ndarray) -> Scores:
    """MSE, PSNR and SSIM of images (n, 784) or (n, 28, 28) in [0, 1] against their clean targets."""
    error = mse(pred, target)
    return Scores(error, psnr(error), ssim(pred, target))


def image_scores(pred: np.ndarray, clean: np.ndarray) -> Scores | None:
    """MSE, PSNR and SSIM of one image (h, w) or square (h * w,) in [0, 1] against its clean target; None when the
    clean image is empty (all zero: nothing drawn, nothing to score)."""
    target = np.asarray(clean, np.float32)
    if not np.any(target):
        return None
    side = math.isqrt(target.size)
    shape = (1, side, side) if side * side == target.size else (1, *target.shape)
    return scores(np.asarray(pred, np.float32).reshape(shape), target.reshape(shape))


def is_square_image(n_pixels: int) -> bool:
    """Whether ``n_pixels`` make a square image SSIM can score (at least 7 × 7): MNIST's 784 do."""
    side = math.isqrt(n_pixels)
    return side * side == n_pixels and side >= SSIM_WINDOW


def _as_image_stack(images: np.ndarray) -> np.ndarray:
    """(n, h, w) float32 from (n, h, w) or (n, side * side)."""
    x = np.asarray(images, np.float32)
    if x.ndim == 2 and math.isqrt(x.shape[1]) ** 2 == x.shape[1]:
        side = math.isqrt(x.shape[1])
        x = x.reshape(len(x), side, side)
    if x.ndim != 3 or len(x) == 0:
        raise ValueError(f"ssim needs images (n, h, w) or square (n, side * side), n >= 1; got shape {x.shape}")
    return x


def _window_means(stack: np.ndarray, rows: np.ndarray, cols: np.ndarray, n_win: int) -> np.ndarray:
    """stack (k, m, h, w) float32 -> (k, m, h-6, w-6) float32: the mean of every whole 7 × 7 window.

    The sums along each row are one matrix product over all k · m · h rows (a single BLAS call, not one per image:
    1.6× faster than a batched product of the same numbers), then the sums down the columns a batched one.
    """
    k, m, h, w = stack.shape
    along = (stack.reshape(-1, w) @ cols).reshape(k * m, h, cols.shape[1])  # (k·m, h, w-6)
    sums = np.matmul(rows.T, along)  # (k·m, h-6, w-6)
    sums /= np.float32(n_win)
    return sums.reshape(k, m, rows.shape[1], cols.shape[1])


def _window_sums(size: int) -> np.ndarray:
    """(size, size - 6) float32 of ones and zeros: ``x @ it`` sums every whole window of 7 along x's last axis."""
    n_out = size - SSIM_WINDOW + 1
    starts = np.arange(n_out)
    index = np.arange(size)[:, None]
    return ((index >= starts) & (index < starts + SSIM_WINDOW)).astype(np.float32)
