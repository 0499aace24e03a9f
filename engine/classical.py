"""Classical image denoisers from scikit-image, each with one strength picked on clean training images.

- ``median``: median filter over a disk of a given radius (``skimage.filters.median``);
- ``gaussian_blur``: Gaussian blur of a given σ in pixels (``skimage.filters.gaussian``);
- ``total_variation``: Chambolle's total-variation denoising of a given weight (``denoise_tv_chambolle``);
- ``nl_means``: non-local means, 5 × 5 patches searched within 4 pixels, of a given filter strength h
  (``denoise_nl_means``, fast mode);
- ``wavelet``: BayesShrink soft thresholding, Haar wavelet, two levels, of a given noise σ (``denoise_wavelet``).

Each filter has a grid of strengths, 0 (no filtering) first; ``tune_filter`` keeps the one with the
lowest MSE on the clean images it is given under their noisy copy — the caller gives training
images, never the test set.  A tie keeps the weaker strength, so where no filtering helps the tuned
filter is the identity.  For the per-image filters, whose error along the grid is one valley (falls, then
rises), it walks down into that valley from the grid's middle (``valley_floor``) instead of trying every
strength: the same pick in about half the filtering.  BM3D is left out on purpose (its licence is
non-commercial).

scikit-image (with SciPy and PyWavelets) is imported inside the functions, so importing this module,
and the app's first screen, never loads them.  Median and blur filter a whole stack of images in one
call; the others are a Python loop over 28 × 28 images (~0.2–1.5 ms each), which ``apply_filter``
and ``tune_filter`` spread over the processes of an ``Executor`` when given one (``worker_pool`` for one
piece of work, ``WorkerProcesses`` to keep them between pieces), as they do the median filter's (a stack at
once, but as slow an image).
"""

from __future__ import annotations

import math
import multiprocessing
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from engine.metrics import mse
from engine.progress import CancelCheck, Progress, check_cancelled, report

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor


@dataclass(frozen=True)
class ClassicalFilter:
    """One classical denoiser: its name (a JSON key), title, what its strength is, the strengths tried,
    whether it loops over images or filters a whole stack at once, and whether it is slow enough an image
    (~0.3 ms or more) to be worth worker processes: every per-image filter, and the median filter.

    ``one_valley``: its error along the grid falls, then rises, so tuning may walk into the valley rather than
    try every strength — true of the per-image filters at every level the app shows, on MNIST and Fashion-MNIST
    (``bench/app_baselines.py --check-tuning``); not of the median filter, whose footprints (a cross, a square,
    a disk) are no one-knob family: on Fashion-MNIST at σ 0.2 radius 2 beats 1.5."""

    name: str
    title: str
    parameter: str
    grid: tuple[float, ...]
    per_image: bool
    slow: bool
    one_valley: bool = False


FILTERS = MappingProxyType(
    {
        f.name: f
        for f in (
            ClassicalFilter("median", "median filter", "radius", (0, 1, 1.5, 2, 2.5, 3), per_image=False, slow=True),
            ClassicalFilter(
                "gaussian_blur", "Gaussian blur", "σ in pixels",
                (0, 0.35, 0.5, 0.6, 0.7, 0.85, 1.0, 1.2, 1.4, 1.7, 2.0), per_image=False, slow=False,
            ),
            ClassicalFilter(
                "total_variation", "total-variation filter", "weight",
                (0, 0.01, 0.02, 0.04, 0.07, 0.1, 0.15, 0.2, 0.3, 0.45, 0.7), per_image=True, slow=True, one_valley=True,
            ),
            ClassicalFilter(
                "nl_means", "non-local-means filter", "h",
                (0, 0.02, 0.04, 0.07, 0.1, 0.14, 0.2, 0.28, 0.4, 0.56, 0.8), per_image=True, slow=True, one_valley=True,
            ),
            ClassicalFilter(
                "wavelet", "wavelet filter", "σ",
                (0, 0.02, 0.04, 0.07, 0.1, 0.14, 0.2, 0.28, 0.4, 0.56), per_image=True, slow=True, one_valley=True,
            ),
        )
    }
)  # fmt: skip
"""The classical denoisers by name, in the order tables show them."""

PER_IMAGE_CHUNK = 250
"""Images a worker filters per task with a slow filter (a fraction of a second: cancel stays prompt), and per call
with a per-image filter here."""
STACK_CHUNK = 2500
"""Images filtered per call with a stack filter here."""
WORKERS_LINGER_S = 30.0
"""How long ``WorkerProcesses`` keeps its processes idle, waiting for the next piece of work, before it stops them."""


@dataclass(frozen=True)
class TunedFilter:
    """A classical filter at the strength picked for one noise kind and level; call it on noisy images."""

    name: str
    strength: float
    tuned_on: int = 0  # the training images the strength was picked on

    def __call__(self, noisy: np.ndarray) -> np.ndarray:
        """noisy (n, 784) or (n, 28, 28) in [0, 1] -> filtered, same shape, float32 in [0, 1] (in this process)."""
        return apply_filter(self.name, self.strength, noisy)

    @property
    def title(self) -> str:
        return FILTERS[self.name].title

    @property
    def setting(self) -> str:
        """The strength in words: "radius 1.5, picked on 200 training images", or "off" where none helps."""
        if self.strength == 0:
            return f"off (no strength helped on {self.tuned_on} training images)"
        return f"{FILTERS[self.name].parameter} {self.strength:g}, picked on {self.tuned_on} training images"


def check_filter(name: str) -> ClassicalFilter:
    """The filter called ``name``; ``ValueError`` naming the known ones otherwise."""
    if name not in FILTERS:
        raise ValueError(f"unknown classical filter {name!r}; known: {', '.join(FILTERS)}")
    return FILTERS[name]


def filter_images(name: str, strength: float, images: np.ndarray) -> np.ndarray:
    """images (n, h, w) float32 in [0, 1] -> ``name`` at ``strength``, (n, h, w) float32 in [0, 1].

    Strength 0 returns a copy.  A module-level function, so worker processes can run it.
    """
    check_filter(name)
    images = np.asarray(images, np.float32)
    if strength == 0:
        return images.copy()
    if name == "median":
        from skimage.filters import median

        out = median(images, footprint=_disk(strength)[None], mode="nearest")
    elif name == "gaussian_blur":
        from skimage.filters import gaussian

        out = gaussian(images, sigma=(0, strength, strength), mode="nearest", preserve_range=True)
    else:
        out = np.stack([_one_image(name, strength)(image) for image in images]) if len(images) else images.copy()
    return np.clip(np.asarray(out, np.float32), 0, 1)


def apply_filter(
    name: str,
    strength: float,
    noisy: np.ndarray,
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> np.ndarray:
    """noisy (n, 784) or (n, h, w) in [0, 1] -> filtered, same shape, float32 in [0, 1].

    With an ``executor``, a slow filter's chunks run in its workers (each image is filtered alone, so the chunks
    give what one call gives); ``progress``/``cancelled`` are called between chunks.
    """
    noisy = np.asarray(noisy, np.float32)
    images = _image_stack(noisy)
    spec = check_filter(name)
    pool = executor if spec.slow and strength != 0 else None
    size = PER_IMAGE_CHUNK if spec.per_image or pool is not None else STACK_CHUNK
    chunks = [images[lo : lo + size] for lo in range(0, len(images), size)]
    out = _run(filter_images, [(name, strength, chunk) for chunk in chunks], pool, progress, cancelled)
    return np.concatenate(out).reshape(noisy.shape) if out else noisy.copy()


def tune_filter(
    name: str,
    clean: np.ndarray,
    noisy: np.ndarray,
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
    every_strength: bool = False,
) -> TunedFilter:
    """The strength of ``name`` (from its grid) with the lowest MSE of ``noisy`` filtered against ``clean``.

    clean, noisy : (m, 784) or (m, h, w) training images in [0, 1] and their noisy copy (never test images).
    A ``one_valley`` filter walks into its valley (``valley_floor``) unless ``every_strength`` (the check that
    the walk picks what trying every strength picks).
    """
    spec = check_filter(name)
    clean_images = _image_stack(np.asarray(clean, np.float32))
    noisy_images = _image_stack(np.asarray(noisy, np.float32))
    if clean_images.shape != noisy_images.shape or not len(clean_images):
        raise ValueError(f"tuning needs clean and noisy images of one shape, got {clean.shape} and {noisy.shape}")
    unfiltered = mse(noisy_images, clean_images)
    if unfiltered == 0:  # no noise (level 0): no filtering is exact, and a tie keeps it
        report(progress, 1.0)
        return TunedFilter(name, 0.0, len(clean_images))
    pool = executor if spec.slow else None
    errors = {0: unfiltered}  # grid index -> MSE

    halves = np.array_split(noisy_images, 2) if pool is not None and len(noisy_images) > 1 else [noisy_images]

    def errors_at(indices: Sequence[int]) -> list[float]:
        missing = [i for i in indices if i not in errors]
        tasks = [(name, spec.grid[i], half) for i in missing for half in halves]  # a strength's halves side by side
        done = _run(filter_images, tasks, pool, None, cancelled)
        for k, i in enumerate(missing):
            errors[i] = mse(np.concatenate(done[k * len(halves) : (k + 1) * len(halves)]), clean_images)
        report(progress, len(errors) / len(spec.grid))
        return [errors[i] for i in indices]

    if spec.one_valley and not every_strength:
        best = valley_floor(len(spec.grid), errors_at, start=len(spec.grid) // 2)
    else:
        found = errors_at(range(len(spec.grid)))
        best = int(np.argmin(found))  # the first of equals: the weaker strength
    report(progress, 1.0)
    return TunedFilter(name, spec.grid[best] if best else 0.0, len(clean_images))


def valley_floor(count: int, errors_at: Callable[[Sequence[int]], Sequence[float]], start: int) -> int:
    """The first index of the lowest of ``count`` errors that fall strictly, then rise (or stay): walked to from
    ``start``, asking ``errors_at(indices)`` for ``start`` and its neighbours, then one index a step, so it asks
    for about ``3 + |floor - start|`` errors, not ``count``.  On errors that are no such valley it still ends at a
    local minimum (a strength neither neighbour beats)."""
    if count < 1 or not 0 <= start < count:
        raise ValueError(f"start {start} must index the {count} errors")
    here = start
    known = dict(zip(_within(count, here - 1, here, here + 1), errors_at(_within(count, here - 1, here, here + 1)),
                     strict=True))  # fmt: skip
    while True:
        if here + 1 < count and known[here + 1] < known[here]:
            step = 1  # a stronger strength is better: climb the grid
        elif here > 0 and known[here - 1] <= known[here]:
            step = -1  # a weaker one is as good: a tie keeps the weaker
        else:
            return here
        here += step
        ahead = [i for i in _within(count, here + step) if i not in known]
        if ahead:
            known.update(zip(ahead, errors_at(ahead), strict=True))


def _within(count: int, *indices: int) -> list[int]:
    return [i for i in indices if 0 <= i < count]


@contextmanager
def worker_pool(workers: int) -> Iterator[Executor | None]:
    """``workers`` worker processes (started afresh, never forked from a process with threads) for the
    per-image filters, shut down on leaving, pending tasks dropped; None (run here) for 1 or fewer."""
    if workers <= 1:
        yield None
        return
    pool = _spawned_pool(workers)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class WorkerProcesses:
    """Worker processes for the slow filters, kept between pieces of work: each process started imports scikit-image
    again (~1 s), so a caller with several curves to compute (``engine.baselines.BaselineBank``) keeps one set.

    ``use(workers)`` gives the executor (None for 1 or fewer: run here); several threads may use it at once.  The
    processes start with the first task, are stopped once no one has used them for ``linger_s`` seconds (or on
    ``close()``), and are replaced when one has died.  Thread-safe."""

    def __init__(self, linger_s: float = WORKERS_LINGER_S) -> None:
        self.linger_s = float(linger_s)
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._size = 0
        self._users = 0
        self._idle_timer: threading.Timer | None = None

    @contextmanager
    def use(self, workers: int) -> Iterator[Executor | None]:
        if workers <= 1:
            yield None
            return
        with self._lock:
            self._stop_timer()
            stale = None
            # a worker that died breaks the whole pool (it says so only by this flag, or by failing every task)
            if self._pool is not None and self._users == 0 and (self._size != workers or self._pool._broken):
                stale, self._pool = self._pool, None
            if self._pool is None:
                self._pool, self._size = _spawned_pool(workers), workers
            pool = self._pool
            self._users += 1
        if stale is not None:
            stale.shutdown(wait=False, cancel_futures=True)
        try:
            yield pool
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0 and self._pool is pool:
                    self._idle_timer = threading.Timer(self.linger_s, self._stop_if_idle, args=(pool,))
                    self._idle_timer.daemon = True
                    self._idle_timer.start()

    def close(self) -> None:
        """Stop the processes now (waiting for the tasks they are running; the others are dropped)."""
        with self._lock:
            self._stop_timer()
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _stop_if_idle(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._users or self._pool is not pool:
                return
            self._pool = self._idle_timer = None
        pool.shutdown(wait=True, cancel_futures=True)

    def _stop_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None


def _spawned_pool(workers: int) -> ProcessPoolExecutor:
    """``workers`` processes started afresh, never forked from a process with threads (they start with the first
    task)."""
    from concurrent.futures import ProcessPoolExecutor  # here: its import costs the app's start ~2 ms

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def _run(
    fn: Callable[..., np.ndarray],
    tasks: Sequence[tuple],
    executor: Executor | None,
    progress: Progress | None,
    cancelled: CancelCheck | None,
) -> list[np.ndarray]:
    """``[fn(*task) for task in tasks]``, here or in ``executor``'s workers, polling ``cancelled``."""
    if executor is None or len(tasks) < 2:
        results = []
        for i, task in enumerate(tasks):
            check_cancelled(cancelled)
            results.append(fn(*task))
            report(progress, (i + 1) / len(tasks))
        return results
    from concurrent.futures.process import BrokenProcessPool  # (loaded with the pool already)

    futures: list[Future] = []
    try:
        futures += [executor.submit(fn, *task) for task in tasks]
        pending = set(futures)
        while pending:
            check_cancelled(cancelled)
            _, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            report(progress, 1 - len(pending) / len(futures))
        return [f.result() for f in futures]
    except BrokenProcessPool:  # a worker died (killed, out of memory): finish the work here, more slowly
        warnings.warn("a worker process for the classical filters stopped; going on in this process", stacklevel=2)
        return _run(fn, tasks, None, progress, cancelled)
    finally:
        for f in futures:
            f.cancel()


def _one_image(name: str, strength: float) -> Callable[[np.ndarray], np.ndarray]:
    """The per-image filter ``name`` at ``strength``: (h, w) -> (h, w)."""
    from skimage.restoration import denoise_nl_means, denoise_tv_chambolle, denoise_wavelet

    if name == "total_variation":
        return lambda image: denoise_tv_chambolle(image, weight=strength)
    if name == "nl_means":
        return lambda image: denoise_nl_means(image, patch_size=5, patch_distance=4, h=strength, fast_mode=True)
    return lambda image: denoise_wavelet(
        image, sigma=strength, wavelet="db1", mode="soft", wavelet_levels=2, method="BayesShrink", rescale_sigma=False
    )


def _disk(radius: float) -> np.ndarray:
    """A footprint of the pixels within ``radius`` of the centre: radius 1 a cross, 1.5 a 3 × 3 square."""
    half = math.floor(radius)
    offsets = np.arange(-half, half + 1)
    return offsets[:, None] ** 2 + offsets[None, :] ** 2 <= radius * radius


def _image_stack(images: np.ndarray) -> np.ndarray:
    """(n, h, w) from (n, h, w) or square (n, side * side)."""
    if images.ndim == 2 and math.isqrt(images.shape[1]) ** 2 == images.shape[1]:
        side = math.isqrt(images.shape[1])
        return images.reshape(len(images), side, side)
    if images.ndim != 3:
        raise ValueError(f"classical filters need images (n, h, w) or square (n, side * side), got {images.shape}")
    return images
