"""The main job end to end: sandbox over an in-process transport, a real Postgres."""

from __future__ import annotations

import html
import uuid
from collections import Counter

import pytest
from typer.testing import CliRunner

from tdxq.commands.report_rows import MissingTicketIdColumn
from tdxq.eventlog.events import ticket_stream
from tdxq.tdx.sandbox import FaultConfig

from .world import World, make_app, seed_config_text

REPORT = 1344


def feed_posts(world: World) -> list[dict[str, object]]:
    return [w for w in world.writes() if w["method"] == "POST" and str(w["path"]).endswith("/feed")]


def test_first_run_acts_second_run_only_reads_the_report(world: World) -> None:
    first = world.run(REPORT)
    writes = world.writes()
    assert writes, "the seed's pipeline links computers and posts summaries"
    kinds = Counter(
        "feed"
        if str(w["path"]).endswith("/feed")
        else "asset"
        if "/assets/" in str(w["path"])
        else "ci"
        if "/configurationItems/" in str(w["path"])
        else "other"
        for w in writes
    )
    assert kinds["other"] == 0, writes
    posts = feed_posts(world)
    posted_tickets = [int(str(p["path"]).split("/")[-2]) for p in posts]
    assert len(posted_tickets) == len(set(posted_tickets)), "one summary per ticket"
    summaries = [
        e
        for e in world.store().read_all(0, 100_000, types=["action_completed"])
        if e.data["action_type"] == "summary_comment"
    ]
    assert sorted(posted_tickets) == sorted(int(e.stream.split(":")[1]) for e in summaries)
    assert first.stats["completed"] >= len(summaries)
    for post in posts:
        body = post["body"]
        assert isinstance(body, dict)
        assert body.get("IsPrivate") is True and body.get("IsRichHtml") is True

    calls_before = world.calls()
    writes_before = len(world.writes())
    second = world.run(REPORT)
    calls_after = world.calls()
    new_calls = {k: calls_after[k] - calls_before.get(k, 0) for k in calls_after}
    # A new process logs in once; after that the report is the only TDX call.
    new_calls = {k: v for k, v in new_calls.items() if v and not k.startswith("POST auth")}
    assert len(world.writes()) == writes_before, "second run: zero TDX writes"
    assert list(new_calls.values()) == [1] and "report" in next(iter(new_calls)).lower(), new_calls
    assert second.stats.get("started", 0) == 0


def test_changing_one_actions_options_reruns_only_that_action(world: World) -> None:
    world.run(REPORT)
    before = len(world.writes())
    world.config_text = world.config_text.replace(
        'comment_prefix = "🤖 Automated Actions Summary"', 'comment_prefix = "Summary v2"'
    )
    report = world.run(REPORT)
    new = world.writes()[before:]
    assert new and all(str(w["path"]).endswith("/feed") for w in new)
    store = world.store()
    started_types = {
        e.data["action_type"]
        for e in store.read_all(0, 100_000, types=["action_started"])
        if e.metadata.get("correlation_id") == str(report.run_id)
    }
    assert started_types == {"summary_comment"}
    assert all("Summary v2" in str(w["body"]["Comments"]) for w in new)  # type: ignore[index]


def test_hostile_title_reaches_the_comment_escaped(schema, small_tenant) -> None:  # type: ignore[no-untyped-def]
    tenant = small_tenant.model_copy(deep=True)
    report = next(r for r in tenant.reports if r.id == REPORT)
    assert report
    victim = next(t for t in tenant.tickets if t.id == tenant.settings.sample_ticket_id)
    victim.title = '<script>alert("x")</script> & <b>bold</b>'
    victim.description = "My laptop\x00 broke " + victim.description
    app = make_app(tenant)
    world = World(app, schema, seed_config_text(app))
    run = world.run(REPORT)
    assert run.stats.get("failed", 0) == 0
    posts = [p for p in feed_posts(world) if f"/{victim.id}/feed" in str(p["path"])]
    assert posts, "the sample ticket gets its summary"
    comments = "".join(str(p["body"]["Comments"]) for p in feed_posts(world))  # type: ignore[index]
    assert "<script>" not in comments
    seen = world.store().read_stream(ticket_stream(victim.id))[0]
    assert seen.data["row"]["Title"] == victim.title
    if "<script>" in html.unescape(comments):
        assert "&lt;script&gt;" in comments


def test_summary_post_hit_by_a_fault_is_posted_exactly_once(schema, small_tenant) -> None:  # type: ignore[no-untyped-def]
    app = make_app(small_tenant.model_copy(deep=True))
    text = seed_config_text(app, retry_delay_s=0.001)
    world = World(app, schema, text)
    app.set_faults(FaultConfig(seed=3, error_rate=1.0, applies_to="writes"))
    first = world.run(REPORT)
    assert first.stats.get("waiting", 0) > 0
    assert not [w for w in world.writes() if w.get("effect")], "500s applied nothing"
    app.set_faults(FaultConfig())
    for _ in range(6):  # passes until everything settles (backoff is a millisecond)
        world.run(REPORT)
    posts = [w for w in feed_posts(world) if w.get("effect")]
    tickets = [str(p["path"]) for p in posts]
    assert tickets and len(tickets) == len(set(tickets)), "exactly one summary per ticket"


def test_effect_then_fail_is_reconciled_not_repeated(schema, small_tenant) -> None:  # type: ignore[no-untyped-def]
    app = make_app(small_tenant.model_copy(deep=True))
    world = World(app, schema, seed_config_text(app, retry_delay_s=0.001))
    app.set_faults(FaultConfig(seed=5, effect_then_fail_rate=1.0))
    first = world.run(REPORT)
    assert first.stats.get("reconciled", 0) > 0
    app.set_faults(FaultConfig())
    for _ in range(4):
        world.run(REPORT)
    effects = [
        (w["method"], w["path"])
        for w in world.writes()
        if w.get("effect") and not str(w["path"]).endswith("/feed")
    ]
    assert len(effects) == len(set(effects)), "no link made twice"
    feed = [str(w["path"]) for w in feed_posts(world) if w.get("effect")]
    assert len(feed) == len(set(feed)), "no summary posted twice"


def test_report_without_ticket_id_column_appends_nothing(schema, small_tenant) -> None:  # type: ignore[no-untyped-def]
    tenant = small_tenant.model_copy(deep=True)
    report = next(r for r in tenant.reports if r.id == REPORT)
    report.columns = [c for c in report.columns if c != "TicketID"]
    world = World(make_app(tenant), schema, "")
    world.config_text = seed_config_text(world.app)
    with pytest.raises(MissingTicketIdColumn, match="no 'TicketID' column; columns found: Title"):
        world.run(REPORT)
    assert world.store().head_position() == 0


def test_dry_run_records_nothing_and_writes_nothing(world: World) -> None:
    report = world.run(REPORT, dry_run=True)
    assert report.planned, "a fresh report has work to plan"
    kinds = {(p.action_id.split(":")[0], p.kind) for p in report.planned}
    assert {("add_asset", "run"), ("summary_comment", "then")} <= kinds
    assert world.store().head_position() == 0
    assert world.writes() == []


def test_cli_run_reports_missing_column_with_exit_code(tmp_path, schema, small_tenant) -> None:  # type: ignore[no-untyped-def]
    from tdxq.commands.cli import app as cli
    from tdxq.tdx.sandbox import serve

    tenant = small_tenant.model_copy(deep=True)
    next(r for r in tenant.reports if r.id == REPORT).columns.remove("TicketID")
    app = make_app(tenant)
    with serve(app) as server:
        config = tmp_path / "tdxq.toml"
        from tdxq.commands.sandbox_config import sandbox_config_text

        config.write_text(sandbox_config_text(app.settings, server.root_url))
        env = schema.env() | {
            "TDX_USERNAME": "sandbox",
            "TDX_PASSWORD": "sandbox",
            "TDX_BASE_URL": "",
        }
        result = CliRunner().invoke(
            cli, ["run", "--report-id", str(REPORT), "--config", str(config)], env=env
        )
    assert result.exit_code == 1, result.output
    assert "TicketID" in result.output and "columns found" in result.output


def test_a_runs_events_form_a_navigable_chain(world: World) -> None:
    report = world.run(REPORT)
    events = world.store().read_all(0, 100_000)
    by_id = {e.event_id: e for e in events}
    outcomes = [e for e in events if e.type in ("action_completed", "action_skipped")]
    assert outcomes
    for outcome in outcomes:
        assert outcome.metadata["correlation_id"] == str(report.run_id)
        claim = by_id[uuid.UUID(outcome.metadata["causation_id"])]
        assert claim.type == "action_started" and claim.stream == outcome.stream
        assert claim.data["action_id"] == outcome.data["action_id"]
        cause = by_id[uuid.UUID(claim.metadata["causation_id"])]
        assert cause.stream == claim.stream and cause.version == claim.version - 1
