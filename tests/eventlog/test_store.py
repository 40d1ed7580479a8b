"""The store against a real Postgres: appends, expected versions, idempotency, immutability."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from tdxq.eventlog import (
    EventEncodingError,
    EventIdConflict,
    EventStore,
    NewEvent,
    StreamAppend,
    StreamState,
    WrongExpectedVersion,
)

from ..conftest import Schema


def one(stream: str, expected: int | StreamState, *events: NewEvent) -> list[StreamAppend]:
    return [StreamAppend(stream, expected, list(events))]


def test_append_and_read_back(store: EventStore) -> None:
    first = NewEvent("ticket_seen", {"ticket_id": 1, "title": "Laptop"}, {"actor": "test"})
    second = NewEvent("ticket_left_report", {"ticket_id": 1})
    appended = store.append(one("ticket:1", StreamState.NO_STREAM, first, second))
    assert [a.version for a in appended] == [1, 2]
    assert appended[0].position < appended[1].position
    events = store.read_stream("ticket:1")
    assert [(e.type, e.version, e.event_id) for e in events] == [
        ("ticket_seen", 1, first.event_id),
        ("ticket_left_report", 2, second.event_id),
    ]
    assert events[0].data == {"ticket_id": 1, "title": "Laptop"}
    assert events[0].metadata == {"actor": "test"}
    assert events[0].recorded_at.tzinfo is not None
    assert store.stream_version("ticket:1") == 2
    assert store.stream_version("ticket:404") == 0
    assert [e.event_id for e in store.read_all(0, 10)] == [first.event_id, second.event_id]


def test_batch_over_several_streams_is_atomic(store: EventStore) -> None:
    store.append(one("a", StreamState.NO_STREAM, NewEvent("x", {})))
    batch = [
        StreamAppend("b", StreamState.NO_STREAM, [NewEvent("x", {})]),
        StreamAppend("a", StreamState.NO_STREAM, [NewEvent("x", {})]),  # wrong: a exists
    ]
    with pytest.raises(WrongExpectedVersion) as info:
        store.append(batch)
    assert (info.value.stream, info.value.actual) == ("a", 1)
    assert store.stream_version("b") == 0, "nothing of a failed batch may land"
    store.append(
        [StreamAppend("b", 0, [NewEvent("x", {})]), StreamAppend("a", 1, [NewEvent("y", {})])]
    )
    assert store.read_streams(["a", "b", "c"]).keys() == {"a", "b", "c"}
    assert [e.type for e in store.read_streams(["a"])["a"]] == ["x", "y"]


def test_expected_version_any_and_exact(store: EventStore) -> None:
    store.append(one("s", StreamState.ANY, NewEvent("x", {})))
    store.append(one("s", StreamState.ANY, NewEvent("x", {})))
    store.append(one("s", 2, NewEvent("x", {})))
    with pytest.raises(WrongExpectedVersion) as info:
        store.append(one("s", 2, NewEvent("x", {})))
    assert info.value.actual == 3
    assert "is at version 3, expected 2" in str(info.value)


def test_two_connections_same_expected_version_exactly_one_wins(schema: Schema) -> None:
    setup = EventStore(schema.connect(), schema.name)
    setup.append(one("ticket:7", StreamState.NO_STREAM, NewEvent("ticket_seen", {})))
    barrier = threading.Barrier(2)
    results: list[object] = []

    def claim(worker: str) -> None:
        conn = schema.connect()
        store = EventStore(conn, schema.name)
        barrier.wait()
        try:
            store.append(one("ticket:7", 1, NewEvent("action_started", {"worker": worker})))
            results.append("ok")
        except WrongExpectedVersion as exc:
            results.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=claim, args=(w,)) for w in ("w1", "w2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1
    losers = [r for r in results if isinstance(r, WrongExpectedVersion)]
    assert len(losers) == 1 and losers[0].actual == 2
    assert [e.type for e in setup.read_stream("ticket:7")] == ["ticket_seen", "action_started"]


def test_reappending_same_event_returns_original_position(store: EventStore) -> None:
    event = NewEvent("x", {"n": 1})
    first = store.append(one("s", StreamState.NO_STREAM, event))
    store.append(one("s", 1, NewEvent("y", {})))
    again = store.append(one("s", StreamState.NO_STREAM, event))  # stale expectation is fine
    assert again[0].position == first[0].position
    assert again[0].already_recorded and not first[0].already_recorded
    assert store.stream_version("s") == 2


def test_reappending_event_id_with_other_content_raises(store: EventStore) -> None:
    event_id = uuid.uuid4()
    store.append(one("s", StreamState.ANY, NewEvent("x", {"n": 1}, event_id=event_id)))
    with pytest.raises(EventIdConflict) as info:
        store.append(one("s", StreamState.ANY, NewEvent("x", {"n": 2}, event_id=event_id)))
    assert str(event_id) in str(info.value)
    with pytest.raises(EventIdConflict):
        store.append(one("other", StreamState.ANY, NewEvent("x", {"n": 1}, event_id=event_id)))
    assert store.stream_version("s") == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {t} SET type = 'changed'",
        "UPDATE {t} SET type = 'changed' WHERE false",
        "DELETE FROM {t}",
        "TRUNCATE {t}",
    ],
)
def test_events_are_immutable(store: EventStore, statement: str) -> None:
    store.append(one("s", StreamState.ANY, NewEvent("x", {"n": 1})))
    table = f"{store.schema}.events"
    with pytest.raises(psycopg.Error, match="append-only"):
        store.connection.execute(statement.format(t=table))
    assert [e.type for e in store.read_stream("s")] == ["x"]


def test_hostile_text_is_sanitized_and_the_whole_batch_lands(store: EventStore) -> None:
    big = "x" * 1_000_000
    events = [
        NewEvent("normal", {"title": "fine"}),
        NewEvent("nul", {"row": {"Description": "before\x00after"}, "list": ["ok", "a\x00"]}),
        NewEvent("surrogate", {"title": "lone \ud800 surrogate", "pair": "\ud83d\ude00"}),
        NewEvent("huge", {"text": big}),
        NewEvent("normal", {"title": "also fine"}),
    ]
    appended = store.append(one("ticket:9", StreamState.NO_STREAM, *events))
    assert len(appended) == 5
    stored = store.read_stream("ticket:9")
    assert stored[1].data == {
        "row": {"Description": "before\ufffdafter"},
        "list": ["ok", "a\ufffd"],
    }
    assert stored[1].metadata["sanitized_paths"] == ["$.row.Description", "$.list[1]"]
    assert stored[2].data["title"] == "lone \ufffd surrogate"
    assert stored[2].data["pair"] == "\U0001f600", "a valid surrogate pair is joined, not replaced"
    assert stored[2].metadata["sanitized_paths"] == ["$.title", "$.pair"]
    assert stored[3].data["text"] == big and "sanitized_paths" not in stored[3].metadata
    assert "sanitized_paths" not in stored[0].metadata


def test_big_integers_round_trip_exactly_or_are_refused(store: EventStore) -> None:
    values = [2**53 + 1, -(2**53) - 1, 2**63 - 1, -(2**63)]
    store.append(one("n", StreamState.ANY, NewEvent("x", {"values": values})))
    assert store.read_stream("n")[0].data["values"] == values
    with pytest.raises(EventEncodingError, match=r"\$\.values\[0\].*64-bit"):
        store.append(one("n", StreamState.ANY, NewEvent("x", {"values": [2**64]})))


def test_unstorable_values_name_their_path(store: EventStore) -> None:
    from datetime import datetime
    from decimal import Decimal

    cases = [
        ({"price": Decimal("1.10")}, r"\$\.price.*Decimal"),
        ({"a": {"b": float("nan")}}, r"\$\.a\.b.*finite"),
        ({"when": datetime(2026, 1, 1)}, r"\$\.when.*naive"),
        ({"blob": b"raw"}, r"\$\.blob.*bytes"),
    ]
    for data, pattern in cases:
        with pytest.raises(EventEncodingError, match=pattern):
            store.append(one("bad", StreamState.ANY, NewEvent("x", data)))
    assert store.stream_version("bad") == 0


def test_bad_arguments_are_refused_before_the_database(store: EventStore) -> None:
    with pytest.raises(ValueError, match="appears twice"):
        store.append([StreamAppend("s", StreamState.ANY, [NewEvent("x", {})])] * 2)
    with pytest.raises(ValueError, match="empty"):
        store.append(one("", StreamState.ANY, NewEvent("x", {})))
    with pytest.raises(ValueError, match="expected version"):
        store.append(one("s", -1, NewEvent("x", {})))
    assert store.append([]) == []


def test_notification_on_insert_is_tiny(schema: Schema) -> None:
    listener = schema.connect()
    listener.execute(f"LISTEN {schema.name}_events")
    store = EventStore(schema.connect(), schema.name)
    store.append(one("s", StreamState.ANY, NewEvent("x", {"text": "y" * 20_000})))
    notes = list(listener.notifies(timeout=5, stop_after=1))
    assert len(notes) == 1 and notes[0].payload == ""
    assert notes[0].channel == store.notify_channel
    listener.close()


def test_one_event_id_twice_in_a_batch_is_refused(store: EventStore) -> None:
    event = NewEvent("x", {})
    with pytest.raises(ValueError, match="event id appears twice"):
        store.append(one("s", StreamState.ANY, event, event))


def test_reappending_a_landed_batch_with_any_expected_version(store: EventStore) -> None:
    events = [NewEvent("x", {"n": i}) for i in range(3)]
    first = store.append(one("s", StreamState.ANY, *events))
    again = store.append(one("s", StreamState.ANY, *events))
    assert [a.position for a in again] == [a.position for a in first]
    assert all(a.already_recorded for a in again)
    mixed = [*events[:1], NewEvent("y", {})]
    with pytest.raises(EventIdConflict, match="mixes"):
        store.append(one("s", StreamState.ANY, *mixed))
    assert store.stream_version("s") == 3
