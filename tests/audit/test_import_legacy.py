"""`tdxq import-legacy`: the seed's table, created from its own DDL and filled for the seed's
production pipeline, is imported so that tdxq makes no TDX writes for those tickets."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb
from typer.testing import Result

from tdxq.actions.identity import legacy_action_id
from tdxq.commands.ingest import fetch_report
from tdxq.commands.legacy_import import legacy_candidates
from tdxq.eventlog.events import ticket_stream
from tdxq.projectors.ticket_state import fold
from tdxq.tdx.sandbox import Tenant

from ..conftest import Schema
from ..e2e.world import World, make_app, seed_config_text
from .conftest import REPORT, invoke, written_ticket

# The seed's DDL, verbatim from QUEUE_DAEMON_IMPLEMENTATION.md.
SEED_DDL = """
CREATE TABLE meta.daemon_action_log (
    log_id UUID PRIMARY KEY,
    ticket_id INTEGER NOT NULL,
    action_type VARCHAR(100),
    action_id VARCHAR(255),        -- Format: {type}:{hash}:{version}
    action_hash VARCHAR(64),        -- SHA256 of action config
    status VARCHAR(20),             -- 'completed', 'failed', 'skipped'
    executed_at TIMESTAMP,
    error_message TEXT,
    metadata JSONB,
    UNIQUE (ticket_id, action_id)  -- Ensures idempotency
);
"""
PASSWORD = "s3cret-seed-pw"  # the test server trusts everyone, so any password connects
HELLO_WORLD = "comment:054200481667:v1"  # the seed's first action: in no tdxq pipeline


@pytest.fixture
def seed_table(database_url: str) -> Iterator[str]:
    """The seed's ``meta`` schema and table in the test database; the DSN, with a password."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS meta CASCADE")
        conn.execute("CREATE SCHEMA meta")
        conn.execute(SEED_DDL)
    params = conninfo_to_dict(database_url)
    params["password"] = PASSWORD
    yield make_conninfo("", **{k: v for k, v in params.items() if v is not None})
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS meta CASCADE")


@pytest.fixture
def world(schema: Schema, audit_tenant: Tenant) -> World:
    app = make_app(audit_tenant.model_copy(deep=True))
    return World(app, schema, seed_config_text(app))


def report_tickets(world: World) -> list[int]:
    with world.runtime() as runtime:
        return sorted(fetch_report(runtime.client, REPORT).ticket_ids)


def insert(dsn: str, rows: list[tuple[Any, ...]]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO meta.daemon_action_log (log_id, ticket_id, action_type, action_id,"
            " action_hash, status, executed_at, error_message, metadata)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )


def row(ticket: int, action_type: str, legacy_id: str, status: str, **extra: Any) -> tuple:  # type: ignore[type-arg]
    executed = datetime(2025, 11, 19, 19, 11, 8) + timedelta(minutes=extra.pop("minute", 0))
    return (
        uuid.uuid4(),
        ticket,
        action_type,
        legacy_id,
        legacy_id.split(":")[1],
        status,
        executed,  # naive, as the seed wrote it
        extra.get("error"),
        Jsonb({"summary": f"seed did {action_type}", "duration": 1.02}),
    )


@pytest.fixture
def filled(world: World, seed_table: str) -> dict[str, Any]:
    """Completed rows for every step of the production pipeline on every ticket of report 1344
    but the sample ticket; one ticket's add_asset row carries the seed's production
    has_database=True id; plus rows that match nothing, and a failure."""
    tickets = report_tickets(world)
    spared = world.app.settings.sample_ticket_id
    assert spared in tickets
    imported = [t for t in tickets if t != spared]
    pipeline = world.config.pipeline_for(REPORT)
    rows = []
    for ticket in imported:
        for minute, action in enumerate(pipeline):
            assert action.legacy_id is not None
            rows.append(row(ticket, action.TYPE, action.legacy_id, "completed", minute=minute))
    add_asset = pipeline[0]
    production_id = legacy_action_id(
        "add_asset", {**add_asset.legacy_fields(), "has_database": True}, add_asset.version
    )
    assert production_id in legacy_candidates(add_asset) and production_id != add_asset.legacy_id
    variant = imported[0]
    rows = [
        r if not (r[1] == variant and r[2] == "add_asset") else (*r[:3], production_id, *r[4:])
        for r in rows
    ]
    history = [
        row(imported[1], "comment", HELLO_WORLD, "completed"),
        row(spared, "add_asset", str(add_asset.legacy_id), "failed", error="HTTP 500"),
        row(spared, "comment", "comment:aaaaaaaaaaaa:v1", "skipped"),
    ]
    insert(seed_table, rows + history)
    return {
        "dsn": seed_table,
        "imported": imported,
        "spared": spared,
        "variant": variant,
        "production_id": production_id,
        "done_rows": len(rows),
        "history_rows": len(history),
    }


def run_import(world: World, dsn: str, config: Path, *args: str) -> Result:
    result = invoke(
        world.schema, "import-legacy", "--from-dsn", dsn, "--config", str(config), *args
    )
    assert PASSWORD not in result.output, "the DSN's password is never printed"
    return result


def imported(world: World, dsn: str, config: Path, *args: str) -> tuple[int, str]:
    result = run_import(world, dsn, config, *args)
    return result.exit_code, result.stdout


def test_import_then_run_makes_no_writes_for_imported_tickets(
    world: World, filled: dict[str, Any], tmp_path: Path
) -> None:
    config = tmp_path / "tdxq.toml"
    config.write_text(world.config_text, encoding="utf-8")
    pipeline = world.config.pipeline_for(REPORT)
    store = world.store()

    code, out = imported(world, filled["dsn"], config, "--dry-run")
    assert code == 0, out
    assert "mapping" in out and "dry run, nothing appended" in out and "***" in out
    for action in pipeline:
        assert str(action.legacy_id) in out and action.action_id in out
    assert HELLO_WORLD in out and "history only" in out
    code, out = imported(world, filled["dsn"], config, "--dry-run", "--json")
    preview = json.loads(out)
    assert preview["counts"]["imported_as_done"] == filled["done_rows"]
    assert preview["counts"]["imported_as_history"] == filled["history_rows"]
    mapping = {line["legacy_id"]: line["maps_to"] for line in preview["mapping"]}
    for action in pipeline:
        assert mapping[str(action.legacy_id)] == [action.action_id]
    assert mapping[filled["production_id"]] == [pipeline[0].action_id]
    assert mapping[HELLO_WORLD] == []
    assert store.head_position() == 0, "a dry run appends nothing"

    code, out = imported(world, filled["dsn"], config, "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["counts"]["imported_as_done"] == filled["done_rows"]
    # one event per completed row and per skip, two for the failure (its start and its end)
    assert report["events_appended"] == filled["done_rows"] + filled["history_rows"] + 1
    head = store.head_position()

    code, out = imported(world, filled["dsn"], config, "--json")
    again = json.loads(out)
    assert again["events_appended"] == 0 and again["run_id"] is None
    assert again["counts"]["already_imported"] == filled["done_rows"] + filled["history_rows"]
    assert store.head_position() == head, "importing twice imports nothing new"

    variant = fold(filled["variant"], store.read_stream(ticket_stream(filled["variant"])))
    completed = variant.action(pipeline[0].action_id)
    assert (
        completed.imported and completed.details["legacy"]["action_id"] == filled["production_id"]
    )

    world.run(REPORT)
    touched = {written_ticket(w) for w in world.writes()}
    assert touched == {filled["spared"]}, "no TDX writes for the imported tickets"
    spared = fold(filled["spared"], store.read_stream(ticket_stream(filled["spared"])))
    assert spared.action(pipeline[0].action_id).attempts == 1, "a seed failure does not block"
    assert spared.action(str(pipeline[0].legacy_id)).last_error == "HTTP 500"

    ticket = filled["imported"][1]
    result = invoke(world.schema, "audit", "ticket", str(ticket), "--json")
    timeline = json.loads(result.stdout)
    flags = {a["action_id"]: a["imported"] for a in timeline["actions"]}
    assert flags == {**{a.action_id: True for a in pipeline}, HELLO_WORLD: True}
    (why,) = json.loads(
        invoke(
            world.schema, "audit", "why", str(ticket), pipeline[-1].action_id,
            "--config", str(config), "--json",
        ).stdout
    )["answers"]  # fmt: skip
    # The imported summary carries nothing new, so the summary step has nothing to post.
    assert why["reason"] == "no_new_summaries" and why["facts"]["imported"] is True
    assert why["facts"]["status"] == "done"


def test_missing_table_or_columns_and_bad_names_are_clear_errors(
    world: World, seed_table: str, tmp_path: Path
) -> None:
    config = tmp_path / "tdxq.toml"
    config.write_text(world.config_text, encoding="utf-8")
    result = run_import(world, seed_table, config, "--table", "meta.nowhere")
    assert result.exit_code == 2
    assert "table meta.nowhere not found" in result.output

    with psycopg.connect(seed_table, autocommit=True) as conn:
        conn.execute("CREATE TABLE meta.partial (log_id uuid, ticket_id int, status text)")
    result = run_import(world, seed_table, config, "--table", "meta.partial")
    assert result.exit_code == 2
    assert "lacks the seed's column(s) action_type, action_id" in result.output

    result = run_import(world, seed_table, config, "--table", "meta.x; drop table y")
    assert result.exit_code == 2 and "plain identifiers" in result.output

    bad = f"postgresql://someone:{PASSWORD}@127.0.0.1:1/nowhere"
    result = run_import(world, bad, config)
    assert result.exit_code == 2 and "cannot connect" in result.output


def test_import_of_an_empty_table_appends_nothing(
    world: World, seed_table: str, tmp_path: Path
) -> None:
    config = tmp_path / "tdxq.toml"
    config.write_text(world.config_text, encoding="utf-8")
    code, out = imported(world, seed_table, config)
    assert code == 0 and "imported: 0 event(s)" in out
    assert world.store().head_position() == 0
