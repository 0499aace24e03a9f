"""Activation functions, each with its forward and backward side by side.

Every activation works in place on the buffer it is given: the Dense layer owns its
pre-activation buffer ``z`` and its upstream-gradient buffer, so overwriting them costs
nothing and saves an allocation per batch on the hot path.  The derivative is written in
terms of the cached *output* where that is possible (ReLU, Sigmoid, Tanh), so no copy of
``z`` is kept.
"""

from __future__ import annotations

import numpy as np


class Activation:
    """Base class: ``forward(z)`` returns ``a = f(z)``; ``backward(g)`` returns ``g * f'(z)``.

    Both may overwrite their argument and return it.  ``forward`` must be called before
    ``backward``; the activation keeps a reference to its output.
    """

    name = "Activation"
    key = "activation"

    def __init__(self) -> None:
        self.out: np.ndarray | None = None
        self.spare: np.ndarray | None = None  # scratch for a derivative, kept from batch to batch

    def _spare(self, like: np.ndarray) -> np.ndarray:
        """A scratch array shaped like ``like``, made once and reused while batches keep their shape."""
        spare = self.spare
        if spare is None or spare.shape != like.shape or spare.dtype != like.dtype:
            spare = self.spare = np.empty_like(like)
        return spare

    def forward(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Linear(Activation):
    """Identity: f(z) = z."""

    name = "Linear"
    key = "linear"

    def forward(self, z: np.ndarray) -> np.ndarray:
        self.out = z
        return z

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out


class ReLU(Activation):
    """f(z) = max(z, 0); f'(z) = 1 where the output is positive."""

    name = "ReLU"
    key = "relu"

    def forward(self, z: np.ndarray) -> np.ndarray:
        # clip(z, 0, inf) is branch-free: several times faster than np.maximum on signed data.
        self.out = np.clip(z, z.dtype.type(0), z.dtype.type(np.inf), out=z)
        return self.out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # Multiplying by a bool mask keeps the gradient's dtype (float32 stays float32).
        np.multiply(grad_out, self.out > 0, out=grad_out)
        return grad_out


class LeakyReLU(Activation):
    """f(z) = z for z > 0, alpha * z otherwise."""

    name = "LeakyReLU"
    key = "leaky_relu"

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        if not 0 < alpha < 1:
            raise ValueError(f"LeakyReLU alpha must be in (0, 1), got {alpha!r}")
        self.alpha = float(alpha)

    def forward(self, z: np.ndarray) -> np.ndarray:
        # alpha * z where z <= 0; since 0 < alpha < 1 that is max(z, alpha * z).
        self.out = np.maximum(z, z * z.dtype.type(self.alpha), out=z)
        return self.out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        slope = np.where(self.out > 0, 1.0, self.alpha).astype(grad_out.dtype, copy=False)
        np.multiply(grad_out, slope, out=grad_out)
        return grad_out

    def __repr__(self) -> str:
        return f"LeakyReLU(alpha={self.alpha})"


class Sigmoid(Activation):
    """f(z) = 1 / (1 + exp(-z)), computed as 0.5 * (1 + tanh(z / 2)): stable and one ufunc."""

    name = "Sigmoid"
    key = "sigmoid"

    def forward(self, z: np.ndarray) -> np.ndarray:
        half = z.dtype.type(0.5)
        np.multiply(z, half, out=z)
        np.tanh(z, out=z)
        z += 1
        z *= half
        self.out = z
        return z

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        s = self.out
        slope = np.subtract(s.dtype.type(1), s, out=self._spare(s))
        slope *= s  # s (1 - s), in a kept buffer: no batch-sized temporary
        grad_out *= slope
        return grad_out


class Tanh(Activation):
    """f(z) = tanh(z); f'(z) = 1 - tanh(z)^2."""

    name = "Tanh"
    key = "tanh"

    def forward(self, z: np.ndarray) -> np.ndarray:
        self.out = np.tanh(z, out=z)
        return self.out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        slope = np.multiply(self.out, self.out, out=self._spare(self.out))
        np.subtract(slope.dtype.type(1), slope, out=slope)  # 1 - tanh^2
        grad_out *= slope
        return grad_out


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.key: cls for cls in (Linear, ReLU, LeakyReLU, Sigmoid, Tanh)
}
_ALIASES = {"identity": "linear", "none": "linear", "leakyrelu": "leaky_relu"}


def get_activation(spec: str | Activation | None) -> Activation:
    """A fresh activation from a name (``"relu"``, ``"Sigmoid"``, ...) or an instance."""
    if spec is None:
        return Linear()
    if isinstance(spec, Activation):
        return type(spec)() if not isinstance(spec, LeakyReLU) else LeakyReLU(spec.alpha)
    if not isinstance(spec, str):
        raise TypeError(f"activation must be a name or an Activation, got {type(spec).__name__}")
    key = spec.strip().lower().replace("-", "_")
    key = _ALIASES.get(key.replace("_", ""), key) if key not in ACTIVATIONS else key
    if key not in ACTIVATIONS:
        allowed = ", ".join(sorted(ACTIVATIONS))
        raise ValueError(f"unknown activation {spec!r}; allowed: {allowed}")
    return ACTIVATIONS[key]()
