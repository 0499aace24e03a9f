"""Model files: one ``.npz`` of arrays plus a JSON header, loaded without pickle, written atomically.

Layout::

    __header__        uint8 array holding UTF-8 JSON: format, format_version, layers, metadata
    layer{i}.W        (n_out, n_in) float32
    layer{i}.b        (n_out,) float32
    optimizer.{key}   optional optimizer state, in training checkpoints only
"""

from __future__ import annotations

import contextlib
import errno
import glob
import json
import math
import os
import stat
import struct
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

FORMAT_NAME = "denoise-studio-model"
FORMAT_VERSION = 1
HEADER_KEY = "__header__"
MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
"""Models that ship with the app, found by bare name."""
TEMP_SUFFIX = ".tmp"
MAX_HEADER_BYTES = 64 * 2**20
"""A header (JSON with the training history) larger than this is refused."""
MAX_ARRAY_BYTES = 2**31
"""An array larger than this is refused before it is read (a damaged or hostile file)."""


class ModelFileError(Exception):
    """A file that is not a valid Denoise Studio model; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Write through ``write(file)`` to a temp file beside ``path``, fsync, then ``os.replace``.

    A crash at any moment leaves either the old file or the new one, never a partial file.
    The temp file is hidden and ends in ``.tmp`` (``.NAME.XXXX.tmp``), so it is never taken
    for a model; it is removed if ``write`` raises.  An existing file's permissions are kept.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder; give a file name to save to", str(path))
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = 0o644
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as tmp:
            write(tmp)
            tmp.flush()
            os.fsync(tmp.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)
    _remove_stale_temps(path)


STALE_TEMP_SECONDS = 3600
"""Temp files of this path older than this are left by a killed save (a live save takes seconds)."""


def _remove_stale_temps(path: Path) -> None:
    """Delete ``.NAME.*.tmp`` files a killed process left beside ``path`` (never a recent one)."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    for temp in path.parent.glob(f".{glob.escape(path.name)}.*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            if temp.is_file() and temp.stat().st_mtime < cutoff:
                temp.unlink()


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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


# Everything reading a damaged zip / .npy member may raise: all become ModelFileError.
_READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    TypeError,
    NotImplementedError,  # unsupported compression method
    RuntimeError,  # encrypted member; RecursionError
    OverflowError,
    MemoryError,
    SyntaxError,  # a .npy header that is not a Python literal
)
_DAMAGED = "the file is damaged or incomplete (an interrupted save or download?)"


def read_model(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """(header, arrays) from a model file, checked; raises ``ModelFileError`` for anything invalid.

    The archive is read member by member with ``zipfile`` and ``numpy.lib.format``: nothing in
    the file is executed (object arrays and pickles are refused before their data is read) and
    every array's shape and dtype is checked against the header before it is read.

    Returns the parsed header and ``{"layer{i}.W": (n_out, n_in) float32, "layer{i}.b":
    (n_out,) float32, "optimizer.<key>": ndarray}``, all finite.
    """
    path = Path(path)
    _sniff(path)
    try:
        with zipfile.ZipFile(path) as zf:
            members = {}
            for info in zf.infolist():
                if not info.filename.endswith(".npy") or info.is_dir():
                    raise ModelFileError(
                        path, f"unexpected entry {info.filename!r:.80} in the archive; not a model file"
                    )
                members[info.filename[: -len(".npy")]] = info
            if HEADER_KEY not in members:
                raise ModelFileError(path, "the archive has no model header; it is not a Denoise Studio model")
            header = _parse_header(path, _read_member(path, zf, members[HEADER_KEY], HEADER_KEY))
            expected = _layer_keys(header)
            missing = [key for key in expected if key not in members]
            if missing:
                raise ModelFileError(path, f"array {missing[0]} is missing")
            extra = sorted(
                k for k in members if k not in expected and k != HEADER_KEY and not k.startswith("optimizer.")
            )
            if extra:
                raise ModelFileError(path, f"unexpected arrays in the file: {', '.join(extra[:5])}")
            arrays = {}
            for key, shape in expected.items():
                arrays[key] = _read_member(path, zf, members[key], key, shape=shape, floating=True)
            n_params = sum(a.size for a in arrays.values())
            for key in sorted(k for k in members if k.startswith("optimizer.")):
                arrays[key] = _read_optimizer_array(path, zf, members[key], key, n_params)
    except ModelFileError:
        raise
    except _READ_ERRORS as exc:
        raise ModelFileError(path, f"{_DAMAGED} ({_reason(exc)})") from None
    return header, arrays


def _sniff(path: Path) -> None:
    """Refuse early, with a precise message, what is not a zip archive at all."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if head.startswith(b"\x93NUMPY"):
                f.seek(0)
                try:
                    _, _, dtype = _read_npy_header(f)
                    pickled = dtype.hasobject
                except _READ_ERRORS:
                    pickled = False
                if pickled:
                    raise ModelFileError(
                        path, "it holds pickled Python objects (a NumPy object array), which are never loaded"
                    )
                raise ModelFileError(path, "it is a single NumPy array (.npy), not a Denoise Studio model (.npz)")
    except ModelFileError:
        raise
    except FileNotFoundError:
        raise ModelFileError(path, "file not found") from None
    except IsADirectoryError:
        raise ModelFileError(path, "is a folder, not a model file") from None
    except PermissionError:
        raise ModelFileError(path, "cannot be read (permission denied)") from None
    except OSError as exc:
        raise ModelFileError(path, f"cannot be read ({_reason(exc)})") from None
    if path.is_dir():
        raise ModelFileError(path, "is a folder, not a model file")
    if not head:
        raise ModelFileError(path, "the file is empty (0 bytes); it is not a model (an interrupted save?)")
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        raise ModelFileError(path, "it holds a pickled Python object; pickles are never loaded")
    if head.startswith(b"PK"):
        if not zipfile.is_zipfile(path):
            raise ModelFileError(path, f"{_DAMAGED}: the zip archive cannot be read")
        return
    raise ModelFileError(path, "not a Denoise Studio model file (.npz archive); did you pick the wrong file?")


def _read_npy_header(fp: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(fp)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(fp)
    raise ValueError(f"unsupported .npy version {version}")


def _read_member(
    path: Path,
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    key: str,
    *,
    shape: tuple[int, ...] | None = None,
    floating: bool = False,
) -> np.ndarray:
    """One ``.npy`` member, its header checked before its data is read."""
    with zf.open(info) as fp:
        got_shape, fortran, dtype = _read_npy_header(fp)
        if dtype.hasobject:
            raise ModelFileError(path, f"array {key} holds pickled Python objects, which are never loaded")
        if floating and (dtype.kind != "f" or dtype.itemsize > 8):
            raise ModelFileError(path, f"array {key} has dtype {dtype}, expected floating point (float32)")
        if shape is not None and tuple(got_shape) != shape:
            raise ModelFileError(path, f"array {key} has shape {tuple(got_shape)}, expected {shape}")
        nbytes = math.prod(got_shape) * dtype.itemsize
        limit = MAX_HEADER_BYTES if key == HEADER_KEY else MAX_ARRAY_BYTES
        if nbytes > limit:
            raise ModelFileError(path, f"array {key} claims {nbytes} bytes, more than a model can hold")
        data = fp.read(nbytes)
        if len(data) != nbytes:
            raise ModelFileError(path, f"{_DAMAGED}: array {key} is cut short")
        if fp.read(1):  # reading to the end also makes zipfile check the CRC
            raise ModelFileError(path, f"{_DAMAGED}: array {key} has trailing bytes")
    array = np.frombuffer(data, dtype=dtype).reshape(got_shape, order="F" if fortran else "C")
    if floating:
        with np.errstate(over="ignore", invalid="ignore"):
            array = np.ascontiguousarray(array, dtype=np.float32)
        if not np.all(np.isfinite(array)):
            raise ModelFileError(path, f"array {key} holds NaN or infinite values (or values too large for float32)")
    return array


def _read_optimizer_array(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, n_params: int):
    array = _read_member(path, zf, info, key)
    if array.dtype.kind not in "iuf":
        raise ModelFileError(path, f"optimizer state {key} has dtype {array.dtype}, expected numbers")
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise ModelFileError(path, f"optimizer state {key} holds NaN or infinite values")
    if key == "optimizer.t" and (array.ndim != 0 or array.dtype.kind not in "iu" or int(array) < 0):
        raise ModelFileError(path, f"optimizer state {key} should be a step count >= 0, got {array!r:.80}")
    if array.ndim and array.shape != (n_params,):
        raise ModelFileError(path, f"optimizer state {key} has shape {array.shape}, expected ({n_params},)")
    return array


def _layer_keys(header: dict) -> dict[str, tuple[int, ...]]:
    expected = {}
    for i, spec in enumerate(header["layers"]):
        expected[f"layer{i}.W"] = (spec["n_out"], spec["n_in"])
        expected[f"layer{i}.b"] = (spec["n_out"],)
    return expected


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if "pickle" in text.lower():
        return "it holds pickled Python objects, which are never loaded"
    return text.splitlines()[0][:200]


def _parse_header(path: Path, raw: np.ndarray) -> dict:
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError(path, "the model header is not a byte string; the file is not a Denoise Studio model")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelFileError(path, f"the model header is not valid JSON ({_reason(exc)})") from None
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
    if len(layers) > 1000:
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
        _check_activation(path, i, spec)
        if i and spec["n_in"] != layers[i - 1]["n_out"]:
            raise ModelFileError(
                path, f"layer {i} takes {spec['n_in']} inputs but layer {i - 1} gives {layers[i - 1]['n_out']}"
            )
    if not isinstance(header.get("metadata", {}), dict):
        raise ModelFileError(path, "the header's metadata is not an object")
    return header


def activation_from_spec(spec: dict):
    """The activation a header's layer spec names, with its ``alpha`` for leaky ReLU."""
    from engine.activations import LeakyReLU, get_activation

    activation = get_activation(spec["activation"])
    alpha = spec.get("alpha")
    if alpha is None:
        return activation
    if not isinstance(activation, LeakyReLU):
        raise ValueError(f"alpha is given for activation {spec['activation']!r}, which takes none")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
        raise TypeError(f"alpha must be a number, got {alpha!r:.40}")
    return LeakyReLU(alpha)


def _check_activation(path: Path, i: int, spec: dict) -> None:
    try:
        activation_from_spec(spec)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(path, f"layer {i}: {exc}") from None


def _is_width(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 1_000_000
