"""gui.common.data_sets: each data set's splits, read once per data set and folder."""

from __future__ import annotations

import numpy as np

from engine.idx import read_idx
from gui.common.data_sets import data_split, mnist_split
from tests.conftest import make_tiny_mnist


def test_each_data_set_is_read_from_its_own_folder_once(tiny_mnist, tiny_fashion):
    mnist_images, _ = data_split("test", "mnist")
    fashion_images, fashion_labels = data_split("test", "fashion-mnist")
    np.testing.assert_array_equal(mnist_images, read_idx(tiny_mnist / "t10k-images-idx3-ubyte.gz").reshape(-1, 784))
    np.testing.assert_array_equal(fashion_images, read_idx(tiny_fashion / "t10k-images-idx3-ubyte.gz").reshape(-1, 784))
    np.testing.assert_array_equal(fashion_labels, read_idx(tiny_fashion / "t10k-labels-idx1-ubyte.gz"))
    assert data_split("test", "fashion_mnist")[0] is fashion_images  # kept, not read again
    assert mnist_split("test")[0] is mnist_images
    assert not fashion_images.flags.writeable  # shared by every caller


def test_another_folder_is_another_read(tmp_path, monkeypatch, tiny_fashion):
    first = data_split("train", "fashion_mnist")[0]
    other = make_tiny_mnist(tmp_path / "other-fashion", n_train=32, seed=7)
    monkeypatch.setenv("DENOISE_STUDIO_FASHION_MNIST_DATA", str(other))
    second = data_split("train", "fashion_mnist")[0]
    assert len(first) == 64 and len(second) == 32
