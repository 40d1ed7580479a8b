"""`tdxq doctor`: is everything tdxq needs in place?"""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass
from importlib.metadata import version as dist_version

import orjson
import psycopg
import typer
from rich.console import Console
from rich.table import Table

from tdxq.eventlog import DatabaseNotConfigured, DatabaseSettings, MigrationError, Migrator
from tdxq.eventlog.database import connect, redact_dsn, resolve_dsn


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(settings: DatabaseSettings) -> list[Check]:
    checks = [
        Check("tdxq", True, dist_version("tdxq")),
        Check("python", True, platform.python_version()),
        Check("psycopg", True, psycopg.__version__),
    ]
    try:
        dsn = resolve_dsn(settings)
    except DatabaseNotConfigured as exc:
        return [*checks, Check("database", False, str(exc))]
    try:
        conn = connect(dsn)
    except psycopg.OperationalError as exc:
        return [*checks, Check("database", False, str(exc))]
    with conn:
        server = conn.info.server_version
        checks.append(
            Check(
                "database",
                True,
                f"{redact_dsn(dsn)} (PostgreSQL {server // 10000}.{server % 10000})",
            )
        )
        try:
            status = Migrator(conn, settings.schema_name).status()
        except MigrationError as exc:
            checks.append(Check("migrations", False, str(exc)))
        else:
            if status.pending:
                names = ", ".join(m.name for m in status.pending)
                checks.append(Check("migrations", False, f"pending: {names} (run `tdxq migrate`)"))
            else:
                checks.append(
                    Check(
                        "migrations",
                        True,
                        f"schema {settings.schema_name!r} current ({len(status.applied)} applied)",
                    )
                )
    return checks


def doctor(
    json_output: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
) -> None:
    """Check the database, the migrations and versions; exit 1 on any problem."""
    try:
        settings = DatabaseSettings()
    except ValueError as exc:
        checks = [Check("settings", False, str(exc))]
    else:
        checks = run_checks(settings)
    healthy = all(c.ok for c in checks)
    if json_output:
        payload = {"ok": healthy, "checks": [asdict(c) for c in checks]}
        typer.echo(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
    else:
        table = Table("check", "status", "detail", title="tdxq doctor")
        for check in checks:
            table.add_row(
                check.name, "[green]ok[/green]" if check.ok else "[red]FAIL[/red]", check.detail
            )
        Console().print(table)
    raise typer.Exit(0 if healthy else 1)
