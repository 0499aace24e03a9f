"""IDX reading on tiny files made here, mini-batches, and the statistics of the noise."""

from __future__ import annotations

import numpy as np
import pytest

from engine.dataset import Dataset
from engine.idx import DatasetFileError, parse_idx, read_idx, write_idx
from engine.noise import add_noise, fixed_noisy
from tests.conftest import make_tiny_mnist


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, suffix):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / f"a-idx3-ubyte{suffix}"
    write_idx(path, arr)
    assert np.array_equal(read_idx(path), arr)


def test_idx_header_is_big_endian_with_the_documented_layout():
    data = bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(6))
    assert parse_idx(data).tolist() == [[0, 1, 2], [3, 4, 5]]


def test_idx_size_mismatch_is_reported():
    data = bytes([0, 0, 8, 1, 0, 0, 0, 5]) + bytes(3)
    with pytest.raises(DatasetFileError, match="holds 3 bytes"):
        parse_idx(data, "x.idx")


def test_dataset_reads_tiny_files_and_takes_the_first_n(tmp_path):
    folder = make_tiny_mnist(tmp_path, n_train=40, n_test=12)
    full = Dataset(train_size=40, test_size=12, batch_size=8, data_dir=folder)
    part = Dataset(train_size=10, test_size=5, batch_size=4, data_dir=folder)
    assert full.train_u8.shape == (40, 784) and full.test_u8.shape == (12, 784)
    assert np.array_equal(part.train_u8, full.train_u8[:10])
    assert part.train_images.dtype == np.float32
    assert part.train_images.min() >= 0 and part.train_images.max() <= 1


def test_plain_uncompressed_files_are_read_too(tmp_path):
    folder = make_tiny_mnist(tmp_path, gz=False)
    assert Dataset(train_size=64, test_size=16, data_dir=folder).train_u8.shape == (64, 784)


def test_batches_pair_noisy_inputs_with_clean_targets(tiny_mnist):
    ds = Dataset(train_size=64, test_size=16, batch_size=8, seed=3)
    batches = list(ds.batches(autoencoder=True, noise=0.2))
    assert len(batches) == 8
    (x, y), (xt, yt) = batches[0]
    assert x.shape == y.shape == xt.shape == yt.shape == (8, 784)
    assert x.dtype == np.float32 and not np.array_equal(x, y)
    assert x.min() >= 0 and x.max() <= 1
    # every training image appears exactly once per epoch
    seen = np.concatenate([b[0][1] for b in batches])
    assert sorted(map(bytes, (seen * 255).round().astype(np.uint8))) == sorted(map(bytes, ds.train_u8))


def test_batches_are_reproducible_from_the_seed_and_differ_across_seeds(tiny_mnist):
    ds = Dataset(train_size=64, test_size=16, batch_size=8)
    a = next(ds.batches(noise=0.1, seed=1))[0][0]
    b = next(ds.batches(noise=0.1, seed=1))[0][0]
    c = next(ds.batches(noise=0.1, seed=2))[0][0]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_classification_batches_give_one_hot_labels(tiny_mnist):
    ds = Dataset(train_size=64, test_size=16, batch_size=8)
    (x, y), _ = next(ds.batches(autoencoder=False))
    assert y.shape == (8, 10) and np.all(y.sum(axis=1) == 1)


def test_noise_is_gaussian_with_the_requested_sigma():
    x = np.full((400, 784), 0.5, np.float32)  # mid-grey: at sigma 0.1 clipping is negligible
    noisy = add_noise(x, 0.1, np.random.default_rng(0))
    noise = (noisy - x).ravel()
    assert noisy.dtype == np.float32
    assert abs(noise.mean()) < 1e-3
    assert noise.std() == pytest.approx(0.1, rel=0.01)
    # fraction within one sigma, as for a normal distribution
    assert np.mean(np.abs(noise) < 0.1) == pytest.approx(0.6827, abs=0.01)


def test_noise_is_clipped_to_unit_range_and_zero_sigma_is_identity():
    x = np.random.default_rng(1).uniform(0, 1, (50, 784)).astype(np.float32)
    noisy = add_noise(x, 1.0, np.random.default_rng(2))
    assert noisy.min() == 0 and noisy.max() == 1
    assert np.array_equal(add_noise(x, 0.0, np.random.default_rng(3)), x)


def test_fixed_noise_is_the_same_draw_every_time():
    x = np.zeros((5, 784), np.float32)
    assert np.array_equal(fixed_noisy(x, 0.3), fixed_noisy(x, 0.3))


def test_none_sizes_take_everything_the_files_hold_and_read_split_reads_one_split(tmp_path):
    from engine.dataset import read_split

    folder = make_tiny_mnist(tmp_path, n_train=30, n_test=7)
    ds = Dataset(train_size=None, test_size=None, batch_size=4, data_dir=folder)
    assert (ds.train_size, ds.test_size) == (30, 7)
    images, labels = read_split("test", data_dir=folder)
    assert np.array_equal(images, ds.test_u8) and np.array_equal(labels, ds.test_labels)
    assert read_split("train", 5, data_dir=folder)[0].shape == (5, 784)
    with pytest.raises(ValueError, match="split"):
        read_split("validation", data_dir=folder)
