"""The action state machine (DESIGN.md): every legal transition, and the rejection of the rest.

This is the one place that says which event may follow which state. Rules:

- ``action_started``: from none or waiting; from skipped only when the ticket's fingerprint has
  changed since the skip; from running only as a takeover of an in-doubt action (a worker found
  the lease expired, and its claim won the expected-version race). The attempt number must grow.
  A completed or permanently failed action never starts (a retry request must come first).
- ``action_lease_renewed``: only while running, for the attempt that is running.
- ``action_completed``: only while running, for the attempt that is running, once; an imported
  completion (the seed's history) only for an action that is not running and not done.
- ``action_failed``: only while running, for the attempt that is running. With a next attempt
  time it waits; without one (not retryable, attempts used up) or needing review it is failed.
- ``action_skipped``: from none or running.
- ``retry_requested``: moves failed to none and starts a fresh retry budget; for any other
  state it is recorded and changes nothing (a request may be declined, it is not an error).

Why a takeover is accepted without checking the clock: the fold is time-free, and a second
``action_started`` can only reach the log through an append with the expected stream version,
which a worker makes only after deciding that the lease had expired. The log is the truth.
"""

from __future__ import annotations

from typing import NamedTuple
from uuid import UUID

from tdxq.eventlog.events import (
    CARRIED_ACTION_IDS_KEY,
    ActionCompleted,
    ActionFailed,
    ActionLeaseRenewed,
    ActionSkipped,
    ActionStarted,
    RetryRequested,
)

from .action_state import ActionState, ActionStatus, RetryRecord, evolve, skip_is_stale

ActionEvent = ActionStarted | ActionLeaseRenewed | ActionCompleted | ActionFailed | ActionSkipped


class IllegalTransition(Exception):
    """An event that the action state machine does not allow from the action's state."""

    def __init__(
        self,
        *,
        ticket_id: int,
        action_id: str,
        from_status: ActionStatus,
        event_type: str,
        reason: str,
    ) -> None:
        self.ticket_id = ticket_id
        self.action_id = action_id
        self.from_status = from_status
        self.event_type = event_type
        self.reason = reason
        super().__init__(
            f"ticket {ticket_id}, action {action_id}: {event_type} is illegal from "
            f"{from_status.value}: {reason}"
        )


class EventPlace(NamedTuple):
    """Where an event sits, and what the fold knows of the ticket when applying it."""

    ticket_id: int
    version: int
    position: int | None
    event_id: UUID | None
    fingerprint: str | None  # the ticket's fingerprint before this event


_S = ActionStatus


def transition(action: ActionState, event: ActionEvent, at: EventPlace) -> ActionState:
    """The action's state after ``event``; raises ``IllegalTransition`` if it is not allowed."""
    problem = _problem(action, event, at)
    if problem is not None:
        raise IllegalTransition(
            ticket_id=at.ticket_id,
            action_id=action.action_id,
            from_status=action.status,
            event_type=event.TYPE,
            reason=problem,
        )
    return _apply(action, event, at)


def _problem(action: ActionState, event: ActionEvent, at: EventPlace) -> str | None:
    """Why ``event`` may not follow ``action``'s state, or None when it may."""
    status = action.status
    if isinstance(event, ActionStarted):
        if event.attempt <= action.attempts:
            return f"attempt {event.attempt} does not follow attempt {action.attempts}"
        if status in (_S.NONE, _S.WAITING, _S.RUNNING):
            return None
        if status is _S.SKIPPED:
            return (
                None
                if skip_is_stale(action, at.fingerprint)
                else ("the ticket has not changed since the skip")
            )
        return "a done or failed action does not start again"
    if isinstance(event, ActionLeaseRenewed):
        if status is not _S.RUNNING:
            return "only a running action has a lease"
        return _same_attempt(action, event.attempt)
    if isinstance(event, ActionCompleted):
        if event.imported:
            if status in (_S.RUNNING, _S.DONE):
                return "an imported completion cannot replace a running or done action"
            return None
        if status is not _S.RUNNING:
            return "only a running action completes"
        return _same_attempt(action, event.attempt)
    if isinstance(event, ActionFailed):
        if status is not _S.RUNNING:
            return "only a running action fails"
        return _same_attempt(action, event.attempt)
    if status not in (_S.NONE, _S.RUNNING):
        return "only a new or running action is skipped"
    return None


def _same_attempt(action: ActionState, attempt: int) -> str | None:
    if attempt != action.attempts:
        return f"attempt {attempt} is not the running attempt {action.attempts}"
    return None


def _apply(action: ActionState, event: ActionEvent, at: EventPlace) -> ActionState:
    if isinstance(event, ActionStarted):
        carried = action.carried_action_ids
        if event.carried_action_ids is not None:
            carried = tuple(event.carried_action_ids)
        return evolve(
            action,
            last_version=at.version,
            action_type=event.action_type,
            status=_S.RUNNING,
            attempts=event.attempt,
            lease_expires_at=event.lease_expires_at,
            worker=event.worker,
            run_id=event.run_id,
            next_attempt_at=None,
            carried_action_ids=carried,
        )
    if isinstance(event, ActionLeaseRenewed):
        return evolve(
            action,
            last_version=at.version,
            lease_expires_at=event.lease_expires_at,
            worker=event.worker,
        )
    if isinstance(event, ActionCompleted):
        carried = action.carried_action_ids
        listed = event.details.get(CARRIED_ACTION_IDS_KEY)
        if isinstance(listed, list):
            carried = tuple(str(item) for item in listed)
        return evolve(
            action,
            last_version=at.version,
            action_type=event.action_type,
            status=_S.DONE,
            attempts=max(action.attempts, event.attempt),
            lease_expires_at=None,
            next_attempt_at=None,
            needs_review=False,
            summary=event.summary,
            details=dict(event.details),
            effects=action.effects + tuple(event.effects),
            completed_version=at.version,
            completed_position=at.position,
            completed_event_id=at.event_id,
            reconciled=event.reconciled,
            imported=event.imported,
            carried_action_ids=carried,
        )
    if isinstance(event, ActionFailed):
        waits = event.next_attempt_at is not None and event.retryable and not event.needs_review
        return evolve(
            action,
            last_version=at.version,
            action_type=event.action_type,
            status=_S.WAITING if waits else _S.FAILED,
            lease_expires_at=None,
            last_error=event.error,
            last_error_type=event.error_type,
            retryable=event.retryable,
            next_attempt_at=event.next_attempt_at if waits else None,
            needs_review=event.needs_review,
            effects=action.effects + tuple(event.effects),
        )
    return evolve(
        action,
        last_version=at.version,
        action_type=event.action_type,
        status=_S.SKIPPED,
        lease_expires_at=None,
        next_attempt_at=None,
        skip_reason=event.reason,
        skipped_fingerprint=event.fingerprint if event.fingerprint is not None else at.fingerprint,
        series_base=action.attempts,
    )


def request_retry(action: ActionState, event: RetryRequested, at: EventPlace) -> ActionState:
    """Honour a retry request for a failed action (fresh retry budget); record it either way."""
    honoured = action.status is _S.FAILED
    record = RetryRecord(
        version=at.version,
        action_id=event.action_id,
        requested_by=event.requested_by,
        reason=event.reason,
        honoured=honoured,
    )
    if not honoured:
        return evolve(action, retry_requests=(*action.retry_requests, record))
    return evolve(
        action,
        status=_S.NONE,
        series_base=action.attempts,
        needs_review=False,
        next_attempt_at=None,
        retry_requests=(*action.retry_requests, record),
        last_version=at.version,
    )
