"""How one training step uses the cores: on this thread, or as two half-batches on two threads.

A step computes the batch's loss and fills ``model.grads`` (forward, loss, backward), then
applies the optimizer.  ``SerialStep`` does it all on the calling thread.  ``DataParallelStep``
runs the second half of the batch on a *replica* of the model (the same parameter vector, its
own gradient vector and buffers) on a worker thread while the first half runs here, then adds
the two gradient vectors; each half's loss and gradient are weighted by its share of the batch,
so the result is the whole batch's mean loss and its gradient.  The optimizer's element-wise
update is split over the two threads too.  NumPy releases the GIL inside BLAS and ufuncs, so
the halves run truly in parallel, and BLAS itself stays on one thread (its spinning workers
were 10-30x slower whenever anything else used a core).

How work is split depends only on the batch and model sizes, never on timing: a run is
reproducible (the data-parallel sum may round differently in the last bit from the serial one).
A step is a context manager: the data-parallel one owns its worker thread for the ``with``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
from threadpoolctl import ThreadpoolController

DATA_PARALLEL_MACS = 6_000_000
"""Steps with at least this many multiply-adds (parameters x batch) run data-parallel when there
are two cores: below it the hand-over to the other thread (~50 us) costs more than it saves
(784-10-784: 2.1 million at batch 128, 8.4 million at 512; 784-256-64-256-784 at 128: 56 million)."""
SPLIT_ELEMENTS = 1 << 17
"""The optimizer update is split over the two threads for at least this many parameters."""


class SerialStep:
    """Forward, loss and backward of the whole batch, then the optimizer, on the calling thread.

    model : has ``forward``/``backward`` and flat ``params``/``grads`` vectors; loss : ``value_and_grad``.
    """

    def __init__(self, model, loss, batch_size: int) -> None:
        self.model, self.loss = model, loss
        self._grad_buf = np.empty((batch_size, model.n_out), np.float32)  # dL/d(output) scratch

    def gradients(self, noisy: np.ndarray, clean: np.ndarray, weights: np.ndarray | None = None) -> float:
        """noisy, clean: (batch, n_pixels) float32; weights: (batch,) per-image loss weights or None
        -> the batch's mean loss; fills ``model.grads``."""
        buf = self._grad_buf[: len(noisy)]
        return _weighted_gradients(self.model, noisy, clean, weights, self.loss, buf, len(noisy))

    def update(self, optimizer) -> None:
        optimizer.step(self.model.params, self.model.grads)

    def __enter__(self) -> SerialStep:
        return self

    def __exit__(self, *exc) -> None:
        return None


class DataParallelStep(SerialStep):
    """Two half-batches on two threads: this one on ``model``, a worker on ``model.replica()``."""

    def __init__(self, model, loss, batch_size: int) -> None:
        super().__init__(model, loss, batch_size)
        self.replica = model.replica()  # shares model.params; its own grads
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> DataParallelStep:
        """Start the worker, which handles floating-point errors as this thread does now (``np.errstate`` is per
        thread: the trainer's silence over overflow must hold on both halves)."""
        self._pool = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="engine-step", initializer=_set_errstate, initargs=(np.geterr(),)
        )
        return self

    def __exit__(self, *exc) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def gradients(self, noisy: np.ndarray, clean: np.ndarray, weights: np.ndarray | None = None) -> float:
        n = len(noisy)
        if n < 2:  # a last batch of one image: nothing to split
            return super().gradients(noisy, clean, weights)
        h = n // 2
        buf = self._grad_buf[:n]
        w1, w2 = (None, None) if weights is None else (weights[:h], weights[h:])
        second = self._pool.submit(
            _weighted_gradients, self.replica, noisy[h:], clean[h:], w2, self.loss, buf[h:], n
        )
        first = _weighted_gradients(self.model, noisy[:h], clean[:h], w1, self.loss, buf[:h], n)
        second_loss = second.result()
        self.model.grads += self.replica.grads
        return first + second_loss

    def update(self, optimizer) -> None:
        """The optimizer's element-wise update in two blocks, one on each thread (same result as one)."""
        params, grads = self.model.params, self.model.grads
        if params.size < SPLIT_ELEMENTS:
            optimizer.step(params, grads)
            return
        update = optimizer.prepare_step(params, grads)  # (lo, hi) -> None
        h = params.size // 2
        other = self._pool.submit(update, h, params.size)
        update(0, h)
        other.result()


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
    value, grad = loss.value_and_grad(model.forward(x), clean, out=grad_buf, weights=weights)
    share = len(x) / n_total
    if share != 1:
        grad *= grad.dtype.type(share)
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


def _set_errstate(settings: dict[str, str]) -> None:
    np.seterr(**settings)
