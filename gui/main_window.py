"""The main window: the three tabs, the menu bar, the status bar, and the settings that persist (size, tab, theme).

The window shows the app's ``AppState`` (the model's name and size in the status bar and title) and
arbitrates changes of model that need the user's say (a new model from the Architecture tab, a perturbed
copy applied): ``FileActions.may_replace`` asks to stop a run and to save first.  File work is
``gui.file_actions``; the menus are the table in ``gui.menus``.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QActionGroup, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QMenu, QMessageBox, QTabWidget

from engine.model_format import ModelFileError
from engine.nn import MLP, build_mlp
from engine.onnx_export import INSTALL_HINT, onnx_available
from engine.runs import database_path
from gui.app_state import AppState, ModelChange
from gui.architecture.tab import ArchitectureTab
from gui.common import dialogs
from gui.common.hints import hint
from gui.common.theme import APP_NAME, ORGANIZATION, THEME_CHOICES, apply_theme
from gui.denoise.tab import DenoiseTab
from gui.file_actions import FileActions
from gui.guide import GuideDialog, about_html, data_folders
from gui.menus import build_menus, make_action
from gui.training.tab import TrainingTab
from gui.training.worker import run_recorder

SHIPPED_MODEL = "mnist_denoising_autoencoder_gated"
"""The model the app opens with: trained over σ 0–1 with a gated skip from its input, it beats the best linear
denoiser at every σ of the slider (models/README.md; the seed's mnist_denoising_autoencoder is in File ▸ Shipped
models)."""
STOP_WAIT_MS = 10000
"""Quitting during a run: how long the window waits for the stopped run to hand its model back before it closes
anyway (a run stuck in a long call must not keep the window open)."""
STATUS_SPACING_PX = 40
"""The status bar's margins and gaps around its message, kept free when a hint is cut to fit."""
TAB_TIPS = (
    "The network's layers, parameters and weights; build a new one (Ctrl+1)",
    "Train the model on MNIST or Fashion-MNIST with live curves (Ctrl+2)",
    "Draw, pick a test image or open a picture, add noise, watch the model clean it (Ctrl+3)",
)


def load_start_model() -> tuple[MLP, str, str | None]:
    """The shipped model and its name, or a fresh 784-10-784 one with a note saying why."""
    try:
        return MLP.from_file(SHIPPED_MODEL), SHIPPED_MODEL, None
    except ModelFileError as exc:
        model = build_mlp([784, 10, 784], ["relu", "sigmoid"], seed=0)
        return model, "untitled", (
            f"Shipped model not available ({exc.problem}); started with an untrained 784-10-784 model — "
            "train it on the Training tab or open one with Ctrl+O"
        )


def _first_size() -> QSize:
    """1280×800 on a first start, or the screen's available area when that is smaller."""
    screen = QGuiApplication.primaryScreen()
    available = screen.availableGeometry().size() if screen is not None else QSize(1280, 800)
    return QSize(max(1024, min(1280, available.width())), max(700, min(800, available.height())))


class MainWindow(QMainWindow):
    """The tabs over one ``AppState`` (made here, with ``model`` or the shipped one, unless given)."""

    def __init__(self, model: MLP | None = None, settings: QSettings | None = None, state: AppState | None = None):
        super().__init__()
        self.settings = settings or QSettings(ORGANIZATION, APP_NAME)
        self.state = state if state is not None else AppState()
        self._guide: GuideDialog | None = None
        self._close_anyway = False  # the run was asked to stop for a quit and did not: close without it
        self.setWindowTitle(APP_NAME)
        self.setMinimumSize(1024, 700)  # every tab fits here without overlap; it cannot shrink below
        self.resize(_first_size())
        self.tabs = QTabWidget()
        self.architecture_tab = ArchitectureTab(self.state)
        self.training_tab = TrainingTab(self.state)
        self.denoise_tab = DenoiseTab(self.state)
        for tab, name, tip in zip((self.architecture_tab, self.training_tab, self.denoise_tab),
                                  ("Architecture", "Training", "Denoise"), TAB_TIPS, strict=True):  # fmt: skip
            self.tabs.setTabToolTip(self.tabs.addTab(tab, name), tip)
        self.setCentralWidget(self.tabs)
        for number in range(self.tabs.count()):  # Ctrl+1, Ctrl+2, Ctrl+3 go to a tab
            QShortcut(QKeySequence(f"Ctrl+{number + 1}"), self, activated=lambda n=number: self.tabs.setCurrentIndex(n))
        self.files = FileActions(self, self.state, self.settings)
        self.actions = build_menus(self, {"recent": self.files.recent_menu, "shipped": self.files.shipped_menu,
                                          "theme": self._theme_menu()})  # fmt: skip
        hint(self.actions["record_runs"], f"{self.actions['record_runs'].toolTip()} (it is {database_path()})")
        if not onnx_available():
            self.actions["export_onnx"].setEnabled(False)
            hint(self.actions["export_onnx"], f"ONNX export needs the onnx package: {INSTALL_HINT}")
        self._build_status_bar()
        self._connect()
        note = None
        if model is None and self.state.model is None:
            model, name, note = load_start_model()
            self.state.set_model(model, name=name, dirty=False)
        elif model is not None:
            self.state.set_model(model, dirty=False)
        else:
            self._show_model(ModelChange(self.state.model, "opened"))
        self._restore_settings()
        if note:
            self.statusBar().showMessage(note, 15000)

    def _build_status_bar(self) -> None:
        self.status_model, self.status_params, self.status_mse = QLabel(), QLabel(), QLabel()
        for label in (self.status_model, self.status_params, self.status_mse):
            label.setContentsMargins(8, 0, 8, 0)
            self.statusBar().addPermanentWidget(label)

    def _connect(self) -> None:
        self.state.modelChanged.connect(self._show_model)
        self.state.savedChanged.connect(self.update_status)
        self.architecture_tab.editor.newModel.connect(self._on_new_model)
        self.denoise_tab.modelApplied.connect(self._on_applied)
        self.training_tab.runningChanged.connect(self._on_running)
        self.training_tab.message.connect(self.flash)
        self.training_tab.run.reported.connect(self._on_run_report)
        self.files.flashed.connect(self.flash)
        self.denoise_tab.score.scoreChanged.connect(self.status_mse.setText)
        hourglass = self.architecture_tab.hourglass  # lights up with the code of what the Denoise tab shows
        self.denoise_tab.state.shownChanged.connect(lambda shown: hourglass.set_latent(shown.code))

    def _theme_menu(self) -> QMenu:
        menu = QMenu("&Theme", self)
        self.theme_actions = QActionGroup(self)
        for choice in THEME_CHOICES:
            tip = "Follow the desktop's light or dark setting" if choice == "system" else f"Use the {choice} theme"
            action = make_action(self, choice.title(), tip, lambda c=choice: self.set_theme(c))
            action.setCheckable(True)
            action.setData(choice)
            self.theme_actions.addAction(action)
            menu.addAction(action)
        return menu

    # ----- the model -------------------------------------------------------------------------
    def _show_model(self, change: ModelChange) -> None:
        self.update_status()

    def update_status(self) -> None:
        mark = " *" if self.state.dirty else ""
        self.status_model.setText(f"Model: {self.state.name}{mark}")
        self.status_params.setText(f"{self.state.model.n_params:,} parameters")
        self.setWindowTitle(f"{self.state.name}{mark} — {APP_NAME}")

    def _on_new_model(self, model: MLP) -> None:
        if self.files.may_replace("make the new model", lambda: self._on_new_model(model), "making a new model"):
            self.state.set_model(model, name="untitled", dirty=True, origin="new")
            self.tabs.setCurrentWidget(self.training_tab)
            self.flash("New untrained model: press Start to train it")

    def _on_applied(self, model: MLP) -> None:
        """A perturbed copy made the model (Denoise ▸ Inside the network ▸ Apply): unsaved, like a trained one."""
        if self.files.may_replace("apply the perturbed network", lambda: self._on_applied(model)):
            self.state.set_model(model, name=self.state.name, dirty=True, origin="applied")  # the noise set stays
            self.flash("The perturbed network is now the model (unsaved): Save keeps it, reopening the file undoes it")

    def set_recording(self, on: bool) -> None:
        """File ▸ Record training runs: the runs database records the Training tab's next runs (or not)."""
        self.settings.setValue("record_runs", on)
        watchers = self.training_tab.watchers
        if on and run_recorder not in watchers:
            watchers.append(run_recorder)
        elif not on and run_recorder in watchers:
            watchers.remove(run_recorder)

    def _on_run_report(self, topic: str, text: object) -> None:
        if topic == "runs":  # the runs database failed: said once a run, training goes on
            dialogs.show_error(self, "Run not recorded", str(text), "Training goes on and its model is kept as "
                               "usual. Move the file aside, or turn off File ▸ Record training runs.")  # fmt: skip

    def _on_running(self, running: bool) -> None:
        for key in ("save", "save_as"):  # the model being trained is a copy
            self.actions[key].setEnabled(not running)
        if not running:
            self.files.run_ended()

    def flash(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    # ----- help -------------------------------------------------------------------------------
    def show_guide(self) -> None:
        if self._guide is None:
            self._guide = GuideDialog(self)
        self._guide.show()
        self._guide.raise_()

    def about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}", about_html(data_folders()))

    # ----- the status bar's hints, closing, settings -------------------------------------------
    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.StatusTip:  # a hovered control's hint, for the status bar
            self.statusBar().showMessage(self._fit_status(event.tip()))
            return True
        return super().event(event)

    def _fit_status(self, text: str) -> str:
        """``text`` cut to the room left of the model, parameters and score, with "…" where it is cut (the
        whole hint is in the tooltip)."""
        bar = self.statusBar()
        taken = sum(label.width() for label in (self.status_model, self.status_params, self.status_mse))
        room = bar.width() - taken - STATUS_SPACING_PX
        return bar.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, max(room, 0))

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if not self._close_anyway and not self.files.may_replace("quit", self.close, "closing"):
            event.ignore()  # closes again once the run's model is back
            if self.training_tab.is_running():
                QTimer.singleShot(STOP_WAIT_MS, self._close_if_run_stuck)
            return
        self._save_settings()
        event.accept()

    def _close_if_run_stuck(self) -> None:
        """The run was asked to stop so the window could close, and has not: close without its model."""
        if self.training_tab.is_running() and self.training_tab.run.is_stopping():
            dialogs.show_error(self, "Training did not stop",
                               f"The training run did not stop within {STOP_WAIT_MS // 1000} s of being asked to.",
                               "Denoise Studio closes anyway; the model being trained is lost.")  # fmt: skip
            self._close_anyway = True
            self.close()

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
        self.actions["record_runs"].setChecked(str(self.settings.value("record_runs", True)).lower() != "false")
        self.set_recording(self.actions["record_runs"].isChecked())
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
