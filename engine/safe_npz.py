"""Reading ``.npz`` archives without trusting them: no pickle, and no size read before it is checked.

An ``.npz`` is a zip of ``.npy`` members.  ``numpy.load`` would unpickle object arrays and inflate
whatever a member claims; here nothing is decompressed before its size has been checked:

- the archive: at most ``max_members`` entries (counted in the zip's end record, before the
  central directory is parsed), no two of one name (zip readers differ on which one counts),
  only the compression numpy writes (stored or deflate, whose output zipfile bounds by the
  declared size; bzip2/lzma inflate a whole read at once), no compressed data claimed twice,
  and in all it inflates to at most ``MAX_INFLATION`` times its size on disk plus
  ``INFLATION_ALLOWANCE``;
- each member: its ``.npy`` header (at most ``NPY_HEADER_MAX`` bytes) with no negative dimension,
  then the data size that header implies within what the caller says the array may hold and
  equal to the size the zip entry declares, before the data is read.

Every way a damaged archive can fail to read becomes a ``ModelFileError`` that names the file.
Running out of memory is not damage: ``MemoryError`` is left to the caller to report as such.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

DAMAGED = "the file is damaged or incomplete (an interrupted save or download?)"
NPY_HEADER_MAX = 4096
"""Bytes of a member's ``.npy`` preamble and header dict (numpy writes 128 for the arrays of a model)."""
MAX_INFLATION = 32
INFLATION_ALLOWANCE = 2**20
"""An archive may inflate to at most ``MAX_INFLATION`` x its size on disk + this.  Denoise Studio
stores arrays uncompressed (ratio 1); ``savez_compressed`` shrinks trained float weights by less
than 2x; a file inflating 1000x is a zip bomb, not a model."""
_CENTRAL_ENTRY_MAX = 512
"""Bytes of one central-directory entry of an archive we accept (46 fixed + a short name + extras)."""


class ModelFileError(Exception):
    """A file that is not a valid Denoise Studio model; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{short_path(self.path)}: {problem}")


def short_path(path: str, most: int = 300) -> str:
    """``path`` for a one-line message: in full up to ``most`` characters, else its start and end around a "…"."""
    return path if len(path) <= most else f"{path[: most // 2]}…{path[-(most // 2) + 1 :]}"


# Everything reading a damaged zip / .npy member may raise: all become ModelFileError (never MemoryError).
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
    SyntaxError,  # a .npy header that is not a Python literal
)


@contextlib.contextmanager
def open_npz(
    path: str | os.PathLike, *, max_members: int
) -> Iterator[tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]]:
    """``(archive, {member name without .npy: ZipInfo})`` of a checked ``.npz``.

    Refuses what is not a regular file holding a zip of at most ``max_members`` ``.npy`` members
    within the inflation bound; any read error inside the ``with`` block (in this module or the
    caller's) becomes ``ModelFileError``.
    """
    path = Path(path)
    f = _open_regular(path)
    with f:
        size = os.fstat(f.fileno()).st_size
        _sniff(path, f)
        try:
            _check_member_count(path, f, size, max_members)
            f.seek(0)
            with zipfile.ZipFile(f) as zf:
                members = _checked_members(path, zf, size)
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
    """One ``.npy`` member, its header and sizes checked before its data is read.

    ``max_bytes``: the most its data may hold; ``shape``: the shape it must have;
    ``floating``: a float array, returned as finite float32.
    """
    with zf.open(info) as fp:
        got_shape, fortran, dtype, header_size = _read_npy_header(fp)
        if any(d < 0 for d in got_shape):
            raise ModelFileError(path, f"array {key} declares a negative dimension {tuple(got_shape)}")
        if dtype.hasobject:
            raise ModelFileError(path, f"array {key} holds pickled Python objects, which are never loaded")
        if floating and (dtype.kind != "f" or dtype.itemsize > 8):
            raise ModelFileError(path, f"array {key} has dtype {dtype}, expected floating point (float32)")
        if shape is not None and tuple(got_shape) != shape:
            raise ModelFileError(path, f"array {key} has shape {tuple(got_shape)}, expected {shape}")
        nbytes = math.prod(got_shape) * dtype.itemsize
        if nbytes > max_bytes:
            raise ModelFileError(path, f"array {key} claims {nbytes:,} bytes, more than the model can hold")
        if nbytes != info.file_size - header_size:  # with the check above: the entry holds no more than max_bytes
            held = info.file_size - header_size
            raise ModelFileError(
                path, f"{DAMAGED}: array {key} declares {nbytes:,} bytes but its entry holds {held:,}"
            )
        data = fp.read(nbytes)  # to the entry's last byte, where zipfile checks the CRC
        if len(data) != nbytes:
            raise ModelFileError(path, f"{DAMAGED}: array {key} is cut short")
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


def _open_regular(path: Path) -> IO[bytes]:
    """The file opened for reading, refused unless it is a regular file (a FIFO would block, a device never ends)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise ModelFileError(path, "file not found") from None
    except IsADirectoryError:
        raise ModelFileError(path, "is a folder, not a model file") from None
    except PermissionError:
        raise ModelFileError(path, "cannot be read (permission denied)") from None
    except OSError as exc:
        raise ModelFileError(path, f"cannot be read ({reason(exc)})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "a folder" if stat.S_ISDIR(mode) else "a device, pipe or socket"
        raise ModelFileError(path, f"is {what}, not a model file")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _sniff(path: Path, f: IO[bytes]) -> None:
    """Refuse early, with a precise message, what is not a zip archive at all."""
    try:
        head = f.read(8)
        if head.startswith(b"\x93NUMPY"):
            f.seek(0)
            try:
                _, _, dtype, _ = _read_npy_header(f)
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
    except OSError as exc:
        raise ModelFileError(path, f"cannot be read ({reason(exc)})") from None
    if not head:
        raise ModelFileError(path, "the file is empty (0 bytes); it is not a model (an interrupted save?)")
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        raise ModelFileError(path, "it holds a pickled Python object; pickles are never loaded")
    if head.startswith(b"PK"):
        return
    raise ModelFileError(path, "not a Denoise Studio model file (.npz archive); did you pick the wrong file?")


def _check_member_count(path: Path, f: IO[bytes], size: int, max_members: int) -> None:
    """Read the zip's end record and refuse an archive listing too many entries, before zipfile parses them."""
    tail_size = min(size, 22 + 65535)  # the end record and an archive comment of at most 64 KiB
    f.seek(size - tail_size)
    tail = f.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise ModelFileError(path, f"{DAMAGED}: the zip archive cannot be read")
    entries, cd_size = struct.unpack("<HL", tail[at + 10 : at + 16])
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF:  # ZIP64: the counts are in the ZIP64 end record
        locator = tail[at - 20 : at] if at >= 20 else b""
        if not locator.startswith(b"PK\x06\x07"):
            raise ModelFileError(path, f"{DAMAGED}: the zip archive cannot be read")
        (offset,) = struct.unpack("<Q", locator[8:16])
        f.seek(offset)
        record = f.read(56)
        if len(record) < 56 or not record.startswith(b"PK\x06\x06"):
            raise ModelFileError(path, f"{DAMAGED}: the zip archive cannot be read")
        entries, cd_size = struct.unpack("<QQ", record[32:48])
    if entries > max_members or cd_size > max_members * _CENTRAL_ENTRY_MAX:
        raise ModelFileError(
            path, f"the archive lists {entries:,} entries ({cd_size:,} bytes), more than a model of this app has"
        )


def _checked_members(path: Path, zf: zipfile.ZipFile, size: int) -> dict[str, zipfile.ZipInfo]:
    members: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        if not info.filename.endswith(".npy") or info.is_dir():
            raise ModelFileError(path, f"unexpected entry {info.filename!r:.80} in the archive; not a model file")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            name, method = info.filename[:-4], info.compress_type
            raise ModelFileError(path, f"array {name!r:.80} uses a compression numpy never writes ({method})")
        if info.flag_bits & 0x1:
            raise ModelFileError(path, f"array {info.filename[:-4]!r:.80} is encrypted")
        name = info.filename[: -len(".npy")]
        if name in members:  # which copy counts would depend on the reader: none does
            raise ModelFileError(
                path, f"the archive holds two entries named {info.filename!r:.80}; numpy never writes that"
            )
        members[name] = info
    compressed = sum(info.compress_size for info in members.values())
    if compressed > size:
        raise ModelFileError(path, f"{DAMAGED}: its entries claim {compressed:,} bytes of a {size:,}-byte file")
    inflated = sum(info.file_size for info in members.values())
    limit = MAX_INFLATION * size + INFLATION_ALLOWANCE
    if inflated > limit:
        raise ModelFileError(
            path,
            f"it would inflate to {inflated:,} bytes, more than {MAX_INFLATION} times its size on disk: "
            "not a file Denoise Studio writes (a zip bomb?)",
        )
    return members


def _read_npy_header(fp: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """(shape, fortran order, dtype, bytes read) from a ``.npy`` preamble, its header length checked before
    the header is read."""
    magic = fp.read(8)
    if len(magic) < 8 or not magic.startswith(b"\x93NUMPY"):
        raise ValueError("not a .npy array (bad magic)")
    version = (magic[6], magic[7])
    if version == (1, 0):
        raw_length = fp.read(2)
        (length,) = struct.unpack("<H", raw_length)
    elif version in ((2, 0), (3, 0)):
        raw_length = fp.read(4)
        (length,) = struct.unpack("<I", raw_length)
    else:
        raise ValueError(f"unsupported .npy version {version}")
    if length > NPY_HEADER_MAX:
        raise ValueError(f".npy header of {length:,} bytes, more than {NPY_HEADER_MAX}")
    header = fp.read(length)
    if len(header) != length:
        raise EOFError(".npy header cut short")
    buffer = io.BytesIO(magic + raw_length + header)
    np.lib.format.read_magic(buffer)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(buffer)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(buffer)
    else:
        raise ValueError("unsupported .npy version (3, 0)")
    return shape, fortran, dtype, len(magic) + len(raw_length) + length
