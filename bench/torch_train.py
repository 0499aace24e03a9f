"""The PyTorch twin of ``denoise-studio train``, for ``bench/train_speed.py --whole``: the same whole job, as a
PyTorch user would write it.

It reads MNIST's IDX files (gzip) itself, trains a denoising autoencoder of the given widths (ReLU between, a
sigmoid at the end) with Adam on Gaussian-noised images clipped to [0, 1] (σ drawn per image from a range, or one σ),
scores the test images after every epoch (one fixed noise draw), saves a checkpoint (model and optimizer) every
epoch, then scores the final model on the test set and saves it — what the CLI does with ``--no-record``.

Run:  python bench/torch_train.py --layers 784,10,784 --epochs 5 --data ../shared/data/mnist --output m.pt
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
from pathlib import Path

import numpy as np
import torch


def read_images(path: Path) -> np.ndarray:
    """(n, 784) uint8 from an IDX3 file, gzipped."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[4:8], "big")
    return np.frombuffer(data, np.uint8, offset=16).reshape(n, 784)


def noisy(x: torch.Tensor, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    """``x`` (n, 784) in [0, 1] with Gaussian noise of σ drawn per image from [low, high], clipped."""
    sigma = low + (high - low) * torch.rand(x.shape[0], 1, generator=generator)
    return (x + sigma * torch.randn(x.shape, generator=generator)).clamp_(0.0, 1.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="784,10,784", help="widths, comma-separated")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--noise", default="0.5", help="σ, or a range low:high")
    parser.add_argument("--data", default=os.environ.get("DENOISE_STUDIO_DATA"))
    parser.add_argument("--output", required=True)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    low, _, high = args.noise.partition(":")
    low, high = float(low), float(high or low)
    folder = Path(args.data)
    x_train = torch.from_numpy(read_images(folder / "train-images-idx3-ubyte.gz").astype(np.float32) / 255)
    x_test = torch.from_numpy(read_images(folder / "t10k-images-idx3-ubyte.gz").astype(np.float32) / 255)
    widths = [int(w) for w in args.layers.split(",")]
    layers: list[torch.nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.Sigmoid() if i == len(widths) - 2 else torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    generator = torch.Generator().manual_seed(0)
    test_noisy = noisy(x_test, (low + high) / 2, (low + high) / 2, torch.Generator().manual_seed(1))
    output = Path(args.output)

    def test_mse() -> float:
        with torch.no_grad():
            return torch.nn.functional.mse_loss(model(test_noisy), x_test).item()

    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        for start in range(0, len(x_train), args.batch_size):
            clean = x_train[order[start:start + args.batch_size]]
            loss = torch.nn.functional.mse_loss(model(noisy(clean, low, high, generator)), clean)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch + 1}: train {loss.item():.5f}, test {test_mse():.5f}", file=sys.stderr)
        checkpoint = output.with_suffix(".ckpt.tmp")
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch}, checkpoint)
        os.replace(checkpoint, output.with_suffix(".ckpt.pt"))
    score = test_mse()
    torch.save(model.state_dict(), output.with_suffix(".tmp"))
    os.replace(output.with_suffix(".tmp"), output)
    print(f"done: saved {output} (test MSE {score:.5f})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
