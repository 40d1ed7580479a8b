"""The rows of ``daemon_action_log``: a pure fold of action events into one row per
(ticket, action id).

Status as recorded (``in_doubt`` is derived at read time, see ``daemon_action_status``):

- ``action_started`` -> running (attempts, first_attempt_at, lease, worker, run)
- ``action_lease_renewed`` -> still running, with the new lease
- ``action_completed`` -> completed (summary, effects, reconciled, details)
- ``action_failed`` -> waiting when retryable with a next attempt time (and not needing review),
  else failed: the same rule as the ticket fold (transitions.py)
- ``action_skipped`` -> skipped (reason)
- ``retry_requested`` -> a failed action becomes waiting, due at the next pass
  (``metadata.retry_requested`` says who and why; ``next_attempt_at`` is absent); requests for
  actions that are not failed change nothing, as in the fold. Waiting rather than failed so
  that monitoring stops counting it as a failure once someone asked for another try.

The write side (the ticket fold) rejects illegal transitions before anything is appended, so
this fold trusts the log; it only ignores events that are evidently stale: a start that does not
raise the attempt number, and a renewal or outcome for an attempt older than the latest start.
``executed_at`` is the time the current status was recorded (the event's ``recorded_at``), so a
rebuild from the same events gives the very same rows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, NamedTuple
from uuid import UUID

from tdxq.eventlog import RecordedEvent, decode
from tdxq.eventlog.events import (
    ActionCompleted,
    ActionFailed,
    ActionLeaseRenewed,
    ActionSkipped,
    ActionStarted,
    RetryRequested,
)
from tdxq.eventlog.schema import SCHEMA_VERSION_KEY, event_class

EVENT_TYPES: Final = (
    ActionStarted.TYPE,
    ActionLeaseRenewed.TYPE,
    ActionCompleted.TYPE,
    ActionFailed.TYPE,
    ActionSkipped.TYPE,
    RetryRequested.TYPE,
)

TICKET_STREAM_PREFIX: Final = "ticket:"
INSTANCE_SEPARATOR: Final = "#"  # summary_comment instances: "{action id}#{digest}"

RUNNING: Final = "running"
WAITING: Final = "waiting"
COMPLETED: Final = "completed"
FAILED: Final = "failed"
SKIPPED: Final = "skipped"

Key = tuple[int, str]

log = logging.getLogger(__name__)


class ActionLogRow(NamedTuple):
    """One row of ``daemon_action_log``; field order is the table's column order.

    A named tuple: immutable, built straight from a fetched row, and cheap to copy with
    ``_replace`` (a rebuild makes about one copy per event).
    """

    log_id: UUID
    ticket_id: int
    action_type: str
    action_id: str
    action_hash: str | None
    executed_at: datetime | None
    status: str
    error_message: str | None
    metadata: Mapping[str, Any]
    attempts: int
    first_attempt_at: datetime | None
    lease_expires_at: datetime | None
    last_position: int

    @property
    def key(self) -> Key:
        return (self.ticket_id, self.action_id)


class UnusableEvent(ValueError):
    """An action event the action log cannot place (no ticket stream, no action id)."""


def ticket_id_of(event: RecordedEvent, data: Mapping[str, Any]) -> int:
    """The ticket an event concerns: from its data when it says so, else from ``ticket:{id}``."""
    value = data.get("ticket_id")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if event.stream.startswith(TICKET_STREAM_PREFIX):
        tail = event.stream[len(TICKET_STREAM_PREFIX) :]
        if tail.isdigit():
            return int(tail)
    raise UnusableEvent(f"event at position {event.position} names no ticket ({event.stream!r})")


def action_hash_of(action_id: str) -> str | None:
    """The hash part of ``{type}:{hash}:{version}`` (also of a summary instance id)."""
    parts = action_id.split(INSTANCE_SEPARATOR, 1)[0].split(":")
    return parts[1] if len(parts) == 3 and parts[1] else None


def action_type_of(action_id: str) -> str:
    return action_id.split(INSTANCE_SEPARATOR, 1)[0].split(":", 1)[0]


def event_data(event: RecordedEvent) -> Mapping[str, Any]:
    """The event's data in the current schema; only older versions pay for an upcast."""
    stored = int(event.metadata.get(SCHEMA_VERSION_KEY, 1))
    if stored == event_class(event.type).SCHEMA_VERSION:
        return event.data
    return decode(event).model_dump(mode="json")


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _kept(metadata: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: metadata[k] for k in keys if k in metadata}


def _is_stale(row: ActionLogRow | None, attempt: Any) -> bool:
    """An outcome or renewal for an attempt older than the latest one started."""
    return row is not None and isinstance(attempt, int) and 0 < attempt < row.attempts


def new_row(event: RecordedEvent, ticket_id: int, action_id: str) -> ActionLogRow:
    return ActionLogRow(
        log_id=event.event_id,  # the first event of the row: deterministic across rebuilds
        ticket_id=ticket_id,
        action_type=action_type_of(action_id),
        action_id=action_id,
        action_hash=action_hash_of(action_id),
        executed_at=None,
        status=RUNNING,
        error_message=None,
        metadata={},
        attempts=0,
        first_attempt_at=None,
        lease_expires_at=None,
        last_position=event.position,
    )


def step(
    row: ActionLogRow | None, event: RecordedEvent, data: Mapping[str, Any], ticket_id: int
) -> ActionLogRow | None:
    """The row after one action event (not ``retry_requested``, see ``retry``); None if no row."""
    action_id = data.get("action_id")
    if not isinstance(action_id, str) or not action_id:
        raise UnusableEvent(f"{event.type} at position {event.position} has no action_id")
    attempt = data.get("attempt")
    if event.type == ActionStarted.TYPE:
        if row is not None and isinstance(attempt, int) and attempt <= row.attempts:
            return row
        return _started(row or new_row(event, ticket_id, action_id), event, data)
    if event.type == ActionLeaseRenewed.TYPE:
        if row is None or row.status != RUNNING or attempt != row.attempts:
            return row
        return row._replace(
            lease_expires_at=_time(data.get("lease_expires_at")),
            metadata={**row.metadata, "worker": data.get("worker")},
            last_position=event.position,
        )
    if _is_stale(row, attempt):
        return row
    base = row or new_row(event, ticket_id, action_id)
    if event.type == ActionCompleted.TYPE:
        return _completed(base, event, data)
    if event.type == ActionFailed.TYPE:
        return _failed(base, event, data)
    if event.type == ActionSkipped.TYPE:
        return _skipped(base, event, data)
    raise UnusableEvent(f"{event.type} is not an action event")


def _started(row: ActionLogRow, event: RecordedEvent, data: Mapping[str, Any]) -> ActionLogRow:
    metadata: dict[str, Any] = {
        "attempt": data.get("attempt"),
        "worker": data.get("worker"),
        "run_id": data.get("run_id"),
    }
    if data.get("carried_action_ids") is not None:
        metadata["carried_action_ids"] = data["carried_action_ids"]
    attempt = data.get("attempt")
    return row._replace(
        action_type=str(data.get("action_type") or row.action_type),
        executed_at=event.recorded_at,
        status=RUNNING,
        error_message=None,
        metadata=metadata,
        attempts=max(row.attempts, attempt if isinstance(attempt, int) else row.attempts + 1),
        first_attempt_at=row.first_attempt_at or event.recorded_at,
        lease_expires_at=_time(data.get("lease_expires_at")),
        last_position=event.position,
    )


def _completed(row: ActionLogRow, event: RecordedEvent, data: Mapping[str, Any]) -> ActionLogRow:
    attempt = data.get("attempt")
    return row._replace(
        action_type=str(data.get("action_type") or row.action_type),
        executed_at=event.recorded_at,
        status=COMPLETED,
        error_message=None,
        metadata={
            **_kept(row.metadata, "worker", "run_id", "carried_action_ids"),
            "attempt": attempt,
            "summary": data.get("summary"),
            "details": data.get("details", {}),
            "effects": data.get("effects", []),
            "reconciled": bool(data.get("reconciled", False)),
            "imported": bool(data.get("imported", False)),
        },
        attempts=max(row.attempts, attempt if isinstance(attempt, int) else 0),
        lease_expires_at=None,
        last_position=event.position,
    )


def _failed(row: ActionLogRow, event: RecordedEvent, data: Mapping[str, Any]) -> ActionLogRow:
    retryable = bool(data.get("retryable", False))
    needs_review = bool(data.get("needs_review", False))
    next_attempt_at = data.get("next_attempt_at")
    waits = next_attempt_at is not None and retryable and not needs_review
    attempt = data.get("attempt")
    return row._replace(
        action_type=str(data.get("action_type") or row.action_type),
        executed_at=event.recorded_at,
        status=WAITING if waits else FAILED,
        error_message=data.get("error"),
        metadata={
            **_kept(row.metadata, "worker", "run_id"),
            "attempt": attempt,
            "error_type": data.get("error_type"),
            "retryable": retryable,
            "needs_review": needs_review,
            "next_attempt_at": next_attempt_at if waits else None,
            "effects": data.get("effects", []),
        },
        attempts=max(row.attempts, attempt if isinstance(attempt, int) else 0),
        lease_expires_at=None,
        last_position=event.position,
    )


def _skipped(row: ActionLogRow, event: RecordedEvent, data: Mapping[str, Any]) -> ActionLogRow:
    return row._replace(
        action_type=str(data.get("action_type") or row.action_type),
        executed_at=event.recorded_at,
        status=SKIPPED,
        error_message=None,
        metadata={"reason": data.get("reason"), "fingerprint": data.get("fingerprint")},
        lease_expires_at=None,
        last_position=event.position,
    )


def retry(row: ActionLogRow, event: RecordedEvent, data: Mapping[str, Any]) -> ActionLogRow:
    """A retry request: a failed action waits for the next pass; anything else is unchanged."""
    if row.status != FAILED:
        return row
    return row._replace(
        executed_at=event.recorded_at,
        status=WAITING,
        metadata={
            **row.metadata,
            "next_attempt_at": None,
            "retry_requested": {
                "requested_by": data.get("requested_by"),
                "reason": data.get("reason"),
                "requested_at": event.recorded_at.isoformat(),
                "position": event.position,
            },
        },
        last_position=event.position,
    )


class PreparedEvent(NamedTuple):
    """An action event with its current-schema data and its ticket."""

    event: RecordedEvent
    data: Mapping[str, Any]
    ticket_id: int
    action_id: str | None  # None only for a ticket-wide retry request


def prepare(events: Sequence[RecordedEvent]) -> list[PreparedEvent]:
    """The events the action log can place; any other is logged and left out, because one
    event that names no ticket or action must not stop the projection for good."""
    prepared: list[PreparedEvent] = []
    for event in events:
        data = event_data(event)
        try:
            ticket_id = ticket_id_of(event, data)
            action_id = data.get("action_id")
            if not isinstance(action_id, str) or not action_id:
                if event.type != RetryRequested.TYPE:
                    raise UnusableEvent(
                        f"{event.type} at position {event.position} has no action_id"
                    )
                action_id = None
            item = PreparedEvent(event, data, ticket_id, action_id)
        except UnusableEvent as exc:
            log.warning("daemon_action_log: %s; event left out", exc)
            continue
        prepared.append(item)
    return prepared


@dataclass(frozen=True, slots=True)
class NeededRows:
    keys: list[Key]
    whole_tickets: list[int]


def keys_needed(events: Sequence[PreparedEvent]) -> NeededRows:
    """Which existing rows ``fold_batch`` needs: every row an event names, and every row of a
    ticket that has a ticket-wide retry request."""
    keys: dict[Key, None] = {}
    tickets: dict[int, None] = {}
    for item in events:
        action_id = item.action_id
        if action_id is not None:
            keys[(item.ticket_id, action_id)] = None
        else:
            tickets[item.ticket_id] = None
    return NeededRows(list(keys), list(tickets))


def fold_batch(
    rows: Mapping[Key, ActionLogRow], events: Sequence[PreparedEvent]
) -> dict[Key, ActionLogRow]:
    """Apply ``events`` in order to the known ``rows`` (see ``keys_needed``); the changed rows."""
    current = dict(rows)
    changed: dict[Key, ActionLogRow] = {}
    for item in events:
        action_id = item.action_id
        if item.event.type == RetryRequested.TYPE:
            keys = (
                [(item.ticket_id, action_id)]
                if action_id is not None
                else [k for k in current if k[0] == item.ticket_id]
            )
            for key in keys:
                old = current.get(key)
                if old is not None and (new := retry(old, item.event, item.data)) is not old:
                    current[key] = changed[key] = new
            continue
        assert action_id is not None  # prepare() leaves out action events without one
        key = (item.ticket_id, action_id)
        old = current.get(key)
        updated = step(old, item.event, item.data, item.ticket_id)
        if updated is not None and updated is not old:
            current[key] = changed[key] = updated
    return changed
