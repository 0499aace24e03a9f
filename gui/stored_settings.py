"""The settings the app keeps between sessions (``QSettings``), each read with bounds.

A settings file is the user's, or another program's, and may hold anything: a value of the wrong type, a path
longer than any file system takes, 100,000 recent models.  Every value is read through one of these functions,
which return the value when it is usable and the default otherwise; an unusable value is removed from the file
(or, for the recent models, rewritten as the entries kept), so the next start reads a small, valid file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 8
"""Models listed under File ▸ Recent models."""
MAX_PATH_CHARS = 4096
"""The longest path kept (Linux's PATH_MAX); a longer one cannot be opened anyway."""
MAX_NAME_BYTES = 255
"""The longest file or folder name a file system takes (bytes, as Linux, macOS and Windows limit them)."""
MAX_GEOMETRY_BYTES = 4096
"""``QMainWindow.saveGeometry`` writes well under 100 bytes; anything larger is not one."""
MAX_SCANNED = 1000
"""Recent entries looked at before the list is cut: a list of 100,000 is not walked to find eight."""
TRUE_WORDS, FALSE_WORDS = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def usable_path(value: object) -> str | None:
    """``value`` when it is a path the app could open: absolute text, no control characters, within the length
    limits; else None (an empty entry, a 5000-character one, a number)."""
    if not isinstance(value, str) or not value or len(value) > MAX_PATH_CHARS or not os.path.isabs(value):
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return None
    try:
        too_long = any(len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES for part in value.split(os.sep))
    except UnicodeError:
        return None
    return None if too_long else value


def read_recent(settings: QSettings) -> list[str]:
    """The recent models (at most ``MAX_RECENT`` usable, distinct paths, newest first); the stored list is rewritten
    as these when it held anything else."""
    stored = settings.value("recent", [])
    entries: Sequence = [stored] if isinstance(stored, str) else stored if isinstance(stored, list) else []
    kept: list[str] = []
    for entry in entries[:MAX_SCANNED]:
        path = usable_path(entry)
        if path is not None and path not in kept:
            kept.append(path)
            if len(kept) == MAX_RECENT:
                break
    clean = isinstance(stored, (str, list)) and list(entries) == kept  # (INI reads a list of one as its text)
    if not clean and settings.contains("recent"):
        write_recent(settings, kept)
    return kept


def write_recent(settings: QSettings, paths: list[str]) -> None:
    settings.setValue("recent", list(paths[:MAX_RECENT]))


def read_folder(settings: QSettings, key: str) -> str | None:
    """A remembered folder (``folders/open``...), when it is a usable path to a folder that exists."""
    folder = usable_path(settings.value(key, ""))
    try:
        if folder is not None and os.path.isdir(folder):
            return folder
    except (OSError, ValueError):
        pass
    _drop_unusable(settings, key, folder)
    return None


def read_choice(settings: QSettings, key: str, choices: Sequence[str], default: str) -> str:
    """One of ``choices`` (the theme: "system", "light", "dark"), else ``default``."""
    value = settings.value(key, default)
    if isinstance(value, str) and value in choices:
        return value
    settings.remove(key)
    return default


def read_flag(settings: QSettings, key: str, default: bool) -> bool:
    """A yes/no setting (INI files store it as the text "true" or "false"), else ``default``."""
    value = settings.value(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, (str, int)) and str(value).strip().lower() in TRUE_WORDS + FALSE_WORDS:
        return str(value).strip().lower() in TRUE_WORDS
    settings.remove(key)
    return default


def read_names(settings: QSettings, key: str, allowed: Sequence[str]) -> list[str]:
    """A list of distinct names, each one of ``allowed`` (the curves hidden), else the empty list; a stored list that
    held anything else (an unknown name, a number, 100,000 entries) is rewritten as the names kept."""
    stored = settings.value(key, [])
    entries: Sequence = [stored] if isinstance(stored, str) else stored if isinstance(stored, list) else []
    kept = list(dict.fromkeys(e for e in entries[:MAX_SCANNED] if isinstance(e, str) and e in allowed))
    if settings.contains(key) and list(entries) != kept and not (stored == "" and not kept):
        settings.setValue(key, kept)
    return kept


def read_index(settings: QSettings, key: str, count: int, default: int) -> int:
    """A whole number from 0 to ``count - 1`` (the tab shown last), else ``default``."""
    value = settings.value(key, default)
    try:
        index = int(value) if isinstance(value, (int, str)) and len(str(value)) < 12 else None
    except ValueError:
        index = None
    if index is not None and 0 <= index < count:
        return index
    settings.remove(key)
    return default


def read_geometry(settings: QSettings, key: str = "geometry") -> QByteArray | None:
    """The window's saved geometry (``saveGeometry``'s bytes), when it is that and not something else."""
    value = settings.value(key)
    if isinstance(value, QByteArray) and 0 < value.size() <= MAX_GEOMETRY_BYTES:
        return value
    if value is not None:
        settings.remove(key)
    return None


def _drop_unusable(settings: QSettings, key: str, usable: str | None) -> None:
    """Remove ``key`` when it holds something unusable (a remembered folder since deleted is kept: it may be on a
    drive that comes back)."""
    if usable is None and settings.contains(key):
        settings.remove(key)
