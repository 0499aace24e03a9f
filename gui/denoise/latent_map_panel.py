"""The latent map: the codes of the 10,000 test images (MNIST digits, or Fashion-MNIST clothes: the Denoise tab's
choice) as points on a plane, coloured by label.

The map is ``engine.latent_map`` (the plane of the codes' two principal axes; a 2-unit code as it
is), built off the GUI thread once per model and kept.  The star is the code in the Autoencoder
view: it moves as you draw.  Hovering a dot shows its test image; a click decodes the point under
it (``pointChosen``, which the Denoise tab shows through Latent explorer); the strip decodes codes
along the straight line between two typical digits, or two places you Shift+click.  For a model with a
skip path the note says that a point decodes to the network's own image: no input passes with a code alone.
"""

from __future__ import annotations

import weakref

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsSimpleTextItem,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from engine.data_sources import data_source
from engine.images import to_unit_float
from engine.latent_map import INTERPOLATION_STEPS, LatentMap, interpolate, latent_map
from gui.common.data_sets import DataSets
from gui.common.hints import hint
from gui.common.image_row import PixelImage, to_qimage
from gui.common.jobs import JobRunner
from gui.common.theme import Theme, colors, style_plot
from gui.common.when_shown import WhenShown
from gui.denoise.state import DenoiseState

DIGIT_COLORS = (
    "#3f90da", "#ffa90e", "#bd1f01", "#94a4a2", "#832db6", "#a96b59", "#e76300", "#b9ac70", "#717581", "#92dadd",
)  # fmt: skip
"""One colour per digit 0-9: Petroff's 10-colour sequence (2021), chosen to stay apart under the common
colour-vision deficiencies; mid-light tones that read on the light and the dark background alike."""
DEFAULT_ENDS = (1, 7)
"""The strip's digits before the user picks others."""
BANDS = 10
"""The dots are drawn in this many items, each a random tenth of all of them (every label mixed): no label is
drawn over the others, and a map is placed a band per event-loop turn (the window never waits for 10,000)."""
SHUFFLE_SEED = 0
"""The drawing order's seed: the same map looks the same each time."""
SKIP_NOTE = (
    " This model also hands its input straight to the output (a {kind} skip path), so a code is not all its output "
    "is made from: a point, and the strip, show what the network draws from the code alone."
)


def _place_codes(model, data: DataSets, data_set: str, state) -> tuple[LatentMap, np.ndarray] | None:
    """Runs on a pool thread: the map of the test images' codes, and the test images (n, 784) uint8."""
    images, labels = data.split("test", data_set)
    if state.cancelled():  # replaced while the images were read (a model's own data set chosen next)
        return None
    return latent_map(model, images, labels), images


class ClickableImage(PixelImage):
    """A ``PixelImage`` that emits ``clicked`` on a left click."""

    clicked = Signal()

    def __init__(self, min_size: int = 40, parent: QWidget | None = None) -> None:
        super().__init__(min_size=min_size, parent=parent)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(56, 56)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.clicked.emit()


class HoverCard(QGraphicsRectItem):
    """The hovered test digit (white on black) and a line of text, drawn beside the pointer over the map."""

    SCALE = 2
    PAD = 4

    def __init__(self, parent) -> None:
        super().__init__(parent)
        self.image = QGraphicsPixmapItem(self)
        self.text = QGraphicsSimpleTextItem(self)
        self.image.setPos(self.PAD, self.PAD)
        self.text.setPos(self.PAD, self.PAD + 28 * self.SCALE + 2)
        self.setZValue(1000)
        self.hide()
        self.restyle()

    def restyle(self) -> None:
        self.setBrush(QColor(colors()["tooltip"]))
        self.setPen(QPen(QColor(colors()["button_border"]), 1))
        self.text.setBrush(QColor(colors()["text"]))

    def show_digit(self, image: np.ndarray, caption: str, at: QPointF, within: QRectF) -> None:
        """Show ``image`` (28, 28) in [0, 1] and ``caption`` beside the scene point ``at``, inside ``within``."""
        side = 28 * self.SCALE
        self.image.setPixmap(QPixmap.fromImage(to_qimage(image)).scaled(side, side))
        self.text.setText(caption)
        width = max(side, self.text.boundingRect().width()) + 2 * self.PAD
        height = side + self.text.boundingRect().height() + 2 * self.PAD + 2
        self.setRect(0, 0, width, height)
        x, y = at.x() + 12, at.y() + 12  # below right of the dot, flipped where it would leave the map
        if x + width > within.right():
            x = at.x() - 12 - width
        if y + height > within.bottom():
            y = at.y() - 12 - height
        self.setPos(self.parentItem().mapFromScene(QPointF(max(x, within.left()), max(y, within.top()))))
        self.show()


class LatentMapPanel(QWidget):
    """Follows the Denoise state: a new model or test set (re)builds the map when shown, the code shown moves the
    star; a chosen point is decoded through the state (``DenoiseState.explore_code``).

    Signals: ``mapReady(LatentMap)`` once every point is placed; ``pointChosen(code)`` (k,) float32;
    ``stripChanged(images)`` (steps, 784) float32 after the strip is drawn.
    """

    mapReady = Signal(object)
    pointChosen = Signal(object)
    stripChanged = Signal(object)

    def __init__(self, state: DenoiseState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = None
        self.map: LatentMap | None = None
        self.images: np.ndarray | None = None  # the test images (n, 784) uint8 the map shows
        self.code: np.ndarray | None = None  # the code in the Autoencoder view
        self.strip_codes: np.ndarray | None = None  # (steps, k)
        self._ends: dict[str, np.ndarray | None] = {"from": None, "to": None}  # Shift+clicked points (2,)
        self._next_end = "from"
        self.data_set = "mnist"  # whose test images are mapped
        self._cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {data set: (map, images)}
        self.refresh = WhenShown(self, self._request, on_hidden=lambda: self.jobs.cancel())
        self._feed: list[int] = []  # bands whose dots are still to be placed, one per event-loop turn
        self._bands: list[np.ndarray] = []  # each band's test images (indices), in drawing order
        self._shown = np.ones(len(DIGIT_COLORS), bool)  # the labels shown (the legend's boxes)
        self._hover_owner = None
        self._hover_event, self._hover_distance = None, None  # the hover event being answered, the nearest dot's
        self.hovered: int | None = None  # the test digit under the pointer
        self.jobs = JobRunner(self)
        self._feed_timer = QTimer(self)
        self._feed_timer.setInterval(0)
        self._feed_timer.timeout.connect(self._place_next_band)
        self._build_plot()
        self._build_side()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        left = QVBoxLayout()
        left.addWidget(self.plot, 1)
        left.addWidget(self.note)
        layout.addLayout(left, 3)
        layout.addWidget(self.side, 1)
        self.restyle()
        Theme.of_app().changed.connect(self.restyle)
        state.follow(test_set=self.set_data_set, model=self.set_model,
                     shown=lambda shown: self.set_code(shown.code))  # made at any time: it shows the state now
        self.pointChosen.connect(state.explore_code)

    # ----- building the widgets ---------------------------------------------------------------
    def _build_plot(self) -> None:
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.getPlotItem().hideButtons()
        self.plot.setAspectLocked(True)  # distances on the map are distances between codes
        self.plot.showGrid(x=True, y=True, alpha=0.12)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        tip = (
            "Each dot is the code of one test image (of the set chosen under Test images), coloured by its label; "
            "the star is the code in the Autoencoder view. Hover a dot to see its image, click anywhere to decode "
            "that point, Shift+click two places to interpolate between them; drag to pan, wheel to zoom"
        )
        hint(self.plot, tip)
        self.brushes = []  # a label's dots, translucent: dense clusters show their overlap
        for color in DIGIT_COLORS:
            fill = QColor(color)
            fill.setAlpha(120)
            self.brushes.append(pg.mkBrush(fill))
        self.scatters: list[pg.ScatterPlotItem] = []  # the bands, every label mixed in each
        for _ in range(BANDS):
            item = pg.ScatterPlotItem(size=5, pen=None, hoverable=True, tip=None)
            item.sigHovered.connect(self._on_hover)
            item.setCacheMode(item.CacheMode.DeviceCoordinateCache)  # hover and the star redraw, not 10,000 dots
            self.plot.addItem(item)
            self.scatters.append(item)
        self.path = pg.PlotDataItem(symbol="o", symbolSize=7)  # the interpolation line, a dot per image
        self.hover_ring = pg.ScatterPlotItem(size=13, symbol="o")
        self.marker = pg.ScatterPlotItem(size=20, symbol="star")
        for item in (self.path, self.hover_ring, self.marker):
            self.plot.addItem(item)
        self.card = HoverCard(self.plot.getPlotItem())  # the hovered digit, beside the pointer
        self.plot.viewport().installEventFilter(self)  # no map tooltip over the card
        self.plot.scene().sigMouseClicked.connect(self._on_click)
        self.note = QLabel("")
        self.note.setObjectName("caption")
        self.note.setWordWrap(True)

    def _build_side(self) -> None:
        self.side = QWidget()
        self.side.setMinimumWidth(256)
        self.side.setMaximumWidth(440)
        legend = QGridLayout()
        legend.setHorizontalSpacing(4)
        legend.setVerticalSpacing(0)
        self.digit_boxes: list[QCheckBox] = []
        for digit, color in enumerate(DIGIT_COLORS):
            box = QCheckBox()
            box.setObjectName("legend")
            box.setStyleSheet("QCheckBox#legend::indicator { width: 0px; height: 0px; }")  # the swatch shows it
            box.setIcon(_swatch(color))
            box.setChecked(True)
            box.toggled.connect(lambda on, d=digit: self._show_digit(d, on))
            self.digit_boxes.append(box)
        self.legend = legend
        self._name_labels()
        self.from_box, self.to_box = QComboBox(), QComboBox()
        for box, end in ((self.from_box, "start"), (self.to_box, "end")):
            tip = (
                f"The strip's {end}: a typical test image of that label (the one whose code is nearest the "
                "label's mean code), or a place you Shift+clicked on the map"
            )
            hint(box, tip)
            box.currentIndexChanged.connect(self.update_strip)
        self.strip: list[ClickableImage] = []
        grid = QGridLayout()
        grid.setSpacing(3)
        for i in range(INTERPOLATION_STEPS):
            view = ClickableImage(min_size=40)
            tip = f"Step {i + 1} of {INTERPOLATION_STEPS} on the straight line between the two codes; click to " \
                  "show it in the Autoencoder view"  # fmt: skip
            hint(view, tip)
            view.clicked.connect(lambda i=i: self._choose_step(i))
            grid.addWidget(view, i // 5, i % 5)
            self.strip.append(view)
        ends = QGridLayout()
        ends.setVerticalSpacing(2)
        ends.addWidget(QLabel("Path from"), 0, 0)
        ends.addWidget(self.from_box, 0, 1)
        ends.addWidget(QLabel("to"), 1, 0, Qt.AlignmentFlag.AlignRight)
        ends.addWidget(self.to_box, 1, 1)
        ends.setColumnStretch(1, 1)
        layout = QVBoxLayout(self.side)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(legend)
        layout.addLayout(ends)
        layout.addLayout(grid)
        layout.addStretch(1)
        self.side.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)

    def restyle(self) -> None:
        """Pens and backgrounds in the active theme's colours (the digit colours stay)."""
        style_plot(self.plot)
        ink, paper = colors()["text"], colors()["base"]
        self.marker.setPen(pg.mkPen(paper, width=1.5))
        self.marker.setBrush(pg.mkBrush(ink))
        self.hover_ring.setPen(pg.mkPen(ink, width=2))
        self.hover_ring.setBrush(None)
        self.path.setPen(pg.mkPen(ink, width=1.5, style=Qt.PenStyle.DashLine))
        self.path.setSymbolPen(pg.mkPen(ink, width=1.5))
        self.path.setSymbolBrush(pg.mkBrush(paper))
        self.card.restyle()

    def _name_labels(self) -> None:
        """The legend names the data set's labels: digits in two rows of five, clothes in five rows of two."""
        names = data_source(self.data_set).classes
        columns = 5 if max(len(name) for name in names) <= 2 else 2
        for label, (box, name) in enumerate(zip(self.digit_boxes, names, strict=True)):
            box.setText(name)
            hint(box, f"Test images labelled {name} (this colour): click to hide or show them on the map")
            self.legend.addWidget(box, label // columns, label % columns)

    def set_data_set(self, name: str) -> None:
        """Map ``name``'s test images ("mnist" or "fashion_mnist") from now on."""
        name = data_source(name).name
        if name != self.data_set:
            self.data_set = name
            self._name_labels()
            code = self.code
            self.set_model(self.model)
            self.code = code  # the Autoencoder view shows the same code: the star stays

    def _show_digit(self, digit: int, on: bool) -> None:
        self._shown[digit] = on
        for item, members in zip(self.scatters, self._bands, strict=False):  # the bands placed so far
            if len(item.data) == len(members):
                item.setPointsVisible(self._shown[self.map.labels[members] % len(DIGIT_COLORS)])
        self.digit_boxes[digit].setIcon(_swatch(DIGIT_COLORS[digit], filled=on))

    # ----- the model and its map --------------------------------------------------------------
    def set_model(self, model) -> None:
        """Show ``model``'s map: from the cache, else built off the GUI thread once the panel is visible."""
        self.model, self.map, self.images, self.code, self.strip_codes = model, None, None, None, None
        self._ends, self._next_end = {"from": None, "to": None}, "from"
        self._feed_timer.stop()
        self._bands = []
        for item in (*self.scatters, self.path, self.hover_ring, self.marker):
            item.setData([], [])
        self._clear_hover()
        for view in self.strip:
            view.set_image(np.zeros((28, 28), np.float32))
        self.refresh.request()

    def _request(self) -> None:
        if self.model is None:
            return
        maps = self._cache.setdefault(self.model, {})
        if self.data_set in maps:
            self._show(maps[self.data_set])
            return
        title = data_source(self.data_set).title
        self.note.setText(f"Placing the 10,000 {title} test images by their codes…")
        data_set = self.data_set

        def built(result: tuple[LatentMap, np.ndarray]) -> None:
            maps[data_set] = result
            self._show(result)

        self.jobs.start(_place_codes, self.model, self.state.data, data_set, on_done=built, on_error=self._failed)

    def _failed(self, error: BaseException) -> None:
        self.refresh.retry_when_shown()
        self.note.setText(f"No map: {error}")

    def _show(self, result: tuple[LatentMap, np.ndarray]) -> None:
        """Place the points a digit per event-loop turn (the window never waits for all 10,000)."""
        self.map, self.images = result
        m = self.map
        k = m.width
        if k == 2:
            self.plot.setLabel("bottom", "latent unit 0")
            self.plot.setLabel("left", "latent unit 1")
        else:
            self.plot.setLabel("bottom", f"code direction 1 · {m.explained[0]:.0%} of the spread")
            self.plot.setLabel("left", f"direction 2 · {m.explained[1]:.0%}" if k > 1 else "")
        seen = "their 2 numbers" if k == 2 else f"the plane that shows {m.explained.sum():.0%} of their spread"
        skip = getattr(self.model, "skip", None)
        self.note.setText(
            f"{len(m.labels):,} {data_source(self.data_set).title} test images by their {k:,}-number codes, seen on "
            f"{seen}. "
            "Click anywhere to decode; Shift+click two places to interpolate."
            + (SKIP_NOTE.format(kind=skip.kind) if skip is not None else "")
        )
        self._fill_ends()
        order = np.random.default_rng(SHUFFLE_SEED).permutation(len(m.labels))  # every label in every band
        self._bands = np.array_split(order, BANDS)
        self._feed = list(range(BANDS))
        self._feed_timer.start()

    def _place_next_band(self) -> None:
        m = self.map
        if m is None or not self._feed:
            self._feed_timer.stop()
            return
        band = self._feed.pop(0)
        members = self._bands[band]
        labels = m.labels[members] % len(DIGIT_COLORS)
        item = self.scatters[band]
        item.setData(pos=m.points[members], data=members, brush=[self.brushes[label] for label in labels])
        if not self._shown.all():
            item.setPointsVisible(self._shown[labels])
        if not self._feed:
            self._feed_timer.stop()
            self.plot.getPlotItem().getViewBox().autoRange(padding=0.04)
            self._show_marker()
            self.update_strip()
            self.mapReady.emit(m)

    def point_count(self) -> int:
        """Dots placed on the map."""
        return sum(len(item.data) for item in self.scatters)

    # ----- the star ---------------------------------------------------------------------------
    def set_code(self, code: np.ndarray) -> None:
        """The code (k,) now in the Autoencoder view: the star moves there."""
        self.code = np.asarray(code, np.float32).copy()
        self._show_marker()

    def marker_position(self) -> np.ndarray | None:
        """Where the star is on the map (2,), or None when it is not shown."""
        if not len(self.marker.data):
            return None
        return np.array([self.marker.data["x"][0], self.marker.data["y"][0]])

    def _show_marker(self) -> None:
        m, code = self.map, self.code
        if m is None or code is None or code.shape != (m.width,) or self._feed:
            return
        self.marker.setData(pos=m.project(code)[None, :])

    # ----- hover and clicks -------------------------------------------------------------------
    def _on_hover(self, item, points, event) -> None:
        """Each digit's item reports the dots under the pointer for the same hover event: the nearest wins."""
        if event is not self._hover_event:
            self._hover_event, self._hover_distance = event, None
        if len(points) and self.images is not None:
            at = event.pos()  # in map coordinates, as the dots
            spot = min(points, key=lambda p: (p.pos() - at).manhattanLength())
            distance = (spot.pos() - at).manhattanLength()
            if self._hover_distance is not None and distance >= self._hover_distance:
                return
            self._hover_owner, self._hover_distance = item, distance
            self.hovered = int(spot.data())
            QToolTip.hideText()  # the card says what the dot is
            pos = spot.pos()
            self.hover_ring.setData(pos=[(pos.x(), pos.y())])
            box = self.plot.getPlotItem().getViewBox()
            self.card.show_digit(
                to_unit_float(self.images[self.hovered]).reshape(28, 28),
                f"#{self.hovered} · {self._label_name(int(self.map.labels[self.hovered]), article=True)}",
                box.mapViewToScene(pos),
                box.sceneBoundingRect(),
            )
        elif item is self._hover_owner and self._hover_distance is None:
            self._clear_hover()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """While a dot is hovered its card shows it: the map's tooltip would cover the card."""
        if event.type() == QEvent.Type.ToolTip and self.hovered is not None:
            return True
        return super().eventFilter(watched, event)

    def _clear_hover(self) -> None:
        self._hover_owner, self.hovered = None, None
        self.hover_ring.setData([], [])
        self.card.hide()

    def _on_click(self, event) -> None:
        if self.map is None or event.button() != Qt.MouseButton.LeftButton:
            return
        box = self.plot.getPlotItem().getViewBox()
        if not box.sceneBoundingRect().contains(event.scenePos()):
            return
        point = box.mapSceneToView(event.scenePos())
        self.click_at(point.x(), point.y(), shift=bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))

    def click_at(self, x: float, y: float, shift: bool = False) -> None:
        """A click on the map at (x, y): decode that point, or with Shift set an end of the strip."""
        if self.map is None:
            return
        if shift:
            self._set_end(self._next_end, np.array([x, y]))
            self._next_end = "to" if self._next_end == "from" else "from"
            return
        self.pointChosen.emit(self.map.unproject(np.array([x, y])))

    # ----- the interpolation strip ------------------------------------------------------------
    def _fill_ends(self) -> None:
        digits = self.map.digits()
        for box, default in ((self.from_box, DEFAULT_ENDS[0]), (self.to_box, DEFAULT_ENDS[1])):
            box.blockSignals(True)
            box.clear()
            for digit in digits:
                box.addItem(_swatch(DIGIT_COLORS[digit % 10]), f"a typical {self._label_name(digit)}", digit)
            index = box.findData(default)
            box.setCurrentIndex(index if index >= 0 else 0)
            box.blockSignals(False)
        if len(digits) > 1 and self.from_box.currentData() == self.to_box.currentData():
            self.to_box.setCurrentIndex((self.from_box.currentIndex() + 1) % len(digits))

    def _label_name(self, label: int, article: bool = False) -> str:
        """A label as its data set names it ("7", "Sneaker"); with ``article`` a digit reads "a 7"."""
        name = data_source(self.data_set).classes[label]
        return f"a {name}" if article and name.isdigit() else name

    def _set_end(self, end: str, point: np.ndarray) -> None:
        """A Shift+clicked point becomes the strip's ``end`` ("from" or "to"), listed in its box."""
        box = self.from_box if end == "from" else self.to_box
        self._ends[end] = point
        box.blockSignals(True)
        if box.findData(-1) < 0:
            box.addItem("a point you Shift+clicked", -1)
        box.setCurrentIndex(box.findData(-1))
        box.blockSignals(False)
        self.update_strip()

    def _end_code(self, box: QComboBox, end: str) -> np.ndarray | None:
        choice = box.currentData()
        if choice is None:
            return None
        if choice == -1:
            point = self._ends[end]
            return None if point is None else self.map.unproject(point)
        return self.map.codes[self.map.typical(int(choice))]

    def update_strip(self) -> None:
        """Decode the codes on the straight line between the two ends and draw the line on the map."""
        m = self.map
        if m is None or self._feed:
            return
        start, end = self._end_code(self.from_box, "from"), self._end_code(self.to_box, "to")
        if start is None or end is None:
            return
        self.strip_codes = interpolate(start, end)
        images = self.model.decode(self.strip_codes)  # (steps, 784)
        for view, image in zip(self.strip, images, strict=True):
            view.set_image(image.reshape(28, 28))
        line = m.project(self.strip_codes)
        self.path.setData(line[:, 0], line[:, 1])
        self.stripChanged.emit(images)

    def _choose_step(self, index: int) -> None:
        if self.strip_codes is not None:
            self.pointChosen.emit(self.strip_codes[index].copy())


def _swatch(color: str, side: int = 12, filled: bool = True) -> QIcon:
    """A circle of a digit's colour, filled while that digit is shown, for the legend and the strip's boxes;
    drawn at the screen's pixel ratio (sharp on HiDPI screens)."""
    screen = QGuiApplication.primaryScreen()
    ratio = screen.devicePixelRatio() if screen is not None else 1.0
    pixmap = QPixmap(round(side * ratio), round(side * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor(color), 1.5))
    painter.setBrush(QColor(color) if filled else Qt.BrushStyle.NoBrush)
    painter.drawEllipse(QRectF(1, 1, side - 2, side - 2))
    painter.end()
    return QIcon(pixmap)
