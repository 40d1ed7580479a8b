"""Advisory locks per ticket: a hint between workers, never a guarantee.

Two workers woken by the same event would both read the same ticket from TDX before one of
them lost the claim. A session-level ``pg_try_advisory_lock`` per ticket lets the second one
skip it and look again a little later. Correctness never depends on these locks: claims are
appends with an expected version, and a lock lost with its connection changes nothing but the
number of TDX reads.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection
from typing import Any

import psycopg

_TRY_LOCK = "SELECT t, pg_try_advisory_lock(%s, t) FROM unnest(%s::int[]) AS t"
_UNLOCK = "SELECT pg_advisory_unlock(%s, t) FROM unnest(%s::int[]) AS t"


def lock_class(schema: str) -> int:
    """The first key of the two-key lock: one per schema, so two tdxq schemas in one database
    do not lock each other's tickets (the second key is the ticket id)."""
    value = zlib.crc32(f"tdxq:{schema}:ticket".encode())
    return value - 2**32 if value >= 2**31 else value


def try_lock_tickets(
    conn: psycopg.Connection[Any], schema: str, ticket_ids: Collection[int]
) -> set[int]:
    """Lock what is free (one round trip); returns the tickets this session now holds."""
    if not ticket_ids:
        return set()
    rows = conn.execute(_TRY_LOCK, (lock_class(schema), list(ticket_ids))).fetchall()
    return {int(ticket_id) for ticket_id, locked in rows if locked}


def unlock_tickets(conn: psycopg.Connection[Any], schema: str, ticket_ids: Collection[int]) -> None:
    if ticket_ids:
        conn.execute(_UNLOCK, (lock_class(schema), list(ticket_ids))).fetchall()
