"""MNIST or Fashion-MNIST as mini-batches of (noisy input, clean target), float32 in [0, 1].

Both data sets go through this one code path: the same four IDX files, found by
``engine.download.locate_data``.  Images are kept as uint8 (47 MB for the training set instead
of 188 MB as float32) and converted a batch at a time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from engine.data_files import read_data_file, unofficial_note
from engine.data_sources import MNIST_FILES, DataSource, data_source
from engine.download import locate_data
from engine.idx import DatasetFileError
from engine.images import to_unit_float
from engine.noise import add_noise, check_kind, check_noise
from engine.run_limits import BATCH_SIZE, TEST_SIZE, TRAIN_SIZE

N_PIXELS = 784
SIZES = {"train": TRAIN_SIZE, "test": TEST_SIZE}
"""How many images of each split a run may use: at most the official sets' 60,000 and 10,000."""


def read_split(
    split: str,
    size: int | None = None,
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    progress: bool | object = True,
    dataset: str = "mnist",
    notes: list[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One split of a data set without the other: (images (n, 784) uint8, labels (n,) uint8).

    ``split`` is ``"train"`` or ``"test"``; ``size`` the first n images (default: all);
    ``dataset`` ``"mnist"`` or ``"fashion_mnist"``.  The data is found as ``Dataset`` finds it,
    but only this split's two files are looked for (and downloaded if missing).  When they are not
    the official files, a one-line note saying so is appended to ``notes`` (if given).
    """
    source = data_source(dataset)
    if split not in SIZES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if size is not None:
        SIZES[split].check(size)
    keys = (f"{split}_images", f"{split}_labels")
    paths = locate_data(source.name, data_dir, download=download, progress=progress, files=keys)
    images, labels, unofficial = _load_split(paths, split, size, source)
    if notes is not None and unofficial:
        notes.append(unofficial_note(source, unofficial))
    return images, labels


def _load_split(
    paths: dict, split: str, size: int | None, source: DataSource
) -> tuple[np.ndarray, np.ndarray, list[Path]]:
    """(images (n, 784) uint8, labels (n,) uint8, unofficial): the first ``size`` of a split, or all of it, and
    those of its two files that are not the official ones (``engine.data_files``)."""
    title = source.title
    images_path, labels_path = paths[f"{split}_images"], paths[f"{split}_labels"]
    images, images_official = read_data_file(images_path, source, f"{split}_images")
    labels, labels_official = read_data_file(labels_path, source, f"{split}_labels")
    unofficial = [path for path, official in ((images_path, images_official), (labels_path, labels_official))
                  if not official]  # fmt: skip
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DatasetFileError(
            images_path,
            f"holds an array of shape {images.shape}, but {title} images are (n, 28, 28)",
            f"Use the {title} {split} images file ({MNIST_FILES[f'{split}_images']}.gz) under this name",
        )
    if labels.ndim != 1:
        raise DatasetFileError(
            labels_path,
            f"holds an array of shape {labels.shape}, but {title} labels are (n,)",
            f"Use the {title} {split} labels file ({MNIST_FILES[f'{split}_labels']}.gz) under this name",
        )
    if len(labels) != len(images):
        raise DatasetFileError(
            labels_path,
            f"holds {len(labels)} labels but {images_path.name} holds {len(images)} images",
            f"The two files come from different sets; use the images and labels files of one {title} download",
        )
    if labels.size and labels.max() > 9:
        raise DatasetFileError(
            labels_path,
            f"holds label {int(labels.max())}; {title} labels are classes 0-9",
            f"Use the {title} labels file",
        )
    if size is None:
        size = len(images)
    if len(images) < size:
        raise ValueError(
            f"{split}_size={size} is more than the {len(images)} images in {images_path}; "
            f"allowed: 1 to {len(images)}"
        )
    return images[:size].reshape(size, N_PIXELS), labels[:size].copy(), unofficial


class Dataset:
    """The training and test sets of MNIST or Fashion-MNIST.

    Parameters
    ----------
    name : "mnist" or "fashion_mnist" (also "fashion-mnist")
    train_size, test_size : int or None
        Use the first n images of each split (at most 60000 and 10000); None for all the files hold.
    batch_size : int
        Images per mini-batch in ``batches``.
    data_dir : folder with the data set's four IDX files (``.gz`` or plain); default its
        environment variable (``$DENOISE_STUDIO_DATA`` for MNIST,
        ``$DENOISE_STUDIO_FASHION_MNIST_DATA`` for Fashion-MNIST), else a system folder a
        package installed, else a per-user cache filled by a verified download.
    seed : seeds the shuffling and noise of ``batches``.

    Attributes
    ----------
    name : the canonical name, ``"mnist"`` or ``"fashion_mnist"``;  title : ``"MNIST"``, ``"Fashion-MNIST"``
    classes : what the labels 0-9 mean
    notes : a line saying which files are not the official ones (they are used all the same), or none
    train_u8 : (train_size, 784) uint8;  test_u8 : (test_size, 784) uint8
    train_labels, test_labels : (n,) uint8
    """

    def __init__(
        self,
        name: str = "mnist",
        train_size: int | None = 60000,
        test_size: int | None = 10000,
        batch_size: int = 32,
        *,
        data_dir: str | os.PathLike | None = None,
        seed: int | None = None,
        download: bool = True,
        progress: bool | object = True,
    ) -> None:
        source = data_source(name)
        self.name, self.title, self.classes = source.name, source.title, source.classes
        if train_size is not None:
            TRAIN_SIZE.check(train_size)
        if test_size is not None:
            TEST_SIZE.check(test_size)
        self.seed = seed
        paths = locate_data(source.name, data_dir, download=download, progress=progress)
        self.folder = paths["train_images"].parent
        self.train_u8, self.train_labels, unofficial = _load_split(paths, "train", train_size, source)
        self.test_u8, self.test_labels, more = _load_split(paths, "test", test_size, source)
        self.notes = [unofficial_note(source, unofficial + more)] if unofficial + more else []
        self.train_size, self.test_size = len(self.train_u8), len(self.test_u8)
        self.batch_size = BATCH_SIZE.up_to(self.train_size).check(batch_size)

    @property
    def train_images(self) -> np.ndarray:
        """(train_size, 784) float32 in [0, 1] (a new array each call)."""
        return to_unit_float(self.train_u8)

    @property
    def test_images(self) -> np.ndarray:
        """(test_size, 784) float32 in [0, 1] (a new array each call)."""
        return to_unit_float(self.test_u8)

    def batches(
        self,
        autoencoder: bool = True,
        noise: float | tuple[float, float] = 0.0,
        shuffle: bool = True,
        seed: int | None = None,
        noise_kind: str = "gaussian",
    ) -> Iterator[tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]]:
        """One epoch of (train batch, test batch) pairs.

        Each batch is ``(input, target)``, shape (batch_size, 784) float32.  With
        ``autoencoder=True`` the input is the clean image corrupted by ``noise_kind`` noise
        (Gaussian: ``clip(clean + noise * N(0, 1), 0, 1)``; ``"salt_and_pepper"`` or
        ``"masking"``: a fraction ``noise`` of the pixels hit) and the target the clean image;
        ``noise=(low, high)`` gives each image its own level drawn uniformly from the range.
        Otherwise the input is the clean image and the target its one-hot label
        (batch_size, 10).  The test batches cycle through the shuffled test set.
        """
        kind = check_kind(noise_kind)
        low, high = check_noise(noise, kind)
        level = (low, high) if high > low else low
        rng = np.random.default_rng(self.seed if seed is None else seed)
        train_order = rng.permutation(self.train_size) if shuffle else np.arange(self.train_size)
        test_order = rng.permutation(self.test_size) if shuffle else np.arange(self.test_size)
        bs = self.batch_size
        for start in range(0, self.train_size, bs):
            idx = train_order[start : start + bs]
            t_start = start % self.test_size
            t_idx = np.take(test_order, np.arange(t_start, t_start + len(idx)), mode="wrap")
            yield (
                self._pair(self.train_u8[idx], self.train_labels[idx], autoencoder, level, kind, rng),
                self._pair(self.test_u8[t_idx], self.test_labels[t_idx], autoencoder, level, kind, rng),
            )

    @staticmethod
    def _pair(images_u8, labels, autoencoder, level, kind, rng) -> tuple[np.ndarray, np.ndarray]:
        clean = to_unit_float(images_u8)
        if autoencoder:
            if isinstance(level, tuple):  # a range: one level per image
                level = rng.uniform(level[0], level[1], len(clean)).astype(np.float32)
            return add_noise(clean, level, rng, kind=kind), clean
        return clean, np.eye(10, dtype=np.float32)[labels]

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, train_size={self.train_size}, test_size={self.test_size}, "
            f"batch_size={self.batch_size})"
        )
