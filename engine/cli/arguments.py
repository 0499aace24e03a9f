"""What every subcommand shares: exit codes, the usage error, and the parsers and words for layers and noise."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

from engine.activations import ACTIVATIONS
from engine.atomic import check_writable
from engine.data_sources import SOURCES
from engine.model_format import ModelFileError
from engine.model_limits import MAX_WIDTH, check_architecture
from engine.nn import MLP
from engine.noise import NOISE_KINDS
from engine.run_limits import SIGMA, Bound

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


def bounded(bound: Bound) -> Callable[[str], int | float]:
    """An argparse ``type`` for a count or a number within ``bound`` (``engine.run_limits``: the rule the API and
    the model file obey too); anything else is a usage error (exit 2) naming the bound."""

    def parse(text: str) -> int | float:
        try:
            value = int(text) if bound.integer else float(text)
        except ValueError:
            kind = "an integer" if bound.integer else "a number"
            raise argparse.ArgumentTypeError(f"expected {kind} {bound.describe()}, got {text!r:.40}") from None
        try:
            return bound.check(value)
        except (TypeError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = bound.name  # argparse names the type in its messages
    return parse


def parse_noise(text: str) -> float | tuple[float, float]:
    """``"0.1"`` -> 0.1; ``"0:0.8"`` -> (0.0, 0.8), a range each training image draws its own level from.

    Each level within ``SIGMA`` (a kind's own bound is checked once the kind is known)."""
    parts = text.split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or any(SIGMA.problem(v) for v in values):
        raise argparse.ArgumentTypeError(
            f"expected a level {SIGMA.describe()} such as 0.3, or a range low:high such as 0:0.8; got {text!r:.40}"
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


def check_output_name(text: str, flag: str) -> Path:
    """An output's name as typed, refused (a usage error) when empty or holding a control character (a newline
    would split the one-line messages that name it)."""
    if not text.strip():
        raise UsageError(f"{flag} is empty; give a file name")
    bad = next((c for c in text if unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise UsageError(f"{flag} {text!r:.200} holds a control character ({bad!r}); give a plain file name")
    return Path(text)


def check_writable_output(path: Path, flag: str) -> None:
    """``path`` can be written (its folder exists or can be made, the name is legal), else a usage error.

    A folder made for it is named on stderr, so a typo in a folder name does not go unseen."""
    missing = _first_missing_folder(path.parent)
    try:
        check_writable(path)
    except OSError as exc:
        raise UsageError(f"{flag} {path} cannot be written ({exc.strerror or exc})") from None
    if missing is not None and missing.is_dir():
        print(f"note: created the folder {missing} for {flag} {path}", file=sys.stderr)


def load_model(name: str) -> MLP:
    """A model file or shipped model by name, with a ``note:`` line on stderr for each setting in its metadata
    that was out of bounds and clamped."""
    model = MLP.from_file(name)
    print_notes(f"{model.path}: {note}" for note in model.load_notes)
    return model


def require_denoiser(model: MLP, command: str) -> None:
    """Refuse, before any data is read, a model that does not map 784 pixels to 784 (a classifier, an encoder)."""
    if (model.n_in, model.n_out) != (784, 784):
        raise ModelFileError(
            model.path or "the model",
            f"maps {model.n_in} values to {model.n_out}, but {command} needs a denoiser that maps the 784 pixels of "
            "an image to 784",
        )


def print_notes(notes: Iterable[str]) -> None:
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def _first_missing_folder(folder: Path) -> Path | None:
    """The outermost folder of ``folder``'s chain that does not exist yet (what making it would create), or None."""
    missing = None
    with contextlib.suppress(OSError):
        while not os.path.lexists(folder):
            missing, folder = folder, folder.parent
            if folder == missing:
                break
    return missing

