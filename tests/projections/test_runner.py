"""The runner applies every event exactly once: across a crash mid-batch and two runners."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tdxq.eventlog import EventStore, NewEvent, RecordedEvent, StreamAppend, StreamState
from tdxq.projectors.action_log_projector import ActionLogProjector
from tdxq.projectors.catalog import all_projectors
from tdxq.projectors.checkpoints import read_checkpoints
from tdxq.projectors.projector import TableNames
from tdxq.projectors.runner import catch_up, catch_up_all, plan_batch

from ..conftest import Schema
from .history import COMMENT, append, completed, seen, started


class Crash(Exception):
    pass


class CountingProjector:
    """Records each applied position in a plain table (no unique key: doubles would show)."""

    name = "counting"
    event_types: Sequence[str] = ("tick",)
    tables: Sequence[str] = ("counting",)

    def __init__(self, crash_at: int | None = None) -> None:
        self.crash_at = crash_at

    def apply(
        self, conn: psycopg.Connection[Any], tables: TableNames, events: Sequence[RecordedEvent]
    ) -> None:
        for event in events:
            conn.execute(
                sql.SQL("INSERT INTO {} (position) VALUES (%s)").format(tables["counting"]),
                (event.position,),
            )
            if event.position == self.crash_at:
                raise Crash(f"died at {event.position}")


def make_counting_table(store: EventStore) -> None:
    store.connection.execute(
        sql.SQL("CREATE TABLE {} (position bigint NOT NULL)").format(
            sql.Identifier(store.schema, "counting")
        )
    )


def ticks(store: EventStore, count: int, stream: str = "clock", kind: str = "tick") -> list[int]:
    appended = store.append(
        [StreamAppend(stream, StreamState.ANY, [NewEvent(kind, {"i": i}) for i in range(count)])]
    )
    return [a.position for a in appended]


def applied_positions(store: EventStore) -> list[int]:
    rows = store.connection.execute(
        sql.SQL("SELECT position FROM {} ORDER BY position").format(
            sql.Identifier(store.schema, "counting")
        )
    ).fetchall()
    return [r[0] for r in rows]


def checkpoint(store: EventStore, name: str) -> int:
    return read_checkpoints(store.connection, store.schema)[name].position


def test_crash_mid_batch_rolls_back_rows_and_checkpoint(store: EventStore) -> None:
    make_counting_table(store)
    positions = ticks(store, 10)
    first = catch_up(store.connection, CountingProjector(), store.schema, batch_size=4)
    assert first == 10
    more = ticks(store, 10)

    with pytest.raises(Crash):
        catch_up(store.connection, CountingProjector(crash_at=more[6]), store.schema, batch_size=4)
    # Batches [0:4] and [4:8] committed; the batch with the crash left nothing behind.
    assert applied_positions(store) == positions + more[:4]
    assert checkpoint(store, "counting") == more[3]

    assert catch_up(store.connection, CountingProjector(), store.schema, batch_size=4) == 6
    assert applied_positions(store) == positions + more
    assert catch_up(store.connection, CountingProjector(), store.schema) == 0


def test_crash_in_the_action_log_leaves_no_rows(store: EventStore) -> None:
    append(store, 1, seen(1), started(COMMENT), completed(COMMENT))

    class Failing(ActionLogProjector):
        def apply(
            self, conn: psycopg.Connection[Any], tables: TableNames, events: Sequence[RecordedEvent]
        ) -> None:
            super().apply(conn, tables, events)
            raise Crash("after writing the rows")

    with pytest.raises(Crash):
        catch_up(store.connection, Failing(), store.schema)
    count = store.connection.execute(
        sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(store.schema, "daemon_action_log"))
    ).fetchone()
    assert count == (0,)
    assert checkpoint(store, "daemon_action_log") == 0
    assert catch_up(store.connection, ActionLogProjector(), store.schema) == 2


def test_checkpoint_moves_past_events_of_no_interest(store: EventStore) -> None:
    make_counting_table(store)
    noise = ticks(store, 25, stream="other", kind="noise")
    assert catch_up(store.connection, CountingProjector(), store.schema, batch_size=10) == 0
    assert checkpoint(store, "counting") == noise[-1], "never reads those positions again"
    wanted = ticks(store, 3)
    ticks(store, 5, stream="other", kind="noise")
    assert catch_up(store.connection, CountingProjector(), store.schema, batch_size=2) == 3
    assert applied_positions(store) == wanted


def test_until_stops_at_a_position(store: EventStore) -> None:
    make_counting_table(store)
    positions = ticks(store, 6)
    catch_up(store.connection, CountingProjector(), store.schema, until=positions[2])
    assert applied_positions(store) == positions[:3]
    assert checkpoint(store, "counting") == positions[2]


def test_two_concurrent_runners_apply_each_event_once(schema: Schema, store: EventStore) -> None:
    make_counting_table(store)
    stop = threading.Event()
    errors: list[BaseException] = []

    def appender() -> None:
        with schema.connect() as conn:
            writer = EventStore(conn, schema.name)
            for _ in range(40):
                ticks(writer, 5)
        stop.set()

    def runner() -> None:
        try:
            with schema.connect() as conn:
                while not stop.is_set():
                    catch_up(conn, CountingProjector(), schema.name, batch_size=3)
                catch_up(conn, CountingProjector(), schema.name, batch_size=3)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=f) for f in (appender, runner, runner)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    all_positions = [e.position for e in store.read_all(0, 10_000)]
    assert applied_positions(store) == all_positions
    assert len(all_positions) == 200


def test_plan_batch_rules() -> None:
    def ev(position: int) -> RecordedEvent:
        return RecordedEvent(position, None, "s", 1, "t", {}, {}, None)  # type: ignore[arg-type]

    full = plan_batch([ev(1), ev(5), ev(9)], limit=3, target=20)
    assert (full.checkpoint, full.done, len(full.events)) == (9, False, 3)
    short = plan_batch([ev(1), ev(5)], limit=3, target=20)
    assert (short.checkpoint, short.done) == (20, True)
    beyond = plan_batch([ev(1), ev(5), ev(30)], limit=3, target=20)
    assert (beyond.checkpoint, beyond.done, [e.position for e in beyond.events]) == (
        20,
        True,
        [1, 5],
    )


def test_catch_up_all_covers_every_registered_projection(store: EventStore) -> None:
    append(store, 1, started(COMMENT), completed(COMMENT))
    result = catch_up_all(store.connection, store.schema)
    assert result == {p.name: 2 for p in all_projectors()}
    assert catch_up_all(store.connection, store.schema) == {p.name: 0 for p in all_projectors()}
