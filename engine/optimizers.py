"""Optimizers over one flat parameter vector, updated in place.

The model keeps every weight and bias as a view into one contiguous float32 vector, so an
Adam step is a handful of whole-vector ufuncs instead of a loop over arrays.  State is kept
by name in ``state_dict()`` so a checkpoint can resume exactly.

``prepare_step`` returns the update as a function of a block ``(lo, hi)`` of the vector: it is
element-wise, so a training step may run blocks on several threads, in any order, with the same result.
The update runs block by block (``update_blocks``) so that the passes of one block over its arrays find
them in the core's cache rather than in main memory: Adam's ten passes over 435k parameters took 1.22 ms of
CPU over the whole vectors and 0.62 ms in blocks of 64k (one thread; docs/benchmarks.md, issue 34).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

UPDATE_BLOCK = 1 << 16
"""Parameters in one block of the update: the five float32 arrays of an Adam block (parameters, gradients, two
moments, scratch) take 1.3 MB, held in a core's L2 cache across the block's passes (blocks of 32k and 128k
were within 5 %; below 16k the ~0.6 us each NumPy call costs shows).  The result never depends on it: the
update is element-wise."""


def update_blocks(n: int, even: bool = False) -> list[int]:
    """Bounds ``[0, ..., n]`` of the blocks an update of ``n`` parameters runs in (``UPDATE_BLOCK`` at most
    each); ``even``: an even number of equal blocks, so two threads sharing them finish together."""
    count = max(1, -(-n // UPDATE_BLOCK))
    if even:
        count += count % 2
    return [n * i // count for i in range(count + 1)]


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
        update = self.prepare_step(params, grads)
        bounds = update_blocks(params.size)
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            update(lo, hi)

    def prepare_step(self, params: np.ndarray, grads: np.ndarray) -> Callable[[int, int], None]:
        """Count a step and return ``update(lo, hi)``, which updates ``params[lo:hi]``; call it on
        blocks covering the whole vector, each exactly once."""
        raise NotImplementedError

    @property
    def state_vectors(self) -> tuple[str, ...]:
        """The attributes holding per-parameter state, each (n_params,) once the first step made it."""
        return ()

    def place_state(self, arrays: dict[str, np.ndarray], copy_values: bool = True) -> None:
        """Keep each state vector named in ``arrays`` in the (n_params,) array given there, its values copied in
        (zeros before the first step made it) unless ``copy_values`` is False (the state is what the arrays hold):
        ``engine.steps.ProcessParallelStep`` keeps them in memory shared with its worker for a run, and back in the
        optimizer's own arrays after it."""
        for name, target in arrays.items():
            if copy_values:
                current = getattr(self, name)
                if current is not None and current.shape == target.shape:
                    np.copyto(target, current)
                else:
                    target[...] = 0
            setattr(self, name, target)

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

    @property
    def state_vectors(self) -> tuple[str, ...]:
        return ("velocity",) if self.momentum else ()

    def prepare_step(self, params, grads):
        self.t += 1
        if self.momentum and self.velocity is None:
            self.velocity = np.zeros_like(params)
        f, velocity = params.dtype.type, self.velocity

        def update(lo: int, hi: int) -> None:
            g = grads[lo:hi]
            if self.momentum:
                v = velocity[lo:hi]
                v *= f(self.momentum)
                v += g
                g = v
            params[lo:hi] -= f(self.lr) * g

        return update

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
    """Adam (Kingma & Ba) with bias correction folded into the step size.

    The moments are kept as exponentially weighted *sums*, ``m_sum = m / (1 - beta1)`` and
    ``v_sum = v / (1 - beta2)``: each is then updated by one multiply and one add
    (``m_sum = beta1 * m_sum + g``), ten passes over the parameter vector a step instead of
    twelve.  ``state_dict`` stores these sums, so a resumed run continues bit for bit;
    ``load_state_dict`` also accepts the textbook ``m``/``v``.
    """

    name = "adam"

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.m_sum: np.ndarray | None = None
        self.v_sum: np.ndarray | None = None

    @property
    def state_vectors(self) -> tuple[str, ...]:
        return ("m_sum", "v_sum")

    @property
    def m(self) -> np.ndarray | None:
        """The first moment m_t (a new array)."""
        return None if self.m_sum is None else self.m_sum * self.m_sum.dtype.type(1 - self.beta1)

    @property
    def v(self) -> np.ndarray | None:
        """The second moment v_t (a new array)."""
        return None if self.v_sum is None else self.v_sum * self.v_sum.dtype.type(1 - self.beta2)

    def prepare_step(self, params, grads):
        if self.m_sum is None or self.m_sum.shape != params.shape:
            self.m_sum = np.zeros_like(params)
            self.v_sum = np.zeros_like(params)
        self.t += 1
        b1, b2, f = self.beta1, self.beta2, params.dtype.type
        # p -= lr * m_hat / (sqrt(v_hat) + eps), with m_hat = (1 - b1) m_sum / c1 and
        # sqrt(v_hat) = k sqrt(v_sum), k = sqrt((1 - b2) / c2): constants moved onto lr and eps.
        c1 = 1 - b1**self.t
        c2 = 1 - b2**self.t
        k = np.sqrt((1 - b2) / c2)
        eps, scale = f(self.eps / k), f(self.lr * (1 - b1) / (c1 * k))
        ms, vs = self.m_sum, self.v_sum

        def update(lo: int, hi: int) -> None:
            p, g, m, v = params[lo:hi], grads[lo:hi], ms[lo:hi], vs[lo:hi]
            t = np.empty(hi - lo, p.dtype)  # a block's scratch, made anew: it stays in this core's cache (a slice
            # of one vector the size of the parameters went back to memory: 2 x 1.74 MB a step for the large model)
            m *= f(b1)  # m_sum = b1 m_sum + g
            m += g
            np.square(g, out=t)  # v_sum = b2 v_sum + g^2
            v *= f(b2)
            v += t
            np.sqrt(v, out=t)
            t += eps
            np.divide(m, t, out=t)
            t *= scale
            p -= t

        return update

    def state_dict(self):
        state = super().state_dict()
        if self.m_sum is not None:
            state["m_sum"], state["v_sum"] = self.m_sum, self.v_sum
        return state

    def load_state_dict(self, state):
        super().load_state_dict(state)
        if "m_sum" in state:
            self.m_sum, self.v_sum = np.array(state["m_sum"]), np.array(state["v_sum"])
        elif "m" in state:  # textbook moments (older checkpoints)
            m, v = np.array(state["m"]), np.array(state["v"])
            self.m_sum = m / m.dtype.type(1 - self.beta1)
            self.v_sum = v / v.dtype.type(1 - self.beta2)

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
