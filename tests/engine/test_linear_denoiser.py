"""The best linear denoiser: the Wiener solution where it is known, and what a linear network trained to
convergence by the engine itself reaches."""

from __future__ import annotations

import numpy as np
import pytest

from engine.linear_denoiser import (
    LinearDenoiser,
    Moments,
    fit_linear_denoiser,
    fit_linear_denoisers,
    least_squares,
)
from engine.metrics import mse
from engine.nn import build_mlp
from engine.noise import LEVEL_NAMES, NoiseSetting, fixed_noisy
from engine.progress import Cancelled


def subspace_data(n: int, d: int, variances, seed: int):
    """x = mean + U s: (n, d) points on a known len(variances)-dimensional subspace, s ~ N(0, diag(variances))."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((d, len(variances))))  # (d, r) orthonormal
    mean = rng.uniform(0.3, 0.7, d)
    codes = rng.standard_normal((n, len(variances))) * np.sqrt(variances)
    return mean + codes @ basis.T, mean, basis


def expected_error(weights, bias, mean, basis, variances, sigma) -> float:
    """E ||A y + b − x||² / d for x = mean + U s, y = x + σ n (no clipping): exact, no sampling."""
    d = len(mean)
    residual = (weights - np.eye(d)) @ basis * np.sqrt(variances)  # (d, r)
    offset = (weights - np.eye(d)) @ mean + bias
    return float((np.sum(residual**2) + sigma**2 * np.sum(weights**2) + offset @ offset) / d)


def test_least_squares_finds_the_wiener_filter_for_data_on_a_subspace():
    variances, sigma, d = np.array([0.02, 0.01, 0.005, 0.002]), 0.1, 64
    clean, mean, basis = subspace_data(40000, d, variances, seed=0)
    noisy = clean + sigma * np.random.default_rng(1).standard_normal(clean.shape)
    chunks = ((noisy[lo : lo + 5000], clean[lo : lo + 5000]) for lo in range(0, len(clean), 5000))
    weights, bias = least_squares(chunks)
    wiener = basis @ np.diag(variances / (variances + sigma**2)) @ basis.T  # U diag(λ / (λ + σ²)) Uᵀ
    assert np.abs(weights - wiener).max() < 0.01
    assert np.abs(bias - (mean - wiener @ mean)).max() < 0.01
    best = float(np.sum(variances * sigma**2 / (variances + sigma**2)) / d)  # the Wiener filter's error
    assert expected_error(wiener, mean - wiener @ mean, mean, basis, variances, sigma) == pytest.approx(best)
    assert expected_error(weights, bias, mean, basis, variances, sigma) <= 1.01 * best


def test_a_linear_network_trained_to_convergence_reaches_the_same_map():
    """The engine's own training (fresh clipped noise every epoch) against the closed form (one draw)."""
    clean, _, _ = subspace_data(21000, 16, np.array([0.03, 0.015, 0.008]), seed=2)
    clean = np.clip(clean, 0, 1).astype(np.float32)
    train, test = clean[:20000], clean[20000:]
    fitted = fit_linear_denoiser(train, 0.3)
    network = build_mlp([16, 16], ["linear"], seed=0)
    network.fit(train, None, epochs=20, batch_size=100, lr=3e-3, optimizer="adam", noise=0.3, seed=0)
    network.fit(train, None, epochs=10, batch_size=100, lr=3e-4, optimizer="adam", noise=0.3, seed=1)  # settle
    noisy = fixed_noisy(test, 0.3)
    closed_form = noisy @ fitted.weights.T + fitted.bias  # unclipped, as the network's linear output
    assert mse(network.predict(noisy), test) == pytest.approx(mse(closed_form, test), rel=0.01)
    assert mse(closed_form, test) < 0.5 * mse(noisy, test)  # and both denoise: far below the noisy input
    dense = network.layers[0]
    assert np.abs(dense.W - fitted.weights).max() < 0.02 and np.abs(dense.b - fitted.bias).max() < 0.02


def test_the_denoiser_clips_to_the_pixel_range_and_says_how_it_was_fitted():
    denoiser = LinearDenoiser(2 * np.eye(4, dtype=np.float32), np.full(4, -0.25, np.float32),
                              NoiseSetting("gaussian", 0.3, 0.3), 60000)  # fmt: skip
    out = denoiser(np.array([[0.0, 0.2, 0.5, 0.9]], np.float32))
    np.testing.assert_allclose(out, [[0.0, 0.15, 0.75, 1.0]])
    assert denoiser.setting == "fitted at σ 0.3 on 60,000 training images"
    ranged = LinearDenoiser(denoiser.weights, denoiser.bias, NoiseSetting("masking", 0.0, 0.5), 100)
    assert ranged.setting == "fitted at fraction 0–0.5 on 100 training images"


@pytest.mark.parametrize("kind", list(LEVEL_NAMES))
def test_at_no_noise_the_best_map_is_the_identity_exactly_with_no_sums(kind, monkeypatch):
    """Level 0 of every curve: nothing to undo, so the identity (error 0) — not a ridge-blurred fit that costs a
    second of products on 60,000 images."""

    def refuse(*args):
        raise AssertionError("moments summed for a level with no noise")

    monkeypatch.setattr(Moments, "add", refuse)
    clean = np.random.default_rng(5).random((300, 16)).astype(np.float32)
    for exact in (fit_linear_denoiser(clean, 0.0, kind), *fit_linear_denoisers(clean, [0.0, 0.0], kind)):
        assert mse(exact(clean), clean) == 0 and exact.noise == NoiseSetting(kind, 0.0, 0.0) and exact.n_fit == 300
        assert "identity" in exact.setting


def test_a_range_fit_is_its_own_map():
    variances = np.array([0.04, 0.03, 0.02, 0.015, 0.01, 0.005])
    clean = np.clip(subspace_data(6000, 36, variances, seed=3)[0], 0, 1)
    train, test = clean[:5000], clean[5000:]
    one_level, ranged = fit_linear_denoiser(train, 0.1), fit_linear_denoiser(train, (0.0, 0.8))
    assert ranged.noise == NoiseSetting("gaussian", 0.0, 0.8) and one_level.noise == NoiseSetting("gaussian", 0.1, 0.1)
    noisy = fixed_noisy(test, 0.1)
    assert mse(one_level(noisy), test) < 0.9 * mse(ranged(noisy), test)  # each is best for the noise it saw
    assert mse(ranged(noisy), test) < mse(noisy, test)


def test_the_fit_reports_progress_and_stops_when_cancelled():
    clean = np.random.default_rng(4).uniform(0, 1, (9000, 16)).astype(np.float32)  # three chunks
    seen: list[float] = []
    fit_linear_denoiser(clean, 0.2, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) == 3
    calls = []

    def cancel_after_one() -> bool:
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(Cancelled):
        fit_linear_denoiser(clean, 0.2, cancelled=cancel_after_one)


@pytest.mark.parametrize(("kind", "levels"), [("gaussian", [0.0, 0.05, 0.4, 1.0]), ("salt_and_pepper", [0.1, 0.3])])
def test_fitting_several_levels_in_one_pass_gives_each_levels_own_fit_exactly(kind, levels, monkeypatch):
    """The app's curve fits every level at once (one noise draw a chunk, scaled): bit for bit the fits one level at
    a time give, over several chunks (the draw of each chunk is its own)."""
    from engine import linear_denoiser

    clean = (np.random.default_rng(3).random((700, 16)) < 0.3) * np.random.default_rng(4).random((700, 16))
    monkeypatch.setattr(linear_denoiser, "FIT_CHUNK", 256)  # three chunks
    many = fit_linear_denoisers(clean, levels, kind)
    for level, fitted in zip(levels, many, strict=True):
        one = fit_linear_denoiser(clean, level, kind)
        np.testing.assert_array_equal(fitted.weights, one.weights)
        np.testing.assert_array_equal(fitted.bias, one.bias)
        assert fitted.noise == one.noise and fitted.n_fit == 700
