"""Issue 25: the status bar and File ▸ Shipped models put the model's score beside the strongest baseline's at the
slider's level (tiny generated data sets)."""

from __future__ import annotations

import pytest

from engine.baselines import APP_TUNE_IMAGES, BaselineBank, baseline_title
from engine.idx import read_idx
from engine.nn import MLP

TIMEOUT = 60000


def read_test_set(folder):
    return read_idx(folder / "t10k-images-idx3-ubyte.gz").reshape(-1, 784)


def training_set(folder):
    return read_idx(folder / "train-images-idx3-ubyte.gz").reshape(-1, 784)


def test_the_status_bar_shows_the_strongest_baseline_at_the_sliders_level(qtbot, window, tiny_mnist):
    tab = window.denoise_tab
    bank = BaselineBank(lambda name: training_set(tiny_mnist), workers=1, tune_images=APP_TUNE_IMAGES)
    with qtbot.waitSignal(tab.score.baselineScored, timeout=TIMEOUT) as scored:
        tab.noise.slider.setValue(45)
        assert window.status_baseline.text() == "strongest baseline …"  # until it is computed off the GUI thread
    test = read_test_set(tiny_mnist)  # 16 images: every baseline scores all of them
    every = {n: bank.scores(n, test, "gaussian", 0.45).mse for n in ("noisy_input", "best_linear", "median",
                                                                     "gaussian_blur", "total_variation", "nl_means",
                                                                     "wavelet")}  # fmt: skip
    name = min(every, key=every.get)
    assert scored.args[0] == name and scored.args[1].mse == pytest.approx(every[name], rel=1e-6)
    assert window.status_baseline.text() == f"strongest baseline: {baseline_title(name)} {every[name]:.4f}"
    assert "test MSE" in window.status_mse.text()


def test_each_shipped_model_is_scored_beside_the_strongest_baseline_at_the_sliders_level(
    qtbot, window, tiny_mnist, tiny_fashion
):
    scores = window.shipped_scores
    window.denoise_tab.noise.slider.setValue(20)
    with qtbot.waitSignal(scores.scored, timeout=TIMEOUT):
        window.files.shipped_menu.aboutToShow.emit()
        assert all(a.text().endswith("at σ 0.20: …") for a in window.files.shipped_menu.actions())
    for action in window.files.shipped_menu.actions():
        model = MLP.from_file(action.data())
        folder = tiny_fashion if action.data().startswith("fashion") else tiny_mnist
        mse = model.evaluate(read_test_set(folder), 0.2)["mse"]
        assert f"at σ 0.20: MSE {mse:.4f}, strongest baseline: " in action.text(), action.text()
        assert action.text().startswith(f"{action.data()}  —  ")  # what the file says stays first


def test_while_a_run_trains_the_strongest_baseline_waits_for_it_then_is_scored(qtbot, window, tiny_mnist):
    """Fitting and tuning the baselines beside a run took a sixth of its speed (bench/app_train_speed.py): the
    status bar's baselines wait for the run to end, and say so."""
    from gui.common.jobs import wait_for_all_jobs

    tab = window.denoise_tab
    window.state.set_training(True)  # what the Training tab says when a run starts
    scored = []
    tab.score.baselineScored.connect(lambda *args: scored.append(args))
    with qtbot.waitSignal(tab.score.baselineChanged, timeout=TIMEOUT,
                          check_params_cb=lambda text: "after the run" in text):  # fmt: skip
        tab.noise.slider.setValue(45)
    assert wait_for_all_jobs(TIMEOUT)  # nothing of the baselines' left running beside the run
    assert scored == [] and "after the run" in window.status_baseline.text()
    with qtbot.waitSignal(tab.score.baselineScored, timeout=TIMEOUT):
        window.state.set_training(False)  # the run ended
    assert window.status_baseline.text().startswith("strongest baseline: ")
    assert "after the run" not in window.status_baseline.text()
