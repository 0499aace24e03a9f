"""How far apart two subspaces are: the cosines of their principal angles.

Two subspaces of R^d, spanned by the columns of ``a`` (d, p) and ``b`` (d, q), meet at
min(p, q) principal angles θ_1 ≤ θ_2 ≤ ...: the first is the smallest angle between any vector
of one and any vector of the other, the next the smallest once those are set aside, and so on.
cos θ = 1 for a direction both share, 0 for one orthogonal to the other subspace.  With
orthonormal bases Qa and Qb, the cosines are the singular values of Qa^T Qb (Björck & Golub).
The basis a model happens to use (scaled, mixed, rotated columns) does not change them.
"""

from __future__ import annotations

import numpy as np


def principal_angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosines of the principal angles between the column spaces of ``a`` and ``b``.

    Parameters
    ----------
    a : (d, p) array whose p columns are linearly independent (a basis of a p-dimensional subspace).
    b : (d, q) array, the same for the other subspace.

    Returns
    -------
    (min(p, q),) float64 in [0, 1], largest first (cos θ_1 ≥ cos θ_2 ≥ ...).
    """
    qa = _orthonormal_basis(a, "a")
    qb = _orthonormal_basis(b, "b")
    if qa.shape[0] != qb.shape[0]:
        raise ValueError(
            f"a and b must be subspaces of the same space: a has {qa.shape[0]} rows, b has {qb.shape[0]}"
        )
    cosines = np.linalg.svd(qa.T @ qb, compute_uv=False)  # (min(p, q),), descending
    return np.clip(cosines, 0.0, 1.0)


def _orthonormal_basis(x: np.ndarray, name: str) -> np.ndarray:
    """Orthonormal columns (d, p) spanning the columns of x (d, p), checked to be a basis."""
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a numeric array, got dtype {x.dtype}")
    if x.ndim != 2 or min(x.shape) < 1:
        raise ValueError(f"{name} must be a (d, p) array of p >= 1 column vectors, got shape {x.shape}")
    x = np.asarray(x, np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite values")
    rank = np.linalg.matrix_rank(x)
    if rank < x.shape[1]:
        raise ValueError(
            f"the {x.shape[1]} columns of {name} are not linearly independent (rank {rank}): "
            "they do not span a subspace of that dimension"
        )
    q, _ = np.linalg.qr(x)  # (d, p), reduced
    return q
