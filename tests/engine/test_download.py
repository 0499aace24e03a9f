"""The verified download, against a local ``http.server`` on 127.0.0.1 serving tiny IDX files (never the internet).

The real SHA-256 table cannot match tiny files, so the tests inject their own table (the
``checksums`` parameter, or by patching ``engine.data_sources.MNIST_SHA256``).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from engine import data_sources, download
from engine.data_sources import DATA_ENV, MNIST_FILES, URL_ENV
from engine.dataset import Dataset
from engine.download import find_file, locate_mnist
from engine.idx import DatasetFileError, write_idx

SIZES = {"train": 24, "test": 8}


def _tiny_files(folder: Path) -> dict[str, bytes]:
    """stem.gz -> gzip bytes of small random MNIST-shaped IDX files."""
    rng = np.random.default_rng(7)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in SIZES.items():
        write_idx(folder / f"{MNIST_FILES[f'{split}_images']}.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(folder / f"{MNIST_FILES[f'{split}_labels']}.gz", rng.integers(0, 10, n, dtype=np.uint8))
    return {p.name: p.read_bytes() for p in folder.iterdir()}


class MnistServer:
    """Serves ``files`` by name; ``plan[name]`` is a queue of behaviours for the next requests."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = dict(files)
        self.plan: dict[str, list[str]] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.rsplit("/", 1)[-1]
                server.requests.append(name)
                body = server.files.get(name)
                queue = server.plan.get(name) or []
                how = queue.pop(0) if queue else "ok"
                if body is None or how == "404":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if how == "trickle":  # a byte every 50 ms until the client gives up
                    try:
                        for i in range(len(body)):
                            self.wfile.write(body[i : i + 1])
                            self.wfile.flush()
                            time.sleep(0.05)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                if how == "cut":  # promise the whole body, send half, hang up
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/mnist/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def tiny(tmp_path) -> dict[str, bytes]:
    return _tiny_files(tmp_path / "source")


@pytest.fixture
def table(tiny) -> dict[str, str]:
    """The checksum table of the tiny files (SHA-256 of the decompressed content, as for real MNIST)."""
    return {name.removesuffix(".gz"): hashlib.sha256(gzip.decompress(data)).hexdigest() for name, data in tiny.items()}


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty per-user cache; no data folder named; local addresses bypass any proxy."""
    folder = tmp_path / "cache" / "mnist"
    monkeypatch.setattr(download, "cache_dir", lambda name="mnist": folder)
    monkeypatch.delenv(DATA_ENV, raising=False)
    monkeypatch.delenv(URL_ENV, raising=False)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return folder


@pytest.fixture
def server(tiny):
    with MnistServer(tiny) as srv:
        yield srv


def _valid_looking(folder: Path) -> list[Path]:
    """Files a later run would pick up as MNIST data."""
    if not folder.is_dir():
        return []
    return [p for stem in MNIST_FILES.values() if (p := find_file(folder, stem)) is not None]


def test_good_download_verifies_and_loads(cache, server, table, tiny, monkeypatch):
    monkeypatch.setattr(data_sources, "MNIST_SHA256", table)
    monkeypatch.setenv(URL_ENV, server.url)
    data = Dataset(train_size=SIZES["train"], test_size=SIZES["test"], batch_size=8, progress=False)
    assert sorted(server.requests) == sorted(tiny)
    assert sorted(p.name for p in cache.iterdir()) == sorted(tiny)  # no staging or temp files left
    for name, body in tiny.items():
        assert (cache / name).read_bytes() == body
    served = np.frombuffer(gzip.decompress(tiny[MNIST_FILES["train_images"] + ".gz"]), np.uint8, offset=16)
    np.testing.assert_array_equal(data.train_u8.ravel(), served)

    Dataset(train_size=8, test_size=8, batch_size=8, progress=False)  # second run: from the cache
    assert len(server.requests) == len(tiny)


def test_checksums_can_be_passed_in(cache, server, table):
    paths = locate_mnist(base_url=server.url, progress=False, checksums=table)
    assert {p.name for p in paths.values()} == {f"{stem}.gz" for stem in MNIST_FILES.values()}


def test_the_real_checksums_reject_other_files(cache, server):
    with pytest.raises(DatasetFileError) as info:
        locate_mnist(base_url=server.url, progress=False)
    assert "checksum mismatch" in info.value.problem
    assert server.url in info.value.path
    assert "Retry" in info.value.fix
    assert _valid_looking(cache) == []
    assert list(cache.iterdir()) == []


@pytest.mark.parametrize("damage", ["other-content", "bit-flip", "not-gzip", "truncated-gzip"])
def test_a_corrupted_served_file_is_rejected_and_leaves_nothing_valid_looking(cache, server, table, damage):
    name = MNIST_FILES["train_labels"] + ".gz"
    good = server.files[name]
    if damage == "other-content":
        bad = gzip.compress(gzip.decompress(good)[:-1] + b"\x09")
    elif damage == "bit-flip":
        raw = bytearray(gzip.decompress(good))
        raw[20] ^= 0x01
        bad = gzip.compress(bytes(raw))
    elif damage == "not-gzip":
        bad = b"<html><body>Access denied</body></html>"
    else:
        bad = good[: len(good) - 9]
    server.files[name] = bad
    with pytest.raises(DatasetFileError) as info:
        locate_mnist(base_url=server.url, progress=False, checksums=table)
    assert name in info.value.path
    assert "checksum mismatch" in info.value.problem or "damaged" in info.value.problem
    assert find_file(cache, MNIST_FILES["train_labels"]) is None
    # a later run that may not download finds the file missing, never a bad file passing as valid
    with pytest.raises(DatasetFileError, match="missing"):
        locate_mnist(download=False, progress=False)
    assert sorted(p.name for p in cache.iterdir()) == sorted(p.name for p in _valid_looking(cache))

    server.files[name] = good  # the mirror is fixed: a retry succeeds
    paths = locate_mnist(base_url=server.url, progress=False, checksums=table)
    assert paths["train_labels"].read_bytes() == good


def test_an_interrupted_download_leaves_nothing_valid_looking_and_a_retry_succeeds(cache, server, table):
    name = MNIST_FILES["train_images"] + ".gz"
    server.plan[name] = ["cut"]
    with pytest.raises(DatasetFileError) as info:
        locate_mnist(base_url=server.url, progress=False, checksums=table)
    assert "download failed" in info.value.problem
    assert name in info.value.path
    assert "retry" in info.value.fix
    assert find_file(cache, MNIST_FILES["train_images"]) is None
    assert [p.name for p in cache.iterdir() if p.name.startswith(".") or p.name.startswith("tmp")] == []

    paths = locate_mnist(base_url=server.url, progress=False, checksums=table)
    assert server.requests.count(name) == 2
    assert paths["train_images"].read_bytes() == server.files[name]


def test_a_missing_file_on_the_server_names_the_address(cache, server, table):
    server.plan[MNIST_FILES["test_images"] + ".gz"] = ["404"]
    with pytest.raises(DatasetFileError) as info:
        locate_mnist(base_url=server.url, progress=False, checksums=table)
    assert info.value.path == server.url + MNIST_FILES["test_images"] + ".gz"
    assert "404" in info.value.problem


def test_no_server_at_all_is_a_clear_error(cache, table):
    with MnistServer({}) as srv:
        url = srv.url
    with pytest.raises(DatasetFileError, match="download failed") as info:
        locate_mnist(base_url=url, progress=False, checksums=table)
    assert "connection" in info.value.fix


def test_staging_files_are_never_trusted_and_stale_ones_are_removed(cache, server, table):
    cache.mkdir(parents=True)
    stem = MNIST_FILES["train_images"]
    own = cache / f".{stem}.gz.{os.getpid()}.download"  # this process's, left by an interrupted call
    stale = cache / f".{stem}.gz.12345.download"  # a run killed long ago
    live = cache / f".{stem}.gz.23456.download"  # another process downloading right now
    for leftover in (own, stale, live):
        leftover.write_bytes(b"left by a killed run")
    long_ago = time.time() - download.STALE_DOWNLOAD_SECONDS - 60
    os.utime(stale, (long_ago, long_ago))
    paths = locate_mnist(base_url=server.url, progress=False, checksums=table)
    assert paths["train_images"].read_bytes() == server.files[f"{stem}.gz"]
    assert not own.exists() and not stale.exists()
    assert live.exists()
    assert find_file(cache, stem) == paths["train_images"]


def test_interrupted_check_removes_the_unverified_download(cache, server, table, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(download, "verify", interrupted)
    with pytest.raises(KeyboardInterrupt):
        locate_mnist(base_url=server.url, progress=False, checksums=table)
    assert list(cache.iterdir()) == []


def test_no_download_allowed_and_an_empty_cache(cache):
    with pytest.raises(DatasetFileError) as info:
        locate_mnist(download=False, progress=False)
    assert "missing" in info.value.problem
    assert "allow the download" in info.value.fix


def test_a_cache_folder_that_cannot_be_created(tmp_path, cache, server, table, monkeypatch):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache folder should go")
    monkeypatch.setattr(download, "cache_dir", lambda name="mnist": blocker / "mnist")
    with pytest.raises(DatasetFileError) as info:
        locate_mnist(base_url=server.url, progress=False, checksums=table)
    assert info.value.path == str(blocker / "mnist")
    assert "cannot create the download folder" in info.value.problem
    assert DATA_ENV in info.value.fix


def test_a_trickling_server_ends_at_the_deadline_with_a_clear_error(cache, server, table):
    name = MNIST_FILES["train_images"] + ".gz"
    server.plan[name] = ["trickle"]
    started = time.monotonic()
    with pytest.raises(DatasetFileError) as info:
        download.fetch(MNIST_FILES["train_images"], cache, base_url=server.url, progress=False, checksums=table,
                       deadline=0.5)  # fmt: skip
    assert time.monotonic() - started < 30  # not the hours a byte every 50 ms would take
    assert "download failed" in info.value.problem and "slower than the 0.5 s allowed" in info.value.problem
    assert name in info.value.path
    assert list(cache.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="sends SIGTERM")
def test_sigterm_during_a_download_leaves_nothing_in_the_cache(cache, server, table):
    server.plan[MNIST_FILES["train_images"] + ".gz"] = ["trickle"]
    code = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from engine import download
        folder = Path(sys.argv[1])
        download.cache_dir = lambda name="mnist": folder
        try:
            download.locate_mnist(base_url=sys.argv[2], progress=False, checksums=eval(sys.argv[3]))
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            sys.exit(1)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", code, str(cache), server.url, repr(table)], env=env,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while not (cache.is_dir() and list(cache.iterdir())):  # pooch's temporary file is being written
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() else "timeout"
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "interrupted" in err, err
    assert list(cache.iterdir()) == []


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="POSIX file size limits")
def test_a_cache_with_no_room_says_so_not_check_the_connection(cache, server, table):
    """Issue 33 (11): the download's file cannot be written (a file size limit: what a full disk looks like to it)."""
    code = textwrap.dedent(
        """
        import resource, signal, sys
        from pathlib import Path
        from engine import download
        from engine.idx import DatasetFileError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))
        folder = Path(sys.argv[1])
        download.cache_dir = lambda name="mnist": folder
        try:
            download.locate_mnist(base_url=sys.argv[2], progress=False, checksums=eval(sys.argv[3]))
        except DatasetFileError as exc:
            print("PROBLEM", exc.problem, "FIX", exc.fix, file=sys.stderr)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run([sys.executable, "-c", code, str(cache), server.url, repr(table)], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert "PROBLEM the download could not be saved here (File too large)" in proc.stderr, proc.stderr
    assert "Check the connection" not in proc.stderr and "Free some space" in proc.stderr
    assert not _valid_looking(cache)
