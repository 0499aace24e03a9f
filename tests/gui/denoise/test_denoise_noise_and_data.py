"""Denoise tab: the noise kind beside the slider, the test images' data set, and a note when a model meets images of
another data set than it was trained on."""

from __future__ import annotations

import numpy as np
import pytest

from engine.baselines import fit_pca
from engine.idx import read_idx
from engine.images import to_unit_float
from engine.metrics import mse
from engine.nn import MLP, build_mlp
from engine.noise import NoisePattern
from tests.gui.denoise.test_denoise_tab import draw_stroke, show_test_digit

TIMEOUT = 20000


@pytest.fixture
def tab(window):
    window.tabs.setCurrentWidget(window.denoise_tab)
    return window.denoise_tab


def read_test_images(folder):
    return read_idx(folder / "t10k-images-idx3-ubyte.gz").reshape(-1, 784)


def wait_for_score(qtbot, tab):
    return qtbot.waitSignal(tab.score.scoreChanged, timeout=TIMEOUT, check_params_cb=lambda text: "…" not in text)


def test_the_kind_beside_the_slider_names_the_level_and_makes_the_noise(qtbot, window, tab, tiny_mnist):
    seed = MLP.from_file("mnist_denoising_autoencoder")  # trained: its score shows the kind
    window.state.set_model(seed, name="seed")
    show_test_digit(qtbot, tab, 2)
    tab.noise.slider.setValue(30)
    with wait_for_score(qtbot, tab):
        tab.noise.kind_box.set_kind("masking")
    assert tab.noise.level_label.text() == "Fraction" and "blanked" in tab.noise.slider.toolTip()
    assert tab.noise.slider.statusTip() == tab.noise.slider.toolTip()
    pattern = NoisePattern((1, 784), tab.state.noise_seed, "masking")
    noisy, clean = tab.state.shown.noisy, tab.state.clean
    np.testing.assert_array_equal(noisy.reshape(1, 784), pattern.apply(clean.reshape(1, 784), 0.3))
    assert np.all((noisy == clean) | (noisy == 0))  # masking blanks pixels, nothing else
    assert "fraction 0.30" in tab.result.row.captions[1].text()
    expected = tab.state.model.evaluate(read_test_images(tiny_mnist), 0.3, kind="masking")["mse"]
    assert window.status_mse.text() == f"test MSE {expected:.4f} at masking fraction 0.30"
    tab.noise.kind_box.set_kind("gaussian")
    assert tab.noise.level_label.text() == "Noise σ" and "standard deviation" in tab.noise.slider.toolTip()


def test_pca_follows_the_kind_and_the_test_set(qtbot, tab, tiny_mnist, tiny_fashion):
    tab.noise.kind_box.set_kind("salt_and_pepper")
    with qtbot.waitSignal(tab.result.baselineReady, timeout=TIMEOUT):
        tab.result.choose("pca")
    with qtbot.waitSignals([tab.state.testSetChanged, tab.result.baselineReady], timeout=TIMEOUT, order="strict"):
        tab.draw.test_set_box.set_data_set("fashion_mnist")  # PCA of the Fashion-MNIST training images
    show_test_digit(qtbot, tab, 1)
    pca = fit_pca(read_idx(tiny_fashion / "train-images-idx3-ubyte.gz").reshape(-1, 784), 16)
    expected = mse(pca.reconstruct(tab.state.shown.noisy.reshape(1, 784)).reshape(28, 28), tab.state.clean)
    assert tab.result.baseline_scores.mse == pytest.approx(expected)
    noisy = tab.state.shown.noisy
    assert np.any(noisy == 1) and np.any((noisy == 0) & (tab.state.clean > 0))  # salt and pepper


def test_a_range_model_opens_at_the_middle_of_its_range_with_its_kind(qtbot, window, tab, tiny_mnist):
    model = build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=5)
    model.metadata["training"] = {"noise": [0.2, 0.6], "noise_kind": "salt_and_pepper"}
    with wait_for_score(qtbot, tab):
        window.state.set_model(model, name="m")
    assert tab.noise.kind_box.kind() == "salt_and_pepper" and tab.noise.slider.value() == 40
    assert tab.robustness.kind == "salt_and_pepper"
    assert "salt-and-pepper fraction 0.40" in window.status_mse.text()


def test_test_images_come_from_the_chosen_set_and_a_model_meeting_another_set_says_so(
    qtbot, window, tab, tiny_mnist, tiny_fashion
):
    show_test_digit(qtbot, tab, 3)  # an MNIST model on MNIST: nothing to say
    assert not tab.data_note.isVisibleTo(tab)
    with qtbot.waitSignal(tab.inputs.testDigitShown, timeout=TIMEOUT):
        tab.draw.test_set_box.set_data_set("fashion_mnist")  # the same test number, from Fashion-MNIST
    np.testing.assert_array_equal(tab.state.clean, to_unit_float(read_test_images(tiny_fashion)[3].reshape(28, 28)))
    assert tab.draw.source_label.text().startswith("Fashion-MNIST test image #3 (")
    assert tab.data_note.isVisibleTo(tab)
    assert "trained on MNIST" in tab.data_note.text() and "Fashion-MNIST test images" in tab.data_note.text()
    with wait_for_score(qtbot, tab):
        tab.noise.slider.setValue(20)
    expected = tab.state.model.evaluate(read_test_images(tiny_fashion), 0.2)["mse"]
    assert window.status_mse.text() == f"test MSE {expected:.4f} at σ 0.20 (Fashion-MNIST)"
    with qtbot.waitSignal(tab.inputs.testDigitShown, timeout=TIMEOUT):
        tab.draw.test_set_box.set_data_set("mnist")
    assert not tab.data_note.isVisibleTo(tab)


def test_a_fashion_model_brings_its_test_set_and_says_so_when_it_meets_a_drawing(
    qtbot, window, tab, tiny_mnist, tiny_fashion
):
    model = build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=6)
    model.metadata["dataset"] = {"name": "fashion_mnist", "train_size": 64, "test_size": 16}
    with qtbot.waitSignal(tab.state.testSetChanged, timeout=TIMEOUT):
        window.state.set_model(model, name="fashion")
    assert tab.draw.test_set_box.data_set() == "fashion_mnist" and tab.robustness.data_set == "fashion_mnist"
    show_test_digit(qtbot, tab, 0)
    assert not tab.data_note.isVisibleTo(tab)
    draw_stroke(qtbot, tab.canvas, [(140, 40), (140, 240)])
    qtbot.waitUntil(lambda: tab.state.source == "drawing", timeout=TIMEOUT)
    assert tab.data_note.isVisibleTo(tab) and "trained on Fashion-MNIST" in tab.data_note.text()


def test_the_robustness_panel_follows_the_kind_and_the_set(qtbot, tab, tiny_mnist, tiny_fashion):
    panel = tab.robustness
    tab.noise.kind_box.set_kind("masking")
    with qtbot.waitSignal(tab.state.testSetChanged, timeout=TIMEOUT):
        tab.draw.test_set_box.set_data_set("fashion_mnist")
    with qtbot.waitSignal(panel.curveReady, timeout=TIMEOUT) as ready:
        tab.panels.setCurrentWidget(panel)
    curve = ready.args[0]
    assert curve.kind == "masking"
    expected = tab.state.model.evaluate(read_test_images(tiny_fashion), 0.3, kind="masking")["mse"]
    assert curve.model[list(curve.sigmas).index(0.3)] == pytest.approx(expected)
    assert "fraction" in panel.plot.getAxis("bottom").labelText
    assert "Fashion-MNIST" in panel.plot.getAxis("left").labelText
    assert "fraction" in panel.verdict.text()
    with qtbot.waitSignal(panel.curveReady, timeout=TIMEOUT) as ready:
        tab.noise.kind_box.set_kind("gaussian")  # shown: recomputed at once
    assert ready.args[0].kind == "gaussian" and panel.plot.getAxis("bottom").labelText == "noise σ"


def test_a_missing_data_set_chosen_by_the_user_gets_one_dialog_and_the_choice_goes_back(
    qtbot, tab, tiny_mnist, monkeypatch, tmp_path, dialogs_shown
):
    monkeypatch.setenv("DENOISE_STUDIO_FASHION_MNIST_DATA", str(tmp_path / "nowhere"))
    show_test_digit(qtbot, tab, 4)
    shown = tab.state.clean.copy()
    tab.result.choose("pca")
    with qtbot.waitSignal(tab.inputs.set_jobs.busyChanged, timeout=TIMEOUT, check_params_cb=lambda busy: not busy):
        tab.draw.test_set_box.set_data_set("fashion_mnist")
    assert len(dialogs_shown) == 1 and "Fashion-MNIST not available" in dialogs_shown[0]
    assert "DENOISE_STUDIO_FASHION_MNIST_DATA" in dialogs_shown[0]
    assert tab.draw.test_set_box.data_set() == "mnist" and tab.state.test_set == "mnist"
    np.testing.assert_array_equal(tab.state.clean, shown)


def test_a_model_of_a_missing_data_set_opens_quietly_and_the_note_says_what_it_meets(
    qtbot, window, tab, tiny_mnist, monkeypatch, tmp_path, dialogs_shown
):
    monkeypatch.setenv("DENOISE_STUDIO_FASHION_MNIST_DATA", str(tmp_path / "nowhere"))
    show_test_digit(qtbot, tab, 4)
    model = build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=6)
    model.metadata["dataset"] = {"name": "fashion_mnist"}
    with qtbot.waitSignal(tab.inputs.set_jobs.busyChanged, timeout=TIMEOUT, check_params_cb=lambda busy: not busy):
        window.state.set_model(model, name="fashion")
    assert dialogs_shown == [] and tab.draw.test_set_box.data_set() == "mnist"
    assert tab.data_note.isVisibleTo(tab) and "trained on Fashion-MNIST, but these are MNIST" in tab.data_note.text()


def test_undo_brings_back_a_test_image_of_the_other_set_with_its_set(qtbot, tab, tiny_mnist, tiny_fashion):
    show_test_digit(qtbot, tab, 3)
    with qtbot.waitSignal(tab.inputs.testDigitShown, timeout=TIMEOUT):
        tab.draw.test_set_box.set_data_set("fashion_mnist")
    tab.canvas.undo()
    tab.inputs.take_drawing()
    assert tab.state.test_set == tab.draw.test_set_box.data_set() == tab.robustness.data_set == "mnist"
    np.testing.assert_array_equal(tab.state.clean, to_unit_float(read_test_images(tiny_mnist)[3].reshape(28, 28)))
    tab.canvas.undo()  # and once more: the empty canvas it started from, no step added on the way
    assert tab.canvas.is_empty() and not tab.canvas.can_undo()


def test_the_latent_map_follows_the_test_set_and_names_its_labels(qtbot, window, tab, tiny_mnist, tiny_fashion):
    """A Fashion-MNIST model's map shows Fashion-MNIST's test images, named as clothes, not MNIST digits."""
    panel = tab.latent_map
    with qtbot.waitSignal(panel.mapReady, timeout=TIMEOUT):
        tab.panels.setCurrentWidget(panel)
    np.testing.assert_array_equal(panel.images, read_test_images(tiny_mnist))
    assert panel.digit_boxes[1].text() == "1"

    with qtbot.waitSignal(panel.mapReady, timeout=TIMEOUT):
        tab.draw.test_set_box.set_data_set("fashion_mnist")
    np.testing.assert_array_equal(panel.images, read_test_images(tiny_fashion))
    assert [box.text() for box in panel.digit_boxes[:2]] == ["T-shirt/top", "Trouser"]
    assert "Fashion-MNIST test images" in panel.note.text() and "digits" not in panel.note.text()
    shown = {panel.from_box.itemText(i) for i in range(panel.from_box.count())}
    assert shown and all(text.startswith("a typical ") and not text[-1].isdigit() for text in shown)

    builds = []
    panel.jobs.busyChanged.connect(lambda busy: builds.append(busy))
    with qtbot.waitSignal(panel.mapReady, timeout=TIMEOUT):
        tab.draw.test_set_box.set_data_set("mnist")  # back: the MNIST map again
    assert builds == []  # from the cache, not built again
    np.testing.assert_array_equal(panel.images, read_test_images(tiny_mnist))
