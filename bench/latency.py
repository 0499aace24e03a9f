"""Latency and memory: the canvas path, app cold start, peak RSS of a full-MNIST training run.

    .venv/bin/python bench/latency.py                 # all three
    .venv/bin/python bench/latency.py --skip-train    # without the training run (about 1 min less)

1. Canvas path: what the Denoise tab computes for each stroke, without the painting — a 280×280
   drawing -> ``engine.preprocess.prepare_digit`` (bbox, 20×20 area resize, centre of mass) ->
   fixed-seed noise -> ``encode`` (the latent bars) -> ``predict``.  Median and p99 over many calls.
2. Cold start: a fresh ``python -c`` that imports ``gui.app``, builds the main window with the
   shipped model and shows it (``QT_QPA_PLATFORM=offscreen``); measured from just before the
   process is spawned to the window being exposed, as the child reports it.
3. Peak RSS: ``denoise-studio train`` on the full 60000-image training set in a child process,
   which reports its own ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at exit.
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
import resource, runpy, sys
sys.argv = ["denoise-studio", *sys.argv[1:]]
try:
    runpy.run_module("engine", run_name="__main__")
finally:
    print(f"MAXRSS_KB {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr, flush=True)
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
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("canvas path (280x280 drawing -> prepare_digit -> noise -> encode -> predict):")
    for name in ("mnist_denoising_autoencoder", "mnist_denoising_autoencoder_large"):
        try:
            canvas_latency(name, args.repeats, args.data)
        except Exception as exc:  # a model not shipped yet
            print(f"  {name}: not measured ({exc})")
    print("app cold start (offscreen):")
    cold_start(args.starts)
    if not args.skip_train:
        print("peak memory of a full-MNIST training run (child process):")
        training_rss("784:10:relu,784:sigmoid", 2, args.data)
        training_rss("784:256:relu,64:relu,256:relu,784:sigmoid", 2, args.data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
