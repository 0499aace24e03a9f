"""Corrupting images in [0, 1]: the damage a denoiser learns to undo, in training and in evaluation.

Three kinds, each with one strength (its *level*):

- ``gaussian``: ``clip(x + level * N(0, 1), 0, 1)``; the level is the standard deviation σ (>= 0).
- ``salt_and_pepper``: each pixel, with probability ``level``, is set to 0 or to 1 (even odds).
- ``masking``: each pixel, with probability ``level``, is set to 0 — the "masking noise" of the
  original denoising-autoencoder papers (Vincent et al., 2008).

A training run may give a range ``(low, high)`` instead of one level: each image then draws its
own level uniformly from it ("blind" denoising, one model for the whole slider).  Arrays are
float32 throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.run_limits import level_bound

EVAL_NOISE_SEED = 20240531
"""Seed of the fixed noise draw every evaluation uses, so scores compare across models."""

NOISE_KINDS = ("gaussian", "salt_and_pepper", "masking")
"""The kinds of noise, by their canonical names (``salt-and-pepper`` is accepted for ``salt_and_pepper``)."""
LEVEL_NAMES = {"gaussian": "σ", "salt_and_pepper": "fraction", "masking": "fraction"}
"""What a kind's level means: a standard deviation, or the fraction of pixels hit."""


def check_kind(kind: str) -> str:
    """A noise kind's canonical name; ``ValueError`` naming the allowed ones for anything else."""
    if not isinstance(kind, str):
        raise TypeError(f"noise_kind must be a string, got {type(kind).__name__}")
    name = kind.strip().lower().replace("-", "_")
    if name not in NOISE_KINDS:
        raise ValueError(f"noise_kind must be one of gaussian, salt-and-pepper, masking; got {kind!r}")
    return name


def check_level(level: float, kind: str = "gaussian") -> float:
    """One noise level checked for its kind (``engine.run_limits.level_bound``): σ from 0 to ``MAX_SIGMA``, or a
    fraction from 0 to 1."""
    return level_bound(kind).check(level)


def check_noise(noise, kind: str = "gaussian") -> tuple[float, float]:
    """One level or a ``(low, high)`` pair -> ``(low, high)``, checked for the kind (``low == high`` for one)."""
    kind = check_kind(kind)
    if isinstance(noise, (list, tuple, np.ndarray)):
        if len(noise) != 2:
            raise ValueError(f"noise range must be a (low, high) pair, got {len(noise)} values")
        low, high = (check_level(v, kind) for v in noise)
        if low > high:
            raise ValueError(f"noise range (low, high) needs low <= high, got ({low:g}, {high:g})")
        return low, high
    level = check_level(noise, kind)
    return level, level


@dataclass(frozen=True)
class NoiseSetting:
    """The noise a model was trained with: its kind and the range each image's level was drawn from."""

    kind: str = "gaussian"
    low: float = 0.1
    high: float = 0.1

    @property
    def is_range(self) -> bool:
        return self.high > self.low

    @property
    def default_level(self) -> float:
        """The level to show a model at and to score it at: the level itself, or the middle of the range."""
        return (self.low + self.high) / 2

    def describe(self) -> str:
        """``"Gaussian σ 0.1"``, ``"Gaussian σ 0–0.8"``, ``"masking, fraction 0.25"``."""
        levels = f"{self.low:g}–{self.high:g}" if self.is_range else f"{self.low:g}"
        if self.kind == "gaussian":
            return f"Gaussian σ {levels}"
        return f"{self.kind.replace('_', '-')}, {LEVEL_NAMES[self.kind]} {levels}"


def training_noise(metadata: dict) -> NoiseSetting | None:
    """How a model was trained, from its file's metadata (``metadata["training"]``); None when it does not say.

    Files written before noise kinds and ranges existed record one Gaussian σ and read as such.
    """
    training = metadata.get("training") if isinstance(metadata, dict) else None
    if not isinstance(training, dict) or "noise" not in training:
        return None
    try:
        kind = check_kind(training.get("noise_kind", "gaussian"))
        low, high = check_noise(training["noise"], kind)
    except (TypeError, ValueError):
        return None
    return NoiseSetting(kind, low, high)


def add_noise(
    x: np.ndarray, level, rng: np.random.Generator, out: np.ndarray | None = None, kind: str = "gaussian"
) -> np.ndarray:
    """x: (..., n_pixels) float32 in [0, 1] -> x corrupted by ``kind`` noise, float32, same shape.

    ``level`` is one level, or for x of shape (n, n_pixels) an array (n,) with one level per row.
    ``out`` may be ``x`` itself (in place).  For the same ``rng`` state, the pixels hit by
    salt-and-pepper or masking at one level are among those hit at any higher level (one fixed
    pattern that a slider scales, as σ scales one fixed Gaussian draw).
    """
    kind = check_kind(kind)
    per_row = isinstance(level, np.ndarray)
    if per_row:
        level = _check_row_levels(level, x, kind)
    else:
        level = check_level(level, kind)
    if out is None:
        out = np.empty(x.shape, np.float32)
    if not per_row and level == 0:
        if out is not x:
            np.copyto(out, x)
        return out
    if kind == "gaussian":
        if not per_row and out is not x:  # the original path, kept draw for draw
            rng.standard_normal(out=out, dtype=np.float32)
            out *= np.float32(level)
            out += x
        else:
            noise = rng.standard_normal(x.shape, dtype=np.float32)
            noise *= level[:, None] if per_row else np.float32(level)
            np.add(x, noise, out=out)
        return np.clip(out, 0, 1, out=out)
    p = level[:, None] if per_row else np.float32(level)
    hit = rng.random(x.shape, dtype=np.float32) < p
    fill = (rng.random(x.shape, dtype=np.float32) < 0.5).astype(np.float32) if kind == "salt_and_pepper" else 0
    if out is not x:
        np.copyto(out, x)
    np.copyto(out, fill, where=hit)
    return out


def _check_row_levels(levels: np.ndarray, x: np.ndarray, kind: str) -> np.ndarray:
    """Per-row levels checked against x: (n,) finite, within the kind's bound; float32."""
    if x.ndim != 2 or levels.shape != (len(x),):
        raise ValueError(f"per-row noise levels must have shape ({len(x)},) for images {x.shape}, got {levels.shape}")
    with np.errstate(over="ignore"):
        levels = np.asarray(levels, np.float32)
    bound = level_bound(kind)
    if not np.all(np.isfinite(levels)) or levels.min(initial=0) < bound.low or levels.max(initial=0) > bound.high:
        raise ValueError(f"per-row {bound.name} levels must be finite numbers {bound.describe()}")
    return levels


class NoisePattern:
    """One fixed random draw of a kind of noise, which any level then scales: the evaluation's noise, a slider's.

    ``apply(x, level)`` gives exactly what ``add_noise(x, level, default_rng(seed), kind=kind)``
    gives (the same draws, the same float32 arithmetic), without drawing again for each level:
    Gaussian noise is ``clip(x + level * z, 0, 1)`` for one N(0, 1) pattern ``z``; salt-and-pepper
    and masking hit the pixels whose fixed uniform value is below the level, so a higher level
    hits a superset of the pixels.

    shape : the images' shape, e.g. (n, 784);  seed : the draw;  kind : the noise kind.
    """

    def __init__(self, shape: tuple[int, ...], seed: int = EVAL_NOISE_SEED, kind: str = "gaussian") -> None:
        self.kind = check_kind(kind)
        self.shape = tuple(shape)
        rng = np.random.default_rng(seed)
        if self.kind == "gaussian":
            self.values = rng.standard_normal(self.shape, dtype=np.float32)  # z ~ N(0, 1)
            self.fill = None
        else:
            self.values = rng.random(self.shape, dtype=np.float32)  # u ~ U[0, 1): hit where u < level
            salt = rng.random(self.shape, dtype=np.float32) < 0.5 if self.kind == "salt_and_pepper" else None
            self.fill = None if salt is None else salt.astype(np.float32)  # 0 (pepper) or 1 (salt)

    def apply(self, x: np.ndarray, level: float, out: np.ndarray | None = None) -> np.ndarray:
        """x: clean images of ``shape``, float32 in [0, 1] -> their noisy copy at ``level``, float32."""
        level = check_level(level, self.kind)
        x = np.asarray(x, np.float32)
        if x.shape != self.shape:
            raise ValueError(f"images of shape {x.shape} do not fit a noise pattern of shape {self.shape}")
        if out is None:
            out = np.empty(self.shape, np.float32)
        if level == 0:
            np.copyto(out, x)
            return out
        if self.kind == "gaussian":
            np.multiply(self.values, np.float32(level), out=out)
            out += x
            return np.clip(out, 0, 1, out=out)
        hit = self.values < np.float32(level)
        np.copyto(out, x)
        np.copyto(out, 0 if self.fill is None else self.fill, where=hit)
        return out


def fixed_noisy(x: np.ndarray, level: float, seed: int = EVAL_NOISE_SEED, kind: str = "gaussian") -> np.ndarray:
    """The evaluation set's noisy copy: the same noise draw for the same (seed, shape, kind)."""
    x = np.asarray(x, np.float32)
    return NoisePattern(x.shape, seed, kind).apply(x, level)


BANK_VALUES = 1 << 20
"""Most random values drawn per epoch for training noise (4 MB float32, ~10 ms to draw)."""
FRESH_VALUES = 1 << 18
"""Epochs needing at most this many noise values (334 MNIST images) get all-fresh noise."""


class EpochNoise:
    """Training noise for one epoch's batches: cheap, reproducible from ``rng``, any kind, one level or a range.

    Drawing a fresh random value for every pixel of every image costs more than the training
    step itself (about 9 ns a Gaussian value, 47 million values per MNIST epoch).  So each epoch
    draws one bank of iid float32 values from ``rng`` — N(0, 1) for Gaussian noise, U[0, 1) for
    the others; an eighth of the epoch's values, at least ``FRESH_VALUES`` and two batches, at
    most ``bank_values`` — and batch ``i`` reads the contiguous window
    ``bank[o_i : o_i + batch * n_pixels]`` at a random offset ``o_i``, with a random sign (a
    uniform value ``u`` is then read as ``1 - u``).  Within a batch the values are exactly iid;
    across batches bank values recur at randomly shifted (image, pixel) positions.  When the bank
    would hold the whole epoch's values, every batch gets its own fresh values.

    With a range, the epoch also draws one level per image, uniform in ``[low, high]``; row ``r``
    of batch ``i`` (image ``i * batch_size + r`` of the epoch's order) uses level ``i * batch_size + r``.

    Parameters
    ----------
    noise : one level (σ for Gaussian noise, a fraction for the others) or a ``(low, high)`` range.
    rng : the epoch's Generator; the bank, offsets, signs and levels are drawn from it here.
    n_samples, n_pixels, batch_size : the epoch's shape: ``ceil(n_samples / batch_size)``
        batches of (batch_size, n_pixels), the last one possibly shorter.
    kind : ``"gaussian"``, ``"salt_and_pepper"`` or ``"masking"``.
    """

    def __init__(
        self,
        noise,
        rng: np.random.Generator,
        n_samples: int,
        n_pixels: int,
        batch_size: int,
        bank_values: int = BANK_VALUES,
        kind: str = "gaussian",
    ) -> None:
        self.kind = check_kind(kind)
        self.low, self.high = check_noise(noise, self.kind)
        self.n_pixels, self.batch_size = n_pixels, batch_size
        self.levels: np.ndarray | None = None  # (n_samples, 1) float32 for a range
        self._scratch: np.ndarray | None = None  # 1 - window, for salt-and-pepper and masking: a batch's worth
        n_batches = -(-n_samples // batch_size)
        if self.high == 0:
            self.bank = None
            return
        gaussian = self.kind == "gaussian"

        def draw(size: int) -> np.ndarray:
            return rng.standard_normal(size, dtype=np.float32) if gaussian else rng.random(size, dtype=np.float32)

        total = n_samples * n_pixels
        window = batch_size * n_pixels
        size = max(min(bank_values, max(FRESH_VALUES, total // 8)), 2 * window)
        if size >= total:  # fresh values for every pixel of the epoch
            self.bank = draw(total)
            self.offsets = np.arange(n_batches, dtype=np.int64) * window
            self.negate = np.zeros(n_batches, bool)
        else:
            self.bank = draw(size)
            self.offsets = rng.integers(0, self.bank.size - window + 1, size=n_batches)
            self.negate = rng.random(n_batches) < 0.5
            if not gaussian:  # made here, not on first use: two threads may each use a part of it at once
                self._scratch = np.empty(window, np.float32)
        if self.low == self.high:
            self.level = np.float32(self.low)
            if gaussian:
                self.bank *= self.level
        else:
            self.levels = rng.uniform(self.low, self.high, n_samples).astype(np.float32)[:, None]

    def apply(self, clean: np.ndarray, batch: int, out: np.ndarray, row: int = 0) -> np.ndarray:
        """clean: (size, n_pixels) float32 in [0, 1] -> out: batch ``batch``'s noisy copy, float32 in [0, 1].

        ``clean`` may be some rows of the batch, the first being row ``row``: they get the values the whole
        batch's rows get (two threads may each make some rows of a batch at the same time)."""
        if self.bank is None:
            np.copyto(out, clean)
            return out
        start = int(self.offsets[batch]) + row * self.n_pixels
        window = self.bank[start : start + clean.size].reshape(clean.shape)
        negate = bool(self.negate[batch])
        if self.levels is None:
            level = self.level
        else:
            first = batch * self.batch_size + row
            level = self.levels[first : first + len(clean)]  # (size, 1): one level per row
        if self.kind == "gaussian":
            if self.levels is None:  # the bank is already scaled by σ
                (np.subtract if negate else np.add)(clean, window, out=out)
            else:
                np.multiply(window, level, out=out)
                if negate:
                    np.subtract(clean, out, out=out)
                else:
                    np.add(clean, out, out=out)
            return np.clip(out, _ZERO, _ONE, out=out)
        u = window
        if negate:
            at = row * self.n_pixels  # these rows' own part: another thread may be using another
            u = np.subtract(_ONE, window, out=self._scratch[at : at + clean.size].reshape(clean.shape))
        if self.kind == "masking":
            return np.multiply(clean, u >= level, out=out)
        half = level * np.float32(0.5)  # u < p/2: pepper (0); p/2 <= u < p: salt (1)
        np.copyto(out, clean)
        np.copyto(out, _ZERO, where=u < half)
        np.copyto(out, _ONE, where=(u >= half) & (u < level))
        return out


_ZERO, _ONE = np.float32(0), np.float32(1)
