"""`tdxq stats`: actions by type and status, and the figures of the last runs.

Counts come from the ``daemon_action_log`` projection, brought up to the head first (so they
cover every event committed before the command started); the status is the effective one of
``daemon_action_status`` (a running action whose lease expired counts as in_doubt). Run
figures come from ``run_finished`` events, with the report and mode of their ``run_started``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import typer
from psycopg import sql
from rich.console import Console
from rich.table import Table

from tdxq.eventlog import EventStore
from tdxq.eventlog.events import RunFinished, RunStarted
from tdxq.eventlog.store import EventFilter
from tdxq.projectors.runner import catch_up_all

from .audit_render import short, when
from .database import open_store
from .json_out import echo_json

console = Console()

# The run figures shown as columns (every figure is in --json).
RUN_COLUMNS = ("tickets_on_report", "started", "completed", "failed", "waiting", "skipped")


@dataclass(frozen=True, slots=True)
class StatusCount:
    action_type: str
    status: str
    count: int
    imported: int
    first_executed: datetime | None
    last_executed: datetime | None


@dataclass(frozen=True, slots=True)
class RunFigures:
    run_id: str
    report_id: int | None
    mode: str | None
    started_at: datetime | None
    finished_at: datetime
    outcome: str
    duration_s: float
    stats: dict[str, int | float] = field(default_factory=dict)


def action_counts(store: EventStore) -> list[StatusCount]:
    query = sql.SQL(
        "SELECT action_type, status, count(*), count(*) FILTER (WHERE metadata->>'imported' ="
        " 'true'), min(executed_at), max(executed_at) FROM {} GROUP BY 1, 2 ORDER BY 1, 2"
    ).format(sql.Identifier(store.schema, "daemon_action_status"))
    with store.connection.cursor() as cur:
        rows = cur.execute(query).fetchall()
    return [StatusCount(str(t), str(s), int(n), int(i), lo, hi) for t, s, n, i, lo, hi in rows]


def last_runs(store: EventStore, count: int) -> list[RunFigures]:
    """The ``count`` most recently finished runs, newest first."""
    finished = store.query(EventFilter(types=[RunFinished.TYPE], newest=True), count)
    starts = store.read_streams(e.stream for e in finished)
    runs = []
    for event in reversed(finished):
        start = next((e for e in starts[event.stream] if e.type == RunStarted.TYPE), None)
        data: dict[str, Any] = event.data
        begun: dict[str, Any] = start.data if start else {}
        runs.append(
            RunFigures(
                run_id=str(data.get("run_id")),
                report_id=begun.get("report_id"),
                mode=begun.get("mode"),
                started_at=start.recorded_at if start else None,
                finished_at=event.recorded_at,
                outcome=str(data.get("outcome")),
                duration_s=round(float(data.get("duration_ms", 0.0)) / 1000, 3),
                stats=dict(data.get("stats") or {}),
            )
        )
    return runs


def stats(
    runs: int = typer.Option(10, "--runs", min=0, max=1000, help="How many recent runs to show."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Actions by type and status (the action log, caught up first) and the last runs."""
    with open_store() as store:
        applied = catch_up_all(store.connection, store.schema)
        counts = action_counts(store)
        recent = last_runs(store, runs) if runs else []
    if json_output:
        totals: dict[str, int] = {}
        for item in counts:
            totals[item.status] = totals.get(item.status, 0) + item.count
        echo_json({"actions": counts, "totals": totals, "runs": recent, "caught_up": applied})
        return
    print_stats(counts, recent)


def print_stats(counts: list[StatusCount], recent: list[RunFigures]) -> None:
    if counts:
        table = Table(
            "action type",
            "status",
            "count",
            "imported",
            "first (UTC)",
            "last (UTC)",
            title="actions by type and status",
        )
        for item in counts:
            table.add_row(
                item.action_type,
                item.status,
                str(item.count),
                str(item.imported or ""),
                when(item.first_executed),
                when(item.last_executed),
            )
        console.print(table)
    else:
        console.print("no actions recorded yet")
    if not recent:
        console.print("no finished runs yet")
        return
    table = Table(
        "run",
        "report",
        "mode",
        "finished (UTC)",
        "outcome",
        "s",
        *RUN_COLUMNS,
        title=f"last {len(recent)} run(s)",
    )
    for run in recent:
        table.add_row(
            short(run.run_id),
            "" if run.report_id is None else str(run.report_id),
            run.mode or "",
            when(run.finished_at),
            run.outcome,
            f"{run.duration_s:.1f}",
            *(str(run.stats.get(key, 0)) for key in RUN_COLUMNS),
        )
    console.print(table)
