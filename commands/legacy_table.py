"""Reading the seed daemon's action log (``meta.daemon_action_log``, seed-system.md).

The seed's DDL::

    log_id UUID PRIMARY KEY, ticket_id INTEGER NOT NULL, action_type VARCHAR(100),
    action_id VARCHAR(255), action_hash VARCHAR(64), status VARCHAR(20),
    executed_at TIMESTAMP, error_message TEXT, metadata JSONB, UNIQUE (ticket_id, action_id)

``executed_at`` is a naive timestamp that the seed filled with UTC times, so it is read as UTC.
Only SELECTs are issued: the seed's table is left exactly as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

import psycopg
from psycopg import sql

Conn = psycopg.Connection[Any]

DEFAULT_TABLE: Final = "meta.daemon_action_log"
REQUIRED_COLUMNS: Final = (
    "log_id",
    "ticket_id",
    "action_type",
    "action_id",
    "action_hash",
    "status",
    "executed_at",
    "error_message",
    "metadata",
)
_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")


class LegacyTableError(Exception):
    """The seed's table cannot be read: wrong name, missing, or without the seed's columns."""


@dataclass(frozen=True, slots=True)
class TableName:
    schema: str
    table: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.table)


def parse_table_name(text: str) -> TableName:
    """``schema.table`` (or ``table``, in schema ``meta``); plain identifiers only."""
    parts = text.strip().split(".")
    if len(parts) == 1:
        parts = ["meta", parts[0]]
    if len(parts) != 2 or not all(_IDENTIFIER.fullmatch(p) for p in parts):
        raise LegacyTableError(
            f"--table: expected schema.table of plain identifiers (like {DEFAULT_TABLE}), "
            f"found {text!r}"
        )
    return TableName(parts[0], parts[1])


@dataclass(frozen=True, slots=True)
class LegacyRow:
    """One row of the seed's action log."""

    log_id: UUID
    ticket_id: int
    action_type: str | None
    action_id: str | None
    action_hash: str | None
    status: str | None
    executed_at: datetime | None  # UTC
    error_message: str | None
    metadata: Any  # the jsonb value as stored (usually an object)

    def as_details(self) -> dict[str, Any]:
        """The row as recorded in the imported event, so nothing of it is lost."""
        return {
            "log_id": str(self.log_id),
            "ticket_id": self.ticket_id,
            "action_type": self.action_type,
            "action_id": self.action_id,
            "action_hash": self.action_hash,
            "status": self.status,
            "executed_at": self.executed_at.isoformat() if self.executed_at else None,
            "error_message": self.error_message,
            "metadata": self.metadata,
        }


def check_table(conn: Conn, name: TableName) -> None:
    """Raise ``LegacyTableError`` unless ``name`` exists with every column the import reads."""
    row = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", (name.identifier.as_string(conn),)
    ).fetchone()
    if not row or not row[0]:
        raise LegacyTableError(f"table {name} not found (give the seed's table with --table)")
    columns = {
        str(r[0])
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s",
            (name.schema, name.table),
        ).fetchall()
    }
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise LegacyTableError(
            f"table {name} lacks the seed's column(s) {', '.join(missing)}; "
            f"expected {', '.join(REQUIRED_COLUMNS)}"
        )


def read_rows(conn: Conn, name: TableName) -> list[LegacyRow]:
    """Every row, oldest first (rows without a time first), ties by log id."""
    check_table(conn, name)
    query = sql.SQL(
        "SELECT log_id, ticket_id, action_type, action_id, action_hash, status, executed_at,"
        " error_message, metadata FROM {} ORDER BY executed_at NULLS FIRST, log_id"
    ).format(name.identifier)
    rows = conn.execute(query).fetchall()
    return [_row(r) for r in rows]


def _row(row: tuple[Any, ...]) -> LegacyRow:
    log_id, ticket_id, action_type, action_id, action_hash, status, executed_at, error, meta = row
    return LegacyRow(
        log_id=log_id if isinstance(log_id, UUID) else UUID(str(log_id)),
        ticket_id=int(ticket_id),
        action_type=action_type,
        action_id=action_id,
        action_hash=action_hash,
        status=status.strip().lower() if isinstance(status, str) else None,
        executed_at=_utc(executed_at),
        error_message=error,
        metadata=meta,
    )


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:  # the seed wrote naive UTC times
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
