"""Shared pieces of the subscription tests: appending, following in a thread, killing backends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg

from tdxq.eventlog import EventStore, NewEvent, RecordedEvent, StreamAppend, StreamState
from tdxq.eventlog.subscription import Subscription

from ..conftest import Schema


def append_one(store: EventStore, stream: str = "ticket:1", **data: Any) -> UUID:
    event = NewEvent("test_event", dict(data))
    store.append([StreamAppend(stream, StreamState.ANY, [event])])
    return event.event_id


def terminate(schema: Schema, pid: int) -> None:
    with schema.connect() as admin:
        row = admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()
    assert row is not None and row[0] is True, f"backend {pid} was not terminated"


@dataclass
class Received:
    """Events a follower handed over, with the monotonic time each arrived."""

    events: list[RecordedEvent] = field(default_factory=list)
    times: dict[UUID, float] = field(default_factory=dict)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def handle(self, event: RecordedEvent) -> None:
        with self.cond:
            self.events.append(event)
            self.times[event.event_id] = time.monotonic()
            self.cond.notify_all()

    def wait_for(self, event_id: UUID, timeout: float) -> float | None:
        """Monotonic arrival time of ``event_id``, or None if it did not come in time."""
        with self.cond:
            self.cond.wait_for(lambda: event_id in self.times, timeout=timeout)
            return self.times.get(event_id)

    def wait_count(self, count: int, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: len(self.events) >= count, timeout=timeout)


@contextmanager
def following(
    sub: Subscription,
    store_factory: Callable[[], EventStore],
    received: Received,
    from_position: int = 0,
) -> Iterator[threading.Thread]:
    """Run ``sub.follow`` in a thread for the duration of the block."""
    result: list[BaseException] = []

    def run() -> None:
        try:
            sub.follow(store_factory, from_position, received.handle)
        except BaseException as exc:
            result.append(exc)

    thread = threading.Thread(target=run, name="follower", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        sub.stop()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the follower did not stop"
        assert not result, f"the follower raised {result[0]!r}"


def store_factory_for(
    schema: Schema, made: list[EventStore] | None = None
) -> Callable[[], EventStore]:
    def make() -> EventStore:
        store = EventStore(schema.connect(), schema.name)
        if made is not None:
            made.append(store)
        return store

    return make


def backend_state(schema: Schema, pid: int) -> tuple[str, str] | None:
    with schema.connect() as admin:
        row = admin.execute(
            "SELECT state, application_name FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def failing_connect(message: str = "refused by the test") -> psycopg.Connection[Any]:
    raise psycopg.OperationalError(message)
