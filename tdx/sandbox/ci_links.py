"""Linking a ticket and a configuration item, from either side (the ticket's endpoints or the
CI's/asset's mirror endpoints): one store change, one effect shape."""

from __future__ import annotations

from .calls import Call
from .tenant import Ticket
from .wire import Response, empty_response


def link_ci(call: Call, ticket: Ticket, ci_id: int, kind: str, item_id: int) -> Response:
    """Link ``ci_id`` to ``ticket`` (a no-op when linked already) and report the effect."""
    return _respond(call, ticket, ci_id, kind, item_id, call.store.link_ci(ticket, ci_id))


def unlink_ci(call: Call, ticket: Ticket, ci_id: int, kind: str, item_id: int) -> Response:
    """Unlink ``ci_id`` from ``ticket`` (a no-op when not linked) and report the effect."""
    return _respond(call, ticket, ci_id, kind, item_id, call.store.unlink_ci(ticket, ci_id))


def _respond(
    call: Call, ticket: Ticket, ci_id: int, kind: str, item_id: int, changed: bool
) -> Response:
    # Only a real change touches the ticket: a repeated link leaves its Modified date alone.
    if changed:
        call.store.touched(ticket, call.now, call.actor_uid())
    effect = {
        "kind": kind,
        "ticket_id": ticket.id,
        "item_id": item_id,
        "ci_id": ci_id,
        "changed": changed,
    }
    return empty_response(200, effect=effect)
