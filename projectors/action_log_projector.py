"""The ``daemon_action_log`` projector: load the rows a batch touches, fold, upsert.

Three statements per batch whatever its size: one SELECT of the existing rows the batch names,
the fold in Python (``action_log.py``), one INSERT … ON CONFLICT of the rows that changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import orjson
from psycopg import sql

from tdxq.eventlog import RecordedEvent

from .action_log import EVENT_TYPES, ActionLogRow, Key, NeededRows, fold_batch, keys_needed, prepare
from .projector import Conn, TableNames

TABLE: Final = "daemon_action_log"
COLUMNS: Final = ActionLogRow._fields
_SQL_TYPES: Final = {
    "log_id": "uuid",
    "ticket_id": "integer",
    "action_type": "varchar",
    "action_id": "varchar",
    "action_hash": "varchar",
    "executed_at": "timestamptz",
    "status": "varchar",
    "error_message": "text",
    "metadata": "jsonb",
    "attempts": "integer",
    "first_attempt_at": "timestamptz",
    "lease_expires_at": "timestamptz",
    "last_position": "bigint",
}
# The columns an update never changes: the row's identity.
_IDENTITY: Final = ("log_id", "ticket_id", "action_id")


class ActionLogProjector:
    """Projects the action events of the ticket streams into ``daemon_action_log``."""

    @property
    def name(self) -> str:
        return TABLE

    @property
    def event_types(self) -> Sequence[str]:
        return EVENT_TYPES

    @property
    def tables(self) -> Sequence[str]:
        return (TABLE,)

    def apply(self, conn: Conn, tables: TableNames, events: Sequence[RecordedEvent]) -> None:
        table = tables[TABLE]
        prepared = prepare(events)
        if not prepared:
            return
        existing = load_rows(conn, table, keys_needed(prepared))
        changed = fold_batch(existing, prepared)
        upsert_rows(conn, table, list(changed.values()))


def load_rows(conn: Conn, table: sql.Identifier, needed: NeededRows) -> dict[Key, ActionLogRow]:
    """The existing rows for ``needed`` keys and whole tickets, in one round trip."""
    if not needed.keys and not needed.whole_tickets:
        return {}
    query = sql.SQL(
        "SELECT {columns} FROM {table} t"
        " JOIN unnest(%s::integer[], %s::text[]) AS k(t, a)"
        "   ON t.ticket_id = k.t AND t.action_id = k.a"
        " UNION ALL"
        " SELECT {columns} FROM {table} t WHERE t.ticket_id = ANY(%s::integer[])"
    ).format(
        columns=sql.SQL(", ").join(sql.SQL("t.") + sql.Identifier(c) for c in COLUMNS),
        table=table,
    )
    params = (
        [k[0] for k in needed.keys],
        [k[1] for k in needed.keys],
        needed.whole_tickets,
    )
    rows = conn.execute(query, params).fetchall()
    loaded = (ActionLogRow(*row) for row in rows)
    return {row.key: row for row in loaded}


def upsert_rows(conn: Conn, table: sql.Identifier, rows: Sequence[ActionLogRow]) -> None:
    """Insert or replace ``rows`` by (ticket_id, action_id), in one statement."""
    if not rows:
        return
    query = sql.SQL(
        "INSERT INTO {table} AS t ({columns})"
        " SELECT {columns} FROM jsonb_to_recordset(%s::jsonb) AS r({typed})"
        " ON CONFLICT (ticket_id, action_id) DO UPDATE SET {updates}"
    ).format(
        table=table,
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS),
        typed=sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_SQL_TYPES[c])) for c in COLUMNS
        ),
        updates=sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
            for c in COLUMNS
            if c not in _IDENTITY
        ),
    )
    conn.execute(query, (encode_rows(rows),))


def encode_rows(rows: Sequence[ActionLogRow]) -> str:
    """The rows as one JSON array for ``jsonb_to_recordset``."""
    records: list[dict[str, Any]] = [row._asdict() for row in rows]
    return orjson.dumps(records).decode()
