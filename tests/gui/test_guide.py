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
