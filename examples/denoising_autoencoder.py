"""The seed walkthrough, "Denoising Autoencoder on MNIST", as a script.

Loads the shipped autoencoder (printing its summary), takes one noisy image from the
shuffled test set, reconstructs it, and writes a PNG: noisy input | reconstruction | clean.

    python examples/denoising_autoencoder.py [output.png]
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from engine.dataset import Dataset  # noqa: E402
from engine.layers import Dense  # noqa: E402, F401  (the walkthrough's imports, kept as written)
from engine.nn import MLP  # noqa: E402

# --- the walkthrough, as written ---------------------------------------------------------------
autoencoder = MLP()
autoencoder.load("mnist_denoising_autoencoder")  # found in models/ by bare name; prints the summary

dataset = Dataset(name="mnist", train_size=60000, test_size=10000, batch_size=1)
randomBatch = next(dataset.batches(autoencoder=True, noise=0.1))
inputImage = randomBatch[1][0]  # one noisy image from the shuffled test set

prediction = autoencoder.predict(inputImage)  # its reconstruction, same shape as the input
# -----------------------------------------------------------------------------------------------


def save_strip(images: list[np.ndarray], path: Path, scale: int = 8, gap: int = 4) -> None:
    """Write 28x28 images in [0, 1] side by side as a greyscale PNG, each pixel a scale x scale block."""
    from PySide6.QtGui import QImage  # QImage needs no QApplication

    tiles = [np.kron(np.clip(img.reshape(28, 28), 0, 1), np.ones((scale, scale))) for img in images]
    spacer = np.ones((28 * scale, gap))
    strip = np.hstack([part for tile in tiles for part in (tile, spacer)][:-1])
    pixels = np.ascontiguousarray((strip * 255).round().astype(np.uint8))
    height, width = pixels.shape
    image = QImage(pixels.data, width, height, width, QImage.Format.Format_Grayscale8)
    if not image.save(str(path)):
        raise OSError(f"could not write {path}")


if __name__ == "__main__":
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("denoising_autoencoder.png")
    clean = randomBatch[1][1]
    save_strip([inputImage, prediction, clean], output)
    error = float(np.mean((prediction - clean) ** 2))
    print(f"\nnoisy input | reconstruction | clean original -> {output} (reconstruction MSE {error:.4f})")
