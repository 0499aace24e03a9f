"""The latent map: codes placed on the plane of their two principal axes, and map points turned back into codes."""

from __future__ import annotations

import numpy as np
import pytest

from engine.latent import latent_codes
from engine.latent_map import LatentMap, interpolate, latent_map
from engine.nn import build_mlp


def images(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 28, 28), np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    for img, label in zip(x, labels, strict=True):
        r, c = rng.integers(2, 12, size=2)
        img[r : r + 6 + label, c : c + 4 + label // 2] = 200
    return x.reshape(n, 784), labels


def test_the_map_is_the_codes_plane_of_most_spread_and_points_turn_back_into_codes():
    model = build_mlp([784, 10, 784], ["relu", "sigmoid"], seed=0)
    x, labels = images(300)
    m = latent_map(model, x, labels)
    codes = latent_codes(model, x)
    np.testing.assert_array_equal(m.codes, codes)
    assert m.points.shape == (300, 2) and m.points.dtype == np.float32
    np.testing.assert_allclose(m.axes @ m.axes.T, np.eye(2), atol=1e-9)  # two orthogonal unit directions
    np.testing.assert_allclose(m.project(codes), m.points, atol=1e-5)
    spread = m.points.astype(np.float64).var(axis=0)
    other = np.linalg.svd(np.random.default_rng(1).normal(size=(10, 2)), full_matrices=False)[0].T  # (2, 10)
    assert spread.sum() >= ((codes - m.mean) @ other.T).var(axis=0).sum()  # more spread than another plane
    total = codes.astype(np.float64).var(axis=0).sum()
    np.testing.assert_allclose(m.explained, spread / total, rtol=1e-4)
    grid = np.array([[0.0, 0.0], [1.5, -2.0], [-3.0, 0.5]])
    np.testing.assert_allclose(m.project(m.unproject(grid)), grid, atol=1e-5)
    np.testing.assert_allclose(m.unproject(np.zeros(2)), m.mean, atol=1e-6)  # the map's origin: the mean code


def test_a_two_unit_code_is_shown_as_it_is():
    model = build_mlp([784, 2, 784], ["linear", "sigmoid"], seed=1)
    x, labels = images(50, 1)
    m = latent_map(model, x, labels)
    np.testing.assert_array_equal(m.points, latent_codes(model, x))
    np.testing.assert_array_equal(m.unproject(m.points[:3]), m.points[:3])


def test_a_one_unit_code_lies_on_the_x_axis():
    model = build_mlp([784, 1, 784], ["linear", "sigmoid"], seed=2)
    x, labels = images(40, 2)
    m = latent_map(model, x, labels)
    assert np.all(m.points[:, 1] == 0) and np.ptp(m.points[:, 0]) > 0
    assert m.explained[1] == 0 and m.explained[0] == pytest.approx(1.0)


def test_the_typical_image_of_a_digit_is_the_one_nearest_its_mean_code():
    codes = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [5.0, 5.0]], np.float32)
    m = LatentMap(codes, np.array([4, 4, 4, 7]), codes, np.zeros(2), np.eye(2), np.array([0.5, 0.5]))
    assert m.members(4).tolist() == [0, 1, 2]
    assert m.typical(4) == 1  # mean code (3.67, 0): nearest is (1, 0)
    assert m.typical(7) == 3
    assert m.digits() == [4, 7]
    with pytest.raises(ValueError, match="no image has label 3"):
        m.typical(3)


def test_interpolation_runs_evenly_from_one_code_to_the_other():
    a, b = np.array([0.0, 2.0, -1.0]), np.array([3.0, 2.0, 5.0])
    line = interpolate(a, b, 4)
    np.testing.assert_allclose(line, [[0, 2, -1], [1, 2, 1], [2, 2, 3], [3, 2, 5]], atol=1e-6)
    assert interpolate(a, b).shape == (10, 3)
    with pytest.raises(ValueError, match="same width"):
        interpolate(a, b[:2])
    with pytest.raises(ValueError, match="steps"):
        interpolate(a, b, 1)


def test_bad_input_is_refused_with_a_reason():
    model = build_mlp([784, 4, 784], ["relu", "sigmoid"], seed=0)
    x, labels = images(10)
    with pytest.raises(ValueError, match="10 images but 9 labels"):
        latent_map(model, x, labels[:9])
    m = latent_map(model, x, labels)
    with pytest.raises(ValueError, match=r"\(m, 4\)"):
        m.project(np.zeros(3))
    with pytest.raises(ValueError, match=r"\(m, 2\)"):
        m.unproject(np.zeros(3))


def test_the_strongest_units_of_a_code_are_the_largest_in_magnitude_in_unit_order():
    from engine.latent import strongest_units

    code = np.array([0.1, -3.0, 2.0, 0.0, 2.0, 0.5], np.float32)
    np.testing.assert_array_equal(strongest_units(code, 3), [1, 2, 4])  # -3 counts by its size
    np.testing.assert_array_equal(strongest_units(code, 2), [1, 2])  # a tie goes to the lower unit
    np.testing.assert_array_equal(strongest_units(code, 10), np.arange(6))  # k beyond the code: every unit
