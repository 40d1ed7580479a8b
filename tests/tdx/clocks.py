"""A manual clock for tests: ``sleep`` advances it instead of waiting."""

from __future__ import annotations

import threading


class FakeClock:
    """Epoch seconds that move only when told to (or when something sleeps on them)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self._now += seconds

    @property
    def total_slept(self) -> float:
        return sum(self.slept)
