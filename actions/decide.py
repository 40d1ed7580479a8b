"""Which actions of a pipeline are due on a ticket: a pure function of the folded state.

Rules, per step in pipeline order:

- done, skipped for the current fingerprint, or failed for good: settled, not due.
- running under a live lease: not due until the lease expires; in doubt once it has: due as
  ``reconcile``. Waiting: due once its next attempt time is reached and its series has attempts
  left. None (never run, retry requested, or skipped for an older fingerprint): due.
- Order: a step is blocked while an earlier step is running or waiting, because later actions
  build on earlier ones (add_lab uses the assets add_asset linked). An earlier step that is due
  in this pass does not block: the processor runs the due list in order.
- A summary step is due only when every earlier step is settled, so it carries everything once;
  its instance is keyed by what it carries (see summaries.py). An instance already in flight
  (running, in doubt or waiting) is finished first, with the same set.
- A ticket that is not on the report has nothing due.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from tdxq.projectors.action_state import ActionState, ActionStatus, effective_status
from tdxq.projectors.ticket_state import TicketState

from .decision import (
    Decision,
    DueAction,
    DueBecause,
    DueKind,
    NotDue,
    NotDueReason,
    PipelineStep,
    Verdict,
)
from .protocol import PriorSummary
from .retry_policy import RetryPolicy
from .summaries import instances_of, pending_summaries, prior_summaries, summary_instance_id

_S = ActionStatus


def decide(
    state: TicketState,
    pipeline: Sequence[PipelineStep],
    now: datetime,
    policy: RetryPolicy,
    *,
    report_id: int | None = None,
) -> Decision:
    """``report_id``: the report whose pipeline this is (None: the ticket is on any report)."""
    active = state.is_on_report(report_id)
    verdicts: list[Verdict] = []
    first_unsettled: str | None = None  # any earlier step not settled: a summary waits
    first_blocker: str | None = None  # an earlier step running or waiting: later steps wait
    for index, step in enumerate(pipeline):
        if step.summary:
            sources = [s.action_id for s in pipeline[:index] if not s.summary]
            verdict = _summary_verdict(state, step, sources, first_unsettled, now, policy)
        else:
            verdict = _assess(state, step, step.action_id, now, policy)
        verdict = _in_order(verdict, active, first_blocker)
        verdicts.append(verdict)
        if isinstance(verdict, DueAction) or not verdict.settled:
            first_unsettled = first_unsettled or step.action_id
        if isinstance(verdict, NotDue) and not verdict.settled:
            first_blocker = first_blocker or step.action_id
    due = tuple(v for v in verdicts if isinstance(v, DueAction))
    not_due = tuple(v for v in verdicts if isinstance(v, NotDue))
    return Decision(
        ticket_id=state.ticket_id,
        expected_version=state.version,
        due=due,
        not_due=not_due,
        wake_at=_wake_at(not_due) if active else None,
    )


@dataclass(frozen=True, slots=True)
class Triage:
    """Many tickets sorted in memory: the decisions with work, and when to look again."""

    due: tuple[Decision, ...]
    idle: int
    wake_at: datetime | None


def triage(
    states: Iterable[TicketState],
    pipeline: Sequence[PipelineStep],
    now: datetime,
    policy: RetryPolicy,
    *,
    report_id: int | None = None,
) -> Triage:
    """Decide for every ticket at once (states read with one query), keeping those with work."""
    due: list[Decision] = []
    idle = 0
    wake: datetime | None = None
    for state in states:
        decision = decide(state, pipeline, now, policy, report_id=report_id)
        if decision.has_due:
            due.append(decision)
        else:
            idle += 1
        if decision.wake_at is not None and (wake is None or decision.wake_at < wake):
            wake = decision.wake_at
    return Triage(due=tuple(due), idle=idle, wake_at=wake)


def _in_order(verdict: Verdict, active: bool, first_blocker: str | None) -> Verdict:
    if not isinstance(verdict, DueAction):
        return verdict
    if not active:
        return _not_due(
            verdict, NotDueReason.NOT_ON_REPORT, detail="the ticket is not on the report"
        )
    if first_blocker is not None:
        return _not_due(
            verdict,
            NotDueReason.BLOCKED_BY_EARLIER_STEP,
            blocked_by=first_blocker,
            detail=f"waits for {first_blocker}",
        )
    return verdict


def _not_due(
    due: DueAction, reason: NotDueReason, *, blocked_by: str | None = None, detail: str = ""
) -> NotDue:
    return NotDue(
        step=due.step,
        instance_id=due.instance_id,
        reason=reason,
        status=due.status,
        blocked_by=blocked_by,
        detail=detail,
    )


def _assess(
    state: TicketState,
    step: PipelineStep,
    instance_id: str,
    now: datetime,
    policy: RetryPolicy,
    summaries: tuple[PriorSummary, ...] = (),
) -> Verdict:
    """The verdict on one action id by its own state alone (order is applied by the caller)."""
    action = state.action(instance_id)
    status = effective_status(action, now, state.fingerprint)

    def not_due(reason: NotDueReason, until: datetime | None = None, detail: str = "") -> NotDue:
        return NotDue(
            step=step,
            instance_id=instance_id,
            reason=reason,
            status=status,
            until=until,
            detail=detail,
        )

    def due(kind: DueKind, because: DueBecause, run_if_not_found: bool = True) -> DueAction:
        attempt = action.attempts + 1
        return DueAction(
            step=step,
            instance_id=instance_id,
            kind=kind,
            because=because,
            status=status,
            attempt=attempt,
            series_attempt=attempt - action.series_base,
            run_if_not_found=run_if_not_found,
            summaries=summaries,
        )

    if instance_id in state.anomalous_action_ids():
        return not_due(NotDueReason.ILLEGAL_HISTORY, detail="an event of this action was rejected")
    if status is _S.DONE:
        how = "reconciled" if action.reconciled else "imported" if action.imported else ""
        return not_due(NotDueReason.DONE, detail=how)
    if status is _S.FAILED:
        return not_due(_failure_reason(action), detail=action.last_error or "")
    if status is _S.SKIPPED:
        return not_due(NotDueReason.SKIPPED, detail=action.skip_reason or "")
    if status is _S.RUNNING:
        return not_due(
            NotDueReason.RUNNING, until=action.lease_expires_at, detail=f"worker {action.worker}"
        )
    used_up = action.attempts_in_series >= policy.max_attempts
    if status is _S.IN_DOUBT:
        return due(DueKind.RECONCILE, DueBecause.IN_DOUBT, run_if_not_found=not used_up)
    if status is _S.WAITING:
        if used_up:
            return not_due(NotDueReason.ATTEMPTS_USED_UP, detail=action.last_error or "")
        if action.next_attempt_at is not None and now < action.next_attempt_at:
            return not_due(
                NotDueReason.WAITING, until=action.next_attempt_at, detail=action.last_error or ""
            )
        return due(DueKind.RUN, DueBecause.RETRY_TIME_REACHED)
    return due(DueKind.RUN, _why_new(action, summaries))


def _failure_reason(action: ActionState) -> NotDueReason:
    if action.needs_review:
        return NotDueReason.NEEDS_REVIEW
    if action.retryable is False:
        return NotDueReason.FAILED_NOT_RETRYABLE
    return NotDueReason.ATTEMPTS_USED_UP


def _why_new(action: ActionState, summaries: tuple[PriorSummary, ...]) -> DueBecause:
    if action.status is _S.SKIPPED:
        return DueBecause.TICKET_CHANGED
    if action.retry_requests and action.retry_requests[-1].honoured:
        return DueBecause.RETRY_REQUESTED
    return DueBecause.NEW_SUMMARIES if summaries else DueBecause.NEW


def _summary_verdict(
    state: TicketState,
    step: PipelineStep,
    sources: Sequence[str],
    first_unsettled: str | None,
    now: datetime,
    policy: RetryPolicy,
) -> Verdict:
    in_flight = [
        a for a in instances_of(state, step.action_id) if a.status in (_S.RUNNING, _S.WAITING)
    ]
    if in_flight:
        # Finish the instance already started, with exactly the set it set out to carry.
        current = in_flight[-1]
        carried = prior_summaries(state, current.carried_action_ids or ())
        verdict = _assess(state, step, current.action_id, now, policy, tuple(carried))
        if isinstance(verdict, DueAction) or not verdict.settled:
            return verdict
    last_instance = instances_of(state, step.action_id)[-1:] or [ActionState(step.action_id)]
    if first_unsettled is not None:
        return NotDue(
            step=step,
            instance_id=step.action_id,
            reason=NotDueReason.AFTER_EARLIER_STEPS,
            status=last_instance[0].status,
            blocked_by=first_unsettled,
            detail=f"posts after {first_unsettled} settles",
        )
    pending = pending_summaries(state, step.action_id, sources)
    if not pending:
        return NotDue(
            step=step,
            instance_id=last_instance[0].action_id,
            reason=NotDueReason.NO_NEW_SUMMARIES,
            status=last_instance[0].status,
        )
    instance_id = summary_instance_id(step.action_id, (s.action_id for s in pending))
    return _assess(state, step, instance_id, now, policy, tuple(pending))


def _wake_at(not_due: Iterable[NotDue]) -> datetime | None:
    times = [
        n.until
        for n in not_due
        if n.until is not None and n.reason in (NotDueReason.RUNNING, NotDueReason.WAITING)
    ]
    return min(times, default=None)
