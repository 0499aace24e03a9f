"""Eight fixed test images, noisy (top row) and as the model reconstructs them (bottom row)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QGridLayout, QGroupBox, QWidget

from gui.common.hints import hint
from gui.common.image_row import PixelImage

MIN_SIDE, MAX_SIDE = 44, 150
"""Each image's side in pixels: 44 in a 1024×700 window, up to 150 in a tall one."""


class SampleStrip(QGroupBox):
    """``show_samples(noisy, recon)`` with (n, 784) arrays; ``noisy``/``recon`` are the two rows of views."""

    def __init__(self, count: int, parent: QWidget | None = None) -> None:
        super().__init__("Fixed test images: noisy (top) → reconstruction (bottom), updated each epoch", parent)
        grid = QGridLayout(self)
        grid.setSpacing(4)
        self.noisy: list[PixelImage] = []
        self.recon: list[PixelImage] = []
        for i in range(count):
            for row, views in ((0, self.noisy), (1, self.recon)):
                view = PixelImage(min_size=MIN_SIDE)
                view.setMaximumSize(MAX_SIDE, MAX_SIDE)
                hint(
                    view,
                    "Eight fixed test images of the chosen data set with fixed noise (top) and how the model "
                    "reconstructs them (bottom), at the start and after every epoch",
                )
                grid.addWidget(view, row, i)
                views.append(view)

    def clear(self) -> None:
        for view in self.noisy + self.recon:
            view.set_image(np.zeros((28, 28), np.float32))

    def show_samples(self, noisy: np.ndarray, recon: np.ndarray) -> None:
        for view, image in zip(self.noisy, noisy, strict=False):
            view.set_image(image)
        for view, image in zip(self.recon, recon, strict=False):
            view.set_image(image)
