"""Weight and gradient histograms while training: gradients sampled over the epoch's batches, not the last one."""

from __future__ import annotations

import numpy as np
import pytest

from engine.callbacks import Callback
from engine.histograms import (
    DECADES,
    SAMPLE_SIZE,
    SAMPLED_BATCHES,
    HistogramSampler,
    histogram,
    layer_histograms,
    snapshot_of,
)
from engine.nn import build_mlp
from engine.training import TrainConfig, Trainer


class GradientRecorder(Callback):
    """Every batch's dL/dW, in full (what the sampler must have sampled from)."""

    def __init__(self):
        self.grads: list[list[np.ndarray]] = []

    def on_epoch_begin(self, epoch):
        self.grads = []

    def on_batch_end(self, batch, logs):
        self.grads.append([layer.grad_W.copy() for layer in self.trainer.model.layers])


def blobs(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    images = np.zeros((n, 28, 28), np.uint8)
    for img in images:
        r, c = rng.integers(4, 14, size=2)
        img[r : r + 8, c : c + 6] = 200
    return images.reshape(n, 784)


@pytest.mark.parametrize("n_images", [160, 40 * 130])  # 10 batches an epoch (all sampled); 130 (every 3rd)
def test_gradient_samples_come_from_batches_spread_over_the_whole_epoch(n_images):
    model = build_mlp([784, 24, 784], ["relu", "sigmoid"], seed=0)
    snapshots, recorder = [], GradientRecorder()
    trainer = Trainer(model, TrainConfig(epochs=2, batch_size=40, lr=1e-3, noise=0.2, seed=0),
                      [HistogramSampler(snapshots.append), recorder], parallel=False)  # fmt: skip
    trainer.fit(blobs(n_images))
    assert [(s.kind, s.epoch) for s in snapshots] == [("start", -1), ("epoch", 0), ("epoch", 1)]
    assert snapshots[0].gradients == [] and snapshots[0].batches == 0
    last = snapshots[-1]
    batches = len(recorder.grads)  # of the last epoch
    sampled = list(range(0, batches, -(-batches // SAMPLED_BATCHES)))
    assert last.batches == len(sampled) > 1
    for layer, samples in enumerate(last.gradients):
        size = model.layers[layer].W.size
        m = min(size, SAMPLE_SIZE)
        rows = samples.reshape(len(sampled), m)
        stride = size // m
        offsets = []  # where each row's strided slice starts in its batch's gradient
        for row, batch in zip(rows, sampled, strict=True):
            grad = recorder.grads[batch][layer].ravel()
            slices = [grad[o : o + stride * m : stride] for o in range(stride)]
            offsets.append({o for o, s in enumerate(slices) if np.array_equal(row, s)})
            assert offsets[-1], "a sample that is not from its batch's gradient"
        if stride > 1:  # the slices move, so the samples cover the whole layer, not one fixed subset
            assert not set.intersection(*offsets)
        assert not np.array_equal(rows[0], rows[-1])  # not one batch's gradient repeated
    for w, layer in zip(last.weights, model.layers, strict=True):
        np.testing.assert_array_equal(w, layer.W)  # the weights at the epoch's end, copied
        assert w is not layer.W


def test_on_pause_sends_the_epoch_so_far_and_copies():
    model = build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=0)
    snapshots = []
    sampler = HistogramSampler(snapshots.append)

    class PauseAtBatch3(Callback):
        def on_batch_end(self, batch, logs):
            if batch == 3:
                sampler.on_pause()

    Trainer(model, TrainConfig(epochs=1, batch_size=10, noise=0.1), [sampler, PauseAtBatch3()],
            parallel=False).fit(blobs(100))  # fmt: skip
    paused = [s for s in snapshots if s.kind == "pause"]
    assert len(paused) == 1 and paused[0].batches == 4 and paused[0].progress == pytest.approx(0.4)


def test_histogram_shares_sum_to_one_and_share_a_range_with_the_reference():
    rng = np.random.default_rng(0)
    values, ref = rng.normal(0, 1, 10000), rng.normal(0, 3, 5000)
    h = histogram(values, ref, bins=21)
    assert h.edges.shape == (22,) and h.share.shape == (21,)
    assert h.share.sum() == pytest.approx(1) and h.reference.sum() == pytest.approx(1)
    assert h.edges[0] == -h.edges[-1] and h.edges[-1] > 5  # wide enough for the wider reference
    assert h.std == pytest.approx(1, rel=0.05) and h.reference_std == pytest.approx(3, rel=0.05)
    assert histogram(np.empty(0)) is None


def test_exact_zeros_are_counted_apart_so_they_do_not_flatten_the_rest():
    values = np.concatenate([np.zeros(9000), np.random.default_rng(1).normal(0, 1, 1000)])
    h = histogram(values)
    assert h.zero == pytest.approx(0.9)
    assert h.share.sum() == pytest.approx(1) and h.share.max() < 0.2  # the non-zero values' shape, no spike
    assert h.edges[-1] > 2


def test_gradient_sizes_are_binned_on_a_log_scale_so_a_shrinking_gradient_moves_left():
    rng = np.random.default_rng(2)
    first, now = rng.normal(0, 1e-2, 20000), rng.normal(0, 1e-4, 20000)
    h = histogram(now, first, magnitude=True)
    centres = (h.edges[:-1] + h.edges[1:]) / 2
    assert h.edges[0] < -4 and h.edges[-1] > -2  # log10 of the sizes, both spans inside
    assert (centres * h.share).sum() == pytest.approx(np.log10(np.abs(now)).mean(), abs=0.1)
    assert (centres * h.reference).sum() == pytest.approx(np.log10(np.abs(first)).mean(), abs=0.1)


def test_gradient_sizes_span_at_most_a_few_decades_and_dust_lands_in_the_first_bin():
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.normal(0, 1e-3, 9000), np.full(1000, 1e-30)])  # 10 % rounding dust
    h = histogram(values, magnitude=True)
    assert h.edges[-1] - h.edges[0] <= DECADES + 1e-9
    assert h.share[0] == pytest.approx(0.1, abs=0.01)  # the dust, at the low end
    assert h.share[1:].sum() == pytest.approx(0.9, abs=0.01)


def test_layer_histograms_of_a_model_before_training_have_weights_but_no_gradients():
    model = build_mlp([784, 8, 784], ["relu", "sigmoid"], seed=0)
    weights, gradients = layer_histograms(snapshot_of(model))
    assert len(weights) == 2 and all(h is not None for h in weights)
    assert gradients == [None, None]


def test_a_gated_models_gate_is_sampled_and_named_after_its_layers():
    """The gate learns too: its weights and its gradients come in the snapshots, as a row named "gate"."""
    model = build_mlp([784, 16, 784], ["relu", "sigmoid"], seed=0, skip="gate")
    snapshots = []
    trainer = Trainer(model, TrainConfig(epochs=1, batch_size=40, lr=1e-3, noise=(0.0, 1.0), seed=0),
                      [HistogramSampler(snapshots.append)], parallel=False)  # fmt: skip
    trainer.fit(blobs(160))
    last = snapshots[-1]
    assert last.layer_names == ["layer 1", "layer 2", "gate"] == list(snapshot_of(model).names)
    np.testing.assert_array_equal(last.weights[-1], model.gate_layer.W)  # (784, 16)
    assert last.gradients[-1].size and np.any(last.gradients[-1])  # the gate's dL/dW, sampled as the layers' are
    weights, gradients = layer_histograms(last)
    assert len(weights) == len(gradients) == 3 and gradients[-1] is not None
    plain = build_mlp([784, 16, 784], ["relu", "sigmoid"], seed=0)
    assert snapshot_of(plain).layer_names == ["layer 1", "layer 2"] and plain.gate_layer is None
