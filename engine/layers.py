"""Dense (fully connected) layer: forward and backward side by side.

Storage follows the seed's summary: ``W`` has shape ``(n_out, n_in)`` and ``b`` shape
``(n_out,)``.  ``z = x @ W.T + b`` costs no transpose copy: BLAS reads ``W.T`` as is.
Buffers for ``z`` and the input gradient are kept per batch size, so a training step
allocates nothing.
"""

from __future__ import annotations

import numpy as np

from engine.activations import Activation, get_activation
from engine.initializers import default_initializer


def _check_width(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


class Dense:
    """A fully connected layer followed by an activation.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths.
    activation : str or Activation, default "linear"
        ``"relu"``, ``"sigmoid"``, ``"tanh"``, ``"leaky_relu"`` or ``"linear"``.
    seed : int or numpy Generator, optional
        Seeds the He/Glorot initialisation.
    dtype : float32 by default; float64 for gradient checks.
    weights : (W (n_out, n_in), b (n_out,)), optional
        Start from copies of these instead of a random initialisation (copying a model draws
        no random numbers: a model's copy costs a memory copy, not an initialisation).
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: str | Activation | None = "linear",
        *,
        seed: int | np.random.Generator | None = None,
        dtype: type = np.float32,
        weights: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.n_in = _check_width("n_in", n_in)
        self.n_out = _check_width("n_out", n_out)
        self.activation = get_activation(activation)
        self.dtype = np.dtype(dtype)
        if weights is None:
            rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
            init = default_initializer(self.activation.key)
            self.W = init(rng, self.n_in, self.n_out, self.dtype)  # (n_out, n_in)
            self.b = np.zeros(self.n_out, dtype=self.dtype)  # (n_out,)
        else:
            self.W, self.b = self._given(weights)
        self.grad_W = np.zeros_like(self.W)
        self.grad_b = np.zeros_like(self.b)
        self._x: np.ndarray | None = None
        self._buffers: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _given(self, weights) -> tuple[np.ndarray, np.ndarray]:
        """Copies of given (W, b), checked against the layer's shape."""
        W, b = (np.array(a, dtype=self.dtype) for a in weights)
        if W.shape != (self.n_out, self.n_in) or b.shape != (self.n_out,):
            raise ValueError(
                f"weights must be W of shape ({self.n_out}, {self.n_in}) and b of shape ({self.n_out},), "
                f"got {W.shape} and {b.shape}"
            )
        return W, b

    @property
    def n_params(self) -> int:
        return self.W.size + self.b.size

    def _buffers_for(self, batch: int) -> tuple[np.ndarray, np.ndarray]:
        """(z: (batch, n_out), grad_x: (batch, n_in)), made once per batch size."""
        bufs = self._buffers.get(batch)
        if bufs is None:
            if len(self._buffers) > 4:  # a last short batch, an eval batch: keep a few
                self._buffers.clear()
            bufs = (
                np.empty((batch, self.n_out), self.dtype),
                np.empty((batch, self.n_in), self.dtype),
            )
            self._buffers[batch] = bufs
        return bufs

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """x: (batch, n_in) -> a: (batch, n_out).

        With ``training=True`` the result lives in a reused buffer and ``x`` is cached for
        ``backward``; with ``training=False`` a fresh array is returned and nothing cached.
        """
        if training:
            z = np.matmul(x, self.W.T, out=self._buffers_for(x.shape[0])[0])
            self._x = x
        else:
            z = x @ self.W.T
        z += self.b
        return self.activation.forward(z)

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """grad_out: dL/da (batch, n_out), may be overwritten -> dL/dx (batch, n_in).

        Fills ``grad_W`` (n_out, n_in) and ``grad_b`` (n_out,).  The first layer passes
        ``need_input_grad=False`` and skips the largest product.
        """
        x = self._x
        if x is None:
            raise RuntimeError("Dense.backward called before forward(training=True)")
        g_z = self.activation.backward(grad_out)  # (batch, n_out)
        np.matmul(g_z.T, x, out=self.grad_W)  # (n_out, batch) @ (batch, n_in)
        np.sum(g_z, axis=0, out=self.grad_b)
        if not need_input_grad:
            return None
        return np.matmul(g_z, self.W, out=self._buffers_for(x.shape[0])[1])

    def release_buffers(self) -> None:
        """Drop what training cached (batch buffers, the last input and output): a trained model
        kept in the app should not hold tens of MB of scratch space."""
        self._buffers.clear()
        self._x = None
        self.activation.out = None

    def spec(self) -> dict:
        """The JSON description stored in model files."""
        spec = {"type": "Dense", "n_in": self.n_in, "n_out": self.n_out, "activation": self.activation.key}
        alpha = getattr(self.activation, "alpha", None)
        if alpha is not None:
            spec["alpha"] = alpha
        return spec

    def __repr__(self) -> str:
        return f"Dense({self.n_in}, {self.n_out}, activation={self.activation.key!r})"
