"""PCA with k components: the linear baseline the autoencoder is compared against.

An autoencoder with identity activations and an L2 loss learns the same subspace as PCA;
the ReLU/Sigmoid one should do better on the same number of components.
"""

from __future__ import annotations

import numpy as np

FIT_CHUNK = 8192
"""Rows converted to float64 at a time while accumulating the covariance (bounds memory)."""


def principal_axes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean (d,), axes (d, d) one per row, variances (d,)) of x: (n, d), strongest axis first.

    The covariance is accumulated in float64 a chunk of rows at a time, so fitting all 60,000
    MNIST images needs ~50 MB rather than a 376 MB float64 copy; then one (d, d) ``eigh``.
    """
    x = np.asarray(x).reshape(len(x), -1)
    n, d = x.shape
    total, gram = np.zeros(d), np.zeros((d, d))
    for lo in range(0, n, FIT_CHUNK):
        chunk = np.asarray(x[lo : lo + FIT_CHUNK], np.float64)
        total += chunk.sum(axis=0)
        gram += chunk.T @ chunk  # (d, d)
    mean = total / n
    cov = (gram - n * np.outer(mean, mean)) / max(n - 1, 1)
    variances, vectors = np.linalg.eigh(cov)  # ascending
    return mean, vectors[:, ::-1].T.copy(), variances[::-1].copy()


class PCA:
    """Fit on clean images (n, 784); ``reconstruct`` projects onto the top-k components and back."""

    def __init__(self, n_components: int = 10) -> None:
        if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) or n_components < 1:
            raise ValueError(f"n_components must be an int >= 1, got {n_components!r}")
        self.n_components = int(n_components)
        self.mean: np.ndarray | None = None
        self.components: np.ndarray | None = None  # (k, 784)

    def fit(self, x: np.ndarray) -> PCA:
        """x: (n, d) float in [0, 1] (or uint8 scaled by the caller)."""
        x = np.asarray(x).reshape(len(x), -1)
        if self.n_components > x.shape[1]:
            raise ValueError(f"n_components={self.n_components} exceeds the {x.shape[1]} input dimensions")
        mean, axes, _ = principal_axes(x)
        return self.set_axes(mean, axes)

    def set_axes(self, mean: np.ndarray, axes: np.ndarray) -> PCA:
        """Use the first ``n_components`` of precomputed principal ``axes`` (d, d) around ``mean`` (d,)."""
        if self.n_components > len(axes):
            raise ValueError(f"n_components={self.n_components} exceeds the {len(axes)} input dimensions")
        self.mean = np.asarray(mean, np.float32)
        self.components = np.asarray(axes[: self.n_components], np.float32)
        return self

    def encode(self, x: np.ndarray) -> np.ndarray:
        """x: (n, d) -> codes (n, k)."""
        self._require_fit()
        x = np.asarray(x, np.float32).reshape(-1, self.mean.size)
        return (x - self.mean) @ self.components.T

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """codes: (n, k) -> (n, d) reconstructions (not clipped)."""
        self._require_fit()
        return np.asarray(codes, np.float32) @ self.components + self.mean

    def reconstruct(self, x: np.ndarray) -> np.ndarray:
        """Project onto the k components and back, clipped to [0, 1]; keeps the input's shape."""
        x = np.asarray(x, np.float32)
        return np.clip(self.decode(self.encode(x)), 0, 1).reshape(x.shape)

    def _require_fit(self) -> None:
        if self.components is None:
            raise RuntimeError("PCA.fit() must be called first")
