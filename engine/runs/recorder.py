"""Recording a run as it happens: a callback on the one Trainer loop.

``RunRecorder`` writes a run's row when training begins (settings, versions, machine, the run its
weights came from), each epoch as it ends (with the thinned per-batch curve), and how it ended;
``saved`` adds the model file and its final scores once the caller has written them.  A thread
beats the heartbeat while the run lives, paused runs too.

Recording never stands in training's way: the first problem with the database is said once, in
one line, through ``warn``; the run goes on unrecorded.  A model trained while recorded carries the
run's uuid in ``metadata["run"]``, so a run that trains it further (a resumed checkpoint, the app's
next Start) records the run it continued.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict

from engine.callbacks import Callback
from engine.metrics import psnr
from engine.runs.curve import ThinnedCurve
from engine.runs.environment import machine, versions
from engine.runs.files import file_sha256, weights_sha256
from engine.runs.liveness import HEARTBEAT_S, host_name, process_identity
from engine.runs.store import RunsDatabaseError, RunStore, database_path

METADATA_KEY = "run"
"""``model.metadata[METADATA_KEY]``: the uuid of the run that last trained the model."""


def _stderr(text: str) -> None:
    print(f"warning: {text}", file=sys.stderr)


class RunRecorder(Callback):
    """Records the run of the Trainer it watches in the runs database at ``database`` (None: the default).

    source : who trains ("cli", "app", "sweep").
    settings : what the trainer cannot know (the data folder, the output file...), merged into the
        settings it records (layers, the training configuration, data set and sizes).
    links : more columns for the run (``rerun_of``, ``sweep_id``, ``cell``, ``command``, ``checkpoint_path``).
    warn : how the one line about a database problem is said (default: stderr, after ``warning:``).

    After the run, ``status`` tells how it ended (``error`` why, when it failed) and ``run_id`` is its id (None
    when unrecorded).
    """

    def __init__(self, database=None, *, source: str, settings: dict | None = None, links: dict | None = None,
                 warn: Callable[[str], None] = _stderr, timeout: float | None = None) -> None:  # fmt: skip
        self.database, self.source, self.warn = database, source, warn
        self.extra_settings = dict(settings or {})
        self.links = dict(links or {})
        self.timeout = timeout
        self.store: RunStore | None = None
        self.run_id: int | None = None
        self.uuid = str(uuid.uuid4())
        self.status = "running"
        self.error: str | None = None
        self.failed_to_record = False
        self.scores: dict = {}
        self.curve = ThinnedCurve()
        self.epochs_done = 0.0
        self._seconds = 0.0
        self._last_epoch: dict | None = None
        self._beat: _Heartbeat | None = None

    # ----- the database, never in training's way ----------------------------------------------
    def _record(self, write: Callable[[RunStore], None]) -> None:
        """Run one write; on any database problem say so once and record nothing more."""
        if self.failed_to_record:
            return
        try:
            if self.store is None:
                kwargs = {} if self.timeout is None else {"timeout": self.timeout}
                self.store = RunStore(self.database, **kwargs)
            write(self.store)
        except (RunsDatabaseError, OSError, ValueError) as exc:
            self._give_up(str(exc))

    def _give_up(self, problem: str) -> None:
        self.failed_to_record = True
        self._stop_heartbeat()
        if self.store is not None:
            self.store.close()
            self.store = None
        self.warn(f"{problem} — this run is not recorded (training goes on)")

    # ----- the Trainer's hooks ---------------------------------------------------------------
    def on_train_begin(self, logs):
        trainer = self.trainer
        model = trainer.model
        came_from = model.metadata.get(METADATA_KEY)
        model.metadata[METADATA_KEY] = self.uuid  # checkpoints and the saved model carry it
        settings = {**run_settings(trainer), **self.extra_settings}
        self.epochs_done = float(logs.get("initial_epoch", 0))
        values = {
            "uuid": self.uuid,
            "source": self.source,
            "status": "running",
            "started": time.time(),
            "heartbeat": time.time(),
            "host": host_name(),
            "pid": os.getpid(),
            "process": process_identity(),
            "dataset": settings.get("dataset"),
            "layers": settings.get("layers"),
            "settings": settings,
            "versions": versions(),
            "machine": machine(),
            "epochs_done": self.epochs_done,
            "init_sha256": weights_sha256(model.params),
            "resumed_from": came_from if isinstance(came_from, str) else None,
            **self.links,
        }

        def begin(store: RunStore) -> None:
            store.reap()  # runs of processes that died are recorded as crashed
            self.run_id = store.add_run(**values)

        self._record(begin)
        if self.run_id is not None:
            self._beat = _Heartbeat(self.store.path, self.run_id, self.store.timeout)

    def on_batch_end(self, batch, logs):
        self.curve.add(logs["epoch"] + logs["progress"], logs["loss"])

    def on_epoch_end(self, epoch, logs):
        self._seconds += logs.get("seconds", 0.0)
        self._last_epoch = dict(logs)
        self.epochs_done = epoch + logs.get("progress", 1.0)
        if self.run_id is not None:
            values = {"epochs_done": self.epochs_done, "seconds": self._seconds, "curve": self._curve(),
                      "heartbeat": time.time(), **self._scores_of(logs)}  # fmt: skip
            self._record(lambda store: store.add_epoch(self.run_id, {**logs, "epoch": epoch}, **values))

    def on_train_end(self, logs):
        self._stop_heartbeat()
        if "diverged" in logs:
            self.status, error = "diverged", logs["diverged"]
        elif str(logs.get("failed", "")).startswith("KeyboardInterrupt"):
            self.status, error = "stopped", "aborted (Ctrl-C twice): the model was not saved"
        elif "failed" in logs:
            self.status, error = "failed", logs["failed"]
        else:
            self.status, error = ("stopped" if logs.get("stopped") else "finished"), None
        self.error = error
        if self.run_id is None:
            return
        values = {"status": self.status, "ended": time.time(), "error": error, "seconds": self._seconds,
                  "epochs_done": self.epochs_done, "curve": self._curve(),
                  "weights_sha256": weights_sha256(self.trainer.model.params)}  # fmt: skip
        if self._last_epoch is not None:
            values.update(self._scores_of(self._last_epoch))
        self._record(lambda store: store.update_run(self.run_id, **values))
        self.close()  # ``saved`` opens it again for its one write

    def describe(self, settings: dict | None = None, **links) -> None:
        """Before training: more settings (the data folder) and columns (``checkpoint_path``) to record."""
        self.extra_settings.update(settings or {})
        self.links.update(links)

    # ----- after training --------------------------------------------------------------------
    def saved(self, model_path: str | os.PathLike, scores: dict | None = None) -> None:
        """The model is on disk at ``model_path`` (its SHA-256 is recorded); ``scores`` (``mse``, ``psnr``,
        ``noisy_mse``, ...) replace the last epoch's.  Closes the database."""
        if self.run_id is not None:
            values = {"model_path": os.path.abspath(model_path), "model_sha256": file_sha256(model_path)}
            if scores:
                self.scores = {**self.scores, **scores}
                values.update(scores=self.scores, test_mse=self.scores.get("mse"))
            self._record(lambda store: store.update_run(self.run_id, **values))
        self.close()

    def failed(self, error: str) -> None:
        """The run failed with ``error`` outside the loop: before training (a bad output path, missing data: a
        row is added, with the settings it was given, so a sweep's cell never vanishes) or after it (the save).
        Closes the database."""
        now = time.time()
        self.status, self.error = "failed", error
        if self.run_id is not None:
            self._record(lambda store: store.update_run(self.run_id, status="failed", error=error, ended=now))
        else:
            values = {"uuid": self.uuid, "source": self.source, "status": "failed", "started": now, "ended": now,
                      "host": host_name(), "pid": os.getpid(), "dataset": self.extra_settings.get("dataset"),
                      "layers": self.extra_settings.get("layers"), "settings": self.extra_settings,
                      "versions": versions(), "machine": machine(), "error": error, **self.links}  # fmt: skip

            def add(store: RunStore) -> None:
                self.run_id = store.add_run(**values)

            self._record(add)
        self.close()

    def close(self) -> None:
        self._stop_heartbeat()
        if self.store is not None:
            self.store.close()
            self.store = None

    def _stop_heartbeat(self) -> None:
        beat, self._beat = self._beat, None
        if beat is not None:
            beat.stop()

    def _curve(self) -> tuple:
        return (*self.curve.points(), self.curve.stride)

    def _scores_of(self, logs: dict) -> dict:
        """The test scores of the weights an epoch ended with, at the run's level (the middle of a range)."""
        if "val_mse" not in logs:
            return {}
        setting = self.trainer.config.noise_setting
        self.scores = {"level": setting.default_level, "kind": setting.kind, "mse": logs["val_mse"],
                       "psnr": psnr(logs["val_mse"]), "loss": logs.get("val_loss")}  # fmt: skip
        return {"scores": self.scores, "test_mse": logs["val_mse"]}


def record_saved_model(model, path: str | os.PathLike, database=None) -> int | None:
    """``model`` was saved to ``path`` after its run had ended (the app saves when the user asks): record the file,
    and its SHA-256, on the run that trained it (``model.metadata[METADATA_KEY]``) — only when the weights are still
    those the run ended with (a model changed since, a perturbed copy, is not that run's).  Returns the run's id, or
    None when no recorded run matches (or there is no database: none is made).  Database problems raise
    ``RunsDatabaseError``."""
    run_uuid = model.metadata.get(METADATA_KEY)
    location = database_path(database)
    if not isinstance(run_uuid, str) or not location.is_file():
        return None
    with RunStore(location) as store:
        run_id = store.find_uuid(run_uuid)
        run = store.get(run_id) if run_id is not None else None
        if run is None or run.status == "running" or run.weights_sha256 != weights_sha256(model.params):
            return None
        store.update_run(run_id, model_path=os.path.abspath(path), model_sha256=file_sha256(path))
    return run_id


def run_settings(trainer) -> dict:
    """Everything that decides a run's weights and that the Trainer knows: layers and the skip path (its kind, or
    None), the training configuration, the data set, its sizes, how a step uses the cores (``auto``: as
    ``engine.steps`` decides for the model)."""
    model = trainer.model
    specs = model.layer_specs()
    data = model.metadata.get("dataset") if isinstance(model.metadata.get("dataset"), dict) else {}
    config = asdict(trainer.config)
    if isinstance(config["noise"], tuple):
        config["noise"] = list(config["noise"])
    return {
        "layers": layers_text(model.n_in, specs),
        "layer_specs": specs,
        "skip": model.skip.kind if getattr(model, "skip", None) is not None else None,
        **config,
        "dataset": data.get("name"),
        "train_size": trainer.n_samples,
        "test_size": data.get("test_size"),
        "steps": {True: "parallel", "processes": "processes", "units": "units", False: "serial"}.get(
            trainer.parallel, "auto"
        ),
    }


def layers_text(n_in: int, specs: list[dict]) -> str:
    """``"784:10:relu,784:sigmoid"`` as ``--layers`` takes it (layers without an activation show their type)."""
    items = [f"{s.get('n_out', '?')}:{s.get('activation') or str(s.get('type', '?')).lower()}" for s in specs]
    return f"{n_in}:" + ",".join(items) if items else str(n_in)


class _Heartbeat:
    """A daemon thread writing the run's heartbeat every ``HEARTBEAT_S`` (its own connection), until ``stop``.
    Its failures are silent: the training thread's writes report database problems."""

    def __init__(self, path, run_id: int, timeout: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(path, run_id, timeout), name="runs-heartbeat",
                                        daemon=True)  # fmt: skip
        self._thread.start()

    def _beat(self, path, run_id: int, timeout: float) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                with RunStore(path, timeout=timeout) as store:
                    store.heartbeat(run_id)
            except RunsDatabaseError:
                pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
