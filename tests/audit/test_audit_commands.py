"""`tdxq audit …` and `tdxq stats` on a database populated by the seed's pipeline (report 1344),
human and --json output, checked against the event log and the sandbox's write log."""

from __future__ import annotations

import json
from collections import Counter

from tdxq.eventlog.events import ticket_stream

from ..conftest import Schema
from .conftest import REPORT, Populated, invoke, written_ticket


def _json(populated: Populated, *args: str) -> dict:  # type: ignore[type-arg]
    result = invoke(populated.schema, *args, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def _action_ids(populated: Populated) -> list[str]:
    return [a.action_id for a in populated.world.config.pipeline_for(REPORT)]


def test_audit_ticket_shows_every_event_attempt_run_and_effect(populated: Populated) -> None:
    ticket = populated.world.app.settings.sample_ticket_id
    data = _json(populated, "audit", "ticket", str(ticket))
    stream = populated.world.store().read_stream(ticket_stream(ticket))
    run_id = str(populated.first.run_id)

    assert [e["at"]["position"] for e in data["entries"]] == [e.position for e in stream]
    assert data["on_reports"] == [REPORT]
    (seen,) = data["sightings"]
    assert (seen["report_id"], seen["left"]) == (REPORT, False)
    assert seen["fingerprint"] == stream[0].data["fingerprint"]

    add_asset, add_lab, find_active, summary = _action_ids(populated)
    histories = {a["action_id"].split("#")[0]: a for a in data["actions"]}
    assert set(histories) == {add_asset, add_lab, find_active, summary}
    for history in histories.values():
        (attempt,) = history["attempts"]
        assert attempt["attempt"] == 1
        assert attempt["run_id"] == run_id and attempt["started"]["run_id"] == run_id
        assert attempt["worker"] and attempt["finished"]["run_id"] == run_id
        assert attempt["outcome"] in ("completed", "skipped")
    summary_attempt = histories[summary]["attempts"][0]
    assert summary_attempt["outcome"] == "completed"
    posts = [
        w
        for w in populated.world.writes()
        if w.get("effect") and str(w["path"]).endswith("/feed") and written_ticket(w) == ticket
    ]
    assert len(posts) == 1
    assert [e["kind"] for e in summary_attempt["effects"]] == ["feed_entry"]

    human = invoke(populated.schema, "audit", "ticket", str(ticket))
    assert human.exit_code == 0, human.output
    for text in ("timeline", "attempts", "ticket_seen", add_asset, run_id[:8], "feed_entry"):
        assert text in human.stdout


def test_audit_ticket_unknown_is_a_clear_error(populated: Populated) -> None:
    result = invoke(populated.schema, "audit", "ticket", "1")
    assert result.exit_code == 1
    assert "no events for ticket 1" in result.output


def test_audit_action_lists_every_ticket_and_counts(populated: Populated) -> None:
    add_asset, _, _, summary = _action_ids(populated)
    on_report = populated.first.figures()["tickets_on_report"]

    data = _json(populated, "audit", "action", add_asset)
    assert data["ticket_count"] == on_report == len(data["tickets"])
    statuses = Counter(t["status"] for t in data["tickets"])
    assert dict(statuses) == data["counts"]
    assert set(statuses) <= {"done", "skipped"} and statuses["done"] > 0
    linked = {
        written_ticket(w)
        for w in populated.world.writes()
        if w.get("effect") and "/assets/" in str(w["path"])
    }
    assert linked == {t["ticket_id"] for t in data["tickets"] if t["status"] == "done"}

    summaries = _json(populated, "audit", "action", summary)
    assert summaries["counts"] == {"done": on_report}
    assert all(t["instance_id"].startswith(summary + "#") for t in summaries["tickets"])

    human = invoke(populated.schema, "audit", "action", add_asset)
    assert human.exit_code == 0
    assert f"{on_report} ticket(s)" in human.stdout and f"done {statuses['done']}" in human.stdout

    missing = invoke(populated.schema, "audit", "action", "add_asset:000000000000:v9")
    assert missing.exit_code == 1 and "no ticket has an event" in missing.output


def test_audit_run_shows_what_one_run_saw_and_did(populated: Populated) -> None:
    first = populated.first
    data = _json(populated, "audit", "run", str(first.run_id))
    assert data["started"]["report_id"] == REPORT and data["started"]["mode"] == "once"
    assert data["finished"]["stats"]["completed"] == first.stats["completed"]
    assert all(e["metadata"]["correlation_id"] == str(first.run_id) for e in data["events"])
    assert len(data["tickets_seen"]) == first.figures()["tickets_on_report"]
    assert data["counts"]["action_started"] == first.stats["started"]
    assert data["counts"]["run_started"] == data["counts"]["run_finished"] == 1
    started = sum(counts.get("started", 0) for counts in data["outcomes"].values())
    assert started == first.stats["started"]

    quiet = _json(populated, "audit", "run", str(populated.second.run_id))
    assert "action_started" not in quiet["counts"], "the second run only polled"
    assert quiet["tickets_seen"] == []

    human = invoke(populated.schema, "audit", "run", str(first.run_id))
    assert human.exit_code == 0
    assert "figures" in human.stdout and "action events by type" in human.stdout

    bad = invoke(populated.schema, "audit", "run", "not-a-uuid")
    assert bad.exit_code == 2 and "expected a UUID" in bad.output
    unknown = invoke(populated.schema, "audit", "run", "00000000-0000-0000-0000-000000000000")
    assert unknown.exit_code == 1 and "no events of run" in unknown.output


def test_audit_events_filters_by_type_stream_and_time(populated: Populated) -> None:
    data = _json(populated, "audit", "events", "--type", "ticket_seen", "--limit", "3")
    assert data["count"] == 3 and {e["type"] for e in data["events"]} == {"ticket_seen"}
    positions = [e["position"] for e in data["events"]]
    assert positions == sorted(positions)

    both = _json(populated, "audit", "events", "--type", "run_started", "--type", "run_finished")
    assert Counter(e["type"] for e in both["events"]) == {"run_started": 2, "run_finished": 2}

    ticket = populated.world.app.settings.sample_ticket_id
    stream = _json(populated, "audit", "events", "--stream", f"ticket:{ticket}")
    assert {e["stream"] for e in stream["events"]} == {f"ticket:{ticket}"}

    recent = _json(populated, "audit", "events", "--since", "1h", "--limit", "100000")
    head = populated.world.store().head_position()
    assert recent["count"] == head, "everything was recorded within the hour"
    none = _json(populated, "audit", "events", "--until", "2000-01-01")
    assert none["count"] == 0

    human = invoke(populated.schema, "audit", "events", "--type", "report_polled")
    assert human.exit_code == 0 and "report_polled" in human.stdout

    for args, expected in (
        (["--since", "yesterday-ish"], "--since: expected an ISO timestamp"),
        (["--until", "12q"], "--until: expected"),
        (["--since", "1h", "--until", "2h"], "must be later than --since"),
    ):
        result = invoke(populated.schema, "audit", "events", *args)
        assert result.exit_code == 2, args
        assert expected in result.output


def test_audit_why_gives_the_decision_and_the_state(populated: Populated) -> None:
    ticket = populated.world.app.settings.sample_ticket_id
    config = str(populated.config_path)
    add_asset, _, _, summary = _action_ids(populated)

    data = _json(populated, "audit", "why", str(ticket), add_asset, "--config", config)
    (answer,) = data["answers"]
    assert answer["report_id"] == REPORT and answer["verdict"] == "not_due"
    assert answer["reason"] == "done" and "once per ticket" in answer["rule"]
    assert answer["facts"]["status"] == "done" and answer["facts"]["attempts"] == 1
    assert answer["facts"]["run_id"] == str(populated.first.run_id)

    (summary_answer,) = _json(populated, "audit", "why", str(ticket), summary, "--config", config)[
        "answers"
    ]
    assert summary_answer["reason"] == "no_new_summaries"
    assert summary_answer["facts"]["instance_id"].startswith(summary + "#")

    legacy_id = populated.world.config.pipeline_for(REPORT)[0].legacy_id
    assert legacy_id is not None
    (legacy,) = _json(populated, "audit", "why", str(ticket), legacy_id, "--config", config)[
        "answers"
    ]
    assert legacy["asked_legacy_id"] is True and legacy["action_id"] == add_asset

    (stranger,) = _json(
        populated, "audit", "why", str(ticket), "comment:123456789012:v1", "--config", config
    )["answers"]
    assert stranger["verdict"] == "not_in_pipeline" and add_asset in stranger["detail"]

    human = invoke(populated.schema, "audit", "why", str(ticket), add_asset, "--config", config)
    assert human.exit_code == 0, human.output
    assert "NOT DUE" in human.stdout and "rule:" in human.stdout and "attempts" in human.stdout

    never = invoke(populated.schema, "audit", "why", "1", add_asset, "--config", config)
    assert never.exit_code == 1 and "never seen" in never.output


def test_stats_counts_by_type_and_status_and_lists_runs(populated: Populated) -> None:
    data = _json(populated, "stats")
    counted = Counter()  # type: Counter[tuple[str, str]]
    for row in data["actions"]:
        counted[(row["action_type"], row["status"])] = row["count"]
    store = populated.world.store()
    expected: Counter[tuple[str, str]] = Counter()
    for event in store.read_all(0, 100_000, types=["action_completed", "action_skipped"]):
        status = "completed" if event.type == "action_completed" else "skipped"
        expected[(event.data["action_type"], status)] += 1
    assert counted == expected
    assert sum(data["totals"].values()) == sum(expected.values())
    runs = [r["run_id"] for r in data["runs"]]
    assert runs == [str(populated.second.run_id), str(populated.first.run_id)], "newest first"
    assert data["runs"][1]["stats"]["started"] == populated.first.stats["started"]

    human = invoke(populated.schema, "stats", "--runs", "1")
    assert human.exit_code == 0
    assert "actions by type and status" in human.stdout and "last 1 run(s)" in human.stdout
    assert str(populated.second.run_id)[:8] in human.stdout


def test_a_schema_without_tdxq_tables_is_a_clear_error(database_url: str) -> None:
    empty = Schema(database_url, "no_tdxq_here")
    for args in (["audit", "events"], ["stats"], ["retry", "--failed"], ["audit", "ticket", "5"]):
        result = invoke(empty, *args)
        assert result.exit_code == 2, args
        assert "run `tdxq migrate` first" in result.output
