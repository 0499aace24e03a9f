"""The model file format: one ``.npz`` of arrays plus a JSON header, written atomically, read safely.

Layout::

    __header__        uint8 array holding UTF-8 JSON: format, format_version, layers, metadata
    layer{i}.W        (n_out, n_in) float32
    layer{i}.b        (n_out,) float32
    optimizer.{key}   optional optimizer state, in training checkpoints only

The header is checked (schema, layer chain, activations) before any weight is read, and each
array's shape must be the one the header implies.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from engine.activations import LeakyReLU, get_activation
from engine.atomic import atomic_write
from engine.safe_npz import ModelFileError, open_npz, read_array, reason

FORMAT_NAME = "denoise-studio-model"
FORMAT_VERSION = 1
HEADER_KEY = "__header__"
MAX_HEADER_BYTES = 64 * 2**20
"""A header (JSON with the training history) larger than this is refused."""
MAX_ARRAY_BYTES = 2**31
"""An array larger than this is refused before it is read (a damaged or hostile file)."""
MAX_LAYERS = 1000
MAX_WIDTH = 1_000_000
"""The widest layer a model file may hold."""

__all__ = ["ModelFileError", "activation_from_spec", "read_header", "read_model", "write_model"]


def write_model(
    path: str | os.PathLike,
    layer_specs: list[dict],
    arrays: dict[str, np.ndarray],
    metadata: dict[str, Any] | None = None,
) -> None:
    """Save layers' arrays (``layer{i}.W``/``.b``, optional ``optimizer.*``) and a JSON header.

    Refuses (``ValueError``) to write NaN or infinite weights: such a file could never be loaded.
    """
    for key, value in arrays.items():
        if key.startswith("layer") and not np.all(np.isfinite(value)):
            raise ValueError(f"not saving {path}: array {key} holds NaN or infinite values")
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "layers": layer_specs,
        "metadata": metadata or {},
    }
    try:
        text = json.dumps(_plain_json(header), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"not saving {path}: the metadata cannot be stored as JSON ({exc})") from None
    payload = {HEADER_KEY: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
    payload.update(arrays)
    atomic_write(path, lambda f: np.savez(f, **payload))


def read_model(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """(header, arrays) from a model file, checked; raises ``ModelFileError`` for anything invalid.

    Returns the parsed header and ``{"layer{i}.W": (n_out, n_in) float32, "layer{i}.b":
    (n_out,) float32, "optimizer.<key>": ndarray}``, all finite.
    """
    path = Path(path)
    with open_npz(path) as (zf, members):
        if HEADER_KEY not in members:
            raise ModelFileError(path, "the archive has no model header; it is not a Denoise Studio model")
        raw = read_array(path, zf, members[HEADER_KEY], HEADER_KEY, max_bytes=MAX_HEADER_BYTES)
        header = _parse_header(path, raw)
        expected = _layer_shapes(header)
        missing = [key for key in expected if key not in members]
        if missing:
            raise ModelFileError(path, f"array {missing[0]} is missing")
        extra = sorted(k for k in members if k not in expected and k != HEADER_KEY and not k.startswith("optimizer."))
        if extra:
            raise ModelFileError(path, f"unexpected arrays in the file: {', '.join(extra[:5])}")
        arrays = {
            key: read_array(path, zf, members[key], key, max_bytes=MAX_ARRAY_BYTES, shape=shape, floating=True)
            for key, shape in expected.items()
        }
        n_params = sum(a.size for a in arrays.values())
        for key in sorted(k for k in members if k.startswith("optimizer.")):
            arrays[key] = _read_optimizer_array(path, zf, members[key], key, n_params)
    return header, arrays


def read_header(path: str | os.PathLike) -> dict:
    """A model file's checked header alone (layers, metadata), without reading its weights."""
    path = Path(path)
    with open_npz(path) as (zf, members):
        if HEADER_KEY not in members:
            raise ModelFileError(path, "the archive has no model header; it is not a Denoise Studio model")
        return _parse_header(path, read_array(path, zf, members[HEADER_KEY], HEADER_KEY, max_bytes=MAX_HEADER_BYTES))


def activation_from_spec(spec: dict):
    """The activation a header's layer spec names, with its ``alpha`` for leaky ReLU."""
    activation = get_activation(spec["activation"])
    alpha = spec.get("alpha")
    if alpha is None:
        return activation
    if not isinstance(activation, LeakyReLU):
        raise ValueError(f"alpha is given for activation {spec['activation']!r}, which takes none")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
        raise TypeError(f"alpha must be a number, got {alpha!r:.40}")
    return LeakyReLU(alpha)


def _plain_json(value: Any) -> Any:
    """``value`` with NumPy scalars/arrays as Python numbers/lists and NaN/inf as ``None``.

    JSON has no NaN: a PSNR of inf (a perfect reconstruction) or a NaN score in the history
    must not make a save (and with it a whole training run) fail.
    """
    if isinstance(value, dict):
        return {str(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain_json(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _read_optimizer_array(path: Path, zf, info, key: str, n_params: int) -> np.ndarray:
    array = read_array(path, zf, info, key, max_bytes=MAX_ARRAY_BYTES)
    if array.dtype.kind not in "iuf":
        raise ModelFileError(path, f"optimizer state {key} has dtype {array.dtype}, expected numbers")
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise ModelFileError(path, f"optimizer state {key} holds NaN or infinite values")
    if key == "optimizer.t" and (array.ndim != 0 or array.dtype.kind not in "iu" or int(array) < 0):
        raise ModelFileError(path, f"optimizer state {key} should be a step count >= 0, got {array!r:.80}")
    if array.ndim and array.shape != (n_params,):
        raise ModelFileError(path, f"optimizer state {key} has shape {array.shape}, expected ({n_params},)")
    return array


def _layer_shapes(header: dict) -> dict[str, tuple[int, ...]]:
    """The arrays a header's layers imply: ``{"layer{i}.W": (n_out, n_in), "layer{i}.b": (n_out,)}``."""
    expected = {}
    for i, spec in enumerate(header["layers"]):
        expected[f"layer{i}.W"] = (spec["n_out"], spec["n_in"])
        expected[f"layer{i}.b"] = (spec["n_out"],)
    return expected


def _parse_header(path: Path, raw: np.ndarray) -> dict:
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError(path, "the model header is not a byte string; the file is not a Denoise Studio model")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelFileError(path, f"the model header is not valid JSON ({reason(exc)})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise ModelFileError(path, "the header does not describe a Denoise Studio model")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelFileError(path, f"the header has no integer format_version (got {version!r:.40})")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            path, f"format version {version} is newer than this app reads ({FORMAT_VERSION}); update Denoise Studio"
        )
    if version < 1:
        raise ModelFileError(path, f"unknown format version {version} (this app reads 1 to {FORMAT_VERSION})")
    layers = header.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ModelFileError(path, "the header lists no layers")
    if len(layers) > MAX_LAYERS:
        raise ModelFileError(path, f"the header lists {len(layers)} layers, more than a model can have")
    for i, spec in enumerate(layers):
        ok = (
            isinstance(spec, dict)
            and spec.get("type") == "Dense"
            and all(_is_width(spec.get(k)) for k in ("n_in", "n_out"))
            and isinstance(spec.get("activation"), str)
        )
        if not ok:
            raise ModelFileError(path, f"layer {i} in the header is not a valid Dense layer: {spec!r:.200}")
        try:
            activation_from_spec(spec)
        except (ValueError, TypeError) as exc:
            raise ModelFileError(path, f"layer {i}: {exc}") from None
        if i and spec["n_in"] != layers[i - 1]["n_out"]:
            raise ModelFileError(
                path, f"layer {i} takes {spec['n_in']} inputs but layer {i - 1} gives {layers[i - 1]['n_out']}"
            )
    if not isinstance(header.get("metadata", {}), dict):
        raise ModelFileError(path, "the header's metadata is not an object")
    return header


def _is_width(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_WIDTH
