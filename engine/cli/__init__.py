"""``denoise-studio <command>``: offline work from the command line (no Qt).

One module a subcommand, each with ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> exit code``:
``train``, ``evaluate``, ``summary``, ``export``, ``runs``, ``sweep``; what they share (exit codes, the usage error,
the layer and noise parsers) is in ``arguments``.  A new subcommand is a new module and one entry in ``SUBCOMMANDS``.

Exit codes: 0 success, 2 bad arguments, 1 failure (with a one-line reason on stderr).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable, Sequence

import numpy as np

from engine import __version__
from engine.cli import evaluate, export, runs, summary, sweep, train
from engine.cli.arguments import EXIT_FAILURE, EXIT_USAGE, UsageError, parse_layers, parse_noise
from engine.idx import DatasetFileError
from engine.model_format import ModelFileError
from engine.runs import RunsDatabaseError

SUBCOMMANDS = (train, evaluate, summary, export, runs, sweep)
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {module.NAME: module.run for module in SUBCOMMANDS}

__all__ = ["COMMANDS", "UsageError", "build_parser", "main", "parse_layers", "parse_noise"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="denoise-studio",
        description="Denoising autoencoders on MNIST and Fashion-MNIST. Without a command (or with a model file) "
        "it opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"denoise-studio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")
    for module in SUBCOMMANDS:
        module.add_arguments(sub.add_parser(module.NAME, help=module.HELP))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)  # exits 2 with usage on bad arguments
    args.command_line = shlex.join(["denoise-studio", *argv])  # what a run records: the command as it was given
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # an inf or NaN says it in the output
            return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"denoise-studio {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILURE
    except (ModelFileError, DatasetFileError, RunsDatabaseError, ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except MemoryError:
        hint = "use narrower --layers or a smaller --train-size" if args.command == "train" else "close other programs"
        print(f"error: out of memory running {args.command!r} (the files may well be fine); {hint}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_FAILURE
