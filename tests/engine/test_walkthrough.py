"""The seed walkthrough runs as written on the real MNIST and prints the seed's summary byte for byte."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

from engine.dataset import Dataset
from engine.metrics import mse
from engine.nn import MLP
from engine.noise import fixed_noisy
from engine.pca import PCA
from tests.engine.test_model_save_load import SEED_SUMMARY

ROOT = Path(__file__).resolve().parents[2]


def test_walkthrough_prints_the_summary_and_writes_the_png(real_mnist_dir, tmp_path):
    png = tmp_path / "walkthrough.png"
    env = {**os.environ, "DENOISE_STUDIO_DATA": str(real_mnist_dir)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "denoising_autoencoder.py"), str(png)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    stdout = result.stdout.decode()
    assert stdout.startswith(SEED_SUMMARY)
    assert "reconstruction MSE" in stdout[len(SEED_SUMMARY) :]
    image = QImage(str(png))
    assert (image.width(), image.height()) == (3 * 28 * 8 + 2 * 4, 28 * 8)


def test_shipped_model_meets_the_quality_target(real_mnist_dir):
    model = MLP.from_file("mnist_denoising_autoencoder")
    data = Dataset(train_size=60000, test_size=10000, data_dir=real_mnist_dir)
    score = model.evaluate(data.test_u8, noise=0.1)["mse"]
    assert score <= 0.031
    test = data.test_images
    pca_score = mse(PCA(10).fit(data.train_images).reconstruct(fixed_noisy(test, 0.1)), test)
    assert score < pca_score  # the seed's claim: the autoencoder does what PCA does, and better
