"""Generated photos of handwriting: a digit as dark ink on light paper, lit as a phone lights a page.

A page is reflectance × illumination: the digit's ink (``INK``) on paper (``PAPER``), then a light
field (even, shaded top to bottom, a vignette, a soft shadow band), paper texture and JPEG
compression on top.  Digits are real MNIST test digits when ``DENOISE_STUDIO_DATA`` names the
data (``mnist_digits``), else a few drawn shapes (``drawn_digits``) so the tests run anywhere.
"""

from __future__ import annotations

import os

import numpy as np

PAPER = 0.92
"""Reflectance of the paper (1 = white)."""
INK = 0.12
"""Reflectance of the ink: a dark pen."""
HEIGHT, WIDTH = 300, 400
"""A page's size: a phone photo's proportions, small enough for fast tests."""
DIGIT_SIDE = 224
"""The 28×28 digit is scaled up 8× onto the page (by default)."""


def mnist_digits(classes: tuple[int, ...] = (0, 2, 3, 4, 7, 8)) -> dict[str, np.ndarray] | None:
    """{label: (28, 28) uint8} the first MNIST test digit of each class, or None when the data is not there."""
    folder = os.environ.get("DENOISE_STUDIO_DATA")
    if not folder or not os.path.isdir(folder):
        return None
    from engine.dataset import read_split

    images, labels = read_split("test", 1000, data_dir=folder, download=False, progress=False)
    return {str(c): images[int(np.flatnonzero(labels == c)[0])].reshape(28, 28) for c in classes}


def drawn_digits() -> dict[str, np.ndarray]:
    """{name: (28, 28) uint8}: digit-like shapes drawn with a round, anti-aliased pen ~2.5 pixels wide."""
    t = np.linspace(0, 1, 60)
    zero = [np.stack([14 + 9.5 * np.cos(2 * np.pi * t), 14 + 6 * np.sin(2 * np.pi * t)], 1)]
    three = [
        np.stack([9.5 - 5 * np.cos(np.pi * t), 14 + 5.5 * np.sin(np.pi * t)], 1),
        np.stack([18.5 - 5 * np.cos(np.pi * t), 14 + 6 * np.sin(np.pi * t)], 1),
    ]
    seven = [np.array([[5.0, 8], [5, 20], [23, 12]])]
    four = [np.array([[4.0, 17], [16, 7], [16, 21]]), np.array([[9.0, 17], [24, 17]])]
    return {name: _pen(strokes) for name, strokes in {"0": zero, "3": three, "7": seven, "4": four}.items()}


def digits() -> dict[str, np.ndarray]:
    """The digits the page tests use: real MNIST ones when available, else the drawn shapes."""
    return mnist_digits() or drawn_digits()


def _pen(strokes: list[np.ndarray], width: float = 2.5) -> np.ndarray:
    """(28, 28) uint8: polylines of (row, col) points drawn with a round pen, the edge anti-aliased over a pixel."""
    rows, cols = np.mgrid[0:28, 0:28].astype(np.float64)
    distance = np.full((28, 28), np.inf)
    for points in strokes:
        for a, b in zip(points[:-1], points[1:], strict=True):
            ab = b - a
            along = np.clip(((rows - a[0]) * ab[0] + (cols - a[1]) * ab[1]) / max(ab @ ab, 1e-9), 0, 1)
            distance = np.minimum(distance, np.hypot(rows - a[0] - along * ab[0], cols - a[1] - along * ab[1]))
    return np.round(255 * np.clip(width / 2 + 0.5 - distance, 0, 1)).astype(np.uint8)


def upscale(image: np.ndarray, side: int) -> np.ndarray:
    """(28, 28) -> (side, side) float64 in [0, 1] by bilinear interpolation (a smooth pen, not blocks)."""
    n = image.shape[0]
    centres = np.clip((np.arange(side) + 0.5) * n / side - 0.5, 0, n - 1)
    low = np.minimum(np.floor(centres).astype(int), n - 2)
    frac = centres - low
    m = np.zeros((side, n))
    m[np.arange(side), low] = 1 - frac
    m[np.arange(side), low + 1] = frac
    return m @ (image / 255.0) @ m.T


def coverage(digit: np.ndarray, top: int = 30, left: int = 110, side: int = DIGIT_SIDE) -> np.ndarray:
    """(HEIGHT, WIDTH) in [0, 1]: how much ink covers each pixel, the digit scaled up to ``side`` at (top, left)."""
    covered = np.zeros((HEIGHT, WIDTH))
    covered[top : top + side, left : left + side] = upscale(digit, side)
    return covered


def ink_on_paper(digit: np.ndarray, top: int = 30, left: int = 110, side: int = DIGIT_SIDE) -> np.ndarray:
    """(HEIGHT, WIDTH) reflectance in [0, 1]: the digit as dark ink on light paper (``coverage``'s placing)."""
    return PAPER + coverage(digit, top, left, side) * (INK - PAPER)


def _grid() -> tuple[np.ndarray, np.ndarray]:
    """(row, col) of every pixel as fractions of the page, (HEIGHT, WIDTH) each."""
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    return rows / (HEIGHT - 1), cols / (WIDTH - 1)


def shading() -> np.ndarray:
    """(HEIGHT, WIDTH) light: full at the top, half at the bottom."""
    rows, _ = _grid()
    return 1 - 0.5 * rows


def vignette() -> np.ndarray:
    """(HEIGHT, WIDTH) light: full in the middle, falling to half in the corners."""
    rows, cols = _grid()
    return 1 - 0.5 * ((rows - 0.5) ** 2 + (cols - 0.5) ** 2) / 0.5


def shadow_band(depth: float = 0.4, softness: float = 0.05) -> np.ndarray:
    """(HEIGHT, WIDTH) light: a band a quarter of the page wide, across it on a slant through the digit, ``depth``
    darker, its edges soft over about ``softness`` of the page (a hand's or a phone's shadow)."""
    rows, cols = _grid()
    across = (rows * HEIGHT + 0.4 * cols * WIDTH) / HEIGHT - 0.7  # distance across the band, in page heights
    edge = 1 / (1 + np.exp(-(0.125 - np.abs(across)) / (softness / 4)))  # 1 inside the band, 0 outside
    return 1 - depth * edge


def hard_shadow(below: float = 0.85, depth: float = 0.4) -> np.ndarray:
    """(HEIGHT, WIDTH) light: a shadow with a sharp edge over the page below ``below`` of its height (a phone held
    low over the page), ``depth`` darker, clear of the digit."""
    rows, _ = _grid()
    return 1 - depth * (rows > below)


def texture(seed: int = 0) -> np.ndarray:
    """(HEIGHT, WIDTH) paper texture as a factor around 1: fine grain and soft mottling, each ±4 % (one sigma)."""
    rng = np.random.default_rng(seed)
    grain = rng.normal(0, 0.04, (HEIGHT, WIDTH))
    blotches = rng.normal(0, 1, (HEIGHT // 10 + 2, WIDTH // 10 + 2))
    mottling = np.kron(blotches, np.ones((10, 10)))[:HEIGHT, :WIDTH]
    for axis in (0, 1):  # a 21-pixel running mean each way softens the blocks into blotches
        mottling = np.apply_along_axis(lambda v: np.convolve(v, np.ones(21) / 21, mode="same"), axis, mottling)
    mottling *= 0.04 / mottling.std()
    return 1 + grain + mottling


def on_a_desk(page: np.ndarray) -> np.ndarray:
    """The page with a dark desk past its left and bottom edges, and a speck of dirt near a corner."""
    page = page.copy()
    page[:, :30] = page[-25:] = 0.25
    page[12:16, 370:374] = INK
    return page


def ruled(page: np.ndarray) -> np.ndarray:
    """The page with ruled lines across it, two pixels thick, every 28 pixels, a quarter darker."""
    page = page.copy()
    for row in range(20, page.shape[0], 28):
        page[row : row + 2] *= 0.75
    return page


def to_uint8(page: np.ndarray) -> np.ndarray:
    """A page in [0, 1] as a camera stores it: (H, W) uint8."""
    return np.round(np.clip(page, 0, 1) * 255).astype(np.uint8)


def jpeg(page: np.ndarray, quality: int) -> np.ndarray:
    """(H, W) uint8 -> the same page saved as a JPEG at ``quality`` and read back (Qt's codec), (H, W) uint8."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage

    height, width = page.shape
    data = np.ascontiguousarray(page, np.uint8)
    image = QImage(data.tobytes(), width, height, width, QImage.Format.Format_Grayscale8)
    encoded = QByteArray()
    buffer = QBuffer(encoded)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, "JPG", quality)
    decoded = QImage.fromData(encoded).convertToFormat(QImage.Format.Format_Grayscale8)
    per_line = decoded.bytesPerLine()
    flat = np.frombuffer(decoded.constBits(), np.uint8, count=per_line * height)
    return flat.reshape(height, per_line)[:, :width].copy()


PHOTOS = {
    "shading, top to bottom down to half": lambda page: to_uint8(page * shading()),
    "vignette, corners at half": lambda page: to_uint8(page * vignette()),
    "soft shadow band across the digit (40 %)": lambda page: to_uint8(page * shadow_band()),
    "JPEG quality 50": lambda page: jpeg(to_uint8(page), 50),
    "paper texture (grain + mottling, 4 % each)": lambda page: to_uint8(page * texture()),
    "all of them, JPEG quality 80": lambda page: jpeg(
        to_uint8(page * shading() * vignette() * shadow_band() * texture()), 80
    ),
}
"""The issue's photos: a page's reflectance (HEIGHT, WIDTH) -> the photo, (HEIGHT, WIDTH) uint8."""
