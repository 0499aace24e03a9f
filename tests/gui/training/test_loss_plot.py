"""The loss plot: its baselines on a log axis (including the zero level of training at sigma = 0), and its range
while a run trains."""

from __future__ import annotations

import math

import numpy as np
import pytest

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


def _shown_plot(qtbot) -> LossPlot:
    """A plot on screen, set for a 5-epoch run."""
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(700, 330)
    plot.show()
    qtbot.waitExposed(plot)
    plot.reset(epochs=5)
    return plot


def _inside_plot(plot: LossPlot, line) -> bool:
    """Whether the line's label is drawn wholly inside the plotting area."""
    area = plot.getViewBox().sceneBoundingRect()
    return area.contains(line.label.sceneBoundingRect())


def test_baseline_labels_stay_inside_the_plot_when_a_level_runs_along_its_top(qtbot):
    """A model far better than its noisy input (blind training read at sigma 0.4): that level is the plot's top."""
    plot = _shown_plot(qtbot)
    plot.set_log(True)
    for i in range(200):
        plot.add_batch(i / 40, 0.012 + 0.001 * (i % 3))
    plot.add_epoch(1.0, 0.0101)
    plot.set_baselines(identity=0.0796, pca=0.0235, components=64)
    plot.flush()
    y_range = plot.getViewBox().viewRange
    top_near = lambda level: abs(y_range()[1][1] - math.log10(level)) < 0.1  # noqa: E731
    qtbot.waitUntil(lambda: top_near(0.0796) and y_range()[1][0] < math.log10(0.0101))  # auto-ranged: 0.0796 on top
    qtbot.waitUntil(lambda: all(_inside_plot(plot, line) for line in (plot.identity_line, plot.pca_line)))
    plot.set_baselines(identity=0.0054, pca=0.0338, components=10)  # noisy input at the bottom, PCA now on top
    qtbot.waitUntil(lambda: top_near(0.0338) and y_range()[1][0] < math.log10(0.0054))
    qtbot.waitUntil(lambda: all(_inside_plot(plot, line) for line in (plot.identity_line, plot.pca_line)))


def _live_plot(qtbot) -> LossPlot:
    plot = _shown_plot(qtbot)
    plot.set_live(True)
    return plot


def test_while_a_run_trains_the_loss_range_changes_only_when_the_points_need_it(qtbot):
    """Every point stays in view, yet the axis (and its grid) is redrawn a few times in a run, not every frame."""
    plot = _live_plot(qtbot)
    box = plot.getViewBox()
    changes = []
    box.sigYRangeChanged.connect(lambda *_: changes.append(box.viewRange()[1]))
    losses = 0.02 + 0.06 * np.exp(-np.linspace(0, 4, 400))  # falling fast, then slowly
    for i, loss in enumerate(losses):
        plot.add_batch((i + 1) / 80, float(loss))
        plot.flush()  # a frame
        low, high = box.viewRange()[1]
        assert low <= plot.smooth.y[: plot.smooth.n].min() and plot.raw.y[: plot.raw.n].max() <= high
    assert 1 <= len(changes) <= len(losses) // 20  # (a frame per batch here: a run has far fewer)
    plot.set_baselines(pca=0.15, components=10)  # a level above the points comes into view
    plot.flush()
    assert box.viewRange()[1][1] >= 0.15
    plot.set_live(False)  # the run ended: fitted to what it shows after each change again
    assert box.autoRangeEnabled()[1]


def _frames(plot: LossPlot, batches: range, loss: float) -> None:
    """A frame after each of ``batches`` (80 an epoch), each at ``loss``."""
    for i in batches:
        plot.add_batch((i + 1) / 80, loss)
        plot.flush()


def test_a_range_the_user_zoomed_to_while_a_run_trains_is_kept(qtbot):
    plot = _live_plot(qtbot)
    box = plot.getViewBox()
    _frames(plot, range(50), 0.05)
    box.setYRange(0.04, 0.06, padding=0)
    box.sigRangeChangedManually.emit(box.state["mouseEnabled"])  # as a wheel or a drag in the plot does
    _frames(plot, range(50, 100), 0.03)  # below the user's range
    assert box.viewRange()[1] == pytest.approx([0.04, 0.06])
    plot.set_live(False)  # the run ends: the user's range stays
    plot.grab()  # (a paint: where pyqtgraph applies an auto range)
    assert box.viewRange()[1] == pytest.approx([0.04, 0.06])


def test_zooming_the_epoch_axis_alone_while_a_run_trains_leaves_the_loss_range_following(qtbot):
    plot = _live_plot(qtbot)
    box = plot.getViewBox()
    _frames(plot, range(50), 0.05)
    box.setXRange(0.5, 2.0, padding=0)
    box.sigRangeChangedManually.emit([True, False])  # a wheel over the epoch axis: x only
    _frames(plot, range(50, 100), 0.01)
    low, high = box.viewRange()[1]
    assert low <= 0.01 <= high


def test_log_scale_switched_while_a_run_trains_keeps_the_live_ranges(qtbot):
    plot = _live_plot(qtbot)
    box = plot.getViewBox()
    changes = []
    box.sigYRangeChanged.connect(lambda *_: changes.append(1))
    losses = 0.02 + 0.06 * np.exp(-np.linspace(0, 4, 400))
    for i, loss in enumerate(losses):
        if i == 100:
            plot.set_log(True)
            changes.clear()
        plot.add_batch((i + 1) / 80, float(loss))
        plot.flush()
        low, high = box.viewRange()[1]
        assert low <= np.log10(loss) <= high or i < 100
    assert len(changes) <= 300 // 20  # not every frame again (pyqtgraph turns its auto range on as the scale changes)
    assert box.viewRange()[0] == pytest.approx([0, 5], abs=0.2)  # the run's epochs, as before the switch


@pytest.mark.parametrize("log_first", [True, False])
def test_an_empty_plot_reads_as_a_loss_on_either_scale(qtbot, log_first):
    """Before any point a log axis spans losses, 0.01-0.1 (not the decade 1-10, whose ticks read 2 … 9), and a
    linear one 0-1: switched before or after the reset."""
    plot = LossPlot()
    qtbot.addWidget(plot)
    if log_first:
        plot.set_log(True)
        plot.reset(epochs=5)
    else:
        plot.reset(epochs=5)
        plot.set_log(True)
    low, high = plot.getViewBox().viewRange()[1]  # (decades, with the run's padding)
    assert -2.1 < low <= -2 and -1 <= high < -0.9
    plot.set_log(False)
    low, high = plot.getViewBox().viewRange()[1]
    assert -0.1 < low <= 0 and 1 <= high < 1.1
