"""Rebuild: from zero into shadow tables while appends go on, compare, swap; interruptions
leave the live projection as it was."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from psycopg import sql

from tdxq.eventlog import EventStore
from tdxq.projectors import rebuild as rebuild_module
from tdxq.projectors.action_log_projector import ActionLogProjector
from tdxq.projectors.checkpoints import read_checkpoints
from tdxq.projectors.compare import compare_tables
from tdxq.projectors.rebuild import RebuildInProgress, rebuild
from tdxq.projectors.runner import catch_up
from tdxq.projectors.shadow import SwapError

from ..conftest import Schema
from .history import append, typical_history

PROJECTOR = ActionLogProjector()


def ident(store: EventStore, name: str) -> sql.Identifier:
    return sql.Identifier(store.schema, name)


def live_rows(store: EventStore) -> list[tuple[Any, ...]]:
    query = sql.SQL("SELECT * FROM {} ORDER BY ticket_id, action_id")
    return store.connection.execute(query.format(ident(store, "daemon_action_log"))).fetchall()


def tables_in_schema(store: EventStore) -> set[str]:
    rows = store.connection.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s", (store.schema,)
    ).fetchall()
    return {r[0] for r in rows}


def checkpoints(store: EventStore) -> dict[str, int]:
    return {k: v.position for k, v in read_checkpoints(store.connection, store.schema).items()}


def populate(store: EventStore, tickets: range) -> None:
    for ticket in tickets:
        append(store, ticket, *typical_history(ticket, ticket))


def fresh_fold(store: EventStore, until: int) -> sql.Identifier:
    """A new table filled by a fresh projector from zero up to ``until``."""
    reference = ident(store, "daemon_action_log__ref")
    store.connection.execute(
        sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
            reference, ident(store, "daemon_action_log")
        )
    )
    catch_up(store.connection, ActionLogProjector(), store.schema, until=until, suffix="__ref")
    return reference


def test_rebuild_while_appends_continue_equals_a_fold_from_zero(
    schema: Schema, store: EventStore
) -> None:
    populate(store, range(1, 41))
    catch_up(store.connection, PROJECTOR, store.schema)
    stop = threading.Event()
    appended = threading.Event()
    errors: list[BaseException] = []

    def appender() -> None:
        try:
            with schema.connect() as conn:
                writer = EventStore(conn, schema.name)
                for ticket in range(1000, 1600, 3):
                    if stop.is_set():
                        return
                    populate(writer, range(ticket, ticket + 3))
                    appended.set()
                    time.sleep(0.01)
        except BaseException as exc:
            errors.append(exc)

    def live_runner() -> None:
        try:
            with schema.connect() as conn:
                while not stop.is_set():
                    catch_up(conn, PROJECTOR, schema.name, batch_size=5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=appender), threading.Thread(target=live_runner)]
    for thread in threads:
        thread.start()
    progress: list[tuple[int, int]] = []

    def on_progress(position: int, head: int) -> None:
        # On a busy machine the build could finish before the appender's first commit; hold
        # the first batch until appends are under way so the test always covers them.
        if not progress:
            appended.wait(30)
        progress.append((position, head))

    try:
        with schema.connect() as conn:
            result = rebuild(
                conn,
                PROJECTOR,
                schema.name,
                batch_size=7,
                on_progress=on_progress,
            )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors
    assert result.swapped and result.identical, result.as_json()
    assert len(progress) > 3
    assert progress[0][1] < result.position, "events appended during the build are included"

    catch_up(store.connection, PROJECTOR, store.schema)
    head = store.head_position()
    reference = fresh_fold(store, head)
    diff = compare_tables(
        store.connection, "daemon_action_log", ident(store, "daemon_action_log"), reference
    )
    assert diff.identical, diff.as_json()
    assert diff.live_rows > 100
    assert "daemon_action_log__shadow" not in tables_in_schema(store)
    assert "daemon_action_log__shadow" not in checkpoints(store)


def test_a_wrong_live_table_is_reported_and_replaced(store: EventStore) -> None:
    populate(store, range(1, 9))
    catch_up(store.connection, PROJECTOR, store.schema)
    table = ident(store, "daemon_action_log")
    store.connection.execute(
        sql.SQL("UPDATE {} SET status = 'failed' WHERE ticket_id = 1").format(table)
    )
    store.connection.execute(sql.SQL("DELETE FROM {} WHERE ticket_id = 2").format(table))

    result = rebuild(store.connection, PROJECTOR, store.schema)

    (diff,) = result.diffs
    assert not result.identical and result.swapped
    assert diff.only_in_live == 1  # the tampered row of ticket 1
    assert diff.only_in_shadow == 2  # ticket 1's true row and ticket 2's missing one
    assert {s["ticket_id"] for s in diff.shadow_samples} == {1, 2}
    assert diff.live_samples[0]["status"] == "failed"
    reference = fresh_fold(store, result.position)
    assert compare_tables(store.connection, "t", table, reference).identical


def test_verify_only_keeps_live_and_drops_the_shadow(store: EventStore) -> None:
    populate(store, range(1, 5))
    catch_up(store.connection, PROJECTOR, store.schema)
    table = ident(store, "daemon_action_log")
    store.connection.execute(sql.SQL("DELETE FROM {} WHERE ticket_id = 3").format(table))
    before = live_rows(store)

    result = rebuild(store.connection, PROJECTOR, store.schema, swap=False)

    assert not result.swapped and not result.identical
    assert result.diffs[0].only_in_shadow == 2  # ticket 3 has two actions
    assert live_rows(store) == before
    assert "daemon_action_log__shadow" not in tables_in_schema(store)


def test_swap_keeps_views_grants_and_index_names(store: EventStore) -> None:
    populate(store, range(1, 9))
    catch_up(store.connection, PROJECTOR, store.schema)
    conn = store.connection
    role = f"tdxq_monitor_{uuid.uuid4().hex[:8]}"
    other_schema = f"{store.schema}_mon"
    conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
    try:
        conn.execute(
            sql.SQL("GRANT SELECT ON {}, {} TO {}").format(
                ident(store, "daemon_action_log"),
                ident(store, "daemon_activity_summary"),
                sql.Identifier(role),
            )
        )
        # Somebody's own monitoring view, in another schema, over the live table.
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(other_schema)))
        conn.execute(
            sql.SQL("CREATE VIEW {} AS SELECT ticket_id, status FROM {}").format(
                sql.Identifier(other_schema, "mine"), ident(store, "daemon_action_log")
            )
        )
        indexes_before = _index_names(store)
        constraints_before = _constraint_names(store)
        conn.execute(
            sql.SQL("DELETE FROM {} WHERE ticket_id = 1").format(ident(store, "daemon_action_log"))
        )

        result = rebuild(conn, PROJECTOR, store.schema)
        assert result.swapped and not result.identical

        assert _index_names(store) == indexes_before
        assert _constraint_names(store) == constraints_before
        for view in ("daemon_action_status", "daemon_activity_summary", "daemon_recent_activity"):
            count = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(ident(store, view))
            ).fetchone()
            assert count is not None and count[0] > 0, view
        mine = conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE ticket_id = 1").format(
                sql.Identifier(other_schema, "mine")
            )
        ).fetchone()
        assert mine is not None and mine[0] > 0, "the foreign view reads the rebuilt table"
        for relation in ("daemon_action_log", "daemon_activity_summary"):
            granted = conn.execute(
                "SELECT has_table_privilege(%s, quote_ident(%s) || '.' || %s, 'SELECT')",
                (role, store.schema, relation),
            ).fetchone()
            assert granted == (True,), relation
    finally:
        conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(other_schema))
        )
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def _constraint_names(store: EventStore) -> list[str]:
    rows = store.connection.execute(
        "SELECT conname FROM pg_constraint"
        " WHERE conrelid = (quote_ident(%s) || '.daemon_action_log')::regclass ORDER BY 1",
        (store.schema,),
    ).fetchall()
    return [r[0] for r in rows]


def _index_names(store: EventStore) -> list[str]:
    rows = store.connection.execute(
        "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = %s ORDER BY 1",
        (store.schema, "daemon_action_log"),
    ).fetchall()
    return [r[0] for r in rows]


def test_ctrl_c_during_the_build_leaves_live_untouched(store: EventStore) -> None:
    populate(store, range(1, 21))
    catch_up(store.connection, PROJECTOR, store.schema)
    before, marks = live_rows(store), checkpoints(store)

    def interrupt(position: int, head: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rebuild(store.connection, PROJECTOR, store.schema, batch_size=5, on_progress=interrupt)

    assert live_rows(store) == before
    assert checkpoints(store) == marks
    assert "daemon_action_log__shadow" not in tables_in_schema(store)
    again = rebuild(store.connection, PROJECTOR, store.schema)  # the lock was released
    assert again.identical


def test_failure_in_the_final_transaction_leaves_live_untouched(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    populate(store, range(1, 9))
    catch_up(store.connection, PROJECTOR, store.schema)
    before, marks = live_rows(store), checkpoints(store)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("compare blew up")

    monkeypatch.setattr(rebuild_module, "compare_tables", broken)
    with pytest.raises(RuntimeError, match="compare blew up"):
        rebuild(store.connection, PROJECTOR, store.schema)
    assert live_rows(store) == before
    assert checkpoints(store) == marks
    assert "daemon_action_log__shadow" not in tables_in_schema(store)


def test_a_second_rebuild_is_refused_while_one_runs(schema: Schema, store: EventStore) -> None:
    key = rebuild_module._lock_key(schema.name, PROJECTOR.name)
    with schema.connect() as other:
        other.execute("SELECT pg_advisory_lock(%s)", (key,))
        with pytest.raises(RebuildInProgress, match="already running"):
            rebuild(store.connection, PROJECTOR, store.schema)
    assert "daemon_action_log__shadow" not in tables_in_schema(store)


def test_a_long_reader_makes_the_swap_fail_cleanly(schema: Schema, store: EventStore) -> None:
    populate(store, range(1, 5))
    catch_up(store.connection, PROJECTOR, store.schema)
    before = live_rows(store)
    with schema.connect(autocommit=False) as reader:
        reader.execute(sql.SQL("SELECT count(*) FROM {}").format(ident(store, "daemon_action_log")))
        with pytest.raises(SwapError, match="could not lock daemon_action_log"):
            rebuild(store.connection, PROJECTOR, store.schema, lock_timeout_s=0.2)
        reader.rollback()
    assert live_rows(store) == before
    assert "daemon_action_log__shadow" not in tables_in_schema(store)
