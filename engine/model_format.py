"""The model file format: one ``.npz`` of arrays plus a JSON header, written atomically, read safely.

Layout::

    __header__        uint8 array holding UTF-8 JSON: format, format_version, layers, [skip,] metadata
    layer{i}.W        (n_out, n_in) float32 (or float16/float64: read as float32)
    layer{i}.b        (n_out,) float32
    skip.W, skip.b    a gate's weights (n_out, n_in of the last layer) and biases (n_out,), for a gated skip
    optimizer.{key}   optional optimizer state, in training checkpoints only

A model ending in a skip path (``engine.skip``) is format version 2, its header's ``skip`` saying
``{"type": "gate", "n_in": ..., "n_out": ..., "activation": "sigmoid"}`` or ``{"type": "residual"}``;
a plain model is still written as version 1, which every earlier release reads.

The header is checked (size and nesting, schema, layer chain, activations, the limits every model
obeys) before any weight is read; each array's declared size and shape must be the ones the header
implies before its data is read (``engine.safe_npz`` bounds the archive as a whole).
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
from engine.model_limits import MAX_LAYERS, MAX_PARAMS, MAX_WIDTH, SKIP_KINDS, check_architecture
from engine.run_limits import metadata_problems
from engine.safe_npz import ModelFileError, open_npz, read_array, reason

FORMAT_NAME = "denoise-studio-model"
FORMAT_VERSION = 2
"""The newest version this app reads and writes (2: a skip path); a plain model is written as version 1."""
HEADER_KEY = "__header__"

# ----- what a file may hold beyond the weights the header implies ---------------------------------------------------
MAX_HEADER_BYTES = 2 * 2**20
"""The JSON header (layers, settings, the training history): a run's per-batch losses take ~10 bytes
each, 200,000 batches fit; a longer history is thinned when saved.  Parsing it costs at most ~12x
its size in Python objects, so loading stays within ~60 MiB whatever the header holds."""
MAX_HEADER_DEPTH = 32
"""Nesting of ``[`` and ``{`` in the header (ours nest 6 deep)."""
MAX_HEADER_CONTAINERS = 50_000
"""Lists and objects in the header (one per epoch and layer in ours): each costs ~60 bytes parsed from 2."""
MAX_HEADER_STRINGS = 100_000
MAX_OPTIMIZER_ARRAYS = 8
"""Optimizer state members (Adam keeps 3: the step count and two moment vectors)."""
MAX_MEMBERS = 1 + 2 * (MAX_LAYERS + 1) + MAX_OPTIMIZER_ARRAYS
_FLOAT_BYTES_MAX = 8
"""Arrays may be stored as float16/32/64; they are read as float32."""
WEIGHTS_DTYPES = ("float32", "float16")
"""What ``MLP.save`` writes weights as: float32, or float16 for a file to ship at half the size."""
MAX_STEP_COUNT = 2**53
"""``optimizer.t``: exact as a float64, which Adam's bias correction computes in."""

__all__ = ["MAX_LAYERS", "MAX_PARAMS", "MAX_WIDTH", "WEIGHTS_DTYPES", "ModelFileError", "activation_from_spec",
           "check_architecture", "check_weights_dtype", "is_model_file", "read_header", "read_model",
           "write_model"]  # fmt: skip


def write_model(
    path: str | os.PathLike,
    layer_specs: list[dict],
    arrays: dict[str, np.ndarray],
    metadata: dict[str, Any] | None = None,
    skip: dict | None = None,
) -> None:
    """Save layers' arrays (``layer{i}.W``/``.b``, a gate's ``skip.W``/``.b``, optional ``optimizer.*``)
    and a JSON header; ``skip`` is the skip path's spec (``Skip.spec()``) or None.

    Refuses (``ValueError``) what could never be loaded: NaN or infinite weights, a model beyond
    the limits, metadata that is not JSON, settings outside the bounds every run obeys
    (``engine.run_limits``: what is saved opens as it was saved).  A per-batch loss history too long for the header is
    thinned (neighbouring losses averaged) rather than refused.
    """
    try:
        widths = [layer_specs[0]["n_in"], *(spec["n_out"] for spec in layer_specs)]
        check_architecture(widths, skip=None if skip is None else skip.get("type"))
    except ValueError as exc:
        raise ValueError(f"not saving {path}: {exc}") from None
    for key, value in arrays.items():
        if key.startswith(("layer", "skip")) and not np.all(np.isfinite(value)):
            raise ValueError(f"not saving {path}: array {key} holds NaN or infinite values")
    problems = metadata_problems(metadata or {})
    if problems:
        raise ValueError(f"not saving {path}: the metadata's {problems[0]}")
    n_optimizer = sum(key.startswith("optimizer.") for key in arrays)
    if n_optimizer > MAX_OPTIMIZER_ARRAYS:
        raise ValueError(f"not saving {path}: {n_optimizer} optimizer arrays, at most {MAX_OPTIMIZER_ARRAYS}")
    header = {"format": FORMAT_NAME, "format_version": 1 if skip is None else 2, "layers": layer_specs}
    if skip is not None:
        header["skip"] = skip
    header["metadata"] = metadata or {}
    try:
        plain = _plain_json(header)
        text = _header_text(plain)
        while len(text) > MAX_HEADER_BYTES and _thin_batch_losses(plain["metadata"]):
            text = _header_text(plain)
        problem = _header_problem(text)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"not saving {path}: the metadata cannot be stored as JSON ({exc})") from None
    if problem:
        raise ValueError(f"not saving {path}: the metadata is too large to store ({problem})")
    payload = {HEADER_KEY: np.frombuffer(text, dtype=np.uint8)}
    payload.update(arrays)
    atomic_write(path, lambda f: np.savez(f, **payload))


def read_model(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """(header, arrays) from a model file, checked; raises ``ModelFileError`` for anything invalid.

    Returns the parsed header and ``{"layer{i}.W": (n_out, n_in) float32, "layer{i}.b":
    (n_out,) float32, "optimizer.<key>": ndarray}``, all finite.  Nothing is decompressed
    before its size is checked: the header against ``MAX_HEADER_BYTES``, every array against
    the shape the header gives it.  Running out of memory raises ``MemoryError``.
    """
    path = Path(path)
    with open_npz(path, max_members=MAX_MEMBERS) as (zf, members):
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
        optimizer_keys = sorted(k for k in members if k.startswith("optimizer."))
        if len(optimizer_keys) > MAX_OPTIMIZER_ARRAYS:
            raise ModelFileError(path, f"{len(optimizer_keys)} optimizer arrays, more than a model's optimizer keeps")
        n_params = sum(math.prod(shape) for shape in expected.values())
        limits = {key: math.prod(shape) * _FLOAT_BYTES_MAX for key, shape in expected.items()}
        limits.update({key: n_params * _FLOAT_BYTES_MAX for key in optimizer_keys})
        arrays = {
            key: read_array(path, zf, members[key], key, max_bytes=limits[key], shape=shape, floating=True)
            for key, shape in expected.items()
        }
        for key in optimizer_keys:
            arrays[key] = _read_optimizer_array(path, zf, members[key], key, n_params)
    return header, arrays


def read_header(path: str | os.PathLike) -> dict:
    """A model file's checked header alone (layers, metadata), without reading its weights."""
    path = Path(path)
    with open_npz(path, max_members=MAX_MEMBERS) as (zf, members):
        if HEADER_KEY not in members:
            raise ModelFileError(path, "the archive has no model header; it is not a Denoise Studio model")
        return _parse_header(path, read_array(path, zf, members[HEADER_KEY], HEADER_KEY, max_bytes=MAX_HEADER_BYTES))


def is_model_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a Denoise Studio model (its header is read and checked, not its weights):
    what the CLI may replace without ``--force``."""
    try:
        read_header(path)
    except ModelFileError:
        return False
    return True


def check_weights_dtype(name: str) -> np.dtype:
    """The NumPy dtype of a ``WEIGHTS_DTYPES`` name; ``ValueError`` naming the allowed ones otherwise."""
    if name not in WEIGHTS_DTYPES:
        raise ValueError(f"weights are stored as {' or '.join(WEIGHTS_DTYPES)}, not {name!r}")
    return np.dtype(name)


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
    """A step count (an integer scalar) or a vector of the model's size, read as float32."""
    array = read_array(path, zf, info, key, max_bytes=n_params * _FLOAT_BYTES_MAX)
    if array.ndim == 0:
        if array.dtype.kind not in "iu" or not 0 <= int(array) <= MAX_STEP_COUNT:
            raise ModelFileError(
                path, f"optimizer state {key} should be a step count from 0 to 2**53, got {array!r:.80}"
            )
        return array
    if array.dtype.kind != "f" or array.shape != (n_params,):
        raise ModelFileError(
            path, f"optimizer state {key} is {array.dtype} of shape {array.shape}, expected ({n_params},) floats"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        array = np.ascontiguousarray(array, dtype=np.float32)
    if not np.all(np.isfinite(array)):
        raise ModelFileError(path, f"optimizer state {key} holds NaN or infinite values")
    return array


def _layer_shapes(header: dict) -> dict[str, tuple[int, ...]]:
    """The arrays a header's layers (and gate) imply: ``{"layer{i}.W": (n_out, n_in), "layer{i}.b": (n_out,),
    "skip.W": ..., "skip.b": ...}``."""
    expected = {}
    for i, spec in enumerate(header["layers"]):
        expected[f"layer{i}.W"] = (spec["n_out"], spec["n_in"])
        expected[f"layer{i}.b"] = (spec["n_out"],)
    skip = header.get("skip")
    if skip is not None and skip["type"] == "gate":
        expected["skip.W"] = (skip["n_out"], skip["n_in"])
        expected["skip.b"] = (skip["n_out"],)
    return expected


def _header_text(header: dict) -> bytes:
    return json.dumps(header, allow_nan=False, separators=(",", ":")).encode("utf-8")


def _header_problem(text: bytes) -> str | None:
    """Why a header's JSON text would cost too much to parse, or None: its size, nesting and
    counts of lists, objects and strings, found without parsing it (brackets inside strings count
    too, which can only make the check stricter)."""
    if len(text) > MAX_HEADER_BYTES:
        return f"{len(text):,} bytes, more than {MAX_HEADER_BYTES:,}"
    codes = np.frombuffer(text, np.uint8)
    opens = (codes == ord("[")) | (codes == ord("{"))
    steps = opens.view(np.int8) - ((codes == ord("]")) | (codes == ord("}"))).view(np.int8)  # +1, -1 or 0
    depth = int(np.cumsum(steps[steps != 0], dtype=np.int32).max(initial=0))
    if depth > MAX_HEADER_DEPTH:
        return f"nested {depth:,} deep, more than {MAX_HEADER_DEPTH}"
    n_containers = int(np.count_nonzero(opens))
    if n_containers > MAX_HEADER_CONTAINERS:
        return f"{n_containers:,} lists and objects, more than {MAX_HEADER_CONTAINERS:,}"
    n_strings = int(np.count_nonzero(codes == ord('"'))) // 2
    if n_strings > MAX_HEADER_STRINGS:
        return f"{n_strings:,} strings, more than {MAX_HEADER_STRINGS:,}"
    return None


def _thin_batch_losses(metadata: dict) -> bool:
    """Halve every per-batch loss list in the metadata (mean of neighbours); False when none is left to thin."""
    thinned = False
    for holder in (metadata.get("history"), (metadata.get("resume") or {}).get("history")):
        if isinstance(holder, dict) and isinstance(holder.get("batch_loss"), list) and len(holder["batch_loss"]) > 1:
            losses = holder["batch_loss"]
            pairs = [losses[i : i + 2] for i in range(0, len(losses), 2)]
            holder["batch_loss"] = [round(sum(p) / len(p), 7) if None not in p else None for p in pairs]
            holder["batch_loss_every"] = 2 * int(holder.get("batch_loss_every", 1))
            thinned = True
    return thinned


def _parse_header(path: Path, raw: np.ndarray) -> dict:
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError(path, "the model header is not a byte string; the file is not a Denoise Studio model")
    problem = _header_problem(raw.tobytes())
    if problem:
        raise ModelFileError(path, f"the model header is too large to read ({problem})")
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
        raise ModelFileError(path, f"the header lists {len(layers)} layers, more than a model can have ({MAX_LAYERS})")
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
    skip = header.get("skip")
    if skip is not None:
        _check_skip(path, skip, version, layers[-1])
    try:
        check_architecture([layers[0]["n_in"], *(spec["n_out"] for spec in layers)], skip=skip and skip["type"])
    except ValueError as exc:
        raise ModelFileError(path, str(exc)) from None
    if not isinstance(header.get("metadata", {}), dict):
        raise ModelFileError(path, "the header's metadata is not an object")
    return header


def _check_skip(path: Path, skip: Any, version: int, last: dict) -> None:
    """A header's skip path: a known kind, in a version-2 file; a gate reads what the last layer reads."""
    if version < 2:
        raise ModelFileError(path, "a format version 1 file has no skip path, but this header names one")
    if not isinstance(skip, dict) or skip.get("type") not in SKIP_KINDS:
        raise ModelFileError(path, f"the header's skip path is not one of {', '.join(SKIP_KINDS)}: {skip!r:.200}")
    if skip["type"] == "gate":
        fits = (
            skip.get("n_in") == last["n_in"]
            and skip.get("n_out") == last["n_out"]
            and skip.get("activation") == "sigmoid"
            and all(_is_width(skip.get(k)) for k in ("n_in", "n_out"))
        )
        if not fits:
            raise ModelFileError(
                path, f"the gate should read the last layer's {last['n_in']} inputs and give {last['n_out']} "
                f"sigmoid outputs: {skip!r:.200}"
            )  # fmt: skip


def _is_width(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0  # the limits: check_architecture
