"""Where a data set's files come from: a folder the user names, else a verified download into a per-user cache.

Two data sets, MNIST and Fashion-MNIST, with the same four file names, so each has its own
folder: ``--data`` / ``data_dir=`` names the folder of the set asked for; else its environment
variable (``DENOISE_STUDIO_DATA`` for MNIST, ``DENOISE_STUDIO_FASHION_MNIST_DATA`` for
Fashion-MNIST); else a system folder a package installs (Fashion-MNIST:
``/usr/share/datasets/fashion-mnist``, Debian's ``dataset-fashion-mnist``); else the per-user
cache, ``<cache>/denoise-studio/mnist`` or ``.../fashion-mnist``, filled by a download.

Downloads go through ``pooch`` (temp file, then rename) with our downloader: a progress bar, a
timeout for a silent server and an overall deadline for a trickling one.  The checksums are SHA-256
of the *decompressed* files (the compressed bytes differ between mirrors), computed without ever
inflating more than an MNIST file holds.  SIGTERM during a download (when nothing else handles it)
interrupts it like Ctrl-C, so no temporary file is left behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

from engine.data_files import user_cache_dir
from engine.data_sources import MNIST_FILES, SOURCES, DataSource, data_source, default_checksums
from engine.idx import MAX_IDX_BYTES, DatasetFileError, iter_gunzip

DEADLINE_SECONDS = 600.0
"""The longest one file's download may take: the largest (9.9 MB) at 17 KB/s.  A server trickling
slower ends with a clear error instead of hanging forever."""
STALL_SECONDS = 30.0
"""The longest wait for the next bytes (connecting included)."""


def cache_dir(name: str = "mnist") -> Path:
    """The per-user folder a data set's downloads are kept in (one folder per data set)."""
    return user_cache_dir() / data_source(name).cache_name


def find_file(folder: Path, stem: str) -> Path | None:
    """``stem.gz`` or plain ``stem`` in ``folder`` (also the ``stem.idx3-ubyte``-style dotted names).

    Anything of that name but a folder is found, a pipe, a device or a dangling link too: the
    reader then says what it is, rather than calling the file missing.
    """
    for name in (f"{stem}.gz", stem, stem.replace("-idx", ".idx") + ".gz", stem.replace("-idx", ".idx")):
        candidate = folder / name
        if os.path.lexists(candidate) and not candidate.is_dir():
            return candidate
    return None


def locate_mnist(
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
    base_url: str | None = None,
    progress: bool | object = True,
    checksums: dict[str, str] | None = None,
) -> dict[str, Path]:
    """Paths of the four MNIST files, keyed as in ``MNIST_FILES`` (``locate_data("mnist", ...)``)."""
    return locate_data(
        "mnist", data_dir, download=download, base_url=base_url, progress=progress, checksums=checksums
    )


def locate_data(
    name: str = "mnist",
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
    base_url: str | None = None,
    progress: bool | object = True,
    checksums: dict[str, str] | None = None,
    files: tuple[str, ...] | None = None,
) -> dict[str, Path]:
    """Paths of a data set's four files (or of ``files``, keys of ``MNIST_FILES``), keyed as in ``MNIST_FILES``.

    Looks in ``data_dir``, else the folder in the data set's environment variable, else a
    system folder holding all four files, else its user cache, downloading what the cache lacks
    (only when no folder was named).  ``checksums`` (stem -> SHA-256 of the decompressed file)
    default to the data set's own.
    """
    source = data_source(name)
    named = data_dir if data_dir is not None else os.environ.get(source.data_env) or None
    folder = Path(named).expanduser() if named else _installed_folder(source) or cache_dir(source.name)
    if named and not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else f"{source.title} folder not found"
        names = ", ".join(stem + ".gz" for stem in MNIST_FILES.values())
        raise DatasetFileError(
            folder,
            what,
            f"Name the folder that holds the four {source.title} files ({names})"
            + ("" if data_dir is not None else f", or unset {source.data_env} to download them into the cache"),
        )
    found: dict[str, Path] = {}
    for key, stem in MNIST_FILES.items():
        if files is not None and key not in files:
            continue
        path = find_file(folder, stem)
        if path is None:
            if named or not download:
                raise DatasetFileError(
                    folder / f"{stem}.gz",
                    f"{source.title} file missing",
                    f"Put {stem}.gz in {folder}" + ("" if named else " or allow the download"),
                )
            path = fetch(stem, folder, base_url=base_url, progress=progress, checksums=checksums, source=source)
        found[key] = path
    return found


def _installed_folder(source: DataSource) -> Path | None:
    """The first of the data set's system folders that holds all four files (a package installed them)."""
    for name in source.system_folders:
        folder = Path(name)
        if folder.is_dir() and all(find_file(folder, stem) for stem in MNIST_FILES.values()):
            return folder
    return None


def fetch(
    stem: str,
    folder: Path,
    *,
    base_url: str | None = None,
    progress: bool | object = True,
    checksums: dict[str, str] | None = None,
    source: DataSource | None = None,
    deadline: float = DEADLINE_SECONDS,
) -> Path:
    """Download ``stem.gz`` of ``source`` (default MNIST) into ``folder``, verify its decompressed SHA-256,
    then give it its name.

    The file is downloaded under a hidden staging name (pooch itself streams into a temp file)
    and renamed to ``stem.gz`` only once verified, so an interrupted or corrupted download never
    leaves a file that a later run would take for valid data.  ``deadline``: seconds the whole
    download may take.
    """
    import pooch  # imported here: only a first run without data needs it

    source = source or SOURCES["mnist"]
    url = (base_url or os.environ.get(source.url_env) or source.default_url).rstrip("/") + f"/{stem}.gz"
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetFileError(
            folder,
            f"cannot create the download folder ({exc.strerror or exc})",
            f"Fix its permissions, or put the four {source.title} .gz files in a folder and set {source.data_env}",
        ) from None
    final = folder / f"{stem}.gz"
    _remove_stale_downloads(folder, stem, ours=folder == cache_dir(source.name))
    staging = folder / f".{stem}.gz.{os.getpid()}.download"  # per process: two first runs may download at once
    staging.unlink(missing_ok=True)
    downloader = DeadlineDownloader(deadline=deadline, progress=progress)
    try:
        with _sigterm_interrupts():
            path = Path(pooch.retrieve(url, known_hash=None, fname=staging.name, path=folder, downloader=downloader))
    except Exception as exc:  # network errors come in many types (requests, OSError, ...)
        staging.unlink(missing_ok=True)
        local = _local_write_error(exc)
        if local is not None:  # the connection was fine: the file could not be stored
            raise DatasetFileError(
                folder,
                f"the download could not be saved here ({local.strerror or local})",
                f"Free some space in {folder} (or fix its permissions) and retry, or put the four {source.title} "
                f".gz files in a folder and set {source.data_env}",
            ) from None
        raise DatasetFileError(
            url,
            f"download failed ({_first_line(exc)})",
            f"Check the connection and retry, or put the four {source.title} .gz files in a folder "
            f"and set {source.data_env}",
        ) from None
    try:
        verify(path, stem, checksums, url=url, data_set=source)
        os.replace(path, final)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return final


STALE_DOWNLOAD_SECONDS = 3600
"""A staging file this old was left by a killed run (a live one is being written to)."""


def _remove_stale_downloads(folder: Path, stem: str, *, ours: bool) -> None:
    """Staging files of runs killed long ago, and in our own cache folder (``ours``) pooch's ``tmpXXXXXXXX`` files."""
    cutoff = time.time() - STALE_DOWNLOAD_SECONDS
    leftovers = [*folder.glob(f".{stem}.gz.*.download")]
    if ours:
        leftovers += [p for p in folder.glob("tmp*") if len(p.name) == 11]
    for leftover in leftovers:
        with contextlib.suppress(OSError):
            if leftover.is_file() and leftover.stat().st_mtime < cutoff:
                leftover.unlink()


class DownloadTooSlow(OSError):
    """The server sent the file slower than the deadline allows."""


class DeadlineDownloader:
    """A pooch downloader (``requests`` streaming) that gives up when the server stays silent for
    ``STALL_SECONDS`` or the whole file takes longer than ``deadline`` seconds."""

    def __init__(self, deadline: float = DEADLINE_SECONDS, progress: bool | object = True) -> None:
        self.deadline, self.progress = deadline, progress

    def __call__(self, url: str, output_file, pooch_obj=None, check_only: bool = False) -> None:
        import requests

        started = time.monotonic()
        wait = min(STALL_SECONDS, self.deadline)
        with requests.get(url, stream=True, timeout=(wait, wait)) as response:
            response.raise_for_status()
            total = int(response.headers.get("content-length") or 0)
            bar = self._bar(url, total)
            try:
                with open(output_file, "wb") as out:
                    for chunk in self._chunks(response):
                        out.write(chunk)
                        if bar is not None:
                            bar.update(len(chunk))
                        elapsed = time.monotonic() - started
                        if elapsed > self.deadline:
                            raise DownloadTooSlow(
                                f"the server sent {out.tell():,} of {total or '?'} bytes in {elapsed:.0f} s, "
                                f"slower than the {self.deadline:g} s allowed"
                            )
            finally:
                if bar is not None and bar is not self.progress:
                    bar.close()

    @staticmethod
    def _chunks(response) -> Iterator[bytes]:
        """The body as it arrives (each read returns whatever one receive brought, so the deadline is checked)."""
        read1 = getattr(response.raw, "read1", None)
        if read1 is None:  # an old urllib3
            yield from response.iter_content(chunk_size=1024)
            return
        while chunk := read1(65536, decode_content=True):
            yield chunk

    def _bar(self, url: str, total: int):
        if self.progress is True:
            from tqdm import tqdm

            return tqdm(total=total or None, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1], leave=True)
        if self.progress:
            self.progress.total = total
            return self.progress
        return None


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt for the ``with`` block (main thread, no handler of the app's own):
    the download's temporary file is then removed as it is for Ctrl-C, instead of left in the cache."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


_LOCAL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}
"""A full disk, a quota, a file size limit, a read-only or forbidden folder: the download's own file failed."""


def _local_write_error(exc: BaseException) -> OSError | None:
    """The error of writing the downloaded file, found in ``exc`` or what caused it; None for a network error."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _LOCAL_ERRNOS:
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def verify(
    path: Path,
    stem: str,
    checksums: dict[str, str] | None = None,
    *,
    url: str | None = None,
    data_set: DataSource | None = None,
) -> None:
    """Raise ``DatasetFileError`` unless the decompressed content of ``path`` has the expected SHA-256."""
    data_set = data_set or SOURCES["mnist"]
    expected = (checksums if checksums is not None else default_checksums(data_set.name))[stem]
    source = url or path
    import hashlib  # here, not at the top: loading OpenSSL costs the app's start ~4 ms

    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            if f.read(2) == b"\x1f\x8b":
                f.seek(0)
                for piece in iter_gunzip(f, MAX_IDX_BYTES):
                    digest.update(piece)
            else:
                f.seek(0)
                while piece := f.read(2**20):
                    digest.update(piece)
    except (OSError, EOFError, zlib.error, OverflowError) as exc:
        raise DatasetFileError(
            source, f"the download is damaged: it cannot be decompressed ({_first_line(exc)})", "Retry the download"
        ) from None
    digest = digest.hexdigest()
    if digest != expected:
        raise DatasetFileError(
            source,
            f"checksum mismatch (SHA-256 {digest[:12]}…, expected {expected[:12]}…): "
            f"the file is damaged or not {data_set.title}",
            f"Retry the download; if it fails again, set {data_set.url_env} to another {data_set.title} mirror "
            f"or put the files in a folder and set {data_set.data_env}",
        )
