"""The pure parts behind audit, retry and import-legacy: time arguments, the timeline, the
choice of retry targets, the decision explained, and the planning of a legacy import."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tdxq.actions.decision import PipelineStep
from tdxq.actions.retry_policy import RetryPolicy
from tdxq.commands.audit_why import RULES, explain, reports_to_check
from tdxq.commands.legacy_import import (
    Disposition,
    LegacyIndex,
    event_id_for,
    plan_ticket,
)
from tdxq.commands.legacy_table import LegacyRow, LegacyTableError, parse_table_name
from tdxq.commands.retries import failed_targets, refusals
from tdxq.commands.time_args import BadMoment, parse_moment, parse_window
from tdxq.eventlog.events import ActionCompleted
from tdxq.projectors.action_state import ActionStatus
from tdxq.projectors.ticket_state import fold
from tdxq.projectors.timeline import ticket_timeline

from ..core.builders import (
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

ASSET = "add_asset:aaaaaaaaaaaa:v2"
LAB = "add_lab:bbbbbbbbbbbb:v2"
SUMMARY = "summary_comment:cccccccccccc:v2"
NOW = T0 + timedelta(hours=1)


# --- time arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", NOW - timedelta(hours=24)),
        ("7d", NOW - timedelta(days=7)),
        ("90m ago", NOW - timedelta(minutes=90)),
        ("1.5h", NOW - timedelta(minutes=90)),
        ("2w", NOW - timedelta(weeks=2)),
        ("now", NOW),
        ("2025-11-19", datetime(2025, 11, 19, tzinfo=UTC)),
        ("2025-11-19T14:00:00Z", datetime(2025, 11, 19, 14, tzinfo=UTC)),
        ("2025-11-19T14:00:00+02:00", datetime(2025, 11, 19, 12, tzinfo=UTC)),
        ("2025-11-19 14:00", datetime(2025, 11, 19, 14, tzinfo=UTC)),
    ],
)
def test_moments_are_utc_and_relative_to_now(text: str, expected: datetime) -> None:
    moment = parse_moment(text, NOW)
    assert moment == expected and moment.tzinfo is UTC


@pytest.mark.parametrize("text", ["", "yesterday", "24", "h", "-3d", "2025-13-01", "3 fortnights"])
def test_bad_moments_say_what_is_expected(text: str) -> None:
    with pytest.raises(BadMoment, match="expected an ISO timestamp"):
        parse_moment(text, NOW)


def test_window_names_the_option_and_refuses_an_empty_window() -> None:
    with pytest.raises(BadMoment, match=r"^--until: "):
        parse_window("1h", "soon", NOW)
    with pytest.raises(BadMoment, match="must be later than --since"):
        parse_window("1h", "2h", NOW)
    assert parse_window(None, None, NOW) == (None, None)


# --- timeline ----------------------------------------------------------------------------------


def test_timeline_pairs_attempts_with_outcomes_and_derives_in_doubt() -> None:
    events = recorded(
        [
            seen(),
            started(ASSET, 1),
            failed(ASSET, 1, retry_at=T0 + timedelta(minutes=1)),
            started(ASSET, 2),
            completed(ASSET, 2, summary="linked"),
            started(LAB, 1, lease_until=T0 + timedelta(minutes=5)),
            renewed(LAB, 1, T0 + timedelta(minutes=10)),
            left(),
        ]
    )
    timeline = ticket_timeline(TICKET, events, NOW)
    assert [e.at.version for e in timeline.entries] == list(range(1, 9))
    assert [(s.report_id, s.left) for s in timeline.sightings] == [(REPORT, False), (REPORT, True)]
    asset, lab = timeline.actions
    assert [(a.attempt, a.outcome) for a in asset.attempts] == [(1, "waiting"), (2, "completed")]
    assert asset.attempts[0].error == "TDX said 503" and asset.status is ActionStatus.DONE
    assert [e["kind"] for e in asset.effects] == ["feed_entry"]
    (running,) = lab.attempts
    assert running.outcome == "in_flight" and running.lease_renewals == 1
    assert lab.recorded_status is ActionStatus.RUNNING
    assert lab.status is ActionStatus.IN_DOUBT, "its lease expired before NOW"
    assert timeline.on_reports == () and timeline.left_reports == (REPORT,)


def test_timeline_keeps_retry_requests_and_outcomes_without_a_start() -> None:
    events = recorded(
        [
            seen(),
            completed(SUMMARY, 0, imported=True),
            started(ASSET, 1),
            failed(ASSET, 1, retryable=False),
            retry(ASSET),
            skipped(LAB),
        ]
    )
    timeline = ticket_timeline(TICKET, events, NOW)
    histories = {h.action_id: h for h in timeline.actions}
    (imported,) = histories[SUMMARY].attempts
    assert (imported.attempt, imported.started, imported.imported) == (0, None, True)
    assert histories[ASSET].status is ActionStatus.NONE, "retry requested: due again"
    (request,) = histories[ASSET].retry_requests
    assert (request.requested_by, request.action_id) == ("alice", ASSET)
    assert histories[LAB].attempts[0].outcome == "skipped"


# --- retry targets -----------------------------------------------------------------------------


def test_failed_targets_are_permanent_failures_matching_the_filters() -> None:
    events = recorded(
        [
            seen(),
            started(ASSET, 1),
            failed(ASSET, 1, retryable=False),
            started(LAB, 1),
            failed(LAB, 1, retry_at=T0 + timedelta(hours=1)),  # waiting, not failed
            started(SUMMARY + "#abc", 1),
            failed(SUMMARY + "#abc", 1, retryable=False),
            started("add_asset:legacy000000:v2", 1, worker="seed daemon (imported)"),
            failed("add_asset:legacy000000:v2", 1, retryable=False),
        ]
    )
    state = fold(TICKET, events)
    times = {e.version: e.recorded_at for e in events}
    ids = [t.action_id for t in failed_targets(state, times)]
    assert ids == [ASSET, SUMMARY + "#abc"], "waiting and the seed's failures are left out"
    assert [t.action_id for t in failed_targets(state, times, action_id=SUMMARY)] == [
        SUMMARY + "#abc"
    ]
    assert [t.action_id for t in failed_targets(state, times, action_type="add_asset")] == [ASSET]
    since = events[3].recorded_at
    assert [t.action_id for t in failed_targets(state, times, since=since)] == [SUMMARY + "#abc"]
    (lab,) = refusals(state, LAB)
    assert lab.status == "waiting"
    (never,) = refusals(state, "comment:dddddddddddd:v1")
    assert never.status == "never run on this ticket"


# --- audit why ---------------------------------------------------------------------------------

STEPS = [
    PipelineStep(ASSET, "add_asset"),
    PipelineStep(LAB, "add_lab"),
    PipelineStep(SUMMARY, "summary_comment", summary=True),
]
POLICY = RetryPolicy(max_attempts=3)


def test_why_explains_blocked_waiting_and_new() -> None:
    events = recorded(
        [seen(), started(ASSET, 1), failed(ASSET, 1, retry_at=NOW + timedelta(minutes=5))]
    )
    state = fold(TICKET, events)
    (asset,) = explain(state, ASSET, {REPORT: STEPS}, NOW, POLICY)
    assert (asset.verdict, asset.reason) == ("not_due", "waiting")
    assert asset.until == NOW + timedelta(minutes=5) and asset.rule == RULES["waiting"]
    assert asset.facts.attempts_in_series == 1 and asset.facts.max_attempts == 3
    (lab,) = explain(state, LAB, {REPORT: STEPS}, NOW, POLICY)
    assert (lab.reason, lab.blocked_by) == ("blocked_by_earlier_step", ASSET)
    later = NOW + timedelta(minutes=10)
    (due,) = explain(state, ASSET, {REPORT: STEPS}, later, POLICY)
    assert (due.verdict, due.reason, due.kind) == ("due", "retry_time_reached", "run")


def test_why_picks_the_reports_that_concern_the_ticket() -> None:
    other = 2000
    pipelines = {REPORT: STEPS, other: STEPS[:1]}
    on_other = fold(TICKET, recorded([seen(report_id=other)]))
    assert reports_to_check(on_other, pipelines, ASSET) == [other]
    gone = fold(TICKET, recorded([seen(), left()]))
    (answer,) = explain(gone, ASSET, pipelines, NOW, POLICY)
    assert (answer.report_id, answer.reason) == (REPORT, "not_on_report")
    never = fold(TICKET, recorded([completed(LAB, 0, imported=True)]))
    assert reports_to_check(never, pipelines, LAB) == [REPORT]
    (legacy,) = explain(
        fold(TICKET, recorded([seen()])), "add_lab:seedseedseed:v2", pipelines, NOW, POLICY,
        legacy_ids={"add_lab:seedseedseed:v2": LAB},
    )  # fmt: skip
    assert legacy.asked_legacy_id and legacy.action_id == LAB and legacy.reason == "new"


# --- legacy import planning --------------------------------------------------------------------

INDEX = LegacyIndex({"add_asset:seed00000001:v2": (ASSET,)}, {ASSET: "add_asset"})


def legacy_row(
    status: str = "completed", action_id: str = "add_asset:seed00000001:v2"
) -> LegacyRow:
    return LegacyRow(
        log_id=uuid.uuid4(),
        ticket_id=TICKET,
        action_type=action_id.split(":")[0],
        action_id=action_id,
        action_hash=action_id.split(":")[1],
        status=status,
        executed_at=datetime(2025, 11, 19, 19, 11, 8, tzinfo=UTC),
        error_message="HTTP 500" if status == "failed" else None,
        metadata={"k": 1},
    )


def test_a_matched_completion_becomes_done_under_the_new_id() -> None:
    row = legacy_row()
    (outcome,) = plan_ticket(fold(TICKET, []), [row], INDEX, frozenset())
    assert outcome.disposition is Disposition.IMPORTED_AS_DONE and outcome.target_id == ASSET
    (planned,) = outcome.events
    assert planned.event_id == event_id_for(row, ActionCompleted.TYPE, ASSET)
    assert isinstance(planned.event, ActionCompleted)
    assert planned.event.imported and planned.event.attempt == 0 and planned.event.summary is None
    assert planned.event.details["legacy"]["log_id"] == str(row.log_id)
    again = plan_ticket(fold(TICKET, []), [row], INDEX, frozenset({planned.event_id}))
    assert again[0].disposition is Disposition.ALREADY_IMPORTED


def test_the_live_state_wins_over_the_seeds_history() -> None:
    row = legacy_row()
    done = fold(TICKET, recorded([seen(), started(ASSET), completed(ASSET)]))
    running = fold(TICKET, recorded([seen(), started(ASSET)]))
    failed_for_good = fold(
        TICKET, recorded([seen(), started(ASSET), failed(ASSET, retryable=False)])
    )
    assert plan_ticket(done, [row], INDEX, frozenset())[0].disposition is Disposition.ALREADY_DONE
    assert plan_ticket(running, [row], INDEX, frozenset())[0].disposition is Disposition.RUNNING
    (fixed,) = plan_ticket(failed_for_good, [row], INDEX, frozenset())
    assert fixed.disposition is Disposition.IMPORTED_AS_DONE, "the seed did complete it"


def test_history_rows_stay_under_their_legacy_ids() -> None:
    rows = [
        legacy_row("failed"),
        legacy_row("skipped", "comment:seed00000002:v1"),
        legacy_row("completed", "comment:seed00000003:v1"),
        legacy_row("weird"),
        legacy_row("skipped", "comment:seed00000002:v1"),  # a second row for one id
    ]
    outcomes = plan_ticket(fold(TICKET, []), rows, INDEX, frozenset())
    assert [o.disposition for o in outcomes] == [
        Disposition.IMPORTED_AS_HISTORY,
        Disposition.IMPORTED_AS_HISTORY,
        Disposition.IMPORTED_AS_HISTORY,
        Disposition.UNUSABLE,
        Disposition.CONFLICT,
    ]
    failure = outcomes[0]
    assert failure.target_id == "add_asset:seed00000001:v2" and failure.matched == (ASSET,)
    assert [p.event.TYPE for p in failure.events] == ["action_started", "action_failed"]
    assert failure.events[1].causation_id == failure.events[0].event_id
    assert "illegal" in outcomes[4].note


def test_table_names_are_plain_identifiers() -> None:
    assert str(parse_table_name("daemon_action_log")) == "meta.daemon_action_log"
    assert str(parse_table_name("warehouse.log")) == "warehouse.log"
    for bad in ("a.b.c", "meta.log; drop", "", "1meta.log"):
        with pytest.raises(LegacyTableError, match="plain identifiers"):
            parse_table_name(bad)
