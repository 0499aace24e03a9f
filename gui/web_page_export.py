"""File ▸ Export ▸ Web page…: the model as one self-contained web page that runs it (``engine.web_export``).

The user chooses the weights (float32, exactly the app's network; or float16, half the size, after a check
on the test set of the data set the model was trained on) and the file; ``write_web_page`` then reads that
test set and writes the page as a job off the GUI thread, with a progress dialog and Cancel while the
float16 check runs (seconds).  A file the app did not write is never replaced (``FileActions.
choose_export_path``), and the page's writer lock is held while it is made (``engine.output_lock``).  When
the test set is not on this machine the page offers drawing only and float16 cannot be chosen; the
options and the confirmation say so.  A refusal (``WebExportError``, ``HalfPrecisionRefused``) gets a
dialog, and nothing is written; the confirmation names the file and offers to open it in the browser.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QLabel,
    QMessageBox,
    QProgressBar,
    QProgressDialog,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from engine.data_sources import SOURCES, trained_on
from engine.download import locate_data
from engine.idx import DatasetFileError
from engine.output_lock import writing
from engine.web_export import (
    HALF_TOLERANCE,
    HalfPrecisionRefused,
    WebExport,
    WebExportError,
    check_exportable,
    export_html,
    is_html_export,
)
from gui.common import dialogs
from gui.common.hints import hint
from gui.common.jobs import JobRunner

if TYPE_CHECKING:
    from gui.common.data_sets import DataSets
    from gui.file_actions import FileActions

PAGE_FILTER = "Web pages (*.html *.htm)"
WHAT = "a web page exported by Denoise Studio"
PROGRESS_DELAY_MS = 400
"""The progress dialog shows only when the export takes longer than this (a float32 page is written sooner)."""
HALF_SETTING = "export/web_page_half"
"""Settings key: float16 was chosen last time (the next export starts with it)."""


class ExportCancelled(Exception):
    """The user pressed Cancel before the page was written; nothing was."""


class NotOurs(Exception):
    """A file the app did not write appeared at the page's path after it was chosen; it was left alone."""


@dataclass(frozen=True)
class PageWritten:
    """What ``write_web_page`` did: the page (``engine.web_export.WebExport``) and, when the page has no test
    images, why (the test set is not on this machine), else None."""

    page: WebExport
    no_test_images: str | None


def data_set_title(data_set: str) -> str:
    return SOURCES[data_set].title if data_set in SOURCES else repr(data_set)


def missing_test_set(data_set: str) -> str | None:
    """Why the test set of ``data_set`` cannot go into a page ("The MNIST test set is not on this machine"), or None
    when it is there.  Cheap: it looks for the files and reads nothing."""
    if data_set not in SOURCES:
        return f"The model was trained on {data_set!r}, a data set Denoise Studio does not know"
    try:
        locate_data(data_set, download=False, progress=False, files=("test_images", "test_labels"))
    except (DatasetFileError, OSError):
        return f"The {data_set_title(data_set)} test set is not on this machine"
    return None


def write_web_page(model, path: str, half: bool, data: DataSets, name: str, stop: threading.Event, job) -> PageWritten:
    """A job (runs on a pool thread): the test set of the data set ``model`` was trained on, read through ``data``
    (None when it is not on this machine), then the page written to ``path`` under its writer lock.  Raises
    ``ExportCancelled`` once ``stop`` is set (or the job is cancelled) before the page is written, ``NotOurs``
    when a file the app did not write is at ``path``, and what ``export_html`` raises."""
    data_set = trained_on(model.metadata)
    try:
        test_set, missing = data.split("test", data_set), None
    except (DatasetFileError, OSError, ValueError):
        test_set = None
        missing = missing_test_set(data_set) or f"The {data_set_title(data_set)} test set cannot be read"

    def progress(done: int, total: int) -> None:
        if stop.is_set() or job.cancelled():
            raise ExportCancelled
        job.progress(done / total)

    progress(0, 1)
    with writing(path):
        if Path(path).is_file() and not is_html_export(path):
            raise NotOurs(path)
        page = export_html(model, path, half=half, test_images=test_set, name=name, progress=progress)
    return PageWritten(page, missing)


class WebPageOptions(QDialog):
    """Float32 or float16 weights, with what each means and whether the test set is here to check float16 on."""

    def __init__(self, parent: QWidget | None, name: str, data_set: str, missing: str | None, half: bool) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export web page")
        title = data_set_title(data_set)
        intro = QLabel(f"<b>One web page that runs “{escape(name)}”</b> in any current browser, offline, with "
                       "nothing to install: draw a digit, add noise, watch it cleaned. Send the file as it is — by "
                       "mail, on a USB stick, on a web server.")  # fmt: skip
        intro.setWordWrap(True)
        self.float32_button = QRadioButton("Float&32 weights — exactly the app's network")
        hint(self.float32_button, "Every weight as the app holds it: the page gives what the app gives")
        self.half_button = QRadioButton("Float&16 weights — half the file size (--half)")
        check = QLabel(f"Checked first on the whole {title} test set, at the model's training noise and at σ 0.1 "
                       f"to 1.0 (a few seconds): if the test MSE moves by more than {HALF_TOLERANCE:.0%} anywhere, "
                       "the export is refused and nothing is written.")  # fmt: skip
        check.setObjectName("caption")
        check.setWordWrap(True)
        check.setContentsMargins(24, 0, 0, 0)
        hint(self.half_button, f"Weights rounded to 16 bits: half the download, kept only when they score within "
             f"{HALF_TOLERANCE:.0%} of float32 on the {title} test set")  # fmt: skip
        weights = QGroupBox("Weights")
        column = QVBoxLayout(weights)
        for widget in (self.float32_button, self.half_button, check):
            column.addWidget(widget)
        if missing is None:
            note = QLabel(f"The page shows the first {title} test image of each class, to step through.")
        else:
            note = QLabel(f"⚠ {missing}, so the page will offer drawing only (no test images), and float16 weights "
                          "cannot be checked.")  # fmt: skip
            self.half_button.setEnabled(False)
            hint(self.half_button, f"{missing}: float16 weights are checked on it before they are kept")
            half = False
        note.setWordWrap(True)
        (self.half_button if half else self.float32_button).setChecked(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        choose = buttons.addButton("&Choose file…", QDialogButtonBox.ButtonRole.AcceptRole)
        choose.setDefault(True)
        hint(choose, "Choose where the page goes; then it is written")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (intro, weights, note, buttons):
            layout.addWidget(widget)
        self.setMinimumWidth(520)

    def half(self) -> bool:
        return self.half_button.isChecked()


class WebPageExport(QObject):
    """File ▸ Export ▸ Web page… for the window of ``files`` (``gui.file_actions.FileActions``): the options, the
    file, the job with its progress, and what came of it; ``finished(object)`` once it is over (the confirmation
    closed) with the ``PageWritten``, or None when nothing was written (cancelled, refused, failed)."""

    finished = Signal(object)

    def __init__(self, files: FileActions) -> None:
        super().__init__(files)
        self.files, self.window, self.state = files, files.window, files.state
        self.settings: QSettings = files.settings
        self.jobs = JobRunner(self)
        self.jobs.progressed.connect(self._on_progress)
        self.progress: QProgressDialog | None = None  # while a page is being written
        self.bar: QProgressBar | None = None  # its bar
        self._stop: threading.Event | None = None
        self._path, self._data_set = "", "mnist"  # the page being written: its file, its model's data set

    def start(self) -> None:
        """Ask for the weights and the file, then write the page off the GUI thread."""
        if self.jobs.is_busy():
            if self.progress is not None:
                self.progress.raise_()
            return
        model, name = self.state.model, self.state.name
        try:
            check_exportable(model)  # refused at once, before any question
        except WebExportError as exc:
            dialogs.show_error(self.window, "Cannot export web page", dialogs.sentence(str(exc)),
                               "Nothing was written; the model is unchanged.")  # fmt: skip
            return
        data_set = trained_on(model.metadata)
        missing = missing_test_set(data_set)
        half = str(self.settings.value(HALF_SETTING, False)).lower() == "true"
        options = WebPageOptions(self.window, name, data_set, missing, half)
        if options.exec() != QDialog.DialogCode.Accepted:
            return
        half = options.half()
        self.settings.setValue(HALF_SETTING, half)
        path = self.files.choose_export_path("Export web page", PAGE_FILTER, (".html", ".htm"), is_html_export, WHAT)
        if path is not None:
            self._write(model, path, half, name, data_set)

    def _write(self, model, path: str, half: bool, name: str, data_set: str) -> None:
        self._path, self._data_set, self._stop = path, data_set, threading.Event()
        file = Path(path).name
        if half:
            text = (f"Checking the float16 weights on the {data_set_title(data_set)} test set at each noise level, "
                    f"then writing {file}…")  # fmt: skip
        else:
            text = f"Writing {file}…"
        progress = QProgressDialog(self.window)
        label = QLabel(text)
        label.setWordWrap(True)  # a long file name wraps: the dialog keeps its width
        progress.setLabel(label)
        self.bar = QProgressBar()  # set directly: a modal QProgressDialog.setValue would run the event loop inside
        progress.setBar(self.bar)
        progress.setCancelButtonText("Cancel")
        progress.setRange(0, 100 if half else 0)
        progress.setMinimumWidth(420)
        progress.setWindowModality(Qt.WindowModality.WindowModal)  # seconds at most; Cancel is the way out
        progress.setValue(0)  # at its start: the delay below counts from now
        progress.setWindowTitle("Exporting web page")
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        progress.setMinimumDuration(PROGRESS_DELAY_MS)  # shows itself only if the export takes longer
        progress.canceled.connect(self._stop.set)
        hint(progress, "Cancel stops the export before the page is written; nothing is written then")
        self.progress = progress
        self.window.statusBar().showMessage(f"Exporting {path}…")
        self.jobs.start(write_web_page, model, path, half, self.state.data, name, self._stop,
                        on_done=self._written, on_error=self._failed)  # fmt: skip

    def _on_progress(self, fraction: float) -> None:
        if self.progress is not None and self.bar is not None and self.bar.maximum():
            self.bar.setValue(round(100 * fraction))

    def _close_progress(self) -> bool:
        """Close the progress dialog; True when the user had pressed Cancel."""
        cancelled = self._stop is not None and self._stop.is_set()
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None
        self.window.statusBar().clearMessage()
        return cancelled

    def _written(self, written: PageWritten) -> None:
        page = written.page
        if self._close_progress():
            self.files.flashed.emit(f"Cancel came too late: the page was already written to {page.path}")
            self.finished.emit(written)
            return
        self.files.flashed.emit(f"Exported {page.path.name} (web page, {page.size / 1e6:.2f} MB) to {page.path.parent}")
        self._confirm(written)
        self.finished.emit(written)

    def _confirm(self, written: PageWritten) -> None:
        """Say what was written and where; offer to open it in the browser."""
        page = written.page
        title = data_set_title(self._data_set)
        images = f"{page.n_test_images} {title} test images" if page.n_test_images else "no test images"
        check = f" (test MSE within {page.half_check.worst_change:.3%} of float32)" if page.half_check else ""
        opened, close = QMessageBox.StandardButton.Open, QMessageBox.StandardButton.Close
        more = (f"It is in {page.path.parent}. It runs in any current browser, offline, with nothing to install; "
                "send the file as it is.")  # fmt: skip
        if written.no_test_images:
            more += f"\n\n{written.no_test_images}, so the page has no test images: it offers drawing only."
        box = dialogs.message_box(QMessageBox.Icon.Information, "Web page exported",
                                  f"Saved {page.path.name}: {page.size / 1e6:.2f} MB, {page.precision} weights{check}, "
                                  f"{images}.", opened | close, self.window, more)  # fmt: skip
        box.button(opened).setText("Open in browser")
        box.setDefaultButton(opened)
        if QMessageBox.StandardButton(box.exec()) == opened and not QDesktopServices.openUrl(
            QUrl.fromLocalFile(str(page.path.resolve()))
        ):
            dialogs.show_error(self.window, "Cannot open the page", f"No browser could be started for {page.path}.",
                               "Open the file from your browser or file manager; it was written.")  # fmt: skip

    def _failed(self, exc: BaseException) -> None:
        self._close_progress()
        path = self._path
        if isinstance(exc, ExportCancelled):
            self.files.flashed.emit(f"Web page export cancelled; nothing was written to {path}")
        elif isinstance(exc, HalfPrecisionRefused):
            dialogs.show_error(self.window, "Float16 weights refused", dialogs.sentence(str(exc)),
                               f"Nothing was written to {path}. Export again with float32 weights: exactly the "
                               "app's network, twice the size.")  # fmt: skip
        elif isinstance(exc, WebExportError):
            dialogs.show_error(self.window, "Cannot export web page", dialogs.sentence(str(exc)),
                               f"Nothing was written to {path}; the model is unchanged.")  # fmt: skip
        elif isinstance(exc, NotOurs):
            dialogs.show_error(self.window, f"Not replacing {Path(path).name}", f"{path} appeared while the page was "
                               f"being made and is not {WHAT}: Denoise Studio never writes over a file it did not "
                               "write.", "Choose another name or folder. Nothing was written.")  # fmt: skip
        elif isinstance(exc, OSError):
            dialogs.show_error(self.window, "Cannot export web page", f"Writing {path} failed:\n{exc}",
                               "Nothing was written; choose another folder or file name.")  # fmt: skip
        else:
            dialogs.show_error(self.window, "Cannot export web page", f"{type(exc).__name__}: {exc}",
                               "Nothing was written; the model is unchanged.")  # fmt: skip
        self.finished.emit(None)
