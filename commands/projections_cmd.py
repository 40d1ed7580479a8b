"""`tdxq projections …`: how far behind each projection is, catching up, rebuilding."""

from __future__ import annotations

from typing import Any

import orjson
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column, Table

from tdxq.projectors.catalog import all_projectors, projector_named
from tdxq.projectors.compare import TableDiff
from tdxq.projectors.projector import Conn, Projector
from tdxq.projectors.rebuild import RebuildInProgress, RebuildResult, rebuild
from tdxq.projectors.runner import catch_up
from tdxq.projectors.shadow import SwapError
from tdxq.projectors.status import projection_status

from .database import database_settings, err_console, fail, open_connection

projections_app = typer.Typer(
    help="Projections (read models built from the event log): status, catch-up, rebuild.",
    no_args_is_help=True,
)

EXIT_DIFFERENT = 1
EXIT_INTERRUPTED = 130


def _echo_json(value: Any) -> None:
    typer.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def _selected(name: str | None) -> list[Projector]:
    if name is None:
        return all_projectors()
    try:
        return [projector_named(name)]
    except KeyError as exc:
        raise fail(str(exc.args[0]), 2) from None


@projections_app.command("status")
def status(
    json_output: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Checkpoint, head and lag of every projection."""
    settings = database_settings()
    with open_connection(settings) as conn:
        rows = projection_status(conn, settings.schema_name)
    if json_output:
        _echo_json({"projections": [r.as_json() for r in rows]})
        return
    table = Table("checkpoint", "head", "lag", "pending", "updated (UTC)")
    table.columns.insert(0, Column("projection", no_wrap=True))
    for row in rows:
        updated = row.updated_at.strftime("%Y-%m-%d %H:%M:%S") if row.updated_at else "never"
        name = row.name
        if row.rebuild_checkpoint is not None:
            name += f" (rebuild at {row.rebuild_checkpoint:,})"
        table.add_row(
            name,
            f"{row.checkpoint:,}",
            f"{row.head:,}",
            f"{row.lag:,}",
            f"{row.pending_events:,}",
            updated,
        )
    Console().print(table)


@projections_app.command("catch-up")
def catch_up_command(
    name: str | None = typer.Argument(None, help="One projection (default: all)."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Apply the events each projection has not seen yet."""
    projectors = _selected(name)
    settings = database_settings()
    with open_connection(settings) as conn:
        applied = {p.name: catch_up(conn, p, settings.schema_name) for p in projectors}
    if json_output:
        _echo_json({"applied": applied})
        return
    for projection, count in applied.items():
        typer.echo(f"{projection}: {count:,} events applied")


@projections_app.command("rebuild")
def rebuild_command(
    name: str | None = typer.Argument(None, help="One projection (default: all)."),
    verify_only: bool = typer.Option(
        False,
        "--verify-only",
        help="Build and compare, but keep the live tables; exit 1 if they differ.",
    ),
    batch_size: int = typer.Option(5000, min=1, max=1_000_000, help="Events per transaction."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Rebuild from position 0 into shadow tables, compare with live, swap atomically.

    The live projection keeps serving (and catching up) during the build. Any difference
    between live and rebuilt is printed; the rebuilt tables replace the live ones anyway (they
    are the fold of the event log from zero) unless --verify-only. Ctrl-C leaves the live
    projection untouched and drops the shadow tables.
    """
    projectors = _selected(name)
    settings = database_settings()
    results: list[RebuildResult] = []
    with open_connection(settings) as conn:
        for projector in projectors:
            try:
                results.append(
                    _rebuild_one(conn, projector, settings.schema_name, verify_only, batch_size)
                )
            except KeyboardInterrupt:
                raise fail(
                    f"interrupted: {projector.name} is untouched and its shadow tables dropped",
                    EXIT_INTERRUPTED,
                ) from None
            except (RebuildInProgress, SwapError) as exc:
                raise fail(str(exc), 1) from None
    if json_output:
        _echo_json({"rebuilds": [r.as_json() for r in results]})
    else:
        for result in results:
            _print_result(result)
    if verify_only and not all(r.identical for r in results):
        raise typer.Exit(EXIT_DIFFERENT)


def _rebuild_one(
    conn: Conn, projector: Projector, schema: str, verify_only: bool, batch_size: int
) -> RebuildResult:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task(f"rebuilding {projector.name}", total=None)

        def advance(position: int, head: int) -> None:
            progress.update(task, completed=position, total=max(head, position))

        return rebuild(
            conn,
            projector,
            schema,
            swap=not verify_only,
            batch_size=batch_size,
            on_progress=advance,
        )


def _print_result(result: RebuildResult) -> None:
    console = Console()
    rate = result.events_applied / result.seconds if result.seconds > 0 else 0.0
    outcome = "swapped in" if result.swapped else "verified (live kept)"
    console.print(
        f"{result.name}: {outcome} at position {result.position:,}: "
        f"{result.events_applied:,} events in {result.seconds:.1f}s ({rate:,.0f} events/s)",
        highlight=False,
    )
    for diff in result.diffs:
        if diff.identical:
            console.print(f"  {diff.table}: identical ({diff.live_rows:,} rows)", highlight=False)
        else:
            _print_diff(console, diff, result.swapped)


def _print_diff(console: Console, diff: TableDiff, swapped: bool) -> None:
    verdict = "the live table was wrong and has been replaced" if swapped else "live differs"
    console.print(
        f"  [yellow]{diff.table}: DIFFERENT[/yellow] ({verdict}): live {diff.live_rows:,} rows, "
        f"rebuilt {diff.shadow_rows:,}; rows only in live: {diff.only_in_live:,}, "
        f"only in the rebuild: {diff.only_in_shadow:,}",
        highlight=False,
    )
    changed, only_live, only_rebuilt = diff.paired_samples()
    for row in changed:
        console.print(f"    {row.key_column} {row.key}:", highlight=False, markup=False)
        for column, (live, rebuilt) in row.columns.items():
            console.print(
                f"      {column}: live {_short(live)} | rebuilt {_short(rebuilt)}",
                highlight=False,
                markup=False,
            )
    for label, samples in (("only in live", only_live), ("only in the rebuild", only_rebuilt)):
        for sample in samples:
            console.print(f"    {label}: {_short(sample, 400)}", highlight=False, markup=False)


def _short(value: Any, limit: int = 160) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"
