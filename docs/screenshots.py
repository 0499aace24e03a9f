"""Render the app's screenshots with real data: docs/architecture.png, training.png, denoise.png, inside.png,
perturb.png, histograms.png, error-dialog.png.

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

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402

OUT = ROOT / "docs"
SIZE = (1280, 800)


def settle(app, ms: int = 150) -> None:
    """Let layouts, timers and pending paints run."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    app.processEvents()


def wait_for(app, signal, ready=lambda: False, timeout_ms: int = 120000) -> None:
    """Run the event loop until ``signal`` fires (at once when ``ready()`` already holds)."""
    if ready():
        return
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    signal.disconnect(loop.quit)


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
    tab.show_test_digit(0)
    tab.compare_box.setChecked(True)
    settle(app)
    window.grab().save(str(OUT / "denoise.png"))

    # Inside the network: the large model's every layer for a test digit, then perturbed
    from engine.nn import MLP

    large = "mnist_denoising_autoencoder_large"
    tab.compare_box.setChecked(False)
    window.resize(1440, 900)
    window.set_model(MLP.from_file(large), name=large)
    tab.noise_slider.setValue(40)
    panel = tab.inside.perturb
    tab.panels.setCurrentWidget(tab.inside)
    wait_for(app, panel.ready, panel.is_ready)
    wait_for(app, tab.inside.range_jobs.busyChanged, lambda: not tab.inside.range_jobs.is_busy())
    tab.show_test_digit(7)
    wait_for(app, panel.curveReady, lambda: panel.curve is not None)
    settle(app, 300)
    window.grab().save(str(OUT / "inside.png"))
    strongest = int(tab.code.argmax())
    panel.toggle_unit(tab.model.bottleneck_index(), strongest)
    panel.prune_slider.setValue(70)
    wait_for(app, panel.curveReady)
    settle(app, 300)
    window.grab().save(str(OUT / "perturb.png"))
    panel.reset()
    window.resize(*SIZE)

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
    training.histograms.parentWidget().grab().save(str(OUT / "histograms.png"))

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
    for name in ("architecture", "training", "denoise", "inside", "perturb", "histograms", "error-dialog"):
        print(OUT / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
