"""Render the README's screenshots with real data, offscreen, with ``widget.grab()``.

docs/architecture.png, training.png, denoise.png, robustness.png, latent-map.png, pca-check.png, picture.png (a
generated photo of a handwritten digit dropped on the canvas through a real drop event) and picture-steps.png (its
Show the steps… window; ``--steps`` renders only that one), fashion.png (the
Fashion-MNIST model on its test images), error-dialog.png (1280×800, dark); inside.png and perturb.png (the large
model inside, then perturbed; 1440×900), inside-gated.png (the gated default model inside: its own image, the gate
and the output; 1440×900; ``--inside-gated`` renders only this one), histograms.png (Training's weights and
gradients after its run);
denoise-light.png (the light theme);
runs.png and runs-robustness.png (the Runs tab: three command-line runs of 10-, 32- and 64-unit codes compared, in a
runs database of the script's own, which the app's runs above are recorded in too);
min-size.png (1024×700, every tab whole); full-hd.png (1920×1080); pca-check-1024x700.png and training-full-hd.png (the
PCA check at both sizes); enlarged.png (the latent map enlarged over its tab); detached.png (the histograms in a window
of their own); scale2.png (``QT_SCALE_FACTOR=2`` on a 1920×1080 screen) and screen-1024x600.png (a 1024×600 screen),
each in a child process of its own, since Qt reads the screen and the scale once, at start.  ``--runs`` renders only
the Runs tab's; ``--baselines`` only denoise-baseline.png and robustness-baselines.png (issue 25: a baseline beside
the reconstruction, and every baseline's curve).

The offscreen screen is 1920×1080 (``offscreen:configfile=…``, see ``screen_config``) unless ``QT_QPA_PLATFORM`` is
set.  Needs MNIST (``$DENOISE_STUDIO_DATA``), Fashion-MNIST (its variable, or the Debian package's folder) and the
shipped models.

    DENOISE_STUDIO_DATA=../shared/data/mnist python docs/screenshots.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def screen_config(width: int, height: int) -> str:
    """``QT_QPA_PLATFORM`` for an offscreen screen of ``width``×``height`` (a JSON file the platform reads)."""
    path = Path(tempfile.mkdtemp(prefix="screen-")) / "screen.json"
    path.write_text(json.dumps({"screens": [{"name": "shots", "x": 0, "y": 0, "width": width, "height": height,
                                             "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))  # fmt: skip
    return f"offscreen:configfile={path}"


os.environ.setdefault("QT_QPA_PLATFORM", screen_config(1920, 1080))
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
from PySide6.QtTest import QTest  # noqa: E402

OUT = ROOT / "docs"
SIZE = (1280, 800)


def settle(app, ms: int = 200) -> None:
    """Let layouts, timers and pending paints run."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    app.processEvents()


def wait_for(signal, action=None, timeout_ms: int = 120000) -> list:
    """Run ``action`` and spin the event loop until ``signal`` fires; returns its arguments."""
    loop, got = QEventLoop(), []

    def fired(*args):
        got.append(args)
        loop.quit()

    signal.connect(fired)
    QTimer.singleShot(timeout_ms, loop.quit)
    if action is not None:
        action()
    if not got:
        loop.exec()
    signal.disconnect(fired)
    if not got:
        raise TimeoutError(f"no {signal} within {timeout_ms} ms")
    return list(got[0])


def make_window(app, size: tuple[int, int] | None, theme: str = "dark"):
    """The app's window at ``size``, or at the size it opens at on this screen (None)."""
    from gui.main_window import MainWindow

    settings = QSettings(str(Path(tempfile.mkdtemp()) / "shots.ini"), QSettings.Format.IniFormat)
    settings.setValue("theme", theme)
    window = MainWindow(settings=settings)
    if size is not None:
        window.resize(*size)
    window.show()
    settle(app)
    return window


def show_digit(app, window, index: int = 0, sigma: int = 25, compare: str = "pca") -> None:
    """The Denoise tab with a real test digit, noise at ``sigma``/100 and ``compare`` beside the model ("pca",
    "best_linear", a classical filter's name; "" for nothing)."""
    tab = window.denoise_tab
    window.tabs.setCurrentWidget(tab)
    tab.noise.slider.setValue(sigma)
    wait_for(tab.inputs.testDigitShown, lambda: tab.show_test_digit(index))
    if compare and tab.result.choice() != compare:
        tab.result.choose(compare)
    if compare and tab.result.baseline_name() is not None and tab.result.baseline_scores is None:
        wait_for(tab.result.baselineShown)
    settle(app)


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


def close(window) -> None:
    """Close the window as the app quits: its model unsaved without asking, its jobs and run waited for (a process
    that ends with a job still running can crash in Qt's clean-up: the children's screenshots ended in SIGSEGV)."""
    from gui.app import finish_background_work

    window.state.dirty = False
    window.close()
    finish_background_work(window)


def grab(window, name: str) -> None:
    path = OUT / name
    window.grab().save(str(path))
    print(path)


def on_screen_only(name: str) -> int:
    """A child process on a screen of its own: the Denoise tab in the window as it opens there (it fits the screen;
    the tab scrolls), saved as ``name``."""
    from gui.app import make_app

    app = make_app([])
    window = make_window(app, None)
    show_digit(app, window)
    grab(window, name)
    close(window)
    return 0


def picture_steps(app, window) -> None:
    """Denoise ▸ Show the steps… for the picture on the canvas: how it became the network's input."""
    tab = window.denoise_tab
    tab.show_steps()
    settle(app, 300)
    tab.steps_dialog.grab().save(str(OUT / "picture-steps.png"))
    print(OUT / "picture-steps.png")
    tab.steps_dialog.close()


def steps_only() -> int:
    """``--steps``: only picture-steps.png (the photo dropped on the canvas, then its steps)."""
    from gui.app import make_app

    app = make_app([])
    window = make_window(app, SIZE)
    tab = window.denoise_tab
    window.tabs.setCurrentWidget(tab)
    photo = Path(tempfile.mkdtemp()) / "my_five.jpg"
    photo_of_a_digit(photo)
    wait_for(tab.inputs.pictureShown, lambda: drop_file(tab.canvas, photo))
    picture_steps(app, window)
    close(window)
    return 0


def room_for_views(app, window) -> None:
    """enlarged.png: the latent map over the whole Denoise tab; detached.png: the histograms in a window of their
    own (each put back after)."""
    tab = window.denoise_tab
    window.tabs.setCurrentWidget(tab)
    tab.panels.setCurrentWidget(tab.latent_map)
    tab.rooms["latent_map"].enlarge()
    settle(app, 400)
    grab(window, "enlarged.png")
    tab.rooms["latent_map"].dock()
    tab.panels.setCurrentIndex(0)
    training = window.training_tab
    window.tabs.setCurrentWidget(training)
    room = training.rooms["histograms"]
    room.detach()
    settle(app, 400)
    own = training.histograms.window()
    own.resize(900, 640)
    settle(app, 300)
    own.grab().save(str(OUT / "detached.png"))
    print(OUT / "detached.png")
    room.dock()


def latent_map_and_pca_check(app, window) -> None:
    """latent-map.png: the shipped model's map with the panels given room; pca-check.png: the linear preset
    trained as the PCA check says (clean images, Adam 1e-3, batch 128, 10 epochs)."""
    from engine.nn import MLP

    seed = "mnist_denoising_autoencoder"
    window.state.set_model(MLP.from_file(seed), name=seed, dirty=False)
    show_digit(app, window, index=3, sigma=10, compare="")
    tab = window.denoise_tab
    panel = tab.latent_map
    wait_for(panel.mapReady, lambda: tab.panels.setCurrentWidget(panel))
    tab.splitter.setSizes([3000, 5000])  # as a user drags the handle up
    panel.from_box.setCurrentIndex(panel.from_box.findData(0))
    panel.to_box.setCurrentIndex(panel.to_box.findData(7))
    settle(app)
    box = panel.plot.getPlotItem().getViewBox()
    dot = QPointF(*map(float, panel.map.points[panel.map.typical(1)]))  # hover a typical 1: its card shows
    QTest.mouseMove(panel.plot.viewport(), panel.plot.mapFromScene(box.mapViewToScene(dot)))
    settle(app, 300)
    grab(window, "latent-map.png")
    tab.splitter.setSizes([5000, 4000])
    tab.panels.setCurrentIndex(0)

    editor = window.architecture_tab.editor
    index = editor.presets.findText("Linear 784-k-784 (PCA check)")
    editor.presets.setCurrentIndex(index)
    editor.presets.activated.emit(index)
    window.state.dirty = False
    editor.emit_new_model()
    training = window.training_tab
    training.form.seed.setValue(0)
    wait_for(training.run.finished, training.start)
    wait_for(training.pca_check.checked)  # the trained model against PCA
    settle(app, 400)
    grab(window, "pca-check.png")
    for size, name in (((1024, 700), "pca-check-1024x700.png"), ((1920, 1080), "training-full-hd.png")):
        window.resize(*size)
        settle(app, 600)
        grab(window, name)
    window.resize(*SIZE)


def inside_and_perturb(app, window) -> None:
    """inside.png: every layer of the large model for a test digit; perturb.png: 70 % of its weights pruned and
    the code's most active unit switched off (1440×900, so the page has room).  The model shown before comes back."""
    from engine.nn import MLP

    large = "mnist_denoising_autoencoder_large"
    tab = window.denoise_tab
    before, before_name = window.state.model, window.state.name
    tab.result.choose("")
    window.resize(1440, 900)
    panel = tab.inside.perturb
    window.tabs.setCurrentWidget(tab)
    window.state.set_model(MLP.from_file(large), name=large, dirty=False)  # its panels work when shown
    tab.noise.slider.setValue(40)
    wait_for(panel.curve_view.curveReady, lambda: tab.panels.setCurrentWidget(tab.inside))
    if tab.inside.range_jobs.is_busy():
        wait_for(tab.inside.range_jobs.busyChanged)  # the layers' colour scales, from the test set
    wait_for(tab.inputs.testDigitShown, lambda: tab.show_test_digit(7))
    settle(app, 300)
    grab(window, "inside.png")
    code = tab.state.shown.code
    panel.toggle_unit(tab.state.model.bottleneck_index(), int(code.argmax()))  # the code's most active unit off
    wait_for(panel.curve_view.curveReady, lambda: panel.prune_slider.setValue(70))
    settle(app, 300)
    grab(window, "perturb.png")
    panel.reset()
    tab.panels.setCurrentIndex(0)
    window.resize(*SIZE)
    window.state.set_model(before, name=before_name, dirty=False)


CLI_RUNS = (("784:10:relu,784:sigmoid", "code10"), ("784:32:relu,784:sigmoid", "code32"),
            ("784:64:relu,784:sigmoid", "code64"))  # fmt: skip
"""The runs the Runs tab's screenshots compare: what a wider code changes."""


def record_cli_runs(folder: Path) -> None:
    """Three real ``denoise-studio train`` runs (3 epochs on 12,000 MNIST images, σ 0.3) into ``$DENOISE_STUDIO_RUNS``,
    their models saved in ``folder``."""
    for layers, name in CLI_RUNS:
        subprocess.run([sys.executable, "-m", "engine", "train", "--layers", layers, "--epochs", "3", "--train-size",
                        "12000", "--noise", "0.3", "--batch-size", "64", "--quiet", "--output",
                        str(folder / f"{name}.npz")], check=True, cwd=ROOT)  # fmt: skip


def runs_tab(app, window) -> None:
    """runs.png: the three command-line runs ticked, their loss curves and the 64-unit run in full; runs-robustness.png:
    their models' robustness curves."""
    tab = window.runs_tab
    wait_for(tab.feed.loaded, lambda: window.tabs.setCurrentWidget(tab))
    cli = [row.id for row in map(tab.model.row, range(tab.model.rowCount())) if row.texts[3] == "cli"]
    wait_for(tab.comparedReady, lambda: tab.tick(*sorted(cli)))
    wait_for(tab.details.factsReady, lambda: tab.select_run(max(cli)))
    settle(app, 400)
    grab(window, "runs.png")
    wait_for(tab.robustness.curvesReady, lambda: tab.compare_tabs.setCurrentWidget(tab.robustness))
    settle(app, 400)
    grab(window, "runs-robustness.png")
    tab.compare_tabs.setCurrentIndex(0)


def use_own_runs_database() -> None:
    """Runs recorded while rendering go to a database of the script's own, never the user's; three CLI runs in it."""
    runs = Path(tempfile.mkdtemp(prefix="screenshot-runs-"))
    os.environ["DENOISE_STUDIO_RUNS"] = str(runs / "runs.db")
    record_cli_runs(runs)


def runs_only() -> int:
    """``--runs``: only the Runs tab's screenshots."""
    from gui.app import make_app

    use_own_runs_database()
    app = make_app([])
    window = make_window(app, SIZE)
    runs_tab(app, window)
    close(window)
    return 0


def inside_gated(app, window) -> None:
    """inside-gated.png: the gated default model inside for a test digit at σ 0.5 — the network's own image, the gate
    and the output (1440×900).  The window shows the default model; the page and the size come back."""
    tab = window.denoise_tab
    tab.result.choose("")
    window.resize(1440, 900)
    window.tabs.setCurrentWidget(tab)
    panel = tab.inside.perturb  # its work starts when its page is shown
    tab.noise.slider.setValue(50)
    wait_for(panel.curve_view.curveReady, lambda: tab.panels.setCurrentWidget(tab.inside))
    if tab.inside.range_jobs.is_busy():
        wait_for(tab.inside.range_jobs.busyChanged)  # the layers' colour scales, from the test set
    tab.splitter.setSizes([3000, 5000])  # as a user drags the handles: the layers get room
    tab.inside.splitter.setSizes([5000, 1])  # the perturbation controls at their least width
    wait_for(tab.inputs.testDigitShown, lambda: tab.show_test_digit(7))
    settle(app, 300)
    grab(window, "inside-gated.png")
    tab.splitter.setSizes([5000, 4000])
    tab.panels.setCurrentIndex(0)
    window.resize(*SIZE)


def inside_gated_only() -> int:
    """Only inside-gated.png (the other shots stay as they are)."""
    from gui.app import make_app

    app = make_app([])
    window = make_window(app, SIZE)
    inside_gated(app, window)
    close(window)
    return 0


def baselines_only() -> int:
    """``--baselines``: denoise-baseline.png (a test digit at σ 0.1 with the best linear denoiser beside the
    reconstruction, each scored) and robustness-baselines.png (the Robustness panel with every baseline's curve, the
    default model beside the large hourglass model, which loses to the linear filter at light noise)."""
    from gui.app import make_app

    app = make_app([])
    window = make_window(app, SIZE)
    tab = window.denoise_tab
    show_digit(app, window, index=3, sigma=10, compare="best_linear")
    if window.status_baseline.text().endswith("…"):
        wait_for(tab.score.baselineScored, timeout_ms=600000)
    settle(app)
    grab(window, "denoise-baseline.png")
    panel = tab.robustness
    wait_for(panel.curveReady, lambda: tab.panels.setCurrentWidget(panel), timeout_ms=900000)
    room = tab.rooms["robustness"]
    room.enlarge()  # room for eight curves and the sentence
    if panel.missing():
        wait_for(panel.allReady, timeout_ms=900000)
    wait_for(panel.curveReady, lambda: panel.second_box.setCurrentText("mnist_denoising_autoencoder_large"),
             timeout_ms=900000)
    settle(app, 300)
    grab(window, "robustness-baselines.png")
    room.dock()
    close(window)
    return 0


def main() -> int:
    if "--baselines" in sys.argv:
        return baselines_only()
    if "--steps" in sys.argv:
        return steps_only()
    if "--on-screen" in sys.argv:
        return on_screen_only(sys.argv[sys.argv.index("--on-screen") + 1])
    if "--runs" in sys.argv:
        return runs_only()
    if "--inside-gated" in sys.argv:
        return inside_gated_only()
    from engine.nn import build_mlp
    from gui.app import make_app
    from gui.common import dialogs
    from gui.common.theme import apply_theme

    use_own_runs_database()
    app = make_app([])
    window = make_window(app, SIZE)

    window.tabs.setCurrentWidget(window.architecture_tab)  # the shipped model
    settle(app)
    grab(window, "architecture.png")

    show_digit(app, window)  # a real test digit, PCA beside the model
    grab(window, "denoise.png")

    tab = window.denoise_tab  # the robustness curve of the same model
    wait_for(tab.robustness.curveReady, lambda: tab.panels.setCurrentWidget(tab.robustness))
    settle(app)
    grab(window, "robustness.png")
    tab.panels.setCurrentIndex(0)

    window.set_theme("light")
    settle(app)
    grab(window, "denoise-light.png")
    window.set_theme("dark")

    for size, name in (((1024, 700), "min-size.png"), ((1920, 1080), "full-hd.png")):
        window.resize(*size)
        settle(app, 400)
        grab(window, name)
    window.resize(*SIZE)

    inside_gated(app, window)  # the default model, before another is opened
    inside_and_perturb(app, window)

    photo = Path(tempfile.mkdtemp()) / "my_five.jpg"  # your own picture, dropped on the canvas
    photo_of_a_digit(photo)
    tab.result.choose("")
    tab.noise.slider.setValue(40)
    wait_for(tab.inputs.pictureShown, lambda: drop_file(tab.canvas, photo))
    for _ in range(300):  # the status bar's score at the new level (scored off-thread)
        if "…" not in window.status_mse.text():
            break
        settle(app, 100)
    grab(window, "picture.png")
    picture_steps(app, window)

    # Fashion-MNIST: the shipped Fashion model brings its test images; a test image and the robustness curve
    wait_for(tab.state.testSetChanged, lambda: window.files.open_model("fashion_mnist_denoising_autoencoder"))
    wait_for(tab.inputs.testDigitShown, lambda: tab.show_test_digit(5))
    wait_for(tab.robustness.curveReady, lambda: tab.panels.setCurrentWidget(tab.robustness))
    settle(app, 400)
    grab(window, "fashion.png")
    tab.panels.setCurrentIndex(0)

    # Training: a short real run of a fresh 784-10-784 model on all of MNIST
    window.state.set_model(build_mlp([784, 10, 784], ["relu", "sigmoid"], seed=0), name="untitled", dirty=True)
    training = window.training_tab
    window.tabs.setCurrentWidget(training)
    training.form.epochs.setValue(4)
    training.form.batch_size.setValue(64)
    training.form.data_set.set_data_set("mnist")
    training.form.noise_kind.set_kind("gaussian")
    training.form.noise_range.setChecked(False)
    training.form.noise.setValue(0.1)
    (result,) = wait_for(training.run.finished, training.start)
    if result.verdict == "failed":
        print(f"training failed: {result.error}")
        return 1
    settle(app, 400)
    grab(window, "training.png")
    training.histograms.parentWidget().grab().save(str(OUT / "histograms.png"))
    print(OUT / "histograms.png")

    latent_map_and_pca_check(app, window)
    room_for_views(app, window)
    runs_tab(app, window)

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
    print(OUT / "error-dialog.png")
    box.close()
    close(window)
    apply_theme(app, "dark")

    for width, height, scale, name in ((1920, 1080, 2, "scale2.png"), (1024, 600, 1, "screen-1024x600.png")):
        env = {**os.environ, "QT_SCALE_FACTOR": str(scale), "QT_QPA_PLATFORM": screen_config(width, height)}
        code = subprocess.run([sys.executable, __file__, "--on-screen", name], env=env).returncode
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
