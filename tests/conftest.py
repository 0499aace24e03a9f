"""Shared fixtures: tiny IDX datasets made in the test, the real MNIST folder when present, a runs database
of the test's own; the user's cache folder is one of the session's own."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

from engine.data_sources import MNIST_FILES
from engine.idx import write_idx

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display on CI or a headless machine
RUNS_ENV = "DENOISE_STUDIO_RUNS"
# Set before any test runs, so nothing in the suite (the app's Training tab, a CLI in a subprocess) ever records
# into the user's runs database; each test then gets a file of its own (``runs_db``).
_SESSION_RUNS = tempfile.mkdtemp(prefix="denoise-studio-tests-")
os.environ[RUNS_ENV] = str(Path(_SESSION_RUNS) / "runs.db")
# Likewise the per-user cache (platformdirs reads XDG_CACHE_HOME on Linux): the data files' digests and downloads go
# there, never into the user's own ~/.cache/denoise-studio.
os.environ["XDG_CACHE_HOME"] = str(Path(_SESSION_RUNS) / "cache")
# And the per-user data folder (XDG_DATA_HOME): the app's kept models (``gui.recovery``), each test's own (``kept``).
os.environ["XDG_DATA_HOME"] = str(Path(_SESSION_RUNS) / "data")
atexit.register(shutil.rmtree, _SESSION_RUNS, ignore_errors=True)

REAL_DATA_ENV = "DENOISE_STUDIO_DATA"
REAL_DATA_DIR = os.environ.get(REAL_DATA_ENV)  # read before any test monkeypatches it
FASHION_ENV = "DENOISE_STUDIO_FASHION_MNIST_DATA"
REAL_FASHION_DIR = os.environ.get(FASHION_ENV)


def make_tiny_mnist(folder: Path, n_train: int = 64, n_test: int = 16, seed: int = 0, gz: bool = True) -> Path:
    """Write the four MNIST files with random digit-like images (blobs) into ``folder``."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    for split, n in (("train", n_train), ("test", n_test)):
        images = np.zeros((n, 28, 28), np.uint8)
        for img in images:
            r0, c0 = rng.integers(4, 14, size=2)
            img[r0 : r0 + rng.integers(6, 12), c0 : c0 + rng.integers(3, 10)] = rng.integers(128, 256)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        write_idx(folder / (MNIST_FILES[f"{split}_images"] + suffix), images)
        write_idx(folder / (MNIST_FILES[f"{split}_labels"] + suffix), labels)
    return folder


@pytest.fixture(autouse=True)
def runs_db(tmp_path_factory, monkeypatch) -> Path:
    """The runs database of this test (``$DENOISE_STUDIO_RUNS``), in a folder of its own; not created until used."""
    path = tmp_path_factory.mktemp("runs") / "runs.db"
    monkeypatch.setenv(RUNS_ENV, str(path))
    return path


@pytest.fixture(autouse=True)
def user_data(tmp_path_factory, monkeypatch) -> Path:
    """This test's per-user data folder (``$XDG_DATA_HOME``): models the app keeps at a quit signal go there."""
    folder = tmp_path_factory.mktemp("user-data")
    monkeypatch.setenv("XDG_DATA_HOME", str(folder))
    return folder


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch) -> Path:
    """A folder with a 64/16-image MNIST look-alike; ``DENOISE_STUDIO_DATA`` points at it."""
    folder = make_tiny_mnist(tmp_path / "mnist")
    monkeypatch.setenv(REAL_DATA_ENV, str(folder))
    return folder


@pytest.fixture
def tiny_fashion(tmp_path, monkeypatch) -> Path:
    """A folder with a 64/16-image Fashion-MNIST look-alike; ``DENOISE_STUDIO_FASHION_MNIST_DATA`` points at it."""
    folder = make_tiny_mnist(tmp_path / "fashion-mnist", seed=1)
    monkeypatch.setenv(FASHION_ENV, str(folder))
    return folder


@pytest.fixture(scope="session")
def real_fashion_dir() -> Path:
    """The full Fashion-MNIST folder named by $DENOISE_STUDIO_FASHION_MNIST_DATA (set by .ci/run); skips when absent."""
    folder = REAL_FASHION_DIR
    if not folder or not Path(folder).is_dir():
        pytest.skip(
            f"real Fashion-MNIST not available: set {FASHION_ENV} to the folder with its four IDX .gz files "
            "(apt-get install dataset-fashion-mnist puts them in /usr/share/datasets/fashion-mnist)"
        )
    return Path(folder)


@pytest.fixture(scope="session")
def real_mnist_dir() -> Path:
    """The full MNIST folder named by $DENOISE_STUDIO_DATA (set by .ci/run); skips when absent."""
    folder = REAL_DATA_DIR
    if not folder or not Path(folder).is_dir():
        pytest.skip(f"real MNIST not available: set {REAL_DATA_ENV} to the folder with the four IDX .gz files")
    return Path(folder)
