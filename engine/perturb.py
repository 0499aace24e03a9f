"""Perturbing a trained network to see what it relies on: weight noise, pruning, switching units off.

Every function returns a perturbed *copy* and leaves the model as it was, so going back ("Reset")
is just using the model again.  Everything is seeded and deterministic: the same ``Perturbation``
on the same model gives the same weights, bit for bit.

The weighted layers are the network's and a skip path's (a gate's, ``MLP.parameter_layers``): noise and
pruning reach the gate too, so "40 % of the weights" means of all the model's weights.

- **Weight noise**: each layer's weights get ``noise * spread * Z``, where ``spread`` is the
  standard deviation of that layer's trained weights and ``Z`` a fixed N(0, 1) pattern drawn from
  ``seed``.  Only the strength changes as ``noise`` moves, never the pattern, so a curve over
  ``noise`` is smooth.  Biases are left alone.
- **Pruning**: the ``prune`` share of weights with the smallest magnitude (in the trained model)
  become zero — exactly ``round(prune * n)`` of them, in each layer (``scope="layer"``) or over all
  layers' weights together (``scope="network"``).  Ties go to the lower index.  Pruned weights
  stay zero whatever the noise.
- **Switching a unit off**: hidden unit ``j`` of layer ``i`` outputs zero whatever its input (its
  incoming weights become zero and its bias the value its activation maps to zero), so the next
  layer receives nothing from it.

Noise and pruning reach every weight the model learned: a skip path's gate (``engine.skip``) is one more
layer to them (it follows the network's layers, as in the model's parameter vector), so "all weights pruned"
leaves no gate reading its input; units are switched off in the network's hidden layers only.

``Perturber`` keeps what every perturbation of one model needs (spreads, the noise pattern, the
weights' order by magnitude), so moving a slider costs one copy and a few vector passes.
``perturbation_curve`` scores a perturbation at many strengths on the test set.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from engine.images import as_unit_float
from engine.metrics import mse
from engine.noise import fixed_noisy
from engine.progress import Cancelled

SCOPES = ("layer", "network")
KNOBS = ("noise", "prune")
NOISE_STRENGTHS = tuple(np.round(np.linspace(0, 1, 11), 2))
"""Weight-noise strengths a curve is scored at: 0 to 1 times each layer's weight spread."""
PRUNE_STRENGTHS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
"""Pruned shares a curve is scored at (denser near 100 %, where the output changes fastest)."""
_OFF_BIAS_CANDIDATES = (0.0, -100.0)
"""A switched-off unit's bias: 0 for activations with f(0) = 0, a large negative value for the sigmoid."""


@dataclass(frozen=True)
class Perturbation:
    """What to do to a network's weights; the default does nothing.

    noise : Gaussian weight noise, as a multiple of each layer's weight standard deviation (>= 0); a skip path's
        gate is a layer here.
    seed : the noise pattern (the same seed gives the same pattern).
    prune : share of weights, in [0, 1], with the smallest magnitude that become zero.
    scope : "layer" (that share of every layer) or "network" (the smallest over all layers).
    off : (layer, unit) pairs of hidden units switched off; ``layer`` counts Dense layers from 0,
        so its units are that layer's outputs (the last layer, the output image, has none to switch off).
    """

    noise: float = 0.0
    seed: int = 0
    prune: float = 0.0
    scope: str = "layer"
    off: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        noise, prune = _number("noise", self.noise), _number("prune", self.prune)
        if noise < 0:
            raise ValueError(f"noise must be >= 0 (a multiple of each layer's weight spread), got {noise!r}")
        if not 0 <= prune <= 1:
            raise ValueError(f"prune must be a share in [0, 1] (0.4 prunes 40 %), got {prune!r}")
        if self.scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}, got {self.scope!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f"seed must be an int >= 0, got {self.seed!r}")
        off = set()
        for pair in self.off:
            if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair):
                raise TypeError(f"off must hold (layer, unit) pairs of ints, got {pair!r}")
            off.add((int(pair[0]), int(pair[1])))
        object.__setattr__(self, "noise", noise)
        object.__setattr__(self, "prune", prune)
        object.__setattr__(self, "seed", int(self.seed))
        object.__setattr__(self, "off", tuple(sorted(off)))

    def is_identity(self) -> bool:
        """True when it leaves every weight as it is."""
        return self.noise == 0 and self.prune == 0 and not self.off

    def with_unit(self, layer: int, unit: int, off: bool) -> Perturbation:
        """The same perturbation with hidden unit ``unit`` of ``layer`` switched off (or back on)."""
        units = set(self.off) - {(layer, unit)}
        if off:
            units.add((layer, unit))
        return replace(self, off=tuple(units))

    def to_dict(self) -> dict:
        """Plain values (for a model file's metadata)."""
        values = asdict(self)
        values["off"] = [list(pair) for pair in self.off]
        return values

    @classmethod
    def from_dict(cls, values: object) -> Perturbation:
        """The perturbation ``to_dict`` wrote (a model file's ``metadata["perturbation"]``); ``TypeError`` or
        ``ValueError`` when it is not one."""
        if not isinstance(values, dict):
            raise TypeError(f"a perturbation is an object of values, got {type(values).__name__}")
        off = values.get("off", ())
        if not isinstance(off, (list, tuple)) or not all(isinstance(pair, (list, tuple)) for pair in off):
            raise TypeError(f"off must hold (layer, unit) pairs, got {off!r:.60}")
        known = {name: values[name] for name in ("noise", "seed", "prune", "scope") if name in values}
        return cls(**known, off=tuple(tuple(pair) for pair in off))


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def pruned_counts(model, fraction: float, scope: str = "layer") -> list[int]:
    """How many weights of each weighted layer (the network's, then a gate's) pruning ``fraction`` sets to zero
    (exactly; see ``Perturber``)."""
    return Perturber(model).pruned_counts(replace(Perturbation(), prune=fraction, scope=scope))


class Perturber:
    """Perturbed copies of one model, fast: what every perturbation needs is computed once, when first needed.

    The model must not change while a Perturber uses it (make a new one for a new model).
    """

    def __init__(self, model) -> None:
        if not getattr(model, "layers", None):
            raise ValueError("the model has no layers to perturb")
        self.model = model
        self.weighted = _weighted_layers(model)
        self.sizes = [layer.W.size for layer in self.weighted]
        self._spreads: list[float] | None = None
        self._pattern: tuple[int, list[np.ndarray]] | None = None  # (seed, per layer (n_out, n_in) float32)
        self._orders: list[np.ndarray] | None = None  # per layer: flat indices of W by |w|, smallest first
        self._global_layer: np.ndarray | None = None  # over all weights by |w|: the layer each one is in

    # ----- what the perturbations need, computed once ----------------------------------------------
    def spreads(self) -> list[float]:
        """Standard deviation of each layer's trained weights (the unit of weight noise)."""
        if self._spreads is None:
            self._spreads = [float(np.std(layer.W, dtype=np.float64)) for layer in self.weighted]
        return self._spreads

    def pattern(self, seed: int) -> list[np.ndarray]:
        """The N(0, 1) noise pattern of ``seed``: one (n_out, n_in) float32 array per weighted layer."""
        if self._pattern is None or self._pattern[0] != seed:
            rng = np.random.default_rng(seed)
            shapes = [layer.W.shape for layer in self.weighted]
            self._pattern = (seed, [rng.standard_normal(shape, dtype=np.float32) for shape in shapes])
        return self._pattern[1]

    def _magnitude_orders(self) -> tuple[list[np.ndarray], np.ndarray]:
        if self._orders is None:
            mags = [np.abs(layer.W).ravel() for layer in self.weighted]
            self._orders = [np.argsort(m, kind="stable").astype(np.int32) for m in mags]
            together = np.argsort(np.concatenate(mags), kind="stable")
            bounds = np.cumsum(self.sizes)
            self._global_layer = np.searchsorted(bounds, together, side="right").astype(np.int16)
        return self._orders, self._global_layer

    def prepare(self, seed: int = 0) -> Perturber:
        """Compute now what perturbations need (a fraction of a second for a large model; do it off a GUI thread)."""
        self.spreads()
        self.pattern(seed)
        self._magnitude_orders()
        return self

    def pruned_counts(self, plan: Perturbation) -> list[int]:
        """Weights pruned in each layer: ``round(prune * n)`` of each layer, or of all ``N`` weights together
        (shared out to the layers that hold the smallest ones)."""
        if plan.prune == 0:
            return [0] * len(self.sizes)
        if plan.scope == "layer":
            return [int(round(plan.prune * n)) for n in self.sizes]
        _, layer_of = self._magnitude_orders()
        k = int(round(plan.prune * sum(self.sizes)))
        return [int(c) for c in np.bincount(layer_of[:k], minlength=len(self.sizes))]

    # ----- the perturbed copy -----------------------------------------------------------------
    def check(self, plan: Perturbation) -> None:
        """Raise ValueError when ``plan`` switches off a unit the model does not have."""
        layers = self.model.layers
        for layer, unit in plan.off:
            if not 0 <= layer < len(layers) - 1:
                raise ValueError(
                    f"cannot switch off a unit of layer {layer}: the hidden layers are 0 to {len(layers) - 2}"
                    if len(layers) > 1 else "the model has no hidden layer: no unit to switch off"
                )
            if not 0 <= unit < layers[layer].n_out:
                raise ValueError(f"layer {layer} has units 0 to {layers[layer].n_out - 1}, not {unit}")

    def apply(self, plan: Perturbation, metadata: bool = True) -> object:
        """A perturbed copy of the model (an independent MLP); the model itself is not touched.

        ``metadata``: the copy carries the model's metadata (deep-copied, without its test scores, which
        describe the unperturbed weights) and a ``"perturbation"`` record; ``False`` for a quick copy to
        compute with.
        """
        self.check(plan)
        twin = self.model.copy(metadata=metadata)
        if metadata:
            twin.metadata.pop("metrics", None)
            if not plan.is_identity():
                twin.metadata["perturbation"] = plan.to_dict()
        if plan.is_identity():
            return twin
        weighted = _weighted_layers(twin)
        if plan.noise:
            for layer, spread, z in zip(weighted, self.spreads(), self.pattern(plan.seed), strict=True):
                layer.W += np.float32(plan.noise * spread) * z
        if plan.prune:
            orders, _ = self._magnitude_orders()
            for layer, order, k in zip(weighted, orders, self.pruned_counts(plan), strict=True):
                layer.W.reshape(-1)[order[:k]] = 0  # W is a contiguous view: reshape(-1) is a view too
        for index, unit in plan.off:
            layer = twin.layers[index]
            layer.W[unit] = 0
            layer.b[unit] = _off_bias(layer)
        return twin


def _weighted_layers(model) -> list:
    """The Dense layers whose weights a perturbation reaches: the network's, then a skip path's (a gate's)."""
    return list(getattr(model, "parameter_layers", model.layers))


def _off_bias(layer) -> float:
    """The bias that makes this layer's activation output exactly zero for a zero input."""
    for value in _OFF_BIAS_CANDIDATES:
        if layer.activation.forward(np.full(1, value, layer.dtype))[0] == 0:
            return value
    raise ValueError(f"no bias switches off a {layer.activation.name} unit")


def perturb(model, plan: Perturbation):
    """A copy with all of ``plan`` applied: noise on the weights, then pruning, then units switched off."""
    return Perturber(model).apply(plan)


@dataclass(frozen=True)
class PerturbationCurve:
    """Test MSE of a perturbed network against the strength of one knob (the others as in the plan).

    knob : "noise" or "prune"; strengths, mse : (n,) float64; model_mse : the unperturbed model's
    score and noisy_input_mse the noisy input's (doing nothing), both at the same input noise: ``kind``
    at level ``sigma``.
    """

    knob: str
    strengths: np.ndarray
    mse: np.ndarray
    model_mse: float
    noisy_input_mse: float
    sigma: float
    kind: str = "gaussian"


def perturbation_curve(
    model,
    plan: Perturbation,
    knob: str,
    test_images: np.ndarray,
    sigma: float,
    strengths: Sequence[float] | None = None,
    *,
    kind: str = "gaussian",
    cancelled: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
) -> PerturbationCurve:
    """Score ``plan`` with ``knob`` set to each strength on clean ``test_images`` (n, 784), uint8 or [0, 1]
    floats, under the fixed evaluation noise of ``kind`` at level ``sigma``.  ``cancelled`` is polled
    between points (``Cancelled`` is raised); ``progress(fraction)`` after each."""
    if knob not in KNOBS:
        raise ValueError(f"knob must be one of {', '.join(KNOBS)}, got {knob!r}")
    if strengths is None:
        strengths = NOISE_STRENGTHS if knob == "noise" else PRUNE_STRENGTHS
    values = np.array(strengths, np.float64)
    if values.ndim != 1 or values.size < 2 or not np.all(np.isfinite(values)):
        raise ValueError("strengths must be at least two finite numbers")
    images = np.asarray(test_images)
    if images.ndim < 2 or len(images) == 0:
        raise ValueError(f"test_images must be (n, 784) with n >= 1, got shape {images.shape}")
    clean = as_unit_float(images).reshape(len(images), -1)
    noisy = fixed_noisy(clean, sigma, kind=kind)
    if not isinstance(plan, Perturbation):
        raise TypeError(f"plan must be a Perturbation, got {type(plan).__name__}")
    perturber = Perturber(model)
    perturber.check(plan)
    scores = np.empty(values.size)
    steps = values.size + 1
    model_mse = mse(model.predict(noisy), clean)
    for i, strength in enumerate(values):
        if cancelled is not None and cancelled():
            raise Cancelled
        net = perturber.apply(replace(plan, **{knob: float(strength)}), metadata=False)
        scores[i] = mse(net.predict(noisy), clean)
        if progress is not None:
            progress((i + 2) / steps)
    return PerturbationCurve(knob, values, scores, model_mse, mse(noisy, clean), float(sigma), kind)


def describe(model, plan: Perturbation, perturber: Perturber | None = None) -> str:
    """The perturbation in words, with counts: "noise 0.30 × spread · 40 % of weights pruned per layer
    (174,080 of 435,200) · 2 units off"."""
    if plan.is_identity():
        return "no perturbation: the network as trained"
    perturber = perturber or Perturber(model)
    parts = []
    if plan.noise:
        parts.append(f"weight noise {plan.noise:.2f} × each layer's spread")
    if plan.prune:
        total = sum(perturber.sizes)
        where = "per layer" if plan.scope == "layer" else "over the whole network"
        share = f"{round(plan.prune * 100, 1):g} %"
        parts.append(f"{share} of weights pruned {where} ({sum(perturber.pruned_counts(plan)):,} of {total:,})")
    if plan.off:
        parts.append(f"{len(plan.off)} unit{'s' if len(plan.off) > 1 else ''} off")
    return " · ".join(parts)
