"""The per-epoch training noise bank: Gaussian with the requested sigma, reproducible, in bounds."""

from __future__ import annotations

import numpy as np
import pytest

from engine.noise import EpochNoise


def _all_noise(noise: EpochNoise, n: int, n_pixels: int, bs: int) -> np.ndarray:
    """The noise added to a mid-grey image for every batch of the epoch, stacked."""
    grey = np.full((bs, n_pixels), 0.5, np.float32)
    out = np.empty_like(grey)
    parts = []
    for batch, start in enumerate(range(0, n, bs)):
        size = min(bs, n - start)
        parts.append(noise.apply(grey[:size], batch, out[:size]).copy() - np.float32(0.5))
    return np.concatenate(parts)


@pytest.mark.parametrize("n, bank_values", [(300, 1 << 20), (3000, 1 << 16)])
def test_bank_noise_is_gaussian_with_the_requested_sigma(n, bank_values):
    noise = EpochNoise(0.1, np.random.default_rng(0), n, 784, 128, bank_values=bank_values)
    values = _all_noise(noise, n, 784, 128)
    assert values.shape == (n, 784) and values.dtype == np.float32
    assert abs(values.mean()) < 2e-3
    assert values.std() == pytest.approx(0.1, rel=0.02)
    assert np.mean(np.abs(values) < 0.1) == pytest.approx(0.6827, abs=0.01)


def test_a_small_epoch_gets_fresh_noise_for_every_value():
    noise = EpochNoise(1.0, np.random.default_rng(1), 50, 16, 8)
    assert noise.bank.size == 50 * 16
    assert not noise.negate.any()
    assert np.array_equal(noise.offsets, np.arange(7) * 8 * 16)


def test_a_large_epoch_reads_windows_inside_the_bank_with_both_signs():
    noise = EpochNoise(1.0, np.random.default_rng(2), 10_000, 784, 128, bank_values=1 << 16)
    window = 128 * 784
    assert noise.bank.size == 2 * window  # at least two batches' worth
    assert noise.offsets.min() >= 0 and noise.offsets.max() + window <= noise.bank.size
    assert 0 < noise.negate.mean() < 1


def test_same_rng_seed_same_noise_and_zero_sigma_is_identity():
    a = _all_noise(EpochNoise(0.3, np.random.default_rng([5, 1]), 2000, 784, 64, 1 << 16), 2000, 784, 64)
    b = _all_noise(EpochNoise(0.3, np.random.default_rng([5, 1]), 2000, 784, 64, 1 << 16), 2000, 784, 64)
    c = _all_noise(EpochNoise(0.3, np.random.default_rng([5, 2]), 2000, 784, 64, 1 << 16), 2000, 784, 64)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert not _all_noise(EpochNoise(0.0, np.random.default_rng(0), 100, 784, 32), 100, 784, 32).any()


def _noisy_epoch(noise: EpochNoise, clean: np.ndarray, bs: int) -> np.ndarray:
    """Every batch of one epoch of ``clean`` (n, n_pixels) through ``noise``, stacked: (n, n_pixels)."""
    out = np.empty((bs, clean.shape[1]), np.float32)
    parts = []
    for batch, start in enumerate(range(0, len(clean), bs)):
        rows = clean[start : start + bs]
        parts.append(noise.apply(rows, batch, out[: len(rows)]).copy())
    return np.concatenate(parts)


@pytest.mark.parametrize("kind", ["gaussian", "salt_and_pepper", "masking"])
@pytest.mark.parametrize("level", [0.6, (0.2, 0.9)], ids=["one-level", "range"])
@pytest.mark.parametrize("n, bank_values", [(300, 1 << 20), (3000, 1 << 16)], ids=["fresh", "bank"])
def test_training_noise_is_clipped_to_the_unit_range(kind, level, n, bank_values):
    """Black, white and grey pixels under strong noise of every kind: what a model trains on stays in [0, 1].

    Gaussian noise pushes about half of the black pixels below 0 and half of the white ones above 1: those
    must land on 0 and 1 exactly (clipped, not wrapped or rescaled), and the grey ones keep their noise.
    """
    clean = np.tile(np.array([0.0, 1.0, 0.5, 0.5], np.float32), (n, 196))  # (n, 784): black, white, grey, grey
    noise = EpochNoise(level, np.random.default_rng(7), n, 784, 128, bank_values=bank_values, kind=kind)
    noisy = _noisy_epoch(noise, clean, 128)
    assert noisy.dtype == np.float32 and noisy.shape == clean.shape
    assert noisy.min() >= 0 and noisy.max() <= 1
    black, white, grey = noisy[:, 0::4], noisy[:, 1::4], noisy[:, 2::4]
    if kind == "gaussian":
        assert np.mean(black == 0) == pytest.approx(0.5, abs=0.02)  # every negative draw pinned to 0
        assert np.mean(white == 1) == pytest.approx(0.5, abs=0.02)  # every positive draw pinned to 1
        assert np.mean((grey > 0) & (grey < 1) & (grey != 0.5)) > 0.5  # most greys stay inside, noisy
    else:
        assert set(np.unique(noisy)) <= {0.0, 0.5, 1.0}  # a pixel hit is set to 0 (or 1), never pushed past
        assert np.mean(grey != 0.5) > 0.1


@pytest.mark.parametrize("kind", ["gaussian", "salt_and_pepper", "masking"])
@pytest.mark.parametrize("level", [0.4, (0.1, 0.6)])
def test_a_batch_made_in_parts_equals_the_batch_made_whole(kind, level):
    """A data-parallel step makes each half-batch's noise on its own thread (``row``): the rows must get what
    they get when the batch is made at once, in every batch (both signs of a window, one level per row)."""
    rng = np.random.default_rng(0)
    clean = rng.random((400, 50), dtype=np.float32)
    noise = EpochNoise(level, np.random.default_rng(7), 400, 50, 40, bank_values=4000, kind=kind)
    assert noise.negate.any() and not noise.negate.all()  # windows read both ways
    for batch in range(10):
        rows = clean[batch * 40 : (batch + 1) * 40]
        whole = noise.apply(rows, batch, np.empty_like(rows))
        parts = np.empty_like(rows)
        noise.apply(rows[17:], batch, parts[17:], row=17)  # the second part first, as another thread may
        noise.apply(rows[:17], batch, parts[:17])
        np.testing.assert_array_equal(parts, whole)
        assert not np.array_equal(whole, rows)
