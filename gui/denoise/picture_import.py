"""A user's own picture -> grey pixels -> the network's 28×28 input: Qt reads the formats, the engine prepares.

Qt decodes the file (PNG, JPEG, BMP, GIF and whatever else its image plugins read), scaling a
large picture down while reading (``QImageReader.setScaledSize``; JPEG even decodes at the
smaller size), so a 6000×6000 photo never sits in memory as floats.  A picture whose header
claims more than ``engine.image_import.MAX_MEGAPIXELS`` is refused before it is decoded; Qt's own
allocation limit (256 MB, which refused a 9000×9000 PNG as damaged) is raised to what ours needs.
Transparency is flattened onto a background that contrasts with the picture's visible pixels
(dark ink on a transparent background lands on white, light ink on black), colour becomes grey,
and 16-bit pictures stay 16-bit.  ``engine.image_import.preparation_steps`` does the rest (shading,
inversion, ink, box, centre; the steps stay on the ``Picture``).  ``load_picture`` is the job the
Denoise tab runs off the GUI thread; every failure is a ``PictureError`` naming the picture.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, QSize, Qt
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter

from engine.image_import import (
    MAX_MEGAPIXELS,
    MAX_WORK_SIDE,
    PictureTooLarge,
    PreparationSteps,
    check_picture_size,
    preparation_steps,
)

_DEEP_FORMATS = {
    QImage.Format.Format_Grayscale16,
    QImage.Format.Format_RGBX64,
    QImage.Format.Format_RGBA64,
    QImage.Format.Format_RGBA64_Premultiplied,
    QImage.Format.Format_RGBX16FPx4,
    QImage.Format.Format_RGBA16FPx4,
    QImage.Format.Format_RGBA16FPx4_Premultiplied,
    QImage.Format.Format_RGBX32FPx4,
    QImage.Format.Format_RGBA32FPx4,
    QImage.Format.Format_RGBA32FPx4_Premultiplied,
    QImage.Format.Format_BGR30,
    QImage.Format.Format_A2BGR30_Premultiplied,
    QImage.Format.Format_RGB30,
    QImage.Format.Format_A2RGB30_Premultiplied,
}
"""Formats with more than 8 bits a channel: read as 16-bit grey, not squeezed into 8 bits."""
_DECODE_LIMIT_MB = MAX_MEGAPIXELS * 4 + 1
"""What Qt may allocate to decode a picture: ``MAX_MEGAPIXELS`` at 4 bytes a pixel (half as many at 8 bytes)."""
FILE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff *.pgm *.ppm);;All files (*)"
"""The Open image dialog's filter (any other file Qt can read opens too)."""


class PictureError(Exception):
    """A picture that cannot become the network's input: what went wrong and what to do, naming the picture."""

    def __init__(self, name: str, problem: str, fix: str) -> None:
        self.name, self.problem, self.fix = name, problem, fix
        super().__init__(f"{name}: {problem}")


@dataclass(frozen=True)
class Picture:
    """A user's picture made into the network's input.

    name : the file's name (or "the pasted image");  image : (28, 28) float32 in [0, 1], light on black;
    inverted : the background was light and was inverted;  size : (width, height) of the file's picture;
    steps : each step of the preparation (picture, background, background removed, ink), to show on request.
    """

    name: str
    image: np.ndarray
    inverted: bool
    size: tuple[int, int]
    steps: PreparationSteps


def picture_in(mime: QMimeData, unnamed: str) -> tuple[str | QImage, str] | None:
    """What a drop or the clipboard carries: (a local file's path, its name), else (image data, ``unnamed``);
    None when it carries neither."""
    for url in mime.urls():
        if url.isLocalFile():
            path = url.toLocalFile()
            return path, Path(path).name
    if mime.hasImage():
        image = QImage(mime.imageData())
        if not image.isNull():
            return image, unnamed
    return None


def load_picture(source: str | QImage, name: str, state=None) -> Picture:
    """Read ``source`` (a file path or a QImage) and prepare it as MNIST; raises ``PictureError``.  A job."""
    image, size = read_picture(source, name)
    steps = preparation_steps(grey_pixels(image))
    prepared = steps.prepared
    if prepared.empty:
        raise PictureError(
            name,
            "holds no picture: it is one even shade, or what is on it is too faint to find",
            "Open a picture of a dark digit on a light background (or a light one on dark), with clear contrast",
        )
    return Picture(name, prepared.image, prepared.inverted, size, steps)


def read_picture(source: str | QImage, name: str, max_side: int = MAX_WORK_SIDE) -> tuple[QImage, tuple[int, int]]:
    """The picture, scaled down (aspect kept) to at most ``max_side`` on its longer side, and its original
    (width, height).  Raises ``PictureError`` for a missing, unreadable, too large (more than ``MAX_MEGAPIXELS``,
    from its header) or damaged file."""
    if isinstance(source, QImage):
        if source.isNull():
            raise PictureError(name, "holds no image data", "Copy the picture again, or save it to a file and open it")
        size = (source.width(), source.height())
        if max(size) > max_side:
            source = source.scaled(max_side, max_side, Qt.AspectRatioMode.KeepAspectRatio,
                                   Qt.TransformationMode.SmoothTransformation)  # fmt: skip
        return source, size
    path = Path(source)
    _check_file(path, name)
    reader = QImageReader(str(path))
    reader.setDecideFormatFromContent(True)  # a picture with the wrong extension still opens
    reader.setAutoTransform(True)  # a phone photo the right way up
    if not reader.canRead():
        raise PictureError(
            name,
            f"is not a picture Denoise Studio can read ({reader.errorString()})",
            "Open a PNG, JPEG, BMP or GIF file",
        )
    full = reader.size()
    size = (full.width(), full.height())
    if full.isValid():
        try:
            check_picture_size(*size, 16 if reader.imageFormat() in _DEEP_FORMATS else 8)  # from the header alone
        except PictureTooLarge as exc:
            raise PictureError(name, f"is {exc}", "Scale the picture down in an image editor, then open it") from None
        if max(size) > max_side:
            reader.setScaledSize(full.scaled(QSize(max_side, max_side), Qt.AspectRatioMode.KeepAspectRatio))
    reader.setAllocationLimit(_DECODE_LIMIT_MB)  # Qt's default (256 MB) refuses pictures far below our limit
    image = reader.read()
    if image.isNull():
        cause = "The file may be damaged or cut short" if full.isValid() else (
            f"The file may be damaged, or larger than {MAX_MEGAPIXELS} megapixels"
        )  # fmt: skip
        raise PictureError(
            name,
            f"could not be decoded: {reader.errorString()}. {cause}",
            "Open another copy of the picture, or save it again from an image editor",
        )
    if not full.isValid():
        size = (image.width(), image.height())
    return image, size


def _check_file(path: Path, name: str) -> None:
    """Refuse, saying what it is, a path that is not a readable regular file: missing, a dangling link, a folder,
    a pipe or device (reading one would block or never end), or one the user may not read."""
    fix = "Choose a picture file (PNG, JPEG, BMP or GIF)"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        what = "is a link to a file that is not there" if os.path.islink(path) else "was not found"
        raise PictureError(name, f"{what} ({path})", fix) from None
    except OSError as exc:
        raise PictureError(name, f"cannot be opened ({exc.strerror or exc})", fix) from None
    if stat.S_ISDIR(mode):
        raise PictureError(name, f"is a folder, not a picture ({path})", fix)
    if not stat.S_ISREG(mode):
        raise PictureError(name, f"is not a file but a device, pipe or socket ({path})", fix)
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise PictureError(name, f"cannot be read: permission denied ({path})", "Check its permissions") from None
    except OSError as exc:
        raise PictureError(name, f"cannot be read ({exc.strerror or exc})", fix) from None


def grey_pixels(image: QImage) -> np.ndarray:
    """A picture -> (H, W) grey pixels: uint16 for pictures with more than 8 bits a channel, else uint8.

    Transparent pixels take the background colour that contrasts with the visible ones (white
    behind dark ink, black behind light ink), so a digit on a transparent background stays a digit.
    """
    deep = image.format() in _DEEP_FORMATS
    if image.hasAlphaChannel():
        image = _flatten_alpha(image, deep)
    grey = image.convertToFormat(QImage.Format.Format_Grayscale16 if deep else QImage.Format.Format_Grayscale8)
    return _array(grey, np.uint16 if deep else np.uint8)


def _flatten_alpha(image: QImage, deep: bool) -> QImage:
    """The picture painted over white when its visible pixels are mostly dark, else over black."""
    alpha = _array(image.convertToFormat(QImage.Format.Format_Alpha8), np.uint8)
    shade = _array(image.convertToFormat(QImage.Format.Format_Grayscale8), np.uint8)  # colours, alpha ignored
    weight = float(alpha.sum(dtype=np.float64))
    visible_shade = float((shade * alpha.astype(np.float64)).sum() / weight) if weight else 255.0  # mean, by alpha
    backdrop = QImage(image.size(), QImage.Format.Format_RGBA64 if deep else QImage.Format.Format_ARGB32)
    backdrop.fill(QColor(255, 255, 255) if visible_shade < 128 else QColor(0, 0, 0))
    painter = QPainter(backdrop)
    painter.drawImage(0, 0, image)
    painter.end()
    return backdrop


def _array(image: QImage, dtype) -> np.ndarray:
    """A one-channel QImage's pixels as an (H, W) array (a copy: the QImage may go away)."""
    per_line = image.bytesPerLine() // np.dtype(dtype).itemsize
    flat = np.frombuffer(image.constBits(), dtype, count=per_line * image.height())
    return flat.reshape(image.height(), per_line)[:, : image.width()].copy()
