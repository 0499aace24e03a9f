"""The data sets' splits the app shows and trains on (MNIST, Fashion-MNIST), read once per data set and folder and
kept (reading a training set takes ~0.5 s), at most a few at a time.

One ``DataSets`` belongs to the application's state (``gui.app_state.AppState.data``); jobs and the
training thread read through it, so a lock makes concurrent first reads of a split share one read.  Files that
are not the official ones are used with a one-line note (``engine.dataset.read_split``): each note is kept in
``notes`` (Help ▸ About lists them), and ``on_note`` hears once a folder, in short, that its files are not the
official ones (the app's state says it in the status bar).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from engine.data_sources import data_source
from engine.dataset import read_split
from engine.download import locate_data

MAX_SPLITS = 4
"""Splits kept at once (MNIST's and Fashion-MNIST's training and test sets: ~110 MB); the least recently used
one goes first."""


class DataSets:
    """``split("test", "mnist")`` -> (images (n, 784) uint8, labels (n,) uint8), the same read-only arrays for the
    same folder and file until the file changes; a bounded LRU of ``max_splits`` splits."""

    def __init__(self, max_splits: int = MAX_SPLITS, on_note: Callable[[str], None] | None = None) -> None:
        self.max_splits = max_splits
        self.on_note = on_note  # called (on the reading thread) with each new note about the files read
        self.notes: list[str] = []  # every distinct note so far, in order
        self._said: set[tuple] = set()  # (data set, folder) whose files were said to be unofficial
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()

    def split(self, split: str, dataset: str = "mnist", download: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``"train"`` or ``"test"`` of ``dataset`` (``"mnist"``, ``"fashion_mnist"``), found as the engine finds
        it (its environment variable, an installed copy, else the download cache, which only a training run may
        fill: ``download=True``).  Raises ``DatasetFileError`` when missing."""
        name = data_source(dataset).name
        paths = locate_data(name, download=download, progress=False)
        images = paths[f"{split}_images"]
        stat = images.stat()
        key = (name, split, str(images.resolve()), stat.st_mtime_ns, stat.st_size)
        notes: list[str] = []
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
            images_u8, labels = read_split(split, download=download, progress=False, dataset=name, notes=notes)
            images_u8.setflags(write=False)  # shared by every caller
            self._kept[key] = (images_u8, labels)
            while len(self._kept) > self.max_splits:
                self._kept.popitem(last=False)
            new = [note for note in notes if note not in self.notes]
            self.notes += new
            say = bool(new) and (name, images.parent) not in self._said  # once a folder, whatever the split
            if say:
                self._said.add((name, images.parent))
        if say and self.on_note is not None:  # outside the lock: the listener may take its time
            self.on_note(f"the {data_source(name).title} files in {images.parent} are not the official ones; used as "
                         "they are (Help ▸ About says more)")  # fmt: skip
        return images_u8, labels

    def images(self, split: str, dataset: str = "mnist", download: bool = False) -> np.ndarray:
        """Just the images (n, 784) uint8 of ``split(split, dataset, download)``."""
        return self.split(split, dataset, download)[0]

    def __len__(self) -> int:
        return len(self._kept)
