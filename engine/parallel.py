"""Large matrix products split over the cores, with BLAS itself on one thread.

OpenBLAS's worker threads spin while they wait for work.  On a 2-core machine with one more
busy thread (the GUI, another program) a product on 2 BLAS threads became 10-30x slower than
on one, and its rounding depends on the thread count.  So training runs BLAS on one thread
(``training_threads``) and ``matmul`` splits each large product into row blocks that a small
pool of Python threads computes at once (NumPy releases the GIL inside BLAS).  Waiting threads
sleep instead of spinning, so a busy machine costs about the single-thread time.  The blocks
depend only on the shapes and the thread count, never on timing, so a run is reproducible
(the rounding of a block may differ in the last bit from the unsplit product).
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
