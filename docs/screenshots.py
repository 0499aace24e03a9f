"""Render the app's screenshots with real data: docs/architecture.png, training.png, denoise.png, error-dialog.png,
latent-map.png, pca-check.png.

Offscreen, with ``widget.grab()``.  Needs MNIST (``$DENOISE_STUDIO_DATA``) and the shipped model.

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

from PySide6.QtCore import QEventLoop, QPointF, QSettings, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

OUT = ROOT / "docs"
SIZE = (1280, 800)


def settle(app, ms: int = 150) -> None:
    """Let layouts, timers and pending paints run."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    app.processEvents()


def main() -> int:
    from engine.nn import MLP, build_mlp
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
    tab.show_test_digit(0)
    tab.compare_box.setChecked(True)
    settle(app)
    window.grab().save(str(OUT / "denoise.png"))

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

    # The latent map: the shipped model's codes of the 10,000 test digits, the panels given more room
    window.set_model(MLP.from_file("mnist_denoising_autoencoder"), name="mnist_denoising_autoencoder", dirty=False)
    window.tabs.setCurrentWidget(tab)
    tab.show_test_digit(3)
    panel = tab.latent_map
    loop = QEventLoop()
    panel.mapReady.connect(loop.quit)
    tab.panels.setCurrentWidget(panel)
    tab.splitter.setSizes([3000, 5000])  # as a user drags the handle up
    loop.exec()
    panel.from_box.setCurrentIndex(panel.from_box.findData(0))
    panel.to_box.setCurrentIndex(panel.to_box.findData(7))
    settle(app)
    dot = panel.map.typical(2)  # hover a typical 2: its card shows beside the pointer
    box = panel.plot.getPlotItem().getViewBox()
    QTest.mouseMove(panel.plot.viewport(), panel.plot.mapFromScene(box.mapViewToScene(QPointF(*panel.map.points[dot]))))
    settle(app, 300)
    window.grab().save(str(OUT / "latent-map.png"))
    tab.splitter.setSizes([5000, 4000])

    # The PCA check: the Architecture preset, trained as the issue says (clean images, Adam 1e-3, batch 128, 10 epochs)
    editor = window.architecture_tab.editor
    index = editor.presets.findText("Linear 784-k-784 (PCA check)")
    editor.presets.setCurrentIndex(index)
    editor.presets.activated.emit(index)
    window.dirty = False
    editor.emit_new_model()
    training.form.seed.setValue(0)
    loop = QEventLoop()
    training.run.finished.connect(lambda result: training.pca_check.checked.connect(loop.quit))  # the final check
    training.start()
    loop.exec()
    settle(app, 300)
    window.grab().save(str(OUT / "pca-check.png"))

    # The dialog for a damaged model file (the text the app shows)
    bad = Path(tempfile.mkdtemp()) / "my_model.npz"
    bad.write_bytes(b"not a model")
    from engine.model_format import ModelFileError

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
    for name in ("architecture", "training", "denoise", "latent-map", "pca-check", "error-dialog"):
        print(OUT / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
