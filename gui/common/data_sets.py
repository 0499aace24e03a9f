"""The data sets' splits the app shows and trains on (MNIST, Fashion-MNIST), read once per data set and folder
and kept (reading a training set takes ~0.5 s).

Called from worker and job threads; a lock makes concurrent first reads share one read.
"""

from __future__ import annotations

import threading

import numpy as np

from engine.dataset import read_split
from engine.download import data_source, locate_data

_lock = threading.Lock()
_cache: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def data_split(split: str, dataset: str = "mnist", download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(images (n, 784) uint8, labels (n,) uint8) of ``"train"`` or ``"test"`` of ``dataset``; the same arrays
    each call for the same folder.

    ``dataset`` is ``"mnist"`` or ``"fashion_mnist"``, found as the engine finds it (its environment
    variable, an installed copy, else the download cache, which only a training run may fill:
    ``download=True``).  Raises ``DatasetFileError`` when missing.
    """
    name = data_source(dataset).name
    paths = locate_data(name, download=download, progress=False)
    images = paths[f"{split}_images"]
    stat = images.stat()
    key = (name, split, str(images.resolve()), stat.st_mtime_ns, stat.st_size)
    with _lock:
        if key not in _cache:
            images_u8, labels = read_split(split, download=download, progress=False, dataset=name)
            images_u8.setflags(write=False)  # shared by every caller
            _cache[key] = (images_u8, labels)
        return _cache[key]


def mnist_split(split: str, download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``data_split(split, "mnist", download)``: MNIST's images (n, 784) uint8 and labels (n,) uint8."""
    return data_split(split, "mnist", download)
