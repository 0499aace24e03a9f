"""A training step's worker process that ends in the middle of a run (killed, out of memory): the run goes on with
the same numbers on one core, and the run's watchers hear why it is slower — in the CLI and the app alike."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from engine.callbacks import Callback, PrintNotes
from engine.contention import Contention
from engine.losses import MSE
from engine.nn import build_mlp
from engine.optimizers import Adam
from engine.shared_memory import STOPPED_S, worker_ended_note
from engine.steps import ProcessParallelStep
from engine.tensor_parallel import TensorParallelStep
from engine.training import TrainConfig, Trainer
from tests.engine.worker_faults import children

CONFIG = TrainConfig(epochs=2, batch_size=32, lr=0.003, noise=0.4, seed=2)
READY_S = 120.0
"""How long a test waits for the worker process to start, or to be gone once killed (a loaded CI machine)."""


class KillWorker(Callback):
    """Kills the step's worker process (SIGKILL, as the kernel's out-of-memory killer does) after batch 3."""

    def __init__(self, before: set[int]) -> None:
        self.before = before
        self.killed: list[int] = []

    def on_batch_end(self, batch, logs):
        if logs["epoch"] == 0 and batch == 3:
            for pid in children() - self.before:
                os.kill(pid, signal.SIGKILL)
                os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # gone before the next step (the step reaps it)
                self.killed.append(pid)


class Hear(Callback):
    def __init__(self) -> None:
        self.notes: list[str] = []

    def on_note(self, text):
        self.notes.append(text)


def _images() -> np.ndarray:
    return (np.random.default_rng(5).random((320, 784)) > 0.6).astype(np.float32)


@pytest.mark.parametrize("parallel", ["units", "processes"])
def test_a_worker_killed_mid_run_is_told_to_the_runs_watchers_and_the_run_goes_on_with_the_same_bits(parallel):
    model = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=1)
    untouched = model.copy()
    killer, hear = KillWorker(children()), Hear()
    trainer = Trainer(model, CONFIG, [hear, killer], parallel=parallel)
    trainer.fit(_images())
    assert len(killer.killed) == 1
    assert len(hear.notes) == 1  # said once, when found
    assert "one core" in hear.notes[0] and "SIGKILL" in hear.notes[0] and "memory" in hear.notes[0]
    assert len(trainer.history.epochs) == CONFIG.epochs
    Trainer(untouched, CONFIG, parallel=parallel).fit(_images())  # its worker lives: the same numbers
    np.testing.assert_array_equal(model.params, untouched.params)


@pytest.mark.parametrize("kind", ["units", "processes"])
def test_a_worker_that_dies_while_the_step_runs_alone_is_found_and_said(kind):
    """Alone (another program on the other core) the step does not use the pipes that would tell it: it asks the
    process itself, once a step."""
    model = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=1)
    optimizer = Adam(lr=0.003)
    # a bar every step passes, and no word of idle cores: the steps after the first run alone, 200 of them
    always_alone = Contention(idle_seconds=lambda: None, alone_above=-1.0)
    make = {"units": TensorParallelStep, "processes": ProcessParallelStep}[kind]
    rng = np.random.default_rng(0)
    noisy, clean = rng.random((32, 784), dtype=np.float32), rng.random((32, 784), dtype=np.float32)
    heard: list[str] = []
    before = children()
    with make(model, MSE(), 32, optimizer, contention=always_alone, note=heard.append) as step:
        assert step.wait_until_ready(READY_S)
        for _ in range(2):
            step.gradients(noisy, clean)
            step.update(optimizer)
        (worker,) = children() - before
        os.kill(worker, signal.SIGKILL)
        os.waitid(os.P_PID, worker, os.WEXITED | os.WNOWAIT)  # until it is gone (left for the step to reap)
        assert not heard
        step.gradients(noisy, clean)  # (the 3rd step: 198 more would run alone)
        assert len(heard) == 1 and "one core" in heard[0] and "SIGKILL" in heard[0]
        step.update(optimizer)
    assert worker not in children()


def test_without_a_watcher_that_hears_notes_the_note_is_a_warning():
    model = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=1)
    with pytest.warns(RuntimeWarning, match="one core.*SIGKILL"):
        Trainer(model, CONFIG, [KillWorker(children())], parallel="units").fit(_images())


def test_the_cli_prints_the_note_between_its_progress_lines(capsys):
    trainer = Trainer(build_mlp([784, 10, 784], ["relu", "sigmoid"], seed=1), CONFIG, [PrintNotes()])
    trainer.note("training continues on one core")
    assert capsys.readouterr().err == "note: training continues on one core\n"


STOP_ITSELF = {
    "units": """
        import os, signal
        from engine import tensor_parallel

        run, stopped = tensor_parallel.UnitShare.run, []

        def run_or_stop(self, phase):  # stopped in the first part it takes, holding it: the trainer waits for phase 1
            if phase == 1 and not stopped:
                stopped.append(phase)
                os.kill(os.getpid(), signal.SIGSTOP)
            run(self, phase)

        tensor_parallel.UnitShare.run = run_or_stop
    """,
    "processes": """
        import os, signal
        from engine import nn

        forward, stopped = nn.MLP.forward, []

        def forward_or_stop(self, *args, **kwargs):  # stopped in the first half-batch it takes, holding it
            if not stopped:
                stopped.append(True)
                os.kill(os.getpid(), signal.SIGSTOP)
            return forward(self, *args, **kwargs)

        nn.MLP.forward = forward_or_stop
    """,
}


def assert_the_bits_of_a_run_alone(make, first, batches, losses, model) -> None:
    """The same steps (``batches`` in turn, Adam) from ``first``, with ``make``'s step run here alone: every loss
    and the weights as the run with the worker gave them."""
    alone, alone_optimizer = first.copy(), Adam(lr=0.003)
    always_alone = Contention(idle_seconds=lambda: None, alone_above=-1.0)
    with make(alone, MSE(), 32, alone_optimizer, contention=always_alone) as step:
        for i in range(len(losses)):  # (every step but the first here alone: the same bits)
            assert step.gradients(*batches[i % len(batches)]) == losses[i]
            step.update(alone_optimizer)
    np.testing.assert_array_equal(model.params, alone.params)


@pytest.mark.parametrize("kind", ["units", "processes"])
def test_a_worker_stopped_while_it_holds_part_of_a_step_is_ended_and_the_run_goes_on_with_the_same_bits(
    tmp_path, monkeypatch, kind
):
    """Stopped (``kill -STOP``, a process monitor's "stop"), the worker would keep the trainer waiting for good and
    Stop in the app could not act: after ``STOPPED_S`` the step ends it, runs its part and says why."""
    from tests.engine.worker_faults import in_worker

    make = {"units": TensorParallelStep, "processes": ProcessParallelStep}[kind]
    first = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=1)
    rng = np.random.default_rng(0)
    batches = [(rng.random((32, 784), dtype=np.float32), rng.random((32, 784), dtype=np.float32)) for _ in range(5)]
    in_worker(tmp_path, monkeypatch, STOP_ITSELF[kind])
    heard: list[str] = []
    before = children()
    model, optimizer, losses = first.copy(), Adam(lr=0.003), []
    with make(model, MSE(), 32, optimizer, contention=Contention.never(), note=heard.append) as step:
        assert step.wait_until_ready(READY_S)
        (worker,) = children() - before
        resume = threading.Timer(6 * STOPPED_S, os.kill, (worker, signal.SIGCONT))  # (a test that fails ends)
        resume.start()
        try:
            while not heard and len(losses) < 1000:  # until it takes a part (and stops in it), and the next step
                noisy, clean = batches[len(losses) % 5]
                losses.append(step.gradients(noisy, clean))
                step.update(optimizer)
        finally:
            resume.cancel()
    assert len(heard) == 1 and "one core" in heard[0] and "stopped (SIGSTOP)" in heard[0]
    assert worker not in children()
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "no faults"))  # (this step's worker may take its first part)
    assert_the_bits_of_a_run_alone(make, first, batches, losses, model)


@pytest.mark.parametrize("kind", ["units", "processes"])
def test_a_worker_stopped_between_parts_is_ended_and_the_run_goes_on_alone_with_the_same_bits(monkeypatch, kind):
    """Stopped between parts, the worker holds nothing, and the step takes back each part it offers: the run goes
    on, but by the slow road and without a word. After ``STOPPED_S`` (here 0.3 s) the step ends the worker, says
    so, and runs alone."""
    from engine import shared_memory

    monkeypatch.setattr(shared_memory, "STOPPED_S", 0.3)
    monkeypatch.setattr(shared_memory, "STOPPED_CHECK_S", 0.05)
    make = {"units": TensorParallelStep, "processes": ProcessParallelStep}[kind]
    taken = {"units": lambda step: step.worker_parts, "processes": lambda step: step.worker_tasks}[kind]
    first = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=1)
    rng = np.random.default_rng(0)
    batches = [(rng.random((32, 784), dtype=np.float32), rng.random((32, 784), dtype=np.float32)) for _ in range(5)]
    heard: list[str] = []
    before = children()
    model, optimizer, losses = first.copy(), Adam(lr=0.003), []

    def train_one() -> None:
        noisy, clean = batches[len(losses) % 5]
        losses.append(step.gradients(noisy, clean))
        step.update(optimizer)

    with make(model, MSE(), 32, optimizer, contention=Contention.never(), note=heard.append) as step:
        assert step.wait_until_ready(READY_S)
        (worker,) = children() - before
        while taken(step) == 0 and len(losses) < 1000:  # (on a loaded machine it may lose races, never all)
            train_one()
        os.kill(worker, signal.SIGSTOP)
        os.waitid(os.P_PID, worker, os.WSTOPPED | os.WNOWAIT)  # stopped before the next part is offered
        taken_before = taken(step)
        watchdog = threading.Timer(60.0, os.kill, (worker, signal.SIGCONT))  # (a test that fails ends)
        watchdog.start()
        try:
            deadline = time.monotonic() + 30.0
            while not heard and time.monotonic() < deadline:
                train_one()
        finally:
            watchdog.cancel()
        for _ in range(3):
            train_one()
        assert taken(step) == taken_before  # (it held nothing: this is not the stop in the middle of a part)
    assert heard == [worker_ended_note(None, stopped=True)]
    assert worker not in children()
    assert_the_bits_of_a_run_alone(make, first, batches, losses, model)


def test_only_a_stop_watched_throughout_counts_towards_ending_the_worker():
    """A worker stopped, continued while no one looked (no part offered: a stretch alone, a pause between steps) and
    stopped again has been stopped only since then: ``STOPPED_S`` counts from there, not from the first stop."""
    import subprocess
    import sys

    from engine.shared_memory import StoppedWatch

    now = [0.0]
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        watch = StoppedWatch(worker, lambda: False, lambda text: None, clock=lambda: now[0])
        os.kill(worker.pid, signal.SIGSTOP)
        os.waitid(os.P_PID, worker.pid, os.WSTOPPED | os.WNOWAIT)
        assert not watch.left_untaken()  # seen stopped: the count begins
        os.kill(worker.pid, signal.SIGCONT)
        os.waitid(os.P_PID, worker.pid, os.WCONTINUED | os.WNOWAIT)
        os.kill(worker.pid, signal.SIGSTOP)
        os.waitid(os.P_PID, worker.pid, os.WSTOPPED | os.WNOWAIT)
        now[0] += STOPPED_S + 1
        assert not watch.left_untaken()  # it ran in between: stopped just now, as far as anyone can tell
        now[0] += STOPPED_S + 1
        assert watch.left_untaken()  # stopped throughout since the last look
    finally:
        worker.kill()
        worker.wait()


@pytest.mark.parametrize("kind", ["units", "processes"])
def test_a_step_ends_at_once_with_its_worker_stopped(monkeypatch, kind):
    """A stopped worker holds no part (the step takes each back), so the run goes on; at the step's end it cannot
    exit on its own, and the step ends it rather than wait ``STOP_WAIT_S`` (here made far longer than the watchdog,
    which continues the worker: it then exits by itself, and the test fails)."""
    from engine import shared_memory

    monkeypatch.setattr(shared_memory, "STOP_WAIT_S", 600.0)
    make = {"units": TensorParallelStep, "processes": ProcessParallelStep}[kind]
    model, optimizer = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=1), Adam(lr=0.003)
    rng = np.random.default_rng(0)
    noisy, clean = rng.random((32, 784), dtype=np.float32), rng.random((32, 784), dtype=np.float32)
    before = children()
    continued = threading.Event()
    with make(model, MSE(), 32, optimizer) as step:
        assert step.wait_until_ready(READY_S)
        (worker,) = children() - before
        os.kill(worker, signal.SIGSTOP)
        watchdog = threading.Timer(60.0, lambda: (continued.set(), os.kill(worker, signal.SIGCONT)))
        watchdog.start()
        for _ in range(3):
            step.gradients(noisy, clean)
            step.update(optimizer)
    watchdog.cancel()
    watchdog.join()
    assert not continued.is_set(), "the step waited for its stopped worker"
    assert worker not in children()


CONTINUER = """
import os, signal, sys, time
pid, waited = int(sys.argv[1]), 0.0
while waited < 120:  # continues the worker if the test has not within 2 minutes; ends once it is going or gone
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rpartition(")")[2].split()[0]
    except OSError:
        break
    if state != "T" and waited > 1:
        break
    time.sleep(0.1)
    waited += 0.1
else:
    os.kill(pid, signal.SIGCONT)
"""
"""A watchdog for a worker that stops itself: a test that fails (no one continues the worker) still ends."""


@pytest.mark.parametrize("kind", ["units", "processes"])
def test_a_worker_stopped_in_the_middle_of_an_update_block_is_waited_for_not_ended(tmp_path, monkeypatch, kind):
    """Ended there, it would leave the weights half updated and the run lost: the step waits, and tells the user how
    to continue it; continued (here as that note comes), it finishes the block and the run goes on with the same
    bits."""
    from tests.engine.worker_faults import in_worker

    marker = tmp_path / "stopped"
    in_worker(tmp_path, monkeypatch, f"""
        import os, signal, subprocess, sys
        from engine import optimizers

        CONTINUER = {CONTINUER!r}
        whole_step = optimizers.Adam.prepare_step

        def prepare_step(self, params, grads):  # the worker's blocks: it stops in the first it takes
            update = whole_step(self, params, grads)

            def update_or_stop(lo, hi):
                if not os.path.exists({str(marker)!r}):
                    open({str(marker)!r}, "w").close()
                    subprocess.Popen([sys.executable, "-c", CONTINUER, str(os.getpid())])  # (a test that fails ends)
                    os.kill(os.getpid(), signal.SIGSTOP)
                update(lo, hi)

            return update_or_stop

        optimizers.Adam.prepare_step = prepare_step
    """)
    make = {"units": TensorParallelStep, "processes": ProcessParallelStep}[kind]
    first = build_mlp([784, 100, 784], ["relu", "sigmoid"], seed=1)
    rng = np.random.default_rng(0)
    batches = [(rng.random((32, 784), dtype=np.float32), rng.random((32, 784), dtype=np.float32)) for _ in range(5)]
    heard: list[str] = []

    def hear_and_continue(text: str) -> None:
        heard.append(text)
        os.kill(worker, signal.SIGCONT)

    before = children()
    model, optimizer, losses = first.copy(), Adam(lr=0.003), []
    with make(model, MSE(), 32, optimizer, contention=Contention.never(), note=hear_and_continue) as step:
        assert step.wait_until_ready(READY_S)
        (worker,) = children() - before
        while len(losses) < 1000 and not (marker.exists() and len(losses) > 20):
            noisy, clean = batches[len(losses) % 5]
            losses.append(step.gradients(noisy, clean))
            step.update(optimizer)
    assert marker.exists()
    assert len(heard) == 1 and "waits" in heard[0] and f"kill -CONT {worker}" in heard[0]
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "no faults"))
    alone, alone_optimizer = first.copy(), Adam(lr=0.003)
    always_alone = Contention(idle_seconds=lambda: None, alone_above=-1.0)
    with make(alone, MSE(), 32, alone_optimizer, contention=always_alone) as step:
        for i in range(len(losses)):
            assert step.gradients(*batches[i % 5]) == losses[i]
            step.update(alone_optimizer)
    np.testing.assert_array_equal(model.params, alone.params)
