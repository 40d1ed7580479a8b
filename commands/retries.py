"""Retry by event: find permanently failed actions and append ``retry_requested`` for them.

Nothing is updated or deleted. The ticket fold moves a failed action back to none on the
request, with a fresh retry budget, and the next pass's decision makes it due. Targets are
found in the ticket streams themselves (folded), never in a projection, so a request is made
only for an action that is failed in the log at that moment; the append carries the stream
version the check was made at, so a concurrent change makes the check run again.

A retry request for an action that is not failed (done, waiting, running) would be recorded and
change nothing, so none is made: the caller is told the action's status instead. Failures the
seed daemon recorded (imported history under legacy ids, which no step runs) are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from psycopg import sql

from tdxq.eventlog import EventStore, Metadata, StreamAppend, WrongExpectedVersion, to_new_event
from tdxq.eventlog.events import ActionFailed, RetryRequested, ticket_stream
from tdxq.projectors.action_state import ActionState, ActionStatus
from tdxq.projectors.ticket_state import TicketState, fold

from .audit_queries import matches_action, read_ticket_streams, ticket_id_of_stream, version_times
from .legacy_import import SEED_WORKER

MAX_TRIES: Final = 5


@dataclass(frozen=True, slots=True)
class RetryTarget:
    """A permanently failed action on a ticket."""

    ticket_id: int
    action_id: str
    action_type: str | None
    attempts: int
    last_error: str | None
    last_error_type: str | None
    needs_review: bool
    failed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Refusal:
    """An asked-for action that is not failed, and its status."""

    ticket_id: int
    action_id: str
    status: str


@dataclass(frozen=True, slots=True)
class RequestedRetry:
    target: RetryTarget
    position: int | None  # None in a dry run


def failed_targets(
    state: TicketState,
    times: dict[int, datetime],
    *,
    action_id: str | None = None,
    action_type: str | None = None,
    since: datetime | None = None,
) -> list[RetryTarget]:
    """The ticket's permanently failed actions that match the filters (pure)."""
    found = []
    for candidate, action in sorted(state.actions.items()):
        if action.status is not ActionStatus.FAILED or action.worker == SEED_WORKER:
            continue
        if action_id is not None and not matches_action(candidate, action_id):
            continue
        if action_type is not None and action.action_type != action_type:
            continue
        failed_at = times.get(action.last_version)
        if since is not None and (failed_at is None or failed_at < since):
            continue
        found.append(_target(state.ticket_id, action, failed_at))
    return found


def _target(ticket_id: int, action: ActionState, failed_at: datetime | None) -> RetryTarget:
    return RetryTarget(
        ticket_id=ticket_id,
        action_id=action.action_id,
        action_type=action.action_type,
        attempts=action.attempts,
        last_error=action.last_error,
        last_error_type=action.last_error_type,
        needs_review=action.needs_review,
        failed_at=failed_at,
    )


def refusals(state: TicketState, action_id: str) -> list[Refusal]:
    """Why nothing is failed for ``action_id`` on the ticket: each matching action's status."""
    matching = [a for key, a in state.actions.items() if matches_action(key, action_id)]
    if not matching:
        return [Refusal(state.ticket_id, action_id, "never run on this ticket")]
    return [Refusal(state.ticket_id, a.action_id, a.status.value) for a in matching]


@dataclass(frozen=True, slots=True)
class Selection:
    """What to retry, per ticket, with the stream version each check was made at."""

    targets: dict[int, list[RetryTarget]]
    versions: dict[int, int]
    refused: list[Refusal]

    @property
    def flat(self) -> list[RetryTarget]:
        return [t for ticket in sorted(self.targets) for t in self.targets[ticket]]


def select_on_tickets(
    store: EventStore,
    ticket_ids: Iterable[int],
    *,
    action_id: str | None = None,
    action_type: str | None = None,
    since: datetime | None = None,
) -> Selection:
    targets: dict[int, list[RetryTarget]] = {}
    versions: dict[int, int] = {}
    refused: list[Refusal] = []
    for ticket_id, events in read_ticket_streams(store, ticket_ids):
        state = fold(ticket_id, events, strict=False)
        found = failed_targets(
            state,
            version_times(events),
            action_id=action_id,
            action_type=action_type,
            since=since,
        )
        if found:
            targets[ticket_id] = found
            versions[ticket_id] = state.version
        elif action_id is not None:
            refused += refusals(state, action_id)
    return Selection(targets, versions, refused)


def tickets_with_failures(
    store: EventStore, *, since: datetime | None = None, action_type: str | None = None
) -> list[int]:
    """Tickets with an ``action_failed`` event (since ``since``, of ``action_type``)."""
    clauses = [sql.SQL("type = %s")]
    params: list[object] = [ActionFailed.TYPE]
    if since is not None:
        clauses.append(sql.SQL("recorded_at >= %s"))
        params.append(since)
    if action_type is not None:
        clauses.append(sql.SQL("data->>'action_type' = %s"))
        params.append(action_type)
    query = sql.SQL("SELECT DISTINCT stream FROM {} WHERE {}").format(
        sql.Identifier(store.schema, "events"), sql.SQL(" AND ").join(clauses)
    )
    with store.connection.cursor() as cur:
        rows = cur.execute(query, params).fetchall()
    found = (ticket_id_of_stream(str(row[0])) for row in rows)
    return sorted(t for t in found if t is not None)


def request_retries(
    store: EventStore,
    selection: Selection,
    *,
    requested_by: str,
    reason: str,
    metadata: Metadata,
) -> list[RequestedRetry]:
    """Append one ``retry_requested`` per target, one append per ticket at the version its
    targets were found at; a ticket whose stream moved meanwhile is checked again."""
    done: list[RequestedRetry] = []
    for ticket_id in sorted(selection.targets):
        targets, version = selection.targets[ticket_id], selection.versions[ticket_id]
        for _ in range(MAX_TRIES):
            events = [
                to_new_event(
                    RetryRequested(action_id=t.action_id, requested_by=requested_by, reason=reason),
                    metadata,
                )
                for t in targets
            ]
            try:
                appended = store.append([StreamAppend(ticket_stream(ticket_id), version, events)])
            except WrongExpectedVersion:
                again = _still_failed(store, ticket_id, targets)
                targets = again.targets.get(ticket_id, [])
                version = again.versions.get(ticket_id, version)
                if not targets:
                    break
                continue
            done += [RequestedRetry(t, a.position) for t, a in zip(targets, appended, strict=True)]
            break
        else:
            raise RuntimeError(f"ticket {ticket_id}: the stream keeps moving; try again")
    return done


def _still_failed(store: EventStore, ticket_id: int, targets: Sequence[RetryTarget]) -> Selection:
    """Those of ``targets`` that are still failed now, with the version now."""
    wanted = {t.action_id for t in targets}
    selection = select_on_tickets(store, [ticket_id])
    kept = [t for t in selection.targets.get(ticket_id, []) if t.action_id in wanted]
    return Selection({ticket_id: kept} if kept else {}, selection.versions, [])
