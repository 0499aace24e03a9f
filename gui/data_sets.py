"""The MNIST splits the app shows and trains on, read once per folder and kept (reading takes ~0.5 s).

Called from worker and job threads; a lock makes concurrent first reads share one read.
"""

from __future__ import annotations

import threading

import numpy as np

from engine.dataset import read_split
from engine.download import locate_mnist

_lock = threading.Lock()
_cache: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def mnist_split(split: str, download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(images (n, 784) uint8, labels (n,) uint8) of ``"train"`` or ``"test"``; the same arrays each call.

    Found as the engine finds MNIST ($DENOISE_STUDIO_DATA, else the download cache, which only a
    training run may fill: ``download=True``).  Raises ``DatasetFileError`` when missing.
    """
    paths = locate_mnist(download=download, progress=False)
    images = paths[f"{split}_images"]
    stat = images.stat()
    key = (split, str(images.resolve()), stat.st_mtime_ns, stat.st_size)
    with _lock:
        if key not in _cache:
            images_u8, labels = read_split(split, download=download, progress=False)
            images_u8.setflags(write=False)  # shared by every caller
            _cache[key] = (images_u8, labels)
        return _cache[key]
