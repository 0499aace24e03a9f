"""The QApplication: made once, themed, with the main window; ``main(argv) -> int``."""

from __future__ import annotations

import os
import sys

from PySide6.QtWidgets import QApplication

from gui.common.jobs import wait_for_all_jobs
from gui.common.theme import APP_NAME, ORGANIZATION, apply_theme


def make_app(argv: list[str] | None = None) -> QApplication:
    """The running QApplication (made if needed), themed."""
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0], *(argv or [])])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APP_NAME)
    apply_theme(app)
    return app


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
    single_thread_blas()
    app = make_app(argv)
    from gui.main_window import MainWindow

    window = MainWindow()
    app.main_window = window  # keep the window alive as long as the app
    app.aboutToQuit.connect(window.training_tab.run.wait_for_end)  # no thread outlives the app
    app.aboutToQuit.connect(wait_for_all_jobs)
    install_excepthook(lambda: window)
    window.show()
    if argv and not argv[0].startswith("-"):
        window.open_model(argv[0])
    return app.exec()
