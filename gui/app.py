"""The QApplication: made once, prepared, with the app's state and main window; ``main(argv) -> int``."""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from gui.common.jobs import JobPool
from gui.common.theme import APP_NAME, ORGANIZATION, apply_theme

COLLECT_INTERVAL_S = 0.5
"""How often the GUI thread runs Python's cycle collector (automatic collection is off: see ``prepare_app``)."""
QUIT_WAIT_S = 5.0
"""How long quitting waits for background jobs (they are asked to stop first)."""
FIRST_PAINT_WAIT_MS = 3000
"""At start, background jobs wait for the window's first paint, at most this long."""


def make_app(argv: list[str] | None = None) -> QApplication:
    """The running QApplication (made if needed), prepared (``prepare_app``)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0], *(argv or [])])
    prepare_app(app)
    return app


def prepare_app(app: QApplication) -> None:
    """What every QApplication of Denoise Studio runs under — the app's and the tests' alike (idempotent).

    - Its names and theme.
    - BLAS on one thread for the whole process, set once before any worker thread (``single_thread_blas``).
    - Python's cycle collector on the GUI thread only: automatic collection off, a timer collects
      (pyqtgraph's ``GarbageCollector``).  Collection runs on whichever thread allocates; on a job or
      training thread it finalises Qt objects of the GUI thread there (pyqtgraph's menus and other
      wrappers caught in reference cycles), and PySide releases the interpreter lock inside such a
      destructor — so the GUI thread runs into the half-destroyed object's locks while the collecting
      thread waits for the interpreter lock: the suite's deadlock of 2026-12-05.
    """
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APP_NAME)
    apply_theme(app)
    if getattr(app, "garbage_collector", None) is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        single_thread_blas()
        app.garbage_collector = GarbageCollector(interval=COLLECT_INTERVAL_S)


def install_excepthook(parent_getter) -> None:
    """Show unexpected errors in a dialog instead of letting them end the app."""
    import traceback

    showing = []

    def hook(exc_type, exc, tb) -> None:
        traceback.print_exception(exc_type, exc, tb)
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        if showing:  # an error while the dialog is up (e.g. in a repaint): printed only, no dialog cascade
            return
        from gui.common import dialogs

        showing.append(True)
        try:
            dialogs.show_error(
                parent_getter(),
                "Unexpected error",
                f"{exc_type.__name__}: {exc}",
                "The app keeps running and your model is still loaded. Please report this with the text "
                "printed in the terminal.",
            )
        finally:
            showing.clear()

    sys.excepthook = hook


def single_thread_blas() -> None:
    """Run BLAS on one thread for the whole app, set once on the main thread before any worker.

    Training (engine.parallel) wants one BLAS thread and spreads work over the cores itself; if
    it changed the process-wide setting at each Start while the GUI thread or the baselines
    thread were inside a BLAS call, that change would race with them.  The app's own products
    (one drawing, a PCA fit) are small enough for one thread.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


NO_DISPLAY = "no display: set DISPLAY, or QT_QPA_PLATFORM=offscreen for screenshots"
EXIT_NO_DISPLAY = 2


def display_missing(environ=os.environ, platform: str = sys.platform) -> bool:
    """True where Qt would abort for want of a display: an X11/Wayland system (not Windows or macOS)
    with no DISPLAY, no WAYLAND_DISPLAY and no QT_QPA_PLATFORM chosen."""
    if platform.startswith(("win", "darwin", "cygwin")):
        return False
    return not any(environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def main(argv: list[str] | None = None) -> int:
    """Open the main window with the shipped model; returns the event loop's exit code (2 without a display)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if QApplication.instance() is None and display_missing():  # Qt would abort (exit 134) making the app
        print(f"denoise-studio: {NO_DISPLAY}", file=sys.stderr)
        return EXIT_NO_DISPLAY
    app = make_app(argv)
    from gui.app_state import AppState
    from gui.common.when_shown import AfterFirstPaint
    from gui.main_window import MainWindow

    pool = JobPool.of_app()
    pool.hold()  # the jobs asked for before the window has appeared (the model it opens with, …) start once it has
    state = AppState(parent=app)  # the app's state: the current model and the data sets
    window = MainWindow(state=state, start_model=None)  # on screen first: reading the model (~0.05 s) comes after
    app.main_window = window  # keep the window alive as long as the app
    install_excepthook(lambda: window)
    window.show()
    window.files.open_start_model()
    if argv and not argv[0].startswith("-"):
        window.files.open_model(argv[0])
    AfterFirstPaint(window, pool.release, FIRST_PAINT_WAIT_MS)
    AfterFirstPaint(window, lambda: offer_kept_models(window), FIRST_PAINT_WAIT_MS)
    app.garbage_collector.timer.start()  # its first pass (every object made so far) after the first paint too
    with quitting_on_signals(app):  # (also while it ends: a logout's next signal only asks again to quit)
        code = app.exec()
        if window.ended_by_signal:  # nobody was asked: keep what would be lost, before the (bounded) waits
            keep_unsaved_work(window)
        finished = finish_background_work(window)
    if not finished:
        sys.stderr.flush()
        os._exit(code)  # a worker stuck in a long call: do not wait for it at the interpreter's exit
    return code


QUIT_SIGNALS = ("SIGTERM", "SIGINT", "SIGHUP")
"""Signals that end the app the way Quit does: a logout or ``kill`` (SIGTERM), Ctrl+C in the terminal that started
it (SIGINT), that terminal closed (SIGHUP)."""


@contextmanager
def quitting_on_signals(app: QApplication) -> Iterator[None]:
    """While the event loop runs, ``QUIT_SIGNALS`` quit it (then ``main`` stops the run and the background jobs, and
    with them the filters' worker processes) instead of killing the app where it stands.

    Python runs a signal's handler only between bytecodes, and Qt's event loop is C code that may wait for
    minutes: the C-level handler writes to a socket (``signal.set_wakeup_fd``) that the loop watches, and reading it
    lets the Python handler run.  The process's earlier handlers come back on leaving (the tests call ``main``).
    """
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(lambda *_: _drain(reader))
    kinds = [getattr(signal, name) for name in QUIT_SIGNALS if hasattr(signal, name)]

    def quit_soon(*_) -> None:  # from the event loop, not in the handler: it may have interrupted any Python code
        QTimer.singleShot(0, lambda: _quit_without_asking(app))

    earlier = {kind: signal.signal(kind, quit_soon) for kind in kinds}
    earlier_fd = signal.set_wakeup_fd(writer.fileno())
    try:
        yield
    finally:
        signal.set_wakeup_fd(earlier_fd)
        for kind, handler in earlier.items():
            signal.signal(kind, handler)
        notifier.setEnabled(False)
        notifier.deleteLater()
        reader.close()
        writer.close()


def _quit_without_asking(app: QApplication) -> None:
    """A quit signal: nobody may be there to answer (a logout), so the window closes without asking about a run or
    unsaved changes, and every event loop is left (a question already open included); ``main`` then stops the run
    and the background jobs."""
    window = getattr(app, "main_window", None)
    if window is not None:
        window.ended_by_signal = True  # ``main`` keeps what would be lost
        window.close_without_asking()
    app.exit(0)


def _drain(reader: socket.socket) -> None:
    try:
        while reader.recv(64):
            pass
    except OSError:  # nothing more to read
        pass


def keep_unsaved_work(window) -> Path | None:
    """After a quit signal (nobody was asked): the run's model (stopped after its current batch), else the current
    model when unsaved, written to the kept folder (``gui.recovery``) for the next start; the path, or None (also
    when it cannot be written: said on stderr, the app is ending)."""
    from gui.recovery import keep

    training = window.training_tab_if_made()
    if training is not None:
        training.run.wait_for_end()  # (bounded: stopped after its current batch)
    result = None if training is None else training.run.result_at_quit
    state = window.state
    if result is not None and result.model is not None:
        model, name = result.model, state.name
    elif state.dirty and state.model is not None:
        model, name = state.model, state.name
    else:
        return None
    try:
        path = keep(model, name)
    except (OSError, ValueError) as exc:
        print(f"denoise-studio: the unsaved model “{name}” could not be kept ({exc})", file=sys.stderr)
        return None
    print(f"denoise-studio: the unsaved model “{name}” was kept in {path}; the next start offers it", file=sys.stderr)
    return path


def offer_kept_models(window) -> None:
    """At the start: for each model kept as the app was last ended by a signal, newest first, Open (the first
    opened ends the questions), Discard or Later (all the rest wait for the next start)."""
    from gui.recovery import ask_about_kept, kept_files

    kept = kept_files()
    for i, path in enumerate(kept):
        answer = ask_about_kept(window, path, len(kept) - i - 1)
        if answer == QMessageBox.StandardButton.Open:
            window.files.open_kept(path)
            return
        if answer != QMessageBox.StandardButton.Discard:
            return
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            from gui.common import dialogs

            dialogs.show_error(window, "Kept model not discarded", f"{path} could not be removed "
                               f"({exc.strerror or exc}).", "Delete it yourself; until then each start offers "
                               "it again.")  # fmt: skip


def finish_background_work(window) -> bool:
    """Quitting: stop the run and the jobs, waiting a bounded time; False (with a message) when one is stuck."""
    training = window.training_tab_if_made()  # never opened: no run
    ended = training is None or training.run.wait_for_end()
    pool = JobPool.of_app()
    pool.cancel_all()
    if not (pool.wait(QUIT_WAIT_S) and ended):
        what = "the training thread" if not ended else f"{pool.running_jobs()} background job(s)"
        print(f"denoise-studio: {what} did not stop in time; quitting without it", file=sys.stderr)
        return False
    window.state.baselines.close()  # the classical filters' worker processes, kept between curves
    return True
