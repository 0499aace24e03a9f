"""``denoise-studio summary``: print a model's summary (the seed's format)."""

from __future__ import annotations

import argparse

from engine.cli.arguments import EXIT_OK, load_model

NAME, HELP = "summary", "print a model's summary"


def add_arguments(summary: argparse.ArgumentParser) -> None:
    summary.add_argument("model", help="model file or shipped model name")


def run(args: argparse.Namespace) -> int:
    load_model(args.model).summary()
    return EXIT_OK
