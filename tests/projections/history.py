"""Writing action histories into the event log the way the daemon does (typed events)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from tdxq.eventlog import EventStore, StreamAppend, StreamState, to_new_event
from tdxq.eventlog.events import (
    ActionCompleted,
    ActionFailed,
    ActionLeaseRenewed,
    ActionSkipped,
    ActionStarted,
    Effect,
    RetryRequested,
    TicketSeen,
    ticket_stream,
)
from tdxq.eventlog.schema import DomainEvent

COMMENT = "comment:054200481667:v1"
ASSET = "add_asset:a1b2c3d4e5f6:v2"
LAB = "add_lab:0a0b0c0d0e0f:v2"
ACTIVE = "find_active_tickets:111111111111:v1"
SUMMARY = "summary_comment:feedfacecafe:v2#0123456789ab"

FUTURE = datetime(2099, 1, 1, tzinfo=UTC)
PAST = datetime(2001, 1, 1, tzinfo=UTC)


def type_of(action_id: str) -> str:
    return action_id.split(":", 1)[0]


def seen(ticket: int, fingerprint: str = "f1") -> TicketSeen:
    return TicketSeen(
        ticket_id=ticket, report_id=1344, row={"TicketID": ticket}, fingerprint=fingerprint
    )


def started(
    action: str, attempt: int = 1, lease: datetime = FUTURE, worker: str = "w1"
) -> ActionStarted:
    return ActionStarted(
        action_id=action,
        action_type=type_of(action),
        attempt=attempt,
        lease_expires_at=lease,
        worker=worker,
        run_id=UUID(int=7),
    )


def renewed(action: str, attempt: int = 1, lease: datetime = FUTURE) -> ActionLeaseRenewed:
    return ActionLeaseRenewed(
        action_id=action, attempt=attempt, lease_expires_at=lease, worker="w2"
    )


def completed(action: str, attempt: int = 1, summary: str | None = "done") -> ActionCompleted:
    return ActionCompleted(
        action_id=action,
        action_type=type_of(action),
        attempt=attempt,
        summary=summary,
        details={"n": attempt},
        effects=[Effect(kind="feed_entry", ticket_id=1, target_id=99)],
    )


def failed(
    action: str, attempt: int = 1, retry_at: datetime | None = None, error: str = "boom"
) -> ActionFailed:
    return ActionFailed(
        action_id=action,
        action_type=type_of(action),
        attempt=attempt,
        error=error,
        error_type="TdxServerError" if retry_at else "TdxNotFound",
        retryable=retry_at is not None,
        next_attempt_at=retry_at,
    )


def skipped(action: str, reason: str = "no computer named") -> ActionSkipped:
    return ActionSkipped(
        action_id=action, action_type=type_of(action), reason=reason, fingerprint="f1"
    )


def retry(action: str | None = None) -> RetryRequested:
    return RetryRequested(action_id=action, requested_by="alice", reason="TDX is back")


def append(store: EventStore, ticket: int, *events: DomainEvent) -> list[int]:
    """Append ``events`` to the ticket's stream; their positions."""
    appended = store.append(
        [StreamAppend(ticket_stream(ticket), StreamState.ANY, [to_new_event(e) for e in events])]
    )
    return [a.position for a in appended]


def typical_history(ticket: int, n: int) -> list[DomainEvent]:
    """A varied, legal history for ticket ``ticket`` (``n`` picks the variant)."""
    soon = datetime.now(UTC) + timedelta(minutes=5)
    variants: Sequence[list[DomainEvent]] = (
        [seen(ticket), started(COMMENT), completed(COMMENT), skipped(LAB)],
        [seen(ticket), started(ASSET), failed(ASSET, retry_at=soon), started(ASSET, 2),
         completed(ASSET, 2)],
        [seen(ticket), started(COMMENT), failed(COMMENT), retry(COMMENT), started(COMMENT, 2)],
        [seen(ticket), started(ACTIVE), renewed(ACTIVE), completed(ACTIVE), started(SUMMARY),
         completed(SUMMARY)],
    )  # fmt: skip
    return variants[n % len(variants)]


def new_event_id() -> UUID:
    return uuid4()
