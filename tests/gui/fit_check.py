"""What ``test_window_fit`` runs in a child process of its own: the app's window on a screen of a given size and
scale (both are read once, when Qt starts), every tab and every inner page looked at, and what does not fit
printed as JSON on the last line of stdout.

    QT_QPA_PLATFORM=offscreen:configfile=screen.json QT_SCALE_FACTOR=2 python -m tests.gui.fit_check [--at 1024x700 …]

The offscreen platform takes its screens from a JSON file (``"screens": [{"width": …, "height": …}]``); that
is how a test gets a 1024×600 or a 1920×1080 screen.  ``--at WxH`` (repeatable) checks the window at that size,
``--at max`` maximised; with ``--roomy`` no page may scroll at a ``WxH`` either.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QEventLoop, QRect, QSettings, QTimer
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QComboBox,
    QLabel,
    QSizeGrip,
    QTabBar,
    QTableWidget,
    QTabWidget,
    QWidget,
)

SLACK = 1
"""Pixels of rounding allowed (fractional scale factors)."""
TICK_GAP = 3
"""Tick labels closer than this (pixels) count as piled up."""


def settle(ms: int = 60) -> None:
    """Let layouts, posted events and short timers run."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    flush_layouts()


SECOND_LOOK_MS = 300
"""A page found at fault is looked at again after this long: only what still does not fit counts."""
LAYOUT_PASSES = 4
"""Rounds of posted events sent before a look: a text set, its layout request, the parent's, the grandparent's."""


def flush_layouts() -> None:
    """Deliver what is already posted — a text a background job sent just as the wait ended, and the layout
    requests it makes — so a look never sees a label that has its new text but not yet its new width (CI once
    saw the status bar's baseline score 11 px short that way)."""
    for _ in range(LAYOUT_PASSES):
        QCoreApplication.sendPostedEvents()


def name(widget: QWidget) -> str:
    """``Class#object 'text'`` under its nearest named ancestors, for the report."""
    path, w = [], widget
    while w is not None and len(path) < 4:
        text = w.text() if isinstance(w, (QLabel, QAbstractButton)) else ""
        path.append(f"{type(w).__name__}{'#' + w.objectName() if w.objectName() else ''}"
                    f"{' ' + repr(text[:40]) if text else ''}")  # fmt: skip
        w = w.parentWidget()
    return " < ".join(path)


def _shown(widget: QWidget) -> bool:
    return widget.isVisible() and not widget.isWindow() and widget.width() > 0 and widget.height() > 0


def inside_parent(widget: QWidget) -> bool:
    """True where ``widget`` lies within its parent (what a scroll area or a table holds may be larger: it
    scrolls)."""
    parent = widget.parentWidget()
    if isinstance(parent.parentWidget(), QAbstractScrollArea) and parent is parent.parentWidget().viewport():
        return True
    return parent.rect().adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(widget.geometry())


def overlapping_siblings(parent: QWidget) -> list[tuple[QWidget, QWidget]]:
    """Pairs of visible children of ``parent`` whose rectangles intersect (by more than rounding); a message
    meant to lie over a view (``QLabel#hint``) and the window's size grip excepted."""
    children = [c for c in parent.findChildren(QWidget, options=_direct())
                if _shown(c) and not isinstance(c, QSizeGrip) and c.objectName() != "hint"]  # fmt: skip
    pairs = []
    for i, a in enumerate(children):
        for b in children[i + 1 :]:
            overlap = a.geometry().intersected(b.geometry())
            if overlap.width() > SLACK and overlap.height() > SLACK:
                pairs.append((a, b))
    return pairs


def _direct():
    from PySide6.QtCore import Qt

    return Qt.FindChildOption.FindDirectChildrenOnly


def text_cut(widget: QWidget) -> str | None:
    """Why ``widget``'s own text does not show whole, or None: a wrapped label shorter than its text needs, a
    one-line label or a button narrower than its text."""
    if isinstance(widget, QLabel) and widget.text() and widget.pixmap().isNull():
        if widget.wordWrap():
            need = widget.heightForWidth(widget.width())
            if need > widget.height() + SLACK:
                return f"wrapped text needs {need} px, has {widget.height()}"
        elif widget.minimumSizeHint().width() > widget.width() + SLACK:
            return f"text needs {widget.minimumSizeHint().width()} px wide, has {widget.width()}"
    if isinstance(widget, QAbstractButton) and widget.text():
        hint = widget.minimumSizeHint()
        if hint.width() > widget.width() + SLACK or hint.height() > widget.height() + SLACK:
            return f"button needs {hint.width()}×{hint.height()}, has {widget.width()}×{widget.height()}"
    if isinstance(widget, QTabBar):
        for index in range(widget.count()):
            if not widget.rect().contains(widget.tabRect(index)):
                return f"tab {widget.tabText(index)!r} cut (the bar is {widget.width()} px wide)"
    if isinstance(widget, QTableWidget):
        header = widget.horizontalHeader()
        for column in range(widget.columnCount()):
            item = widget.horizontalHeaderItem(column)
            need = header.fontMetrics().horizontalAdvance(item.text() if item is not None else "") + 8
            if header.isVisible() and item is not None and need > header.sectionSize(column) + SLACK:
                return f"heading {item.text()!r} needs {need} px, has {header.sectionSize(column)}"
        for row in range(widget.rowCount()):
            for column in range(widget.columnCount()):
                item = widget.item(row, column)
                if item is not None and item.text():
                    need = widget.fontMetrics().horizontalAdvance(item.text()) + 8
                    if need > widget.columnWidth(column) + SLACK:
                        return f"cell {item.text()!r} needs {need} px, its column has {widget.columnWidth(column)}"
    return None


def combo_cut(combo: QComboBox) -> str | None:
    """An entry of ``combo``'s open list cut short: the list narrower than its widest entry."""
    if combo.count() == 0:
        return None
    combo.showPopup()
    settle(30)
    view = combo.view()
    widest = max(view.sizeHintForColumn(0), 0)
    room = view.viewport().width()
    combo.hidePopup()
    if widest > room + SLACK:
        return f"entries need {widest} px, the open list has {room}"
    return None


def axis_overlaps(axis: pg.AxisItem) -> str | None:
    """Tick labels of a pyqtgraph axis drawn over one another."""
    picture = QPixmap(4, 4)
    painter = QPainter(picture)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    if not specs:
        return None
    texts = [(rect, text) for rect, _flags, text in specs[2]]
    for i, (a, ta) in enumerate(texts):
        for b, tb in texts[i + 1 :]:
            overlap = a.adjusted(-TICK_GAP, -TICK_GAP, TICK_GAP, TICK_GAP).intersected(b)
            if overlap.width() > 0 and overlap.height() > 0:
                return f"ticks {ta!r} and {tb!r} closer than {TICK_GAP} px"
    return None


def problems_on_screen(window: QWidget, where: str) -> list[str]:
    """Everything visible now that does not fit: widgets out of their parent (and not scrolled), siblings on
    top of each other, text cut, open lists cut, tick labels piled up."""
    flush_layouts()
    found = []
    for widget in [window, *window.findChildren(QWidget)]:
        if widget is not window and not _shown(widget):
            continue
        if widget is not window and not inside_parent(widget):
            found.append(f"{where}: {name(widget)} at {_rect(widget.geometry())} leaves its parent "
                         f"({widget.parentWidget().width()}×{widget.parentWidget().height()})")  # fmt: skip
        for a, b in overlapping_siblings(widget):
            found.append(f"{where}: {name(a)} {_rect(a.geometry())} overlaps {name(b)} {_rect(b.geometry())}")
        cut = text_cut(widget)
        if cut:
            found.append(f"{where}: {name(widget)}: {cut}")
        if isinstance(widget, QComboBox):
            cut = combo_cut(widget)
            if cut:
                found.append(f"{where}: {name(widget)}: {cut}")
        if isinstance(widget, pg.PlotWidget):
            for side in ("left", "bottom"):
                axis = widget.getPlotItem().getAxis(side)
                if axis.isVisible():
                    piled = axis_overlaps(axis)
                    if piled:
                        found.append(f"{where}: {name(widget)} {side} axis: {piled}")
    return found


def _rect(r: QRect) -> str:
    return f"({r.x()},{r.y()} {r.width()}×{r.height()})"


def every_page(window):
    """Visit each tab and each page of the tab widgets inside it; yields a name for each."""
    tabs = window.tabs
    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)
        settle()
        tab = tabs.currentWidget()
        inner = [t for t in tab.findChildren(QTabWidget) if t.isVisible()]
        yield tabs.tabText(index)
        for pages in inner:
            for page in range(pages.count()):
                pages.setCurrentIndex(page)
                settle()
                yield f"{tabs.tabText(index)} ▸ {pages.tabText(page)}"


def check_window(window, roomy: bool, shots: Path | None) -> tuple[list[str], dict[str, list[int]]]:
    """What does not fit on any page at the window's present size, and the size of each teaching view (a
    ``PanelRoom``) on the page that shows it.  ``roomy``: no page may scroll either."""
    from gui.common.panel_room import PanelRoom

    screen = window.screen().availableGeometry()
    found, rooms = [], {}
    size = f"{window.width()}×{window.height()}"
    frame = window.frameGeometry()
    if not screen.contains(frame):
        found.append(f"the window {_rect(frame)} leaves the screen's free area {_rect(screen)}")
    least = window.minimumSizeHint().expandedTo(window.minimumSize())
    if least.width() > screen.width() or least.height() > screen.height():
        found.append(f"the window's minimum {least.width()}×{least.height()} exceeds the screen {_rect(screen)}")
    for number, where in enumerate(every_page(window)):
        seen = problems_on_screen(window, f"{size} {where}")
        if seen:  # a look again once layouts had time: a text a job set during the look (CI once saw the latent
            settle(SECOND_LOOK_MS)  # map's caption with its new text and its old, one-line height) is not a fault
            seen = problems_on_screen(window, f"{size} {where}")
        found += seen
        for room in window.findChildren(PanelRoom):
            if room.panel.isVisible():
                rooms[room.key] = [room.panel.width(), room.panel.height()]
        page = window.tabs.page(window.tabs.currentIndex())
        bars = (page.scroll.horizontalScrollBar(), page.scroll.verticalScrollBar())
        if roomy and any(bar.maximum() > 0 for bar in bars):
            need = page.scroll.widget().minimumSizeHint()
            found.append(f"{size} {where}: the page scrolls ({need.width()}×{need.height()} needed, "
                         f"{page.scroll.viewport().width()}×{page.scroll.viewport().height()} shown)")  # fmt: skip
        if shots is not None:  # to look at while developing
            window.grab().save(str(shots / f"{size}-{number}.png"))
    return found, rooms


def main(argv: list[str]) -> int:
    """Each ``--at WxH`` (or ``--at max``: the whole free area) in turn, else the size the window opens at."""
    from engine.nn import build_mlp
    from gui.app import make_app

    _app = make_app([])  # kept: the application lives as long as this run
    from gui.main_window import MainWindow

    settings = QSettings(str(Path(tempfile.mkdtemp()) / "fit.ini"), QSettings.Format.IniFormat)
    model = build_mlp([784, 10, 784], ["linear", "linear"], seed=0)  # linear: the PCA check shows too
    window = MainWindow(model, settings=settings)
    window.show()
    settle(200)
    window.tabs.setCurrentWidget(window.training_tab)
    pca = window.training_tab.pca_check
    for _ in range(200):  # the comparison with PCA (a job on tiny data): its text is part of the layout
        if pca.check is not None or pca.sentence.text().startswith("No comparison"):
            break
        settle(50)
    shots = Path(argv[argv.index("--shots") + 1]) if "--shots" in argv else None
    sizes = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--at"] or [None]
    report = {"screen": list(window.screen().availableGeometry().size().toTuple()),
              "dpr": window.devicePixelRatioF(), "problems": [], "sizes": {}}  # fmt: skip
    for wanted in sizes:
        if wanted == "max":
            window.showMaximized()
        elif wanted is not None:
            window.showNormal()
            window.resize(*map(int, wanted.split("x")))
            window.move(window.screen().availableGeometry().topLeft())
        settle(200)
        found, rooms = check_window(window, "--roomy" in argv and wanted not in (None, "max"), shots)
        report["problems"] += found
        report["sizes"][wanted or "opened"] = {"window": [window.width(), window.height()], "rooms": rooms}
    window.state.dirty = False
    window.close()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
