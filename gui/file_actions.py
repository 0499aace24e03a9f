"""The File menu's work: open, save, save as, recent and shipped models, pictures, and exports.

``FileActions`` acts on the app's ``AppState`` for the window: opening a model is all or nothing — the file is
read off the GUI thread together with everything the app derives from it (each view's ``AppState.check``: the
values its controls will show, with a note for each one changed to fit; the entry in Recent models), and the model
becomes current only once all of it has succeeded; the notes are then shown.  A save is atomic (the engine's) and
never writes over a shipped model.  Before the current model is replaced it asks to stop a running run and to
save unsaved work (``may_replace``).  Every failure gets a dialog that says what happened and that nothing was lost.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QStandardPaths, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QMessageBox

from engine.checkpoint import is_checkpoint
from engine.model_format import ModelFileError, read_header
from engine.model_paths import is_shipped, resolve_model_path, shipped_models
from engine.nn import MLP
from engine.noise import LEVEL_NAMES, training_noise
from engine.onnx_export import export_onnx, is_onnx_export
from gui.app_state import AppState
from gui.common import dialogs
from gui.common.hints import explain_disabled, hint
from gui.common.jobs import JobRunner
from gui.denoise.picture_import import FILE_FILTER as PICTURE_FILTER
from gui.recovery import NAME_KEY as KEPT_NAME_KEY
from gui.recovery import kept_model_name
from gui.start_model import SHIPPED_MODEL, load_start_model, untrained_start_model
from gui.stored_settings import read_folder, read_recent, usable_path, write_recent

MODEL_FILTER = "Denoise Studio models (*.npz);;All files (*)"
WRITER_KEY, WRITER = "written_by", "Denoise Studio app"
"""Every model the app saves says so in its metadata: *Save when a run ends* writes over a model's own file only
when the app wrote it (never over a file of the CLI's, another program's, a checkpoint or a shipped model)."""


def shipped_summary(name: str) -> str:
    """"784-10-784 · trained at σ 0.1 · test MSE 0.0298 at σ 0.1" from a shipped model's header: its shape (and skip
    path: "784-1024-1024-784 with a gated skip"), how it was trained and how well it does."""
    try:
        header = read_header(resolve_model_path(name))
    except ModelFileError:
        return "cannot be read"
    metadata = header.get("metadata", {})
    setting = training_noise(metadata)
    parts = [_shape(header)] if header.get("layers") else []
    parts += [f"trained at {setting.describe()}"] if setting is not None else []
    level = LEVEL_NAMES[setting.kind] if setting is not None else "σ"
    metrics = metadata.get("metrics") if isinstance(metadata.get("metrics"), dict) else {}
    for key, value in metrics.items():
        if key.startswith("test_mse@") and isinstance(value, (int, float)):
            parts.append(f"test MSE {value:.4f} at {level} {key.partition('@')[2]}")
            break
    return " · ".join(parts) or "no training record"


def _run_saved(path: str) -> str:
    """"Run ended: saved mine.npz in /home/me/models" (the file's name first: a long folder is cut, not it)."""
    return f"Run ended: saved {Path(path).name} in {Path(path).parent}"


def _shape(header: dict) -> str:
    """"784-1024-1024-784 with a gated skip": the widths of a model file's layers (``engine.model_format`` has checked
    them) and its skip path."""
    layers = header["layers"]
    widths = [layers[0]["n_in"], *(layer["n_out"] for layer in layers)]
    skip = header.get("skip")
    kind = {"gate": "gated"}.get(skip.get("type"), skip.get("type")) if isinstance(skip, dict) else None
    return "-".join(str(w) for w in widths) + (f" with a {kind} skip" if kind else "")


def _middle_elided(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width // 2 - 1] + "…" + text[-(width - width // 2) :]


class NotADenoiser(ValueError):
    """A model file whose network does not map 784 pixels to 784 (a classifier, another image size)."""


OPENING_START_MODEL = f"Opening {SHIPPED_MODEL}…"
"""The status bar's message while the model the app opens with is read."""


@dataclass(frozen=True)
class Opening:
    """A model file read and checked: the model, the notes to show (what was changed to fit, by the engine's
    bounds or a view's controls), and its entry for Recent models (None: not listed, a shipped model)."""

    model: MLP
    notes: list[str]
    recent: str | None


def recent_entry(path: str) -> str | None:
    """How Recent models lists ``path``: resolved (the same file is one entry), None when it cannot be listed."""
    try:
        resolved = str(Path(path).resolve())
    except (OSError, RuntimeError):  # a loop of links, a name too long to resolve
        resolved = os.path.abspath(path)
    return usable_path(resolved)


def _read_model(path: str, check, state) -> Opening:
    """Runs on a pool thread: the file (a wide model takes seconds) and everything the app derives from it; raises
    when any of it fails, so nothing is applied."""
    model = MLP.from_file(path)
    if model.n_in != 784 or model.n_out != 784:
        raise NotADenoiser(f"{model.path} maps {model.n_in} → {model.n_out} values; Denoise Studio needs 784 → 784.")
    notes = [*model.load_notes, *check(model)]
    return Opening(model, notes, None if is_shipped(model.path) else recent_entry(model.path))


def _read_start_model(state) -> tuple[MLP, str, str | None]:
    """Runs on a pool thread: ``gui.start_model.load_start_model``, and NumPy's random module imported here, not
    on the GUI thread (~25 ms: the first screen's noise needs it as the model arrives)."""
    import numpy.random  # noqa: F401

    return load_start_model()


def _record_saved(model: MLP, path: str, state) -> int | None:
    """Runs on a pool thread (the runs database may be busy): the saved file becomes its run's model file."""
    from engine.runs.recorder import record_saved_model  # (the runs database's modules: not on the first screen)

    return record_saved_model(model, path)


class FileActions(QObject):
    """Files for ``window`` (its status bar, dialogs and tabs) on ``state``; ``openFinished(bool)`` after an open."""

    openFinished = Signal(bool)  # an open_model() ended: True when the model was opened
    flashed = Signal(str)  # a short confirmation for the status bar

    def __init__(self, window: QMainWindow, state: AppState, settings: QSettings) -> None:
        super().__init__(window)
        self.window, self.state, self.settings = window, state, settings
        self._after_run = None  # what to do once the running training has stopped (quit, open a model)
        self.save_after_run = False  # File ▸ Save when a run ends
        self.open_jobs = JobRunner(self)
        self.start_jobs = JobRunner(self)  # the model the app opens with (``open_start_model``)
        self.record_jobs = JobRunner(self)  # a saved model's file, recorded on the run that trained it
        self.recent_menu = QMenu("&Recent models", window)
        self.shipped_menu = QMenu("Shipped &models", window)
        explain_disabled(self.recent_menu.menuAction(), "no model opened from a file yet; the ones you open are "
                         "listed here")  # fmt: skip
        for menu in (self.recent_menu, self.shipped_menu):
            menu.setToolTipsVisible(True)
        self._fill_shipped()
        self._described = False  # the shipped entries say what their files hold once the menu is first opened
        self.shipped_menu.aboutToShow.connect(self._describe_shipped)
        self._rebuild_recent()
        state.modelChanged.connect(lambda change: self._mark_shipped())

    # ----- before the model is replaced --------------------------------------------------------
    def may_replace(self, doing: str, then, losing: str | None = None) -> bool:
        """True when the current model may go now: no run, and — when ``losing`` names what would lose it
        ("closing", "switching models") — saved, discarded or unchanged.  With a run on, ask to stop it
        ("stop it and {doing}?"); on yes, stop and call ``then`` once it has ended; either way False now."""
        training = self.window.training_tab_if_made()  # not made: no run
        if training is not None and training.is_running():
            if dialogs.ask_stop_training(self.window, doing):
                if training.is_running():
                    self._after_run = then
                    training.stop()
                else:  # the run ended while the question was open: nothing to wait for
                    QTimer.singleShot(0, then)
            return False
        return losing is None or self._maybe_save(losing)

    def run_ended(self) -> None:
        """The run has ended and handed its model back: do what waited for it."""
        if self._after_run is not None:
            then, self._after_run = self._after_run, None
            QTimer.singleShot(0, then)

    def _maybe_save(self, doing: str) -> bool:
        if not self.state.dirty:
            return True
        answer = dialogs.ask_save_changes(self.window, self.state.name, doing)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # ----- opening ----------------------------------------------------------------------------
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open model", self.folder("open"), MODEL_FILTER)
        if path:
            self.remember_folder("open", path)
            self.open_model(path)

    def open_model(self, path: str, then: Callable[[], object] | None = None) -> None:
        """Read a model file off the GUI thread; on failure say why and keep the current model.  Asks first when
        training runs or the model is unsaved; ``openFinished(bool)`` tells when it is done, and ``then()`` runs
        once the model is open (not when it is not)."""
        if not self.may_replace(f"open {Path(str(path)).stem}", lambda: self.open_model(path, then),
                                "switching models"):  # fmt: skip
            return
        self.window.statusBar().showMessage(f"Opening {path}…")
        self.open_jobs.start(_read_model, str(path), self.state.check, on_done=lambda opening: self._opened(
            opening, then), on_error=self._open_failed)  # fmt: skip

    def open_start_model(self) -> None:
        """Read the model the app opens with (``gui.start_model``) off the GUI thread and make it the current one —
        unless one was opened meanwhile (a model named on the command line, read beside it).  ``gui.app.main`` calls
        it as the window appears, so the window is on screen before the file is read."""
        self.window.statusBar().showMessage(OPENING_START_MODEL)
        self.start_jobs.start(_read_start_model, on_done=self._start_model_read, on_error=lambda exc: (
            self._start_model_read(untrained_start_model(f"{type(exc).__name__}: {exc}"))))  # fmt: skip

    def _start_model_read(self, read: tuple[MLP, str, str | None]) -> None:
        model, name, note = read
        if self.window.statusBar().currentMessage() == OPENING_START_MODEL:  # (not another open's message)
            self.window.statusBar().clearMessage()
        if self.state.model is None:
            self.state.set_model(model, name=name, dirty=False)
            if note:
                self.window.statusBar().showMessage(note, 15000)

    def open_kept(self, path: Path) -> None:
        """A model kept as the app was last ended by a quit signal (``gui.recovery``): read off the GUI thread, then
        the current model, unsaved under its name (no file of its own: Save asks where), and the kept file goes.
        On failure the file stays, and the dialog says why."""
        self.window.statusBar().showMessage(f"Opening {path}…")
        self.open_jobs.start(_read_model, str(path), self.state.check, on_done=lambda opening: self._kept_opened(
            opening, Path(path)), on_error=self._open_failed)  # fmt: skip

    def _kept_opened(self, opening: Opening, path: Path) -> None:
        model, name = opening.model, kept_model_name(path, opening.model)
        model.metadata.pop(KEPT_NAME_KEY, None)
        model.path = None
        self.window.statusBar().clearMessage()
        self.state.set_model(model, name=name, dirty=True, origin="opened")
        self.openFinished.emit(True)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:  # (offered again at the next start)
            dialogs.show_error(self.window, "Kept file not removed", f"The model “{name}” is open, unsaved, but its "
                               f"kept file could not be removed ({exc.strerror or exc}).",
                               f"Save the model, then delete {path} yourself; until then the next start offers "
                               "it again.")  # fmt: skip
        else:
            self.flashed.emit(f"Opened the kept model “{name}”: it is unsaved — File ▸ Save keeps it")
        if opening.notes:
            dialogs.show_notes(self.window, "Model opened with changes", f"{path.name} records values beyond "
                               "what Denoise Studio holds; they were changed as the file was read:",
                               opening.notes)  # fmt: skip

    def _opened(self, opening: Opening, then: Callable[[], object] | None = None) -> None:
        """Everything derived from the file succeeded: apply it all (model, views, title, recent), then say what
        was changed to fit."""
        model = opening.model
        model.metadata.pop(KEPT_NAME_KEY, None)  # (a kept file opened with File ▸ Open: its name is its own now)
        self.window.statusBar().clearMessage()
        self.state.set_model(model, dirty=False, origin="opened")
        if opening.recent is not None:
            self.add_recent(opening.recent)
        self.flashed.emit(f"Opened {model.path}")
        if opening.notes:
            dialogs.show_notes(self.window, "Model opened with changes", f"{Path(model.path).name} records values "
                               "beyond what Denoise Studio holds; they were changed as the file was read (the file "
                               "itself is unchanged):", opening.notes)  # fmt: skip
        self.openFinished.emit(True)
        if then is not None:
            then()

    def _open_failed(self, exc: BaseException) -> None:
        self.window.statusBar().clearMessage()
        if isinstance(exc, NotADenoiser):
            dialogs.show_error(self.window, "Not a denoising model", str(exc),
                               "Open an autoencoder trained on 28×28 images. The current model stays loaded.")
        elif isinstance(exc, MemoryError):
            dialogs.show_error(self.window, "Cannot open model", "There is not enough memory to load this model.",
                               "Close other programs or open a smaller model. The current model stays loaded.")
        elif isinstance(exc, ModelFileError):
            dialogs.show_exception(self.window, "Cannot open model", exc)
        else:
            dialogs.show_error(self.window, "Cannot open model", f"{type(exc).__name__}: {exc}",
                               "The current model stays loaded.")
        self.openFinished.emit(False)

    # ----- saving -----------------------------------------------------------------------------
    def save(self) -> bool:
        path = self.state.model.path
        if not path or is_shipped(path) or is_checkpoint(path):
            return self.save_as()  # never overwrite a shipped model or a checkpoint silently
        return self._save_to(path)

    def save_as(self) -> bool:
        suggestion = str(Path(self.folder("save")) / f"{self.state.name}.npz")
        path, _ = QFileDialog.getSaveFileName(self.window, "Save model as", suggestion, MODEL_FILTER)
        if not path:
            return False
        return self._save_to(path if path.endswith(".npz") else path + ".npz")

    def _save_to(self, path: str, said: str | None = None) -> bool:
        """Save the current model to ``path``; ``said`` replaces "Saved {path}" in the status bar."""
        refusal = None
        if is_shipped(path):
            refusal = f"{Path(path).name} is a model that comes with Denoise Studio; the app never writes over it."
        elif is_checkpoint(path):
            refusal = (f"{Path(path).name} is a training checkpoint; a model written over it would lose the run's "
                       "resume information.")  # fmt: skip
        if refusal is not None:
            dialogs.show_error(self.window, "Cannot save model", refusal, "Choose another name or folder (Save model "
                               "as…). The model is still in memory.")  # fmt: skip
            return False
        model = self.state.model
        written_by = model.metadata.get(WRITER_KEY)
        model.metadata[WRITER_KEY] = WRITER
        try:
            model.save(path)
        except (OSError, ValueError, TypeError) as exc:
            if written_by is None:
                model.metadata.pop(WRITER_KEY, None)
            else:
                model.metadata[WRITER_KEY] = written_by
            dialogs.show_error(self.window, "Cannot save model", f"Saving to {path} failed:\n{exc}",
                               "Choose another folder or file name; the model is still in memory.")
            return False
        self.state.mark_saved(path)
        self.add_recent(path)
        self.remember_folder("save", path)
        saved = said or f"Saved {path}"
        self.flashed.emit(saved)
        self.record_jobs.start(_record_saved, self.state.model, path, on_error=lambda exc: self.flashed.emit(
            f"{saved}, but its run could not be told: {exc}"), on_done=lambda run_id: run_id and self.flashed.emit(
            f"{saved} (run {run_id}'s model: the Runs tab opens it)"))  # fmt: skip
        return True

    # ----- saving when a run ends ---------------------------------------------------------------
    def set_save_after_run(self, on: bool) -> None:
        """File ▸ Save when a run ends (off by default; remembered)."""
        self.save_after_run = bool(on)
        self.settings.setValue("save_after_run", self.save_after_run)

    def run_saved(self, verdict: str) -> str | None:
        """A run ended (``verdict``) and its model is the current one: with *Save when a run ends* on, save it — to
        its own file when the app wrote that file, else to a new file in the last save folder.  Returns the path
        saved to, or None."""
        if not self.save_after_run or verdict not in ("done", "stopped"):
            return None
        own = self.state.model.path
        if own and self.wrote(own):
            return own if self._save_to(own, _run_saved(own)) else None
        path = self._new_file(Path(self.folder("save")), self.state.name)
        if path is None:
            dialogs.show_error(self.window, "Model not saved", f"No new file could be made in {self.folder('save')}.",
                               "Save it with Save model as…; the model is still in memory.")  # fmt: skip
            return None
        if self._save_to(str(path), _run_saved(str(path))):
            return str(path)
        path.unlink(missing_ok=True)  # the empty file that held the name
        return None

    def wrote(self, path: str) -> bool:
        """Whether ``path`` is a model file the app wrote (and may write again): not shipped, not a checkpoint, its
        header naming the app."""
        if is_shipped(path) or not Path(path).is_file() or is_checkpoint(path):
            return False
        try:
            metadata = read_header(path).get("metadata", {})
        except ModelFileError:
            return False
        return isinstance(metadata, dict) and metadata.get(WRITER_KEY) == WRITER

    @staticmethod
    def _new_file(folder: Path, stem: str) -> Path | None:
        """A file name in ``folder`` that no file has, made (empty) at once so no other writer takes it:
        ``{stem}-{date}-{time}.npz``, or with ``-2``, ``-3``… after it."""
        base = f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
        for n in range(1, 100):
            path = folder / (f"{base}.npz" if n == 1 else f"{base}-{n}.npz")
            try:
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            except FileExistsError:
                continue
            except OSError:
                return None
            return path
        return None

    # ----- recent and shipped models -------------------------------------------------------------
    def recent_files(self) -> list[str]:
        """The recent models, newest first (read with bounds: ``gui.stored_settings.read_recent``)."""
        return read_recent(self.settings)

    def add_recent(self, path: str) -> None:
        entry = recent_entry(path)
        if entry is None:  # a path the settings could not keep
            return
        write_recent(self.settings, [entry] + [p for p in self.recent_files() if p != entry])
        self._rebuild_recent()

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        paths = self.recent_files()
        for path in paths:
            action = self.recent_menu.addAction(_middle_elided(path, 90))
            hint(action, f"Open {path}")
            action.setData(path)
            action.triggered.connect(self._open_chosen)
        self.recent_menu.setEnabled(bool(paths))

    def _fill_shipped(self) -> None:
        """An entry a shipped model, named (what its file holds is read when the menu is first opened)."""
        for name in shipped_models():
            action = self.shipped_menu.addAction(name)
            hint(action, f"Open {name}, a model that comes with Denoise Studio")
            action.setData(name)
            action.setCheckable(True)  # the current model is checked
            action.triggered.connect(self._open_chosen)
        self.shipped_menu.setEnabled(bool(self.shipped_menu.actions()))

    def _describe_shipped(self) -> None:
        """Each entry says what its file holds ("name  —  784-10-784 · trained at σ 0.1 · …"): read once, the first
        time the menu opens or its entries are asked for (a model header each: not on the window's first screen)."""
        if self._described:
            return
        self._described = True
        for action in self.shipped_menu.actions():
            name, summary = action.data(), shipped_summary(action.data())
            action.setText(f"{name}  —  {summary}")
            hint(action, f"Open {name}, a model that comes with Denoise Studio ({summary})")

    def shipped_entries(self) -> list[QAction]:
        """File ▸ Shipped models' entries (their data: the model's name), each saying what its file holds."""
        self._describe_shipped()
        return self.shipped_menu.actions()

    def _open_chosen(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self._mark_shipped()  # a click toggles the check; the open decides what is current
            self.open_model(action.data())

    def _mark_shipped(self) -> None:
        """Check the shipped model that is loaded (none for any other model)."""
        model = self.state.model
        path = model.path if model is not None else None
        current = path if path and is_shipped(path) else None
        for action in self.shipped_menu.actions():
            action.setChecked(current is not None and Path(current).stem == action.data())

    # ----- folders ----------------------------------------------------------------------------
    def folder(self, purpose: str) -> str:
        """The folder a file dialog for ``purpose`` ("open", "save", "export", "image") starts in: the last one used
        for it, else the last one any file dialog used (Open right after a Save As starts where the file went), else
        the user's documents folder — never the installed package's own models."""
        for key in (f"folders/{purpose}", "folders/last"):
            last = read_folder(self.settings, key)
            if last is not None and not is_shipped(Path(last) / "x"):
                return last
        documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        return documents if documents and Path(documents).is_dir() else str(Path.home())

    def remember_folder(self, purpose: str, path: str) -> None:
        folder = usable_path(os.path.abspath(Path(path).parent))
        if folder is not None:
            self.settings.setValue(f"folders/{purpose}", folder)
            self.settings.setValue("folders/last", folder)

    # ----- pictures and exports ----------------------------------------------------------------
    def open_picture_dialog(self) -> None:
        """File ▸ Open image: a picture of one's own onto the Denoise tab's canvas."""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open image", self.folder("image"), PICTURE_FILTER)
        if path:
            self.remember_folder("image", path)
            self.paste_to_canvas(lambda tab: tab.open_picture(path, Path(path).name))

    def paste_picture(self) -> None:
        """File ▸ Paste image (Ctrl+V): the clipboard's picture onto the Denoise tab's canvas."""
        self.paste_to_canvas(lambda tab: tab.paste_picture())

    def paste_to_canvas(self, put) -> None:
        tab = self.window.denoise_tab
        self.window.tabs.setCurrentWidget(tab)
        put(tab)

    def export_image(self) -> None:
        """File ▸ Export image: a picture of the current tab as PNG."""
        tabs = self.window.tabs
        name = tabs.tabText(tabs.currentIndex()).lower()
        suggestion = str(Path(self.folder("export")) / f"{name}.png")
        path, _ = QFileDialog.getSaveFileName(self.window, "Export image", suggestion, "PNG images (*.png)")
        if not path:
            return
        self.remember_folder("export", path)
        if not tabs.currentWidget().grab().save(path, "PNG"):
            dialogs.show_error(self.window, "Cannot export image", f"Writing {path} failed.", "Choose another folder.")
            return
        self.flashed.emit(f"Exported {path}")

    def choose_export_path(
        self, title: str, file_filter: str, suffixes: tuple[str, ...], ours: Callable[[Path], bool], what: str
    ) -> str | None:
        """The file an export of the model goes to, or None: asked for (in the export folder, the model's name with
        the first of ``suffixes``, added when the name has none of them).  A file there that ``ours(path)`` says
        the app did not write (not ``what``, e.g. "a web page exported by Denoise Studio") is never replaced: a
        dialog says so; one the app wrote is replaced only when the user says yes."""
        suggestion = str(Path(self.folder("export")) / f"{self.state.name}{suffixes[0]}")
        path, _ = QFileDialog.getSaveFileName(self.window, title, suggestion, file_filter,
                                              options=QFileDialog.Option.DontConfirmOverwrite)  # fmt: skip
        if not path:
            return None
        path = path if Path(path).suffix.lower() in suffixes else path + suffixes[0]
        self.remember_folder("export", path)
        target = Path(path)
        if target.is_file() and not ours(target):
            dialogs.show_error(self.window, f"Not replacing {target.name}", f"{path} exists and is not {what}: "
                               "Denoise Studio never writes over a file it did not write.", "Choose another name "
                               "or folder, or move that file away first. Nothing was written.")  # fmt: skip
            return None
        if target.is_file():
            replace, cancel = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.Cancel
            box = dialogs.message_box(QMessageBox.Icon.Question, "Replace the file?", f"{target.name} exists: {what}.",
                                      replace | cancel, self.window,
                                      f"Replace it with {self.state.name}? The file there now will be lost.")
            box.button(replace).setText("Replace")
            box.setDefaultButton(cancel)
            if QMessageBox.StandardButton(box.exec()) != replace:
                return None
        return path

    def export_onnx(self) -> None:
        """File ▸ Export ▸ ONNX…: the current model as an ``.onnx`` file for other tools."""
        path = self.choose_export_path("Export ONNX", "ONNX models (*.onnx)", (".onnx",), is_onnx_export,
                                       "an ONNX file exported by Denoise Studio")  # fmt: skip
        if path is None:
            return
        try:
            export_onnx(self.state.model, path, name=self.state.name)
        except (OSError, ValueError, ImportError) as exc:
            dialogs.show_error(self.window, "Cannot export ONNX", f"Exporting to {path} failed:\n{exc}",
                               "Choose another folder or file name; the model is unchanged.")  # fmt: skip
            return
        self.flashed.emit(f"Exported {path}")
