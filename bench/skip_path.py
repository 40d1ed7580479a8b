"""The skip path: a 10,000-ticket report on which every action is done.

    python -m bench.skip_path [--tickets 10000]

tdxq's decision pass reads every ticket's stream in one query, folds and decides in memory.
The baseline, on the same database in the same run, is the seed's pattern: one
``SELECT EXISTS`` per ticket per action against its action-log table, plus one upsert per ticket.
Printed: seconds, round trips, and the ratio baseline / tdxq (higher is better for tdxq).
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import timedelta
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table

from tdxq.actions.retry_policy import RetryPolicy
from tdxq.commands.process import Processor
from tdxq.eventlog import (
    EventStore,
    Metadata,
    Migrator,
    StreamAppend,
    StreamState,
    connect,
    to_new_event,
    utc_now,
)
from tdxq.eventlog.events import ActionCompleted, ActionStarted, TicketSeen, ticket_stream

from ._db import bench_database

REPORT = 2000
ACTIONS = [
    ("add_asset", "add_asset:0a1b2c3d4e5f:v2"),
    ("add_lab", "add_lab:1a1b2c3d4e5f:v2"),
    ("find_active_tickets", "find_active_tickets:2a1b2c3d4e5f:v1"),
    ("comment", "comment:3a1b2c3d4e5f:v1"),
]
SEED_DDL = """
CREATE SCHEMA IF NOT EXISTS meta;
CREATE TABLE meta.daemon_action_log (
    log_id uuid PRIMARY KEY, ticket_id integer NOT NULL, action_type varchar(100),
    action_id varchar(255), action_hash varchar(64), status varchar(20), executed_at timestamp,
    error_message text, metadata jsonb, UNIQUE (ticket_id, action_id));
CREATE TABLE meta.daemon_ticket_seen (ticket_id integer PRIMARY KEY, seen_at timestamptz);
"""


class CountingCursor(psycopg.Cursor[Any]):
    """Counts statements sent, to report round trips."""

    sent = 0

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        CountingCursor.sent += 1
        return super().execute(*args, **kwargs)


def populate(store: EventStore, tickets: int) -> None:
    now = utc_now()
    meta = Metadata()
    batch: list[StreamAppend] = []
    for ticket_id in range(1, tickets + 1):
        events = [
            TicketSeen(
                ticket_id=ticket_id, report_id=REPORT, row={"TicketID": ticket_id}, fingerprint="f"
            )
        ]
        for action_type, action_id in ACTIONS:
            events += [
                ActionStarted(
                    action_id=action_id,
                    action_type=action_type,
                    attempt=1,
                    lease_expires_at=now + timedelta(minutes=5),
                    worker="bench",
                ),
                ActionCompleted(
                    action_id=action_id, action_type=action_type, attempt=1, summary=None
                ),
            ]
        batch.append(
            StreamAppend(
                ticket_stream(ticket_id),
                StreamState.NO_STREAM,
                [to_new_event(e, meta) for e in events],
            )
        )
        if len(batch) == 500:
            store.append(batch)
            batch = []
    if batch:
        store.append(batch)


def populate_seed(conn: psycopg.Connection[Any], tickets: int) -> None:
    conn.execute(SEED_DDL)
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY meta.daemon_action_log (log_id, ticket_id, action_type, action_id, status)"
            " FROM STDIN"
        ) as copy,
    ):
        for ticket_id in range(1, tickets + 1):
            for action_type, action_id in ACTIONS:
                copy.write_row((uuid.uuid4(), ticket_id, action_type, action_id, "completed"))
    conn.execute("ANALYZE meta.daemon_action_log")


def seed_pass(conn: psycopg.Connection[Any], tickets: int) -> int:
    """The seed's per-ticket checks; returns how many actions it found to do (0 expected)."""
    todo = 0
    for ticket_id in range(1, tickets + 1):
        for _action_type, action_id in ACTIONS:
            row = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM meta.daemon_action_log"
                " WHERE ticket_id = %s AND action_id = %s)",
                (ticket_id, action_id),
            ).fetchone()
            todo += 0 if row and row[0] else 1
        conn.execute(
            "INSERT INTO meta.daemon_ticket_seen VALUES (%s, now())"
            " ON CONFLICT (ticket_id) DO UPDATE SET seen_at = excluded.seen_at",
            (ticket_id,),
        )
    return todo


class _NoLookups:
    def for_ticket(self, _reads: object) -> None:
        raise AssertionError("the skip path must not reach TDX")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    args = parser.parse_args()
    with bench_database() as dsn:
        with connect(dsn) as conn:
            Migrator(conn, "tdxq").migrate()
            populate(EventStore(conn, "tdxq"), args.tickets)
            populate_seed(conn, args.tickets)
            conn.execute("VACUUM ANALYZE tdxq.events")
        conn = connect(dsn, cursor_factory=CountingCursor)
        store = EventStore(conn, "tdxq")
        processor = Processor(
            store,
            None,
            report_id=REPORT,  # type: ignore[arg-type]  # never called
            pipeline=[_Step(t, a) for t, a in ACTIONS],  # type: ignore[list-item]
            tenant=None,  # type: ignore[arg-type]
            lookups=_NoLookups(),  # type: ignore[arg-type]
            policy=RetryPolicy(),
            metadata=Metadata(),
        )
        ids = list(range(1, args.tickets + 1))
        CountingCursor.sent = 0
        start = time.perf_counter()
        states = processor.load_states(ids)
        due = processor.due_tickets(states)
        ours = time.perf_counter() - start
        our_trips = CountingCursor.sent
        assert due == [], f"{len(due)} tickets unexpectedly due"
        CountingCursor.sent = 0
        start = time.perf_counter()
        todo = seed_pass(conn, args.tickets)
        theirs = time.perf_counter() - start
        their_trips = CountingCursor.sent
        assert todo == 0
        conn.close()
    table = Table(
        "pass",
        "seconds",
        "round trips",
        title=(f"bench/skip_path.py — {args.tickets:,} tickets × {len(ACTIONS)} actions, all done"),
    )
    table.add_row("tdxq: read all streams, fold, decide", f"{ours:.2f}", str(our_trips))
    table.add_row(
        "seed: EXISTS per ticket per action + upsert per ticket",
        f"{theirs:.2f}",
        f"{their_trips:,}",
    )
    Console().print(table)
    Console().print(
        f"ratio seed / tdxq: {theirs / ours:.2f}× the time, "
        f"{their_trips / max(our_trips, 1):,.0f}× the round trips"
    )


class _Step:
    """Just enough of an action for the decision: type and id."""

    def __init__(self, action_type: str, action_id: str) -> None:
        self.TYPE = action_type
        self.action_id = action_id


if __name__ == "__main__":
    main()
