"""Weight initialisation: He for rectifiers, Glorot for everything else.

PyTorch's default (uniform with bound 1/sqrt(n_in)) leaves several of the ten ReLU bottleneck
units of the 784-10-784 autoencoder dead from the start; He-normal keeps them alive.
"""

from __future__ import annotations

import numpy as np


def he_normal(rng: np.random.Generator, n_in: int, n_out: int, dtype=np.float32) -> np.ndarray:
    """W: (n_out, n_in) ~ N(0, 2 / n_in)."""
    return (rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)).astype(dtype)


def glorot_uniform(rng: np.random.Generator, n_in: int, n_out: int, dtype=np.float32) -> np.ndarray:
    """W: (n_out, n_in) ~ U(-l, l) with l = sqrt(6 / (n_in + n_out))."""
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, (n_out, n_in)).astype(dtype)


def default_initializer(activation_key: str):
    """He for ReLU-like activations, Glorot otherwise."""
    return he_normal if activation_key in ("relu", "leaky_relu") else glorot_uniform
