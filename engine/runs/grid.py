"""A sweep's grid: every combination of the values given for each setting, times the seeds.

Values are kept as ``train`` takes them on its command line (``"784:32:relu,784:sigmoid"``,
``"0:0.8"``, ``"0.003"``), so a cell is exactly a ``train`` command.  A cell's *key* names all its
settings (what ``--resume`` matches); its *name* only those that vary across the grid, for its model
file (``layers784-32relu-784sigmoid_lr0.003.npz``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

AXES = ("layers", "noise", "noise_kind", "lr", "optimizer", "momentum", "batch_size", "epochs", "loss", "dataset")
"""The settings a sweep can vary, in the order cells are keyed and named."""
_UNSAFE = re.compile(r"[^A-Za-z0-9.+-]+")


@dataclass(frozen=True)
class Cell:
    """One run of the grid: ``settings`` maps each axis (and ``seed``) to its value as text."""

    index: int
    settings: dict[str, str]
    key: str
    name: str

    def flags(self) -> list[str]:
        """The cell's settings as ``train`` flags (``--layers``, ``--noise-kind``, ..., ``--seed``)."""
        argv = []
        for axis, value in self.settings.items():
            argv += [f"--{axis.replace('_', '-')}", value]
        return argv


def make_grid(values: dict[str, Sequence[str]], seeds: Sequence[int]) -> list[Cell]:
    """Cells for every combination of ``values`` (axis -> its values, in ``AXES`` order) and seed.

    An axis given one value is the same in every cell; the names show only the axes with several
    (and the seed when there are several); names that would still clash get the cell's number.
    """
    axes = [axis for axis in AXES if values.get(axis)]
    varying = [axis for axis in axes if len(values[axis]) > 1] + (["seed"] if len(seeds) > 1 else [])
    cells = []
    for index, combo in enumerate(itertools.product(*(values[a] for a in axes), seeds)):
        settings = {**dict(zip(axes, combo[:-1], strict=True)), "seed": str(combo[-1])}
        key = " ".join(f"{axis}={value}" for axis, value in settings.items())
        name = "_".join(f"{_short(axis)}{_safe(settings[axis])}" for axis in varying) or "model"
        cells.append(Cell(index, settings, key, name))
    counts: dict[str, int] = {}
    for cell in cells:
        counts[cell.name] = counts.get(cell.name, 0) + 1
    return [c if counts[c.name] == 1 else Cell(c.index, c.settings, c.key, f"{c.name}_{c.index + 1}") for c in cells]


def grid_key(cells: Sequence[Cell], shared: dict, output_dir: str) -> str:
    """The same cells, shared settings and output folder give the same key: a sweep ``--resume`` continues."""
    text = json.dumps({"cells": [c.key for c in cells], "shared": shared, "output": output_dir}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _short(axis: str) -> str:
    return {"noise_kind": "", "batch_size": "batch", "optimizer": "", "loss": "", "dataset": ""}.get(axis, axis)


def _safe(value: str) -> str:
    """A value as part of a file name: ``784:32:relu,784:sigmoid`` -> ``784-32relu-784sigmoid``."""
    if "," in value or value.count(":") > 1:  # layers
        value = "-".join(item.rsplit(":", 1)[0] + item.rsplit(":", 1)[1] for item in value.split(","))
    return _UNSAFE.sub("-", value).strip("-")
