"""What every subcommand shares: exit codes, the usage error, and the parsers and words for layers and noise."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from engine.activations import ACTIVATIONS
from engine.atomic import check_writable
from engine.download import SOURCES
from engine.model_limits import MAX_WIDTH, check_architecture
from engine.noise import NOISE_KINDS

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
KIND_CHOICES = [kind.replace("_", "-") for kind in NOISE_KINDS]
DATASET_CHOICES = [name.replace("_", "-") for name in SOURCES]


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


def level_text(kind: str, level: float) -> str:
    """``"sigma=0.4"`` (Gaussian) or ``"masking fraction=0.3"``."""
    return f"sigma={level:g}" if kind == "gaussian" else f"{kind.replace('_', '-')} fraction={level:g}"


def level_word(kind: str) -> str:
    """What a level means, for table headers: ``sigma`` for Gaussian noise, else ``fraction`` (of pixels hit)."""
    return "sigma" if kind == "gaussian" else "fraction"


def flag_text(value) -> str:
    """A flag's value as typed: a range as ``low:high``."""
    return f"{value[0]:g}:{value[1]:g}" if isinstance(value, tuple) else str(value)


def check_writable_output(path: Path, flag: str) -> None:
    """``path`` can be written (its folder exists or can be made, the name is legal), else a usage error."""
    try:
        check_writable(path)
    except OSError as exc:
        raise UsageError(f"{flag} {path} cannot be written ({exc.strerror or exc})") from None

