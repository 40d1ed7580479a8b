"""What the sandbox saw: every mutating call (with the effect it had), and call counters per
endpoint and status. Tests and benchmarks read these to prove no effect happened twice."""

from __future__ import annotations

import copy
import threading
from collections import Counter, defaultdict
from typing import Any

WriteRecord = dict[str, Any]


class CallLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._writes: list[WriteRecord] = []
        self._calls: Counter[str] = Counter()
        self._outcomes: defaultdict[str, Counter[str]] = defaultdict(Counter)

    def count(self, endpoint: str, outcome: int | str) -> None:
        with self._lock:
            self._calls[endpoint] += 1
            self._outcomes[endpoint][str(outcome)] += 1

    def add_write(self, record: WriteRecord) -> None:
        with self._lock:
            self._writes.append(record)

    def writes(self) -> list[WriteRecord]:
        with self._lock:
            return copy.deepcopy(self._writes)

    def calls(self) -> dict[str, int]:
        with self._lock:
            return dict(self._calls)

    def outcomes(self) -> dict[str, dict[str, int]]:
        """Per endpoint: how many answers per status ("200", "429", ...) or "dropped"/"timeout"."""
        with self._lock:
            return {endpoint: dict(counts) for endpoint, counts in self._outcomes.items()}

    def reset(self) -> None:
        with self._lock:
            self._writes.clear()
            self._calls.clear()
            self._outcomes.clear()
