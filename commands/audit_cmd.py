"""`tdxq audit …`: what tdxq saw and did, read from the event log (never from a projection).

- ``audit ticket ID``: the ticket's timeline, its actions with every attempt
- ``audit action ACTION_ID``: every ticket the action touched and how it stands there
- ``audit run RUN_ID``: what one run saw and did
- ``audit events``: events by type, stream and time
- ``audit why TICKET_ID ACTION_ID``: the decision on that step now, its rule, the action's state

Every command prints tables, or one JSON document with ``--json``.
"""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import typer
from rich.console import Console

from tdxq.eventlog import utc_now
from tdxq.eventlog.events import ticket_stream
from tdxq.eventlog.store import EventFilter
from tdxq.projectors.ticket_state import fold
from tdxq.projectors.timeline import ticket_timeline

from .audit_queries import action_standing, run_view
from .audit_render import print_action, print_events, print_run, print_ticket, print_why
from .audit_why import explain
from .database import fail, open_store
from .events_cmd import event_json
from .json_out import echo_json, plain
from .legacy_import import legacy_id_map
from .process import pipeline_steps
from .runtime import load_config_or_exit
from .time_args import BadMoment, parse_window

audit_app = typer.Typer(
    help="Audit what tdxq saw and did: tickets, actions, runs, events, decisions.",
    no_args_is_help=True,
)
console = Console()

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of tables.")


@audit_app.command("ticket")
def audit_ticket(
    ticket_id: int = typer.Argument(..., help="The TDX ticket id."),
    json_output: bool = JSON_OPTION,
) -> None:
    """The ticket's timeline: seen, left, each action with its attempts, errors, effects, run
    and worker."""
    with open_store() as store:
        events = store.read_stream(ticket_stream(ticket_id))
    if not events:
        raise fail(f"no events for ticket {ticket_id} (stream {ticket_stream(ticket_id)})", 1)
    timeline = ticket_timeline(ticket_id, events, utc_now())
    if json_output:
        echo_json(timeline)
        return
    print_ticket(console, timeline)


@audit_app.command("action")
def audit_action(
    action_id: str = typer.Argument(..., help="An action id, e.g. add_asset:5d3c770d91e1:v2."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Every ticket the action touched and how it stands there (summary instances included)."""
    with open_store() as store:
        report = action_standing(store, action_id, utc_now())
    if json_output:
        echo_json({**_fields(report), "ticket_count": report.ticket_count})
        return
    if not report.tickets:
        raise fail(f"no ticket has an event of action {action_id!r}", 1)
    print_action(console, report)


@audit_app.command("run")
def audit_run(
    run_id: str = typer.Argument(..., help="The run id (the correlation id of its events)."),
    limit: int = typer.Option(10_000, "--limit", min=1, help="At most this many events."),
    show: int = typer.Option(50, "--show", min=0, help="Action events to list in the table."),
    json_output: bool = JSON_OPTION,
) -> None:
    """What one run saw and did: its figures and every event it appended."""
    try:
        run = UUID(run_id)
    except ValueError:
        raise typer.BadParameter(
            f"expected a UUID, found {run_id!r}", param_hint="RUN_ID"
        ) from None
    with open_store() as store:
        view = run_view(store, run, limit)
    if not view.events and view.started is None:
        raise fail(f"no events of run {run}", 1)
    if json_output:
        payload = _fields(view)
        payload["events"] = [event_json(e) for e in view.events]
        echo_json(payload)
        return
    print_run(console, view, show)


@audit_app.command("events")
def audit_events(
    types: list[str] | None = typer.Option(
        None, "--type", help="Only events of this type (repeat for several)."
    ),
    stream: str | None = typer.Option(None, "--stream", help="Only this stream, e.g. ticket:42."),
    since: str | None = typer.Option(
        None, "--since", help="From this time: ISO timestamp or date, or an age like 24h, 7d."
    ),
    until: str | None = typer.Option(None, "--until", help="Before this time (same forms)."),
    limit: int = typer.Option(100, "--limit", min=1, max=100_000, help="At most this many."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Events by type, stream and time, oldest first: the first LIMIT from --since, else the
    latest LIMIT."""
    try:
        start, end = parse_window(since, until, utc_now())
    except BadMoment as exc:
        raise typer.BadParameter(str(exc)) from None
    where = EventFilter(
        stream=stream, types=types or (), since=start, until=end, newest=start is None
    )
    with open_store() as store:
        events = store.query(where, limit)
    if json_output:
        echo_json({"events": [event_json(e) for e in events], "count": len(events)})
        return
    print_events(console, events)


@audit_app.command("why")
def audit_why(
    ticket_id: int = typer.Argument(..., help="The TDX ticket id."),
    action_id: str = typer.Argument(..., help="A configured action id (or the seed's id of one)."),
    config: Path | None = typer.Option(
        None, "--config", envvar="TDXQ_CONFIG", help="Pipeline configuration (./tdxq.toml)."
    ),
    json_output: bool = JSON_OPTION,
) -> None:
    """Why the action did or did not run: the decision now, its rule, and the action's state."""
    loaded = load_config_or_exit(config)
    pipelines = {r: pipeline_steps(loaded.pipeline_for(r)) for r in loaded.reports}
    with open_store() as store:
        events = store.read_stream(ticket_stream(ticket_id))
    if not events:
        raise fail(f"no events for ticket {ticket_id}: tdxq has never seen it", 1)
    state = fold(ticket_id, events, strict=False)
    answers = explain(
        state, action_id, pipelines, utc_now(), loaded.retry, legacy_ids=legacy_id_map(loaded)
    )
    if json_output:
        echo_json({"answers": answers})
        return
    if not answers:
        raise fail("the configuration lists no [reports]", 2)
    print_why(console, answers)


def _fields(value: object) -> dict[str, object]:
    result = plain(value)
    assert isinstance(result, dict)
    return result
