"""A run's files: their SHA-256, and whether the model a run saved is still the one on disk."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

MODEL_STATES = ("unchanged", "changed", "missing", "unreadable", "not saved")


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_sha256(params: np.ndarray) -> str:
    """The SHA-256 of the weights' bytes: equal exactly when two models' weights are equal bit for bit."""
    return hashlib.sha256(np.ascontiguousarray(params).tobytes()).hexdigest()


def model_state(model_path: str | None, model_sha256: str | None) -> str:
    """One of ``MODEL_STATES``: the file a run saved is ``unchanged`` (the same SHA-256), ``changed`` since,
    ``missing``, ``unreadable``, or the run saved none."""
    if not model_path:
        return "not saved"
    path = Path(model_path)
    if not path.is_file():
        return "missing"
    try:
        return "unchanged" if file_sha256(path) == model_sha256 else "changed"
    except OSError:
        return "unreadable"
