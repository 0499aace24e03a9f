"""Training steps on one thread or two: the same numbers, reproducibly, with nothing left running."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from engine.callbacks import Callback
from engine.checkpoint import load_checkpoint, save_checkpoint
from engine.losses import MSE
from engine.nn import build_mlp
from engine.optimizers import SGD, Adam
from engine.steps import DataParallelStep, SerialStep
from engine.training import TrainConfig, Trainer


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def _batch(rows: int, width: int = 30, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((rows, width), dtype=np.float32), rng.random((rows, width), dtype=np.float32)


@pytest.mark.parametrize("rows", [9, 2, 1])
def test_data_parallel_step_gives_the_whole_batch_loss_and_gradient(rows):
    model = build_mlp([30, 12, 5, 12, 30], ["relu", "tanh", "relu", "sigmoid"], seed=2)
    noisy, clean = _batch(rows)
    serial_loss = SerialStep(model, MSE(), 9).gradients(noisy, clean)
    serial = model.grads.copy()
    model.grads[:] = 0
    with DataParallelStep(model, MSE(), 9) as step:
        loss = step.gradients(noisy, clean)
        step.collect_gradients()  # the halves' gradients added (update adds them as it goes)
    assert np.isfinite(loss) and loss == pytest.approx(serial_loss, rel=1e-6)
    np.testing.assert_allclose(model.grads, serial, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("weighted", [False, True])
def test_a_data_parallel_step_gives_the_same_bits_on_one_thread_as_on_two(weighted):
    """When the other core is busy the calling thread runs both halves and every update block itself: the
    numbers must not depend on which thread ran what (a run's bits never depend on the machine's load)."""
    from engine.steps import SPLIT_ELEMENTS

    first = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=4)
    assert first.n_params >= SPLIT_ELEMENTS  # the update is shared between the threads too
    rng = np.random.default_rng(1)
    batches = [(rng.random((33, 784), dtype=np.float32), rng.random((33, 784), dtype=np.float32)) for _ in range(3)]
    weights = rng.uniform(0.5, 2, 33).astype(np.float32) if weighted else None
    results = []
    for threads in (2, 1):
        model, optimizer, losses = first.copy(), Adam(lr=0.01), []
        with DataParallelStep(model, MSE(), 33, threads=threads) as step:
            for source, clean in batches:
                noisy = np.empty_like(source)

                def prepare(lo, hi, source=source, noisy=noisy):  # rows made on the thread that uses them
                    np.clip(source[lo:hi] + 0.1, 0, 1, out=noisy[lo:hi])

                losses.append(step.gradients(noisy, clean, weights, prepare))
                step.update(optimizer)
        results.append((model.params, losses))
    assert not np.array_equal(results[0][0], first.params)
    np.testing.assert_array_equal(results[0][0], results[1][0])
    assert results[0][1] == results[1][1]


def test_a_crew_runs_every_task_once_and_hands_back_an_error():
    from engine.steps import Crew

    crew = Crew(np.geterr())
    try:
        ran = []
        crew.run(ran.append, 50)
        assert sorted(ran) == list(range(50))

        def fail(i):
            if i == 3:
                raise ValueError("task 3 failed")

        with pytest.raises(ValueError, match="task 3"):
            crew.run(fail, 8)
        crew.run(ran.append, 2)  # still usable after an error
        assert sorted(ran[50:]) == [0, 1]
    finally:
        crew.close()


def test_a_replica_shares_the_weights_and_keeps_its_own_gradients():
    model = build_mlp([30, 8, 30], ["relu", "sigmoid"], seed=1)
    replica = model.replica()
    assert replica.params is model.params and replica.grads is not model.grads
    model.params[:5] = 7.0
    assert np.all(replica.layers[0].W.ravel()[:5] == 7.0)  # the same weights, not a copy
    noisy, clean = _batch(4)
    SerialStep(replica, MSE(), 4).gradients(noisy, clean)
    assert replica.grads.any() and not model.grads.any()


@pytest.mark.parametrize(
    "make", [lambda: Adam(lr=0.01), lambda: SGD(lr=0.1, momentum=0.9), lambda: SGD(lr=0.1, momentum=0)]
)
def test_the_optimizer_update_in_blocks_equals_one_pass(make):
    rng = np.random.default_rng(0)
    params = rng.standard_normal(1001, dtype=np.float32)
    whole, blocks = params.copy(), params.copy()
    optimizer, twin = make(), make()
    for _ in range(3):
        grads = rng.standard_normal(1001, dtype=np.float32)
        optimizer.step(whole, grads.copy())
        update = twin.prepare_step(blocks, grads.copy())
        update(500, 1001)
        update(0, 500)
    np.testing.assert_array_equal(blocks, whole)


def _fit(parallel: bool, epochs: int = 3, x=None):
    x = (np.random.default_rng(5).random((90, 20)) > 0.6).astype(np.float32) if x is None else x
    model = build_mlp([20, 6, 20], ["relu", "sigmoid"], seed=1)
    trainer = Trainer(model, TrainConfig(epochs=epochs, batch_size=16, lr=0.01, noise=0.2, seed=3), parallel=parallel)
    trainer.fit(x)
    return model, trainer


def test_data_parallel_training_is_deterministic_and_close_to_serial():
    a, _ = _fit(parallel=True)
    b, _ = _fit(parallel=True)
    serial, _ = _fit(parallel=False)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_allclose(a.params, serial.params, rtol=1e-3, atol=1e-4)


def test_resume_equals_an_uninterrupted_run_with_data_parallel_steps(tmp_path):
    straight, _ = _fit(parallel=True, epochs=4)
    first, trainer = _fit(parallel=True, epochs=2)
    save_checkpoint(tmp_path / "run.ckpt.npz", trainer, next_epoch=2)
    run = load_checkpoint(tmp_path / "run.ckpt.npz")
    x = (np.random.default_rng(5).random((90, 20)) > 0.6).astype(np.float32)
    Trainer(run.model, TrainConfig(**{**run.config.__dict__, "epochs": 4}), parallel=True).fit(x, resume=run.resume)
    np.testing.assert_array_equal(run.model.params, straight.params)


def test_training_runs_blas_on_one_thread_and_leaves_no_thread_or_setting_behind():
    seen = []

    class Watch(Callback):
        def on_batch_end(self, batch, logs):
            seen.append((_blas_threads(), threading.active_count()))

    before_blas, before_threads = _blas_threads(), threading.active_count()
    model = build_mlp([20, 6, 20], ["relu", "sigmoid"], seed=1)
    x = (np.random.default_rng(5).random((40, 20)) > 0.6).astype(np.float32)
    Trainer(model, TrainConfig(epochs=1, batch_size=8), [Watch()], parallel=True).fit(x)
    assert all(all(n == 1 for n in blas) for blas, _ in seen)
    assert seen[0][1] == before_threads + 1  # the data-parallel step's worker, while training
    assert _blas_threads() == before_blas and threading.active_count() == before_threads


def test_the_engine_picks_data_parallel_steps_only_for_large_work():
    from engine.training import make_step

    small = build_mlp([784, 10, 784], ["relu", "sigmoid"], seed=0)
    assert type(make_step(small, MSE(), 32)) is SerialStep
    assert type(make_step(small, MSE(), 128, parallel=True)) is DataParallelStep
    assert type(make_step(small, MSE(), 1, parallel=True)) is SerialStep


def test_the_data_parallel_update_of_a_large_model_equals_the_serial_one():
    from engine.steps import SPLIT_ELEMENTS

    serial_model = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=4)
    assert serial_model.n_params >= SPLIT_ELEMENTS  # large enough for the update to be split in two
    parallel_model = serial_model.copy()
    rng = np.random.default_rng(0)
    gradients = [rng.standard_normal(serial_model.n_params, dtype=np.float32) for _ in range(3)]
    for model, step_type in ((serial_model, SerialStep), (parallel_model, DataParallelStep)):
        optimizer = Adam(lr=0.01)
        with step_type(model, MSE(), 6) as step:
            for grads in gradients:
                model.grads[:] = grads
                step.update(optimizer)
    assert not np.array_equal(parallel_model.params, build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=4).params)
    np.testing.assert_array_equal(parallel_model.params, serial_model.params)


def test_training_leaves_the_blas_setting_alone_when_it_already_runs_on_one_thread(monkeypatch):
    """The app fixes one BLAS thread before it starts any thread; a run inside it must never change the
    process-wide count (a change while another thread is in BLAS can hang OpenBLAS)."""
    import contextlib

    from threadpoolctl import ThreadpoolController, threadpool_limits

    changes = []

    def limit(self, **kwargs):
        changes.append(kwargs)
        return contextlib.nullcontext()

    with threadpool_limits(limits=1, user_api="blas"):
        monkeypatch.setattr(ThreadpoolController, "limit", limit)
        model = build_mlp([20, 6, 20], ["relu", "sigmoid"], seed=1)
        x = (np.random.default_rng(5).random((40, 20)) > 0.6).astype(np.float32)
        Trainer(model, TrainConfig(epochs=1, batch_size=8), parallel=True).fit(x)
    assert changes == []
