"""`tdxq run`, `tdxq ingest`, `tdxq process`, and the seed-compatible `ticket-queue-daemon`."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tdxq.eventlog import process_metadata
from tdxq.tdx.errors import TdxError

from .database import fail
from .ingest import fetch_report, ingest_report, read_membership
from .logging_setup import configure_logging
from .process import Processor
from .report_rows import MissingTicketIdColumn
from .run import ProgressHook, RunReport, run_report
from .runtime import Runtime, load_config_or_exit, open_runtime
from .shutdown import StopFlag
from .worker_cmd import daemon_options, report_intervals, serve_reports

log = logging.getLogger("tdxq.run")
console = Console()

CONFIG_OPTION = typer.Option(
    None, "--config", envvar="TDXQ_CONFIG", help="Pipeline configuration (default ./tdxq.toml)."
)
REPORT_OPTION = typer.Option(
    None,
    "--report-id",
    envvar="DAEMON_REPORT_ID",
    help="The TDX report to work on (default: every report in the configuration).",
)
JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of tables.")


@contextmanager
def progress_bar(enabled: bool, label: str) -> Iterator[ProgressHook | None]:
    if not enabled:
        yield None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def hook(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield hook


def print_run(report: RunReport, json_output: bool) -> None:
    if json_output:
        payload = report.figures() | {
            "planned": [p.__dict__ for p in report.planned] if report.dry_run else None,
        }
        typer.echo(orjson.dumps(payload).decode())
        return
    if report.dry_run and not report.planned:
        console.print(
            f"dry run of report {report.report_id}: nothing is due "
            "(nothing recorded, no TDX writes)"
        )
        return
    if report.dry_run:
        table = Table(
            "ticket",
            "action id",
            "kind",
            "because",
            "would",
            title=(
                f"dry run of report {report.report_id}: {len(report.planned)} action(s) due "
                "(nothing recorded, no TDX writes)"
            ),
        )
        for p in report.planned:
            table.add_row(str(p.ticket_id), p.instance_id, p.kind, p.because, p.description)
        console.print(table)
        return
    console.print(report.summary(), soft_wrap=True, highlight=False)
    console.print(
        f"  run {report.run_id} (`tdxq audit run {report.run_id}`)", soft_wrap=True, highlight=False
    )


def report_ids(runtime_reports: Sequence[int], chosen: int | None) -> list[int]:
    if chosen is not None:
        if chosen not in runtime_reports:
            configured = ", ".join(map(str, runtime_reports)) or "none"
            raise fail(f"report {chosen} is not in the configuration (configured: {configured})", 2)
        return [chosen]
    if not runtime_reports:
        raise fail("the configuration lists no [reports]", 2)
    return list(runtime_reports)


def run_once(
    runtime: Runtime,
    ids: Sequence[int],
    *,
    dry_run: bool,
    json_output: bool,
    stop: StopFlag,
    show_progress: bool,
) -> None:
    for report_id in ids:
        if stop():
            return
        with progress_bar(show_progress and not json_output, f"report {report_id}") as hook:
            report = run_report(
                runtime,
                report_id,
                dry_run=dry_run,
                progress=hook,
                should_stop=stop,
                mode="dry-run" if dry_run else "once",
            )
        print_run(report, json_output)


def run(
    report_id: int | None = REPORT_OPTION,
    once: bool = typer.Option(False, "--once", help="Run one pass and exit (the default)."),
    daemon: bool = typer.Option(
        False,
        "--daemon",
        help="Keep running: poll each report on its interval and process tickets as soon as "
        "their events commit (see also `tdxq worker`).",
    ),
    interval: float | None = typer.Option(
        None,
        "--interval",
        min=1.0,
        help="Seconds between polls of a report (default: its interval_s, else 300).",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Record nothing and make no TDX writes; print what would run."
    ),
    config: Path | None = CONFIG_OPTION,
    log_file: Path | None = typer.Option(None, "--log", help="Also write the log to FILE."),
    log_level: str | None = typer.Option(
        None,
        "--log-level",
        help="DEBUG, INFO, WARNING or ERROR (default TDXQ_LOG_LEVEL, else WARNING)",
    ),
    json_output: bool = JSON_OPTION,
) -> None:
    """Ingest the report(s), then run every due action of the pipeline on each ticket."""
    if once and daemon:
        raise typer.BadParameter("choose --once or --daemon", param_hint="--daemon")
    try:
        configure_logging(log_level, log_file)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--log-level") from None
    loaded = load_config_or_exit(config)
    stop = StopFlag()
    stop.install()
    if daemon:
        if dry_run:
            raise typer.BadParameter("a dry run is one pass: drop --daemon", param_hint="--dry-run")
        ids = report_ids(sorted(loaded.reports), report_id)
        options = daemon_options(
            ingest_intervals=report_intervals(loaded, ids, interval), projections=True
        )
        raise typer.Exit(serve_reports(loaded, ids, options, mode="daemon", stop=stop))
    with open_runtime(loaded) as runtime:
        ids = report_ids(sorted(loaded.reports), report_id)
        while True:
            try:
                run_once(
                    runtime,
                    ids,
                    dry_run=dry_run,
                    json_output=json_output,
                    stop=stop,
                    show_progress=True,
                )
            except MissingTicketIdColumn as exc:
                raise fail(str(exc), 1) from None
            except TdxError as exc:
                raise fail(f"TDX at {runtime.client.base_url}: {exc}", 3) from None
            break
    raise typer.Exit(0)


def ingest(
    report_id: int = typer.Option(..., "--report-id", envvar="DAEMON_REPORT_ID"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be recorded."),
    config: Path | None = CONFIG_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Poll one report and record which tickets are new, changed or gone (no actions run)."""
    loaded = load_config_or_exit(config)
    with open_runtime(loaded) as runtime:
        started = time.monotonic()
        try:
            entry = loaded.reports.get(report_id)
            volatile = entry.volatile_columns if entry else ["ModifiedDate"]
            parsed = fetch_report(runtime.client, report_id, volatile)
        except MissingTicketIdColumn as exc:
            raise fail(str(exc), 1) from None
        except TdxError as exc:
            raise fail(f"TDX at {runtime.client.base_url}: {exc}", 3) from None
        result = ingest_report(
            runtime.store,
            parsed,
            run_id=None,
            started=started,
            dry_run=dry_run,
            metadata=process_metadata(actor="tdxq ingest"),
        )
    plan = result.plan
    figures = {
        "report_id": report_id,
        "dry_run": dry_run,
        "tickets": len(plan.parsed.rows),
        "new": len(plan.new),
        "changed": len(plan.changed),
        "left": len(plan.left),
        "unchanged": plan.unchanged,
        "dropped_rows": [d.model_dump() for d in plan.parsed.dropped],
        "events_appended": result.appended,
    }
    if json_output:
        typer.echo(orjson.dumps(figures).decode())
        return
    table = Table(
        "figure",
        "value",
        title=f"ingest of report {report_id}" + (" (dry run: nothing recorded)" if dry_run else ""),
    )
    for key, value in figures.items():
        table.add_row(key, str(value))
    console.print(table)


def process(
    report_id: int = typer.Option(..., "--report-id", envvar="DAEMON_REPORT_ID"),
    config: Path | None = CONFIG_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Run due actions on the tickets last seen on a report, without polling TDX for it."""
    loaded = load_config_or_exit(config)
    stop = StopFlag()
    stop.install()
    with open_runtime(loaded) as runtime:
        ids = report_ids(sorted(loaded.reports), report_id)[0]
        tickets = sorted(read_membership(runtime.store, ids).on_report)
        processor = Processor(
            runtime.store,
            runtime.client,
            report_id=ids,
            pipeline=loaded.pipeline_for(ids),
            tenant=loaded.tenant,
            lookups=runtime.lookups,
            policy=loaded.retry,
            metadata=process_metadata(actor="tdxq process"),
            should_stop=stop,
        )
        with progress_bar(not json_output, f"report {ids}") as hook:
            stats = processor.process(tickets, hook)
    figures = {"report_id": ids, "tickets": len(tickets), **stats.as_dict()}
    if json_output:
        typer.echo(orjson.dumps(figures).decode())
        return
    table = Table("figure", "value", title=f"process report {ids}")
    for key, value in figures.items():
        table.add_row(key, str(value))
    console.print(table)


daemon_app = typer.Typer(
    help="The seed's ticket-queue-daemon, run by tdxq (same flags; DAEMON_REPORT_ID honoured).",
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
daemon_app.command()(run)


def daemon_main() -> None:
    daemon_app()
