"""PCA with k components: the linear baseline the autoencoder is compared against.

An autoencoder with identity activations and an L2 loss learns the same subspace as PCA;
the ReLU/Sigmoid one should do better on the same number of components.
"""

from __future__ import annotations

import numpy as np


class PCA:
    """Fit on clean images (n, 784); ``reconstruct`` projects onto the top-k components and back."""

    def __init__(self, n_components: int = 10) -> None:
        if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) or n_components < 1:
            raise ValueError(f"n_components must be an int >= 1, got {n_components!r}")
        self.n_components = int(n_components)
        self.mean: np.ndarray | None = None
        self.components: np.ndarray | None = None  # (k, 784)

    def fit(self, x: np.ndarray) -> PCA:
        """x: (n, d) float in [0, 1]; the covariance route costs one (d, d) eigendecomposition."""
        x = np.asarray(x, np.float64).reshape(len(x), -1)
        if self.n_components > x.shape[1]:
            raise ValueError(f"n_components={self.n_components} exceeds the {x.shape[1]} input dimensions")
        self.mean = x.mean(axis=0)
        centred = x - self.mean
        cov = centred.T @ centred / max(len(x) - 1, 1)  # (d, d)
        eigvals, eigvecs = np.linalg.eigh(cov)  # ascending
        self.components = eigvecs[:, ::-1][:, : self.n_components].T.astype(np.float32)
        self.mean = self.mean.astype(np.float32)
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
