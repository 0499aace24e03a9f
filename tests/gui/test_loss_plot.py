"""The loss plot's baselines on a log axis, including the zero level of training at sigma = 0."""

from __future__ import annotations

from gui.loss_plot import LossPlot


def test_a_zero_baseline_is_hidden_on_a_log_axis_and_shown_on_a_linear_one(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.set_log(True)
    plot.add_epoch(1.0, 0.03)
    plot.set_baselines(identity=0.0, pca=0.02, components=10)  # sigma = 0: the noisy input is exact
    assert not plot.identity_line.isVisible() and plot.pca_line.isVisible()
    assert plot.grab().width() > 0  # paints without pyqtgraph's NaN errors
    plot.set_log(False)
    assert plot.identity_line.isVisible() and plot.identity_line.value() == 0.0
    plot.set_log(True)
    assert not plot.identity_line.isVisible()
