"""Classical denoisers: each filter, the strength picked from its grid on the images it is given, and worker
processes that give what one process gives."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.classical import (
    FILTERS,
    TunedFilter,
    WorkerProcesses,
    apply_filter,
    filter_images,
    tune_filter,
    valley_floor,
    worker_pool,
)
from engine.metrics import mse
from engine.noise import fixed_noisy
from engine.progress import Cancelled


def digits(n: int, seed: int) -> np.ndarray:
    """(n, 784) float32 stand-ins for digits: a bright bar and a blob on black."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.float32)
    for img in images:
        r, c = rng.integers(4, 16, size=2)
        img[r : r + rng.integers(6, 12), c : c + 3] = 1.0
        img[r : r + 4, c : c + rng.integers(4, 9)] = rng.uniform(0.6, 1.0)
    return images.reshape(n, 784)


@pytest.mark.parametrize("name", list(FILTERS))
def test_each_filter_is_the_identity_at_strength_0_and_stays_in_the_pixel_range(name):
    noisy = fixed_noisy(digits(6, 0), 0.3).reshape(6, 28, 28)
    np.testing.assert_array_equal(filter_images(name, 0, noisy), noisy)
    strongest = filter_images(name, FILTERS[name].grid[-1], noisy)
    assert strongest.shape == noisy.shape and strongest.dtype == np.float32
    assert strongest.min() >= 0 and strongest.max() <= 1 and not np.array_equal(strongest, noisy)


@pytest.mark.parametrize("name", list(FILTERS))
def test_tuning_picks_the_grid_strength_with_the_lowest_error_and_it_denoises(name):
    clean = digits(24, 1)
    noisy = fixed_noisy(clean, 0.3, seed=5)
    tuned = tune_filter(name, clean, noisy)
    stack = noisy.reshape(-1, 28, 28)
    errors = {s: mse(filter_images(name, s, stack).reshape(24, -1), clean) for s in FILTERS[name].grid}
    assert tuned == TunedFilter(name, min(errors, key=errors.get), 24)
    assert tuned.strength > 0 and errors[tuned.strength] < 0.8 * errors[0]
    assert mse(tuned(noisy), clean) == pytest.approx(errors[tuned.strength])  # calling it applies that strength


@st.composite
def valleys(draw) -> tuple[list[float], int]:
    """Errors that fall strictly, then rise or stay (ties at the floor included), and a start index."""
    falling = sorted(set(draw(st.lists(st.integers(0, 50), max_size=8))), reverse=True)
    floor = draw(st.integers(-10, falling[-1] - 1 if falling else 50))
    rising = sorted(draw(st.lists(st.integers(floor, 60), max_size=8)))
    errors = [float(e) for e in (*falling, floor, *rising)]
    return errors, draw(st.integers(0, len(errors) - 1))


@given(valleys())
def test_the_walk_into_a_valley_finds_the_first_lowest_asking_for_few_errors(case):
    errors, start = case
    asked: list[int] = []

    def errors_at(indices):
        asked.extend(indices)
        return [errors[i] for i in indices]

    floor = valley_floor(len(errors), errors_at, start)
    assert floor == int(np.argmin(errors))  # the first of equals: the weaker strength
    assert len(asked) == len(set(asked)) <= 3 + abs(floor - start) + 1  # each once; start, its neighbours, a step


@given(st.lists(st.integers(0, 9), min_size=1, max_size=12), st.data())
def test_on_errors_that_are_no_valley_the_walk_still_ends_where_no_neighbour_is_better(values, data):
    start = data.draw(st.integers(0, len(values) - 1))
    here = valley_floor(len(values), lambda indices: [values[i] for i in indices], start)
    assert (here == 0 or values[here - 1] > values[here]) and (
        here == len(values) - 1 or values[here + 1] >= values[here]
    )


@pytest.mark.parametrize("name", [name for name, spec in FILTERS.items() if spec.one_valley])
def test_a_one_valley_filter_walks_to_the_strength_trying_every_one_picks_and_filters_fewer(name, monkeypatch):
    import engine.classical

    ran = []
    real = engine.classical.filter_images

    def counted(filter_name, strength, images):
        ran.append(strength)
        return real(filter_name, strength, images)

    monkeypatch.setattr(engine.classical, "filter_images", counted)
    clean = digits(16, 6)
    for level in (0.1, 0.3, 0.6, 1.0):
        noisy = fixed_noisy(clean, level, seed=9)
        ran.clear()
        walked = tune_filter(name, clean, noisy)
        walked_runs = len(ran)
        assert walked == tune_filter(name, clean, noisy, every_strength=True)
        assert walked_runs < len(FILTERS[name].grid) - 1 == len(ran) - walked_runs


def test_where_no_strength_helps_the_tuned_filter_is_off():
    clean = digits(10, 2)
    tuned = tune_filter("gaussian_blur", clean, clean)  # no noise: any blur only loses detail
    assert tuned.strength == 0 and tuned.setting.startswith("off")
    np.testing.assert_array_equal(tuned(clean), clean)


@pytest.mark.parametrize("name", list(FILTERS))
def test_without_noise_tuning_runs_no_filter_since_none_can_beat_the_exact_input(name, monkeypatch):
    """Level 0 of every curve: the noisy copy is the clean image, so no filtering (error 0, the weakest) wins
    whatever the grid; the 10 strengths are not run (half a second a filter and a level in the app)."""
    import engine.classical

    def refuse(*args):
        raise AssertionError("a filter ran although no filtering is exact")

    monkeypatch.setattr(engine.classical, "filter_images", refuse)
    clean = digits(10, 2)
    assert tune_filter(name, clean, clean.copy()) == TunedFilter(name, 0.0, 10)


def test_worker_processes_give_what_one_process_gives_in_order():
    noisy = fixed_noisy(digits(60, 3), 0.4)
    with worker_pool(2) as pool:
        assert pool is not None
        spread = apply_filter("total_variation", 0.1, noisy, executor=pool)
        tuned = tune_filter("nl_means", digits(12, 4), fixed_noisy(digits(12, 4), 0.3), executor=pool)
    np.testing.assert_array_equal(spread, apply_filter("total_variation", 0.1, noisy))
    assert tuned == tune_filter("nl_means", digits(12, 4), fixed_noisy(digits(12, 4), 0.3))


class CountingExecutor(ThreadPoolExecutor):
    """Runs tasks on threads and counts them: where a filter's work went."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.tasks = 0

    def submit(self, fn, /, *args, **kwargs):
        self.tasks += 1
        return super().submit(fn, *args, **kwargs)


def test_the_median_filter_works_in_the_workers_given_and_gives_what_one_call_gives():
    """The median filter is as slow an image as the per-image ones: its chunks and its strengths go to the workers
    (each image is filtered alone, so the chunks give what one call gives); the Gaussian blur stays here."""
    noisy = fixed_noisy(digits(600, 7), 0.4)
    clean, tune_noisy = digits(12, 8), fixed_noisy(digits(12, 8), 0.5)
    with CountingExecutor() as pool:
        spread = apply_filter("median", 1.5, noisy, executor=pool)
        assert pool.tasks == 3  # 600 images in chunks of 250
        tuned = tune_filter("median", clean, tune_noisy, executor=pool)
        tried = 2 * (len(FILTERS["median"].grid) - 1)  # each strength tried, two halves of the images side by side
        assert pool.tasks == 3 + tried
        apply_filter("gaussian_blur", 1.0, noisy, executor=pool)
        assert pool.tasks == 3 + tried
    np.testing.assert_array_equal(spread, apply_filter("median", 1.5, noisy))
    assert tuned == tune_filter("median", clean, tune_noisy)


def test_kept_worker_processes_serve_one_use_after_another_and_stop_once_idle():
    import multiprocessing

    kept = WorkerProcesses(linger_s=600)
    with kept.use(1) as here:
        assert here is None  # one worker: run here, no process
    with kept.use(2) as pool:
        assert pool.submit(abs, -3).result(timeout=60) == 3
        first = {p.pid for p in multiprocessing.active_children()}
    with kept.use(2) as pool:
        assert pool.submit(abs, -4).result(timeout=60) == 4
        assert {p.pid for p in multiprocessing.active_children()} == first and first  # no new processes started
    kept.close()
    assert not multiprocessing.active_children()
    idle = WorkerProcesses(linger_s=0.1)
    with idle.use(2) as pool:
        pool.submit(abs, -5).result(timeout=60)
    deadline = time.monotonic() + 60
    while multiprocessing.active_children() and time.monotonic() < deadline:  # the idle timer stops them
        time.sleep(0.05)
    assert not multiprocessing.active_children()


def test_filtering_reports_progress_and_stops_when_cancelled(monkeypatch):
    monkeypatch.setattr("engine.classical.PER_IMAGE_CHUNK", 5)
    noisy = fixed_noisy(digits(20, 5), 0.3)
    seen: list[float] = []
    apply_filter("wavelet", 0.1, noisy, progress=seen.append)
    assert seen == [0.25, 0.5, 0.75, 1.0]
    with pytest.raises(Cancelled):
        apply_filter("wavelet", 0.1, noisy, cancelled=lambda: len(seen) > 5, progress=seen.append)
    assert len(seen) == 6  # stopped after the first chunk it was told to stop at


def test_an_unknown_filter_is_named_with_the_known_ones():
    with pytest.raises(ValueError, match="median, gaussian_blur, total_variation, nl_means, wavelet"):
        apply_filter("bm3d", 1.0, digits(2, 0))


def test_work_goes_on_in_this_process_when_a_worker_dies(monkeypatch):
    monkeypatch.setattr("engine.classical.PER_IMAGE_CHUNK", 10)
    noisy = fixed_noisy(digits(30, 6), 0.4)
    with worker_pool(2) as pool:
        with pytest.raises(BrokenProcessPool):  # a worker killed, as by the out-of-memory killer
            pool.submit(os._exit, 1).result(timeout=60)
        with pytest.warns(UserWarning, match="going on in this process"):
            got = apply_filter("wavelet", 0.1, noisy, executor=pool)
    np.testing.assert_array_equal(got, apply_filter("wavelet", 0.1, noisy))
