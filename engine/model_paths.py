"""Finding a model file: a path as given, or a bare name among the models shipped with the app."""

from __future__ import annotations

import os
from pathlib import Path

from engine.safe_npz import ModelFileError

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
"""Models that ship with the app, found by bare name."""


def resolve_model_path(name_or_path: str | os.PathLike) -> Path:
    """A path as given, with ``.npz`` added if missing, or a bare name looked up in ``models/``."""
    path = Path(name_or_path).expanduser()
    candidates = [path, path.with_name(path.name + ".npz")]
    if len(path.parts) == 1:  # a bare name: also look among the shipped models
        candidates += [MODELS_DIR / path.name, MODELS_DIR / (path.name + ".npz")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    shipped = ", ".join(shipped_models()) or "none"
    raise ModelFileError(path, f"no such model file (models shipped with the app: {shipped})")


def shipped_models() -> list[str]:
    """Bare names of the models in ``models/``."""
    return sorted(p.stem for p in MODELS_DIR.glob("*.npz"))


def is_shipped(path: str | os.PathLike) -> bool:
    """True for a file in the shipped models' folder (the app never writes there)."""
    return Path(path).resolve().parent == MODELS_DIR.resolve()
