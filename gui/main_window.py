"""The main window: menus and actions, the three tabs, the status bar, settings that persist."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QSettings, QSize, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTabWidget,
    QWidget,
)

from engine.model_format import ModelFileError, read_header
from engine.model_paths import is_shipped, resolve_model_path, shipped_models
from engine.nn import MLP, build_mlp
from engine.noise import LEVEL_NAMES, training_noise
from engine.onnx_export import INSTALL_HINT, export_onnx, onnx_available
from gui import dialogs
from gui.architecture_tab import ArchitectureTab
from gui.denoise_tab import DenoiseTab
from gui.guide import GuideDialog, about_html, data_folder
from gui.hints import hint
from gui.jobs import JobRunner
from gui.picture_import import FILE_FILTER as PICTURE_FILTER
from gui.theme import APP_NAME, ORGANIZATION, THEME_CHOICES, apply_theme
from gui.training_tab import TrainingTab

SHIPPED_MODEL = "mnist_denoising_autoencoder_gated"
"""The model the app opens with: trained over σ 0–1 with a gated skip from its input, it beats the best linear
denoiser at every σ of the slider (models/README.md; the seed's mnist_denoising_autoencoder is in File ▸ Shipped
models)."""
MAX_RECENT = 8
MODEL_FILTER = "Denoise Studio models (*.npz);;All files (*)"
STATUS_SPACING_PX = 40
"""The status bar's margins and gaps around its message, kept free when a hint is cut to fit."""


def load_start_model() -> tuple[MLP, str | None]:
    """The shipped model, or a fresh 784-10-784 one with a note saying why."""
    try:
        return MLP.from_file(SHIPPED_MODEL), None
    except ModelFileError as exc:
        model = build_mlp([784, 10, 784], ["relu", "sigmoid"], seed=0)
        return model, (
            f"Shipped model not available ({exc.problem}); started with an untrained 784-10-784 model — "
            "train it on the Training tab or open one with Ctrl+O"
        )


def _shipped_summary(name: str) -> str:
    """"σ 0.1 · test MSE 0.0298" from a shipped model's header (how it was trained and how well it does)."""
    try:
        metadata = read_header(resolve_model_path(name)).get("metadata", {})
    except ModelFileError:
        return "cannot be read"
    setting = training_noise(metadata)
    parts = [f"trained at {setting.describe()}"] if setting is not None else []
    level = LEVEL_NAMES[setting.kind] if setting is not None else "σ"
    metrics = metadata.get("metrics") if isinstance(metadata.get("metrics"), dict) else {}
    for key, value in metrics.items():
        if key.startswith("test_mse@") and isinstance(value, (int, float)):
            parts.append(f"test MSE {value:.4f} at {level} {key.partition('@')[2]}")
            break
    return " · ".join(parts) or "no training record"


def _first_size() -> QSize:
    """1280×800 on a first start, or the screen's available area when that is smaller."""
    screen = QGuiApplication.primaryScreen()
    available = screen.availableGeometry().size() if screen is not None else QSize(1280, 800)
    return QSize(max(1024, min(1280, available.width())), max(700, min(800, available.height())))


def _middle_elided(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width // 2 - 1] + "…" + text[-(width - width // 2):]


def _load_model(path: str, state) -> MLP:
    """Runs on a pool thread: reading a wide model file can take seconds."""
    return MLP.from_file(path)


class MainWindow(QMainWindow):
    """Owns the current model; tabs show it, the Training tab hands back trained copies."""

    openFinished = Signal(bool)  # an open_model() ended: True when the model was opened

    def __init__(self, model: MLP | None = None, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings(ORGANIZATION, APP_NAME)
        self.model: MLP | None = None
        self.model_name = "untitled"
        self.dirty = False
        self._after_run = None
        self._guide: GuideDialog | None = None  # what to do once the running training has stopped (quit, open a model)
        self.setWindowTitle(APP_NAME)
        self.setMinimumSize(1024, 700)  # every tab fits here without overlap; it cannot shrink below
        self.resize(_first_size())

        self.tabs = QTabWidget()
        self.architecture_tab = ArchitectureTab()
        self.training_tab = TrainingTab()
        self.denoise_tab = DenoiseTab()
        self.tabs.addTab(self.architecture_tab, "Architecture")
        self.tabs.addTab(self.training_tab, "Training")
        self.tabs.addTab(self.denoise_tab, "Denoise")
        self.tabs.setTabToolTip(0, "The network's layers, parameters and weights; build a new one (Ctrl+1)")
        self.tabs.setTabToolTip(1, "Train the model on MNIST or Fashion-MNIST with live curves (Ctrl+2)")
        self.tabs.setTabToolTip(2, "Draw, pick a test image or open a picture, add noise, watch the model clean it "
                                   "(Ctrl+3)")  # fmt: skip
        self.setCentralWidget(self.tabs)
        for number in range(self.tabs.count()):  # Ctrl+1, Ctrl+2, Ctrl+3 go to a tab
            QShortcut(QKeySequence(f"Ctrl+{number + 1}"), self, activated=lambda n=number: self.tabs.setCurrentIndex(n))

        self.architecture_tab.editor.newModel.connect(self._on_new_model)
        self.training_tab.modelTrained.connect(self._on_trained)
        self.denoise_tab.modelApplied.connect(self._on_applied)
        self.training_tab.runningChanged.connect(self._on_running)
        self.training_tab.message.connect(self._flash)
        self.denoise_tab.latentChanged.connect(self.architecture_tab.hourglass.set_latent)
        self.denoise_tab.scoreChanged.connect(lambda text: self.status_mse.setText(text))
        self.open_jobs = JobRunner(self)

        self._build_menus()
        self.status_model = QLabel()
        self.status_params = QLabel()
        self.status_mse = QLabel()
        for label in (self.status_model, self.status_params, self.status_mse):
            label.setContentsMargins(8, 0, 8, 0)
            self.statusBar().addPermanentWidget(label)

        note = None
        if model is None:
            model, note = load_start_model()
            name = SHIPPED_MODEL if note is None else "untitled"
        else:
            name = Path(model.path).stem if model.path else "untitled"
        self.set_model(model, name=name, dirty=False)
        self._restore_settings()
        if note:
            self.statusBar().showMessage(note, 15000)

    # ----- menus -----------------------------------------------------------------------------
    def _action(self, text: str, tip: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        hint(action, tip)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        menu = self.menuBar().addMenu("&File")
        self.open_action = self._action(
            "&Open model…", "Load a model file (.npz)", self.open_dialog, QKeySequence.StandardKey.Open
        )
        self.save_action = self._action(
            "&Save model", "Save the model to its file", self.save, QKeySequence.StandardKey.Save
        )
        self.save_as_action = self._action(
            "Save model &as…", "Save the model to a new file", self.save_as, QKeySequence.StandardKey.SaveAs
        )
        self.open_picture_action = self._action(
            "Open &image…",
            "Bring a picture (PNG, JPEG, BMP, GIF) to the Denoise tab's canvas: made grey, inverted if its "
            "background is light, framed as an MNIST digit, then denoised. You can also drop one on the canvas",
            self.open_picture_dialog,
            QKeySequence("Ctrl+Shift+O"),
        )
        self.paste_picture_action = self._action(
            "&Paste image",
            "Put the picture on the clipboard (or a copied picture file) on the Denoise tab's canvas",
            self.paste_picture,
            QKeySequence.StandardKey.Paste,
        )
        self.recent_menu = menu.addMenu("&Recent models")
        self.shipped_menu = menu.addMenu("Shipped &models")
        for name in shipped_models():
            action = self.shipped_menu.addAction(f"{name}  —  {_shipped_summary(name)}")
            hint(action, f"Open {name}, a model that comes with Denoise Studio ({_shipped_summary(name)})")
            action.setData(name)
            action.setCheckable(True)  # the current model is checked
            action.triggered.connect(self._open_recent)
        self.shipped_menu.setEnabled(bool(self.shipped_menu.actions()))
        self.export_action = self._action(
            "&Export image…", "Save a picture of the current tab as PNG", self.export_image, QKeySequence("Ctrl+E")
        )
        self.export_menu = QMenu("Expor&t", self)
        self.export_menu.setToolTipsVisible(True)
        hint(self.export_menu.menuAction(), "Save the model in a format other tools read")
        self.export_onnx_action = self._action(
            "&ONNX…", "Save the model as ONNX, to run it with onnxruntime or other tools", self.export_onnx
        )
        if not onnx_available():
            self.export_onnx_action.setEnabled(False)
            hint(self.export_onnx_action, f"ONNX export needs the onnx package: {INSTALL_HINT}")
        self.export_menu.addAction(self.export_onnx_action)
        self.quit_action = self._action("&Quit", "Close Denoise Studio", self.close, QKeySequence.StandardKey.Quit)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        menu.addAction(self.open_action)
        menu.addAction(self.save_action)
        menu.addAction(self.save_as_action)
        menu.addMenu(self.recent_menu)
        menu.addMenu(self.shipped_menu)
        menu.addSeparator()
        menu.addAction(self.open_picture_action)
        menu.addAction(self.paste_picture_action)
        menu.addSeparator()
        menu.addAction(self.export_action)
        menu.addMenu(self.export_menu)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        view = self.menuBar().addMenu("&View")
        theme_menu = view.addMenu("&Theme")
        self.theme_actions = QActionGroup(self)
        for choice in THEME_CHOICES:
            tip = "Follow the desktop's light or dark setting" if choice == "system" else f"Use the {choice} theme"
            action = self._action(choice.title(), tip, lambda _=False, c=choice: self.set_theme(c))
            action.setCheckable(True)
            action.setData(choice)
            self.theme_actions.addAction(action)
            theme_menu.addAction(action)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self._action(
            "&Guide", "What a denoising autoencoder is, what each tab shows, how to read the curves", self.show_guide,
            QKeySequence.StandardKey.HelpContents,
        ))  # fmt: skip
        help_menu.addAction(self._action("&About", "Version, libraries and the MNIST folder in use", self.about))
        for each in (menu, self.recent_menu, self.shipped_menu, view, theme_menu, help_menu):
            each.setToolTipsVisible(True)  # hovering a menu entry shows its hint
        self._rebuild_recent()

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        paths = self.recent_files()
        for path in paths:
            action = self.recent_menu.addAction(_middle_elided(path, 90))
            hint(action, f"Open {path}")
            action.setData(path)
            action.triggered.connect(self._open_recent)
        self.recent_menu.setEnabled(bool(paths))

    def _open_recent(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self._mark_shipped()  # a click toggles the check; the open decides what is current
            self.open_model(action.data())

    def _mark_shipped(self) -> None:
        """Check the shipped model that is loaded (none for any other model)."""
        path = self.model.path if self.model is not None else None
        current = path if path and is_shipped(path) else None
        for action in self.shipped_menu.actions():
            action.setChecked(current is not None and Path(current).stem == action.data())

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: str) -> None:
        path = str(Path(path).resolve())
        paths = [path] + [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent", paths[:MAX_RECENT])
        self._rebuild_recent()

    # ----- the model -------------------------------------------------------------------------
    def set_model(self, model: MLP, name: str | None = None, dirty: bool = False, keep_noise: bool = False) -> None:
        """Make ``model`` the current one and show it in every tab (``keep_noise``: the Denoise tab stays at the
        noise the user set, for a changed copy of the network it shows)."""
        self.model = model
        if name is not None:
            self.model_name = name
        self.dirty = dirty
        self.architecture_tab.set_model(model)
        self.training_tab.set_model(model)
        self.denoise_tab.set_model(model, keep_noise=keep_noise)
        self.update_status()
        self._mark_shipped()

    def update_status(self) -> None:
        model = self.model
        mark = " *" if self.dirty else ""
        self.status_model.setText(f"Model: {self.model_name}{mark}")
        self.status_params.setText(f"{model.n_params:,} parameters")
        self.setWindowTitle(f"{self.model_name}{mark} — {APP_NAME}")

    def _on_new_model(self, model: MLP) -> None:
        if not self._stop_training_first("make the new model", lambda: self._on_new_model(model)):
            return
        if not self._maybe_save("making a new model"):
            return
        self.set_model(model, name="untitled", dirty=True)
        self.tabs.setCurrentWidget(self.training_tab)
        self._flash("New untrained model: press Start to train it")

    def _on_trained(self, model: MLP) -> None:
        self.set_model(model, dirty=True)

    def _on_applied(self, model: MLP) -> None:
        """A perturbed copy made the model (Denoise ▸ Inside the network ▸ Apply): unsaved, like a trained one."""
        if not self._stop_training_first("apply the perturbed network", lambda: self._on_applied(model)):
            return
        self.set_model(model, dirty=True, keep_noise=True)  # the σ the user was looking at stays
        self._flash("The perturbed network is now the model (unsaved): Save keeps it, reopening the file undoes it")

    def _on_running(self, running: bool) -> None:
        for action in (self.save_action, self.save_as_action):  # the model being trained is a copy
            action.setEnabled(not running)
        if not running and self._after_run is not None:
            then, self._after_run = self._after_run, None
            QTimer.singleShot(0, then)  # after the trained model has been handed back

    def _stop_training_first(self, doing: str, then) -> bool:
        """True when no run is on.  Otherwise ask to stop it; on yes, stop and call ``then`` once it has
        ended (its model handed back); either way return False: the caller does nothing now."""
        if not self.training_tab.is_running():
            return True
        if dialogs.ask_stop_training(self, doing):
            if self.training_tab.is_running():
                self._after_run = then
                self.training_tab.stop()
            else:  # the run ended while the question was open: nothing to wait for
                QTimer.singleShot(0, then)
        return False

    def _flash(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    # ----- files -----------------------------------------------------------------------------
    def _folder(self, purpose: str) -> str:
        """The folder a file dialog for ``purpose`` ("open", "save", "export", "image") starts in: the last one used
        for it, else the last one any file dialog used (Open right after a Save As starts where the file went), else
        the user's documents folder — never the installed package's own models."""
        for key in (f"folders/{purpose}", "folders/last"):
            last = str(self.settings.value(key, "") or "")
            if last and Path(last).is_dir() and not is_shipped(Path(last) / "x"):
                return last
        documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        return documents if documents and Path(documents).is_dir() else str(Path.home())

    def _remember_folder(self, purpose: str, path: str) -> None:
        folder = str(Path(path).parent)
        self.settings.setValue(f"folders/{purpose}", folder)
        self.settings.setValue("folders/last", folder)

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", self._folder("open"), MODEL_FILTER)
        if path:
            self._remember_folder("open", path)
            self.open_model(path)

    def open_picture_dialog(self) -> None:
        """File ▸ Open image: a picture of one's own onto the Denoise tab's canvas."""
        path, _ = QFileDialog.getOpenFileName(self, "Open image", self._folder("image"), PICTURE_FILTER)
        if path:
            self._remember_folder("image", path)
            self.tabs.setCurrentWidget(self.denoise_tab)
            self.denoise_tab.open_picture(path, Path(path).name)

    def paste_picture(self) -> None:
        """File ▸ Paste image (Ctrl+V): the clipboard's picture onto the Denoise tab's canvas."""
        self.tabs.setCurrentWidget(self.denoise_tab)
        self.denoise_tab.paste_picture()

    def open_model(self, path: str) -> None:
        """Load a model file off the GUI thread; on failure show why and keep the current model.

        ``openFinished(bool)`` tells when it is done.  Asks first when training runs or the model is unsaved.
        """
        name = Path(str(path)).stem
        if not self._stop_training_first(f"open {name}", lambda: self.open_model(path)):
            return
        if not self._maybe_save("switching models"):
            return
        self.statusBar().showMessage(f"Opening {path}…")
        self.open_jobs.start(_load_model, str(path), on_done=self._opened, on_error=self._open_failed)

    def _opened(self, model: MLP) -> None:
        self.statusBar().clearMessage()
        if model.n_in != 784 or model.n_out != 784:
            dialogs.show_error(
                self,
                "Not a denoising model",
                f"{model.path} maps {model.n_in} → {model.n_out} values; Denoise Studio needs 784 → 784.",
                "Open an autoencoder trained on 28×28 images. The current model stays loaded.",
            )
            self.openFinished.emit(False)
            return
        self.set_model(model, name=Path(model.path).stem, dirty=False)
        if not is_shipped(model.path):
            self._add_recent(model.path)
        self._flash(f"Opened {model.path}")
        self.openFinished.emit(True)

    def _open_failed(self, exc: BaseException) -> None:
        self.statusBar().clearMessage()
        if isinstance(exc, MemoryError):
            dialogs.show_error(self, "Cannot open model", "There is not enough memory to load this model.",
                               "Close other programs or open a smaller model. The current model stays loaded.")
        elif isinstance(exc, ModelFileError):
            dialogs.show_exception(self, "Cannot open model", exc)
        else:
            dialogs.show_error(self, "Cannot open model", f"{type(exc).__name__}: {exc}",
                               "The current model stays loaded.")
        self.openFinished.emit(False)

    def save(self) -> bool:
        path = self.model.path
        if not path or is_shipped(path):
            return self.save_as()  # never overwrite a shipped model silently
        return self._save_to(path)

    def save_as(self) -> bool:
        suggestion = str(Path(self._folder("save")) / f"{self.model_name}.npz")
        path, _ = QFileDialog.getSaveFileName(self, "Save model as", suggestion, MODEL_FILTER)
        if not path:
            return False
        if not path.endswith(".npz"):
            path += ".npz"
        return self._save_to(path)

    def _save_to(self, path: str) -> bool:
        if is_shipped(path):
            dialogs.show_error(
                self,
                "Cannot save model",
                f"{Path(path).name} is a model that comes with Denoise Studio; the app never writes over it.",
                "Choose another name or folder (Save model as…). The model is still in memory.",
            )
            return False
        try:
            self.model.save(path)
        except (OSError, ValueError, TypeError) as exc:
            dialogs.show_error(self, "Cannot save model", f"Saving to {path} failed:\n{exc}",
                               "Choose another folder or file name; the model is still in memory.")
            return False
        self.model.path = str(path)
        self.model_name = Path(path).stem
        self.dirty = False
        self.update_status()
        self._add_recent(path)
        self._remember_folder("save", path)
        self._flash(f"Saved {path}")
        return True

    def export_image(self) -> None:
        tab = self.tabs.currentWidget()
        name = self.tabs.tabText(self.tabs.currentIndex()).lower()
        suggestion = str(Path(self._folder("export")) / f"{name}.png")
        path, _ = QFileDialog.getSaveFileName(self, "Export image", suggestion, "PNG images (*.png)")
        if not path:
            return
        self._remember_folder("export", path)
        if not tab.grab().save(path, "PNG"):
            dialogs.show_error(self, "Cannot export image", f"Writing {path} failed.", "Choose another folder.")
            return
        self._flash(f"Exported {path}")

    def export_onnx(self) -> None:
        """File ▸ Export ▸ ONNX…: the current model as an ``.onnx`` file for other tools."""
        suggestion = str(Path(self._folder("export")) / f"{self.model_name}.onnx")
        path, _ = QFileDialog.getSaveFileName(self, "Export ONNX", suggestion, "ONNX models (*.onnx)")
        if not path:
            return
        if not path.endswith(".onnx"):
            path += ".onnx"
        self._remember_folder("export", path)
        try:
            export_onnx(self.model, path, name=self.model_name)
        except (OSError, ValueError, ImportError) as exc:
            dialogs.show_error(self, "Cannot export ONNX", f"Exporting to {path} failed:\n{exc}",
                               "Choose another folder or file name; the model is unchanged.")  # fmt: skip
            return
        self._flash(f"Exported {path}")

    def show_guide(self) -> None:
        if self._guide is None:
            self._guide = GuideDialog(self)
        self._guide.show()
        self._guide.raise_()

    def about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}", about_html(data_folder()))

    # ----- closing and settings ----------------------------------------------------------------
    def _maybe_save(self, doing: str) -> bool:
        """True when it is fine to drop the current model (saved, discarded, or unchanged); ``doing``
        names the action in the question ("closing", "switching models")."""
        if not self.dirty:
            return True
        answer = dialogs.ask_save_changes(self, self.model_name, doing)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.StatusTip:  # a hovered control's hint, for the status bar
            self.statusBar().showMessage(self._fit_status(event.tip()))
            return True
        return super().event(event)

    def _fit_status(self, text: str) -> str:
        """``text`` cut to the room left of the model, parameters and score, with "…" where it is cut (the
        whole hint is in the tooltip); it was clipped mid-word."""
        bar = self.statusBar()
        taken = sum(label.width() for label in (self.status_model, self.status_params, self.status_mse))
        room = bar.width() - taken - STATUS_SPACING_PX
        return bar.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, max(room, 0))

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if not self._stop_training_first("quit", self.close):  # closes again once the run's model is back
            event.ignore()
            return
        if not self._maybe_save("closing"):
            event.ignore()
            return
        self._save_settings()
        event.accept()

    def _save_settings(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("tab", self.tabs.currentIndex())
        self.settings.sync()

    def set_theme(self, choice: str) -> None:
        """Apply a theme choice ("system", "light", "dark") live and remember it."""
        choice = choice if choice in THEME_CHOICES else "system"
        self.settings.setValue("theme", choice)
        for action in self.theme_actions.actions():
            action.setChecked(action.data() == choice)
        apply_theme(QApplication.instance(), choice)

    def _follow_system_theme(self) -> None:
        if self.settings.value("theme", "system") == "system":
            apply_theme(QApplication.instance(), "system")

    def _restore_settings(self) -> None:
        self.set_theme(str(self.settings.value("theme", "system")))
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            hints.colorSchemeChanged.connect(self._follow_system_theme)
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        tab = self.settings.value("tab", 2)
        try:
            self.tabs.setCurrentIndex(int(tab))
        except (TypeError, ValueError):
            self.tabs.setCurrentIndex(2)

    def current_tab(self) -> QWidget:
        return self.tabs.currentWidget()

