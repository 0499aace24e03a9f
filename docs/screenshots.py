"""Render the app's screenshots with real data: docs/architecture.png, training.png, denoise.png, fashion.png,
picture.png, error-dialog.png.

Offscreen, with ``widget.grab()``.  Needs MNIST (``$DENOISE_STUDIO_DATA``), Fashion-MNIST (its variable or the
Debian package's folder) and the shipped models.  picture.png drops a generated photo of a handwritten digit on the
canvas, through a real drop event.

    DENOISE_STUDIO_DATA=../shared/data/mnist python docs/screenshots.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if "XDG_RUNTIME_DIR" not in os.environ:
    runtime = tempfile.mkdtemp(prefix="xdg-")
    os.chmod(runtime, 0o700)
    os.environ["XDG_RUNTIME_DIR"] = runtime

from PySide6.QtCore import QEventLoop, QMimeData, QPoint, QPointF, QSettings, Qt, QTimer, QUrl  # noqa: E402
from PySide6.QtGui import (  # noqa: E402
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
)

OUT = ROOT / "docs"
SIZE = (1280, 800)


def settle(app, ms: int = 150) -> None:
    """Let layouts, timers and pending paints run."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    app.processEvents()


def wait_for(app, signal, start, ms: int = 120000) -> list:
    """Call ``start()`` and run the event loop until ``signal`` fires (or ``ms`` pass); its arguments."""
    loop, got = QEventLoop(), []

    def fired(*args) -> None:
        got.append(args)
        loop.quit()

    signal.connect(fired)
    QTimer.singleShot(ms, loop.quit)
    start()
    if not got:
        loop.exec()
    signal.disconnect(fired)
    settle(app)
    return list(got[0]) if got else []


def photo_of_a_digit(path: Path) -> None:
    """A 1600×1200 "photo" of a 5 written in blue-black ink on slightly shaded paper, saved as JPEG."""
    image = QImage(1600, 1200, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    paper = QLinearGradient(0, 0, 1600, 1200)
    paper.setColorAt(0, QColor(244, 240, 230))
    paper.setColorAt(1, QColor(214, 208, 196))  # light falling off across the page
    painter.fillRect(image.rect(), paper)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    stroke = QPainterPath(QPointF(980, 300))
    stroke.lineTo(700, 310)
    stroke.lineTo(660, 590)
    stroke.cubicTo(820, 500, 1040, 560, 1030, 740)
    stroke.cubicTo(1020, 930, 760, 980, 620, 860)
    painter.setPen(QPen(QColor(28, 34, 70), 46, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                        Qt.PenJoinStyle.RoundJoin))  # fmt: skip
    painter.drawPath(stroke)
    painter.end()
    image.save(str(path), "JPEG", 85)


def drop_file(widget, path: Path) -> None:
    """A real drag-enter and drop of a file on ``widget``, as a file manager sends them."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    for event in (
        QDragEnterEvent(QPoint(140, 140), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                        Qt.KeyboardModifier.NoModifier),
        QDropEvent(QPointF(140, 140), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                   Qt.KeyboardModifier.NoModifier),
    ):  # fmt: skip
        widget.event(event)


def main() -> int:
    from engine.nn import build_mlp
    from gui import dialogs
    from gui.app import make_app
    from gui.main_window import MainWindow

    app = make_app([])
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "shots.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.resize(*SIZE)
    window.show()
    settle(app)

    # Architecture: the shipped model
    window.tabs.setCurrentWidget(window.architecture_tab)
    settle(app)
    window.grab().save(str(OUT / "architecture.png"))

    # Denoise: a real test digit, PCA beside the model
    tab = window.denoise_tab
    window.tabs.setCurrentWidget(tab)
    tab.noise_slider.setValue(25)
    wait_for(app, tab.testDigitShown, lambda: tab.show_test_digit(0))
    wait_for(app, tab.pcaReady, lambda: tab.compare_box.setChecked(True))
    window.grab().save(str(OUT / "denoise.png"))

    # Your own picture: a photo of a digit dropped on the canvas
    photo = Path(tempfile.mkdtemp()) / "my_five.jpg"
    photo_of_a_digit(photo)
    tab.compare_box.setChecked(False)
    tab.noise_slider.setValue(40)
    wait_for(app, tab.pictureShown, lambda: drop_file(tab.canvas, photo))
    wait_for(app, tab.scoreChanged, lambda: None, 3000)  # the status bar's score at the new level
    window.grab().save(str(OUT / "picture.png"))

    # Fashion-MNIST: the shipped Fashion model on a Fashion test image, its robustness curve
    wait_for(app, window.openFinished, lambda: window.open_model("fashion_mnist_denoising_autoencoder"))
    wait_for(app, tab.testDigitShown, lambda: tab.show_test_digit(5))
    wait_for(app, tab.robustness.curveReady, lambda: tab.panels.setCurrentWidget(tab.robustness))
    window.grab().save(str(OUT / "fashion.png"))
    tab.panels.setCurrentIndex(0)

    # Training: a short real run of a fresh 784-10-784 model on all of MNIST
    window.set_model(build_mlp([784, 10, 784], ["relu", "sigmoid"], seed=0), name="untitled", dirty=True)
    training = window.training_tab
    window.tabs.setCurrentWidget(training)
    training.form.epochs.setValue(4)
    training.form.batch_size.setValue(64)
    training.form.noise.setValue(0.1)
    loop = QEventLoop()
    results = []
    training.run.finished.connect(results.append)
    training.run.finished.connect(loop.quit)
    training.start()
    loop.exec()
    if results[0].verdict == "failed":
        print(f"training failed: {results[0].error}")
        return 1
    settle(app, 300)
    window.grab().save(str(OUT / "training.png"))

    # The dialog for a damaged model file (the text the app shows)
    bad = Path(tempfile.mkdtemp()) / "my_model.npz"
    bad.write_bytes(b"not a model")
    from engine.model_format import ModelFileError
    from engine.nn import MLP

    try:
        MLP.from_file(bad)
    except ModelFileError as exc:
        what, todo = dialogs.describe_error(exc)
    box = dialogs.error_box(window, "Cannot open model", what, todo)
    box.show()
    settle(app)
    box.grab().save(str(OUT / "error-dialog.png"))
    box.close()

    window.dirty = False
    window.close()
    for name in ("architecture", "training", "denoise", "picture", "fashion", "error-dialog"):
        print(OUT / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
