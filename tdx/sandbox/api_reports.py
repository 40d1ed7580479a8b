"""`GET reports`, `GET reports/{id}?withData=&dataSortExpression=`, `POST reports/search`."""

from __future__ import annotations

from typing import Any

from . import render
from .binding import query_flag
from .calls import Call
from .errors import ApiError
from .tenant import Report, Ticket
from .wire import Response, json_response


def _report(call: Call) -> Report:
    report = call.store.reports_by_id.get(call.int_param("id"))
    if report is None:
        raise ApiError(404, f"Report {call.params['id']} was not found.")
    return report


def parse_sort(expression: str, report: Report) -> tuple[str, bool]:
    """`dataSortExpression` is `Column [ASC|DESC]`; empty means the report's own order."""
    words = expression.split()
    if not words:
        return report.sort_column, report.sort_ascending
    column = next((c for c in report.columns if c.lower() == words[0].lower()), None)
    if column is None:
        raise ApiError(400, f"The sort column '{words[0]}' is not a column of report {report.id}.")
    direction = words[1].upper() if len(words) > 1 else "ASC"
    if direction not in ("ASC", "DESC") or len(words) > 2:
        raise ApiError(400, f"Invalid dataSortExpression '{expression}' (use 'Column ASC|DESC').")
    return column, direction == "ASC"


def sorted_tickets(call: Call, report: Report, column_name: str, ascending: bool) -> list[Ticket]:
    column = render.report_column(call.store, column_name)

    def key(t: Ticket) -> tuple[bool, Any, int]:
        value = column.value(call.store, t)
        return (value is None, value if value is not None else 0, t.id)

    ordered = sorted(call.store.report_tickets(report), key=key, reverse=not ascending)
    return ordered[: report.max_results] if report.max_results > 0 else ordered


def get_report(call: Call) -> Response:
    report = _report(call)
    with_data = query_flag(call.request.query, "withData", default=False)
    rows = None
    if with_data:
        column, ascending = parse_sort(call.request.query.get("datasortexpression", ""), report)
        rows = render.report_rows(
            call.store, report, sorted_tickets(call, report, column, ascending)
        )
    return json_response(render.report(call.store, report, rows))


def list_reports(call: Call) -> Response:
    return json_response([render.report_info(call.store, r) for r in call.store.tenant.reports])


def search_reports(call: Call) -> Response:
    body = call.body("ReportSearch")
    text = (body.text("SearchText") or "").lower()
    app_id = body.optional_integer("ForAppID")
    found = [
        r
        for r in call.store.tenant.reports
        if text in r.name.lower() and (app_id in (None, 0, call.store.settings.ticket_app_id))
    ]
    return json_response([render.report_info(call.store, r) for r in found])
