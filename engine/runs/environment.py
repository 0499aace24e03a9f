"""What a run's numbers depend on besides its settings: the versions of the software and the machine.

Two runs with the same settings give the same weights bit for bit when these match (the Trainer
is deterministic given its seed); when they differ, ``differences`` says where.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info

from engine import __version__
from engine.runs.liveness import host_name


def versions() -> dict[str, str]:
    """{"app", "python", "numpy", "blas"}: the BLAS as threadpoolctl finds it loaded, with the kernel
    it chose ("openblas 0.3.27 Haswell"), which decides the last bits of every matrix product."""
    blas = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    names = [" ".join(str(lib[k]) for k in ("internal_api", "version", "architecture") if lib.get(k)) for lib in blas]
    return {
        "app": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": "; ".join(names) or "none found",
    }


def machine() -> dict[str, object]:
    """{"host", "os", "cpu", "cores", "blas_threads"}: the threads BLAS may use in this process as the run starts
    (the Trainer's steps use one; a sweep's workers keep the rest of the process on one too)."""
    threads = [lib.get("num_threads", 1) for lib in threadpool_info() if lib.get("user_api") == "blas"]
    return {"host": host_name(), "os": platform.platform(), "cpu": _cpu_name(), "cores": os.cpu_count() or 1,
            "blas_threads": max(threads, default=0)}  # fmt: skip


def differences(a: dict, b: dict) -> list[str]:
    """``"numpy 2.4.6 / 2.3.0"`` for every key whose values differ between two such dicts."""
    return [f"{key} {a.get(key)} / {b.get(key)}" for key in sorted(a.keys() | b.keys()) if a.get(key) != b.get(key)]


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"
