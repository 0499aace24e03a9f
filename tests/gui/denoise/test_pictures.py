"""Your own pictures on the canvas: File ▸ Open image, drag-and-drop and paste, with generated files of every kind
(dark on light, light on dark, transparency, 16-bit grey, 6000×6000, empty, damaged)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QGuiApplication, QImage, QPainter, QPen
from PySide6.QtWidgets import QApplication, QFileDialog

from engine.image_import import MAX_WORK_SIDE, prepare_image
from engine.preprocess import ink_bbox
from gui.denoise.picture_import import grey_pixels, load_picture, read_picture
from tests.engine import pages
from tests.gui.denoise.test_denoise_tab import draw_stroke

TIMEOUT = 30000


@pytest.fixture
def tab(window):
    window.tabs.setCurrentWidget(window.denoise_tab)
    return window.denoise_tab


def l_shape(width: int, height: int, paper: QColor, ink: QColor, fmt=QImage.Format.Format_Grayscale8) -> QImage:
    """A thick "L" (a tall stroke on the left, a short one along the bottom) on plain paper."""
    image = QImage(width, height, fmt)
    image.fill(paper)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(QPen(ink, 0.08 * min(width, height), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    painter.drawLine(QPointF(0.35 * width, 0.2 * height), QPointF(0.35 * width, 0.8 * height))
    painter.drawLine(QPointF(0.35 * width, 0.8 * height), QPointF(0.65 * width, 0.8 * height))
    painter.end()
    return image


def pixels(image: QImage) -> np.ndarray:
    """A Grayscale8 QImage's pixels (H, W) uint8, as the test wrote them."""
    per_line = image.bytesPerLine()
    flat = np.frombuffer(image.constBits(), np.uint8, count=per_line * image.height())
    return flat.reshape(image.height(), per_line)[:, : image.width()].copy()


def grey(shade: int) -> QColor:
    return QColor(shade, shade, shade)


def is_an_l(image: np.ndarray) -> bool:
    """The inkiest column is at the left of the ink, the inkiest row at its bottom: the L came through upright."""
    top, bottom, left, right = ink_bbox(image)
    column, row = int(image.sum(axis=0).argmax()), int(image.sum(axis=1).argmax())
    return column < left + (right - left) / 3 and row >= bottom - (bottom - top) / 3


def open_picture(qtbot, tab, path):
    with qtbot.waitSignal(tab.inputs.pictureShown, timeout=TIMEOUT) as shown:
        tab.open_picture(str(path), path.name)
    return shown.args[0]


def test_dark_ink_on_light_paper_is_inverted_and_prepared_as_mnist(qtbot, tab, tmp_path):
    image = l_shape(300, 200, grey(235), grey(20))
    path = tmp_path / "digit.png"
    assert image.save(str(path))
    assert open_picture(qtbot, tab, path) == "digit.png"
    expected = prepare_image(pixels(image))
    assert expected.inverted and not expected.empty
    np.testing.assert_array_equal(tab.state.clean, expected.image)  # the file's own pixels, one engine call
    assert tab.state.source == "picture" and "digit.png (300×200, inverted)" in tab.draw.source_label.text()
    assert is_an_l(tab.state.clean)
    shown = tab.state.shown
    np.testing.assert_array_equal(shown.recon, tab.state.model.predict(shown.noisy.reshape(1, 784)).reshape(28, 28))


def test_light_ink_on_dark_is_taken_as_it_is(qtbot, tab, tmp_path):
    image = l_shape(120, 160, grey(10), grey(240))
    path = tmp_path / "chalk.bmp"
    assert image.save(str(path))
    open_picture(qtbot, tab, path)
    expected = prepare_image(pixels(image))
    assert not expected.inverted
    np.testing.assert_array_equal(tab.state.clean, expected.image)
    assert "inverted" not in tab.draw.source_label.text()


def test_a_jpeg_opens_too(qtbot, tab, tmp_path):
    path = tmp_path / "photo.jpg"
    assert l_shape(256, 256, grey(230), grey(30), QImage.Format.Format_RGB32).save(str(path))
    open_picture(qtbot, tab, path)
    assert is_an_l(tab.state.clean) and tab.state.clean.max() == pytest.approx(1.0)


def test_a_gif_opens_too(qtbot, tab, tmp_path):
    image = l_shape(90, 120, grey(225), grey(35))
    path = tmp_path / "scan.gif"
    path.write_bytes(grey_gif(pixels(image)))  # Qt reads GIF but has no GIF writer
    open_picture(qtbot, tab, path)
    np.testing.assert_array_equal(tab.state.clean, prepare_image(pixels(image)).image)


def blue_three_on_beige(path, darkening: float) -> None:
    """The issue's phone photo: a dark-blue "3" on beige paper that darkens towards the bottom (to ``1 - darkening``
    of the light at the top), 400×300, saved as a JPEG."""
    three = pages.digits().get("3", pages.drawn_digits()["3"])
    ink = pages.coverage(three)[..., None]  # (300, 400, 1)
    light = 1 - darkening * np.linspace(0, 1, pages.HEIGHT)[:, None, None]
    colour = (np.array([236, 222, 192]) * (1 - ink) + np.array([28, 38, 112]) * ink) * light  # (300, 400, 3) RGB
    rgb = np.ascontiguousarray(np.round(colour), np.uint8)
    image = QImage(rgb.tobytes(), pages.WIDTH, pages.HEIGHT, 3 * pages.WIDTH, QImage.Format.Format_RGB888)
    assert image.save(str(path), "JPG", 85)


def test_a_photo_of_a_blue_three_on_paper_darkening_downwards_becomes_the_clean_three(qtbot, tab, tmp_path):
    """Issue 31: no bar from the darker lower paper, the 3 fills the box, and it matches the same 3 on even paper."""
    blue_three_on_beige(tmp_path / "even.jpg", 0)
    blue_three_on_beige(tmp_path / "photo.jpg", 0.5)
    open_picture(qtbot, tab, tmp_path / "even.jpg")
    even = tab.state.clean.copy()
    assert open_picture(qtbot, tab, tmp_path / "photo.jpg") == "photo.jpg"
    assert "photo.jpg (400×300, inverted)" in tab.draw.source_label.text()
    top, bottom, left, right = ink_bbox(tab.state.clean)
    assert bottom - top in (20, 21) and right - left < bottom - top  # a 3, upright, fills the box's height
    assert np.corrcoef(tab.state.clean.ravel(), even.ravel())[0, 1] >= 0.95
    assert np.abs(tab.state.clean - even).mean() <= 8 / 255
    steps = load_picture(str(tmp_path / "photo.jpg"), "photo.jpg").steps  # what "show the steps" shows
    assert steps.picture.shape == (300, 400) and steps.flattened[-20:].mean() > 0.95  # the dark bottom, evened
    np.testing.assert_array_equal(steps.prepared.image, tab.state.clean)


def grey_gif(grey_pixels: np.ndarray) -> bytes:
    """A GIF of (H, W) uint8 grey pixels, 256 grey levels, LZW without compression (a clear code every 250 pixels,
    so every code stays 9 bits long)."""
    height, width = grey_pixels.shape
    clear, end = 256, 257
    codes: list[int] = []
    flat = grey_pixels.ravel().tolist()
    for start in range(0, len(flat), 250):
        codes += [clear, *flat[start : start + 250]]
    codes.append(end)
    bits = "".join(format(code, "09b")[::-1] for code in codes)  # least significant bit first
    bits += "0" * (-len(bits) % 8)
    data = bytes(int(bits[i : i + 8][::-1], 2) for i in range(0, len(bits), 8))
    blocks = b"".join(bytes([len(data[i : i + 255])]) + data[i : i + 255] for i in range(0, len(data), 255))
    palette = bytes(v for level in range(256) for v in (level, level, level))
    size = width.to_bytes(2, "little") + height.to_bytes(2, "little")
    return (b"GIF89a" + size + bytes([0xF7, 0, 0]) + palette + b"\x2c" + bytes(4) + size + b"\x00" + b"\x08"
            + blocks + b"\x00\x3b")  # fmt: skip


@pytest.mark.parametrize("ink, paper_shown_as", [(20, 255), (235, 0)])
def test_transparency_lands_on_a_background_that_shows_the_ink(qtbot, tab, tmp_path, ink, paper_shown_as):
    """Dark ink on a transparent background lands on white (and is inverted), light ink on black."""
    image = l_shape(200, 200, QColor(0, 0, 0, 0), grey(ink), QImage.Format.Format_ARGB32)
    path = tmp_path / "transparent.png"
    assert image.save(str(path))
    open_picture(qtbot, tab, path)
    flattened, _ = read_picture(str(path), "transparent.png")
    shown = grey_pixels(flattened)
    assert shown[0, 0] == paper_shown_as  # a transparent corner
    alpha = pixels(image.convertToFormat(QImage.Format.Format_Alpha8)).astype(np.float64) / 255
    expected = prepare_image((paper_shown_as + alpha * (ink - paper_shown_as)) / 255)  # painted over the paper
    np.testing.assert_allclose(tab.state.clean, expected.image, atol=0.03)
    assert is_an_l(tab.state.clean)


def test_a_16_bit_grey_picture_keeps_its_depth(qtbot, tab, tmp_path):
    deep = np.full((90, 60), 4000, np.uint16)  # faint grey paper ...
    deep[15:75, 18:26] = 61000  # ... an L in light ink
    deep[67:75, 18:42] = 61000
    deep[30:40, 40:44] = 4001 + np.arange(4, dtype=np.uint16)  # levels 8 bits cannot tell apart
    image = QImage(deep.data, 60, 90, 120, QImage.Format.Format_Grayscale16).copy()
    path = tmp_path / "deep.png"
    assert image.save(str(path))
    read, size = read_picture(str(path), "deep.png")
    values = grey_pixels(read)
    assert values.dtype == np.uint16 and size == (60, 90)
    np.testing.assert_array_equal(values, deep)
    open_picture(qtbot, tab, path)
    np.testing.assert_array_equal(tab.state.clean, prepare_image(deep).image)


def test_a_6000_pixel_picture_is_scaled_down_while_read_off_the_gui_thread(qtbot, window, tab, tmp_path, monkeypatch):
    path = tmp_path / "scan.png"
    assert l_shape(6000, 6000, grey(245), grey(15)).save(str(path))
    read, size = read_picture(str(path), "scan.png")
    assert size == (6000, 6000) and max(read.width(), read.height()) == MAX_WORK_SIDE  # never decoded as floats
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.tabs.setCurrentWidget(window.training_tab)
    with qtbot.waitSignal(tab.inputs.pictureShown, timeout=TIMEOUT):
        window.actions["open_picture"].trigger()
        assert window.actions["open_picture"].shortcut().toString() == "Ctrl+Shift+O"
        assert tab.canvas.is_empty() and "Reading scan.png" in tab.draw.source_label.text()  # read off-thread
    assert window.tabs.currentWidget() is tab
    assert "6000×6000" in tab.draw.source_label.text() and is_an_l(tab.state.clean)


def write_corrupt(path):
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)


def write_empty(path):
    assert QImage(64, 64, QImage.Format.Format_Grayscale8).save(str(path)) if False else _plain(path)


def _plain(path) -> bool:
    image = QImage(64, 48, QImage.Format.Format_RGB32)
    image.fill(QColor(250, 250, 250))
    return image.save(str(path))


@pytest.mark.parametrize(
    "name, make, says",
    [
        ("broken.png", write_corrupt, "could not be decoded"),
        ("blank.png", _plain, "holds no picture"),
        ("notes.txt", lambda p: p.write_text("not a picture"), "is not a picture"),
        ("gone.png", lambda p: None, "was not found"),
    ],
)
def test_a_bad_picture_gets_a_dialog_naming_it_and_the_drawing_stays(qtbot, tab, tmp_path, dialogs_shown, name,
                                                                     make, says):  # fmt: skip
    draw_stroke(qtbot, tab.canvas, [(140, 40), (140, 240)])
    before = tab.canvas.ink().copy()
    path = tmp_path / name
    make(path)
    with qtbot.waitSignal(tab.inputs.picture_jobs.busyChanged, timeout=TIMEOUT, check_params_cb=lambda busy: not busy):
        tab.open_picture(str(path), name)
    assert len(dialogs_shown) == 1 and name in dialogs_shown[0] and says in dialogs_shown[0]
    assert "Cannot use this picture" in dialogs_shown[0] and "keeps what it had" in dialogs_shown[0]
    np.testing.assert_array_equal(tab.canvas.ink(), before)
    assert tab.state.source == "drawing" and tab.draw.source_label.text() == "Your drawing"


def drag_and_drop(canvas, mime: QMimeData) -> tuple[bool, QDropEvent]:
    """A real drag-enter then drop on the canvas's centre; whether the enter was accepted."""
    enter = QDragEnterEvent(QPoint(140, 140), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)  # fmt: skip
    enter.ignore()
    QApplication.sendEvent(canvas, enter)
    drop = QDropEvent(QPointF(140, 140), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)  # fmt: skip
    if enter.isAccepted():
        QApplication.sendEvent(canvas, drop)
    return enter.isAccepted(), drop


def test_a_picture_file_dropped_on_the_canvas_is_denoised_and_undo_brings_the_drawing_back(qtbot, tab, tmp_path):
    draw_stroke(qtbot, tab.canvas, [(60, 60), (200, 200)])
    drawing = tab.canvas.ink().copy()
    image = l_shape(200, 300, grey(230), grey(25))
    path = tmp_path / "dropped.png"
    assert image.save(str(path))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    with qtbot.waitSignal(tab.inputs.pictureShown, timeout=TIMEOUT) as shown:
        accepted, _ = drag_and_drop(tab.canvas, mime)
    assert accepted and shown.args == ["dropped.png"]
    np.testing.assert_array_equal(tab.state.clean, prepare_image(pixels(image)).image)
    assert tab.state.shown.errors["model"] >= 0 and "MSE" in tab.result.row.captions[2].text()
    picture = tab.state.clean.copy()
    draw_stroke(qtbot, tab.canvas, [(250, 20), (260, 30)])  # drawable over afterwards: the picture stays in place
    tab.inputs.take_drawing()
    assert tab.state.source == "drawing" and tab.state.clean[:5, 22:].max() > 0.5  # the new stroke, top right
    assert np.corrcoef(tab.state.clean[6:].ravel(), picture[6:].ravel())[0, 1] > 0.98  # the picture where it was
    assert np.abs(np.subtract(ink_bbox(tab.state.clean[6:]), ink_bbox(picture[6:]))).max() <= 1  # re-framed, it'd move
    tab.canvas.undo()
    tab.canvas.undo()
    np.testing.assert_array_equal(tab.canvas.ink(), drawing)


def test_image_data_dropped_from_another_program_is_taken_and_text_is_refused(qtbot, tab):
    mime = QMimeData()
    mime.setImageData(l_shape(100, 100, grey(240), grey(10)))
    with qtbot.waitSignal(tab.inputs.pictureShown, timeout=TIMEOUT) as shown:
        assert drag_and_drop(tab.canvas, mime)[0]
    assert shown.args == ["the dropped image"] and is_an_l(tab.state.clean)
    words = QMimeData()
    words.setText("seven")
    assert not drag_and_drop(tab.canvas, words)[0]


def test_ctrl_v_pastes_a_picture_from_the_clipboard(qtbot, window, tab):
    image = l_shape(150, 150, grey(250), grey(0))
    QGuiApplication.clipboard().setImage(image)
    window.activateWindow()
    tab.canvas.setFocus()
    with qtbot.waitSignal(tab.inputs.pictureShown, timeout=TIMEOUT) as shown:
        qtbot.keyClick(tab.canvas, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert shown.args == ["the pasted image"]
    np.testing.assert_array_equal(tab.state.clean, prepare_image(pixels(image)).image)
    assert "the pasted image" in tab.draw.source_label.text()


def test_pasting_with_no_picture_on_the_clipboard_says_so(qtbot, window, tab, dialogs_shown):
    QGuiApplication.clipboard().setText("just words")
    window.actions["paste_picture"].trigger()
    assert "Nothing to paste" in dialogs_shown[-1]
