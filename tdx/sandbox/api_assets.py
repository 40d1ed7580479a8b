"""Asset and CMDB endpoints of the asset application."""

from __future__ import annotations

from . import render
from .calls import Call
from .ci_links import link_ci
from .errors import ApiError
from .tenant import Asset, ConfigurationItem
from .wire import Response, json_response


def _asset(call: Call) -> Asset:
    asset = call.store.assets_by_id.get(call.int_param("id"))
    if asset is None:
        raise ApiError(404, f"Asset {call.params['id']} was not found.")
    return asset


def _ci(call: Call, param: str = "id") -> ConfigurationItem:
    ci = call.store.cis_by_id.get(call.int_param(param))
    if ci is None:
        raise ApiError(404, f"Configuration item {call.params[param]} was not found.")
    return ci


def get_asset(call: Call) -> Response:
    return json_response(render.asset(call.store, _asset(call)))


def _asset_relevance(asset: Asset, text: str) -> int:
    """Exact hits on name, serial or tag first, as TDX sorts search results by relevance."""
    exact = text in (asset.name.lower(), asset.serial.lower(), (asset.tag or "").lower())
    return 0 if exact else 1


def search_assets(call: Call) -> Response:
    body = call.body("AssetSearch")
    store = call.store
    serial_like = (body.text("SerialLike") or "").strip().lower()
    text = (body.text("SearchText") or "").strip().lower()
    status_ids = set(body.int_list("StatusIDs") or [])
    form_ids = set(body.int_list("FormIDs") or [])
    owners = {u.lower() for u in body.str_list("OwningCustomerIDs") or []}
    model_ids = set(body.int_list("ProductModelIDs") or [])
    department_ids = set(body.int_list("OwningDepartmentIDs") or [])
    ticket_ids = body.int_list("TicketIDs")
    max_results = body.integer("MaxResults", 0)
    if max_results < 0:
        raise ApiError(400, "AssetSearch.MaxResults must not be negative.")
    linked_cis: set[int] | None = None
    if ticket_ids:
        linked_cis = {
            ci for t in ticket_ids if (ticket := store.tickets_by_id.get(t)) for ci in ticket.ci_ids
        }

    def haystack(asset: Asset) -> tuple[str, ...]:
        model = store.models_by_id.get(asset.model_id)
        return (
            asset.name.lower(),
            asset.serial.lower(),
            (asset.tag or "").lower(),
            model.name.lower() if model else "",
            model.manufacturer_name.lower() if model else "",
        )

    def keep(asset: Asset) -> bool:
        return (
            (not serial_like or serial_like in asset.serial.lower())
            and (not text or any(text in field for field in haystack(asset)))
            and (not status_ids or asset.status_id in status_ids)
            and (not form_ids or asset.form_id in form_ids)
            and (not owners or (asset.owner_uid or "").lower() in owners)
            and (not model_ids or asset.model_id in model_ids)
            and (not department_ids or asset.department_id in department_ids)
            and (linked_cis is None or asset.ci_id in linked_cis)
        )

    found = [a for a in store.tenant.assets if keep(a)]
    if text:
        found.sort(key=lambda a: (_asset_relevance(a, text), a.name.lower(), a.id))
    if max_results:
        found = found[:max_results]
    return json_response([render.asset(store, a, summary=True) for a in found])


def get_asset_statuses(call: Call) -> Response:
    s = call.store.settings
    return json_response(
        [
            {
                "ID": status.id,
                "AppID": s.asset_app_id,
                "AppName": s.asset_app_name,
                "Name": status.name,
                "Description": "",
                "Order": float(index),
                "IsActive": True,
                "IsOutOfService": not status.counts_as_active,
            }
            for index, status in enumerate(call.store.tenant.asset_statuses)
        ]
    )


def get_asset_forms(call: Call) -> Response:
    s = call.store.settings
    return json_response(
        [
            {
                "ID": form.id,
                "AppID": s.asset_app_id,
                "AppName": s.asset_app_name,
                "Name": form.name,
                "IsActive": True,
                "IsDefaultForApp": form.is_computer,
            }
            for form in call.store.tenant.asset_forms
        ]
    )


def get_ci(call: Call) -> Response:
    return json_response(render.configuration_item(call.store, _ci(call)))


def search_cis(call: Call) -> Response:
    body = call.body("ConfigurationItemSearch")
    store = call.store
    name_like = (body.text("NameLike") or "").strip().lower()
    is_active = body.optional_flag("IsActive")
    type_ids = set(body.int_list("TypeIDs") or [])
    wanted_attributes = [
        (item.integer("ID", 0), (item.text("Value") or "").lower())
        for item in body.objects("CustomAttributes")
    ]

    def attributes_match(ci: ConfigurationItem) -> bool:
        if not wanted_attributes:
            return True
        values = {a.id: a.value.lower() for a in store.ci_attributes(ci)}
        return all(
            attribute_id in values and value in values[attribute_id]
            for attribute_id, value in wanted_attributes
        )

    found = [
        ci
        for ci in store.tenant.cis
        if (not name_like or name_like in ci.name.lower())
        and (is_active is None or ci.is_active == is_active)
        and (not type_ids or ci.type_id in type_ids)
        and attributes_match(ci)
    ]
    return json_response([render.configuration_item(store, ci) for ci in found])


def get_ci_relationships(call: Call) -> Response:
    ci = _ci(call)
    relationships = call.store.relationships_by_ci.get(ci.id, [])
    return json_response([render.relationship(call.store, r) for r in relationships])


def get_ci_tickets(call: Call) -> Response:
    ci = _ci(call)
    tickets = call.store.tickets_linked_to(ci.id)
    return json_response([render.ticket_row(call.store, t, call.now) for t in tickets])


def get_ci_types(call: Call) -> Response:
    s = call.store.settings
    return json_response(
        [
            {
                "ID": t.id,
                "AppID": s.asset_app_id,
                "AppName": s.asset_app_name,
                "Name": t.name,
                "IsActive": True,
                "IsOrganizationallyDefined": t.id == s.lab_ci_type_id,
            }
            for t in call.store.tenant.ci_types
        ]
    )


def _link_ticket(call: Call, ci_id: int, kind: str, item_id: int) -> Response:
    ticket = call.store.tickets_by_id.get(call.int_param("ticket_id"))
    if ticket is None:
        raise ApiError(404, f"Ticket {call.params['ticket_id']} was not found.")
    return link_ci(call, ticket, ci_id, kind, item_id)


def add_ci_ticket(call: Call) -> Response:
    """`POST cmdb/{id}/tickets/{ticketId}`: the mirror of linking a CI from the ticket."""
    ci = _ci(call)
    return _link_ticket(call, ci.id, "link_ci", ci.id)


def add_asset_ticket(call: Call) -> Response:
    """`POST assets/{id}/tickets/{ticketId}`: the mirror of linking an asset from the ticket."""
    asset = _asset(call)
    return _link_ticket(call, asset.ci_id, "link_asset", asset.id)
