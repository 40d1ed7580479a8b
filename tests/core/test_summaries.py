from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from tdxq.actions.decide import decide
from tdxq.actions.decision import DueAction, DueBecause, NotDue, NotDueReason, PipelineStep
from tdxq.actions.retry_policy import RetryPolicy, retry_at
from tdxq.actions.summaries import (
    carried_by,
    instance_base,
    pending_summaries,
    summary_instance_id,
)
from tdxq.eventlog import DomainEvent
from tdxq.projectors.ticket_state import TicketState, apply, fold

from . import builders as b

ASSET = PipelineStep("add_asset:aaaaaaaaaaaa:v1", "add_asset")
LAB = PipelineStep("add_lab:bbbbbbbbbbbb:v1", "add_lab")
FIND = PipelineStep("find_active_tickets:dddddddddddd:v1", "find_active_tickets")
SUMMARY = PipelineStep("summary_comment:eeeeeeeeeeee:v1", "summary_comment", summary=True)
PIPELINE = [ASSET, LAB, FIND, SUMMARY]
POLICY = RetryPolicy(max_attempts=3)
NOW = b.T0 + timedelta(minutes=1)

SUMMARIES = {ASSET.action_id: "Linked LAB-PC-1", LAB.action_id: "Linked lab Smith"}


def done(step: PipelineStep, summary: str | None = None) -> list[DomainEvent]:
    return [b.started(step.action_id), b.completed(step.action_id, summary=summary)]


def settled_ticket() -> TicketState:
    return fold(
        b.TICKET,
        [
            b.seen(),
            *done(ASSET, SUMMARIES[ASSET.action_id]),
            *done(LAB, SUMMARIES[LAB.action_id]),
            *done(FIND),
        ],
    )


def summary_verdict(state: TicketState, now: datetime = NOW) -> DueAction | NotDue:
    found = decide(state, PIPELINE, now, POLICY).verdict(SUMMARY.action_id)
    assert found is not None
    return found


def test_instance_ids_depend_only_on_the_carried_set() -> None:
    one = summary_instance_id(SUMMARY.action_id, [LAB.action_id, ASSET.action_id])
    two = summary_instance_id(SUMMARY.action_id, [ASSET.action_id, LAB.action_id, LAB.action_id])
    assert one == two
    assert one.startswith(SUMMARY.action_id + "#") and len(one.split("#")[1]) == 12
    assert one != summary_instance_id(SUMMARY.action_id, [ASSET.action_id])
    assert instance_base(one) == SUMMARY.action_id
    assert instance_base(ASSET.action_id) == ASSET.action_id


def test_the_summary_waits_until_every_earlier_step_settles() -> None:
    v = summary_verdict(fold(b.TICKET, [b.seen()]))
    assert isinstance(v, NotDue) and v.reason is NotDueReason.AFTER_EARLIER_STEPS
    assert v.blocked_by == ASSET.action_id
    waiting = fold(
        b.TICKET,
        [
            b.seen(),
            *done(ASSET, "x"),
            *done(LAB, "y"),
            b.started(FIND.action_id),
            b.failed(FIND.action_id, retry_at=NOW + timedelta(hours=1)),
        ],
    )
    v = summary_verdict(waiting)
    assert isinstance(v, NotDue) and v.blocked_by == FIND.action_id


def test_once_settled_it_is_due_carrying_every_new_summary_in_pipeline_order() -> None:
    v = summary_verdict(settled_ticket())
    assert isinstance(v, DueAction)
    assert v.because is DueBecause.NEW_SUMMARIES
    assert v.instance_id == summary_instance_id(SUMMARY.action_id, SUMMARIES)
    assert [s.summary for s in v.summaries] == ["Linked LAB-PC-1", "Linked lab Smith"]
    assert v.carried_action_ids == sorted(SUMMARIES)
    assert v.attempt == 1
    by_instance = decide(settled_ticket(), PIPELINE, NOW, POLICY).verdict(v.instance_id)
    assert by_instance == v


def test_nothing_to_say_means_nothing_due() -> None:
    quiet = fold(b.TICKET, [b.seen(), *done(ASSET), *done(LAB, "  "), *done(FIND)])
    v = summary_verdict(quiet)
    assert isinstance(v, NotDue) and v.reason is NotDueReason.NO_NEW_SUMMARIES
    assert v.settled


def test_pending_summaries_skip_what_was_carried_and_other_sources() -> None:
    state = settled_ticket()
    assert [s.action_id for s in pending_summaries(state, SUMMARY.action_id)] == [
        ASSET.action_id,
        LAB.action_id,
    ]
    only_lab = pending_summaries(state, SUMMARY.action_id, [LAB.action_id])
    assert [s.action_id for s in only_lab] == [LAB.action_id]
    instance = summary_instance_id(SUMMARY.action_id, [ASSET.action_id])
    state = fold(
        b.TICKET,
        [
            b.seen(),
            *done(ASSET, "a"),
            *done(LAB, "b"),
            b.started(instance, carried=[ASSET.action_id]),
            b.completed(instance, summary="posted", carried=[ASSET.action_id]),
        ],
    )
    assert carried_by(state, SUMMARY.action_id) == {ASSET.action_id}
    assert [s.action_id for s in pending_summaries(state, SUMMARY.action_id)] == [LAB.action_id]
    # Another summary action (another configuration) has carried nothing yet.
    assert len(pending_summaries(state, "summary_comment:ffffffffffff:v1")) == 2


# --- the whole story, as the processor would drive it -------------------------------------------

Outcome = Callable[[DueAction, datetime], list[DomainEvent]]


def succeed(due: DueAction, now: datetime) -> list[DomainEvent]:
    return [
        b.completed(
            due.instance_id,
            due.attempt,
            summary=SUMMARIES.get(due.instance_id),
            carried=due.carried_action_ids,
        )
    ]


def fail_retryably(due: DueAction, now: datetime) -> list[DomainEvent]:
    when = retry_at(POLICY, now, due.series_attempt, due.instance_id, retryable=True)
    return [b.failed(due.instance_id, due.attempt, retry_at=when)]


def run_pass(state: TicketState, now: datetime, outcome_for: dict[str, Outcome]) -> TicketState:
    """Claim and finish due actions one at a time, re-deciding after each, as the processor does."""
    for _ in range(50):
        decision = decide(state, PIPELINE, now, POLICY)
        if not decision.due:
            return state
        due = decision.due[0]
        state = apply(
            state,
            b.started(
                due.instance_id,
                due.attempt,
                lease_until=now + timedelta(minutes=5),
                carried=due.carried_action_ids,
            ),
        )
        outcome = outcome_for.get(due.step.action_id, succeed)
        for event in outcome(due, now):
            state = apply(state, event)
    raise AssertionError("the pass did not come to rest")


def summary_posts(state: TicketState) -> int:
    return sum(
        1
        for a_id, a in state.actions.items()
        if a_id.startswith(SUMMARY.action_id + "#") and a.status.value == "done"
    )


def test_a_failed_summary_post_is_posted_once_on_the_next_pass_and_never_again() -> None:
    state = fold(b.TICKET, [b.seen()])
    state = run_pass(state, NOW, {SUMMARY.action_id: fail_retryably})
    assert summary_posts(state) == 0
    failed_instance = summary_instance_id(SUMMARY.action_id, SUMMARIES)
    retry_time = state.action(failed_instance).next_attempt_at
    assert retry_time is not None

    early = decide(state, PIPELINE, NOW, POLICY)
    assert early.due == () and early.wake_at == retry_time

    state = run_pass(state, retry_time, {})
    assert summary_posts(state) == 1
    assert state.action(failed_instance).attempts == 2

    for later in (retry_time + timedelta(minutes=5), retry_time + timedelta(days=3)):
        assert decide(state, PIPELINE, later, POLICY).due == ()
    quiet_poll = apply(state, b.seen())  # the same fingerprint seen again
    assert decide(quiet_poll, PIPELINE, retry_time, POLICY).due == ()


def test_a_new_summary_later_gets_its_own_post_carrying_only_it() -> None:
    state = fold(b.TICKET, [b.seen()])
    state = run_pass(state, NOW, {LAB.action_id: lambda due, now: [b.skipped(due.instance_id)]})
    first = summary_instance_id(SUMMARY.action_id, [ASSET.action_id])
    assert state.action(first).status.value == "done"

    changed = apply(state, b.seen("fp2"))
    state = run_pass(changed, NOW, {})
    second = summary_instance_id(SUMMARY.action_id, [LAB.action_id])
    assert state.action(second).status.value == "done"
    assert state.action(second).carried_action_ids == (LAB.action_id,)
    assert summary_posts(state) == 2


def test_an_instance_in_flight_keeps_its_set_when_new_summaries_appear() -> None:
    state = fold(b.TICKET, [b.seen()])
    state = run_pass(
        state,
        NOW,
        {
            LAB.action_id: lambda due, now: [b.skipped(due.instance_id)],
            SUMMARY.action_id: fail_retryably,
        },
    )
    in_flight = summary_instance_id(SUMMARY.action_id, [ASSET.action_id])
    retry_time = state.action(in_flight).next_attempt_at
    assert retry_time is not None
    # The ticket changes; add_lab now runs and has a summary before the summary retries.
    state = run_pass(apply(state, b.seen("fp2")), NOW, {})
    assert state.action(LAB.action_id).status.value == "done"
    v = summary_verdict(state, retry_time)
    assert isinstance(v, DueAction) and v.instance_id == in_flight
    assert [s.action_id for s in v.summaries] == [ASSET.action_id]
    state = run_pass(state, retry_time, {})
    assert summary_posts(state) == 2  # the old set once, then the new one once
    assert decide(state, PIPELINE, retry_time, POLICY).due == ()


def test_a_summary_that_failed_for_good_stays_failed_until_a_retry() -> None:
    state = run_pass(
        fold(b.TICKET, [b.seen()]),
        NOW,
        {
            SUMMARY.action_id: lambda due, now: [
                b.failed(due.instance_id, due.attempt, retryable=False)
            ],
        },
    )
    instance = summary_instance_id(SUMMARY.action_id, SUMMARIES)
    v = summary_verdict(state)
    assert isinstance(v, NotDue) and v.reason is NotDueReason.FAILED_NOT_RETRYABLE
    assert v.instance_id == instance
    state = apply(state, b.retry(instance))
    v = summary_verdict(state)
    assert isinstance(v, DueAction) and v.instance_id == instance
    assert v.because is DueBecause.RETRY_REQUESTED and v.attempt == 2
    assert [s.action_id for s in v.summaries] == [ASSET.action_id, LAB.action_id]
