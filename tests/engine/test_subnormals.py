"""Subnormal numbers taken as zero while training, on every thread and process a step uses, and only then."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from engine.callbacks import Callback
from engine.contention import Contention
from engine.losses import MSE
from engine.nn import build_mlp
from engine.optimizers import Adam
from engine.steps import DataParallelStep, ProcessParallelStep, SerialStep
from engine.subnormals import flush_subnormals, flushing, supported
from engine.training import TrainConfig, Trainer

pytestmark = pytest.mark.skipif(not supported(), reason="only glibc on x86-64 lets the engine flush subnormals")
TINY = np.finfo(np.float32).tiny  # the smallest normal float32


def _subnormals(a: np.ndarray) -> int:
    return int(np.count_nonzero((a != 0) & (np.abs(a) < TINY)))


def test_flushing_holds_for_the_with_only():
    tiny = np.full(4, 1e-39, np.float32)  # subnormal
    assert not flushing() and _subnormals(tiny * np.float32(0.9)) == 4
    with flush_subnormals():
        assert flushing()
        assert not (tiny * np.float32(0.9)).any()  # results taken as zero
        assert not (tiny + np.float32(0)).any()  # and inputs
        with flush_subnormals(False):
            assert _subnormals(tiny * np.float32(0.9)) == 4
        assert flushing()
    assert not flushing() and _subnormals(tiny * np.float32(0.9)) == 4


def test_the_trainer_flushes_on_its_thread_while_it_trains_and_not_after():
    seen = []

    class Watch(Callback):
        def on_batch_end(self, batch, logs):
            seen.append(flushing())

    model = build_mlp([20, 6, 20], ["relu", "sigmoid"], seed=1)
    x = (np.random.default_rng(5).random((40, 20)) > 0.6).astype(np.float32)
    Trainer(model, TrainConfig(epochs=1, batch_size=8), [Watch()]).fit(x)
    assert seen and all(seen)
    assert not flushing()


@pytest.mark.parametrize("step_kind", ["serial", "processes"])
def test_adams_moments_of_weights_that_stop_learning_reach_zero_on_every_thread_and_process(step_kind):
    """A gradient that becomes zero (a unit that stopped firing) leaves its first moment shrinking by beta1 a step:
    it passes below float32's normal range after ~800 steps.  Flushed, it goes straight to zero wherever the update's
    blocks run; the same bits as on one thread."""
    model = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=4)
    first_grads = np.random.default_rng(0).standard_normal(model.n_params).astype(np.float32) * np.float32(1e-3)

    def run(make_step, flush: bool) -> Adam:
        trained, optimizer = model.copy(), Adam(lr=1e-3)
        with flush_subnormals(flush), make_step(trained, optimizer) as step:
            if isinstance(step, ProcessParallelStep):
                assert step.wait_until_ready(120)
            for i in range(900):
                trained.grads[:] = first_grads if i == 0 else 0
                step.update(optimizer)
            assert getattr(step, "worker_tasks", 1) > 0  # the worker process ran some of the blocks
        return optimizer

    kinds = {
        "serial": lambda m, o: SerialStep(m, MSE(), 8),
        "processes": lambda m, o: ProcessParallelStep(m, MSE(), 8, o, contention=Contention.never()),
    }
    unflushed = run(kinds["serial"], flush=False)
    assert _subnormals(unflushed.m_sum) > 1000  # the slow numbers a run meets
    flushed = run(kinds[step_kind], flush=True)
    assert _subnormals(flushed.m_sum) == 0
    np.testing.assert_array_equal(flushed.m_sum, run(kinds["serial"], flush=True).m_sum)


@pytest.mark.parametrize("flush", [True, False])
def test_a_data_parallel_steps_worker_thread_flushes_as_the_calling_thread_does(flush):
    both_halves = threading.Barrier(2, timeout=60)  # each half's rows wait for the other's: one half on each thread
    seen = {}

    def prepare(lo: int, hi: int) -> None:
        both_halves.wait()
        seen[threading.current_thread().name] = flushing()

    noisy = clean = np.full((8, 20), 0.5, np.float32)
    with flush_subnormals(flush), DataParallelStep(build_mlp([20, 6, 20], ["relu", "sigmoid"]), MSE(), 8) as step:
        step.gradients(noisy, clean, prepare=prepare)
    assert len(seen) == 2 and set(seen.values()) == {flush}
