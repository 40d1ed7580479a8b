"""What ``decide`` returns: the due actions of a ticket and, for every other step, why not.

Every reason is a machine-readable code plus the facts behind it (until when, blocked by
which step), so ``tdxq audit why`` and ``--dry-run`` can print them without re-deriving.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tdxq.projectors.action_state import ActionStatus

from .protocol import PriorSummary


@dataclass(frozen=True, slots=True)
class PipelineStep:
    """One configured action of a pipeline, as the decision needs it."""

    action_id: str
    action_type: str
    summary: bool = False  # a summary_comment: runs once per new set of summaries


class DueKind(StrEnum):
    RUN = "run"
    # In doubt: claim, then look in TDX for the effect before running again.
    RECONCILE = "reconcile"


class DueBecause(StrEnum):
    NEW = "new"  # never run on this ticket
    RETRY_TIME_REACHED = "retry_time_reached"
    IN_DOUBT = "in_doubt"  # a worker's lease expired while it ran the action
    TICKET_CHANGED = "ticket_changed"  # a skip recorded for an older fingerprint
    RETRY_REQUESTED = "retry_requested"
    NEW_SUMMARIES = "new_summaries"


class NotDueReason(StrEnum):
    DONE = "done"
    RUNNING = "running"  # under a live lease, until ``until``
    WAITING = "waiting"  # next attempt at ``until``
    FAILED_NOT_RETRYABLE = "failed_not_retryable"
    ATTEMPTS_USED_UP = "attempts_used_up"
    NEEDS_REVIEW = "needs_review"
    SKIPPED = "skipped"  # for the ticket's current fingerprint
    BLOCKED_BY_EARLIER_STEP = "blocked_by_earlier_step"  # ``blocked_by`` is running or waiting
    AFTER_EARLIER_STEPS = "after_earlier_steps"  # a summary waits until all before it settle
    NO_NEW_SUMMARIES = "no_new_summaries"
    NOT_ON_REPORT = "not_on_report"  # the ticket left the report (or was never seen on it)
    ILLEGAL_HISTORY = "illegal_history"  # the stream holds an event the fold rejected


# Reasons after which the step will not change by itself: later steps may go on.
SETTLED_REASONS = frozenset(
    {
        NotDueReason.DONE,
        NotDueReason.FAILED_NOT_RETRYABLE,
        NotDueReason.ATTEMPTS_USED_UP,
        NotDueReason.NEEDS_REVIEW,
        NotDueReason.SKIPPED,
        NotDueReason.NO_NEW_SUMMARIES,
    }
)


@dataclass(frozen=True, slots=True)
class DueAction:
    step: PipelineStep
    instance_id: str  # the id to record events under: the step's id, or a summary instance id
    kind: DueKind
    because: DueBecause
    status: ActionStatus  # the effective status it is due from
    attempt: int  # the attempt number to claim in action_started
    series_attempt: int  # the same attempt counted within its retry series (for retry_at)
    # RECONCILE only: whether to run again when the effect is not found (False once the
    # series has used its attempts: then "not found" is recorded as a failure).
    run_if_not_found: bool = True
    # Summary instances only: what this instance carries, in presentation order.
    summaries: tuple[PriorSummary, ...] = ()

    @property
    def carried_action_ids(self) -> list[str] | None:
        """The sorted carried ids for a summary instance (None otherwise)."""
        if not self.step.summary:
            return None
        return sorted(s.action_id for s in self.summaries)


@dataclass(frozen=True, slots=True)
class NotDue:
    step: PipelineStep
    instance_id: str
    reason: NotDueReason
    status: ActionStatus
    until: datetime | None = None
    blocked_by: str | None = None
    detail: str = ""

    @property
    def settled(self) -> bool:
        return self.reason in SETTLED_REASONS


Verdict = DueAction | NotDue


@dataclass(frozen=True, slots=True)
class Decision:
    """The due actions in pipeline order, and why each other step is not due.

    The processor runs ``due`` in order, claiming each; when an outcome does not settle the
    action (a retryable failure, or "not found" on reconcile) it must fold the new events and
    decide again before going on, since later steps may depend on the earlier one.
    """

    ticket_id: int
    expected_version: int
    due: tuple[DueAction, ...]
    not_due: tuple[NotDue, ...]
    wake_at: datetime | None  # the earliest time a step not due now may become due

    @property
    def has_due(self) -> bool:
        return bool(self.due)

    def verdict(self, action_id: str) -> Verdict | None:
        """The verdict on a pipeline step, by its configured action id or its instance id."""
        items: tuple[Verdict, ...] = (*self.due, *self.not_due)
        for item in items:
            if action_id in (item.step.action_id, item.instance_id):
                return item
        return None
