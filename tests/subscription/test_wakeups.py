"""Wake-ups: fast after a commit, no gap between LISTEN and catch-up, bounded waits."""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tdxq.eventlog import EventStore, RecordedEvent
from tdxq.eventlog.subscription import Backoff, Subscription, WakeReason, listener_connection

from ..conftest import Schema
from .helpers import (
    Received,
    append_one,
    backend_state,
    following,
    store_factory_for,
    terminate,
)

SLOW_POLL = 30.0
"""A poll interval no test waits out: delivery within seconds proves a notification did it."""


def test_events_committed_after_listen_arrive_far_below_the_poll_interval(
    schema: Schema, store: EventStore
) -> None:
    received = Received()
    latencies: list[float] = []
    with (
        Subscription(schema.dsn, schema.name, poll_interval=SLOW_POLL) as sub,
        following(sub, store_factory_for(schema), received),
    ):
        for i in range(30):
            started = time.monotonic()
            event_id = append_one(store, i=i)
            arrived = received.wait_for(event_id, timeout=5)
            assert arrived is not None, f"event {i} not delivered within 5 s"
            latencies.append(arrived - started)
    p50 = statistics.median(latencies)
    worst = max(latencies)
    print(f"\nwake latency over 30 appends: p50 {p50 * 1000:.1f} ms, max {worst * 1000:.1f} ms")
    assert worst < 1.0, f"slowest wake-up took {worst:.3f} s with a {SLOW_POLL} s poll interval"


class _AppendAfterFirstRead(EventStore):
    """A store whose first catch-up read is followed at once by another process's commit:
    the moment a reader that LISTENed only after catching up would miss."""

    def __init__(self, conn: psycopg.Connection[Any], schema: str, writer: EventStore) -> None:
        super().__init__(conn, schema)
        self._writer = writer
        self.injected: list[object] = []

    def read_all(self, *args: Any, **kwargs: Any) -> list[RecordedEvent]:
        events = super().read_all(*args, **kwargs)
        if not self.injected:
            self.injected.append(append_one(self._writer, "ticket:late", late=True))
        return events


def test_event_committed_right_after_the_catch_up_read_is_not_lost(
    schema: Schema, store: EventStore
) -> None:
    before = append_one(store, "ticket:early")
    stores: list[_AppendAfterFirstRead] = []

    def factory() -> EventStore:
        made = _AppendAfterFirstRead(schema.connect(), schema.name, store)
        stores.append(made)
        return made

    received = Received()
    with (
        Subscription(schema.dsn, schema.name, poll_interval=SLOW_POLL) as sub,
        following(sub, factory, received),
    ):
        assert received.wait_for(before, timeout=5) is not None
        assert received.wait_count(2, timeout=5), "the event committed after catch-up was lost"
    late = stores[0].injected[0]
    assert [e.event_id for e in received.events] == [before, late]


def test_event_committed_while_relistening_is_caught_up(schema: Schema, store: EventStore) -> None:
    """An event that commits after the listener lost its connection and before LISTEN is in
    place again leaves no notification; the reconnect itself must make the reader catch up."""
    connects = 0
    gap_events: list[object] = []

    def connect_with_gap(dsn: str) -> psycopg.Connection[Any]:
        nonlocal connects
        connects += 1
        conn = listener_connection(dsn)
        if connects == 2:
            gap_events.append(append_one(store, "ticket:gap"))
        return conn

    received = Received()
    sub = Subscription(
        schema.dsn,
        schema.name,
        poll_interval=SLOW_POLL,
        connect=connect_with_gap,
        reconnect_backoff=Backoff(initial_s=0.05, max_s=0.2),
    )
    with sub, following(sub, store_factory_for(schema), received):
        first = append_one(store, "ticket:first")
        assert received.wait_for(first, timeout=5) is not None
        pid = sub.backend_pid
        assert pid is not None
        terminate(schema, pid)
        assert received.wait_count(2, timeout=5), "the event committed before re-LISTEN was lost"
        assert [e.event_id for e in received.events] == [first, gap_events[0]]
        assert sub.reconnects == 1


def test_notification_payload_is_empty_and_on_the_schema_channel(
    schema: Schema, store: EventStore
) -> None:
    with schema.connect() as listener:
        listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(store.notify_channel)))
        append_one(store)
        notes = list(listener.notifies(timeout=5, stop_after=1))
    assert notes, "no notification arrived"
    assert notes[0].channel == f"{schema.name}_events"
    assert notes[0].payload == ""


def test_listening_connection_is_autocommit_and_never_in_a_transaction(
    schema: Schema, store: EventStore
) -> None:
    with Subscription(schema.dsn, schema.name, poll_interval=0.2, heartbeat_interval=0.05) as sub:
        pid = sub.backend_pid
        assert pid is not None and sub.listening
        states = set()
        for _ in range(10):  # across heartbeats and notifications
            append_one(store)
            sub.wait(timeout=0.1)
            state = backend_state(schema, pid)
            assert state is not None
            states.add(state)
    assert {s for s, _ in states} <= {"idle", "active"}, states
    assert {name for _, name in states} == {"tdxq-listener"}


def test_waits_are_bounded_by_the_poll_interval(schema: Schema) -> None:
    with Subscription(schema.dsn, schema.name, poll_interval=0.2) as sub:
        for timeout, bound in ((None, 0.2), (60.0, 0.2), (0.05, 0.05)):
            started = time.monotonic()
            assert sub.wait(timeout) is WakeReason.TIMEOUT
            took = time.monotonic() - started
            assert bound * 0.8 <= took < bound + 0.15, (timeout, took)


def test_an_unreachable_database_degrades_to_bounded_polling(schema: Schema) -> None:
    sub = Subscription(
        "postgresql://postgres@127.0.0.1:1/none?connect_timeout=1",
        schema.name,
        poll_interval=0.2,
        reconnect_backoff=Backoff(initial_s=0.05, max_s=0.1),
    )
    started = time.monotonic()
    with sub:
        assert time.monotonic() - started < 1.5, "start() waited for the database"
        assert not sub.listening
        for _ in range(3):
            begun = time.monotonic()
            assert sub.wait() is WakeReason.DEGRADED
            assert time.monotonic() - begun < 0.4


def test_stop_wakes_a_waiter_at_once(schema: Schema) -> None:
    with Subscription(schema.dsn, schema.name, poll_interval=SLOW_POLL) as sub:
        threading.Timer(0.1, sub.stop).start()
        started = time.monotonic()
        assert sub.wait() is WakeReason.STOPPED
        assert time.monotonic() - started < 1.0


def test_follow_returns_soon_after_a_stop_event_with_its_checkpoint(
    schema: Schema, store: EventStore
) -> None:
    ids = [append_one(store, i=i) for i in range(3)]
    stop = threading.Event()
    seen: list[RecordedEvent] = []
    with Subscription(schema.dsn, schema.name, poll_interval=SLOW_POLL) as sub:
        threading.Timer(0.3, stop.set).start()
        started = time.monotonic()
        last = sub.follow(store_factory_for(schema), 0, seen.append, stop)
        took = time.monotonic() - started
    assert [e.event_id for e in seen] == ids
    assert last == seen[-1].position
    assert took < 1.0, f"follow took {took:.2f} s to notice the stop event"


def test_follow_starts_after_the_checkpoint_and_filters_types(
    schema: Schema, store: EventStore
) -> None:
    first = append_one(store)
    second = append_one(store)
    checkpoint = store.read_all(0, 10)[0].position
    seen: list[RecordedEvent] = []
    stop = threading.Event()

    def handle(event: RecordedEvent) -> None:
        seen.append(event)
        stop.set()

    with Subscription(schema.dsn, schema.name, poll_interval=SLOW_POLL) as sub:
        last = sub.follow(store_factory_for(schema), checkpoint, handle, stop)
        assert [e.event_id for e in seen] == [second]
        assert last == seen[0].position
        seen.clear()
        stop.clear()
        threading.Timer(0.3, stop.set).start()
        assert sub.follow(store_factory_for(schema), 0, handle, stop, types=["other"]) == 0
        assert seen == []
    assert first != second


def test_a_handler_error_propagates_and_the_store_is_closed(
    schema: Schema, store: EventStore
) -> None:
    append_one(store)
    made: list[EventStore] = []

    def boom(event: RecordedEvent) -> None:
        raise RuntimeError("handler failed")

    with (
        Subscription(schema.dsn, schema.name, poll_interval=SLOW_POLL) as sub,
        pytest.raises(RuntimeError, match="handler failed"),
    ):
        sub.follow(store_factory_for(schema, made), 0, boom)
    assert made and made[0].connection.closed


def test_a_store_in_a_transaction_is_refused(schema: Schema) -> None:
    with (
        Subscription(schema.dsn, schema.name, poll_interval=SLOW_POLL) as sub,
        pytest.raises(ValueError, match="autocommit"),
    ):
        sub.follow(lambda: EventStore(schema.connect(autocommit=False), schema.name), 0, print)


def test_terminated_listener_shows_up_as_reconnect(schema: Schema) -> None:
    sub = Subscription(
        schema.dsn,
        schema.name,
        poll_interval=SLOW_POLL,
        reconnect_backoff=Backoff(initial_s=0.05, max_s=0.2),
    )
    with sub:
        pid = sub.backend_pid
        assert pid is not None
        terminate(schema, pid)
        assert sub.wait(timeout=5) is WakeReason.RECONNECTED
        assert sub.listening and sub.backend_pid not in (None, pid)
