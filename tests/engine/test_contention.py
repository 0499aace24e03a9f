"""When a two-process step runs alone: after losing its time to another program, for stretches that grow while the
program stays, and no longer than the other cores stay busy."""

from __future__ import annotations

import os

import pytest

from engine.contention import ALONE_STEPS, FIRST_PATIENCE_S, MOST_ALONE_STEPS, Contention, machine_idle_seconds

STEP_S = 0.004


class Machine:
    """A clock that each step moves on by ``STEP_S``, and the other cores' idle time: ``idle_cores`` of them idle
    (None: the machine cannot tell)."""

    def __init__(self) -> None:
        self.now, self.idle, self.idle_cores = 0.0, 0.0, 0.0
        self.readable = True

    def clock(self) -> float:
        return self.now

    def idle_seconds(self) -> float | None:
        return self.idle if self.readable else None

    def tick(self) -> None:
        self.now += STEP_S
        self.idle += self.idle_cores * STEP_S


def steps(contention: Contention, machine: Machine, count: int, lost: float) -> list[bool]:
    """``count`` steps, each losing ``lost`` of its time when it runs with the worker: whether each ran alone."""
    alone = []
    for _ in range(count):
        alone.append(contention.alone)
        if not contention.alone:
            contention.add(STEP_S * (1 - lost), STEP_S * (1 - lost), STEP_S * lost)
        machine.tick()
        contention.step_done()
    return alone


def stretches(alone: list[bool]) -> list[int]:
    """The lengths of the runs of steps alone."""
    found, length = [], 0
    for flag in [*alone, False]:
        if flag:
            length += 1
        elif length:
            found.append(length)
            length = 0
    return found


@pytest.fixture
def machine() -> Machine:
    return Machine()


@pytest.fixture
def contention(machine) -> Contention:
    return Contention(idle_seconds=machine.idle_seconds, clock=machine.clock)


def test_a_quiet_machine_never_runs_alone(contention, machine):
    assert not any(steps(contention, machine, 5000, lost=0.08))


def test_a_step_told_never_to_run_alone_never_does(machine):
    contention = Contention.never(idle_seconds=machine.idle_seconds, clock=machine.clock)
    assert not any(steps(contention, machine, 5000, lost=0.95))


def test_a_busy_core_sends_the_step_alone_for_stretches_that_double_while_it_stays_busy(contention, machine):
    alone = steps(contention, machine, 20_000, lost=0.6)
    assert not any(alone[:3])  # one slow step is not yet contention
    found = stretches(alone)
    assert found[:6] == [ALONE_STEPS, 2 * ALONE_STEPS, 4 * ALONE_STEPS, 8 * ALONE_STEPS, 16 * ALONE_STEPS,
                         MOST_ALONE_STEPS]  # fmt: skip
    tries = stretches([not flag for flag in alone[alone.index(True) :]])[:-1]  # the steps between stretches
    assert tries and max(tries) <= 3  # each try of the worker costs a few slow steps
    assert sum(alone) / len(alone) > 0.95


def test_a_stretch_alone_ends_once_the_other_cores_are_idle(contention, machine):
    alone = steps(contention, machine, 300, lost=0.6)  # the second stretch alone (400 steps) has begun
    assert stretches(alone)[0] == ALONE_STEPS and alone[-1]
    machine.idle_cores = 1.0  # the other program ended
    alone = steps(contention, machine, 2 * ALONE_STEPS, lost=0.0)
    taken = alone.index(False)
    assert taken * STEP_S <= 2 * FIRST_PATIENCE_S + STEP_S  # within the patience (and the window it began in)
    assert not any(alone[taken:])


def test_an_early_end_that_meets_the_program_again_makes_the_next_wait_longer(contention, machine):
    steps(contention, machine, 100, lost=0.6)
    machine.idle_cores = 1.0  # idle cores that are not this program's to use (a container's CPU quota)
    alone = steps(contention, machine, 3000, lost=0.6)
    found = stretches(alone)
    assert len(found) >= 3
    assert found[1] > found[0] and found[2] > found[1]  # each try of the worker waits longer
    assert all(length < ALONE_STEPS for length in found[:2])  # ended early: the cores looked idle
    assert contention.patience_s > FIRST_PATIENCE_S


def test_without_the_machines_idle_time_a_stretch_runs_its_length(contention, machine):
    machine.readable = False
    machine.idle_cores = 1.0
    alone = steps(contention, machine, 1000, lost=0.6)
    assert stretches(alone)[0] == ALONE_STEPS


def test_a_new_worker_starts_with_the_step_together(contention, machine):
    steps(contention, machine, 100, lost=0.6)
    assert contention.alone
    contention.reset()
    assert not contention.alone


def test_the_machines_idle_time_is_read_in_seconds_and_never_goes_down():
    first = machine_idle_seconds()
    if first is None:
        pytest.skip("no /proc/stat here: the step runs its stretches alone to their end")
    with open("/proc/uptime") as uptime:
        up_s = float(uptime.read().split()[0])
    assert 0 <= first <= up_s * os.cpu_count() * 1.01  # seconds, not clock ticks
    assert machine_idle_seconds() >= first
