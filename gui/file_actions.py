"""The File menu's work: open, save, save as, recent and shipped models, pictures, and exports.

``FileActions`` acts on the app's ``AppState`` for the window: a model is read off the GUI thread and
becomes current only once read and checked; a save is atomic (the engine's) and never writes over a
shipped model.  Before the current model is replaced it asks to stop a running run and to save unsaved work
(``may_replace``).  Every failure gets a dialog that says what happened and that nothing was lost.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QStandardPaths, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QMessageBox

from engine.model_format import ModelFileError, read_header
from engine.model_paths import is_shipped, resolve_model_path, shipped_models
from engine.nn import MLP
from engine.noise import LEVEL_NAMES, training_noise
from engine.onnx_export import export_onnx
from gui.app_state import AppState
from gui.common import dialogs
from gui.common.hints import hint
from gui.common.jobs import JobRunner
from gui.denoise.picture_import import FILE_FILTER as PICTURE_FILTER

MAX_RECENT = 8
MODEL_FILTER = "Denoise Studio models (*.npz);;All files (*)"


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


def _load_model(path: str, state) -> MLP:
    """Runs on a pool thread: reading a wide model file can take seconds."""
    return MLP.from_file(path)


class FileActions(QObject):
    """Files for ``window`` (its status bar, dialogs and tabs) on ``state``; ``openFinished(bool)`` after an open."""

    openFinished = Signal(bool)  # an open_model() ended: True when the model was opened
    flashed = Signal(str)  # a short confirmation for the status bar

    def __init__(self, window: QMainWindow, state: AppState, settings: QSettings) -> None:
        super().__init__(window)
        self.window, self.state, self.settings = window, state, settings
        self._after_run = None  # what to do once the running training has stopped (quit, open a model)
        self.open_jobs = JobRunner(self)
        self.recent_menu = QMenu("&Recent models", window)
        self.shipped_menu = QMenu("Shipped &models", window)
        for menu in (self.recent_menu, self.shipped_menu):
            menu.setToolTipsVisible(True)
        self._fill_shipped()
        self._rebuild_recent()
        state.modelChanged.connect(lambda change: self._mark_shipped())

    # ----- before the model is replaced --------------------------------------------------------
    def may_replace(self, doing: str, then, losing: str | None = None) -> bool:
        """True when the current model may go now: no run, and — when ``losing`` names what would lose it
        ("closing", "switching models") — saved, discarded or unchanged.  With a run on, ask to stop it
        ("stop it and {doing}?"); on yes, stop and call ``then`` once it has ended; either way False now."""
        training = self.window.training_tab
        if training.is_running():
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

    def open_model(self, path: str) -> None:
        """Read a model file off the GUI thread; on failure say why and keep the current model.  Asks first when
        training runs or the model is unsaved; ``openFinished(bool)`` tells when it is done."""
        if not self.may_replace(f"open {Path(str(path)).stem}", lambda: self.open_model(path), "switching models"):
            return
        self.window.statusBar().showMessage(f"Opening {path}…")
        self.open_jobs.start(_load_model, str(path), on_done=self._opened, on_error=self._open_failed)

    def _opened(self, model: MLP) -> None:
        self.window.statusBar().clearMessage()
        if model.n_in != 784 or model.n_out != 784:
            what = f"{model.path} maps {model.n_in} → {model.n_out} values; Denoise Studio needs 784 → 784."
            todo = "Open an autoencoder trained on 28×28 images. The current model stays loaded."
            dialogs.show_error(self.window, "Not a denoising model", what, todo)
            self.openFinished.emit(False)
            return
        self.state.set_model(model, dirty=False, origin="opened")
        if not is_shipped(model.path):
            self.add_recent(model.path)
        self.flashed.emit(f"Opened {model.path}")
        self.openFinished.emit(True)

    def _open_failed(self, exc: BaseException) -> None:
        self.window.statusBar().clearMessage()
        if isinstance(exc, MemoryError):
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
        if not path or is_shipped(path):
            return self.save_as()  # never overwrite a shipped model silently
        return self._save_to(path)

    def save_as(self) -> bool:
        suggestion = str(Path(self.folder("save")) / f"{self.state.name}.npz")
        path, _ = QFileDialog.getSaveFileName(self.window, "Save model as", suggestion, MODEL_FILTER)
        if not path:
            return False
        return self._save_to(path if path.endswith(".npz") else path + ".npz")

    def _save_to(self, path: str) -> bool:
        if is_shipped(path):
            dialogs.show_error(self.window, "Cannot save model",
                               f"{Path(path).name} is a model that comes with Denoise Studio; the app never writes "
                               "over it.", "Choose another name or folder (Save model as…). The model is still in "
                               "memory.")  # fmt: skip
            return False
        try:
            self.state.model.save(path)
        except (OSError, ValueError, TypeError) as exc:
            dialogs.show_error(self.window, "Cannot save model", f"Saving to {path} failed:\n{exc}",
                               "Choose another folder or file name; the model is still in memory.")
            return False
        self.state.mark_saved(path)
        self.add_recent(path)
        self.remember_folder("save", path)
        self.flashed.emit(f"Saved {path}")
        return True

    # ----- recent and shipped models -------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent(self, path: str) -> None:
        path = str(Path(path).resolve())
        paths = [path] + [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent", paths[:MAX_RECENT])
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
        for name in shipped_models():
            action = self.shipped_menu.addAction(f"{name}  —  {shipped_summary(name)}")
            hint(action, f"Open {name}, a model that comes with Denoise Studio ({shipped_summary(name)})")
            action.setData(name)
            action.setCheckable(True)  # the current model is checked
            action.triggered.connect(self._open_chosen)
        self.shipped_menu.setEnabled(bool(self.shipped_menu.actions()))

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
            last = str(self.settings.value(key, "") or "")
            if last and Path(last).is_dir() and not is_shipped(Path(last) / "x"):
                return last
        documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        return documents if documents and Path(documents).is_dir() else str(Path.home())

    def remember_folder(self, purpose: str, path: str) -> None:
        folder = str(Path(path).parent)
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

    def export_onnx(self) -> None:
        """File ▸ Export ▸ ONNX…: the current model as an ``.onnx`` file for other tools."""
        suggestion = str(Path(self.folder("export")) / f"{self.state.name}.onnx")
        path, _ = QFileDialog.getSaveFileName(self.window, "Export ONNX", suggestion, "ONNX models (*.onnx)")
        if not path:
            return
        path = path if path.endswith(".onnx") else path + ".onnx"
        self.remember_folder("export", path)
        try:
            export_onnx(self.state.model, path, name=self.state.name)
        except (OSError, ValueError, ImportError) as exc:
            dialogs.show_error(self.window, "Cannot export ONNX", f"Exporting to {path} failed:\n{exc}",
                               "Choose another folder or file name; the model is unchanged.")  # fmt: skip
            return
        self.flashed.emit(f"Exported {path}")
