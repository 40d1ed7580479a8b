"""The reads behind ``tdxq audit``: straight from the event log, never from a projection, so an
answer is as fresh as the last committed event.

- ``action_standing``: every ticket an action id (or an instance of it) touched, folded.
- ``run_view``: the events one run appended (``metadata.correlation_id`` = run id), bounded by
  the positions of its ``run_started`` and ``run_finished`` when it has them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql

from tdxq.eventlog import EventLogError, EventStore, RecordedEvent, decode
from tdxq.eventlog.events import (
    ActionCompleted,
    ActionFailed,
    ActionLeaseRenewed,
    ActionSkipped,
    ActionStarted,
    RetryRequested,
    RunFinished,
    RunStarted,
    TicketLeftReport,
    TicketSeen,
    run_stream,
    ticket_stream,
)
from tdxq.projectors.action_state import ActionState, ActionStatus, effective_status
from tdxq.projectors.ticket_state import TicketState, fold
from tdxq.projectors.timeline import describe

ACTION_EVENT_TYPES = (
    ActionStarted.TYPE,
    ActionLeaseRenewed.TYPE,
    ActionCompleted.TYPE,
    ActionFailed.TYPE,
    ActionSkipped.TYPE,
    RetryRequested.TYPE,
)
INSTANCE_SEPARATOR = "#"  # summary_comment instances: "{action id}#{digest}"
TICKET_PREFIX = "ticket:"
STREAM_CHUNK = 500  # ticket streams read per query


def ticket_id_of_stream(stream: str) -> int | None:
    tail = stream[len(TICKET_PREFIX) :] if stream.startswith(TICKET_PREFIX) else ""
    return int(tail) if tail.isdigit() else None


def chunks(items: Sequence[int], size: int = STREAM_CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def read_ticket_streams(
    store: EventStore, ticket_ids: Iterable[int]
) -> Iterator[tuple[int, list[RecordedEvent]]]:
    """Each ticket's events, a few hundred streams per query."""
    for chunk in chunks(sorted(set(ticket_ids))):
        streams = store.read_streams(ticket_stream(t) for t in chunk)
        for ticket_id in chunk:
            yield ticket_id, streams[ticket_stream(ticket_id)]


def matches_action(candidate: str, action_id: str) -> bool:
    """``candidate`` is ``action_id`` or, for a summary action, one of its instances."""
    return candidate == action_id or (
        INSTANCE_SEPARATOR not in action_id and candidate.startswith(action_id + INSTANCE_SEPARATOR)
    )


def version_times(events: Sequence[RecordedEvent]) -> dict[int, datetime]:
    return {e.version: e.recorded_at for e in events}


# --- audit action ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketStanding:
    """How one action (instance) stands on one ticket."""

    ticket_id: int
    instance_id: str
    status: ActionStatus  # effective now: in_doubt for an expired lease
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    needs_review: bool
    reconciled: bool
    imported: bool
    worker: str | None
    run_id: str | None
    updated_at: datetime | None
    on_reports: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ActionReport:
    action_id: str
    tickets: tuple[TicketStanding, ...]
    counts: dict[str, int]

    @property
    def ticket_count(self) -> int:
        return len({t.ticket_id for t in self.tickets})


def tickets_touched_by(store: EventStore, action_id: str) -> list[int]:
    """Tickets with any event naming ``action_id`` or an instance of it."""
    events = sql.Identifier(store.schema, "events")
    query = sql.SQL(
        "SELECT DISTINCT stream FROM {} WHERE type = ANY(%s) AND (data->>'action_id' = %s"
        " OR left(data->>'action_id', %s) = %s)"
    ).format(events)
    prefix = action_id + INSTANCE_SEPARATOR
    with store.connection.cursor() as cur:
        rows = cur.execute(
            query, (list(ACTION_EVENT_TYPES), action_id, len(prefix), prefix)
        ).fetchall()
    found = (ticket_id_of_stream(str(row[0])) for row in rows)
    return sorted(t for t in found if t is not None)


def action_standing(store: EventStore, action_id: str, now: datetime) -> ActionReport:
    standings: list[TicketStanding] = []
    for ticket_id, events in read_ticket_streams(store, tickets_touched_by(store, action_id)):
        state = fold(ticket_id, events, strict=False)
        times = version_times(events)
        for instance_id, action in sorted(state.actions.items()):
            if matches_action(instance_id, action_id):
                standings.append(_standing(state, action, now, times))
    counts = Counter(s.status.value for s in standings)
    return ActionReport(action_id, tuple(standings), dict(sorted(counts.items())))


def _standing(
    state: TicketState, action: ActionState, now: datetime, times: dict[int, datetime]
) -> TicketStanding:
    return TicketStanding(
        ticket_id=state.ticket_id,
        instance_id=action.action_id,
        status=effective_status(action, now, state.fingerprint),
        attempts=action.attempts,
        last_error=action.last_error,
        next_attempt_at=action.next_attempt_at,
        needs_review=action.needs_review,
        reconciled=action.reconciled,
        imported=action.imported,
        worker=action.worker,
        run_id=str(action.run_id) if action.run_id else None,
        updated_at=times.get(action.last_version),
        on_reports=tuple(sorted(state.on_reports)),
    )


# --- audit run ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunAction:
    """One action event of the run, on one ticket."""

    position: int
    ticket_id: int | None
    action_id: str
    action_type: str
    event: str  # started, completed, failed, skipped, …
    attempt: int | None
    detail: str


@dataclass(slots=True)
class RunView:
    run_id: str
    started: dict[str, Any] | None
    finished: dict[str, Any] | None
    started_at: datetime | None
    finished_at: datetime | None
    events: list[RecordedEvent]
    counts: dict[str, int] = field(default_factory=dict)
    tickets_seen: list[int] = field(default_factory=list)
    tickets_left: list[int] = field(default_factory=list)
    actions: list[RunAction] = field(default_factory=list)
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)  # type -> event -> n
    truncated: bool = False


def run_view(store: EventStore, run_id: UUID, limit: int = 10_000) -> RunView:
    """What run ``run_id`` recorded: its start and finish figures and every event it appended."""
    own = store.read_stream(run_stream(run_id))
    started = next((e for e in own if e.type == RunStarted.TYPE), None)
    finished = next((e for e in own if e.type == RunFinished.TYPE), None)
    low = min((e.position for e in own), default=0)
    high = finished.position if finished is not None else None
    events = events_of_run(store, run_id, low, high, limit + 1)
    view = RunView(
        run_id=str(run_id),
        started=started.data if started else None,
        finished=finished.data if finished else None,
        started_at=started.recorded_at if started else None,
        finished_at=finished.recorded_at if finished else None,
        events=events[:limit],
        truncated=len(events) > limit,
    )
    summarize_run(view)
    return view


def events_of_run(
    store: EventStore, run_id: UUID, low: int, high: int | None, limit: int
) -> list[RecordedEvent]:
    """Events whose correlation id is ``run_id``, scanning positions ``low``..``high`` only."""
    events = sql.Identifier(store.schema, "events")
    bounds = sql.SQL("position >= %s") + (
        sql.SQL(" AND position <= %s") if high is not None else sql.SQL("")
    )
    query = sql.SQL(
        "SELECT position, event_id, stream, version, type, data, metadata, recorded_at"
        " FROM {} WHERE {} AND metadata->>'correlation_id' = %s ORDER BY position LIMIT %s"
    ).format(events, bounds)
    params: list[Any] = [low]
    if high is not None:
        params.append(high)
    params += [str(run_id), limit]
    with store.connection.cursor() as cur:
        rows = cur.execute(query, params).fetchall()
    return [RecordedEvent(*row) for row in rows]


def summarize_run(view: RunView) -> None:
    """Counts, tickets seen and left, and the action outcomes of a run's events."""
    counts: Counter[str] = Counter()
    outcomes: dict[str, Counter[str]] = {}
    for event in view.events:
        counts[event.type] += 1
        ticket_id = ticket_id_of_stream(event.stream)
        try:
            domain = decode(event)
        except (EventLogError, ValueError):
            continue
        if isinstance(domain, TicketSeen) and ticket_id is not None:
            view.tickets_seen.append(ticket_id)
        elif isinstance(domain, TicketLeftReport) and ticket_id is not None:
            view.tickets_left.append(ticket_id)
        elif isinstance(domain, ActionStarted | ActionCompleted | ActionFailed | ActionSkipped):
            short = event.type.removeprefix("action_")
            outcomes.setdefault(domain.action_type, Counter())[short] += 1
            view.actions.append(
                RunAction(
                    position=event.position,
                    ticket_id=ticket_id,
                    action_id=domain.action_id,
                    action_type=domain.action_type,
                    event=short,
                    attempt=getattr(domain, "attempt", None),
                    detail=describe(domain),
                )
            )
    view.counts = dict(sorted(counts.items()))
    view.outcomes = {k: dict(sorted(v.items())) for k, v in sorted(outcomes.items())}
