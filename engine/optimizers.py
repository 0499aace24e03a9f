"""Optimizers over one flat parameter vector, updated in place.

The model keeps every weight and bias as a view into one contiguous float32 vector, so an
Adam step is a handful of whole-vector ufuncs instead of a loop over arrays.  State is kept
by name in ``state_dict()`` so a checkpoint can resume exactly.
"""

from __future__ import annotations

import numpy as np


class Optimizer:
    name = "optimizer"

    def __init__(self, lr: float) -> None:
        self.lr = lr
        self.t = 0

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"learning rate must be a finite number > 0, got {value!r}")
        self._lr = float(value)

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        """params, grads: (n,) same dtype; params updated in place (grads may be overwritten)."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"t": np.array(self.t, dtype=np.int64)}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.t = int(state["t"])

    def config(self) -> dict:
        return {"name": self.name, "lr": self.lr}


class SGD(Optimizer):
    """v = momentum * v + g;  p -= lr * v  (plain SGD when momentum is 0)."""

    name = "sgd"

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)
        self.velocity: np.ndarray | None = None

    def step(self, params, grads):
        self.t += 1
        if self.momentum:
            if self.velocity is None:
                self.velocity = np.zeros_like(params)
            v = self.velocity
            v *= v.dtype.type(self.momentum)
            v += grads
            grads = v
        params -= params.dtype.type(self.lr) * grads

    def state_dict(self):
        state = super().state_dict()
        if self.velocity is not None:
            state["velocity"] = self.velocity
        return state

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.velocity = np.array(state["velocity"]) if "velocity" in state else None

    def config(self):
        return {**super().config(), "momentum": self.momentum}


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction folded into the step size."""

    name = "adam"

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.m: np.ndarray | None = None
        self.v: np.ndarray | None = None
        self._tmp: np.ndarray | None = None

    def step(self, params, grads):
        if self.m is None or self.m.shape != params.shape:
            self.m = np.zeros_like(params)
            self.v = np.zeros_like(params)
        if self._tmp is None or self._tmp.shape != params.shape:
            self._tmp = np.empty_like(params)
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        m, v, tmp = self.m, self.v, self._tmp
        f = params.dtype.type
        # m = b1 m + (1 - b1) g ;  v = b2 v + (1 - b2) g^2
        m *= f(b1)
        np.multiply(grads, f(1 - b1), out=tmp)
        m += tmp
        v *= f(b2)
        np.multiply(grads, grads, out=tmp)
        tmp *= f(1 - b2)
        v += tmp
        # p -= lr_t * m / (sqrt(v) + eps_t), the bias corrections moved onto lr and eps
        c1 = 1 - b1**self.t
        c2 = 1 - b2**self.t
        lr_t = self.lr * np.sqrt(c2) / c1
        np.sqrt(v, out=tmp)
        tmp += f(self.eps * np.sqrt(c2))
        np.divide(m, tmp, out=tmp)
        tmp *= f(lr_t)
        params -= tmp

    def state_dict(self):
        state = super().state_dict()
        if self.m is not None:
            state["m"], state["v"] = self.m, self.v
        return state

    def load_state_dict(self, state):
        super().load_state_dict(state)
        if "m" in state:
            self.m, self.v = np.array(state["m"]), np.array(state["v"])

    def config(self):
        return {**super().config(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


OPTIMIZERS = {"sgd": SGD, "adam": Adam}


def get_optimizer(name: str, lr: float, **kwargs) -> Optimizer:
    """An optimizer by name: ``"adam"`` or ``"sgd"`` (momentum via ``momentum=``)."""
    if not isinstance(name, str):
        raise TypeError(f"optimizer must be a name, got {type(name).__name__}")
    cls = OPTIMIZERS.get(name.strip().lower())
    if cls is None:
        raise ValueError(f"unknown optimizer {name!r}; allowed: {', '.join(OPTIMIZERS)}")
    if cls is Adam:
        kwargs.pop("momentum", None)
    return cls(lr=lr, **kwargs)
