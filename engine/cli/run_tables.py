"""How runs read in a terminal: aligned tables, times, durations, noise settings (``runs``, ``sweep``)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path

from engine.runs import RunRecord


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[int] = ()) -> str:
    """Columns padded to their widest cell; columns in ``right`` (numbers) aligned to the right."""
    cells = [[str(h) for h in headers]] + [["-" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        padded = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


def when(timestamp: float | None) -> str:
    """``2026-12-06 14:03`` in local time."""
    return "-" if timestamp is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def duration(seconds: float | None) -> str:
    """``4.2 s``, ``3m 05s``, ``2h 10m``."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    return f"{minutes // 60}h {minutes % 60:02d}m"


def noise_text(settings: dict) -> str:
    """``0.1``, ``0-0.8``, ``masking 0.3``: the level or range, and the kind when it is not Gaussian."""
    noise = settings.get("noise")
    level = f"{noise[0]:g}-{noise[1]:g}" if isinstance(noise, (list, tuple)) else "-" if noise is None else f"{noise:g}"
    kind = settings.get("noise_kind") or "gaussian"
    return level if kind == "gaussian" else f"{kind.replace('_', '-')} {level}"


def number(value, digits: int = 5) -> str:
    """A score to ``digits`` decimals; ``-`` for none."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}" if math.isfinite(value) else str(value)
    return str(value)


def epochs_text(run: RunRecord) -> str:
    """``3/10`` epochs done of those asked for (``2.4/10`` for a run stopped within an epoch)."""
    done = run.epochs_done or 0.0
    done_text = f"{done:g}" if float(done).is_integer() else f"{done:.1f}"
    total = run.settings.get("epochs")
    return f"{done_text}/{total}" if total is not None else done_text


def model_name(run: RunRecord) -> str:
    return Path(run.model_path).name if run.model_path else "-"
