"""The runs database's costs: recording's cost to training speed, and listing 10,000 runs.

Recording: the engine trains the full MNIST training set (``MLP.fit``, Adam, σ 0.5, a validation set of 10,000
test images scored every epoch, as the CLI and the app do) with and without a ``RunRecorder`` (the database in a
temporary folder), alternating ABBA in this one process for ``--rounds`` rounds, so a busy moment on the shared
machine hits both sides.  Images/s are over whole epochs (the Trainer's own per-epoch logs; median, and the min-max
spread of each side's epochs): the recorder's whole cost (its per-batch curve, its per-epoch write) falls inside
them.  On a busy machine that spread swamps any difference, so the recorder's own cost is measured too: the CPU time
its hooks take on the training thread, against the CPU time of the epochs it recorded.

Listing: a database of 10,000 runs (each with its settings, versions, 10 epochs and a 1,024-point curve, as a real
run records) is made in a temporary folder; timed are ``RunStore.runs()`` for all of them (what a table view
loads), and ``denoise-studio runs`` as a user types it (a fresh process: interpreter and imports included), with
the default limit, with ``--limit 0`` (all 10,000 rows) and ``--json --limit 0``, each the median of ``--repeats``.

    .venv/bin/python bench/runs_db.py [--rounds 4] [--repeats 5] [--only recording|listing]

Like ``bench/train_speed.py`` it re-executes itself without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE and prints the
BLAS kernel and threads it ran with; the load (``os.getloadavg``) is printed before and after.
"""

from __future__ import annotations

import os
import sys

_STRIPPED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if any(k in os.environ for k in _STRIPPED) and not os.environ.get("_DS_RUNS_BENCH_CHILD"):
    _env = {k: v for k, v in os.environ.items() if k not in _STRIPPED}
    _env["_DS_RUNS_BENCH_CHILD"] = "1"
    os.execve(sys.executable, [sys.executable, *sys.argv], _env)

import argparse  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fake_runs import make_runs  # noqa: E402 (beside this file)

from engine.callbacks import Callback  # noqa: E402
from engine.dataset import Dataset  # noqa: E402
from engine.nn import build_mlp  # noqa: E402
from engine.runs import RunRecorder, RunStore  # noqa: E402

CASES = [([784, 10, 784], 32), ([784, 10, 784], 128), ([784, 256, 64, 256, 784], 128)]
N_RUNS = 10_000


def _activations(widths: list[int]) -> list[str]:
    return ["relu"] * (len(widths) - 2) + ["sigmoid"]


class EpochCpu(Callback):
    """Process CPU seconds of each epoch (every thread of the process: a data-parallel step's too)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch):
        self._t0 = time.process_time()

    def on_epoch_end(self, epoch, logs):
        self.seconds.append(time.process_time() - self._t0)


class TimedRecorder(RunRecorder):
    """The recorder, with the CPU time its hooks take on the training thread added up (``spent``)."""

    spent = 0.0

    def _timed(hook):
        def timed(self, *args):
            started = time.thread_time()
            try:
                return hook(self, *args)
            finally:
                self.spent += time.thread_time() - started

        return timed

    on_train_begin = _timed(RunRecorder.on_train_begin)
    on_batch_end = _timed(RunRecorder.on_batch_end)
    on_epoch_end = _timed(RunRecorder.on_epoch_end)
    on_train_end = _timed(RunRecorder.on_train_end)


def train_once(widths, batch_size, data: Dataset, database: Path | None, epochs: int) -> tuple[list, list, float]:
    """One run, recorded into ``database`` (None: not recorded): (images/s of each epoch, CPU seconds of each
    epoch, CPU seconds inside the recorder's hooks)."""
    model = build_mlp(widths, _activations(widths), seed=0)
    cpu = EpochCpu()
    recorder = TimedRecorder(database, source="bench") if database is not None else None
    history = model.fit(data.train_u8, data.test_u8, epochs=epochs, batch_size=batch_size, noise=0.5,
                        callbacks=[cpu, *([recorder] if recorder else [])])  # fmt: skip
    return [e["samples_per_s"] for e in history.epochs], cpu.seconds, recorder.spent if recorder else 0.0


def recording(args, folder: Path) -> None:
    data = Dataset("mnist", train_size=None, test_size=10000, batch_size=128)
    print(f"training set {len(data.train_u8)} images, validation {len(data.test_u8)} images, σ 0.5, Adam; "
          f"{args.rounds} ABBA rounds of {args.epochs}-epoch runs")  # fmt: skip
    print("| model, batch | img/s without recording | img/s with | with / without | recorder's CPU an epoch | "
          "its share of the epoch's CPU |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for widths, batch in CASES:
        rates: dict[bool, list[float]] = {False: [], True: []}
        cpu, spent = [], 0.0
        database = folder / f"recording-{len(widths)}-{batch}.db"
        train_once(widths, batch, data, None, 1)  # warm-up: buffers, BLAS, caches
        for round_ in range(args.rounds):
            for on in (False, True) if round_ % 2 == 0 else (True, False):  # ABBA
                epoch_rates, epoch_cpu, hooks = train_once(widths, batch, data, database if on else None, args.epochs)
                rates[on] += epoch_rates
                if on:
                    cpu += epoch_cpu
                    spent += hooks
        off, on = statistics.median(rates[False]), statistics.median(rates[True])
        name = "-".join(map(str, widths))
        per_epoch = spent / len(cpu)
        print(f"| {name}, {batch} | {off / 1e3:.0f}k ({min(rates[False]) / 1e3:.0f}k–{max(rates[False]) / 1e3:.0f}k) "
              f"| {on / 1e3:.0f}k ({min(rates[True]) / 1e3:.0f}k–{max(rates[True]) / 1e3:.0f}k) | {on / off:.2f} | "
              f"{per_epoch * 1e3:.1f} ms | {spent / sum(cpu):.2%} |", flush=True)  # fmt: skip
        with RunStore(database) as store:
            assert store.count() == args.rounds and all(r.status == "finished" for r in store.runs())


def median_seconds(work, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def listing(args, folder: Path) -> None:
    path = folder / "runs-10000.db"
    started = time.perf_counter()
    make_runs(path, N_RUNS)
    print(f"made {N_RUNS:,} runs in {time.perf_counter() - started:.1f} s; the file: "
          f"{path.stat().st_size / 1e6:.1f} MB")  # fmt: skip

    def load_all():
        with RunStore(path) as store:
            assert len(store.runs()) == N_RUNS

    print(f"RunStore.runs(), all {N_RUNS:,}: {median_seconds(load_all, args.repeats) * 1e3:.0f} ms (median)")
    env = {**os.environ, "DENOISE_STUDIO_RUNS": str(path), "PYTHONPATH": str(REPO)}
    for extra in ([], ["--limit", "0"], ["--json", "--limit", "0"], ["--version"]):
        command = [sys.executable, "-m", "engine", *(["runs"] if extra != ["--version"] else []), *extra]

        def once(command=command):
            subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True)

        what = "denoise-studio " + " ".join(command[3:])
        note = " (interpreter and imports alone)" if extra == ["--version"] else ""
        print(f"{what}: {median_seconds(once, args.repeats) * 1e3:.0f} ms (median, a fresh process){note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="ABBA rounds of the recording comparison")
    parser.add_argument("--epochs", type=int, default=2, help="epochs a run")
    parser.add_argument("--repeats", type=int, default=5, help="timings of each listing")
    parser.add_argument("--only", choices=["recording", "listing"])
    args = parser.parse_args()
    from threadpoolctl import threadpool_info

    blas = [f"{i['internal_api']} {i['version']} {i.get('architecture')} ({i['num_threads']} threads)"
            for i in threadpool_info() if i["user_api"] == "blas"]  # fmt: skip
    print(f"BLAS: {'; '.join(blas)}; training uses 1 BLAS thread (engine.training.Trainer.blas_threads)")
    print(f"load before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="runs-bench-") as folder:
        if args.only in (None, "recording"):
            recording(args, Path(folder))
        if args.only in (None, "listing"):
            listing(args, Path(folder))
    print(f"load after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
