"""Reconstruction quality of the shipped models against PCA with the same number of components.

Every score is the test-set MSE against the clean images, under the fixed evaluation noise
draw (engine.noise.EVAL_NOISE_SEED), on all 10,000 MNIST test images.

    python bench/quality.py [--noise 0.1 0.3 0.5] [--models NAME ...]
"""

from __future__ import annotations

import argparse

import numpy as np

from engine.dataset import Dataset
from engine.metrics import mse
from engine.model_io import shipped_models
from engine.nn import MLP
from engine.noise import fixed_noisy
from engine.pca import PCA


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", type=float, nargs="+", default=[0.1, 0.3, 0.5])
    parser.add_argument("--models", nargs="+", default=shipped_models())
    args = parser.parse_args()

    data = Dataset()
    train, test = data.train_images, data.test_images
    noisy = {s: fixed_noisy(test, s) for s in args.noise}
    rows = [("noisy input (identity)", "-", {s: mse(noisy[s], test) for s in args.noise})]
    for name in args.models:
        model = MLP.from_file(name)
        k = model.layers[model.bottleneck_index()].n_out
        pca = PCA(k).fit(train)
        rows.append((f"PCA-{k}", k, {s: mse(pca.reconstruct(noisy[s]), test) for s in args.noise}))
        rows.append((name, k, {s: mse(model.predict(noisy[s]), test) for s in args.noise}))
    header = f"{'method':<40} {'latent':>6} " + " ".join(f"{'σ=' + format(s, 'g'):>9}" for s in args.noise)
    print("test-set MSE, 10,000 MNIST test images, fixed noise draw\n" + header)
    seen = set()
    for label, k, scores in rows:
        if label in seen:
            continue
        seen.add(label)
        print(f"{label:<40} {k!s:>6} " + " ".join(f"{scores[s]:>9.5f}" for s in args.noise))
    print(f"(numpy {np.__version__})")


if __name__ == "__main__":
    main()
