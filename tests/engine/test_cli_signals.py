"""Ctrl-C on ``python -m engine train``: a clean stop, a resumable checkpoint and the model saved; ``--resume``
continues.  Also what the CLI says about checkpoints it cannot resume from."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main
from engine.download import DATA_ENV
from engine.model_format import ModelFileError, read_model
from engine.nn import MLP, build_mlp

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 60.0
TRAIN = ["--train-size", "64", "--test-size", "16", "--batch-size", "8", "--layers", "784:8:relu,784:sigmoid",
         "--quiet"]  # fmt: skip

posix_only = pytest.mark.skipif(os.name != "posix", reason="sends POSIX signals")


def _start(args: list[str], data: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), DATA_ENV: str(data)}
    return subprocess.Popen(
        [sys.executable, "-m", "engine", "train", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(condition, proc: subprocess.Popen, what: str, timeout: float = TIMEOUT):
    """Poll the filesystem until ``condition()`` is truthy; fail (and kill the child) after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc.poll() is not None:
            pytest.fail(f"the child exited ({proc.returncode}) before {what}: {proc.stderr.read()}")
        time.sleep(0.02)
    proc.kill()
    proc.communicate()
    pytest.fail(f"timed out waiting for {what}")


def _next_epoch(path: Path) -> int:
    """The checkpoint's next epoch, or 0 while it does not exist yet (saves are atomic: never half a file)."""
    try:
        header, _ = read_model(path)
    except ModelFileError as exc:
        assert exc.problem == "file not found", exc  # never a damaged checkpoint
        return 0
    return header["metadata"]["resume"]["next_epoch"]


def _interrupt(proc: subprocess.Popen, times: int = 1) -> tuple[int, str]:
    """Press Ctrl-C ``times`` times, then wait for the child: (exit code, stderr)."""
    for _ in range(times):
        proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"the child did not stop after {times} Ctrl-C")
    return proc.returncode, err


@posix_only
def test_ctrl_c_saves_a_checkpoint_and_the_model_and_resume_continues(tiny_mnist, tmp_path):
    out, ckpt = tmp_path / "model.npz", tmp_path / "model.ckpt.npz"
    proc = _start([*TRAIN, "--epochs", "100000", "-o", str(out)], tiny_mnist)
    _wait_for(lambda: _next_epoch(ckpt) >= 2, proc, "the second checkpoint")
    code, err = _interrupt(proc)
    assert code == 0, err
    assert "stopping after this batch" in err
    assert f"stopped early; resume with --resume {ckpt}" in err
    assert "Traceback" not in err

    model = MLP.from_file(out)
    first = MLP.from_file(ckpt)
    resume = first.metadata["resume"]
    assert resume["next_epoch"] >= 2
    assert "t" in first.optimizer_state and len(first.optimizer_state) >= 3  # Adam's step count and moments
    assert np.all(np.isfinite(model.params)) and np.all(np.isfinite(first.params))
    # the model's history has every epoch started; an epoch cut short is the checkpoint's next epoch
    saved_epochs = model.metadata["history"]["epochs"]
    assert [e["epoch"] for e in saved_epochs] == list(range(len(saved_epochs)))
    complete = [e for e in saved_epochs if e["complete"]]
    assert len(complete) == resume["next_epoch"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".npz") == ["model.ckpt.npz", "model.npz"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

    # --resume continues from that checkpoint (with the run's saved settings) until the next Ctrl-C
    out2, ckpt2 = tmp_path / "resumed.npz", tmp_path / "resumed.ckpt.npz"
    proc = _start(["--resume", str(ckpt), "--quiet", "-o", str(out2)], tiny_mnist)
    _wait_for(lambda: _next_epoch(ckpt2) > resume["next_epoch"], proc, "a checkpoint after the resumed epoch")
    code, err = _interrupt(proc)
    assert code == 0, err
    resumed = MLP.from_file(out2)
    epochs = resumed.metadata["history"]["epochs"]
    assert len(epochs) > resume["next_epoch"]
    assert [e["epoch"] for e in epochs] == list(range(len(epochs)))  # epoch numbers carry on, no gap or repeat
    before = [e for e in first.metadata["resume"]["history"]["epochs"] if e["epoch"] < resume["next_epoch"]]
    assert epochs[: resume["next_epoch"]] == before
    assert resumed.metadata["training"]["optimizer"] == "adam"
    assert not np.array_equal(resumed.params, first.params)  # it trained further


@posix_only
def test_a_second_ctrl_c_aborts_and_loses_nothing(tiny_mnist, tmp_path):
    out, ckpt = tmp_path / "model.npz", tmp_path / "model.ckpt.npz"
    proc = _start([*TRAIN, "--epochs", "100000", "-o", str(out)], tiny_mnist)
    _wait_for(lambda: _next_epoch(ckpt) >= 1, proc, "the first checkpoint")
    _, err = _interrupt(proc, times=2)
    # Depending on where the second signal lands, the run aborts (1) or has already saved and finished (0).
    assert proc.returncode in (0, 1), err
    assert "Traceback" not in err
    if proc.returncode == 1:
        assert "interrupted" in err
    assert MLP.from_file(ckpt).metadata["resume"]["next_epoch"] >= 1
    if out.exists():
        MLP.from_file(out)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@posix_only
def test_sigterm_stops_as_cleanly_as_ctrl_c(tiny_mnist, tmp_path):
    out, ckpt = tmp_path / "model.npz", tmp_path / "model.ckpt.npz"
    proc = _start([*TRAIN, "--epochs", "100000", "-o", str(out)], tiny_mnist)
    _wait_for(lambda: _next_epoch(ckpt) >= 1, proc, "the first checkpoint")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, err
    assert "stopped early" in err
    assert MLP.from_file(ckpt).metadata["resume"]["next_epoch"] >= 1
    assert np.all(np.isfinite(MLP.from_file(out).params))


def test_main_works_outside_the_main_thread(tiny_mnist, tmp_path):
    """Signal handlers cannot be set from other threads: the CLI then trains without them."""
    result = []
    before = signal.getsignal(signal.SIGINT)
    args = ["train", *TRAIN, "--epochs", "1", "-o", str(tmp_path / "m.npz")]
    thread = threading.Thread(target=lambda: result.append(main(args)))
    thread.start()
    thread.join(TIMEOUT)
    assert result == [0]
    assert signal.getsignal(signal.SIGINT) is before


# ----- checkpoints the CLI cannot resume from: exit 1 with a one-line reason ------------------------------------


def _resume(tmp_path, ckpt, capsys) -> tuple[int, str]:
    code = main(["train", "--resume", str(ckpt), "--quiet", "-o", str(tmp_path / "out.npz")])
    return code, capsys.readouterr().err


def test_resuming_from_a_plain_model_says_it_is_not_a_checkpoint(tiny_mnist, tmp_path, capsys):
    build_mlp([784, 8, 784], ["relu", "sigmoid"]).save(tmp_path / "plain.npz")
    code, err = _resume(tmp_path, tmp_path / "plain.npz", capsys)
    assert code == 1
    assert "plain.npz" in err and "not a training checkpoint" in err
    assert not (tmp_path / "out.npz").exists()


@pytest.mark.parametrize(
    "resume",
    [{"next_epoch": "two", "config": {}}, {"next_epoch": 1}, {"next_epoch": 1, "config": {"lr": -5}},
     {"next_epoch": 1, "config": {}, "history": {"epochs": "many"}}, "yes"],
)  # fmt: skip
def test_resuming_from_damaged_resume_information_is_a_clear_error(resume, tiny_mnist, tmp_path, capsys):
    net = build_mlp([784, 8, 784], ["relu", "sigmoid"])
    net.save(tmp_path / "bad.ckpt.npz", resume=resume)
    code, err = _resume(tmp_path, tmp_path / "bad.ckpt.npz", capsys)
    assert code == 1, err
    assert "bad.ckpt.npz" in err and "checkpoint" in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_resuming_with_optimizer_state_of_another_model(tiny_mnist, tmp_path, capsys):
    net = build_mlp([784, 8, 784], ["relu", "sigmoid"])
    state = {"t": np.array(3), "velocity": np.zeros(net.n_params, np.float32)}  # SGD's state, config says adam
    net.save(tmp_path / "x.ckpt.npz", optimizer_state=state, resume={"next_epoch": 1, "config": {"epochs": 3}})
    code, err = _resume(tmp_path, tmp_path / "x.ckpt.npz", capsys)
    assert code == 1
    assert "optimizer" in err and "Traceback" not in err


def test_resuming_from_a_missing_or_garbage_file(tiny_mnist, tmp_path, capsys):
    code, err = _resume(tmp_path, tmp_path / "nope.ckpt.npz", capsys)
    assert code == 1 and "nope.ckpt.npz" in err
    (tmp_path / "junk.npz").write_bytes(b"\x00" * 100)
    code, err = _resume(tmp_path, tmp_path / "junk.npz", capsys)
    assert code == 1 and "junk.npz" in err and "not a Denoise Studio model" in err


def test_output_that_is_a_folder_is_refused_before_training(tiny_mnist, tmp_path, capsys):
    (tmp_path / "out").mkdir()
    code = main(["train", *TRAIN, "--epochs", "1", "-o", str(tmp_path / "out")])
    assert code == 2
    assert "is a folder" in capsys.readouterr().err
    assert not list((tmp_path / "out").iterdir())


def test_checkpoint_and_output_must_differ(tiny_mnist, tmp_path, capsys):
    same = str(tmp_path / "m.npz")
    code = main(["train", *TRAIN, "--epochs", "1", "-o", same, "--checkpoint", same])
    assert code == 2
    assert "different" in capsys.readouterr().err


def test_absurd_layer_widths_are_a_usage_error(capsys):
    assert main(["train", "--layers", "784:99999999999:relu,784:sigmoid"]) == 2
    assert "between 1 and 16384" in capsys.readouterr().err


def test_running_out_of_memory_is_a_one_line_error(tiny_mnist, tmp_path, capsys, monkeypatch):
    import engine.cli

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(engine.cli, "build_mlp", no_memory)
    assert main(["train", *TRAIN, "--epochs", "1", "-o", str(tmp_path / "m.npz")]) == 1
    err = capsys.readouterr().err
    assert "out of memory" in err and err.count("\n") == 1
