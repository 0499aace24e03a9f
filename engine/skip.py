"""Skip paths: the model's output built from its input ``x`` and its network's output ``c``.

A plain network must carry every detail of a lightly noised digit through its hidden layers to
draw it again; a skip path hands the input itself to the output, so the network only decides what
to change.  Two kinds, each forward and backward side by side:

- ``gate`` (``GatedSkip``): a learned per-pixel gate ``g = sigmoid(W h + b)`` read from the last
  hidden layer ``h`` mixes the input and the network's image: ``y = g * x + (1 - g) * c``.  With
  ``x`` and ``c`` in [0, 1] so is ``y``; where the input is to be trusted (light noise, on the
  strokes) ``g`` goes to 1, where it is not (heavy noise, the background) to 0.
- ``residual`` (``ResidualSkip``): the network draws a correction: ``y = clip(x + c, 0, 1)``
  (its last layer is linear, so ``c`` can be negative).

Arrays are (batch, n) float32; training keeps per-batch buffers, so a step allocates nothing.
"""

from __future__ import annotations

import numpy as np

from engine.layers import Dense
from engine.model_limits import SKIP_KINDS


class Skip:
    """Base class.  ``layers``: the skip's own Dense layers (their weights live in the model's
    parameter vector after the network's); ``forward`` then ``backward``, as a layer."""

    kind = "skip"
    name = "Skip"

    def __init__(self, n: int, dtype: type = np.float32) -> None:
        self.n, self.dtype = n, np.dtype(dtype)
        self.layers: list[Dense] = []
        self._buffers: dict[tuple[int, int], np.ndarray] = {}

    def forward(self, x: np.ndarray, h: np.ndarray, c: np.ndarray, training: bool = True) -> np.ndarray:
        """x: the model's input, h: the last hidden layer's output, c: the network's output -> y (batch, n)."""
        raise NotImplementedError

    def backward(self, grad_y: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """grad_y: dL/dy (batch, n), may be overwritten -> (dL/dc, dL/dh from the skip's own layers or None).

        The input's gradient is not returned: the input is data, not a parameter."""
        raise NotImplementedError

    def contribution(self, x: np.ndarray, h: np.ndarray) -> np.ndarray:
        """What the input itself brings to the output (batch, n): the part of ``y`` the skip hands over."""
        raise NotImplementedError

    def gate(self, h: np.ndarray) -> np.ndarray | None:
        """The gate for last hidden outputs h (batch, n): how much of the input each pixel takes; None without one."""
        return None

    def spec(self) -> dict:
        """The JSON description stored in model files."""
        return {"type": self.kind}

    def replica(self) -> Skip:
        """A skip of the same shape (its layers' arrays are rebound to the shared vector by the model)."""
        raise NotImplementedError

    def copy(self) -> Skip:
        """A skip holding the same weights (the model copies them into its own vector)."""
        raise NotImplementedError

    def release_buffers(self) -> None:
        self._buffers.clear()
        for layer in self.layers:
            layer.release_buffers()

    def _buffer(self, batch: int, slot: int = 0) -> np.ndarray:
        """A (batch, n) float32 scratch array, one per (batch size, slot), kept for the next step."""
        key = (batch, slot)
        buf = self._buffers.get(key)
        if buf is None:
            if len(self._buffers) > 8:  # a last short batch, an eval batch: keep a few
                self._buffers.clear()
            buf = self._buffers[key] = np.empty((batch, self.n), self.dtype)
        return buf


class GatedSkip(Skip):
    """``y = g * x + (1 - g) * c`` with ``g = sigmoid(W h + b)``: a learned per-pixel gate.

    n_hidden : width of the last hidden layer (the gate's input);  n : the image's pixels.
    The gate starts near ``g = 1/2`` everywhere (biases 0, weights small, as Glorot draws them).
    """

    kind = "gate"
    name = "Gate"

    def __init__(
        self,
        n_hidden: int,
        n: int,
        *,
        seed: int | np.random.Generator | None = None,
        dtype: type = np.float32,
    ) -> None:
        self._set_dense(Dense(n_hidden, n, "sigmoid", seed=seed, dtype=dtype))

    @classmethod
    def from_arrays(cls, W: np.ndarray, b: np.ndarray) -> GatedSkip:
        """A gate holding ``W`` (n, n_hidden) and ``b`` (n,) as given (a model file's), none drawn first."""
        skip = cls.__new__(cls)
        skip._set_dense(Dense.from_arrays(W, b, "sigmoid"))
        return skip

    def _set_dense(self, dense: Dense) -> None:
        Skip.__init__(self, dense.n_out, dense.dtype)
        self.layers = [dense]
        self._x = self._c = None

    @property
    def dense(self) -> Dense:
        return self.layers[0]

    def forward(self, x, h, c, training=True):
        g = self.dense.forward(h, training)  # (batch, n), a buffer when training
        if training:
            self._x, self._c = x, c
            y = np.subtract(x, c, out=self._buffer(len(x)))
        else:
            y = x - c
        y *= g
        y += c  # c + g (x - c)
        return y

    def backward(self, grad_y):
        x, c = self._x, self._c
        if x is None:
            raise RuntimeError("GatedSkip.backward called before forward(training=True)")
        g = self.dense.activation.out
        grad_g = np.subtract(x, c, out=self._buffer(len(x), 1))
        grad_g *= grad_y  # dL/dg = dL/dy * (x - c)
        grad_y -= np.multiply(grad_y, g, out=self._buffer(len(x), 2))  # dL/dc = dL/dy * (1 - g)
        grad_h = self.dense.backward(grad_g)
        return grad_y, grad_h

    def gate(self, h):
        return self.dense.forward(np.asarray(h, self.dense.dtype), training=False)

    def contribution(self, x, h):
        return self.gate(h) * x

    def spec(self):
        return {"type": self.kind, "n_in": self.dense.n_in, "n_out": self.n, "activation": "sigmoid"}

    def replica(self):
        return GatedSkip(self.dense.n_in, self.n, seed=0, dtype=self.dtype)

    def copy(self):
        return GatedSkip.from_arrays(self.dense.W, self.dense.b)

    def release_buffers(self):
        super().release_buffers()
        self._x = self._c = None


class ResidualSkip(Skip):
    """``y = clip(x + c, 0, 1)``: the network's output is a correction added to the input."""

    kind = "residual"
    name = "Residual"

    def __init__(self, n: int, dtype: type = np.float32) -> None:
        super().__init__(n, dtype)
        self._y = None

    def forward(self, x, h, c, training=True):
        if training:
            y = np.add(x, c, out=self._buffer(len(x)))
            self._y = y
        else:
            y = x + c
        # where the sum is outside [0, 1] the clip holds y still: no gradient reaches c there
        return np.clip(y, self.dtype.type(0), self.dtype.type(1), out=y)

    def backward(self, grad_y):
        y = self._y
        if y is None:
            raise RuntimeError("ResidualSkip.backward called before forward(training=True)")
        # y was clipped: 0 < y < 1 exactly where x + c was inside (a sum landing on 0 or 1 counts as clipped)
        inside = self._buffer(len(y), 1)
        half = self.dtype.type(0.5)
        np.subtract(y, half, out=inside)
        np.abs(inside, out=inside)
        np.less(inside, half, out=inside)  # |y - 1/2| < 1/2, as 1.0 or 0.0
        grad_y *= inside
        return grad_y, None

    def contribution(self, x, h):
        return np.array(x, self.dtype)

    def replica(self):
        return ResidualSkip(self.n, self.dtype)

    def copy(self):
        return ResidualSkip(self.n, self.dtype)

    def release_buffers(self):
        super().release_buffers()
        self._y = None


def make_skip(
    kind: str, n_hidden: int, n: int, seed: int | np.random.Generator | None = None, dtype: type = np.float32
) -> Skip:
    """A new skip of ``kind`` for a model whose last layer reads ``n_hidden`` values and whose images have
    ``n`` pixels."""
    if kind == "gate":
        return GatedSkip(n_hidden, n, seed=seed, dtype=dtype)
    if kind == "residual":
        return ResidualSkip(n, dtype)
    raise ValueError(f"unknown skip {kind!r}; allowed: {', '.join(SKIP_KINDS)}")
