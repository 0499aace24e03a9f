"""The look of the app: names, the light and dark palettes, the style sheet, pyqtgraph's matching colours.

The application's ``Theme`` (a child of the QApplication, ``Theme.of_app()``) holds the active theme;
widgets read ``colors()`` when they paint, and those that bake colours into items (pyqtgraph pens,
backgrounds) restyle when ``Theme.of_app().changed`` fires; ``style_plot`` does the common part for a
plot.  Widgets import from here, never from ``gui.app`` (which builds the window).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

ORGANIZATION = "DenoiseStudio"
APP_NAME = "Denoise Studio"

THEMES: dict[str, dict[str, str]] = {
    "dark": {
        "window": "#1e1f24", "base": "#16171b", "panel": "#26282e", "text": "#e6e6e6", "muted": "#9aa0a6",
        "border": "#3a3c43", "button": "#2f3238", "button_hover": "#383c44", "button_pressed": "#24262b",
        "button_border": "#464a52", "disabled": "#6b6f76", "highlight": "#2d6fb8", "tooltip": "#2b2d33",
        "primary": "#2d5f99", "focus": "#8cc4ff", "image_bg": "#111214", "hint_bg": "rgba(30, 31, 36, 215)",
        "accent": "#4fa3ff", "encoder": "#4fa3ff", "latent": "#ffb43c", "decoder": "#53c98b", "error": "#ff5c5c",
        "train": "#4fa3ff", "train_raw": "#50829e", "test": "#ffb43c", "noisy": "#bbbbbb", "pca": "#c77dff",
        "linear": "#ff7b72", "median": "#e3b341", "gaussian_blur": "#56d4dd", "total_variation": "#a5d6ff",
        "nl_means": "#d2a8ff", "wavelet": "#7ee787",
        "latent_off": "#37260c", "latent_on": "#fffad7", "skip": "#e879b9",
    },
    "light": {
        "window": "#f1f2f4", "base": "#ffffff", "panel": "#e6e8ec", "text": "#1d1f23", "muted": "#59606a",
        "border": "#c4c8cf", "button": "#e4e6ea", "button_hover": "#d8dbe0", "button_pressed": "#caced4",
        "button_border": "#b5bac2", "disabled": "#9aa0a6", "highlight": "#2d6fb8", "tooltip": "#ffffff",
        "primary": "#2d6fb8", "focus": "#0b57d0", "image_bg": "#d9dce1", "hint_bg": "rgba(255, 255, 255, 225)",
        "accent": "#1f6fd1", "encoder": "#2b74d6", "latent": "#d98a00", "decoder": "#1f9a5c", "error": "#d93636",
        "train": "#1f6fd1", "train_raw": "#8fb3dc", "test": "#d98a00", "noisy": "#6b7078", "pca": "#8e3fd0",
        "linear": "#cf222e", "median": "#9a6700", "gaussian_blur": "#1b7c83", "total_variation": "#0550ae",
        "nl_means": "#8250df", "wavelet": "#1a7f37",
        "latent_off": "#f3e3c2", "latent_on": "#b36b00", "skip": "#b8327a",
    },
}  # fmt: skip
THEME_CHOICES = ("system", "light", "dark")

STYLESHEET = """
QWidget {{ font-size: 10pt; }}
QToolTip {{ color: {text}; background: {tooltip}; border: 1px solid {button_border}; padding: 4px; }}
QGroupBox {{ border: 1px solid {border}; border-radius: 6px; margin-top: 1.1em; padding: 6px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 4px; color: {muted}; }}
QFrame#room {{ border: 1px solid {border}; border-radius: 6px; }}
QPushButton {{ background: {button}; border: 1px solid {button_border}; border-radius: 5px; padding: 5px 12px; }}
QPushButton:hover {{ background: {button_hover}; }}
QPushButton:pressed {{ background: {button_pressed}; }}
QPushButton:disabled {{ color: {disabled}; background: {panel}; }}
QPushButton#primary {{ background: {primary}; border-color: {accent}; color: #ffffff; }}
QPushButton#primary:disabled {{ background: {panel}; border-color: {button_border}; color: {disabled}; }}
QPushButton:checked {{ background: {primary}; border-color: {accent}; color: #ffffff; }}
QPushButton:focus, QComboBox:focus, QLineEdit:focus {{ border: 2px solid {focus}; }}
QAbstractSpinBox:focus {{ background: {panel}; }}
QCheckBox:focus, QRadioButton:focus {{ color: {focus}; }}
QSlider:focus {{ border: 1px dashed {focus}; border-radius: 3px; }}
QTabWidget::pane {{ border: 1px solid {border}; border-radius: 4px; }}
QTabBar::tab {{ background: {panel}; padding: 7px 18px; border: 1px solid {border}; border-bottom: none;
    border-top-left-radius: 5px; border-top-right-radius: 5px; margin-right: 2px; }}
QTabWidget#pages QTabBar::tab {{ padding: 6px 11px; }}
QTabBar::tab:selected {{ background: {button_hover}; color: {text}; font-weight: bold; }}
QTabBar::tab:focus {{ border: 2px solid {focus}; border-bottom: none; padding: 6px 17px 7px; }}
QTabWidget#pages QTabBar::tab:focus {{ padding: 5px 10px 6px; }}
QHeaderView::section {{ background: {panel}; color: {text}; padding: 4px; border: 0;
    border-right: 1px solid {border}; }}
QTableWidget {{ gridline-color: {border}; }}
QProgressBar {{ border: 1px solid {button_border}; border-radius: 5px; text-align: center; background: {base};
    min-height: 18px; }}
QProgressBar::chunk {{ background: {highlight}; border-radius: 4px; }}
QStatusBar {{ color: {text}; }}
QLabel#big {{ font-size: 15pt; font-weight: bold; }}
QLabel#caption {{ color: {muted}; }}
QLabel#hint {{ color: {text}; font-size: 13pt; background: {hint_bg}; border-radius: 6px; padding: 10px; }}
"""


class Theme(QObject):
    """The application's active theme: ``name`` ("light" or "dark"), its ``colors``; ``changed(name)`` after a new
    one is applied."""

    changed = Signal(str)

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.setObjectName("denoise-studio-theme")
        self.name = "dark"
        self.colors: dict[str, str] = dict(THEMES["dark"])

    @classmethod
    def of_app(cls) -> Theme:
        """The running application's theme (made, dark, the first time it is asked for)."""
        app = QApplication.instance()
        theme = app.findChild(Theme, "denoise-studio-theme")
        return theme if theme is not None else cls(app)


def colors() -> dict[str, str]:
    """The active theme's colours by role ("text", "accent", …): read them when painting, keep none."""
    return Theme.of_app().colors


def resolve(choice: str) -> str:
    """"light" or "dark" for a choice of THEME_CHOICES; "system" asks the desktop (dark when it does not say)."""
    if choice in THEMES:
        return choice
    hints = QGuiApplication.styleHints() if QGuiApplication.instance() else None
    scheme = hints.colorScheme() if hints is not None and hasattr(hints, "colorScheme") else None
    return "light" if scheme == Qt.ColorScheme.Light else "dark"


def apply_theme(app: QApplication, choice: str = "dark") -> str:
    """Fusion style with the chosen palette, style sheet and pyqtgraph colours; returns the theme applied."""
    import pyqtgraph as pg

    name = resolve(choice)
    if app.property("denoise_studio_theme") == name:
        return name  # re-applying a style sheet re-polishes every live widget: only on a change
    app.setProperty("denoise_studio_theme", name)
    theme = Theme.of_app()
    theme.name, theme.colors = name, dict(THEMES[name])
    c = theme.colors
    app.setStyle("Fusion")
    app.setPalette(_palette(c))
    app.setStyleSheet(STYLESHEET.format(**c))
    pg.setConfigOptions(imageAxisOrder="row-major", background=c["base"], foreground=c["text"])
    pg.setConfigOptions(antialias=True)
    theme.changed.emit(name)
    return name


def _palette(c: dict[str, str]) -> QPalette:
    pal = QPalette()
    for role, key in (
        (QPalette.ColorRole.Window, "window"),
        (QPalette.ColorRole.WindowText, "text"),
        (QPalette.ColorRole.Base, "base"),
        (QPalette.ColorRole.AlternateBase, "panel"),
        (QPalette.ColorRole.ToolTipBase, "tooltip"),
        (QPalette.ColorRole.ToolTipText, "text"),
        (QPalette.ColorRole.Text, "text"),
        (QPalette.ColorRole.Button, "panel"),
        (QPalette.ColorRole.ButtonText, "text"),
        (QPalette.ColorRole.Highlight, "highlight"),
        (QPalette.ColorRole.Link, "accent"),
        (QPalette.ColorRole.PlaceholderText, "muted"),
    ):
        pal.setColor(role, QColor(c[key]))
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(c["disabled"]))
    return pal


LEGEND_ALPHA = 190
"""Opacity (of 255) of a plot legend's background."""


def style_plot(widget) -> None:
    """Give a pyqtgraph PlotWidget (or GraphicsLayoutWidget) the active theme's background and axis colours."""
    c = colors()
    widget.setBackground(c["base"])
    items = [widget.getPlotItem()] if hasattr(widget, "getPlotItem") else []
    for item in items:
        for name in ("left", "bottom", "right", "top"):
            axis = item.getAxis(name)
            axis.setPen(c["muted"])
            axis.setTextPen(c["text"])
        legend = item.legend
        if legend is not None:
            legend.setLabelTextColor(c["text"])  # for entries added later
            for _sample, label in legend.items:  # and the ones already there
                label.setText(label.text, color=c["text"])
            brush = QColor(c["base"]).lighter(108) if _is_dark() else QColor(255, 255, 255)
            brush.setAlpha(LEGEND_ALPHA)  # a curve behind the legend still shows through, not cut off
            legend.setBrush(brush)


def _is_dark() -> bool:
    return QColor(colors()["base"]).lightness() < 128
