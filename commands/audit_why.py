"""``tdxq audit why``: why an action did or did not run on a ticket (pure).

The answer is the daemon's own decision, not a re-derivation: the ticket's stream is folded and
``decide`` runs over the pipeline of each configured report the ticket is on, at ``now``; the
verdict on the asked step is printed with the rule behind its reason and the action's state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from tdxq.actions.decide import decide
from tdxq.actions.decision import DueAction, DueBecause, NotDueReason, PipelineStep
from tdxq.actions.retry_policy import RetryPolicy
from tdxq.projectors.action_state import ActionState, effective_status
from tdxq.projectors.ticket_state import TicketState

from .audit_queries import INSTANCE_SEPARATOR

RULES: Mapping[str, str] = {
    DueBecause.NEW: "never run on this ticket: due",
    DueBecause.RETRY_TIME_REACHED: "failed retryably and its next attempt time has come: due",
    DueBecause.IN_DOUBT: (
        "a worker's lease expired while it ran the action: due to reconcile (look in TDX for "
        "its effect before running again)"
    ),
    DueBecause.TICKET_CHANGED: "skipped for an older version of the ticket, which changed: due",
    DueBecause.RETRY_REQUESTED: "failed, then someone requested a retry: due with a fresh budget",
    DueBecause.NEW_SUMMARIES: "completed actions have summaries not yet posted: due",
    NotDueReason.DONE: "completed: an action runs once per ticket and configuration",
    NotDueReason.RUNNING: "another attempt holds a live lease: not due until it expires",
    NotDueReason.WAITING: "failed retryably: waits for its next attempt time (backoff)",
    NotDueReason.FAILED_NOT_RETRYABLE: (
        "failed with an error a retry cannot fix (e.g. a 4xx): settled until `tdxq retry`"
    ),
    NotDueReason.ATTEMPTS_USED_UP: (
        "failed on every attempt the [retry] policy allows: settled until `tdxq retry`"
    ),
    NotDueReason.NEEDS_REVIEW: (
        "reconciliation could not tell whether the effect happened: a person must look, "
        "then `tdxq retry`"
    ),
    NotDueReason.SKIPPED: (
        "the action's condition said no for the ticket as it is: re-evaluated when it changes"
    ),
    NotDueReason.BLOCKED_BY_EARLIER_STEP: (
        "an earlier step is running or waiting; later steps build on it, so this one waits"
    ),
    NotDueReason.AFTER_EARLIER_STEPS: (
        "a summary posts only once every earlier step has settled, so it carries everything"
    ),
    NotDueReason.NO_NEW_SUMMARIES: "no completed action has a summary that was not posted yet",
    NotDueReason.NOT_ON_REPORT: "the ticket is not on this report (left it, or never seen on it)",
    NotDueReason.ILLEGAL_HISTORY: (
        "the ticket's stream holds an event the state machine rejected: nothing runs until "
        "a person has looked"
    ),
}

Verdict = Literal["due", "not_due", "not_in_pipeline"]


@dataclass(frozen=True, slots=True)
class ActionFacts:
    """The action's folded state, as ``decide`` saw it."""

    instance_id: str
    status: str  # effective at ``now``
    recorded_status: str
    attempts: int
    attempts_in_series: int
    max_attempts: int
    last_error: str | None
    last_error_type: str | None
    retryable: bool | None
    next_attempt_at: datetime | None
    lease_expires_at: datetime | None
    needs_review: bool
    worker: str | None
    run_id: str | None
    reconciled: bool
    imported: bool
    skip_reason: str | None
    retry_requests: int


@dataclass(frozen=True, slots=True)
class WhyAnswer:
    ticket_id: int
    asked: str
    action_id: str  # the configured action id the answer is about
    report_id: int | None
    step_index: int | None
    verdict: Verdict
    reason: str | None
    rule: str
    detail: str
    kind: str | None  # due: run or reconcile
    until: datetime | None
    blocked_by: str | None
    facts: ActionFacts
    on_reports: tuple[int, ...]
    pipeline: tuple[str, ...]
    asked_legacy_id: bool  # the asked id was the seed's id of the configured ``action_id``


def explain(
    state: TicketState,
    asked: str,
    pipelines: Mapping[int, Sequence[PipelineStep]],
    now: datetime,
    policy: RetryPolicy,
    *,
    legacy_ids: Mapping[str, str] | None = None,
) -> list[WhyAnswer]:
    """One answer per configured report that concerns the ticket (see ``reports_to_check``)."""
    mapped = (legacy_ids or {}).get(asked)
    action_id = mapped or asked.split(INSTANCE_SEPARATOR, 1)[0]
    answers: list[WhyAnswer] = []
    for report_id in reports_to_check(state, pipelines, action_id):
        steps = list(pipelines[report_id])
        index = next((i for i, s in enumerate(steps) if s.action_id == action_id), None)
        base = _Answer(
            state, asked, action_id, report_id, steps, index, mapped is not None, policy, now
        )
        if index is None:
            answers.append(base.not_in_pipeline())
            continue
        decision = decide(state, steps, now, policy, report_id=report_id)
        verdict = decision.verdict(action_id)
        if verdict is None:  # decide judges every step; kept for the type checker
            answers.append(base.not_in_pipeline())
        elif isinstance(verdict, DueAction):
            answers.append(
                base.make(
                    "due",
                    verdict.because.value,
                    verdict.instance_id,
                    kind=verdict.kind.value,
                    detail=f"attempt {verdict.attempt} would be claimed",
                )
            )
        else:
            answers.append(
                base.make(
                    "not_due",
                    verdict.reason.value,
                    verdict.instance_id,
                    detail=verdict.detail,
                    until=verdict.until,
                    blocked_by=verdict.blocked_by,
                )
            )
    return answers


def reports_to_check(
    state: TicketState, pipelines: Mapping[int, Sequence[PipelineStep]], action_id: str
) -> list[int]:
    """The configured reports the ticket is on; else those it left; else every configured
    report whose pipeline has the action (each then answers "not on report")."""
    for group in (state.on_reports, state.left_reports):
        chosen = sorted(r for r in group if r in pipelines)
        if chosen:
            return chosen
    having = sorted(
        r for r, steps in pipelines.items() if any(s.action_id == action_id for s in steps)
    )
    return having or sorted(pipelines)


@dataclass(frozen=True, slots=True)
class _Answer:
    state: TicketState
    asked: str
    action_id: str
    report_id: int
    steps: Sequence[PipelineStep]
    index: int | None
    asked_legacy_id: bool
    policy: RetryPolicy
    now: datetime

    def not_in_pipeline(self) -> WhyAnswer:
        instance = self.action_id if self.asked_legacy_id else self.asked
        listed = ", ".join(s.action_id for s in self.steps) or "none"
        return self.make(
            "not_in_pipeline",
            None,
            instance,
            rule=f"not a step of report {self.report_id}'s pipeline, so it never runs there",
            detail=f"the steps are: {listed}",
        )

    def make(
        self,
        verdict: Verdict,
        reason: str | None,
        instance_id: str,
        *,
        rule: str | None = None,
        kind: str | None = None,
        detail: str = "",
        until: datetime | None = None,
        blocked_by: str | None = None,
    ) -> WhyAnswer:
        return WhyAnswer(
            ticket_id=self.state.ticket_id,
            asked=self.asked,
            action_id=self.action_id,
            report_id=self.report_id,
            step_index=self.index,
            verdict=verdict,
            reason=reason,
            rule=rule if rule is not None else RULES.get(reason or "", reason or ""),
            detail=detail,
            kind=kind,
            until=until,
            blocked_by=blocked_by,
            facts=facts_of(self.state, self.state.action(instance_id), self.now, self.policy),
            on_reports=tuple(sorted(self.state.on_reports)),
            pipeline=tuple(s.action_id for s in self.steps),
            asked_legacy_id=self.asked_legacy_id,
        )


def facts_of(
    state: TicketState, action: ActionState, now: datetime, policy: RetryPolicy
) -> ActionFacts:
    return ActionFacts(
        instance_id=action.action_id,
        status=effective_status(action, now, state.fingerprint).value,
        recorded_status=action.status.value,
        attempts=action.attempts,
        attempts_in_series=action.attempts_in_series,
        max_attempts=policy.max_attempts,
        last_error=action.last_error,
        last_error_type=action.last_error_type,
        retryable=action.retryable,
        next_attempt_at=action.next_attempt_at,
        lease_expires_at=action.lease_expires_at,
        needs_review=action.needs_review,
        worker=action.worker,
        run_id=str(action.run_id) if action.run_id else None,
        reconciled=action.reconciled,
        imported=action.imported,
        skip_reason=action.skip_reason,
        retry_requests=len(action.retry_requests),
    )
