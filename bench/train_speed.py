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
threads, and its default (1 BLAS thread, large steps as two half-batches, the second in a worker process;
see ``engine.training.make_step``), in the parent process.

``--subnormals`` times each epoch of a run with subnormal numbers taken as zero against kept (Adam's moments
reach them after ~800 steps).  ``--step-kinds`` times one training step of several models and batches (no data
loading) four ways — serial, the two half-batches one after the other, a worker thread, a worker process — the
figures behind the engine's choice of step.
``--float-errors`` times, side by side in this process, the engine with NumPy's floating-point warnings silenced
once a run (what ``Trainer`` does: an overflow ends as divergence) and with NumPy's default settings (before).

``--noise-range`` times, side by side in this process, the engine training with one σ (0.4)
and with a range (σ drawn per image from [0, 0.8]), alternating the two for ``--rounds``
rounds, and prints the ratio (the goal: the range within 10 % of one σ); ``--noise-range-only``
skips the PyTorch comparison.

``--whole`` times the whole ``denoise-studio train`` process (start-up, reading and checking the data, training
with the per-epoch test score and checkpoint, the final score, saving; ``--no-record --quiet``) against
``bench/torch_train.py``, a PyTorch script doing the same job, for 784-10-784 and the large model: each a fresh
process, the two alternating round by round (ABBA); wall seconds and the CPU seconds of the whole process (every
thread), and their ratio.

Every run first measures this machine's float32 matmul rate (NumPy's BLAS, one and two threads, a large
square and the large model's own shapes) and prints each case's FLOPs per image, its FLOP/s and ``peak %``:
its FLOP/s over the two-thread rate on the large square (the most this machine's BLAS does).  ``--peak-only``
stops there.  ``--base DIR`` adds a column for the engine of another checkout (e.g. a worktree of main at a
fixed commit), its children interleaved with this one's.  ``--worker-killed`` times the large model after its
step's worker process is killed (SIGKILL) in the first epoch, against serial steps.  ``--contended`` times, in this
process, the large model's serial step against the data-parallel one while another process keeps one core busy;
``--start`` does the same quiet.  Both print what each run's start costs (its first epoch less its later ones).
``--breakdown`` shows where the large model's data-parallel step spends its time: each of the step's shared tasks
(the two half-batches, the update's blocks) timed on the thread that ran it, against the same half-batch alone and
the same update on one thread, and against both run in two processes at once (no interpreter lock shared).

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
import resource  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import threadpoolctl  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import steps, subnormals, training  # noqa: E402
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


def flops_per_image(widths: list[int]) -> int:
    """Multiply-adds x 2 of one image's training step: the forward matmuls, every weight gradient, and the input
    gradient of every layer but the first (the input needs none).  Element-wise work is not counted."""
    macs = [a * b for a, b in zip(widths[:-1], widths[1:], strict=True)]
    return 2 * (2 * sum(macs) + sum(macs[1:]))


def matmul_rate(m: int, k: int, n: int, threads: int, seconds: float = 0.25, cpu: bool = False) -> float:
    """Best FLOP/s of ``(m, k) @ (k, n)`` float32 over 5 repeats of about ``seconds``, BLAS on ``threads``;
    ``cpu``: per CPU second of the calling thread rather than per wall second (with one BLAS thread the work
    runs on the calling thread, so the time other processes take the core from it is left out)."""
    rng = np.random.default_rng(0)
    a, b = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
    out = np.empty((m, n), np.float32)
    clock = time.thread_time if cpu else time.perf_counter
    best = float("inf")
    with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
        t0 = time.perf_counter()
        np.matmul(a, b, out=out)
        reps = max(1, int(seconds / max(time.perf_counter() - t0, 1e-6)))
        for _ in range(5):
            t0 = clock()
            for _ in range(reps):
                np.matmul(a, b, out=out)
            best = min(best, (clock() - t0) / reps)
    return 2 * m * k * n / max(best, 1e-9)


def model_shapes(widths: list[int], rows: int) -> list[tuple[int, int, int]]:
    """The (m, k, n) of every matmul of one training step on ``rows`` images (forward, weight and input
    gradients), as ``flops_per_image`` counts them."""
    pairs = list(zip(widths[:-1], widths[1:], strict=True))
    forward = [(rows, a, b) for a, b in pairs]
    weight_grads = [(a, rows, b) for a, b in pairs]
    input_grads = [(rows, b, a) for a, b in pairs[1:]]
    return forward + weight_grads + input_grads


def shapes_rate(shapes: list[tuple[int, int, int]], threads: int) -> float:
    """FLOP/s over a sequence of matmuls: their FLOPs over the sum of each one's best time."""
    flops = [2 * m * k * n for m, k, n in shapes]
    seconds = [f / matmul_rate(*shape, threads, seconds=0.05) for f, shape in zip(flops, shapes, strict=True)]
    return sum(flops) / sum(seconds)


def measure_peak() -> dict[str, float]:
    """This machine's float32 matmul FLOP/s now: a 2048 square on one and two threads, and the large model's own
    shapes on one thread (64 rows: a half-batch of 128, what each thread of a data-parallel step multiplies)."""
    square = 2048
    return {
        "square 1 thread, per CPU second": matmul_rate(square, square, square, 1, cpu=True),
        "square 1 thread": matmul_rate(square, square, square, 1),
        "square 2 threads": matmul_rate(square, square, square, 2),
        "large model's shapes, 64 rows, 1 thread": shapes_rate(model_shapes(LARGE, 64), 1),
        "large model's shapes, 128 rows, 1 thread": shapes_rate(model_shapes(LARGE, 128), 1),
    }


def print_peak(peak: dict[str, float]) -> float:
    """Print the matmul rates; returns the peak the ``peak %`` columns divide by: the two-thread rate on the
    square, or twice the one-thread rate when that is higher.

    On a quiet machine the two agree (two cores, each at the one-thread rate).  When other jobs share the cores,
    OpenBLAS's two threads wait for each other and fall furthest (seen here: 32 GFLOP/s on two threads against
    124 on one, load 12), which would flatter every ``peak %``; twice the one-thread rate keeps the bar high.
    The per-CPU-second rate leaves out the time the core was someone else's: it is what each core can do."""
    print(f"float32 matmul, this machine, now (best of 5 repeats; load avg {os.getloadavg()[0]:.2f}):")
    for name, rate in peak.items():
        print(f"  {name:<44}{rate / 1e9:>8.1f} GFLOP/s")
    top = max(peak["square 2 threads"], 2 * peak["square 1 thread"])
    print(
        f"  peak (the 2-thread square, or twice the 1-thread one if higher): {top / 1e9:.1f} GFLOP/s; {LARGE} at "
        f"batch 128 costs {flops_per_image(LARGE) / 1e6:.2f} MFLOP/image: at most {top / flops_per_image(LARGE):,.0f} "
        "img/s\n",
        flush=True,
    )
    return top


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

    def __init__(self, widths, batch_size, x_u8, parallel: bool | None = None, noise=SIGMA, callbacks=()):
        self.model = build_mlp(widths, activations(widths), seed=0)
        self.batch_size, self.x, self.parallel, self.noise = batch_size, x_u8, parallel, noise
        self.callbacks = list(callbacks)

    def run(self, epochs: int) -> list[float]:
        timer = EpochTimer()
        config = TrainConfig(
            epochs=epochs, batch_size=self.batch_size, lr=LR, optimizer="adam", noise=self.noise, seed=0
        )
        self.trainer = Trainer(self.model, config, [timer, *self.callbacks], parallel=self.parallel)
        self.trainer.fit(self.x)
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


def cpu_seconds() -> float:
    """CPU seconds of this process and of its children that have ended (a training step's worker process)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


class KillWorkers(Callback):
    """Kills this process's children (a step's worker) with SIGKILL, as the kernel's out-of-memory killer would, at
    the 20th batch of the first epoch; collects the run's notes."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def on_batch_end(self, batch, logs):
        if logs["epoch"] == 0 and batch == 20:
            for task in Path(f"/proc/{os.getpid()}/task").iterdir():
                for pid in (task / "children").read_text().split():
                    os.kill(int(pid), signal.SIGKILL)

    def on_note(self, text):
        self.notes.append(text)


def child(args) -> int:
    """One side of one case in its own process: warm-up epoch, then timed epochs; prints JSON."""
    widths, bs = CASES[args.case]
    x = np.ascontiguousarray(
        Dataset(train_size=args.train_size, test_size=1, batch_size=1, data_dir=args.data, progress=False).train_u8
    )
    result: dict = {}
    if args.child == "engine" and args.kill_worker:  # one run: the kill in its first epoch, the later ones timed
        killer = KillWorkers()
        eng = EngineFit(widths, bs, x, parallel=False if args.serial else None, callbacks=[killer])
        result["seconds"] = eng.run(1 + args.epochs)[1:]
        result["notes"] = killer.notes
    elif args.child == "engine":
        eng = EngineFit(widths, bs, x, parallel=False if args.serial else None)
        eng.run(1)  # warm-up: buffers, threads, allocator
        cpu0 = cpu_seconds()
        result["seconds"] = eng.run(args.epochs)
        result["cpu_seconds"] = (cpu_seconds() - cpu0) / args.epochs
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


def git_head(root: str) -> str:
    run = subprocess.run(["git", "-C", root, "log", "-1", "--format=%h %s"], capture_output=True, text=True)
    return run.stdout.strip()[:60] or "not a git checkout"


def torch_description() -> str:
    code = (
        "import os, torch; torch.set_num_threads(os.cpu_count() or 1); "
        "print(f'torch {torch.__version__}: {torch.get_num_threads()} threads, "
        "mkldnn={torch.backends.mkldnn.is_available()}, mkl={torch.backends.mkl.is_available()}')"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip()


def run_child(side: str, case: int, args, script: str = __file__, serial: bool = False, kill_worker: bool = False
              ) -> dict:  # fmt: skip
    """One side of one case in a child process; ``script``: this file, or the same bench of another checkout
    (``--base``: its engine is the one imported)."""
    cmd = [sys.executable, script, "--child", side, "--case", str(case), "--epochs", str(args.epochs),
           "--train-size", str(args.train_size)]  # fmt: skip
    if args.data:
        cmd += ["--data", args.data]
    if serial:
        cmd.append("--serial")
    if kill_worker:
        cmd.append("--kill-worker")
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
    parser.add_argument(
        "--float-errors",
        action="store_true",
        help="only time training with NumPy's float warnings silenced (now) against its defaults",
    )
    parser.add_argument(
        "--subnormals",
        action="store_true",
        help="only time training, epoch by epoch, with subnormal numbers taken as zero (now) against kept",
    )
    parser.add_argument(
        "--step-kinds",
        action="store_true",
        help="only time one step (no data) serial, as halves, on two threads and in two processes, several models",
    )
    parser.add_argument("--peak-only", action="store_true", help="only measure the matmul rates")
    parser.add_argument("--whole", action="store_true", help="only time the whole train process against PyTorch's")
    parser.add_argument("--whole-epochs", type=int, nargs=2, default=[5, 4], metavar=("SMALL", "LARGE"),
                        help="--whole: epochs of 784-10-784 and of the large model")  # fmt: skip
    parser.add_argument("--whole-torch-threads", type=int, default=os.cpu_count() or 1,
                        help="--whole: PyTorch's threads (default: every core)")  # fmt: skip
    parser.add_argument("--base", help="another checkout whose engine to time alongside (interleaved)")
    parser.add_argument(
        "--contended",
        action="store_true",
        help="only time serial against data-parallel steps with another process busy on a core",
    )
    parser.add_argument(
        "--start",
        action="store_true",
        help="only time the large model's serial and default steps, quiet, with each run's start (first epoch less "
        "the later ones)",
    )
    parser.add_argument("--breakdown", action="store_true", help="only time the parts of the large model's step")
    parser.add_argument(
        "--worker-killed",
        action="store_true",
        help="only time the large model after its step's worker process is killed, against serial steps",
    )
    parser.add_argument("--kill-worker", action="store_true", help=argparse.SUPPRESS)  # a child: kill it
    parser.add_argument("--serial", action="store_true", help=argparse.SUPPRESS)  # a child: serial steps
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
          f">= {training.UNITS_MACS:,} params x batch with layers >= {training.UNITS_WIDTH} wide run with their units "
          f"split between two processes, other steps of >= {training.PROCESS_MACS:,} as two half-batches in two "
          f"processes, those of >= {training.THREAD_MACS:,} at batches of >= {training.THREAD_BATCH} on two "
          f"threads")  # fmt: skip
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
    if args.subnormals:
        subnormals_comparison(args, cases)
        return 0
    if args.step_kinds:
        step_kinds_comparison(args)
        return 0
    if args.contended or args.start:
        contended_comparison(args, busy_core=args.contended)
        return 0
    if args.breakdown:
        step_breakdown(args)
        return 0
    if args.worker_killed:
        worker_killed_comparison(args)
        return 0
    if args.whole:
        whole_comparison(args)
        return 0
    matmul = measure_peak()
    peak, cpu_peak = print_peak(matmul), matmul["square 1 thread, per CPU second"]
    if args.peak_only:
        return 0
    base_script = None
    if args.base:
        base_script = str(Path(args.base).resolve() / "bench" / "train_speed.py")
        print(f"base: the engine of {args.base} ({git_head(args.base)}), its children interleaved with this one's")
    header = (f"{'model / batch':<26}{'MFLOP/img':>10}{'engine img/s':>13}{'GFLOP/s':>9}{'peak %':>8}"
              f"{'CPU s/ep':>9}{'CPU %':>7}"
              + (f"{'base img/s':>12}{'vs base':>9}" if base_script else "")
              + f"{f'torch {n_cores}thr':>12}{'GFLOP/s':>9}{'peak %':>8}{'ratio':>8}{'torch 1thr':>12}{'vs best':>9}"
              f"{'load avg':>10}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for case in cases:
        widths, bs = CASES[case]
        sides = ["engine", "torch", "torch1"] + (["base"] if base_script else [])
        runs: dict[str, list[dict]] = {side: [] for side in sides}
        for round_ in range(args.rounds):
            for side in sides if round_ % 2 == 0 else sides[::-1]:  # ABBA: no side always first
                if side == "base":
                    runs[side].append(run_child("engine", case, args, script=base_script))
                else:
                    runs[side].append(run_child(side, case, args))
        rates = {
            side: args.train_size / statistics.median([s for r in results for s in r["seconds"]])
            for side, results in runs.items()
        }
        flops = flops_per_image(widths)
        e_rate, t_rate, t1_rate = rates["engine"], rates["torch"], rates["torch1"]
        cpu = statistics.median(r["cpu_seconds"] for r in runs["engine"])
        row = (f"{label(widths, bs):<26}{flops / 1e6:>10.2f}{e_rate:>13,.0f}{e_rate * flops / 1e9:>9.1f}"
               f"{100 * e_rate * flops / peak:>7.0f}%{cpu:>9.2f}"
               f"{100 * args.train_size * flops / cpu / cpu_peak:>6.0f}%")  # fmt: skip
        if base_script:
            row += f"{rates['base']:>12,.0f}{e_rate / rates['base']:>8.2f}x"
        row += (f"{t_rate:>12,.0f}{t_rate * flops / 1e9:>9.1f}{100 * t_rate * flops / peak:>7.0f}%"
                f"{e_rate / t_rate:>7.2f}x{t1_rate:>12,.0f}{e_rate / max(t_rate, t1_rate):>8.2f}x"
                f"{os.getloadavg()[0]:>10.2f}")  # fmt: skip
        print(row)
        sys.stdout.flush()
    print(
        "(MFLOP/img: the matmuls of one image's step; GFLOP/s: that times img/s, whole epochs (data and noise "
        "included); peak %: over the peak above; CPU s/ep: the engine's CPU seconds per epoch (its "
        "step's worker process included); CPU %: the engine's FLOPs per CPU second over one thread's per CPU "
        "second on the square (how "
        "well each core's time is used, whatever the load); ratio: engine / torch on all cores; vs best: "
        "engine / the faster torch setting; load avg: 1-min, after the case — other jobs share this machine)"
    )
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


def timed_process(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of every thread) of one fresh process, start-up to exit."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, timeout=7200)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed ({proc.returncode}): {proc.stderr.strip()[-600:]}")
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def whole_comparison(args) -> None:
    """The whole ``denoise-studio train`` process against ``bench/torch_train.py``: same job, fresh processes, ABBA."""
    data = args.data or os.environ.get("DENOISE_STUDIO_DATA")
    if not data:
        raise SystemExit("--whole needs --data or $DENOISE_STUDIO_DATA (the MNIST folder)")
    cli = Path(sys.executable).with_name("denoise-studio")
    engine = [str(cli)] if cli.exists() else [sys.executable, "-m", "engine"]
    out = Path(tempfile.mkdtemp(prefix="whole-train-"))
    print(f"whole process, {args.train_size} training and 10000 test images, batch 128, Adam lr {LR}, σ {SIGMA}; "
          f"torch on {args.whole_torch_threads} thread(s); {args.rounds} round(s) alternating; load avg "
          f"{os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"{'model':<22}{'epochs':>7}{'engine s':>10}{'CPU s':>8}{'torch s':>9}{'CPU s':>8}{'torch/engine wall':>19}"
          f"{'CPU':>7}{'load':>7}")  # fmt: skip
    models = ((SMALL, args.whole_epochs[0]), (LARGE, args.whole_epochs[1]))
    for widths, epochs in (m for m in models if args.only is None or (m[0] is LARGE) == (args.only == "large")):
        layers = f"{widths[0]}:" + ",".join(f"{w}:{a}" for w, a in zip(widths[1:], activations(widths), strict=True))
        common = ["--epochs", str(epochs), "--batch-size", "128", "--lr", str(LR), "--noise", str(SIGMA)]
        commands = {
            "engine": [*engine, "train", "--layers", layers, *common, "--train-size", str(args.train_size),
                       "--data", data, "--output", str(out / "engine.npz"), "--no-record", "--quiet"],
            "torch": [sys.executable, str(Path(__file__).with_name("torch_train.py")), "--layers",
                      ",".join(map(str, widths)), *common, "--data", data, "--output", str(out / "torch.pt"),
                      "--threads", str(args.whole_torch_threads)],
        }  # fmt: skip
        if args.train_size != 60000:
            raise SystemExit("--whole trains on the full training set (the PyTorch script reads it whole)")
        times: dict[str, list[tuple[float, float]]] = {side: [] for side in commands}
        for round_ in range(args.rounds):
            for side in ("engine", "torch") if round_ % 2 == 0 else ("torch", "engine"):
                times[side].append(timed_process(commands[side]))
        (e_wall, e_cpu), (t_wall, t_cpu) = (tuple(statistics.median(x) for x in zip(*times[side], strict=True))
                                            for side in ("engine", "torch"))  # fmt: skip
        print(f"{'-'.join(map(str, widths)):<22}{epochs:>7}{e_wall:>10.1f}{e_cpu:>8.1f}{t_wall:>9.1f}{t_cpu:>8.1f}"
              f"{t_wall / e_wall:>18.2f}x{t_cpu / e_cpu:>6.2f}x{os.getloadavg()[0]:>7.2f}")  # fmt: skip
        sys.stdout.flush()
    print("(medians of the rounds; CPU s: user + system seconds of the whole process, every thread — less moved by "
          "the other jobs on a shared machine than the wall clock)")


def interleaved_engines(sides: dict[str, tuple[str, bool]], case: int, args, kill_worker: bool = False
                        ) -> tuple[dict[str, list[dict]], dict[str, float]]:  # fmt: skip
    """Each side (name -> (bench script, serial steps)) in its own engine child per round, the order reversed every
    other round (ABBA); their results, and each side's img/s (the median epoch)."""
    runs: dict[str, list[dict]] = {name: [] for name in sides}
    names = list(sides)
    for round_ in range(args.rounds):
        for name in names if round_ % 2 == 0 else names[::-1]:
            script, serial = sides[name]
            runs[name].append(run_child("engine", case, args, script=script, serial=serial, kill_worker=kill_worker))
    rate = {n: args.train_size / statistics.median([s for r in rs for s in r["seconds"]]) for n, rs in runs.items()}
    return runs, rate


def contended_comparison(args, busy_core: bool = True) -> None:
    """The large model with another process spinning on one core the whole time (or quiet): serial steps against
    the default ones (split by units), and ``--base``'s default, each in its own child, interleaved ABBA."""
    case = CASES.index((LARGE, 128))
    sides = {"serial": (__file__, True), "default": (__file__, False)}
    if args.base:
        sides["base default"] = (str(Path(args.base).resolve() / "bench" / "train_speed.py"), False)
    print(f"{label(*CASES[case])}, {'another process busy on one core throughout' if busy_core else 'quiet'}, "
          f"img/s (median of {args.epochs * args.rounds} epochs; CPU s/epoch of the engine's process; each "
          f"round's start):")  # fmt: skip
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy_core else None
    try:
        runs, rate = interleaved_engines(sides, case, args)
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
    for name, results in runs.items():
        cpus = [r["cpu_seconds"] for r in results if "cpu_seconds" in r]  # a base before this bench has none
        cpu = f"   CPU {statistics.median(cpus):.2f} s/epoch" if cpus else ""
        print(f"  {name:<14}{rate[name]:>9,.0f} img/s  {rate[name] / rate['serial']:.2f}x serial{cpu}"
              f"{start_cost(results)}")  # fmt: skip
    print(f"  load avg {os.getloadavg()[0]:.2f}{' (the spinner counts 1)' if busy_core else ''}")


def start_cost(results: list[dict]) -> str:
    """What a run's start costs (its step made, a worker started, its first steps): each round's first timed epoch
    (a new ``Trainer``, so a new step) less the median of its later ones; "" with one epoch a round."""
    costs = [r["seconds"][0] - statistics.median(r["seconds"][1:]) for r in results if len(r["seconds"]) > 1]
    return f"   start {', '.join(f'{1e3 * c:.0f}' for c in costs)} ms" if costs else ""


def worker_killed_comparison(args) -> None:
    """The large model after its step's worker process is killed in the first epoch (the run continues on one core),
    against serial steps (the same one-epoch start), and ``--base``'s, each in its own child, interleaved ABBA."""
    case = CASES.index((LARGE, 128))
    sides = {"serial": (__file__, True), "worker killed": (__file__, False)}
    if args.base:
        sides["base, killed"] = (str(Path(args.base).resolve() / "bench" / "train_speed.py"), False)
    print(f"{label(*CASES[case])}, the step's worker killed at batch 20 of epoch 1, img/s over epochs 2-"
          f"{args.epochs + 1} (median of {args.epochs * args.rounds}):")  # fmt: skip
    runs, rate = interleaved_engines(sides, case, args, kill_worker=True)
    for name, results in runs.items():
        said = sorted({note for r in results for note in r.get("notes", [])})
        print(f"  {name:<14}{rate[name]:>9,.0f} img/s  {rate[name] / rate['serial']:.2f}x serial"
              f"{'   said: ' + ' / '.join(said) if said else ''}")  # fmt: skip


def step_breakdown(args) -> None:
    """The large model's data-parallel step taken apart, in this process: every task of its ``Crew`` (the two
    half-batches, then the update's blocks) timed on the thread that ran it over ``--epochs`` epochs; then, for
    reference, a half-batch with the worker idle and the whole update on the calling thread alone."""
    widths, batch_size = CASES[CASES.index((LARGE, 128))]
    x = np.ascontiguousarray(
        Dataset(train_size=args.train_size, test_size=1, batch_size=1, data_dir=args.data, progress=False).train_u8
    )
    spent: dict[tuple[str, str], list[float]] = {}
    crew_run = steps.Crew.run

    def timed_run(crew, task, count):  # the step's two calls: 2 tasks (the halves), then the update's blocks
        part = "half-batch" if count == 2 else "update block"

        def timed(i):
            start = time.perf_counter()
            task(i)
            spent.setdefault((part, threading.current_thread().name), []).append(time.perf_counter() - start)

        start = time.perf_counter()
        crew_run(crew, timed, count)
        spent.setdefault((part, "the call, start to end"), []).append(time.perf_counter() - start)

    fit = EngineFit(widths, batch_size, x)
    fit.run(1)  # warm-up
    steps.Crew.run = timed_run
    try:
        seconds = fit.run(args.epochs)
    finally:
        steps.Crew.run = crew_run
    n_steps = args.epochs * -(-len(x) // batch_size)
    print(f"{label(widths, batch_size)}: {len(x) * args.epochs / sum(seconds):,.0f} img/s over {args.epochs} "
          f"epoch(s), {sum(seconds) / n_steps * 1e3:.2f} ms a step (data, noise and bookkeeping included)")  # fmt: skip
    print(f"  {'part':<14}{'thread':<24}{'tasks':>7}{'median µs':>11}{'µs a step':>11}")
    for (part, thread), times in sorted(spent.items()):
        print(f"  {part:<14}{thread:<24}{len(times):>7}{statistics.median(times) * 1e6:>11.0f}"
              f"{sum(times) / n_steps * 1e6:>11.0f}")  # fmt: skip
    with steps.using_blas_threads(1):  # as while training
        alone = serial_parts(fit.model, x, batch_size)
    print(f"  for reference, on the calling thread with the worker idle: a half-batch {alone['half'] * 1e6:.0f} µs, "
          f"the whole update {alone['update'] * 1e6:.0f} µs (medians of {alone['n']})")  # fmt: skip
    apart = parts_in_two_processes(widths, x[:batch_size], batch_size)
    print("  the same in two processes at once (no interpreter lock between them), each its own model: a half-batch "
          + " and ".join(f"{r['half'] * 1e6:.0f}" for r in apart) + " µs, the whole update "
          + " and ".join(f"{r['update'] * 1e6:.0f}" for r in apart) + " µs")  # fmt: skip
    vector_mb = fit.model.params.nbytes / 1e6
    print(f"  memory: Adam's update reads and writes ~9 vectors of {vector_mb:.2f} MB a step (the parameters, both "
          f"halves' gradients, the two moments: read; the parameters, the summed gradient, the moments: written); "
          f"this machine copies {copy_rate(1):.1f} GB/s on one thread, {copy_rate(2):.1f} GB/s on two")  # fmt: skip
    print(f"  load avg {os.getloadavg()[0]:.2f}")


def copy_rate(threads: int, mb: int = 64, repeats: int = 5) -> float:
    """GB/s moved (read + written) by ``threads`` threads each copying its own ``mb`` MB float32 array: best of
    ``repeats`` (NumPy releases the GIL while it copies)."""
    pairs = [(np.ones(mb * 250_000, np.float32), np.empty(mb * 250_000, np.float32)) for _ in range(threads)]
    best = float("inf")
    for _ in range(repeats):
        workers = [threading.Thread(target=np.copyto, args=(dst, src)) for src, dst in pairs]
        start = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        best = min(best, time.perf_counter() - start)
    return 2 * mb * threads / 1e3 / best


def parts_in_two_processes(widths: list[int], x_u8: np.ndarray, batch_size: int) -> list[dict[str, float]]:
    """``serial_parts`` run at the same moment in two fresh processes (spawned, each with one BLAS thread and its
    own copy of the model): what the two cores give the step's parts when no interpreter lock is shared."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_parts_in_a_process, args=(widths, x_u8, batch_size, barrier, results))
               for _ in range(2)]  # fmt: skip
    for worker in workers:
        worker.start()
    apart = [results.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join()
    return apart


def _parts_in_a_process(widths, x_u8, batch_size, barrier, results) -> None:
    with steps.using_blas_threads(1):
        model = build_mlp(widths, activations(widths), seed=0)
        serial_parts(model, x_u8, batch_size, repeats=20)  # warm-up
        barrier.wait()  # both processes time the same moments
        results.put(serial_parts(model, x_u8, batch_size))


def serial_parts(model, x_u8: np.ndarray, batch_size: int, repeats: int = 200) -> dict[str, float]:
    """Median seconds of one half-batch's forward, loss and backward, and of Adam's whole update, on this thread."""
    from engine.losses import get_loss
    from engine.optimizers import get_optimizer

    half = batch_size // 2
    clean = x_u8[:half].astype(np.float32) / 255
    noisy = np.clip(clean + np.float32(SIGMA) * np.random.default_rng(0).standard_normal(clean.shape, np.float32), 0, 1)
    step, optimizer = steps.SerialStep(model, get_loss("mse"), half), get_optimizer("adam", LR)
    half_s, update_s = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        step.gradients(noisy, clean)
        middle = time.perf_counter()
        step.update(optimizer)
        half_s.append(middle - start)
        update_s.append(time.perf_counter() - middle)
    return {"half": statistics.median(half_s), "update": statistics.median(update_s), "n": repeats}


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
            for name in list(runs) if round_ % 2 == 0 else list(runs)[::-1]:  # ABBA: neither side always first
                Trainer.float_errors = settings[name]
                seconds[name] += runs[name].run(args.epochs)
        Trainer.float_errors = settings["silenced"]
        rate = {name: len(x) / statistics.median(s) for name, s in seconds.items()}
        print(
            f"  {label(widths, bs):<24} silenced {rate['silenced']:>9,.0f}   defaults {rate['defaults']:>9,.0f}   "
            f"silenced / defaults {rate['silenced'] / rate['defaults']:.3f}   load avg {os.getloadavg()[0]:.2f}"
        )
        sys.stdout.flush()


STEP_KIND_CASES = [([784, 10, 784], [128, 256, 512]), ([784, 32, 784], [128, 256]), ([784, 64, 784], [128, 256]),
                   ([784, 100, 784], [64, 128, 256]), ([784, 256, 784], [128]), (LARGE, [32, 128])]  # fmt: skip


def step_kinds_comparison(args) -> None:
    """One step (gradients and Adam's update on a fixed random batch: no data loading) of each model and batch,
    serial, data-parallel on a worker thread and in a worker process, each layer's units split between two processes
    (and the same in this process alone: what it does when the other core is busy), interleaved; median ms of 200
    steps."""
    from engine.losses import MSE
    from engine.optimizers import Adam
    from engine.steps import DataParallelStep, ProcessParallelStep, SerialStep
    from engine.subnormals import flush_subnormals
    from engine.tensor_parallel import TensorParallelStep
    from engine.training import make_step

    kinds = {"serial": lambda m, o, b: SerialStep(m, MSE(), b),
             "halves": lambda m, o, b: DataParallelStep(m, MSE(), b, threads=1),
             "thread": lambda m, o, b: DataParallelStep(m, MSE(), b),
             "process": lambda m, o, b: ProcessParallelStep(m, MSE(), b, o),
             "units-1": lambda m, o, b: TensorParallelStep(m, MSE(), b, o, processes=1),
             "units": lambda m, o, b: TensorParallelStep(m, MSE(), b, o)}  # fmt: skip

    def step_ms(widths: list[int], batch: int, kind: str, count: int = 200) -> float:
        rng = np.random.default_rng(0)
        noisy, clean = (rng.random((batch, widths[0]), dtype=np.float32) for _ in range(2))
        model, optimizer, times = build_mlp(widths, activations(widths), seed=0), Adam(LR), []
        with flush_subnormals(), kinds[kind](model, optimizer, batch) as step:
            if kind in ("process", "units"):
                step.wait_until_ready(60)
            for _ in range(count):
                started = time.perf_counter()
                step.gradients(noisy, clean)
                step.update(optimizer)
                times.append(time.perf_counter() - started)
        return statistics.median(times[count // 4 :]) * 1e3

    print(f"one step, ms (median of 200 after 50; {args.rounds} round(s), best of them; BLAS on 1 thread); halves: "
          f"the data-parallel step's two halves one after the other on this thread (what it does when the other "
          f"core is busy); units: each layer's units split between two processes, units-1: both shares in this "
          f"process (when the other core is busy); the engine's choice marked *:")  # fmt: skip
    print(f"  {'model':<20} {'batch':>5} {'MACs':>7} " + " ".join(f"{kind:>8}" for kind in kinds)
          + "  serial/units")  # fmt: skip
    with steps.using_blas_threads(1):
        for widths, batches in STEP_KIND_CASES:
            for batch in batches:
                model = build_mlp(widths, activations(widths), seed=0)
                times: dict[str, list[float]] = {kind: [] for kind in kinds}
                for round_ in range(args.rounds):  # the kinds interleaved, each round in the other order
                    for kind in list(kinds) if round_ % 2 == 0 else list(kinds)[::-1]:
                        times[kind].append(step_ms(widths, batch, kind))
                best = {kind: min(t) for kind, t in times.items()}
                chosen = make_step(model, MSE(), batch, optimizer=Adam())
                pick = {SerialStep: "serial", DataParallelStep: "thread", ProcessParallelStep: "process",
                        TensorParallelStep: "units"}[type(chosen)]  # fmt: skip
                cells = " ".join(f"{best[k]:>7.3f}{'*' if k == pick else ' '}" for k in kinds)
                print(f"  {'-'.join(map(str, widths)):<20} {batch:>5} {model.n_params * batch / 1e6:>6.1f}M {cells}"
                      f"  {best['serial'] / best['units']:.2f}x", flush=True)  # fmt: skip
    print(f"  load avg {os.getloadavg()[0]:.2f}")


def timed(work) -> float:
    """Seconds ``work()`` took."""
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def subnormals_comparison(args, cases: list[int]) -> None:
    """The trainer taking subnormal numbers as zero (now) against IEEE's gradual underflow (before), epoch by epoch
    of one run each (Adam's moments reach the subnormal range after ~800 steps): alternating in this process."""
    print(f"\nengine, subnormal numbers taken as zero (now) against kept (before), img/s of each epoch of a "
          f"{args.epochs}-epoch run (median of {args.rounds} runs each, alternating ABBA); "
          f"flushing supported here: {subnormals.supported()}")  # fmt: skip
    x = np.ascontiguousarray(
        Dataset(train_size=args.train_size, test_size=1, batch_size=1, data_dir=args.data, progress=False).train_u8
    )
    tiny = np.full(1_000_000, 1e-39, np.float32)  # subnormal
    for flush in (False, True):
        with subnormals.flush_subnormals(flush):
            best = min(timed(lambda: tiny * np.float32(0.9)) for _ in range(20))
        print(f"  a million subnormal float32 multiplied, {'taken as zero' if flush else 'kept'}: {best * 1e3:.2f} ms")
    for widths, bs in (CASES[i] for i in cases):
        seconds: dict[bool, list[list[float]]] = {True: [], False: []}
        for round_ in range(args.rounds):
            for flush in (True, False) if round_ % 2 == 0 else (False, True):
                Trainer.flush_subnormals = flush
                fit = EngineFit(widths, bs, x)
                seconds[flush].append(fit.run(args.epochs))
                if not flush and round_ == 0:
                    moments, grads = fit.trainer.optimizer.m_sum, fit.model.grads
                    small = np.count_nonzero((moments != 0) & (np.abs(moments) < np.finfo(np.float32).tiny))
                    print(f"  {label(widths, bs)}, kept: after {args.epochs} epochs {small:,} of Adam's "
                          f"{moments.size:,} first moments are subnormal; {np.count_nonzero(grads == 0):,} of the "
                          f"last batch's gradients are zero")  # fmt: skip
        Trainer.flush_subnormals = True
        for epoch in range(args.epochs):
            rate = {f: len(x) / statistics.median(run[epoch] for run in runs) for f, runs in seconds.items()}
            print(f"  {label(widths, bs):<24} epoch {epoch + 1}: flushed {rate[True]:>9,.0f}   kept "
                  f"{rate[False]:>9,.0f}   flushed / kept {rate[True] / rate[False]:.3f}")  # fmt: skip
        print(f"  load avg {os.getloadavg()[0]:.2f}")
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
