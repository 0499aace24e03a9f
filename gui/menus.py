"""The menu bar as a table: every entry's text, hint, shortcut and what it calls, in the order shown.

``build_menus(window, menus)`` makes the bar from ``MENU_BAR`` and returns the actions by key
(``window.actions["open"]``).  A slot is a dotted path from the window (``"files.open_dialog"``); a
``Placed`` entry is a menu made elsewhere (Recent models, Shipped models, Theme), given by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from gui.common.hints import hint

Key = QKeySequence.StandardKey


@dataclass(frozen=True)
class Entry:
    """One action: ``key`` names it in ``window.actions``."""

    key: str
    text: str
    tip: str
    slot: str
    shortcut: Key | str | None = None


@dataclass(frozen=True)
class Toggle:
    """A checkable action: ``slot(checked)`` on each toggle; ``key`` names it in ``window.actions``."""

    key: str
    text: str
    tip: str
    slot: str


@dataclass(frozen=True)
class Submenu:
    title: str
    tip: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Placed:
    """A menu made by its owner (filled and updated there), placed here by name."""

    name: str


SEPARATOR = None

MENU_BAR: tuple[tuple[str, tuple], ...] = (
    ("&File", (
        Entry("open", "&Open model…", "Load a model file (.npz)", "files.open_dialog", Key.Open),
        Entry("save", "&Save model", "Save the model to its file", "files.save", Key.Save),
        Entry("save_as", "Save model &as…", "Save the model to a new file", "files.save_as", Key.SaveAs),
        Placed("recent"),
        Placed("shipped"),
        SEPARATOR,
        Entry("open_picture", "Open &image…", "Bring a picture (PNG, JPEG, BMP, GIF) to the Denoise tab's canvas: made "
              "grey, inverted if its background is light, framed as an MNIST digit, then denoised. You can also drop "
              "one on the canvas", "files.open_picture_dialog", "Ctrl+Shift+O"),
        Entry("paste_picture", "&Paste image", "Put the picture on the clipboard (or a copied picture file) on the "
              "Denoise tab's canvas", "files.paste_picture", Key.Paste),
        SEPARATOR,
        Entry("export_image", "&Export image…", "Save a picture of the current tab as PNG", "files.export_image",
              "Ctrl+E"),
        Submenu("Expor&t", "Save the model in a format other tools read, or as a web page that runs it", (
            Entry("export_web_page", "&Web page…", "Save the model as one web page that runs it in any browser, "
                  "offline: draw a digit, add noise, watch it cleaned — to share with people who have no Python",
                  "export_web_page"),
            Entry("export_onnx", "&ONNX…", "Save the model as ONNX, to run it with onnxruntime or other tools",
                  "files.export_onnx"),
        )),
        SEPARATOR,
        Toggle("record_runs", "Recor&d training runs", "Keep every training run (settings, curves, scores) in the "
               "runs database; 'denoise-studio runs' lists them", "set_recording"),
        Toggle("save_after_run", "Save &when a run ends", "Save the model as each training run ends (done or "
               "stopped): to its own file if Denoise Studio wrote it, else to a new file in the folder you last "
               "saved to; never over a shipped model, a checkpoint or a file the app did not write",
               "files.set_save_after_run"),
        SEPARATOR,
        Entry("quit", "&Quit", "Close Denoise Studio", "close", "Ctrl+Q"),
    )),
    ("&View", (Placed("theme"),)),
    ("&Help", (
        Entry("guide", "&Guide", "What a denoising autoencoder is, what each tab shows, how to read the curves",
              "show_guide", Key.HelpContents),
        Entry("about", "&About", "Version, libraries and the data folders in use", "about"),
    )),
)  # fmt: skip


def _slot(window: QMainWindow, path: str):
    target = window
    for name in path.split("."):
        target = getattr(target, name)
    return target


def make_action(parent, text: str, tip: str, slot, shortcut: Key | str | None = None) -> QAction:
    """A hinted action calling ``slot`` (its tip shows in menus and in the status bar)."""
    action = QAction(text, parent)
    hint(action, tip)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(lambda _checked=False: slot())
    return action


def build_menus(window: QMainWindow, placed: dict[str, QMenu]) -> dict[str, QAction]:
    """Fill ``window``'s menu bar from ``MENU_BAR``; ``placed`` maps each ``Placed`` name to its menu."""
    actions: dict[str, QAction] = {}

    def fill(menu: QMenu, entries) -> None:
        menu.setToolTipsVisible(True)  # hovering an entry shows its hint
        for entry in entries:
            if entry is SEPARATOR:
                menu.addSeparator()
            elif isinstance(entry, Placed):
                placed[entry.name].setToolTipsVisible(True)
                menu.addMenu(placed[entry.name])
            elif isinstance(entry, Toggle):
                action = QAction(entry.text, window, checkable=True)
                hint(action, entry.tip)
                action.toggled.connect(_slot(window, entry.slot))
                actions[entry.key] = action
                menu.addAction(action)
            elif isinstance(entry, Submenu):
                sub = menu.addMenu(entry.title)
                hint(sub.menuAction(), entry.tip)
                fill(sub, entry.entries)
            else:
                action = make_action(window, entry.text, entry.tip, _slot(window, entry.slot), entry.shortcut)
                actions[entry.key] = action
                menu.addAction(action)

    for title, entries in MENU_BAR:
        fill(window.menuBar().addMenu(title), entries)
    return actions
