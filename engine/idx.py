"""Reader for the IDX format of the MNIST files (plain or gzip-compressed).

IDX: two zero bytes, a type code (0x08 = uint8), the number of dimensions, then each
dimension as a big-endian uint32, then the data in C order.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np


class DatasetFileError(Exception):
    """A dataset file that is missing or not what it should be; says which file and how to fix it."""

    def __init__(self, path: str | os.PathLike, problem: str, fix: str = "") -> None:
        self.path, self.problem, self.fix = str(path), problem, fix
        super().__init__(f"{self.path}: {problem}" + (f". {fix}" if fix else ""))


def read_idx_bytes(path: str | os.PathLike) -> bytes:
    """The file's bytes, gunzipped when the name ends in ``.gz``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        return gzip.decompress(raw) if path.suffix == ".gz" else raw
    except FileNotFoundError:
        raise DatasetFileError(path, "file not found") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetFileError(path, f"cannot be decompressed ({exc}); the file is damaged or truncated") from None


def parse_idx(data: bytes, path: str | os.PathLike = "<bytes>") -> np.ndarray:
    """An IDX byte string -> uint8 array of the shape its header gives."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DatasetFileError(path, "not an IDX file (bad magic number)")
    if data[2] != 0x08:
        raise DatasetFileError(path, f"IDX type code 0x{data[2]:02x} is not unsigned bytes (0x08)")
    ndim = data[3]
    if not 1 <= ndim <= 4 or len(data) < 4 + 4 * ndim:
        raise DatasetFileError(path, f"IDX header is damaged ({ndim} dimensions)")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape, dtype=np.int64))
    body = len(data) - 4 - 4 * ndim
    if body != expected:
        raise DatasetFileError(path, f"IDX header says {shape} ({expected} bytes) but the file holds {body} bytes")
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
    path.write_bytes(gzip.compress(data, compresslevel=1) if path.suffix == ".gz" else data)
