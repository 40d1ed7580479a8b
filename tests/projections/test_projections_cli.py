"""`tdxq projections status | catch-up | rebuild`, human and --json, on a populated database."""

from __future__ import annotations

import json

import pytest
import typer
from psycopg import sql
from typer.testing import CliRunner

from tdxq.commands import projections_cmd
from tdxq.commands.projections_cmd import projections_app
from tdxq.eventlog import EventStore

from ..conftest import Schema
from .history import append, typical_history

app = typer.Typer()
app.add_typer(projections_app, name="projections")
runner = CliRunner()


def populate(store: EventStore, count: int = 12) -> None:
    for ticket in range(1, count + 1):
        append(store, ticket, *typical_history(ticket, ticket))


def invoke(schema: Schema, *args: str) -> tuple[int, str, str]:
    env = {**schema.env(), "COLUMNS": "120"}
    result = runner.invoke(app, ["projections", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_status_shows_lag_then_none_after_catch_up(schema: Schema, store: EventStore) -> None:
    populate(store)
    head = store.head_position()

    code, out, _ = invoke(schema, "status", "--json")
    assert code == 0, out
    (entry,) = json.loads(out)["projections"]
    assert entry["name"] == "daemon_action_log"
    assert (entry["checkpoint"], entry["head"], entry["lag"]) == (0, head, head)
    assert 0 < entry["pending_events"] < head, "ticket_seen events are not pending"
    assert entry["rebuilding"] is False

    code, out, _ = invoke(schema, "catch-up", "--json")
    assert code == 0, out
    assert json.loads(out) == {"applied": {"daemon_action_log": entry["pending_events"]}}

    code, out, _ = invoke(schema, "status")
    assert code == 0, out
    assert "daemon_action_log" in out
    assert f"{head:,}" in out
    code, out, _ = invoke(schema, "status", "--json")
    (entry,) = json.loads(out)["projections"]
    assert (entry["lag"], entry["pending_events"]) == (0, 0)

    code, out, _ = invoke(schema, "catch-up")
    assert code == 0 and "daemon_action_log: 0 events applied" in out


def test_rebuild_human_and_json(schema: Schema, store: EventStore) -> None:
    populate(store)
    code, out, _ = invoke(schema, "rebuild")
    assert code == 0, out
    assert "daemon_action_log: swapped in at position" in out
    assert "identical" in out, "live was empty and caught up in the final step"

    code, out, _ = invoke(schema, "rebuild", "daemon_action_log", "--json", "--batch-size", "5")
    assert code == 0, out
    (report,) = json.loads(out)["rebuilds"]
    assert report["swapped"] and report["identical"]
    assert report["position"] == store.head_position()
    assert report["tables"][0]["live_rows"] == report["tables"][0]["shadow_rows"] > 0


def test_rebuild_prints_what_differed(schema: Schema, store: EventStore) -> None:
    populate(store)
    invoke(schema, "catch-up")
    store.connection.execute(
        sql.SQL("UPDATE {} SET error_message = 'made up' WHERE ticket_id = 1").format(
            sql.Identifier(schema.name, "daemon_action_log")
        )
    )

    code, out, _ = invoke(schema, "rebuild", "--verify-only", "--json")
    assert code == 1, "verify-only exits 1 on a difference"
    (report,) = json.loads(out)["rebuilds"]
    assert not report["swapped"] and not report["identical"]
    assert report["tables"][0]["live_samples"][0]["error_message"] == "made up"

    code, out, _ = invoke(schema, "rebuild")
    assert code == 0, out
    assert "DIFFERENT" in out and "has been replaced" in out
    assert 'error_message: live "made up" | rebuilt null' in out, "the changed column is shown"
    code, out, _ = invoke(schema, "rebuild", "--verify-only")
    assert code == 0 and "identical" in out


def test_unknown_projection_is_a_clear_error(schema: Schema) -> None:
    code, _, err = invoke(schema, "rebuild", "nonsense")
    assert code == 2
    assert "no projection named 'nonsense'" in err and "daemon_action_log" in err


def test_ctrl_c_exits_130_and_says_live_is_untouched(
    schema: Schema, store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(projections_cmd, "rebuild", interrupted)
    code, _, err = invoke(schema, "rebuild")
    assert code == 130
    assert "untouched" in err
