"""A process that records training runs, for the tests of several processes on one runs database.

    python -m tests.engine.runs_writer RUNS EPOCHS

Trains ``RUNS`` tiny runs of ``EPOCHS`` epochs each (64 random images, batches of 8: an epoch takes
milliseconds, so the database is written to all the time), recording each into ``$DENOISE_STUDIO_RUNS``.
It prints ``ready`` and waits for a line on stdin before it starts (so two writers start together), and
``recorded`` (flushed) once the first epoch of the first run is in the database.
"""

from __future__ import annotations

import sys

import numpy as np

from engine.callbacks import Callback
from engine.nn import build_mlp
from engine.runs import RunRecorder


class SayRecorded(Callback):
    """After the recorder (it comes later in the list): the first epoch is in the database."""

    def __init__(self) -> None:
        self.said = False

    def on_epoch_end(self, epoch, logs):
        if not self.said:
            print("recorded", flush=True)
            self.said = True


def main(runs: int, epochs: int) -> None:
    x = np.random.default_rng(0).integers(0, 256, (80, 784), dtype=np.uint8)
    said = SayRecorded()
    print("ready", flush=True)
    sys.stdin.readline()
    for _ in range(runs):
        recorder = RunRecorder(source="test", warn=lambda text: print(text, file=sys.stderr, flush=True))
        model = build_mlp([784, 4, 784], ["relu", "sigmoid"], seed=0)
        model.fit(x[:64], x[64:], epochs=epochs, batch_size=8, callbacks=[recorder, said])
        if recorder.failed_to_record:
            sys.exit(3)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
