"""Which committed events mean "look at this ticket", now or later (pure).

- ``ticket_seen``: the ticket is new or changed on a report: look now (that report's pipeline).
- ``retry_requested``: someone asked for a retry: look now (every pipeline served).
- ``action_started`` / ``action_lease_renewed``: a worker holds a lease; if it dies, the action
  is in doubt once the lease ends: look then.
- ``action_failed`` with a next attempt time: look then.

Looking is cheap and idempotent (the decision is made from the log), so a wake-up for a ticket
that turns out to have nothing due costs one read.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from tdxq.eventlog import EventLogError, RecordedEvent, decode
from tdxq.eventlog.events import (
    ActionFailed,
    ActionLeaseRenewed,
    ActionStarted,
    RetryRequested,
    TicketSeen,
)

from .work_queue import WorkKey

WAKE_TYPES: tuple[str, ...] = (
    TicketSeen.TYPE,
    RetryRequested.TYPE,
    ActionStarted.TYPE,
    ActionLeaseRenewed.TYPE,
    ActionFailed.TYPE,
)
"""The event types a worker follows."""

TICKET_STREAM_PREFIX = "ticket:"


@dataclass(slots=True)
class Wakeups:
    now: list[WorkKey] = field(default_factory=list)
    later: list[tuple[WorkKey, datetime]] = field(default_factory=list)


def ticket_of(stream: str) -> int | None:
    if not stream.startswith(TICKET_STREAM_PREFIX):
        return None
    try:
        return int(stream[len(TICKET_STREAM_PREFIX) :])
    except ValueError:
        return None


def wakeups(events: Iterable[RecordedEvent], reports: Collection[int]) -> Wakeups:
    """The work ``events`` ask for, for the pipelines of ``reports``."""
    found = Wakeups()
    for event in events:
        ticket_id = ticket_of(event.stream)
        if ticket_id is None or event.type not in WAKE_TYPES:
            continue
        try:
            domain = decode(event)
        except (EventLogError, ValueError):
            # Unreadable here means unreadable for the fold too: the decision flags it. Look.
            found.now.extend((report, ticket_id) for report in reports)
            continue
        if isinstance(domain, TicketSeen):
            if domain.report_id in reports:
                found.now.append((domain.report_id, ticket_id))
        elif isinstance(domain, RetryRequested):
            found.now.extend((report, ticket_id) for report in reports)
        elif isinstance(domain, ActionStarted | ActionLeaseRenewed):
            found.later.extend(((r, ticket_id), domain.lease_expires_at) for r in reports)
        elif isinstance(domain, ActionFailed) and domain.next_attempt_at is not None:
            found.later.extend(((r, ticket_id), domain.next_attempt_at) for r in reports)
    return found
