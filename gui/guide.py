"""Help ▸ Guide and Help ▸ About: what the app shows and how to read it, and what it runs on."""

from __future__ import annotations

import html
import platform

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from engine import __version__
from gui.common.theme import APP_NAME

GUIDE_HTML = """
<h2>Denoise Studio in five minutes</h2>

<h3>What a denoising autoencoder is</h3>
<p>An <b>autoencoder</b> is a network shaped like an hourglass lying on its side. The <b>encoder</b> squeezes a
28×28 image (784 numbers) into a short <b>code</b> — 10 numbers for the seed's model — and the <b>decoder</b> draws
the image back from the code alone. A <b>denoising</b> autoencoder is trained on noisy inputs and clean targets, so
it learns to draw back the clean digit: the noise does not fit through the narrow code.</p>
<p>The app's default model adds a <b>skip path</b>: a learned <b>gate</b> hands the input straight to the output,
pixel by pixel, where it can be trusted (white in <i>Inside the network</i>) and lets the network draw its own image
where it cannot (dark). Light noise passes almost untouched, heavy noise is redrawn — so its code is not everything
its output is made from. The Architecture tab draws the skip path as an arc over the hourglass.</p>

<h3>The tabs</h3>
<ul>
<li><b>Denoise</b> — draw a digit, step through test images (MNIST digits or Fashion-MNIST clothing), or bring a
picture of your own (File ▸ Open image, drop it on the canvas, or paste it). You see the clean image, the noisy input
the network gets (the kind of noise — Gaussian, salt and pepper, masking — and the slider set how noisy), and its
reconstruction, each with its mean squared error (MSE) against the clean image: lower is better. Erase part of a
digit (right-drag, or the Eraser) and watch the network fill the gap. <i>Compare with PCA</i> adds the best
<i>linear</i> code of the same size. Below, four pages:
<ul>
<li><b>Code and network</b> — the code's units as bars (set them yourself in <i>Latent explorer</i> and watch what
the decoder draws) beside the network as an hourglass.</li>
<li><b>Robustness</b> — the model's test error at every noise level, beside doing nothing and PCA.</li>
<li><b>Latent map</b> — every test image as a dot at its code (seen on the plane that shows most of the codes'
spread), coloured by its label; the star is your drawing. Hover a dot to see its image, click anywhere to decode that
point, Shift+click two places to see the images along the straight line between them.</li>
<li><b>Inside the network</b> — every layer's activity as you draw, and the trained network perturbed: add noise to
its weights, prune the smallest, switch units off, and watch the reconstruction and the test error degrade. The
model itself changes only if you press <i>Apply to model</i>.</li>
</ul></li>
<li><b>Training</b> — train the current model with live curves. Start, Pause, Stop (Stop keeps what was learned).
The learning rate can change while training. Below the settings, each layer's weights and the sizes of their
gradients as histograms, after every epoch; for a model with a linear decoder, a check of whether it learned PCA.</li>
<li><b>Architecture</b> — the layers, their weights as images, and an editor to build a new network.</li>
</ul>

<h3>Reading the curves</h3>
<p>On the Training tab the blue curve is the loss on each batch of training images (smoothed), the amber points the
loss on the test images after each epoch. If the amber points rise while the blue curve falls, the model is
memorising. The two dashed lines are the levels to beat: the <b>noisy input</b>'s own error (what doing nothing
scores) and <b>PCA</b>'s with as many components as the code. The curve falls by orders of magnitude, which is why
the axis is logarithmic.</p>
<p>The <b>Robustness</b> panel scores the model on all 10,000 test images at every σ from 0 to 1 (one fixed noise
pattern). Where the model's curve is below a dashed one, the model is worth running.</p>

<h3>Why the noisy input can win at light noise</h3>
<p>At σ = 0.1 the noisy image is still almost right: its error is about 0.005. A 10-number code cannot hold every
detail of a digit, so the reconstruction is a little blurry — about 0.03 for the seed's model — even though it removed
the noise. Denoising pays off as the noise grows: from σ ≈ 0.3 the noise costs more than the blur. Wider codes (the
large model's 64 numbers) blur less and win from lighter noise; a model trained over a range of σ holds up across the
whole slider.</p>

<h3>Keys</h3>
<p>Ctrl+O open · Ctrl+S save · Ctrl+Shift+S save as · Ctrl+Shift+O open an image · Ctrl+V paste an image · Ctrl+E
export a picture of the tab · Ctrl+Z undo a stroke · E eraser · Ctrl+1/2/3 switch tabs · Ctrl+Q quit. Hover any
control for a hint.</p>
"""


def about_html(folders: dict[str, str | None]) -> str:
    """Version, the libraries it runs on, and where it reads each data set from (``data_folders()``)."""
    import numpy
    import pyqtgraph
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    from engine.data_sources import data_source

    rows = [
        ("Denoise Studio", __version__),
        ("Python", platform.python_version()),
        ("Qt / PySide6", f"{qVersion()} / {pyside_version}"),
        ("NumPy", numpy.__version__),
        ("pyqtgraph", pyqtgraph.__version__),
    ]
    for name, folder in folders.items():
        source = data_source(name)
        missing = f"not found yet (set {source.data_env}, or train on it once to download it)"
        rows.append((f"{source.title} data folder", html.escape(folder) if folder else missing))
    table = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;{v}</td></tr>" for k, v in rows)
    return (
        f"<h3>{APP_NAME} {__version__}</h3><p>Denoising autoencoders on MNIST and Fashion-MNIST: a PySide6 + "
        f"pyqtgraph app over a pure-NumPy engine.</p><table>{table}</table>"
    )


def data_folders() -> dict[str, str | None]:
    """Each data set's folder, where it is found (never downloads): {"mnist": "/data/mnist", "fashion_mnist": None}."""
    from engine.data_sources import SOURCES
    from engine.download import locate_data
    from engine.idx import DatasetFileError

    folders: dict[str, str | None] = {}
    for name in SOURCES:
        try:
            folders[name] = str(locate_data(name, download=False, progress=False)["train_images"].parent)
        except (DatasetFileError, OSError):
            folders[name] = None
    return folders


class GuideDialog(QDialog):
    """A short, scrollable page of help; not modal, so it can stay open beside the window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{APP_NAME} — Guide")
        self.text = QTextBrowser()
        self.text.setHtml(GUIDE_HTML)
        self.text.setOpenExternalLinks(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(640, 620)
        self.setWindowModality(Qt.WindowModality.NonModal)
