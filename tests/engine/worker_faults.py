"""Faults put into a training step's worker process: a ``sitecustomize`` that only the worker reads (through its
PYTHONPATH), so the test's own process runs as usual."""

from __future__ import annotations

import contextlib
import os
import textwrap
from pathlib import Path

import pytest

DIE_AFTER_AN_UPDATE_BLOCK = """
    import os
    from engine import optimizers

    whole_step = optimizers.Adam.prepare_step

    def prepare_step(self, params, grads):  # the worker's blocks: it dies once it has changed one
        update = whole_step(self, params, grads)

        def update_and_die(lo, hi):
            update(lo, hi)
            os._exit(7)

        return update_and_die

    optimizers.Adam.prepare_step = prepare_step
"""


def in_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    """Run ``body`` (Python source) as the worker process starts."""
    (tmp_path / "sitecustomize.py").write_text(textwrap.dedent(body))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))


def children() -> set[int]:
    """This process's child processes now (Linux): a step's worker among them."""
    found = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that ended meanwhile
            found |= {int(pid) for pid in (task / "children").read_text().split()}
    return found
