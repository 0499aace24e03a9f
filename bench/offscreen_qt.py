"""What the GUI benchmarks share: Qt offscreen with a private runtime folder, and spinning the event loop.

``use_offscreen_qt()`` must run before PySide6 is imported (Qt reads the platform at start); it also puts
the repository first on ``sys.path`` so ``python bench/NAME.py`` finds ``engine`` and ``gui``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def use_offscreen_qt() -> None:
    """Qt's offscreen platform (unless one is chosen) and a fresh 0700 ``XDG_RUNTIME_DIR`` when there is none."""
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if "XDG_RUNTIME_DIR" not in os.environ:
        runtime = tempfile.mkdtemp(prefix="xdg-")
        os.chmod(runtime, 0o700)
        os.environ["XDG_RUNTIME_DIR"] = runtime


def spin(ms: int) -> None:
    """Run the Qt event loop for ``ms`` milliseconds (the window paints, signals from threads arrive)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
