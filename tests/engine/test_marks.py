"""engine.marks: the ink's connected marks, and which of them are the digit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from engine.marks import clear_of_the_edge, digit_marks, label_marks


def flood_labels(mask: np.ndarray) -> list[set[tuple[int, int]]]:
    """The 8-connected marks of a small mask by flood fill, as sets of pixels: what label_marks must agree with."""
    seen, marks = np.zeros_like(mask), []
    for start in zip(*np.nonzero(mask), strict=True):
        if seen[start]:
            continue
        seen[start], todo, mark = True, [start], set()
        while todo:
            r, c = todo.pop()
            mark.add((int(r), int(c)))
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    n = (r + dr, c + dc)
                    if 0 <= n[0] < mask.shape[0] and 0 <= n[1] < mask.shape[1] and mask[n] and not seen[n]:
                        seen[n] = True
                        todo.append(n)
        marks.append(mark)
    return marks


@settings(max_examples=60, deadline=None)
@given(arrays(bool, st.tuples(st.integers(1, 24), st.integers(1, 24))))
def test_marks_are_the_8_connected_pieces(mask):
    labels, count = label_marks(mask)
    assert labels.shape == mask.shape and labels.dtype == np.int32
    assert np.array_equal(labels > 0, mask)
    expected = flood_labels(mask)
    assert count == len(expected)
    found = [set(zip(*map(lambda a: a.tolist(), np.nonzero(labels == k)), strict=True)) for k in range(1, count + 1)]
    assert sorted(map(sorted, found)) == sorted(map(sorted, expected))


def test_a_diagonal_step_joins_two_runs():
    mask = np.zeros((3, 6), bool)
    mask[0, 0:2] = mask[1, 2] = mask[2, 3:6] = True
    assert label_marks(mask)[1] == 1


def ink_with(*boxes: tuple[int, int, int, int], shape=(100, 120)) -> np.ndarray:
    ink = np.zeros(shape, np.float32)
    for top, bottom, left, right in boxes:
        ink[top:bottom, left:right] = 1
    return ink


def test_a_speck_far_from_the_digit_is_dropped_and_a_broken_stroke_near_it_kept():
    digit = (20, 80, 50, 60)
    speck, crumb = (5, 7, 5, 7), (82, 84, 52, 54)  # far in a corner; just under the stroke
    kept = digit_marks(ink_with(digit, speck, crumb))
    np.testing.assert_array_equal(kept, ink_with(digit, crumb))


def test_two_strokes_of_one_digit_are_both_kept():
    body, bar = (30, 80, 40, 50), (10, 14, 40, 90)  # a "5"'s body and its top bar, apart, a sixth of its ink
    ink = ink_with(body, bar)
    np.testing.assert_array_equal(digit_marks(ink), ink)


def test_what_touches_the_picture_edge_is_dropped_unless_everything_does():
    digit, desk = (20, 80, 50, 60), (0, 100, 0, 8)
    np.testing.assert_array_equal(digit_marks(ink_with(digit, desk)), ink_with(digit))
    tight = ink_with((0, 100, 50, 60), (40, 45, 60, 110))  # a tightly cropped digit touching the edge
    np.testing.assert_array_equal(digit_marks(tight), tight)
    assert not clear_of_the_edge(tight > 0).any()
