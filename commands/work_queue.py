"""The tickets a worker process should look at: now, or at a time (retries, leases).

Keys are ``(report_id, ticket_id)``: a ticket is decided once per report whose pipeline it
runs. The queue only says *when to look*; what to do is decided from the event log each time,
so a key added twice, or too early, costs one cheap read and nothing else.

- ``add`` makes a key ready now; ``schedule`` makes it ready at a monotonic time (the earliest
  time asked for wins).
- ``take`` hands a batch of ready keys of one report to one thread and marks them in flight;
  a key added while in flight is looked at again after ``done`` (the event that added it may
  have committed after the thread's read).
- When there are many ready keys the batch is drawn at random, so workers in many processes
  that were all woken by the same events spread over the tickets instead of queueing behind
  each other's locks.
"""

from __future__ import annotations

import heapq
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

WorkKey = tuple[int, int]
"""(report_id, ticket_id)"""

RANDOM_DRAW_FACTOR = 4
"""Draw at random once more than this many batches are ready; first come first served below."""


@dataclass(frozen=True, slots=True)
class Batch:
    report_id: int
    ticket_ids: list[int]


class WorkQueue:
    """Thread-safe. ``clock`` is monotonic seconds (injectable for tests)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._clock = clock
        self._rng = rng or random.Random()
        self._cond = threading.Condition()
        self._ready: dict[WorkKey, None] = {}  # insertion-ordered set
        self._in_flight: set[WorkKey] = set()
        self._again: set[WorkKey] = set()  # added while in flight
        self._timers: list[tuple[float, WorkKey]] = []
        self._timer_at: dict[WorkKey, float] = {}
        self._closed = False

    def __len__(self) -> int:
        with self._cond:
            return len(self._ready)

    def __repr__(self) -> str:
        with self._cond:
            return (
                f"WorkQueue(ready={len(self._ready)}, in_flight={len(self._in_flight)}, "
                f"timers={len(self._timer_at)})"
            )

    @property
    def timers(self) -> int:
        with self._cond:
            return len(self._timer_at)

    @property
    def in_flight(self) -> int:
        with self._cond:
            return len(self._in_flight)

    def add(self, keys: Iterable[WorkKey]) -> int:
        """Make ``keys`` ready now; returns how many were not already waiting."""
        added = 0
        with self._cond:
            for key in keys:
                if key in self._in_flight:
                    self._again.add(key)
                elif key not in self._ready:
                    self._ready[key] = None
                    added += 1
            if added:
                self._cond.notify_all()
        return added

    def schedule(self, key: WorkKey, at: float) -> None:
        """Make ``key`` ready at monotonic time ``at`` (an earlier pending time wins)."""
        with self._cond:
            pending = self._timer_at.get(key)
            if pending is not None and pending <= at:
                return
            self._timer_at[key] = at
            heapq.heappush(self._timers, (at, key))
            self._cond.notify_all()

    def next_timer(self) -> float | None:
        with self._cond:
            self._drop_stale_timers()
            return self._timers[0][0] if self._timers else None

    def take(self, max_items: int, timeout: float) -> Batch | None:
        """Up to ``max_items`` ready keys of one report, marked in flight; None after
        ``timeout`` seconds without work, or once the queue is closed."""
        if max_items <= 0:
            raise ValueError(f"max_items must be positive, got {max_items}")
        deadline = self._clock() + timeout
        with self._cond:
            while not self._closed:
                self._release_due_timers()
                if self._ready:
                    return self._draw(max_items)
                wait = deadline - self._clock()
                if wait <= 0:
                    return None
                if self._timers:
                    wait = min(wait, max(0.0, self._timers[0][0] - self._clock()))
                self._cond.wait(wait)
            return None

    def done(self, batch: Batch) -> None:
        """The thread is through with ``batch``; keys added meanwhile become ready again."""
        with self._cond:
            again = False
            for ticket_id in batch.ticket_ids:
                key = (batch.report_id, ticket_id)
                self._in_flight.discard(key)
                if key in self._again:
                    self._again.discard(key)
                    self._ready[key] = None
                    again = True
            if again:
                self._cond.notify_all()

    def close(self) -> None:
        """Make every ``take`` return None from now on."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # -- inside the lock -------------------------------------------------------------------------

    def _draw(self, max_items: int) -> Batch:
        keys = list(self._ready)
        start = 0
        if len(keys) > RANDOM_DRAW_FACTOR * max_items:
            start = self._rng.randrange(len(keys))
        report_id = keys[start][0]
        chosen: list[WorkKey] = []
        for key in keys[start:] + keys[:start]:
            if len(chosen) >= max_items:
                break
            if key[0] == report_id:
                chosen.append(key)
        for key in chosen:
            del self._ready[key]
            self._in_flight.add(key)
        return Batch(report_id, [ticket_id for _, ticket_id in chosen])

    def _release_due_timers(self) -> None:
        now = self._clock()
        released = False
        while self._timers and self._timers[0][0] <= now:
            at, key = heapq.heappop(self._timers)
            if self._timer_at.get(key) != at:
                continue  # replaced by an earlier time, already released
            del self._timer_at[key]
            if key in self._in_flight:
                self._again.add(key)
            else:
                self._ready[key] = None
                released = True
        if released:
            self._cond.notify_all()

    def _drop_stale_timers(self) -> None:
        while self._timers and self._timer_at.get(self._timers[0][1]) != self._timers[0][0]:
            heapq.heappop(self._timers)
