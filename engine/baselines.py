"""The levels a denoiser must beat on a data set, from the weakest to the strongest simple ones.

- ``noisy_input``: doing nothing;
- ``pca_K``: PCA with K components, the best linear *code* of K numbers (the reference for a K-unit bottleneck);
- ``best_linear``: the best linear (affine) denoiser, one 784 × 784 map fitted by least squares at the
  level it is scored at (``engine.linear_denoiser``); a model is judged against this one.  Shown apart,
  ``best_linear_range`` is fitted once over a range of levels, for comparing with a model trained on it;
- the classical filters of ``engine.classical`` (``median``, ``gaussian_blur``, ``total_variation``,
  ``nl_means``, ``wavelet``), each one's strength picked at that level.

Everything fitted or tuned sees **training images only** (the bank is handed a function that gives a
data set's training images, and nothing else); test images are only scored, like ``MLP.evaluate``
scores a model: against the clean images under the fixed evaluation draw (``engine.noise.EVAL_NOISE_SEED``).
The names are JSON keys (``baseline_names``); ``BaselineBank`` fits, tunes and keeps the baselines in
bounded LRU caches it owns (per data set, noise kind and level), and ``BaselineBank.curve`` scores one
across levels with progress and cancel callbacks, for the CLI, ``bench/quality.py`` and the app's jobs.

The functions after the bank (``noisy_input_mse``, ``pca_mse``, ``baselines``, ``fit_pca``,
``pca_variances``) compute from the arrays they are given and keep nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from engine.classical import FILTERS, TunedFilter, WorkerProcesses, apply_filter, check_filter, tune_filter
from engine.images import as_unit_float
from engine.linear_denoiser import LinearDenoiser, fit_linear_denoiser, fit_linear_denoisers
from engine.lru import LruCache
from engine.metrics import Scores, image_scores, mse, scores
from engine.noise import NoisePattern, add_noise, check_kind, check_level, check_noise, fixed_noisy
from engine.pca import PCA, principal_axes
from engine.progress import CancelCheck, Progress, check_cancelled, part, report

NOISY_INPUT, BEST_LINEAR, BEST_LINEAR_RANGE = "noisy_input", "best_linear", "best_linear_range"
CLASSICAL = tuple(FILTERS)
DEFAULT_LEVELS = tuple(np.round(np.linspace(0, 1, 21), 2))
"""0 to 1 in steps of 0.05, as ``engine.robustness.DEFAULT_SIGMAS``."""
TUNE_IMAGES = 200
"""Training images a classical filter's strength is picked on (a fixed random choice; its MSE ranks the grid)."""
APP_TUNE_IMAGES = 50
"""The same in the app, where a filter is tuned at every level of a curve while the user waits."""
TUNE_SEED = 20241106
"""Seed of that choice and of the noise drawn on it."""
SLOW_CURVE_IMAGES = 500
"""Test images a slow filter's curve scores in the app (``curve_images``: a fixed, evenly spaced choice); the linear
baselines and the Gaussian blur score every test image."""
SLOW_FILTERS = tuple(name for name, f in FILTERS.items() if f.slow)
"""The filters whose app curves score ``SLOW_CURVE_IMAGES`` (and that run in the bank's worker processes): the
per-image ones, and the median filter (a whole stack at once, but ~0.3 ms an image, as long as they take)."""
LINEAR_FIT_SHARE = 0.8
"""The part of a best-linear curve's progress its fits take (one pass for every level), the rest its scoring."""
METRICS = ("mse", "psnr", "ssim")
"""The scores a curve holds: MSE and SSIM averaged over the images, PSNR of the mean MSE."""
LOWER_IS_BETTER = {"mse": True, "psnr": False, "ssim": False}


class Denoiser(Protocol):
    """What every baseline is: noisy images (n, 784) in [0, 1] -> denoised (n, 784) float32, and how it was set."""

    @property
    def setting(self) -> str: ...

    def __call__(self, noisy: np.ndarray) -> np.ndarray: ...


def pca_name(components: int) -> str:
    """``"pca_64"``: the name of PCA with that many components."""
    return f"pca_{int(components)}"


def baseline_names(components: int | None = None, n_pixels: int = 784) -> tuple[str, ...]:
    """Every baseline scored at each level, in table order: noisy input, PCA-``components`` (when given and
    less than the pixel count), the best linear denoiser, the classical filters."""
    pca = (pca_name(components),) if components is not None and 1 <= components < n_pixels else ()
    return (NOISY_INPUT, *pca, BEST_LINEAR, *CLASSICAL)


def baseline_title(name: str) -> str:
    """A baseline's name in words, for tables and plots: "best linear denoiser", "PCA-64", "median filter"."""
    titles = {NOISY_INPUT: "noisy input", BEST_LINEAR: "best linear denoiser",
              BEST_LINEAR_RANGE: "best linear denoiser (fitted on the range)"}  # fmt: skip
    if name in titles:
        return titles[name]
    if name in FILTERS:
        return FILTERS[name].title
    return f"PCA-{_pca_components(name)}"


@dataclass(frozen=True)
class BaselineCurve:
    """One baseline scored on the test images at each level: (n,) float64 arrays, and how each level's
    denoiser was set (its fit or tuned strength, in words)."""

    name: str
    kind: str
    levels: np.ndarray
    mse: np.ndarray
    psnr: np.ndarray
    ssim: np.ndarray
    settings: tuple[str, ...]

    @property
    def title(self) -> str:
        return baseline_title(self.name)

    def values(self, metric: str) -> np.ndarray:
        """(n,) float64 of ``metric`` ("mse", "psnr", "ssim") at each level; an infinite PSNR (a perfect match) as
        NaN, so a plot leaves a gap rather than breaking its range."""
        return finite_or_nan(getattr(self, check_metric(metric)))

    def as_dict(self) -> dict:
        """Plain lists for JSON: ``{"title", "mse", "psnr", "ssim", "settings"}`` (an infinite PSNR as None)."""

        def plain(values):
            return [float(v) if np.isfinite(v) else None for v in values]

        return {"title": self.title, "mse": plain(self.mse), "psnr": plain(self.psnr), "ssim": plain(self.ssim),
                "settings": list(self.settings)}  # fmt: skip


class BaselineBank:
    """Fits, tunes and keeps every baseline for the data sets it is asked about; scores them on test images.

    training_images : ``dataset -> (n, 784)`` clean training images (uint8, or float in [0, 1]) of a data
        set by name (``"mnist"``, ``"fashion_mnist"``), e.g. ``lambda name: read_split("train", dataset=name)[0]``.
        It is the bank's only way to data: it never sees a test image except to score it.
    workers : processes the slow classical filters (median, TV, NL-means, wavelet) run in; 1 runs them here.  The
        bank keeps them between curves and stops them once idle (``engine.classical.WorkerProcesses``; ``close()``).
    capacity : fitted maps kept (784 × 784 float32, 2.4 MB each: best linear maps and PCA axes).
    tune_images : training images a classical filter's strength is picked on (``TUNE_IMAGES``; the app picks
        on fewer, so that its curves come in seconds: ``APP_TUNE_IMAGES``).

    Thread-safe: two threads asking for the same fit share one computation.
    """

    filters = FILTERS  # the classical filters by name (engine.classical.ClassicalFilter: title, grid of strengths)

    def __init__(
        self,
        training_images: Callable[[str], np.ndarray],
        *,
        workers: int = 2,
        capacity: int = 32,
        tune_images: int = TUNE_IMAGES,
    ) -> None:
        if not callable(training_images):
            raise TypeError("BaselineBank needs a function that gives a data set's training images by name")
        self._load = training_images
        self.workers = max(1, int(workers))
        self.tune_images = max(1, int(tune_images))
        self._data = LruCache(2)  # training sets (47 MB each for MNIST as uint8)
        self._fits = LruCache(capacity)  # linear maps and PCA axes
        self._results = LruCache(16 * capacity)  # tuned strengths and curves (small)
        self._processes = WorkerProcesses()

    def close(self) -> None:
        """Stop the worker processes now (they stop by themselves once idle; a later curve starts them again)."""
        self._processes.close()

    # ----- what is fitted or tuned on training images -------------------------------------------
    def training_set(self, dataset: str = "mnist") -> np.ndarray:
        """The data set's clean training images (n, 784), as the loader gives them (kept)."""
        name = _dataset(dataset)
        return self._data.get(name, lambda: _checked_images(self._load(name), f"{name} training images"))

    def pca(self, components: int, dataset: str = "mnist") -> PCA:
        """PCA with ``components`` axes of the data set's clean training images (the axes are kept)."""
        mean, axes, _ = self.principal_axes(dataset)
        return PCA(components).set_axes(mean, axes)

    def principal_axes(self, dataset: str = "mnist") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean (784,), axes (784, 784) one per row, variances (784,)) of the training images, in [0, 1] units."""
        name = _dataset(dataset)
        return self._fits.get(("pca", name), lambda: unit_principal_axes(self.training_set(name)))

    def best_linear(
        self,
        kind: str,
        noise,
        dataset: str = "mnist",
        *,
        progress: Progress | None = None,
        cancelled: CancelCheck | None = None,
    ) -> LinearDenoiser:
        """The best linear denoiser for ``kind`` noise at one level, or with each training image's level drawn
        from a ``(low, high)`` range (for a model trained on that range); fitted on all the training images, kept."""
        return self._linear(kind, noise, dataset, progress, cancelled)

    def denoiser(
        self,
        name: str,
        kind: str,
        level: float,
        dataset: str = "mnist",
        *,
        noise_range: tuple[float, float] | None = None,
        progress: Progress | None = None,
        cancelled: CancelCheck | None = None,
    ) -> Denoiser:
        """Baseline ``name`` (a ``baseline_names`` entry, or ``best_linear_range`` with ``noise_range``) ready
        for ``kind`` noise at ``level``: fitted, or a classical filter at the strength with the lowest MSE on
        ``TUNE_IMAGES`` training images (``engine.classical.TunedFilter``); kept."""
        with self._processes.use(self.workers) as pool:  # its processes start only if a strength must be picked
            return self._denoiser(name, check_kind(kind), level, dataset, noise_range, pool, progress, cancelled)

    # ----- scores on test images ---------------------------------------------------------------
    def scores(
        self,
        name: str,
        test_images: np.ndarray,
        kind: str,
        level: float,
        dataset: str = "mnist",
        *,
        noise_range: tuple[float, float] | None = None,
        progress: Progress | None = None,
        cancelled: CancelCheck | None = None,
    ) -> Scores:
        """MSE, PSNR and SSIM of baseline ``name`` on clean ``test_images`` (n, 784) under the evaluation's
        fixed ``kind`` noise draw at ``level``."""
        curve = self.curve(name, test_images, kind, [level], dataset, noise_range=noise_range, progress=progress,
                           cancelled=cancelled)  # fmt: skip
        return Scores(float(curve.mse[0]), float(curve.psnr[0]), float(curve.ssim[0]))

    def curve(
        self,
        name: str,
        test_images: np.ndarray,
        kind: str = "gaussian",
        levels: Sequence[float] = DEFAULT_LEVELS,
        dataset: str = "mnist",
        *,
        noise_range: tuple[float, float] | None = None,
        progress: Progress | None = None,
        cancelled: CancelCheck | None = None,
    ) -> BaselineCurve:
        """Baseline ``name`` fitted or tuned at each of ``levels`` (on training images) and scored on clean
        ``test_images`` (n, 784) (uint8 or float in [0, 1]) under the evaluation's fixed draw, scaled by
        each level, as ``engine.robustness.robustness_curve`` scores a model.  Kept, per test set.

        ``progress(fraction)`` and ``cancelled()`` are called between pieces of work (``Cancelled`` is raised).
        """
        kind, data = check_kind(kind), _dataset(dataset)
        levels = tuple(_level(s, kind) for s in levels)
        if not levels:
            raise ValueError("a curve needs at least one level")
        test = _checked_images(test_images, "test images")
        span = None if noise_range is None else check_noise(tuple(noise_range), kind)
        self._check_name(name)
        key = ("curve", name, data, kind, levels, span, _fingerprint(test))

        def compute() -> BaselineCurve:
            return self._score_levels(name, test, kind, levels, data, span, progress, cancelled)

        result = self._results.get(key, compute)
        report(progress, 1.0)
        return result

    def strongest_at(
        self,
        test_images: np.ndarray,
        kind: str,
        level: float,
        dataset: str = "mnist",
        *,
        progress: Progress | None = None,
        cancelled: CancelCheck | None = None,
    ) -> tuple[str, Scores]:
        """The baseline with the lowest MSE at ``level`` and its scores: the noisy input, the best linear denoiser
        and each classical filter, each on the test images its curve scores (``curve_images``: a per-image filter
        on a fixed subset).  PCA-k is left out: it is one affine map, so the best linear denoiser is at least as
        good on the training images."""
        names = (NOISY_INPUT, BEST_LINEAR, *CLASSICAL)
        found: dict[str, Scores] = {}
        for i, name in enumerate(names):
            found[name] = self.scores(name, curve_images(name, test_images), kind, level, dataset,
                                      progress=part(progress, i / len(names), (i + 1) / len(names)),
                                      cancelled=cancelled)  # fmt: skip
        best = strongest({name: s.mse for name, s in found.items()})
        return best, found[best]

    # ----- inside ---------------------------------------------------------------------------------
    def _score_levels(self, name, test, kind, levels, data, span, progress, cancelled) -> BaselineCurve:
        clean = as_unit_float(test).reshape(len(test), -1)
        pattern = NoisePattern(clean.shape, kind=kind)  # the evaluation's draw (MLP.evaluate's), scaled by each level
        noisy = np.empty_like(clean)
        rows: list[tuple[Scores, str]] = []
        slow = name in FILTERS and FILTERS[name].slow
        if name == BEST_LINEAR:  # every level's fit in one pass over the training images, then scoring each
            self._fit_linear_levels(kind, levels, data, part(progress, 0, LINEAR_FIT_SHARE), cancelled)
            progress = part(progress, LINEAR_FIT_SHARE, 1)
        with self._processes.use(self.workers if slow else 1) as pool:
            for i, level in enumerate(levels):
                check_cancelled(cancelled)
                start, end = i / len(levels), (i + 1) / len(levels)
                middle = (start + end) / 2
                fit_progress = part(progress, start, middle)
                fitted = self._denoiser(name, kind, level, data, span, pool, fit_progress, cancelled)
                pattern.apply(clean, level, out=noisy)
                if isinstance(fitted, TunedFilter):
                    denoised = apply_filter(fitted.name, fitted.strength, noisy, executor=pool,
                                            progress=part(progress, middle, end), cancelled=cancelled)  # fmt: skip
                else:
                    denoised = fitted(noisy)
                rows.append((scores(denoised, clean), fitted.setting))
                report(progress, end)
        values = {m: np.array([getattr(s, m) for s, _ in rows]) for m in ("mse", "psnr", "ssim")}
        return BaselineCurve(name, kind, np.array(levels), values["mse"], values["psnr"], values["ssim"],
                             tuple(setting for _, setting in rows))  # fmt: skip

    def _denoiser(self, name, kind, level, dataset, noise_range, pool, progress, cancelled) -> Denoiser:
        if name == NOISY_INPUT:
            return _NoisyInput()
        if name == BEST_LINEAR:
            return self._linear(kind, level, dataset, progress, cancelled)
        if name == BEST_LINEAR_RANGE:
            if noise_range is None:
                raise ValueError("best_linear_range needs noise_range=(low, high): the range it is fitted on")
            return self._linear(kind, tuple(noise_range), dataset, progress, cancelled)
        if name in FILTERS:
            return self._tuned(name, kind, _level(level, kind), dataset, pool, progress, cancelled)
        return _PcaDenoiser(self.pca(_pca_components(name), dataset), len(self.training_set(dataset)))

    def _tuned(self, name, kind, level, dataset, pool, progress, cancelled) -> TunedFilter:
        data = _dataset(dataset)
        check_filter(name)

        def tune() -> TunedFilter:
            clean, noisy = self.tuning_pair(kind, level, data)
            return tune_filter(name, clean, noisy, executor=pool, progress=progress, cancelled=cancelled)

        return self._results.get(("tuned", name, data, kind, level), tune)

    def _linear(self, kind, noise, dataset, progress, cancelled) -> LinearDenoiser:
        kind, data = check_kind(kind), _dataset(dataset)
        low, high = (round(v, 6) for v in check_noise(noise, kind))

        def fit() -> LinearDenoiser:
            return fit_linear_denoiser(self.training_set(data), (low, high), kind, progress=progress,
                                       cancelled=cancelled)  # fmt: skip

        return self._fits.get(("linear", data, kind, low, high), fit)

    def _fit_linear_levels(self, kind, levels, dataset, progress, cancelled) -> None:
        """Fit the best linear denoiser at each of ``levels`` not kept yet in one pass (``fit_linear_denoisers``:
        the images' conversion and the noise draw once a chunk, not once a level) and keep each as ``_linear``
        would; a single missing level is left to ``_linear``."""
        data = _dataset(dataset)
        missing = [level for level in dict.fromkeys(levels) if ("linear", data, kind, level, level) not in self._fits]
        if not 2 <= len(missing) <= self._fits.capacity:
            return
        fitted = fit_linear_denoisers(self.training_set(data), missing, kind, progress=progress,
                                      cancelled=cancelled)  # fmt: skip
        for level, denoiser in zip(missing, fitted, strict=True):
            self._fits.get(("linear", data, kind, level, level), lambda d=denoiser: d)

    def tuning_pair(self, kind: str, level: float, dataset: str = "mnist") -> tuple[np.ndarray, np.ndarray]:
        """(clean (m, 784), noisy (m, 784)) float32: ``tune_images`` training images, a fixed choice, and one
        fixed noise draw on them (the same pattern at every level)."""
        train = self.training_set(dataset)
        rng = np.random.default_rng(TUNE_SEED)
        chosen = np.sort(rng.choice(len(train), size=min(self.tune_images, len(train)), replace=False))
        clean = as_unit_float(train[chosen]).reshape(len(chosen), -1)
        return clean, add_noise(clean, level, np.random.default_rng([TUNE_SEED, 1]), kind=kind)

    @staticmethod
    def _check_name(name: str) -> None:
        if name in (NOISY_INPUT, BEST_LINEAR, BEST_LINEAR_RANGE) or name in FILTERS:
            return
        _pca_components(name)


class _NoisyInput:
    """Doing nothing: the noisy input as it is."""

    setting = "the noisy input itself"

    def __call__(self, noisy: np.ndarray) -> np.ndarray:
        return np.asarray(noisy, np.float32)


@dataclass(frozen=True)
class _PcaDenoiser:
    """PCA-k reconstruction, clipped to [0, 1]."""

    pca: PCA
    n_fit: int

    def __call__(self, noisy: np.ndarray) -> np.ndarray:
        return self.pca.reconstruct(noisy)

    @property
    def setting(self) -> str:
        return f"{self.pca.n_components} components of {self.n_fit:,} clean training images"


def _pca_components(name: str) -> int:
    """``"pca_64"`` -> 64; ``ValueError`` for a name that is no baseline."""
    head, _, digits = str(name).partition("_")
    if head != "pca" or not digits.isdigit() or int(digits) < 1:
        known = ", ".join([NOISY_INPUT, "pca_K", BEST_LINEAR, BEST_LINEAR_RANGE, *CLASSICAL])
        raise ValueError(f"unknown baseline {name!r}; known: {known}")
    return int(digits)


def _dataset(name: str) -> str:
    """A data set's name as a key: ``"Fashion-MNIST"`` and ``"fashion_mnist"`` are one data set."""
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"a data set is named by a string such as 'mnist', got {name!r}")
    return name.strip().lower().replace("-", "_")


def _level(level: float, kind: str) -> float:
    return round(check_level(level, kind), 6)


def _checked_images(images: np.ndarray, what: str) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim < 2 or len(images) == 0 or images.dtype.kind not in "uif":
        raise ValueError(f"{what} must be numeric images (n, 784) or (n, 28, 28) with n >= 1, got {images.shape}")
    return images.reshape(len(images), -1)


def _fingerprint(images: np.ndarray) -> str:
    """A content hash of an image array (its shape and dtype too): the same test set gives the same key."""
    import hashlib  # here, not at the top: loading OpenSSL costs the app's start ~4 ms

    arr = np.ascontiguousarray(images)
    digest = hashlib.blake2b(f"{arr.shape}{arr.dtype}".encode(), digest_size=16)
    digest.update(memoryview(arr).cast("B"))
    return digest.hexdigest()


# ----- what the app shows, from what it is given -----------------------------------------------------------
def check_metric(metric: str) -> str:
    """``metric`` when it is one of ``METRICS``; ``ValueError`` otherwise."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
    return metric


def finite_or_nan(values) -> np.ndarray:
    """(n,) float64 with every infinite value as NaN."""
    out = np.array(values, np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


def curve_images(name: str, test_images: np.ndarray, limit: int = SLOW_CURVE_IMAGES) -> np.ndarray:
    """The test images (n, ...) a baseline's curve scores in the app: all of them, or for a slow classical filter
    (``SLOW_FILTERS``) at most ``limit``, evenly spaced through the set (a fixed choice)."""
    images = np.asarray(test_images)
    if name not in SLOW_FILTERS or len(images) <= limit:
        return images
    return images[np.linspace(0, len(images) - 1, limit).round().astype(int)]


def strongest(errors: Mapping[str, float]) -> str:
    """The name with the lowest error (MSE) of ``errors`` (name -> MSE); the first of equals."""
    if not errors:
        raise ValueError("strongest needs at least one baseline's error")
    return min(errors, key=lambda name: errors[name])


@dataclass(frozen=True)
class DenoisedImage:
    """One image through a baseline: the output (h, w) float32 and its scores against the clean image (None when
    there is no clean image to score against: an empty canvas)."""

    image: np.ndarray
    scores: Scores | None


def denoise_image(denoiser: Denoiser, noisy: np.ndarray, clean: np.ndarray) -> DenoisedImage:
    """noisy, clean: (28, 28) in [0, 1] -> the baseline's output for the one image and its MSE / PSNR / SSIM."""
    noisy = np.asarray(noisy, np.float32)
    out = np.asarray(denoiser(noisy.reshape(1, -1)), np.float32).reshape(noisy.shape)
    return DenoisedImage(out, image_scores(out, clean))


# ----- from arrays, keeping nothing ---------------------------------------------------------------------
@dataclass(frozen=True)
class Baselines:
    """Test MSE of doing nothing and of PCA-k at one noise level; ``pca`` is None when k >= the pixel count."""

    sigma: float
    components: int
    noisy_input: float
    pca: float | None
    kind: str = "gaussian"


def unit_principal_axes(train_images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean (d,) float32, axes (d, d) float32 one per row, variances (d,) float64) of clean training images
    (n, d) uint8 or float in [0, 1], in units of [0, 1] pixels."""
    x = np.asarray(train_images).reshape(len(train_images), -1)
    mean, axes, variances = principal_axes(x)
    if x.dtype == np.uint8:  # the axes of x / 255 are those of x; the mean and variances scale
        mean, variances = mean / 255, variances / 255**2
    return mean.astype(np.float32), axes.astype(np.float32), variances


def fit_pca(train_images: np.ndarray, k: int) -> PCA:
    """PCA with ``k`` components of clean training images (n, 784) uint8 or float in [0, 1]."""
    pca = PCA(k)
    mean, axes, _ = unit_principal_axes(train_images)
    return pca.set_axes(mean, axes)


def pca_variances(train_images: np.ndarray) -> np.ndarray:
    """The variance of clean training images (n, 784) along each principal axis, strongest first: (784,)
    float64, in pixel units of [0, 1]."""
    return unit_principal_axes(train_images)[2]


def baselines(
    train_images: np.ndarray, test_images: np.ndarray, sigma: float, k: int, kind: str = "gaussian"
) -> Baselines:
    """Noisy-input and PCA-k test MSE at noise level ``sigma`` of ``kind`` (σ, or the fraction of pixels hit);
    images (n, 784) uint8 or float in [0, 1]."""
    kind = check_kind(kind)
    return Baselines(
        check_level(sigma, kind),
        int(k),
        noisy_input_mse(test_images, sigma, kind),
        pca_mse(train_images, test_images, sigma, k, kind),
        kind,
    )


def noisy_input_mse(test_images: np.ndarray, sigma: float, kind: str = "gaussian") -> float:
    """MSE of the fixed noisy copy of clean test images (n, 784) against them: what doing nothing scores."""
    kind = check_kind(kind)
    clean = as_unit_float(test_images).reshape(len(test_images), -1)
    return mse(fixed_noisy(clean, check_level(sigma, kind), kind=kind), clean)


def pca_mse(
    train_images: np.ndarray, test_images: np.ndarray, sigma: float, k: int, kind: str = "gaussian"
) -> float | None:
    """MSE of PCA-k reconstructions of the fixed noisy test images, PCA fitted on ``train_images``.

    None when ``k`` is at least the pixel count (PCA would keep everything: no baseline).
    """
    kind = check_kind(kind)
    sigma = check_level(sigma, kind)
    clean = as_unit_float(test_images).reshape(len(test_images), -1)
    if k >= clean.shape[1]:
        return None
    return mse(fit_pca(train_images, k).reconstruct(fixed_noisy(clean, sigma, kind=kind)), clean)


def best_linear_mse(
    train_images: np.ndarray,
    test_images: np.ndarray,
    level: float,
    kind: str = "gaussian",
    *,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> float:
    """MSE of the best linear denoiser fitted at ``level`` on ``train_images`` (n, 784) on the fixed noisy copy of
    ``test_images`` (m, 784) (uint8 or float in [0, 1]): the level a training run's test loss must reach to beat
    the strongest simple baseline."""
    kind = check_kind(kind)
    level = check_level(level, kind)
    clean = as_unit_float(test_images).reshape(len(test_images), -1)
    linear = fit_linear_denoiser(train_images, (level, level), kind, progress=progress, cancelled=cancelled)
    return mse(linear(fixed_noisy(clean, level, kind=kind)), clean)
