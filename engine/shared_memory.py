"""Memory a training step shares with its worker process, the worker's start and end, and what the user is told of it.

Both of the engine's two-process steps (``steps.ProcessParallelStep``, ``tensor_parallel.TensorParallelStep``)
keep their arrays in one block: a file in ``/dev/shm`` unlinked as soon as it is made, so nothing is left behind
however either process ends, mapped by both.  A blueprint (pickled: the worker's own objects, the arrays' layout)
is kept at the block's end.  A worker that does not start, or ends in the middle of a run, leaves the run on one
core with the same numbers; ``WorkerNotes`` says so (``Trainer.note``).
"""

from __future__ import annotations

import ctypes
import mmap
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

STOP_WAIT_S = 10.0
"""How long a step's end waits for its worker to finish what it is running and exit before it is killed."""
STOPPED_S = 5.0
"""How long a step waits for a worker that is stopped (SIGSTOP: ``kill -STOP``, a process monitor's "stop") while it
holds part of a step, before it ends the worker and runs that part itself: else the run would wait for good, and
Stop in the app could not act.  A worker stopped between parts is ended after as long while the step offers it
parts: the step takes back each one, and without its worker runs faster alone.  Only a stop watched throughout
counts: a worker continued in between (it has run since) starts again from nothing.  A debugger's stop is not
counted."""
STOPPED_CHECK_S = 1.0
"""How often a step that waits for its worker, or finds its parts left untaken, looks whether the worker is
stopped."""
PR_SET_PDEATHSIG = 1
"""Linux's ``prctl`` option: the signal a process gets when the thread that started it ends."""
ALIGN = 64
"""Each shared array starts on a multiple of this many bytes (a cache line)."""

Layout = dict[str, tuple[tuple[int, ...], str]]
"""Each shared array's name -> (shape, dtype string)."""
Note = Callable[[str], None]
"""Tells the user something about the run that does not stop it (``Trainer.note``: the run's watchers)."""


def warn(text: str) -> None:
    """The ``Note`` of a step used outside a ``Trainer``: a ``RuntimeWarning``."""
    warnings.warn(text, RuntimeWarning, stacklevel=3)


class WorkerNotes:
    """What a two-process step tells the user about its worker: that it did not start (at once), or that it ended
    on its own in the middle of a run (killed, out of memory), held until the next step begins: a step that fails
    over it (a half-made update) ends the run instead, and nothing goes on."""

    def __init__(self, note: Note) -> None:
        self.note = note
        self._held: str | None = None

    def ended(self, worker: subprocess.Popen | None, stopped: bool = False) -> None:
        """The worker ended on its own (``stop_worker`` has waited for it), or was ended for being ``stopped``
        (``StoppedWatch``)."""
        self._held = worker_ended_note(worker, stopped)

    def say_held(self) -> None:
        """As a step begins."""
        if self._held is not None:
            text, self._held = self._held, None
            self.note(text)


def worker_ended_note(worker: subprocess.Popen | None, stopped: bool = False) -> str:
    """What to tell the user when a step's worker ended in the middle of a run (after ``stop_worker``: its exit
    code is known), or was ended because it was ``stopped``.  The run goes on with the same numbers, at one core's
    speed."""
    code = None if worker is None else worker.returncode
    if stopped:
        how = f"was stopped (SIGSTOP) for over {STOPPED_S:g} s, so it was ended"
    elif code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        why = " (the system may have run short of memory)" if -code == signal.SIGKILL else ""
        how = f"was ended by {name}{why}"
    elif code:
        how = f"exited with code {code}"
    else:
        how = "ended"
    return f"training continues on one core, with the same numbers but more slowly: its worker process {how}"


def offsets_of(layout: Layout) -> tuple[dict[str, int], int]:
    """Where each array of ``layout`` starts in the block, and where the arrays end (bytes)."""
    offsets, end = {}, 0
    for name, (shape, dtype) in layout.items():
        offsets[name] = end
        end += -(-int(np.prod(shape)) * np.dtype(dtype).itemsize // ALIGN) * ALIGN
    return offsets, end


def views(memory: mmap.mmap, layout: Layout, offsets: dict[str, int]) -> dict[str, np.ndarray]:
    """The block's arrays, by name (views: writes reach the other process)."""
    return {name: np.frombuffer(memory, dtype, int(np.prod(shape)), offsets[name]).reshape(shape)
            for name, (shape, dtype) in layout.items()}  # fmt: skip


def new_block(size: int) -> tuple[mmap.mmap, int]:
    """A block of ``size`` bytes in memory, and its file descriptor (the caller passes it on, then closes it).

    Raises OSError when there is no room: at the start, not as a SIGBUS at the first write (tmpfs files are
    sparse, so the room is claimed here)."""
    fd, path = tempfile.mkstemp(prefix="denoise-studio-step-", dir=_memory_dir())
    try:
        os.unlink(path)
        os.ftruncate(fd, size)
        if hasattr(os, "posix_fallocate"):
            os.posix_fallocate(fd, 0, size)
        return mmap.mmap(fd, size), fd
    except BaseException:
        os.close(fd)
        raise


def start_worker(module: str, passed: tuple[int, ...], *args: object) -> subprocess.Popen:
    """``python -P -m <module> <passed fds> <args> <this process's id>``, in its own session (a Ctrl-C at the
    terminal reaches only the trainer), finding this engine whatever folder the trainer runs in (``-P``: not the
    working folder's).  The worker calls ``end_with_trainer`` with the id."""
    engine_root = str(Path(__file__).resolve().parent.parent)
    path_list = os.pathsep.join(filter(None, [engine_root, os.environ.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-P", "-m", module, *map(str, passed), *map(str, args), str(os.getpid())],
        pass_fds=passed,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": path_list},
        start_new_session=True,
    )


def stop_worker(worker: subprocess.Popen | None, fds: dict[str, int]) -> None:
    """Close the step's pipes (``fds``, emptied: the worker exits after what it is running) and wait for the worker;
    kill it after ``STOP_WAIT_S``, or at once when it is stopped (SIGSTOP: it could not exit)."""
    for name in list(fds):
        os.close(fds.pop(name))
    if worker is not None:
        if is_stopped(worker.pid):
            worker.kill()
        try:
            worker.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def end_with_trainer(trainer: int) -> None:
    """In a worker: have the kernel kill this process when the trainer's thread that started it ends (Linux's
    parent-death signal), and end now if it already has.  A worker sees its pipes close when the trainer ends, but
    a stopped one (SIGSTOP, a debugger) would not, and would stay for good."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the pipes alone
        return
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != trainer:
        os._exit(0)



def blas_threads() -> int | None:
    """BLAS's thread count here: a worker's must be the same, for the same bits (a training run sets 1)."""
    from threadpoolctl import threadpool_info

    counts = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    return min(counts) if counts else None


class StoppedWatch:
    """While a step waits for its worker, or as it finds the parts it offers left untaken: whether the worker has
    been stopped (state ``T``) for ``STOPPED_S`` and may be ended — not while ``updating()``: it has begun a block
    of the update and not finished it, and ended it would leave the weights half updated (the run lost), while
    continued (SIGCONT) it finishes the block; the user is told once (``note``) how to continue it."""

    def __init__(
        self,
        worker: subprocess.Popen,
        updating: Callable[[], bool],
        note: Note,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """clock: monotonic seconds (tests pass their own)."""
        self.worker, self.updating, self.note, self.clock = worker, updating, note, clock
        self._since: float | None = None  # when it was first seen stopped, this stop
        self._runs: int | None = None  # how many times it had run then (``run_count``)
        self._told = False
        self._looked = -float("inf")  # when ``left_untaken`` last looked

    def left_untaken(self) -> bool:
        """A part the worker left untaken (stopped between parts, it holds nothing; or it is busy, or starting):
        ``too_long``, looked at once every ``STOPPED_CHECK_S`` at most (a ``/proc`` read), so that a step that
        finds each part untaken pays next to nothing.  ``taken`` when it takes one."""
        now = self.clock()
        if now - self._looked < STOPPED_CHECK_S:
            return False
        self._looked = now
        return self.too_long()

    def taken(self) -> None:
        """The worker took a part: it is going."""
        self._since = None

    def too_long(self) -> bool:
        """Call every ``STOPPED_CHECK_S`` or so while waiting."""
        if not is_stopped(self.worker.pid):
            self._since = None
            return False
        runs, now = run_count(self.worker.pid), self.clock()
        if self._since is None or runs != self._runs:  # (continued and stopped again since the last look: anew)
            self._since, self._runs = now, runs
        if now - self._since < STOPPED_S:
            return False
        if not self.updating():
            return True
        if not self._told:
            self._told = True
            self.note(f"training waits: its worker process (pid {self.worker.pid}) was stopped (SIGSTOP) while it "
                      f"changed the weights; continue it with: kill -CONT {self.worker.pid}")  # fmt: skip
        return False


def is_stopped(pid: int) -> bool:
    """Whether process ``pid`` is stopped by a signal (Linux's ``/proc``; elsewhere never said)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rpartition(b")")[2].split()  # (the name, in brackets, may hold spaces)
    except OSError:
        return False
    return bool(fields) and fields[0] == b"T"


def run_count(pid: int) -> int | None:
    """How many times process ``pid`` has been given a core (``/proc/<pid>/schedstat``): one stopped throughout has
    not run since it stopped, one continued in between has.  None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/schedstat", "rb") as stat:
            return int(stat.read().split()[2])
    except (OSError, ValueError, IndexError):
        return None


def readable_unless_stopped(fd: int, watch: StoppedWatch) -> bool:
    """Sleep until ``fd`` has something to read (True), or until the watched worker has been stopped too long
    (False: the caller ends it)."""
    while True:
        readable, _, _ = select.select([fd], [], [], STOPPED_CHECK_S)
        if readable:
            return True
        if watch.too_long():
            return False


def read_exactly(fd: int, size: int) -> bytes | None:
    """``size`` bytes from a blocking pipe, or None when its other end has closed first."""
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _memory_dir() -> str | None:
    """Where a file lives in memory (Linux's ``/dev/shm``), else the temporary folder."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
