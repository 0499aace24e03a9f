"""Central finite-difference checks (float64) for every activation, loss, Dense and a whole MLP."""

from __future__ import annotations

import numpy as np
import pytest

from engine.activations import ACTIVATIONS, get_activation
from engine.layers import Dense
from engine.losses import MSE, BinaryCrossEntropy
from engine.nn import MLP

EPS = 1e-6


def numeric_grad(f, x: np.ndarray) -> np.ndarray:
    """d f(x) / dx by central differences, one element at a time (x is perturbed in place and restored)."""
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + EPS
        up = f()
        flat[i] = old - EPS
        down = f()
        flat[i] = old
        gflat[i] = (up - down) / (2 * EPS)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def away_from_kink(rng, shape):
    """Inputs not within 1e-3 of zero, where ReLU-like derivatives jump."""
    z = rng.standard_normal(shape)
    return np.where(np.abs(z) < 1e-3, 0.5, z)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_backward_matches_finite_differences(name):
    rng = np.random.default_rng(1)
    z = away_from_kink(rng, (4, 7))
    upstream = rng.standard_normal((4, 7))
    act = get_activation(name)

    def loss():
        return float(np.sum(get_activation(name).forward(z.copy()) * upstream))

    expected = numeric_grad(loss, z)
    act.forward(z.copy())
    got = act.backward(upstream.copy())
    assert got.dtype == np.float64
    assert rel_error(got, expected) < 1e-6


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_keeps_float32(name):
    z = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    act = get_activation(name)
    a = act.forward(z.copy())
    g = act.backward(np.ones_like(z))
    assert a.dtype == np.float32 and g.dtype == np.float32


def test_activation_values_against_definitions():
    z = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(get_activation("relu").forward(z.copy()), np.maximum(z, 0))
    np.testing.assert_allclose(get_activation("sigmoid").forward(z.copy()), 1 / (1 + np.exp(-z)), rtol=1e-12)
    np.testing.assert_allclose(get_activation("tanh").forward(z.copy()), np.tanh(z))
    np.testing.assert_allclose(get_activation("leaky_relu").forward(z.copy()), np.where(z > 0, z, 0.01 * z))
    np.testing.assert_allclose(get_activation("linear").forward(z.copy()), z)


@pytest.mark.parametrize("loss_cls", [MSE, BinaryCrossEntropy])
def test_loss_gradient_matches_finite_differences(loss_cls):
    rng = np.random.default_rng(2)
    pred = rng.uniform(0.05, 0.95, (3, 5))
    target = rng.uniform(0, 1, (3, 5))
    loss = loss_cls()
    expected = numeric_grad(lambda: loss.value(pred, target), pred)
    value, got = loss.value_and_grad(pred, target)
    assert value == pytest.approx(loss.value(pred, target))
    assert rel_error(got, expected) < 1e-6


def test_mse_and_bce_values():
    pred = np.array([[0.2, 0.9]])
    target = np.array([[0.0, 1.0]])
    assert MSE().value(pred, target) == pytest.approx((0.04 + 0.01) / 2)
    assert BinaryCrossEntropy().value(pred, target) == pytest.approx(-(np.log(0.8) + np.log(0.9)) / 2)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_dense_gradients_for_weights_biases_and_input(activation):
    rng = np.random.default_rng(3)
    layer = Dense(6, 4, activation, seed=4, dtype=np.float64)
    layer.b[:] = rng.standard_normal(4) * 0.1
    x = rng.standard_normal((5, 6))
    upstream = rng.standard_normal((5, 4))

    def loss():
        return float(np.sum(layer.forward(x, training=False) * upstream))

    expected_w = numeric_grad(loss, layer.W)
    expected_b = numeric_grad(loss, layer.b)
    expected_x = numeric_grad(loss, x)
    layer.forward(x)
    grad_x = layer.backward(upstream.copy())
    assert rel_error(layer.grad_W, expected_w) < 1e-5
    assert rel_error(layer.grad_b, expected_b) < 1e-5
    assert rel_error(grad_x, expected_x) < 1e-5


def test_whole_mlp_gradient_with_mse():
    rng = np.random.default_rng(5)
    net = MLP(
        [
            Dense(8, 5, "tanh", seed=1, dtype=np.float64),
            Dense(5, 3, "leaky_relu", seed=2, dtype=np.float64),
            Dense(3, 8, "sigmoid", seed=3, dtype=np.float64),
        ]
    )
    x = rng.uniform(0, 1, (4, 8))
    loss = MSE()
    expected = numeric_grad(lambda: loss.value(net.forward(x, training=False), x), net.params)
    _, grad = loss.value_and_grad(net.forward(x), x)
    net.backward(grad.copy())
    assert rel_error(net.grads, expected) < 1e-5


@pytest.mark.parametrize("loss_cls", [MSE, BinaryCrossEntropy])
def test_a_loss_weighted_per_image_matches_finite_differences(loss_cls):
    rng = np.random.default_rng(6)
    pred = rng.uniform(0.05, 0.95, (3, 5))
    target = rng.uniform(0, 1, (3, 5))
    weights = np.array([0.2, 1.0, 3.0])
    loss = loss_cls()
    expected = numeric_grad(lambda: loss.value(pred, target, weights), pred)
    value, got = loss.value_and_grad(pred, target, weights=weights)
    assert rel_error(got, expected) < 1e-6
    plain = [loss.value(pred[i : i + 1], target[i : i + 1]) for i in range(3)]
    assert value == pytest.approx(np.dot(weights, plain) / 3)  # each image's own loss, weighted


@pytest.mark.parametrize(("skip", "last"), [("gate", "sigmoid"), ("residual", "linear")])
def test_whole_mlp_gradient_through_a_skip_path(skip, last):
    """Every weight, the gate's too, against central differences; the target is off the inputs so the
    gate and the residual's clip both matter (some residual sums land outside [0, 1])."""
    rng = np.random.default_rng(7)
    net = MLP([Dense(8, 5, "tanh", seed=1, dtype=np.float64), Dense(5, 8, last, seed=3, dtype=np.float64)], skip=skip)
    net.params[:] += rng.standard_normal(net.params.size) * 0.3
    x = rng.uniform(0, 1, (4, 8))
    target = rng.uniform(0, 1, (4, 8))
    weights = rng.uniform(0.5, 2.0, 4)
    loss = MSE()
    expected = numeric_grad(lambda: loss.value(net.forward(x, training=False), target, weights), net.params)
    out = net.forward(x)
    if skip == "residual":
        assert np.any(out == 0) or np.any(out == 1)  # the clip is exercised
    _, grad = loss.value_and_grad(out, target, weights=weights)
    net.backward(grad.copy())
    assert rel_error(net.grads, expected) < 1e-5
    assert np.abs(net.grads[-8:]).max() > 1e-3  # the last parameters (the gate's biases) learn
