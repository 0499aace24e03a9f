"""The paper under the ink: estimate its slow shading, divide it out, and keep only the ink.

A photo of handwriting is lit unevenly — shading across the page, a vignette, the soft shadow
of a hand or a phone — so no single level is "the paper".  Light is multiplicative: a pixel is
illumination × reflectance, so dividing by an estimate of the lit paper leaves the reflectance
(paper -> 1, ink -> its own darkness, the same in light and in shade).

Pure NumPy, on a picture with light paper and dark ink (the caller inverts chalk on a board):

1. Ink cores.  A coarse paper level that ink cannot pull down — the brightest paper of each
   block (1/32 of the longer side), closed over 5×5 blocks so a stroke up to ~0.15 of the
   longer side wide is filled from the paper around it — and the cores are the pixels past
   half way from that level to the darkest ink.
2. The paper's level.  The mean of the paper near each pixel (a blur over paper pixels only, a
   normalised convolution; ~1/40 of the longer side, widening to 1/10 where ink covers the
   window), so it follows a shadow's soft edge and a vignette closely.  It is found twice: the
   second time without the pixels near a core that the first found darker than the paper (a
   stroke's soft edge), while a shadow next to a stroke stays paper.
3. The ink: the picture divided by the paper's level, kept within a stroke's reach of a core.
   Ink is sharp-edged and much darker than its surroundings; what is left of a shadow is soft,
   a little darker, and away from the strokes.

The blurs run on a grid averaged down to ~128 cells on the longer side (the shading is slow),
so a 512×384 picture takes a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRID = 128
"""The paper's level is computed on a grid of about this many cells on the picture's longer side."""
BLOCKS = 32
"""The coarse paper level is the brightest paper of blocks 1/BLOCKS of the longer side."""
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
"""Ink that tells the paper's side stands out from the paper around it by at least this much of the range
(a shadow's edge does less; faint pencil too, and then the paper is what most of the picture is)."""
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
    core |= grey < grid.up(wide) * (1 - WIDE_DEPTH)  # in a stroke too wide for the narrow closing, or a deep patch
    coarse_cells = wide
    reach = dilate(core, stroke_reach(core))
    background = grid.paper_level(grey, ~dilate(core, 1), coarse_cells)
    softer_edge = reach & (grey < background * (1 - _noise(grey / background, ~reach)))
    background = grid.paper_level(grey, ~(dilate(core, 1) | softer_edge), coarse_cells)
    flattened = np.minimum(grey / background, np.float32(1))
    ink = np.where(reach, 1 - flattened, np.float32(0))
    return InkSeparation(background, flattened, ink)


def paper_is_light(grey: np.ndarray) -> bool:
    """Whether a picture is dark ink on light paper (else light ink on dark paper).

    grey : (H, W) float in [0, 1].  The picture is first scaled so its brightest percent is 1
    (a dim photo is read like a bright one).  Ink is what stands out from the paper around it:
    the picture is compared with the median of blocks 1/8 of its longer side (the paper, wherever
    ink covers less than half a block, whatever the lighting), and the ink is on the side with
    clearly more mass among the strongest differences.  When nothing stands out by at least a
    quarter of the range (paper and shadows alone, or faint pencil), or neither side clearly has
    more (ink covering most of its blocks), the paper is light when the picture mostly is.
    """
    grey = np.asarray(grey, np.float32)
    grid = _Grid(grey.shape)
    cells = grid.down(grey)  # (rows, cols)
    cells /= max(float(np.percentile(cells, 99)), 1 / 255)
    block = max(1, round(max(grey.shape) / 8 / grid.factor))
    deviation = cells - _bilinear(_block_medians(cells, block), block, cells.shape)
    strong = 0.5 * float(np.abs(deviation).max())  # ink, not the edge of a shadow or a slope of light
    if strong >= CLEAR_INK / 2:
        darker = float(np.clip(-deviation - strong, 0, None).sum())
        lighter = float(np.clip(deviation - strong, 0, None).sum())
        if darker > 2 * lighter:
            return True
        if lighter > 2 * darker:
            return False
    return float(np.median(cells)) > 0.5


def stroke_reach(core: np.ndarray) -> int:
    """How far (pixels) a stroke's soft edge reaches past its dark core: half the core's width, at least 2.

    core : (H, W) bool.  A long stroke of width w has area w·length and about 2·length edge pixels.
    """
    area = int(core.sum())
    inner = core[1:-1, 1:-1] & core[:-2, 1:-1] & core[2:, 1:-1] & core[1:-1, :-2] & core[1:-1, 2:]
    edge = max(1, area - int(inner.sum()))
    return max(2, round(area / edge))


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
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


def _noise(ratio: np.ndarray, paper: np.ndarray) -> float:
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
    """(H, W) -> (H, W): ``passes`` box means of side 2·radius + 1 (three: close to a Gaussian of sigma ≈ radius),
    each cut to the picture at its edges."""
    for _ in range(passes):
        for axis in (0, 1):
            n = a.shape[axis]
            sums = np.cumsum(a, axis=axis, dtype=np.float64)
            zero = np.zeros_like(np.take(sums, [0], axis=axis))
            sums = np.concatenate([zero, sums], axis=axis)  # (n + 1) along the axis
            index = np.arange(n)
            high, low = np.minimum(index + radius + 1, n), np.maximum(index - radius, 0)
            shape = [1, 1]
            shape[axis] = n
            counts = (high - low).reshape(shape)
            a = ((np.take(sums, high, axis=axis) - np.take(sums, low, axis=axis)) / counts).astype(np.float32)
    return a


class _Grid:
    """A picture's coarse grid: cells of factor × factor pixels, about GRID on the longer side."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = shape
        self.factor = max(1, round(max(shape) / GRID))
        self.cells = (-(-shape[0] // self.factor), -(-shape[1] // self.factor))

    def down(self, a: np.ndarray) -> np.ndarray:
        """(H, W) -> (rows, cols): the mean of each cell (the picture's edge repeated to fill the last ones)."""
        f, (rows, cols) = self.factor, self.cells
        if f == 1:
            return a.astype(np.float32)
        padded = np.pad(a, ((0, rows * f - a.shape[0]), (0, cols * f - a.shape[1])), mode="edge")
        sums = padded.reshape(rows, f, cols, f).sum(axis=3, dtype=np.float32).sum(axis=1)  # inner axis first: fast
        return sums * np.float32(1 / (f * f))

    def up(self, cells: np.ndarray) -> np.ndarray:
        """(rows, cols) -> (H, W): bilinear between the cells' centres."""
        return _bilinear(cells, self.factor, self.shape)

    def paper_level(self, grey: np.ndarray, paper: np.ndarray, coarse: np.ndarray) -> np.ndarray:
        """(H, W) -> (H, W): the mean of the ``paper`` pixels near each pixel, fine where there is paper to
        average, wider under strokes, the (rows, cols) ``coarse`` level where even the wide window holds none."""
        longer = max(self.shape)
        share = self.down(paper.astype(np.float32))  # (rows, cols) share of each cell that is paper
        light = self.down(np.where(paper, grey, np.float32(0)))
        level = coarse
        for scale in (WIDE, FINE):  # the wide estimate fills where the fine one has no paper
            radius = max(1, round(scale * longer / self.factor))
            covered = _box_blur(share, radius)
            mean = _box_blur(light, radius) / np.maximum(covered, np.float32(1e-6))
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
