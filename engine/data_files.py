"""A data set's files known by their content: the official file for its role, another official file, or unknown.

Every file a run reads is checked against the SHA-256 of the official files' decompressed content
(``engine.download``'s tables, MNIST and Fashion-MNIST): the official file in its role is used;
an official file in another role (the test images named as the training images, Fashion-MNIST in
the MNIST folder) is refused with a message naming both; any other file is used with a one-line
note that it is not the official set.  Before anything is read, the file's IDX header must claim
no more items than the official file of its role holds (60,000 / 10,000), so memory stays bounded
whatever the folder holds.

Hashing the 47 MB training images costs ~0.1 s beside the ~0.45 s of reading them, so a file's
digest is kept in a small per-user cache (``digest_cache_path``), keyed by its path, size,
mtime, ctime and inode: a file opened again is not hashed again (``bench/data_check.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import numpy as np

from engine.atomic import atomic_write
from engine.data_sources import MNIST_FILES, SOURCES, DataSource, default_checksums
from engine.idx import DatasetFileError, idx_shape, parse_idx, read_idx_bytes
from engine.run_limits import MAX_TEST_IMAGES, MAX_TRAIN_IMAGES

OFFICIAL_COUNTS = {"train": MAX_TRAIN_IMAGES, "test": MAX_TEST_IMAGES}
"""Items (images or labels) in the official files of each split."""
CACHED_MIN_BYTES = 2**20
"""Files at least this large have their digest cached (a smaller one hashes in well under a millisecond)."""
CACHE_ENTRIES = 32
"""Digests kept (the most recent): four files a data set, a few folders."""
_CACHE_MAX_BYTES = 64 * 2**10
"""A cache file larger than this is not ours to read: it is ignored (and replaced)."""
_ROLE_WORDS = {"train_images": "training images", "train_labels": "training labels",
               "test_images": "test images", "test_labels": "test labels"}  # fmt: skip


def read_data_file(path: str | os.PathLike, source: DataSource, key: str) -> tuple[np.ndarray, bool]:
    """The array of one of a data set's files (``key`` as in ``MNIST_FILES``), and whether it is the official file.

    Returns (uint8 array of the shape its IDX header gives, official).
    Raises ``DatasetFileError`` for a file whose header claims more items than the official file
    of its role holds, and for an official file of another role or data set (naming both).
    """
    path = Path(path)
    split = key.split("_")[0]
    cached = _cached_digest(path)
    if cached is not None:
        _refuse_other_official(path, source, key, cached)
    _check_count(path, source, key, idx_shape(path))
    data = read_idx_bytes(path)
    digest = cached or _sha256(data)
    array = parse_idx(data, path)
    if len(array) > OFFICIAL_COUNTS[split]:  # the file changed since its header was read
        _check_count(path, source, key, array.shape)
    if cached is None:
        _refuse_other_official(path, source, key, digest)
        _remember_digest(path, digest)
    return array, digest == default_checksums(source.name)[MNIST_FILES[key]]


def unofficial_note(source: DataSource, paths: list[Path]) -> str:
    """One line saying that these files of ``source`` are not the official ones, and are used all the same."""
    folders = sorted({str(path.parent) for path in paths})
    names = ", ".join(path.name for path in paths)
    where = folders[0] if len(folders) == 1 else "its folders"
    return (
        f"{where}: not the official {source.title} files ({names}: their content differs from the published "
        "checksums); using them as they are"
    )


def digest_cache_path() -> Path:
    """Where the data files' digests are kept: ``<user cache>/denoise-studio/data-digests.json``."""
    return user_cache_dir() / "data-digests.json"


def user_cache_dir() -> Path:
    """``<user cache>/denoise-studio`` (platformdirs, imported here: its import costs the app's start ~3 ms)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("denoise-studio"))


def _sha256(data: bytes) -> str:
    import hashlib  # here, not at the top: loading OpenSSL costs the app's start ~4 ms

    return hashlib.sha256(data).hexdigest()


def _official_files() -> dict[str, tuple[DataSource, str]]:
    """SHA-256 of decompressed content -> (its data set, its key in ``MNIST_FILES``), for every official file."""
    by_stem = {stem: key for key, stem in MNIST_FILES.items()}
    return {
        digest: (source, by_stem[stem])
        for source in SOURCES.values()
        for stem, digest in default_checksums(source.name).items()
    }


def _refuse_other_official(path: Path, source: DataSource, key: str, digest: str) -> None:
    known = _official_files().get(digest)
    if known is None or known == (source, key):
        return
    other, other_key = known
    other_text = f"{other.title} {_ROLE_WORDS[other_key]}" if other != source else _ROLE_WORDS[other_key]
    raise DatasetFileError(
        path,
        f"this is the official {other_text} file ({MNIST_FILES[other_key]}), not the {source.title} "
        f"{_ROLE_WORDS[key]} ({MNIST_FILES[key]})",
        f"Put the {source.title} {_ROLE_WORDS[key]} file ({MNIST_FILES[key]}.gz) under this name",
    )


def _check_count(path: Path, source: DataSource, key: str, shape: tuple[int, ...]) -> None:
    """Refuse a header claiming more items than the official file of this role holds, naming the role it fits."""
    split = key.split("_")[0]
    most = OFFICIAL_COUNTS[split]
    if not shape or shape[0] <= most:
        return
    twin = key.replace("test", "train")
    hint = f" (as many as the {_ROLE_WORDS[twin]}: is it that file?)" if shape[0] == OFFICIAL_COUNTS["train"] else ""
    raise DatasetFileError(
        path,
        f"its IDX header claims {shape[0]:,} items, more than the {most:,} of {source.title}'s {_ROLE_WORDS[key]}"
        + hint,
        f"Put the {source.title} {_ROLE_WORDS[key]} file ({MNIST_FILES[key]}.gz) under this name",
    )


def _file_key(path: Path) -> tuple[str, list[int]] | None:
    """(the resolved path, [size, mtime, ctime, inode, device]) of a file worth caching, else None."""
    try:
        resolved = path.resolve()
        st = os.stat(resolved)
    except OSError:
        return None
    if st.st_size < CACHED_MIN_BYTES:
        return None
    return str(resolved), [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _read_cache() -> dict:
    """The cache's entries ({path: [size, mtime, ctime, inode, device, digest]}); empty when absent or unreadable."""
    try:
        with open(digest_cache_path(), "rb") as f:
            text = f.read(_CACHE_MAX_BYTES + 1)
        entries = json.loads(text) if len(text) <= _CACHE_MAX_BYTES else {}
    except (OSError, ValueError, RecursionError):
        return {}
    return entries if isinstance(entries, dict) else {}


def _cached_digest(path: Path) -> str | None:
    key = _file_key(path)
    if key is None:
        return None
    entry = _read_cache().get(key[0])
    if isinstance(entry, list) and len(entry) == 6 and entry[:5] == key[1] and isinstance(entry[5], str):
        return entry[5]
    return None


def _remember_digest(path: Path, digest: str) -> None:
    """Keep the digest (newest last, at most ``CACHE_ENTRIES``); a cache that cannot be written is no failure."""
    key = _file_key(path)
    if key is None:
        return
    entries = {k: v for k, v in _read_cache().items() if k != key[0]}
    entries[key[0]] = [*key[1], digest]
    kept = dict(list(entries.items())[-CACHE_ENTRIES:])
    with contextlib.suppress(OSError):
        atomic_write(digest_cache_path(), lambda f: f.write(json.dumps(kept).encode()))
