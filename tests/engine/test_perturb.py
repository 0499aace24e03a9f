"""Perturbed copies: exact pruning shares, silent units, noise of the asked spread, seeds, untouched originals."""

from __future__ import annotations

import numpy as np
import pytest

from engine.nn import build_mlp
from engine.perturb import (
    Perturbation,
    Perturber,
    describe,
    perturb,
    perturbation_curve,
    pruned_counts,
)
from engine.robustness import Cancelled


@pytest.fixture
def model():
    """784-64-10-64-784 with non-zero biases (trained models have them) and layers of different spreads."""
    net = build_mlp([784, 64, 10, 64, 784], ["relu", "relu", "tanh", "sigmoid"], seed=3)
    rng = np.random.default_rng(4)
    for i, layer in enumerate(net.layers):
        layer.W *= np.float32(1 + i)  # spreads differ, so a global pruning is not per layer in disguise
        layer.b[...] = rng.normal(0, 0.3, layer.b.shape).astype(np.float32)
    return net


def inputs(n: int = 7) -> np.ndarray:
    return np.random.default_rng(5).random((n, 784), dtype=np.float32)


def zeros_per_layer(net) -> list[int]:
    return [int(np.count_nonzero(layer.W == 0)) for layer in net.layers]


@pytest.mark.parametrize("fraction", [0.0, 0.013, 0.4, 0.9, 1.0])
def test_pruning_per_layer_zeroes_exactly_that_share_of_every_layer_and_the_smallest(model, fraction):
    assert zeros_per_layer(model) == [0, 0, 0, 0]
    pruned = perturb(model, Perturbation(prune=fraction, scope="layer"))
    for layer, before in zip(pruned.layers, model.layers, strict=True):
        k = round(fraction * before.W.size)
        zero = layer.W == 0
        assert np.count_nonzero(zero) == k
        if 0 < k < before.W.size:  # what went is never larger than what stayed
            assert np.abs(before.W[zero]).max() <= np.abs(before.W[~zero]).min()
        np.testing.assert_array_equal(layer.W[~zero], before.W[~zero])  # the rest untouched
        np.testing.assert_array_equal(layer.b, before.b)
    assert pruned_counts(model, fraction, "layer") == [round(fraction * ly.W.size) for ly in model.layers]


@pytest.mark.parametrize("fraction", [0.013, 0.4, 0.9])
def test_pruning_over_the_network_zeroes_exactly_that_share_of_all_weights_smallest_first(model, fraction):
    pruned = perturb(model, Perturbation(prune=fraction, scope="network"))
    total = sum(ly.W.size for ly in model.layers)
    assert sum(zeros_per_layer(pruned)) == round(fraction * total)
    gone = np.concatenate([np.abs(b.W[a.W == 0]) for a, b in zip(pruned.layers, model.layers, strict=True)])
    kept = np.concatenate([np.abs(b.W[a.W != 0]) for a, b in zip(pruned.layers, model.layers, strict=True)])
    assert gone.max() <= kept.min()
    per_layer = zeros_per_layer(pruned)
    assert per_layer != [round(fraction * ly.W.size) for ly in model.layers]  # not the per-layer answer
    assert pruned_counts(model, fraction, "network") == per_layer


def test_pruning_everything_leaves_the_output_of_the_biases_alone(model):
    pruned = perturb(model, Perturbation(prune=1.0, scope="network"))
    assert all(not layer.W.any() for layer in pruned.layers)
    out = pruned.predict(inputs())
    last_bias = model.layers[-1].b.astype(np.float64)
    expected = 1 / (1 + np.exp(-last_bias))  # sigmoid(b): no weight carries anything through
    np.testing.assert_allclose(out, np.broadcast_to(expected, out.shape), rtol=1e-5)
    assert np.ptp(out, axis=0).max() == 0  # every input gives the same output


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "leaky_relu", "linear"])
def test_a_switched_off_unit_outputs_zero_for_any_input_and_activation(activation):
    net = build_mlp([784, 12, 784], [activation, "sigmoid"], seed=0)
    net.layers[0].b[...] = 0.7  # on by default
    x = inputs()
    assert np.all(net.activations(x)[0][:, 5] != 0)
    off = perturb(net, Perturbation(off=tuple([(0, 5)])))
    hidden = off.activations(x)[0]
    assert np.all(hidden[:, 5] == 0)
    np.testing.assert_array_equal(np.delete(hidden, 5, axis=1), np.delete(net.activations(x)[0], 5, axis=1))


def test_switching_off_a_unit_the_model_lacks_is_refused_clearly(model):
    with pytest.raises(ValueError, match="hidden layers are 0 to 2"):
        perturb(model, Perturbation(off=tuple([(3, 0)])))  # the output layer's units are pixels
    with pytest.raises(ValueError, match="layer 1 has units 0 to 9"):
        perturb(model, Perturbation(off=tuple([(1, 10)])))
    with pytest.raises(ValueError, match="prune"):
        Perturbation(prune=1.5)
    with pytest.raises(ValueError, match="noise"):
        Perturbation(noise=-0.1)
    with pytest.raises(ValueError, match="scope"):
        Perturbation(scope="everything")


def test_weight_noise_has_the_asked_spread_relative_to_each_layer():
    net = build_mlp([784, 256, 784], ["relu", "sigmoid"], seed=0)
    net.layers[1].W *= np.float32(5)
    noisy = perturb(net, Perturbation(noise=0.3, seed=1))
    for layer, before in zip(noisy.layers, net.layers, strict=True):
        added = (layer.W.astype(np.float64) - before.W).ravel()
        expected = 0.3 * before.W.std()
        assert abs(added.std() / expected - 1) < 0.02  # 200k draws: the sample spread is within ~0.5 %
        assert abs(added.mean()) < 0.01 * expected
        np.testing.assert_array_equal(layer.b, before.b)  # biases untouched


def test_weight_noise_is_reproducible_from_its_seed_and_scales_one_pattern(model):
    a, b = perturb(model, Perturbation(noise=0.2, seed=7)), perturb(model, Perturbation(noise=0.2, seed=7))
    np.testing.assert_array_equal(a.params, b.params)
    assert not np.array_equal(a.params, perturb(model, Perturbation(noise=0.2, seed=8)).params)
    twice = perturb(model, Perturbation(noise=0.4, seed=7))
    for la, lt, l0 in zip(a.layers, twice.layers, model.layers, strict=True):  # the same pattern, twice as strong
        np.testing.assert_allclose(lt.W - l0.W, 2 * (la.W - l0.W), rtol=1e-4, atol=1e-6)


def test_perturbing_never_touches_the_model_and_nothing_gives_its_exact_weights(model):
    before = model.params.copy()
    plan = Perturbation(noise=0.5, seed=2, prune=0.6, scope="network", off=((0, 3), (1, 2)))
    changed = perturb(model, plan)
    assert not np.array_equal(changed.params, before)
    np.testing.assert_array_equal(model.params, before)  # Reset = the model as it was, bit for bit
    back = perturb(model, Perturbation())
    np.testing.assert_array_equal(back.params, before)
    assert back.params is not model.params


def test_pruned_weights_stay_zero_under_noise_and_switched_off_units_stay_off(model):
    plan = Perturbation(noise=1.0, seed=0, prune=0.5, off=((2, 7),))
    net = perturb(model, plan)
    assert zeros_per_layer(net)[0] == round(0.5 * model.layers[0].W.size)
    assert np.all(net.activations(inputs())[2][:, 7] == 0)
    assert net.metadata["perturbation"] == plan.to_dict()


def test_a_perturber_gives_the_same_copies_as_the_plain_functions(model):
    perturber = Perturber(model).prepare(seed=4)
    for plan in (Perturbation(noise=0.3, seed=4), Perturbation(prune=0.25, scope="network"),
                 Perturbation(noise=0.1, seed=4, prune=0.7, off=((0, 1),))):  # fmt: skip
        np.testing.assert_array_equal(perturber.apply(plan, metadata=False).params, perturb(model, plan).params)


def test_the_curve_scores_each_strength_as_the_perturbed_copy_does(model):
    test = (inputs(20) * 255).astype(np.uint8)
    plan = Perturbation(prune=0.3, off=((1, 0),))
    curve = perturbation_curve(model, plan, "noise", test, 0.2, [0.0, 0.5, 1.0])
    for strength, score in zip(curve.strengths, curve.mse, strict=True):
        net = perturb(model, Perturbation(noise=float(strength), prune=0.3, off=((1, 0),)))
        assert score == net.evaluate(test, 0.2)["mse"]
    assert curve.model_mse == model.evaluate(test, 0.2)["mse"]
    assert curve.noisy_input_mse == model.evaluate(test, 0.2)["identity_mse"]


def test_the_curve_scores_under_the_asked_kind_of_input_noise(model):
    test = (inputs(20) * 255).astype(np.uint8)
    curve = perturbation_curve(model, Perturbation(), "prune", test, 0.3, [0.0, 0.5], kind="masking")
    net = perturb(model, Perturbation(prune=0.5))
    assert curve.mse[1] == net.evaluate(test, 0.3, kind="masking")["mse"]
    assert curve.noisy_input_mse == model.evaluate(test, 0.3, kind="masking")["identity_mse"]
    assert curve.kind == "masking"


def test_the_curve_stops_when_cancelled_and_reports_progress(model):
    seen = []
    with pytest.raises(Cancelled):
        perturbation_curve(model, Perturbation(), "prune", inputs(5), 0.1,
                           cancelled=lambda: len(seen) >= 2, progress=seen.append)  # fmt: skip
    assert len(seen) == 2 and seen == sorted(seen)


def test_describe_counts_what_it_did(model):
    total = sum(ly.W.size for ly in model.layers)
    text = describe(model, Perturbation(noise=0.25, prune=0.4, off=((0, 1), (0, 2))))
    assert text.startswith("weight noise 0.25")
    assert f"40 % of weights pruned per layer ({sum(round(0.4 * ly.W.size) for ly in model.layers):,} " \
           f"of {total:,})" in text
    assert text.endswith("2 units off")
    assert "as trained" in describe(model, Perturbation())


def test_noise_and_pruning_reach_a_skip_paths_gate_too():
    net = build_mlp([784, 32, 784], ["relu", "sigmoid"], seed=6, skip="gate")
    gate = net.skip.layers[0]
    total = sum(ly.W.size for ly in net.layers) + gate.W.size
    assert sum(pruned_counts(net, 0.4, "network")) == round(0.4 * total)
    assert pruned_counts(net, 0.4, "layer")[-1] == round(0.4 * gate.W.size)
    assert f"of {total:,})" in describe(net, Perturbation(prune=0.4))
    bare = perturb(net, Perturbation(prune=1.0, scope="network"))
    assert not bare.skip.layers[0].W.any() and all(not ly.W.any() for ly in bare.layers)
    out = bare.predict(inputs())  # no weight carries the input to the gate: it is sigmoid(b) everywhere
    assert np.ptp(out - inputs() * _sigmoid(gate.b), axis=0).max() < 1e-6
    noisy = perturb(net, Perturbation(noise=0.5, seed=1))
    moved = noisy.skip.layers[0].W - gate.W
    assert 0.4 < float(np.std(moved)) / float(np.std(gate.W)) < 0.6  # half the gate's own spread
    np.testing.assert_array_equal(net.skip.layers[0].W, gate.W)  # the model itself untouched


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z.astype(np.float64)))


@pytest.fixture
def gated_model():
    """784-32-784 ending in a learned gate (its weights are perturbed with the network's)."""
    net = build_mlp([784, 32, 784], ["relu", "sigmoid"], seed=6, skip="gate")
    net.params += np.random.default_rng(6).standard_normal(net.params.size).astype(np.float32) * np.float32(0.05)
    return net


def test_a_gated_model_is_perturbed_gate_and_all_and_keeps_its_gate(gated_model):
    before = gated_model.params.copy()
    gate = gated_model.skip.layers[0]
    net = perturb(gated_model, Perturbation(noise=0.5, seed=1, prune=0.4, off=((0, 3),)))
    np.testing.assert_array_equal(gated_model.params, before)  # the model itself untouched
    assert net.skip is not None and net.skip.kind == "gate"
    pruned_gate = net.skip.layers[0]
    assert np.count_nonzero(pruned_gate.W == 0) >= round(0.4 * gate.W.size)  # the gate's weights pruned too
    assert not np.allclose(pruned_gate.W[pruned_gate.W != 0], gate.W[pruned_gate.W != 0])  # and noised
    x = inputs()
    parts = net.skip_parts(x)
    np.testing.assert_allclose(net.predict(x), parts["gate"] * x + (1 - parts["gate"]) * parts["network"],
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    assert np.all(net.activations(x)[0][:, 3] == 0)  # the unit is off: the gate reads nothing from it either


def test_describe_counts_every_weight_of_a_gated_model(gated_model):
    total = gated_model.n_params - sum(ly.b.size for ly in gated_model.parameter_layers)
    text = describe(gated_model, Perturbation(prune=0.5, scope="network"))
    assert f"({round(0.5 * total):,} of {total:,})" in text
    assert sum(pruned_counts(gated_model, 0.5, "network")) == round(0.5 * total)
