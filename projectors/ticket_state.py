"""A ticket's state: a pure, time-free fold of its stream ``ticket:{id}``.

``apply`` takes one event (as recorded, or as a decoded domain event) and returns the next
state; ``fold`` runs it over a stream. States are immutable, so folding a prefix and then the
rest gives the same state as folding everything, and a state can be kept and extended with the
events appended after it (``fold_into``).

Strict folding raises on anything wrong. Lenient folding (``strict=False``, for the daemon)
never stops on one bad event: it records an ``Anomaly``, leaves the state as it was, and the
decision then refuses to act on the affected action until a person has looked. Gaps in stream
versions and events of another stream are always errors: the state would be unreliable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from tdxq.eventlog import DomainEvent, EventLogError, RecordedEvent, decode
from tdxq.eventlog.events import (
    ActionCompleted,
    ActionFailed,
    ActionLeaseRenewed,
    ActionSkipped,
    ActionStarted,
    RetryRequested,
    TicketLeftReport,
    TicketSeen,
    ticket_stream,
)

from .action_state import ActionState, ActionStatus, RetryRecord, evolve
from .transitions import EventPlace, IllegalTransition, request_retry, transition

_ACTION_EVENTS = (ActionStarted, ActionLeaseRenewed, ActionCompleted, ActionFailed, ActionSkipped)


class FoldError(Exception):
    """A stream that cannot be folded into a ticket's state at all."""


@dataclass(frozen=True, slots=True)
class Anomaly:
    """An event that a lenient fold could not apply; the action it names needs review."""

    version: int
    event_type: str
    action_id: str | None
    message: str


@dataclass(frozen=True)  # no slots: see ``evolve``
class TicketState:
    ticket_id: int
    version: int = 0  # the stream version: the expected version of the next append
    last_position: int | None = None
    # The id of the last recorded event folded in: what a new decision is caused by.
    last_event_id: UUID | None = None
    row: Mapping[str, Any] | None = None
    fingerprint: str | None = None
    last_seen_version: int | None = None
    last_seen_at: datetime | None = None
    on_reports: frozenset[int] = frozenset()
    left_reports: frozenset[int] = frozenset()
    actions: Mapping[str, ActionState] = field(default_factory=dict)
    retry_requests: tuple[RetryRecord, ...] = ()
    anomalies: tuple[Anomaly, ...] = ()

    @property
    def stream(self) -> str:
        return ticket_stream(self.ticket_id)

    def action(self, action_id: str) -> ActionState:
        """The action's state; an action never seen on this ticket is ``none``."""
        found = self.actions.get(action_id)
        return found if found is not None else evolve(_NEW_ACTION, action_id=action_id)

    def is_on_report(self, report_id: int | None = None) -> bool:
        """On the given report, or on any report when ``report_id`` is None."""
        if report_id is None:
            return bool(self.on_reports)
        return report_id in self.on_reports

    def anomalous_action_ids(self) -> frozenset[str]:
        return frozenset(a.action_id for a in self.anomalies if a.action_id is not None)


_NEW_ACTION = ActionState(action_id="")  # copied by ``evolve``: cheaper than the constructor


def initial_state(ticket_id: int) -> TicketState:
    return TicketState(ticket_id=ticket_id)


def fold(
    ticket_id: int, events: Iterable[RecordedEvent | DomainEvent], *, strict: bool = True
) -> TicketState:
    return fold_into(initial_state(ticket_id), events, strict=strict)


def fold_into(
    state: TicketState, events: Iterable[RecordedEvent | DomainEvent], *, strict: bool = True
) -> TicketState:
    for event in events:
        state = apply(state, event, strict=strict)
    return state


def apply(
    state: TicketState, event: RecordedEvent | DomainEvent, *, strict: bool = True
) -> TicketState:
    """The state after one more event of the ticket's stream."""
    version = state.version + 1
    position: int | None = None
    if isinstance(event, RecordedEvent):
        if event.stream != state.stream:
            raise FoldError(
                f"event {event.event_id} of stream {event.stream!r} folded into {state.stream!r}"
            )
        if event.version != version:
            raise FoldError(
                f"{state.stream}: version {event.version} follows {state.version}; "
                "the stream has a gap or was read twice"
            )
        position = event.position
        try:
            domain = decode(event)
        except (EventLogError, ValueError) as exc:
            return _reject(state, event.type, None, str(exc), version, position, strict, exc)
        place = EventPlace(state.ticket_id, version, position, event.event_id, state.fingerprint)
        seen_at: datetime | None = event.recorded_at
        event_id: UUID | None = event.event_id
    else:
        domain = event
        place = EventPlace(state.ticket_id, version, None, None, state.fingerprint)
        seen_at = None
        event_id = None
    try:
        changes = _changes(state, domain, place, seen_at)
    except IllegalTransition as exc:
        return _reject(state, domain.TYPE, exc.action_id, str(exc), version, position, strict, exc)
    except FoldError as exc:
        return _reject(state, domain.TYPE, None, str(exc), version, position, strict, exc)
    # One copy per event: the fold runs over every event of every ticket on each pass.
    return evolve(
        state,
        version=version,
        last_position=position or state.last_position,
        last_event_id=event_id or state.last_event_id,
        **changes,
    )


def _changes(
    state: TicketState, event: DomainEvent, at: EventPlace, seen_at: datetime | None
) -> dict[str, Any]:
    """The fields of the ticket's state that ``event`` changes."""
    if isinstance(event, TicketSeen):
        _check_ticket(state, event.ticket_id, event.TYPE)
        return {
            "row": dict(event.row),
            "fingerprint": event.fingerprint,
            "last_seen_version": at.version,
            "last_seen_at": seen_at,
            "on_reports": state.on_reports | {event.report_id},
            "left_reports": state.left_reports - {event.report_id},
        }
    if isinstance(event, TicketLeftReport):
        _check_ticket(state, event.ticket_id, event.TYPE)
        return {
            "on_reports": state.on_reports - {event.report_id},
            "left_reports": state.left_reports | {event.report_id},
        }
    if isinstance(event, _ACTION_EVENTS):
        updated = transition(state.action(event.action_id), event, at)
        return {"actions": {**state.actions, event.action_id: updated}}
    if isinstance(event, RetryRequested):
        return _retry(state, event, at)
    raise FoldError(f"{event.TYPE} does not belong in a ticket stream")


def _retry(state: TicketState, event: RetryRequested, at: EventPlace) -> dict[str, Any]:
    if event.action_id is not None:
        targets = [event.action_id]
    else:
        targets = [a for a, s in state.actions.items() if s.status is ActionStatus.FAILED]
    actions = dict(state.actions)
    for action_id in targets:
        actions[action_id] = request_retry(state.action(action_id), event, at)
    record = RetryRecord(
        version=at.version,
        action_id=event.action_id,
        requested_by=event.requested_by,
        reason=event.reason,
        honoured=any(actions[a].retry_requests[-1].honoured for a in targets),
    )
    return {"actions": actions, "retry_requests": (*state.retry_requests, record)}


def _check_ticket(state: TicketState, ticket_id: int, event_type: str) -> None:
    if ticket_id != state.ticket_id:
        raise FoldError(f"{event_type} for ticket {ticket_id} in the stream of {state.stream}")


def _reject(
    state: TicketState,
    event_type: str,
    action_id: str | None,
    message: str,
    version: int,
    position: int | None,
    strict: bool,
    exc: Exception,
) -> TicketState:
    if strict:
        raise exc
    return evolve(
        state,
        version=version,
        last_position=position or state.last_position,
        anomalies=(*state.anomalies, Anomaly(version, event_type, action_id, message)),
    )
