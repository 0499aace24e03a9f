"""A user's own picture (any size, any bit depth) -> the MNIST-style 28×28 input the network expects.

Pure NumPy: the app reads the file (Qt reads the formats), flattens colour and transparency to
one grey channel, and hands the array here.  MNIST digits are light ink on a black background,
so a picture with a light background (decided from its border pixels: a photo or scan of ink on
paper) is inverted; the background level is subtracted and the ink stretched to full strength;
then the picture is prepared as a drawing is (``engine.preprocess.prepare_digit``: bounding box
into 20×20, centre of mass at the centre).  Very large pictures are first averaged down by an
integer factor, a band of rows at a time, so a 6000×6000 photo never becomes a float copy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.preprocess import SIZE, prepare_digit

MAX_MEGAPIXELS = 100
"""The largest picture read, in millions of pixels (a 10000×10000 scan), at up to 8 bits a channel; half as many
at 16 bits.  A reader may decode a picture whole and convert it to scale it down (PNG does; JPEG decodes at the
smaller size): ~4 bytes a pixel each, 8 at 16 bits, so a picture at the limit costs up to ~800 MB while it is
read (``bench/crafted_files.py``)."""
MAX_WORK_SIDE = 512
"""Pictures longer than this on a side are averaged down by an integer factor before anything else."""
MIN_CONTRAST = 0.1
"""Ink must stand out from the background by this much of the full range; else the picture is empty."""
FAINT = 0.2
"""After stretching, ink fainter than this is background texture (paper grain, JPEG noise) and dropped."""
_BAND_ROWS = 32
"""Output rows averaged down per step: bounds the temporary memory of a huge picture."""


@dataclass(frozen=True)
class PreparedImage:
    """The network's input made from a picture.

    image : (28, 28) float32 in [0, 1], light ink on black, as MNIST.
    empty : True when the picture holds nothing but background; ``image`` is then all zeros.
    inverted : True when the background was light and the picture was inverted.
    """

    image: np.ndarray
    empty: bool
    inverted: bool


class PictureTooLarge(ValueError):
    """A picture of more than ``MAX_MEGAPIXELS``: the message says its size and the limit."""


def check_picture_size(width: int, height: int, bits_per_channel: int = 8) -> None:
    """Raise ``PictureTooLarge`` ("too large (W×H, more than N megapixels)") for a picture beyond the limit: what
    a reader checks from the file's header, before decoding anything.  ``bits_per_channel`` above 8 halves it."""
    megapixels = MAX_MEGAPIXELS if bits_per_channel <= 8 else MAX_MEGAPIXELS // 2
    if width * height > megapixels * 10**6:
        deep = "" if bits_per_channel <= 8 else f" at {bits_per_channel} bits a channel"
        raise PictureTooLarge(f"too large ({width}×{height}{deep}, more than {megapixels} megapixels)")


def prepare_image(picture: np.ndarray) -> PreparedImage:
    """A grey picture -> the 28×28 MNIST-style input, with flags for an empty picture and for inversion.

    Parameters
    ----------
    picture : (H, W) grey pixels, any size: uint8 (0-255), uint16 (0-65535), another integer
        type (0 to its maximum), bool, or float in [0, 1].  Colour and alpha must already be
        flattened by the caller.

    Raises ``ValueError`` / ``TypeError`` naming the problem for anything else.
    """
    grey = _as_work_image(picture)
    background = float(np.median(_border(grey)))
    inverted = background > 0.5
    if inverted:
        grey = np.subtract(np.float32(1), grey, out=grey)
        background = 1 - background
    peak = float(grey.max())
    contrast = peak - background
    if contrast < MIN_CONTRAST:
        return PreparedImage(np.zeros((SIZE, SIZE), np.float32), True, inverted)
    # background -> 0, the strongest ink -> 1, faint texture -> 0
    low = background + FAINT * contrast
    ink = np.clip((grey - np.float32(low)) / np.float32(peak - low), 0, 1)
    image = prepare_digit(ink)
    top = float(image.max())
    if top <= 0:
        return PreparedImage(image, True, inverted)
    image *= np.float32(1 / top)  # thin strokes averaged down to the 20×20 box: back to MNIST's full strength
    return PreparedImage(image, False, inverted)


def _as_work_image(picture: np.ndarray) -> np.ndarray:
    """(H, W) pixels of any supported type -> (h, w) float32 in [0, 1], averaged down if longer than MAX_WORK_SIDE."""
    if not isinstance(picture, np.ndarray):
        raise TypeError(f"prepare_image() takes a NumPy array of grey pixels (H, W), got {type(picture).__name__}")
    if picture.ndim == 3 and picture.shape[2] == 1:
        picture = picture[:, :, 0]
    if picture.ndim != 2:
        raise ValueError(
            f"prepare_image() takes a grey picture (H, W); flatten colour and alpha first, got shape {picture.shape}"
        )
    if picture.size == 0:
        raise ValueError(f"prepare_image() got an empty picture of shape {picture.shape}")
    kind = picture.dtype.kind
    if kind == "b":
        picture, full = picture.view(np.uint8), 1.0
    elif kind in "ui":
        full = float(np.iinfo(picture.dtype).max)
        if kind == "i" and picture.min() < 0:
            raise ValueError(f"prepare_image() pixels must be >= 0, got {int(picture.min())}")
    elif kind == "f":
        low, high = float(picture.min()), float(picture.max())
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError("prepare_image() picture contains NaN or infinite values")
        if low < 0 or high > 1:
            raise ValueError(f"prepare_image() float pixels must be in [0, 1], got {low:g} to {high:g}")
        full = 1.0
    else:
        raise TypeError(f"prepare_image() takes integer or float pixels, got dtype {picture.dtype}")
    factor = math.ceil(max(picture.shape) / MAX_WORK_SIDE)
    grey = _average_down(picture, factor) if factor > 1 else picture.astype(np.float32)
    grey *= np.float32(1 / full)
    return grey


def _average_down(picture: np.ndarray, factor: int) -> np.ndarray:
    """(H, W) -> (ceil(H / f), ceil(W / f)) float32 means of f×f blocks (partial blocks at the edges), by bands."""
    h, w = picture.shape
    cols = np.arange(0, w, factor)
    out = np.empty((-(-h // factor), len(cols)), np.float32)
    col_counts = np.diff(np.append(cols, w)).astype(np.float32)  # (out_w,) block widths
    for r0 in range(0, out.shape[0], _BAND_ROWS):
        band = picture[r0 * factor : (r0 + _BAND_ROWS) * factor]  # (rows, W)
        rows = np.arange(0, len(band), factor)
        sums = np.add.reduceat(np.add.reduceat(band, cols, axis=1, dtype=np.float32), rows, axis=0)
        row_counts = np.diff(np.append(rows, len(band))).astype(np.float32)
        out[r0 : r0 + len(rows)] = sums / (row_counts[:, None] * col_counts[None, :])
    return out


def _border(grey: np.ndarray) -> np.ndarray:
    """The pixels of a ring around the picture, 2 % of the shorter side wide (at least one pixel)."""
    width = max(1, round(0.02 * min(grey.shape)))
    return np.concatenate(
        [grey[:width].ravel(), grey[-width:].ravel(), grey[:, :width].ravel(), grey[:, -width:].ravel()]
    )
