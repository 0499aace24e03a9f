"""Room for the teaching views: a panel can be enlarged over its tab or shown in a window of its own, and put
back, remembered across starts; a tab's page scrolls rather than push the window off a small screen.

- ``PanelRoom(key, title, panel)`` is what a tab lays out in the panel's place.  *Docked*, it holds the panel
  (under a slim header: the title, Enlarge, Window); *enlarged*, the panel fills its tab's page and the place
  says where it went; *detached*, the panel is in a window of its own (closing it puts the panel back).
  ``save(settings)`` / ``restore(settings)`` keep the mode (and the window's geometry) under
  ``panels/<key>/``; what is read back is checked, and anything unknown docks.
- ``RoomyPage(page)`` is a tab's page in a scroll area — below the page's minimum size (its layout's) it
  scrolls — with a stage for one of its panels enlarged over it (Esc puts it back).
- ``RoomTabs`` is a tab widget whose pages are such wrappers, spoken of by what they hold: ``widget(i)``,
  ``currentWidget()``, ``indexOf(w)`` and ``setCurrentWidget(w)`` name the tab or the panel, never the
  wrapper.  With ``room_buttons`` its corner holds Enlarge and Window for the page shown (its pages' rooms
  then need no header of their own).

A room follows its panel's own visibility: a panel that hides itself (the PCA check, for a model it does
not apply to) hides its place, its window or its stage too, and they come back when it shows again.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QObject, QPointF, QRectF, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QStackedLayout,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.common.built_when_shown import BuiltWhenShown
from gui.common.hints import hint
from gui.common.screen_fit import available_area, fitted_size, keep_on_screen
from gui.common.theme import APP_NAME, Theme, colors

MODES = ("docked", "enlarged", "detached")
WINDOW_SIZE = QSize(960, 680)
"""A panel's own window the first time it opens (shrunk to the screen)."""


ICON_PX = 16


class RoomButton(QToolButton):
    """A flat button: ``text``, or a drawn ``icon`` ("enlarge", "window") with ``text`` for screen readers; the
    icon follows the theme."""

    def __init__(self, text: str, icon: str | None = None) -> None:
        super().__init__()
        self.setText(text)
        self.setAutoRaise(True)
        self.setAccessibleName(text)
        self.icon_kind = icon
        if icon is None:
            self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            return
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.setIconSize(QSize(ICON_PX, ICON_PX))
        self.restyle()
        Theme.of_app().changed.connect(self.restyle)

    def restyle(self, _theme: str = "") -> None:
        """Enlarge: four corners pointing out; Window: two overlapping windows; in the theme's text colour, drawn
        at the screen's pixel ratio (no font or icon theme needed)."""
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap(round(ICON_PX * ratio), round(ICON_PX * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor(colors()["text"]), 1.5))
        if self.icon_kind == "enlarge":
            for x, y, dx, dy in ((2, 2, 1, 1), (14, 2, -1, 1), (2, 14, 1, -1), (14, 14, -1, -1)):
                painter.drawLine(QPointF(x, y), QPointF(x + 5 * dx, y))
                painter.drawLine(QPointF(x, y), QPointF(x, y + 5 * dy))
        else:
            painter.drawRect(QRectF(2.5, 6.5, 8, 7))
            painter.drawPolyline([QPointF(5.5, 6.5), QPointF(5.5, 2.5), QPointF(13.5, 2.5), QPointF(13.5, 9.5),
                                  QPointF(10.5, 9.5)])  # fmt: skip
        painter.end()
        self.setIcon(QIcon(pixmap))


def _tips(title: str) -> dict[str, str]:
    """The buttons' hints for a panel called ``title``."""
    return {
        "enlarge": f"Enlarge: give {title} the whole tab (Esc or Put back returns it to its place)",
        "window": f"Window: show {title} in a window of its own, to move and size as you like (on another screen, "
                  "say); closing that window puts it back",
        "back": f"Put {title} back in its place in the tab",
    }  # fmt: skip


class _PageHolder(QWidget):
    """Holds a page in a scroll area: at the viewport's size, never below the page's least size.

    (Given the page itself, a scroll area sizes a page whose layout has a height for its width — any page
    with wrapped text — at its *preferred* height for the width: taller than the window, always scrolling.
    This holder has no height for its width, only the page's least size.)"""

    def __init__(self) -> None:
        super().__init__()
        self.page: QWidget | None = None

    def set_page(self, page: QWidget) -> None:
        self.page = page
        page.setParent(self)
        page.setGeometry(self.rect())
        if self.isVisible():
            page.show()
        self.updateGeometry()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return self.page.minimumSizeHint().expandedTo(self.page.minimumSize()) if self.page else QSize()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return self.page.sizeHint() if self.page else QSize()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if self.page is not None:
            self.page.setGeometry(self.rect())

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # the page's least size may have changed
            self.updateGeometry()
        return super().event(event)


class _Stage(QWidget):
    """Where an enlarged panel is shown; Esc (not used by the panel itself) puts it back."""

    def __init__(self, page: RoomyPage) -> None:
        super().__init__()
        self._page = page

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if event.key() == Qt.Key.Key_Escape and self._page.enlarged is not None:
            self._page.enlarged.dock()
            return
        super().keyPressEvent(event)


class RoomyPage(QWidget):
    """A tab's ``page`` in a scroll area, and a stage for one of its panels enlarged over it (``page`` given, or put
    in with ``set_page``)."""

    def __init__(self, page: QWidget | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.page = page
        self._holder = _PageHolder()
        self.scroll = QScrollArea()
        self.scroll.setWidget(self._holder)
        self.scroll.setWidgetResizable(True)  # the page fills the tab, and scrolls below its minimum size
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.stage = _Stage(self)
        stage_layout = QVBoxLayout(self.stage)
        stage_layout.setContentsMargins(6, 6, 6, 6)
        self.enlarged: PanelRoom | None = None
        self._stack = QStackedLayout(self)
        self._stack.addWidget(self.scroll)
        self._stack.addWidget(self.stage)
        if page is not None:
            self.set_page(page)

    def set_page(self, page: QWidget) -> None:
        """Put ``page`` in the scroll area.  (A page put in once the wrapper is in its window is restyled once; put
        in first, every move of the wrapper restyles all of it again under the app's style sheet: ~10 ms a move for
        the Denoise tab.)"""
        self.page = page
        self._holder.set_page(page)

    def show_enlarged(self, room: PanelRoom) -> None:
        """``room``'s panel over the whole page (another one enlarged goes back first)."""
        if self.enlarged is not None and self.enlarged is not room:
            self.enlarged.dock()
        self.enlarged = room
        self.stage.layout().addWidget(room.frame)
        room.frame.show()
        self.show_stage(True)

    def take_back(self, room: PanelRoom) -> None:
        self.stage.layout().removeWidget(room.frame)
        if self.enlarged is room:
            self.enlarged = None
            self.show_stage(False)

    def show_stage(self, on: bool) -> None:
        """The enlarged panel (True) or the page (False)."""
        self._stack.setCurrentWidget(self.stage if on and self.enlarged is not None else self.scroll)


class PanelWindow(QWidget):
    """A panel's own window; closing it puts the panel back in its place."""

    def __init__(self, room: PanelRoom) -> None:
        main = room.window()
        super().__init__(main, Qt.WindowType.Window)
        self.room = room
        self.setWindowTitle(f"{room.title} — {APP_NAME}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.resize(fitted_size(WINDOW_SIZE, main))
        for action in main.findChildren(QAction):  # the app's keys work here too (Ctrl+Q, Ctrl+S, F1, …)
            if not action.shortcut().isEmpty():
                self.addAction(action)

    def place_beside(self) -> None:
        """First opened: beside the main window where the screen has room, else where the system puts it."""
        main, area = self.parentWidget(), available_area(self.parentWidget())
        frame = main.frameGeometry()
        for x in (frame.right() + 1, frame.left() - self.frameGeometry().width()):
            if area.left() <= x and x + self.frameGeometry().width() <= area.right() + 1:
                self.move(x, frame.top())
                return

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.room.window_closed()
        super().closeEvent(event)


class PanelRoom(QWidget):
    """``panel``'s place in a tab: docked, enlarged over the tab, or in a window of its own (``mode``).

    ``key`` names it in the settings; ``title`` in its header, its window and its hints.  ``header=False``
    leaves the header out while docked (a ``RoomTabs`` corner holds the buttons); it shows elsewhere, for Put
    back.  ``modeChanged(mode)`` after each move.
    """

    modeChanged = Signal(str)

    def __init__(self, key: str, title: str, panel: QWidget, header: bool = True,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.key, self.title, self.panel = key, title, panel
        self.mode = "docked"
        self._header_docked = header
        self._window: PanelWindow | None = None
        self._geometry: QByteArray | None = None  # the window's, read from the settings
        self._closing = False  # the window is closed by the room itself, not by the user
        tips = _tips(title)
        self.title_label = QLabel(title)
        self.title_label.setObjectName("caption")
        self.enlarge_button = RoomButton("Enlarge", "enlarge")
        self.window_button = RoomButton("Window", "window")
        self.back_button = RoomButton("Put back")
        for button, key_, slot in ((self.enlarge_button, "enlarge", self.enlarge),
                                   (self.window_button, "window", self.detach),
                                   (self.back_button, "back", self.dock)):  # fmt: skip
            hint(button, tips[key_])
            button.clicked.connect(slot)
        self.header = QWidget()
        row = QHBoxLayout(self.header)
        row.setContentsMargins(4, 0, 0, 0)
        row.setSpacing(2)
        row.addWidget(self.title_label, 1)
        for button in (self.enlarge_button, self.window_button, self.back_button):
            row.addWidget(button)
        self.frame = QFrame()  # the header and the panel: what moves
        self.frame.setObjectName("room" if header else "")  # framed like a group box where it has a header
        inside = QVBoxLayout(self.frame)
        inside.setContentsMargins(0, 0, 0, 0)
        inside.setSpacing(0)
        inside.addWidget(self.header)
        inside.addWidget(panel, 1)
        self.place = QWidget()  # what stays in the tab while the panel is elsewhere
        self.place_label = QLabel("")
        self.place_label.setWordWrap(True)
        self.place_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.place_label.setObjectName("caption")
        self.place_back = RoomButton("Put back")
        hint(self.place_back, tips["back"])
        self.place_back.clicked.connect(self.dock)
        place_layout = QVBoxLayout(self.place)
        place_layout.addStretch(1)
        place_layout.addWidget(self.place_label)
        place_layout.addWidget(self.place_back, 0, Qt.AlignmentFlag.AlignHCenter)
        place_layout.addStretch(1)
        self._stack = QStackedLayout(self)
        self._stack.addWidget(self.frame)
        self._stack.addWidget(self.place)
        self.setSizePolicy(panel.sizePolicy())
        panel.installEventFilter(self)
        self._sync()
        if panel.isHidden():  # hidden by its owner before it was given a room
            self.hide()

    # ----- moving the panel ----------------------------------------------------------------------
    def enlarge(self) -> None:
        """The panel over its whole tab (where the room is in a ``RoomyPage``)."""
        page = self.roomy_page()
        if page is None or self.mode == "enlarged":
            return
        self._leave()
        page.show_enlarged(self)
        self._set_mode("enlarged")
        page.show_stage(not self.panel.isHidden())

    def detach(self) -> None:
        """The panel in a window of its own."""
        if self.mode == "detached":
            return
        self._leave()
        if self._window is None:
            self._window = PanelWindow(self)
            if self._geometry is not None:
                self._window.restoreGeometry(self._geometry)
            else:
                self._window.place_beside()
            keep_on_screen(self._window)
        self._window.layout().addWidget(self.frame)
        self.frame.show()
        self._set_mode("detached")
        if not self.panel.isHidden():
            self._window.show()
            keep_on_screen(self._window)  # placed by now, its frame known
            self._window.raise_()
            self._window.activateWindow()

    def dock(self) -> None:
        """The panel back in its place in the tab."""
        if self.mode == "docked":
            return
        self._leave()
        self._stack.insertWidget(0, self.frame)
        self._set_mode("docked")

    def window_closed(self) -> None:
        """The user closed the panel's window: back in its place."""
        if not self._closing and self.mode == "detached":
            self.dock()

    def park(self) -> None:
        """The app is closing: hide the panel's window, keeping the mode (it opens again at the next start)."""
        if self._window is not None and self._window.isVisible():
            self._closing = True
            self._window.close()
            self._closing = False

    def _leave(self) -> None:
        """Take the frame out of where it is now."""
        if self.mode == "docked":
            self._stack.removeWidget(self.frame)
        elif self.mode == "enlarged":
            page = self.roomy_page()
            if page is not None:
                page.take_back(self)
        elif self._window is not None:
            self._window.layout().removeWidget(self.frame)
            self.park()

    def _set_mode(self, mode: str) -> None:
        self.mode = mode
        self._sync()
        self.modeChanged.emit(mode)

    def _sync(self) -> None:
        docked = self.mode == "docked"
        self.header.setVisible(self._header_docked or not docked)
        self.enlarge_button.setVisible(docked and self.roomy_page() is not None)
        self.window_button.setVisible(docked)
        self.back_button.setVisible(not docked)
        where = "is enlarged over this tab" if self.mode == "enlarged" else "is in a window of its own"
        self.place_label.setText(f"{self.title} {where}.")
        self._stack.setCurrentWidget(self.frame if docked else self.place)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self._sync()  # placed in its tab by now: Enlarge shows where there is a page to fill

    def roomy_page(self) -> RoomyPage | None:
        """The tab page the room is on (where Enlarge puts the panel), if any."""
        parent = self.parentWidget()
        while parent is not None and not isinstance(parent, RoomyPage):
            parent = parent.parentWidget()
        return parent

    # ----- following the panel's own visibility ---------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self.panel and event.type() in (QEvent.Type.ShowToParent, QEvent.Type.HideToParent):
            self._follow(event.type() == QEvent.Type.ShowToParent)
        return False

    def _follow(self, shown: bool) -> None:
        """The panel showed or hid itself: so do its place, window or stage."""
        self.setVisible(shown)
        if self.mode == "detached" and self._window is not None:
            if shown:
                self._window.show()
            else:
                self.park()
        elif self.mode == "enlarged":
            page = self.roomy_page()
            if page is not None:
                page.show_stage(shown)

    # ----- across starts -------------------------------------------------------------------------
    def save(self, settings: QSettings) -> None:
        """Remember the mode, and the window's place and size if it has one."""
        settings.setValue(f"panels/{self.key}/mode", self.mode)
        if self._window is not None:
            settings.setValue(f"panels/{self.key}/geometry", self._window.saveGeometry())

    def restore(self, settings: QSettings) -> None:
        """Back to the mode saved (anything unknown, or Enlarge with no tab page to fill, docks)."""
        geometry = settings.value(f"panels/{self.key}/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self._geometry = geometry
        mode = saved_mode(settings, self.key)
        if mode == "enlarged" and self.roomy_page() is None:
            mode = "docked"
        {"docked": self.dock, "enlarged": self.enlarge, "detached": self.detach}[mode]()


def saved_mode(settings: QSettings, key: str) -> str:
    """The mode panel ``key`` was left in (one of ``MODES``; anything unknown: "docked")."""
    mode = settings.value(f"panels/{key}/mode", "docked")
    return mode if isinstance(mode, str) and mode in MODES else "docked"


def _layers(page: QWidget | None) -> list[QWidget | None]:
    """A tab's page and what it holds, outermost first: a RoomyPage's page, a PanelRoom's panel, a built
    BuiltWhenShown's content, …"""
    layers = [page]
    while True:
        last = layers[-1]
        if isinstance(last, RoomyPage):
            layers.append(last.page)
        elif isinstance(last, PanelRoom):
            layers.append(last.panel)
        elif isinstance(last, BuiltWhenShown) and last.is_built():
            layers.append(last.content())
        else:
            return layers


class RoomTabs(QTabWidget):
    """Tabs whose pages are wrappers (``RoomyPage`` with ``scroll_pages``, or ``PanelRoom``s added as pages),
    spoken of by what they hold; with ``room_buttons``, Enlarge and Window in the corner for the page shown."""

    def __init__(self, scroll_pages: bool = False, room_buttons: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self._scroll_pages = scroll_pages
        self.corner: QWidget | None = None
        if room_buttons:
            self.corner = QWidget()
            row = QHBoxLayout(self.corner)
            row.setContentsMargins(0, 0, 2, 0)
            row.setSpacing(2)
            self.enlarge_button = RoomButton("Enlarge", "enlarge")
            self.window_button = RoomButton("Window", "window")
            self.enlarge_button.clicked.connect(lambda: self._current_room().enlarge())
            self.window_button.clicked.connect(lambda: self._current_room().detach())
            row.addWidget(self.enlarge_button)
            row.addWidget(self.window_button)
            self.setCornerWidget(self.corner, Qt.Corner.TopRightCorner)
            self.currentChanged.connect(self._sync_corner)

    def _wrap(self, page: QWidget) -> QWidget:
        """What holds ``page`` in the tabs (a ``RoomyPage`` with ``scroll_pages``, which takes it in ``_fill``)."""
        if isinstance(page, PanelRoom) and self.corner is not None:
            page.modeChanged.connect(self._sync_corner)
        if self._scroll_pages and not isinstance(page, RoomyPage):
            return RoomyPage()
        return page

    @staticmethod
    def _fill(wrapper: QWidget, page: QWidget) -> None:
        """The page into its wrapper, once the wrapper is in the tabs (``RoomyPage.set_page``: restyled once)."""
        if wrapper is not page:
            wrapper.set_page(page)

    def addTab(self, page: QWidget, *args) -> int:  # noqa: N802 (Qt's name)
        wrapper = self._wrap(page)
        index = super().addTab(wrapper, *args)
        self._fill(wrapper, page)
        self._sync_corner()
        return index

    def insertTab(self, index: int, page: QWidget, *args) -> int:  # noqa: N802 (Qt's name)
        wrapper = self._wrap(page)
        index = super().insertTab(index, wrapper, *args)
        self._fill(wrapper, page)
        self._sync_corner()
        return index

    def page(self, index: int) -> QWidget | None:
        """The wrapper at ``index`` (the widget Qt shows)."""
        return super().widget(index)

    def widget(self, index: int) -> QWidget | None:
        return _layers(super().widget(index))[-1]

    def currentWidget(self) -> QWidget | None:  # noqa: N802 (Qt's name)
        return _layers(super().currentWidget())[-1]

    def indexOf(self, widget: QWidget) -> int:  # noqa: N802 (Qt's name)
        for index in range(self.count()):
            if any(widget is layer for layer in _layers(super().widget(index))):
                return index
        return -1

    def setCurrentWidget(self, widget: QWidget) -> None:  # noqa: N802 (Qt's name)
        index = self.indexOf(widget)
        if index >= 0:
            self.setCurrentIndex(index)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self._sync_corner()

    def _current_room(self) -> PanelRoom | None:
        return next((layer for layer in _layers(super().currentWidget()) if isinstance(layer, PanelRoom)), None)

    def _sync_corner(self, *_args) -> None:
        if self.corner is None:
            return
        room = self._current_room()
        self.corner.setVisible(room is not None and room.mode == "docked")
        if room is not None:
            tips = _tips(room.title)
            hint(self.enlarge_button, tips["enlarge"])
            hint(self.window_button, tips["window"])
            self.enlarge_button.setVisible(room.roomy_page() is not None)
