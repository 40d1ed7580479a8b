"""`tdxq events …`: look at the raw event log."""

from __future__ import annotations

from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from tdxq.eventlog import RecordedEvent
from tdxq.eventlog.store import EventFilter

from .database import open_store

events_app = typer.Typer(help="Inspect the raw event log.", no_args_is_help=True)


def event_json(event: RecordedEvent) -> dict[str, Any]:
    return {
        "position": event.position,
        "event_id": str(event.event_id),
        "stream": event.stream,
        "version": event.version,
        "type": event.type,
        "data": event.data,
        "metadata": event.metadata,
        "recorded_at": event.recorded_at.isoformat(),
    }


@events_app.command("tail")
def tail(
    stream: str | None = typer.Option(None, help="Only this stream, e.g. ticket:9291804."),
    type_: str | None = typer.Option(None, "--type", help="Only this event type."),
    limit: int = typer.Option(20, min=1, max=100_000, help="How many of the latest events."),
    json_output: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Show the latest events, oldest first."""
    with open_store() as store:
        where = EventFilter(stream=stream, types=[type_] if type_ else [], newest=True)
        events = store.query(where, limit)
    if json_output:
        for event in events:
            typer.echo(orjson.dumps(event_json(event)).decode())
        return
    console = Console()
    if not events:
        console.print("the event log is empty" if not (stream or type_) else "no matching events")
        return
    table = Table("pos", "recorded (UTC)", "stream", "ver", "type", "data")
    for event in events:
        data = orjson.dumps(event.data).decode()
        table.add_row(
            str(event.position),
            event.recorded_at.strftime("%Y-%m-%d %H:%M:%S"),
            event.stream,
            str(event.version),
            event.type,
            data if len(data) <= 80 else data[:77] + "…",
        )
    console.print(table)
