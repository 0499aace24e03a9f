"""Salt-and-pepper and masking noise: the fraction of pixels they hit, what they set them to, and where they reach.

Statistics are measured on a mid-grey image (every pixel 0.5), where any pixel the noise hits
shows: masking turns it to 0, salt-and-pepper to 0 or 1.  With n pixels the measured fraction
has a standard error of sqrt(p (1 - p) / n); the tolerances are about five of those.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.dataset import Dataset
from engine.nn import build_mlp
from engine.noise import EpochNoise, NoiseSetting, add_noise, check_kind, fixed_noisy, training_noise
from engine.training import TrainConfig

GREY = np.float32(0.5)


def grey(n: int, n_pixels: int = 784) -> np.ndarray:
    return np.full((n, n_pixels), GREY, np.float32)


def epoch_of(noise: EpochNoise, n: int, n_pixels: int, bs: int) -> np.ndarray:
    """The noisy copies of a grey image for every batch of the epoch, stacked: (n, n_pixels)."""
    clean = grey(bs, n_pixels)
    out = np.empty_like(clean)
    parts = []
    for batch, start in enumerate(range(0, n, bs)):
        size = min(bs, n - start)
        parts.append(noise.apply(clean[:size], batch, out[:size]).copy())
    return np.concatenate(parts)


@pytest.mark.parametrize("p", [0.05, 0.3, 0.8])
def test_masking_sets_the_requested_fraction_of_pixels_to_zero_and_leaves_the_rest(p):
    noisy = fixed_noisy(grey(200), p, kind="masking")
    assert noisy.dtype == np.float32 and noisy.shape == (200, 784)
    assert set(np.unique(noisy)) <= {0.0, 0.5}
    hit = noisy == 0
    tolerance = 5 * np.sqrt(p * (1 - p) / hit.size)
    assert hit.mean() == pytest.approx(p, abs=tolerance)
    # every row and every column is reached alike (no band of the image is spared)
    assert hit.mean(axis=1).std() < 3 * np.sqrt(p * (1 - p) / 784)
    assert hit.mean(axis=0).std() < 3 * np.sqrt(p * (1 - p) / 200)


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_salt_and_pepper_hits_the_fraction_with_even_odds_of_black_and_white(p):
    noisy = fixed_noisy(grey(200), p, kind="salt_and_pepper")
    assert set(np.unique(noisy)) <= {0.0, 0.5, 1.0}
    hit = noisy != GREY
    n = hit.size
    assert hit.mean() == pytest.approx(p, abs=5 * np.sqrt(p * (1 - p) / n))
    white = (noisy == 1).sum() / hit.sum()
    assert white == pytest.approx(0.5, abs=5 * np.sqrt(0.25 / hit.sum()))


@pytest.mark.parametrize("kind", ["salt_and_pepper", "masking"])
def test_one_fixed_pattern_grows_with_the_level(kind):
    """Under one seed, the pixels hit at a level are among those hit at any higher level (a slider scales it)."""
    x = grey(4)
    low, high = fixed_noisy(x, 0.2, seed=3, kind=kind), fixed_noisy(x, 0.6, seed=3, kind=kind)
    hit_low, hit_high = low != GREY, high != GREY
    assert hit_low.sum() < hit_high.sum()
    assert np.all(hit_high[hit_low])
    assert np.array_equal(low[hit_low], high[hit_low])  # a pixel hit at both levels gets the same value


@pytest.mark.parametrize("kind", ["gaussian", "salt_and_pepper", "masking"])
def test_level_zero_leaves_the_images_unchanged(kind):
    x = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    assert np.array_equal(fixed_noisy(x, 0.0, kind=kind), x)


def test_the_gaussian_evaluation_draw_is_unchanged_by_the_new_kinds():
    """The fixed evaluation noise is what the shipped models' scores were measured under."""
    x = np.random.default_rng(1).random((3, 784), dtype=np.float32)
    expected = np.random.default_rng(20240531).standard_normal(x.shape, dtype=np.float32) * np.float32(0.3) + x
    assert np.array_equal(fixed_noisy(x, 0.3), np.clip(expected, 0, 1))
    assert np.array_equal(fixed_noisy(x, 0.3, kind="gaussian"), fixed_noisy(x, 0.3))


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: fixed_noisy(grey(1), 1.5, kind="masking"), ValueError, ["fraction", "between 0 and 1"]),
        (lambda: fixed_noisy(grey(1), -0.1, kind="salt_and_pepper"), ValueError, ["fraction", "between 0 and 1"]),
        (lambda: fixed_noisy(grey(1), 0.1, kind="speckle"), ValueError, ["noise_kind", "masking"]),
        (lambda: check_kind(3), TypeError, ["noise_kind", "string"]),
        (lambda: TrainConfig(noise=2.0, noise_kind="masking"), ValueError, ["fraction"]),
    ],
)
def test_bad_levels_and_kinds_are_named(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert all(w in str(info.value) for w in words), str(info.value)


def test_kind_names_accept_the_command_line_spelling():
    assert check_kind("salt-and-pepper") == "salt_and_pepper"
    assert TrainConfig(noise_kind="Salt-and-Pepper").noise_kind == "salt_and_pepper"


@pytest.mark.parametrize("kind, p", [("masking", 0.3), ("salt_and_pepper", 0.4)])
@pytest.mark.parametrize("n, bank_values", [(300, 1 << 20), (3000, 1 << 16)])
def test_training_bank_hits_the_fraction_in_every_batch(kind, p, n, bank_values):
    """Fresh values (small epoch) and a reused bank read forwards and reversed (large epoch) alike."""
    noise = EpochNoise(p, np.random.default_rng(4), n, 784, 128, bank_values=bank_values, kind=kind)
    noisy = epoch_of(noise, n, 784, 128)
    hit = noisy != GREY
    assert set(np.unique(noisy)) <= ({0.0, 0.5} if kind == "masking" else {0.0, 0.5, 1.0})
    for start in range(0, n, 128):  # each batch, whichever way its window was read
        rows = hit[start : start + 128]
        assert rows.mean() == pytest.approx(p, abs=5 * np.sqrt(p * (1 - p) / rows.size))
    if kind == "salt_and_pepper":
        assert (noisy == 1).sum() / hit.sum() == pytest.approx(0.5, abs=0.01)
    if bank_values < n * 784:
        assert 0 < noise.negate.mean() < 1  # both readings were exercised


def test_batches_and_evaluation_use_the_kind_they_are_given(tiny_mnist):
    data = Dataset(train_size=64, test_size=16, batch_size=16, seed=0)
    (noisy, clean), _ = next(data.batches(noise=0.5, noise_kind="masking"))
    assert np.all((noisy == clean) | (noisy == 0))
    assert ((noisy == 0) & (clean > 0)).sum() > 0.3 * (clean > 0).sum()

    model = build_mlp([784, 4, 784], ["relu", "sigmoid"])
    clean_all = data.test_images
    p = 0.25
    scores = model.evaluate(data, p, kind="masking")
    # masking zeroes a fraction p of the pixels: the noisy input's error is p * mean(x^2), in expectation
    expected = p * float(np.mean(clean_all.astype(np.float64) ** 2))
    assert scores["identity_mse"] == pytest.approx(expected, rel=0.1)
    assert scores["identity_mse"] != pytest.approx(model.evaluate(data, p)["identity_mse"], rel=0.1)


def test_a_model_file_says_what_noise_the_model_was_trained_with(tmp_path):
    model = build_mlp([16, 4, 16], ["relu", "sigmoid"])
    x = (np.random.default_rng(0).random((32, 16)) > 0.5).astype(np.float32)
    model.fit(x, epochs=1, batch_size=8, noise=(0.1, 0.6), noise_kind="salt-and-pepper")
    model.save(tmp_path / "m.npz")
    loaded = build_mlp([16, 4, 16], ["relu", "sigmoid"]).load(tmp_path / "m.npz", verbose=False)
    assert loaded.metadata["training"]["noise"] == [0.1, 0.6]
    assert loaded.metadata["training"]["noise_kind"] == "salt_and_pepper"
    setting = loaded.training_noise
    assert setting == NoiseSetting("salt_and_pepper", 0.1, 0.6)
    assert setting.is_range and setting.default_level == pytest.approx(0.35)
    assert setting.describe() == "salt-and-pepper, fraction 0.1–0.6"


def test_files_from_before_noise_kinds_read_as_gaussian_at_their_sigma():
    assert training_noise({"training": {"noise": 0.1, "epochs": 20}}) == NoiseSetting("gaussian", 0.1, 0.1)
    assert training_noise({}) is None
    assert training_noise({"training": {"noise": "loud"}}) is None
    assert NoiseSetting("gaussian", 0.0, 0.8).describe() == "Gaussian σ 0–0.8"


def test_each_epochs_validation_score_uses_the_runs_kind_at_its_level():
    model = build_mlp([16, 4, 16], ["relu", "sigmoid"])
    rng = np.random.default_rng(0)
    x, x_val = (rng.random((32, 16)) > 0.5).astype(np.float32), (rng.random((8, 16)) > 0.5).astype(np.float32)
    history = model.fit(x, x_val, epochs=1, batch_size=8, noise=(0.2, 0.6), noise_kind="masking")
    assert history.epochs[-1]["val_mse"] == model.evaluate(x_val, 0.4, kind="masking")["mse"]
    assert history.epochs[-1]["val_mse"] != model.evaluate(x_val, 0.4)["mse"]


def test_the_robustness_curve_scores_the_kind_it_is_given_and_names_its_level():
    from engine.robustness import describe, robustness_curve

    rng = np.random.default_rng(3)
    train, test = rng.integers(0, 256, (40, 784), dtype=np.uint8), rng.integers(0, 256, (10, 784), dtype=np.uint8)
    model = build_mlp([784, 4, 784], ["relu", "sigmoid"])
    levels = [0.0, 0.3, 0.6]
    curve = robustness_curve(model, train, test, levels, kind="masking")
    for i, p in enumerate(levels):
        scores = model.evaluate(test, p, kind="masking")
        assert curve.model[i] == pytest.approx(scores["mse"], rel=1e-6)
        assert curve.noisy_input[i] == pytest.approx(scores["identity_mse"], rel=1e-9)
    assert "fraction from 0 to 0.6" in describe(curve)


def test_baselines_are_scored_under_the_kind_they_are_given():
    from engine.baselines import baselines
    from engine.pca import PCA

    rng = np.random.default_rng(4)
    train, test = rng.integers(0, 256, (60, 784), dtype=np.uint8), rng.integers(0, 256, (12, 784), dtype=np.uint8)
    level = baselines(train, test, 0.3, 5, kind="salt_and_pepper")
    noisy = fixed_noisy(test / np.float32(255), 0.3, kind="salt_and_pepper")
    clean = test.astype(np.float64) / 255
    assert level.kind == "salt_and_pepper"
    assert level.noisy_input == pytest.approx(np.mean((noisy - clean) ** 2), rel=1e-6)
    pca = PCA(5).fit(train / np.float32(255))
    assert level.pca == pytest.approx(np.mean((pca.reconstruct(noisy) - clean) ** 2), rel=1e-4)
    assert level.noisy_input != pytest.approx(baselines(train, test, 0.3, 5).noisy_input, rel=1e-3)


@pytest.mark.parametrize("kind", ["gaussian", "salt_and_pepper", "masking"])
def test_a_noise_pattern_scaled_to_a_level_is_the_draw_add_noise_makes(kind):
    """One pattern, any level: bit for bit the noise a fresh generator with the same seed gives (no second draw)."""
    from engine.noise import NoisePattern

    x = np.random.default_rng(6).random((7, 784), dtype=np.float32)
    pattern = NoisePattern(x.shape, seed=11, kind=kind)
    for level in (0.0, 0.15, 0.6, 1.0):
        expected = add_noise(x, level, np.random.default_rng(11), kind=kind)
        assert np.array_equal(pattern.apply(x, level), expected), level
    with pytest.raises(ValueError, match="shape"):
        pattern.apply(x[:3], 0.1)
