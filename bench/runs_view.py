"""The Runs tab with 10,000 runs: its worst event-loop stall in each thing a user does (goal: under 50 ms), and what
sorting inside the proxy model would cost instead.

A database of ``--runs`` runs as real ones look (``fake_runs.make_runs``: settings, versions, 10 epochs, a
1,024-point curve each) is made in a temporary folder; the app's window opens on it (``$DENOISE_STUDIO_RUNS``)
and ``gui_stall.StallMeter`` records the gaps between 10 ms timer ticks on the GUI thread — and, to tell the app's own
stalls from the machine's load, the CPU time the GUI thread spent in each gap — while, in order:

- ``open``: the Runs tab is shown, until all the runs are in the table;
- ``sort``: each column's heading is clicked twice (both orders), one click per 16 ms, and the table repaints;
- ``filter``: a filter is typed a key per 100 ms, then cleared;
- ``scroll``: the table is paged down 60 times and back up, a key per 16 ms;
- ``poll``: another thread records a new run every 0.3 s (``--new`` of them), each a real run (the recorder on a
  Trainer, two epochs on 64 images) while the tab polls; the time until each shows is printed;
- ``compare``: four runs are ticked, one per 100 ms, until their curves and settings show;
- ``robustness``: two runs get the shipped models' files and the Robustness page scores them (needs MNIST).

Then, apart from the window, the A/Bs behind the design, alternated ``--repeats`` times in this process: one sort of
the 10,000 rows by test MSE in the model (what the tab does) against the same sort inside a ``QSortFilterProxyModel``
(its own ``sort``: ``data()``, Python, twice per comparison); and a full pass of Python's cycle collector (which the
app runs on the GUI thread) with the table's rows held against with the ``RunRecord`` objects held instead.

Run:  DENOISE_STUDIO_DATA=../shared/data/mnist QT_QPA_PLATFORM=offscreen python bench/runs_view.py
Options: --runs N, --new N, --repeats N, --skip-robustness.  The load average is printed before and after: on the
shared machine the stalls grow with it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np  # noqa: E402
from fake_runs import make_runs  # noqa: E402
from gui_stall import Actions, StallMeter, blas_info  # beside this file (it prepares Qt offscreen)
from PySide6.QtCore import QSettings, QSortFilterProxyModel, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402


class CpuStallMeter(StallMeter):
    """The stall meter, also adding up the CPU time the GUI thread spends between two ticks (``time.thread_time``):
    a gap the GUI thread spent computing is the app's own; one it spent waiting for a core is the machine's load."""

    def __init__(self, app) -> None:
        self.cpu: dict[str, list[float]] = {}
        self._cpu_last: float | None = None
        super().__init__(app)

    def _tick(self) -> None:
        now = time.thread_time() * 1e3
        if self._cpu_last is not None and self._last is not None:
            self.cpu.setdefault(self.phase, []).append(now - self._cpu_last)
        self._cpu_last = now
        super()._tick()

    def run_until(self, phase: str, done, timeout_s: float = 600) -> float:
        self._cpu_last = None
        return super().run_until(phase, done, timeout_s)

    def worst_cpu(self, phase: str) -> float:
        return max(self.cpu.get(phase, [float("nan")]))

    def both(self, phase: str) -> str:
        return (f"worst stall {self.worst(phase):.1f} ms; most GUI-thread CPU between two ticks "
                f"{self.worst_cpu(phase):.1f} ms")  # fmt: skip


def record_runs(database: Path, n: int, every_s: float, started: list[float]) -> threading.Thread:
    """A thread recording ``n`` tiny real runs into ``database``, one every ``every_s``; ``started`` gets each start."""
    from engine.nn import build_mlp
    from engine.runs import RunRecorder

    x = np.random.default_rng(0).integers(0, 256, (80, 784), dtype=np.uint8)

    def work() -> None:
        for _ in range(n):
            time.sleep(every_s)
            started.append(time.perf_counter())
            model = build_mlp([784, 4, 784], ["relu", "sigmoid"], seed=0)
            model.fit(x[:64], x[64:], epochs=2, batch_size=16, callbacks=[RunRecorder(database, source="bench")])

    thread = threading.Thread(target=work, name="bench-writer", daemon=True)
    thread.start()
    return thread


def run_window(args, database: Path) -> None:
    from engine.model_paths import resolve_model_path, shipped_models
    from engine.runs import RunStore
    from engine.runs.files import file_sha256
    from gui.app import make_app, single_thread_blas
    from gui.main_window import MainWindow

    single_thread_blas()
    app = make_app([])
    settings = QSettings(str(database.parent / "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.resize(1280, 800)
    window.show()
    meter = CpuStallMeter(app)
    meter.run_until("idle", lambda: meter._clock.elapsed() > 2000)
    print(f"BLAS: {blas_info()}")
    print(f"while idle (the machine's noise): {meter.both('idle')}")
    tab = window.runs_tab

    loaded: list = []
    tab.feed.loaded.connect(loaded.append)
    started = time.perf_counter()
    window.tabs.setCurrentWidget(tab)
    seconds = meter.run_until("open", lambda: bool(loaded))
    print(f"open: {tab.model.rowCount():,} runs in the table after {seconds:.2f} s; {meter.both('open')}")

    header = tab.table.horizontalHeader()
    clicks = [lambda c=c: header.sectionClicked.emit(c) for c in range(header.count()) for _ in range(2)]
    clicks += [lambda: tab.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)]
    paced = Actions(clicks, 16)
    meter.run_until("sort", lambda: paced.done)
    print(f"sort: {len(clicks)} heading clicks (every column, both orders); {meter.both('sort')}")

    text = "784:32 0.003"
    keys = [lambda ch=ch: QTest.keyClicks(tab.filter_edit, ch) for ch in text]
    keys += [lambda: None] * 3 + [tab.filter_edit.clear] + [lambda: None] * 3
    paced = Actions(keys, 100)
    meter.run_until("filter", lambda: paced.done)
    print(f"filter: {text!r} typed a key per 100 ms, then cleared; {meter.both('filter')}")

    tab.table.setFocus()
    tab.select_run(tab.model.row(0).id)
    pages = [lambda: QTest.keyClick(tab.table, Qt.Key.Key_PageDown)] * 60
    pages += [lambda: QTest.keyClick(tab.table, Qt.Key.Key_PageUp)] * 60
    paced = Actions(pages, 16)
    meter.run_until("scroll", lambda: paced.done)
    print(f"scroll: 60 pages down and back, a key per 16 ms; {meter.both('scroll')}")

    before = tab.model.rowCount()
    starts: list[float] = []
    appeared: dict[int, float] = {}

    def seen(*_):
        for i in range(before, tab.model.rowCount()):
            appeared.setdefault(i, time.perf_counter())

    tab.model.rowsInserted.connect(seen)
    writer = record_runs(database, args.new, 0.3, starts)
    meter.run_until("poll", lambda: len(appeared) >= args.new and not writer.is_alive(), timeout_s=120)
    waits = [appeared[before + i] - starts[i] for i in range(args.new)]
    print(f"poll: {args.new} runs recorded by another thread, each shown {min(waits):.2f}-{max(waits):.2f} s after "
          f"it started (polling every {tab.feed._timer.interval()} ms); {meter.both('poll')}")

    compared: list = []
    tab.comparedReady.connect(compared.append)
    ids = tab.model.run_ids()[:4]
    paced = Actions([lambda i=i: tab.tick(i) for i in ids], 100)
    meter.run_until("compare", lambda: paced.done and len(compared) and len(compared[-1]) == 4)
    print(f"compare: 4 runs ticked, a tick per 100 ms, until their curves and settings show; "
          f"{meter.both('compare')}")  # fmt: skip

    if not args.skip_robustness:
        names = shipped_models()[:2]
        chosen = ids[:2]
        with RunStore(database) as store:
            for run_id, name in zip(chosen, names, strict=True):
                path = resolve_model_path(name)
                store.update_run(run_id, model_path=str(path), model_sha256=file_sha256(path))
        tab.model.clear_ticks()
        ready: list = []
        tab.robustness.curvesReady.connect(ready.append)
        tab.compare_tabs.setCurrentWidget(tab.robustness)
        meter.run_until("robustness-prepare", lambda: not tab.compare_jobs.is_busy())
        started = time.perf_counter()
        tab.tick(*chosen)
        meter.run_until("robustness", lambda: bool(ready))
        print(f"robustness: 2 runs' models ({', '.join(names)}) scored on 10,000 test images at 21 levels, shown "
              f"after {time.perf_counter() - started:.1f} s; {meter.both('robustness')}")
    window.state.dirty = False
    window.close()


def proxy_sort_ab(database: Path, repeats: int) -> None:
    """One sort by test MSE: in the model (the tab's way) against inside a QSortFilterProxyModel, alternated."""
    from engine.runs import RunStore
    from gui.runs.table_model import SORT_ROLE, RunsTableModel, rows_of

    with RunStore(database) as store:
        rows = rows_of(store.runs())
    model = RunsTableModel()
    model.set_rows(rows)
    proxy = QSortFilterProxyModel()
    proxy.setSortRole(SORT_ROLE)
    proxy.setSourceModel(model)
    times: dict[str, list[float]] = {"model": [], "proxy": []}
    for i in range(repeats):
        for side in ("model", "proxy") if i % 2 == 0 else ("proxy", "model"):
            order = Qt.SortOrder.AscendingOrder if len(times[side]) % 2 == 0 else Qt.SortOrder.DescendingOrder
            started = time.perf_counter()
            (model.sort if side == "model" else proxy.sort)(10, order)
            times[side].append(time.perf_counter() - started)
    for side, label in (("model", "in the model (RunsTableModel.sort, the tab's way)"),
                        ("proxy", "inside QSortFilterProxyModel (data() per comparison)")):  # fmt: skip
        values = [t * 1e3 for t in times[side]]
        print(f"sort {len(rows):,} rows by test MSE {label}: median {statistics.median(values):.0f} ms "
              f"({min(values):.0f}-{max(values):.0f})")  # fmt: skip


def collector_ab(database: Path, repeats: int) -> None:
    """A full pass of Python's cycle collector (run on the GUI thread) with the table's 10,000 rows held, against with
    the 10,000 ``RunRecord`` objects the rows were made from held, against with neither; alternated."""
    import gc

    from engine.runs import RunStore
    from gui.runs.table_model import rows_of

    def held(kind: str):
        if kind == "nothing":
            return None
        with RunStore(database) as store:
            runs = store.runs()
        return rows_of(runs) if kind == "rows" else runs

    times: dict[str, list[float]] = {"nothing": [], "rows": [], "records": []}
    for i in range(repeats):
        for kind in list(times)[:: 1 if i % 2 == 0 else -1]:
            kept = held(kind)
            gc.collect()
            started = time.perf_counter()
            gc.collect()
            times[kind].append((time.perf_counter() - started) * 1e3)
            del kept
    tracked = {}
    for kind in times:
        kept = held(kind)
        gc.collect()
        tracked[kind] = len(gc.get_objects())
        del kept
    for kind, what in (("nothing", "no runs held"), ("rows", "the table's rows held (RunRow)"),
                       ("records", "the RunRecords held instead")):  # fmt: skip
        print(f"a full collection, {what}: median {statistics.median(times[kind]):.0f} ms "
              f"({min(times[kind]):.0f}-{max(times[kind]):.0f}), {tracked[kind]:,} objects tracked")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--new", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--skip-robustness", action="store_true")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="runs-view-"))
    database = folder / "runs.db"
    os.environ["DENOISE_STUDIO_RUNS"] = str(database)
    print(f"load average before: {os.getloadavg()}")
    started = time.perf_counter()
    make_runs(database, args.runs)
    print(f"made {args.runs:,} runs in {time.perf_counter() - started:.1f} s ({database.stat().st_size / 1e6:.0f} MB)")
    run_window(args, database)
    proxy_sort_ab(database, args.repeats)
    collector_ab(database, args.repeats)
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
