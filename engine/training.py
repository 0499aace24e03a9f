"""The one training loop.  The CLI and the GUI worker watch it through callbacks.

Skeleton (Keras / minGPT): begin -> for each epoch: epoch_begin -> for each batch: ``train_step``
-> batch_end -> stop? -> validation -> epoch_end -> end.  The trainer calls the model's
``forward``/``backward`` (through a step from ``engine.steps``) and the optimizer on the flat
``params``/``grads`` vectors; it knows nothing of layers.

Shuffling and noise for epoch ``e`` come from ``default_rng([seed, e])``, so a run resumed at an
epoch boundary equals an uninterrupted one.  The noise is an ``EpochNoise`` bank (one random
draw per epoch, read at random offsets): drawing fresh values for every pixel would cost more
than the training step.  With a noise range each image also draws its own level from it.
"""

from __future__ import annotations

import itertools
import math
import numbers
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from functools import partial
from types import MappingProxyType

import numpy as np

from engine.callbacks import CallbackList, History
from engine.images import as_unit_float, check_clean_images, to_unit_float
from engine.losses import get_loss, noise_level_weights
from engine.metrics import mse
from engine.noise import EpochNoise, NoiseSetting, check_kind, check_noise, fixed_noisy
from engine.optimizers import OPTIMIZERS, get_optimizer
from engine.pace import Pace
from engine.run_limits import TRAINING_BOUNDS
from engine.shared_memory import Note, warn
from engine.steps import DataParallelStep, ProcessParallelStep, SerialStep, available_cores, using_blas_threads
from engine.subnormals import flush_subnormals
from engine.tensor_parallel import STORES_IN_ORDER, TensorParallelStep, supports


class TrainingDiverged(RuntimeError):
    """The loss became NaN/inf or exploded; the weights were restored to the last good ones."""


QUIET_FLOATS = MappingProxyType({"over": "ignore", "invalid": "ignore", "divide": "ignore"})
"""NumPy's floating-point warnings while training: silenced.  An overflow makes an inf or a NaN, which the
loop finds in the loss (every batch) or the weights (every epoch) and ends as divergence, restoring the last
good weights and saying to lower the rate; a warning printed on the way would only be noise."""


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of a training run (stored in the model file's header).

    ``noise`` is one level (σ for Gaussian noise, the fraction of pixels hit for the other
    kinds) or a ``(low, high)`` range from which each training image draws its own level;
    ``noise_kind`` is ``"gaussian"``, ``"salt_and_pepper"`` or ``"masking"``.  A range whose
    ends are equal is stored as one level.  ``noise_weighting`` c (a range only): each image's
    loss is divided by ``level^2 + c`` (``engine.losses.noise_level_weights``), so light noise
    counts as much as heavy; None weighs every image alike.  Every number is finite and within the
    bounds of ``engine.run_limits`` (the rule the CLI's flags and the model file obey too).
    """

    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.9
    noise: float | tuple[float, float] = 0.1
    seed: int = 0
    loss: str = "mse"
    noise_kind: str = "gaussian"
    noise_weighting: float | None = None

    def __post_init__(self) -> None:
        for name, bound in TRAINING_BOUNDS.items():  # finite and within the bounds every run obeys
            object.__setattr__(self, name, bound.check(getattr(self, name)))
        if not isinstance(self.optimizer, str) or self.optimizer.lower() not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        kind = check_kind(self.noise_kind)
        low, high = check_noise(self.noise, kind)
        object.__setattr__(self, "noise_kind", kind)
        object.__setattr__(self, "noise", low if low == high else (low, high))
        get_loss(self.loss)
        c = self.noise_weighting
        if c is not None:
            if isinstance(c, bool) or not isinstance(c, numbers.Real):
                raise TypeError(f"noise_weighting must be a number or None, got {c!r}")
            if not (math.isfinite(c) and c > 0):
                raise ValueError(f"noise_weighting must be a finite number > 0 (or None), got {c!r}")
            if low == high:
                raise ValueError("noise_weighting weighs images by their noise level: it needs a noise range")
            object.__setattr__(self, "noise_weighting", float(c))

    @property
    def noise_setting(self) -> NoiseSetting:
        """The run's noise as kind and range (``default_level`` is what validation scores at)."""
        low, high = self.noise if isinstance(self.noise, tuple) else (self.noise, self.noise)
        return NoiseSetting(self.noise_kind, low, high)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


@dataclass
class ResumeState:
    """Where an interrupted run continues: its next epoch, the optimizer's state, the history so far.

    ``engine.checkpoint`` saves and loads it; ``Trainer.fit(resume=...)`` continues from it.
    """

    next_epoch: int
    optimizer_state: dict[str, np.ndarray] = field(default_factory=dict)
    history: History = field(default_factory=History)


class Trainer:
    """Trains ``model`` on clean images, corrupting each batch with fresh noise of the config's kind and level(s).

    Attributes that callbacks may use: ``model``, ``config``, ``optimizer`` (set ``.lr`` to
    change the learning rate from the next batch), ``stop_training``, ``history``,
    ``n_samples``, ``epoch``.

    ``parallel``: split each layer's units with a worker process (``"units"``), run steps data-parallel, the second
    half-batch in a worker process (``"processes"``) or on a worker thread (``True``), on this thread alone
    (``False``), or as ``make_step`` decides from the model and batch sizes (``None``).
    """

    explode_factor = 1e3
    """A batch loss this many times the run's first is treated as divergence."""
    blas_threads = 1
    """BLAS threads while training (``engine.steps`` says why one; benchmarks compare more)."""
    flush_subnormals = True
    """Take subnormal numbers as zero while training (``engine.subnormals``: they cost ~15x a normal number each;
    ``bench/train_speed.py --subnormals`` compares)."""
    float_errors = QUIET_FLOATS
    """``np.errstate`` settings while training, set once a run (``bench/train_speed.py --float-errors`` compares
    NumPy's defaults)."""

    def __init__(
        self, model, config: TrainConfig | None = None, callbacks=(), *, parallel: bool | str | None = None
    ) -> None:
        self.model = model
        self.config = config or TrainConfig()
        self.loss = get_loss(self.config.loss)
        self.optimizer = get_optimizer(self.config.optimizer, self.config.lr, momentum=self.config.momentum)
        self.history = History()
        self.callbacks = CallbackList([self.history, *callbacks])
        self.parallel = parallel
        self.stop_training = False
        self.n_samples = 0
        self.epoch = 0
        self._first_loss: float | None = None
        self._good_params: np.ndarray | None = None  # the weights at the epoch's start
        self._epoch_started = 0.0  # (perf_counter seconds) the epoch's start, moved on by time held out of it
        self._pace = Pace()  # images a second over the last batches: the batches' "recent_samples_per_s"

    def fit(
        self, x_train: np.ndarray, x_val: np.ndarray | None = None, *, resume: ResumeState | None = None
    ) -> History:
        """Train from epoch 0 (or ``resume.next_epoch``) to ``config.epochs``.

        Parameters
        ----------
        x_train : (n, 784) uint8 pixels or float32 in [0, 1] — the clean images.
        x_val : (m, 784), optional — clean test images; each epoch reports ``val_loss`` and
            ``val_mse`` on them corrupted with the fixed evaluation noise of the config's kind at
            its level (the middle of a range).
        resume : continue an interrupted run (see ``engine.checkpoint``).

        Raises ``TrainingDiverged`` (after restoring the last good weights) if the loss
        becomes non-finite or explodes.  The callbacks' ``on_train_end`` logs say how the run
        ended: ``stopped``, and ``diverged`` or ``failed`` (the reason, text) when it raised.
        """
        cfg = self.config
        x_train = check_clean_images(x_train, "x_train", self.model.n_in)
        validation = None if x_val is None else _Validation(check_clean_images(x_val, "x_val", self.model.n_in), cfg)
        first_epoch = self._resume(resume) if resume is not None else 0
        self.n_samples = len(x_train)
        batch_size = min(cfg.batch_size, len(x_train))
        batches = _Batches(x_train, batch_size)
        self.stop_training = False
        self._first_loss = None
        self._good_params = np.empty_like(self.model.params)
        self.callbacks.set_trainer(self)
        end_logs: dict = {}
        try:  # from here on, on_train_end always runs
            self.callbacks.on_train_begin({"epochs": float(cfg.epochs), "initial_epoch": float(first_epoch)})
            with (
                using_blas_threads(self.blas_threads),
                np.errstate(**self.float_errors),  # once a run, not a batch: the hot loop pays nothing
                flush_subnormals(self.flush_subnormals),
                make_step(self.model, self.loss, batch_size, self.parallel, self.optimizer, self.note) as step,
            ):
                for epoch in range(first_epoch, cfg.epochs):
                    end_logs = self._run_epoch(epoch, batches, step, validation)
                    if self.stop_training:
                        break
        except TrainingDiverged as exc:
            end_logs = {"diverged": str(exc)}
            raise
        except BaseException as exc:  # the watchers hear that the run failed (an error, Ctrl-C twice), and why
            end_logs = {"failed": f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__}
            raise
        finally:
            self.callbacks.on_train_end({**end_logs, "stopped": self.stop_training})
        return self.history

    def leave_out(self, seconds: float) -> None:
        """``seconds`` the run was held by one of its watchers and did not train (the app's Pause, which waits in
        ``on_batch_end``): left out of the epoch's seconds and images/s, as of the next batch's logs."""
        self._epoch_started += seconds
        self._pace.leave_out(seconds)

    def note(self, text: str) -> None:
        """Tell the user something about the run that does not stop it (its step's worker process ended: training
        continues on one core): the callbacks' ``on_note``, or a ``RuntimeWarning`` when none of them hears notes."""
        if self.callbacks.hears_notes:
            self.callbacks.on_note(text)
        else:
            warnings.warn(text, RuntimeWarning, stacklevel=2)

    def train_step(
        self,
        step,
        noisy: np.ndarray,
        clean: np.ndarray,
        weights: np.ndarray | None = None,
        prepare: Callable[[int, int], None] | None = None,
        prepare_next: Callable[[], None] | None = None,
    ) -> float:
        """One batch: gradients (forward, loss, backward), the divergence check, the optimizer update.

        weights: (batch,) per-image loss weights (``TrainConfig.noise_weighting``), or None.  ``prepare(lo, hi)``,
        if given, fills rows ``lo:hi`` of ``noisy`` and ``clean``: the step calls it for each part of the batch it
        computes, so a data-parallel step makes its halves' rows on their own threads.  ``prepare_next()``, if
        given, makes the next batch's images once this one's are used: during the update, beside a worker's share
        of it."""
        loss = step.gradients(noisy, clean, weights, prepare)
        if self._first_loss is None:
            self._first_loss = loss
        if not math.isfinite(loss) or loss > self.explode_factor * max(self._first_loss, 1e-12):
            raise TrainingDiverged(f"loss {loss:.4g}")
        step.update(self.optimizer, prepare_next)
        return loss

    def _run_epoch(self, epoch: int, batches: _Batches, step, validation: _Validation | None) -> dict:
        cfg, params = self.config, self.model.params
        self.epoch = epoch
        self.callbacks.on_epoch_begin(epoch)
        self._epoch_started = time.perf_counter()  # samples/s counts the shuffle and the noise draw too
        self._pace.restart(self._epoch_started)
        rng = np.random.default_rng([cfg.seed, epoch])
        order = rng.permutation(self.n_samples)
        noise = EpochNoise(cfg.noise, rng, self.n_samples, self.model.n_in, batches.size, kind=cfg.noise_kind)
        weights = None  # (n_samples,): image i of the epoch's order weighs weights[i]
        if cfg.noise_weighting is not None and noise.levels is not None:
            weights = noise_level_weights(noise.levels[:, 0], cfg.noise_weighting, noise.low, noise.high)
        good_params = self._good_params
        np.copyto(good_params, params)  # restored if the epoch diverges
        loss_sum, seen = 0.0, 0
        upcoming = batches.epoch(order, noise)
        following = next(upcoming, None)
        ready = False  # the batch's images are made (during the last batch's update)
        for batch in itertools.count():
            if following is None:
                break
            clean, noisy, prepare = following
            following = next(upcoming, None)
            prepare_next = None
            if following is not None and step.overlaps_next_batch:
                prepare_next = partial(following[2], 0, len(following[0]))
            batch_weights = None if weights is None else weights[seen : seen + len(clean)]
            try:
                loss = self.train_step(step, noisy, clean, batch_weights, None if ready else prepare, prepare_next)
                ready = prepare_next is not None
            except TrainingDiverged as exc:
                np.copyto(params, good_params)
                raise TrainingDiverged(
                    f"training diverged at epoch {epoch + 1}, batch {batch + 1} ({exc}); "
                    "weights restored to the start of that epoch — try a smaller learning rate"
                ) from None
            seen += len(clean)
            loss_sum += loss * len(clean)
            now = time.perf_counter()
            elapsed = now - self._epoch_started
            logs = {
                "loss": loss,
                "size": len(clean),
                "epoch": epoch,
                "lr": self.optimizer.lr,
                "samples_per_s": seen / elapsed if elapsed > 0 else 0.0,
                "recent_samples_per_s": self._pace.add(now, seen),
                "progress": seen / self.n_samples,
            }
            self.callbacks.on_batch_end(batch, logs)
            if self.stop_training:
                break
        if not np.all(np.isfinite(params)):
            np.copyto(params, good_params)
            raise TrainingDiverged(f"weights became non-finite in epoch {epoch + 1}; restored")
        seconds = time.perf_counter() - self._epoch_started
        logs = {
            "epoch": epoch,
            "loss": loss_sum / max(seen, 1),
            "seconds": seconds,
            "samples_per_s": seen / seconds if seconds > 0 else 0.0,
            "lr": self.optimizer.lr,
            "complete": seen == self.n_samples,
            "progress": seen / self.n_samples,  # the share of the epoch trained (1.0 unless stopped)
            "batches": -(-seen // batches.size),
        }
        if validation is not None:
            logs.update(validation.score(self.model, self.loss))
        self.callbacks.on_epoch_end(epoch, logs)
        return logs

    def _resume(self, resume: ResumeState) -> int:
        """Load the optimizer state and the earlier history; returns the epoch to start from."""
        first = resume.next_epoch
        if first >= self.config.epochs:
            raise ValueError(
                f"the run already finished {first} epochs; ask for more than {first} epochs to continue it"
            )
        params = self.model.params
        for key, value in resume.optimizer_state.items():
            if np.ndim(value) and np.shape(value) != params.shape:
                raise ValueError(
                    f"optimizer_state[{key!r}] has shape {np.shape(value)} but the model has {params.size} "
                    "parameters: the state belongs to another model"
                )
        if resume.optimizer_state:
            try:
                self.optimizer.load_state_dict(resume.optimizer_state)
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(
                    f"optimizer_state does not fit the {self.optimizer.name} optimizer (missing or bad entry {exc})"
                ) from None
        earlier = resume.history.until(first)
        self.history.batch_loss[:0] = earlier.batch_loss
        self.history.epochs[:0] = earlier.epochs
        return first


UNITS_MACS = 10_000_000
UNITS_WIDTH = 64
"""A step of at least ``UNITS_MACS`` multiply-adds (parameters x batch) of a model whose every layer is at least
``UNITS_WIDTH`` wide runs with each layer's units split between two processes (``engine.tensor_parallel``) when there
are two cores: ``bench/train_speed.py --step-kinds`` gave 1.55x the serial step for 784-256-64-256-784 at batch 128
and 784-256-784 at 128, 1.48x for the first at 32, 1.20x for 784-100-784 at 64 (10 million), 1.13x for 784-64-784 at
128; narrower layers split into products too thin to pay (784-32-784 at 256: 0.95x)."""
PROCESS_MACS = 40_000_000
"""A larger step of any other model (a skip path, a narrow layer) runs data-parallel, its second half in a
worker process (``--step-kinds``, without a skip path: 784-256-784 at 128, 1.29x the serial step; 784-100-784 at 256,
40 million, 1.16x)."""
THREAD_BATCH = 256
"""A smaller step of a batch this large, with at least ``THREAD_MACS``, runs data-parallel on a worker thread: the
halves' matrix products are long enough that the interpreter lock they share between calls costs little (784-10-784
at 512, 8 million: 1.40x serial, the worker process 1.29x).  Smaller batches run serially: on two threads or
processes their hand-overs cost more than the half they save (784-100-784 at 128: 0.80x and 0.94x serial)."""
THREAD_MACS = 6_000_000


def make_step(
    model, loss, batch_size: int, parallel: bool | str | None = None, optimizer=None, note: Note = warn
) -> SerialStep | TensorParallelStep:
    """The step for this model and batch: each layer's units split with a worker process (``"units"``), or
    data-parallel, on a worker thread (``True``) or with its second half and part of ``optimizer``'s update in a
    worker process (``"processes"``); ``None``: as pays off on two cores, else serial (``UNITS_MACS``,
    ``PROCESS_MACS``, ``THREAD_BATCH``).  ``note`` tells the user when a worker process's run continues on one core."""
    if parallel is None:
        macs = model.n_params * batch_size
        parallel = False
        two = available_cores() >= 2
        if two and STORES_IN_ORDER and macs >= UNITS_MACS and supports(model) and min(model.widths()) >= UNITS_WIDTH:
            parallel = "units"
        elif two and macs >= PROCESS_MACS:
            parallel = "processes"
        elif two and batch_size >= THREAD_BATCH and macs >= THREAD_MACS:
            parallel = True
    if parallel not in (True, False, "processes", "units"):
        raise ValueError(f"parallel must be True, False, 'processes', 'units' or None, got {parallel!r}")
    if parallel == "units":
        if not supports(model):
            raise ValueError("parallel='units' needs Dense layers without a skip path, each at least 2 wide")
        return TensorParallelStep(model, loss, batch_size, optimizer, note=note)
    if not parallel or batch_size < 2:
        return SerialStep(model, loss, batch_size)
    if parallel == "processes":
        return ProcessParallelStep(model, loss, batch_size, optimizer, note=note)
    return DataParallelStep(model, loss, batch_size)


class _Validation:
    """Clean validation images and their fixed noisy copy (the evaluation noise), scored each epoch.

    A range run is scored at the middle of its range: one level, so the score compares with the
    noisy-input and PCA levels at that level.
    """

    def __init__(self, x_val: np.ndarray, config: TrainConfig) -> None:
        self.clean = as_unit_float(x_val)
        setting = config.noise_setting
        self.noisy = fixed_noisy(self.clean, setting.default_level, kind=setting.kind)

    def score(self, model, loss) -> dict[str, float]:
        pred = model.predict(self.noisy)
        return {"val_loss": loss.value(pred, self.clean), "val_mse": mse(pred, self.clean)}


class _Batches:
    """An epoch's (clean, noisy) batches, each (size, n_pixels) float32 in reused buffers."""

    def __init__(self, x: np.ndarray, batch_size: int) -> None:
        self.x, self.size = x, batch_size
        shape = (batch_size, x.shape[1])
        self._clean, self._noisy = np.empty(shape, np.float32), np.empty(shape, np.float32)
        self._u8 = np.empty(shape, np.uint8) if x.dtype == np.uint8 else None

    def epoch(self, order: np.ndarray, noise: EpochNoise) -> Iterator[tuple[np.ndarray, np.ndarray, Callable]]:
        """Batches in ``order``: ``(clean, noisy, prepare)``, the batch's buffers and ``prepare(lo, hi)``, which
        fills their rows ``lo:hi`` (the gathered images as float, then their noise); call it for every row before
        using them, and use them before preparing the next batch, which overwrites them."""
        for batch, start in enumerate(range(0, len(order), self.size)):
            idx = order[start : start + self.size]
            n = len(idx)
            yield self._clean[:n], self._noisy[:n], partial(self._prepare, noise, batch, idx)

    def _prepare(self, noise: EpochNoise, batch: int, idx: np.ndarray, lo: int, hi: int) -> None:
        clean = self._clean[lo:hi]
        if self._u8 is not None:
            to_unit_float(np.take(self.x, idx[lo:hi], axis=0, out=self._u8[lo:hi]), out=clean)
        else:
            np.take(self.x, idx[lo:hi], axis=0, out=clean)
        noise.apply(clean, batch, self._noisy[lo:hi], row=lo)
