"""A drawing on a canvas -> an MNIST-style 28×28 image (pure NumPy, no Qt).

MNIST's own preparation: crop to the ink's bounding box, scale to fit a 20×20 box keeping the
aspect ratio (anti-aliased), place in a 28×28 field so that the centre of mass sits at the centre.
"""

from __future__ import annotations

import numpy as np

SIZE = 28
"""Side of the output image."""
BOX = 20
"""Side of the box the digit's bounding box is scaled to fit."""
INK_THRESHOLD = 0.05
"""Pixels at or below this value count as paper when finding the bounding box."""


def ink_bbox(image: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the pixels above ``threshold``, bottom/right exclusive; None if blank.

    image : (H, W) float in [0, 1].
    """
    mask = np.asarray(image) > threshold
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _area_matrix(n_in: int, n_out: int, offset: float = 0.0, cells: int | None = None) -> np.ndarray:
    """(cells, n_in) weights of area resampling n_in cells onto n_out, placed ``offset`` output cells in (any
    fraction) on a row of ``cells`` (default n_out): output cell i averages the input over its span."""
    scale = n_in / n_out
    starts = (np.arange(n_out if cells is None else cells) - offset)[:, None] * scale  # (cells, 1) spans, input units
    ends = starts + scale
    left = np.arange(n_in)[None, :]  # (1, n_in) each input cell covers [j, j + 1)
    overlap = np.clip(np.minimum(ends, left + 1) - np.maximum(starts, left), 0, None)  # (cells, n_in)
    return overlap / scale


def resize_area(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """(h, w) -> (height, width) by area averaging (box filter); up- and down-scaling, float64."""
    image = np.asarray(image, np.float64)
    rows = _area_matrix(image.shape[0], height)  # (height, h)
    cols = _area_matrix(image.shape[1], width)  # (width, w)
    return rows @ image @ cols.T


def center_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, col) of the intensity-weighted centre of a (H, W) image; the geometric centre if blank."""
    image = np.asarray(image, np.float64)
    total = image.sum()
    if total <= 0:
        return (image.shape[0] - 1) / 2, (image.shape[1] - 1) / 2
    rows = np.arange(image.shape[0]) @ image.sum(axis=1) / total
    cols = np.arange(image.shape[1]) @ image.sum(axis=0) / total
    return float(rows), float(cols)


def _shift(image: np.ndarray, drow: int, dcol: int) -> np.ndarray:
    """Translate without wrap-around; what leaves the frame is dropped."""
    out = np.zeros_like(image)
    h, w = image.shape
    src_r = slice(max(0, -drow), min(h, h - drow))
    dst_r = slice(max(0, drow), min(h, h + drow))
    src_c = slice(max(0, -dcol), min(w, w - dcol))
    dst_c = slice(max(0, dcol), min(w, w + dcol))
    out[dst_r, dst_c] = image[src_r, src_c]
    return out


def prepare_digit(
    ink: np.ndarray, threshold: float = INK_THRESHOLD, frame: np.ndarray | None = None, *, exact_centre: bool = False
) -> np.ndarray:
    """A drawing -> the 28×28 image the network expects.

    Parameters
    ----------
    ink : (H, W) float in [0, 1] (or uint8 0..255), white ink on black paper, any size.
    frame : (H, W) like ``ink``, optional: the drawing whose bounding box and centre of mass place
        ``ink`` (default: ``ink`` itself).  The canvas passes the drawing as it was before the
        eraser touched it, so erasing damages a digit where it is instead of re-centring and
        re-scaling what is left.
    exact_centre : place the centre of mass at the centre exactly, by scaling the box onto the
        28×28 grid at a fractional offset (area resampling, so no extra blur), instead of shifting
        by whole pixels.  Whole pixels are MNIST's way and the canvas's; a fractional offset keeps
        a picture's result from jumping a pixel when a little noise moves its centre across a half.

    Returns
    -------
    (28, 28) float32 in [0, 1]: the bounding box scaled to fit 20×20 (aspect kept), shifted so
    the centre of mass is at the image centre.  All zeros for a blank drawing (or a blank frame).
    """
    image = _two_d(ink)
    reference = image if frame is None else _two_d(frame)
    if reference.shape != image.shape:
        raise ValueError(f"prepare_digit() frame {reference.shape} must have the drawing's shape {image.shape}")
    # the box is found on the raw pixels; only the box is converted (a whole 280×280 canvas in float64 is 627 KB a
    # stroke, which glibc maps and page-faults anew on every call until it raises its mmap threshold)
    box = ink_bbox(reference, threshold * 255 if reference.dtype == np.uint8 else threshold)
    if box is None:
        return np.zeros((SIZE, SIZE), np.float32)
    top, bottom, left, right = box
    h, w = bottom - top, right - left
    scale = BOX / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    r0, c0 = (SIZE - new_h) // 2, (SIZE - new_w) // 2

    def placed(picture: np.ndarray) -> np.ndarray:  # the box scaled into 20×20, in the middle of 28×28
        out = np.zeros((SIZE, SIZE), np.float64)
        out[r0 : r0 + new_h, c0 : c0 + new_w] = resize_area(_as_ink(picture[top:bottom, left:right]), new_h, new_w)
        return out

    out = placed(image)
    com_r, com_c = center_of_mass(out if frame is None else placed(reference))
    centre = (SIZE - 1) / 2
    if exact_centre:
        rows = _area_matrix(h, new_h, r0 + centre - com_r, SIZE)  # (28, h)
        cols = _area_matrix(w, new_w, c0 + centre - com_c, SIZE)  # (28, w)
        out = rows @ _as_ink(image[top:bottom, left:right]) @ cols.T
    else:
        out = _shift(out, whole_pixels(centre - com_r), whole_pixels(centre - com_c))
    return np.clip(out, 0, 1).astype(np.float32)


def whole_pixels(offset: float) -> int:
    """A shift rounded to whole pixels (halves to even), after rounding it to a millionth of a pixel.

    A digit one pixel wide has its centre of mass exactly half a pixel off the centre; the sums giving it land a
    hair either side of the half (in NumPy, one way or the other by summation order), which would tip the shift.
    Rounded to 1e-6 first, such a tie is a tie here and in the exported web page's ``prepare.js`` alike.
    """
    micro = round(offset * 1e6)
    return round(micro / 1e6)


def shrink_framed(picture: np.ndarray) -> np.ndarray:
    """A picture already laid out as the network's input, at any size -> (28, 28) float32 in [0, 1], not re-framed.

    For a canvas showing a test image or a prepared picture that was then drawn over or erased:
    its framing is the data set's own (Fashion-MNIST fills the 28×28 field; MNIST digits sit in
    20×20), so it is only scaled down (area averaging), never cropped or re-centred.
    picture : (H, W) float in [0, 1] or uint8.
    """
    image = _as_ink(picture, "shrink_framed()")
    return np.clip(resize_area(image, SIZE, SIZE), 0, 1).astype(np.float32)


def _two_d(ink: np.ndarray, caller: str = "prepare_digit()") -> np.ndarray:
    ink = np.asarray(ink)
    if ink.ndim != 2:
        raise ValueError(f"{caller} takes a (H, W) image, got shape {ink.shape}")
    return ink


def _as_ink(ink: np.ndarray, caller: str = "prepare_digit()") -> np.ndarray:
    """(H, W) uint8 or float -> float64 in [0, 1] (NaN as paper)."""
    ink = _two_d(ink, caller)
    image = ink.astype(np.float64) / 255 if ink.dtype == np.uint8 else np.asarray(ink, np.float64)
    return np.clip(np.nan_to_num(image), 0, 1)
