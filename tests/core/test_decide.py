from __future__ import annotations

from datetime import timedelta

from freezegun import freeze_time

from tdxq.actions.decide import decide, triage
from tdxq.actions.decision import DueAction, DueBecause, DueKind, NotDue, NotDueReason, PipelineStep
from tdxq.actions.retry_policy import RetryPolicy
from tdxq.eventlog import DomainEvent, utc_now
from tdxq.projectors.ticket_state import TicketState, apply, fold

from . import builders as b

ASSET = PipelineStep("add_asset:aaaaaaaaaaaa:v1", "add_asset")
LAB = PipelineStep("add_lab:bbbbbbbbbbbb:v1", "add_lab")
FIND = PipelineStep("find_active_tickets:dddddddddddd:v1", "find_active_tickets")
PIPELINE = [ASSET, LAB, FIND]
POLICY = RetryPolicy(max_attempts=3)
NOW = b.T0 + timedelta(minutes=1)


def state_of(*events: DomainEvent) -> TicketState:
    return fold(b.TICKET, [b.seen(), *events])


def verdict(state: TicketState, step: PipelineStep, now: object = NOW) -> DueAction | NotDue:
    found = decide(state, PIPELINE, now, POLICY).verdict(step.action_id)  # type: ignore[arg-type]
    assert found is not None
    return found


def test_a_new_ticket_has_the_whole_pipeline_due_in_order() -> None:
    decision = decide(state_of(), PIPELINE, NOW, POLICY)
    assert [d.instance_id for d in decision.due] == [s.action_id for s in PIPELINE]
    assert all(d.kind is DueKind.RUN and d.because is DueBecause.NEW for d in decision.due)
    assert all(d.attempt == 1 and d.series_attempt == 1 for d in decision.due)
    assert decision.expected_version == 1
    assert decision.not_due == ()


def test_done_actions_are_not_due_and_say_so() -> None:
    state = state_of(b.started(ASSET.action_id), b.completed(ASSET.action_id))
    v = verdict(state, ASSET)
    assert isinstance(v, NotDue) and v.reason is NotDueReason.DONE
    assert [d.step for d in decide(state, PIPELINE, NOW, POLICY).due] == [LAB, FIND]


def test_a_waiting_step_is_due_at_its_time_and_blocks_later_steps_until_then() -> None:
    retry_time = NOW + timedelta(minutes=2)
    state = state_of(b.started(ASSET.action_id), b.failed(ASSET.action_id, retry_at=retry_time))
    decision = decide(state, PIPELINE, NOW, POLICY)
    assert decision.due == ()
    waiting = decision.verdict(ASSET.action_id)
    assert isinstance(waiting, NotDue) and waiting.reason is NotDueReason.WAITING
    assert waiting.until == retry_time
    blocked = decision.verdict(LAB.action_id)
    assert isinstance(blocked, NotDue)
    assert blocked.reason is NotDueReason.BLOCKED_BY_EARLIER_STEP
    assert blocked.blocked_by == ASSET.action_id
    assert decision.wake_at == retry_time
    later = decide(state, PIPELINE, retry_time, POLICY)
    first = later.due[0]
    assert first.because is DueBecause.RETRY_TIME_REACHED
    assert (first.attempt, first.series_attempt) == (2, 2)
    assert [d.step for d in later.due] == PIPELINE


def test_a_permanent_failure_settles_and_later_steps_go_on() -> None:
    state = state_of(b.started(ASSET.action_id), b.failed(ASSET.action_id, retryable=False))
    v = verdict(state, ASSET)
    assert isinstance(v, NotDue) and v.reason is NotDueReason.FAILED_NOT_RETRYABLE
    assert v.detail == "TDX said 503"
    assert [d.step for d in decide(state, PIPELINE, NOW, POLICY).due] == [LAB, FIND]
    review = state_of(
        b.started(ASSET.action_id), b.failed(ASSET.action_id, retry_at=NOW, needs_review=True)
    )
    v = verdict(review, ASSET)
    assert isinstance(v, NotDue) and v.reason is NotDueReason.NEEDS_REVIEW


def test_attempts_used_up_under_the_current_policy() -> None:
    a = ASSET.action_id
    events: list[DomainEvent] = []
    for attempt in (1, 2, 3):
        events += [b.started(a, attempt), b.failed(a, attempt, retry_at=NOW)]
    state = state_of(*events)
    v = verdict(state, ASSET)
    assert isinstance(v, NotDue) and v.reason is NotDueReason.ATTEMPTS_USED_UP
    # A retry request starts a fresh series: attempt 4 is the first of it.
    fresh = apply(apply(state, b.started(a, 4)), b.failed(a, 4, retryable=False))
    fresh = apply(fresh, b.retry(a))
    v = verdict(fresh, ASSET)
    assert isinstance(v, DueAction) and v.because is DueBecause.RETRY_REQUESTED
    assert (v.attempt, v.series_attempt) == (5, 1)


def test_running_under_a_live_lease_then_in_doubt_once_it_expires() -> None:
    with freeze_time(b.T0) as clock:
        lease = utc_now() + timedelta(seconds=90)
        state = state_of(b.started(ASSET.action_id, lease_until=lease))
        running = decide(state, PIPELINE, utc_now(), POLICY)
        v = running.verdict(ASSET.action_id)
        assert isinstance(v, NotDue) and v.reason is NotDueReason.RUNNING and v.until == lease
        assert running.due == () and running.wake_at == lease
        clock.tick(timedelta(seconds=90))
        doubtful = decide(state, PIPELINE, utc_now(), POLICY)
        first = doubtful.due[0]
        assert first.kind is DueKind.RECONCILE and first.because is DueBecause.IN_DOUBT
        assert first.attempt == 2 and first.run_if_not_found
        assert [d.step for d in doubtful.due] == PIPELINE


def test_in_doubt_after_the_last_attempt_reconciles_without_running_again() -> None:
    a = ASSET.action_id
    state = state_of(b.started(a, 1), b.started(a, 2), b.started(a, 3, lease_until=b.T0))
    v = verdict(state, ASSET)
    assert isinstance(v, DueAction) and v.kind is DueKind.RECONCILE
    assert not v.run_if_not_found


def test_a_skip_holds_for_the_fingerprint_and_is_re_evaluated_when_the_ticket_changes() -> None:
    state = state_of(b.started(LAB.action_id), b.skipped(LAB.action_id))
    v = verdict(state, LAB)
    assert isinstance(v, NotDue) and v.reason is NotDueReason.SKIPPED
    assert v.detail == "ticket already has a lab"
    changed = apply(state, b.seen("fp2"))
    v = verdict(changed, LAB)
    assert isinstance(v, DueAction) and v.because is DueBecause.TICKET_CHANGED
    assert v.attempt == 2 and v.series_attempt == 1


def test_a_ticket_off_the_report_has_nothing_due() -> None:
    state = apply(state_of(), b.left())
    decision = decide(state, PIPELINE, NOW, POLICY)
    assert decision.due == ()
    assert {n.reason for n in decision.not_due} == {NotDueReason.NOT_ON_REPORT}
    assert decide(state_of(), PIPELINE, NOW, POLICY, report_id=2000).due == ()
    assert decide(state_of(), PIPELINE, NOW, POLICY, report_id=b.REPORT).has_due
    never_seen = fold(b.TICKET, [])
    assert not decide(never_seen, PIPELINE, NOW, POLICY).has_due


def test_an_action_with_illegal_history_waits_for_review() -> None:
    a = ASSET.action_id
    events = b.recorded([b.seen(), b.completed(a)])
    state = fold(b.TICKET, events, strict=False)
    v = verdict(state, ASSET)
    assert isinstance(v, NotDue) and v.reason is NotDueReason.ILLEGAL_HISTORY
    lab = verdict(state, LAB)
    assert isinstance(lab, NotDue) and lab.blocked_by == a


def test_triage_keeps_only_tickets_with_work_and_the_earliest_wake() -> None:
    done = [b.started(s.action_id) for s in PIPELINE]
    quiet = fold(
        b.TICKET,
        [
            b.seen(),
            *[e for s in PIPELINE for e in (b.started(s.action_id), b.completed(s.action_id))],
        ],
    )
    fresh = fold(b.TICKET, [b.seen()])
    retry_time = NOW + timedelta(minutes=3)
    waiting = fold(b.TICKET, [b.seen(), done[0], b.failed(ASSET.action_id, retry_at=retry_time)])
    result = triage([quiet, fresh, waiting, quiet], PIPELINE, NOW, POLICY)
    assert [d.ticket_id for d in result.due] == [b.TICKET]
    assert result.due[0].due[0].step == ASSET
    assert result.idle == 3
    assert result.wake_at == retry_time
