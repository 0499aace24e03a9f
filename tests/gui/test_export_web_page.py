"""File ▸ Export ▸ Web page…: the page written off the GUI thread through the engine's export, float32 or float16
with a progress dialog and Cancel, refusals in a dialog, never over a file the app did not write, a confirmation
that names the file and offers to open it in the browser."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox, QPushButton

import engine.web_export
import gui.web_page_export as web_page_export
from engine.layers import Dense
from engine.nn import MLP, build_mlp
from engine.web_export import export_html, is_html_export
from gui.web_page_export import WebPageOptions

TIMEOUT = 60000
OPEN = QMessageBox.StandardButton.Open


@pytest.fixture
def save_as(monkeypatch, tmp_path):
    """The file dialog answers ``tmp_path / name`` (set ``save_as["name"]``); what it was asked is kept."""
    answer = {"name": "page.html", "asked": []}

    def dialog(*args, **kwargs):
        answer["asked"].append((args, kwargs))
        return str(tmp_path / answer["name"]), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    return answer


@pytest.fixture
def options(monkeypatch):
    """The options dialog, answered without showing it: ``options["half"]`` chooses float16; what it offered is
    kept in ``options["shown"]`` (whether float16 could be chosen, the dialog's text)."""
    answer = {"half": False, "accept": True, "shown": []}

    def exec_(dialog: WebPageOptions) -> int:
        texts = " ".join(label.text() for label in dialog.findChildren(web_page_export.QLabel))
        answer["shown"].append({"half_enabled": dialog.half_button.isEnabled(), "text": texts})
        if answer["half"]:
            dialog.half_button.setChecked(True)
        return int(QDialog.DialogCode.Accepted if answer["accept"] else QDialog.DialogCode.Rejected)

    monkeypatch.setattr(WebPageOptions, "exec", exec_)
    return answer


@pytest.fixture
def browser(monkeypatch) -> list[QUrl]:
    """Every URL the app asked the desktop to open."""
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    return opened


def export(qtbot, window):
    """File ▸ Export ▸ Web page…, until the export has ended; what it wrote (a ``PageWritten``) or None."""
    exporter = window.web_page
    with qtbot.waitSignal(exporter.finished, timeout=TIMEOUT) as ended:
        window.actions["export_web_page"].trigger()
    return ended.args[0]


def fragile_model() -> MLP:
    """A 784-1-784 network whose output rests on a bias float16 cannot hold (2000.4 becomes 2000.0)."""
    first = Dense.from_arrays(np.zeros((1, 784), np.float32), np.full(1, 2000, np.float32), "relu")
    second = Dense.from_arrays(np.full((784, 1), -1, np.float32), np.full(784, 2000.4, np.float32), "sigmoid")
    return MLP([first, second])


def test_the_menu_entry_sits_under_export_with_a_hint(window):
    action = window.actions["export_web_page"]
    (export_menu,) = [a.menu() for a in window.menuBar().actions()[0].menu().actions()
                      if a.menu() and a.menu().title() == "Expor&t"]  # fmt: skip
    assert action in export_menu.actions() and action.text() == "&Web page…" and "browser" in action.toolTip()


def test_a_float32_page_is_written_off_the_gui_thread_and_offered_to_the_browser(
    qtbot, tiny_mnist, window, save_as, options, browser, dialogs_shown, dialog_answers, monkeypatch
):
    threads = []
    real = web_page_export.export_html
    monkeypatch.setattr(web_page_export, "export_html",
                        lambda *a, **k: threads.append(threading.current_thread()) or real(*a, **k))  # fmt: skip
    dialog_answers["Web page exported"] = OPEN
    save_as["name"] = "mine"  # no extension: .html is added
    written = export(qtbot, window)
    page = written.page
    assert threads and threads[0] is not threading.main_thread()
    assert page.path.name == "mine.html" and is_html_export(page.path) and page.precision == "float32"
    assert page.n_test_images > 0 and written.no_test_images is None  # the test set is here: images in the page
    assert window.state.name in page.path.read_text()
    assert options["shown"][0]["half_enabled"] and "test image of each class" in options["shown"][0]["text"]
    (confirmation,) = dialogs_shown
    assert confirmation.startswith("Web page exported\nSaved mine.html") and str(page.path.parent) in confirmation
    assert browser == [QUrl.fromLocalFile(str(page.path.resolve()))]
    assert "Exported" in window.statusBar().currentMessage() and "mine.html" in window.statusBar().currentMessage()


def test_closing_the_confirmation_opens_nothing(qtbot, tiny_mnist, window, save_as, options, browser):
    assert export(qtbot, window) is not None
    assert browser == []


def test_float16_is_checked_with_progress_and_remembered(qtbot, tiny_mnist, window, save_as, options, browser,
                                                         settings):  # fmt: skip
    options["half"] = True
    exporter = window.web_page
    fractions: list[float] = []
    exporter.jobs.progressed.connect(fractions.append)
    written = export(qtbot, window)
    assert written.page.precision == "float16" and written.page.half_check is not None
    assert fractions and fractions[-1] == pytest.approx(1.0) and fractions == sorted(fractions)
    options["half"] = False  # the next export starts from float16, the last choice
    save_as["name"] = "again.html"
    export(qtbot, window)
    assert len(options["shown"]) == 2 and str(settings.value("export/web_page_half")).lower() == "true"


def test_cancel_during_the_float16_check_writes_nothing(qtbot, tiny_mnist, window, save_as, options, monkeypatch,
                                                        tmp_path):  # fmt: skip
    """The job is held at its first checked level until Cancel has been pressed in the progress dialog."""
    options["half"] = True
    reached, pressed = threading.Event(), threading.Event()
    real = web_page_export.export_html

    def held(*args, progress, **kwargs):
        def first_level_held(done, total):
            if done == 1:
                reached.set()
                assert pressed.wait(30)
            progress(done, total)

        return real(*args, progress=first_level_held, **kwargs)

    monkeypatch.setattr(web_page_export, "export_html", held)
    exporter = window.web_page
    with qtbot.waitSignal(exporter.finished, timeout=TIMEOUT) as ended:
        window.actions["export_web_page"].trigger()
        qtbot.waitUntil(reached.is_set, timeout=TIMEOUT)
        dialog = exporter.progress
        qtbot.waitUntil(dialog.isVisible, timeout=TIMEOUT)  # shown once the export takes a moment
        (cancel,) = dialog.findChildren(QPushButton)
        assert cancel.text() == "Cancel"
        cancel.click()
        pressed.set()
    assert ended.args == [None] and not (tmp_path / "page.html").exists()
    assert "cancelled; nothing was written" in window.statusBar().currentMessage()


def test_float16_that_would_change_the_results_is_refused_and_the_old_page_stays(
    qtbot, tiny_mnist, window, save_as, options, dialogs_shown, dialog_answers, tmp_path
):
    page = tmp_path / "page.html"
    export_html(build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=3), page)  # a page exported before
    before = page.read_bytes()
    window.state.set_model(fragile_model(), name="fragile")
    options["half"] = True
    dialog_answers["Replace the file?"] = QMessageBox.StandardButton.Yes
    assert export(qtbot, window) is None
    assert page.read_bytes() == before
    asked, refused = dialogs_shown
    assert asked.startswith("Replace the file?\npage.html exists: a web page exported by Denoise Studio")
    assert refused.startswith("Float16 weights refused\nNot exporting float16 weights (--half): they change the test")
    assert "Nothing was written" in refused and "float32" in refused


def test_a_page_of_ours_is_replaced_only_when_the_user_says_so(qtbot, tiny_mnist, window, save_as, options,
                                                               dialog_answers, tmp_path):  # fmt: skip
    page = tmp_path / "page.html"
    export_html(build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=3), page, name="the old one")
    window.actions["export_web_page"].trigger()  # the question is answered Cancel: nothing starts
    assert not window.web_page.jobs.is_busy() and "the old one" in page.read_text()
    dialog_answers["Replace the file?"] = QMessageBox.StandardButton.Yes
    export(qtbot, window)
    assert "the old one" not in page.read_text() and window.state.name in page.read_text()


@pytest.mark.parametrize("name", ["notes.html", "notes.htm"])
def test_a_file_the_app_did_not_write_is_never_replaced(qtbot, window, save_as, options, dialogs_shown, tmp_path,
                                                        name):  # fmt: skip
    mine = tmp_path / name
    mine.write_text("<!doctype html><title>my own notes</title>")
    save_as["name"] = name
    window.actions["export_web_page"].trigger()
    assert mine.read_text() == "<!doctype html><title>my own notes</title>"
    assert not window.web_page.jobs.is_busy()
    (refusal,) = dialogs_shown
    assert refusal.startswith(f"Not replacing {name}\n") and "never writes over a file it did not write" in refusal


def test_without_the_test_set_the_page_offers_drawing_only_and_float16_cannot_be_chosen(
    qtbot, window, save_as, options, dialogs_shown, monkeypatch, tmp_path
):
    monkeypatch.setenv("DENOISE_STUDIO_DATA", str(tmp_path / "no-mnist-here"))
    written = export(qtbot, window)
    (offered,) = options["shown"]
    assert not offered["half_enabled"] and "MNIST test set is not on this machine" in offered["text"]
    assert written.page.n_test_images == 0 and "not on this machine" in written.no_test_images
    (confirmation,) = dialogs_shown
    assert "no test images" in confirmation and "it offers drawing only" in confirmation


def test_a_model_the_page_cannot_run_is_refused_before_any_question(window, save_as, options, dialogs_shown,
                                                                     monkeypatch):  # fmt: skip
    """Every model the engine builds today runs in the page; one with an activation the page did not compute would
    not (as with a new kind of layer)."""
    monkeypatch.setattr(engine.web_export, "WEB_ACTIVATIONS", ("linear", "sigmoid"))  # the page without ReLU
    window.actions["export_web_page"].trigger()
    assert options["shown"] == [] and save_as["asked"] == []
    (refusal,) = dialogs_shown
    assert refusal.startswith("Cannot export web page\nCannot export as a web page: layer 0's activation 'relu'")
    assert "Nothing was written" in refusal


def test_a_folder_that_cannot_be_written_gets_a_dialog(qtbot, tiny_mnist, window, save_as, options, dialogs_shown,
                                                       tmp_path):  # fmt: skip
    (tmp_path / "taken.html").mkdir()  # a folder where the page should go
    save_as["name"] = "taken.html"
    assert export(qtbot, window) is None
    (failure,) = dialogs_shown
    assert failure.startswith("Cannot export web page\nWriting") and "taken.html" in failure
