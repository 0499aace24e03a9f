"""Reader for the IDX format of the MNIST files (plain or gzip-compressed).

IDX: two zero bytes, a type code (0x08 = uint8), the number of dimensions, then each
dimension as a big-endian uint32, then the data in C order.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from engine.atomic import atomic_write


class DatasetFileError(Exception):
    """A dataset file that is missing or not what it should be; says which file and how to fix it."""

    def __init__(self, path: str | os.PathLike, problem: str, fix: str = "") -> None:
        self.path, self.problem, self.fix = str(path), problem, fix
        super().__init__(f"{self.path}: {problem}" + (f". {fix}" if fix else ""))


_REFETCH = "Replace it with a fresh copy of the MNIST file (or delete it to let Denoise Studio download it again)"


def read_idx_bytes(path: str | os.PathLike) -> bytes:
    """The file's bytes, gunzipped when they are gzip-compressed (whatever the file's name)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetFileError(path, "file not found", "Put the MNIST file there or name the right folder") from None
    except IsADirectoryError:
        raise DatasetFileError(path, "is a folder, not an MNIST file", _REFETCH) from None
    except PermissionError:
        raise DatasetFileError(path, "cannot be read (permission denied)", "Check the file's permissions") from None
    except OSError as exc:
        raise DatasetFileError(path, f"cannot be read ({exc})", _REFETCH) from None
    if not raw:
        raise DatasetFileError(path, "the file is empty", _REFETCH)
    if raw[:2] != b"\x1f\x8b":
        if path.suffix == ".gz":
            raise DatasetFileError(path, "named .gz but not gzip-compressed (not an MNIST file?)", _REFETCH)
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetFileError(
            path, f"cannot be decompressed ({exc}); the file is damaged or truncated", _REFETCH
        ) from None


def parse_idx(data: bytes, path: str | os.PathLike = "<bytes>") -> np.ndarray:
    """An IDX byte string -> uint8 array of the shape its header gives."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DatasetFileError(path, "not an IDX file (bad magic number); is this an MNIST file?", _REFETCH)
    if data[2] != 0x08:
        raise DatasetFileError(path, f"IDX type code 0x{data[2]:02x} is not unsigned bytes (0x08)", _REFETCH)
    ndim = data[3]
    if not 1 <= ndim <= 4 or len(data) < 4 + 4 * ndim:
        raise DatasetFileError(path, f"IDX header is damaged ({ndim} dimensions)", _REFETCH)
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = math.prod(shape)
    body = len(data) - 4 - 4 * ndim
    if body != expected:
        raise DatasetFileError(
            path, f"IDX header says {shape} ({expected} bytes) but the file holds {body} bytes", _REFETCH
        )
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """uint8 array from an IDX file (``.gz`` or plain)."""
    return parse_idx(read_idx_bytes(path), path)


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write a uint8 array as IDX (gzip when the name ends in ``.gz``); used by tests and tools."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    data = header + array.tobytes()
    path = Path(path)
    payload = gzip.compress(data, compresslevel=1) if path.suffix == ".gz" else data
    atomic_write(path, lambda f: f.write(payload))
