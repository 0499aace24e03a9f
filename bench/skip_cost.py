"""What a skip path and the noise-weighted loss cost in training, side by side in one process.

Times ``Trainer.fit`` (the path users run: shuffle, noise from a range, forward, loss, backward,
Adam, data-parallel steps when they pay) on the same images for the default model's network
(784-1024-1024-784) without a skip, with a gate, and with a gate and the loss weighted by each
image's noise level (MSE / (σ² + 0.05)) — and for the small 784-10-784 with a residual skip.  The
variants alternate for ``--rounds`` rounds so a busy moment on the shared machine hits all of
them; each figure is the median epoch's images per second, beside the plain network's.

    python bench/skip_cost.py [--images 8192] [--rounds 3]

The process re-executes itself without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (they may pin
OpenBLAS to a slower kernel) and prints the BLAS kernel and thread counts it ran with.
"""

from __future__ import annotations

import os
import sys

_STRIPPED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if any(k in os.environ for k in _STRIPPED) and not os.environ.get("_DS_SKIP_COST_CHILD"):
    _env = {k: v for k, v in os.environ.items() if k not in _STRIPPED}
    _env["_DS_SKIP_COST_CHILD"] = "1"
    os.execve(sys.executable, [sys.executable, *sys.argv], _env)

import argparse  # noqa: E402
import statistics  # noqa: E402
from pathlib import Path  # noqa: E402

from threadpoolctl import threadpool_info  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.callbacks import Callback  # noqa: E402
from engine.dataset import read_split  # noqa: E402
from engine.nn import build_mlp  # noqa: E402
from engine.training import TrainConfig, Trainer  # noqa: E402

NETWORKS = {
    "784-1024-1024-784": ([784, 1024, 1024, 784], ["relu", "relu", "sigmoid"]),
    "784-10-784": ([784, 10, 784], ["relu", "sigmoid"]),
}
VARIANTS = [  # (network, what is added, skip, noise weighting c)
    ("784-1024-1024-784", "no skip", None, None),
    ("784-1024-1024-784", "gate", "gate", None),
    ("784-1024-1024-784", "gate, weighted loss", "gate", 0.05),
    ("784-10-784", "no skip", None, None),
    ("784-10-784", "residual (linear last layer)", "residual", None),
]


class EpochTimes(Callback):
    def __init__(self) -> None:
        self.rates: list[float] = []

    def on_epoch_end(self, epoch, logs):
        self.rates.append(logs["samples_per_s"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8192, help="training images per epoch")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (one timed epoch each)")
    args = parser.parse_args()
    images, _ = read_split("train", args.images, progress=False)
    images = images.reshape(len(images), -1)
    blas = [(i["internal_api"], i.get("architecture"), i["num_threads"]) for i in threadpool_info()]
    print(f"BLAS: {blas}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start")
    rates: dict[tuple[str, str], list[float]] = {(net, added): [] for net, added, _, _ in VARIANTS}
    for _ in range(args.rounds):
        for net, added, skip, weighting in VARIANTS:
            widths, activations = NETWORKS[net]
            if skip == "residual":
                activations = [*activations[:-1], "linear"]  # the correction may be negative
            model = build_mlp(widths, activations, seed=0, skip=skip)
            config = TrainConfig(epochs=2, noise=(0.0, 1.0), noise_weighting=weighting)
            timer = EpochTimes()
            Trainer(model, config, [timer]).fit(images)
            rates[net, added].append(timer.rates[-1])  # the second epoch: buffers made, caches warm
    print(f"load average {os.getloadavg()[0]:.1f} at the end; median of {args.rounds} rounds, images/s:")
    for (net, added), values in rates.items():
        median, plain = statistics.median(values), statistics.median(rates[net, "no skip"])
        print(f"  {net + ', ' + added:<48} {median:>9,.0f}   {median / plain:.2f} of the plain network's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
