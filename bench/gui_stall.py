"""Worst event-loop stall of the app in its slow moments (goal: under 50 ms each).

A 10 ms QTimer records the wall time between its ticks on the GUI thread; a gap of ``g`` ms means
the window could not repaint or react for ``g - 10`` ms.  Scenarios, in one process, in order:

- ``pca``: the first tick of Denoise ▸ Compare with PCA (a cold cache: PCA's axes of all 60,000
  training images are computed), until the PCA column shows;
- ``switch``: with Compare with PCA on, switching between the shipped models (File ▸ Shipped models)
  several times, each until the model, its PCA column and its test score are shown;
- ``training``: the Training tab trains the current model for one full-MNIST epoch;
- ``latent``: Denoise ▸ Latent map, first built (the test set read, 10,000 codes and their projection
  off the GUI thread, the dots placed), then used as a learner would, an action every 16 ms: the
  pointer sweeps over the dots (hover), clicks decode points, strokes on the canvas move the star,
  the strip's ends change, and the shipped models are switched (a new map each, then from the cache);
- ``photo``: a 12-megapixel photo of a handwritten 3 (4000×3000, ``bench/photos.py``'s) opened on the
  Denoise tab's canvas several times as a JPEG and as a PNG (read, scaled and prepared off the GUI
  thread), each until it is shown; then again with Show the steps… open (its window follows the canvas).

Run:  DENOISE_STUDIO_DATA=../shared/data/mnist QT_QPA_PLATFORM=offscreen python bench/gui_stall.py
Options: --scenarios pca switch training latent photo, --switches N, --epochs N, --train-size N, --batch-size N,
--photos N;
STALL_DEBUG=1 prints every gap over 30 ms.  The machine's other load shows in the figures: run it
on a quiet machine for a fair number.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from offscreen_qt import use_offscreen_qt  # noqa: E402 (beside this file)

use_offscreen_qt()

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QPoint, QPointF, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

TICK_MS = 10


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    pools = [f"{p.get('internal_api')} {p.get('architecture', '?')} x{p.get('num_threads')}" for p in threadpool_info()]
    return ", ".join(pools) or "no BLAS pool found"


class StallMeter:
    """Gaps between 10 ms timer ticks on the GUI thread, recorded under the current phase's name."""

    def __init__(self, app) -> None:
        self.app, self.phase = app, "idle"
        self.gaps: dict[str, list[float]] = {}
        self.busy: dict[str, list[float]] = {}  # the GUI thread's own CPU time between ticks, ms
        self._cpu_last = time.thread_time() * 1000
        self._clock = QElapsedTimer()
        self._last: float | None = None
        self._timer = QTimer()
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._clock.start()
        self._timer.start()

    def _tick(self) -> None:
        now = self._clock.nsecsElapsed() / 1e6
        cpu = time.thread_time() * 1000
        if self._last is not None:
            gap = now - self._last
            self.gaps.setdefault(self.phase, []).append(gap)
            self.busy.setdefault(self.phase, []).append(cpu - self._cpu_last)
            if os.environ.get("STALL_DEBUG") and gap > 30:
                print(f"  [{self.phase}] gap {gap:.0f} ms at {now:.0f} ms")
        self._last, self._cpu_last = now, cpu

    def run_until(self, phase: str, done, timeout_s: float = 600) -> float:
        """Spin the event loop in ``phase`` until ``done()``; returns the seconds it took."""
        self.phase, self._last = phase, None
        started = time.perf_counter()
        while not done():
            self.app.processEvents()
            time.sleep(0.0005)
            if time.perf_counter() - started > timeout_s:
                raise TimeoutError(f"{phase} did not finish in {timeout_s} s")
        return time.perf_counter() - started

    def worst(self, phase: str) -> float:
        gaps = self.gaps.get(phase, [])
        return max(gaps) - TICK_MS if gaps else float("nan")

    def most_busy(self, phase: str) -> float:
        """The most CPU time the GUI thread itself spent between two ticks in ``phase`` (ms): its own work, apart
        from the time other processes (or a thread holding the GIL) kept it waiting."""
        return max(self.busy.get(phase, [float("nan")]))

    def over(self, phase: str, ms: float) -> int:
        """How many stalls in ``phase`` were longer than ``ms``."""
        return sum(gap - TICK_MS > ms for gap in self.gaps.get(phase, []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", nargs="+", choices=["pca", "switch", "training", "latent", "photo"],
                        default=["pca", "switch", "training", "latent", "photo"])  # fmt: skip
    parser.add_argument("--switches", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-size", type=int, default=60000)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--photos", type=int, default=5, help="openings of each photo file (photo scenario)")
    args = parser.parse_args(argv)

    from engine.model_paths import shipped_models
    from gui.app import make_app, single_thread_blas
    from gui.main_window import MainWindow

    single_thread_blas()  # as the app does at start
    app = make_app([])
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.resize(1280, 800)
    window.show()
    meter = StallMeter(app)
    meter.run_until("idle", lambda: meter._clock.elapsed() > 2000)  # the machine's own noise floor
    print(f"BLAS: {blas_info()}")
    print(f"worst event-loop stall while idle (machine noise): {meter.worst('idle'):.1f} ms")
    denoise = window.denoise_tab

    if "pca" in args.scenarios:
        window.tabs.setCurrentWidget(denoise)
        ready: list[int] = []
        denoise.result.baselineReady.connect(ready.append)
        denoise.result.choose("pca")
        seconds = meter.run_until("pca", lambda: bool(ready))
        print(f"first Compare with PCA (cold): shown after {seconds:.2f} s; worst stall {meter.worst('pca'):.1f} ms")

    if "switch" in args.scenarios:
        window.tabs.setCurrentWidget(denoise)
        denoise.result.choose("pca")
        names = shipped_models()
        state = {"pca": 0, "score": 0, "opened": 0}
        denoise.result.baselineReady.connect(lambda k: state.__setitem__("pca", state["pca"] + 1))
        denoise.score.scoreChanged.connect(lambda t: state.__setitem__("score", state["score"] + ("…" not in t)))
        window.files.openFinished.connect(lambda ok: state.__setitem__("opened", state["opened"] + 1))
        times = []
        for i in range(args.switches):
            name = names[i % len(names)]
            before = dict(state)
            window.files.open_model(name)
            times.append(meter.run_until("switch", lambda b=before: all(state[k] > b[k] for k in state)))
        print(f"{args.switches} model switches with Compare with PCA on ({', '.join(names)}): each shown in "
              f"{min(times):.2f}-{max(times):.2f} s; worst stall {meter.worst('switch'):.1f} ms")  # fmt: skip

    if "training" in args.scenarios:
        tab = window.training_tab
        window.tabs.setCurrentWidget(tab)
        tab.form.epochs.setValue(args.epochs)
        tab.form.train_size.setValue(args.train_size)
        if args.batch_size:
            tab.form.batch_size.setValue(args.batch_size)
        batches: list[float] = []
        done: dict = {}
        tab.run.batches.connect(lambda logs: batches.extend(entry["samples_per_s"] for entry in logs))
        tab.run.finished.connect(lambda result: done.__setitem__("result", result))
        handed_back = []
        tab.modelTrained.connect(handed_back.append)
        tab.start()
        seconds = meter.run_until("training", lambda: bool(handed_back) or "result" in done)
        meter.run_until("handover", lambda: "result" in done)
        if done["result"].verdict == "failed":
            print(f"training failed: {done['result'].error}")
            return 1
        g = np.array(meter.gaps.get("training", []))
        speed = batches[-1] if batches else 0
        print(f"trained {args.epochs} epoch(s) on {args.train_size} images, batch {tab.form.batch_size.value()}: "
              f"{seconds:.1f} s wall, {len(batches)} batches, last {speed:,.0f} img/s")  # fmt: skip
        print(f"timer ticks: {g.size}, median gap {np.median(g):.1f} ms, p99 {np.percentile(g, 99):.1f} ms")
        print(f"worst event-loop stall while training: {meter.worst('training'):.1f} ms (goal < 50 ms)")
        handover = meter.worst("handover")  # nan: the swap was over before this phase began
        shown = f"{handover:.1f} ms" if handover == handover else "none apart (done within the training phase above)"
        print(f"worst stall while the window swaps in the trained model: {shown}")
        window.state.dirty = False  # the trained copy is not kept: later scenarios switch models without a question
    if "latent" in args.scenarios:
        latent_scenario(window, meter)
    if "photo" in args.scenarios:
        photo_scenario(window, meter, args.photos)
    window.state.dirty = False
    window.close()
    return 0


class Actions:
    """Runs one action per 16 ms tick (a user's pace; or per ``every_ms``), so the meter sees the event loop between
    them."""

    def __init__(self, actions: list, every_ms: int = 16) -> None:
        self.actions, self.done = list(actions), False
        self._timer = QTimer()
        self._timer.setInterval(every_ms)
        self._timer.timeout.connect(self._next)
        self._timer.start()

    def _next(self) -> None:
        if not self.actions:
            self._timer.stop()
            self.done = True
            return
        self.actions.pop(0)()


def latent_scenario(window, meter: StallMeter) -> None:
    from engine.model_paths import shipped_models

    denoise = window.denoise_tab
    panel = denoise.latent_map
    window.tabs.setCurrentWidget(denoise)
    ready: list = []
    panel.mapReady.connect(ready.append)
    started = time.perf_counter()
    denoise.panels.setCurrentWidget(panel)
    meter.run_until("latent-build", lambda: bool(ready))
    print(f"latent map, first build (10,000 test digits): shown after {time.perf_counter() - started:.2f} s; "
          f"worst stall {meter.worst('latent-build'):.1f} ms")  # fmt: skip

    view = panel.plot.viewport()
    box = panel.plot.getPlotItem().getViewBox()

    def pixel(fx: float, fy: float) -> QPoint:
        """The viewport pixel at a fraction of the map's data range."""
        lo, hi = panel.map.points.min(axis=0), panel.map.points.max(axis=0)
        x, y = lo + np.array([fx, fy]) * (hi - lo)
        return panel.plot.mapFromScene(box.mapViewToScene(QPointF(float(x), float(y))))

    t = np.linspace(0, 2 * np.pi, 300)
    hover = [lambda a=a, b=b: QTest.mouseMove(view, pixel(a, b)) for a, b in
             zip(0.5 + 0.45 * np.sin(3 * t), 0.5 + 0.45 * np.sin(2 * t), strict=True)]  # fmt: skip
    clicks = [lambda a=a: QTest.mouseClick(view, Qt.MouseButton.LeftButton, pos=pixel(a, 1 - a))
              for a in np.linspace(0.1, 0.9, 10)]  # fmt: skip
    canvas = denoise.canvas
    strokes = []
    for i in range(6):
        points = [QPoint(40 + 30 * i + 3 * j, 30 + 10 * j) for j in range(22)]
        strokes.append(lambda p=points[0]: QTest.mousePress(canvas, Qt.MouseButton.LeftButton, pos=p))
        strokes += [lambda p=p: QTest.mouseMove(canvas, p) for p in points[1:]]
        strokes.append(lambda p=points[-1]: QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=p))
    ends = [lambda i=i: panel.to_box.setCurrentIndex(i % panel.to_box.count()) for i in range(10)]
    driver = Actions(hover + clicks + strokes + ends)
    counts = {"hover": len(hover), "clicks": len(clicks), "stroke moves": len(strokes), "strip ends": len(ends)}
    meter.run_until("latent-use", lambda: driver.done)
    print(f"latent map in use ({', '.join(f'{n} {k}' for k, n in counts.items())}, one per 16 ms): "
          f"worst stall {meter.worst('latent-use'):.1f} ms")  # fmt: skip

    names = shipped_models()
    times = []
    for name in names + names:  # each a new map, then each from the cache
        before = len(ready)
        opened: list = []
        window.files.openFinished.connect(opened.append)
        window.files.open_model(name)
        times.append(meter.run_until("latent-switch", lambda b=before, o=opened: bool(o) and len(ready) > b))
        window.files.openFinished.disconnect()
    print(f"{len(times)} model switches with the map open ({', '.join(names)}, twice): map shown in "
          f"{min(times):.2f}-{max(times):.2f} s; worst stall {meter.worst('latent-switch'):.1f} ms")  # fmt: skip



def photo_scenario(window, meter: StallMeter, openings: int) -> None:
    """A 12-megapixel photo opened on the canvas ``openings`` times per file, each until shown; the same with the
    steps window open.  After each opening the event loop idles as long as the opening took, so the figures
    come with the machine's own stalls over the same stretch of time (on a shared machine they are not zero)."""
    from photos import twelve_megapixels  # beside this file: the photo its speed figures time
    from PySide6.QtGui import QImage

    tab = window.denoise_tab
    window.tabs.setCurrentWidget(tab)
    photo = twelve_megapixels()  # (3000, 4000) uint8
    height, width = photo.shape
    folder = Path(tempfile.mkdtemp())
    image = QImage(photo.tobytes(), width, height, width, QImage.Format.Format_Grayscale8)
    files = []
    for name, kind, quality in (("photo.jpg", "JPG", 92), ("photo.png", "PNG", -1)):
        assert image.save(str(folder / name), kind, quality)
        files.append(folder / name)
    shown: list[str] = []
    tab.inputs.pictureShown.connect(shown.append)
    for steps_open in (False, True):
        if steps_open:
            tab.show_steps()
        for path in files:
            phase = f"photo-{path.suffix[1:]}" + ("-steps" if steps_open else "")
            times = []
            for _ in range(openings):
                before = len(shown)
                tab.open_picture(str(path), path.name)
                times.append(meter.run_until(phase, lambda b=before: len(shown) > b))
                until = time.perf_counter() + times[-1]
                meter.run_until(phase + "-idle", lambda u=until: time.perf_counter() >= u)
            size = path.stat().st_size / 1e6
            with_steps = ", Show the steps… open" if steps_open else ""
            print(f"{width}×{height} photo as {path.suffix[1:].upper()} ({size:.1f} MB) opened {openings}× on the "
                  f"canvas{with_steps}: shown after {min(times):.2f}-{max(times):.2f} s; worst stall "
                  f"{meter.worst(phase):.1f} ms, stalls over 50 ms: {meter.over(phase, 50)} of "
                  f"{len(meter.gaps[phase])} ticks, the GUI thread's own work at most {meter.most_busy(phase):.1f} ms "
                  f"between ticks (idle as long between the openings: worst {meter.worst(phase + '-idle'):.1f} ms, "
                  f"{meter.over(phase + '-idle', 50)} over 50 ms)")  # fmt: skip
    if tab.steps_dialog is not None:
        tab.steps_dialog.close()


if __name__ == "__main__":
    sys.exit(main())
