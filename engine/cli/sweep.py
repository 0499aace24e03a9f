"""``denoise-studio sweep``: a grid of training runs from one command, each cell a recorded run and a model file.

Repeat a setting to vary it (``--layers A --layers B --noise 0.1 --noise 0:0.8 --lr 1e-3 --lr 3e-3``);
``--seeds N`` repeats every cell with N seeds.  Each cell is a ``train`` run (the same checks, checkpoint
and atomic save) in a worker process (``concurrent.futures``, ``--jobs`` at a time; with more than one,
each trains on one thread and its BLAS on one thread), recorded in the runs database with its sweep, its
model in ``-o DIR`` named after the settings that vary.  One progress display shows the cells done, the
running cells' epochs and the time left.

Ctrl-C (or SIGTERM) stops every running cell after its current batch and starts no more; finished cells
are kept, and the same command with ``--resume`` runs only the cells not finished.  A cell that fails is
recorded as failed, with why, and the sweep goes on.  At the end: a table of the cells, best first.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import multiprocessing
import shlex
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing.managers import SyncManager
from pathlib import Path

from threadpoolctl import threadpool_limits
from tqdm import tqdm

from engine.callbacks import Callback, SerialSteps
from engine.cli.arguments import (
    DATASET_CHOICES,
    EXIT_FAILURE,
    EXIT_OK,
    KIND_CHOICES,
    UsageError,
    check_writable_output,
    flag_text,
    parse_layers,
    parse_noise,
)
from engine.cli.recording import add_recording_arguments
from engine.cli.run_tables import duration, number, table
from engine.cli.train import DEFAULT_TEST_SIZE, DEFAULT_TRAIN_SIZE
from engine.cli.train import add_arguments as add_train_arguments
from engine.cli.train import run as run_train
from engine.optimizers import OPTIMIZERS
from engine.runs import RunRecorder, RunsDatabaseError, RunStore
from engine.runs.grid import Cell, grid_key, make_grid
from engine.training import TrainConfig

NAME, HELP = "sweep", "train a grid of settings (repeat --layers, --noise, --lr, ...), each cell a recorded run"
PROGRESS_EVERY_S = 0.25
"""A worker reports its cell's position (and looks for a stop) at most this often."""
SIGNAL_CHECK_S = 0.1
"""How often the sweep's loop looks for a Ctrl-C between cells' ends (``_StopOnSignal.act``)."""
STATUS_ORDER = ("finished", "stopped", "diverged", "failed", "crashed", "running", "not run")


def add_arguments(sweep: argparse.ArgumentParser) -> None:
    grid = sweep.add_argument_group("the grid (repeat an option to vary it; every combination is a cell)")
    grid.add_argument("--layers", action="append", help="e.g. 784:10:relu,784:sigmoid")
    grid.add_argument("--noise", action="append", help="a level such as 0.3, or a range low:high such as 0:0.8")
    grid.add_argument("--noise-kind", action="append", choices=KIND_CHOICES)
    grid.add_argument("--lr", action="append", help="learning rate")
    grid.add_argument("--optimizer", action="append", choices=sorted(OPTIMIZERS))
    grid.add_argument("--momentum", action="append", help="SGD momentum")
    grid.add_argument("--batch-size", action="append")
    grid.add_argument("--epochs", action="append")
    grid.add_argument("--loss", action="append", choices=["mse", "bce"])
    grid.add_argument("--dataset", action="append", choices=DATASET_CHOICES)
    grid.add_argument("--seeds", type=int, default=1, help="repeat every cell with this many seeds (default 1)")
    grid.add_argument("--seed", type=int, default=0, help="the first seed (default 0)")
    sweep.add_argument("--train-size", type=int, default=DEFAULT_TRAIN_SIZE)
    sweep.add_argument("--test-size", type=int, default=DEFAULT_TEST_SIZE)
    sweep.add_argument("--data", help="the data set's folder (as for train)")
    sweep.add_argument("--output-dir", "-o", required=True, metavar="DIR",
                       help="where the cells' models go, each named after its settings")  # fmt: skip
    sweep.add_argument("--jobs", "-j", type=int, default=1,
                       help="cells trained at once, each in its own process on one thread (default 1: a large "
                       "model's step already uses both cores)")  # fmt: skip
    sweep.add_argument("--resume", action="store_true", help="continue the last sweep of this grid: skip its "
                       "finished cells")  # fmt: skip
    sweep.add_argument("--quiet", action="store_true", help="no progress display, just the summary")
    add_recording_arguments(sweep, record=False)


@dataclass
class CellResult:
    """How a cell ended, as the worker saw it (the database holds the rest)."""

    index: int
    status: str
    run_id: int | None = None
    seconds: float = 0.0
    scores: dict = field(default_factory=dict)
    model: str | None = None
    reason: str | None = None
    warning: str | None = None


@dataclass
class _CellTask:
    """What a worker needs to train one cell (picklable: it crosses to the worker process)."""

    cell: Cell
    argv: list[str]
    database: str | None
    sweep_id: int | None
    serial: bool
    progress: object  # a manager's Queue proxy: (what, cell index, ...) tuples for the display
    stop: object  # a manager's Event proxy: set once the sweep is stopping


def run(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise UsageError(f"--jobs must be 1 or more, got {args.jobs}")
    if args.seeds < 1 or args.seed < 0:
        raise UsageError("--seeds must be 1 or more and --seed 0 or more")
    cells, shared = _grid(args)
    output_dir = Path(args.output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise UsageError(f"--output-dir {output_dir} is a file; give a folder for the cells' models")
    check_writable_output(output_dir / ".probe", "--output-dir")
    command = args.command_line
    sweep_id, finished, database = _open_sweep(args, cells, shared, output_dir, command)
    todo = [c for c in cells if c.key not in finished]
    said = f"{len(cells)} cells" + (f", {len(cells) - len(todo)} finished before" if finished else "")
    title = f"sweep {sweep_id}" if sweep_id is not None else "sweep (not recorded)"
    jobs = min(args.jobs, len(todo)) or 1
    print(f"{title}: {said}; {len(todo)} to train, {jobs} at a time; models in {output_dir}", file=sys.stderr)
    tasks = [_CellTask(c, [*c.flags(), *shared, "--output", str(output_dir / f"{c.name}.npz"), "--quiet"],
                       database, sweep_id, jobs > 1, None, None) for c in todo]  # fmt: skip
    epochs = {t.cell.index: _parse_cell(t.argv).epochs for t in tasks}
    results, stopped = _train_cells(tasks, jobs, epochs, quiet=args.quiet)
    return _summarize(cells, results, database, sweep_id, stopped)


# ----- the grid -------------------------------------------------------------------------------
def _grid(args: argparse.Namespace) -> tuple[list[Cell], list[str]]:
    """The cells (every value checked as ``train`` would, before anything trains) and the flags all share."""
    values = {
        "layers": [_layers_text(v) for v in args.layers or []],
        "noise": [_noise_text(v) for v in args.noise or []],
        "noise_kind": args.noise_kind or [],
        "lr": [_number_text(v, "--lr") for v in args.lr or []],
        "optimizer": args.optimizer or [],
        "momentum": [_number_text(v, "--momentum") for v in args.momentum or []],
        "batch_size": [_int_text(v, "--batch-size") for v in args.batch_size or []],
        "epochs": [_int_text(v, "--epochs") for v in args.epochs or []],
        "loss": args.loss or [],
        "dataset": args.dataset or [],
    }
    values = {axis: list(dict.fromkeys(given)) for axis, given in values.items()}  # a value given twice counts once
    cells = make_grid(values, range(args.seed, args.seed + args.seeds))
    shared = ["--train-size", str(args.train_size), "--test-size", str(args.test_size)]
    shared += ["--data", args.data] if args.data else []
    for cell in cells:
        parsed = _parse_cell([*cell.flags(), *shared])
        try:
            TrainConfig(epochs=parsed.epochs, batch_size=parsed.batch_size, lr=parsed.lr, optimizer=parsed.optimizer,
                        momentum=parsed.momentum, noise=parsed.noise, seed=parsed.seed, loss=parsed.loss,
                        noise_kind=parsed.noise_kind)  # fmt: skip
        except (TypeError, ValueError) as exc:
            raise UsageError(f"cell {cell.key}: {exc}") from None
    if not 1 <= args.train_size <= 60000 or not 1 <= args.test_size <= 10000:
        raise UsageError("--train-size must be between 1 and 60000, --test-size between 1 and 10000")
    return cells, shared


def _parse_cell(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="denoise-studio train", add_help=False)
    add_train_arguments(parser)
    try:
        return parser.parse_args(argv)
    except SystemExit:
        raise UsageError(f"not valid train arguments: {shlex.join(argv)}") from None


def _layers_text(text: str) -> str:
    widths, activations = parse_layers(text)
    items = [f"{widths[0]}:{widths[1]}:{activations[0]}"] + [
        f"{w}:{a}" for w, a in zip(widths[2:], activations[1:], strict=True)
    ]
    return ",".join(items)


def _noise_text(text: str) -> str:
    try:
        value = parse_noise(text)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"--noise: {exc}") from None
    return flag_text(tuple(_exact(v) for v in value)) if isinstance(value, tuple) else _exact(value)


def _number_text(text: str, flag: str) -> str:
    try:
        return _exact(float(text))
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a number") from None


def _int_text(text: str, flag: str) -> str:
    try:
        return str(int(text))
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a whole number") from None


def _exact(value: float) -> str:
    """The shortest text that reads back as exactly ``value`` (``0.003``, not ``0.0030000000000000001``)."""
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


# ----- the sweep in the database ----------------------------------------------------------------
def _open_sweep(args, cells: list[Cell], shared: list[str], output_dir: Path, command: str):
    """(sweep id, keys of the cells already finished, the database's path), or (None, set(), None) when the database
    cannot be used: the sweep then runs unrecorded (said once), except ``--resume``, which needs it."""
    key = grid_key(cells, {"shared": shared}, str(output_dir.resolve()))
    try:
        with RunStore(args.runs_db) as store:
            if args.resume:
                sweep_id = store.find_sweep(key)
                if sweep_id is None:
                    raise UsageError(f"--resume: {store.path} holds no earlier sweep of this grid into {output_dir} "
                                     "(the same options); run it without --resume")  # fmt: skip
                finished = {cell for cell, run in store.sweep_cells(sweep_id).items() if _kept(run)}
            else:
                grid = {"cells": [c.settings for c in cells], "shared": shared}
                sweep_id, finished = store.add_sweep(grid_key=key, grid=grid, output_dir=str(output_dir.resolve()),
                                                     command=command), set()  # fmt: skip
            return sweep_id, finished, str(store.path)
    except RunsDatabaseError as exc:
        if args.resume:
            raise
        print(f"warning: {exc} — the sweep's runs are not recorded (the sweep goes on)", file=sys.stderr)
        return None, set(), None


def _kept(run) -> bool:
    """A cell ``--resume`` skips: finished, its model still on disk."""
    return run.status == "finished" and bool(run.model_path) and Path(run.model_path).is_file()


# ----- training the cells ------------------------------------------------------------------------
def _train_cells(tasks: list[_CellTask], jobs: int, epochs: dict[int, int], *, quiet: bool):
    """Train every task on ``jobs`` worker processes; returns ({cell index: CellResult}, whether it was stopped)."""
    results: dict[int, CellResult] = {}
    if not tasks:
        return results, False
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads or locks forked mid-use
    manager = SyncManager(ctx=context)
    manager.start(_ignore_interrupts)  # Ctrl-C goes to the whole process group; the sweep decides what stops
    display = None
    try:
        progress, stop = manager.Queue(), manager.Event()
        display = _Display(progress, [t.cell for t in tasks], epochs, quiet)
        with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker, initargs=(jobs > 1,)) as pool:
            futures: dict[Future, _CellTask] = {}
            for task in tasks:
                task.progress, task.stop = progress, stop
                futures[pool.submit(_train_cell, task)] = task
            with _StopOnSignal(stop, futures, progress) as signals:
                pending = set(futures)
                while pending:
                    done, pending = wait(pending, timeout=SIGNAL_CHECK_S, return_when=FIRST_COMPLETED)
                    signals.act()
                    for future in done:
                        result = _result_of(future, futures[future])
                        results[result.index] = result
                        progress.put(("end", result.index, _result_line(futures[future].cell, result)))
        return results, signals.stopped
    finally:
        if display is not None:
            display.close()
        manager.shutdown()


def _result_of(future: Future, task: _CellTask) -> CellResult:
    if future.cancelled():
        return CellResult(task.cell.index, "not run", reason="the sweep was stopped before it began")
    try:
        return future.result()
    except Exception as exc:  # the worker process died (out of memory, killed): the cell failed, the sweep goes on
        return CellResult(task.cell.index, "failed", reason=f"its worker process died ({type(exc).__name__}: {exc})")


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _start_worker(one_thread: bool) -> None:
    """In each worker: signals ignored between cells (``train`` handles them while a cell trains); with several
    workers, BLAS and OpenMP on one thread (the cores are shared out by process)."""
    _ignore_interrupts()
    if one_thread:
        threadpool_limits(limits=1)  # stays in force for the process's life


class _Progress(Callback):
    """In the worker: tells the display where the cell is, and stops it once the sweep is stopping."""

    def __init__(self, task: _CellTask) -> None:
        self.task = task
        self._last = 0.0

    def on_train_begin(self, logs):
        self._report(("begin", self.task.cell.index, logs.get("initial_epoch", 0.0)), force=True)

    def on_batch_end(self, batch, logs):
        self._report(("at", self.task.cell.index, logs["epoch"] + logs["progress"]))

    def on_epoch_end(self, epoch, logs):
        self._report(("at", self.task.cell.index, epoch + logs.get("progress", 1.0)), force=True)

    def _report(self, message: tuple, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= PROGRESS_EVERY_S:
            self._last = now
            self.task.progress.put(message)
            if self.task.stop.is_set():
                self.trainer.stop_training = True


def _train_cell(task: _CellTask) -> CellResult:
    """Runs in a worker: the cell as a ``train`` run, recorded with its sweep; never raises."""
    cell = task.cell
    notes: list[str] = []
    recorder = RunRecorder(task.database, source="sweep", warn=notes.append,
                           links={"sweep_id": task.sweep_id, "cell": cell.key,
                                  "command": shlex.join(["denoise-studio", "train", *task.argv])})  # fmt: skip
    if task.database is None:
        recorder.failed_to_record = True  # the sweep already said why
    watchers = ([SerialSteps()] if task.serial else []) + [_Progress(task)]
    said = io.StringIO()
    started = time.monotonic()
    reason = None
    train_args = _parse_cell(task.argv)  # checked before the sweep began
    try:
        with contextlib.redirect_stderr(said):
            code = run_train(train_args, recorder=recorder, watchers=watchers)
        if code != EXIT_OK:
            reason = recorder.error or _last_error(said.getvalue())
    except KeyboardInterrupt:  # a signal before training began, or a second one during it
        began = recorder.status != "running"
        reason = (recorder.error or "aborted") if began else "stopped before it began"
        recorder.status = recorder.status if began else "not run"
    except Exception as exc:
        reason = _reason(exc)
        if recorder.status not in ("diverged", "stopped"):
            if recorder.run_id is None:  # it never began: its settings as the cell gives them
                recorder.describe(_declared_settings(train_args))
            recorder.failed(reason)  # recorded even when it could not start: a cell never vanishes
    recorder.close()
    status = recorder.status
    output = task.argv[task.argv.index("--output") + 1]
    return CellResult(cell.index, status, recorder.run_id, time.monotonic() - started, dict(recorder.scores),
                      output if status in ("finished", "stopped") and Path(output).is_file() else None,
                      reason, notes[0] if notes and task.database else None)  # fmt: skip


def _declared_settings(args: argparse.Namespace) -> dict:
    """A cell's settings as a run records them (``engine.runs.recorder.run_settings``), from its train arguments."""
    noise = list(args.noise) if isinstance(args.noise, tuple) else args.noise
    return {"layers": args.layers, "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
            "optimizer": args.optimizer, "momentum": args.momentum, "noise": noise, "seed": args.seed,
            "loss": args.loss, "noise_kind": args.noise_kind.replace("-", "_"),
            "dataset": (args.dataset or "mnist").replace("-", "_"), "train_size": args.train_size,
            "test_size": args.test_size}  # fmt: skip


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    if isinstance(exc, MemoryError):
        return "out of memory"
    return str(exc) or type(exc).__name__


def _last_error(text: str) -> str:
    lines = [line for line in text.splitlines() if line.startswith("error:")]
    return lines[-1].removeprefix("error:").strip() if lines else "train failed"


class _StopOnSignal:
    """In the sweep's process: the first Ctrl-C (or SIGTERM) stops the running cells after their batch and cancels
    the rest; a second aborts at once.

    The handler only notes the signal: ``act``, called by the sweep's loop, does the rest.  The stop event and the
    display's queue are a manager's proxies, whose calls talk over one connection a thread: a handler that called one
    while the loop was inside another (a cell's line, as a cell finished) mixed the two calls' messages on it (with a
    timer's signal, replies went to the wrong call and the connection broke), and the stop note went missing."""

    def __init__(self, stop, futures: dict[Future, _CellTask], progress) -> None:
        self.stop, self.futures, self.progress = stop, futures, progress
        self.stopped = False  # a signal came
        self._acted = False
        self._previous: dict = {}

    def __enter__(self) -> _StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for name in ("SIGINT", "SIGTERM"):
                if hasattr(signal, name):
                    sig = getattr(signal, name)
                    self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)

    def _handle(self, signum, frame) -> None:
        if self.stopped:
            raise KeyboardInterrupt
        self.stopped = True

    def act(self) -> None:
        """Once a signal has come: the running cells told to stop, the rest cancelled, the user told."""
        if not self.stopped or self._acted:
            return
        self._acted = True
        self.stop.set()
        for future in self.futures:
            future.cancel()  # those not started never start
        self.progress.put(("note", "stopping: the running cells end after their current batch; finished ones are "
                           "kept (Ctrl-C again to abort)…"))  # fmt: skip


# ----- what the user sees -------------------------------------------------------------------
class _Display:
    """One tqdm bar for the sweep, in epochs (so its time left counts every cell's length), fed from the queue by
    a thread of its own: the cells done, the running cells' epochs, a line per finished cell."""

    def __init__(self, progress, cells: list[Cell], epochs: dict[int, int], quiet: bool) -> None:
        self.progress, self.epochs, self.quiet = progress, epochs, quiet
        self.names = {c.index: c.name for c in cells}
        self.at: dict[int, float] = {}  # running cells' epochs trained here
        self.start: dict[int, float] = {}
        self.ended = 0
        self.bar = tqdm(total=sum(epochs.values()), unit="epoch", disable=quiet, dynamic_ncols=True, file=sys.stderr,
                        bar_format="{desc} |{bar}| {percentage:3.0f}% [{elapsed}<{remaining}]{postfix}")  # fmt: skip
        self._done_epochs = 0.0
        self._describe()
        self._thread = threading.Thread(target=self._follow, name="sweep-display", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.progress.put(None)
        self._thread.join()
        self.bar.close()

    def _follow(self) -> None:
        while (message := self.progress.get()) is not None:
            what, *rest = message
            if what == "note":
                self._write(rest[0])
                continue
            index, value = rest
            if what == "begin":
                self.start[index] = self.at[index] = value
            elif what == "at":
                self.at[index] = value
            elif what == "end":
                self.at.pop(index, None)
                self._done_epochs += self.epochs.get(index, 0)
                self.ended += 1
                self._write(value)
            self._describe()

    def _describe(self) -> None:
        running = [f"{self.names[i]} {at:.1f}/{self.epochs.get(i, '?')}" for i, at in sorted(self.at.items())]
        self.bar.set_description_str(f"{self.ended}/{len(self.names)} cells", refresh=False)
        self.bar.set_postfix_str(", ".join(running), refresh=False)
        self.bar.n = self._done_epochs + sum(at - self.start.get(i, 0.0) for i, at in self.at.items())
        self.bar.refresh()

    def _write(self, line: str) -> None:
        if not self.quiet:
            self.bar.write(line, file=sys.stderr)


def _result_line(cell: Cell, result: CellResult) -> str:
    mark = {"finished": "✓", "stopped": "■", "not run": "·"}.get(result.status, "✗")
    score = f" test MSE {number(result.scores['mse'])}" if result.scores.get("mse") is not None else ""
    why = f": {result.reason}" if result.reason else ""
    return f"{mark} {cell.name}: {result.status}{score} ({duration(result.seconds)}){why}"


def _summarize(cells: list[Cell], results: dict[int, CellResult], database: str | None, sweep_id: int | None,
               stopped: bool) -> int:  # fmt: skip
    """The cells best first (finished by test MSE, then the rest); exit 0 only when every cell finished."""
    rows = _summary_rows(cells, results, database, sweep_id)
    order = sorted(rows, key=lambda r: (STATUS_ORDER.index(r["status"]) if r["status"] in STATUS_ORDER else 99,
                                        r["mse"] if r["mse"] is not None else float("inf")))  # fmt: skip
    body = [[rank, r["name"], r["status"], r["run"], number(r["mse"]), number(r["psnr"], 2), number(r["noisy"]),
             duration(r["seconds"]), r["model"]] for rank, r in enumerate(order, 1)]  # fmt: skip
    print(table(["#", "cell", "status", "run", "test MSE", "PSNR dB", "noisy input", "time", "model"], body,
                right=(0, 3, 4, 5, 6, 7)))  # fmt: skip
    for r in order:
        if r["status"] not in ("finished", "stopped", "not run") and r["reason"]:
            print(f"{r['name']}: {r['status']}: {r['reason']}", file=sys.stderr)
    warnings = {r.warning for r in results.values() if r.warning}
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    tally = ", ".join(f"{n} {status}" for status, n in sorted(counts.items(), key=lambda kv: STATUS_ORDER.index(
        kv[0]) if kv[0] in STATUS_ORDER else 99))  # fmt: skip
    name = f"sweep {sweep_id}" if sweep_id is not None else "sweep"
    print(f"{name}: {len(cells)} cells, {tally}", file=sys.stderr)
    if stopped or counts.get("finished", 0) < len(cells):
        print("the same command with --resume trains the cells not finished", file=sys.stderr)
    if sweep_id is not None and counts.get("finished", 0) > 1:
        print(f"compare them: denoise-studio runs compare --sweep {sweep_id}", file=sys.stderr)
    return EXIT_OK if counts.get("finished", 0) == len(cells) else EXIT_FAILURE


def _summary_rows(cells: list[Cell], results: dict[int, CellResult], database, sweep_id) -> list[dict]:
    """A row a cell: its newest run in the database (earlier sessions' cells too), else this session's result."""
    recorded = {}
    if database is not None and sweep_id is not None:
        with contextlib.suppress(RunsDatabaseError), RunStore(database) as store:
            recorded = store.sweep_cells(sweep_id)
    rows = []
    for cell in cells:
        run, result = recorded.get(cell.key), results.get(cell.index)
        if run is not None and (result is None or result.run_id == run.id):
            rows.append({"name": cell.name, "status": run.status, "run": run.id, "mse": run.test_mse,
                         "psnr": run.scores.get("psnr"), "noisy": run.scores.get("noisy_mse"),
                         "seconds": run.seconds, "model": Path(run.model_path).name if run.model_path else None,
                         "reason": run.error})  # fmt: skip
        elif result is not None:
            rows.append({"name": cell.name, "status": result.status, "run": result.run_id,
                         "mse": result.scores.get("mse"), "psnr": result.scores.get("psnr"),
                         "noisy": result.scores.get("noisy_mse"), "seconds": result.seconds,
                         "model": Path(result.model).name if result.model else None,
                         "reason": result.reason})  # fmt: skip
        else:
            rows.append({"name": cell.name, "status": "not run", "run": None, "mse": None, "psnr": None,
                         "noisy": None, "seconds": None, "model": None, "reason": None})  # fmt: skip
    return rows
