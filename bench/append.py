"""Append throughput of the event store against a bare INSERT, measured in the same run.

    python -m bench.append [--single N] [--batches N] [--batch-size N]

The baseline table has the same columns, identity, constraints and indexes as ``events`` but
no append lock, no version or idempotency check and no triggers. Ratios are tdxq / baseline
(1.0 = no overhead).
Uses TDXQ_TEST_DATABASE_URL (a server URL) or an embedded Postgres; the database is dropped after.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable

import orjson
from rich.console import Console
from rich.table import Table

from tdxq.eventlog import EventStore, Migrator, NewEvent, StreamAppend, StreamState, connect

from ._db import bench_database

BASELINE_DDL = """
CREATE TABLE bench_bare (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE, stream text NOT NULL, version integer NOT NULL,
    type text NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL DEFAULT '{}',
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(), UNIQUE (stream, version));
CREATE INDEX bench_bare_type_position ON bench_bare (type, position);
CREATE INDEX bench_bare_membership ON bench_bare ((data->>'report_id'), stream, position)
    WHERE type IN ('ticket_seen', 'ticket_left_report')
"""
BASELINE_BATCH = """
INSERT INTO bench_bare (event_id, stream, version, type, data, metadata)
SELECT (e->>'event_id')::uuid, e->>'stream', 1, e->>'type', e->'data', e->'metadata'
  FROM jsonb_array_elements(%s::jsonb) AS x(e)
"""


def payload(i: int) -> dict[str, object]:
    return {"ticket_id": i, "report_id": 1344, "row": {"TicketID": i, "Title": f"Ticket {i}"}}


def rate(count: int, fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=3000, help="single-event appends")
    parser.add_argument("--batches", type=int, default=200, help="number of batches")
    parser.add_argument("--batch-size", type=int, default=100, help="events per batch")
    args = parser.parse_args()

    with bench_database() as dsn, connect(dsn) as conn:
        Migrator(conn, "tdxq").migrate()
        conn.execute(BASELINE_DDL)
        store = EventStore(conn, "tdxq")
        run = uuid.uuid4().hex[:6]

        def tdxq_single() -> None:
            for i in range(args.single):
                event = NewEvent("ticket_seen", payload(i))
                store.append([StreamAppend(f"s:{run}:{i}", StreamState.NO_STREAM, [event])])

        def bare_single() -> None:
            for i in range(args.single):
                conn.execute(
                    "INSERT INTO bench_bare (event_id, stream, version, type, data, metadata)"
                    " VALUES (%s, %s, 1, %s, %s::jsonb, '{}')",
                    (
                        uuid.uuid4(),
                        f"s:{run}:{i}",
                        "ticket_seen",
                        orjson.dumps(payload(i)).decode(),
                    ),
                )

        def tdxq_batched() -> None:
            for b in range(args.batches):
                appends = [
                    StreamAppend(
                        f"b:{run}:{b}:{i}",
                        StreamState.NO_STREAM,
                        [NewEvent("ticket_seen", payload(i))],
                    )
                    for i in range(args.batch_size)
                ]
                store.append(appends)

        def bare_batched() -> None:
            for b in range(args.batches):
                rows = [
                    {
                        "event_id": str(uuid.uuid4()),
                        "stream": f"b:{run}:{b}:{i}",
                        "type": "ticket_seen",
                        "data": payload(i),
                        "metadata": {},
                    }
                    for i in range(args.batch_size)
                ]
                conn.execute(BASELINE_BATCH, (orjson.dumps(rows).decode(),))

        # Warm up both paths so neither pays for first-use planning.
        store.append([StreamAppend(f"warm:{run}", StreamState.ANY, [NewEvent("w", {})])])
        conn.execute(BASELINE_BATCH, (orjson.dumps([]).decode(),))

        batched_events = args.batches * args.batch_size
        results = [
            (
                "single-event appends/s",
                rate(args.single, tdxq_single),
                rate(args.single, bare_single),
            ),
            (
                f"batched ({args.batch_size}/batch) events/s",
                rate(batched_events, tdxq_batched),
                rate(batched_events, bare_batched),
            ),
        ]

    table = Table("measure", "tdxq", "bare INSERT", "ratio tdxq/bare", title="bench/append.py")
    for name, ours, bare in results:
        table.add_row(name, f"{ours:,.0f}", f"{bare:,.0f}", f"{ours / bare:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
