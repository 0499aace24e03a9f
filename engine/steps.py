"""How one training step uses the cores: on this thread, or as two half-batches, the second on a worker thread or
in a worker process.  (``engine.training.make_step`` picks the step a run uses.)

A step computes the batch's loss and gradient (forward, loss, backward), then applies the optimizer.
``SerialStep`` does it all on the calling thread.  ``DataParallelStep`` splits the batch in two
halves: the first on ``model``, the second on a *replica* (the same parameter vector, its own
gradient vector and buffers); each half's loss and gradient are weighted by its share of the batch,
so their sum is the whole batch's mean loss and its gradient.  The optimizer's element-wise update
runs in blocks, and each block first adds the two halves' gradients (one pass over memory fewer
than summing them apart).  BLAS stays on one thread (its spinning workers were 10-30x slower whenever
anything else used a core).

The calling thread and the worker thread share the work as a ``Crew``: each half, and each block of the
update, is run by whichever thread claims it first.  When the other core is busy the calling thread
claims both halves and every block itself and never waits for a worker that is not running.  The
numbers are the same either way: each half is always computed on its own model, the halves are
added in one order, and the update is element-wise — so a run is reproducible bit for bit whatever
the load (the data-parallel sum may round differently in the last bit from the serial one).

Two threads share one interpreter lock, though: NumPy lets go of it inside BLAS and ufuncs but takes it back
between calls, and the large model's halves ran ~45 % slower side by side on two threads than alone, its update's
blocks ~2x slower (``bench/train_speed.py --breakdown``); in two processes each runs as fast as alone.  So
``ProcessParallelStep`` runs the second half, and the upper half of the update's blocks, in a worker process
(``python -m engine.steps``), with the same arithmetic:

* The parameters, both halves' gradients, the optimizer's state and the second half's rows live in one block of
  shared memory, a file unlinked as soon as it is made and mapped by both processes: nothing but the half's rows
  (copied in) moves between them.
* A task (a half, a block of the update) is a few numbers written to a pipe that both processes read without
  blocking: whoever reads it runs it.  This process runs its own part, then takes back every task the worker has
  not taken (the other core is busy, or the worker is still starting) and runs it itself: it never waits for a
  worker that is not running, and whoever runs a task, the bits are the same (the same code on the same numbers,
  BLAS on as many threads, subnormals flushed alike).
* The worker ends with the step, and with this process however it ends (its wake pipe closes); it runs in its own
  session, so a Ctrl-C at the terminal reaches only the trainer.  If it dies, this process runs every task — but a
  block of the update it had begun cannot run twice, so then the run stops with an error (resume from a checkpoint).

A step is a context manager: a data-parallel one owns its worker for the ``with``.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
from threadpoolctl import ThreadpoolController

from engine.contention import Contention
from engine.optimizers import update_blocks
from engine.shared_memory import (
    Note,
    StoppedWatch,
    WorkerNotes,
    blas_threads,
    end_with_trainer,
    new_block,
    offsets_of,
    read_exactly,
    readable_unless_stopped,
    start_worker,
    stop_worker,
    views,
    warn,
)
from engine.subnormals import flush_subnormals, flushing

SPLIT_ELEMENTS = 1 << 17
"""The optimizer update is shared with the worker for at least this many parameters."""

Prepare = Callable[[int, int], None]
"""``prepare(lo, hi)`` fills rows ``lo:hi`` of the batch (clean images and their noisy copies) before they are used."""


class SerialStep:
    """Forward, loss and backward of the whole batch, then the optimizer, on the calling thread.

    model : has ``forward``/``backward`` and flat ``params``/``grads`` vectors; loss : ``value_and_grad``.
    """

    overlaps_next_batch = False
    """Whether ``update`` runs its ``meanwhile`` beside other work (the trainer then makes the next batch's images
    there; else in ``gradients``, where a data-parallel step makes each half's on the thread that computes it)."""

    def __init__(self, model, loss, batch_size: int) -> None:
        self.model, self.loss = model, loss
        self._grad_buf = np.empty((batch_size, model.n_out), np.float32)  # dL/d(output) scratch

    def gradients(
        self,
        noisy: np.ndarray,
        clean: np.ndarray,
        weights: np.ndarray | None = None,
        prepare: Prepare | None = None,
    ) -> float:
        """noisy, clean: (batch, n_pixels) float32; weights: (batch,) per-image loss weights or None
        -> the batch's mean loss; fills ``model.grads``.  ``prepare``, if given, fills the rows of ``noisy``
        and ``clean`` first."""
        n = len(noisy)
        if prepare is not None:
            prepare(0, n)
        return weighted_gradients(self.model, noisy, clean, weights, self.loss, self._grad_buf[:n], n)

    def update(self, optimizer, meanwhile: Callable[[], None] | None = None) -> None:
        """The optimizer's update; then ``meanwhile()``, if given (work of the trainer's that needs no weights: the
        next batch's images; a step with a worker runs it while the worker updates).  Either way the update is
        whole when ``meanwhile`` raises."""
        optimizer.step(self.model.params, self.model.grads)
        if meanwhile is not None:
            meanwhile()

    def __enter__(self) -> SerialStep:
        return self

    def __exit__(self, *exc) -> None:
        return None


class DataParallelStep(SerialStep):
    """Two half-batches, the first on ``model`` and the second on ``model.replica()``, shared by this
    thread and a worker; after ``gradients`` the batch's gradient is ``model.grads + replica.grads``
    until ``update`` (or ``collect_gradients``) adds them into ``model.grads``."""

    def __init__(self, model, loss, batch_size: int, threads: int = 2) -> None:
        """threads: 2, this one and a worker; 1, the halves one after the other on this thread (the same bits)."""
        super().__init__(model, loss, batch_size)
        if threads not in (1, 2):
            raise ValueError(f"a data-parallel step runs on 1 or 2 threads, got {threads!r}")
        self.threads = threads
        self.replica = model.replica()  # shares model.params; its own grads
        self._crew: Crew | None = None
        self._halves_apart = False  # model.grads holds only the first half's share
        self._losses = [0.0, 0.0]

    def __enter__(self) -> DataParallelStep:
        """Start the worker, which handles floating-point errors as this thread does now (``np.errstate`` is per
        thread: the trainer's silence over overflow must hold on both halves)."""
        self._crew = Crew(np.geterr(), worker=self.threads == 2)  # (a thread starts with its maker's subnormal mode)
        return self

    def __exit__(self, *exc) -> None:
        crew, self._crew = self._crew, None
        if crew is not None:
            crew.close()

    def gradients(
        self,
        noisy: np.ndarray,
        clean: np.ndarray,
        weights: np.ndarray | None = None,
        prepare: Prepare | None = None,
    ) -> float:
        n = len(noisy)
        if n < 2:  # a last batch of one image: nothing to split
            self._halves_apart = False
            return super().gradients(noisy, clean, weights, prepare)
        h = n // 2
        rows = ((0, h), (h, n))
        models = (self.model, self.replica)
        losses, buf = self._losses, self._grad_buf

        def half(i: int) -> None:
            lo, hi = rows[i]
            if prepare is not None:
                prepare(lo, hi)
            w = None if weights is None else weights[lo:hi]
            losses[i] = weighted_gradients(models[i], noisy[lo:hi], clean[lo:hi], w, self.loss, buf[lo:hi], n)

        self._crew.run(half, 2)
        self._halves_apart = True
        return losses[0] + losses[1]

    def collect_gradients(self) -> None:
        """Add the second half's gradient into ``model.grads`` now (``update`` does it as it goes)."""
        if self._halves_apart:
            self.model.grads += self.replica.grads
            self._halves_apart = False

    def update(self, optimizer, meanwhile: Callable[[], None] | None = None) -> None:
        """The optimizer's element-wise update in blocks (the halves' gradients added first in each), shared with
        the worker when the model is large (the same result as one pass); then ``meanwhile()``."""
        params, grads, second = self.model.params, self.model.grads, self.replica.grads
        update = optimizer.prepare_step(params, grads)  # (lo, hi) -> None
        bounds = update_blocks(params.size, even=params.size >= SPLIT_ELEMENTS)
        add = self._halves_apart
        self._halves_apart = False

        def block(i: int) -> None:
            update_block(update, grads, second if add else None, bounds[i], bounds[i + 1])

        if params.size < SPLIT_ELEMENTS:
            for i in range(len(bounds) - 1):
                block(i)
        else:
            self._crew.run(block, len(bounds) - 1)
        if meanwhile is not None:
            meanwhile()


class Crew:
    """The calling thread and one worker thread sharing numbered tasks: ``run(task, count)`` calls
    ``task(i)`` for every ``i`` in ``range(count)``, each exactly once, on whichever thread claims it first,
    and returns when all are done.  The calling thread never waits for the worker to start: when the
    other core is busy it runs every task itself.

    errstate : ``np.geterr()`` of the calling thread, set on the worker too.
    worker : False: no worker thread; the calling thread runs every task.
    """

    def __init__(self, errstate: dict[str, str], worker: bool = True) -> None:
        self._lock = threading.Lock()
        self._posted = threading.Condition(self._lock)  # new tasks, or closing
        self._finished = threading.Condition(self._lock)  # the last task of a run is done
        self._task: Callable[[int], None] | None = None
        self._count = self._next = self._unfinished = 0
        self._round = 0
        self._error: BaseException | None = None
        self._closing = False
        self._thread: threading.Thread | None = None
        if worker:
            self._thread = threading.Thread(target=self._serve, args=(errstate,), name="engine-step", daemon=True)
            self._thread.start()

    def run(self, task: Callable[[int], None], count: int) -> None:
        with self._lock:
            self._task, self._count, self._next, self._unfinished = task, count, 0, count
            self._round += 1
            self._posted.notify()
        self._work()
        with self._lock:
            while self._unfinished:
                self._finished.wait()
            self._task = None
            error, self._error = self._error, None
        if error is not None:
            raise error

    def close(self) -> None:
        """Stop the worker (after the task it is running, if any) and wait for it."""
        with self._lock:
            self._closing = True
            self._posted.notify()
        if self._thread is not None:
            self._thread.join()

    def _serve(self, errstate: dict[str, str]) -> None:
        np.seterr(**errstate)
        seen = 0
        while True:
            with self._lock:
                while self._round == seen and not self._closing:
                    self._posted.wait()
                if self._closing:
                    return
                seen = self._round
            self._work()

    def _work(self) -> None:
        """Claim and run tasks of the current run until none is left."""
        while True:
            with self._lock:
                if self._next >= self._count:
                    return
                i, task = self._next, self._task
                self._next += 1
            try:
                task(i)
            except BaseException as exc:  # re-raised on the calling thread
                with self._lock:
                    self._error = self._error or exc
            finally:
                with self._lock:
                    self._unfinished -= 1
                    if not self._unfinished:
                        self._finished.notify()


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def update_block(
    update: Callable[[int, int], None], grads: np.ndarray, second: np.ndarray | None, lo: int, hi: int
) -> None:
    """Block ``lo:hi`` of a data-parallel update: the second half's gradient (n,) added into ``grads`` (n,) first
    (unless None: already added), then the optimizer's ``update``."""
    if second is not None:
        np.add(grads[lo:hi], second[lo:hi], out=grads[lo:hi])
    update(lo, hi)


def weighted_gradients(
    model, x: np.ndarray, clean: np.ndarray, weights: np.ndarray | None, loss, grad_buf: np.ndarray, n_total: int
) -> float:
    """Forward, loss and backward of ``len(x)`` of ``n_total`` rows, weighted by that share (and each row by
    its ``weights`` entry, when given); fills ``model.grads``."""
    share = len(x) / n_total
    value, grad = loss.value_and_grad(model.forward(x), clean, out=grad_buf, weights=weights, scale=share)
    model.backward(grad)
    return value * share


@contextmanager
def using_blas_threads(count: int) -> Iterator[None]:
    """BLAS on ``count`` threads for the ``with`` — and no change at all when it already runs on that many.

    The count is process-wide, and changing it while another thread is inside a BLAS call is a known way to
    hang OpenBLAS; so the app fixes one thread for its whole life before it starts any thread, and a run
    inside it never touches the setting.  A script or the CLI, with no other thread yet, gets it set here.
    """
    blas = ThreadpoolController().select(user_api="blas")
    if all(info["num_threads"] == count for info in blas.info()):
        yield
        return
    with blas.limit(limits=count):
        yield


# ----- the data-parallel step in two processes ------------------------------------------------------------
TASK = struct.Struct("<qqqqqqd?")
"""A task: its kind (``HALF`` or ``UPDATE``), the step's number, its index (a half: 0; an update: the block's
number), two numbers (a half: its rows and the batch's), the optimizer's step count and rate (an update), a flag
(a half: its rows are weighted; an update: the second half's gradient is still to be added in)."""
HALF, UPDATE = 0, 1
DONE = struct.Struct("<qqd")
"""The worker's answer to a task: the step's number, the task's index and its value (a half's weighted loss)."""
READY = (0, -1)
"""The worker's first answer, (step, index), before any task: it is ready to take them."""
BLOCK_STARTED, BLOCK_DONE = 1, 2
"""A block of the update as the worker marks it in shared memory (0: not begun): one it began and did not finish when
it died cannot be run again (its gradient added in twice, Adam's step taken twice)."""


class ProcessParallelStep(DataParallelStep):
    """Two half-batches, the first on ``model`` in this process and the second in a worker process (or here, when
    the worker is not ready or not running); then ``optimizer``'s update, its upper blocks in the worker.

    For the ``with``, ``model.params``, ``model.grads`` and ``optimizer``'s state vectors live in shared memory;
    after it they are back in arrays of their own.  An update by another optimizer runs here.  When the worker keeps
    this process waiting or off the CPU (another program busy on a core), the next steps run here alone
    (``engine.contention``).
    The same bits as ``DataParallelStep``, whoever runs what.
    """

    def __init__(
        self, model, loss, batch_size: int, optimizer=None, contention: Contention | None = None, note: Note = warn
    ) -> None:
        """contention: when steps run here alone (a ``Contention()`` of its own by default); note: tells the user
        that the run continues on one core (the worker did not start, or ended)."""
        super().__init__(model, loss, batch_size, threads=1)
        self.optimizer, self.notes = optimizer, WorkerNotes(note)
        self._second_rows = batch_size - batch_size // 2
        self._own_vectors: tuple[np.ndarray, np.ndarray] | None = None
        self._shared_state: dict[str, np.ndarray] = {}
        self._worker: subprocess.Popen | None = None
        self._fds: dict[str, int] = {}
        self._step = 0
        self._posted: list[int] = []  # the indices of the tasks posted last
        self._ready = False  # the worker has said it takes tasks
        self._untaken: StoppedWatch | None = None  # the worker's tasks left untaken: is it stopped?
        self._contention = contention if contention is not None else Contention()
        self.worker_tasks = 0
        """How many tasks the worker ran (the rest ran here): benchmarks and tests read it."""

    def __enter__(self) -> ProcessParallelStep:
        super().__enter__()
        try:
            self._share_and_start()
        except OSError as exc:  # no shared memory, no process: the run goes on, every half here
            self._stop_worker()
            self._unshare()
            self.notes.note(f"training runs on one core: its worker process did not start ({exc})")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._stop_worker()
        finally:
            self._unshare()
            super().__exit__(*exc)

    def wait_until_ready(self, timeout: float) -> bool:
        """Wait, between steps, until the worker takes tasks (until then this process runs them all): False when it
        is not running or not ready within ``timeout`` seconds."""
        if self._ready or self._worker is None:
            return self._ready and self._worker is not None
        readable, _, _ = select.select([self._fds["done_r"]], [], [], timeout)
        if not readable:
            return False
        answer = read_exactly(self._fds["done_r"], DONE.size)
        if answer is None:  # it ended as it started
            self._worker_ended()
            return False
        if DONE.unpack(answer)[:2] != READY:
            raise RuntimeError("the step's worker answered a task between steps")
        self._ready = True
        return True

    def _unshare(self) -> None:
        """The weights and gradients back in the model's own vectors (the replica's too), the optimizer's state in
        arrays of its own."""
        if self._own_vectors is not None:
            np.copyto(self._own_vectors[1], self.model.grads)  # (the last step's gradient, as after a serial run)
            self.model.move_vectors(*self._own_vectors)
            self.replica.move_vectors(self.model.params, np.zeros_like(self.model.grads), copy_values=False)
            self._own_vectors = None
        if self._shared_state:
            self.optimizer.place_state({name: np.empty_like(a) for name, a in self._shared_state.items()})
            self._shared_state = {}

    def gradients(
        self,
        noisy: np.ndarray,
        clean: np.ndarray,
        weights: np.ndarray | None = None,
        prepare: Prepare | None = None,
    ) -> float:
        if self._worker is not None and self._contention.alone and self._worker.poll() is not None:
            self._worker_ended()  # (alone, the pipes that would tell are not used)
        self.notes.say_held()
        n = len(noisy)
        if n < 2 or self._worker is None or self._contention.alone:
            return super().gradients(noisy, clean, weights, prepare)  # both halves here
        started, started_cpu = time.perf_counter(), time.thread_time()
        h = n // 2
        rows = n - h
        if prepare is not None:
            prepare(h, n)
        np.copyto(self._noisy[:rows], noisy[h:])
        np.copyto(self._clean[:rows], clean[h:])
        if weights is not None:
            np.copyto(self._weights[:rows], weights[h:])
        self._post([(HALF, 0, rows, n, 0, 0.0, weights is not None)])
        if prepare is not None:
            prepare(0, h)
        w = None if weights is None else weights[:h]
        first = weighted_gradients(self.model, noisy[:h], clean[:h], w, self.loss, self._grad_buf[:h], n)
        self._contention.add(time.perf_counter() - started, time.thread_time() - started_cpu, 0.0)

        def second_half_here(index: int) -> float:
            w = self._weights[:rows] if weights is not None else None
            buf = self._grad_buf[h:n]
            return weighted_gradients(self.replica, self._noisy[:rows], self._clean[:rows], w, self.loss, buf, n)

        (second,) = self._finish(second_half_here)
        self._halves_apart = True
        return first + second

    def update(self, optimizer, meanwhile: Callable[[], None] | None = None) -> None:
        """The optimizer's update in blocks (the halves' gradients added first in each): the lower half of the
        blocks here, the upper half in the worker (here too when it has not taken them)."""
        params = self.model.params
        if (self._contention.alone or self._worker is None or optimizer is not self.optimizer
                or params.size < SPLIT_ELEMENTS):  # fmt: skip
            self._contention.step_done()
            return super().update(optimizer, meanwhile)
        started, started_cpu = time.perf_counter(), time.thread_time()
        grads, second = self.model.grads, self.replica.grads
        update = optimizer.prepare_step(params, grads)
        bounds = update_blocks(params.size, even=True)
        count = len(bounds) - 1
        add = self._halves_apart
        self._halves_apart = False
        self._progress[count // 2 : count] = 0
        self._post([(UPDATE, i, 0, 0, optimizer.t, optimizer.lr, add) for i in range(count // 2, count)])

        def block_here(i: int) -> float:
            update_block(update, grads, second if add else None, bounds[i], bounds[i + 1])
            return 0.0

        for i in range(count // 2):
            block_here(i)
        self._contention.add(time.perf_counter() - started, time.thread_time() - started_cpu, 0.0)
        self._finish(block_here, self._progress)
        self._contention.step_done()
        if meanwhile is not None:
            meanwhile()
        return None

    # ----- this process's side --------------------------------------------------------------------------------
    def _share_and_start(self) -> None:
        """Move the weights, gradients and optimizer state into shared memory and start the worker."""
        model, replica, optimizer, rows = self.model, self.replica, self.optimizer, self._second_rows
        self._ready = False
        self._contention.reset()
        vector = (model.n_params,)
        state_names = optimizer.state_vectors if optimizer is not None else ()
        blocks = (len(update_blocks(model.n_params, even=True)) - 1,)
        dtype = model.params.dtype.str
        layout = {"params": (vector, dtype), "grads": (vector, dtype), "second": (vector, dtype),
                  **{name: (vector, dtype) for name in state_names},
                  "noisy": ((rows, model.n_in), dtype), "clean": ((rows, model.n_out), dtype),
                  "weights": ((rows,), dtype), "progress": (blocks, dtype)}  # fmt: skip
        offsets, end = offsets_of(layout)
        blueprint = pickle.dumps(
            {"model": replica, "loss": self.loss, "optimizer": optimizer, "errstate": np.geterr(), "flush": flushing(),
             "blas_threads": blas_threads(), "layout": layout, "offsets": offsets},  # fmt: skip
            protocol=pickle.HIGHEST_PROTOCOL,
        )
        memory, memory_fd = new_block(end + len(blueprint))
        try:
            memory[end:] = blueprint
            shared = views(memory, layout, offsets)
            self._own_vectors = (model.params, model.grads)
            model.move_vectors(shared["params"], shared["grads"])
            replica.move_vectors(shared["params"], shared["second"], copy_values=False)
            if state_names:
                self._shared_state = {name: shared[name] for name in state_names}
                optimizer.place_state(self._shared_state)
            self._noisy, self._clean, self._weights = shared["noisy"], shared["clean"], shared["weights"]
            self._progress = shared["progress"]  # (blocks,) how far the worker got with each block of the update
            fds = self._fds
            fds["task_r"], fds["task_w"] = os.pipe()  # tasks: read by both, without blocking
            os.set_blocking(fds["task_r"], False)
            fds["wake_r"], fds["wake_w"] = os.pipe()  # a byte a task: the worker sleeps on it
            os.set_blocking(fds["wake_w"], False)  # full: the worker has bytes enough to wake (or is stopped)
            fds["done_r"], fds["done_w"] = os.pipe()  # the worker's answers
            passed = (memory_fd, fds["task_r"], fds["wake_r"], fds["done_w"])
            self._worker = start_worker("engine.steps", passed, end, len(blueprint))
            self._untaken = StoppedWatch(self._worker, lambda: False, self.notes.note)
        finally:
            os.close(memory_fd)
            for name in ("wake_r", "done_w"):  # the worker's ends: closed here, so each side sees the other end
                if name in self._fds:
                    os.close(self._fds.pop(name))

    def _post(self, tasks: list[tuple]) -> None:
        """Put tasks ``(kind, index, rows, n, t, lr, flag)`` where either process can take them (in one write: a pipe
        keeps it whole), and wake the worker."""
        self._step += 1
        self._posted = [index for _, index, *_ in tasks]
        os.write(self._fds["task_w"], b"".join(TASK.pack(kind, self._step, *rest) for kind, *rest in tasks))
        try:
            os.write(self._fds["wake_w"], b"\0")
        except BlockingIOError:  # the worker has not read its earlier wake-ups (stopped?): this one is not needed
            pass
        except BrokenPipeError:  # the worker has ended: this process runs every task from now on
            self._worker_ended()

    def _finish(self, run_here: Callable[[int], float], progress: np.ndarray | None = None) -> list[float]:
        """The values of the tasks just posted, in order: ``run_here(index)`` runs each that the worker has not
        taken (or has taken and not finished, when it ended); the worker answers for the rest.  ``progress``: the
        update's blocks as the worker marked them, for a worker that ended holding one (None: the tasks may run
        again, as a half may: its gradient is written afresh)."""
        values: dict[int, float] = {}
        while self._worker is not None:  # take back what the worker has not taken
            try:
                task = os.read(self._fds["task_r"], TASK.size)
            except BlockingIOError:
                break
            _, step, index, *_ = TASK.unpack(task)
            if step == self._step:  # (an earlier step's, left by an interrupted one: not to run)
                values[index] = run_here(index)
        if self._untaken is not None:  # (stopped between tasks, it holds none: ended, the steps run faster alone)
            if len(values) < len(self._posted):
                self._untaken.taken()
            elif self._untaken.left_untaken():
                self._end_stopped_worker()
        waiting = time.perf_counter()
        updating = (lambda: False) if progress is None else (lambda: bool((progress == BLOCK_STARTED).any()))
        watch = StoppedWatch(self._worker, updating, self.notes.note) if self._worker is not None else None
        while self._worker is not None and len(values) < len(self._posted):  # the worker's answers
            if not readable_unless_stopped(self._fds["done_r"], watch):  # (it holds a task: it would never end)
                self._end_stopped_worker()
                break
            answer = read_exactly(self._fds["done_r"], DONE.size)
            if answer is None:  # it ended: what it took and did not finish runs here
                self._worker_ended()
                break
            step, index, value = DONE.unpack(answer)
            if (step, index) == READY:
                self._ready = True
                continue
            if step != self._step or index not in self._posted or index in values:
                raise RuntimeError(f"the step's worker answered task {step}/{index} during step {self._step}")
            values[index] = value
            self.worker_tasks += 1
        self._contention.add(0.0, 0.0, time.perf_counter() - waiting)
        for index in self._posted:
            if index in values:
                continue
            if progress is not None and progress[index] == BLOCK_STARTED:
                raise RuntimeError(
                    "the training step's worker process ended while it updated the weights, which are no longer "
                    "exact; resume from the last checkpoint"
                )
            values[index] = 0.0 if progress is not None and progress[index] == BLOCK_DONE else run_here(index)
        return [values[index] for index in self._posted]

    def _stop_worker(self) -> None:
        """Close the pipes (the worker exits after any task it is running) and wait for it."""
        worker, self._worker, self._untaken = self._worker, None, None
        stop_worker(worker, self._fds)

    def _worker_ended(self) -> None:
        """The worker ended on its own (killed, out of memory): every task runs here from now on; the user hears
        why the run is slower (``WorkerNotes``)."""
        worker = self._worker
        self._stop_worker()
        self.notes.ended(worker)

    def _end_stopped_worker(self) -> None:
        """The worker has been stopped too long holding a task, or between tasks (``StoppedWatch``): it is ended
        (SIGKILL ends a stopped process too), and from then on it is as if it had ended on its own."""
        worker = self._worker
        worker.kill()
        self._stop_worker()
        self.notes.ended(worker, stopped=True)


# ----- the worker's side ---------------------------------------------------------------------------------------
def serve(
    memory_fd: int, task_r: int, wake_r: int, done_w: int, blueprint_at: int, blueprint_size: int, trainer: int
) -> None:
    """Run tasks as they come, until the pipes close (the step ended, or its process did)."""
    from threadpoolctl import threadpool_limits

    end_with_trainer(trainer)
    memory = mmap.mmap(memory_fd, blueprint_at + blueprint_size)
    os.close(memory_fd)
    blueprint = pickle.loads(memory[blueprint_at : blueprint_at + blueprint_size])
    shared = views(memory, blueprint["layout"], blueprint["offsets"])
    model, loss, optimizer = blueprint["model"], blueprint["loss"], blueprint["optimizer"]
    model.move_vectors(shared["params"], shared["second"], copy_values=False)
    if optimizer is not None:
        optimizer.place_state({name: shared[name] for name in optimizer.state_vectors}, copy_values=False)
    params, grads, second = shared["params"], shared["grads"], shared["second"]
    noisy, clean, weights, progress = shared["noisy"], shared["clean"], shared["weights"], shared["progress"]
    buf = np.empty_like(clean)  # dL/d(output) scratch
    bounds = update_blocks(params.size, even=True)
    os.write(done_w, DONE.pack(*READY, 0.0))
    with (
        threadpool_limits(limits=blueprint["blas_threads"], user_api="blas"),
        np.errstate(**blueprint["errstate"]),
        flush_subnormals(blueprint["flush"]),
    ):
        while os.read(wake_r, 4096):  # b"": the step has ended
            while True:  # every task there is
                try:
                    task = os.read(task_r, TASK.size)
                except BlockingIOError:
                    break  # none left (the step may have run them itself)
                if not task:  # the step has ended
                    return
                kind, step, index, rows, n, t, lr, flag = TASK.unpack(task)
                value = 0.0
                if kind == HALF:
                    w = weights[:rows] if flag else None
                    value = weighted_gradients(model, noisy[:rows], clean[:rows], w, loss, buf[:rows], n)
                else:
                    optimizer.t, optimizer.lr = t - 1, lr  # as the step's optimizer was before this step
                    update = optimizer.prepare_step(params, grads)
                    progress[index] = BLOCK_STARTED
                    update_block(update, grads, second if flag else None, bounds[index], bounds[index + 1])
                    progress[index] = BLOCK_DONE
                os.write(done_w, DONE.pack(step, index, value))


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):  # the step ended as this answered: nothing waits for the answer
        serve(*map(int, sys.argv[1:]))
