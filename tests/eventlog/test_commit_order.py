"""A reader following positions never skips an event whose transaction commits late."""

from __future__ import annotations

import threading
import time

from tdxq.eventlog import EventStore, NewEvent, StreamAppend, StreamState

from ..conftest import Schema


def follow(store: EventStore, checkpoint: int, seen: list[str]) -> int:
    """What a projector does: read after its checkpoint, apply, advance."""
    for event in store.read_all(checkpoint, 100):
        seen.append(event.type)
        checkpoint = event.position
    return checkpoint


def test_delayed_commit_is_not_skipped(schema: Schema) -> None:
    conn_a = schema.connect(autocommit=False)
    conn_b = schema.connect()
    store_a = EventStore(conn_a, schema.name)
    store_b = EventStore(conn_b, schema.name)
    reader = EventStore(schema.connect(), schema.name)

    # A appends inside an open transaction and does not commit yet.
    store_a.append([StreamAppend("ticket:a", StreamState.ANY, [NewEvent("from_a", {})])])

    b_done = threading.Event()

    def append_b() -> None:
        store_b.append([StreamAppend("ticket:b", StreamState.ANY, [NewEvent("from_b", {})])])
        b_done.set()

    thread = threading.Thread(target=append_b)
    thread.start()

    seen: list[str] = []
    checkpoint = 0
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:  # the reader polls while A is still open
        checkpoint = follow(reader, checkpoint, seen)
        time.sleep(0.05)
    assert seen == [], "nothing may be visible, and the reader must not advance, before A commits"
    assert checkpoint == 0
    assert not b_done.is_set(), "B waits for A's commit instead of taking a later-visible position"

    conn_a.commit()
    thread.join(timeout=10)
    assert b_done.is_set()
    checkpoint = follow(reader, checkpoint, seen)
    assert seen == ["from_a", "from_b"], "both events, in commit order"
    positions = [e.position for e in reader.read_all(0, 10)]
    assert positions == sorted(positions) and checkpoint == positions[-1]
    for conn in (conn_a, conn_b, reader.connection):
        conn.close()


def test_concurrent_appenders_never_let_a_follower_skip(schema: Schema) -> None:
    """Many writers with small random commit delays; a follower must end with every event."""
    writers = 4
    per_writer = 40
    stop = threading.Event()
    seen: list[str] = []

    def write(n: int) -> None:
        conn = schema.connect(autocommit=False)
        store = EventStore(conn, schema.name)
        for i in range(per_writer):
            store.append([StreamAppend(f"w{n}", StreamState.ANY, [NewEvent("e", {"i": i})])])
            time.sleep(0.001 * (i % 3))  # hold the transaction open a little
            conn.commit()
        conn.close()

    def read() -> None:
        store = EventStore(schema.connect(), schema.name)
        checkpoint = 0
        while not stop.is_set() or checkpoint < store.head_position():
            for event in store.read_all(checkpoint, 50):
                assert event.position > checkpoint
                seen.append(f"{event.stream}:{event.data['i']}")
                checkpoint = event.position
        store.connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    follower = threading.Thread(target=read)
    follower.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    follower.join(timeout=30)
    assert len(seen) == writers * per_writer
    assert len(set(seen)) == len(seen)
