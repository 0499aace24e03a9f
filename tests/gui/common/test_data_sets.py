"""gui.common.data_sets: each data set's splits, read once per data set and folder, a bounded number kept."""

from __future__ import annotations

import numpy as np

from engine.idx import read_idx
from gui.common.data_sets import DataSets
from tests.conftest import make_tiny_mnist


def test_each_data_set_is_read_from_its_own_folder_once(tiny_mnist, tiny_fashion):
    data = DataSets()
    mnist_images, _ = data.split("test", "mnist")
    fashion_images, fashion_labels = data.split("test", "fashion-mnist")
    np.testing.assert_array_equal(mnist_images, read_idx(tiny_mnist / "t10k-images-idx3-ubyte.gz").reshape(-1, 784))
    np.testing.assert_array_equal(fashion_images, read_idx(tiny_fashion / "t10k-images-idx3-ubyte.gz").reshape(-1, 784))
    np.testing.assert_array_equal(fashion_labels, read_idx(tiny_fashion / "t10k-labels-idx1-ubyte.gz"))
    assert data.split("test", "fashion_mnist")[0] is fashion_images  # kept, not read again
    assert data.images("test") is mnist_images
    assert not fashion_images.flags.writeable  # shared by every caller


def test_another_folder_is_another_read(tmp_path, monkeypatch, tiny_fashion):
    data = DataSets()
    first = data.images("train", "fashion_mnist")
    other = make_tiny_mnist(tmp_path / "other-fashion", n_train=32, seed=7)
    monkeypatch.setenv("DENOISE_STUDIO_FASHION_MNIST_DATA", str(other))
    second = data.images("train", "fashion_mnist")
    assert len(first) == 64 and len(second) == 32


def test_at_most_max_splits_are_kept_the_least_recently_used_goes_first(tiny_mnist, tiny_fashion):
    data = DataSets(max_splits=2)
    mnist_test = data.images("test", "mnist")
    data.images("train", "mnist")
    assert data.images("test", "mnist") is mnist_test  # used again: now the most recent
    data.images("test", "fashion_mnist")  # a third split: the least recently used (MNIST's training set) goes
    assert len(data) == 2
    assert data.images("test", "mnist") is mnist_test
    assert data.images("train", "mnist") is not None and len(data) == 2


def test_a_note_on_files_that_are_not_the_official_ones_is_kept_and_handed_on_once(tiny_mnist, real_mnist_dir,
                                                                                   monkeypatch):  # fmt: skip
    said = []
    data = DataSets(max_splits=1, on_note=said.append)
    data.images("test", "mnist")
    data.images("train", "mnist")  # evicts the test split
    data.images("test", "mnist")  # read from its files again: the same note
    assert said == [f"the MNIST files in {tiny_mnist} are not the official ones; used as they are (Help ▸ About says "
                    "more)"]  # once for the folder, whichever split was read  # fmt: skip
    assert len(data.notes) == 2 and all("not the official MNIST files" in note for note in data.notes)  # each split's
    monkeypatch.setenv("DENOISE_STUDIO_DATA", str(real_mnist_dir))
    data.images("test", "mnist")  # the official files: nothing to say
    assert len(said) == 1
