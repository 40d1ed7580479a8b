"""A ticket's history for people: every event of its stream in order, and per action the
attempts with their outcomes, errors, effects, run and worker.

Pure: built from the recorded events of ``ticket:{id}`` (and a clock for the one time-dependent
fact, whether a running action's lease has expired). Statuses come from the same fold the
daemon decides with, so what an auditor reads is what the daemon saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tdxq.eventlog import DomainEvent, EventLogError, RecordedEvent, decode
from tdxq.eventlog.events import (
    ActionCompleted,
    ActionFailed,
    ActionLeaseRenewed,
    ActionSkipped,
    ActionStarted,
    ReportPolled,
    RetryRequested,
    RunFinished,
    RunStarted,
    TicketLeftReport,
    TicketSeen,
)

from .action_state import ActionStatus, effective_status
from .ticket_state import Anomaly, TicketState, fold

# The metadata key under which an event imported from the seed's action log keeps the seed's
# row (see commands/legacy_import.py).
LEGACY_METADATA_KEY = "legacy"


@dataclass(frozen=True, slots=True)
class EventRef:
    """Where an event sits and who recorded it: run (correlation), cause, actor."""

    position: int
    version: int
    event_id: str
    type: str
    recorded_at: datetime
    run_id: str | None
    causation_id: str | None
    actor: str | None
    # Imported from the seed daemon's action log: when the seed recorded it (naive UTC text).
    imported: bool = False
    seed_executed_at: str | None = None

    @classmethod
    def of(cls, event: RecordedEvent) -> EventRef:
        meta = event.metadata
        legacy = meta.get(LEGACY_METADATA_KEY)
        return cls(
            position=event.position,
            version=event.version,
            event_id=str(event.event_id),
            type=event.type,
            recorded_at=event.recorded_at,
            run_id=_text(meta.get("correlation_id")),
            causation_id=_text(meta.get("causation_id")),
            actor=_text(meta.get("actor")),
            imported=isinstance(legacy, dict),
            seed_executed_at=_text(legacy.get("executed_at")) if isinstance(legacy, dict) else None,
        )


@dataclass(slots=True)
class Attempt:
    """One attempt of an action: its start (absent for an imported outcome) and its outcome."""

    attempt: int
    started: EventRef | None = None
    worker: str | None = None
    run_id: str | None = None
    lease_expires_at: datetime | None = None
    lease_renewals: int = 0
    outcome: str = "in_flight"  # completed, failed, waiting, skipped, in_flight
    finished: EventRef | None = None
    summary: str | None = None
    error: str | None = None
    error_type: str | None = None
    retryable: bool | None = None
    next_attempt_at: datetime | None = None
    needs_review: bool = False
    skip_reason: str | None = None
    effects: list[dict[str, Any]] = field(default_factory=list)
    reconciled: bool = False
    imported: bool = False


@dataclass(frozen=True, slots=True)
class RetryEntry:
    at: EventRef
    requested_by: str
    reason: str
    action_id: str | None  # None: every failed action of the ticket


@dataclass(slots=True)
class ActionHistory:
    action_id: str
    action_type: str | None
    status: ActionStatus  # as decisions see it now (in_doubt, stale skips)
    recorded_status: ActionStatus  # as folded, time-free
    attempts: list[Attempt] = field(default_factory=list)
    retry_requests: list[RetryEntry] = field(default_factory=list)
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    needs_review: bool = False
    reconciled: bool = False
    imported: bool = False

    @property
    def effects(self) -> list[dict[str, Any]]:
        return [effect for attempt in self.attempts for effect in attempt.effects]


@dataclass(frozen=True, slots=True)
class Sighting:
    """The ticket seen on a report (``left`` False) or gone from it (``left`` True)."""

    at: EventRef
    report_id: int
    left: bool
    fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: EventRef
    action_id: str | None
    attempt: int | None
    text: str


@dataclass(frozen=True, slots=True)
class TicketTimeline:
    ticket_id: int
    version: int
    on_reports: tuple[int, ...]
    left_reports: tuple[int, ...]
    fingerprint: str | None
    entries: tuple[TimelineEntry, ...]
    sightings: tuple[Sighting, ...]
    actions: tuple[ActionHistory, ...]
    anomalies: tuple[Anomaly, ...]


def ticket_timeline(
    ticket_id: int, events: Sequence[RecordedEvent], now: datetime
) -> TicketTimeline:
    """The timeline of one ticket from its stream's events (in version order)."""
    state = fold(ticket_id, events, strict=False)
    histories: dict[str, ActionHistory] = {}
    entries: list[TimelineEntry] = []
    sightings: list[Sighting] = []
    retries: list[RetryEntry] = []
    for event in events:
        at = EventRef.of(event)
        try:
            domain = decode(event)
        except (EventLogError, ValueError) as exc:
            entries.append(TimelineEntry(at, None, None, f"undecodable {event.type}: {exc}"))
            continue
        entries.append(_entry(at, domain))
        if isinstance(domain, TicketSeen | TicketLeftReport):
            sightings.append(_sighting(at, domain))
        elif isinstance(domain, RetryRequested):
            retries.append(RetryEntry(at, domain.requested_by, domain.reason, domain.action_id))
        elif isinstance(domain, _ACTION_EVENTS):
            history = histories.get(domain.action_id)
            if history is None:
                history = histories[domain.action_id] = _new_history(domain.action_id)
            _record(history, at, domain)
    for history in histories.values():
        _settle(history, state, now)
        history.retry_requests = [r for r in retries if r.action_id in (None, history.action_id)]
    return TicketTimeline(
        ticket_id=ticket_id,
        version=state.version,
        on_reports=tuple(sorted(state.on_reports)),
        left_reports=tuple(sorted(state.left_reports)),
        fingerprint=state.fingerprint,
        entries=tuple(entries),
        sightings=tuple(sightings),
        actions=tuple(sorted(histories.values(), key=_first_position)),
        anomalies=state.anomalies,
    )


_ACTION_EVENTS = (ActionStarted, ActionLeaseRenewed, ActionCompleted, ActionFailed, ActionSkipped)
ActionEvent = ActionStarted | ActionLeaseRenewed | ActionCompleted | ActionFailed | ActionSkipped


def _new_history(action_id: str) -> ActionHistory:
    return ActionHistory(
        action_id=action_id,
        action_type=None,
        status=ActionStatus.NONE,
        recorded_status=ActionStatus.NONE,
    )


def _record(history: ActionHistory, at: EventRef, event: ActionEvent) -> None:
    if isinstance(event, ActionLeaseRenewed):
        current = _open_attempt(history, event.attempt)
        if current is not None:
            current.lease_expires_at = event.lease_expires_at
            current.lease_renewals += 1
        return
    history.action_type = event.action_type
    if isinstance(event, ActionStarted):
        history.attempts.append(
            Attempt(
                attempt=event.attempt,
                started=at,
                worker=event.worker,
                run_id=str(event.run_id) if event.run_id else at.run_id,
                lease_expires_at=event.lease_expires_at,
            )
        )
        return
    attempt_number = getattr(event, "attempt", None)
    current = _open_attempt(history, attempt_number)
    if current is None:  # an outcome without a start: imported history
        current = Attempt(attempt=attempt_number or 0, run_id=at.run_id)
        history.attempts.append(current)
    current.finished = at
    current.imported = current.imported or at.imported
    if isinstance(event, ActionCompleted):
        current.outcome = "completed"
        current.summary = event.summary
        current.effects += [e.model_dump(mode="json") for e in event.effects]
        current.reconciled = event.reconciled
        current.imported = current.imported or event.imported
    elif isinstance(event, ActionFailed):
        waits = event.next_attempt_at is not None and event.retryable and not event.needs_review
        current.outcome = "waiting" if waits else "failed"
        current.error = event.error
        current.error_type = event.error_type
        current.retryable = event.retryable
        current.next_attempt_at = event.next_attempt_at
        current.needs_review = event.needs_review
        current.effects += [e.model_dump(mode="json") for e in event.effects]
    else:
        current.outcome = "skipped"
        current.skip_reason = event.reason


def _open_attempt(history: ActionHistory, attempt: int | None) -> Attempt | None:
    """The started attempt still without an outcome (matching ``attempt`` when given)."""
    for candidate in reversed(history.attempts):
        if candidate.started is not None and candidate.finished is None:
            if attempt is None or candidate.attempt == attempt:
                return candidate
            return None
    return None


def _settle(history: ActionHistory, state: TicketState, now: datetime) -> None:
    action = state.action(history.action_id)
    history.recorded_status = action.status
    history.status = effective_status(action, now, state.fingerprint)
    history.last_error = action.last_error
    history.next_attempt_at = action.next_attempt_at
    history.needs_review = action.needs_review
    history.reconciled = action.reconciled
    history.imported = action.imported or any(a.imported for a in history.attempts)


def _first_position(history: ActionHistory) -> int:
    refs = [a.started or a.finished for a in history.attempts]
    return min((r.position for r in refs if r is not None), default=0)


def _sighting(at: EventRef, event: TicketSeen | TicketLeftReport) -> Sighting:
    if isinstance(event, TicketSeen):
        return Sighting(at, event.report_id, left=False, fingerprint=event.fingerprint)
    return Sighting(at, event.report_id, left=True)


def _entry(at: EventRef, event: DomainEvent) -> TimelineEntry:
    """One line saying what the event means."""
    action_id = getattr(event, "action_id", None)
    attempt = getattr(event, "attempt", None)
    text = describe(event)
    if at.imported:
        text += f" [from the seed's log, executed {at.seed_executed_at or 'at an unknown time'}]"
    return TimelineEntry(at, action_id, attempt, text)


def describe(event: DomainEvent) -> str:
    """A short, plain description of a ticket event (also used by ``audit run``)."""
    if isinstance(event, TicketSeen):
        return f"seen on report {event.report_id} (fingerprint {event.fingerprint[:12]})"
    if isinstance(event, TicketLeftReport):
        return f"left report {event.report_id}"
    if isinstance(event, ActionStarted):
        return f"started by {event.worker}, lease until {event.lease_expires_at:%H:%M:%S}"
    if isinstance(event, ActionLeaseRenewed):
        return f"lease renewed until {event.lease_expires_at:%H:%M:%S}"
    if isinstance(event, ActionCompleted):
        flags = [
            f for f, on in (("reconciled", event.reconciled), ("imported", event.imported)) if on
        ]
        effects = f", {len(event.effects)} effect(s)" if event.effects else ""
        return "completed" + (f" ({', '.join(flags)})" if flags else "") + effects
    if isinstance(event, ActionFailed):
        when = (
            f"; next attempt {event.next_attempt_at:%Y-%m-%d %H:%M:%S}"
            if event.next_attempt_at
            else "; no further attempt"
        )
        review = " (needs review)" if event.needs_review else ""
        return f"failed{review}: {event.error_type}: {event.error}{when}"
    if isinstance(event, ActionSkipped):
        return f"skipped: {event.reason}"
    if isinstance(event, RetryRequested):
        target = event.action_id or "every failed action"
        return f"retry of {target} requested by {event.requested_by}: {event.reason}"
    if isinstance(event, ReportPolled):
        return (
            f"report {event.report_id} polled: {event.ticket_count} ticket(s), "
            f"{len(event.dropped_rows)} row(s) dropped, {event.duration_ms:.0f} ms"
        )
    if isinstance(event, RunStarted):
        report = f" of report {event.report_id}" if event.report_id is not None else ""
        return f"run started{report} ({event.mode}, {len(event.action_ids)} action(s))"
    if isinstance(event, RunFinished):
        error = f": {event.error}" if event.error else ""
        return f"run {event.outcome} after {event.duration_ms / 1000:.1f} s{error}"
    return event.TYPE


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
