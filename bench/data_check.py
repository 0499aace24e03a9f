"""What knowing the data files by their content costs at start-up (``engine.data_files``), on the real MNIST.

    DENOISE_STUDIO_DATA=../shared/data/mnist .venv/bin/python bench/data_check.py [--rounds 5]

Three ways to read the 47 MB training images file (9.9 MB gzip), alternating in each round so a busy moment on
the machine hits all three alike; each figure is the median:

- ``plain``: ``engine.idx.read_idx``, what a run did before the check (gunzip and parse, no digest);
- ``first open``: ``read_data_file`` with an empty digest cache: the header's count is checked, the file read, its
  SHA-256 computed and cached;
- ``again``: ``read_data_file`` with the digest cached (keyed by path, size, mtime, ctime and inode): no hashing.

Then the whole ``Dataset("mnist")`` (four files) the first time and again.  The digest cache lives in a
temporary folder (``XDG_CACHE_HOME``), never the user's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.data_files import digest_cache_path, read_data_file  # noqa: E402
from engine.data_sources import DATA_ENV, MNIST_FILES, SOURCES
from engine.dataset import Dataset  # noqa: E402
from engine.download import find_file  # noqa: E402
from engine.idx import read_idx  # noqa: E402


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    folder = os.environ.get(DATA_ENV)
    if not folder:
        print(f"set {DATA_ENV} to the real MNIST folder", file=sys.stderr)
        return 1
    path = find_file(Path(folder), MNIST_FILES["train_images"])
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp()
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores shared with other jobs); {args.rounds} rounds")
    cases = {
        "plain (read_idx, no check)": lambda: read_idx(path),
        "first open (hash, cache it)": lambda: (digest_cache_path().unlink(missing_ok=True),
                                                read_data_file(path, SOURCES["mnist"], "train_images")),
        "again (digest cached)": lambda: read_data_file(path, SOURCES["mnist"], "train_images"),
    }  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, call in cases.items():
            times[name].append(timed(call))
    print(f"{path.name} ({path.stat().st_size:,} bytes gzip, 47,040,016 bytes of IDX):")
    for name, values in times.items():
        print(f"  {name:30} {statistics.median(values) * 1000:7.0f} ms")
    whole = {"Dataset('mnist'), first open": [], "Dataset('mnist'), again": []}
    for _ in range(args.rounds):
        digest_cache_path().unlink(missing_ok=True)
        whole["Dataset('mnist'), first open"].append(timed(lambda: Dataset("mnist", data_dir=folder, progress=False)))
        whole["Dataset('mnist'), again"].append(timed(lambda: Dataset("mnist", data_dir=folder, progress=False)))
    for name, values in whole.items():
        print(f"  {name:30} {statistics.median(values) * 1000:7.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
