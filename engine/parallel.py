"""Training on all cores with BLAS itself on one thread.

OpenBLAS's worker threads spin while they wait for work.  On a 2-core machine with one more
busy thread (the GUI, another program) a product on 2 BLAS threads became 10-30x slower than
on one, and its rounding depends on the thread count.  So training runs BLAS on one thread
(``training_threads``) and spreads work over a small pool of Python threads instead (NumPy
releases the GIL inside BLAS and ufuncs); waiting threads sleep, so a busy machine costs about
the single-thread time:

- ``DataParallel``: large steps run as two half-batches, one on each core, with one hand-over
  a step (a hand-over costs ~50 us on this VM);
- ``map_blocks``: element-wise work on long vectors (the Adam step) in blocks;
- ``submit``: preparing the next batch while the model trains on this one;
- ``matmul``: a large product split by rows (used when a step is not data-parallel).

How work is split depends only on the shapes and the thread count, never on timing, so a run
is reproducible (a split may round differently in the last bit from the unsplit computation).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

SPLIT_MACS = 6_000_000
"""Products with at least this many multiply-adds are split over the cores while training
(the 784x256 products of a batch of 128 have 25.7 million; 784-10-784 at 128 has 1 million)."""

_state = threading.local()
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_workers = 0


def _split_count() -> int:
    """Row blocks per large product in this thread: 1 unless inside ``training_threads``."""
    return getattr(_state, "blocks", 1)


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``np.matmul(a, b, out=out)`` for 2-D arrays, split by rows of ``a``/``out`` when large.

    a : (m, k), b : (k, n), out : (m, n) C-contiguous rows; returns ``out``.
    """
    blocks = _split_count()
    m = a.shape[0]
    if blocks < 2 or m < 2 * blocks or m * a.shape[1] * b.shape[1] < SPLIT_MACS:
        return np.matmul(a, b, out=out)
    edges = [m * i // blocks for i in range(blocks + 1)]
    futures = [
        _pool.submit(np.matmul, a[lo:hi], b, out=out[lo:hi])
        for lo, hi in zip(edges[1:-1], edges[2:], strict=True)
    ]
    np.matmul(a[: edges[1]], b, out=out[: edges[1]])
    for future in futures:
        future.result()
    return out


SPLIT_ELEMENTS = 1 << 17
"""Element-wise work on at least this many values is split over the cores while training."""


def map_blocks(fn, n: int) -> None:
    """Call ``fn(lo, hi)`` on contiguous blocks covering ``range(n)``, concurrently when large.

    For element-wise work on flat vectors (the optimizer step): the result does not depend on
    the split.
    """
    blocks = _split_count()
    if blocks < 2 or n < SPLIT_ELEMENTS:
        fn(0, n)
        return
    edges = [n * i // blocks for i in range(blocks + 1)]
    futures = [_pool.submit(fn, lo, hi) for lo, hi in zip(edges[1:-1], edges[2:], strict=True)]
    fn(0, edges[1])
    for future in futures:
        future.result()


def submit(fn, *args) -> Future:
    """``fn(*args)`` on another core while training (a Future); elsewhere run now (a done Future)."""
    if _split_count() > 1 and _pool is not None:
        return _pool.submit(fn, *args)
    future: Future = Future()
    try:
        future.set_result(fn(*args))
    except BaseException as exc:  # handed to the caller through result(), as the pool would
        future.set_exception(exc)
    return future


DATA_PARALLEL_MACS = 6_000_000
"""Steps with at least this many multiply-adds (parameters x batch) train as two half-batches
on two threads (``DataParallel``)."""


class DataParallel:
    """A training step's forward and backward as two half-batches on two threads.

    Product by product splitting hands work to the other thread about six times a step, and a
    hand-over costs ~50 us on this 2-core VM; here it happens once: the pool thread runs the
    second half of the batch through *twin* layers (the same ``W``/``b`` arrays, their own
    buffers and a second gradient vector) while this thread runs the first half, and the two
    gradient vectors are then added.  Each half's loss and gradient are weighted by its share
    of the batch, so the result is the whole batch's mean loss and its gradient.  The halves
    depend only on the batch size: results do not depend on timing.

    model : has ``layers`` (``Dense``, with ``twin``) whose ``grad_W``/``grad_b`` are views of the
    flat ``model.grads``.
    """

    def __init__(self, model) -> None:
        self.model = model
        grads = model.grads
        self.twin_grads = np.zeros_like(grads)
        base, size = grads.ctypes.data, grads.itemsize

        def view(arr: np.ndarray) -> np.ndarray:
            start = (arr.ctypes.data - base) // size  # the same place in the second vector
            return self.twin_grads[start : start + arr.size].reshape(arr.shape)

        self.twins = [layer.twin(view(layer.grad_W), view(layer.grad_b)) for layer in model.layers]

    @staticmethod
    def usable(model, batch_size: int) -> bool:
        """Worth it (and possible) for this model and batch size inside ``training_threads``."""
        layers = getattr(model, "layers", None)
        return (
            _split_count() > 1
            and _pool is not None
            and batch_size >= 4
            and bool(layers)
            and all(hasattr(layer, "twin") for layer in layers)
            and model.params.size * batch_size >= DATA_PARALLEL_MACS
        )

    def forward_backward(self, noisy: np.ndarray, clean: np.ndarray, loss, grad_buf: np.ndarray) -> float:
        """Fill ``model.grads`` for the batch; returns the batch's loss.

        noisy, clean, grad_buf : (batch, n_pixels) float32; ``grad_buf`` is scratch.
        """
        n = len(noisy)
        h = n // 2
        future = _pool.submit(_half_step, self.twins, noisy[h:], clean[h:], loss, grad_buf[h:], n)
        previous, _state.blocks = _split_count(), 1  # this half runs on one core too
        try:
            first = _half_step(self.model.layers, noisy[:h], clean[:h], loss, grad_buf[:h], n)
        finally:
            _state.blocks = previous
        second = future.result()
        self.model.grads += self.twin_grads
        return first + second


def _half_step(layers, x: np.ndarray, clean: np.ndarray, loss, grad_buf: np.ndarray, n_total: int) -> float:
    """Forward, loss and backward of part of a batch, weighted by its share of ``n_total`` rows."""
    for layer in layers:
        x = layer.forward(x)
    value, grad = loss.value_and_grad(x, clean, out=grad_buf)
    share = len(x) / n_total
    grad *= grad.dtype.type(share)
    for i in range(len(layers) - 1, -1, -1):
        grad = layers[i].backward(grad, need_input_grad=i > 0)
    return value * share


class training_threads:  # noqa: N801 - used as a context manager, like threadpool_limits
    """Within this context BLAS runs on one thread and ``matmul`` splits large products.

    ``n_threads`` defaults to the cores available to this process.  Not reentrant across
    threads: the split applies to the thread that entered.
    """

    blas_threads = 1
    """BLAS threads inside the context (benchmarks set 2 to compare against splitting)."""

    def __init__(self, n_threads: int | None = None) -> None:
        self.n_threads = n_threads or _available_cores()

    def __enter__(self) -> training_threads:
        global _pool, _workers
        self._limiter = threadpool_limits(limits=self.blas_threads, user_api="blas")
        self._previous = _split_count()
        if self.n_threads > 1:
            with _lock:
                if _pool is None or _workers < self.n_threads - 1:  # a bigger pool; an old one may still be in use
                    if _pool is not None:
                        _pool.shutdown(wait=False)  # its queued work still runs; then its threads end
                    _workers = self.n_threads - 1
                    _pool = ThreadPoolExecutor(max_workers=_workers, thread_name_prefix="engine-matmul")
        _state.blocks = self.n_threads
        return self

    def __exit__(self, *exc) -> None:
        _state.blocks = self._previous
        self._limiter.restore_original_limits()


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
