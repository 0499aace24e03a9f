"""Runs side by side: their settings with the differences marked, their curves and scores by epoch.

Plain rows for any view to show (the CLI's tables, the app's Runs view); no formatting here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.runs.store import RunRecord

HIDDEN_SETTINGS = ("layer_specs",)
"""Settings shown only through another (``layers`` says the same in one line)."""


@dataclass(frozen=True)
class Row:
    """One setting (or score) across runs: ``values[i]`` is run ``i``'s (None where it has none)."""

    name: str
    values: tuple
    differs: bool


def settings_rows(runs: Sequence[RunRecord]) -> list[Row]:
    """Every setting any of ``runs`` has, in a stable order (the common ones first as recorded), each
    marked where the runs differ."""
    names: list[str] = []
    for run in runs:
        names += [n for n in run.settings if n not in names and n not in HIDDEN_SETTINGS]
    return [_row(name, [run.settings.get(name) for run in runs]) for name in names]


def environment_rows(runs: Sequence[RunRecord]) -> list[Row]:
    """Versions and machine: what besides the settings decides the last bits of the weights."""
    names = sorted({n for run in runs for n in run.versions}) + sorted({n for run in runs for n in run.machine})
    rows = []
    for name in names:
        source = "versions" if any(name in run.versions for run in runs) else "machine"
        rows.append(_row(name, [getattr(run, source).get(name) for run in runs]))
    return rows


def epoch_rows(runs: Sequence[RunRecord], key: str = "val_loss") -> list[tuple[int, tuple]]:
    """(epoch, (run 0's ``key``, run 1's, ...)) for every epoch any run reached; None where a run did not.
    Runs need their epochs (``RunStore.get``)."""
    by_run = [{e["epoch"]: e.get(key) for e in run.epochs} for run in runs]
    epochs = sorted({e for table in by_run for e in table})
    return [(epoch, tuple(table.get(epoch) for table in by_run)) for epoch in epochs]


def _row(name: str, values: list) -> Row:
    comparable = [_normal(v) for v in values]
    return Row(name, tuple(values), any(v != comparable[0] for v in comparable[1:]))


def _normal(value):
    """Lists and tuples alike (JSON gives lists), ints and floats alike."""
    if isinstance(value, (list, tuple)):
        return tuple(_normal(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
