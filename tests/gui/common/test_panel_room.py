"""Room for the teaching views: enlarged over the tab or in a window of their own, put back, remembered across
starts (what is read back is checked); tabs spoken of by what they hold; hiding panels take their windows along."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtWidgets import QLabel, QWidget

from engine.nn import build_mlp
from gui.common.panel_room import PanelRoom, PanelWindow, RoomTabs
from gui.main_window import MainWindow


@pytest.fixture
def denoise(window, tiny_mnist):
    window.tabs.setCurrentWidget(window.denoise_tab)
    return window.denoise_tab


def shown_on_screen(widget: QWidget) -> bool:
    return widget.isVisible() and widget.window().isVisible()


def test_a_page_enlarged_from_the_tabs_corner_fills_the_tab_and_escape_puts_it_back(qtbot, window, denoise):
    room = denoise.rooms["latent_map"]
    denoise.panels.setCurrentWidget(denoise.latent_map)
    assert denoise.panels.currentWidget() is denoise.latent_map  # tabs name the panel, not its room
    small = denoise.latent_map.size()
    denoise.panels.enlarge_button.click()
    assert room.mode == "enlarged"
    assert shown_on_screen(denoise.latent_map) and not denoise.canvas.isVisible()  # the whole tab is the map's
    assert denoise.latent_map.width() > small.width() and denoise.latent_map.height() > small.height()
    assert "enlarged" in room.place_label.text()
    qtbot.keyClick(denoise.latent_map, Qt.Key.Key_Escape)
    assert room.mode == "docked" and denoise.canvas.isVisible()
    assert denoise.latent_map.isVisible() and denoise.panels.currentWidget() is denoise.latent_map


def test_a_view_in_a_window_of_its_own_and_closing_that_window_puts_it_back(qtbot, window, tiny_mnist):
    window.tabs.setCurrentWidget(window.training_tab)
    room = window.training_tab.rooms["histograms"]
    histograms = window.training_tab.histograms
    room.window_button.click()
    assert room.mode == "detached"
    own = histograms.window()
    assert isinstance(own, PanelWindow) and own is not window and own.isVisible()
    assert "Weights and gradients" in own.windowTitle()
    assert room.place.isVisible() and "window of its own" in room.place_label.text()
    window.tabs.setCurrentWidget(window.denoise_tab)  # it stays in view whatever the tab
    assert shown_on_screen(histograms)
    own.close()
    assert room.mode == "docked" and histograms.window() is window
    window.tabs.setCurrentWidget(window.training_tab)
    assert histograms.isVisible()


def test_where_each_view_was_is_remembered_across_starts(qtbot, window, denoise, settings, small_model):
    denoise.rooms["latent_map"].detach()
    window.training_tab.rooms["histograms"].enlarge()
    window.state.dirty = False
    window.close()
    assert not denoise.latent_map.window().isVisible()  # its window closes with the app's
    again = MainWindow(small_model, settings=QSettings(settings.fileName(), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    again.show()
    assert again.denoise_tab.rooms["latent_map"].mode == "detached"
    assert isinstance(again.denoise_tab.latent_map.window(), PanelWindow)
    assert again.denoise_tab.latent_map.window().isVisible()
    assert again.training_tab.rooms["histograms"].mode == "enlarged"
    assert again.denoise_tab.rooms["robustness"].mode == "docked"
    again.state.dirty = False
    again.close()


def test_what_the_settings_say_is_checked_before_it_is_used(qtbot, settings, small_model, tiny_mnist):
    settings.setValue("panels/robustness/mode", "sideways")
    settings.setValue("panels/inside/mode", 3)
    settings.setValue("panels/latent_map/mode", "detached")
    settings.setValue("panels/latent_map/geometry", "not a geometry")
    settings.sync()
    window = MainWindow(small_model, settings=QSettings(settings.fileName(), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    rooms = window.denoise_tab.rooms
    assert rooms["robustness"].mode == "docked" and rooms["inside"].mode == "docked"
    own = window.denoise_tab.latent_map.window()
    assert rooms["latent_map"].mode == "detached" and own.isVisible()
    area = own.screen().availableGeometry()
    assert area.contains(own.frameGeometry())  # a fresh window, on the screen
    own.move(area.right() + 3000, area.bottom() + 3000)  # left where a screen was unplugged since
    window.state.dirty = False
    window.close()
    assert isinstance(settings.value("panels/latent_map/geometry"), QByteArray)
    again = MainWindow(small_model, settings=QSettings(settings.fileName(), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    again.show()
    own = again.denoise_tab.latent_map.window()
    assert own.isVisible() and own.screen().availableGeometry().contains(own.frameGeometry())
    again.state.dirty = False
    again.close()


def test_inside_the_network_works_on_the_model_whenever_it_is_in_view(qtbot, window, denoise):
    """The perturbed network is shown while Inside the network is on screen: its page, or its own window."""
    room = denoise.rooms["inside"]
    denoise.panels.setCurrentIndex(0)
    assert not denoise.inside.active
    room.detach()
    assert denoise.inside.active
    room.dock()
    assert not denoise.inside.active
    denoise.panels.setCurrentWidget(denoise.inside)
    assert denoise.inside.active


def test_a_view_that_hides_itself_takes_its_window_along(qtbot, window, tiny_mnist):
    """The PCA check shows only for a linear model: in its own window, the window follows."""
    window.state.set_model(build_mlp([784, 6, 784], ["linear", "linear"], seed=0), name="linear", dirty=False)
    window.tabs.setCurrentWidget(window.training_tab)
    room = window.training_tab.rooms["pca_check"]
    room.detach()
    own = window.training_tab.pca_check.window()
    assert own.isVisible()
    window.state.set_model(build_mlp([784, 6, 784], ["relu", "sigmoid"], seed=0), name="not linear", dirty=False)
    assert not own.isVisible() and room.mode == "detached" and not room.isVisible()
    window.state.set_model(build_mlp([784, 6, 784], ["linear", "linear"], seed=1), name="linear", dirty=False)
    assert own.isVisible()


def test_tabs_of_rooms_speak_of_what_they_hold(qtbot):
    tabs = RoomTabs(scroll_pages=True, room_buttons=True)
    qtbot.addWidget(tabs)
    plain, panel = QLabel("a page"), QLabel("a panel")
    room = PanelRoom("demo", "Demo", panel, header=False)
    tabs.addTab(plain, "Plain")
    holder = QWidget()
    tabs.addTab(room, "Room")
    tabs.show()
    assert tabs.widget(0) is plain and tabs.page(0) is not plain  # a scrolling page holds it
    assert tabs.indexOf(panel) == 1 and tabs.indexOf(room) == 1 and tabs.indexOf(holder) == -1
    tabs.setCurrentWidget(panel)
    assert tabs.currentIndex() == 1 and tabs.currentWidget() is panel
    assert tabs.corner.isVisible() and tabs.enlarge_button.isVisible()
    assert "Demo" in tabs.window_button.toolTip() and tabs.window_button.toolTip() == tabs.window_button.statusTip()
    tabs.enlarge_button.click()
    assert room.mode == "enlarged" and not tabs.corner.isVisible()  # Put back is on the room's own header now
    assert room.back_button.isVisible()
    room.back_button.click()
    assert room.mode == "docked" and tabs.corner.isVisible()
    tabs.setCurrentIndex(0)
    assert not tabs.corner.isVisible()  # a page that is not a room has no such buttons
