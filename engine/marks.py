"""Which marks on a picture are the digit: connected marks of ink, without specks and the page's edge.

A photo holds more than the digit: a speck of dirt, a crumb, the dark desk beyond the page's
edge.  The digit's bounding box is what gets scaled into 20×20, so one speck in a corner would
shrink the digit to a dot.  The ink is split into connected marks (8-neighbours), and kept:

- the marks that do not touch the picture's edge (a desk, a page's edge, a finger do; a digit
  framed by the user does not), unless every mark does (a tightly cropped digit);
- of those, every mark of at least a tenth of the heaviest one's ink (the parts of a "5" or a
  "4" written in two strokes, a second digit), and smaller ones only within the heaviest mark's
  box grown by a quarter (a broken stroke; not a speck across the page).

Pure NumPy and a little Python over runs of ink along rows, so the cost follows the number of
runs, not of pixels.
"""

from __future__ import annotations

import numpy as np

MIN_SHARE = 0.1
"""A mark away from the heaviest one is kept when it holds at least this share of its ink."""
NEAR = 0.25
"""Smaller marks are kept within the heaviest mark's box grown by this share of its size on each side."""


def digit_marks(ink: np.ndarray) -> np.ndarray:
    """(H, W) ink strength in [0, 1], 0 on paper -> (H, W) the same with the marks that are not the digit set to 0."""
    labels, count = label_marks(ink > 0)
    if count <= 1:
        return ink
    mass = np.bincount(labels.ravel(), weights=ink.ravel(), minlength=count + 1)[1:]  # (count,) ink of each mark
    edge = np.zeros(count + 1, bool)
    for side in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
        edge[side] = True
    inside = ~edge[1:]  # (count,) marks clear of the picture's edge
    if not inside.any():
        return ink
    heaviest = int(np.argmax(np.where(inside, mass, -1)))
    rows, cols = np.nonzero(labels)
    which = labels[rows, cols] - 1
    box = _boxes(which, rows, cols, count)  # (count, 4) top, bottom, left, right (inclusive)
    top, bottom, left, right = box[heaviest]
    grow_r, grow_c = NEAR * (bottom - top + 1), NEAR * (right - left + 1)
    centre_r, centre_c = (box[:, 0] + box[:, 1]) / 2, (box[:, 2] + box[:, 3]) / 2
    near = (
        (centre_r >= top - grow_r) & (centre_r <= bottom + grow_r)
        & (centre_c >= left - grow_c) & (centre_c <= right + grow_c)
    )  # fmt: skip
    keep = inside & ((mass >= MIN_SHARE * mass[heaviest]) | near)
    return np.where(np.concatenate([[False], keep])[labels], ink, np.zeros_like(ink))


def clear_of_the_edge(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool -> (H, W) bool: the marks of ``mask`` that do not touch the picture's edge."""
    labels, count = label_marks(mask)
    edge = np.zeros(count + 1, bool)
    for side in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
        edge[side] = True
    edge[0] = True
    return ~edge[labels]


def label_marks(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """(H, W) bool -> ((H, W) int32 labels, 0 off the marks and 1..count on them; count): 8-connected marks."""
    height, width = mask.shape
    edges = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)  # (H, W + 1): +1 a run starts, -1 ends
    run_row, run_start = np.nonzero(edges == 1)
    _, run_end = np.nonzero(edges == -1)  # exclusive; both in row-major order, so run i starts and ends together
    parent = list(range(len(run_row)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first = np.searchsorted(run_row, np.arange(height + 1))  # (H + 1,) index of each row's first run
    for row in range(1, height):
        above, here = range(first[row - 1], first[row]), range(first[row], first[row + 1])
        j = above.start
        for i in here:  # runs overlap (diagonals count) when each starts before the other ends, one pixel over
            while j < above.stop and run_end[j] < run_start[i]:
                j += 1
            k = j
            while k < above.stop and run_start[k] <= run_end[i]:
                a, b = root(i), root(k)
                if a != b:
                    parent[max(a, b)] = min(a, b)
                k += 1
    roots = np.array([root(i) for i in range(len(parent))], np.int64)
    ids, run_label = np.unique(roots, return_inverse=True)
    lengths = run_end - run_start  # (runs,)
    offsets = np.repeat(run_row * width + run_start - (np.cumsum(lengths) - lengths), lengths)
    labels = np.zeros(height * width, np.int32)
    labels[np.arange(int(lengths.sum())) + offsets] = np.repeat(run_label + 1, lengths)
    return labels.reshape(height, width), len(ids)


def _boxes(which: np.ndarray, rows: np.ndarray, cols: np.ndarray, count: int) -> np.ndarray:
    """(count, 4) float64: top, bottom, left, right (inclusive) of each mark, from its pixels' rows and columns."""
    box = np.empty((count, 4))
    box[:, 0], box[:, 2] = np.inf, np.inf
    box[:, 1], box[:, 3] = -np.inf, -np.inf
    np.minimum.at(box[:, 0], which, rows)
    np.maximum.at(box[:, 1], which, rows)
    np.minimum.at(box[:, 2], which, cols)
    np.maximum.at(box[:, 3], which, cols)
    return box
