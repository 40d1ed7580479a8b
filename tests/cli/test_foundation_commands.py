"""`tdxq migrate`, `tdxq doctor` and `tdxq events tail` against a real database."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from typer.testing import CliRunner

from tdxq.commands.cli import app
from tdxq.eventlog import EventStore, NewEvent, StreamAppend, StreamState, connect

from ..conftest import Schema

runner = CliRunner()


def test_migrate_then_doctor_is_healthy(database_url: str) -> None:
    env = {"TDXQ_DATABASE_URL": database_url, "TDXQ_SCHEMA": f"c_{uuid.uuid4().hex[:8]}"}
    doctor = runner.invoke(app, ["doctor", "--json"], env=env)
    assert doctor.exit_code == 1, "pending migrations are a problem"
    report = json.loads(doctor.stdout)
    assert not report["ok"]
    assert "pending" in next(c for c in report["checks"] if c["name"] == "migrations")["detail"]

    first = runner.invoke(app, ["migrate"], env=env)
    assert first.exit_code == 0, first.output
    assert "applied 0001_events.sql" in first.stdout
    second = runner.invoke(app, ["migrate"], env=env)
    assert second.exit_code == 0 and "up to date" in second.stdout

    doctor = runner.invoke(app, ["doctor", "--json"], env=env)
    assert doctor.exit_code == 0, doctor.output
    assert json.loads(doctor.stdout)["ok"]


def test_doctor_fails_on_unreachable_database_without_leaking_password() -> None:
    env = {"TDXQ_DATABASE_URL": "postgresql://tdxq:s3cret-pw@127.0.0.1:1/none?connect_timeout=2"}
    result = runner.invoke(app, ["doctor"], env=env)
    assert result.exit_code == 1
    assert "s3cret-pw" not in result.output
    assert "FAIL" in result.output


def test_bad_schema_name_is_a_clear_error() -> None:
    result = runner.invoke(app, ["migrate"], env={"TDXQ_SCHEMA": "Robert'); DROP"})
    assert result.exit_code == 2
    assert "TDXQ_SCHEMA" in result.output


def test_events_tail_filters_and_prints_json(schema: Schema) -> None:
    with connect(schema.dsn) as conn:
        store = EventStore(conn, schema.name)
        for i in range(5):
            store.append(
                [
                    StreamAppend(
                        f"ticket:{i % 2}",
                        StreamState.ANY,
                        [NewEvent("ticket_seen" if i < 4 else "other", {"i": i})],
                    )
                ]
            )
    result = runner.invoke(app, ["events", "tail", "--json", "--limit", "2"], env=schema.env())
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["data"]["i"] for line in lines] == [3, 4]
    result = runner.invoke(
        app,
        ["events", "tail", "--json", "--stream", "ticket:0", "--type", "ticket_seen"],
        env=schema.env(),
    )
    assert [json.loads(x)["data"]["i"] for x in result.stdout.splitlines()] == [0, 2]
    table = runner.invoke(app, ["events", "tail"], env=schema.env())
    assert table.exit_code == 0 and "ticket_seen" in table.stdout


def test_events_tail_on_empty_log(schema: Schema) -> None:
    result = runner.invoke(app, ["events", "tail"], env=schema.env())
    assert result.exit_code == 0 and "empty" in result.stdout


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "tdxq"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for command in ("migrate", "doctor", "events"):
        assert command in result.stdout


def test_the_seeds_command_keeps_its_flags() -> None:
    script = Path(sys.executable).parent / "ticket-queue-daemon"
    result = subprocess.run(
        [str(script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    for flag in ("--report-id", "--daemon", "--interval", "--dry-run", "--log", "--log-level"):
        assert flag in result.stdout
    assert "DAEMON_REPORT_ID" in result.stdout
