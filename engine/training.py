"""The one training loop.  The CLI and the GUI worker watch it through callbacks.

The trainer calls the model's ``forward``/``backward`` and reads its flat ``params`` and
``grads`` vectors; it knows nothing of layers.  Shuffling and noise for epoch ``e`` come from
``default_rng([seed, e])``, so a run resumed at an epoch boundary equals an uninterrupted one.
The noise is an ``EpochNoise`` bank (one Gaussian draw per epoch, read at random offsets):
drawing fresh values for every pixel would cost more than the training step.  While training,
BLAS runs on one thread and ``engine.parallel`` spreads large products, the optimizer step and
the preparation of the next batch over the cores; none of that changes the numbers.
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import asdict, dataclass, fields

import numpy as np

from engine import parallel
from engine.callbacks import Callback, CallbackList, History
from engine.dataset import to_unit_float
from engine.losses import get_loss
from engine.metrics import mse
from engine.noise import EpochNoise, check_sigma, fixed_noisy
from engine.optimizers import OPTIMIZERS, get_optimizer


class TrainingDiverged(RuntimeError):
    """The loss became NaN/inf or exploded; the weights were restored to the last good ones."""


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of a training run (stored in the model file's header)."""

    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.9
    noise: float = 0.1
    seed: int = 0
    loss: str = "mse"

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an int, got {value!r}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        for name in ("lr", "momentum"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{name} must be a number, got {value!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        if not isinstance(self.optimizer, str) or self.optimizer.lower() not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        check_sigma(self.noise)
        get_loss(self.loss)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


class Trainer:
    """Trains ``model`` on clean images, corrupting each batch with fresh Gaussian noise.

    Attributes that callbacks may use: ``model``, ``config``, ``optimizer`` (set ``.lr`` to
    change the learning rate from the next batch), ``stop_training``, ``history``,
    ``n_samples``.
    """

    explode_factor = 1e3
    """A batch loss this many times the run's first is treated as divergence."""

    def __init__(self, model, config: TrainConfig | None = None, callbacks: list[Callback] = ()) -> None:
        self.model = model
        self.config = config or TrainConfig()
        self.loss = get_loss(self.config.loss)
        self.optimizer = get_optimizer(self.config.optimizer, self.config.lr, momentum=self.config.momentum)
        self.history = History()
        self.callbacks = CallbackList([self.history, *callbacks])
        self.stop_training = False
        self.n_samples = 0
        self.epoch = 0

    def fit(
        self,
        x_train: np.ndarray,
        x_val: np.ndarray | None = None,
        *,
        initial_epoch: int = 0,
    ) -> History:
        """Train from ``initial_epoch`` to ``config.epochs``.

        Parameters
        ----------
        x_train : (n, 784) uint8 pixels or float32 in [0, 1] — the clean images.
        x_val : (m, 784), optional — clean test images; each epoch reports ``val_loss`` on
            them corrupted with the fixed evaluation noise.

        Raises ``TrainingDiverged`` (after restoring the last good weights) if the loss
        becomes non-finite or explodes.
        """
        cfg = self.config
        x_train = _as_images(x_train, "x_train", self.model.n_in)
        n = self.n_samples = len(x_train)
        bs = min(cfg.batch_size, n)
        params, grads = self.model.params, self.model.grads
        val_noisy = val_clean = None
        if x_val is not None:
            x_val = _as_images(x_val, "x_val", self.model.n_in)
            val_clean = to_unit_float(x_val) if x_val.dtype == np.uint8 else np.asarray(x_val, np.float32)
            val_noisy = fixed_noisy(val_clean, cfg.noise)
        feed = None
        grad_buf = np.empty((bs, x_train.shape[1]), np.float32)
        good_params = params.copy()
        first_loss = None
        self.stop_training = False
        self.callbacks.set_trainer(self)
        end_logs: dict = {}
        threads = None
        try:  # from here on, on_train_end always runs and the thread settings are always restored
            self.callbacks.on_train_begin({"epochs": float(cfg.epochs), "initial_epoch": float(initial_epoch)})
            # BLAS on one thread; large products split over the cores
            threads = parallel.training_threads().__enter__()
            data_parallel = parallel.DataParallel(self.model) if parallel.DataParallel.usable(self.model, bs) else None
            feed = _BatchFeed(x_train, bs, prefetch=data_parallel is None)
            for epoch in range(initial_epoch, cfg.epochs):
                self.epoch = epoch
                self.callbacks.on_epoch_begin(epoch)
                started = time.perf_counter()  # samples/s counts the shuffle and the noise draw too
                rng = np.random.default_rng([cfg.seed, epoch])
                order = rng.permutation(n)
                noise = EpochNoise(cfg.noise, rng, n, x_train.shape[1], bs)
                np.copyto(good_params, params)
                loss_sum, seen = 0.0, 0
                feed.start(order, noise)
                for batch in range(feed.n_batches):
                    clean, noisy = feed.next(batch)
                    size = len(clean)
                    if data_parallel is not None:  # forward and backward, half a batch on each core
                        loss = data_parallel.forward_backward(noisy, clean, self.loss, grad_buf[:size])
                    else:
                        pred = self.model.forward(noisy)
                        loss, grad = self.loss.value_and_grad(pred, clean, out=grad_buf[:size])
                    if first_loss is None:
                        first_loss = loss
                    if not math.isfinite(loss) or loss > self.explode_factor * max(first_loss, 1e-12):
                        np.copyto(params, good_params)
                        raise TrainingDiverged(
                            f"training diverged at epoch {epoch + 1}, batch {batch + 1} (loss {loss:.4g}); "
                            "weights restored to the start of that epoch — try a smaller learning rate"
                        )
                    if data_parallel is None:
                        self.model.backward(grad)
                    self.optimizer.step(params, grads)
                    seen += size
                    loss_sum += loss * size
                    elapsed = time.perf_counter() - started
                    self.callbacks.on_batch_end(
                        batch,
                        {
                            "loss": loss,
                            "size": size,
                            "epoch": epoch,
                            "lr": self.optimizer.lr,
                            "samples_per_s": seen / elapsed if elapsed > 0 else 0.0,
                            "progress": seen / n,
                        },
                    )
                    if self.stop_training:
                        break
                feed.close()
                if not np.all(np.isfinite(params)):
                    np.copyto(params, good_params)
                    raise TrainingDiverged(f"weights became non-finite in epoch {epoch + 1}; restored")
                seconds = time.perf_counter() - started
                logs = {
                    "epoch": epoch,
                    "loss": loss_sum / max(seen, 1),
                    "seconds": seconds,
                    "samples_per_s": seen / seconds if seconds > 0 else 0.0,
                    "lr": self.optimizer.lr,
                    "complete": seen == n,
                    "batches": -(-seen // bs),
                }
                if val_noisy is not None:
                    pred = self.model.predict(val_noisy)
                    logs["val_loss"] = self.loss.value(pred, val_clean)
                    logs["val_mse"] = mse(pred, val_clean)
                self.callbacks.on_epoch_end(epoch, logs)
                end_logs = logs
                if self.stop_training:
                    break
        except TrainingDiverged as exc:
            end_logs = {"diverged": str(exc)}
            raise
        finally:
            if feed is not None:
                feed.close()
            if threads is not None:
                threads.__exit__(None, None, None)
            end_logs = {**end_logs, "stopped": self.stop_training}
            self.callbacks.on_train_end(end_logs)
        return self.history

    def save_checkpoint(self, path, next_epoch: int) -> None:
        """Weights, optimizer state, config and history: everything ``resume`` needs."""
        self.model.save(
            path,
            optimizer_state=self.optimizer.state_dict(),
            resume={
                "next_epoch": next_epoch,
                "config": asdict(self.config),
                "history": self.history.to_dict(),
            },
        )


def _as_images(x: np.ndarray, name: str, n_pixels: int) -> np.ndarray:
    """x checked as clean images: (n, n_pixels) (or (n, 28, 28)), uint8 pixels or floats in [0, 1]."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array of shape (n, {n_pixels}), got {type(x).__name__}")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold uint8 pixels or floats in [0, 1], got dtype {x.dtype}")
    if x.ndim > 2 and len(x) and math.prod(x.shape[1:]) == n_pixels:
        x = x.reshape(len(x), n_pixels)
    if x.ndim != 2 or len(x) == 0 or x.shape[1] != n_pixels:
        raise ValueError(f"{name} must have shape (n, {n_pixels}) with n >= 1 (the model's input width), got {x.shape}")
    if x.dtype != np.uint8:
        with np.errstate(over="ignore"):
            x = np.asarray(x, np.float32)
        low, high = float(x.min()), float(x.max())
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"{name} contains NaN or infinite values")
        if low < 0 or high > 1:
            raise ValueError(f"{name} values must be in [0, 1] (or uint8 pixels 0-255), got {low:g} to {high:g}")
    return x


PREFETCH_VALUES = 1 << 17
"""Batches of at least this many values (batch x pixels) are prepared on another core."""


class _BatchFeed:
    """One epoch's (clean, noisy) batches, the next one prepared on another core meanwhile.

    Two sets of buffers take turns: while the model trains on batch ``i`` (one set), batch
    ``i + 1`` is gathered, converted and noised into the other (``parallel.submit``).  What a
    batch holds does not depend on the timing.  Batches under ``PREFETCH_VALUES`` values are
    prepared in line: handing them over saved nothing or cost time on a busy 2-core machine
    (784-10-784: about even at batch 128, -25% at 64; +29-37% at batch 512).
    """

    def __init__(self, x: np.ndarray, batch_size: int, prefetch: bool = True) -> None:
        self.x, self.bs = x, batch_size
        shape = (batch_size, x.shape[1])
        u8 = x.dtype == np.uint8
        self._sets = [
            (np.empty(shape, np.float32), np.empty(shape, np.float32), np.empty(shape, np.uint8) if u8 else None)
            for _ in range(2)
        ]
        self._pending = None
        self.n_batches = -(-len(x) // batch_size)
        ahead = prefetch and batch_size * x.shape[1] >= PREFETCH_VALUES
        self._submit = parallel.submit if ahead else _run_now

    def start(self, order: np.ndarray, noise: EpochNoise) -> None:
        self.close()
        self._order, self._noise = order, noise
        self._pending = self._submit(self._prepare, 0)

    def _prepare(self, batch: int) -> tuple[np.ndarray, np.ndarray]:
        idx = self._order[batch * self.bs : (batch + 1) * self.bs]
        clean_buf, noisy_buf, u8_buf = self._sets[batch % 2]
        clean = _gather(self.x, idx, clean_buf[: len(idx)], u8_buf)
        return clean, self._noise.apply(clean, batch, noisy_buf[: len(idx)])

    def next(self, batch: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch ``batch`` (clean, noisy), each (size, n_pixels) float32; starts on ``batch + 1``."""
        clean, noisy = self._pending.result()
        more = batch + 1 < self.n_batches
        self._pending = self._submit(self._prepare, batch + 1) if more else None
        return clean, noisy

    def close(self) -> None:
        """Wait for a batch still being prepared (after a stop), so no buffer is written later."""
        pending, self._pending = self._pending, None
        if pending is not None and not pending.cancel():
            pending.exception()


class _Done:
    """A finished result with the two Future methods ``_BatchFeed`` uses."""

    def __init__(self, value) -> None:
        self.value = value

    def result(self):
        return self.value

    def cancel(self) -> bool:
        return True


def _run_now(fn, *args) -> _Done:
    return _Done(fn(*args))


def _gather(x: np.ndarray, idx: np.ndarray, out: np.ndarray, u8_buf: np.ndarray | None) -> np.ndarray:
    """Rows ``idx`` of x (uint8 or float32) as float32 in [0, 1], into ``out``."""
    if x.dtype == np.uint8:
        rows = np.take(x, idx, axis=0, out=u8_buf[: len(idx)])
        return to_unit_float(rows, out=out)
    return np.take(x, idx, axis=0, out=out)

