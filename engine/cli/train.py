"""``denoise-studio train``: train a model offline (progress bar, checkpoint every epoch, Ctrl-C saves)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

from engine.callbacks import Callback, PrintNotes, ProgressBar
from engine.checkpoint import Checkpoint, is_checkpoint, load_checkpoint
from engine.cli.arguments import (
    DATASET_CHOICES,
    EXIT_FAILURE,
    EXIT_OK,
    KIND_CHOICES,
    UsageError,
    bounded,
    check_output_name,
    check_writable_output,
    flag_text,
    level_text,
    parse_layers,
    parse_noise,
    print_notes,
)
from engine.cli.recording import add_recording_arguments, recorder_for
from engine.data_sources import data_source
from engine.dataset import Dataset
from engine.model_format import WEIGHTS_DTYPES, is_model_file
from engine.model_limits import SKIP_KINDS
from engine.model_paths import is_shipped
from engine.nn import build_mlp
from engine.optimizers import OPTIMIZERS
from engine.output_lock import writing
from engine.run_limits import BATCH_SIZE, EPOCHS, LR, MOMENTUM, SEED, TEST_SIZE, TRAIN_SIZE
from engine.runs import RunRecorder
from engine.training import TrainConfig, TrainingDiverged

NAME, HELP = "train", "train a model (progress bar, checkpoint every epoch, Ctrl-C saves)"
DEFAULT_LAYERS, DEFAULT_TRAIN_SIZE, DEFAULT_TEST_SIZE = "784:10:relu,784:sigmoid", 60000, 10000


def add_arguments(train: argparse.ArgumentParser) -> None:
    defaults = TrainConfig()
    train.add_argument("--layers", default=DEFAULT_LAYERS, help="e.g. 784:10:relu,784:sigmoid")
    train.add_argument("--epochs", type=bounded(EPOCHS), default=defaults.epochs)
    train.add_argument("--batch-size", type=bounded(BATCH_SIZE), default=defaults.batch_size)
    train.add_argument("--lr", type=bounded(LR), default=defaults.lr, help=f"learning rate, {LR.describe()}")
    train.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default=defaults.optimizer)
    train.add_argument("--momentum", type=bounded(MOMENTUM), default=defaults.momentum, help="SGD momentum")
    train.add_argument(
        "--noise",
        type=parse_noise,
        default=defaults.noise,
        help="noise level (Gaussian sigma, or the fraction of pixels hit), or a range low:high such as 0:0.8 "
        "from which each training image draws its own level",
    )
    train.add_argument("--noise-kind", choices=KIND_CHOICES, default="gaussian", help="the kind of noise to undo")
    train.add_argument(
        "--noise-weighting",
        type=float,
        metavar="C",
        help="with a noise range: divide each image's loss by level^2 + C, so light noise counts as much as heavy",
    )
    train.add_argument(
        "--skip",
        choices=SKIP_KINDS,
        help="end the model in a skip path from its input: 'gate' mixes input and output by a learned per-pixel "
        "gate, 'residual' adds the output to the input (give the last layer a linear activation)",
    )
    train.add_argument("--loss", choices=["mse", "bce"], default=defaults.loss)
    train.add_argument("--seed", type=bounded(SEED), default=defaults.seed)
    train.add_argument("--train-size", type=bounded(TRAIN_SIZE), default=DEFAULT_TRAIN_SIZE)
    train.add_argument(
        "--test-size", type=bounded(TEST_SIZE), default=DEFAULT_TEST_SIZE, help="test images for the per-epoch score"
    )
    train.add_argument("--dataset", choices=DATASET_CHOICES, help="the data set to train on (default: mnist)")
    train.add_argument(
        "--data",
        help="the data set's folder (default: $DENOISE_STUDIO_DATA for MNIST, $DENOISE_STUDIO_FASHION_MNIST_DATA "
        "for Fashion-MNIST, else an installed copy or a download)",
    )
    train.add_argument("--output", "-o", default="model.npz", help="where to save the trained model")
    train.add_argument(
        "--weights-dtype",
        choices=WEIGHTS_DTYPES,
        default="float32",
        help="how --output stores the weights: float16 halves the file (the scores printed are the stored "
        "model's; the checkpoint stays float32)",
    )
    train.add_argument("--checkpoint", help="checkpoint path (default: OUTPUT with .ckpt.npz)")
    train.add_argument("--resume", metavar="CHECKPOINT", help="continue a run from its checkpoint")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument(
        "--force", action="store_true", help="replace --output/--checkpoint files that are not Denoise Studio models"
    )
    add_recording_arguments(train)


class GracefulStop(Callback):
    """Ctrl-C (SIGINT) and SIGTERM (a logout, ``kill``) from the start of ``train`` until its model is on disk.

    Before training starts nothing is lost by stopping: a signal aborts at once.  While training,
    the first signal stops at the end of the current batch (the checkpoint and the model are
    still saved); during the final evaluation and save it is noted and the save completes.  A
    second signal aborts at once; saves are atomic, so the old files and the last checkpoint
    stay intact.  Used as ``with GracefulStop() as stop:``; handlers can only be set from the
    main thread, elsewhere it does nothing.
    """

    SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))

    def __init__(self) -> None:
        self.requested = False  # a signal came
        self.cut_short = False  # ... and stopped the training
        self.phase = "starting"
        self._previous: dict = {}

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()

    def on_train_begin(self, logs):
        self.phase = "training"
        if self.requested:  # a signal between loading the data and the first batch
            self.trainer.stop_training = self.cut_short = True

    def finishing(self) -> None:
        """Training is over: from here a first signal no longer interrupts anything."""
        self.phase = "finishing"

    def _handle(self, signum, frame):
        if self.requested or self.phase == "starting":
            raise KeyboardInterrupt
        self.requested = True
        if self.phase == "training" and self.trainer is not None:
            self.trainer.stop_training = self.cut_short = True
            print("\nstopping after this batch (Ctrl-C again to abort)…", file=sys.stderr)
        else:
            print("\nfinishing the save first (Ctrl-C again to abort; the last checkpoint is kept)…", file=sys.stderr)


def run(args: argparse.Namespace, *, recorder: RunRecorder | None = None, watchers: Sequence[Callback] = ()) -> int:
    """Train as ``args`` say; ``recorder`` records the run (default: as ``--runs-db``/``--no-record`` say),
    ``watchers`` are more callbacks on it (a sweep's progress and stop)."""
    with GracefulStop() as stop, contextlib.ExitStack() as held:  # from here until the model is on disk
        return _train(args, stop, held, recorder or recorder_for(args, source="cli"), watchers)


def _train(
    args: argparse.Namespace, stop: GracefulStop, held: contextlib.ExitStack, recorder: RunRecorder | None, watchers
) -> int:
    if not args.output.strip():
        raise UsageError("--output is empty; give a file name such as model.npz")
    if args.checkpoint is not None and not args.checkpoint.strip():
        raise UsageError("--checkpoint is empty; leave it out to put the checkpoint beside --output")
    output = check_output_name(args.output, "--output")
    checkpoint = output.with_name(output.stem + ".ckpt.npz")
    if args.checkpoint:
        checkpoint = check_output_name(args.checkpoint, "--checkpoint")
    for flag, path in (("--output", output), ("--checkpoint", checkpoint)):
        try:
            if path.is_dir():
                raise UsageError(f"{flag} {path} is a folder; give a file name such as {path / 'model.npz'}")
            path.resolve()
        except OSError as exc:  # a name too long, a parent that is a file...
            raise UsageError(f"{flag} {path} cannot be written ({exc.strerror or exc})") from None
    if checkpoint.resolve() == output.resolve():
        raise UsageError("--checkpoint and --output must be different files")
    _check_not_a_checkpoint(output, args.resume)
    resume = None
    if args.resume:
        run = load_checkpoint(args.resume)
        print_notes(f"{run.model.path}: {note}" for note in run.model.load_notes)
        model, resume = run.model, run.resume
        config = replace(run.config, epochs=max(args.epochs, run.config.epochs))
        train_size, test_size = run.train_size or args.train_size, run.test_size or args.test_size
        dataset_name = data_source(run.dataset).name if run.dataset else "mnist"
        _warn_ignored_flags(args, config, dataset_name, run)
    else:
        widths, activations = parse_layers(args.layers)
        try:
            config = TrainConfig(
                epochs=args.epochs,
                batch_size=args.batch_size,
                lr=args.lr,
                optimizer=args.optimizer,
                momentum=args.momentum,
                noise=args.noise,
                seed=args.seed,
                loss=args.loss,
                noise_kind=args.noise_kind,
                noise_weighting=args.noise_weighting,
            )
            model = build_mlp(widths, activations, seed=args.seed, skip=args.skip)
        except (ValueError, TypeError) as exc:
            raise UsageError(str(exc)) from None
        train_size, test_size = args.train_size, args.test_size
        dataset_name = data_source(args.dataset or "mnist").name
    if config.batch_size > train_size:  # what the run does, and what its file records
        if config.batch_size != TrainConfig().batch_size:  # a size asked for (the default goes without saying)
            print(f"note: --batch-size {config.batch_size} is more than the {train_size} training images; "
                  f"using batches of {train_size}", file=sys.stderr)  # fmt: skip
        config = replace(config, batch_size=train_size)
    check_output(output, "--output", args.force, quiet=False)
    check_output(checkpoint, "--checkpoint", args.force, quiet=True)
    held.enter_context(writing(output, checkpoint))  # a second run writing either file is refused, never lost
    dataset = Dataset(
        dataset_name,
        train_size=train_size,
        test_size=test_size,
        batch_size=min(config.batch_size, train_size),
        data_dir=args.data,
    )
    print_notes(dataset.notes)
    _check_not_data(dataset, {"--output": output, "--checkpoint": checkpoint})
    saver = Checkpoint(checkpoint, on_failure=lambda exc: _checkpoint_failed(exc, checkpoint, output, args.quiet))
    callbacks = [stop, saver, PrintNotes(), *watchers]  # (notes: with --quiet too)
    if recorder is not None:
        recorder.describe({"data_dir": str(Path(dataset.folder).resolve())}, checkpoint_path=str(checkpoint.resolve()))
        callbacks.append(recorder)
    if not args.quiet:
        callbacks.append(ProgressBar(config.epochs))
    model.metadata["dataset"] = {"name": dataset.name, "train_size": train_size, "test_size": dataset.test_size}
    if resume is not None and resume.next_epoch >= config.epochs:
        print(
            f"the checkpoint already finished {resume.next_epoch} epochs: saving its model "
            f"(pass --epochs above {resume.next_epoch} to train further)",
            file=sys.stderr,
        )
        model.metadata.update(training=asdict(config), history=resume.history.to_dict())
    else:
        try:
            model.fit(dataset, config=config, callbacks=callbacks, resume=resume)
        except TrainingDiverged as exc:
            print(f"error: {exc}; {output} was not written", file=sys.stderr)
            return EXIT_FAILURE
    stop.finishing()
    try:
        model.round_weights(args.weights_dtype)  # scored as stored
    except ValueError as exc:
        print(f"error: {exc}; {output} was not written (the checkpoint {checkpoint} keeps the run)", file=sys.stderr)
        return EXIT_FAILURE
    setting = config.noise_setting
    level = setting.default_level
    scores = model.evaluate(dataset.test_u8, level, kind=setting.kind, with_ssim=False)  # the file keeps the MSE
    model.metadata["metrics"] = {f"test_mse@{level:g}": scores["mse"]}
    model.save(output, weights_dtype=args.weights_dtype)
    if recorder is not None:
        recorder.saved(output, {"mse": scores["mse"], "psnr": scores["psnr"], "noisy_mse": scores["identity_mse"]})
    resumable = f"resume with --resume {checkpoint}" if saver.saved else "no checkpoint could be saved to resume from"
    state = f"stopped early; {resumable}" if stop.cut_short else "done"
    where = f"{level_text(setting.kind, level)}" + (", the middle of the training range" if setting.is_range else "")
    print(f"{state}: saved {output} (test MSE {scores['mse']:.5f} at {where})", file=sys.stderr)
    return EXIT_OK


def check_output(path: Path, flag: str, force: bool, *, quiet: bool) -> None:
    """Before any work: ``path`` can be written, and replacing it loses nothing it should not.

    An existing Denoise Studio model may be replaced (said on stderr unless ``quiet``); any other
    existing file only with ``--force``.
    """
    if path.is_file():
        if is_model_file(path):
            if not quiet:
                what = "the shipped model" if is_shipped(path) else "the existing model"
                print(f"note: {flag} replaces {what} {path}", file=sys.stderr)
        elif not force:
            raise UsageError(
                f"{flag} {path} exists and is not a Denoise Studio model; not replacing it "
                "(choose another name, or pass --force to replace it)"
            )
    check_writable_output(path, flag)


def _check_not_a_checkpoint(output: Path, resumed: str | None) -> None:
    """A checkpoint is never an output: a model written over it would lose the run's resume information."""
    if resumed and output.exists() and output.resolve() == Path(resumed).resolve():
        raise UsageError(
            f"--output {output} is the checkpoint this run resumes from; a model never replaces a checkpoint "
            "(choose another name: the run's checkpoint goes to --checkpoint)"
        )
    if output.is_file() and is_checkpoint(output):
        raise UsageError(
            f"--output {output} is a training checkpoint; a model never replaces one, or its run could not be "
            "resumed (choose another name)"
        )


def _checkpoint_failed(exc: OSError, checkpoint: Path, output: Path, quiet: bool) -> None:
    """Said once: the run goes on without checkpoints, and its model is still written."""
    why = exc.strerror or str(exc)
    print(f"{'' if quiet else chr(10)}warning: the checkpoint {checkpoint} could not be saved ({why}); training "
          f"goes on and will still write {output}", file=sys.stderr)  # fmt: skip (a new line after the progress bar)


def _check_not_data(dataset: Dataset, outputs: dict[str, Path]) -> None:
    """Never write over a file of the data folder this run reads, not even with ``--force``."""
    folder = Path(dataset.folder)
    for flag, path in outputs.items():
        if path.exists() and path.resolve().parent == folder.resolve():
            raise UsageError(f"{flag} {path} is a file of the data folder this run reads; not replacing it")


def _warn_ignored_flags(args: argparse.Namespace, config: TrainConfig, dataset_name: str, resumed) -> None:
    """A resumed run keeps the checkpoint's settings: say so when the command line asked for others."""
    defaults = TrainConfig()
    model = resumed.model
    layers = ",".join(
        [f"{model.n_in}:{model.layers[0].n_out}:{model.layers[0].activation.key}"]
        + [f"{layer.n_out}:{layer.activation.key}" for layer in model.layers[1:]]
    )
    asked = {
        "--batch-size": (args.batch_size, defaults.batch_size, config.batch_size),
        "--lr": (args.lr, defaults.lr, config.lr),
        "--optimizer": (args.optimizer, defaults.optimizer, config.optimizer),
        "--momentum": (args.momentum, defaults.momentum, config.momentum),
        "--noise": (args.noise, defaults.noise, config.noise),
        "--noise-kind": (args.noise_kind, "gaussian", config.noise_kind.replace("_", "-")),
        "--seed": (args.seed, defaults.seed, config.seed),
        "--loss": (args.loss, defaults.loss, config.loss),
        "--noise-weighting": (args.noise_weighting, None, config.noise_weighting),
        "--skip": (args.skip, None, model.skip.kind if model.skip is not None else None),
        "--dataset": (args.dataset, None, dataset_name.replace("_", "-")),
        "--layers": (args.layers.replace(" ", ""), DEFAULT_LAYERS, layers),
        "--train-size": (args.train_size, DEFAULT_TRAIN_SIZE, resumed.train_size),
        "--test-size": (args.test_size, DEFAULT_TEST_SIZE, resumed.test_size),
    }
    ignored = [
        f"{flag} {flag_text(given)}" for flag, (given, default, kept) in asked.items() if given not in (default, kept)
    ]
    if ignored:
        print(f"warning: resuming keeps the checkpoint's settings; ignored {', '.join(ignored)}", file=sys.stderr)
