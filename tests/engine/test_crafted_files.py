"""Hostile files through the command line, each in its own process: a one-line error naming the file, no
traceback, and a peak resident memory (the child's ``VmHWM``, interpreter and NumPy included) of at most
100 MB, where these files once took gigabytes.  The files and the child are in ``tests/engine/crafted.py``."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.data_sources import MNIST_FILES
from engine.idx import DatasetFileError, read_idx
from engine.model_format import MAX_HEADER_BYTES, ModelFileError, read_model
from engine.nn import MLP, build_mlp
from tests.conftest import make_tiny_mnist
from tests.engine import crafted

PEAK_MB = 100
DAMAGE = {"lying-declared-size", "compressed-size-past-the-end", "member-cut-short", "huge-npy-header"}
"""Crafted files whose zip entries or ``.npy`` preambles contradict themselves, which the reader calls damaged; the
rest it names."""
posix_only = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak memory from /proc (Linux)")


def run_cli(*argv: str, data: Path | None = None) -> tuple[int, str, float]:
    code, err, peak, _ = crafted.run_cli(*argv, data=data)
    return code, err, peak


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("crafted")


@posix_only
@pytest.mark.parametrize("name", sorted(crafted.MODEL_FILES))
def test_crafted_model_file_is_refused_in_bounded_memory(name, corpus):
    build, word = crafted.MODEL_FILES[name]
    path = build(corpus / f"{name}.npz")
    code, err, peak = run_cli("summary", str(path))
    assert code == 1, err
    assert err.count("\n") == 0 and err.startswith(f"error: {path}: "), err
    problem = err.removeprefix(f"error: {path}: ")  # the words must not come from the file's name
    assert word in problem and "Traceback" not in err, err
    assert "damaged" not in problem or name in DAMAGE, err
    assert peak <= PEAK_MB, f"{name}: peak RSS {peak:.0f} MB"
    with pytest.raises(ModelFileError):  # the Python API and the app read it the same way
        MLP.from_file(path)


@posix_only
@pytest.mark.parametrize("name", sorted(crafted.DATA_BOMBS))
def test_crafted_data_file_is_refused_in_bounded_memory(name, tmp_path):
    make, word, key = crafted.DATA_BOMBS[name]
    data = crafted.data_folder(tmp_path / "mnist", make(), key)
    bad = [p for p in data.iterdir() if p.name.startswith(MNIST_FILES[key])][0]
    out = tmp_path / "out.npz"
    code, err, peak = run_cli(*crafted.data_command(key, data, out))  # a command that reads that file
    assert code == 1, err
    assert err.count("\n") == 0 and str(bad) in err and word in err, err
    assert not out.exists()
    assert peak <= PEAK_MB, f"{name}: peak RSS {peak:.0f} MB"


@posix_only
@pytest.mark.parametrize("name", sorted(crafted.CHECKPOINTS))
def test_crafted_checkpoint_is_refused_before_training(name, tmp_path):
    data = make_tiny_mnist(tmp_path / "mnist")
    ckpt = crafted.checkpoint(tmp_path, name, **crafted.CHECKPOINTS[name])
    out = tmp_path / "out.npz"
    code, err, peak = run_cli("train", "--resume", str(ckpt), "--quiet", "-o", str(out), data=data)
    assert code == 1, err
    assert err.count("\n") == 0 and str(ckpt) in err, err  # one line, naming the file
    assert "checkpoint" in err or "optimizer" in err, err  # and what in it is wrong
    assert "Traceback" not in err
    assert not out.exists() and not (tmp_path / "out.ckpt.npz").exists()
    assert peak <= PEAK_MB


def test_the_checkpoint_corpus_base_resumes(tiny_mnist, tmp_path):
    """The crafted checkpoints are broken variants of this one, which resumes: each failure is the variant's fault."""
    from engine.cli import main

    history = {"epochs": [{"epoch": 0, "batches": 1}], "batch_loss": [0.5]}
    resume = {"next_epoch": 1, "config": {"epochs": 2, "batch_size": 8}, "history": history}
    sizes = {"dataset": {"train_size": 64, "test_size": 16}}
    ckpt = crafted.checkpoint(tmp_path, "good", metadata=sizes, resume=resume)
    assert main(["train", "--resume", str(ckpt), "--quiet", "-o", str(tmp_path / "out.npz")]) == 0
    assert MLP.from_file(tmp_path / "out.npz").metadata["history"]["epochs"][0]["epoch"] == 0


def test_a_model_saved_with_savez_compressed_still_loads(tmp_path):
    """The inflation bound refuses bombs, not compression: another tool's savez_compressed of our format loads."""
    net = build_mlp([784, 64, 784], ["relu", "sigmoid"], seed=0)
    net.save(tmp_path / "plain.npz")
    header, arrays = read_model(tmp_path / "plain.npz")
    with np.load(tmp_path / "plain.npz") as z:
        np.savez_compressed(tmp_path / "compressed.npz", **{k: z[k] for k in z.files})
    np.testing.assert_array_equal(MLP.from_file(tmp_path / "compressed.npz").params, net.params)


def test_out_of_memory_is_reported_as_such_never_as_damage(tmp_path, monkeypatch, capsys):
    from engine import safe_npz
    from engine.cli import main

    net = build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=0)
    net.save(tmp_path / "m.npz")

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(safe_npz.np, "frombuffer", no_memory)
    with pytest.raises(MemoryError):
        MLP.from_file(tmp_path / "m.npz")
    assert main(["summary", str(tmp_path / "m.npz")]) == 1
    err = capsys.readouterr().err
    assert "out of memory" in err and "damaged" not in err and err.count("\n") == 1


def test_a_long_history_is_thinned_so_the_model_that_saves_loads(tmp_path):
    net = build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=0)
    losses = [round(0.05 + 1e-7 * i, 7) for i in range(400_000)]  # ~4 MB of JSON: twice what a header may hold
    net.metadata["history"] = {"epochs": [{"epoch": 0, "batches": len(losses)}], "batch_loss": losses}
    net.save(tmp_path / "long.npz")
    loaded = MLP.from_file(tmp_path / "long.npz").metadata["history"]
    every = loaded["batch_loss_every"]
    assert every >= 2 and len(loaded["batch_loss"]) == -(-len(losses) // every)
    assert loaded["batch_loss"][0] == pytest.approx(np.mean(losses[:every]), abs=1e-7)
    assert (tmp_path / "long.npz").stat().st_size < MAX_HEADER_BYTES + 200_000


# ----- properties: any declared shape or size is checked before it costs memory -------------------------------------

DIMS = st.integers(-(2**40), 2**40) | st.sampled_from([-1, 0, 1, 8, 784, 2**31, 2**63])
TRACED_LIMIT = 8 * 2**20
"""Bytes Python may allocate reading one of these small files: what a 784-8-784 model holds, and headroom."""


@pytest.fixture(scope="module")
def prop_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("declared")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    member=st.sampled_from(["__header__", "layer0.W", "layer1.b", "optimizer.m_sum", "optimizer.t"]),
    shape=st.lists(DIMS, min_size=0, max_size=3).map(tuple),
    descr=st.sampled_from(["<f4", "<f2", "<f8", "|u1", "<i8", "|V0", "<U3"]),
    payload=st.integers(0, 200_000),
    compress=st.booleans(),
)
def test_any_declared_shape_is_refused_or_read_within_bounded_memory(prop_dir, member, shape, descr, payload, compress):
    layers, members = crafted.small_layers()
    header = crafted.header_json(layers)
    path = prop_dir / "declared.npz"
    if member == "__header__":
        with zipfile.ZipFile(path, "w") as zf:
            crafted.write_member(zf, "__header__", crafted.npy_header(shape, descr), payload, compress=compress)
    else:
        members[member] = (crafted.npy_header(shape, descr), payload)
        crafted.model_zip(path, header, members, compress=compress)
    tracemalloc.start()
    try:
        read_model(path)
    except ModelFileError as exc:
        assert exc.path == str(path)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak <= TRACED_LIMIT


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    dims=st.lists(st.integers(0, 2**32 - 1) | st.sampled_from([0, 1, 28, 100]), min_size=1, max_size=4),
    payload=st.integers(0, 8 * 2**20),
    compressed=st.booleans(),
)
def test_any_idx_header_is_refused_or_read_within_what_it_declares(prop_dir, dims, payload, compressed):
    header = crafted.idx_header(*dims)
    path = prop_dir / ("f.gz" if compressed else "f")
    payload = payload if compressed else min(payload, 2**20)  # plain files are written out: keep them small
    path.write_bytes(crafted.gzip_of_zeros(header, payload) if compressed else header + bytes(payload))
    tracemalloc.start()
    try:
        array = read_idx(path)
    except DatasetFileError as exc:
        assert exc.path == str(path)
        array = None
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    if array is not None:
        assert array.shape == tuple(dims) and array.nbytes == payload
    assert peak <= TRACED_LIMIT + 2 * payload and peak <= 70 * 2**20  # a bomb never costs more than it holds
