"""Issue 25: the robustness panel draws every baseline beside the model, each computed off the GUI thread and drawn
as it is ready, each one hideable (remembered), in the metric chosen, and the sentence names the crossings against
the strongest.  Tiny generated data sets; the slow per-image filters are hidden where a test does not need them."""

from __future__ import annotations

import numpy as np
import pytest

from engine.baselines import BaselineBank
from engine.idx import read_idx
from engine.robustness import APP_LEVELS
from gui.denoise.robustness_panel import HIDDEN_KEY, METRIC_KEY
from gui.main_window import MainWindow

TIMEOUT = 120000
SLOW = ("total_variation", "nl_means", "wavelet")


def images(folder, split):
    name = "train-images-idx3-ubyte.gz" if split == "train" else "t10k-images-idx3-ubyte.gz"
    return read_idx(folder / name).reshape(-1, 784)


def open_panel(qtbot, window, signal_name="allReady"):
    tab = window.denoise_tab
    window.tabs.setCurrentWidget(tab)
    panel = tab.robustness
    with qtbot.waitSignal(getattr(panel, signal_name), timeout=TIMEOUT):
        tab.panels.setCurrentWidget(panel)  # computed when first shown
    return panel


def test_every_baseline_shown_is_drawn_and_the_sentence_names_the_strongest(qtbot, window, tiny_mnist, settings):
    panel = window.denoise_tab.robustness
    for name in SLOW:
        panel.set_shown(name, False)
    ready: list[str] = []
    panel.baselineReady.connect(ready.append)
    open_panel(qtbot, window)
    assert ready == ["best_linear", "median", "gaussian_blur"]  # the hidden ones are not computed
    bank = BaselineBank(lambda name: images(tiny_mnist, "train"), workers=1, tune_images=50)
    expected = bank.curve("best_linear", images(tiny_mnist, "test"), "gaussian", APP_LEVELS)
    x, y = panel.items["best_linear"].getData()
    np.testing.assert_allclose(x, APP_LEVELS)
    np.testing.assert_allclose(y, expected.mse, rtol=1e-6)
    for name in ("noisy_input", "pca", "median", "gaussian_blur"):
        assert len(panel.items[name].getData()[0]) == len(APP_LEVELS), name
    for name in SLOW:
        assert panel.items[name].getData()[0] is None or len(panel.items[name].getData()[0]) == 0
    labels = [label.text for sample, label in panel.legend.items]  # the curves drawn, and only those
    assert labels == ["this model", "noisy input", "PCA-16", "best linear", "median", "Gaussian blur"]
    text = panel.verdict.text()
    assert text.startswith("This model beats every baseline") and "beats the best linear denoiser" in text
    assert "beats the median filter" in text and "total-variation" not in text
    assert not panel.busy.isVisible()


def test_a_hidden_curve_is_remembered_and_a_stored_choice_is_read_with_bounds(qtbot, window, settings, app_state):
    settings.setValue(HIDDEN_KEY, ["median", "no such curve", "median", 7])
    settings.setValue(METRIC_KEY, "furlongs")
    panel = window.denoise_tab.robustness
    panel.restore(settings)  # as the window does when it opens
    assert not panel.boxes["median"].isChecked() and panel.boxes["best_linear"].isChecked()
    assert panel.chosen_metric() == "mse" and settings.value(HIDDEN_KEY) in (["median"], "median")
    assert not settings.contains(METRIC_KEY)  # the unusable value is gone
    panel.boxes["wavelet"].setChecked(False)
    panel.boxes["median"].setChecked(True)
    panel.metric_box.setCurrentIndex(2)
    second = MainWindow(window.state.model, settings=settings, state=app_state)
    qtbot.addWidget(second)
    again = second.denoise_tab.robustness
    assert [n for n, box in again.boxes.items() if not box.isChecked()] == ["wavelet"]
    assert again.chosen_metric() == "ssim"


def test_the_metric_chooser_draws_psnr_and_ssim_and_the_sentence_follows(qtbot, window, tiny_mnist):
    panel = window.denoise_tab.robustness
    for name in (*SLOW, "median", "gaussian_blur"):
        panel.set_shown(name, False)
    open_panel(qtbot, window)
    curve = panel.curve
    panel.metric_box.setCurrentIndex(2)  # SSIM
    np.testing.assert_allclose(panel.model_item.getData()[1], curve.ssim["model"])
    best = panel.baseline_curves["best_linear"][0]
    np.testing.assert_allclose(panel.items["best_linear"].getData()[1], best.ssim)
    assert "SSIM" in panel.plot.getAxis("left").labelText and panel.verdict.text().endswith("by SSIM).")
    panel.metric_box.setCurrentIndex(1)  # PSNR: the noisy input at σ 0 is a perfect match, a gap, not infinity
    assert np.isnan(panel.noisy_item.getData()[1][0])
    assert panel.items["best_linear"].getData()[1][3] == pytest.approx(10 * np.log10(1 / best.mse[3]))


def test_a_slow_filter_scores_a_subset_and_its_legend_says_so(qtbot, window, monkeypatch, tiny_mnist):
    import engine.baselines

    monkeypatch.setattr(engine.baselines, "SLOW_CURVE_IMAGES", 5)
    monkeypatch.setattr(engine.baselines.curve_images, "__defaults__", (5,))  # the limit the panel uses
    panel = window.denoise_tab.robustness
    for name in ("best_linear", "median", "gaussian_blur", "nl_means", "total_variation"):
        panel.set_shown(name, False)
    open_panel(qtbot, window)
    assert panel.baseline_curves["wavelet"][1:] == (5, 16)
    labels = [label.text for sample, label in panel.legend.items]
    assert "wavelet (5 of 16 images)" in labels, labels
