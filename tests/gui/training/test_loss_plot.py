"""The loss plot's baselines on a log axis, including the zero level of training at sigma = 0."""

from __future__ import annotations

import math

from gui.training.loss_plot import LossPlot


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


def _inside_plot(plot: LossPlot, line) -> bool:
    """Whether the line's label is drawn wholly inside the plotting area."""
    area = plot.getViewBox().sceneBoundingRect()
    return area.contains(line.label.sceneBoundingRect())


def test_baseline_labels_stay_inside_the_plot_when_a_level_runs_along_its_top(qtbot):
    """A model far better than its noisy input (blind training read at sigma 0.4): that level is the plot's top."""
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(700, 330)
    plot.show()
    qtbot.waitExposed(plot)
    plot.reset(epochs=5)
    plot.set_log(True)
    for i in range(200):
        plot.add_batch(i / 40, 0.012 + 0.001 * (i % 3))
    plot.add_epoch(1.0, 0.0101)
    plot.set_baselines(identity=0.0796, pca=0.0235, components=64)
    plot.flush()
    y_range = plot.getViewBox().viewRange
    qtbot.waitUntil(lambda: abs(y_range()[1][1] - math.log10(0.0796)) < 0.1)  # auto-ranged: 0.0796 on top
    for line in (plot.identity_line, plot.pca_line):
        assert _inside_plot(plot, line), line.label.toPlainText()
    plot.set_baselines(identity=0.0054, pca=0.0338, components=10)  # noisy input at the bottom, PCA now on top
    qtbot.waitUntil(lambda: abs(y_range()[1][1] - math.log10(0.0338)) < 0.1)
    for line in (plot.identity_line, plot.pca_line):
        assert _inside_plot(plot, line), line.label.toPlainText()
