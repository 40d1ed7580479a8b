"""The table and the two monitoring views have the seed's columns, so its SQL keeps working."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import orjson
from psycopg import sql

from tdxq.eventlog import EventStore, to_new_event
from tdxq.projectors.action_log_projector import ActionLogProjector
from tdxq.projectors.runner import catch_up

from .history import ASSET, COMMENT, LAB, PAST, append, completed, failed, started

# From the seed's DDL (seeds/QUEUE_DAEMON_IMPLEMENTATION.md): name -> (type, length).
# executed_at is timestamptz on purpose: the seed wrote naive UTC times (seed-system.md, 13).
SEED_TABLE = {
    "log_id": ("uuid", None),
    "ticket_id": ("integer", None),
    "action_type": ("character varying", 100),
    "action_id": ("character varying", 255),
    "action_hash": ("character varying", 64),
    "status": ("character varying", 20),
    "executed_at": ("timestamp with time zone", None),
    "error_message": ("text", None),
    "metadata": ("jsonb", None),
}
SEED_SUMMARY = [
    ("action_type", "character varying"),
    ("status", "character varying"),
    ("action_count", "bigint"),
    ("last_executed", "timestamp with time zone"),
    ("first_executed", "timestamp with time zone"),
]
SEED_RECENT = [
    ("log_id", "uuid"),
    ("ticket_id", "integer"),
    ("action_type", "character varying"),
    ("action_id", "character varying"),
    ("status", "character varying"),
    ("executed_at", "timestamp with time zone"),
    ("error_message", "text"),
]


def columns(store: EventStore, relation: str) -> list[tuple[str, str, int | None]]:
    return [
        (name, data_type, length)
        for name, data_type, length in store.connection.execute(
            "SELECT column_name, data_type, character_maximum_length"
            "  FROM information_schema.columns WHERE table_schema = %s AND table_name = %s"
            " ORDER BY ordinal_position",
            (store.schema, relation),
        ).fetchall()
    ]


def test_table_has_the_seed_columns_first_and_our_additions_after(store: EventStore) -> None:
    cols = columns(store, "daemon_action_log")
    seed_order = [
        "log_id", "ticket_id", "action_type", "action_id", "action_hash",
        "executed_at", "status", "error_message", "metadata",
    ]  # fmt: skip
    assert [c[0] for c in cols[: len(seed_order)]] == seed_order
    for name, data_type, length in cols[: len(seed_order)]:
        assert (data_type, length) == SEED_TABLE[name], name
    assert [c[0] for c in cols[len(seed_order) :]] == [
        "attempts", "first_attempt_at", "lease_expires_at", "last_position",
    ]  # fmt: skip
    unique = store.connection.execute(
        "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c"
        " WHERE c.conrelid = (quote_ident(%s) || '.daemon_action_log')::regclass"
        "   AND c.contype = 'u'",
        (store.schema,),
    ).fetchall()
    assert unique == [("UNIQUE (ticket_id, action_id)",)]


def test_views_have_the_seed_columns(store: EventStore) -> None:
    assert [c[:2] for c in columns(store, "daemon_activity_summary")] == SEED_SUMMARY
    assert [c[:2] for c in columns(store, "daemon_recent_activity")] == SEED_RECENT
    status_length = [c[2] for c in columns(store, "daemon_recent_activity") if c[0] == "status"]
    assert status_length == [20]


def _insert_old_event(store: EventStore, ticket: int, when: datetime) -> None:
    """An action outcome recorded two days ago (the store always stamps now, so by hand)."""
    event = to_new_event(completed(LAB))
    store.connection.execute(
        sql.SQL(
            "INSERT INTO {} (event_id, stream, version, type, data, metadata, recorded_at)"
            " VALUES (%s, %s, 1, %s, %s::jsonb, %s::jsonb, %s)"
        ).format(sql.Identifier(store.schema, "events")),
        (
            uuid4(),
            f"ticket:{ticket}",
            event.type,
            orjson.dumps(dict(event.data)).decode(),
            orjson.dumps(dict(event.metadata)).decode(),
            when,
        ),
    )


def test_seed_monitoring_queries_work_on_the_projection(store: EventStore) -> None:
    _insert_old_event(store, 50, datetime.now(UTC) - timedelta(days=2))
    append(store, 51, started(COMMENT), completed(COMMENT))
    append(store, 52, started(COMMENT), completed(COMMENT))
    append(store, 53, started(ASSET), failed(ASSET, error="no such asset"))
    append(store, 54, started(COMMENT, lease=PAST))
    catch_up(store.connection, ActionLogProjector(), store.schema)

    # The seed's monitoring SQL, with only the schema name changed.
    summary = store.connection.execute(
        sql.SQL("SELECT * FROM {}").format(sql.Identifier(store.schema, "daemon_activity_summary"))
    ).fetchall()
    counts = {(r[0], r[1]): r[2] for r in summary}
    assert counts == {
        ("add_asset", "failed"): 1,
        ("add_lab", "completed"): 1,
        ("comment", "completed"): 2,
        ("comment", "in_doubt"): 1,
    }
    assert [(r[0], r[1]) for r in summary] == sorted(counts), "ordered by type, status"
    last_executed, first_executed = next(
        r[3:] for r in summary if r[:2] == ("comment", "completed")
    )
    assert last_executed >= first_executed

    recent = store.connection.execute(
        sql.SQL("SELECT * FROM {}").format(sql.Identifier(store.schema, "daemon_recent_activity"))
    ).fetchall()
    assert sorted(r[1] for r in recent) == [51, 52, 53, 54], "the two-day-old row is left out"
    assert [r[5] for r in recent] == sorted((r[5] for r in recent), reverse=True)
    assert next(r for r in recent if r[1] == 53)[6] == "no such asset"

    by_ticket = store.connection.execute(
        sql.SQL("SELECT action_id, status FROM {} WHERE ticket_id = 51").format(
            sql.Identifier(store.schema, "daemon_action_log")
        )
    ).fetchall()
    assert by_ticket == [(COMMENT, "completed")]
