"""A minimal stand-in for TDX's ticket web page, so links that the daemon renders
(`{web}/Apps/{appId}/Tickets/TicketDet?TicketID={id}`) open something real."""

from __future__ import annotations

import html
import re

from .binding import query_int
from .store import TenantStore
from .wire import HTML_TYPE, Request, Response, error_response

_TICKET_PAGE = re.compile(r"^/tdnext/apps/(\d+)/tickets/ticketdet$", re.IGNORECASE)


def web_page(store: TenantStore, request: Request) -> Response:
    match = _TICKET_PAGE.match(request.path)
    if match is None or request.method != "GET":
        return error_response(404, "Page not found.")
    ticket = store.tickets_by_id.get(query_int(request.query, "TicketID", 0))
    if ticket is None or ticket.app_id != int(match.group(1)):
        return error_response(404, "Ticket not found.")
    status = store.status(ticket.status_id)
    feed = "".join(
        f"<li><small>{html.escape(e.created.isoformat())}</small> {html.escape(e.body)}</li>"
        for e in store.feed_for(ticket.id)
    )
    page = (
        "<!doctype html><meta charset='utf-8'>"
        f"<title>Ticket {ticket.id}</title>"
        f"<h1>{ticket.id}: {html.escape(ticket.title)}</h1>"
        f"<p>Status: {html.escape(status.name if status else '')}</p>"
        f"<pre>{html.escape(ticket.description.replace(chr(0), ''))}</pre>"
        f"<h2>Feed</h2><ul>{feed}</ul>"
    )
    return Response(status=200, body=page.encode("utf-8"), content_type=HTML_TYPE)
