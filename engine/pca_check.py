"""Does a linear autoencoder learn PCA?  Its decoder's subspace against PCA's, and the two test errors.

The walkthrough's claim: with identity activations and the L2 loss, the best a k-unit code can
do is what PCA does, and the trained decoder's k columns span the same subspace as the top-k
principal axes of the training images (Baldi & Hornik, 1989).  The columns need not be PCA's
axes themselves (any basis of that subspace reconstructs equally well), so the check compares
subspaces by their principal angles (``engine.subspaces``), and the errors on clean test images.

Gradient descent finds strong directions fast and the k-th slowly when its variance is close to
the (k+1)-th's: the error hardly changes while that direction turns, so the gradient that turns
it is weak.  ``PcaReference.gap`` is that ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.baselines import unit_principal_axes
from engine.images import as_unit_float
from engine.metrics import mse
from engine.pca import PCA
from engine.subspaces import principal_angles

MATCH = 0.98
"""cos θ from which a direction counts as found (θ ≈ 11°)."""
NOISY_EXCESS = 0.02
"""A test MSE this far above PCA's, after training on noisy images, is the denoiser's shrinkage, said so."""
SMALL_GAP = 1.5
"""A variance ratio λ_k / λ_(k+1) below this makes the k-th direction slow to find."""


def has_linear_decoder(model) -> bool:
    """True when every layer after the code (``model.bottleneck_index()``) is linear (identity activation) and
    no skip path adds the input to what it draws."""
    if len(model.layers) < 2 or getattr(model, "skip", None) is not None:
        return False
    return all(layer.activation.key == "linear" for layer in model.layers[model.bottleneck_index() + 1 :])


def is_linear(model) -> bool:
    """True when every layer of ``model`` has the identity activation (a linear autoencoder, without a skip path)."""
    if getattr(model, "skip", None) is not None:
        return False
    return bool(model.layers) and all(layer.activation.key == "linear" for layer in model.layers)


def decoder_matrix(model) -> np.ndarray:
    """The matrix D (n_out, k) of a linear decoder, ``decode(c) = D @ c + decode(0)``: float64.

    Each column is the image direction one code unit draws.  Raises ``ValueError`` when a layer
    after the code is not linear (then the decoder draws no subspace).
    """
    if len(model.layers) < 2:
        raise ValueError("the model needs a code layer and a decoder (at least two Dense layers)")
    start = model.bottleneck_index() + 1
    for i, layer in enumerate(model.layers[start:], start + 1):
        if layer.activation.key != "linear":
            raise ValueError(
                f"the decoder is not linear: layer {i} uses {layer.activation.name}; the PCA check needs "
                "identity activations after the code (Architecture ▸ preset 'Linear 784-k-784 (PCA check)')"
            )
    matrix = np.asarray(model.layers[start].W, np.float64)  # (n_out, k): W is stored (n_out, n_in)
    for layer in model.layers[start + 1 :]:
        matrix = np.asarray(layer.W, np.float64) @ matrix
    return matrix


@dataclass(frozen=True)
class PcaReference:
    """PCA's top-k subspace of the training images and the variances around its edge."""

    pca: PCA
    variances: np.ndarray  # (k + 1,) (or (k,) when k is the pixel count): variance along axes 1 .. k+1

    @property
    def components(self) -> int:
        return self.pca.n_components

    @property
    def gap(self) -> float | None:
        """λ_k / λ_(k+1): how much more variance the weakest direction kept carries than the first one left out."""
        k = self.components
        if len(self.variances) <= k or self.variances[k] <= 0:
            return None
        return float(self.variances[k - 1] / self.variances[k])


def pca_reference(train_images: np.ndarray, k: int) -> PcaReference:
    """PCA-k of clean training images (n, 784), uint8 or float in [0, 1] (one fit of the principal axes)."""
    mean, axes, variances = unit_principal_axes(train_images)
    return PcaReference(PCA(k).set_axes(mean, axes), variances[: k + 1])


def decoder_cosines(decoder: np.ndarray, reference: PcaReference) -> np.ndarray:
    """cos θ_1 ≥ ... ≥ cos θ_k between a decoder's column space (``decoder_matrix``, (784, k)) and PCA's."""
    decoder = np.asarray(decoder)
    if decoder.ndim != 2 or decoder.shape[1] != reference.components:
        raise ValueError(
            f"the decoder has shape {decoder.shape}; PCA-{reference.components} needs (784, {reference.components})"
        )
    return principal_angles(decoder, reference.pca.components.T)


@dataclass(frozen=True)
class PcaCheck:
    """A linear autoencoder against PCA with as many components.

    ``cosines`` (k,) largest first; ``model_mse`` and ``pca_mse`` on clean test images, PCA's
    projection not clipped to [0, 1] (the linear network's output is not clipped either);
    ``noise`` the noise the model was trained on, in words ("σ = 0.30"), from its file: None when it
    trained on clean images or the file does not say.
    """

    cosines: np.ndarray
    model_mse: float
    pca_mse: float
    reference: PcaReference
    noise: str | None = None

    @property
    def components(self) -> int:
        return self.reference.components

    @property
    def excess(self) -> float:
        """How far the network's test MSE is above PCA's, as a fraction (0.0025 = +0.25 %)."""
        return self.model_mse / self.pca_mse - 1.0


def pca_check(model, train_images: np.ndarray, test_images: np.ndarray) -> PcaCheck:
    """Compare ``model`` (linear decoder, 784 -> k -> 784) with PCA-k of ``train_images``.

    Images: (n, 784) clean, uint8 or float in [0, 1].  Raises ``ValueError`` when the decoder is
    not linear or the code is as wide as the image.
    """
    matrix = decoder_matrix(model)
    k = matrix.shape[1]
    if k >= matrix.shape[0]:
        raise ValueError(f"the code ({k} units) is as wide as the image: there is no subspace to compare")
    reference = pca_reference(train_images, k)
    clean = as_unit_float(test_images).reshape(len(test_images), -1)
    pca_mse = mse(reference.pca.decode(reference.pca.encode(clean)), clean)
    model_mse = mse(model.predict(clean), clean)
    return PcaCheck(decoder_cosines(matrix, reference), model_mse, pca_mse, reference, training_noise(model))


def training_noise(model) -> str | None:
    """The noise a model's file says it was trained on, in words: "σ = 0.30", "σ from 0.00 to 0.80",
    "masking noise at 0.30"; None for clean images (level 0) or when the file does not say."""
    training = getattr(model, "metadata", {}).get("training")
    if not isinstance(training, dict):
        return None
    noise, kind = training.get("noise"), training.get("noise_kind", "gaussian")
    levels = noise if isinstance(noise, (list, tuple)) else [noise]
    if len(levels) not in (1, 2) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in levels):
        return None
    if max(levels) <= 0:
        return None
    level = f"{levels[0]:.2f}" if len(levels) == 1 else f"from {levels[0]:.2f} to {levels[1]:.2f}"
    if kind == "gaussian":
        return f"σ = {level}" if len(levels) == 1 else f"σ {level}"
    return f"{str(kind).replace('_', '-')} noise at {level}"


def directions_found(cosines: np.ndarray) -> int:
    """How many of the cosines (k,) are at least ``MATCH``: the directions the decoder shares with PCA."""
    return int(np.sum(np.asarray(cosines) >= MATCH))


def describe(check: PcaCheck) -> str:
    """A sentence or two for a learner: what the cosines and the two errors say."""
    k, cos = check.components, check.cosines
    found = directions_found(cos)
    error = f"its error is {_percent(check.excess)} PCA's"
    if found == k and check.excess > NOISY_EXCESS:
        if check.noise:
            return (
                f"All {k} directions match PCA's, but {error}: trained on noisy images ({check.noise}), it draws "
                "every image fainter, as a denoiser does. Trained at σ = 0 the errors agree too."
            )
        return (
            f"All {k} directions match PCA's, but {error}: it has found PCA's subspace, not yet the best drawing "
            "within it. Train longer on clean images (σ = 0)."
        )
    if found == k:
        return f"All {k} directions match PCA's and {error}: this linear autoencoder has learned PCA, as the " \
               "walkthrough says."  # fmt: skip
    if found == 0:
        return (
            f"Its directions are still far from PCA's (largest cos θ {cos[0]:.2f}): train it on clean images "
            "(σ = 0) and watch the cosines rise to 1."
        )
    head = f"{found} of {k} directions match PCA's; the last is still turning (cos θ {cos[-1]:.2f}) and {error}."
    gap = check.reference.gap
    if gap is not None and gap < SMALL_GAP and found == k - 1:
        return (
            f"{head} PCA's direction {k} has barely more variance than direction {k + 1} (ratio {gap:.2f}): turning "
            "towards it hardly lowers the error, so gradient descent finds it slowly. Train longer."
        )
    return f"{head} The weaker directions are found last: train longer."


def _percent(excess: float) -> str:
    """"0.25 % above" / "0.10 % below" for a relative difference (a no-break space before the %)."""
    return f"{abs(excess) * 100:.2f}\u00a0% {'above' if excess >= 0 else 'below'}"
