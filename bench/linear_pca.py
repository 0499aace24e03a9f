"""Does the engine's linear autoencoder learn PCA?  The walkthrough's claim, measured on real MNIST.

A linear 784-10-784 (identity activations), Adam lr 1e-3, batch 128, clean images (σ = 0), all
60,000 training images, for each seed: after every epoch, its clean test MSE against PCA-10's
(the projection, not clipped, as the network's output is not) and the cosines of the principal
angles between its decoder's column space and PCA's top-10 subspace (``engine.pca_check``).

Run:  DENOISE_STUDIO_DATA=../shared/data/mnist python bench/linear_pca.py [--seeds 0 1 2] [--epochs 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.callbacks import Callback  # noqa: E402
from engine.dataset import read_split  # noqa: E402
from engine.nn import build_mlp  # noqa: E402
from engine.pca_check import pca_check  # noqa: E402


class EveryEpoch(Callback):
    """Checks the model against PCA after every epoch (outside the timed training: the trainer waits)."""

    def __init__(self, train, test) -> None:
        self.train, self.test, self.rows = train, test, []

    def on_epoch_end(self, epoch, logs):
        check = pca_check(self.trainer.model, self.train, self.test)
        self.rows.append((epoch + 1, check))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--k", type=int, default=10, help="code units (and PCA components)")
    args = parser.parse_args(argv)
    train, _ = read_split("train", progress=False)
    test, _ = read_split("test", progress=False)
    print(f"linear 784-{args.k}-784, Adam lr 1e-3, batch 128, clean images, {len(train):,} training images; "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    summary = []
    for seed in args.seeds:
        model = build_mlp([784, args.k, 784], ["linear", "linear"], seed=seed)
        watch = EveryEpoch(train, test)
        started = time.perf_counter()
        model.fit(train, None, epochs=args.epochs, batch_size=128, lr=1e-3, optimizer="adam", noise=0.0, seed=seed,
                  callbacks=[watch])  # fmt: skip
        seconds = time.perf_counter() - started
        smallest = " ".join(f"{check.cosines[-1]:.3f}" for _, check in watch.rows)
        print(f"seed {seed}: smallest cosine after each epoch: {smallest}  ({seconds:.1f} s with the checks)")
        summary.append((seed, dict(watch.rows)))
    check = summary[0][1][args.epochs]
    gap = check.reference.gap
    print(f"PCA-{args.k} clean test MSE {check.pca_mse:.5f}; λ{args.k}/λ{args.k + 1} = {gap:.3f}")
    print()
    print("| seed | epochs | test MSE | vs PCA-10 | smallest cosine |")
    print("|---|---|---|---|---|")
    for seed, rows in summary:
        for epochs in sorted({min(5, args.epochs), args.epochs}):
            c = rows[epochs]
            print(f"| {seed} | {epochs} | {c.model_mse:.5f} | {c.excess * 100:+.2f} % | {c.cosines[-1]:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
