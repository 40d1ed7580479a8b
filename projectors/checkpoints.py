"""Rows of ``projection_checkpoints``: the last position each projection has read.

A checkpoint is read with FOR UPDATE inside the transaction that applies the next batch, so two
runners of one projection take turns and the second sees where the first stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

Conn = psycopg.Connection[Any]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    name: str
    position: int
    updated_at: datetime


def _table(schema: str) -> sql.Identifier:
    return sql.Identifier(schema, "projection_checkpoints")


def lock_checkpoint(conn: Conn, schema: str, name: str) -> int:
    """The checkpoint's position, row-locked until the caller's transaction ends (created at 0)."""
    conn.execute(
        sql.SQL("INSERT INTO {} (name) VALUES (%s) ON CONFLICT (name) DO NOTHING").format(
            _table(schema)
        ),
        (name,),
    )
    row = conn.execute(
        sql.SQL("SELECT position FROM {} WHERE name = %s FOR UPDATE").format(_table(schema)),
        (name,),
    ).fetchone()
    assert row is not None  # inserted just above when missing
    return int(row[0])


def set_checkpoint(conn: Conn, schema: str, name: str, position: int) -> None:
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (name, position, updated_at) VALUES (%s, %s, now()) "
            "ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()"
        ).format(_table(schema)),
        (name, position),
    )


def delete_checkpoint(conn: Conn, schema: str, name: str) -> None:
    conn.execute(sql.SQL("DELETE FROM {} WHERE name = %s").format(_table(schema)), (name,))


def read_checkpoints(conn: Conn, schema: str) -> dict[str, Checkpoint]:
    rows = conn.execute(
        sql.SQL("SELECT name, position, updated_at FROM {} ORDER BY name").format(_table(schema))
    ).fetchall()
    return {name: Checkpoint(name, int(pos), updated_at) for name, pos, updated_at in rows}
