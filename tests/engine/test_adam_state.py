"""Adam keeps its moments as weighted sums; the textbook m and v stay readable and loadable."""

from __future__ import annotations

import numpy as np

from engine.optimizers import Adam


def _run(opt: Adam, p: np.ndarray, grads: np.ndarray) -> None:
    for g in grads:
        opt.step(p, g.copy())


def test_moments_match_the_textbook_recurrences():
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((5, 7))
    opt, p = Adam(lr=0.01, beta1=0.8, beta2=0.99), np.zeros(7)
    _run(opt, p, grads)
    m, v = np.zeros(7), np.zeros(7)
    for g in grads:
        m = 0.8 * m + 0.2 * g
        v = 0.99 * v + 0.01 * g * g
    np.testing.assert_allclose(opt.m, m, rtol=1e-12)
    np.testing.assert_allclose(opt.v, v, rtol=1e-12)


def test_loading_textbook_moments_continues_the_run():
    rng = np.random.default_rng(1)
    grads = rng.standard_normal((6, 5))
    a, p_a = Adam(lr=0.01), np.zeros(5)
    _run(a, p_a, grads)
    b, p_b = Adam(lr=0.01), np.zeros(5)
    _run(b, p_b, grads[:3])
    c = Adam(lr=0.01)
    c.load_state_dict({"t": np.array(b.t), "m": b.m, "v": b.v})
    _run(c, p_b, grads[3:])
    np.testing.assert_allclose(p_b, p_a, rtol=1e-12)
