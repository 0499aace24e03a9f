"""A bounded least-recently-used cache, safe across threads, that computes each missing value once.

Owned by the object whose results it keeps (``engine.baselines.BaselineBank``), never module-wide.
Two threads asking for the same missing key share one computation: the second waits for the first's
result (a fit of the best linear denoiser takes seconds; the app may ask for it from two views at once).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class LruCache:
    """At most ``capacity`` values; the least recently used one goes first."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"an LRU cache holds at least one value, got capacity {capacity}")
        self.capacity = capacity
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._computing: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._values

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The value for ``key``, computed by ``compute()`` (once, whoever else waits for it) if missing.

        If ``compute`` raises, nothing is kept and the next caller computes afresh.
        """
        while True:
            with self._lock:
                if key in self._values:
                    self._values.move_to_end(key)
                    return self._values[key]
                waiting = self._computing.get(key)
                if waiting is None:
                    done = self._computing[key] = threading.Event()
                    break
            waiting.wait()  # another thread is computing it: take its result (or compute, if it failed)
        try:
            value = compute()
            with self._lock:
                self._values[key] = value
                while len(self._values) > self.capacity:
                    self._values.popitem(last=False)
            return value
        finally:
            with self._lock:
                del self._computing[key]
            done.set()

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
