"""Training throughput, end to end: the engine's ``MLP.fit`` against PyTorch on the CPU, in one run.

Both sides do the whole epoch: shuffle, gather the batch, draw Gaussian noise and clip, forward,
MSE loss, backward, Adam step.  The engine runs through the ``MLP.fit``/``Trainer`` path users
run (its noise is the per-epoch bank of ``engine.noise.EpochNoise``); PyTorch draws its own
``torch.randn`` per batch and uses its fused CPU Adam, with ``torch.set_num_threads(cores)``
(and, for reference, on one thread).  Same model, data (full MNIST training set, float32),
batch size, optimizer, learning rate and noise sigma.  Each side runs in its own child process
(so neither's threads or allocator state touch the other): a warm-up epoch, then timed epochs;
the sides alternate for several rounds so a busy moment on the machine hits all of them, and
each figure is the median epoch.

    .venv/bin/pip install -e '.[bench]'       # torch==2.13.0 (CPU) and psutil, bench only
    .venv/bin/python bench/train_speed.py              # add --blas-sweep for the thread settings

``--blas-sweep`` also times the engine with serial steps on 1 BLAS thread, serial steps on 2 BLAS
threads, and its default (1 BLAS thread, large steps as two half-batches on two Python threads;
see ``engine.steps``), in the parent process.

``--float-errors`` times, side by side in this process, the engine with NumPy's floating-point warnings silenced
once a run (what ``Trainer`` does: an overflow ends as divergence) and with NumPy's default settings (before).

``--noise-range`` times, side by side in this process, the engine training with one σ (0.4)
and with a range (σ drawn per image from [0, 0.8]), alternating the two for ``--rounds``
rounds, and prints the ratio (the goal: the range within 10 % of one σ); ``--noise-range-only``
skips the PyTorch comparison.

The process re-executes itself without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (they may pin
OpenBLAS to a slower kernel) and prints the BLAS kernel and thread counts it ran with.
"""

from __future__ import annotations

import os
import sys

_STRIPPED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if any(k in os.environ for k in _STRIPPED) and not os.environ.get("_DS_TRAIN_SPEED_CHILD"):
    _env = {k: v for k, v in os.environ.items() if k not in _STRIPPED}
    _env["_DS_TRAIN_SPEED_CHILD"] = ",".join(f"{k}={os.environ[k]}" for k in _STRIPPED if k in os.environ)
    os.execve(sys.executable, [sys.executable, *sys.argv], _env)

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import threadpoolctl  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import steps  # noqa: E402
from engine.callbacks import Callback  # noqa: E402
from engine.dataset import Dataset  # noqa: E402
from engine.nn import build_mlp  # noqa: E402
from engine.training import TrainConfig, Trainer  # noqa: E402

SMALL = [784, 10, 784]
LARGE = [784, 256, 64, 256, 784]
CASES = [(SMALL, 32), (SMALL, 128), (SMALL, 512), (LARGE, 128)]
LR, SIGMA = 1e-3, 0.5


def activations(widths: list[int]) -> list[str]:
    return ["relu"] * (len(widths) - 2) + ["sigmoid"]


class EpochTimer(Callback):
    """Wall-clock seconds of each whole epoch (epoch_begin -> epoch_end, everything inside)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs):
        self.seconds.append(time.perf_counter() - self._t0)


class EngineFit:
    """The engine for ``epochs`` epochs in one ``Trainer.fit`` call (what ``MLP.fit`` runs);
    ``parallel`` as ``Trainer`` takes it (None: the engine decides, as for users)."""

    def __init__(self, widths, batch_size, x_u8, parallel: bool | None = None, noise=SIGMA):
        self.model = build_mlp(widths, activations(widths), seed=0)
        self.batch_size, self.x, self.parallel, self.noise = batch_size, x_u8, parallel, noise

    def run(self, epochs: int) -> list[float]:
        timer = EpochTimer()
        config = TrainConfig(
            epochs=epochs, batch_size=self.batch_size, lr=LR, optimizer="adam", noise=self.noise, seed=0
        )
        Trainer(self.model, config, [timer], parallel=self.parallel).fit(self.x)
        return timer.seconds


class TorchRun:
    """The same training in PyTorch: randperm, index, randn noise, clamp, forward, MSE, backward, Adam."""

    def __init__(self, widths, batch_size, x_u8, torch, threads: int):
        self.torch, self.threads = torch, threads
        torch.manual_seed(0)
        layers = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            layers += [torch.nn.Linear(a, b), torch.nn.Sigmoid() if i == len(widths) - 2 else torch.nn.ReLU()]
        self.model = torch.nn.Sequential(*layers)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LR, fused=True)  # its fastest CPU Adam
        self.loss = torch.nn.MSELoss()
        self.x = torch.from_numpy(x_u8.copy()).float().div_(255)  # (n, 784) float32 in [0, 1]
        self.batch_size = batch_size
        self.compute_seconds: list[float] = []

    def run(self, epochs: int) -> list[float]:
        torch, x, bs = self.torch, self.x, self.batch_size
        torch.set_num_threads(self.threads)
        seconds = []
        for _ in range(epochs):
            t0 = time.perf_counter()
            compute = 0.0
            order = torch.randperm(len(x))
            for start in range(0, len(x), bs):
                clean = x[order[start : start + bs]]
                noisy = clean.add(torch.randn_like(clean), alpha=SIGMA).clamp_(0, 1)
                c0 = time.perf_counter()
                self.opt.zero_grad(set_to_none=True)
                loss = self.loss(self.model(noisy), clean)
                loss.backward()
                self.opt.step()
                compute += time.perf_counter() - c0
            seconds.append(time.perf_counter() - t0)
            self.compute_seconds.append(compute)
        return seconds


def blas_description() -> str:
    rows = []
    for info in threadpoolctl.threadpool_info():
        rows.append(
            f"{info.get('internal_api')} {info.get('version')} kernel={info.get('architecture')} "
            f"threads={info.get('num_threads')} ({Path(info.get('filepath', '')).name})"
        )
    return "; ".join(rows) or "no BLAS found by threadpoolctl"


def label(widths, batch_size) -> str:
    return f"{'-'.join(map(str, widths))} b{batch_size}"


def child(args) -> int:
    """One side of one case in its own process: warm-up epoch, then timed epochs; prints JSON."""
    widths, bs = CASES[args.case]
    x = np.ascontiguousarray(
        Dataset(train_size=args.train_size, test_size=1, batch_size=1, data_dir=args.data, progress=False).train_u8
    )
    result: dict = {}
    if args.child == "engine":
        eng = EngineFit(widths, bs, x)
        eng.run(1)  # warm-up: buffers, threads, allocator
        result["seconds"] = eng.run(args.epochs)
    else:
        import torch

        threads = (os.cpu_count() or 1) if args.child == "torch" else 1
        tor = TorchRun(widths, bs, x, torch, threads)
        tor.run(1)
        tor.compute_seconds.clear()
        result["seconds"] = tor.run(args.epochs)
        result["compute_seconds"] = tor.compute_seconds
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def torch_description() -> str:
    code = (
        "import os, torch; torch.set_num_threads(os.cpu_count() or 1); "
        "print(f'torch {torch.__version__}: {torch.get_num_threads()} threads, "
        "mkldnn={torch.backends.mkldnn.is_available()}, mkl={torch.backends.mkl.is_available()}')"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip()


def run_child(side: str, case: int, args) -> dict:
    cmd = [sys.executable, __file__, "--child", side, "--case", str(case), "--epochs", str(args.epochs),
           "--train-size", str(args.train_size)]  # fmt: skip
    if args.data:
        cmd += ["--data", args.data]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{side} child failed ({proc.returncode}): {proc.stderr.strip()[-600:]}")
    return json.loads(lines[0].removeprefix("RESULT "))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per side per round (median taken)")
    parser.add_argument("--rounds", type=int, default=2, help="alternate engine/torch this many times")
    parser.add_argument("--train-size", type=int, default=60000)
    parser.add_argument("--data", help="MNIST folder (default $DENOISE_STUDIO_DATA)")
    parser.add_argument("--blas-sweep", action="store_true", help="also time the engine's thread settings")
    parser.add_argument("--only", choices=["small", "large"], help="run only these cases")
    parser.add_argument("--noise-range", action="store_true", help="also time one σ against a σ range")
    parser.add_argument("--noise-range-only", action="store_true", help="only time one σ against a σ range")
    parser.add_argument("--float-errors", action="store_true",
                        help="only time training with NumPy's float warnings silenced (now) against its defaults")
    parser.add_argument("--child", choices=["engine", "torch", "torch1"], help=argparse.SUPPRESS)
    parser.add_argument("--case", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    n_cores = os.cpu_count() or 1
    stripped = os.environ.get("_DS_TRAIN_SPEED_CHILD") or "none were set"
    print(f"machine: {platform.processor() or platform.machine()}, {n_cores} cores, {platform.platform()}")
    print(f"python {platform.python_version()}, numpy {np.__version__}; {torch_description()}")
    print(f"removed from env: {stripped}")
    print(f"numpy BLAS: {blas_description()}")
    print(f"engine: BLAS on {Trainer.blas_threads} thread while training, {steps.available_cores()} cores; steps of "
          f">= {steps.DATA_PARALLEL_MACS:,} params x batch run as two half-batches in parallel")  # fmt: skip
    print(f"data: {args.train_size} MNIST training images, float32, Adam lr={LR}, noise sigma={SIGMA}; each side "
          f"in its own process (warm-up epoch, then {args.epochs} timed), {args.rounds} interleaved round(s), "
          f"median of {args.epochs * args.rounds} epochs\n")  # fmt: skip

    cases = [i for i, c in enumerate(CASES) if args.only is None or (c[0] is LARGE) == (args.only == "large")]
    if args.noise_range_only:
        noise_range_comparison(args, cases)
        return 0
    if args.float_errors:
        float_errors_comparison(args, cases)
        return 0
    header = (f"{'model / batch':<26}{'engine img/s':>13}{f'torch {n_cores}thr':>12}{'ratio':>8}"
              f"{'torch 1thr':>12}{'vs best':>9}{f'torch {n_cores}thr compute':>21}{'load avg':>10}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for case in cases:
        widths, bs = CASES[case]
        runs: dict[str, list[dict]] = {"engine": [], "torch": [], "torch1": []}
        for _ in range(args.rounds):
            for side in runs:
                runs[side].append(run_child(side, case, args))
        rates = {
            side: args.train_size / statistics.median([s for r in results for s in r["seconds"]])
            for side, results in runs.items()
        }
        compute = [s for r in runs["torch"] for s in r["compute_seconds"]]
        t_compute = args.train_size / statistics.median(compute)
        e_rate, t_rate, t1_rate = rates["engine"], rates["torch"], rates["torch1"]
        print(f"{label(widths, bs):<26}{e_rate:>13,.0f}{t_rate:>12,.0f}{e_rate / t_rate:>7.2f}x{t1_rate:>12,.0f}"
              f"{e_rate / max(t_rate, t1_rate):>8.2f}x{t_compute:>21,.0f}{os.getloadavg()[0]:>10.2f}")  # fmt: skip
        sys.stdout.flush()
    print("(ratio: engine / torch on all cores, as specified; vs best: engine / the faster torch setting; "
          "load avg: 1-min, after the case — other jobs share this machine)")
    if args.blas_sweep:
        print("\nengine thread settings, img/s (median of the same number of epochs, this process):")
        x = np.ascontiguousarray(
            Dataset(train_size=args.train_size, test_size=1, batch_size=1, data_dir=args.data, progress=False).train_u8
        )
        settings = {  # (BLAS threads while training, parallel steps)
            "serial, 1 BLAS thread": (1, False),
            f"serial, {n_cores} BLAS threads": (n_cores, False),
            "default": (1, None),
        }
        for widths, bs in (CASES[i] for i in cases):
            cells = []
            for name, (blas, parallel) in settings.items():
                Trainer.blas_threads = blas
                eng = EngineFit(widths, bs, x, parallel)
                eng.run(1)
                cells.append(f"{name}: {len(x) / statistics.median(eng.run(args.epochs)):>8,.0f}")
            Trainer.blas_threads = 1
            print(f"  {label(widths, bs):<24}" + " | ".join(cells))
    if args.noise_range:
        noise_range_comparison(args, cases)
    print(f"\nnumpy BLAS at exit: {blas_description()}")
    return 0


def noise_range_comparison(args, cases: list[int]) -> None:
    """One σ against a σ range drawn per image, same model and data, alternating in this process."""
    single, spread = 0.4, (0.0, 0.8)
    print(f"\nengine, one σ = {single} against σ ~ U[{spread[0]}, {spread[1]}] per image, img/s "
          f"(median of {args.epochs * args.rounds} epochs each, alternating, after a warm-up epoch):")  # fmt: skip
    x = np.ascontiguousarray(
        Dataset(train_size=args.train_size, test_size=1, batch_size=1, data_dir=args.data, progress=False).train_u8
    )
    for widths, bs in (CASES[i] for i in cases):
        runs = {"one": EngineFit(widths, bs, x, noise=single), "range": EngineFit(widths, bs, x, noise=spread)}
        for eng in runs.values():
            eng.run(1)
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, eng in runs.items():
                seconds[name] += eng.run(args.epochs)
        rate = {name: len(x) / statistics.median(s) for name, s in seconds.items()}
        print(f"  {label(widths, bs):<24} one σ {rate['one']:>9,.0f}   range {rate['range']:>9,.0f}   "
              f"range / one σ {rate['range'] / rate['one']:.3f}   load avg {os.getloadavg()[0]:.2f}")  # fmt: skip
        sys.stdout.flush()


def float_errors_comparison(args, cases: list[int]) -> None:
    """The trainer's ``np.errstate`` (set once a run: overflow silenced, found as divergence) against NumPy's
    default settings (warnings checked and printed): same model and data, alternating in this process."""
    print(f"\nengine, float warnings silenced once a run (now) against NumPy's defaults (before), img/s "
          f"(median of {args.epochs * args.rounds} epochs each, alternating ABBA, after a warm-up epoch):")  # fmt: skip
    x = np.ascontiguousarray(
        Dataset(train_size=args.train_size, test_size=1, batch_size=1, data_dir=args.data, progress=False).train_u8
    )
    settings = {"silenced": Trainer.float_errors, "defaults": {}}  # np.errstate() changes nothing: NumPy's own
    for widths, bs in (CASES[i] for i in cases):
        runs = {"silenced": EngineFit(widths, bs, x), "defaults": EngineFit(widths, bs, x)}
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        for name, eng in runs.items():
            Trainer.float_errors = settings[name]
            eng.run(1)
        for round_ in range(args.rounds):
            for name in (list(runs) if round_ % 2 == 0 else list(runs)[::-1]):  # ABBA: neither side always first
                Trainer.float_errors = settings[name]
                seconds[name] += runs[name].run(args.epochs)
        Trainer.float_errors = settings["silenced"]
        rate = {name: len(x) / statistics.median(s) for name, s in seconds.items()}
        print(f"  {label(widths, bs):<24} silenced {rate['silenced']:>9,.0f}   defaults {rate['defaults']:>9,.0f}   "
              f"silenced / defaults {rate['silenced'] / rate['defaults']:.3f}   load avg {os.getloadavg()[0]:.2f}")
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
