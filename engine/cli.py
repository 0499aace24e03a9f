"""``denoise-studio train | evaluate | summary | export``: offline work from the command line (no Qt).

Exit codes: 0 success, 2 bad arguments, 1 failure (with a one-line reason on stderr).
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

from engine import __version__
from engine.activations import ACTIVATIONS
from engine.atomic import check_writable
from engine.callbacks import Callback, ProgressBar
from engine.checkpoint import Checkpoint, load_checkpoint
from engine.dataset import Dataset, trained_on
from engine.download import SOURCES, data_source
from engine.idx import DatasetFileError
from engine.model_format import ModelFileError, is_model_file
from engine.model_limits import MAX_WIDTH, check_architecture
from engine.model_paths import is_shipped
from engine.nn import MLP, build_mlp
from engine.noise import NOISE_KINDS, NoiseSetting
from engine.optimizers import OPTIMIZERS
from engine.robustness import describe, robustness_curve
from engine.training import TrainConfig, TrainingDiverged

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
DEFAULT_LAYERS, DEFAULT_TRAIN_SIZE, DEFAULT_TEST_SIZE = "784:10:relu,784:sigmoid", 60000, 10000


class UsageError(Exception):
    """Bad command-line arguments (exit code 2)."""


def parse_layers(text: str) -> tuple[list[int], list[str]]:
    """``"784:10:relu,784:sigmoid"`` -> ([784, 10, 784], ["relu", "sigmoid"]).

    The first item is ``n_in:n_out:activation``, each later one ``n_out:activation``.
    """
    widths: list[int] = []
    activations: list[str] = []
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise UsageError("--layers is empty; example: 784:10:relu,784:sigmoid")
    for i, item in enumerate(items):
        parts = item.split(":")
        want = 3 if i == 0 else 2
        if len(parts) != want:
            form = "n_in:n_out:activation" if i == 0 else "n_out:activation"
            raise UsageError(f"--layers item {item!r} should be {form} (example: 784:10:relu,784:sigmoid)")
        try:
            numbers = [int(p) for p in parts[:-1]]
        except ValueError:
            raise UsageError(f"--layers item {item!r}: widths must be integers") from None
        if any(not 1 <= n <= MAX_WIDTH for n in numbers):
            raise UsageError(f"--layers item {item!r}: widths must be between 1 and {MAX_WIDTH}")
        if parts[-1].lower() not in ACTIVATIONS:
            raise UsageError(f"--layers item {item!r}: unknown activation; allowed: {', '.join(ACTIVATIONS)}")
        widths += numbers
        activations.append(parts[-1].lower())
    if widths[0] != 784 or widths[-1] != 784:
        raise UsageError(f"the network must map MNIST's 784 pixels to 784; --layers goes {widths[0]} -> {widths[-1]}")
    try:
        check_architecture(widths)
    except ValueError as exc:
        raise UsageError(f"--layers: {exc}") from None
    return widths, activations


def parse_noise(text: str) -> float | tuple[float, float]:
    """``"0.1"`` -> 0.1; ``"0:0.8"`` -> (0.0, 0.8), a range each training image draws its own level from."""
    parts = text.split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or not all(math.isfinite(v) and v >= 0 for v in values):
        raise argparse.ArgumentTypeError(
            f"expected a level >= 0 such as 0.3, or a range low:high such as 0:0.8; got {text!r}"
        )
    if len(values) == 2 and values[0] > values[1]:
        raise argparse.ArgumentTypeError(f"a range low:high needs low <= high, got {text!r}")
    return values[0] if len(values) == 1 or values[0] == values[1] else (values[0], values[1])


KIND_CHOICES = [kind.replace("_", "-") for kind in NOISE_KINDS]
DATASET_CHOICES = [name.replace("_", "-") for name in SOURCES]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="denoise-studio",
        description="Denoising autoencoders on MNIST and Fashion-MNIST. Without a command (or with a model file) "
        "it opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"denoise-studio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{train,evaluate,summary,export}")
    defaults = TrainConfig()

    train = sub.add_parser("train", help="train a model (progress bar, checkpoint every epoch, Ctrl-C saves)")
    train.add_argument("--layers", default=DEFAULT_LAYERS, help="e.g. 784:10:relu,784:sigmoid")
    train.add_argument("--epochs", type=int, default=defaults.epochs)
    train.add_argument("--batch-size", type=int, default=defaults.batch_size)
    train.add_argument("--lr", type=float, default=defaults.lr, help="learning rate")
    train.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default=defaults.optimizer)
    train.add_argument("--momentum", type=float, default=defaults.momentum, help="SGD momentum")
    train.add_argument(
        "--noise",
        type=parse_noise,
        default=defaults.noise,
        help="noise level (Gaussian sigma, or the fraction of pixels hit), or a range low:high such as 0:0.8 "
        "from which each training image draws its own level",
    )
    train.add_argument("--noise-kind", choices=KIND_CHOICES, default="gaussian", help="the kind of noise to undo")
    train.add_argument("--loss", choices=["mse", "bce"], default=defaults.loss)
    train.add_argument("--seed", type=int, default=defaults.seed)
    train.add_argument("--train-size", type=int, default=DEFAULT_TRAIN_SIZE)
    train.add_argument("--test-size", type=int, default=DEFAULT_TEST_SIZE, help="test images for the per-epoch score")
    train.add_argument("--dataset", choices=DATASET_CHOICES, help="the data set to train on (default: mnist)")
    train.add_argument(
        "--data",
        help="the data set's folder (default: $DENOISE_STUDIO_DATA for MNIST, $DENOISE_STUDIO_FASHION_MNIST_DATA "
        "for Fashion-MNIST, else an installed copy or a download)",
    )
    train.add_argument("--output", "-o", default="model.npz", help="where to save the trained model")
    train.add_argument("--checkpoint", help="checkpoint path (default: OUTPUT with .ckpt.npz)")
    train.add_argument("--resume", metavar="CHECKPOINT", help="continue a run from its checkpoint")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument(
        "--force", action="store_true", help="replace --output/--checkpoint files that are not Denoise Studio models"
    )

    evaluate = sub.add_parser("evaluate", help="test-set MSE/PSNR at given noise levels (fixed noise draw)")
    evaluate.add_argument("model", help="model file or shipped model name")
    evaluate.add_argument("--noise", type=float, nargs="+", default=[0.1, 0.3, 0.5], help="noise levels")
    evaluate.add_argument(
        "--noise-kind", choices=KIND_CHOICES, help="the kind of noise (default: the one the model was trained with)"
    )
    evaluate.add_argument("--test-size", type=int, default=10000)
    evaluate.add_argument(
        "--dataset", choices=DATASET_CHOICES, help="the test set (default: the one the model was trained on)"
    )
    evaluate.add_argument("--data", help="the data set's folder")
    evaluate.add_argument("--json", action="store_true", help="print JSON for scripts")
    evaluate.add_argument(
        "--curve", action="store_true", help="test MSE at sigma 0 to 1 beside the noisy input and PCA (robustness)"
    )

    summary = sub.add_parser("summary", help="print a model's summary")
    summary.add_argument("model", help="model file or shipped model name")

    export = sub.add_parser("export", help="write a model as ONNX for other tools (needs denoise-studio[onnx])")
    export.add_argument("model", help="model file or shipped model name")
    export.add_argument("--output", "-o", help="the .onnx file (default: the model's name with .onnx)")
    export.add_argument("--force", action="store_true", help="replace an existing file not exported by Denoise Studio")
    return parser


class _GracefulStop(Callback):
    """Ctrl-C (SIGINT) and SIGTERM (a logout, ``kill``) from the start of ``train`` until its model is on disk.

    Before training starts nothing is lost by stopping: a signal aborts at once.  While training,
    the first signal stops at the end of the current batch (the checkpoint and the model are
    still saved); during the final evaluation and save it is noted and the save completes.  A
    second signal aborts at once; saves are atomic, so the old files and the last checkpoint
    stay intact.  Used as ``with _GracefulStop() as stop:``; handlers can only be set from the
    main thread, elsewhere it does nothing.
    """

    SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))

    def __init__(self) -> None:
        self.requested = False  # a signal came
        self.cut_short = False  # ... and stopped the training
        self.phase = "starting"
        self._previous: dict = {}

    def __enter__(self) -> _GracefulStop:
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


def cmd_train(args: argparse.Namespace) -> int:
    with _GracefulStop() as stop:  # from here until the model is on disk
        return _train(args, stop)


def _train(args: argparse.Namespace, stop: _GracefulStop) -> int:
    if not args.output.strip():
        raise UsageError("--output is empty; give a file name such as model.npz")
    if args.checkpoint is not None and not args.checkpoint.strip():
        raise UsageError("--checkpoint is empty; leave it out to put the checkpoint beside --output")
    output = Path(args.output)
    checkpoint = Path(args.checkpoint) if args.checkpoint else output.with_name(output.stem + ".ckpt.npz")
    for flag, path in (("--output", output), ("--checkpoint", checkpoint)):
        try:
            if path.is_dir():
                raise UsageError(f"{flag} {path} is a folder; give a file name such as {path / 'model.npz'}")
            path.resolve()
        except OSError as exc:  # a name too long, a parent that is a file...
            raise UsageError(f"{flag} {path} cannot be written ({exc.strerror or exc})") from None
    if checkpoint.resolve() == output.resolve():
        raise UsageError("--checkpoint and --output must be different files")
    resume = None
    if args.resume:
        run = load_checkpoint(args.resume)
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
            )
        except (ValueError, TypeError) as exc:
            raise UsageError(str(exc)) from None
        model = build_mlp(widths, activations, seed=args.seed)
        train_size, test_size = args.train_size, args.test_size
        dataset_name = data_source(args.dataset or "mnist").name
    if not 1 <= train_size <= 60000:
        raise UsageError(f"--train-size must be between 1 and 60000, got {train_size}")
    if not 1 <= test_size <= 10000:
        raise UsageError(f"--test-size must be between 1 and 10000, got {test_size}")
    _check_output(output, "--output", args.force, quiet=False)
    _check_output(checkpoint, "--checkpoint", args.force, quiet=True)
    dataset = Dataset(
        dataset_name,
        train_size=train_size,
        test_size=test_size,
        batch_size=min(config.batch_size, train_size),
        data_dir=args.data,
    )
    _check_not_data(dataset, {"--output": output, "--checkpoint": checkpoint})
    callbacks = [stop, Checkpoint(checkpoint)]
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
    setting = config.noise_setting
    level = setting.default_level
    scores = model.evaluate(dataset.test_u8, level, kind=setting.kind)
    model.metadata["metrics"] = {f"test_mse@{level:g}": scores["mse"]}
    model.save(output)
    state = "stopped early; resume with --resume " + str(checkpoint) if stop.cut_short else "done"
    where = f"{_level_text(setting.kind, level)}" + (", the middle of the training range" if setting.is_range else "")
    print(f"{state}: saved {output} (test MSE {scores['mse']:.5f} at {where})", file=sys.stderr)
    return EXIT_OK


def _level_text(kind: str, level: float) -> str:
    """``"sigma=0.4"`` (Gaussian) or ``"masking fraction=0.3"``."""
    return f"sigma={level:g}" if kind == "gaussian" else f"{kind.replace('_', '-')} fraction={level:g}"


def _check_output(path: Path, flag: str, force: bool, *, quiet: bool) -> None:
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
    try:
        check_writable(path)
    except OSError as exc:
        raise UsageError(f"{flag} {path} cannot be written ({exc.strerror or exc})") from None


def _check_not_data(dataset: Dataset, outputs: dict[str, Path]) -> None:
    """Never write over a file of the data folder this run reads, not even with ``--force``."""
    folder = Path(dataset.folder)
    for flag, path in outputs.items():
        if path.exists() and path.resolve().parent == folder.resolve():
            raise UsageError(f"{flag} {path} is a file of the data folder this run reads; not replacing it")


def _warn_ignored_flags(args: argparse.Namespace, config: TrainConfig, dataset_name: str, run) -> None:
    """A resumed run keeps the checkpoint's settings: say so when the command line asked for others."""
    defaults = TrainConfig()
    model = run.model
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
        "--dataset": (args.dataset, None, dataset_name.replace("_", "-")),
        "--layers": (args.layers.replace(" ", ""), DEFAULT_LAYERS, layers),
        "--train-size": (args.train_size, DEFAULT_TRAIN_SIZE, run.train_size),
        "--test-size": (args.test_size, DEFAULT_TEST_SIZE, run.test_size),
    }
    ignored = [
        f"{flag} {_flag_text(given)}" for flag, (given, default, kept) in asked.items() if given not in (default, kept)
    ]
    if ignored:
        print(f"warning: resuming keeps the checkpoint's settings; ignored {', '.join(ignored)}", file=sys.stderr)


def _level_word(kind: str) -> str:
    """What a level means, for table headers: ``sigma`` for Gaussian noise, else ``fraction`` (of pixels hit)."""
    return "sigma" if kind == "gaussian" else "fraction"


def _flag_text(value) -> str:
    return f"{value[0]:g}:{value[1]:g}" if isinstance(value, tuple) else str(value)


def cmd_evaluate(args: argparse.Namespace) -> int:
    model = MLP.from_file(args.model)
    if not 1 <= args.test_size <= 10000:
        raise UsageError(f"--test-size must be between 1 and 10000, got {args.test_size}")
    if any(s < 0 for s in args.noise):
        raise UsageError("--noise values must be >= 0")
    trained = model.training_noise or NoiseSetting()
    kind = args.noise_kind.replace("-", "_") if args.noise_kind else trained.kind
    if kind != "gaussian" and any(s > 1 for s in args.noise):
        raise UsageError(f"--noise values are fractions of pixels for {args.noise_kind or kind} noise: 0 to 1")
    name = data_source(args.dataset).name if args.dataset else trained_on(model.metadata)
    if args.curve:
        return _print_curve(model, args, name, kind)
    dataset = Dataset(name, train_size=1, test_size=args.test_size, batch_size=1, data_dir=args.data)
    results = [model.evaluate(dataset.test_u8, s, kind=kind) for s in args.noise]
    if args.json:
        finite = [{k: (v if math.isfinite(v) else None) for k, v in r.items()} for r in results]  # strict JSON
        report = {"model": str(args.model), "dataset": dataset.name, "noise_kind": kind, "test_size": args.test_size}
        print(json.dumps({**report, "results": finite}, indent=2))
    else:
        print(f"{dataset.title} test set ({args.test_size} images), {kind.replace('_', '-')} noise")
        print(f"{_level_word(kind):>8} {'MSE':>9} {'PSNR dB':>8} {'noisy MSE':>10}")
        for r in results:
            print(f"{r['noise']:>8.2f} {r['mse']:>9.5f} {r['psnr']:>8.2f} {r['identity_mse']:>10.5f}")
    return EXIT_OK


def _print_curve(model: MLP, args: argparse.Namespace, dataset_name: str, kind: str) -> int:
    """The robustness curve (engine.robustness): one row per level, then where the model wins, in words."""
    dataset = Dataset(dataset_name, train_size=None, test_size=args.test_size, batch_size=1, data_dir=args.data)
    curve = robustness_curve(model, dataset.train_u8, dataset.test_u8, kind=kind)
    summary = describe(curve, Path(str(args.model)).stem)
    if args.json:
        payload = {"model": str(args.model), "dataset": dataset.name, "noise_kind": kind, "test_size": args.test_size,
                   "pca_components": curve.components, "curve": curve.rows(), "summary": summary}  # fmt: skip
        print(json.dumps(payload, indent=2))
        return EXIT_OK
    pca = f"PCA-{curve.components}"
    print(f"{_level_word(kind):>8} {'model':>9} {'noisy input':>12} {pca:>9}")
    for row in curve.rows():
        pca_text = "-" if row["pca"] is None else f"{row['pca']:.5f}"
        print(f"{row['sigma']:>8.2f} {row['model']:>9.5f} {row['noisy_input']:>12.5f} {pca_text:>9}")
    print(summary)
    return EXIT_OK


def cmd_summary(args: argparse.Namespace) -> int:
    MLP.from_file(args.model).summary()
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from engine.onnx_export import INSTALL_HINT, export_onnx, is_onnx_export, onnx_available

    if not onnx_available():
        raise UsageError(f"ONNX export needs the onnx package: {INSTALL_HINT}")
    model = MLP.from_file(args.model)
    name = Path(model.path).stem
    if args.output is not None and not args.output.strip():
        raise UsageError("--output is empty; give a file name such as model.onnx")
    output = Path(args.output or f"{name}.onnx")
    if output.is_file() and not is_onnx_export(output) and not args.force:
        raise UsageError(
            f"--output {output} exists and was not exported by Denoise Studio; not replacing it "
            "(choose another name, or pass --force to replace it)"
        )
    try:
        check_writable(output)
    except OSError as exc:
        raise UsageError(f"--output {output} cannot be written ({exc.strerror or exc})") from None
    export_onnx(model, output, name=name)
    print(f"exported {model.path} to {output} (ONNX, input and output (batch, 784) float32)", file=sys.stderr)
    return EXIT_OK


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "summary": cmd_summary, "export": cmd_export}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 with usage on bad arguments
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"denoise-studio {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILURE
    except (ModelFileError, DatasetFileError, ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except MemoryError:
        hint = "use narrower --layers or a smaller --train-size" if args.command == "train" else "close other programs"
        print(f"error: out of memory running {args.command!r} (the files may well be fine); {hint}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
