"""Main window: menus, files through patched dialogs, errors that keep the old model, settings, close."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QStatusTipEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from engine.nn import MLP, build_mlp
from gui.main_window import MainWindow


def patch_open(monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))


def patch_save(monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))


def test_status_bar_shows_name_parameters_and_mse(window, small_model):
    assert f"{small_model.n_params:,}" in window.status_params.text()
    assert "test MSE" in window.status_mse.text()
    assert window.menuBar().actions()[0].text() == "&File"
    assert window.actions["open"].shortcut().toString() == "Ctrl+O"
    assert window.actions["save"].shortcut().toString() == "Ctrl+S"
    assert window.actions["quit"].shortcut().toString() == "Ctrl+Q"


def test_open_through_the_menu(qtbot, window, monkeypatch, tmp_path):
    monkeypatch.setenv("DENOISE_STUDIO_DATA", str(tmp_path / "no-mnist-here"))  # the status falls back to the file
    other = build_mlp([784, 24, 784], ["relu", "sigmoid"], seed=3)
    other.metadata["metrics"] = {"test_mse@0.1": 0.0312}
    other.metadata["training"] = {"noise": 0.1}
    path = tmp_path / "other.npz"
    other.save(path)
    patch_open(monkeypatch, path)
    with qtbot.waitSignal(window.files.openFinished, timeout=10000) as opened:
        window.actions["open"].trigger()
        assert window.state.name != "other"  # the file is read off the GUI thread: not swapped in yet
    assert opened.args == [True]
    with qtbot.waitSignal(window.denoise_tab.score.scoreChanged, timeout=10000,
                          check_params_cb=lambda text: "…" not in text):  # fmt: skip
        pass  # no MNIST here: the file's own score at the slider's σ
    assert window.state.model.n_params == other.n_params
    np.testing.assert_array_equal(window.state.model.params, other.params)
    assert window.state.name == "other"
    assert window.denoise_tab.noise.slider.value() == 10  # the slider starts at the model's training σ
    assert "0.0312 at σ 0.10" in window.status_mse.text()
    assert window.files.recent_files()[0] == str(path.resolve())
    assert [a.text() for a in window.files.recent_menu.actions()] == [str(path.resolve())]  # the full path
    assert window.denoise_tab.state.model.latent_width == 24  # every tab shows the new model
    window.tabs.setCurrentWidget(window.architecture_tab)  # (a hidden tab catches up when shown)
    assert window.architecture_tab.table.rowCount() == 3


def test_save_as_then_save_through_the_menu(window, monkeypatch, tmp_path):
    path = tmp_path / "mine.npz"
    patch_save(monkeypatch, tmp_path / "mine")  # the extension is added
    window.state.dirty = True
    window.actions["save_as"].trigger()
    assert path.is_file() and not window.state.dirty
    np.testing.assert_array_equal(MLP.from_file(path).params, window.state.model.params)
    window.state.model.params[:5] = 0.5  # change it and save in place (no dialog this time)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", None)
    window.actions["save"].trigger()
    assert MLP.from_file(path).params[0] == pytest.approx(0.5)


def test_corrupt_file_shows_a_dialog_and_keeps_the_old_model(qtbot, window, monkeypatch, tmp_path, dialogs_shown):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"this is not a zip archive at all")
    old = window.state.model
    patch_open(monkeypatch, bad)
    with qtbot.waitSignal(window.files.openFinished, timeout=10000) as opened:
        window.actions["open"].trigger()
    assert opened.args == [False]
    assert window.state.model is old
    assert len(dialogs_shown) == 1
    assert "broken.npz" in dialogs_shown[0] and "Open model" in dialogs_shown[0]
    assert window.files.recent_files() == []


def test_wrong_shape_model_is_refused(qtbot, window, monkeypatch, tmp_path, dialogs_shown):
    path = tmp_path / "classifier.npz"
    build_mlp([784, 10], ["sigmoid"]).save(path)
    old = window.state.model
    with qtbot.waitSignal(window.files.openFinished, timeout=10000) as opened:
        window.files.open_model(str(path))
    assert opened.args == [False]
    assert window.state.model is old and "784" in dialogs_shown[-1]


def test_new_model_from_the_editor_goes_to_training(window):
    window.tabs.setCurrentWidget(window.architecture_tab)
    editor = window.architecture_tab.editor
    editor.table.selectRow(0)
    editor.add_layer()  # a 32-unit layer before the 16-unit one
    editor.table.cellWidget(0, 0).setValue(64)
    editor.new_button.click()
    assert [layer.n_out for layer in window.state.model.layers] == [64, 16, 784]
    assert window.tabs.currentWidget() is window.training_tab
    assert window.state.dirty
    assert window.training_tab.model is window.state.model


def test_editor_keeps_784_in_and_out(window):
    window.tabs.setCurrentWidget(window.architecture_tab)
    editor = window.architecture_tab.editor
    for _ in range(3):
        editor.remove_layer()
    widths, acts = editor.layers()
    assert widths[0] == widths[-1] == 784 and len(widths) == 3
    assert not editor.table.cellWidget(editor.table.rowCount() - 1, 0).isEnabled()


def test_settings_persist_tab_and_geometry(qtbot, small_model, settings):
    first = MainWindow(small_model, settings=settings)
    qtbot.addWidget(first)
    first.show()
    first.tabs.setCurrentIndex(1)
    first.resize(1150, 760)
    size = first.size()
    first.close()
    assert not settings.value("geometry").isEmpty()
    second = MainWindow(small_model, settings=QSettings(settings.fileName(), QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    assert second.tabs.currentIndex() == 1
    assert second.size().height() == size.height() == 760  # (offscreen clamps widths to its 800-px screen)


def test_unsaved_model_is_asked_about_on_close(qtbot, window, monkeypatch):
    window.state.dirty = True
    answers = [QMessageBox.StandardButton.Cancel]
    monkeypatch.setattr("gui.common.dialogs.ask_save_changes", lambda *a: answers.pop(0))
    window.close()
    assert window.isVisible()  # Cancel keeps it open
    answers.append(QMessageBox.StandardButton.Discard)
    window.close()
    assert not window.isVisible()


def test_shipped_model_or_a_fresh_one_when_missing(qtbot, monkeypatch, settings):
    from engine import model_paths

    monkeypatch.setattr(model_paths, "MODELS_DIR", model_paths.MODELS_DIR / "no-such-folder")
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    assert [layer.n_out for layer in win.state.model.layers] == [10, 784]
    assert "untrained" in win.statusBar().currentMessage()


def test_app_main_opens_the_window(qtbot, monkeypatch):
    from PySide6.QtWidgets import QApplication

    from gui import app, launcher

    def no_exit(code):  # main's way out past a stuck job would end pytest itself, with exit code 0
        raise AssertionError(f"main() gave up waiting for background work (os._exit({code}))")

    monkeypatch.setattr(QApplication, "exec", lambda self=None: 0)  # the user quits at once: the start's jobs
    monkeypatch.setattr(app, "QUIT_WAIT_S", 600.0)  # are cancelled, and a loaded machine may take a while to end them
    monkeypatch.setattr(app.os, "_exit", no_exit)
    monkeypatch.setattr("gui.main_window.QSettings", lambda *a: QSettings("DenoiseStudioTest", "tests"))
    assert launcher.main([]) == 0
    window = QApplication.instance().main_window
    assert window.isVisible() and app.APP_NAME in window.windowTitle()
    assert "opening" in window.status_model.text()  # its model is read once it is on screen (test_start_work.py)
    window.state.dirty = False
    window.close()


def test_export_image_writes_a_png_of_the_current_tab(window, monkeypatch, tmp_path):
    path = tmp_path / "shot.png"
    patch_save(monkeypatch, path)
    window.tabs.setCurrentWidget(window.architecture_tab)
    window.actions["export_image"].trigger()
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_control_view_and_menu_action_has_a_hint(qtbot, window):
    """Each visible control on every tab has its own tooltip (and the same status-bar tip); each plot and view
    has one, its own or its panel's; every menu action has one, and menus show them."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QAbstractSlider,
        QAbstractSpinBox,
        QComboBox,
        QGraphicsView,
        QLineEdit,
        QScrollBar,
        QTabBar,
        QWidget,
    )

    controls = (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit)
    views = (QGraphicsView, pg.GraphicsView)
    missing, checked = [], 0
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        tab = window.tabs.currentWidget()
        inner_bars = tab.findChildren(QTabBar)
        pages = [(bar, i) for bar in inner_bars for i in range(bar.count())] or [(None, 0)]
        for bar, i in pages:  # every page of inner tab widgets too
            if bar is not None:
                bar.setCurrentIndex(i)
                assert bar.tabToolTip(i), f"panel {bar.tabText(i)!r} has no tooltip"
            for w in tab.findChildren(QWidget):
                if not isinstance(w, controls + views) or not w.isVisibleTo(window) or isinstance(w, QScrollBar):
                    continue
                if isinstance(w.parent(), (QTabBar, QAbstractSpinBox, QComboBox, QAbstractItemView)):
                    continue  # Qt's own parts: tab-bar arrows, a spin box's line edit, a table's corner button
                checked += 1
                own = w.toolTip()
                inherited = any(a.toolTip() for a in _ancestors(w, tab))
                if isinstance(w, controls) and not (own and w.statusTip() == own):
                    missing.append(f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r} on tab {index}")
                elif isinstance(w, views) and not (own or inherited):
                    missing.append(f"{type(w).__name__} on tab {index}")
    assert checked > 40
    assert sorted(set(missing)) == []
    menus = [a.menu() for a in window.menuBar().actions()]
    while menus:
        menu = menus.pop()
        assert menu.toolTipsVisible(), menu.title()
        for action in menu.actions():
            if action.menu() is not None:
                menus.append(action.menu())
            elif not action.isSeparator():
                assert action.statusTip() and action.toolTip() == action.statusTip(), action.text()
    assert window.tabs.tabToolTip(0) and window.tabs.tabToolTip(2)


def _ancestors(widget, stop):
    parent = widget.parentWidget()
    while parent is not None and parent is not stop.parentWidget():
        yield parent
        parent = parent.parentWidget()


def test_shipped_models_menu_opens_one(qtbot, window):
    from engine.model_paths import shipped_models

    names = shipped_models()
    if not names:
        pytest.skip("no model shipped in models/")
    actions = window.files.shipped_menu.actions()
    assert [a.data() for a in actions] == names
    with qtbot.waitSignal(window.files.openFinished, timeout=10000):
        actions[0].trigger()
    assert window.state.name == names[0]
    assert window.files.recent_files() == []  # shipped models are not "recent files"


def test_view_theme_switches_live_and_is_remembered(qtbot, window, settings):
    from gui.common.theme import THEMES, colors

    plot = window.training_tab.plot
    light = next(a for a in window.theme_actions.actions() if a.data() == "light")
    light.trigger()
    assert colors()["base"] == THEMES["light"]["base"]
    assert plot.backgroundBrush().color().name() == THEMES["light"]["base"]  # plots follow
    for _sample, label in plot.legend.items:  # and their legends' text
        assert label.opts["color"] == THEMES["light"]["text"]
    assert window.palette().window().color().name() == THEMES["light"]["window"]
    assert settings.value("theme") == "light" and light.isChecked()
    again = MainWindow(build_mlp([784, 4, 784], ["relu", "sigmoid"]), settings=settings)
    qtbot.addWidget(again)
    assert next(a for a in again.theme_actions.actions() if a.isChecked()).data() == "light"
    window.set_theme("dark")
    assert plot.backgroundBrush().color().name() == THEMES["dark"]["base"]


def test_help_guide_and_about_say_what_the_app_is_and_runs_on(window, tiny_mnist, tiny_fashion, dialogs_shown,
                                                               monkeypatch):  # fmt: skip
    import numpy
    from PySide6.QtCore import qVersion
    from PySide6.QtWidgets import QMessageBox

    guide = next(a for a in window.menuBar().actions()[-1].menu().actions() if a.text() == "&Guide")
    guide.trigger()
    from gui.guide import GuideDialog

    (dialog,) = [w for w in window.findChildren(GuideDialog) if w.isVisible()]
    text = dialog.text.toPlainText()
    for words in ("autoencoder", "Training", "Robustness", "noisy input can win", "PCA"):
        assert words in text
    panels = window.denoise_tab.panels
    for page in (panels.tabText(i).replace("&", "") for i in range(panels.count())):
        assert page in text, f"the guide says nothing of the Denoise tab's {page!r} page"
    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, html: shown.append(html))
    window.about()
    assert qVersion() in shown[0] and numpy.__version__ in shown[0] and str(tiny_mnist) in shown[0]
    assert "Fashion-MNIST data folder" in shown[0] and str(tiny_fashion) in shown[0]  # both data sets' folders


def test_save_as_starts_outside_the_installed_models_and_remembers_its_folder(qtbot, window, monkeypatch, tmp_path):
    from engine import model_paths

    shipped = tmp_path / "installed-models"
    shipped.mkdir()
    monkeypatch.setattr(model_paths, "MODELS_DIR", shipped)
    window.state.model.save(shipped / "tiny.npz")
    window.state.model.path = str(shipped / "tiny.npz")  # the current model is a shipped one
    asked = []

    def save_dialog(parent, title, start, filter_):
        asked.append(start)
        return str(tmp_path / "mine" / "copy.npz"), filter_

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    (tmp_path / "mine").mkdir()
    window.actions["save_as"].trigger()
    assert not asked[0].startswith(str(shipped))  # never suggested inside the installed package
    assert (tmp_path / "mine" / "copy.npz").is_file()
    window.actions["save_as"].trigger()
    assert asked[1] == str(tmp_path / "mine" / "copy.npz").replace("copy", window.state.name)  # the last folder


def test_writing_over_a_shipped_model_is_refused(window, monkeypatch, tmp_path, dialogs_shown):
    from engine import model_paths

    monkeypatch.setattr(model_paths, "MODELS_DIR", tmp_path)
    target = tmp_path / "shipped.npz"
    build_mlp([784, 3, 784], ["relu", "sigmoid"], seed=9).save(target)
    before = target.read_bytes()
    patch_save(monkeypatch, target)
    window.actions["save_as"].trigger()
    assert target.read_bytes() == before
    assert "never writes over it" in dialogs_shown[-1]


def answering(starts: list, answer: str):
    """A stand-in for a file dialog: notes the folder it was opened in, answers ``answer``."""

    def dialog(parent, title, start, filter_):
        starts.append(start)
        return answer, filter_

    return dialog


def test_open_and_export_remember_their_folders(window, monkeypatch, tmp_path):
    starts = []
    folder = tmp_path / "pictures"
    folder.mkdir()
    dialog = functools.partial(answering, starts)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog(str(folder / "shot.png")))
    window.actions["export_image"].trigger()
    window.actions["export_image"].trigger()
    assert Path(starts[1]).parent == folder and Path(starts[0]).parent != folder
    monkeypatch.setattr(QFileDialog, "getOpenFileName", dialog(""))
    window.settings.setValue("folders/open", str(folder))
    window.actions["open"].trigger()
    assert starts[-1] == str(folder)


def test_a_dialog_used_for_the_first_time_starts_where_the_last_file_went(window, monkeypatch, tmp_path):
    """Open right after a Save As (and a first Export) start in the folder the model was saved to."""
    folder = tmp_path / "work"
    folder.mkdir()
    starts = []
    ask = functools.partial(answering, starts)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", ask(str(folder / "mine.npz")))
    window.actions["save_as"].trigger()
    assert (folder / "mine.npz").is_file()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", ask(""))
    window.actions["open"].trigger()
    assert starts[-1] == str(folder)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", ask(""))
    window.actions["export_image"].trigger()
    assert Path(starts[-1]).parent == folder


def test_shipped_models_show_how_they_were_trained_and_mark_the_current_one(qtbot, window):
    from engine.model_paths import shipped_models

    actions = window.files.shipped_entries()
    assert [a.data() for a in actions] == shipped_models()
    assert all("trained at" in a.text() and "test MSE" in a.text() for a in actions)
    assert not any(a.isChecked() for a in actions)  # the window holds an unsaved model of its own
    with qtbot.waitSignal(window.files.openFinished, timeout=10000):
        actions[1].trigger()
    assert [a.isChecked() for a in actions] == [i == 1 for i in range(len(actions))]


def test_recent_models_show_their_full_path(qtbot, window, tmp_path):
    path = tmp_path / "deep" / "folder" / "mine.npz"
    window.state.model.save(path)
    with qtbot.waitSignal(window.files.openFinished, timeout=10000):
        window.files.open_model(str(path))
    assert window.files.recent_menu.actions()[0].text() == str(path.resolve())


def test_a_hint_in_the_status_bar_shows_on_two_lines_and_is_cut_only_at_a_word(qtbot, window):
    """A hovered control's status tip wraps onto two lines beside the model, parameters and score: whole when it
    fits, else its longest start that ends at a word, with "…" (the tooltip has it whole)."""
    strip = window.hint_strip
    metrics, width = strip.fontMetrics(), strip.contentsRect().width()
    assert strip.height() >= 2 * metrics.lineSpacing()
    assert strip.geometry().right() < window.status_model.parentWidget().geometry().left()  # beside the model
    slider = window.denoise_tab.noise.slider  # a 249-character hint: cut to one line before
    tip = slider.statusTip()
    QApplication.sendEvent(slider, QStatusTipEvent(tip))
    assert window.statusBar().currentMessage() == tip
    shown = strip.text()
    assert metrics.horizontalAdvance(shown) > 1.5 * width  # it uses the second line
    assert shown == tip or (shown.endswith("…") and tip.startswith(shown[:-1]) and tip[len(shown) - 1] == " ")
    assert strip.heightForWidth(strip.width()) <= strip.height()  # and no third line is hidden
    words, fitting = tip.split(" "), ""
    while metrics.horizontalAdvance(fitting + " " + words[0]) < 1.6 * width:  # a hint a line and a half long
        fitting = (fitting + " " + words.pop(0)).strip()
    QApplication.sendEvent(slider, QStatusTipEvent(fitting))
    assert strip.text() == fitting  # shown whole
    QApplication.sendEvent(slider, QStatusTipEvent("Brush"))  # short ones as they are
    assert strip.text() == "Brush"
    window.statusBar().showMessage("Epoch 3 done", 8000)  # the tabs' messages show there too
    assert strip.text() == "Epoch 3 done"


def test_a_confirmation_comes_back_after_a_hint_passed_over_it(window):
    """Moving the pointer over a control shows its hint; leaving it brings back the confirmation still due, which
    would otherwise be gone for good after any hover."""
    window.flash("Exported /tmp/page.html")
    canvas = window.denoise_tab.canvas
    QApplication.sendEvent(canvas, QStatusTipEvent("Brush"))  # the pointer enters a control
    assert window.statusBar().currentMessage() == "Brush"
    QApplication.sendEvent(canvas, QStatusTipEvent(""))  # and leaves it
    assert window.statusBar().currentMessage() == "Exported /tmp/page.html"


def test_a_tab_with_the_keyboard_focus_is_as_wide_as_without(qtbot, window):
    """The focus ring must not widen a tab: the tab bar is sized when the tab changes, before a click gives it the
    focus, so a wider focused tab pushed "Runs" under scroll arrows at 1024 px (seen under a real X server)."""
    from PySide6.QtWidgets import QTabWidget

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    for bar in [window.tabs.tabBar()] + [t.tabBar() for t in window.findChildren(QTabWidget) if t.isVisible()]:
        bar.clearFocus()
        qtbot.waitUntil(lambda bar=bar: not bar.hasFocus())
        unfocused = [bar.tabSizeHint(i) for i in range(bar.count())]
        bar.setFocus()
        qtbot.waitUntil(bar.hasFocus)
        assert [bar.tabSizeHint(i) for i in range(bar.count())] == unfocused

