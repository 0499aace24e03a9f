"""The data-parallel step with its second half in a worker process: the thread step's bits, whoever runs what,
and nothing left running or left in shared memory."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from engine.callbacks import Callback
from engine.checkpoint import load_checkpoint, save_checkpoint
from engine.contention import Contention
from engine.losses import MSE
from engine.nn import build_mlp
from engine.optimizers import SGD, Adam
from engine.steps import SPLIT_ELEMENTS, DataParallelStep, ProcessParallelStep, SerialStep
from engine.tensor_parallel import TensorParallelStep
from engine.training import TrainConfig, Trainer, make_step
from tests.engine.worker_faults import DIE_AFTER_AN_UPDATE_BLOCK, children, in_worker

READY_S = 120.0
"""How long a test waits for a worker process to start (it imports NumPy; a loaded CI machine is slow)."""
ROOT = Path(__file__).resolve().parents[2]


def _batches(count: int, rows: int = 33, width: int = 784, seed: int = 1):
    rng = np.random.default_rng(seed)
    return [(rng.random((rows, width), dtype=np.float32), rng.random((rows, width), dtype=np.float32))
            for _ in range(count)]  # fmt: skip


def _train(step, model, optimizer, batches, weights, ready_after: int | None = None) -> list[float]:
    """Steps over ``batches`` (each image made on the process that uses it, as the trainer does), waiting for the
    worker before batch ``ready_after``."""
    losses = []
    for i, (source, clean) in enumerate(batches):
        if i == ready_after:
            assert step.wait_until_ready(READY_S), "the worker process did not start"
        noisy = np.empty_like(source)

        def prepare(lo, hi, source=source, noisy=noisy):
            np.clip(source[lo:hi] + 0.1, 0, 1, out=noisy[lo:hi])

        losses.append(step.gradients(noisy, clean, weights, prepare))
        step.update(optimizer)
    return losses


@pytest.mark.parametrize("weighted", [False, True])
def test_the_process_step_gives_the_thread_steps_bits_before_and_after_its_worker_is_ready(weighted):
    """The first steps run here (the worker is still starting), the later ones mostly in the worker: every number
    is the same as the thread step's."""
    first = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=4)
    assert first.n_params >= SPLIT_ELEMENTS  # the update is shared with the worker too
    batches = _batches(5, rows=65)
    weights = np.random.default_rng(2).uniform(0.5, 2, 65).astype(np.float32) if weighted else None
    twin, twin_optimizer = first.copy(), Adam(lr=0.01)
    with ProcessParallelStep(twin, MSE(), 65, twin_optimizer, contention=Contention.never()) as step:
        losses = _train(step, twin, twin_optimizer, batches[:2], weights)
        assert step.wait_until_ready(READY_S), "the worker process did not start"
        while step.worker_tasks < 5 and len(losses) < 1000:  # (it takes what it is woken for in time: on a loaded
            # machine it may lose many races, never all)
            losses += _train(step, twin, twin_optimizer, [batches[len(losses) % len(batches)]], weights)
        assert step.worker_tasks >= 5  # the worker ran halves and update blocks
    model, optimizer = first.copy(), Adam(lr=0.01)
    with DataParallelStep(model, MSE(), 65, threads=1) as step:
        expected = _train(step, model, optimizer, [batches[i % len(batches)] for i in range(len(losses))], weights)
    assert losses == expected
    assert not np.array_equal(model.params, first.params)
    np.testing.assert_array_equal(twin.params, model.params)
    np.testing.assert_array_equal(twin_optimizer.m_sum, optimizer.m_sum)
    np.testing.assert_array_equal(twin_optimizer.v_sum, optimizer.v_sum)


def test_weights_and_optimizer_state_come_back_to_arrays_of_their_own():
    """A reference to the weights taken before the step sees the trained ones after it; the optimizer's state is
    writable memory of this process, and training goes on from it with a serial step."""
    model = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=4)
    own = model.params
    optimizer = SGD(lr=0.1, momentum=0.9)
    twin, twin_optimizer = model.copy(), SGD(lr=0.1, momentum=0.9)
    batches = _batches(4)
    with ProcessParallelStep(model, MSE(), 33, optimizer) as step:
        _train(step, model, optimizer, batches[:3], None, ready_after=1)
    with DataParallelStep(twin, MSE(), 33, threads=1) as step:
        _train(step, twin, twin_optimizer, batches[:3], None)
    assert model.params is own
    np.testing.assert_array_equal(own, twin.params)
    np.testing.assert_array_equal(model.grads, twin.grads)  # the last step's gradient, as after any step
    for trained, optimizer_ in ((model, optimizer), (twin, twin_optimizer)):
        with DataParallelStep(trained, MSE(), 33, threads=1) as step:
            _train(step, trained, optimizer_, batches[3:], None)
    np.testing.assert_array_equal(model.params, twin.params)
    np.testing.assert_array_equal(optimizer.velocity, twin_optimizer.velocity)


def test_no_worker_process_outlives_its_step():
    before = children()
    model = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=4)
    with ProcessParallelStep(model, MSE(), 33, Adam()) as step:
        assert step.wait_until_ready(READY_S)
        during = children() - before
        _train(step, model, step.optimizer, _batches(1), None)
    assert len(during) == 1
    assert not during & children()  # ended and waited for: no zombie either


def test_a_worker_killed_mid_run_leaves_the_run_going_with_the_same_bits_and_says_so():
    """Said as the step after the one that finds the end begins (the test waits until the kill has closed the worker's
    pipes: found at once, said within the run)."""
    first = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=4)
    batches = _batches(10)
    model, optimizer = first.copy(), Adam(lr=0.01)
    with DataParallelStep(model, MSE(), 33, threads=1) as step:
        expected = _train(step, model, optimizer, batches, None)
    before = children()
    twin, twin_optimizer = first.copy(), Adam(lr=0.01)
    with ProcessParallelStep(twin, MSE(), 33, twin_optimizer) as step:
        losses = _train(step, twin, twin_optimizer, batches[:3], None, ready_after=0)
        (worker,) = children() - before
        os.kill(worker, signal.SIGKILL)
        os.waitid(os.P_PID, worker, os.WEXITED | os.WNOWAIT)  # until its pipes are closed (left for the step to reap)
        with pytest.warns(RuntimeWarning, match="one core.*SIGKILL"):
            losses += _train(step, twin, twin_optimizer, batches[3:], None)
    assert losses == expected
    np.testing.assert_array_equal(twin.params, model.params)
    assert worker not in children()


def test_a_worker_that_cannot_start_leaves_the_run_on_this_core_with_a_warning(monkeypatch):
    def no_process(*args, **kwargs):
        raise OSError("Resource temporarily unavailable")

    first = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=4)
    batches = _batches(3)
    model, optimizer = first.copy(), Adam(lr=0.01)
    with DataParallelStep(model, MSE(), 33, threads=1) as step:
        expected = _train(step, model, optimizer, batches, None)
    monkeypatch.setattr(subprocess, "Popen", no_process)
    twin, twin_optimizer = first.copy(), Adam(lr=0.01)
    with (
        pytest.warns(RuntimeWarning, match="did not start.*Resource temporarily"),
        ProcessParallelStep(twin, MSE(), 33, twin_optimizer) as step,
    ):
        assert not step.wait_until_ready(0)
        losses = _train(step, twin, twin_optimizer, batches, None)
    assert losses == expected
    np.testing.assert_array_equal(twin.params, model.params)


def test_the_worker_ends_when_the_training_process_is_killed(tmp_path):
    """However the trainer's process ends (here SIGKILL: no clean-up runs), its worker process ends too."""
    script = tmp_path / "trainer.py"
    script.write_text(textwrap.dedent("""
        import os, signal
        from engine.losses import MSE
        from engine.nn import build_mlp
        from engine.steps import ProcessParallelStep

        model = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=4)
        step = ProcessParallelStep(model, MSE(), 33).__enter__()
        assert step.wait_until_ready(120)
        children = open(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read().split()
        print(*children, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    trainer = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert trainer.returncode == -signal.SIGKILL, trainer.stderr
    (worker,) = map(int, trainer.stdout.split())
    try:
        ended = os.pidfd_open(worker)
    except ProcessLookupError:
        return  # already gone
    try:
        readable, _, _ = select.select([ended], [], [], READY_S)
    finally:
        os.close(ended)
    assert readable, "the worker process still runs after its trainer was killed"


def _fit(parallel, epochs: int, x: np.ndarray, resume=None, config=None, model=None):
    model = model or build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=1)
    config = config or TrainConfig(epochs=epochs, batch_size=32, lr=0.01, noise=0.2, seed=3)
    trainer = Trainer(model, config, parallel=parallel)
    trainer.fit(x, resume=resume)
    return model, trainer


def test_a_run_in_two_processes_resumes_bit_for_bit_and_equals_the_thread_run(tmp_path):
    x = (np.random.default_rng(5).random((160, 784)) > 0.6).astype(np.float32)
    straight, _ = _fit("processes", 4, x)
    threads, _ = _fit(True, 4, x)
    np.testing.assert_array_equal(straight.params, threads.params)
    _, trainer = _fit("processes", 2, x)
    save_checkpoint(tmp_path / "run.ckpt.npz", trainer, next_epoch=2)
    run = load_checkpoint(tmp_path / "run.ckpt.npz")
    config = TrainConfig(**{**run.config.__dict__, "epochs": 4})
    _fit("processes", 4, x, resume=run.resume, config=config, model=run.model)
    np.testing.assert_array_equal(run.model.params, straight.params)


def test_a_diverging_run_in_two_processes_restores_the_weights_it_started_the_epoch_with():
    class Blow(Callback):
        def on_batch_end(self, batch, logs):
            if batch == 2:
                self.trainer.optimizer.lr = 1e38  # the weights overflow

    from engine.training import TrainingDiverged

    model = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=1)
    start = model.params.copy()
    x = (np.random.default_rng(5).random((320, 784)) > 0.6).astype(np.float32)
    with pytest.raises(TrainingDiverged):
        Trainer(model, TrainConfig(epochs=1, batch_size=32, lr=0.01), [Blow()], parallel="processes").fit(x)
    np.testing.assert_array_equal(model.params, start)


def test_the_engine_runs_large_steps_in_two_processes_and_small_ones_serially(monkeypatch):
    import engine.training

    large = build_mlp([784, 256, 64, 256, 784], ["relu", "relu", "relu", "sigmoid"], seed=0)
    small = build_mlp([784, 10, 784], ["relu", "sigmoid"], seed=0)
    gated = build_mlp([784, 256, 784], ["relu", "sigmoid"], seed=0, skip="gate")
    monkeypatch.setattr(engine.training, "available_cores", lambda: 2)
    assert type(make_step(large, MSE(), 128)) is TensorParallelStep
    assert type(make_step(gated, MSE(), 256)) is ProcessParallelStep  # a skip path: its units cannot be split
    with pytest.raises(ValueError, match="without a skip path"):
        make_step(gated, MSE(), 256, parallel="units")
    assert type(make_step(small, MSE(), 128)) is SerialStep
    assert type(make_step(small, MSE(), 512)) is DataParallelStep  # a large batch: long calls, the lock costs little
    assert type(make_step(small, MSE(), 8192)) is ProcessParallelStep  # a narrow layer: split by rows, not units
    assert type(make_step(build_mlp([784, 64, 784], ["relu", "sigmoid"]), MSE(), 128)) is TensorParallelStep
    assert type(make_step(large, MSE(), 128, parallel=False)) is SerialStep
    monkeypatch.setattr(engine.training, "available_cores", lambda: 1)
    assert type(make_step(large, MSE(), 128)) is SerialStep
    with pytest.raises(ValueError, match="parallel must be"):
        make_step(large, MSE(), 128, parallel="threads")


def test_a_gated_model_with_weighted_noise_levels_trains_to_the_same_bits_in_two_processes():
    x = (np.random.default_rng(5).random((192, 784)) > 0.6).astype(np.float32)
    config = TrainConfig(epochs=2, batch_size=64, lr=0.01, noise=(0.0, 0.5), noise_weighting=0.1)
    trained = []
    for parallel in ("processes", True):
        model = build_mlp([784, 128, 784], ["relu", "sigmoid"], seed=1, skip="gate")
        Trainer(model, config, parallel=parallel).fit(x)
        trained.append(model.params)
    np.testing.assert_array_equal(*trained)


@pytest.mark.filterwarnings("error:training continues:RuntimeWarning")  # (not "continues": the run stops)
def test_a_worker_that_ends_in_the_middle_of_an_update_block_stops_the_run_with_a_clear_error(tmp_path, monkeypatch):
    """A block half updated cannot be run again (its gradient would be added in twice, Adam's step taken twice): the
    run must stop and say so, not go on with wrong weights."""
    in_worker(tmp_path, monkeypatch, DIE_AFTER_AN_UPDATE_BLOCK)
    model = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=4)
    optimizer = Adam(lr=0.01)
    with ProcessParallelStep(model, MSE(), 33, optimizer) as step:
        assert step.wait_until_ready(READY_S)
        with pytest.raises(RuntimeError, match="ended while it updated the weights"):
            for _ in range(2000):  # until the worker takes a block (it takes one in the first few, mostly)
                model.grads[:] = 1e-3
                step.update(optimizer)


def test_the_worker_starts_whatever_folder_the_trainer_runs_in(tmp_path, monkeypatch):
    """A folder with a package named like the engine's (a user's project) is not where the worker finds its code."""
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "__init__.py").write_text("raise ImportError('not the engine')\n")
    monkeypatch.chdir(tmp_path)
    model = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=4)
    with ProcessParallelStep(model, MSE(), 33, Adam()) as step:
        assert step.wait_until_ready(READY_S)


def test_a_stopped_worker_never_stops_the_run(tmp_path):
    """A worker that is stopped (SIGSTOP, a debugger) reads no wake-ups: the run goes on here, past the ~65,000 a pipe
    holds, instead of waiting on a full pipe (the worker not ended for being stopped: ``STOPPED_S`` made longer than
    the run)."""
    script = tmp_path / "trainer.py"
    script.write_text(textwrap.dedent("""
        import os, signal
        import numpy as np
        from engine import shared_memory
        from engine.losses import MSE
        from engine.nn import build_mlp
        from engine.steps import ProcessParallelStep

        shared_memory.STOPPED_S = 1e9

        model = build_mlp([8, 4, 8], ["relu", "sigmoid"], seed=4)
        noisy = clean = np.full((2, 8), 0.5, np.float32)
        with ProcessParallelStep(model, MSE(), 2) as step:
            assert step.wait_until_ready(120)
            (worker,) = map(int, open(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read().split())
            print(worker, flush=True)
            os.kill(worker, signal.SIGSTOP)
            for _ in range(70_000):
                step.gradients(noisy, clean)
            os.kill(worker, signal.SIGCONT)
        print("went on", flush=True)
    """))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    trainer = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env)  # fmt: skip
    worker = None
    try:
        ready, _, _ = select.select([trainer.stdout], [], [], READY_S)
        assert ready, "the trainer did not start its worker"
        worker = int(trainer.stdout.readline())
        out, err = trainer.communicate(timeout=300)
    except BaseException:  # (a hang: the trainer ends here, and its stopped worker, which would never end by itself)
        if worker is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, signal.SIGKILL)
        trainer.kill()
        trainer.wait()
        raise
    assert trainer.returncode == 0, err
    assert "went on" in out
