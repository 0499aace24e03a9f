"""Model files with float16 weights: half the size, read back as float32, the stored model's scores recorded."""

from __future__ import annotations

import numpy as np
import pytest

from engine.cli import main
from engine.dataset import read_split
from engine.model_format import HEADER_KEY
from engine.nn import MLP, build_mlp


def stored_dtypes(path) -> set[str]:
    with np.load(path) as f:
        return {str(f[key].dtype) for key in f.files if key != HEADER_KEY}


def test_float16_halves_the_file_and_reads_back_as_the_rounded_model(tmp_path):
    model = build_mlp([784, 256, 784], ["relu", "sigmoid"], seed=0, skip="gate")
    model.save(tmp_path / "full.npz")
    model.save(tmp_path / "half.npz", weights_dtype="float16")
    assert stored_dtypes(tmp_path / "half.npz") == {"float16"} and stored_dtypes(tmp_path / "full.npz") == {"float32"}
    full, half = (tmp_path / "full.npz").stat().st_size, (tmp_path / "half.npz").stat().st_size
    assert half < 0.51 * full
    loaded = MLP.from_file(tmp_path / "half.npz")
    assert loaded.params.dtype == np.float32 and loaded.skip.kind == "gate"
    x = np.random.default_rng(1).random((20, 784), dtype=np.float32)
    assert 0 < np.abs(loaded.predict(x) - model.predict(x)).max() < 1e-2  # rounded, a little
    model.round_weights("float16")  # what the file holds, in memory
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_weights_beyond_float16_are_refused_saying_so(tmp_path):
    model = build_mlp([784, 8, 784], ["relu", "sigmoid"])
    model.params[3] = 1e6
    with pytest.raises(ValueError, match="too large for float16"):
        model.save(tmp_path / "m.npz", weights_dtype="float16")
    assert not (tmp_path / "m.npz").exists()
    with pytest.raises(ValueError, match="too large for float16"):
        model.round_weights("float16")
    assert model.params[3] == 1e6  # left as it was
    with pytest.raises(ValueError, match="float32 or float16"):
        model.save(tmp_path / "m.npz", weights_dtype="int8")


def test_cli_saves_float16_and_records_the_stored_models_score(tiny_mnist, tmp_path):
    out = tmp_path / "half.npz"
    code = main(["train", "--epochs", "1", "--batch-size", "16", "--train-size", "64", "--test-size", "16",
                 "--layers", "784:8:relu,784:sigmoid", "--weights-dtype", "float16", "--quiet",
                 "-o", str(out)])  # fmt: skip
    assert code == 0 and stored_dtypes(out) == {"float16"}
    assert stored_dtypes(tmp_path / "half.ckpt.npz") - {"int64"} == {"float32"}  # the checkpoint resumes exactly
    model = MLP.from_file(out)
    ((key, recorded),) = model.metadata["metrics"].items()
    assert key == "test_mse@0.1"
    test_images, _ = read_split("test", data_dir=tiny_mnist, download=False, progress=False)
    assert model.evaluate(test_images, 0.1)["mse"] == pytest.approx(recorded, rel=1e-6)
