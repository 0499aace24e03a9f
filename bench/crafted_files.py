"""Hostile files against the command line: peak memory and time for each to be refused (Linux).

    .venv/bin/python bench/crafted_files.py

Each file of ``tests/engine/crafted.py`` (model bombs, gzip bombs in the data folder, crafted
checkpoints) goes through ``denoise-studio summary`` / ``train`` / ``train --resume`` in a fresh
process, which reports its peak resident memory (``VmHWM``: the interpreter, NumPy and the engine
included) as it exits; the time is the child's whole life, start-up included (~0.3-0.5 s of it).
A baseline row loads the small shipped model the same way.  The tests assert the memory (<= 100 MB);
the issue's aim for the time is 2 s a file.  Then the crafted pictures (headers claiming huge sizes, pictures
beyond the megapixel limit, and the largest that load) through the app's picture reader, each in a fresh
process.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import make_tiny_mnist  # noqa: E402
from tests.engine import crafted  # noqa: E402


def main() -> int:
    if not Path("/proc/self/status").exists():
        print("needs Linux (/proc/self/status)", file=sys.stderr)
        return 1
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores shared with other jobs)")
    print(f"{'file':32} {'on disk':>12} {'exit':>4} {'peak MB':>8} {'seconds':>8}  error")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)

        def row(name: str, size: int, argv: list[str], data: Path | None = None) -> None:
            code, err, peak, seconds = crafted.run_cli(*argv, data=data)
            message = err.strip().splitlines()[-1] if err.strip() else ""
            print(f"{name:32} {size:>12,} {code:>4} {peak:>8.1f} {seconds:>8.2f}  {message[-90:]}")

        row("(baseline: the shipped model)", 0, ["summary", "mnist_denoising_autoencoder"])
        for name, (build, _) in crafted.MODEL_FILES.items():
            path = build(tmp / f"{name}.npz")
            row(name, path.stat().st_size, ["summary", str(path)])
            path.unlink()
        for name, (make, _, key) in crafted.DATA_BOMBS.items():
            folder = crafted.data_folder(tmp / name, make(), key)
            size = max(p.stat().st_size for p in folder.iterdir())
            row(name, size, crafted.data_command(key, folder, tmp / "o.npz"))
        data = make_tiny_mnist(tmp / "tiny")
        for name, changes in crafted.CHECKPOINTS.items():
            path = crafted.checkpoint(tmp, name, **changes)
            row(name, path.stat().st_size, ["train", "--resume", str(path), "--quiet", "-o", str(tmp / "o.npz")], data)
        print()
        print("Pictures, read as the app reads them (gui.denoise.picture_import.load_picture, Qt offscreen);")
        print("the time is the read alone, the memory the whole process's peak:")
        print(f"{'picture':32} {'on disk':>12} {'peak MB':>8} {'seconds':>8}  outcome")
        pictures = {"(baseline: a 280x280 PNG)": (lambda path: crafted.png(path, 280, 280), None)}
        for name, (build, _) in {**pictures, **crafted.PICTURES, **crafted.PICTURES_AT_THE_LIMIT}.items():
            path = build(tmp / "picture")
            outcome, peak, seconds = crafted.run_picture(path)
            print(f"{name:32} {path.stat().st_size:>12,} {peak:>8.1f} {seconds:>8.2f}  {outcome[:80]}")
            path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
