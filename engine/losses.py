"""Reconstruction losses: each returns its value and dL/d(prediction), nothing more.

Each loss is the mean over *all* elements (batch x pixels), and its gradient is the exact
gradient of the number it reports.  A batch may weight its images (``weights``, one per row):
the loss is then ``sum_i w_i * sum_p l(pred_ip, target_ip) / (batch * pixels)``; equal weights
of 1 give the plain mean.  ``noise_level_weights`` gives the weights that even out the error
across noise levels (a blind model's heavy-noise images would otherwise drown the light ones).
"""

from __future__ import annotations

import math

import numpy as np


def _per_row(weights: np.ndarray) -> np.ndarray:
    """Weights that multiply each image: (batch,) -> (batch, 1) for a (batch, pixels) array; a 2-D array as it is
    ((1, batch) for a unit-major (pixels, batch) one: ``engine.tensor_parallel``)."""
    return weights[:, None] if weights.ndim == 1 else weights


class Loss:
    name = "loss"

    def __call__(self, pred: np.ndarray, target: np.ndarray, weights: np.ndarray | None = None) -> float:
        return self.value(pred, target, weights)

    def value(self, pred: np.ndarray, target: np.ndarray, weights: np.ndarray | None = None) -> float:
        raise NotImplementedError

    def value_and_grad(
        self,
        pred: np.ndarray,
        target: np.ndarray,
        out: np.ndarray | None = None,
        weights: np.ndarray | None = None,
        scale: float = 1.0,
    ):
        """(loss: float, dL/dpred * scale: same shape as pred).  ``out`` may be ``pred`` itself; ``weights``
        (batch,) weights each row (image) of a (batch, pixels) ``pred``; ``scale`` weights the gradient (a
        half-batch's share of the batch) at no extra pass."""
        raise NotImplementedError


class MSE(Loss):
    """L = mean((pred - target)^2) — the seed's L2 reconstruction error."""

    name = "mse"

    def value(self, pred: np.ndarray, target: np.ndarray, weights: np.ndarray | None = None) -> float:
        return self.value_and_grad(pred, target, weights=weights)[0]

    def value_and_grad(self, pred, target, out=None, weights=None, scale=1.0):
        diff = np.subtract(pred, target, out=out)
        if weights is None:
            loss = float(np.vdot(diff, diff) / diff.size)
        else:  # sum_i w_i |d_i|^2 = |sqrt(w_i) d_i|^2: one dot product, as exact as the plain one
            root = _per_row(np.sqrt(weights, dtype=diff.dtype))
            diff *= root
            loss = float(np.vdot(diff, diff) / diff.size)
            diff *= root
        diff *= diff.dtype.type(2.0 * scale / diff.size)
        return loss, diff


class BinaryCrossEntropy(Loss):
    """L = -mean(t log p + (1 - t) log(1 - p)), p clipped to [eps, 1 - eps]; targets in [0, 1]."""

    name = "bce"

    def __init__(self, eps: float = 1e-7) -> None:
        self.eps = eps

    def value(self, pred: np.ndarray, target: np.ndarray, weights: np.ndarray | None = None) -> float:
        p = np.clip(pred, self.eps, 1 - self.eps)
        per_pixel = -(target * np.log(p) + (1 - target) * np.log1p(-p))
        return float(np.mean(per_pixel) if weights is None else np.mean(per_pixel * _per_row(weights)))

    def value_and_grad(self, pred, target, out=None, weights=None, scale=1.0):
        loss = self.value(pred, target, weights)
        p = np.clip(pred, self.eps, 1 - self.eps)
        grad = np.divide(p - target, p * (1 - p), out=out)
        if weights is not None:
            grad *= _per_row(weights)
        grad *= grad.dtype.type(scale / grad.size)
        return loss, grad


def noise_level_weights(levels: np.ndarray, c: float, low: float, high: float) -> np.ndarray:
    """Per-image loss weights ``1 / (level^2 + c)`` for levels drawn uniformly from ``[low, high]``.

    levels : (n,) the images' noise levels.  Returns (n,) float32, scaled so that their mean over
    the range is 1 (the loss keeps the scale of the plain one, and with it the learning rate's).
    A smaller ``c`` leans harder towards light noise: at level 0 an image weighs ``(high^2 + c) / c``
    times one at ``high``.
    """
    if not (math.isfinite(c) and c > 0):
        raise ValueError(f"the noise weighting constant c must be a finite number > 0, got {c!r}")
    root = math.sqrt(c)
    if high > low:  # the mean of 1 / (s^2 + c) for s uniform in [low, high]
        mean = (math.atan(high / root) - math.atan(low / root)) / (root * (high - low))
    else:
        mean = 1 / (low * low + c)
    levels = np.asarray(levels, np.float64)
    return (1 / ((levels * levels + c) * mean)).astype(np.float32)


LOSSES = {"mse": MSE, "l2": MSE, "bce": BinaryCrossEntropy, "binary_cross_entropy": BinaryCrossEntropy}


def get_loss(spec: str | Loss) -> Loss:
    if isinstance(spec, Loss):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"loss must be a name or a Loss, got {type(spec).__name__}")
    cls = LOSSES.get(spec.strip().lower())
    if cls is None:
        raise ValueError(f"unknown loss {spec!r}; allowed: mse, bce")
    return cls()
