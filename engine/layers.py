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
from engine.model_limits import MAX_WIDTH


def _check_width(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    if value > MAX_WIDTH:
        raise ValueError(f"{name} must be at most {MAX_WIDTH} (the widest layer a model may have), got {value}")
    return int(value)


def _check_dtype(dtype: object) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dt not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dt}")
    return dt


def _check_seed(seed: object) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"seed must be an int >= 0, None or a numpy Generator, got {seed!r:.40}")
    if seed is not None and seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return np.random.default_rng(seed)


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
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: str | Activation | None = "linear",
        *,
        seed: int | np.random.Generator | None = None,
        dtype: type = np.float32,
    ) -> None:
        self.n_in = _check_width("n_in", n_in)
        self.n_out = _check_width("n_out", n_out)
        self.activation = get_activation(activation)
        self.dtype = _check_dtype(dtype)
        rng = _check_seed(seed)
        init = default_initializer(self.activation.key)
        self._set_weights(init(rng, self.n_in, self.n_out, self.dtype), np.zeros(self.n_out, dtype=self.dtype))

    @classmethod
    def from_arrays(cls, W: np.ndarray, b: np.ndarray, activation: str | Activation | None = "linear") -> Dense:
        """A layer holding ``W`` (n_out, n_in) and ``b`` (n_out,) float32 as given (no initialisation
        drawn: loading a large model should not first fill it with random numbers)."""
        layer = cls.__new__(cls)
        n_out, n_in = np.shape(W)
        layer.n_in, layer.n_out = _check_width("n_in", n_in), _check_width("n_out", n_out)
        if np.shape(b) != (n_out,):
            raise ValueError(f"b must have shape ({n_out},), got {np.shape(b)}")
        layer.activation = get_activation(activation)
        layer.dtype = np.dtype(np.float32)
        layer._set_weights(np.asarray(W, np.float32), np.asarray(b, np.float32))
        return layer

    def _set_weights(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W, self.b = W, b  # (n_out, n_in), (n_out,)
        self.grad_W = np.zeros(self.W.shape, self.W.dtype)  # (not zeros_like: np.zeros leaves untouched pages
        self.grad_b = np.zeros(self.b.shape, self.b.dtype)  # unwritten, and a model's own gradients replace these)
        self._x: np.ndarray | None = None
        self._buffers: dict[int, tuple[np.ndarray, np.ndarray]] = {}

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
        self.activation.out = self.activation.spare = None

    def spec(self) -> dict:
        """The JSON description stored in model files."""
        spec = {"type": "Dense", "n_in": self.n_in, "n_out": self.n_out, "activation": self.activation.key}
        alpha = getattr(self.activation, "alpha", None)
        if alpha is not None:
            spec["alpha"] = alpha
        return spec

    def __repr__(self) -> str:
        return f"Dense({self.n_in}, {self.n_out}, activation={self.activation.key!r})"
