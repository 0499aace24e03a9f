"""Finding a model file: a path as given, or a bare name among the models shipped with the app.

The shipped models are the repository's ``models/`` folder.  An installed package carries them as
the package data ``engine.models`` (``pyproject.toml`` maps the folder there), found with
``importlib.resources``; a source checkout that is not installed reads the folder itself.
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

from engine.safe_npz import ModelFileError

_CHECKOUT_MODELS = Path(__file__).resolve().parent.parent / "models"


def shipped_folder() -> Path:
    """The folder of the shipped models: the installed package data ``engine/models``, else a source
    checkout's ``models/``."""
    installed = importlib.resources.files("engine") / "models"
    return Path(str(installed)) if installed.is_dir() else _CHECKOUT_MODELS


MODELS_DIR = shipped_folder()
"""Models that ship with the app, found by bare name."""


def resolve_model_path(name_or_path: str | os.PathLike) -> Path:
    """A path as given, with ``.npz`` added if missing, or a bare name looked up among the shipped models.

    ``ModelFileError`` for an empty name, a path the system cannot hold, and a file that is not there."""
    if not str(name_or_path).strip():
        raise ModelFileError("(no name)", "no model file was named (the name is empty)")
    path = Path(name_or_path).expanduser()
    candidates = [path] if not path.name else [path, path.with_name(path.name + ".npz")]
    if len(path.parts) == 1:  # a bare name: also look among the shipped models
        candidates += [MODELS_DIR / path.name, MODELS_DIR / (path.name + ".npz")]
    try:
        found = [c for c in candidates if c.is_file()] + [c for c in candidates if c.exists()]
    except OSError as exc:  # a name or path longer than the system allows, a loop of links
        raise ModelFileError(path, f"cannot be opened ({exc.strerror or exc}; {len(str(path)):,} characters)") from None
    for candidate in found:
        return candidate  # a folder, a device or a pipe given by name is refused by the reader, saying so
    shipped = ", ".join(shipped_models()) or "none"
    raise ModelFileError(path, f"no such model file (models shipped with the app: {shipped})")


def shipped_models() -> list[str]:
    """Bare names of the shipped models."""
    return sorted(p.stem for p in MODELS_DIR.glob("*.npz"))


def is_shipped(path: str | os.PathLike) -> bool:
    """True for a file in the shipped models' folder (the app never writes there)."""
    return Path(path).resolve().parent == MODELS_DIR.resolve()
