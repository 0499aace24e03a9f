"""How a denoiser holds up across noise levels: test MSE against sigma, beside doing nothing and PCA.

Every point scores all the given test images under one fixed noise draw (``engine.noise``'s
evaluation seed: the same N(0, 1) pattern scaled by each sigma), so the curves differ only by
sigma.  ``crossings`` finds where two curves swap order (linear interpolation between points) and
``describe`` says it in words: "beats the noisy input from σ ≈ 0.22; beats PCA-10 everywhere".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.baselines import fit_pca
from engine.images import as_unit_float
from engine.metrics import mse
from engine.noise import NoisePattern, check_kind, check_level

DEFAULT_SIGMAS = tuple(np.round(np.linspace(0, 1, 21), 2))
"""0 to 1 in steps of 0.05."""


class Cancelled(Exception):
    """The caller asked the computation to stop (a newer request replaced it)."""


@dataclass(frozen=True)
class RobustnessCurve:
    """Test MSE at each sigma, (n,) float64 arrays; ``pca`` is None when the code is as wide as the image."""

    sigmas: np.ndarray
    model: np.ndarray
    noisy_input: np.ndarray
    pca: np.ndarray | None
    components: int
    second: np.ndarray | None = None  # another model's curve, for comparison
    kind: str = "gaussian"  # the noise kind; ``sigmas`` are its levels (σ, or the fraction of pixels hit)

    def rows(self) -> list[dict[str, float | None]]:
        """One plain dict per sigma (for tables and JSON)."""
        out = []
        for i, sigma in enumerate(self.sigmas):
            row = {"sigma": float(sigma), "model": float(self.model[i]), "noisy_input": float(self.noisy_input[i])}
            row["pca"] = None if self.pca is None else float(self.pca[i])
            if self.second is not None:
                row["second"] = float(self.second[i])
            out.append(row)
        return out


def robustness_curve(
    model,
    train_images: np.ndarray,
    test_images: np.ndarray,
    sigmas: Sequence[float] = DEFAULT_SIGMAS,
    *,
    second=None,
    cancelled: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
    kind: str = "gaussian",
) -> RobustnessCurve:
    """Test MSE of ``model`` (and of ``second``, if given), the noisy input and PCA-k at each sigma.

    Parameters
    ----------
    model : maps 784 -> 784 (``predict``, ``latent_width``).
    train_images : (n, 784) clean images PCA is fitted on; test_images : (m, 784) clean images scored;
        uint8 pixels or floats in [0, 1].
    sigmas : increasing noise levels (>= 0; fractions in [0, 1] for salt-and-pepper and masking).
    cancelled : polled between points; when it returns True, ``Cancelled`` is raised.
    progress : called with the fraction done after each point.
    kind : ``"gaussian"``, ``"salt_and_pepper"`` or ``"masking"``.
    """
    kind = check_kind(kind)
    sigmas = np.array([check_level(s, kind) for s in sigmas], np.float64)
    if sigmas.size < 2 or np.any(np.diff(sigmas) <= 0):
        raise ValueError("sigmas must be at least two increasing noise levels")
    clean = as_unit_float(test_images).reshape(len(test_images), -1)
    k = model.latent_width
    pca = fit_pca(train_images, k) if k < clean.shape[1] else None
    scores = {name: np.empty(sigmas.size) for name in ("model", "noisy", "pca", "second")}
    pattern = NoisePattern(clean.shape, kind=kind)  # the evaluation's draw, scaled by each level
    noisy = np.empty_like(clean)
    for i, sigma in enumerate(sigmas):
        if cancelled is not None and cancelled():
            raise Cancelled
        pattern.apply(clean, sigma, out=noisy)  # fixed_noisy(clean, sigma), without drawing the pattern again
        scores["model"][i] = mse(model.predict(noisy), clean)
        scores["noisy"][i] = mse(noisy, clean)
        if pca is not None:
            scores["pca"][i] = mse(pca.reconstruct(noisy), clean)
        if second is not None:
            scores["second"][i] = mse(second.predict(noisy), clean)
        if progress is not None:
            progress((i + 1) / sigmas.size)
    return RobustnessCurve(
        sigmas,
        scores["model"],
        scores["noisy"],
        scores["pca"] if pca is not None else None,
        k,
        scores["second"] if second is not None else None,
        kind,
    )


def crossings(sigmas: np.ndarray, a: np.ndarray, b: np.ndarray) -> list[float]:
    """The sigmas where curve ``a`` crosses curve ``b`` (a - b changes sign), interpolated linearly."""
    diff = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    out = []
    for i in range(len(diff) - 1):
        d0, d1 = diff[i], diff[i + 1]
        if d0 == 0 and (i == 0 or diff[i - 1] != 0):
            out.append(float(sigmas[i]))
        elif d0 * d1 < 0:
            out.append(float(sigmas[i] + (sigmas[i + 1] - sigmas[i]) * d0 / (d0 - d1)))
    return out


def where_better(sigmas: np.ndarray, a: np.ndarray, b: np.ndarray, symbol: str = "σ") -> str:
    """Where curve ``a`` is below curve ``b``, in words: "everywhere", "nowhere", "from σ ≈ 0.22", ...

    ``symbol`` names the level (``σ``; ``fraction`` for salt-and-pepper and masking noise)."""
    below = np.asarray(a) < np.asarray(b)
    lo, hi = f"{sigmas[0]:g}", f"{sigmas[-1]:g}"
    if below.all():
        return "everywhere"
    if not below.any():
        return "nowhere"
    points = crossings(sigmas, a, b)
    if not points:  # touching only at a point
        return "almost everywhere" if below.mean() > 0.5 else "almost nowhere"
    pieces = []
    edges = [float(sigmas[0]), *points, float(sigmas[-1])]
    for start, end in zip(edges[:-1], edges[1:], strict=True):
        middle = (start + end) / 2
        if np.interp(middle, sigmas, np.asarray(a, np.float64) - np.asarray(b, np.float64)) < 0:
            if start == edges[0]:
                pieces.append(f"up to {symbol} ≈ {end:.2f}")
            elif end == edges[-1]:
                pieces.append(f"from {symbol} ≈ {start:.2f}")
            else:
                pieces.append(f"between {symbol} ≈ {start:.2f} and {end:.2f}")
    return " and ".join(pieces) if pieces else f"nowhere from {lo} to {hi}"


def describe(curve: RobustnessCurve, name: str = "This model") -> str:
    """One sentence, starting with ``name``: where the model beats the noisy input and PCA-k."""
    s, symbol = curve.sigmas, "σ" if curve.kind == "gaussian" else "fraction"
    parts = [f"beats the noisy input {where_better(s, curve.model, curve.noisy_input, symbol)}"]
    if curve.pca is not None:
        parts.append(f"beats PCA-{curve.components} {where_better(s, curve.model, curve.pca, symbol)}")
    return f"{name} " + "; ".join(parts) + f" ({symbol} from {s[0]:g} to {s[-1]:g})."
