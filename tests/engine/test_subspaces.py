"""Principal angles between subspaces, checked on pairs built with known angles."""

from __future__ import annotations

import numpy as np
import pytest

from engine.subspaces import principal_angles


def frame(d: int, seed: int) -> np.ndarray:
    """A random orthonormal basis of R^d, one vector per column (d, d)."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


def mixed(basis: np.ndarray, seed: int) -> np.ndarray:
    """Another basis of the same subspace: the columns scaled and mixed by a random invertible matrix."""
    p = basis.shape[1]
    return basis @ (np.random.default_rng(seed).normal(size=(p, p)) + 3 * np.eye(p))


def test_a_pair_built_with_known_angles_gives_their_cosines_whatever_the_bases():
    d, angles = 14, np.array([0.0, 0.25, 0.7, 1.2, np.pi / 2])
    e = frame(d, 0)
    p = len(angles)
    a = e[:, :p]  # span(e_1 .. e_5)
    b = np.cos(angles) * e[:, :p] + np.sin(angles) * e[:, p : 2 * p]  # e_i turned by angle i towards e_(5+i)
    cosines = principal_angles(mixed(a, 1), mixed(b, 2))
    np.testing.assert_allclose(cosines, np.cos(angles), atol=1e-10)  # already largest first
    np.testing.assert_allclose(principal_angles(b, a), cosines, atol=1e-10)  # symmetric


def test_subspaces_of_different_dimensions_meet_at_the_smaller_ones_count():
    e = frame(9, 3)
    inside = principal_angles(e[:, :2], mixed(e[:, :5], 4))  # a plane inside a 5-dimensional subspace
    np.testing.assert_allclose(inside, [1.0, 1.0], atol=1e-12)
    apart = principal_angles(e[:, :2], e[:, 2:7])  # orthogonal
    np.testing.assert_allclose(apart, [0.0, 0.0], atol=1e-12)
    assert principal_angles(e[:, :3], e[:, [0, 4]]).shape == (2,)


def test_float32_columns_of_a_large_space_give_cosines_in_range():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(784, 10)).astype(np.float32)
    cosines = principal_angles(a, a * 2)
    assert cosines.dtype == np.float64
    assert np.all(cosines <= 1.0) and np.allclose(cosines, 1.0, atol=1e-6)


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        (np.ones((5, 2)), np.eye(5)[:, :2], "not linearly independent"),
        (np.eye(5)[:, :2], np.eye(6)[:, :2], "same space"),
        (np.eye(5)[:, 0], np.eye(5)[:, :2], "(d, p) array"),
        (np.full((5, 2), np.nan), np.eye(5)[:, :2], "NaN"),
        (np.eye(3), np.eye(3)[:, :0], "(d, p) array"),
    ],
)
def test_bad_bases_are_refused_with_a_reason(a, b, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        principal_angles(a, b)
