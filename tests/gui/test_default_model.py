"""The app opens with the gated model (issue 26), whose reconstruction beats the noisy input and PCA across the
slider; the seed's model is one click away in File ▸ Shipped models."""

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
    from gui.common.jobs import JobPool, wait_for_all_jobs

    JobPool.of_app().cancel_all()  # the baselines' curves, still computing on the real training set
    wait_for_all_jobs(TIMEOUT)


def test_the_app_opens_with_the_gated_model_at_the_middle_of_its_range(app_window):
    assert app_window.state.name == "mnist_denoising_autoencoder_gated"
    assert [layer.n_out for layer in app_window.state.model.layers] == [1024, 1024, 784]
    assert app_window.state.model.skip.kind == "gate"
    tab = app_window.denoise_tab
    assert tab.noise.slider.value() == 50 and tab.noise.kind_box.kind() == "gaussian"  # σ 0.5 of 0–1
    assert app_window.training_tab.form.noise_range.isChecked()


def test_the_seeds_model_is_one_click_away(qtbot, app_window):
    seed = next(a for a in app_window.files.shipped_menu.actions() if a.data() == "mnist_denoising_autoencoder")
    with qtbot.waitSignal(app_window.files.openFinished, timeout=TIMEOUT):
        seed.trigger()
    assert app_window.state.name == "mnist_denoising_autoencoder"
    assert app_window.denoise_tab.noise.slider.value() == 10  # the σ it was trained at


def test_its_reconstruction_beats_the_noisy_input_over_the_whole_slider(qtbot, app_window, real_mnist_dir):
    tab = app_window.denoise_tab
    app_window.tabs.setCurrentWidget(tab)
    with qtbot.waitSignal(tab.robustness.curveReady, timeout=TIMEOUT) as ready:
        tab.panels.setCurrentWidget(tab.robustness)  # all 10,000 MNIST test images, σ 0 to 1 (0.05 first)
    curve = ready.args[0]
    noisy = curve.sigmas > 0
    assert noisy.sum() == 12 and curve.sigmas[1] == 0.05
    assert np.all(curve.model[noisy] < curve.noisy_input[noisy])  # from σ 0.05, where the blind model lost
    assert curve.pca is None  # its 1024-unit hidden layers are wider than the image: no PCA with as many components
    assert "beats the noisy input at every σ from 0.05" in tab.robustness.verdict.text()  # loses only at σ 0
