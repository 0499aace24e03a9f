"""``denoise-studio train | evaluate | summary``: offline work from the command line (no Qt).

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
from dataclasses import replace
from pathlib import Path

from engine.activations import ACTIVATIONS
from engine.callbacks import Callback, ProgressBar
from engine.checkpoint import Checkpoint, load_checkpoint
from engine.dataset import Dataset, trained_on
from engine.download import SOURCES, data_source
from engine.idx import DatasetFileError
from engine.model_format import MAX_WIDTH, ModelFileError
from engine.nn import MLP, build_mlp
from engine.noise import NOISE_KINDS, NoiseSetting
from engine.optimizers import OPTIMIZERS
from engine.robustness import describe, robustness_curve
from engine.training import TrainConfig, TrainingDiverged

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


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
        prog="denoise-studio", description="Denoising autoencoders on MNIST and Fashion-MNIST."
    )
    sub = parser.add_subparsers(dest="command", metavar="{train,evaluate,summary}")
    defaults = TrainConfig()

    train = sub.add_parser("train", help="train a model (progress bar, checkpoint every epoch, Ctrl-C saves)")
    train.add_argument("--layers", default="784:10:relu,784:sigmoid", help="e.g. 784:10:relu,784:sigmoid")
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
    train.add_argument("--train-size", type=int, default=60000)
    train.add_argument("--test-size", type=int, default=10000, help="test images for the per-epoch score")
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
    return parser


class _SigintStops(Callback):
    """Turns Ctrl-C (and SIGTERM, e.g. a logout or ``kill``) into a clean stop at the end of the current batch.

    The stopped run still saves its checkpoint and the model; a second signal aborts at once.
    """

    SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict = {}

    def on_train_begin(self, logs):
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread
        for sig in self.SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)

    def _handle(self, signum, frame):
        if self.requested:  # a second Ctrl-C aborts at once
            raise KeyboardInterrupt
        self.requested = True
        self.trainer.stop_training = True
        print("\nstopping after this batch (Ctrl-C again to abort)…", file=sys.stderr)

    def on_train_end(self, logs):
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()


def cmd_train(args: argparse.Namespace) -> int:
    output = Path(args.output)
    checkpoint = Path(args.checkpoint) if args.checkpoint else output.with_name(output.stem + ".ckpt.npz")
    resume = None
    if output.is_dir():
        raise UsageError(f"--output {output} is a folder; give a file name such as {output / 'model.npz'}")
    if checkpoint.resolve() == output.resolve():
        raise UsageError("--checkpoint and --output must be different files")
    if args.resume:
        run = load_checkpoint(args.resume)
        model, resume = run.model, run.resume
        config = replace(run.config, epochs=max(args.epochs, run.config.epochs))
        train_size, test_size = run.train_size or args.train_size, run.test_size or args.test_size
        dataset_name = data_source(run.dataset).name if run.dataset else "mnist"
        _warn_ignored_flags(args, config, dataset_name)
        if resume.next_epoch >= config.epochs:
            raise UsageError(f"the checkpoint already finished {resume.next_epoch} epochs; pass --epochs above that")
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
    dataset = Dataset(
        dataset_name,
        train_size=train_size,
        test_size=test_size,
        batch_size=min(config.batch_size, train_size),
        data_dir=args.data,
    )
    sigint = _SigintStops()
    callbacks = [sigint, Checkpoint(checkpoint)]
    if not args.quiet:
        callbacks.append(ProgressBar(config.epochs))
    model.metadata["dataset"] = {"name": dataset.name, "train_size": train_size, "test_size": dataset.test_size}
    try:
        model.fit(dataset, config=config, callbacks=callbacks, resume=resume)
    except TrainingDiverged as exc:
        print(f"error: {exc}; {output} was not written", file=sys.stderr)
        return EXIT_FAILURE
    setting = config.noise_setting
    level = setting.default_level
    scores = model.evaluate(dataset.test_u8, level, kind=setting.kind)
    model.metadata["metrics"] = {f"test_mse@{level:g}": scores["mse"]}
    model.save(output)
    state = "stopped early; resume with --resume " + str(checkpoint) if sigint.requested else "done"
    where = f"{_level_text(setting.kind, level)}" + (", the middle of the training range" if setting.is_range else "")
    print(f"{state}: saved {output} (test MSE {scores['mse']:.5f} at {where})", file=sys.stderr)
    return EXIT_OK


def _level_text(kind: str, level: float) -> str:
    """``"sigma=0.4"`` (Gaussian) or ``"masking fraction=0.3"``."""
    return f"sigma={level:g}" if kind == "gaussian" else f"{kind.replace('_', '-')} fraction={level:g}"


def _warn_ignored_flags(args: argparse.Namespace, config: TrainConfig, dataset_name: str) -> None:
    """A resumed run keeps the checkpoint's settings: say so when the command line asked for others."""
    defaults = TrainConfig()
    asked = {
        "--batch-size": (args.batch_size, defaults.batch_size, config.batch_size),
        "--lr": (args.lr, defaults.lr, config.lr),
        "--optimizer": (args.optimizer, defaults.optimizer, config.optimizer),
        "--noise": (args.noise, defaults.noise, config.noise),
        "--noise-kind": (args.noise_kind, "gaussian", config.noise_kind.replace("_", "-")),
        "--seed": (args.seed, defaults.seed, config.seed),
        "--loss": (args.loss, defaults.loss, config.loss),
        "--dataset": (args.dataset, None, dataset_name.replace("_", "-")),
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


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "summary": cmd_summary}


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
    except (ModelFileError, DatasetFileError, ValueError, TypeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except MemoryError:
        print("error: not enough memory; use narrower --layers or a smaller --train-size", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
