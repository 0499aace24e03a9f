"""The Denoise tab: draw, pick a test image or bring a picture, add a fixed noise pattern, see the reconstruction
live — and look inside: the code and the network, robustness, the latent map, every layer.

The tab only lays its parts out and wires them to one ``DenoiseState`` (``gui.denoise.state``): each part
reads the state, listens to its signals and sends the user's intent back to it.  Everything slow (reading a
test set or a picture, fitting PCA, the latent axis, the test score, the curves, the map) runs as jobs off
the GUI thread in the part that shows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gui.app_state import AppState
from gui.common.built_when_shown import BuiltWhenShown
from gui.common.hints import hint
from gui.common.hourglass_item import HourglassView
from gui.common.panel_room import PanelRoom, RoomTabs
from gui.denoise.data_note import DataNote
from gui.denoise.draw_panel import DrawPanel
from gui.denoise.inputs import DenoiseInputs
from gui.denoise.latent_panel import LatentPanel
from gui.denoise.noise_row import NoiseRow
from gui.denoise.result_row import ResultRow
from gui.denoise.score import TestScore
from gui.denoise.state import DenoiseState
from gui.denoise.steps_view import PreparationStepsDialog

if TYPE_CHECKING:  # the pages under the first one: imported when made
    from gui.denoise.inside_panel import InsidePanel
    from gui.denoise.latent_map_panel import LatentMapPanel
    from gui.denoise.robustness_panel import RobustnessPanel

CANVAS_WIDTH_SHARE = 0.28
"""The drawing canvas takes at most this share of the tab's width (the images need the rest)."""
PAGES = (
    ("Code and network", "The code your drawing is squeezed into, and where it sits in the network"),
    ("Robustness", "Test MSE against σ: where this model beats the noisy input and PCA"),
    ("Latent map", "Every test digit placed by its code: hover, click to decode, interpolate"),
    ("Inside the network", "Every layer live as you draw; perturb the weights and watch the output degrade"),
)
"""The lower pages: their names and tooltips, in order."""
ROOMS = (None, "robustness", "latent_map", "inside")
"""The settings key of each page that can be enlarged or shown in a window of its own (``PanelRoom``)."""
IMAGES_ROOM_PX = 420
"""The images and the noise row stop growing at this height (until the user drags the handle): a taller window's
extra room goes to the pages below, the teaching views."""


class DenoiseTab(QWidget):
    """Canvas → 28×28 → noise → model, shown as clean | noisy | reconstruction (| PCA), with the pages below."""

    modelApplied = Signal(object)  # the user made a perturbed copy the model (Inside the network ▸ Apply)

    def __init__(self, app: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = DenoiseState(app, self)
        self.draw = DrawPanel()
        self.canvas = self.draw.canvas
        self.inputs = DenoiseInputs(self.state, self.draw, self)
        self.score = TestScore(self.state, self)
        self.result = ResultRow(self.state)
        self.noise = NoiseRow(self.state)
        self.data_note = DataNote(self.state, self.inputs.set_jobs)
        self.latent = LatentPanel(self.state)
        self.hourglass = HourglassView()
        hint(self.hourglass, "The network; the code's units light up with their activation as you draw")
        self._settings: QSettings | None = None  # where the robustness page keeps its choices (``restore``)
        self._pages = {  # the pages under the first one: made when first shown or asked for (``robustness``, …)
            "robustness": BuiltWhenShown(self._make_robustness),
            "latent_map": BuiltWhenShown(self._make_latent_map),
            "inside": BuiltWhenShown(self._make_inside),
        }
        self.steps_dialog: PreparationStepsDialog | None = None  # Show the steps…, made when first asked for
        self._lay_out()
        self._follow_state()

    # ----- layout ----------------------------------------------------------------------------
    def _lay_out(self) -> None:
        code_and_net = QWidget()
        both = QHBoxLayout(code_and_net)
        both.setContentsMargins(0, 0, 0, 0)
        both.addWidget(self.latent, 1)
        net_box = QGroupBox("Network")
        QVBoxLayout(net_box).addWidget(self.hourglass)
        both.addWidget(net_box, 1)
        self.panels = RoomTabs(room_buttons=True)  # Enlarge and Window in its corner, for the page shown
        self.panels.setObjectName("pages")  # tabs a little narrower than the window's (theme)
        self.rooms: dict[str, PanelRoom] = {}
        pages = (code_and_net, *self._pages.values())
        for page, (name, tip), key in zip(pages, PAGES, ROOMS, strict=True):
            page.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)  # must not resize the images
            if key is not None:
                page = self.rooms[key] = PanelRoom(key, name, page, header=False)
            self.panels.addTab(page, name)
            self.panels.setTabToolTip(self.panels.count() - 1, tip)
        self.panels.currentChanged.connect(self._follow_inside)
        self.rooms["inside"].modeChanged.connect(self._follow_inside)
        images = QWidget()  # the images and the noise row under them, the pages below, split by a handle
        top = QVBoxLayout(images)
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.data_note)
        top.addWidget(self.result, 1)
        noise_line = QHBoxLayout()
        noise_line.addWidget(self.noise, 1)
        noise_line.addWidget(self.result.compare_box)
        top.addLayout(noise_line)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(images)
        self.splitter.addWidget(self.panels)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 4)
        self.splitter.setSizes([5000, 4000])  # proportions: the images a little taller than the panels
        self._split_by_user = False  # once the user drags the handle, the splitter keeps their proportions
        self.splitter.splitterMoved.connect(self._on_split_moved)
        layout = QGridLayout(self)
        layout.addWidget(self.draw, 0, 0)
        layout.addWidget(self.splitter, 0, 1)
        layout.setColumnStretch(1, 1)

    # ----- the pages made when first shown ------------------------------------------------------
    @property
    def robustness(self) -> RobustnessPanel:
        """The Robustness page (made now if it was not yet)."""
        return self._pages["robustness"].content()

    @property
    def latent_map(self) -> LatentMapPanel:
        """The Latent map page (made now if it was not yet)."""
        return self._pages["latent_map"].content()

    @property
    def inside(self) -> InsidePanel:
        """The Inside the network page (made now if it was not yet)."""
        return self._pages["inside"].content()

    def _make_robustness(self) -> RobustnessPanel:
        from gui.denoise.robustness_panel import RobustnessPanel

        panel = RobustnessPanel(self.state)
        if self._settings is not None:
            panel.restore(self._settings)
        return panel

    def _make_latent_map(self) -> LatentMapPanel:
        from gui.denoise.latent_map_panel import LatentMapPanel

        return LatentMapPanel(self.state)

    def _make_inside(self) -> InsidePanel:
        from gui.denoise.inside_panel import InsidePanel

        panel = InsidePanel(self.state)
        panel.applied.connect(self.modelApplied)
        return panel

    def restore(self, settings: QSettings) -> None:
        """The robustness page's curves hidden and metric as the user left them (read when it is made)."""
        self._settings = settings
        if self._pages["robustness"].is_built():
            self.robustness.restore(settings)

    def _follow_inside(self, *_args) -> None:
        """Inside the network is active while it is on screen: its page is the one shown, or it is elsewhere
        (enlarged, or in its own window).  Not yet made, it is neither."""
        room, page = self.rooms["inside"], self._pages["inside"]
        active = room.mode != "docked" or self.panels.currentIndex() == self.panels.indexOf(page)
        if active or page.is_built():
            self.inside.set_active(active)

    def _on_split_moved(self, *_args) -> None:
        self._split_by_user = True

    def _share_height(self) -> None:
        """The images take 5/9 of the height up to ``IMAGES_ROOM_PX``; the pages below get the rest."""
        if self._split_by_user:
            return
        total = self.splitter.height() - self.splitter.handleWidth()
        if total > 0:
            images = min(round(total * 5 / 9), IMAGES_ROOM_PX)
            self.splitter.blockSignals(True)
            self.splitter.setSizes([images, total - images])
            self.splitter.blockSignals(False)

    def _follow_state(self) -> None:
        """The Draw column's caption and network input, and the hourglass, show the state."""
        state = self.state
        state.inputChanged.connect(self.draw.source_label.setText)
        state.inputChanged.connect(lambda _: self.draw.steps_button.setVisible(state.picture is not None))
        self.draw.steps_button.clicked.connect(self.show_steps)
        state.shownChanged.connect(lambda shown: self.draw.input_view.set_image(state.clean))
        state.modelChanged.connect(self.hourglass.set_model)
        state.shownChanged.connect(lambda shown: self.hourglass.set_latent(shown.code))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        margins = self.layout().contentsMargins()
        height = self.height() - margins.top() - margins.bottom()
        self.draw.fit_canvas(height, int(CANVAS_WIDTH_SHARE * self.width()))  # the images keep most of the width
        self._share_height()

    # ----- what the window asks of the tab ------------------------------------------------------
    def show_steps(self) -> None:
        """The window of the picture's preparation steps (made the first time), in front."""
        first = self.steps_dialog is None
        if first:
            self.steps_dialog = PreparationStepsDialog(self.state, self)
        self.steps_dialog.show()
        if first:  # shown, it holds its words: room for them; afterwards it stays where the user puts it
            self.steps_dialog.place_clear_of(self.draw)
        self.steps_dialog.raise_()
        self.steps_dialog.activateWindow()

    def open_picture(self, source: str | QImage, name: str | None = None) -> None:
        """A picture file (or image data) onto the canvas, read and prepared off the GUI thread."""
        self.inputs.open_picture(source, name)

    def paste_picture(self) -> None:
        """The clipboard's picture onto the canvas."""
        self.inputs.paste_picture()

    def show_test_digit(self, index: int) -> None:
        """Test image ``index`` of the chosen set (read off the GUI thread the first time)."""
        self.inputs.show_test_digit(index)
