"""Reconstruction losses: each returns its value and dL/d(prediction), nothing more.

Each loss is the mean over *all* elements (batch x pixels), and its gradient is the exact
gradient of the number it reports.
"""

from __future__ import annotations

import numpy as np


class Loss:
    name = "loss"

    def __call__(self, pred: np.ndarray, target: np.ndarray) -> float:
        return self.value(pred, target)

    def value(self, pred: np.ndarray, target: np.ndarray) -> float:
        raise NotImplementedError

    def value_and_grad(self, pred: np.ndarray, target: np.ndarray, out: np.ndarray | None = None, scale: float = 1.0):
        """(loss: float, dL/dpred * scale: same shape as pred).  ``out`` may be ``pred`` itself; ``scale`` weights
        the gradient (a half-batch's share of the batch) at no extra pass."""
        raise NotImplementedError


class MSE(Loss):
    """L = mean((pred - target)^2) — the seed's L2 reconstruction error."""

    name = "mse"

    def value(self, pred: np.ndarray, target: np.ndarray) -> float:
        diff = pred - target
        return float(np.vdot(diff, diff) / diff.size)

    def value_and_grad(self, pred, target, out=None, scale=1.0):
        diff = np.subtract(pred, target, out=out)
        loss = float(np.vdot(diff, diff) / diff.size)
        diff *= diff.dtype.type(2.0 * scale / diff.size)
        return loss, diff


class BinaryCrossEntropy(Loss):
    """L = -mean(t log p + (1 - t) log(1 - p)), p clipped to [eps, 1 - eps]; targets in [0, 1]."""

    name = "bce"

    def __init__(self, eps: float = 1e-7) -> None:
        self.eps = eps

    def value(self, pred: np.ndarray, target: np.ndarray) -> float:
        p = np.clip(pred, self.eps, 1 - self.eps)
        return float(-np.mean(target * np.log(p) + (1 - target) * np.log1p(-p)))

    def value_and_grad(self, pred, target, out=None, scale=1.0):
        loss = self.value(pred, target)
        p = np.clip(pred, self.eps, 1 - self.eps)
        grad = np.divide(p - target, p * (1 - p), out=out)
        grad *= grad.dtype.type(scale / grad.size)
        return loss, grad


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
