"""Hints for learners: every control says what it does, in a tooltip on hover and in the status bar."""

from __future__ import annotations


def hint(target, text: str) -> None:
    """Set the tooltip and the status-bar tip of a widget or an action to ``text``.

    Write for someone learning: what it does, its range, a good value where there is one.
    """
    target.setToolTip(text)
    target.setStatusTip(text)
