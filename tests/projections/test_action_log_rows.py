"""daemon_action_log rows for scripted histories: every status, and agreement with the fold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import sql

from tdxq.eventlog import EventStore
from tdxq.eventlog.events import ticket_stream
from tdxq.projectors.action_log_projector import ActionLogProjector
from tdxq.projectors.action_state import ActionStatus
from tdxq.projectors.runner import catch_up
from tdxq.projectors.ticket_state import fold

from .history import (
    ACTIVE,
    ASSET,
    COMMENT,
    LAB,
    PAST,
    SUMMARY,
    append,
    completed,
    failed,
    renewed,
    retry,
    seen,
    skipped,
    started,
    typical_history,
)

PROJECTOR = ActionLogProjector()


def rows(store: EventStore, view: str = "daemon_action_log") -> dict[tuple[int, str], Any]:
    cur = store.connection.execute(
        sql.SQL("SELECT * FROM {} ORDER BY ticket_id, action_id").format(
            sql.Identifier(store.schema, view)
        )
    )
    names = [c.name for c in cur.description or []]
    return {(r[1], r[3]): dict(zip(names, r, strict=True)) for r in cur.fetchall()}


def project(store: EventStore) -> int:
    return catch_up(store.connection, PROJECTOR, store.schema)


def test_every_status_from_a_scripted_history(store: EventStore) -> None:
    retry_at = datetime.now(UTC) + timedelta(hours=1)
    p_done = append(store, 1, seen(1), started(COMMENT), renewed(COMMENT), completed(COMMENT))
    p_fail = append(store, 2, seen(2), started(ASSET), failed(ASSET, error="404 asset gone"))
    p_wait = append(store, 3, started(LAB), failed(LAB, retry_at=retry_at, error="503"))
    p_skip = append(store, 4, skipped(ACTIVE, reason="no requestor"))
    p_run = append(store, 5, started(COMMENT, lease=datetime(2099, 1, 1, tzinfo=UTC)))
    p_doubt = append(store, 6, started(COMMENT, lease=PAST))
    p_sum = append(store, 7, started(SUMMARY), completed(SUMMARY, summary="posted"))

    assert project(store) == 12  # ticket_seen is not an action event

    log = rows(store)
    done = log[(1, COMMENT)]
    assert done["status"] == "completed"
    assert done["action_type"] == "comment"
    assert done["action_hash"] == "054200481667"
    assert done["attempts"] == 1
    assert done["error_message"] is None
    assert done["lease_expires_at"] is None
    assert done["last_position"] == p_done[-1]
    assert done["metadata"]["summary"] == "done"
    assert done["metadata"]["effects"] == [
        {"kind": "feed_entry", "ticket_id": 1, "target_id": 99, "detail": {}}
    ]
    assert done["metadata"]["worker"] == "w2", "the renewal's worker carries into the outcome"
    assert done["metadata"]["reconciled"] is False
    assert done["first_attempt_at"] < done["executed_at"]

    bad = log[(2, ASSET)]
    assert (bad["status"], bad["error_message"]) == ("failed", "404 asset gone")
    assert bad["metadata"]["retryable"] is False
    assert bad["last_position"] == p_fail[-1]

    waiting = log[(3, LAB)]
    assert waiting["status"] == "waiting"
    assert waiting["error_message"] == "503"
    assert datetime.fromisoformat(waiting["metadata"]["next_attempt_at"]) == retry_at
    assert waiting["last_position"] == p_wait[-1]

    skip = log[(4, ACTIVE)]
    assert (skip["status"], skip["attempts"], skip["first_attempt_at"]) == ("skipped", 0, None)
    assert skip["metadata"]["reason"] == "no requestor"
    assert skip["log_id"] is not None and skip["last_position"] == p_skip[0]

    assert log[(5, COMMENT)]["status"] == "running"
    assert log[(5, COMMENT)]["last_position"] == p_run[0]
    assert log[(6, COMMENT)]["status"] == "running", "the table stores what was recorded"
    assert log[(6, COMMENT)]["lease_expires_at"] == PAST
    assert log[(6, COMMENT)]["last_position"] == p_doubt[0]

    summary = log[(7, SUMMARY)]
    assert summary["action_type"] == "summary_comment"
    assert summary["action_hash"] == "feedfacecafe"
    assert summary["last_position"] == p_sum[-1]

    effective = rows(store, "daemon_action_status")
    assert effective[(6, COMMENT)]["status"] == "in_doubt"
    assert effective[(5, COMMENT)]["status"] == "running"
    assert {k: v["status"] for k, v in effective.items() if k[0] != 6} == {
        k: v["status"] for k, v in log.items() if k[0] != 6
    }


def test_retry_attempts_and_row_identity(store: EventStore) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=1)
    append(store, 10, seen(10), started(ASSET), failed(ASSET, retry_at=soon))
    project(store)
    before = rows(store)[(10, ASSET)]
    assert before["status"] == "waiting"

    append(store, 10, started(ASSET, 2), failed(ASSET, 2, error="gave up"))
    project(store)
    after_fail = rows(store)[(10, ASSET)]
    assert (after_fail["status"], after_fail["attempts"]) == ("failed", 2)
    assert after_fail["log_id"] == before["log_id"], "one row per (ticket, action) for good"
    assert after_fail["first_attempt_at"] == before["first_attempt_at"]

    append(store, 10, retry(ASSET))
    project(store)
    retried = rows(store)[(10, ASSET)]
    assert retried["status"] == "waiting"
    assert retried["metadata"]["retry_requested"]["requested_by"] == "alice"
    assert retried["metadata"]["next_attempt_at"] is None
    assert retried["error_message"] == "gave up", "the last error stays visible"

    append(store, 10, started(ASSET, 3), completed(ASSET, 3))
    project(store)
    final = rows(store)[(10, ASSET)]
    assert (final["status"], final["attempts"], final["error_message"]) == ("completed", 3, None)
    assert final["first_attempt_at"] == before["first_attempt_at"]


def test_ticket_wide_retry_moves_only_failed_actions(store: EventStore) -> None:
    append(
        store, 20, started(COMMENT), failed(COMMENT), started(LAB), completed(LAB), skipped(ACTIVE)
    )
    project(store)  # the failed row exists before the retry arrives in a later batch
    append(store, 20, started(ASSET), failed(ASSET), retry(None))
    project(store)
    statuses = {k[1]: v["status"] for k, v in rows(store).items()}
    assert statuses == {COMMENT: "waiting", ASSET: "waiting", LAB: "completed", ACTIVE: "skipped"}


def test_retry_of_an_action_that_is_not_failed_changes_nothing(store: EventStore) -> None:
    append(store, 30, started(COMMENT), completed(COMMENT), retry(COMMENT))
    project(store)
    row = rows(store)[(30, COMMENT)]
    assert row["status"] == "completed"
    assert "retry_requested" not in row["metadata"]


def test_stale_events_are_ignored(store: EventStore) -> None:
    # Attempt 1's late renewal and failure after attempt 2 started must not change the row.
    positions = append(
        store,
        40,
        started(COMMENT, 1, lease=PAST),
        started(COMMENT, 2),
        renewed(COMMENT, 1),
        failed(COMMENT, 1),
        started(COMMENT, 2),
    )
    project(store)
    row = rows(store)[(40, COMMENT)]
    assert (row["status"], row["attempts"], row["last_position"]) == ("running", 2, positions[1])


def test_projection_agrees_with_the_ticket_fold(store: EventStore) -> None:
    """Statuses in the table match the write side's fold of the same streams."""
    expected_status = {
        ActionStatus.DONE: "completed",
        ActionStatus.FAILED: "failed",
        ActionStatus.WAITING: "waiting",
        ActionStatus.RUNNING: "running",
        ActionStatus.SKIPPED: "skipped",
        ActionStatus.NONE: "waiting",  # after an honoured retry request
    }
    tickets = range(100, 112)
    for ticket in tickets:
        append(store, ticket, *typical_history(ticket, ticket))
    project(store)
    log = rows(store)
    for ticket in tickets:
        state = fold(ticket, store.read_stream(ticket_stream(ticket)))
        assert not state.anomalies
        for action_id, action in state.actions.items():
            row = log[(ticket, action_id)]
            assert row["status"] == expected_status[action.status], (ticket, action_id)
            assert row["attempts"] == action.attempts
