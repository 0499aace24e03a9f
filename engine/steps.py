"""How one training step uses the cores: on this thread, or as two half-batches shared with a worker thread.

A step computes the batch's loss and gradient (forward, loss, backward), then applies the optimizer.
``SerialStep`` does it all on the calling thread.  ``DataParallelStep`` splits the batch in two
halves: the first on ``model``, the second on a *replica* (the same parameter vector, its own
gradient vector and buffers); each half's loss and gradient are weighted by its share of the batch,
so their sum is the whole batch's mean loss and its gradient.  The optimizer's element-wise update
runs in blocks, and each block first adds the two halves' gradients (one pass over memory fewer
than summing them apart).  NumPy releases the GIL inside BLAS and ufuncs, so the halves run truly in
parallel, and BLAS itself stays on one thread (its spinning workers were 10-30x slower whenever
anything else used a core).

The calling thread and the worker share the work as a ``Crew``: each half, and each block of the
update, is run by whichever thread claims it first.  When the other core is busy the calling thread
claims both halves and every block itself and never waits for a worker that is not running.  The
numbers are the same either way: each half is always computed on its own model, the halves are
added in one order, and the update is element-wise — so a run is reproducible bit for bit whatever
the load (the data-parallel sum may round differently in the last bit from the serial one).
A step is a context manager: the data-parallel one owns its worker thread for the ``with``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
from threadpoolctl import ThreadpoolController

from engine.optimizers import update_blocks

DATA_PARALLEL_MACS = 6_000_000
"""Steps with at least this many multiply-adds (parameters x batch) run data-parallel when there
are two cores: below it the hand-over to the other thread (~50 us) costs more than it saves
(784-10-784: 2.1 million at batch 128, 8.4 million at 512; 784-256-64-256-784 at 128: 56 million)."""
SPLIT_ELEMENTS = 1 << 17
"""The optimizer update is shared with the worker for at least this many parameters."""

Prepare = Callable[[int, int], None]
"""``prepare(lo, hi)`` fills rows ``lo:hi`` of the batch (clean images and their noisy copies) before they are used."""


class SerialStep:
    """Forward, loss and backward of the whole batch, then the optimizer, on the calling thread.

    model : has ``forward``/``backward`` and flat ``params``/``grads`` vectors; loss : ``value_and_grad``.
    """

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
        return _weighted_gradients(self.model, noisy, clean, weights, self.loss, self._grad_buf[:n], n)

    def update(self, optimizer) -> None:
        optimizer.step(self.model.params, self.model.grads)

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
        self._crew = Crew(np.geterr(), worker=self.threads == 2)
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
            losses[i] = _weighted_gradients(models[i], noisy[lo:hi], clean[lo:hi], w, self.loss, buf[lo:hi], n)

        self._crew.run(half, 2)
        self._halves_apart = True
        return losses[0] + losses[1]

    def collect_gradients(self) -> None:
        """Add the second half's gradient into ``model.grads`` now (``update`` does it as it goes)."""
        if self._halves_apart:
            self.model.grads += self.replica.grads
            self._halves_apart = False

    def update(self, optimizer) -> None:
        """The optimizer's element-wise update in blocks (the halves' gradients added first in each), shared with
        the worker when the model is large (the same result as one pass)."""
        params, grads, second = self.model.params, self.model.grads, self.replica.grads
        update = optimizer.prepare_step(params, grads)  # (lo, hi) -> None
        bounds = update_blocks(params.size, even=params.size >= SPLIT_ELEMENTS)
        add = self._halves_apart
        self._halves_apart = False

        def block(i: int) -> None:
            lo, hi = bounds[i], bounds[i + 1]
            if add:
                np.add(grads[lo:hi], second[lo:hi], out=grads[lo:hi])
            update(lo, hi)

        if params.size < SPLIT_ELEMENTS:
            for i in range(len(bounds) - 1):
                block(i)
        else:
            self._crew.run(block, len(bounds) - 1)


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


def make_step(model, loss, batch_size: int, parallel: bool | None = None) -> SerialStep:
    """The step for this model and batch: data-parallel when ``parallel`` (default: when it pays off)."""
    if parallel is None:
        parallel = available_cores() >= 2 and batch_size >= 4 and model.n_params * batch_size >= DATA_PARALLEL_MACS
    step = DataParallelStep if parallel and batch_size >= 2 else SerialStep
    return step(model, loss, batch_size)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _weighted_gradients(
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
