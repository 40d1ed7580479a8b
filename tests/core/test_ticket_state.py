from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from tdxq.eventlog import RecordedEvent
from tdxq.projectors.action_state import ActionStatus, effective_status
from tdxq.projectors.ticket_state import FoldError, apply, fold, initial_state
from tdxq.projectors.transitions import IllegalTransition

from .builders import (
    REPORT,
    T0,
    TICKET,
    completed,
    failed,
    left,
    recorded,
    renewed,
    retry,
    seen,
    skipped,
    started,
)

A = "add_asset:aaaaaaaaaaaa:v1"
B = "add_lab:bbbbbbbbbbbb:v1"


def test_ticket_seen_and_left_track_row_fingerprint_and_reports() -> None:
    state = fold(TICKET, [seen("fp1"), seen("fp2", report_id=2000), left()])
    assert state.fingerprint == "fp2"
    assert state.row == {"TicketID": TICKET, "Title": "Printer"}
    assert state.on_reports == {2000}
    assert state.left_reports == {REPORT}
    assert state.version == 3
    assert state.last_seen_version == 2
    assert not state.is_on_report(REPORT)
    assert state.is_on_report(2000)
    back = apply(state, seen("fp3"))
    assert back.on_reports == {REPORT, 2000} and back.left_reports == frozenset()


def test_start_then_complete_records_summary_effects_and_position() -> None:
    events = recorded([seen(), started(A), completed(A, summary="Linked LAB-1")])
    state = fold(TICKET, events)
    action = state.action(A)
    assert action.status is ActionStatus.DONE
    assert action.attempts == 1
    assert action.summary == "Linked LAB-1"
    assert action.completed_position == events[2].position
    assert action.completed_event_id == events[2].event_id
    assert action.completed_version == 3
    assert len(action.effects) == 1
    assert state.last_position == events[2].position
    assert state.last_seen_at == events[0].recorded_at


def test_a_second_completion_is_rejected_naming_ticket_action_state_and_event() -> None:
    state = fold(TICKET, [seen(), started(A), completed(A)])
    with pytest.raises(IllegalTransition) as info:
        apply(state, completed(A))
    message = str(info.value)
    assert str(TICKET) in message and A in message
    assert "action_completed" in message and "from done" in message
    assert info.value.from_status is ActionStatus.DONE


@pytest.mark.parametrize("event", [started(A, 2), failed(A, 1), skipped(A), renewed(A, 1, T0)])
def test_a_done_action_accepts_nothing_more(event: object) -> None:
    state = fold(TICKET, [seen(), started(A), completed(A)])
    with pytest.raises(IllegalTransition):
        apply(state, event)  # type: ignore[arg-type]


def test_completion_without_start_or_of_another_attempt_is_rejected() -> None:
    with pytest.raises(IllegalTransition, match="only a running action completes"):
        fold(TICKET, [seen(), completed(A)])
    with pytest.raises(IllegalTransition, match="not the running attempt 2"):
        fold(TICKET, [seen(), started(A, 1), started(A, 2), completed(A, 1)])


def test_attempts_must_grow() -> None:
    state = fold(TICKET, [seen(), started(A), failed(A, retry_at=T0)])
    with pytest.raises(IllegalTransition, match="attempt 1 does not follow attempt 1"):
        apply(state, started(A, 1))
    assert apply(state, started(A, 2)).action(A).attempts == 2


def test_retryable_failure_with_a_time_waits_and_without_one_fails() -> None:
    waiting = fold(TICKET, [seen(), started(A), failed(A, retry_at=T0 + timedelta(minutes=1))])
    assert waiting.action(A).status is ActionStatus.WAITING
    assert waiting.action(A).next_attempt_at == T0 + timedelta(minutes=1)
    assert waiting.action(A).last_error == "TDX said 503"
    used_up = fold(TICKET, [seen(), started(A), failed(A, retry_at=None)])
    assert used_up.action(A).status is ActionStatus.FAILED
    permanent = fold(TICKET, [seen(), started(A), failed(A, retry_at=T0, retryable=False)])
    assert permanent.action(A).status is ActionStatus.FAILED
    review = fold(TICKET, [seen(), started(A), failed(A, retry_at=T0, needs_review=True)])
    assert review.action(A).status is ActionStatus.FAILED
    assert review.action(A).needs_review


def test_failed_action_does_not_start_until_a_retry_is_requested() -> None:
    state = fold(TICKET, [seen(), started(A), failed(A, retryable=False)])
    with pytest.raises(IllegalTransition, match="from failed"):
        apply(state, started(A, 2))
    after = apply(state, retry(A))
    action = after.action(A)
    assert action.status is ActionStatus.NONE
    assert action.attempts == 1 and action.attempts_in_series == 0
    assert action.retry_requests[-1].honoured
    assert after.retry_requests[-1].requested_by == "alice"
    assert apply(after, started(A, 2)).action(A).status is ActionStatus.RUNNING


def test_a_ticket_wide_retry_resets_every_failed_action_only() -> None:
    state = fold(
        TICKET,
        [
            seen(),
            started(A),
            failed(A, retryable=False),
            started(B),
            completed(B),
        ],
    )
    after = apply(state, retry(None))
    assert after.action(A).status is ActionStatus.NONE
    assert after.action(B).status is ActionStatus.DONE
    assert after.retry_requests[-1].honoured


def test_a_retry_of_an_action_that_did_not_fail_is_recorded_and_changes_nothing() -> None:
    state = fold(TICKET, [seen(), started(A), completed(A), retry(A)])
    assert state.action(A).status is ActionStatus.DONE
    assert state.action(A).retry_requests[-1].honoured is False
    assert state.retry_requests[-1].honoured is False


def test_a_skip_holds_until_the_ticket_changes() -> None:
    state = fold(TICKET, [seen("fp1"), started(A), skipped(A)])
    action = state.action(A)
    assert action.status is ActionStatus.SKIPPED
    assert action.skipped_fingerprint == "fp1"
    assert effective_status(action, T0, state.fingerprint) is ActionStatus.SKIPPED
    with pytest.raises(IllegalTransition, match="has not changed since the skip"):
        apply(state, started(A, 2))
    changed = apply(state, seen("fp2"))
    assert effective_status(changed.action(A), T0, changed.fingerprint) is ActionStatus.NONE
    assert apply(changed, started(A, 2)).action(A).status is ActionStatus.RUNNING


def test_a_skip_records_the_fingerprint_it_names() -> None:
    state = fold(TICKET, [seen("fp1"), skipped(A, fingerprint="older")])
    assert state.action(A).skipped_fingerprint == "older"
    assert effective_status(state.action(A), T0, state.fingerprint) is ActionStatus.NONE


def test_in_doubt_is_derived_from_the_lease_and_now() -> None:
    lease = T0 + timedelta(minutes=5)
    state = fold(TICKET, [seen(), started(A, lease_until=lease)])
    action = state.action(A)
    assert effective_status(action, lease - timedelta(seconds=1)) is ActionStatus.RUNNING
    assert effective_status(action, lease) is ActionStatus.IN_DOUBT
    renewed_state = apply(state, renewed(A, 1, lease + timedelta(minutes=5)))
    assert effective_status(renewed_state.action(A), lease) is ActionStatus.RUNNING


def test_an_in_doubt_action_is_taken_over_and_completed_reconciled() -> None:
    state = fold(
        TICKET,
        [seen(), started(A, 1), started(A, 2, worker="w2"), completed(A, 2, reconciled=True)],
    )
    action = state.action(A)
    assert action.status is ActionStatus.DONE
    assert action.reconciled and action.attempts == 2
    assert action.worker == "w2"


def test_lease_renewal_only_for_the_running_attempt() -> None:
    state = fold(TICKET, [seen(), started(A, 1), started(A, 2)])
    with pytest.raises(IllegalTransition, match="not the running attempt"):
        apply(state, renewed(A, 1, T0))
    with pytest.raises(IllegalTransition, match="only a running action has a lease"):
        fold(TICKET, [seen(), renewed(A, 1, T0)])


def test_imported_history_completes_an_action_that_never_started() -> None:
    state = fold(TICKET, [completed(A, 0, imported=True)])
    assert state.action(A).status is ActionStatus.DONE
    assert state.action(A).imported
    with pytest.raises(IllegalTransition, match="imported completion"):
        fold(TICKET, [seen(), started(A), completed(A, 0, imported=True)])


def test_summary_instance_carries_from_start_and_completion_details() -> None:
    inst = "summary_comment:cccccccccccc:v1#0123456789ab"
    state = fold(TICKET, [seen(), started(inst, carried=[B, A])])
    assert state.action(inst).carried_action_ids == (B, A)
    done = apply(state, completed(inst, carried=[A, B]))
    assert done.action(inst).carried_action_ids == (A, B)


def test_recorded_streams_must_be_gapless_and_of_this_ticket() -> None:
    events = recorded([seen(), started(A), completed(A)])
    with pytest.raises(FoldError, match="version 3 follows 1"):
        fold(TICKET, [events[0], events[2]])
    with pytest.raises(FoldError, match="folded into 'ticket:1'"):
        fold(1, events)
    with pytest.raises(FoldError, match="ticket 5 in the stream"):
        fold(TICKET, [seen(ticket_id=5)])


def test_a_lenient_fold_records_an_anomaly_and_keeps_going() -> None:
    events = recorded([seen(), started(A), completed(A), completed(A), started(B)])
    with pytest.raises(IllegalTransition):
        fold(TICKET, events)
    state = fold(TICKET, events, strict=False)
    assert state.version == 5
    assert state.action(A).status is ActionStatus.DONE
    assert state.action(B).status is ActionStatus.RUNNING
    assert [a.version for a in state.anomalies] == [4]
    assert state.anomalous_action_ids() == {A}


def test_a_lenient_fold_survives_an_unknown_event_type() -> None:
    good = recorded([seen()])[0]
    odd = RecordedEvent(
        position=500,
        event_id=uuid4(),
        stream=good.stream,
        version=2,
        type="from_the_future",
        data={},
        metadata={},
        recorded_at=T0,
    )
    state = fold(TICKET, [good, odd], strict=False)
    assert state.version == 2
    assert state.anomalies[0].event_type == "from_the_future"
    with pytest.raises(Exception, match="from_the_future"):
        fold(TICKET, [good, odd])


def test_domain_events_and_recorded_events_fold_alike() -> None:
    domain = [seen(), started(A), failed(A, retry_at=T0), started(A, 2), completed(A, 2)]
    a = fold(TICKET, domain)
    b = fold(TICKET, recorded(domain))
    assert a.action(A).status is b.action(A).status is ActionStatus.DONE
    assert a.version == b.version == 5
    assert initial_state(TICKET).version == 0
