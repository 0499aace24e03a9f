"""The one training loop: hook order, stopping, live learning-rate changes, resume == uninterrupted."""

from __future__ import annotations

import numpy as np
import pytest

from engine.callbacks import Callback
from engine.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from engine.nn import MLP, build_mlp
from engine.training import ResumeState, TrainConfig, Trainer


def tiny_images(n=48, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.uniform(0, 1, (n, 16)) > 0.6).astype(np.float32)


def tiny_model(seed=0) -> MLP:
    return build_mlp([16, 4, 16], ["relu", "sigmoid"], seed=seed)


class Spy(Callback):
    def __init__(self):
        self.calls = []

    def on_train_begin(self, logs):
        self.calls.append("train_begin")

    def on_epoch_begin(self, epoch):
        self.calls.append(f"epoch_begin {epoch}")

    def on_batch_end(self, batch, logs):
        self.calls.append(f"batch {batch}")

    def on_epoch_end(self, epoch, logs):
        self.calls.append(f"epoch_end {epoch}")

    def on_train_end(self, logs):
        self.calls.append("train_end")


def test_hooks_run_in_order_and_logs_are_plain_floats():
    spy = Spy()
    model = tiny_model()
    history = model.fit(tiny_images(32), tiny_images(8, 1), epochs=2, batch_size=16, callbacks=[spy])
    assert spy.calls == [
        "train_begin",
        "epoch_begin 0", "batch 0", "batch 1", "epoch_end 0",
        "epoch_begin 1", "batch 0", "batch 1", "epoch_end 1",
        "train_end",
    ]  # fmt: skip
    assert len(history.batch_loss) == 4 and len(history.epochs) == 2
    for logs in history.epochs:
        assert all(isinstance(v, (float, int, bool)) for v in logs.values())
        assert "val_loss" in logs


def test_training_reduces_the_loss():
    model = tiny_model()
    history = model.fit(tiny_images(), epochs=30, batch_size=8, lr=0.01, noise=0.1)
    assert history.epochs[-1]["loss"] < 0.6 * history.epochs[0]["loss"]


def test_a_callback_can_stop_training_within_one_batch():
    class StopAfterThree(Callback):
        def on_batch_end(self, batch, logs):
            if len(self.trainer.history.batch_loss) == 3:
                self.trainer.stop_training = True

    spy = Spy()
    model = tiny_model()
    before = model.params.copy()
    model.fit(tiny_images(), epochs=5, batch_size=8, callbacks=[StopAfterThree(), spy])
    assert spy.calls.count("batch 0") == 1 and "batch 3" not in spy.calls
    assert spy.calls[-1] == "train_end"
    assert not np.array_equal(model.params, before)
    assert np.all(np.isfinite(model.predict(tiny_images(2))))


def test_time_a_watcher_held_the_run_is_left_out_of_its_epochs_seconds_and_speed(monkeypatch):
    """The app's Pause waits in ``on_batch_end``: an hour paused is not an hour of training, and the epoch's
    images/s (the app's headline, the runs' records) must not count it. The hour passes on a clock moved on."""
    import time
    from types import SimpleNamespace

    from engine import training

    real, moved = time.perf_counter, [0.0]
    monkeypatch.setattr(training, "time", SimpleNamespace(perf_counter=lambda: real() + moved[0]))  # (its clock only)
    logged: list[dict] = []

    class PauseAnHour(Callback):
        def on_batch_end(self, batch, logs):
            logged.append(dict(logs))
            if batch == 1:
                moved[0] += 3600.0
                self.trainer.leave_out(3600.0)

        def on_epoch_end(self, epoch, logs):
            logged.append(dict(logs))

    tiny_model().fit(tiny_images(32), epochs=1, batch_size=8, callbacks=[PauseAnHour()])
    epoch = logged[-1]
    assert epoch["seconds"] < 3600 and epoch["samples_per_s"] > 32 / 3600
    assert logged[2]["samples_per_s"] > 3 * 8 / 3600  # (the batch after the pause, as the app shows it)


def test_each_batch_says_the_pace_of_the_last_second_beside_the_epochs_average(monkeypatch):
    """A slow start (10 s: the epoch's up-front work, a stall), then a batch of 8 every 0.1 s: the epoch's average
    stays far under 80 images a second all epoch, while the live pace is 80 once the start is a second back; a pause
    does not drag it down either."""
    from types import SimpleNamespace

    from engine import training

    clock = [0.0]
    monkeypatch.setattr(training, "time", SimpleNamespace(perf_counter=lambda: clock[0]))  # (its clock only)
    logged: list[dict] = []

    class Paced(Callback):
        def on_batch_end(self, batch, logs):
            logged.append(dict(logs))
            if batch == 30:  # paused for an hour
                clock[0] += 3600.0
                self.trainer.leave_out(3600.0)
            clock[0] += 10.0 if batch == 0 else 0.1

    tiny_model().fit(tiny_images(400), epochs=1, batch_size=8, callbacks=[Paced()])
    assert [round(logs["recent_samples_per_s"], 6) for logs in logged[12:]] == [80.0] * (len(logged) - 12)
    assert all(logs["samples_per_s"] < 30 for logs in logged)


def test_learning_rate_changed_by_a_callback_applies_from_the_next_batch():
    seen = []

    class Halve(Callback):
        def on_batch_end(self, batch, logs):
            seen.append(logs["lr"])
            self.trainer.optimizer.lr = logs["lr"] / 2

    tiny_model().fit(tiny_images(32), epochs=1, batch_size=8, lr=0.08, callbacks=[Halve()])
    assert seen == [0.08, 0.04, 0.02, 0.01]


def test_resume_from_a_checkpoint_equals_an_uninterrupted_run(tmp_path):
    x, x_val = tiny_images(), tiny_images(8, 1)
    cfg = TrainConfig(epochs=4, batch_size=8, lr=0.01, noise=0.2, seed=11)

    straight = tiny_model(seed=3)
    straight.fit(x, x_val, config=cfg)

    first = tiny_model(seed=3)
    trainer = Trainer(first, TrainConfig(**{**cfg.__dict__, "epochs": 2}))
    trainer.fit(x, x_val)
    ckpt = tmp_path / "run.ckpt.npz"
    save_checkpoint(ckpt, trainer, next_epoch=2)

    run = load_checkpoint(ckpt)
    assert run.resume.next_epoch == 2 and run.config == TrainConfig(**{**cfg.__dict__, "epochs": 2})
    run.model.fit(x, x_val, config=cfg, resume=run.resume)
    assert np.array_equal(run.model.params, straight.params)
    assert [e["epoch"] for e in run.model.metadata["history"]["epochs"]] == [0, 1, 2, 3]


def test_resuming_a_finished_run_without_more_epochs_is_refused():
    model = tiny_model()
    with pytest.raises(ValueError, match="already finished 5 epochs"):
        model.fit(tiny_images(), epochs=3, resume=ResumeState(next_epoch=5))


def test_different_seeds_give_different_runs():
    a, b = tiny_model(), tiny_model()
    a.fit(tiny_images(), epochs=1, batch_size=8, seed=1)
    b.fit(tiny_images(), epochs=1, batch_size=8, seed=2)
    assert not np.array_equal(a.params, b.params)


@pytest.mark.parametrize(
    "field, value, message",
    [("epochs", 0, "epochs"), ("batch_size", 0, "batch_size"), ("lr", -0.1, "lr"), ("noise", -1.0, "sigma"),
     ("optimizer", "lbfgs", "optimizer")],
)  # fmt: skip
def test_bad_hyperparameters_are_named(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{field: value})


def test_a_checkpoint_of_an_epoch_cut_short_runs_that_epoch_again(tmp_path):
    class StopMidSecondEpoch(Callback):
        def on_batch_end(self, batch, logs):
            if logs["epoch"] == 1 and batch == 1:
                self.trainer.stop_training = True

    ckpt = tmp_path / "cut.ckpt.npz"
    model = tiny_model()
    model.fit(tiny_images(), epochs=5, batch_size=8, callbacks=[StopMidSecondEpoch(), Checkpoint(ckpt)])
    saved = MLP.from_file(ckpt)
    assert saved.metadata["resume"]["next_epoch"] == 1
    assert [e["complete"] for e in saved.metadata["resume"]["history"]["epochs"]] == [True, False]
    assert np.array_equal(saved.params, model.params)  # the weights so far are kept

    # resuming runs the cut epoch again; the history holds each epoch's batches once
    run = load_checkpoint(ckpt)
    resumed = run.model
    resumed.fit(tiny_images(), epochs=3, batch_size=8, resume=run.resume)
    assert [e["epoch"] for e in resumed.metadata["history"]["epochs"]] == [0, 1, 2]
    assert len(resumed.metadata["history"]["batch_loss"]) == 3 * 6  # 48 images, batches of 8
