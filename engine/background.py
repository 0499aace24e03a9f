"""The paper under the ink: estimate its slow shading, divide it out, and keep only the ink.

A photo of handwriting is lit unevenly — shading across the page, a vignette, the soft shadow
of a hand or a phone — so no single level is "the paper".  Light is multiplicative: a pixel is
illumination × reflectance, so dividing by an estimate of the lit paper leaves the reflectance
(paper -> 1, ink -> its own darkness, the same in light and in shade).

Pure NumPy, on a picture with light paper and dark ink (``paper_is_light`` tells which side the
paper is; the caller inverts chalk on a board):

1. Ink cores.  A coarse paper level that ink cannot pull down: the median of each block (1/32
   of the longer side), closed over 3×3 blocks so a stroke up to ~3/32 of the longer side wide
   is filled from the paper around it, while a wider shadow band stays in the level.  Cores are
   past half way from that level to the darkest ink, and at least a quarter darker.  A stroke
   wider than that (a marker, a tight crop) is found against a second level closed over 7×7
   blocks, where it must be half as dark as the paper: a shadow seldom is.
2. The paper's level.  The mean of the paper near each pixel (a blur over paper pixels only, a
   normalised convolution, 1/80 of the longer side, widening to 1/10 where strokes cover the
   window), so it follows a shadow's soft edge and a vignette closely.  It is found twice: the
   second time without the pixels near a core that the first found darker than the paper (a
   stroke's soft edge), while a shadow next to a stroke stays paper.
3. The ink: the picture divided by the paper's level, kept within a stroke's reach of a core
   (half the core's width).  Ink is sharp-edged and much darker than its surroundings; what is
   left of a shadow where the level could not follow it is soft, a little darker, and away from
   the strokes.

The coarse work runs on a grid averaged down to ~128 cells on the longer side (the shading is
slow), so a 500×375 picture takes ~15 ms (``bench/photos.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.marks import clear_of_the_edge

GRID = 128
"""The paper's level is computed on a grid of about this many cells on the picture's longer side."""
BLOCKS = 32
"""The coarse paper level is the median of blocks 1/BLOCKS of the longer side."""
NARROW = 1
"""Radius, in blocks, of the closing that fills strokes up to about 3/32 of the longer side wide.
A shadow band wider than that stays in this paper level."""
WIDE_STROKE = 3
"""Radius, in blocks, of the closing that fills strokes up to about 7/32 of the longer side wide
(a marker, a tight crop), and shadow bands as wide."""
MIN_DEPTH = 0.25
"""Ink cores are at least this much darker than the paper around them (pencil is ~0.4 darker)."""
WIDE_DEPTH = 0.5
"""Inside a wide stroke, ink cores are at least this much darker than the paper around the stroke:
a shadow is seldom half as dark as the paper."""
FINE = 1 / 80
"""Blur radius (× the longer side) of the paper's level between strokes: follows a soft shadow's edge."""
WIDE = 1 / 10
"""Blur radius (× the longer side) of the paper's level where strokes cover the fine blur's window."""
CORE = 0.5
"""Ink cores are past this share of the way from the paper to the darkest ink."""
CLEAR_INK = 0.5
"""Ink that tells which side the paper is stands out from the paper around it by at least half the range (the
brightest percent of the picture taken as 1); a shadow's edge does not, nor does faint pencil."""
_COVERED = 0.02
"""Where less than this share of a blur's window is paper, the next wider estimate takes over (smoothly)."""


@dataclass(frozen=True)
class InkSeparation:
    """A picture split into the lit paper and the ink; every array is (H, W) float32 like the picture.

    background : the lit paper's level at each pixel, in (0, 1].
    flattened : the picture divided by ``background``, in [0, 1]: paper -> 1, ink keeps its darkness.
    ink : ink strength in [0, 1]: 1 - ``flattened`` within a stroke's reach of an ink core, else 0.
    """

    background: np.ndarray
    flattened: np.ndarray
    ink: np.ndarray


def separate_ink(paper_light: np.ndarray) -> InkSeparation:
    """Remove the paper's shading and keep the ink.

    paper_light : (H, W) float in [0, 1], light paper and dark ink (a scan, a photo).
    """
    grey = np.asarray(paper_light, np.float32)
    grid = _Grid(grey.shape)
    cells = grid.down(grey)  # (rows, cols)
    narrow = np.maximum(_coarse_paper(cells, grid, NARROW), np.float32(1 / 255))
    wide = np.maximum(_coarse_paper(cells, grid, WIDE_STROKE), np.float32(1 / 255))
    ratio = grey / grid.up(narrow)  # (H, W) the picture against the paper around each stroke
    darkest = float(_mean3(ratio).min())  # the darkest ink, not the darkest grain of noise
    core = ratio < 1 - max(CORE * (1 - darkest), MIN_DEPTH)
    core |= grey < grid.up(wide) * (1 - WIDE_DEPTH)  # in a stroke too wide for the narrow closing
    reach = _dilate(core, _stroke_reach(core))
    background = grid.paper_level(grey, ~_dilate(core, 1), wide)
    softer_edge = reach & (grey < background * (1 - _grain(grey / background, ~reach)))
    background = grid.paper_level(grey, ~(_dilate(core, 1) | softer_edge), wide)
    flattened = np.minimum(grey / background, np.float32(1))
    ink = np.where(reach, 1 - flattened, np.float32(0))
    return InkSeparation(background, flattened, ink)


def paper_is_light(grey: np.ndarray) -> bool:
    """Whether a picture is dark ink on light paper (else light ink on dark paper).

    grey : (H, W) float in [0, 1].  The picture is first scaled so its brightest percent is 1
    (a dim photo is read like a bright one).  Ink is what stands out from the paper around it:
    the picture is compared with the median of blocks 1/8 of its longer side (the paper, wherever
    ink covers less than half a block, whatever the lighting), and the ink is on the side with
    clearly more mass among the strongest differences (over half the largest), counting only
    marks clear of the picture's edge (not a dark desk beyond the page's edge).  When nothing
    stands out by ``CLEAR_INK`` (paper and shadows alone, or faint pencil), or neither side
    clearly has more (ink covering most of its blocks), the paper is light when the picture
    mostly is.
    """
    grey = np.asarray(grey, np.float32)
    grid = _Grid(grey.shape)
    cells = grid.down(grey)  # (rows, cols)
    cells /= max(float(np.percentile(cells, 99)), 1 / 255)
    block = max(1, round(max(grey.shape) / 8 / grid.factor))
    deviation = cells - _bilinear(_block_medians(cells, block), block, cells.shape)
    largest = float(np.abs(deviation).max())
    if largest >= CLEAR_INK:
        strong = largest / 2  # ink, not the edge of a shadow or a slope of light
        darker = float((-deviation - strong)[clear_of_the_edge(-deviation > strong)].sum())
        lighter = float((deviation - strong)[clear_of_the_edge(deviation > strong)].sum())
        if darker > 2 * lighter:
            return True
        if lighter > 2 * darker:
            return False
    return float(np.median(cells)) > 0.5


def _stroke_reach(core: np.ndarray) -> int:
    """How far (pixels) a stroke's soft edge reaches past its dark core: half the core's width, at least 2.

    core : (H, W) bool.  A long stroke of width w has area w·length and about 2·length edge pixels.
    """
    area = int(core.sum())
    inner = core[1:-1, 1:-1] & core[:-2, 1:-1] & core[2:, 1:-1] & core[1:-1, :-2] & core[1:-1, 2:]
    edge = max(1, area - int(inner.sum()))
    return max(2, round(area / edge))


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """(H, W) bool -> (H, W) bool: True within ``radius`` pixels (a square) of a True pixel."""
    out = mask.copy()
    for axis in (0, 1):
        done = 0
        while done < radius:  # shift by 1, 2, 4, ... pixels: each doubles the reach, log2(radius) steps
            step = min(done + 1, radius - done)
            grown = out.copy()
            head, tail = [slice(None)] * 2, [slice(None)] * 2
            head[axis], tail[axis] = slice(step, None), slice(None, -step)
            grown[tuple(head)] |= out[tuple(tail)]
            grown[tuple(tail)] |= out[tuple(head)]
            out, done = grown, done + step
    return out


def _grain(ratio: np.ndarray, paper: np.ndarray) -> float:
    """How far below 1 the paper's own grain reaches (3 robust sigmas of ``ratio`` on paper), at least 2 %."""
    values = ratio[::2, ::2][paper[::2, ::2]]  # every fourth pixel tells the grain as well
    if values.size == 0:
        return 0.02
    spread = 1.4826 * float(np.median(np.abs(values - np.median(values))))
    return max(0.02, 3 * spread)


def _mean3(a: np.ndarray) -> np.ndarray:
    """(H, W) -> (H - 2, W - 2): the mean of each 3×3 square (or ``a`` itself when too small)."""
    if min(a.shape) < 3:
        return a
    rows = a[:-2] + a[1:-1] + a[2:]
    return (rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]) / np.float32(9)


def _coarse_paper(cells: np.ndarray, grid: _Grid, closing: int) -> np.ndarray:
    """(rows, cols) grid -> (rows, cols): each block's median, closed over (2·closing + 1)² blocks so that blocks
    mostly of ink take the paper from the blocks around them."""
    block = max(1, round(max(grid.shape) / BLOCKS / grid.factor))
    closed = -_max_filter(-_max_filter(_block_medians(cells, block), closing), closing)
    return _bilinear(closed, block, cells.shape)


def _block_medians(cells: np.ndarray, block: int) -> np.ndarray:
    """(rows, cols) -> (ceil(rows / block), ceil(cols / block)): the median of each block × block square."""
    rows, cols = -(-cells.shape[0] // block), -(-cells.shape[1] // block)
    padded = np.pad(cells, ((0, rows * block - cells.shape[0]), (0, cols * block - cells.shape[1])), mode="edge")
    squares = padded.reshape(rows, block, cols, block).transpose(0, 2, 1, 3).reshape(rows, cols, block * block)
    return np.median(squares, axis=2)


def _max_filter(a: np.ndarray, radius: int) -> np.ndarray:
    padded = np.pad(a, radius, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (2 * radius + 1, 2 * radius + 1))
    return windows.max(axis=(2, 3))


def _box_blur(a: np.ndarray, radius: int, passes: int = 3) -> np.ndarray:
    """(..., H, W) -> (..., H, W) float32: ``passes`` box means of side 2·radius + 1 over the last two axes (three:
    close to a Gaussian of sigma ≈ radius), each cut to the picture at its edges.  Running sums: the cost does not
    grow with the radius."""
    a = np.asarray(a, np.float64)
    for _ in range(passes):
        for axis in (-2, -1):
            a = np.moveaxis(a, axis, 0)  # (n, ...): along the first axis
            n = a.shape[0]
            sums = np.cumsum(a, axis=0)
            zeros = np.zeros((radius + 1, *a.shape[1:]))
            padded = np.concatenate([zeros, sums, np.repeat(sums[-1:], radius, axis=0)])  # (n + 2·radius + 1, ...)
            index = np.arange(n)
            counts = np.minimum(index + radius + 1, n) - np.maximum(index - radius, 0)  # (n,) pixels in each window
            a = np.moveaxis((padded[2 * radius + 1 :] - padded[:n]) / counts.reshape(-1, *[1] * (a.ndim - 1)), 0, axis)
    return a.astype(np.float32)


class _Grid:
    """A picture's coarse grid: cells of factor × factor pixels, about GRID on the longer side."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = shape
        self.factor = max(1, round(max(shape) / GRID))
        self.cells = (-(-shape[0] // self.factor), -(-shape[1] // self.factor))

    def down(self, a: np.ndarray) -> np.ndarray:
        """(H, W) -> (rows, cols) float32: the mean of each cell (the picture's edge repeated to fill the last ones)."""
        f, (rows, cols) = self.factor, self.cells
        if f == 1:
            return a.astype(np.float32)
        padded = np.pad(a, ((0, rows * f - a.shape[0]), (0, cols * f - a.shape[1])), mode="edge").astype(np.float32)
        lines = sum(padded[i::f] for i in range(f))  # (rows, cols·f): f strided sums beat a reduction over a small axis
        return sum(lines[:, j::f] for j in range(f)) * np.float32(1 / (f * f))

    def up(self, cells: np.ndarray) -> np.ndarray:
        """(rows, cols) -> (H, W): bilinear between the cells' centres."""
        return _bilinear(cells, self.factor, self.shape)

    def paper_level(self, grey: np.ndarray, paper: np.ndarray, coarse: np.ndarray) -> np.ndarray:
        """(H, W) -> (H, W): the mean of the ``paper`` pixels near each pixel, fine where there is paper to
        average, wider under strokes, the (rows, cols) ``coarse`` level where even the wide window holds none."""
        longer = max(self.shape)
        share = self.down(paper.astype(np.float32))  # (rows, cols) share of each cell that is paper
        light = self.down(np.where(paper, grey, np.float32(0)))  # (rows, cols) paper's light, per cell
        level = coarse
        for scale in (WIDE, FINE):  # the wide estimate fills where the fine one has no paper
            radius = max(1, round(scale * longer / self.factor))
            covered, lit = _box_blur(np.stack([share, light]), radius)
            mean = lit / np.maximum(covered, np.float32(1e-6))
            trust = np.clip(covered / np.float32(_COVERED), 0, 1)
            level = trust * mean + (1 - trust) * level
        return np.maximum(self.up(level), np.float32(1 / 255))


def _bilinear(cells: np.ndarray, factor: int, shape: tuple[int, int]) -> np.ndarray:
    """(rows, cols) values of factor × factor cells -> ``shape``: bilinear between the cells' centres, constant
    beyond the outer ones."""
    out = cells.astype(np.float32)
    for axis, n in enumerate(shape):
        centres = np.clip((np.arange(n) + 0.5) / factor - 0.5, 0, cells.shape[axis] - 1)
        low = np.floor(centres).astype(np.intp)
        high = np.minimum(low + 1, cells.shape[axis] - 1)
        weights = [1, 1]
        weights[axis] = n
        frac = (centres - low).astype(np.float32).reshape(weights)
        out = np.take(out, low, axis=axis) * (1 - frac) + np.take(out, high, axis=axis) * frac
    return out
