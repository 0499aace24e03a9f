"""Reading ``.npz`` archives without trusting them: no pickle, every array's size checked before it is read.

An ``.npz`` is a zip of ``.npy`` members.  ``numpy.load`` would unpickle object arrays and read
whatever sizes a member claims; here each member's ``.npy`` header is read first and checked
(dtype, shape, byte count), and only then its data.  Every way a damaged archive can fail to
read becomes a ``ModelFileError`` that names the file.
"""

from __future__ import annotations

import contextlib
import math
import os
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

DAMAGED = "the file is damaged or incomplete (an interrupted save or download?)"


class ModelFileError(Exception):
    """A file that is not a valid Denoise Studio model; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


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


@contextlib.contextmanager
def open_npz(path: str | os.PathLike) -> Iterator[tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]]:
    """``(archive, {member name without .npy: ZipInfo})`` of a checked ``.npz``.

    Refuses what is not a zip of ``.npy`` members; any read error inside the ``with`` block
    (in this module or the caller's) becomes ``ModelFileError``.
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
            yield zf, members
    except ModelFileError:
        raise
    except _READ_ERRORS as exc:
        raise ModelFileError(path, f"{DAMAGED} ({reason(exc)})") from None


def read_array(
    path: Path,
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    key: str,
    *,
    max_bytes: int,
    shape: tuple[int, ...] | None = None,
    floating: bool = False,
) -> np.ndarray:
    """One ``.npy`` member, its header checked before its data is read.

    ``shape``: the shape it must have; ``floating``: a float array, returned as finite float32;
    ``max_bytes``: the most its data may hold.
    """
    with zf.open(info) as fp:
        got_shape, fortran, dtype = _read_npy_header(fp)
        if dtype.hasobject:
            raise ModelFileError(path, f"array {key} holds pickled Python objects, which are never loaded")
        if floating and (dtype.kind != "f" or dtype.itemsize > 8):
            raise ModelFileError(path, f"array {key} has dtype {dtype}, expected floating point (float32)")
        if shape is not None and tuple(got_shape) != shape:
            raise ModelFileError(path, f"array {key} has shape {tuple(got_shape)}, expected {shape}")
        nbytes = math.prod(got_shape) * dtype.itemsize
        if nbytes > max_bytes:
            raise ModelFileError(path, f"array {key} claims {nbytes} bytes, more than a model can hold")
        data = fp.read(nbytes)
        if len(data) != nbytes:
            raise ModelFileError(path, f"{DAMAGED}: array {key} is cut short")
        if fp.read(1):  # reading to the end also makes zipfile check the CRC
            raise ModelFileError(path, f"{DAMAGED}: array {key} has trailing bytes")
    array = np.frombuffer(data, dtype=dtype).reshape(got_shape, order="F" if fortran else "C")
    if floating:
        with np.errstate(over="ignore", invalid="ignore"):
            array = np.ascontiguousarray(array, dtype=np.float32)
        if not np.all(np.isfinite(array)):
            raise ModelFileError(path, f"array {key} holds NaN or infinite values (or values too large for float32)")
    return array


def reason(exc: BaseException) -> str:
    """The first line of an exception's message, for a one-line error."""
    text = str(exc).strip() or type(exc).__name__
    if "pickle" in text.lower():
        return "it holds pickled Python objects, which are never loaded"
    return text.splitlines()[0][:200]


def _read_npy_header(fp: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(fp)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(fp)
    raise ValueError(f"unsupported .npy version {version}")


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
        raise ModelFileError(path, f"cannot be read ({reason(exc)})") from None
    if path.is_dir():
        raise ModelFileError(path, "is a folder, not a model file")
    if not head:
        raise ModelFileError(path, "the file is empty (0 bytes); it is not a model (an interrupted save?)")
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        raise ModelFileError(path, "it holds a pickled Python object; pickles are never loaded")
    if head.startswith(b"PK"):
        if not zipfile.is_zipfile(path):
            raise ModelFileError(path, f"{DAMAGED}: the zip archive cannot be read")
        return
    raise ModelFileError(path, "not a Denoise Studio model file (.npz archive); did you pick the wrong file?")
