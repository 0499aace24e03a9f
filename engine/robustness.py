"""How a denoiser holds up across noise levels: test MSE (and SSIM, when asked) against sigma, beside doing
nothing and PCA.

Every point scores all the given test images under one fixed noise draw (``engine.noise``'s
evaluation seed: the same N(0, 1) pattern scaled by each sigma), so the curves differ only by
sigma.  ``crossings`` finds where two curves swap order (linear interpolation between points) and
``describe`` says it in words: "beats the noisy input from σ ≈ 0.22; beats PCA-10 everywhere";
``describe_baselines`` does the same against every baseline of ``engine.baselines`` (whose
``BaselineBank.curve`` scores a baseline on the same draw).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine.baselines import DEFAULT_LEVELS, baseline_title, check_metric, finite_or_nan, fit_pca
from engine.images import as_unit_float
from engine.metrics import mse, psnr
from engine.metrics import ssim as structural_similarity
from engine.noise import NoisePattern, check_kind, check_level
from engine.pca import PCA
from engine.progress import Cancelled

DEFAULT_SIGMAS = DEFAULT_LEVELS
"""0 to 1 in steps of 0.05 (the levels the baselines' curves use too)."""
APP_LEVELS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
"""The levels of the app's robustness panel, for the model and every baseline: steps of 0.05 at light noise, where
the lines cross, 0.1 above (each level costs a fit of the best linear denoiser and a tuning of each filter)."""
METRIC_TITLES = {"mse": "MSE", "psnr": "PSNR (dB)", "ssim": "SSIM"}


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
    ssim: dict[str, np.ndarray] | None = None  # mean SSIM at each sigma by series ("model", "noisy_input", ...)

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

    def values(self, series: str, metric: str) -> np.ndarray:
        """(n,) float64 of ``metric`` ("mse", "psnr", "ssim") of ``series`` ("model", "noisy_input", "pca",
        "second") at each sigma; an infinite PSNR as NaN.  ``ValueError`` for SSIM when it was not computed."""
        errors = getattr(self, series)
        if check_metric(metric) == "mse":
            return np.array(errors, np.float64)
        if metric == "psnr":
            return finite_or_nan([psnr(e) for e in errors])
        if self.ssim is None or series not in self.ssim:
            raise ValueError(f"this curve has no SSIM of {series!r}: compute it with robustness_curve(ssim=True)")
        return np.array(self.ssim[series], np.float64)

    def scores(self, series: str) -> dict[str, list[float | None]]:
        """``{"mse", "psnr", "ssim"}`` lists (one value a sigma) of ``series`` ("model", "noisy_input", "pca",
        "second"), for JSON; SSIM is None where it was not computed, an infinite PSNR None."""
        errors = getattr(self, series)
        ssim = (self.ssim or {}).get(series)
        return {
            "mse": [float(e) for e in errors],
            "psnr": [_finite(psnr(e)) for e in errors],
            "ssim": [None] * len(errors) if ssim is None else [float(v) for v in ssim],
        }


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None


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
    ssim: bool = False,
    pca: PCA | None = None,
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
    ssim : also the mean SSIM of every series (``engine.metrics.ssim``: ~0.2 s a series and sigma on
        10,000 images, more than the MSE and the model's own pass; off unless asked).
    pca : PCA-k already fitted on ``train_images`` (``BaselineBank.pca`` keeps one); fitted here when None.
    """
    kind = check_kind(kind)
    sigmas = np.array([check_level(s, kind) for s in sigmas], np.float64)
    if sigmas.size < 2 or np.any(np.diff(sigmas) <= 0):
        raise ValueError("sigmas must be at least two increasing noise levels")
    clean = as_unit_float(test_images).reshape(len(test_images), -1)
    k = model.latent_width
    if pca is None and k < clean.shape[1]:
        pca = fit_pca(train_images, k)
    series = ("model", "noisy_input", "pca", "second")
    scores, similarity = ({name: np.empty(sigmas.size) for name in series} for _ in range(2))
    pattern = NoisePattern(clean.shape, kind=kind)  # the evaluation's draw, scaled by each level
    noisy = np.empty_like(clean)
    for i, sigma in enumerate(sigmas):
        if cancelled is not None and cancelled():
            raise Cancelled
        pattern.apply(clean, sigma, out=noisy)  # fixed_noisy(clean, sigma), without drawing the pattern again
        outputs = {"model": model.predict(noisy), "noisy_input": noisy}
        if pca is not None:
            outputs["pca"] = pca.reconstruct(noisy)
        if second is not None:
            outputs["second"] = second.predict(noisy)
        for name, output in outputs.items():
            scores[name][i] = mse(output, clean)
            if ssim:
                similarity[name][i] = structural_similarity(output, clean)
        if progress is not None:
            progress((i + 1) / sigmas.size)
    return RobustnessCurve(
        sigmas,
        scores["model"],
        scores["noisy_input"],
        scores["pca"] if pca is not None else None,
        k,
        scores["second"] if second is not None else None,
        kind,
        {name: similarity[name] for name in outputs} if ssim else None,
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

    ``symbol`` names the level (``σ``; ``fraction`` for salt-and-pepper and masking noise).  A crossing between
    level 0 and the next, where ``a`` loses at 0, is given as that next level ("at every σ from 0.05"), not
    interpolated: at no noise the noisy input is the clean image (MSE 0) and a baseline's error grows
    roughly as σ² from there, so a straight line between the two points says nothing about where they cross."""
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
    after_no_noise = len(sigmas) > 1 and sigmas[0] == 0 and not below[0]
    for start, end in zip(edges[:-1], edges[1:], strict=True):
        middle = (start + end) / 2
        if np.interp(middle, sigmas, np.asarray(a, np.float64) - np.asarray(b, np.float64)) < 0:
            if start == edges[0]:
                pieces.append(f"up to {symbol} ≈ {end:.2f}")
            elif after_no_noise and start < sigmas[1] and end == edges[-1]:
                pieces.append(f"at every {symbol} from {sigmas[1]:g}")
            elif after_no_noise and start < sigmas[1]:
                pieces.append(f"from {symbol} {sigmas[1]:g} up to {symbol} ≈ {end:.2f}")
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


def as_errors(values, metric: str = "mse") -> np.ndarray:
    """(n,) float64 scores of ``metric`` turned into errors (lower is better, the same order): MSE as it is, PSNR
    back to its MSE (NaN or infinite, a perfect match, as 0), 1 − SSIM."""
    v = np.array(values, np.float64)
    if check_metric(metric) == "psnr":
        v = np.where(np.isfinite(v), 10.0 ** (-v / 10.0), 0.0)
    elif metric == "ssim":
        v = 1.0 - v
    return v


def describe_baselines(
    sigmas: np.ndarray,
    model: np.ndarray,
    baselines: Mapping[str, np.ndarray],
    name: str = "This model",
    kind: str = "gaussian",
    metric: str = "mse",
) -> str:
    """Where a model's test curve beats each baseline's, and the strongest baseline at each level, in words.

    sigmas : (n,) increasing levels; model : (n,) its scores of ``metric`` ("mse"; "psnr" and "ssim", where higher
    is better, are compared as such); baselines : baseline name -> (n,) scores (names as
    ``engine.baselines.baseline_names``).  "X beats every baseline from σ ≈ 0.27 (where it does not, the
    strongest is the best linear denoiser); beats the best linear denoiser from σ ≈ 0.27; beats the median
    filter everywhere; …".
    """
    if not baselines:
        raise ValueError("describe_baselines needs at least one baseline curve")
    s, symbol = np.asarray(sigmas, np.float64), "σ" if kind == "gaussian" else "fraction"
    model = as_errors(model, metric)
    names = list(baselines)
    stack = np.array([as_errors(baselines[n], metric) for n in names])  # (baselines, n)
    strongest = stack.min(axis=0)
    winners = [names[i] for i in dict.fromkeys(stack.argmin(axis=0)[model >= strongest])]
    head = f"beats every baseline {where_better(s, model, strongest, symbol)}"
    if winners:
        head += f" (where it does not, the strongest is {' or '.join(_the(w) for w in winners)})"
    each = [f"beats {_the(n)} {where_better(s, model, stack[i], symbol)}" for i, n in enumerate(names)]
    by = "" if metric == "mse" else f" by {METRIC_TITLES[metric].split()[0]}"
    return f"{name} " + "; ".join([head, *each]) + f" ({symbol} from {s[0]:g} to {s[-1]:g}{by})."


def _the(name: str) -> str:
    """A baseline's title in a sentence: "the median filter", "PCA-64"."""
    title = baseline_title(name)
    return title if title.startswith("PCA") else f"the {title}"


@dataclass(frozen=True)
class LinearComparison:
    """A model's test MSE beside the best linear denoiser's (fitted at each level) and the noisy input's: (n,)
    float64 arrays at ``levels``; ``words``: where the model is better ("from σ ≈ 0.07", "everywhere")."""

    levels: np.ndarray
    model: np.ndarray
    linear: np.ndarray
    noisy_input: np.ndarray
    kind: str
    words: str


def compare_with_linear(
    model,
    bank,
    test_images: np.ndarray,
    levels: Sequence[float],
    kind: str = "gaussian",
    dataset: str = "mnist",
    *,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> LinearComparison:
    """``model`` (784 -> 784, ``predict``) against the best linear denoiser of ``bank`` (an
    ``engine.baselines.BaselineBank``: fitted on training images at each level, kept) on clean ``test_images``
    (n, 784) under the evaluation's fixed draw at each of ``levels`` (increasing)."""
    kind = check_kind(kind)
    levels = np.array([check_level(v, kind) for v in levels], np.float64)
    if levels.size < 2 or np.any(np.diff(levels) <= 0):
        raise ValueError("levels must be at least two increasing noise levels")
    clean = as_unit_float(test_images).reshape(len(test_images), -1)
    pattern, noisy = NoisePattern(clean.shape, kind=kind), np.empty_like(clean)
    model_mse, noisy_mse = np.empty(levels.size), np.empty(levels.size)
    for i, level in enumerate(levels):
        if cancelled is not None and cancelled():
            raise Cancelled
        pattern.apply(clean, level, out=noisy)
        model_mse[i], noisy_mse[i] = mse(model.predict(noisy), clean), mse(noisy, clean)
        if progress is not None:
            progress(0.2 * (i + 1) / levels.size)
    span = (lambda f: progress(0.2 + 0.8 * f)) if progress is not None else None
    linear = bank.curve("best_linear", test_images, kind, list(levels), dataset, progress=span, cancelled=cancelled)
    symbol = "σ" if kind == "gaussian" else "fraction"
    return LinearComparison(levels, model_mse, np.array(linear.mse), noisy_mse, kind,
                            where_better(levels, model_mse, linear.mse, symbol))  # fmt: skip
