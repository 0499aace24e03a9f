"""Optimizer steps against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from engine.optimizers import SGD, Adam, get_optimizer


def test_sgd_without_momentum_is_plain_gradient_descent():
    p = np.array([1.0, -2.0], np.float32)
    SGD(lr=0.1, momentum=0.0).step(p, np.array([0.5, -1.0], np.float32))
    np.testing.assert_allclose(p, [0.95, -1.9], rtol=1e-6)


def test_sgd_momentum_two_steps_by_hand():
    p = np.array([1.0], np.float32)
    opt = SGD(lr=0.1, momentum=0.9)
    opt.step(p, np.array([1.0], np.float32))  # v = 1, p = 1 - 0.1 = 0.9
    assert p[0] == pytest.approx(0.9)
    opt.step(p, np.array([1.0], np.float32))  # v = 0.9 + 1 = 1.9, p = 0.9 - 0.19 = 0.71
    assert p[0] == pytest.approx(0.71)


def test_adam_first_step_moves_each_parameter_by_lr():
    # Step 1: m_hat = g, v_hat = g^2, so the update is lr * g / (|g| + eps) = lr * sign(g).
    p = np.array([0.5, 0.5], np.float32)
    Adam(lr=0.01).step(p, np.array([3.0, -0.2], np.float32))
    np.testing.assert_allclose(p, [0.49, 0.51], rtol=1e-5)


def test_adam_second_step_by_hand():
    b1, b2, lr, eps = 0.9, 0.999, 0.1, 1e-8
    g1, g2 = 1.0, 3.0
    m = (1 - b1) * g1
    v = (1 - b2) * g1**2
    p = 0.0 - lr * (m / (1 - b1)) / (np.sqrt(v / (1 - b2)) + eps)
    m = b1 * m + (1 - b1) * g2
    v = b2 * v + (1 - b2) * g2**2
    p = p - lr * (m / (1 - b1**2)) / (np.sqrt(v / (1 - b2**2)) + eps)
    param = np.zeros(1, np.float64)
    opt = Adam(lr=lr, beta1=b1, beta2=b2, eps=eps)
    opt.step(param, np.array([g1]))
    opt.step(param, np.array([g2]))
    assert param[0] == pytest.approx(p, rel=1e-9)


def test_adam_state_round_trip_continues_identically():
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((4, 6)).astype(np.float32)
    a, p_a = Adam(lr=0.01), np.zeros(6, np.float32)
    for g in grads:
        a.step(p_a, g.copy())
    b, p_b = Adam(lr=0.01), np.zeros(6, np.float32)
    for g in grads[:2]:
        b.step(p_b, g.copy())
    c = Adam(lr=0.01)
    c.load_state_dict({k: np.array(v) for k, v in b.state_dict().items()})
    for g in grads[2:]:
        c.step(p_b, g.copy())
    np.testing.assert_array_equal(p_a, p_b)


def test_unknown_optimizer_and_bad_lr_are_named():
    with pytest.raises(ValueError, match="allowed: sgd, adam"):
        get_optimizer("rmsprop", 0.1)
    with pytest.raises(ValueError, match="learning rate"):
        Adam(lr=-1)
