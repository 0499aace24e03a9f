"""The look of the app: names, colours, the style sheet, and pyqtgraph's matching options.

Widgets import their colours from here (never from ``gui.app``, which builds the window).
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

ORGANIZATION = "DenoiseStudio"
APP_NAME = "Denoise Studio"

COLORS = {
    "window": "#1e1f24",
    "base": "#16171b",
    "panel": "#26282e",
    "text": "#e6e6e6",
    "muted": "#9aa0a6",
    "accent": "#4fa3ff",
    "encoder": "#4fa3ff",
    "latent": "#ffb43c",
    "decoder": "#53c98b",
    "error": "#ff5c5c",
    "train": "#4fa3ff",
    "test": "#ffb43c",
}

STYLESHEET = """
QWidget { font-size: 10pt; }
QToolTip { color: #e6e6e6; background: #2b2d33; border: 1px solid #4a4d55; }
QGroupBox { border: 1px solid #3a3c43; border-radius: 6px; margin-top: 1.1em; padding: 6px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; color: #9aa0a6; }
QPushButton { background: #2f3238; border: 1px solid #464a52; border-radius: 5px; padding: 5px 12px; }
QPushButton:hover { background: #383c44; }
QPushButton:pressed { background: #24262b; }
QPushButton:disabled { color: #6b6f76; background: #25272c; }
QPushButton#primary { background: #2d5f99; border-color: #4fa3ff; }
QPushButton#primary:hover { background: #3570b3; }
QPushButton:checked { background: #2d5f99; border-color: #4fa3ff; }
QTabWidget::pane { border: 1px solid #3a3c43; border-radius: 4px; }
QTabBar::tab { background: #26282e; padding: 7px 18px; border: 1px solid #3a3c43; border-bottom: none;
    border-top-left-radius: 5px; border-top-right-radius: 5px; margin-right: 2px; }
QTabBar::tab:selected { background: #33363d; color: #ffffff; }
QHeaderView::section { background: #2b2d33; color: #c8c8c8; padding: 4px; border: 0;
    border-right: 1px solid #3a3c43; }
QTableWidget { gridline-color: #34363c; }
QProgressBar { border: 1px solid #464a52; border-radius: 5px; text-align: center; background: #1a1b1f;
    min-height: 18px; }
QProgressBar::chunk { background: #2d6fb8; border-radius: 4px; }
QStatusBar { color: #c8c8c8; }
QLabel#big { font-size: 15pt; font-weight: bold; }
QLabel#caption { color: #9aa0a6; }
QLabel#hint { color: #c8c8c8; font-size: 13pt; background: rgba(30, 31, 36, 200); border-radius: 6px; padding: 10px; }
"""


def apply_theme(app: QApplication) -> None:
    """Fusion style with a dark palette; pyqtgraph in row-major order on the same colours."""
    import pyqtgraph as pg

    if app.property("denoise_studio_theme"):
        return  # re-applying a style sheet re-polishes every live widget
    app.setProperty("denoise_studio_theme", True)
    app.setStyle("Fusion")
    pal = QPalette()
    c = COLORS
    for role, color in (
        (QPalette.ColorRole.Window, c["window"]),
        (QPalette.ColorRole.WindowText, c["text"]),
        (QPalette.ColorRole.Base, c["base"]),
        (QPalette.ColorRole.AlternateBase, c["panel"]),
        (QPalette.ColorRole.ToolTipBase, c["panel"]),
        (QPalette.ColorRole.ToolTipText, c["text"]),
        (QPalette.ColorRole.Text, c["text"]),
        (QPalette.ColorRole.Button, c["panel"]),
        (QPalette.ColorRole.ButtonText, c["text"]),
        (QPalette.ColorRole.Highlight, "#2d6fb8"),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.Link, c["accent"]),
        (QPalette.ColorRole.PlaceholderText, c["muted"]),
    ):
        pal.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b6f76"))
    app.setPalette(pal)
    app.setStyleSheet(STYLESHEET)
    pg.setConfigOptions(imageAxisOrder="row-major", background=c["base"], foreground=c["text"], antialias=True)
