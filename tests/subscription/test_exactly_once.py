"""1,000 appends from several threads, with the listener and the reader killed along the way:
every event arrives exactly once, in position order."""

from __future__ import annotations

import threading
import time
from uuid import UUID

from tdxq.eventlog import EventStore, NewEvent, StreamAppend, StreamState
from tdxq.eventlog.subscription import Backoff, Subscription

from ..conftest import Schema
from .helpers import Received, following, store_factory_for, terminate

WRITERS = 5
APPENDS_PER_WRITER = 100
EVENTS_PER_APPEND = 2  # 5 * 100 * 2 = 1,000 events


def _writer(schema: Schema, n: int, ids: list[UUID], lock: threading.Lock) -> None:
    with schema.connect() as conn:
        store = EventStore(conn, schema.name)
        for i in range(APPENDS_PER_WRITER):
            events = [NewEvent("test_event", {"w": n, "i": i}) for _ in range(EVENTS_PER_APPEND)]
            store.append([StreamAppend(f"ticket:{n}", StreamState.ANY, events)])
            with lock:
                ids.extend(e.event_id for e in events)


def test_every_event_once_in_order_despite_killed_connections(schema: Schema) -> None:
    total = WRITERS * APPENDS_PER_WRITER * EVENTS_PER_APPEND
    made: list[EventStore] = []
    sub = Subscription(
        schema.dsn,
        schema.name,
        poll_interval=1.0,
        reconnect_backoff=Backoff(initial_s=0.02, max_s=0.1),
    )
    received = Received()
    appended: list[UUID] = []
    lock = threading.Lock()
    started = time.monotonic()
    with sub, following(sub, store_factory_for(schema, made), received, from_position=0):
        writers = [
            threading.Thread(target=_writer, args=(schema, n, appended, lock))
            for n in range(WRITERS)
        ]
        for thread in writers:
            thread.start()
        kills = 0
        while any(t.is_alive() for t in writers):
            time.sleep(0.05)
            if kills < 4 and len(received.events) > (kills + 1) * total // 6:
                if kills % 2 == 0 and sub.backend_pid is not None:
                    terminate(schema, sub.backend_pid)
                elif made and not made[-1].connection.closed:
                    terminate(schema, made[-1].connection.info.backend_pid)
                kills += 1
        for thread in writers:
            thread.join()
        assert received.wait_count(total, timeout=10), f"only {len(received.events)}/{total}"
        time.sleep(0.3)  # nothing more may arrive
    took = time.monotonic() - started

    positions = [e.position for e in received.events]
    assert len(positions) == total, f"{len(positions)} delivered for {total} appended"
    assert positions == sorted(positions) and len(set(positions)) == total
    assert {e.event_id for e in received.events} == set(appended)
    per_writer: dict[int, list[int]] = {}
    for event in received.events:
        per_writer.setdefault(event.data["w"], []).append(event.data["i"])
    for n, order in per_writer.items():
        assert order == sorted(order), f"writer {n}'s events out of order"
    print(f"\n{total} events from {WRITERS} threads, {kills} connections killed: {took:.2f} s")
    assert kills >= 2, "the test did not kill connections as intended"
