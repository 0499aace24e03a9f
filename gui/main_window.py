"""The main window: the four tabs, the menu bar, the status bar, and the settings that persist (size, tab, theme).

The window shows the app's ``AppState`` (the model's name and size in the status bar and title) and
arbitrates changes of model that need the user's say (a new model from the Architecture tab, a perturbed
copy applied): ``FileActions.may_replace`` asks to stop a run and to save first.  File work is
``gui.file_actions``; the menus are the table in ``gui.menus``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QSettings, QSize, QTimer
from PySide6.QtGui import QActionGroup, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QGridLayout, QLabel, QMainWindow, QMenu, QMessageBox, QWidget

from engine.nn import MLP
from engine.onnx_export import INSTALL_HINT, onnx_available
from gui.app_state import AppState, ModelChange
from gui.architecture.layer_presets import PCA_CHECK_PRESET, PRESETS
from gui.common import dialogs
from gui.common.built_when_shown import BuiltWhenShown
from gui.common.hints import HintStrip, explain_disabled, hint
from gui.common.panel_room import PanelRoom, RoomTabs, saved_mode
from gui.common.screen_fit import fitted_size, keep_on_screen
from gui.common.theme import APP_NAME, ORGANIZATION, THEME_CHOICES, apply_theme
from gui.denoise.tab import DenoiseTab
from gui.file_actions import FileActions
from gui.menus import build_menus, make_action
from gui.shipped_scores import ShippedScores
from gui.start_model import load_start_model
from gui.stored_settings import read_choice, read_flag, read_geometry, read_index
from gui.training.form import form_notes
from gui.training.worker import run_recorder

if TYPE_CHECKING:
    from gui.architecture.tab import ArchitectureTab
    from gui.guide import GuideDialog
    from gui.runs.tab import RunsTab
    from gui.training.tab import TrainingTab
    from gui.web_page_export import WebPageExport

TRAINING_ROOMS = ("histograms", "pca_check")
"""The Training tab's panels that can be enlarged or put in windows (``TrainingTab.rooms``): one left enlarged or
in its window makes the tab at start."""
STOP_WAIT_MS = 10000
"""Quitting during a run: how long the window waits for the stopped run to hand its model back before it closes
anyway (a run stuck in a long call must not keep the window open)."""
FIRST_SIZE = QSize(1280, 800)
"""The window on a first start (shrunk to fit a smaller screen: every tab scrolls below its own minimum)."""
MESSAGE_MS = 8000
"""How long a message stays in the status bar."""
CONFIRM_HOLD_MS = 4000
"""A confirmation ("Saved …", "Exported …", a note on the data) stays at least this long: a hovered control's
hint, which would replace it at once, waits until then."""
TAB_TIPS = (
    "The network's layers, parameters and weights; build a new one (Ctrl+1)",
    "Train the model on MNIST or Fashion-MNIST with live curves (Ctrl+2)",
    "Draw, pick a test image or open a picture, add noise, watch the model clean it (Ctrl+3)",
    "Every recorded training run: compare their curves and settings, open a run's model or train it again (Ctrl+4)",
)

MODEL_ACTIONS = ("save", "save_as", "export_web_page", "export_onnx")
"""The menu actions that need a model: off in the app's first moments, while the model it opens with is read."""


class MainWindow(QMainWindow):
    """The tabs over one ``AppState`` (made here, with ``model`` or the shipped one, unless given)."""

    def __init__(self, model: MLP | None = None, settings: QSettings | None = None, state: AppState | None = None,
                 start_model: Callable[[], tuple[MLP, str, str | None]] | None = load_start_model) -> None:  # fmt: skip
        """``start_model()``: the model to start with when neither ``model`` nor ``state`` has one; None: the window
        opens without one, and ``files.open_start_model()`` reads it (``gui.app.main``: the window appears first)."""
        super().__init__()
        self.settings = settings or QSettings(ORGANIZATION, APP_NAME)
        self.state = state if state is not None else AppState()
        self._guide: GuideDialog | None = None
        self._close_anyway = False  # the run was asked to stop for a quit and did not: close without it
        self.ended_by_signal = False  # a quit signal closed it (``gui.app``: unsaved work is kept)
        self._hold = QTimer(self, singleShot=True)  # a confirmation is held in the status bar meanwhile
        self._hold.timeout.connect(self._hold_ended)
        self._held_tip: str | None = None  # the hint that waits for the confirmation
        self._shown = ("", 0.0)  # the last news or confirmation and until when (time.monotonic()) it is due
        self.setWindowTitle(APP_NAME)
        self.resize(fitted_size(FIRST_SIZE))  # no fixed minimum: below a tab's own minimum size, it scrolls
        self.tabs = RoomTabs(scroll_pages=True)  # each page in a scroll area, with room to enlarge a panel
        self.setCentralWidget(self.tabs)  # in place before the pages go in: each is restyled once (RoomyPage)
        self._recording = False  # File ▸ Record training runs (the Training tab's runs, once it is made)
        # The tabs not on the first screen are made when first opened (or asked for: ``architecture_tab``, …);
        # their panels' places, as the user left them, are restored then.
        self._architecture_page = BuiltWhenShown(self._make_architecture_tab)
        self.state.add_check(form_notes)  # the Training tab's, before it is made: opening a file is all or nothing
        self._training_page = BuiltWhenShown(self._make_training_tab, placed=self._restore_rooms)
        self.denoise_tab = DenoiseTab(self.state)
        self._runs_page = BuiltWhenShown(self._make_runs_tab)
        pages = (self._architecture_page, self._training_page, self.denoise_tab, self._runs_page)
        for tab, name, tip in zip(pages,
                                  ("Architecture", "Training", "Denoise", "Runs"), TAB_TIPS, strict=True):  # fmt: skip
            self.tabs.setTabToolTip(self.tabs.addTab(tab, name), tip)
        for number in range(self.tabs.count()):  # Ctrl+1 … Ctrl+4 go to a tab
            QShortcut(QKeySequence(f"Ctrl+{number + 1}"), self, activated=lambda n=number: self.tabs.setCurrentIndex(n))
        self.files = FileActions(self, self.state, self.settings)
        self.shipped_scores = ShippedScores(self.files.shipped_menu, self.denoise_tab.state, self)  # at the slider's σ
        self.actions = build_menus(self, {"recent": self.files.recent_menu, "shipped": self.files.shipped_menu,
                                          "theme": self._theme_menu()})  # fmt: skip
        file_menu = self.actions["record_runs"].associatedObjects()[0]
        file_menu.aboutToShow.connect(self._name_runs_database)  # (its module is not needed before)
        self._onnx = onnx_available()
        if not self._onnx:
            hint(self.actions["export_onnx"], f"ONNX export needs the onnx package: {INSTALL_HINT}")
        for key in MODEL_ACTIONS:
            if key != "export_onnx" or self._onnx:  # (without the onnx package, that one says so instead)
                explain_disabled(self.actions[key], "the model is still being opened")
        self._build_status_bar()
        self._connect()
        note = None
        if model is None and self.state.model is None and start_model is not None:
            model, name, note = start_model()
            self.state.set_model(model, name=name, dirty=False)
        elif model is not None:
            self.state.set_model(model, dirty=False)
        else:
            self._show_model(ModelChange(self.state.model, "opened"))
        self._restore_settings()
        if note:
            self.statusBar().showMessage(note, 15000)

    def _build_status_bar(self) -> None:
        """A hovered control's hint (or a message) on two lines at the left; the model, its size and its score on
        two lines at the right."""
        bar = self.statusBar()
        self.hint_strip = HintStrip()
        bar.addPermanentWidget(self.hint_strip, 1)  # all the room: the bar's own one-line message area is left none
        bar.messageChanged.connect(self.hint_strip.show_text)
        self.status_model, self.status_params, self.status_mse = QLabel(), QLabel(), QLabel()
        self.status_baseline = QLabel()  # the strongest baseline's score beside the model's (issue 25)
        hint(self.status_baseline, "The strongest simple baseline at the slider's level on the same test images: the "
             "noisy input, the best linear denoiser or a classical filter, fitted or tuned at that level on training "
             "images (Denoise ▸ Robustness shows them all)")  # fmt: skip
        model_block = QWidget()
        grid = QGridLayout(model_block)
        grid.setContentsMargins(8, 0, 4, 0)
        grid.setVerticalSpacing(0)
        grid.addWidget(self.status_model, 0, 0, 1, 3)
        grid.addWidget(self.status_params, 1, 0)
        grid.addWidget(self.status_mse, 1, 1)
        grid.addWidget(self.status_baseline, 1, 2)
        grid.setHorizontalSpacing(12)
        bar.addPermanentWidget(model_block)

    def _connect(self) -> None:
        self.state.modelChanged.connect(self._show_model)
        self.state.savedChanged.connect(self.update_status)
        self.denoise_tab.modelApplied.connect(self._on_applied)
        self.state.dataNote.connect(self._on_data_note)
        self.files.flashed.connect(self.confirm)
        self.denoise_tab.score.scoreChanged.connect(self.status_mse.setText)
        self.denoise_tab.score.baselineChanged.connect(self.status_baseline.setText)

    @functools.cached_property
    def web_page(self) -> WebPageExport:
        """File ▸ Export ▸ Web page… (made when first used: its modules cost the start ~8 ms)."""
        from gui.web_page_export import WebPageExport

        return WebPageExport(self.files)

    def export_web_page(self) -> None:
        self.web_page.start()

    @property
    def training_tab(self) -> TrainingTab:
        """The Training tab (a ``gui.training.tab.TrainingTab``), made the first time it is shown or asked for."""
        return self._training_page.content()

    def training_tab_if_made(self) -> TrainingTab | None:
        """The Training tab if it has been made (no run can have started without it), else None."""
        return self._training_page.content() if self._training_page.is_built() else None

    def is_training(self) -> bool:
        """A run is going on (in the Training tab, if it has been made)."""
        tab = self.training_tab_if_made()
        return tab is not None and tab.is_running()

    def _make_training_tab(self) -> TrainingTab:
        from gui.training.tab import TrainingTab

        tab = TrainingTab(self.state)
        tab.runningChanged.connect(self._on_running)
        tab.runEnded.connect(self._on_run_ended)
        tab.message.connect(self.flash)
        tab.run.reported.connect(self._on_run_report)
        if self._recording:
            tab.watchers.append(run_recorder)
        return tab

    def _restore_rooms(self, widget) -> None:
        """``widget``'s panels enlarged or in windows of their own, as they were left."""
        for room in widget.findChildren(PanelRoom):
            room.restore(self.settings)

    @property
    def architecture_tab(self) -> ArchitectureTab:
        """The Architecture tab, made the first time it is shown or asked for (not on the first screen)."""
        return self._architecture_page.content()

    def _make_architecture_tab(self) -> ArchitectureTab:
        from gui.architecture.tab import ArchitectureTab

        tab = ArchitectureTab(self.state)
        tab.editor.newModel.connect(self._on_new_model)
        hourglass = tab.hourglass  # lights up with the code of what the Denoise tab shows
        self.denoise_tab.state.follow(shown=lambda shown: hourglass.set_latent(shown.code))
        return tab

    @property
    def runs_tab(self) -> RunsTab:
        """The Runs tab (a ``gui.runs.tab.RunsTab``), made the first time it is shown or asked for: its module and
        its table are not on the first screen."""
        return self._runs_page.content()

    def _make_runs_tab(self) -> RunsTab:
        from gui.runs.actions import RunsActions
        from gui.runs.tab import RunsTab

        tab = RunsTab(self.state)
        self.runs_actions = RunsActions(self, tab)  # the Runs tab's requests: open, continue, train again
        return tab

    def _name_runs_database(self) -> None:
        """File ▸ Record training runs says where the database is (once, when the menu first opens)."""
        from engine.runs import database_path

        action = self.actions["record_runs"]
        action.associatedObjects()[0].aboutToShow.disconnect(self._name_runs_database)
        hint(action, f"{action.toolTip()} (it is {database_path()})")

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
        self._enable_model_actions()

    def _enable_model_actions(self) -> None:
        for key in MODEL_ACTIONS:
            self.actions[key].setEnabled(self.state.model is not None and (key != "export_onnx" or self._onnx))

    def update_status(self) -> None:
        if self.state.model is None:  # the app's first moments: the model it opens with is being read
            self.status_model.setText("Model: opening…")
            self.status_params.clear()
            return
        mark = " *" if self.state.dirty else ""
        self.status_model.setText(f"Model: {self.state.name}{mark}")
        self.status_params.setText(f"{self.state.model.n_params:,} parameters")
        self.setWindowTitle(f"{self.state.name}{mark} — {APP_NAME}")

    def _on_new_model(self, model: MLP) -> None:
        if self.files.may_replace("make the new model", lambda: self._on_new_model(model), "making a new model"):
            self.state.set_model(model, name="untitled", dirty=True, origin="new")
            self.tabs.setCurrentWidget(self.training_tab)
            self.confirm("New untrained model: press Start to train it")

    def _on_applied(self, model: MLP) -> None:
        """A perturbed copy made the model (Denoise ▸ Inside the network ▸ Apply): unsaved, like a trained one."""
        if self.files.may_replace("apply the perturbed network", lambda: self._on_applied(model)):
            self.state.set_model(model, name=self.state.name, dirty=True, origin="applied")  # the noise set stays
            self.confirm("The perturbed network is now the model (unsaved): Save keeps it, reopening the file "
                         "undoes it")

    def set_recording(self, on: bool) -> None:
        """File ▸ Record training runs: the runs database records the Training tab's next runs (or not)."""
        self.settings.setValue("record_runs", on)
        self._recording = on
        tab = self.training_tab_if_made()
        if tab is None:  # applied when it is made
            return
        watchers = tab.watchers
        if on and run_recorder not in watchers:
            watchers.append(run_recorder)
        elif not on and run_recorder in watchers:
            watchers.remove(run_recorder)

    def _on_run_report(self, topic: str, text: object) -> None:
        if topic == "runs":  # the runs database failed: said once a run, training goes on
            dialogs.show_error(self, "Run not recorded", str(text), "Training goes on and its model is kept as "
                               "usual. Move the file aside, or turn off File ▸ Record training runs.")  # fmt: skip
        elif topic == "note":  # the engine's word on a run (its worker process ended: one core; or it waits)
            dialogs.show_notes(self, "Note from training", "A note from the training run:", [str(text)])

    def _on_run_ended(self, result) -> None:
        """A run's model is the current one: File ▸ Save when a run ends saves it (the status bar names the file)."""
        self.files.run_saved(result.verdict)

    def continue_training(self, epochs: int | None = None, path: str | None = None) -> None:
        """Train ``epochs`` more epochs (default: the Training form's) from where training stopped — of the current
        model, or of the model or checkpoint file at ``path`` once it is open (asking first, as File ▸ Open does,
        when a run is going on or the current model is unsaved).  For the Runs view: a past run's checkpoint
        continues with its optimizer's state."""
        self.tabs.setCurrentWidget(self.training_tab)
        if path is None:
            self.training_tab.continue_training(epochs)
        else:
            self.files.open_model(path, then=lambda: self.training_tab.continue_training(epochs))

    def _on_running(self, running: bool) -> None:
        for key in ("save", "save_as"):  # the model being trained is a copy
            explain_disabled(self.actions[key], "a run is training the model; save it when the run ends or after "
                             "Stop (the Training tab), which hands the trained model back")  # fmt: skip
            self.actions[key].setEnabled(not running)
        if not running:
            self.files.run_ended()

    def flash(self, text: str, ms: int = MESSAGE_MS) -> None:
        """News in the status bar (an epoch done): a hovered control's hint covers it while the pointer is there,
        and it comes back when the pointer leaves, if still due."""
        self._hold.stop()
        self._show(text, ms)

    def confirm(self, text: str, ms: int = MESSAGE_MS) -> None:
        """A confirmation in the status bar: it stays ``CONFIRM_HOLD_MS`` at least, hints wait (then show), and
        it comes back after a hint while still due."""
        self._show(text, ms)
        self._held_tip = None
        self._hold.start(CONFIRM_HOLD_MS)

    def _show(self, text: str, ms: int) -> None:
        self._shown = (text, time.monotonic() + ms / 1000)
        self.statusBar().showMessage(text, ms)

    def _on_data_note(self, note: str) -> None:
        """A data file that is not the official one (said once: ``DataSets`` hands each note on once)."""
        self.confirm(f"Note: {note}", 2 * MESSAGE_MS)

    def _hold_ended(self) -> None:
        if self._held_tip:  # the pointer rests on a control: its hint now
            self.statusBar().showMessage(self._held_tip)

    # ----- help -------------------------------------------------------------------------------
    def show_guide(self) -> None:
        if self._guide is None:
            from gui.guide import GuideDialog

            self._guide = GuideDialog(self, self.state)
            self._guide.pcaCheckRequested.connect(self.open_pca_check)
        self._guide.show()
        self._guide.raise_()

    def open_pca_check(self) -> None:
        """The Guide's button: the PCA-check preset as a new model (the usual question first if the present one is
        unsaved), shown on the Training tab with the check's settings."""
        editor = self.architecture_tab.editor
        preset = next(p for p in PRESETS if p.name == PCA_CHECK_PRESET)
        editor.set_layers(list(preset.widths), list(preset.activations))
        self._on_new_model(editor.build())

    def about(self) -> None:
        from gui.guide import about_html, data_folders

        QMessageBox.about(self, f"About {APP_NAME}", about_html(data_folders(), self.state.data.notes))

    # ----- the status bar's hints (shown by the hint strip), closing, settings -----------------------
    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.StatusTip:  # a hovered control's hint, for the status bar
            text, until = self._shown
            left_ms = round(1000 * (until - time.monotonic()))
            if self._hold.isActive():  # after the confirmation
                self._held_tip = event.tip()
            elif not event.tip() and left_ms > 0:  # the pointer left the control: the news is back
                self.statusBar().showMessage(text, left_ms)
            else:
                self.statusBar().showMessage(event.tip())
            return True
        return super().event(event)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if not self._close_anyway and not self.files.may_replace("quit", self.close, "closing"):
            event.ignore()  # closes again once the run's model is back
            if self.is_training():
                QTimer.singleShot(STOP_WAIT_MS, self._close_if_run_stuck)
            return
        self._save_settings()
        for room in self.findChildren(PanelRoom):  # their windows close with this one (they reopen next start)
            room.park()
        event.accept()

    def close_without_asking(self) -> None:
        """Close now, whatever a run or unsaved changes would have asked (the app is ending: a quit signal)."""
        self._close_anyway = True
        self.close()

    def _close_if_run_stuck(self) -> None:
        """The run was asked to stop so the window could close, and has not: close without its model."""
        if self.is_training() and self.training_tab.run.is_stopping():
            dialogs.show_error(self, "Training did not stop",
                               f"The training run did not stop within {STOP_WAIT_MS // 1000} s of being asked to.",
                               "Denoise Studio closes anyway; the model being trained is lost.")  # fmt: skip
            self._close_anyway = True
            self.close()

    def _save_settings(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("tab", self.tabs.currentIndex())
        for room in self.findChildren(PanelRoom):
            room.save(self.settings)
        self.settings.sync()

    def set_theme(self, choice: str) -> None:
        """Apply a theme choice ("system", "light", "dark") live and remember it."""
        choice = choice if choice in THEME_CHOICES else "system"
        self.settings.setValue("theme", choice)
        for action in self.theme_actions.actions():
            action.setChecked(action.data() == choice)
        apply_theme(QApplication.instance(), choice)

    def _follow_system_theme(self) -> None:
        if read_choice(self.settings, "theme", THEME_CHOICES, "system") == "system":
            apply_theme(QApplication.instance(), "system")

    def _restore_settings(self) -> None:
        """Each stored setting read with bounds (``gui.stored_settings``): anything unusable gives the default."""
        self.set_theme(read_choice(self.settings, "theme", THEME_CHOICES, "system"))
        self.actions["record_runs"].setChecked(read_flag(self.settings, "record_runs", True))
        self.set_recording(self.actions["record_runs"].isChecked())
        self.actions["save_after_run"].setChecked(read_flag(self.settings, "save_after_run", False))
        self.files.set_save_after_run(self.actions["save_after_run"].isChecked())
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            hints.colorSchemeChanged.connect(self._follow_system_theme)
        geometry = read_geometry(self.settings)
        if geometry is not None:
            self.restoreGeometry(geometry)
            keep_on_screen(self)  # saved on a larger screen, or one since unplugged
        self._restore_rooms(self)  # panels enlarged or in windows of their own, as they were left
        if any(saved_mode(self.settings, key) != "docked" for key in TRAINING_ROOMS):
            self.training_tab  # noqa: B018 (made now: one of its panels was left out of its place, a window say)
        self.denoise_tab.restore(self.settings)  # the robustness page's curves hidden, its metric
        self.denoise_tab.result.restore(self.settings)  # what stands beside the reconstruction
        self.tabs.setCurrentIndex(read_index(self.settings, "tab", self.tabs.count(), 2))
