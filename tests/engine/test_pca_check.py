"""The walkthrough's claim checked: a linear autoencoder learns PCA's subspace and error."""

from __future__ import annotations

import numpy as np
import pytest

from engine.baselines import fit_pca, pca_variances
from engine.dataset import read_split
from engine.nn import build_mlp
from engine.pca import principal_axes
from engine.pca_check import (
    PcaCheck,
    decoder_matrix,
    describe,
    directions_found,
    has_linear_decoder,
    is_linear,
    pca_check,
    pca_reference,
    training_noise,
)


def blobs(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    for img in images:
        r, c = rng.integers(2, 16, size=2)
        img[r : r + rng.integers(4, 10), c : c + rng.integers(3, 9)] = rng.integers(120, 256)
    return images.reshape(n, 784)


def test_a_linear_autoencoder_trained_on_clean_mnist_learns_pca(real_mnist_dir):
    """The issue's set-up: 784-10-784, identity activations, Adam lr 1e-3, batch 128, clean images, 10 epochs."""
    train, _ = read_split("train", data_dir=real_mnist_dir, progress=False)
    test, _ = read_split("test", data_dir=real_mnist_dir, progress=False)
    net = build_mlp([784, 10, 784], ["linear", "linear"], seed=0)
    before = pca_check(net, train, test)
    assert before.cosines.min() < 0.5 and before.excess > 0.5  # random directions: far from PCA
    net.fit(train, None, epochs=10, batch_size=128, lr=1e-3, optimizer="adam", noise=0.0, seed=0)
    after = pca_check(net, train, test)
    assert after.model_mse <= 1.02 * after.pca_mse, describe(after)
    assert after.cosines.min() >= 0.98, after.cosines


def test_a_decoder_set_to_pcas_axes_scores_pcas_projection_exactly():
    """Encoder = PCA's projection, decoder = its axes: cosines 1 and the same test MSE, PCA not clipped."""
    train, test, k = blobs(300, 0), blobs(60, 1), 6
    pca = fit_pca(train, k)
    net = build_mlp([784, k, 784], ["linear", "linear"], seed=0)
    enc, dec = net.layers
    enc.W[...] = pca.components  # (k, 784)
    enc.b[...] = -pca.components @ pca.mean
    dec.W[...] = pca.components.T  # (784, k)
    dec.b[...] = pca.mean
    check = pca_check(net, train, test)
    np.testing.assert_allclose(check.cosines, 1.0, atol=1e-5)
    assert check.model_mse == pytest.approx(check.pca_mse, rel=1e-5)
    assert np.any(net.predict(test) < 0)  # the projection leaves [0, 1]: a clipped PCA would score lower


def test_the_decoder_matrix_draws_what_a_deep_linear_decoder_draws():
    net = build_mlp([784, 32, 8, 32, 784], ["relu", "linear", "linear", "linear"], seed=3)
    rng = np.random.default_rng(0)
    net.layers[2].b[...] = rng.normal(size=32)
    net.layers[3].b[...] = rng.normal(size=784)
    matrix = decoder_matrix(net)
    assert matrix.shape == (784, 8)
    codes = rng.normal(size=(5, 8)).astype(np.float32)
    offset = net.decode(np.zeros((1, 8), np.float32))
    np.testing.assert_allclose(net.decode(codes), codes @ matrix.T + offset, rtol=1e-4, atol=1e-4)
    assert has_linear_decoder(net) and not is_linear(net)


def test_a_nonlinear_decoder_is_refused_with_a_reason():
    net = build_mlp([784, 10, 784], ["relu", "sigmoid"], seed=0)
    assert not has_linear_decoder(net)
    with pytest.raises(ValueError, match="layer 2 uses Sigmoid"):
        decoder_matrix(net)
    with pytest.raises(ValueError, match="not linear"):
        pca_check(net, blobs(20, 0), blobs(5, 1))


def test_a_linear_network_with_a_skip_path_is_no_linear_autoencoder():
    """Its output adds (a gated share of) the input to what the code draws: PCA's subspace is not the comparison."""
    for kind in ("residual", "gate"):
        net = build_mlp([784, 10, 784], ["linear", "linear"], seed=0, skip=kind)
        assert not has_linear_decoder(net) and not is_linear(net)


def test_pca_variances_are_the_variances_along_the_axes_in_unit_pixels():
    train = blobs(200, 2)
    _, _, variances = principal_axes(train / 255.0)
    np.testing.assert_allclose(pca_variances(train), variances, rtol=1e-6, atol=1e-12)
    reference = pca_reference(train, 4)
    assert reference.variances.shape == (5,)
    assert reference.gap == pytest.approx(variances[3] / variances[4])


def check_with(cosines, model_mse=0.0342, pca_mse=0.0341, variances=(5.0, 4.0, 3.0, 2.2, 2.0), noise=None):
    reference = pca_reference(blobs(50, 3), len(cosines))
    reference = type(reference)(reference.pca, np.array(variances[: len(cosines) + 1]))
    return PcaCheck(np.array(cosines), model_mse, pca_mse, reference, noise)


def test_a_direction_counts_as_found_from_cos_098():
    assert directions_found(np.array([1.0, 0.98, 0.9799, 0.2])) == 2


def test_the_sentence_says_what_the_numbers_say():
    found = describe(check_with([1.0, 0.999, 0.998, 0.995]))
    assert "All 4 directions match" in found and "0.29\u00a0% above PCA's" in found
    turning = describe(check_with([1.0, 0.999, 0.998, 0.75]))
    assert "3 of 4 directions" in turning and "0.75" in turning and "direction 4" in turning and "ratio 1.10" in turning
    assert "ratio" not in describe(check_with([1.0, 0.999, 0.998, 0.75], variances=(5.0, 4.0, 3.0, 2.2, 1.0)))
    far = describe(check_with([0.3, 0.2, 0.1, 0.05], model_mse=0.1))
    assert "still far" in far and "σ = 0" in far
    below = describe(check_with([1.0, 1.0, 1.0, 1.0], model_mse=0.0340))
    assert "below" in below
    shrunk = describe(check_with([1.0, 1.0, 1.0, 0.999], model_mse=0.0379, noise="σ = 0.30"))
    assert "noisy images (σ = 0.30)" in shrunk and "11.14\u00a0% above" in shrunk
    assert "noisy" not in describe(check_with([1.0, 1.0, 1.0, 0.999], model_mse=0.0342, noise="σ = 0.30"))
    not_yet = describe(check_with([1.0, 1.0, 1.0, 0.999], model_mse=0.0379))
    assert "not yet" in not_yet and "learned PCA" not in not_yet


def test_the_check_knows_the_noise_the_model_trained_on():
    train, test = blobs(80, 4), blobs(20, 5)
    net = build_mlp([784, 3, 784], ["linear", "linear"], seed=0)
    assert pca_check(net, train, test).noise is None  # the file does not say
    net.fit(train, None, epochs=1, batch_size=16, noise=0.2, seed=0)
    assert pca_check(net, train, test).noise == "σ = 0.20"
    net.fit(train, None, epochs=1, batch_size=16, noise=(0.0, 0.8), seed=0)
    assert training_noise(net) == "σ from 0.00 to 0.80"
    net.fit(train, None, epochs=1, batch_size=16, noise=0.3, noise_kind="masking", seed=0)
    assert training_noise(net) == "masking noise at 0.30"
    net.fit(train, None, epochs=1, batch_size=16, noise=0.0, seed=0)
    assert training_noise(net) is None  # clean images
