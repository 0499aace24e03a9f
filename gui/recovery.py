"""Unsaved work kept when the app is ended without anyone to ask (a logout, ``kill``: a quit signal).

Quit asks before it loses a trained or changed model; a quit signal cannot ask, so the model that would be lost — the
run's (stopped after its current batch) or the current one when it is unsaved — is written to the user data
folder's ``kept/`` (atomically, as every save), and the next start offers it: Open (the model comes back unsaved,
under its name, and the kept file goes), Discard, or Later.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import time
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from engine.nn import MLP
from gui.common.dialogs import message_box

KEPT_NAME = re.compile(r"^(?P<name>.*) \(kept (?P<when>\d{4}-\d\d-\d\d \d\d-\d\d-\d\d)( \d+)?\)$")
"""A kept file's stem: ``<model's name> (kept 2026-12-06 09-41-07)``, a number after the time when two were kept
in one second."""
NAME_KEY = "kept_as"
"""The model's metadata entry that holds its name as it was, in a kept file."""
NAME_BYTES = 150
STALE_CLAIM_S = 3600.0
"""An empty kept file this old is a claim whose save never came (``keep``)."""


def kept_folder() -> Path:
    """``<user data>/denoise-studio/kept`` (platformdirs: ``$XDG_DATA_HOME`` on Linux)."""
    import platformdirs  # (~3 ms: not on the first screen)

    return Path(platformdirs.user_data_dir("denoise-studio", appauthor=False)) / "kept"


def keep(model: MLP, name: str, folder: Path | None = None) -> Path:
    """Write ``model`` (weights, history, optimizer state if any) as a kept file named after ``name``; returns it.
    Never writes over a file: the name is claimed first (an empty file made only if none is there: instances that
    end in the same second, at a logout, each get their own), then the model replaces that claim atomically."""
    folder = kept_folder() if folder is None else folder
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{_file_safe(name)} (kept {time.strftime('%Y-%m-%d %H-%M-%S')}"
    number = 1
    while True:
        path = folder / (f"{stem}).npz" if number == 1 else f"{stem} {number}).npz")
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            break
        except FileExistsError:
            number += 1
    model.metadata[NAME_KEY] = name  # (the file's name is cut and made safe: Open gives this one back)
    try:
        model.save(path, optimizer_state=model.optimizer_state or None)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        model.metadata.pop(NAME_KEY, None)
    return path


def kept_files(folder: Path | None = None) -> list[Path]:
    """The kept files, newest first: not an empty claim whose save is under way, nor a save's temporary file.  A
    claim left empty for ``STALE_CLAIM_S`` (its app killed before it saved) is removed."""
    folder = kept_folder() if folder is None else folder
    found = []
    with contextlib.suppress(OSError):  # (no folder yet, or unreadable: nothing to offer)
        for path in folder.glob("*.npz"):
            with contextlib.suppress(OSError):  # (gone meanwhile: another instance opened it)
                info = path.stat()
                if not (stat.S_ISREG(info.st_mode) and KEPT_NAME.match(path.stem)):
                    continue
                if info.st_size:
                    found.append((info.st_mtime, path))
                elif time.time() - info.st_mtime > STALE_CLAIM_S:
                    path.unlink()
    return [path for _, path in sorted(found, reverse=True)]


def kept_model_name(path: Path, model: MLP | None = None) -> str:
    """The name of the model a kept file holds: as it was (``model``'s record of it), else from the file's name."""
    if model is not None and isinstance(model.metadata.get(NAME_KEY), str):
        return model.metadata[NAME_KEY]
    match = KEPT_NAME.match(path.stem)
    return match["name"] if match else path.stem


def ask_about_kept(parent: QWidget | None, path: Path, others: int) -> QMessageBox.StandardButton:
    """Open / Discard / Later (Cancel) for a kept model; ``others``: how many more are kept."""
    more = f" {others} more kept model{'s are' if others > 1 else ' is'} offered after this one." if others else ""
    box = message_box(
        QMessageBox.Icon.Question,
        "Unsaved model kept",
        f"Denoise Studio was ended (a logout or a kill) while the model “{kept_model_name(path)}” was unsaved or "
        "training. It was kept.",
        QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        parent,
        f"Open it to go on with it (then save it), discard it, or decide at the next start. It is in "
        f"{path.parent}.{more}",
    )
    box.button(QMessageBox.StandardButton.Cancel).setText("Later")
    box.setDefaultButton(QMessageBox.StandardButton.Open)
    return QMessageBox.StandardButton(box.exec())


def _file_safe(name: str) -> str:
    """``name`` without characters a file name cannot hold, cut to ``NAME_BYTES`` bytes of UTF-8 (a file name holds
    255 bytes, not characters) at a character's end."""
    safe = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", name).strip(" .")  # (a name from a file's name may hold a
    return safe.encode(errors="replace")[:NAME_BYTES].decode(errors="ignore").strip(" .") or "untitled"  # surrogate)
