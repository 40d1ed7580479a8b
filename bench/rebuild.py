"""Rebuild throughput of the daemon_action_log projection against hand-written SQL, same run.

    python -m bench.rebuild [--events N] [--batch-size N] [--seed N]

Generates N events (default 1,000,000) of realistic ticket streams — seen, started, renewed,
completed, failed (retryable and permanent), skipped, retry requested — loaded with COPY (not
measured). Then measures, on the same database:

- rebuild: ``tdxq projections rebuild`` in-process (shadow build from position 0, compare with
  live, atomic swap), events in the log per second;
- bare scan: every event streamed to the client in position order (the floor for any
  client-side projector);
- INSERT … SELECT: one SQL statement building an equivalent table (latest status, attempts,
  first attempt, error) — the best hand-written SQL could do.

Ratios are rebuild / baseline (1.0 = as fast as the baseline). Uses TDXQ_TEST_DATABASE_URL (a
server URL) or an embedded Postgres; the database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from psycopg import sql
from rich.console import Console
from rich.table import Table

from tdxq.eventlog import Migrator, RecordedEvent, connect, decode
from tdxq.projectors.action_log_projector import ActionLogProjector
from tdxq.projectors.rebuild import rebuild
from tdxq.projectors.runner import catch_up

from ._db import bench_database

SCHEMA = "tdxq"
PIPELINE = (
    "add_asset:a1b2c3d4e5f6:v2",
    "add_lab:0a0b0c0d0e0f:v2",
    "find_active_tickets:111111111111:v1",
    "comment:054200481667:v1",
)
SUMMARY = "summary_comment:feedfacecafe:v2"
Event = tuple[str, dict[str, Any]]


def _type(action_id: str) -> str:
    return action_id.split(":", 1)[0]


def _effects(ticket: int, rng: random.Random) -> list[dict[str, Any]]:
    kind = rng.choice(("feed_entry", "asset_link", "ci_link"))
    return [{"kind": kind, "ticket_id": ticket, "target_id": rng.randrange(10**6), "detail": {}}]


class HistoryMaker:
    """Legal per-ticket histories with the mix of outcomes a busy desk produces."""

    def __init__(self, rng: random.Random, start: datetime) -> None:
        self.rng = rng
        self.start = start
        self.run_id = str(uuid.UUID(int=rng.getrandbits(128)))

    def _lease(self) -> str:
        return (self.start + timedelta(days=40)).isoformat()

    def _started(self, action: str, attempt: int) -> Event:
        data = {
            "action_id": action,
            "action_type": _type(action),
            "attempt": attempt,
            "lease_expires_at": self._lease(),
            "worker": f"host-{self.rng.randrange(4)}:{self.rng.randrange(1000, 9999)}",
            "run_id": self.run_id,
            "carried_action_ids": None,
        }
        return "action_started", data

    def _completed(self, ticket: int, action: str, attempt: int) -> Event:
        data = {
            "action_id": action,
            "action_type": _type(action),
            "attempt": attempt,
            "summary": f"Linked asset {self.rng.randrange(10**6)} to ticket {ticket}",
            "details": {"matched": ["WS-" + str(self.rng.randrange(10**5))], "phase": 1},
            "effects": _effects(ticket, self.rng),
            "reconciled": False,
            "imported": False,
        }
        return "action_completed", data

    def _failed(self, action: str, attempt: int, retry: bool) -> Event:
        data = {
            "action_id": action,
            "action_type": _type(action),
            "attempt": attempt,
            "error": "TDX answered 503 Service Unavailable" if retry else "asset 4411 not found",
            "error_type": "TdxServerError" if retry else "TdxNotFound",
            "retryable": retry,
            "next_attempt_at": (self.start + timedelta(minutes=5)).isoformat() if retry else None,
            "needs_review": False,
            "effects": [],
        }
        return "action_failed", data

    def action(self, ticket: int, action: str) -> list[Event]:
        roll = self.rng.random()
        if roll < 0.15:
            data = {
                "action_id": action,
                "action_type": _type(action),
                "reason": "no computer name or serial in the ticket",
                "fingerprint": f"{ticket:x}",
            }
            return [("action_skipped", data)]
        events = [self._started(action, 1)]
        if roll < 0.25:
            renew = {
                "action_id": action,
                "attempt": 1,
                "lease_expires_at": self._lease(),
                "worker": "host-0:1",
            }
            events.append(("action_lease_renewed", renew))
        if roll < 0.85:
            return [*events, self._completed(ticket, action, 1)]
        if roll < 0.95:
            return [
                *events,
                self._failed(action, 1, retry=True),
                self._started(action, 2),
                self._completed(ticket, action, 2),
            ]
        events.append(self._failed(action, 1, retry=False))
        if roll < 0.975:
            retry = {"action_id": action, "requested_by": "alice", "reason": "fixed the asset"}
            events += [("retry_requested", retry), self._started(action, 2)]
            events.append(self._completed(ticket, action, 2))
        return events

    def ticket(self, ticket: int) -> list[Event]:
        seen = {
            "ticket_id": ticket,
            "report_id": 1344,
            "row": {"TicketID": ticket, "Title": f"Printer in room {ticket % 300} jams"},
            "fingerprint": f"{ticket:x}",
            "run_id": self.run_id,
        }
        events: list[Event] = [("ticket_seen", seen)]
        for action in PIPELINE:
            events += self.action(ticket, action)
        instance = f"{SUMMARY}#{ticket:012x}"
        events += [self._started(instance, 1), self._completed(ticket, instance, 1)]
        return events


def interleaved(
    maker: HistoryMaker, total: int, window: int = 50
) -> Iterator[tuple[str, int, Event]]:
    """Events of many tickets interleaved as concurrent runs would write them: (stream,
    version, event), exactly ``total`` of them."""
    produced = 0
    ticket = 9_000_000
    while produced < total:
        streams = []
        for _ in range(window):
            ticket += 1
            streams.append((f"ticket:{ticket}", maker.ticket(ticket)))
        depth = max(len(events) for _, events in streams)
        for index in range(depth):
            for stream, events in streams:
                if index < len(events) and produced < total:
                    produced += 1
                    yield stream, index + 1, events[index]


def load_events(conn: Any, total: int, seed: int) -> float:
    """COPY ``total`` generated events into the log; seconds taken."""
    started = time.perf_counter()
    start = datetime.now(UTC) - timedelta(days=30)
    maker = HistoryMaker(random.Random(seed), start)
    step = timedelta(days=30) / max(total, 1)
    metadata = orjson.dumps({"schema_version": 1, "actor": "bench", "host": "bench"}).decode()
    copy_sql = sql.SQL(
        "COPY {} (event_id, stream, version, type, data, metadata, recorded_at) FROM STDIN"
    ).format(sql.Identifier(SCHEMA, "events"))
    ids = random.Random(seed + 1)
    with conn.transaction(), conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for n, (stream, version, (kind, data)) in enumerate(interleaved(maker, total)):
            copy.write_row(
                (
                    uuid.UUID(int=ids.getrandbits(128), version=4),
                    stream,
                    version,
                    kind,
                    orjson.dumps(data).decode(),
                    metadata,
                    start + step * n,
                )
            )
    return time.perf_counter() - started


def check_sample(conn: Any) -> None:
    """The generated events are valid events of their models (not just plausible JSON)."""
    rows = conn.execute(
        sql.SQL(
            "SELECT position, event_id, stream, version, type, data, metadata, recorded_at"
            " FROM {} ORDER BY position LIMIT 2000"
        ).format(sql.Identifier(SCHEMA, "events"))
    ).fetchall()
    for row in rows:
        decode(RecordedEvent(*row))


BASELINE_SQL = """
INSERT INTO {baseline}
    (log_id, ticket_id, action_type, action_id, action_hash, executed_at, status, error_message,
     metadata, attempts, first_attempt_at, lease_expires_at, last_position)
WITH a AS (
    SELECT e.position, e.event_id, e.type, e.data, e.recorded_at,
           substr(e.stream, 8)::integer AS ticket_id, e.data->>'action_id' AS action_id
      FROM {events} e
     WHERE e.type IN ('action_started', 'action_lease_renewed', 'action_completed',
                      'action_failed', 'action_skipped', 'retry_requested')
       AND e.data->>'action_id' IS NOT NULL
), agg AS (
    SELECT ticket_id, action_id, min(position) AS first_position, max(position) AS last_position,
           coalesce(max((data->>'attempt')::integer), 0) AS attempts,
           min(recorded_at) FILTER (WHERE type = 'action_started') AS first_attempt_at
      FROM a GROUP BY ticket_id, action_id
), latest AS (
    SELECT DISTINCT ON (ticket_id, action_id) ticket_id, action_id, type, data, recorded_at
      FROM a WHERE type <> 'action_lease_renewed'
     ORDER BY ticket_id, action_id, position DESC
)
SELECT (SELECT e.event_id FROM {events} e WHERE e.position = agg.first_position),
       l.ticket_id, split_part(l.action_id, ':', 1), l.action_id, split_part(l.action_id, ':', 2),
       l.recorded_at,
       CASE l.type
           WHEN 'action_started' THEN 'running'
           WHEN 'action_completed' THEN 'completed'
           WHEN 'action_skipped' THEN 'skipped'
           WHEN 'retry_requested' THEN 'waiting'
           ELSE CASE WHEN (l.data->>'retryable')::boolean AND l.data->>'next_attempt_at' IS NOT NULL
                     THEN 'waiting' ELSE 'failed' END
       END,
       CASE WHEN l.type = 'action_failed' THEN l.data->>'error' END,
       l.data, agg.attempts, agg.first_attempt_at,
       CASE WHEN l.type = 'action_started' THEN (l.data->>'lease_expires_at')::timestamptz END,
       agg.last_position
  FROM latest l JOIN agg USING (ticket_id, action_id)
"""


def bare_scan(conn: Any) -> int:
    """Stream every event to the client in position order; how many."""
    count = 0
    query = sql.SQL(
        "SELECT position, event_id, stream, version, type, data, metadata, recorded_at"
        " FROM {} ORDER BY position"
    ).format(sql.Identifier(SCHEMA, "events"))
    with conn.transaction(), conn.cursor(name="bench_scan") as cur:
        cur.itersize = 5000
        for _ in cur.execute(query):
            count += 1
    return count


def insert_select(conn: Any) -> None:
    baseline = sql.Identifier(SCHEMA, "baseline_action_log")
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(baseline))
    conn.execute(
        sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
            baseline, sql.Identifier(SCHEMA, "daemon_action_log")
        )
    )
    conn.execute(
        sql.SQL(BASELINE_SQL).format(baseline=baseline, events=sql.Identifier(SCHEMA, "events"))
    )


def agreement(conn: Any) -> tuple[int, int, int]:
    """(rows rebuilt, rows of the baseline, rows whose status and attempts agree)."""
    row = conn.execute(
        sql.SQL(
            "SELECT (SELECT count(*) FROM {live}), (SELECT count(*) FROM {base}),"
            " (SELECT count(*) FROM {live} l JOIN {base} b USING (ticket_id, action_id)"
            "   WHERE l.status = b.status AND l.attempts = b.attempts)"
        ).format(
            live=sql.Identifier(SCHEMA, "daemon_action_log"),
            base=sql.Identifier(SCHEMA, "baseline_action_log"),
        )
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events to generate")
    parser.add_argument("--batch-size", type=int, default=5000, help="events per transaction")
    parser.add_argument("--seed", type=int, default=1344)
    args = parser.parse_args()
    console = Console(stderr=True)

    with bench_database() as dsn, connect(dsn) as conn:
        Migrator(conn, SCHEMA).migrate()
        load_seconds = load_events(conn, args.events, args.seed)
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(SCHEMA, "events")))
        check_sample(conn)
        console.print(f"generated {args.events:,} events in {load_seconds:.1f}s (not measured)")

        projector = ActionLogProjector()
        catch_up_s = timed(lambda: catch_up(conn, projector, SCHEMA, batch_size=args.batch_size))
        console.print(f"live projection caught up from zero in {catch_up_s:.1f}s")
        result = rebuild(conn, projector, SCHEMA, batch_size=args.batch_size)
        assert result.identical, "a rebuild of a correct live table must find no difference"
        rebuild_s = result.seconds
        console.print(f"rebuild in {rebuild_s:.1f}s")
        scan_s = timed(lambda: bare_scan(conn))
        console.print(f"bare scan in {scan_s:.1f}s")
        sql_s = timed(lambda: insert_select(conn))
        console.print(f"INSERT … SELECT in {sql_s:.1f}s")
        rebuilt, base, agree = agreement(conn)

    total = args.events
    rebuild_rate = total / rebuild_s
    table = Table(
        "measure",
        "seconds",
        "events/s",
        "rebuild ratio",
        title=f"bench/rebuild.py ({total:,} events)",
    )
    table.add_row(
        "rebuild (shadow + compare + swap)", f"{rebuild_s:.2f}", f"{rebuild_rate:,.0f}", "1.00"
    )
    table.add_row(
        "catch-up from zero (live)", f"{catch_up_s:.2f}", f"{total / catch_up_s:,.0f}", ""
    )
    table.add_row(
        "baseline: bare scan to client",
        f"{scan_s:.2f}",
        f"{total / scan_s:,.0f}",
        f"{rebuild_rate / (total / scan_s):.2f}",
    )
    table.add_row(
        "baseline: one INSERT … SELECT",
        f"{sql_s:.2f}",
        f"{total / sql_s:,.0f}",
        f"{rebuild_rate / (total / sql_s):.2f}",
    )
    out = Console()
    out.print(table)
    out.print(
        f"rows: rebuilt {rebuilt:,}, baseline {base:,}; status and attempts agree on {agree:,}"
    )


if __name__ == "__main__":
    main()
