"""Row-split matrix products: the product's numbers, reproducibly, only inside the training context."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from engine import parallel


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


@pytest.mark.parametrize("batch", [7, 64, 129])
def test_split_products_match_plain_products_and_repeat_exactly(monkeypatch, batch):
    monkeypatch.setattr(parallel, "SPLIT_MACS", 0)
    rng = np.random.default_rng(batch)
    x = rng.standard_normal((batch, 50), dtype=np.float32)
    w = rng.standard_normal((30, 50), dtype=np.float32)
    g = rng.standard_normal((batch, 30), dtype=np.float32)
    cases = [(x, w.T, (batch, 30)), (g.T, x, (30, 50)), (g, w, (batch, 50))]
    with parallel.training_threads(3):
        assert parallel._split_count() == 3
        split = [parallel.matmul(a, b, out=np.empty(shape, np.float32)) for a, b, shape in cases]
        again = [parallel.matmul(a, b, out=np.empty(shape, np.float32)) for a, b, shape in cases]
    with parallel.training_threads(1):
        plain = [np.matmul(a, b) for a, b, _ in cases]
    for s, a, p in zip(split, again, plain, strict=True):
        np.testing.assert_array_equal(s, a)
        np.testing.assert_allclose(s, p, rtol=1e-5, atol=1e-5)


def test_no_split_outside_training_and_blas_threads_restored():
    before = _blas_threads()
    assert parallel._split_count() == 1
    with parallel.training_threads(2):
        assert all(n == 1 for n in _blas_threads())
    assert parallel._split_count() == 1
    assert _blas_threads() == before


def _train(monkeypatch, prefetch_values: int, stop_after: int | None = None):
    from engine import training
    from engine.callbacks import Callback
    from engine.nn import build_mlp

    monkeypatch.setattr(training, "PREFETCH_VALUES", prefetch_values)
    x = (np.random.default_rng(0).random((700, 784)) > 0.7).astype(np.float32)

    class StopAt(Callback):
        def on_batch_end(self, batch, logs):
            if stop_after is not None and batch == stop_after:
                self.trainer.stop_training = True

    model = build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=1)
    history = model.fit(x, epochs=2, batch_size=256, noise=0.3, seed=4, callbacks=[StopAt()])
    return model.params.copy(), history


def test_batches_prepared_on_another_core_train_exactly_as_in_line(monkeypatch):
    in_line, _ = _train(monkeypatch, prefetch_values=1 << 40)
    ahead, _ = _train(monkeypatch, prefetch_values=1)  # every batch prepared by the pool
    np.testing.assert_array_equal(ahead, in_line)


def test_stopping_mid_epoch_with_a_batch_in_preparation(monkeypatch):
    _, history = _train(monkeypatch, prefetch_values=1, stop_after=0)
    assert len(history.batch_loss) == 1 and history.epochs[-1]["complete"] is False


def test_data_parallel_step_gives_the_whole_batch_gradient():
    from engine.losses import MSE
    from engine.nn import build_mlp

    model = build_mlp([30, 12, 5, 12, 30], ["relu", "tanh", "relu", "sigmoid"], seed=2)
    rng = np.random.default_rng(3)
    x, clean = rng.random((9, 30), dtype=np.float32), rng.random((9, 30), dtype=np.float32)
    loss, grad = MSE().value_and_grad(model.forward(x), clean, out=np.empty_like(x))
    model.backward(grad)
    serial = model.grads.copy()
    with parallel.training_threads(2):
        dp = parallel.DataParallel(model)
        model.grads[:] = 0
        dp_loss = dp.forward_backward(x, clean, MSE(), np.empty_like(x))
    assert dp_loss == pytest.approx(loss, rel=1e-6)
    np.testing.assert_allclose(model.grads, serial, rtol=1e-5, atol=1e-8)


def test_resume_equals_an_uninterrupted_run_with_data_parallel_steps(monkeypatch, tmp_path):
    from engine.nn import MLP, build_mlp
    from engine.training import TrainConfig, Trainer

    monkeypatch.setattr(parallel, "DATA_PARALLEL_MACS", 0)
    x = (np.random.default_rng(5).random((90, 20)) > 0.6).astype(np.float32)
    cfg = TrainConfig(epochs=4, batch_size=16, lr=0.01, noise=0.2, seed=3)
    straight = build_mlp([20, 6, 20], ["relu", "sigmoid"], seed=1)
    straight.fit(x, config=cfg)
    first = build_mlp([20, 6, 20], ["relu", "sigmoid"], seed=1)
    trainer = Trainer(first, TrainConfig(**{**cfg.__dict__, "epochs": 2}))
    trainer.fit(x)
    trainer.save_checkpoint(tmp_path / "run.ckpt.npz", next_epoch=2)
    resumed = MLP.from_file(tmp_path / "run.ckpt.npz")
    resumed.fit(x, config=cfg, initial_epoch=2, optimizer_state=resumed.optimizer_state)
    np.testing.assert_array_equal(resumed.params, straight.params)
