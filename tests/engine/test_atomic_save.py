"""Saves are atomic: a crash or a kill mid-save leaves the previous file intact and no file that passes as a model."""

from __future__ import annotations

import errno
import os
import selectors
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from engine import atomic, model_format, model_paths
from engine.atomic import atomic_write
from engine.checkpoint import Checkpoint
from engine.model_format import ModelFileError, read_model
from engine.nn import MLP, build_mlp
from engine.training import TrainConfig

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 60.0

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses POSIX signals")


def _child(code: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read_line(proc: subprocess.Popen, timeout: float = TIMEOUT) -> str:
    """The child's next stdout line, waiting at most ``timeout`` seconds (fails if it dies or stays silent)."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        if not sel.select(timeout):
            proc.kill()
            pytest.fail(f"child printed nothing for {timeout} s")
        line = proc.stdout.readline()
    finally:
        sel.close()
    if not line:
        proc.wait(TIMEOUT)
        pytest.fail(f"child exited ({proc.returncode}) early: {proc.stderr.read()}")
    return line.strip()


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(TIMEOUT)
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


def _check_leftovers(folder: Path, model: Path) -> list[Path]:
    """Every other file in the folder is a hidden ``.tmp`` that no one would open as a model."""
    others = [p for p in folder.iterdir() if p != model]
    for p in others:
        assert p.name.startswith(f".{model.name}.") and p.name.endswith(atomic.TEMP_SUFFIX), p.name
        with pytest.raises(ModelFileError):
            model_paths.resolve_model_path(folder / p.name.removesuffix(".tmp").removesuffix(".npz"))
    return others


def test_failed_write_keeps_the_old_file_and_removes_the_temp(tmp_path):
    path = tmp_path / "m.npz"
    build_mlp([16, 4, 16], ["relu", "sigmoid"], seed=0).save(path)
    before = path.read_bytes()

    def half_then_fail(f):
        f.write(b"PK\x03\x04 half a model")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, half_then_fail)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_keyboard_interrupt_mid_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")

    def interrupted(f):
        f.write(b"new, partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, interrupted)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_the_new_bytes_reach_the_disk_before_they_take_the_name_and_the_rename_after(tmp_path, monkeypatch):
    """What survives a power cut: the temp file's data is fsynced before ``os.replace`` gives it the name, and the
    folder (which holds the name) after it.  Observed as the calls happen; a crash itself cannot be staged here."""
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")
    events: list[tuple] = []
    real_fsync, real_replace = os.fsync, os.replace

    def spy_fsync(fd):
        st = os.fstat(fd)
        events.append(("fsync folder",) if stat.S_ISDIR(st.st_mode) else ("fsync file", st.st_size))
        return real_fsync(fd)

    def spy_replace(src, dst, *args, **kwargs):
        events.append(("replace", Path(dst).name))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "fsync", spy_fsync)
    monkeypatch.setattr(os, "replace", spy_replace)
    atomic_write(path, lambda f: f.write(b"new model bytes"))
    assert events == [("fsync file", len(b"new model bytes")), ("replace", "m.npz"), ("fsync folder",)]
    assert path.read_bytes() == b"new model bytes"


@pytest.mark.parametrize("mode", [0o640, 0o604, None], ids=["group-readable", "other-readable", "new-file"])
def test_a_save_keeps_the_files_permissions_and_a_new_file_gets_the_usual_ones(tmp_path, mode):
    """The temp file is made private (0600); the saved file must not be: an existing one keeps its mode, a new
    one is 0644."""
    path = tmp_path / "m.npz"
    if mode is not None:
        path.write_bytes(b"old")
        path.chmod(mode)
    build_mlp([16, 4, 16], ["relu", "sigmoid"], seed=0).save(path)
    assert path.stat().st_mode & 0o777 == (0o644 if mode is None else mode)


def test_saving_onto_a_folder_is_a_clear_error(tmp_path):
    (tmp_path / "m.npz").mkdir()
    with pytest.raises(IsADirectoryError, match="folder"):
        build_mlp([16, 4, 16], ["relu", "sigmoid"]).save(tmp_path / "m.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_every_save_goes_through_atomic_write(tmp_path, monkeypatch, tiny_mnist):
    """Model saves, checkpoints and the CLI's output all use atomic_write (temp + fsync + os.replace)."""
    written: list[str] = []
    replaced: list[tuple[str, str]] = []
    real_atomic, real_replace = model_format.atomic_write, os.replace

    def spy_atomic(path, write):
        written.append(Path(path).name)
        return real_atomic(path, write)

    def spy_replace(src, dst, *args, **kwargs):
        replaced.append((Path(src).name, Path(dst).name))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(model_format, "atomic_write", spy_atomic)
    monkeypatch.setattr(os, "replace", spy_replace)

    net = build_mlp([784, 4, 784], ["relu", "sigmoid"], seed=0)
    net.save(tmp_path / "a.npz")
    assert written == ["a.npz"]

    from engine.dataset import Dataset

    data = Dataset(train_size=32, test_size=16, batch_size=16, progress=False)
    net.fit(data, config=TrainConfig(epochs=2, batch_size=16), callbacks=[Checkpoint(tmp_path / "c.npz")])
    assert written == ["a.npz", "c.npz", "c.npz"]

    from engine.cli import main

    code = main(
        ["train", "--epochs", "1", "--train-size", "32", "--test-size", "16", "--batch-size", "16", "--quiet",
         "--layers", "784:4:relu,784:sigmoid", "-o", str(tmp_path / "out.npz")]
    )  # fmt: skip
    assert code == 0
    assert written[3:] == ["out.ckpt.npz", "out.npz"]
    assert [dst for _, dst in replaced] == written
    assert all(src.startswith(f".{dst}.") and src.endswith(".tmp") for src, dst in replaced)


def test_sigkill_in_the_middle_of_a_save_keeps_the_previous_file(tmp_path):
    """The child writes half a model into the temp file, says so, and waits to be killed."""
    path = tmp_path / "model.npz"
    old = build_mlp([784, 32, 784], ["relu", "sigmoid"], seed=1)
    old.save(path)
    proc = _child(
        """
        import io, sys, time
        import numpy as np
        from engine.nn import build_mlp

        real_savez = np.savez

        def slow_savez(f, **arrays):
            buf = io.BytesIO()
            real_savez(buf, **arrays)
            data = buf.getvalue()
            f.write(data[: len(data) // 2])
            f.flush()
            print("half written", flush=True)
            time.sleep(600)

        np.savez = slow_savez
        build_mlp([784, 32, 784], ["relu", "sigmoid"], seed=2).save(sys.argv[1])
        """,
        str(path),
    )
    assert _read_line(proc) == "half written"
    temps = [p for p in tmp_path.iterdir() if p != path]
    assert len(temps) == 1 and temps[0].stat().st_size > 0  # the kill really lands mid-save
    _kill(proc)

    loaded = MLP.from_file(path)
    np.testing.assert_array_equal(loaded.params, old.params)
    for temp in _check_leftovers(tmp_path, path):
        with pytest.raises(ModelFileError):
            read_model(temp)  # half a file is never a valid model, whatever its name


def test_sigkill_while_saving_in_a_loop_leaves_one_of_the_saved_versions(tmp_path):
    path = tmp_path / "model.npz"
    widths, acts = [784, 256, 784], ["relu", "sigmoid"]
    versions = {seed: build_mlp(widths, acts, seed=seed).params for seed in (10, 11)}
    proc = _child(
        """
        import sys
        from engine.nn import build_mlp

        nets = [build_mlp([784, 256, 784], ["relu", "sigmoid"], seed=s) for s in (10, 11)]
        i = 0
        while True:
            nets[i % 2].save(sys.argv[1])
            print(f"saved {i}", flush=True)
            i += 1
        """,
        str(path),
    )
    for i in range(3):
        assert _read_line(proc) == f"saved {i}"
    _kill(proc)

    loaded = MLP.from_file(path)
    assert any(np.array_equal(loaded.params, params) for params in versions.values())
    for temp in _check_leftovers(tmp_path, path):
        try:
            header, _ = read_model(temp)
        except ModelFileError:
            continue
        assert header["layers"]  # a complete temp (killed between fsync and rename) is hidden and named .tmp


def test_a_full_disk_at_checkpoint_time_warns_once_and_the_run_still_writes_its_model(
    tmp_path, monkeypatch, tiny_mnist, capsys
):
    """Issue 33 (3): the checkpoints' disk fills up after the first epoch, the output's has room."""
    real_atomic = model_format.atomic_write
    calls = []

    def checkpoint_disk_fills_up(path, write):
        calls.append(Path(path).name)
        if Path(path).name.endswith(".ckpt.npz") and len(calls) >= 2:  # half written, then the disk is full

            def partial(f):
                f.write(b"PK\x03\x04 partial")
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            return real_atomic(path, partial)
        return real_atomic(path, write)

    monkeypatch.setattr(model_format, "atomic_write", checkpoint_disk_fills_up)
    from engine.cli import main

    out = tmp_path / "out.npz"
    code = main(
        ["train", "--epochs", "3", "--train-size", "32", "--test-size", "16", "--batch-size", "16", "--quiet",
         "--layers", "784:4:relu,784:sigmoid", "-o", str(out)]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    assert err.count("No space left on device") == 1 and "warning:" in err and "goes on" in err  # said once
    assert calls == ["out.ckpt.npz"] * 3 + ["out.npz"]
    assert len(MLP.from_file(out).metadata["history"]["epochs"]) == 3  # the whole run, written
    ckpt = MLP.from_file(tmp_path / "out.ckpt.npz")  # the last checkpoint that could be saved, intact
    assert ckpt.metadata["resume"]["next_epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist", "out.ckpt.npz", "out.npz"]


def test_temp_files_left_by_killed_saves_are_cleaned_up_once_stale(tmp_path):
    path = tmp_path / "m.npz"
    stale, fresh, other = tmp_path / ".m.npz.old1.tmp", tmp_path / ".m.npz.live.tmp", tmp_path / ".n.npz.old2.tmp"
    for temp in (stale, fresh, other):
        temp.write_bytes(b"PK\x03\x04 half")
    long_ago = time.time() - atomic.STALE_TEMP_SECONDS - 60
    os.utime(stale, (long_ago, long_ago))
    os.utime(other, (long_ago, long_ago))
    build_mlp([16, 4, 16], ["relu", "sigmoid"]).save(path)
    assert not stale.exists()  # left by a killed save of this file
    assert fresh.exists()  # may be another process's save in progress
    assert other.exists()  # belongs to another file
    MLP.from_file(path)
