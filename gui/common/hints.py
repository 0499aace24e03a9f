"""Hints for learners: every control says what it does, in a tooltip on hover and in the status bar; a
disabled one says why, and when it will work; the status bar shows a hint on two lines, cut only at a word.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

UNAVAILABLE = "Unavailable: "
"""How a disabled control's hint begins, before the reason."""
_TEXT, _WHY = "denoise_hint", "denoise_hint_disabled"  # where a target keeps its hint and its reason


def hint(target, text: str) -> None:
    """Set the tooltip and the status-bar tip of a widget or an action to ``text``.

    Write for someone learning: what it does, its range, a good value where there is one.  While the
    target is disabled with a reason (``explain_disabled``), the reason comes first.
    """
    target.setProperty(_TEXT, text)
    _show(target)


def explain_disabled(target, why: str) -> None:
    """While ``target`` (a widget or an action) is disabled, its hint starts with ``why``: why it is off and
    when it will work ("no run is training; Pause works once Start has begun one").  Follows every later
    enable and disable; call again when the reason changes."""
    if target.property(_TEXT) is None:  # hinted before with setToolTip: that is its hint
        target.setProperty(_TEXT, target.toolTip())
    target.setProperty(_WHY, why)
    if isinstance(target, QWidget):
        if target.findChild(_EnabledWatch, options=Qt.FindChildOption.FindDirectChildrenOnly) is None:
            _EnabledWatch(target)
    elif target.property(_WHY + "_watched") is None:
        target.setProperty(_WHY + "_watched", True)
        target.enabledChanged.connect(lambda _on, t=target: _show(t))
    _show(target)


def plain_hint(target) -> str:
    """``target``'s own hint, without the reason it is off (for an entry elsewhere that does the same thing)."""
    text = target.property(_TEXT)
    return target.toolTip() if text is None else text


def _show(target) -> None:
    text = plain_hint(target)
    why = target.property(_WHY)
    full = f"{UNAVAILABLE}{why}. {text}".strip() if why and not target.isEnabled() else text
    target.setToolTip(full)
    target.setStatusTip(full)


class _EnabledWatch(QObject):
    """Re-hints its widget when it is enabled or disabled (by itself or with its parent)."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.EnabledChange:
            _show(watched)
        return False


def fit_lines(text: str, metrics: QFontMetrics, width: int, lines: int) -> str:
    """``text`` as it fits in ``lines`` word-wrapped lines ``width`` pixels wide: whole, or its longest start
    that ends at a word, with "…"."""
    def box(candidate: str, room: int) -> QRect:
        return metrics.boundingRect(QRect(0, 0, max(room, 1), 1 << 20), Qt.TextFlag.TextWordWrap, candidate)

    most = box("\n".join("X" * lines), 1 << 16).height()  # ``lines`` lines, as the label lays them out

    def fits(candidate: str) -> bool:
        shape = box(candidate, width)
        return shape.height() <= most and shape.width() <= width

    if fits(text):
        return text
    words = text.split(" ")
    low, high = 0, len(words)  # the first ``low`` words fit with "…"; more than ``high - 1`` do not
    while high - low > 1:
        middle = (low + high) // 2
        if fits(" ".join(words[:middle]) + "…"):
            low = middle
        else:
            high = middle
    return " ".join(words[:low]).rstrip(",;:.") + "…" if low else ""


class HintStrip(QLabel):
    """The status bar's message on ``LINES`` word-wrapped lines, always that tall (a hint must not move the
    window's layout under the pointer); past them cut at a word with "…" (the tooltip has it whole)."""

    LINES = 2

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.whole = ""  # the message as given
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)  # the width the bar leaves it
        self._fit_height()

    def show_text(self, text: str) -> None:
        self.whole = text
        self._fit()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit_height()
            self._fit()

    def _fit_height(self) -> None:
        margins = self.contentsMargins()
        lines = self.fontMetrics().boundingRect(QRect(0, 0, 1 << 16, 1 << 20), Qt.TextFlag.TextWordWrap,
                                                "\n".join("X" * self.LINES))  # fmt: skip
        self.setFixedHeight(lines.height() + margins.top() + margins.bottom())

    def _fit(self) -> None:
        self.setText(fit_lines(self.whole, self.fontMetrics(), self.contentsRect().width(), self.LINES))
