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
from engine.data_sources import DATA_ENV
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
    import engine.cli.train

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(engine.cli.train, "build_mlp", no_memory)
    assert main(["train", *TRAIN, "--epochs", "1", "-o", str(tmp_path / "m.npz")]) == 1
    err = capsys.readouterr().err
    assert "out of memory" in err and err.count("\n") == 1


# ----- a signal at each phase of a run: the model or the old file, never nothing -----------------------------------

PHASE_CHILD = r"""
import signal, sys, threading, time
import engine.checkpoint, engine.model_format, engine.nn, engine.training
from engine.cli import main

phase, signals, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
output = argv[argv.index("-o") + 1]
arrived = []

real_signal = signal.signal
def spied_signal(sig, handler):
    if callable(handler):
        inner = handler
        def handler(signum, frame, inner=inner):
            arrived.append(signum)  # counted before the CLI's handler runs (the second one raises)
            return inner(signum, frame)
    return real_signal(sig, handler)
signal.signal = spied_signal

def reach(name):
    if name != phase:
        return
    print(name, flush=True)  # the test sends its signal now
    seen = 0
    while len(arrived) < signals:
        if len(arrived) > seen:  # the same signal sent twice at once arrives once: the test waits for this
            seen = len(arrived)
            print(f"handled {seen}", flush=True)
        time.sleep(0.005)

real_step, calls = engine.training.Trainer.train_step, []
def train_step(self, *args):
    calls.append(1)
    if len(calls) == 11:  # the third batch of the second epoch (8 batches an epoch)
        reach("epoch")
    return real_step(self, *args)
engine.training.Trainer.train_step = train_step

real_epoch_end = engine.checkpoint.Checkpoint.on_epoch_end
def on_epoch_end(self, epoch, logs):
    real_epoch_end(self, epoch, logs)
    if epoch == 0:
        reach("between")  # the first epoch's checkpoint is on disk, the second epoch not begun
engine.checkpoint.Checkpoint.on_epoch_end = on_epoch_end

real_evaluate = engine.nn.MLP.evaluate
def evaluate(self, *args, **kwargs):
    reach("evaluation")
    return real_evaluate(self, *args, **kwargs)
engine.nn.MLP.evaluate = evaluate

real_atomic = engine.model_format.atomic_write
def atomic_write(path, write):
    def slow_write(f):
        write(f)
        f.flush()
        if str(path) == output:
            reach("save")  # the new model is in the temp file, not yet renamed over the old one
    return real_atomic(path, slow_write)
engine.model_format.atomic_write = atomic_write

sys.exit(main(argv))
"""
PHASES = ["epoch", "between", "evaluation", "save"]


def _phase_run(phase: str, sig: int, times: int, data: Path, tmp_path: Path) -> tuple[int, str, Path, Path]:
    out, ckpt = tmp_path / "model.npz", tmp_path / "model.ckpt.npz"
    argv = ["train", *TRAIN, "--epochs", "2", "-o", str(out)]
    env = {**os.environ, "PYTHONPATH": str(REPO), DATA_ENV: str(data)}
    proc = subprocess.Popen([sys.executable, "-c", PHASE_CHILD, phase, str(times), *argv], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    line = proc.stdout.readline().strip()
    assert line == phase, (line, proc.stderr.read() if proc.poll() is not None else "")
    for i in range(times):
        proc.send_signal(sig)
        if i + 1 < times:
            assert proc.stdout.readline().strip() == f"handled {i + 1}"
    try:
        _, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"the child did not finish after {times} signal(s) in phase {phase}")
    return proc.returncode, err, out, ckpt


@posix_only
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("phase", PHASES)
def test_one_signal_at_any_phase_still_saves_a_loadable_model(phase, sig, tiny_mnist, tmp_path):
    old = build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=99)
    old.save(tmp_path / "model.npz")  # a model from an earlier run: replaced by this one
    code, err, out, ckpt = _phase_run(phase, sig, 1, tiny_mnist, tmp_path)
    assert code == 0, err
    assert "Traceback" not in err and "saved" in err
    model = MLP.from_file(out)
    assert not np.array_equal(model.params, old.params)
    epochs = model.metadata["history"]["epochs"]
    checkpoint = MLP.from_file(ckpt).metadata["resume"]
    if phase in ("epoch", "between"):  # stopped early: resumable from the checkpoint
        assert "stopped early" in err
        assert checkpoint["next_epoch"] == 1
        assert len(epochs) == (2 if phase == "epoch" else 1)
        assert epochs[0]["complete"] and (phase == "between" or not epochs[1]["complete"])
    else:  # the run had finished: the signal waits for the save
        assert "finishing the save first" in err and "done" in err
        assert checkpoint["next_epoch"] == 2 and len(epochs) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@posix_only
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("phase", PHASES)
def test_two_signals_at_any_phase_abort_and_keep_the_old_file(phase, sig, tiny_mnist, tmp_path):
    old = build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=99)
    old.save(tmp_path / "model.npz")
    code, err, out, ckpt = _phase_run(phase, sig, 2, tiny_mnist, tmp_path)
    assert code == 1, err
    assert "interrupted" in err and "Traceback" not in err
    np.testing.assert_array_equal(MLP.from_file(out).params, old.params)  # the old file, whole
    assert MLP.from_file(ckpt).metadata["resume"]["next_epoch"] >= 1  # and the last checkpoint
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_resuming_a_finished_checkpoint_saves_its_model(tiny_mnist, tmp_path, capsys):
    """A run killed after its last checkpoint but before its final save loses nothing: --resume writes the model."""
    assert main(["train", *TRAIN, "--epochs", "1", "-o", str(tmp_path / "m.npz")]) == 0
    (tmp_path / "m.npz").unlink()
    capsys.readouterr()
    out = str(tmp_path / "m.npz")
    argv = ["train", "--resume", str(tmp_path / "m.ckpt.npz"), "--epochs", "1", "--quiet", "-o", out]
    assert main(argv) == 0
    assert "already finished 1 epochs: saving its model" in capsys.readouterr().err
    model, ckpt = MLP.from_file(tmp_path / "m.npz"), MLP.from_file(tmp_path / "m.ckpt.npz")
    np.testing.assert_array_equal(model.params, ckpt.params)
    assert len(model.metadata["history"]["epochs"]) == 1 and "resume" not in model.metadata
