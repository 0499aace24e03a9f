"""Moving a damaged runs database aside, so a new one can start, without losing a byte of the old.

SQLite keeps a database in up to three files: ``runs.db`` and, beside it, its write-ahead log
(``runs.db-wal``) and shared index (``runs.db-shm``) or, in the old journal mode, ``runs.db-journal``.
They move together: a log left behind would be replayed into the next database of that name.

Nothing is overwritten and nothing deleted: each file gets a name no file has (``runs.db.broken``,
``runs.db.broken-2``, ...), taken atomically with a hard link (which fails if the name exists),
and only then is the old name removed.  Where the file system has no hard links, ``os.rename``
is used after checking the name is free.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from pathlib import Path

SIDE_FILES = ("-wal", "-shm", "-journal")
"""SQLite's files beside a database, by suffix."""


def move_aside(path: str | os.PathLike, suffix: str = ".broken") -> Path:
    """Move the database at ``path`` (and its log files) to ``path`` + ``suffix`` (``-2``, ``-3``... when taken);
    returns the new name of the database file.  Raises ``FileNotFoundError`` when there is no file, ``OSError``
    when one cannot be moved (those moved stay moved, under names that say where they came from)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is not a file")
    for n in itertools.count(1):
        target = path.with_name(f"{path.name}{suffix}" + (f"-{n}" if n > 1 else ""))
        taken = [target, *(Path(f"{target}{side}") for side in SIDE_FILES)]
        if any(p.exists() or p.is_symlink() for p in taken):
            continue
        try:
            _move(path, target)
        except FileExistsError:  # another program took the name just now
            continue
        break
    for side in SIDE_FILES:
        source = Path(f"{path}{side}")
        if source.exists():
            _move(source, Path(f"{target}{side}"))
    return target


def _move(source: Path, target: Path) -> None:
    """``source`` to ``target``, never replacing a file at ``target`` (``FileExistsError``)."""
    try:
        os.link(source, target)  # atomic, and refuses an existing name
    except FileExistsError:
        raise
    except OSError:  # no hard links here (some network and FAT file systems)
        if target.exists():
            raise FileExistsError(target) from None
        os.rename(source, target)
        return
    with contextlib.suppress(FileNotFoundError):
        source.unlink()
