"""Latency and memory: the canvas path, a perturbation slider's update, app cold start, peak RSS of training.

    .venv/bin/python bench/latency.py                 # all four
    .venv/bin/python bench/latency.py --skip-train    # without the training run (about 1 min less)

1. Canvas path: what the Denoise tab computes for each stroke, without the painting — a 280×280
   drawing -> ``engine.preprocess.prepare_digit`` (bbox, 20×20 area resize, centre of mass) ->
   fixed-seed noise -> ``encode`` (the latent bars) -> ``predict``.  Median and p99 over many calls.
2. Perturbation slider: in the app (offscreen, 1280×800, the large model, Denoise ▸ Inside the
   network, a test digit), the full update of one move of the weight-noise or pruning slider —
   the perturbed copy, every layer's activations, the images, the code, the layer view and the
   curve's marker, painted (``slider.setValue`` then a synchronous ``repaint`` of the window).
   Moves alternate between the two sliders; median, p99 and max.
3. Cold start: a fresh ``python -c`` that imports ``gui.app``, builds the main window with the
   shipped model and shows it (``QT_QPA_PLATFORM=offscreen``); measured from just before the
   process is spawned to the window being exposed, as the child reports it.
4. Peak RSS: ``denoise-studio train`` on the full 60000-image training set in a child process,
   which reports its own peak (``VmHWM`` from /proc/self/status) at exit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.dataset import Dataset  # noqa: E402
from engine.nn import MLP  # noqa: E402
from engine.noise import add_noise  # noqa: E402
from engine.preprocess import prepare_digit  # noqa: E402

SHOW_WINDOW = r"""
import sys, time
from gui.app import make_app
from gui.main_window import MainWindow
app = make_app([])
window = MainWindow()
window.show()
app.processEvents()
handle = window.windowHandle()
while handle is None or not handle.isExposed():
    app.processEvents()
    handle = window.windowHandle()
print(f"SHOWN {time.time():.6f} {time.perf_counter():.6f}", flush=True)
"""


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def canvas_latency(model_name: str, repeats: int, data_dir: str | None) -> None:
    model = MLP.from_file(model_name)
    digit = Dataset(train_size=1, test_size=1, batch_size=1, data_dir=data_dir, progress=False).test_u8[0]
    ink = np.kron(digit.reshape(28, 28) / np.float32(255), np.ones((10, 10), np.float32))  # a 280×280 drawing
    ink = ink.astype(np.float32)

    def stroke() -> np.ndarray:
        clean = prepare_digit(ink)
        noisy = add_noise(clean.reshape(1, 784), 0.3, np.random.default_rng(7))
        model.encode(noisy)
        return model.predict(noisy)

    parts = {
        "prepare_digit": lambda: prepare_digit(ink),
        "predict only": lambda: model.predict(np.zeros((1, 784), np.float32)),
        "whole path": stroke,
    }
    for name, fn in parts.items():
        for _ in range(50):
            fn()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
        print(f"  {name:<14} median {statistics.median(times):.3f} ms   p99 {percentile(times, 99):.3f} ms   "
              f"({repeats} calls, model {model_name})")  # fmt: skip


def slider_latency(model_name: str, moves: int) -> None:
    """Time the full update of a perturbation slider move in the app, offscreen (see the module docstring)."""
    from offscreen_qt import spin, use_offscreen_qt

    use_offscreen_qt()
    from PySide6.QtCore import QSettings

    from gui.app import make_app, single_thread_blas
    from gui.main_window import MainWindow

    single_thread_blas()  # as the app does
    app = make_app([])
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(MLP.from_file(model_name), settings=settings)
    window.resize(1280, 800)
    window.show()
    tab = window.denoise_tab
    window.tabs.setCurrentWidget(tab)
    tab.panels.setCurrentWidget(tab.inside)
    tab.show_test_digit(0)
    panel = tab.inside.perturb
    while not panel.is_ready() or tab.state.source != "test":
        spin(50)
    spin(500)
    rng = np.random.default_rng(0)
    times = {"noise": [], "prune": []}
    for i in range(moves + 20):
        name, slider = ("noise", panel.noise_slider) if i % 2 else ("prune", panel.prune_slider)
        value = int(rng.integers(1, 100))
        if value == slider.value():
            value = value % 99 + 1
        t0 = time.perf_counter()
        slider.setValue(value)
        window.repaint()
        if i >= 20:  # after a warm-up
            times[name].append((time.perf_counter() - t0) * 1e3)
        if i % 10 == 0:
            app.processEvents()  # let the jobs' timers run now and then, as between real moves
    both = times["noise"] + times["prune"]
    for name, values in (*times.items(), ("all moves", both)):
        print(f"  {name:<10} median {statistics.median(values):.1f} ms   p99 {percentile(values, 99):.1f} ms   "
              f"max {max(values):.1f} ms   ({len(values)} moves, model {model_name}, goal <= 30 ms)")  # fmt: skip
    window.state.dirty = False
    window.close()
    from gui.common.jobs import wait_for_all_jobs

    wait_for_all_jobs()


def cold_start(runs: int) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    runtime = tempfile.mkdtemp(prefix="ds-xdg-")
    os.chmod(runtime, 0o700)
    env["XDG_RUNTIME_DIR"] = runtime
    env.setdefault("PYTHONPATH", str(ROOT))
    results = []
    for i in range(runs):
        started = time.time()
        proc = subprocess.run(
            [sys.executable, "-c", SHOW_WINDOW], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        shown = [line for line in proc.stdout.splitlines() if line.startswith("SHOWN ")]
        if proc.returncode != 0 or not shown:
            print(f"  run {i + 1}: the window did not show (exit {proc.returncode}): {proc.stderr.strip()[-400:]}")
            return
        results.append(float(shown[0].split()[1]) - started)
    first, rest = results[0], results[1:] or results
    print(f"  process start -> main window shown: median {statistics.median(rest):.3f} s "
          f"(runs 2-{runs}), first run {first:.3f} s, max {max(results):.3f} s")  # fmt: skip


RUN_CLI_REPORTING_RSS = r"""
import runpy, sys
sys.argv = ["denoise-studio", *sys.argv[1:]]
try:
    runpy.run_module("engine", run_name="__main__")
finally:  # VmHWM is this process's own peak (getrusage's ru_maxrss keeps the parent's across exec on Linux)
    peak = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    print(f"MAXRSS_KB {peak}", file=sys.stderr, flush=True)
"""


def training_rss(layers: str, epochs: int, data_dir: str | None) -> None:
    """Peak RSS of ``denoise-studio train`` in its own process (it reports getrusage at exit)."""
    with tempfile.TemporaryDirectory() as tmp:
        args = ["train", "--layers", layers, "--epochs", str(epochs), "--noise", "0.5", "--quiet",
                "-o", str(Path(tmp) / "m.npz")]  # fmt: skip
        if data_dir:
            args += ["--data", data_dir]
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", RUN_CLI_REPORTING_RSS, *args], cwd=ROOT, capture_output=True,
                              text=True)  # fmt: skip
        seconds = time.perf_counter() - t0
    peak = [line for line in proc.stderr.splitlines() if line.startswith("MAXRSS_KB ")]
    if proc.returncode != 0 or not peak:
        print(f"  training failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
        return
    peak_mb = int(peak[0].split()[1]) / 1024
    print(f"  {layers}: {epochs} epochs on 60000 images, test-set validation, checkpoint each epoch: "
          f"peak RSS {peak_mb:.0f} MB, {seconds:.1f} s wall")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("DENOISE_STUDIO_DATA"), help="MNIST folder")
    parser.add_argument("--repeats", type=int, default=2000, help="canvas-path calls timed")
    parser.add_argument("--starts", type=int, default=5, help="cold starts timed")
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--moves", type=int, default=200, help="perturbation slider moves timed")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("canvas path (280x280 drawing -> prepare_digit -> noise -> encode -> predict):")
    for name in ("mnist_denoising_autoencoder", "mnist_denoising_autoencoder_large"):
        try:
            canvas_latency(name, args.repeats, args.data)
        except Exception as exc:  # a model not shipped yet
            print(f"  {name}: not measured ({exc})")
    print("perturbation slider, full update of one move (offscreen app, 1280x800):")
    slider_latency("mnist_denoising_autoencoder_large", args.moves)
    print("app cold start (offscreen):")
    cold_start(args.starts)
    if not args.skip_train:
        print("peak memory of a full-MNIST training run (child process):")
        training_rss("784:10:relu,784:sigmoid", 2, args.data)
        training_rss("784:256:relu,64:relu,256:relu,784:sigmoid", 2, args.data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
