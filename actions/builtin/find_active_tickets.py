"""find_active_tickets: list the other active tickets of the same requestor, computers and lab.

Three categories, each one ticket search (the API takes lists, so all of the ticket's computer
CIs go into one ``ConfigurationItemIDs`` list, and the lab CI(s) into another), narrowed to the
configured active status ids. Tickets are shown once, in the first category that found them
(requestor, then computers, then lab), newest change first, at most
``max_tickets_per_category`` per category. The result is a summary only — no TDX writes — with
every value from TDX escaped and links built from the configured web URL and integer ids.

A failing search: with ``show_partial_on_error`` the other categories are still shown, with an
escaped note; otherwise (or when every search failed) the action fails and is retried.

When nothing is found the action completes with a one-line summary saying so (as the seed did):
the check ran and its result is recorded, and it is not repeated on every change of the ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tdxq.actions import identity
from tdxq.actions.base import ActionBase
from tdxq.actions.html import (
    Html,
    TicketLinker,
    TicketRow,
    element,
    join,
    text_ticket_table,
    ticket_table,
)
from tdxq.actions.protocol import (
    ActionContext,
    ActionError,
    Completed,
    Outcome,
    ReconcileVerdict,
    Reconciliation,
)
from tdxq.actions.registry import register_action
from tdxq.tdx.errors import TdxError
from tdxq.tdx.models import Ticket, TicketSearch

from .discovery_support import TicketLinks, action_error, is_lab, ticket_links

Category = Literal["requestor", "asset", "lab"]

CATEGORY_TITLES: dict[Category, str] = {
    "requestor": "Other active tickets of the requestor",
    "asset": "Active tickets on the same computer(s)",
    "lab": "Active tickets of the same lab",
}


class FindActiveTicketsOptions(BaseModel):
    """Options of ``find_active_tickets``; status and lab ids are the tenant's, given here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    exclude_current_ticket: bool = True
    max_tickets_per_category: int = Field(default=10, ge=1, le=100)
    active_status_ids: list[int] = Field(
        min_length=1, description="ticket status ids that count as active"
    )
    lab_type_id: int | None = Field(default=None, gt=0, description="CMDB type id of lab CIs")
    lab_form_id: int | None = Field(default=None, gt=0, description="form id of lab CIs")
    show_partial_on_error: bool = True

    @model_validator(mode="after")
    def _recognisable(self) -> FindActiveTicketsOptions:
        if self.lab_type_id is None and self.lab_form_id is None:
            raise ValueError("lab_type_id or lab_form_id (or both) is needed to recognise labs")
        return self


# --- pure decisions -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CategorySearch:
    category: Category
    search: TicketSearch


def category_searches(
    ticket: Ticket, links: TicketLinks, opts: FindActiveTicketsOptions
) -> list[CategorySearch]:
    """One search per category that applies to this ticket (requestor, computers, lab).

    ``max_results`` leaves room for the current ticket; tickets already shown by an earlier
    category are taken out afterwards, so a category may show fewer than the cap.
    """
    cap = opts.max_tickets_per_category + (1 if opts.exclude_current_ticket else 0)
    statuses = sorted(set(opts.active_status_ids))
    labs = [item.id for item in links.items if is_lab(item, opts.lab_type_id, opts.lab_form_id)]
    computers = [
        item.id for item in links.computers if not is_lab(item, opts.lab_type_id, opts.lab_form_id)
    ]
    searches: list[CategorySearch] = []
    if ticket.requestor_uid:
        searches.append(
            CategorySearch(
                "requestor",
                TicketSearch(
                    requestor_uids=[ticket.requestor_uid], status_ids=statuses, max_results=cap
                ),
            )
        )
    by_ci: list[tuple[Category, list[int]]] = [("asset", computers), ("lab", labs)]
    for category, ci_ids in by_ci:
        if ci_ids:
            searches.append(
                CategorySearch(
                    category,
                    TicketSearch(
                        configuration_item_ids=sorted(set(ci_ids)),
                        status_ids=statuses,
                        max_results=cap,
                    ),
                )
            )
    return searches


_OLDEST = datetime.min.replace(tzinfo=UTC)


def select_rows(
    found: Sequence[tuple[Category, Sequence[Ticket]]],
    *,
    current_ticket_id: int,
    exclude_current: bool,
    active_status_ids: Sequence[int],
    cap: int,
) -> dict[Category, list[TicketRow]]:
    """Per category: each ticket once (first category wins), newest first, at most ``cap``.

    The status filter is applied again here: a search that ignored it must not show closed
    tickets as active.
    """
    seen: set[int] = set()
    if exclude_current:
        seen.add(current_ticket_id)
    active = set(active_status_ids)
    result: dict[Category, list[TicketRow]] = {}
    for category, tickets in found:
        fresh: list[Ticket] = []
        for ticket in tickets:
            if ticket.id in seen or (
                ticket.status_id is not None and ticket.status_id not in active
            ):
                continue
            seen.add(ticket.id)
            fresh.append(ticket)
        fresh.sort(key=lambda t: (t.modified_date or _OLDEST, t.id), reverse=True)
        result[category] = [
            TicketRow(id=t.id, title=t.title, status=t.status_name, modified=t.modified_date)
            for t in fresh[:cap]
        ]
    return result


@dataclass(slots=True)
class Findings:
    rows: dict[Category, list[TicketRow]] = field(default_factory=dict)
    searched: list[Category] = field(default_factory=list)
    errors: dict[Category, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


# --- the action -----------------------------------------------------------------------------


@register_action
class FindActiveTickets(ActionBase[FindActiveTicketsOptions]):
    """Summarize the other active tickets of the same requestor, computers and lab."""

    TYPE: ClassVar[str] = "find_active_tickets"
    Options: ClassVar[type[BaseModel]] = FindActiveTicketsOptions

    def legacy_fields(self) -> dict[str, Any]:
        opts = self.options
        overrides: dict[str, Any] = {
            "exclude_current_ticket": opts.exclude_current_ticket,
            "max_tickets_per_category": opts.max_tickets_per_category,
            "active_status_ids": list(opts.active_status_ids),
            "show_partial_on_error": opts.show_partial_on_error,
        }
        if opts.lab_type_id is not None:
            overrides["lab_type_id"] = opts.lab_type_id
        return identity.legacy_fields(self.TYPE, overrides)

    def _searches(self, ctx: ActionContext) -> list[CategorySearch]:
        return category_searches(ctx.reads.ticket(), ticket_links(ctx), self.options)

    def describe(self, ctx: ActionContext) -> str:
        try:
            searches = self._searches(ctx)
        except TdxError as exc:
            return f"would fail to decide: {exc}"
        if not searches:
            return "nothing to search: no requestor, computer or lab on the ticket"
        names = ", ".join(search.category for search in searches)
        return f"search active tickets by {names} and summarize them (no TDX writes)"

    def execute(self, ctx: ActionContext) -> Outcome:
        opts = self.options
        try:
            searches = self._searches(ctx)
        except TdxError as exc:
            raise action_error(exc, "reading the ticket") from exc
        found: list[tuple[Category, Sequence[Ticket]]] = []
        findings = Findings()
        last_error: ActionError | None = None
        for item in searches:
            findings.searched.append(item.category)
            try:
                found.append((item.category, ctx.reads.search_tickets(item.search)))
            except TdxError as exc:
                doing = f"searching the {item.category} category"
                if not opts.show_partial_on_error:
                    raise action_error(exc, doing) from exc
                findings.errors[item.category] = str(exc)
                last_error = action_error(exc, doing)
        if last_error is not None and len(findings.errors) == len(findings.searched):
            raise last_error  # nothing to show: fail, so a later attempt can do better
        findings.rows = select_rows(
            found,
            current_ticket_id=ctx.ticket_id,
            exclude_current=opts.exclude_current_ticket,
            active_status_ids=opts.active_status_ids,
            cap=opts.max_tickets_per_category,
        )
        return Completed(
            summary=str(summary_html(findings, ctx.tenant)),  # plain str: it goes into an event
            details={
                "searched": findings.searched,
                "ticket_ids": {
                    cat: [row.id for row in rows] for cat, rows in findings.rows.items()
                },
                "errors": findings.errors,
                "text": summary_text(findings, ctx.tenant),
            },
        )

    def reconcile(self, ctx: ActionContext) -> Reconciliation:
        # It writes nothing to TDX, so there is nothing to look for: running again is harmless.
        return Reconciliation(ReconcileVerdict.NOT_FOUND, note="no TDX effect; run again")


# --- rendering ------------------------------------------------------------------------------


def summary_html(findings: Findings, tenant: TicketLinker) -> Html:
    """The related tickets as escaped HTML tables, with a note per failed category."""
    parts: list[Html] = [element("p", element("strong", "Related active tickets"))]
    for category, rows in findings.rows.items():
        if rows:
            parts.append(element("p", f"{CATEGORY_TITLES[category]} ({len(rows)})"))
            parts.append(ticket_table(rows, tenant))
    if not findings.total:
        parts = [element("p", _nothing_text(findings))]
    for category, error in findings.errors.items():
        parts.append(element("p", element("em", f"Could not search {category} tickets: {error}")))
    return join([Html("<div>"), *parts, Html("</div>")])


def summary_text(findings: Findings, tenant: TicketLinker) -> str:
    """The plain-text form of ``summary_html``."""
    lines: list[str] = []
    for category, rows in findings.rows.items():
        if rows:
            lines.append(f"{CATEGORY_TITLES[category]} ({len(rows)}):")
            lines.append(text_ticket_table(rows, tenant))
    if not findings.total:
        lines = [_nothing_text(findings)]
    lines.extend(f"Could not search {cat} tickets: {err}" for cat, err in findings.errors.items())
    return "\n".join(lines)


def _nothing_text(findings: Findings) -> str:
    searched = [cat for cat in findings.searched if cat not in findings.errors]
    if not searched:
        return "No related active tickets: the ticket has no requestor, computer or lab."
    return f"No related active tickets (searched by {', '.join(searched)})."
