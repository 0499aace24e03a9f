"""The Training tab of a test's window, set to train the tiny arrays fast."""

from __future__ import annotations

import pytest


@pytest.fixture
def tab(window, tiny_arrays):
    """The window's Training tab, shown, training ``tiny_arrays`` (64 images: 4 batches of 16 an epoch)."""
    tab = window.training_tab
    window.tabs.setCurrentWidget(tab)
    tab.arrays = tiny_arrays
    tab.form.batch_size.setValue(16)
    tab.form.lr.setValue(0.01)
    return tab
