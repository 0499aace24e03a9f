"""Where the large model's split step loses to a serial step when another program keeps a core busy.

``bench/train_speed.py --contended`` gives the whole figure. This script takes it apart, in four parts:

1. ``trainer``: ``Trainer.fit`` of 784-256-64-256-784 (batch 128, 4 epochs of real MNIST) with another process
   spinning on one core, the engine's default step against serial steps, alternating. Each step is timed, and
   whether the contention policy ran it alone is noted. The output has the tries of the worker (how many steps,
   when, what they cost), a step alone against a serial step, and each epoch.
2. ``parts``: the step run alone (``TensorParallelStep(processes=1)``) taken apart, against a serial step, in this
   process (quiet).
3. ``spin``: steps that always meet the worker (``Contention.never()``), quiet and with a spinning process, with
   both processes spinning ``SPIN_S`` before they sleep (as shipped) and with no spinning. The worker gets no
   spinning through a ``sitecustomize`` on its path.
4. ``start``: how long the split step takes to begin, and until its worker process is ready to take parts (until
   then the trainer runs them all), quiet and with a spinning process.

    DENOISE_STUDIO_DATA=../shared/data/mnist .venv/bin/python bench/step_alone.py [--part trainer|parts|spin|start]

The process drops OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, as ``train_speed.py`` does (importing it does that),
and prints the BLAS it ran with.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import train_speed  # beside this file; re-runs this script without the OpenBLAS variables

from engine import steps, training
from engine.contention import Contention
from engine.losses import MSE
from engine.nn import build_mlp
from engine.optimizers import Adam
from engine.subnormals import flush_subnormals
from engine.tensor_parallel import CHECK_AFTER_STEPS, TensorParallelStep

WIDTHS, BATCH = train_speed.LARGE, 128


@contextlib.contextmanager
def spinning_process() -> Iterator[None]:
    """Another program busy on one core for the ``with``."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        spinner.kill()
        spinner.wait()


def trainer_under_contention(epochs: int, rounds: int, data: str | None) -> None:
    from engine.dataset import Dataset

    x = np.ascontiguousarray(Dataset(train_size=60_000, test_size=1, batch_size=1, data_dir=data,
                                     progress=False).train_u8)  # fmt: skip
    timed_steps: list[tuple[float, bool]] = []
    train_step = training.Trainer.train_step

    def timed(trainer, step, *args, **kwargs):
        contention = getattr(step, "_contention", None)  # (a bench may look inside: no test does)
        alone = bool(contention is not None and contention.alone)  # (this step's: after it, the next one's)
        started = time.perf_counter()
        loss = train_step(trainer, step, *args, **kwargs)
        timed_steps.append((time.perf_counter() - started, alone))
        return loss

    print(f"1. Trainer.fit, {train_speed.label(WIDTHS, BATCH)}, {epochs} epochs, another process spinning on one "
          "core:")  # fmt: skip
    training.Trainer.train_step = timed
    rows = []
    try:
        with spinning_process():
            for _ in range(rounds):
                for parallel in (None, False):
                    timed_steps.clear()
                    seconds = train_speed.EngineFit(WIDTHS, BATCH, x, parallel=parallel).run(epochs)
                    rows.append((parallel, list(timed_steps), seconds))
    finally:
        training.Trainer.train_step = train_step
    for parallel, record, seconds in rows:
        times = np.array([t for t, _ in record]) * 1e3
        alone = np.array([a for _, a in record])
        epochs_text = " / ".join(f"{len(x) / s:,.0f}" for s in seconds)
        if parallel is None:
            tries = np.flatnonzero(~alone)
            print(f"  split by units: steps alone {alone.sum()} of {len(alone)}, a step alone {times[alone].mean():.2f}"
                  f" ms (mean); tries {len(tries)} steps, {times[~alone].sum() / 1e3:.2f} s in all, at steps "
                  f"{_spans(tries)}; epochs {epochs_text} img/s")  # fmt: skip
        else:
            print(f"  serial:         a step {times.mean():.2f} ms (mean); epochs {epochs_text} img/s")


def _spans(indices: np.ndarray) -> str:
    """``[0 1 2 5 9 10]`` -> ``0-2, 5, 9-10``."""
    spans, start = [], None
    for i, index in enumerate(indices):
        if start is None:
            start = index
        if i + 1 == len(indices) or indices[i + 1] != index + 1:
            spans.append(f"{start}" if start == index else f"{start}-{index}")
            start = None
    return ", ".join(spans)


def parts_alone(count: int = 400) -> None:
    """Median µs of each part of the step alone and of a serial step, over the last 3/4 of ``count`` steps (the step
    alone's after the ``CHECK_AFTER_STEPS`` it runs before it makes its products whole)."""
    rng = np.random.default_rng(0)
    noisy = (rng.random((BATCH, WIDTHS[0])) > 0.6).astype(np.float32)
    clean = noisy.copy()
    acts = train_speed.activations(WIDTHS)
    split: dict[str, list[float]] = {}
    serial: dict[str, list[float]] = {}
    model, optimizer = build_mlp(WIDTHS, acts, seed=0), Adam(1e-3)
    with TensorParallelStep(model, MSE(), BATCH, optimizer, processes=1) as step:
        both = step._both  # (the bench times the step's own phases: no test does)
        for i in range(CHECK_AFTER_STEPS + count):
            t0 = time.perf_counter()
            step._arrays["x"][:] = noisy
            step._arrays["clean"][:] = clean
            both.bind(BATCH, False)
            t1 = time.perf_counter()
            for k in range(both.n_phases):
                both.run(k)
            t2 = time.perf_counter()
            step.update(optimizer)
            t3 = time.perf_counter()
            for name, seconds in (("the batch copied in", t1 - t0), ("forward, loss, backward", t2 - t1),
                                  ("Adam's update", t3 - t2), ("the whole step", t3 - t0)):  # fmt: skip
                if i >= CHECK_AFTER_STEPS:
                    split.setdefault(name, []).append(seconds)
    model, optimizer, loss = build_mlp(WIDTHS, acts, seed=0), Adam(1e-3), MSE()
    grad_buf = np.empty((BATCH, WIDTHS[-1]), np.float32)
    for _ in range(count):
        t0 = time.perf_counter()
        _, grad = loss.value_and_grad(model.forward(noisy), clean, out=grad_buf, scale=1.0)
        model.backward(grad)
        t1 = time.perf_counter()
        optimizer.step(model.params, model.grads)
        t2 = time.perf_counter()
        for name, seconds in (("forward, loss, backward", t1 - t0), ("Adam's update", t2 - t1),
                              ("the whole step", t2 - t0)):  # fmt: skip
            serial.setdefault(name, []).append(seconds)
    print(f"2. one step of {train_speed.label(WIDTHS, BATCH)} in this process, quiet, median µs of the last "
          f"{count - count // 4}:")  # fmt: skip
    print(f"  {'part':<26}{'split, alone':>14}{'serial':>10}")
    for name, times in split.items():
        other = serial.get(name)
        median = statistics.median(times[count // 4 :]) * 1e6
        print(f"  {name:<26}{median:>14.0f}{statistics.median(other[count // 4 :]) * 1e6 if other else 0:>10.0f}")


def spin_comparison(count: int = 300) -> None:
    """Steps that always meet the worker, quiet and contended, spinning as shipped and not at all."""
    print(f"3. {train_speed.label(WIDTHS, BATCH)} split by units, every step with the worker, {count} steps, ms:")
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "sitecustomize.py").write_text(textwrap.dedent("""
            import engine.tensor_parallel
            engine.tensor_parallel.SPIN_S = 0.0  # the worker waits by sleeping at once
        """))
        for contended in (False, True):
            for spin in (True, False):
                times = _steps_with_worker(count, spin, folder, contended)
                print(f"  {'another process spinning' if contended else 'quiet':<26}"
                      f"{'spinning 1 ms' if spin else 'no spinning':<15} median {statistics.median(times):.2f}, "
                      f"mean {statistics.mean(times):.2f}")  # fmt: skip


def _steps_with_worker(count: int, spin: bool, no_spin_path: str, contended: bool) -> list[float]:
    import engine.tensor_parallel as tensor_parallel

    rng = np.random.default_rng(0)
    noisy, clean = (rng.random((BATCH, WIDTHS[0]), dtype=np.float32) for _ in range(2))
    model, optimizer = build_mlp(WIDTHS, train_speed.activations(WIDTHS), seed=0), Adam(1e-3)
    shipped, path = tensor_parallel.SPIN_S, os.environ.get("PYTHONPATH")
    if not spin:
        tensor_parallel.SPIN_S = 0.0
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [no_spin_path, path]))
    times = []
    try:
        with (spinning_process() if contended else contextlib.nullcontext(),
              TensorParallelStep(model, MSE(), BATCH, optimizer, contention=Contention.never()) as step):  # fmt: skip
            step.wait_until_ready(60)
            for _ in range(count + 1):
                started = time.perf_counter()
                step.gradients(noisy, clean)
                step.update(optimizer)
                times.append((time.perf_counter() - started) * 1e3)
    finally:
        tensor_parallel.SPIN_S = shipped
        if path is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = path
    return times[1:]  # (the first: the worker's first part)


def worker_start(count: int = 6) -> None:
    """How long a split step takes to begin (its shared memory, the worker process started) and until its worker is
    ready to take parts (until then the trainer runs every part), quiet and with another process busy on one core."""
    print(f"4. a {train_speed.label(WIDTHS, BATCH)} step split by units, from its start, {count} times each, ms:")
    for busy in (False, True):
        begun, ready = [], []
        with spinning_process() if busy else contextlib.nullcontext():
            for _ in range(count):
                model, optimizer = build_mlp(WIDTHS, train_speed.activations(WIDTHS), seed=0), Adam(1e-3)
                started = time.perf_counter()
                with TensorParallelStep(model, MSE(), BATCH, optimizer) as step:
                    begun.append((time.perf_counter() - started) * 1e3)
                    if not step.wait_until_ready(120.0):
                        raise RuntimeError("the worker process did not start")
                    ready.append((time.perf_counter() - started) * 1e3)
        print(f"  {'another process busy on one core' if busy else 'quiet':<34} begun "
              f"{', '.join(f'{t:.0f}' for t in begun)}; the worker ready {', '.join(f'{t:.0f}' for t in ready)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("trainer", "parts", "spin", "start"), action="append",
                        help="only these parts (default: all four)")  # fmt: skip
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--data", default=os.environ.get("DENOISE_STUDIO_DATA"))
    args = parser.parse_args()
    parts = args.part or ["trainer", "parts", "spin", "start"]
    print(f"BLAS: {train_speed.blas_description()}; load avg {os.getloadavg()[0]:.2f}")
    with steps.using_blas_threads(1), flush_subnormals():
        if "trainer" in parts:
            trainer_under_contention(args.epochs, args.rounds, args.data)
        if "parts" in parts:
            parts_alone()
        if "spin" in parts:
            spin_comparison()
        if "start" in parts:
            worker_start()
    print(f"load avg {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
