"""Help ▸ Guide answers a learner's first question — is an autoencoder just PCA? — and opens the PCA check."""

from __future__ import annotations

from gui.guide import GuideDialog


def open_guide(window) -> GuideDialog:
    window.actions["guide"].trigger()
    (guide,) = [w for w in window.findChildren(GuideDialog) if w.isVisible()]
    return guide


def test_the_guide_says_what_the_walkthrough_claims_and_what_the_pca_check_shows(qtbot, window):
    text = open_guide(window).text.toPlainText()
    assert "An autoencoder and PCA" in text
    assert "serves as a PCA method" in text and "non-linearities" in text  # the walkthrough's own words
    for words in ("cosine", "subspace", "PCA-10", "Linear 784-k-784 (PCA check)", "Architecture ▸ Presets"):
        assert words in text, words
    assert "beats PCA-10" in text  # the answer: a linear one is PCA, a non-linear one is not


def test_its_button_opens_the_pca_check_asking_first_about_an_unsaved_model(qtbot, window, tiny_mnist, dialogs_shown):
    guide = open_guide(window)
    assert guide.pca_button.toolTip() and guide.pca_button.statusTip() == guide.pca_button.toolTip()
    window.state.dirty = True  # trained and not saved: the usual question comes first (answered Discard)
    guide.pca_button.click()
    assert len(dialogs_shown) == 1 and "Unsaved model" in dialogs_shown[0]
    model = window.state.model
    assert [layer.activation.key for layer in model.layers] == ["linear", "linear"] and model.latent_width == 10
    assert window.tabs.currentWidget() is window.training_tab
    check = window.training_tab.pca_check
    assert check.isVisibleTo(window)
    assert window.training_tab.form.noise.value() == 0.0  # the check's settings: clean images
    assert guide.isVisible()  # the Guide stays open beside the window


def test_where_learning_pays_is_told_with_the_current_models_numbers(qtbot, window, tiny_mnist):
    """Issue 25: the Guide says why a linear filter wins at light noise and where the network takes over, with the
    current model's test scores beside the best linear denoiser's, computed (and again for another model)."""
    from engine.baselines import APP_TUNE_IMAGES, BaselineBank
    from engine.idx import read_idx
    from engine.nn import build_mlp

    test = read_idx(tiny_mnist / "t10k-images-idx3-ubyte.gz").reshape(-1, 784)
    train = read_idx(tiny_mnist / "train-images-idx3-ubyte.gz").reshape(-1, 784)
    bank = BaselineBank(lambda name: train, workers=1, tune_images=APP_TUNE_IMAGES)
    guide = open_guide(window)  # its numbers come by signal, once the event loop turns
    assert "Computing the numbers for the current model" in guide.text.toPlainText()
    with qtbot.waitSignal(guide.numbersReady, timeout=60000):
        pass
    text = guide.text.toPlainText()
    assert "Where learning pays" in text and "no bottleneck" in text
    for level in (0.05, 0.3, 1.0):
        model_mse = window.state.model.evaluate(test, level)["mse"]
        linear_mse = bank.scores("best_linear", test, "gaussian", level).mse
        assert f"{model_mse:.4f}" in text and f"{linear_mse:.4f}" in text, level
    assert "beats the best linear denoiser nowhere" in text  # an untrained network
    with qtbot.waitSignal(guide.numbersReady, timeout=60000):
        window.state.set_model(build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=4), name="another")
    assert "The current model, another" in guide.text.toPlainText()
