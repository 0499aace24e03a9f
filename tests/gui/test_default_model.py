"""The app opens with the blind model, whose reconstruction beats the noisy input across the slider from σ 0.2;
the seed's model is one click away in File ▸ Shipped models."""

from __future__ import annotations

import numpy as np
import pytest

from gui.main_window import MainWindow

TIMEOUT = 120000


@pytest.fixture
def app_window(qtbot, settings):
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    window.show()
    yield window
    from gui.common.jobs import wait_for_all_jobs

    wait_for_all_jobs(TIMEOUT)


def test_the_app_opens_with_the_blind_model_at_the_middle_of_its_range(app_window):
    assert app_window.state.name == "mnist_denoising_autoencoder_blind"
    assert [layer.n_out for layer in app_window.state.model.layers] == [256, 64, 256, 784]
    tab = app_window.denoise_tab
    assert tab.noise.slider.value() == 40 and tab.noise.kind_box.kind() == "gaussian"
    assert app_window.training_tab.form.noise_range.isChecked()


def test_the_seeds_model_is_one_click_away(qtbot, app_window):
    seed = next(a for a in app_window.files.shipped_menu.actions() if a.data() == "mnist_denoising_autoencoder")
    with qtbot.waitSignal(app_window.files.openFinished, timeout=TIMEOUT):
        seed.trigger()
    assert app_window.state.name == "mnist_denoising_autoencoder"
    assert app_window.denoise_tab.noise.slider.value() == 10  # the σ it was trained at


def test_its_reconstruction_beats_the_noisy_input_over_the_slider_from_02(qtbot, app_window, real_mnist_dir):
    tab = app_window.denoise_tab
    app_window.tabs.setCurrentWidget(tab)
    with qtbot.waitSignal(tab.robustness.curveReady, timeout=TIMEOUT) as ready:
        tab.panels.setCurrentWidget(tab.robustness)  # all 10,000 MNIST test images, σ 0 to 1 by 0.05
    curve = ready.args[0]
    from_02 = curve.sigmas >= 0.2
    assert from_02.sum() == 17
    assert np.all(curve.model[from_02] < curve.noisy_input[from_02])
    assert np.all(curve.model[from_02] < curve.pca[from_02])  # and PCA-64
    assert "beats the noisy input from σ ≈ 0.1" in tab.robustness.verdict.text()
