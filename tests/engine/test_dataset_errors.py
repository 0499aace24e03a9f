"""Broken or wrong MNIST files: ``DatasetFileError`` saying which file is wrong and how to fix it."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.data_sources import DATA_ENV, MNIST_FILES
from engine.dataset import Dataset
from engine.idx import DatasetFileError, read_idx, write_idx

TRAIN_IMAGES = MNIST_FILES["train_images"] + ".gz"
TRAIN_LABELS = MNIST_FILES["train_labels"] + ".gz"
TEST_LABELS = MNIST_FILES["test_labels"] + ".gz"


@pytest.fixture
def folder(tiny_mnist, monkeypatch):
    """The shared 64/16-image folder, named explicitly (the environment variable is unset)."""
    monkeypatch.delenv(DATA_ENV, raising=False)
    return tiny_mnist


def load(folder, **kwargs):
    kwargs = {"train_size": 64, "test_size": 16, "batch_size": 8, **kwargs}
    return Dataset(data_dir=folder, download=False, progress=False, **kwargs)


def _raises(folder, file_name, *words, **kwargs) -> DatasetFileError:
    with pytest.raises(DatasetFileError) as info:
        load(folder, **kwargs)
    err = info.value
    if file_name is not None:
        assert err.path == str(folder / file_name)
        assert str(folder / file_name) in str(err)
    for word in words:
        assert word in err.problem, err.problem
    assert err.fix, "the error must say how to fix it"
    assert err.fix in str(err)
    return err


def test_the_untouched_folder_loads(folder):
    data = load(folder)
    assert data.train_u8.shape == (64, 784) and data.test_labels.shape == (16,)


def test_missing_folder_names_it_and_the_files_to_put_there(tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_ENV, raising=False)
    err = _raises(tmp_path / "nowhere", None, "not found")
    assert err.path == str(tmp_path / "nowhere")
    assert TRAIN_IMAGES in err.fix


def test_missing_folder_from_the_environment_says_how_to_download_instead(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(DatasetFileError) as info:
        Dataset(train_size=8, test_size=8, batch_size=8, progress=False)
    assert info.value.path == str(tmp_path / "nowhere")
    assert f"unset {DATA_ENV}" in info.value.fix


def test_a_file_given_as_the_folder(folder):
    _raises(folder / TRAIN_IMAGES, None, "not a folder")


def test_missing_file_names_it(folder):
    (folder / TEST_LABELS).unlink()
    err = _raises(folder, TEST_LABELS, "missing")
    assert "Put" in err.fix


@pytest.mark.parametrize("keep", [0.0, 0.3, 0.9])
def test_truncated_gz_says_damaged_and_to_replace_it(folder, keep):
    path = folder / TRAIN_IMAGES
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    err = _raises(folder, TRAIN_IMAGES, "empty" if keep == 0 else "damaged or truncated")
    assert "fresh copy" in err.fix


def test_corrupted_gz_body(folder):
    path = folder / TRAIN_LABELS
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    data[-6] ^= 0xFF  # the CRC / body
    path.write_bytes(bytes(data))
    _raises(folder, TRAIN_LABELS, "damaged")


def test_named_gz_but_not_gzip(folder):
    (folder / TRAIN_LABELS).write_bytes(b"<html>404 not found</html>")
    _raises(folder, TRAIN_LABELS, "not gzip")


def test_wrong_idx_magic(folder):
    (folder / TRAIN_IMAGES).write_bytes(gzip.compress(b"\x1f\x00\x08\x03" + bytes(100)))
    _raises(folder, TRAIN_IMAGES, "bad magic")


def test_wrong_idx_type_code(folder):
    (folder / TRAIN_IMAGES).write_bytes(gzip.compress(b"\x00\x00\x0d\x01\x00\x00\x00\x01" + bytes(4)))
    _raises(folder, TRAIN_IMAGES, "type code 0x0d")


def test_idx_header_with_too_many_dimensions(folder):
    (folder / TRAIN_IMAGES).write_bytes(gzip.compress(b"\x00\x00\x08\x09" + bytes(8)))
    _raises(folder, TRAIN_IMAGES, "header is damaged")


def test_idx_header_with_huge_dimensions_does_not_overflow(folder):
    header = b"\x00\x00\x08\x04" + np.array([2**32 - 1] * 4, ">u4").tobytes()
    (folder / TRAIN_IMAGES).write_bytes(gzip.compress(header + bytes(10)))
    _raises(folder, TRAIN_IMAGES, "more than the 60,000")  # the official count, before anything is read


def test_wrong_image_dimensions(folder):
    write_idx(folder / TRAIN_IMAGES, np.zeros((64, 32, 32), np.uint8))
    err = _raises(folder, TRAIN_IMAGES, "(64, 32, 32)", "(n, 28, 28)")
    assert MNIST_FILES["train_images"] in err.fix


def test_labels_file_given_as_images(folder):
    (folder / TRAIN_IMAGES).write_bytes((folder / TRAIN_LABELS).read_bytes())
    _raises(folder, TRAIN_IMAGES, "(64,)", "(n, 28, 28)")


def test_images_file_given_as_labels(folder):
    (folder / TRAIN_LABELS).write_bytes((folder / TRAIN_IMAGES).read_bytes())
    _raises(folder, TRAIN_LABELS, "(n,)")


def test_label_count_mismatch(folder):
    write_idx(folder / TRAIN_LABELS, np.zeros(63, np.uint8))
    err = _raises(folder, TRAIN_LABELS, "63 labels", "64 images")
    assert "one MNIST download" in err.fix


def test_labels_out_of_range(folder):
    write_idx(folder / TRAIN_LABELS, np.full(64, 200, np.uint8))
    _raises(folder, TRAIN_LABELS, "label 200", "0-9")


def test_idx_size_mismatch_in_the_header(folder):
    data = gzip.decompress((folder / TRAIN_IMAGES).read_bytes())
    (folder / TRAIN_IMAGES).write_bytes(gzip.compress(data[:-28]))
    _raises(folder, TRAIN_IMAGES, "header says (64, 28, 28)")


def test_train_size_beyond_the_data_names_the_argument_and_the_range(folder):
    with pytest.raises(ValueError, match=r"train_size=65 .*64 images.*allowed: 1 to 64"):
        load(folder, train_size=65)
    with pytest.raises(ValueError, match=r"test_size=17 .*allowed: 1 to 16"):
        load(folder, test_size=17)


def test_plain_file_that_is_really_gzip_is_read(tmp_path):
    write_idx(tmp_path / "x.gz", np.arange(12, dtype=np.uint8).reshape(3, 4))
    (tmp_path / "x.gz").rename(tmp_path / "x")
    np.testing.assert_array_equal(read_idx(tmp_path / "x"), np.arange(12).reshape(3, 4))


def test_folder_in_place_of_a_file(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(DatasetFileError, match="is a folder"):
        read_idx(tmp_path / "d")


# ----- property: any damage to an MNIST file gives DatasetFileError (or loads), never another exception -------------

_GOOD_LABELS = gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x10" + bytes(range(10)) + bytes(6))
_GOOD_IMAGES = gzip.compress(b"\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x1c\x00\x00\x00\x1c" + bytes(1568))


@pytest.fixture(scope="module")
def mutation_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("idx-mutations")


@settings(max_examples=200, deadline=None)
@given(
    which=st.sampled_from(["labels", "images"]),
    compressed=st.booleans(),
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)), max_size=3),
    cut=st.one_of(st.none(), st.integers(0, 2000)),
)
def test_mutated_idx_files_read_cleanly_or_raise_dataset_file_error(mutation_dir, which, compressed, flips, cut):
    good = _GOOD_LABELS if which == "labels" else _GOOD_IMAGES
    data = bytearray(good if compressed else gzip.decompress(good))
    for pos, xor in flips:
        data[pos % len(data)] ^= xor
    if cut is not None:
        data = data[:cut]
    path = mutation_dir / ("f.gz" if compressed else "f")
    path.write_bytes(bytes(data))
    try:
        array = read_idx(path)
    except DatasetFileError as exc:
        assert exc.path == str(path) and exc.fix
        return
    assert array.dtype == np.uint8 and 1 <= array.ndim <= 4


def test_an_empty_shape_too_large_to_index_is_refused(tmp_path):
    """Found by the crafted-header property test: zero bytes declared, but the other sides overflow NumPy's index."""
    from engine.idx import parse_idx

    dims = (0, 4473, 1484985, 1388573146)
    header = bytes([0, 0, 8, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
    with pytest.raises(DatasetFileError, match="no array can have"):
        parse_idx(header, tmp_path / "f")
