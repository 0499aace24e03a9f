"""The latent space as a map: every image's code placed in 2-D, and points of the map turned back into codes.

A k-unit code is a point in R^k.  The map shows the plane through the codes' mean spanned by
their two principal axes (the plane that keeps most of their spread); a 2-unit code is shown as
it is.  The projection is linear, so a straight line between two codes is a straight line on the
map, and ``unproject`` gives the code on that plane under a point of the map (off the plane,
codes differ in directions the map cannot show).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.latent import latent_codes
from engine.pca import principal_axes

INTERPOLATION_STEPS = 10
"""Images in an interpolation strip, both ends included."""


@dataclass(frozen=True)
class LatentMap:
    """Codes (n, k) float32 of n labelled images and where they lie on the map: ``points`` (n, 2) float32.

    ``axes`` (2, k): the map's x and y directions in code space (unit rows), around ``mean`` (k,);
    ``explained`` (2,): the share of the codes' variance along each of them.
    """

    codes: np.ndarray
    labels: np.ndarray
    points: np.ndarray
    mean: np.ndarray
    axes: np.ndarray
    explained: np.ndarray

    @property
    def width(self) -> int:
        """Units of the code (k)."""
        return self.codes.shape[1]

    def project(self, codes: np.ndarray) -> np.ndarray:
        """codes (m, k) or one (k,) -> map points (m, 2) or (2,), float32."""
        codes = np.asarray(codes, np.float64)
        if codes.shape[-1] != self.width or codes.ndim > 2:
            raise ValueError(f"codes must be (m, {self.width}) or ({self.width},), got shape {codes.shape}")
        return ((codes - self.mean) @ self.axes.T).astype(np.float32)  # (m, k) @ (k, 2)

    def unproject(self, points: np.ndarray) -> np.ndarray:
        """Map points (m, 2) or one (2,) -> the codes on the map's plane (m, k) or (k,), float32."""
        points = np.asarray(points, np.float64)
        if points.shape[-1] != 2 or points.ndim > 2:
            raise ValueError(f"points must be (m, 2) or (2,), got shape {points.shape}")
        return (self.mean + points @ self.axes).astype(np.float32)  # (m, 2) @ (2, k)

    def digits(self) -> list[int]:
        """The labels present, ascending."""
        return [int(d) for d in np.unique(self.labels)]

    def members(self, label: int) -> np.ndarray:
        """Indices (m,) of the images labelled ``label``, ascending."""
        return np.flatnonzero(self.labels == label)

    def typical(self, label: int) -> int:
        """Index of the image of ``label`` whose code is nearest its class's mean code (a typical one)."""
        members = self.members(label)
        if members.size == 0:
            raise ValueError(f"no image has label {label} (labels present: {self.digits()})")
        codes = self.codes[members].astype(np.float64)
        distances = np.sum((codes - codes.mean(axis=0)) ** 2, axis=1)
        return int(members[np.argmin(distances)])


def latent_map(model, images: np.ndarray, labels: np.ndarray) -> LatentMap:
    """The codes ``model`` gives ``images`` (n, 784) uint8 or float in [0, 1], labelled ``labels`` (n,), on a map."""
    labels = np.asarray(labels)
    if len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if len(images) == 0:
        raise ValueError("a map needs at least one image")
    codes = np.asarray(latent_codes(model, images), np.float32)  # (n, k)
    k = codes.shape[1]
    if k == 2:  # the code is already a point of the plane
        mean, axes = np.zeros(2), np.eye(2)
    else:
        mean, all_axes, _ = principal_axes(codes)
        axes = np.zeros((2, k))
        axes[: min(2, k)] = all_axes[:2]  # a 1-unit code: the map's y is 0
    points = ((codes - mean) @ axes.T).astype(np.float32)  # (n, k) @ (k, 2)
    total = float(codes.astype(np.float64).var(axis=0).sum())
    spread = points.astype(np.float64).var(axis=0)  # (2,)
    explained = spread / total if total > 0 else np.zeros(2)
    return LatentMap(codes, labels.copy(), points, np.asarray(mean, np.float64), axes, explained)


def interpolate(start: np.ndarray, end: np.ndarray, steps: int = INTERPOLATION_STEPS) -> np.ndarray:
    """Codes (steps, k) evenly spaced on the straight line from ``start`` (k,) to ``end`` (k,), both included."""
    start, end = np.asarray(start, np.float64), np.asarray(end, np.float64)
    if start.shape != end.shape or start.ndim != 1:
        raise ValueError(f"start and end must be codes of the same width (k,), got {start.shape} and {end.shape}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 2:
        raise ValueError(f"steps must be an int >= 2 (both ends are included), got {steps!r}")
    t = np.linspace(0.0, 1.0, int(steps))[:, None]  # (steps, 1)
    return ((1 - t) * start + t * end).astype(np.float32)
