"""Small builders for ticket-stream events, so tests read as the story they tell."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from tdxq.eventlog import DomainEvent, RecordedEvent, to_new_event
from tdxq.eventlog.events import (
    CARRIED_ACTION_IDS_KEY,
    ActionCompleted,
    ActionFailed,
    ActionLeaseRenewed,
    ActionSkipped,
    ActionStarted,
    Effect,
    RetryRequested,
    TicketLeftReport,
    TicketSeen,
    ticket_stream,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
TICKET = 9291804
REPORT = 1344


def seen(
    fingerprint: str = "fp1",
    *,
    report_id: int = REPORT,
    ticket_id: int = TICKET,
    title: str = "Printer",
) -> TicketSeen:
    return TicketSeen(
        ticket_id=ticket_id,
        report_id=report_id,
        row={"TicketID": ticket_id, "Title": title},
        fingerprint=fingerprint,
    )


def left(*, report_id: int = REPORT, ticket_id: int = TICKET) -> TicketLeftReport:
    return TicketLeftReport(ticket_id=ticket_id, report_id=report_id)


def started(
    action_id: str,
    attempt: int = 1,
    *,
    lease_until: datetime | None = None,
    worker: str = "w1",
    carried: list[str] | None = None,
) -> ActionStarted:
    return ActionStarted(
        action_id=action_id,
        action_type=action_id.split(":")[0],
        attempt=attempt,
        lease_expires_at=lease_until or T0 + timedelta(minutes=5),
        worker=worker,
        carried_action_ids=carried,
    )


def renewed(action_id: str, attempt: int, lease_until: datetime) -> ActionLeaseRenewed:
    return ActionLeaseRenewed(
        action_id=action_id, attempt=attempt, lease_expires_at=lease_until, worker="w1"
    )


def completed(
    action_id: str,
    attempt: int = 1,
    *,
    summary: str | None = None,
    carried: list[str] | None = None,
    imported: bool = False,
    reconciled: bool = False,
) -> ActionCompleted:
    details: dict[str, Any] = {}
    if carried is not None:
        details[CARRIED_ACTION_IDS_KEY] = sorted(carried)
    return ActionCompleted(
        action_id=action_id,
        action_type=action_id.split(":")[0],
        attempt=attempt,
        summary=summary,
        details=details,
        imported=imported,
        reconciled=reconciled,
        effects=[Effect(kind="feed_entry", ticket_id=TICKET, target_id=attempt)],
    )


def failed(
    action_id: str,
    attempt: int = 1,
    *,
    retry_at: datetime | None = None,
    retryable: bool = True,
    needs_review: bool = False,
) -> ActionFailed:
    return ActionFailed(
        action_id=action_id,
        action_type=action_id.split(":")[0],
        attempt=attempt,
        error="TDX said 503",
        error_type="TDXServerError",
        retryable=retryable,
        next_attempt_at=retry_at,
        needs_review=needs_review,
    )


def skipped(action_id: str, fingerprint: str | None = None) -> ActionSkipped:
    return ActionSkipped(
        action_id=action_id,
        action_type=action_id.split(":")[0],
        reason="ticket already has a lab",
        fingerprint=fingerprint,
    )


def retry(action_id: str | None = None) -> RetryRequested:
    return RetryRequested(action_id=action_id, requested_by="alice", reason="fixed the form")


def recorded(
    events: Iterable[DomainEvent],
    *,
    ticket_id: int = TICKET,
    first_version: int = 1,
    first_position: int = 100,
) -> list[RecordedEvent]:
    """The events as the store would return them: versions and positions assigned."""
    out: list[RecordedEvent] = []
    for offset, event in enumerate(events):
        new = to_new_event(event, {"actor": "test"}, event_id=uuid4())
        out.append(
            RecordedEvent(
                position=first_position + offset * 3,
                event_id=new.event_id,
                stream=ticket_stream(ticket_id),
                version=first_version + offset,
                type=new.type,
                data=dict(new.data),
                metadata=dict(new.metadata),
                recorded_at=T0 + timedelta(seconds=offset),
            )
        )
    return out
