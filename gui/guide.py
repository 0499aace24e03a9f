"""Help ▸ Guide and Help ▸ About: what the app shows and how to read it, and what it runs on."""

from __future__ import annotations

import html
import platform
from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from engine import __version__
from engine.data_sources import data_source, trained_on
from engine.robustness import LinearComparison, compare_with_linear
from gui.common.hints import hint
from gui.common.jobs import JobRunner
from gui.common.screen_fit import fitted_size
from gui.common.theme import APP_NAME

GUIDE_LEVELS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
"""The levels at which the Guide sets the current model beside the best linear denoiser."""
GUIDE_SIZE = (640, 620)
"""The Guide's size when it first opens (shrunk to a smaller screen)."""

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
<li><b>Training</b> — train the current model with live curves. Start, Pause, Stop (Stop keeps what was learned);
<i>Continue</i> trains it more epochs from where its training stopped, the curve going on. The learning rate can
change while training. Below the settings, each layer's weights and the sizes of their
gradients as histograms, after every epoch; for a model with a linear decoder, a check of whether it learned PCA.</li>
<li><b>Architecture</b> — the layers, their weights as images, and an editor to build a new network.</li>
<li><b>Runs</b> — every training run recorded, the app's and the command line's, newest first, as they start and
finish. Tick two to four runs to see their loss curves, their saved models' robustness curves and their settings side
by side (≠ marks what differs): "what changed when I widened the code?" in one plot. A run's model opens with one
click; <i>Continue training</i> trains it further, <i>Train again</i> repeats the run from a fresh network.</li>
</ul>
<p>The teaching views — Robustness, the latent map, Inside the network, the histograms and the PCA check — each have
two small buttons at their top right: <b>Enlarge</b> gives the view the whole tab (Esc puts it back), <b>Window</b>
shows it in a window of its own, to move beside the main one or onto another screen (closing that window puts it
back). Denoise Studio remembers where each one was. On a small screen every tab scrolls.</p>

<h3 id="pca">An autoencoder and PCA</h3>
<p><b>Principal component analysis</b> (PCA) also squeezes an image into a short code and draws it back: the code is
the image's position along the k directions in which the training images vary most, and the drawing adds those
directions back up. The seed's walkthrough says that an autoencoder with the identity as every activation "serves as
a PCA method", and that autoencoders are more powerful than PCA, since they also work on data with non-linearities.
</p>
<p><b>The PCA check</b> tests the first half. For any model whose decoder is linear, the Training tab shows beside the
loss a bar for each of the k directions of the code: the cosine of the angle between the directions the decoder
draws with and PCA's top k directions of the training images (1 = the same direction; from 0.98 it counts as found),
the same cosines after every epoch of the run, and the two errors on the clean test images side by side. Trained on
clean images, the linear 784-10-784 finds all ten directions within about ten epochs and comes within a fraction of a
percent of PCA-10's error; the last direction comes slowest, because it holds barely more of the images' variance
than the next one, so turning towards it lowers the error very little. It learns PCA's <i>subspace</i>, not PCA's
axes: each code unit is a mix of principal components, which is why the check compares subspaces rather than units.
</p>
<p><b>So is an autoencoder just PCA?</b> A linear one is — at best it matches PCA with as many components. The
non-linear ones are not: with ReLU and Sigmoid the seed's 10-number model beats PCA-10 at the noise it was trained for
(σ = 0.1), and the models trained over a range of σ beat PCA with as many components across the slider. The dashed
PCA line on the loss plot and on the Robustness page shows, for any model, where it does better than PCA and where
not.</p>
<p><i>Open the PCA check</i> (below) makes the preset <b>Linear 784-k-784 (PCA check)</b> the model — asking first
if the present one is unsaved — and shows it on the Training tab with the check's settings: press Start and watch the
bars rise. By hand: Architecture ▸ Presets… ▸ Linear 784-k-784 (PCA check) ▸ New model.</p>

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

<h3 id="linear">Where learning pays: a linear filter at light noise</h3>
<p>The strongest simple rival of a denoising network is the <b>best linear denoiser</b>: one 784 × 784 map (and an
offset) fitted by least squares from noisy to clean training images at the noise level it is used at — the Wiener
filter, for Gaussian noise. It has no bottleneck: at light noise it can pass every pixel through almost as it is and
shave only a little noise off, so it loses almost nothing. An autoencoder must rebuild the image from what its layers
keep — a 10-number code cannot hold every detail of a stroke — so at light noise a narrow network blurs more than the
noise costs, and the linear filter wins. As the noise grows a linear map can only trade noise for blur (it knows the
pixels' averages and correlations, nothing about strokes), while a network that has learned what digits look like
redraws them: there the network takes over. A network with no narrow code (the gated model's output is a learned
mix of the noisy input and its own drawing) can beat the linear filter at every level.</p>
<!--NUMBERS-->
<p>Denoise ▸ Robustness draws every baseline beside the model (the best linear denoiser, PCA, the classical
filters — median, Gaussian blur, total variation, non-local means, wavelet — each tuned at every level on training
images); <i>Compare with</i> puts one beside the reconstruction of your own drawing, and the status bar gives the
strongest one's test score at the slider's level.</p>

<h3>Keys</h3>
<p>Ctrl+O open · Ctrl+S save · Ctrl+Shift+S save as · Ctrl+Shift+O open an image · Ctrl+V paste an image · Ctrl+E
export a picture of the tab · Ctrl+Z undo a stroke · E eraser · Ctrl+1/2/3/4 switch tabs · Esc puts an enlarged
view back · Space ticks a run · Ctrl+F filters the runs · Ctrl+Q quit. Hover any control for a hint; a control that
is off says why, and when it works.</p>
"""


def about_html(folders: dict[str, str | None], notes: Sequence[str] = ()) -> str:
    """Version, the libraries it runs on, where it reads each data set from (``data_folders()``), and the notes on
    the data files read so far (files that are not the official ones)."""
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
    rows += [("Note", html.escape(note)) for note in notes]
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


def _compare(model, data, bank, state) -> LinearComparison:
    """Runs on a pool thread: the model beside the best linear denoiser on its own data set's test images, with
    the noise kind it was trained with, at ``GUIDE_LEVELS``."""
    setting = model.training_noise
    kind = setting.kind if setting is not None else "gaussian"
    data_set = trained_on(model.metadata)
    return compare_with_linear(model, bank, data.images("test", data_set), GUIDE_LEVELS, kind, data_set,
                               progress=state.progress, cancelled=state.cancelled)  # fmt: skip


def numbers_html(name: str, data_set: str, found: LinearComparison | None, error: str | None = None) -> str:
    """The current model's numbers for the Guide: a table of test MSE at each level beside the best linear
    denoiser's and the noisy input's, and where the model wins; a line saying they are computed, or why not."""
    if error is not None:
        return f"<p><i>The numbers for {html.escape(name)} could not be computed: {html.escape(error)}</i></p>"
    if found is None:
        return f"<p><i>Computing the numbers for the current model, {html.escape(name)}, on the test images…</i></p>"
    symbol = "σ" if found.kind == "gaussian" else "fraction"
    rows = "".join(f"<tr><td>{level:g}</td><td>{m:.4f}</td><td>{lin:.4f}</td><td>{noisy:.4f}</td></tr>"
                   for level, m, lin, noisy in zip(found.levels, found.model, found.linear, found.noisy_input,
                                                   strict=True))  # fmt: skip
    title = data_source(data_set).title
    return (f"<p><b>The current model, {html.escape(name)}</b>, on all {title} test images (test MSE, lower is "
            f"better): it beats the best linear denoiser <b>{found.words}</b>.</p>"
            f"<table cellpadding='3'><tr><th>{symbol}</th><th>this model</th><th>best linear</th><th>noisy input</th>"
            f"</tr>{rows}</table>")  # fmt: skip


class GuideDialog(QDialog):
    """A short, scrollable page of help; not modal, so it can stay open beside the window.

    With the app's state, its section on where learning pays gives the current model's numbers, computed off the
    GUI thread when the Guide opens and when the model changes (``numbersReady()``).  ``pcaCheckRequested()`` when
    the user asks to open the PCA check (the window makes the linear preset the model)."""

    pcaCheckRequested = Signal()
    numbersReady = Signal()

    def __init__(self, parent: QWidget | None = None, state=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{APP_NAME} — Guide")
        self.state = state
        self.jobs = JobRunner(self)
        self.text = QTextBrowser()
        self.text.setHtml(GUIDE_HTML.replace("<!--NUMBERS-->", ""))
        if state is not None:
            state.modelChanged.connect(lambda change: self.refresh_numbers())
        self.text.setOpenExternalLinks(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        self.pca_button = buttons.addButton("Open the PCA check", QDialogButtonBox.ButtonRole.ActionRole)
        hint(self.pca_button, "Make the preset Linear 784-k-784 (PCA check) the model (asking first if the present "
             "one is unsaved) and show the Training tab, where the check compares it with PCA as it trains")
        self.pca_button.clicked.connect(self.pcaCheckRequested)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(fitted_size(QSize(*GUIDE_SIZE), parent))
        self.setWindowModality(Qt.WindowModality.NonModal)

    def _set_numbers(self, numbers: str) -> None:
        bar = self.text.verticalScrollBar()
        at = bar.value()  # where the reader is stays put
        self.text.setHtml(GUIDE_HTML.replace("<!--NUMBERS-->", numbers))
        bar.setValue(at)

    def refresh_numbers(self) -> None:
        """The current model's numbers, computed off the GUI thread (while shown; else when next shown)."""
        if self.state is None or self.state.model is None:
            return
        if not self.isVisible():
            self.jobs.cancel()
            self._stale = True
            return
        self._stale = False
        name, model = self.state.name, self.state.model
        data_set = trained_on(model.metadata)
        self._set_numbers(numbers_html(name, data_set, None))

        def done(found: LinearComparison) -> None:
            self._set_numbers(numbers_html(name, data_set, found))
            self.numbersReady.emit()

        def failed(exc: BaseException) -> None:
            self._set_numbers(numbers_html(name, data_set, None, str(exc)))

        self.jobs.start(_compare, model, self.state.data, self.state.baselines, on_done=done, on_error=failed)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if getattr(self, "_stale", True):
            self.refresh_numbers()
