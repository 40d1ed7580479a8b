"""The `tdxq` command line."""

from __future__ import annotations

import os

import typer

from .audit_cmd import audit_app
from .config_cmd import config_app
from .demo_cmd import demo
from .doctor_cmd import doctor
from .events_cmd import events_app
from .legacy_import_cmd import import_legacy
from .logging_setup import configure_logging
from .migrate_cmd import migrate
from .projections_cmd import projections_app
from .retry_cmd import retry
from .run_cmd import ingest, process, run
from .sandbox import sandbox_app
from .sandbox_config import init_config
from .stats_cmd import stats
from .worker_cmd import worker

app = typer.Typer(
    name="tdxq",
    help="tdxq — an event-sourced TeamDynamix ticket queue daemon on PostgreSQL.\n\n"
    "Database: TDXQ_DATABASE_URL (else an embedded Postgres in your data directory); "
    "schema: TDXQ_SCHEMA (default tdxq). TDX: TDX_BASE_URL and TDX_BEID + TDX_WEB_SERVICES_KEY, "
    "or TDX_USERNAME + TDX_PASSWORD, or TDX_API_TOKEN. A .env file in the working directory "
    "is honoured.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    log_level: str = typer.Option(
        "WARNING",
        "--log-level",
        envvar="TDXQ_LOG_LEVEL",
        help="DEBUG, INFO, WARNING or ERROR.",
    ),
) -> None:
    try:
        configure_logging(log_level)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--log-level") from None
    os.environ["TDXQ_LOG_LEVEL"] = log_level  # commands with their own --log-level default to it


app.command()(demo)
app.command()(run)
app.command()(ingest)
app.command()(process)
app.command()(worker)
app.command()(migrate)
app.command()(doctor)
app.add_typer(config_app, name="config")
app.add_typer(projections_app, name="projections")
app.add_typer(events_app, name="events")
app.add_typer(audit_app, name="audit")
app.command()(retry)
app.command()(stats)
app.command("import-legacy")(import_legacy)
sandbox_app.command("init-config")(init_config)
app.add_typer(sandbox_app, name="sandbox")


def main() -> None:
    app()
