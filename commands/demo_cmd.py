"""`tdxq demo`: the whole product end to end on this machine, in a couple of minutes.

It starts the local TDX sandbox in-process on a free loopback port, uses (and resets) its own
schema ``tdxq_demo`` so real data is never touched, runs the seed's production pipeline over
report 1344 and then the 500-ticket report 2000, runs both again to show that nothing is
done twice, and prints what happened from the monitoring view.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer
from psycopg import sql
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from tdxq.actions.config import parse_config
from tdxq.eventlog import DatabaseSettings, Migrator, connect
from tdxq.tdx import AdminKey, TdxClient
from tdxq.tdx.sandbox import (
    SANDBOX_BEID,
    SANDBOX_WEB_SERVICES_KEY,
    SandboxApp,
    SandboxConfig,
    generate_tenant,
    serve,
)

from .database import database_settings, dsn_or_exit
from .run import run_report
from .run_cmd import progress_bar
from .runtime import open_runtime
from .sandbox_config import sandbox_config_text
from .shutdown import StopFlag

DEMO_SCHEMA = "tdxq_demo"
REPORTS = (1344, 2000)


def reset_schema(dsn: str, schema: str) -> None:
    with connect(dsn) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        Migrator(conn, schema).migrate()


def demo(
    tickets: int = typer.Option(
        500, "--tickets", min=1, max=20_000, help="Tickets in report 2000."
    ),
    seed: int = typer.Option(1, "--seed", help="The sandbox tenant's seed."),
) -> None:
    """Run the seed's production pipeline against the local sandbox, twice, and summarize."""
    console = Console()
    started = time.monotonic()
    base = database_settings()
    settings = DatabaseSettings(
        database_url=base.database_url, TDXQ_SCHEMA=DEMO_SCHEMA, embedded_dir=base.embedded_dir
    )
    dsn = dsn_or_exit(settings)
    console.print(
        f"[bold]tdxq demo[/bold] — schema [cyan]{DEMO_SCHEMA}[/cyan] (reset now; "
        "your own schema is not touched)"
    )
    reset_schema(dsn, DEMO_SCHEMA)

    app = SandboxApp(
        generate_tenant(seed, tickets), SandboxConfig(seed=seed, tickets=tickets, rate_limit=False)
    )
    stop = StopFlag()
    stop.install()
    with serve(app) as server:
        console.print(
            f"TDX sandbox at [cyan]{server.base_url}[/cyan] (in-process, loopback only; "
            "rate limits relaxed for the demo — `tdxq sandbox serve` enforces TDX's)"
        )
        text = sandbox_config_text(app.settings, server.root_url, seed=seed)
        config = parse_config(text, Path("sandbox-demo.toml"), environ={})
        credentials = AdminKey(SecretStr(SANDBOX_BEID), SecretStr(SANDBOX_WEB_SERVICES_KEY))
        with (
            TdxClient(server.base_url, credentials) as client,
            open_runtime(config, settings=settings, client=client) as runtime,
        ):
            for label in ("first pass: everything is new", "second pass: nothing to do again"):
                console.rule(label)
                for report_id in REPORTS:
                    if stop():
                        break
                    writes_at = len(app.writes)
                    with progress_bar(True, f"report {report_id}") as hook:
                        report = run_report(
                            runtime, report_id, progress=hook, should_stop=stop, mode="demo"
                        )
                    console.print(report.summary(len(app.writes) - writes_at), soft_wrap=True)
            summary = activity_summary(runtime.store.connection, DEMO_SCHEMA)
        calls = app.call_counts
    console.rule("summary")
    table = Table("action type", "status", "count", title="daemon_activity_summary")
    for action_type, status, count in summary:
        table.add_row(action_type, status, str(count))
    console.print(table)
    console.print(
        f"TDX calls: {sum(calls.values())} in all ({len(app.writes)} writes); "
        f"time taken: {time.monotonic() - started:.1f} s"
    )
    console.print(
        NEXT_STEPS.format(schema=DEMO_SCHEMA),
        soft_wrap=True,
        highlight=False,
    )


NEXT_STEPS = """
Next, try:
  TDXQ_SCHEMA={schema} .venv/bin/tdxq audit ticket 9291804   # one ticket's whole story
  TDXQ_SCHEMA={schema} .venv/bin/tdxq stats
  TDXQ_SCHEMA={schema} .venv/bin/tdxq events tail --limit 10

Then a sandbox of your own, with TDX's real rate limits (port 8765):
  .venv/bin/tdxq sandbox serve &
  .venv/bin/tdxq sandbox init-config > tdxq.toml
  export TDX_USERNAME=sandbox TDX_PASSWORD=sandbox
  .venv/bin/tdxq migrate
  .venv/bin/tdxq run --report-id 1344 --dry-run
  .venv/bin/tdxq run --report-id 1344"""


def activity_summary(conn: object, schema: str) -> list[tuple[str, str, int]]:
    query = sql.SQL(
        "SELECT action_type, status, action_count FROM {} ORDER BY action_type, status"
    ).format(sql.Identifier(schema, "daemon_activity_summary"))
    rows = conn.execute(query).fetchall()  # type: ignore[attr-defined]
    return [(str(a), str(s), int(c)) for a, s, c in rows]
