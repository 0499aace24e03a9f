"""Issue 34: what is not on the window's first screen costs nothing until it is looked at — no background job for a
hidden panel, the Runs tab not even made — and once looked at, it shows what it would have shown anyway."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication

from engine.dataset import read_split
from engine.histograms import snapshot_of
from engine.images import as_unit_float
from engine.latent import code_range, latent_codes, layer_ranges
from engine.nn import build_mlp
from engine.noise import fixed_noisy
from engine.perturb import Perturbation, perturb
from gui.common.jobs import wait_for_all_jobs
from gui.start_model import SHIPPED_MODEL
from tests.gui.conftest import let_go

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 20000


def settled() -> bool:
    """Every job started so far has ended and what it returned has landed (its signal is queued for this thread)."""
    done = wait_for_all_jobs()
    QCoreApplication.processEvents()
    return done


@pytest.fixture
def deep_model():
    return build_mlp([784, 24, 6, 24, 784], ["relu", "relu", "relu", "sigmoid"], seed=4)


@pytest.fixture
def denoise(window, deep_model, tiny_mnist):
    """The Denoise tab on screen with its first page (the code and the network); the others hidden."""
    window.tabs.setCurrentWidget(window.denoise_tab)
    tab = window.denoise_tab
    tab.panels.setCurrentIndex(0)
    window.state.set_model(deep_model, name="deep")
    assert settled()  # whatever was started has ended
    return tab


def test_the_perturbations_and_the_layer_scales_wait_for_their_page(qtbot, denoise, deep_model):
    inside = denoise.inside
    assert not inside.perturb.is_ready() and inside.view.ranges is None  # hidden: nothing prepared, nothing scored
    with qtbot.waitSignal(inside.perturb.ready, timeout=TIMEOUT):
        denoise.panels.setCurrentWidget(inside)
    qtbot.waitUntil(lambda: inside.view.ranges is not None, timeout=TIMEOUT)
    test_images = read_split("test", progress=False)[0]
    np.testing.assert_allclose(inside.view.ranges, layer_ranges(deep_model, test_images), rtol=1e-6)
    inside.perturb.prune_slider.setValue(40)  # the controls work as they always did
    np.testing.assert_array_equal(inside.perturb.network().params,
                                  perturb(deep_model, Perturbation(prune=0.4)).params)  # fmt: skip


def test_the_code_axis_waits_for_its_page(qtbot, window, deep_model, tiny_mnist):
    window.tabs.setCurrentWidget(window.denoise_tab)
    tab = window.denoise_tab
    tab.panels.setCurrentWidget(tab.robustness)  # the code's page hidden
    window.state.set_model(deep_model, name="deep")
    assert settled()
    expected = code_range(latent_codes(deep_model, read_split("test", progress=False)[0]))
    assert tab.latent.bars.y_range != pytest.approx(expected)
    with qtbot.waitSignal(tab.latent.range_jobs.busyChanged, timeout=TIMEOUT, check_params_cb=lambda busy: not busy):
        tab.panels.setCurrentIndex(0)
    assert tab.latent.bars.y_range == pytest.approx(expected)


def test_the_training_tabs_strip_and_histograms_wait_for_the_tab(qtbot, window, tiny_mnist):
    tab = window.training_tab
    window.tabs.setCurrentWidget(window.denoise_tab)
    model = build_mlp([784, 12, 784], ["relu", "sigmoid"], seed=2)
    window.state.set_model(model, name="fresh")
    assert settled()
    assert all(view.image() is None or not view.image().any() for view in tab.strip.noisy)
    assert tab.histograms.snapshot is None
    with qtbot.waitSignals([tab.histograms.updated, tab.preview_jobs.busyChanged], timeout=TIMEOUT, order="none",
                           check_params_cbs=[None, lambda busy: not busy]):  # fmt: skip
        window.tabs.setCurrentWidget(tab)
    noisy = fixed_noisy(as_unit_float(read_split("test", progress=False)[0][:8]), tab.form.noise.value())
    np.testing.assert_allclose(tab.strip.noisy[0].image(), noisy[0].reshape(28, 28))
    np.testing.assert_allclose(tab.strip.recon[3].image(), model.predict(noisy[3]).reshape(28, 28), rtol=1e-6)
    expected = snapshot_of(model)
    assert tab.histograms.snapshot.kind == "model"
    for shown, weights in zip(tab.histograms.snapshot.weights, expected.weights, strict=True):
        np.testing.assert_array_equal(shown, weights)


def test_the_runs_tab_is_made_when_first_shown(qtbot, window):
    page = window.tabs.widget(3)
    assert window.tabs.tabText(3) == "Runs" and type(page).__name__ != "RunsTab"  # not made at start
    window.tabs.setCurrentIndex(3)
    runs = window.tabs.widget(3)
    assert type(runs).__name__ == "RunsTab" and runs is window.runs_tab and runs.isVisible()
    assert window.tabs.currentWidget() is runs and window.tabs.indexOf(runs) == 3
    window.tabs.setCurrentWidget(window.training_tab)
    window.tabs.setCurrentWidget(window.runs_tab)  # one tab, made once
    assert window.tabs.currentIndex() == 3 and window.runs_tab is runs


def test_the_architecture_tab_is_made_when_first_shown_and_shows_the_model_already_there(qtbot, window):
    window.tabs.setCurrentWidget(window.denoise_tab)
    window.state.set_model(build_mlp([784, 12, 784], ["relu", "sigmoid"], seed=2), name="fresh")
    assert window.tabs.tabText(0) == "Architecture" and type(window.tabs.widget(0)).__name__ != "ArchitectureTab"
    window.tabs.setCurrentIndex(0)
    tab = window.tabs.widget(0)
    assert type(tab).__name__ == "ArchitectureTab" and tab is window.architecture_tab and tab.isVisible()
    assert tab.editor.layers() == ([784, 12, 784], ["relu", "sigmoid"])
    assert tab.table.rowCount() > 0


def test_a_training_panel_left_in_a_window_of_its_own_is_back_at_the_next_start(qtbot, settings, small_model):
    from PySide6.QtWidgets import QApplication

    from gui.common.panel_room import PanelWindow
    from gui.main_window import MainWindow

    settings.setValue("panels/histograms/mode", "detached")
    settings.sync()
    window = MainWindow(small_model, settings=settings)
    qtbot.addWidget(window)
    window.show()  # on the Denoise tab: the Training tab is not shown, its panel's window is
    shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, PanelWindow) and w.isVisible()]
    assert [w.room.key for w in shown] == ["histograms"]
    assert window.training_tab.rooms["histograms"].mode == "detached"
    window.state.dirty = False
    window.close()


def test_a_fresh_window_imports_no_tab_it_does_not_show_and_starts_no_job_before_it_has_appeared(tmp_path):
    """As ``gui.app.main`` starts the app: jobs held until the window's first paint; the tabs and pages not on the
    first screen (the Denoise tab's first page) not even imported; the shipped model read after the window is on
    screen (a job), and current once read."""
    code = (
        "import sys\n"
        "from PySide6.QtCore import QEvent, QObject, QTimer\n"
        "import gui.app\n"
        "from gui.common.jobs import JobPool\n"
        "LATER = ('gui.runs.tab', 'engine.cli', 'gui.architecture.tab', 'gui.training.tab', 'gui.training.loss_plot',\n"
        "         'gui.denoise.robustness_panel', 'gui.denoise.latent_map_panel', 'gui.denoise.inside_panel')\n"
        "seen = []\n"
        "submit = JobPool.submit\n"
        "def watched(self, runner, generation, fn, args, state):\n"
        "    def job(*args):\n"
        "        seen.append('job')\n"
        "        return fn(*args)\n"
        "    return submit(self, runner, generation, job, args, state)\n"
        "JobPool.submit = watched\n"
        "class FirstPaint(QObject):\n"
        "    def eventFilter(self, watched, event):\n"
        "        if event.type() == QEvent.Type.Paint and watched.isWidgetType() and watched.isWindow() and \\\n"
        "                'paint' not in seen:\n"
        "            seen.append('paint')\n"
        "            print(sorted(m for m in LATER if m in sys.modules), flush=True)\n"
        "            print(gui.app.QApplication.instance().main_window.state.model, flush=True)\n"
        "            poll.start(20)\n"
        "        return False\n"
        "def quit_after_a_job():  # (bounded: the app's own 3 s limit releases the jobs in any case)\n"
        "    state = gui.app.QApplication.instance().main_window.state\n"
        "    if 'job' in seen and state.model is not None:\n"
        "        print(seen, flush=True)\n"
        "        print(state.name, flush=True)\n"
        "        gui.app.QApplication.instance().quit()\n"
        "poll = QTimer()\n"
        "poll.timeout.connect(quit_after_a_job)\n"
        "watcher = FirstPaint()\n"
        "make_app = gui.app.make_app\n"
        "def app_watched(argv=None):\n"
        "    app = make_app(argv)\n"
        "    app.installEventFilter(watcher)\n"
        "    return app\n"
        "gui.app.make_app = app_watched\n"
        "gui.app.main([])\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO), "HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    modules, model_at_paint, seen, name = proc.stdout.strip().splitlines()[-4:]
    assert modules == "[]"
    assert model_at_paint == "None"  # the window appeared before the model file was read …
    assert seen.startswith("['paint', 'job'")  # … by a job, after the paint (so are the test score, the code axis)
    assert name == SHIPPED_MODEL


def test_the_shipped_models_menu_reads_its_files_when_first_opened(window):
    actions = window.files.shipped_menu.actions()
    assert actions and all(action.text() == action.data() for action in actions)  # named only: no header read yet
    assert window.files.shipped_entries() == actions  # what the menu shows on opening (File ▸ Shipped models)
    assert all(a.text().startswith(f"{a.data()}  —  ") and "trained at" in a.text() for a in actions)


def test_record_training_runs_names_the_database_once_the_file_menu_opens(window):
    from engine.runs import database_path

    action = window.actions["record_runs"]
    action.associatedObjects()[0].aboutToShow.emit()  # File, as it opens
    assert action.toolTip().endswith(f"(it is {database_path()})") and action.statusTip() == action.toolTip()


# ----- the window on screen before its model is read (gui.app.main) -----------------------------------------------
@pytest.fixture
def opening_window(qtbot, settings, app_state):
    """A window as ``gui.app.main`` shows it: on screen before the model it opens with has been read."""
    from gui.main_window import MainWindow

    win = MainWindow(settings=settings, state=app_state, start_model=None)
    qtbot.addWidget(win)
    win.show()
    yield win
    let_go(win)


def test_while_the_start_model_is_read_every_tab_opens_and_the_model_actions_wait(qtbot, opening_window):
    window = opening_window
    assert window.state.model is None and "opening" in window.status_model.text()
    tab = window.denoise_tab  # no network drawn, no code shown, before there is a model
    assert not tab.hourglass.item.isVisible() and tab.latent.bars.values.size == 0
    for index in range(window.tabs.count()):  # each tab made and shown without a model
        window.tabs.setCurrentIndex(index)
        QCoreApplication.processEvents()
    waiting = [window.actions[key] for key in ("save", "save_as", "export_web_page")]
    assert not any(action.isEnabled() for action in waiting)
    assert all("still being opened" in action.toolTip() for action in waiting)
    with qtbot.waitSignal(window.state.modelChanged, timeout=TIMEOUT):
        window.files.open_start_model()
    assert window.state.name == SHIPPED_MODEL and window.windowTitle().startswith(SHIPPED_MODEL)
    assert tab.hourglass.item.isVisible() and tab.hourglass.item.widths == window.state.model.widths()
    assert window.training_tab.model is window.state.model  # made before it came, the Training tab follows it
    assert all(action.isEnabled() and "still being opened" not in action.toolTip() for action in waiting)


def test_a_model_opened_while_the_start_model_is_read_stays_current(opening_window, small_model):
    window = opening_window
    window.files.open_start_model()
    window.state.set_model(small_model, name="mine")  # before the start model's job has landed
    assert settled()
    assert window.state.model is small_model and window.state.name == "mine"


@pytest.mark.parametrize("failure", ["missing", "out of memory"])
def test_a_start_model_that_cannot_be_read_leaves_an_untrained_model_and_says_why(qtbot, opening_window, monkeypatch,
                                                                                   failure):  # fmt: skip
    import gui.start_model
    from engine.nn import MLP

    if failure == "missing":
        monkeypatch.setattr(gui.start_model, "SHIPPED_MODEL", "no_such_shipped_model")
    else:
        monkeypatch.setattr(MLP, "from_file", classmethod(lambda cls, path: (_ for _ in ()).throw(MemoryError())))
    window = opening_window
    with qtbot.waitSignal(window.state.modelChanged, timeout=TIMEOUT):
        window.files.open_start_model()
    assert window.state.name == "untitled" and window.state.model.widths() == [784, 10, 784]
    message = window.statusBar().currentMessage()
    assert message.startswith("Shipped model not available") and ("MemoryError" in message) == (failure != "missing")
