"""Ingest: poll a report and append what was seen, in one transaction.

``ticket_seen`` is appended when a ticket is new on the report or its row changed (row
fingerprint), ``ticket_left_report`` when it is gone, and ``report_polled`` always. The report
stream's expected version makes two concurrent ingests of one report take turns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from psycopg import sql

from tdxq.eventlog import (
    DomainEvent,
    EventStore,
    Metadata,
    StreamAppend,
    StreamState,
    WrongExpectedVersion,
    to_new_event,
)
from tdxq.eventlog.events import (
    DroppedRow,
    ReportPolled,
    TicketLeftReport,
    TicketSeen,
    report_stream,
    ticket_stream,
)
from tdxq.tdx.models import Report

from .report_rows import ParsedReport, ids_digest, parse_rows

MEMBERSHIP_QUERY = """
SELECT DISTINCT ON (stream) (data->>'ticket_id')::int, type, data->>'fingerprint'
  FROM {events}
 WHERE type IN ('ticket_seen', 'ticket_left_report') AND data->>'report_id' = %s
 ORDER BY stream, position DESC
"""


class ReportSource(Protocol):
    """What ingest needs from TDX: one report with its rows."""

    def get_report(self, report_id: int, *, with_data: bool = True) -> Report: ...


@dataclass(frozen=True, slots=True)
class Membership:
    """Tickets currently on a report with the fingerprint of their last seen row."""

    on_report: dict[int, str]
    report_version: int


@dataclass(frozen=True, slots=True)
class IngestPlan:
    parsed: ParsedReport
    new: list[int]
    changed: list[int]
    left: list[int]
    unchanged: int
    events: dict[str, list[DomainEvent]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IngestResult:
    plan: IngestPlan
    appended: int
    duration_ms: float

    @property
    def ticket_ids(self) -> list[int]:
        return self.plan.parsed.ticket_ids

    @property
    def dropped(self) -> list[DroppedRow]:
        return self.plan.parsed.dropped


def read_membership(store: EventStore, report_id: int) -> Membership:
    query = sql.SQL(MEMBERSHIP_QUERY).format(events=sql.Identifier(store.schema, "events"))
    with store.connection.cursor() as cur:
        rows = cur.execute(query, (str(report_id),)).fetchall()
    on_report = {tid: fp or "" for tid, type_, fp in rows if type_ == "ticket_seen"}
    return Membership(on_report, store.stream_version(report_stream(report_id)))


def plan_ingest(
    parsed: ParsedReport, membership: Membership, *, run_id: UUID | None, duration_ms: float
) -> IngestPlan:
    """Which events one poll produces (pure)."""
    report_id = parsed.report_id
    events: dict[str, list[DomainEvent]] = {}
    new: list[int] = []
    changed: list[int] = []
    current = set()
    for row in parsed.rows:
        current.add(row.ticket_id)
        previous = membership.on_report.get(row.ticket_id)
        if previous == row.fingerprint:
            continue
        (new if previous is None else changed).append(row.ticket_id)
        events[ticket_stream(row.ticket_id)] = [
            TicketSeen(
                ticket_id=row.ticket_id,
                report_id=report_id,
                row=row.row,
                fingerprint=row.fingerprint,
                run_id=run_id,
            )
        ]
    left = sorted(set(membership.on_report) - current)
    for ticket_id in left:
        events[ticket_stream(ticket_id)] = [
            TicketLeftReport(ticket_id=ticket_id, report_id=report_id, run_id=run_id)
        ]
    events[report_stream(report_id)] = [
        ReportPolled(
            report_id=report_id,
            run_id=run_id,
            row_count=len(parsed.rows) + len(parsed.dropped),
            ticket_count=len(parsed.rows),
            ticket_ids_digest=ids_digest(parsed.ticket_ids),
            columns=parsed.columns,
            dropped_rows=parsed.dropped,
            duration_ms=duration_ms,
        )
    ]
    unchanged = len(parsed.rows) - len(new) - len(changed)
    return IngestPlan(parsed, new, changed, left, unchanged, events)


def fetch_report(
    client: ReportSource, report_id: int, volatile_columns: Collection[str] = ()
) -> ParsedReport:
    report = client.get_report(report_id, with_data=True)
    columns = [c.column_name for c in report.displayed_columns if c.column_name]
    return parse_rows(report_id, columns, report.data_rows, volatile_columns)


def ingest_report(
    store: EventStore,
    parsed: ParsedReport,
    *,
    run_id: UUID | None,
    metadata: Metadata,
    started: float,
    dry_run: bool = False,
    clock: Callable[[], float] = time.monotonic,
) -> IngestResult:
    """Append one fetched report's observations atomically (nothing when ``dry_run``).

    ``started`` is the ``clock()`` reading taken before the report was fetched.
    """
    report_id = parsed.report_id
    for _attempt in range(5):
        membership = read_membership(store, report_id)
        duration_ms = (clock() - started) * 1000
        plan = plan_ingest(parsed, membership, run_id=run_id, duration_ms=duration_ms)
        if dry_run:
            return IngestResult(plan, 0, duration_ms)
        appends = [
            StreamAppend(
                stream,
                membership.report_version or StreamState.NO_STREAM
                if stream == report_stream(report_id)
                else StreamState.ANY,
                [to_new_event(e, metadata) for e in evs],
            )
            for stream, evs in plan.events.items()
        ]
        try:
            appended = store.append(appends)
        except WrongExpectedVersion:
            continue  # another ingest of this report landed first: compare against it
        return IngestResult(plan, len(appended), duration_ms)
    raise RuntimeError(f"report {report_id}: gave up after 5 concurrent ingests raced this one")
