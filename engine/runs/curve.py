"""The per-batch loss curve of a run, thinned to at most ``MAX_POINTS`` points however long the run.

Each point is the mean loss of ``stride`` consecutive batches, placed at the position (in epochs)
where its last batch ended.  When the points fill up, neighbours merge in pairs and the stride
doubles: the curve keeps its whole length at an even spacing, and every batch counts in it (a
plain sample of every n-th batch would hide spikes and jitter the curve).  Adding a batch costs a
few Python operations: it runs after every training step.
"""

from __future__ import annotations

import numpy as np

MAX_POINTS = 1024
"""Points a run's curve keeps: ~8 KB in the database, finer than any plot of it."""


class ThinnedCurve:
    """Batches in, at most ``max_points`` (position, mean loss) points out (plus one partial point)."""

    def __init__(self, max_points: int = MAX_POINTS) -> None:
        if max_points < 2 or max_points % 2:
            raise ValueError(f"max_points must be an even number >= 2, got {max_points}")
        self.max_points = max_points
        self.stride = 1
        self._x: list[float] = []
        self._y: list[float] = []
        self._sum = 0.0
        self._count = 0
        self._at = 0.0

    def add(self, position: float, loss: float) -> None:
        """One batch's loss; ``position`` is where it ended, in epochs (epoch + share of it done)."""
        self._sum += loss
        self._count += 1
        self._at = position
        if self._count == self.stride:
            self._x.append(position)
            self._y.append(self._sum / self._count)
            self._sum, self._count = 0.0, 0
            if len(self._x) == self.max_points:
                self._halve()

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """(positions, losses), each (k,) float64, k <= max_points + 1: the batches still gathering
        into the next point make a last, partial one."""
        x, y = list(self._x), list(self._y)
        if self._count:
            x.append(self._at)
            y.append(self._sum / self._count)
        return np.array(x, np.float64), np.array(y, np.float64)

    def _halve(self) -> None:
        self._x = self._x[1::2]
        self._y = [(a + b) / 2 for a, b in zip(self._y[0::2], self._y[1::2], strict=True)]
        self.stride *= 2


def pack(x: np.ndarray, y: np.ndarray) -> bytes:
    """Points as the database stores them: little-endian float32 pairs (x0, y0, x1, y1, ...)."""
    return np.column_stack([x, y]).astype("<f4").tobytes()


def unpack(blob: bytes | None) -> tuple[np.ndarray, np.ndarray]:
    """``pack``'s bytes back as (positions, losses), each (k,) float64; empty for none (or a damaged blob)."""
    if not blob or len(blob) % 8:
        return np.zeros(0), np.zeros(0)
    pairs = np.frombuffer(blob, "<f4").reshape(-1, 2).astype(np.float64)
    return pairs[:, 0], pairs[:, 1]
