"""Where MNIST comes from: a folder the user names, else a verified download into a per-user cache.

Downloads go through ``pooch`` (temp file, then rename) with our downloader: a progress bar, a
timeout for a silent server and an overall deadline for a trickling one.  The checksums are SHA-256
of the *decompressed* files (the compressed bytes differ between mirrors), computed without ever
inflating more than an MNIST file holds.  SIGTERM during a download (when nothing else handles it)
interrupts it like Ctrl-C, so no temporary file is left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import platformdirs

from engine.idx import MAX_IDX_BYTES, DatasetFileError, iter_gunzip

DATA_ENV = "DENOISE_STUDIO_DATA"
URL_ENV = "DENOISE_STUDIO_MNIST_URL"
DEFAULT_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
DEADLINE_SECONDS = 600.0
"""The longest one file's download may take: the largest (9.9 MB) at 17 KB/s.  A server trickling
slower ends with a clear error instead of hanging forever."""
STALL_SECONDS = 30.0
"""The longest wait for the next bytes (connecting included)."""

MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


def cache_dir() -> Path:
    """The per-user folder downloads are kept in."""
    return Path(platformdirs.user_cache_dir("denoise-studio")) / "mnist"


def find_file(folder: Path, stem: str) -> Path | None:
    """``stem.gz`` or plain ``stem`` in ``folder`` (also the ``stem.idx3-ubyte``-style dotted names)."""
    for name in (f"{stem}.gz", stem, stem.replace("-idx", ".idx") + ".gz", stem.replace("-idx", ".idx")):
        candidate = folder / name
        if candidate.is_file():
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
    """Paths of the four MNIST files, keyed as in ``MNIST_FILES``.

    Looks in ``data_dir``, else ``$DENOISE_STUDIO_DATA``, else the user cache, downloading
    what the cache lacks (only when no folder was named).  ``checksums`` (stem -> SHA-256 of
    the decompressed file) defaults to ``MNIST_SHA256``.
    """
    named = data_dir if data_dir is not None else os.environ.get(DATA_ENV) or None
    folder = Path(named).expanduser() if named else cache_dir()
    if named and not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "MNIST folder not found"
        names = ", ".join(stem + ".gz" for stem in MNIST_FILES.values())
        raise DatasetFileError(
            folder,
            what,
            f"Name the folder that holds the four MNIST files ({names})"
            + ("" if data_dir is not None else f", or unset {DATA_ENV} to download them into the cache"),
        )
    found: dict[str, Path] = {}
    for key, stem in MNIST_FILES.items():
        path = find_file(folder, stem)
        if path is None:
            if named or not download:
                raise DatasetFileError(
                    folder / f"{stem}.gz",
                    "MNIST file missing",
                    f"Put {stem}.gz in {folder}" + ("" if named else " or allow the download"),
                )
            path = fetch(stem, folder, base_url=base_url, progress=progress, checksums=checksums)
        found[key] = path
    return found


def fetch(
    stem: str,
    folder: Path,
    *,
    base_url: str | None = None,
    progress: bool | object = True,
    checksums: dict[str, str] | None = None,
    deadline: float = DEADLINE_SECONDS,
) -> Path:
    """Download ``stem.gz`` into ``folder``, verify its decompressed SHA-256, then give it its name.

    The file is downloaded under a hidden staging name (pooch itself streams into a temp file)
    and renamed to ``stem.gz`` only once verified, so an interrupted or corrupted download never
    leaves a file that a later run would take for valid data.  ``deadline``: seconds the whole
    download may take.
    """
    import pooch  # imported here: only a first run without data needs it

    url = (base_url or os.environ.get(URL_ENV) or DEFAULT_URL).rstrip("/") + f"/{stem}.gz"
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetFileError(
            folder,
            f"cannot create the download folder ({exc.strerror or exc})",
            f"Fix its permissions, or put the four MNIST .gz files in a folder and set {DATA_ENV}",
        ) from None
    final = folder / f"{stem}.gz"
    _remove_stale_downloads(folder, stem)
    staging = folder / f".{stem}.gz.{os.getpid()}.download"  # per process: two first runs may download at once
    staging.unlink(missing_ok=True)
    downloader = DeadlineDownloader(deadline=deadline, progress=progress)
    try:
        with _sigterm_interrupts():
            path = Path(pooch.retrieve(url, known_hash=None, fname=staging.name, path=folder, downloader=downloader))
    except Exception as exc:  # network errors come in many types (requests, OSError, ...)
        staging.unlink(missing_ok=True)
        raise DatasetFileError(
            url,
            f"download failed ({_first_line(exc)})",
            f"Check the connection and retry, or put the four MNIST .gz files in a folder and set {DATA_ENV}",
        ) from None
    try:
        verify(path, stem, checksums, url=url)
        os.replace(path, final)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return final


STALE_DOWNLOAD_SECONDS = 3600
"""A staging file this old was left by a killed run (a live one is being written to)."""


def _remove_stale_downloads(folder: Path, stem: str) -> None:
    """Staging files of runs killed long ago, and pooch's ``tmpXXXXXXXX`` files (only ours live in the cache)."""
    cutoff = time.time() - STALE_DOWNLOAD_SECONDS
    leftovers = [*folder.glob(f".{stem}.gz.*.download")]
    if folder == cache_dir():
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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def verify(path: Path, stem: str, checksums: dict[str, str] | None = None, *, url: str | None = None) -> None:
    """Raise ``DatasetFileError`` unless the decompressed content of ``path`` has the expected SHA-256."""
    expected = (checksums if checksums is not None else MNIST_SHA256)[stem]
    source = url or path
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
            f"checksum mismatch (SHA-256 {digest[:12]}…, expected {expected[:12]}…): the file is damaged or not MNIST",
            f"Retry the download; if it fails again, set {URL_ENV} to another MNIST mirror "
            f"or put the files in a folder and set {DATA_ENV}",
        )
