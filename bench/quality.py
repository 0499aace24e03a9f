"""Reconstruction quality of the shipped models against the noisy input and PCA with the same number of components.

Every score is the test-set MSE against the clean images, under the fixed evaluation noise
draw (engine.noise.EVAL_NOISE_SEED), on all 10,000 MNIST test images; PCA is fitted on all
60,000 clean training images (engine.baselines, the same numbers the app shows).

    python bench/quality.py [--noise 0.1 0.3 0.5] [--models NAME ...]
"""

from __future__ import annotations

import argparse

import numpy as np

from engine.baselines import baselines
from engine.dataset import Dataset
from engine.model_paths import shipped_models
from engine.nn import MLP


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", type=float, nargs="+", default=[0.1, 0.3, 0.5])
    parser.add_argument("--models", nargs="+", default=shipped_models())
    args = parser.parse_args()

    data = Dataset()
    models = {name: MLP.from_file(name) for name in args.models}
    rows: dict[str, tuple[object, dict[float, float]]] = {}
    for name, model in models.items():
        k = model.latent_width
        levels = {s: baselines(data.train_u8, data.test_u8, s, k) for s in args.noise}
        rows.setdefault("noisy input (identity)", ("-", {s: b.noisy_input for s, b in levels.items()}))
        rows.setdefault(f"PCA-{k}", (k, {s: b.pca for s, b in levels.items()}))
        rows[name] = (k, {s: model.evaluate(data, s)["mse"] for s in args.noise})
    header = f"{'method':<40} {'latent':>6} " + " ".join(f"{'σ=' + format(s, 'g'):>9}" for s in args.noise)
    print("test-set MSE, 10,000 MNIST test images, fixed noise draw\n" + header)
    for label, (k, scores) in rows.items():
        print(f"{label:<40} {k!s:>6} " + " ".join(f"{scores[s]:>9.5f}" for s in args.noise))
    print(f"(numpy {np.__version__})")


if __name__ == "__main__":
    main()
