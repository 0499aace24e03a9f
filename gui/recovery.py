"""Unsaved work kept when the app is ended without anyone to ask (a logout, ``kill``: a quit signal).

Quit asks before it loses a trained or changed model; a quit signal cannot ask, so the model that would be lost — the
run's (stopped after its current batch) or the current one when it is unsaved — is written to the user data
folder's ``kept/`` (atomically, as every save), and the next start offers it: Open (the model comes back unsaved,
under its name, and the kept file goes), Discard, or Later.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from engine.nn import MLP

KEPT_NAME = re.compile(r"^(?P<name>.*) \(kept (?P<when>\d{4}-\d\d-\d\d \d\d-\d\d-\d\d)( \d+)?\)$")
"""A kept file's stem: ``<model's name> (kept 2026-12-06 09-41-07)``, a number after the time when two were kept
in one second."""


def kept_folder() -> Path:
    """``<user data>/denoise-studio/kept`` (platformdirs: ``$XDG_DATA_HOME`` on Linux)."""
    import platformdirs  # (~3 ms: not on the first screen)

    return Path(platformdirs.user_data_dir("denoise-studio", appauthor=False)) / "kept"


def keep(model: MLP, name: str, folder: Path | None = None) -> Path:
    """Write ``model`` (weights, history, optimizer state if any) as a kept file named after ``name``; returns it.
    Never writes over a file: a name taken gets a number."""
    folder = kept_folder() if folder is None else folder
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{_file_safe(name)} (kept {time.strftime('%Y-%m-%d %H-%M-%S')}"
    path, number = folder / f"{stem}).npz", 1
    while path.exists():
        number += 1
        path = folder / f"{stem} {number}).npz"
    model.save(path, optimizer_state=model.optimizer_state or None)
    return path


def kept_files(folder: Path | None = None) -> list[Path]:
    """The kept files, newest first (a temporary file of an unfinished save is not one)."""
    folder = kept_folder() if folder is None else folder
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob("*.npz") if p.is_file() and KEPT_NAME.match(p.stem)]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def kept_model_name(path: Path) -> str:
    """The model's name a kept file was named after."""
    match = KEPT_NAME.match(path.stem)
    return match["name"] if match else path.stem


def ask_about_kept(parent: QWidget | None, path: Path, others: int) -> QMessageBox.StandardButton:
    """Open / Discard / Later (Cancel) for a kept model; ``others``: how many more are kept."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Unsaved model kept",
        f"Denoise Studio was ended (a logout or a kill) while the model “{kept_model_name(path)}” was unsaved or "
        "training. It was kept.",
        QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        parent,
    )
    more = f" {others} more kept model{'s are' if others > 1 else ' is'} offered after this one." if others else ""
    box.setInformativeText(f"Open it to go on with it (then save it), discard it, or decide at the next start. "
                           f"It is in {path.parent}.{more}")  # fmt: skip
    box.button(QMessageBox.StandardButton.Cancel).setText("Later")
    box.setDefaultButton(QMessageBox.StandardButton.Open)
    return QMessageBox.StandardButton(box.exec())


def _file_safe(name: str) -> str:
    """``name`` without characters a file name cannot hold, at most 80 of them."""
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", name).strip(" .")[:80] or "untitled"
