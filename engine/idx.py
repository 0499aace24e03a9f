"""Reader for the IDX format of the MNIST files (plain or gzip-compressed).

IDX: two zero bytes, a type code (0x08 = uint8), the number of dimensions, then each
dimension as a big-endian uint32, then the data in C order.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import os
import stat
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

from engine.atomic import atomic_write


class DatasetFileError(Exception):
    """A dataset file that is missing or not what it should be; says which file and how to fix it."""

    def __init__(self, path: str | os.PathLike, problem: str, fix: str = "") -> None:
        self.path, self.problem, self.fix = str(path), problem, fix
        super().__init__(f"{self.path}: {problem}" + (f". {fix}" if fix else ""))


_REFETCH = "Replace it with a fresh copy of the MNIST file (or delete it to let Denoise Studio download it again)"


MAX_IDX_BYTES = 2**26
"""64 MiB: the largest file of the MNIST family holds 47,040,000 bytes (60,000 images of 28x28).  A
header claiming more is refused before anything is decompressed."""
MAX_GZIP_RATIO = 32
GZIP_ALLOWANCE = 2**20
"""A gzip stream may inflate to at most ``MAX_GZIP_RATIO`` x the compressed bytes read so far + this:
MNIST's files inflate 1.9x to 4.7x, a gzip bomb ~1000x (found after a few MB, whatever its header says)."""
_CHUNK = 64 * 2**10
_MAX_PIECE = 2**20
"""Bytes decompressed per call: a gzip bomb never produces more than this beyond the limits."""
_GZIP_MAGIC = b"\x1f\x8b"


def read_idx_bytes(path: str | os.PathLike, max_bytes: int = MAX_IDX_BYTES) -> bytearray:
    """The file's IDX bytes (header and data), gunzipped when gzip-compressed (whatever the file's name).

    Nothing beyond what the IDX header's counts imply is decompressed or read, and a header
    implying more than ``max_bytes`` is refused first: a gzip bomb costs at most the size its
    header claims.
    """
    path = Path(path)
    with _open_idx(path) as (f, compressed):
        return _read_gzip(f, path, max_bytes) if compressed else _read_plain(f, path, max_bytes)


def idx_shape(path: str | os.PathLike) -> tuple[int, ...]:
    """The shape an IDX file's header declares, without reading its data (of a gzip file, the first block only)."""
    path = Path(path)
    with _open_idx(path) as (f, compressed):
        if compressed:
            head = bytearray()
            try:
                for piece in iter_gunzip(f, MAX_IDX_BYTES):
                    head += piece
                    if len(head) >= 4 + 4 * 255:
                        break
            except OverflowError as exc:
                raise DatasetFileError(path, f"{exc} (a gzip bomb, or not an MNIST file)", _REFETCH) from None
        else:
            head = bytearray(f.read(4 + 4 * 255))
    return _header_shape(head, path)


@contextlib.contextmanager
def _open_idx(path: Path) -> Iterator[tuple[IO[bytes], bool]]:
    """(the open file, whether it is gzip-compressed) of a regular, non-empty file; every way reading it can fail
    in the ``with`` block becomes a ``DatasetFileError`` saying what to do."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))  # a FIFO: no wait
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise DatasetFileError(path, "is not a regular file (a device or pipe?)", _REFETCH)
            if hasattr(os, "set_blocking"):
                os.set_blocking(fd, True)
            head = f.read(2)
            if not head:
                raise DatasetFileError(path, "the file is empty", _REFETCH)
            f.seek(0)
            if head != _GZIP_MAGIC and path.suffix == ".gz":
                raise DatasetFileError(path, "named .gz but not gzip-compressed (not an MNIST file?)", _REFETCH)
            yield f, head == _GZIP_MAGIC
    except DatasetFileError:
        raise
    except FileNotFoundError:
        raise DatasetFileError(path, "file not found", "Put the MNIST file there or name the right folder") from None
    except IsADirectoryError:
        raise DatasetFileError(path, "is a folder, not an MNIST file", _REFETCH) from None
    except PermissionError:
        raise DatasetFileError(path, "cannot be read (permission denied)", "Check the file's permissions") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetFileError(
            path, f"cannot be decompressed ({exc}); the file is damaged or truncated", _REFETCH
        ) from None


def iter_gunzip(f: IO[bytes], max_bytes: int) -> Iterator[bytes]:
    """The decompressed content of a gzip stream (one member or several), in pieces of at most 1 MiB.

    Raises ``OverflowError`` as soon as it would exceed ``max_bytes`` or inflate more than
    ``MAX_GZIP_RATIO`` times the compressed bytes so far, ``EOFError`` if the stream ends early,
    ``zlib.error`` if it is damaged.
    """
    produced, read = 0, 0
    pending = f.read(_CHUNK)
    read += len(pending)
    while pending:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        while True:
            if not pending:
                pending = f.read(_CHUNK)
                read += len(pending)
                if not pending:
                    raise EOFError("the file ends before its compressed data does")
            piece = inflater.decompress(pending, min(_MAX_PIECE, max_bytes + 1 - produced))
            pending = inflater.unconsumed_tail
            produced += len(piece)
            if produced > max_bytes:
                raise OverflowError(f"it inflates to more than {max_bytes:,} bytes")
            if produced > MAX_GZIP_RATIO * (read - len(pending)) + GZIP_ALLOWANCE:
                raise OverflowError(f"it inflates more than {MAX_GZIP_RATIO} times its compressed size")
            if piece:
                yield piece
            if inflater.eof:
                pending = inflater.unused_data
                if not pending:
                    pending = f.read(_CHUNK)
                    read += len(pending)
                break
        if pending and not pending.startswith(_GZIP_MAGIC):
            raise zlib.error("unexpected data after the compressed stream")


def _idx_size(prefix: bytes | bytearray, path: Path, max_bytes: int) -> int | None:
    """Total bytes (header + data) the IDX header at the start of ``prefix`` implies; None while it is incomplete."""
    if len(prefix) < 4:
        return None
    _check_magic(prefix, path)
    ndim = prefix[3]
    if len(prefix) < 4 + 4 * ndim:
        return None
    shape = tuple(int(d) for d in np.frombuffer(bytes(prefix[4 : 4 + 4 * ndim]), dtype=">u4"))
    total = 4 + 4 * ndim + math.prod(shape)
    if total > max_bytes:
        raise DatasetFileError(
            path, f"IDX header says {shape} ({math.prod(shape):,} bytes), more than an MNIST file holds", _REFETCH
        )
    return total


def _read_plain(f: IO[bytes], path: Path, max_bytes: int) -> bytearray:
    prefix = f.read(20)
    total = _idx_size(prefix, path, max_bytes)
    size = os.fstat(f.fileno()).st_size
    if total is None or total != size:
        return bytearray(prefix) if total is None else _mismatch(prefix, path, size)
    data = bytearray(total)
    f.seek(0)
    if f.readinto(data) != total:
        raise EOFError("the file shrank while it was read")
    return data


def _read_gzip(f: IO[bytes], path: Path, max_bytes: int) -> bytearray:
    size = os.fstat(f.fileno()).st_size
    head: bytearray = bytearray()
    data, total, filled = bytearray(), None, 0
    try:
        for piece in iter_gunzip(f, max_bytes):
            if total is None:  # the header first: it says how much may follow
                head += piece
                total = _idx_size(head, path, max_bytes)
                if total is None:
                    continue
                if total > MAX_GZIP_RATIO * size + GZIP_ALLOWANCE:  # before allocating what it claims
                    raise OverflowError(f"its IDX header claims {total:,} bytes, more than {size:,} gzip bytes hold")
                piece, data = bytes(head), bytearray(total)
            if filled + len(piece) > total:
                raise OverflowError("")
            memoryview(data)[filled : filled + len(piece)] = piece
            filled += len(piece)
    except OverflowError as exc:
        why = str(exc) or f"it decompresses to more than the {total:,} bytes its IDX header implies"
        raise DatasetFileError(path, f"{why} (a gzip bomb, or not an MNIST file)", _REFETCH) from None
    if total is None:
        return head  # too short for a header: parse_idx says so
    return data if filled == total else data[:filled]


def _mismatch(prefix: bytes, path: Path, size: int) -> bytearray:
    """Raise the header/size mismatch error (parse_idx's) for a plain file, before reading its body."""
    ndim = prefix[3]
    shape = tuple(int(d) for d in np.frombuffer(bytes(prefix[4 : 4 + 4 * ndim]), dtype=">u4"))
    raise DatasetFileError(
        path,
        f"IDX header says {shape} ({math.prod(shape)} bytes) but the file holds {size - 4 - 4 * ndim} bytes",
        _REFETCH,
    )


def _check_magic(data: bytes | bytearray, path: str | os.PathLike) -> None:
    if data[0] != 0 or data[1] != 0:
        raise DatasetFileError(path, "not an IDX file (bad magic number); is this an MNIST file?", _REFETCH)
    if data[2] != 0x08:
        raise DatasetFileError(path, f"IDX type code 0x{data[2]:02x} is not unsigned bytes (0x08)", _REFETCH)
    if not 1 <= data[3] <= 4:
        raise DatasetFileError(path, f"IDX header is damaged ({data[3]} dimensions)", _REFETCH)


def _header_shape(data: bytes | bytearray, path: str | os.PathLike) -> tuple[int, ...]:
    """The shape the IDX header at the start of ``data`` declares, its magic checked."""
    if len(data) < 4:
        raise DatasetFileError(path, "not an IDX file (bad magic number); is this an MNIST file?", _REFETCH)
    _check_magic(data, path)
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise DatasetFileError(path, f"IDX header is damaged ({ndim} dimensions)", _REFETCH)
    return tuple(int(d) for d in np.frombuffer(bytes(data[4 : 4 + 4 * ndim]), dtype=">u4"))


def parse_idx(data: bytes | bytearray, path: str | os.PathLike = "<bytes>") -> np.ndarray:
    """An IDX byte string -> uint8 array of the shape its header gives (a view of ``data``)."""
    shape = _header_shape(data, path)
    ndim = len(shape)
    expected = math.prod(shape)
    body = len(data) - 4 - 4 * ndim
    if body != expected:
        raise DatasetFileError(
            path, f"IDX header says {shape} ({expected} bytes) but the file holds {body} bytes", _REFETCH
        )
    try:
        return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)
    except ValueError:  # an empty shape NumPy cannot hold: (0, 4473, 1484985, 1388573146) overflows its index type
        raise DatasetFileError(path, f"IDX header says {shape}, a shape no array can have", _REFETCH) from None


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
