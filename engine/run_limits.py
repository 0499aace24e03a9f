"""What a training run's numbers may be: one rule for ``TrainConfig``, the CLI's flags and the model file.

Every level, rate and count a run is given or records is a finite number within the bounds stated
here.  ``TrainConfig`` and the noise functions refuse anything else (``ValueError``), the CLI's
parsers refuse it as a usage error (exit 2), ``write_model`` will not save metadata that breaks it
(``metadata_problems``), and a file written elsewhere is read with each value outside it clamped
to the nearest bound, or dropped when it is not a number, each with a one-line note
(``checked_metadata``).  So a model the CLI or the app writes always opens as it was saved, and a
crafted one opens with every number finite and within these bounds (a control narrower than a bound
still has to clamp, saying so).
"""

from __future__ import annotations

import copy
import math
import numbers
from dataclasses import dataclass, replace

MAX_TRAIN_IMAGES = 60_000
"""The official training sets' size (MNIST and Fashion-MNIST): the most a run trains on, the largest batch."""
MAX_TEST_IMAGES = 10_000
"""The official test sets' size."""
MAX_EPOCHS = 1_000_000
"""Far beyond any useful run over the full set (the small model takes ~1 s an epoch); room for long runs on a
few images (a run meant to go until it is stopped)."""
MAX_LR = 100.0
"""Far above any rate that trains (SGD diverges above ~1, Adam above ~0.1); what lies above is a typo."""
MAX_SIGMA = 10.0
"""Gaussian noise on pixels in [0, 1]: at σ 10 nearly every pixel is clipped to 0 or 1 already."""
MAX_SEED = 2**31 - 1
"""The largest 32-bit signed integer: what every spin box and file format holds."""


@dataclass(frozen=True)
class Bound:
    """The values one setting may take: ``low``..``high`` (ends included unless ``*_open``), whole numbers if
    ``integer``."""

    name: str
    low: float
    high: float
    integer: bool = False
    low_open: bool = False
    high_open: bool = False

    def describe(self) -> str:
        """``"between 1 and 10000"``, ``"> 0 and <= 100"``: the bound in words, for messages and help."""
        low, high = _number(self.low), _number(self.high)
        if not (self.low_open or self.high_open):
            return f"between {low} and {high}"
        return f"{'>' if self.low_open else '>='} {low} and {'<' if self.high_open else '<='} {high}"

    def problem(self, value: object) -> str | None:
        """Why ``value`` breaks the bound (a sentence naming it and the bound), or None."""
        kind = "an int" if self.integer else "a number"
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return f"{self.name} must be {kind}, got {type(value).__name__}"
        if self.integer and not isinstance(value, numbers.Integral):
            return f"{self.name} must be an int {self.describe()}, got {value!r:.40}"
        if not math.isfinite(value):
            return f"{self.name} must be a finite number {self.describe()}, got {_short(value)}"
        too_low = value <= self.low if self.low_open else value < self.low
        too_high = value >= self.high if self.high_open else value > self.high
        if too_low or too_high:
            return f"{self.name} must be {self.describe()}, got {_short(value)}"
        return None

    def check(self, value: object) -> int | float:
        """``value`` as an ``int`` or ``float`` if it is within the bound; else ``TypeError`` (not a number) or
        ``ValueError`` naming the setting, the bound and the value."""
        problem = self.problem(value)
        if problem is not None:
            not_a_number = isinstance(value, bool) or not isinstance(value, numbers.Real)
            if not_a_number or (self.integer and not isinstance(value, numbers.Integral)):
                raise TypeError(problem)
            raise ValueError(problem)
        return int(value) if self.integer else float(value)

    def clamp(self, value: object) -> tuple[int | float | None, str | None]:
        """(the value, None) when within the bound; else (the nearest value within it, a note saying so); (None,
        a note) when it is no number at all."""
        if self.integer and isinstance(value, float) and value.is_integer() and self.low <= value <= self.high:
            value = int(value)  # 5.0 from another tool's JSON is the count 5
        problem = self.problem(value)
        if problem is None:
            return (int(value) if self.integer else float(value)), None
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
            return None, f"{problem}; ignored"
        nearest = min(max(value, self.low), self.high)
        if self.integer:
            nearest = int(min(max(round(nearest), self.low), self.high))
        elif (self.low_open and nearest <= self.low) or (self.high_open and nearest >= self.high):
            return None, f"{problem}; ignored"
        return nearest, f"{problem}; read as {_number(nearest)}"

    def up_to(self, high: int) -> Bound:
        """The same bound with a lower ceiling (a batch no larger than the images there are)."""
        return replace(self, high=min(self.high, high))


EPOCHS = Bound("epochs", 1, MAX_EPOCHS, integer=True)
NEXT_EPOCH = Bound("next_epoch", 0, MAX_EPOCHS, integer=True)
BATCH_SIZE = Bound("batch_size", 1, MAX_TRAIN_IMAGES, integer=True)
LR = Bound("lr", 0, MAX_LR, low_open=True)
MOMENTUM = Bound("momentum", 0, 1, high_open=True)
SEED = Bound("seed", 0, MAX_SEED, integer=True)
SIGMA = Bound("noise sigma", 0, MAX_SIGMA)
FRACTION = Bound("noise fraction", 0, 1)
TRAIN_SIZE = Bound("train_size", 1, MAX_TRAIN_IMAGES, integer=True)
TEST_SIZE = Bound("test_size", 1, MAX_TEST_IMAGES, integer=True)

TRAINING_BOUNDS = {bound.name: bound for bound in (EPOCHS, BATCH_SIZE, LR, MOMENTUM, SEED)}
"""A ``TrainConfig``'s numbers, by field name (its noise is bounded by its kind: ``level_bound``)."""
DATASET_BOUNDS = {bound.name: bound for bound in (TRAIN_SIZE, TEST_SIZE)}
_TRAINING_RECORDS = ("training", "suggested_training")
"""Metadata entries holding a run's settings (a trained model's own, a preset's suggestion)."""


def level_bound(kind: str) -> Bound:
    """The bound of one noise level: σ for Gaussian noise, a fraction of pixels for the other kinds."""
    return SIGMA if kind == "gaussian" else replace(FRACTION, name=f"{kind} noise fraction")


def checked_metadata(metadata: object) -> tuple[dict, list[str]]:
    """A model file's metadata made to obey the rule, and a note for every value changed.

    Returns a copy in which each number of a run's settings (``training``,
    ``suggested_training``: epochs, batch size, rate, momentum, seed, noise) and of the data set
    sizes (``dataset``) outside its bound is clamped to it (a noise range put in order), or
    dropped when it is no number at all; the rest is kept as it is.  Those three records are
    copied whole; the rest (a run's history: thousands of numbers) is shared with ``metadata``,
    which is never changed.  ``notes`` are one line
    each (``"training: epochs must be an int between 1 and 1000000, got 1e+30; read as 1000000"``).  A
    checkpoint's ``resume`` entry is left alone: ``engine.checkpoint`` refuses a damaged one.
    """
    if not isinstance(metadata, dict):
        return {}, ["the metadata is not an object; ignored"] if metadata is not None else []
    checked = dict(metadata)
    for key in (*_TRAINING_RECORDS, "dataset"):
        if key in checked:
            checked[key] = copy.deepcopy(checked[key])
    notes: list[str] = []
    for key in _TRAINING_RECORDS:
        record = checked.get(key)
        if isinstance(record, dict):
            notes += [f"{key}: {note}" for note in _clamp_record(record, TRAINING_BOUNDS)]
            notes += [f"{key}: {note}" for note in _clamp_noise(record)]
    if isinstance(checked.get("dataset"), dict):
        notes += [f"dataset: {note}" for note in _clamp_record(checked["dataset"], DATASET_BOUNDS, optional=True)]
    return checked, notes


def metadata_problems(metadata: dict) -> list[str]:
    """What in ``metadata`` breaks the rule (the notes ``checked_metadata`` would make), for a writer to refuse."""
    return checked_metadata(metadata)[1]


def _clamp_record(record: dict, bounds: dict[str, Bound], optional: bool = False) -> list[str]:
    notes = []
    for name, bound in bounds.items():
        if name not in record or (optional and record[name] is None):
            continue
        value, note = bound.clamp(record[name])
        if note is None:
            continue
        notes.append(note)
        if value is None:
            del record[name]
        else:
            record[name] = value
    return notes


def _clamp_noise(record: dict) -> list[str]:
    """A record's ``noise`` (one level, or a ``[low, high]`` pair) clamped to its kind's bound."""
    if "noise" not in record:
        return []
    kind = record.get("noise_kind", "gaussian")
    kind = kind.strip().lower().replace("-", "_") if isinstance(kind, str) else "gaussian"
    bound = level_bound(kind)
    noise = record["noise"]
    levels = list(noise) if isinstance(noise, (list, tuple)) else [noise]
    if len(levels) not in (1, 2):
        del record["noise"]
        return [f"noise {_short(noise)} is neither one level nor a (low, high) range; ignored"]
    clamped, notes = [], []
    for level in levels:
        value, note = bound.clamp(level)
        notes += [note] if note else []
        clamped.append(value)
    if None in clamped:
        del record["noise"]
    elif len(clamped) == 1:
        record["noise"] = clamped[0]
    else:
        if clamped[0] > clamped[1]:
            notes.append(f"noise range {_short(noise)} runs high to low; read as {clamped[1]:g} to {clamped[0]:g}")
            clamped.reverse()
        record["noise"] = clamped
    return notes


def _number(value: float) -> str:
    """``60000``, ``2147483647``, ``0.001``, ``1e+30``: whole numbers in full (up to 15 digits), others short."""
    if isinstance(value, numbers.Integral) or (math.isfinite(value) and value == int(value) and abs(value) < 1e15):
        return str(int(value))
    return f"{value:g}"


def _short(value: object) -> str:
    """A value for a message, at most 40 characters (a 300-digit number or a long string is cut)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        text = _number(value) if math.isfinite(value) else str(value)
    else:
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
