"""`tdxq import-legacy`: import the seed daemon's action log (see legacy_import.py)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import typer
from psycopg.conninfo import conninfo_to_dict
from rich.console import Console
from rich.table import Table

from tdxq.eventlog import connect
from tdxq.eventlog.database import redact_dsn

from .database import database_settings, fail, open_store
from .json_out import echo_json
from .legacy_import import Disposition, ImportReport, import_rows
from .legacy_table import (
    DEFAULT_TABLE,
    LegacyRow,
    LegacyTableError,
    TableName,
    parse_table_name,
    read_rows,
)
from .runtime import load_config_or_exit

console = Console()

EXPLAIN = {
    Disposition.IMPORTED_AS_DONE: "completed under the seed: now done in tdxq, never run again",
    Disposition.IMPORTED_AS_HISTORY: "kept as history under the legacy id (no step looks at it)",
    Disposition.ALREADY_IMPORTED: "imported by an earlier run of import-legacy",
    Disposition.ALREADY_DONE: "tdxq had completed the action already",
    Disposition.RUNNING: "running in tdxq right now: run the import again later",
    Disposition.CONFLICT: "refused by the action state machine (see --json for why)",
    Disposition.UNUSABLE: "no action id, or a status the seed never wrote",
}


def import_legacy(
    from_dsn: str = typer.Option(
        ...,
        "--from-dsn",
        envvar="TDXQ_LEGACY_DSN",
        help="The seed's database (postgresql://…); TDXQ_LEGACY_DSN keeps a password out of ps.",
    ),
    table: str = typer.Option(DEFAULT_TABLE, "--table", help="The seed's action log table."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the mapping and what would be imported; append nothing."
    ),
    config: Path | None = typer.Option(
        None, "--config", envvar="TDXQ_CONFIG", help="Pipeline configuration (./tdxq.toml)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Import the seed's action log so that what the seed completed is not run again.

    Rows are matched to the configured pipelines by the seed's ids of their actions. Importing
    twice imports nothing new. The seed's table is only read.
    """
    loaded = load_config_or_exit(config)
    source = redact_dsn(from_dsn)
    try:
        name = parse_table_name(table)
    except LegacyTableError as exc:
        raise typer.BadParameter(str(exc), param_hint="--table") from None
    rows = read_legacy(from_dsn, name, source)
    settings = database_settings()
    with open_store(settings) as store:
        report = import_rows(store, rows, loaded, table=str(name), source=source, dry_run=dry_run)
    if json_output:
        echo_json(report_json(report))
        return
    print_report(report)


def read_legacy(dsn: str, name: TableName, source: str) -> list[LegacyRow]:
    """The seed's rows; every error names the DSN with its password masked, never in clear."""
    try:
        legacy = connect(dsn)
    except psycopg.OperationalError as exc:  # connect() masks the password in its message
        raise fail(str(exc), 2) from None
    except psycopg.Error:
        raise fail(
            "--from-dsn is not a valid PostgreSQL connection string "
            "(not shown here: it may hold a password)",
            2,
        ) from None
    try:
        return read_rows(legacy, name)
    except LegacyTableError as exc:
        raise fail(f"{source}: {exc}", 2) from None
    except psycopg.Error as exc:
        raise fail(f"reading {name} from {source}: {mask_password(str(exc), dsn)}", 2) from None
    finally:
        legacy.close()


def mask_password(message: str, dsn: str) -> str:
    try:
        password = conninfo_to_dict(dsn).get("password")
    except psycopg.Error:
        return message
    return message.replace(str(password), "***") if password else message


def report_json(report: ImportReport) -> dict[str, object]:
    return {
        "table": report.table,
        "source": report.source,
        "dry_run": report.dry_run,
        "rows_read": report.rows_read,
        "counts": report.counts(),
        "events_planned": report.events_planned(),
        "events_appended": report.events_appended,
        "run_id": report.run_id,
        "mapping": report.mapping(),
        "rows": [
            {
                "log_id": o.row.log_id,
                "ticket_id": o.row.ticket_id,
                "legacy_action_id": o.row.action_id,
                "status": o.row.status,
                "outcome": o.disposition.value,
                "recorded_under": o.target_id,
                "note": o.note,
                "event_ids": [p.event_id for p in o.events],
            }
            for o in report.outcomes
        ],
    }


def print_report(report: ImportReport) -> None:
    verb = "would import" if report.dry_run else "imported"
    console.print(
        f"[bold]{report.table}[/bold] at {report.source}: {report.rows_read} row(s)"
        + (" — dry run, nothing appended" if report.dry_run else ""),
        highlight=False,
    )
    mapping = Table(
        "legacy action id", "type", "tdxq action id", "rows (status)", "outcome", title="mapping"
    )
    for line in report.mapping():
        mapping.add_row(
            line.legacy_id,
            line.action_type or "",
            "\n".join(line.maps_to) or "— (history only)",
            ", ".join(f"{k} {v}" for k, v in sorted(line.rows_by_status.items())),
            ", ".join(f"{k} {v}" for k, v in sorted(line.outcomes.items())),
        )
    console.print(mapping)
    totals = Table("outcome", "rows", "meaning", title="totals")
    for disposition in Disposition:
        count = report.counts()[disposition.value]
        if count:
            totals.add_row(disposition.value, str(count), EXPLAIN[disposition])
    console.print(totals)
    events = report.events_planned() if report.dry_run else report.events_appended
    run = f" (run {report.run_id})" if report.run_id else ""
    console.print(f"{verb}: {events} event(s){run}", highlight=False)
