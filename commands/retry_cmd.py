"""`tdxq retry`: ask for another try of permanently failed actions (see retries.py)."""

from __future__ import annotations

import getpass
import uuid

import typer
from rich.console import Console
from rich.table import Table

from tdxq.eventlog import process_metadata, utc_now

from .audit_render import clip, when
from .database import open_store
from .json_out import echo_json, plain
from .retries import Refusal, RequestedRetry, RetryTarget, request_retries, select_on_tickets
from .retries import tickets_with_failures as failing_tickets
from .time_args import BadMoment, parse_moment

console = Console()

DEFAULT_REASON = "requested with tdxq retry"


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        return "unknown"


def retry(
    ticket: int | None = typer.Option(
        None, "--ticket", help="Retry failed actions of this ticket."
    ),
    action: str | None = typer.Option(
        None, "--action", help="Only this action id (a summary action includes its instances)."
    ),
    failed: bool = typer.Option(
        False, "--failed", help="Retry every permanently failed action (see --since)."
    ),
    since: str | None = typer.Option(
        None, "--since", help="Only failures recorded since: an age like 24h or a timestamp."
    ),
    action_type: str | None = typer.Option(
        None, "--action-type", help="Only actions of this type, e.g. add_asset."
    ),
    reason: str = typer.Option(DEFAULT_REASON, "--reason", help="Why: kept in the event."),
    by: str | None = typer.Option(None, "--by", help="Who asks (default: your OS user name)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be requested."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Append retry_requested events for permanently failed actions; the next pass runs them.

    Nothing is updated or deleted. Exit 1 when --ticket names nothing failed.
    """
    if (ticket is None) == (not failed):
        raise typer.BadParameter("give --ticket ID or --failed (one of the two)")
    if not reason.strip():
        raise typer.BadParameter("must not be empty", param_hint="--reason")
    try:
        start = parse_moment(since, utc_now()) if since is not None else None
    except BadMoment as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from None
    requested_by = (by or os_user()).strip() or "unknown"
    with open_store() as store:
        tickets = (
            [ticket]
            if ticket is not None
            else failing_tickets(store, since=start, action_type=action_type)
        )
        selection = select_on_tickets(
            store, tickets, action_id=action, action_type=action_type, since=start
        )
        if dry_run or not selection.targets:
            done = [RequestedRetry(t, None) for t in selection.flat]
        else:
            metadata = process_metadata(
                correlation_id=uuid.uuid4(), actor=f"tdxq retry ({requested_by})"
            )
            done = request_retries(
                store, selection, requested_by=requested_by, reason=reason, metadata=metadata
            )
    if json_output:
        echo_json(
            {
                "dry_run": dry_run,
                "requested_by": requested_by,
                "reason": reason,
                "requested": [{**_target_json(r.target), "position": r.position} for r in done],
                "not_failed": selection.refused,
            }
        )
    else:
        print_result(done, selection.refused, dry_run, requested_by)
    if ticket is not None and not done:
        raise typer.Exit(1)


def _target_json(target: RetryTarget) -> dict[str, object]:
    result = plain(target)
    assert isinstance(result, dict)
    return result


def print_result(
    done: list[RequestedRetry], refused: list[Refusal], dry_run: bool, requested_by: str
) -> None:
    if done:
        verb = "would request" if dry_run else "requested"
        table = Table(
            "ticket",
            "action",
            "attempts",
            "failed at (UTC)",
            "last error",
            title=f"{verb} {len(done)} retr{'y' if len(done) == 1 else 'ies'} as {requested_by}",
        )
        for item in done:
            t = item.target
            table.add_row(
                str(t.ticket_id),
                t.action_id,
                str(t.attempts),
                when(t.failed_at),
                clip(f"{t.last_error_type}: {t.last_error}" if t.last_error else "", 60),
            )
        console.print(table)
        if not dry_run:
            console.print("the next pass (tdxq run) runs them again", highlight=False)
    else:
        console.print("nothing failed to retry", highlight=False)
    for refusal in refused:
        console.print(
            f"ticket {refusal.ticket_id}: {refusal.action_id} is {refusal.status} — "
            "a retry applies only to permanently failed actions",
            highlight=False,
        )
