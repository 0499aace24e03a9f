"""Model files: one ``.npz`` of arrays plus a JSON header, loaded without pickle, written atomically.

Layout::

    __header__        uint8 array holding UTF-8 JSON: format, format_version, layers, metadata
    layer{i}.W        (n_out, n_in) float32
    layer{i}.b        (n_out,) float32
    optimizer.{key}   optional optimizer state, in training checkpoints only
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

FORMAT_NAME = "denoise-studio-model"
FORMAT_VERSION = 1
HEADER_KEY = "__header__"
MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
"""Models that ship with the app, found by bare name."""


class ModelFileError(Exception):
    """A file that is not a valid Denoise Studio model; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Write through ``write(file)`` to a temp file beside ``path``, fsync, then ``os.replace``.

    A crash at any moment leaves either the old file or the new one, never a partial file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            write(tmp)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


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


def write_model(
    path: str | os.PathLike,
    layer_specs: list[dict],
    arrays: dict[str, np.ndarray],
    metadata: dict[str, Any] | None = None,
) -> None:
    """Save layers' arrays (``layer{i}.W``/``.b``, optional ``optimizer.*``) and a JSON header."""
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "layers": layer_specs,
        "metadata": metadata or {},
    }
    text = json.dumps(header, allow_nan=False, default=_json_default)
    payload = {HEADER_KEY: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
    payload.update(arrays)
    atomic_write(path, lambda f: np.savez(f, **payload))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def read_model(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """(header, arrays) from a model file, checked; raises ``ModelFileError`` for anything invalid.

    Nothing in the file is executed: ``allow_pickle=False`` refuses object arrays.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            if not isinstance(npz, np.lib.npyio.NpzFile):
                raise ModelFileError(path, "not an .npz archive (a bare .npy array or pickle)")
            names = set(npz.files)
            if HEADER_KEY not in names:
                raise ModelFileError(path, "the archive has no model header; it is not a Denoise Studio model")
            arrays = {name: npz[name] for name in names}
    except ModelFileError:
        raise
    except FileNotFoundError:
        raise ModelFileError(path, "file not found") from None
    except IsADirectoryError:
        raise ModelFileError(path, "is a folder, not a model file") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise ModelFileError(path, f"not a readable model file ({_reason(exc)})") from None
    header = _parse_header(path, arrays.pop(HEADER_KEY))
    _check_arrays(path, header["layers"], arrays)
    return header, arrays


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if "pickle" in text.lower():
        return "it holds pickled Python objects, which are never loaded"
    return text.splitlines()[0][:200]


def _parse_header(path: Path, raw: np.ndarray) -> dict:
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError(path, "the header is not a byte string")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(path, f"the header is not valid JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise ModelFileError(path, "the header does not describe a Denoise Studio model")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelFileError(path, "the header has no integer format_version")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            path, f"format version {version} is newer than this app reads ({FORMAT_VERSION}); update Denoise Studio"
        )
    if version < 1:
        raise ModelFileError(path, f"unknown format version {version}")
    layers = header.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ModelFileError(path, "the header lists no layers")
    for i, spec in enumerate(layers):
        ok = (
            isinstance(spec, dict)
            and spec.get("type") == "Dense"
            and all(_is_width(spec.get(k)) for k in ("n_in", "n_out"))
            and isinstance(spec.get("activation"), str)
        )
        if not ok:
            raise ModelFileError(path, f"layer {i} in the header is not a valid Dense layer: {spec!r:.200}")
        if i and spec["n_in"] != layers[i - 1]["n_out"]:
            raise ModelFileError(
                path, f"layer {i} takes {spec['n_in']} inputs but layer {i - 1} gives {layers[i - 1]['n_out']}"
            )
    if not isinstance(header.get("metadata", {}), dict):
        raise ModelFileError(path, "the header's metadata is not an object")
    return header


def _is_width(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 1_000_000


def _check_arrays(path: Path, layers: list[dict], arrays: dict[str, np.ndarray]) -> None:
    expected = set()
    for i, spec in enumerate(layers):
        for key, shape in ((f"layer{i}.W", (spec["n_out"], spec["n_in"])), (f"layer{i}.b", (spec["n_out"],))):
            expected.add(key)
            if key not in arrays:
                raise ModelFileError(path, f"array {key} is missing")
            arr = arrays[key]
            if arr.dtype.kind != "f":
                raise ModelFileError(path, f"array {key} has dtype {arr.dtype}, expected floating point")
            if arr.shape != shape:
                raise ModelFileError(path, f"array {key} has shape {arr.shape}, expected {shape}")
            if not np.all(np.isfinite(arr)):
                raise ModelFileError(path, f"array {key} holds NaN or infinite values")
    extra = sorted(k for k in arrays if k not in expected and not k.startswith("optimizer."))
    if extra:
        raise ModelFileError(path, f"unexpected arrays in the file: {', '.join(extra[:5])}")
