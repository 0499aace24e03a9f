"""A user's own picture (any size, any bit depth) -> the MNIST-style 28×28 input the network expects.

Pure NumPy: the app reads the file (Qt reads the formats), flattens colour and transparency to
one grey channel, and hands the array here.  Very large pictures are first averaged down by an
integer factor, a band of rows at a time, so a 6000×6000 photo never becomes a float copy (the
result is 28×28: nothing is lost).  Then, as ``preparation_steps`` returns them:

1. picture -> background removed: ``engine.background`` decides whether the paper is light
   (dark ink on paper, inverted, as MNIST digits are light ink on black) and divides out the
   lit paper's level — shading, a vignette, soft shadows — found under the ink;
2. -> ink: what is much darker than the paper near it and sharp-edged (not a shadow's soft
   remains), stretched to full strength, without the marks that are not the digit
   (``engine.marks``: specks of dirt, a dark desk past the page's edge);
3. -> 28×28: prepared as a drawing is (``engine.preprocess.prepare_digit``: bounding box into
   20×20, centre of mass at the centre, exactly rather than to the nearest pixel so a little
   noise cannot shift the result by one).

A scan or a drawing on even paper comes out as before, up to that exact centring (a fraction of
a pixel): an even background divides out to itself.  ``describe_steps`` says in words what each step
did to a picture (the app shows the steps beside them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.background import paper_is_light, separate_ink
from engine.marks import digit_marks
from engine.preprocess import prepare_digit

MAX_MEGAPIXELS = 100
"""The largest picture read, in millions of pixels (a 10000×10000 scan), at up to 8 bits a channel; half as many
at 16 bits.  A reader may decode a picture whole and convert it to scale it down (PNG does; JPEG decodes at the
smaller size): ~4 bytes a pixel each, 8 at 16 bits, so a picture at the limit costs up to ~800 MB while it is
read (``bench/crafted_files.py``)."""
MAX_WORK_SIDE = 512
"""Pictures longer than this on a side are averaged down by an integer factor before anything else."""
MIN_CONTRAST = 0.1
"""Ink must stand out from the paper around it by this much of the full range; else the picture is empty."""
FAINT = 0.2
"""Ink fainter than this share of the strongest is paper texture (grain, JPEG noise) and dropped."""
EVEN_PERCENT = 5
"""``describe_steps``: a background whose brightness varies by at most this many points is called even."""
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


@dataclass(frozen=True)
class PreparationSteps:
    """Each step from a picture to the network's input, for a learner to see what the network is given.

    picture : (h, w) float32 in [0, 1], the grey picture at the working size (``MAX_WORK_SIDE`` at most).
    background : (h, w) float32 in [0, 1], the lit paper's level found under the ink: its shading, a vignette,
        shadows (for light ink on a dark board, the board's level).
    flattened : (h, w) float32 in [0, 1], "background removed": the picture with the paper's level divided out,
        the right way round (dark ink on even white paper, or light ink on an even black board).
    ink : (h, w) float32 in [0, 1], the digit's ink alone (no shadows, specks or desk), light on black as MNIST,
        strongest ink at 1: what is cropped, scaled into 20×20 and centred.
    prepared : the 28×28 result (what ``prepare_image`` returns).
    """

    picture: np.ndarray
    background: np.ndarray
    flattened: np.ndarray
    ink: np.ndarray
    prepared: PreparedImage


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
    return preparation_steps(picture).prepared


def preparation_steps(picture: np.ndarray) -> PreparationSteps:
    """A grey picture -> every step of its preparation, so a learner can see what the network is given.

    ``picture`` as for ``prepare_image`` (same errors).  The steps' images are (h, w) float32,
    the picture at its working size: averaged down to at most ``MAX_WORK_SIDE`` on its longer side.
    """
    grey = _as_work_image(picture)
    light_paper = paper_is_light(grey)
    separation = separate_ink(grey if light_paper else 1 - grey)
    background, flattened = separation.background, separation.flattened
    if not light_paper:  # back to the picture's own way round: light ink on an even black
        background, flattened = 1 - background, 1 - flattened
    standing_out = separation.ink * separation.background  # how far the ink is from the paper, of the full range
    if float(standing_out.max()) < MIN_CONTRAST:
        ink = np.zeros_like(grey)
    else:  # paper -> 0, the strongest ink -> 1, faint texture -> 0
        peak = float(separation.ink.max())
        low = FAINT * peak
        ink = digit_marks(np.clip((separation.ink - np.float32(low)) / np.float32(peak - low), 0, 1))
    image = prepare_digit(ink, exact_centre=True)
    top = float(image.max())
    if top > 0:
        image *= np.float32(1 / top)  # thin strokes averaged down to the 20×20 box: back to MNIST's full strength
    return PreparationSteps(grey, background, flattened, ink, PreparedImage(image, top <= 0, light_paper))


def describe_steps(steps: PreparationSteps, size: tuple[int, int] | None = None) -> tuple[tuple[str, str], ...]:
    """What each step did to this picture, in words for a learner: ``(title, one line)`` for the picture, its
    background, the background removed, the ink and the 28×28 input, in that order.

    ``size`` : the picture's own (width, height) when it was read at a smaller size (the steps hold the
    working size).  The background's line gives how bright most of the paper is under the ink (its 5th to 95th
    percentile; the estimate dips a little beside thick strokes), so uneven light shows as a range.
    """
    height, width = steps.picture.shape
    scaled = f", scaled down from {size[0]}×{size[1]}" if size is not None and tuple(size) != (width, height) else ""
    low, high = (round(100 * float(v)) for v in np.percentile(steps.background, (5, 95)))
    level = f"an even {high} %" if high - low <= EVEN_PERCENT else f"from {low} % to {high} %"
    if steps.prepared.inverted:
        background = ("The paper's light", f"Found under the ink: {level} bright")
        removed = "Divided by the paper's light: even white paper, dark ink"
        ink = "The sharp, dark marks, made light on black as in MNIST; shadows and specks left out"
    else:
        background = ("The board's level", f"Found under the ink: {level} bright")
        removed = "The board's level evened out: light ink on even black"
        ink = "The sharp, light marks, light on black as in MNIST; glare and specks left out"
    return (
        ("Your picture", f"In grey, {width}×{height} pixels{scaled}"),
        background,
        ("Background removed", removed),
        ("Ink", ink),
        ("Network input, 28×28", "Cropped, scaled into 20×20 and centred by mass: what the network is given"),
    )


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
