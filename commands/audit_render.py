"""Rich tables for ``tdxq audit``: what a person reads (``--json`` prints the same facts)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from tdxq.eventlog import RecordedEvent
from tdxq.projectors.timeline import ActionHistory, TicketTimeline

from .audit_queries import ActionReport, RunView
from .audit_why import WhyAnswer

TIME = "%Y-%m-%d %H:%M:%S"


def when(value: datetime | None) -> str:
    return value.strftime(TIME) if value is not None else "—"


def short(value: str | None, width: int = 8) -> str:
    """Run and event ids cut to their first characters (``--json`` has them whole)."""
    return value[:width] if value else "—"


def clip(text: str | None, width: int = 70) -> str:
    if not text:
        return ""
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= width else one_line[: width - 1] + "…"


def print_ticket(console: Console, timeline: TicketTimeline) -> None:
    reports = ", ".join(map(str, timeline.on_reports)) or "none"
    left = ", ".join(map(str, timeline.left_reports))
    console.print(
        f"[bold]ticket {timeline.ticket_id}[/bold]: {len(timeline.entries)} event(s), on "
        f"report(s) {reports}" + (f"; left {left}" if left else ""),
        highlight=False,
    )
    events = Table("ver", "recorded (UTC)", "event", "action", "run", "what", title="timeline")
    for entry in timeline.entries:
        action = entry.action_id or ""
        if entry.attempt is not None:
            action += f" #{entry.attempt}"
        events.add_row(
            str(entry.at.version),
            when(entry.at.recorded_at),
            entry.at.type,
            action,
            short(entry.at.run_id),
            clip(entry.text, 90),
        )
    console.print(events)
    if timeline.actions:
        console.print(actions_table(timeline.actions))
        console.print(attempts_table(timeline.actions))
    for anomaly in timeline.anomalies:
        console.print(
            f"[red]rejected event[/red] v{anomaly.version} {anomaly.event_type}: {anomaly.message}",
            highlight=False,
        )


def _flags(history: ActionHistory) -> str:
    marks = (
        ("reconciled", history.reconciled),
        ("imported", history.imported),
        ("needs review", history.needs_review),
    )
    return ", ".join(name for name, on in marks if on)


def actions_table(histories: Sequence[ActionHistory]) -> Table:
    table = Table("action", "status", "attempts", "effects", "last error", "flags", title="actions")
    for history in histories:
        status = history.status.value
        if history.next_attempt_at is not None:
            status += f" (next {when(history.next_attempt_at)})"
        started = sum(1 for a in history.attempts if a.started is not None)
        table.add_row(
            history.action_id,
            status,
            str(started),
            str(len(history.effects)),
            clip(history.last_error, 60),
            _flags(history),
        )
    return table


def attempts_table(histories: Sequence[ActionHistory]) -> Table:
    table = Table(
        "action",
        "#",
        "started",
        "worker",
        "run",
        "outcome",
        "finished",
        "effects / error",
        title="attempts",
    )
    for history in histories:
        for attempt in history.attempts:
            effects = ", ".join(
                f"{e.get('kind')} {e.get('target_id') or ''}".strip() for e in attempt.effects
            )
            said = attempt.error or attempt.skip_reason or ""
            outcome = attempt.outcome + (" (imported)" if attempt.imported else "")
            outcome += " (reconciled)" if attempt.reconciled else ""
            table.add_row(
                history.action_id,
                str(attempt.attempt),
                when(attempt.started.recorded_at if attempt.started else None),
                attempt.worker or "—",
                short(attempt.run_id),
                outcome,
                when(attempt.finished.recorded_at if attempt.finished else None),
                clip("; ".join(x for x in (effects, said) if x), 70),
            )
    return table


def print_action(console: Console, report: ActionReport) -> None:
    counts = ", ".join(f"{status} {n}" for status, n in report.counts.items()) or "none"
    console.print(
        f"[bold]{report.action_id}[/bold]: {report.ticket_count} ticket(s) — {counts}",
        highlight=False,
    )
    if not report.tickets:
        return
    table = Table(
        "ticket", "instance", "status", "attempts", "updated (UTC)", "last error", "flags"
    )
    for item in report.tickets:
        marks = (
            ("imported", item.imported),
            ("reconciled", item.reconciled),
            ("needs review", item.needs_review),
        )
        instance = item.instance_id if item.instance_id != report.action_id else ""
        table.add_row(
            str(item.ticket_id),
            instance,
            item.status.value,
            str(item.attempts),
            when(item.updated_at),
            clip(item.last_error, 60),
            ", ".join(name for name, on in marks if on),
        )
    console.print(table)


def print_run(console: Console, view: RunView, show_actions: int) -> None:
    started = view.started or {}
    finished = view.finished or {}
    report = started.get("report_id")
    console.print(
        f"[bold]run {view.run_id}[/bold]"
        + (f" of report {report}" if report is not None else "")
        + f" ({started.get('mode', 'no run_started event')}): "
        + f"started {when(view.started_at)}, "
        + (
            f"{finished.get('outcome')} {when(view.finished_at)}"
            if view.finished
            else "no run_finished event"
        ),
        highlight=False,
    )
    if finished.get("error"):
        console.print(f"[red]error:[/red] {finished['error']}", highlight=False)
    figures = Table("figure", "value", title="figures (run_finished)")
    for key, value in (finished.get("stats") or {}).items():
        figures.add_row(str(key), str(value))
    if finished:
        console.print(figures)
    events = Table("event type", "count", title=f"{len(view.events)} event(s) of this run")
    for type_, count in view.counts.items():
        events.add_row(type_, str(count))
    console.print(events)
    if view.outcomes:
        kinds = sorted({k for counts in view.outcomes.values() for k in counts})
        table = Table("action type", *kinds, title="action events by type")
        for action_type, counts in view.outcomes.items():
            table.add_row(action_type, *(str(counts.get(k, 0)) for k in kinds))
        console.print(table)
    console.print(
        f"tickets seen (new or changed): {len(view.tickets_seen)}; "
        f"left the report: {len(view.tickets_left)}",
        highlight=False,
    )
    if view.actions and show_actions:
        table = Table("pos", "ticket", "action", "event", "#", "what", title="actions")
        for item in view.actions[:show_actions]:
            table.add_row(
                str(item.position),
                str(item.ticket_id or ""),
                item.action_id,
                item.event,
                str(item.attempt if item.attempt is not None else ""),
                clip(item.detail, 70),
            )
        console.print(table)
        hidden = len(view.actions) - show_actions
        if hidden > 0:
            console.print(f"… and {hidden} more (--json lists every one)")
    if view.truncated:
        console.print("[yellow]the run has more events than --limit; figures cover the first[/]")


def print_events(console: Console, events: Sequence[RecordedEvent]) -> None:
    if not events:
        console.print("no matching events")
        return
    table = Table("pos", "recorded (UTC)", "stream", "ver", "type", "run", "data")
    for event in events:
        data = orjson.dumps(event.data).decode()
        table.add_row(
            str(event.position),
            when(event.recorded_at),
            event.stream,
            str(event.version),
            event.type,
            short(_text(event.metadata.get("correlation_id"))),
            clip(data, 70),
        )
    console.print(table)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def print_why(console: Console, answers: Sequence[WhyAnswer]) -> None:
    for answer in answers:
        colour = {"due": "green", "not_due": "yellow"}.get(answer.verdict, "red")
        verdict = answer.verdict.replace("_", " ").upper()
        reason = f" — {answer.reason}" if answer.reason else ""
        console.print(
            f"ticket {answer.ticket_id}, {answer.action_id}, report {answer.report_id}: "
            f"[bold {colour}]{verdict}[/]{reason}",
            highlight=False,
        )
        if answer.asked_legacy_id:
            console.print(f"({answer.asked} is the seed's id of {answer.action_id})")
        console.print(f"  rule: {answer.rule}", highlight=False)
        extra = [
            ("detail", answer.detail),
            ("kind", answer.kind or ""),
            ("until", when(answer.until) if answer.until else ""),
            ("blocked by", answer.blocked_by or ""),
        ]
        for label, value in extra:
            if value:
                console.print(f"  {label}: {value}", highlight=False)
        facts = answer.facts
        table = Table("state", "value", title=f"state of {facts.instance_id}")
        rows: list[tuple[str, str]] = [
            ("status (now)", facts.status),
            ("status (recorded)", facts.recorded_status),
            (
                "attempts",
                f"{facts.attempts} ({facts.attempts_in_series} of {facts.max_attempts} "
                "in this series)",
            ),
            (
                "last error",
                f"{facts.last_error_type or ''}: {facts.last_error}" if facts.last_error else "—",
            ),
            ("retryable", "—" if facts.retryable is None else str(facts.retryable).lower()),
            ("next attempt", when(facts.next_attempt_at)),
            ("lease until", when(facts.lease_expires_at)),
            ("worker", facts.worker or "—"),
            ("run", facts.run_id or "—"),
            ("skip reason", facts.skip_reason or "—"),
            ("retry requests", str(facts.retry_requests)),
            (
                "flags",
                ", ".join(
                    name
                    for name, on in (
                        ("imported", facts.imported),
                        ("reconciled", facts.reconciled),
                        ("needs review", facts.needs_review),
                    )
                    if on
                )
                or "—",
            ),
        ]
        for label, value in rows:
            table.add_row(label, value)
        console.print(table)
