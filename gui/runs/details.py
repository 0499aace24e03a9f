"""The chosen run in full, and what can be done with it: open its model, continue its training, train it again.

The run is read in full by a job (its settings, epochs, the runs it continued or that continued it, and
whether its model file is still the one it saved — a SHA-256 of the file); until then its row's status
shows.  The panel only asks: ``openRequested``, ``continueRequested`` and ``trainAgainRequested``
carry the run and its model file's state (a ``RunFacts``) to the window, which owns the model and the
Training form.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from engine.cli.run_tables import duration, epochs_text, number, when
from engine.runs import RunRecord
from engine.runs.files import model_state
from gui.common.controls import hinted_button
from gui.common.hints import explain_disabled, hint
from gui.common.jobs import JobRunner
from gui.common.theme import colors
from gui.runs.feed import open_for_reading
from gui.runs.table_model import RunRow

MODEL_WORDS = {
    "unchanged": "as the run saved it",
    "changed": "CHANGED since the run saved it (its SHA-256 differs): it is another model now",
    "missing": "GONE: there is no file there now",
    "unreadable": "cannot be read (permissions?)",
}
OPENABLE = ("unchanged", "changed")


@dataclass(frozen=True)
class RunFacts:
    """A run read in full (with its epochs) and what the disk says of its model file (one of
    ``engine.runs.files.MODEL_STATES``)."""

    run: RunRecord
    model: str
    lineage: list[str] = field(default_factory=list)


def read_facts(path: Path, run_id: int, state) -> RunFacts | None:
    """A job: the run ``run_id`` with its epochs and curve, its model file's state, and its lineage."""
    store, _ = open_for_reading(path)
    with store:
        run = store.get(run_id)
        if run is None:
            return None
        lineage = []
        for link, how in ((run.resumed_from, "continues"), (run.rerun_of, "repeats")):
            if link:
                found = store.find_uuid(link)
                lineage.append(f"{how} run {found}" if found is not None else f"{how} a run not in this database")
        for other in store.followers(run.uuid):
            how = "repeated" if other.rerun_of == run.uuid else "continued"
            lineage.append(f"{how} by run {other.id} ({other.status})")
    return RunFacts(run, model_state(run.model_path, run.model_sha256), lineage)


class RunDetails(QWidget):
    """``show_run(row)`` (the table's row of the run chosen, or None); ``facts`` once read (``factsReady``)."""

    openRequested = Signal(object)
    continueRequested = Signal(object)
    trainAgainRequested = Signal(object)
    factsReady = Signal(object)  # RunFacts

    def __init__(self, path: Path, current_run: Callable[[], str | None] = lambda: None,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.path = path
        self.current_run = current_run  # the uuid of the run that trained the app's current model, if any
        self.row: RunRow | None = None
        self.facts: RunFacts | None = None
        self._waiting = None  # a request asked before the run's facts were read
        self.jobs = JobRunner(self)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        hint(self.text, "The run chosen in the table: when and how it ran, its scores, its model file and the runs "
                        "it continued or that continued it")  # fmt: skip
        scroll = QScrollArea()
        scroll.setWidget(self.text)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.open_button = hinted_button("&Open model", "Open this run's model file in the app (the Denoise and "
                                         "Architecture tabs show it)", self._open)  # fmt: skip
        self.continue_button = hinted_button("&Continue training", "Open this run's model (or take it from the app, "
                                             "if it is the model there) and fill the Training tab with its settings: "
                                             "Start then trains it further, and the new run records that it continues "
                                             "this one", self._continue)  # fmt: skip
        self.again_button = hinted_button("Train a&gain", "A fresh network with this run's layers (its weights drawn "
                                          "with the run's seed) and the Training tab filled with its settings: Start "
                                          "repeats the run. Values a control cannot hold are clamped, with a note",
                                          self._again)  # fmt: skip
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll, 1)
        for button in (self.open_button, self.continue_button, self.again_button):
            layout.addWidget(button)
        self.show_run(None)

    def show_run(self, row: RunRow | None) -> None:
        """The run chosen (None: none); it is read in full by a job (until then its row's status shows)."""
        same = row is not None and self.row is not None and row.id == self.row.id and row.updated == self.row.updated
        self.row = row
        if same:
            return
        self.facts = self._waiting = None
        self._set_buttons()
        if row is None:
            self.jobs.cancel()
            self.text.setText("<p>Choose a run in the table to see it in full.</p><p>Tick up to four runs (the box in "
                              "the Run column, or Space) to compare their curves and settings on the right.</p>")
            return
        self.text.setText(f"<b>Run {row.id}</b> · {html.escape(row.status)} · reading…")
        self.jobs.start(read_facts, self.path, row.id, on_done=self._got_facts, on_error=self._no_facts)

    def _got_facts(self, facts: RunFacts | None) -> None:
        if self.row is None or (facts is not None and facts.run.id != self.row.id):
            return
        self.facts = facts
        self.text.setText(self._describe(facts.run, facts) if facts is not None else
                          f"Run {self.row.id} is no longer in the database.")  # fmt: skip
        self._set_buttons()
        self.factsReady.emit(facts)
        waiting, self._waiting = self._waiting, None
        if waiting is not None and facts is not None:
            waiting.emit(facts)

    def _no_facts(self, error: BaseException) -> None:
        self._waiting = None
        if self.row is not None:
            self.text.setText(f"<b>Run {self.row.id}</b> · {html.escape(self.row.status)}<p>Could not read it: "
                              f"{html.escape(str(error))}</p>")  # fmt: skip

    def _set_buttons(self) -> None:
        """Open needs the model file; Continue the file or the run's model in the app (trained, maybe unsaved); Train
        again the run's layers."""
        row, facts = self.row, self.facts
        openable = facts is not None and facts.model in OPENABLE
        if row is None:
            why = "no run is chosen; it works once you click a run in the table"
        elif facts is None:
            why = "the run's details are still being read; it works in a moment"
        else:
            why = "this run's model file is gone, or the run saved none; it works for a run whose file is there"
        explain_disabled(self.open_button, why)
        explain_disabled(self.continue_button, why)
        explain_disabled(self.again_button, why if row is None else "this run did not record its layers (a program "
                         "gave it its own network); it works for runs the app or the command line trained")  # fmt: skip
        self.open_button.setEnabled(openable)
        self.continue_button.setEnabled(openable or (row is not None and self.current_run() == row.uuid))
        self.again_button.setEnabled(row is not None and row.repeatable)

    def _describe(self, run: RunRecord, facts: RunFacts) -> str:
        """The run as rich text (every value escaped)."""
        e = html.escape
        error = colors()["error"]
        lines = [f"<b>Run {run.id}</b> · {e(run.status)} · {e(run.source)}"
                 + (f" · sweep {run.sweep_id}" if run.sweep_id is not None else "")]  # fmt: skip
        ended = f", ended {when(run.ended)}" if run.ended else ""
        lines.append(f"Started {when(run.started)}{ended}; trained {duration(run.seconds)}, {epochs_text(run)} "
                     "epochs")  # fmt: skip
        if run.error:
            lines.append(f"<span style='color:{error}'>Why: {e(run.error)}</span>")
        lines.append(f"Layers {e(run.layers or '-')} · {e(run.dataset or '-')}")
        if run.scores:
            lines.append(f"Test MSE {number(run.test_mse)}, PSNR {number(run.scores.get('psnr'), 2)} dB")
        if run.command:
            lines.append(f"Command: <code>{e(run.command)}</code>")
        if run.cell:
            lines.append(f"Sweep cell: {e(run.cell)}")
        lines.append(self._model_line(run, facts))
        lines += [e(line.capitalize()) for line in facts.lineage]
        return "<br>".join(lines)

    def _model_line(self, run: RunRecord, facts: RunFacts) -> str:
        e = html.escape
        if not run.model_path:
            if run.status == "running":
                return "Model: not saved yet"
            return ("Model: not saved — " + ("the app keeps a trained model until you save it (File ▸ Save), "
                                             "which records the file here" if run.source == "app" else "none written"))
        name = f"<code>{e(run.model_path)}</code>"
        words = MODEL_WORDS.get(facts.model, facts.model)
        if facts.model in ("changed", "missing", "unreadable"):
            words = f"<span style='color:{colors()['error']}'><b>{e(words)}</b></span>"
        return f"Model: {name} — {words}"

    def _open(self) -> None:
        self._ask(self.openRequested)

    def _continue(self) -> None:
        self._ask(self.continueRequested)

    def _again(self) -> None:
        self._ask(self.trainAgainRequested)

    def _ask(self, signal) -> None:
        """Send a request for the chosen run (its ``RunFacts``); one asked before the run was read waits for it (a
        context menu may ask at once)."""
        if self.facts is not None:
            signal.emit(self.facts)
        elif self.row is not None and self.jobs.is_busy():
            self._waiting = signal

    def ask_open(self) -> None:
        self._open()

    def ask_continue(self) -> None:
        self._continue()

    def ask_again(self) -> None:
        self._again()

    def refresh_buttons(self) -> None:
        """The app's model changed: Continue may now (or no longer) use it."""
        self._set_buttons()

    def model_state(self) -> str | None:
        """The model file's state once read (``engine.runs.files.MODEL_STATES``)."""
        return None if self.facts is None else self.facts.model

    def buttons(self) -> list[QPushButton]:
        return [self.open_button, self.continue_button, self.again_button]
