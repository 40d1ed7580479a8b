"""Ticket endpoints: the ticket, its feed, its assets and CIs, search, statuses, PATCH."""

from __future__ import annotations

from . import render
from .binding import Body, query_int
from .calls import Call
from .ci_links import link_ci, unlink_ci
from .errors import ApiError
from .patch import apply_ticket_patch
from .tenant import FeedEntry, Ticket
from .wire import Response, json_response

DEFAULT_SEARCH_MAX = 300
COMPLETED_CLASSES = (3, 4)


def _ticket(call: Call) -> Ticket:
    ticket = call.store.tickets_by_id.get(call.int_param("id"))
    if ticket is None or ticket.app_id != call.int_param("app"):
        raise ApiError(404, f"Ticket {call.params['id']} was not found.")
    return ticket


def get_ticket(call: Call) -> Response:
    return json_response(render.ticket(call.store, _ticket(call), call.now))


def get_feed(call: Call) -> Response:
    ticket = _ticket(call)
    entries = call.store.feed_for(ticket.id)
    top = query_int(call.request.query, "top", 0)
    if top > 0:
        entries = entries[:top]
    return json_response([render.feed_entry(call.store, e, ticket) for e in entries])


def _notify_list(body: Body) -> list[str]:
    raw = body.raw("Notify")
    if raw is None:
        return []
    values = [raw] if isinstance(raw, str) else body.str_list("Notify") or []
    # LSATS sends ["null"] to mean "nobody".
    return [v.strip() for v in values if v.strip() and v.strip().lower() != "null"]


def post_feed(call: Call) -> Response:
    ticket = _ticket(call)
    body = call.body("TicketFeedEntry")
    comments = body.text("Comments") or ""
    new_status_id = body.optional_integer("NewStatusID") or 0
    is_private = body.flag("IsPrivate")
    is_rich_html = body.flag("IsRichHtml")  # IsRichHTML binds here too: names ignore case
    is_communication = body.flag("IsCommunication")
    body.flag("CascadeStatus")  # validated; the sandbox's tickets have no children
    notify = _notify_list(body)
    new_status = call.store.status(new_status_id) if new_status_id > 0 else None
    if new_status_id > 0 and new_status is None:
        raise ApiError(400, f"Status {new_status_id} is not a valid status for this application.")
    if not comments.strip() and new_status is None:
        raise ApiError(400, "A comment or a new status is required.")
    actor_uid = call.actor_uid()
    old_status = call.store.status(ticket.status_id)
    status_change = None
    text, update_type = comments, 1
    if new_status is not None and new_status.id != ticket.status_id:
        old_name = old_status.name if old_status else ""
        prefix = f'Changed Status from "{old_name}" to "{new_status.name}".'
        text = prefix + (f"<br/>{comments}" if comments else "")
        update_type = 2
        status_change = {"from": ticket.status_id, "to": new_status.id}
        ticket.status_id = new_status.id
        if ticket.responded is None:
            ticket.responded = call.now
        ticket.completed = call.now if new_status.status_class in COMPLETED_CLASSES else None
    notified = []
    for address in notify:
        person = call.store.people_by_email.get(address.lower())
        notified.append(person.full_name if person else address)
    entry = FeedEntry(
        id=call.store.take_feed_id(),
        ticket_id=ticket.id,
        body=text,
        created_uid=actor_uid,
        created=call.now,
        update_type=update_type,
        is_private=is_private,
        is_communication=is_communication,
        is_rich_html=is_rich_html,
        notified=notified,
    )
    call.store.add_feed_entry(entry)
    call.store.touched(ticket, call.now, actor_uid)
    effect = {
        "kind": "feed_entry",
        "ticket_id": ticket.id,
        "feed_entry_id": entry.id,
        "status_change": status_change,
    }
    return json_response(render.feed_entry(call.store, entry, ticket), effect=effect)


def _linked_cis(call: Call, ticket: Ticket, assets_only: bool) -> Response:
    items = []
    for ci_id in ticket.ci_ids:
        ci = call.store.cis_by_id.get(ci_id)
        if ci is None or (assets_only and ci.backing_item_type != render.BACKING_ITEM_ASSET):
            continue
        items.append(render.configuration_item(call.store, ci))
    return json_response(items)


def get_ticket_assets(call: Call) -> Response:
    """Despite the name, TDX answers ConfigurationItem[]: the linked assets' CIs."""
    return _linked_cis(call, _ticket(call), assets_only=True)


def get_ticket_cis(call: Call) -> Response:
    return _linked_cis(call, _ticket(call), assets_only=False)


def _asset_ci(call: Call, asset_id: int) -> int:
    asset = call.store.assets_by_id.get(asset_id)
    if asset is None:
        raise ApiError(404, f"Asset {asset_id} was not found.")
    return asset.ci_id


def _existing_ci(call: Call, ci_id: int) -> int:
    if ci_id not in call.store.cis_by_id:
        raise ApiError(404, f"Configuration item {ci_id} was not found.")
    return ci_id


def add_ticket_asset(call: Call) -> Response:
    ticket = _ticket(call)
    asset_id = call.int_param("asset_id")
    return link_ci(call, ticket, _asset_ci(call, asset_id), "link_asset", asset_id)


def remove_ticket_asset(call: Call) -> Response:
    ticket = _ticket(call)
    asset_id = call.int_param("asset_id")
    return unlink_ci(call, ticket, _asset_ci(call, asset_id), "unlink_asset", asset_id)


def add_ticket_ci(call: Call) -> Response:
    ticket = _ticket(call)
    ci_id = _existing_ci(call, call.int_param("ci_id"))
    return link_ci(call, ticket, ci_id, "link_ci", ci_id)


def remove_ticket_ci(call: Call) -> Response:
    ticket = _ticket(call)
    ci_id = _existing_ci(call, call.int_param("ci_id"))
    return unlink_ci(call, ticket, ci_id, "unlink_ci", ci_id)


def search_tickets(call: Call) -> Response:
    body = call.body("TicketSearch")
    store = call.store
    max_results = body.integer("MaxResults", DEFAULT_SEARCH_MAX)
    if max_results < 0:
        raise ApiError(400, "TicketSearch.MaxResults must not be negative.")
    text = (body.text("SearchText") or "").strip().lower()
    ticket_id = body.integer("TicketID", 0)
    status_ids = set(body.int_list("StatusIDs") or [])
    class_ids = set(body.int_list("StatusClassIDs") or [])
    requestors = {u.lower() for u in body.str_list("RequestorUids") or []}
    ci_ids = set(body.int_list("ConfigurationItemIDs") or [])
    excluded_cis = set(body.int_list("ExcludeConfigurationItemIDs") or [])
    account_ids = set(body.int_list("AccountIDs") or [])
    type_ids = set(body.int_list("TypeIDs") or [])
    priority_ids = set(body.int_list("PriorityIDs") or [])
    group_ids = set(body.int_list("ResponsibilityGroupIDs") or [])
    group_ids |= set(body.int_list("PrimaryResponsibilityGroupIDs") or [])
    responsible = {u.lower() for u in body.str_list("ResponsibilityUids") or []}
    name_search = (body.text("RequestorNameSearch") or "").strip().lower()
    email_search = (body.text("RequestorEmailSearch") or "").strip().lower()
    on_hold = body.optional_flag("IsOnHold")

    def keep(t: Ticket) -> bool:
        status = store.status(t.status_id)
        status_class = status.status_class if status else 0
        requestor = store.person(t.requestor_uid)
        return (
            (not ticket_id or t.id == ticket_id)
            and (not status_ids or t.status_id in status_ids)
            and (not class_ids or status_class in class_ids)
            and (not requestors or t.requestor_uid.lower() in requestors)
            and (not ci_ids or not ci_ids.isdisjoint(t.ci_ids))
            and excluded_cis.isdisjoint(t.ci_ids)
            and (not account_ids or t.account_id in account_ids)
            and (not type_ids or t.type_id in type_ids)
            and (not priority_ids or t.priority_id in priority_ids)
            and (not group_ids or t.responsible_group_id in group_ids)
            and (not responsible or (t.responsible_uid or "").lower() in responsible)
            and (on_hold is None or (status_class == 5) == on_hold)
            and (
                not name_search
                or (requestor is not None and name_search in requestor.full_name.lower())
            )
            and (
                not email_search
                or (requestor is not None and email_search in requestor.email.lower())
            )
            and (not text or text in store.search_text(t))
        )

    found = sorted(
        (t for t in store.tenant.tickets if keep(t)), key=lambda t: (t.modified, t.id), reverse=True
    )
    if max_results:
        found = found[:max_results]
    return json_response([render.ticket_row(store, t, call.now) for t in found])


def get_statuses(call: Call) -> Response:
    return json_response(
        [render.ticket_status(call.store, s) for s in call.store.tenant.ticket_statuses]
    )


def patch_ticket(call: Call) -> Response:
    ticket = _ticket(call)
    operations = call.request.json()
    actor_uid = call.actor_uid()
    changes = apply_ticket_patch(call.store, ticket, operations, call.now)
    if changes:
        call.store.touched(ticket, call.now, actor_uid)
    effect = {"kind": "patch_ticket", "ticket_id": ticket.id, "changes": changes}
    return json_response(render.ticket(call.store, ticket, call.now), effect=effect)
