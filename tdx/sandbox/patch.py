"""JSON Patch on a ticket, the TDX way: `add`/`replace` set a field, `remove` clears it,
paths ignore case, custom attributes are addressed as `/attributes/{id}`. All operations are
checked before any is applied, so a bad patch changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .binding import parse_bool, parse_int
from .errors import ApiError
from .store import TenantStore
from .tenant import Ticket

SUPPORTED_OPS = ("add", "replace", "remove")


@dataclass(frozen=True)
class Field:
    label: str  # TDX's property name, as the write log reports changes
    attribute: str
    kind: str  # "text", "bool", "int", "uid", "status"
    clearable: bool = True


_FIELD_LIST = (
    Field("Title", "title", "text", clearable=False),
    Field("Description", "description", "text"),
    Field("IsRichHtml", "is_rich_html", "bool"),
    Field("StatusID", "status_id", "status", clearable=False),
    Field("PriorityID", "priority_id", "int"),
    Field("UrgencyID", "urgency_id", "int"),
    Field("ImpactID", "impact_id", "int"),
    Field("AccountID", "account_id", "int"),
    Field("TypeID", "type_id", "int", clearable=False),
    Field("SourceID", "source_id", "int"),
    Field("ServiceID", "service_id", "int"),
    Field("LocationID", "location_id", "int"),
    Field("LocationRoomID", "room_id", "int"),
    Field("ResponsibleGroupID", "responsible_group_id", "int"),
    Field("ResponsibleUid", "responsible_uid", "uid"),
    Field("RequestorUid", "requestor_uid", "uid", clearable=False),
)
FIELDS = {field.label.lower(): field for field in _FIELD_LIST}


def _convert(store: TenantStore, field: Field, value: Any, where: str) -> Any:
    if field.kind == "text":
        if not isinstance(value, str):
            raise ApiError(400, f"{where}: expected a string.")
        if not field.clearable and not value.strip():
            raise ApiError(400, f"{where}: a value is required.")
        return value
    if field.kind == "bool":
        return parse_bool(value, where)
    if field.kind == "uid":
        person = store.person(value) if isinstance(value, str) else None
        if person is None:
            raise ApiError(400, f"{where}: '{value}' is not a person of this organization.")
        return person.uid
    number = parse_int(value, where)
    if field.kind == "status" and store.status(number) is None:
        raise ApiError(400, f"{where}: status {number} is not valid for this application.")
    return number


def _cleared(field: Field) -> Any:
    return {"text": "", "bool": False, "uid": None}.get(field.kind, 0)


def apply_ticket_patch(
    store: TenantStore, ticket: Ticket, operations: Any, now: datetime
) -> dict[str, dict[str, Any]]:
    if not isinstance(operations, list) or not operations:
        raise ApiError(400, "The PATCH body must be a non-empty JSON array of operations.")
    steps: list[Callable[[], tuple[str, Any, Any]]] = []
    for index, op in enumerate(operations):
        where = f"operation {index}"
        if not isinstance(op, dict):
            raise ApiError(400, f"{where}: expected an object with op, path and value.")
        lowered = {str(k).lower(): v for k, v in op.items()}
        name = str(lowered.get("op", "")).lower()
        path = str(lowered.get("path", "")).strip().lower()
        if name not in SUPPORTED_OPS:
            raise ApiError(400, f"{where}: the operation '{name}' is not supported.")
        steps.append(_plan(store, ticket, name, path, lowered.get("value"), f"{where} ({path})"))
    changes: dict[str, dict[str, Any]] = {}
    for step in steps:
        label, old, new = step()
        if old != new:
            first = changes.get(label, {"from": old})
            changes[label] = {"from": first["from"], "to": new}
    if "StatusID" in changes:
        status = store.status(ticket.status_id)
        if status is not None and status.status_class in (3, 4):
            ticket.completed = now
        else:
            ticket.completed = None
    return changes


def _plan(
    store: TenantStore, ticket: Ticket, op: str, path: str, value: Any, where: str
) -> Callable[[], tuple[str, Any, Any]]:
    parts = [p for p in path.split("/") if p]
    if len(parts) == 2 and parts[0] == "attributes":
        return _plan_attribute(ticket, op, parts[1], value, where)
    if len(parts) != 1 or parts[0] not in FIELDS:
        raise ApiError(400, f"{where}: '{path}' is not a patchable ticket field.")
    field = FIELDS[parts[0]]
    if op == "remove" or value is None:
        if not field.clearable:
            raise ApiError(400, f"{where}: this field cannot be cleared.")
        new = _cleared(field)
    else:
        new = _convert(store, field, value, where)
    label = field.label

    def apply() -> tuple[str, Any, Any]:
        old = getattr(ticket, field.attribute)
        setattr(ticket, field.attribute, new)
        return label, old, new

    return apply


def _plan_attribute(
    ticket: Ticket, op: str, attribute: str, value: Any, where: str
) -> Callable[[], tuple[str, Any, Any]]:
    if attribute == "-" or not attribute.isdigit():
        raise ApiError(400, f"{where}: attributes are addressed by id, e.g. /attributes/1234.")
    attribute_id = int(attribute)
    target = next((a for a in ticket.attributes if a.id == attribute_id), None)
    if target is None:
        raise ApiError(400, f"{where}: attribute {attribute_id} is not on this ticket's form.")
    new = "" if op == "remove" or value is None else str(value)

    def apply() -> tuple[str, Any, Any]:
        old = target.value
        target.value = new
        target.value_text = new
        return f"Attributes/{attribute_id}", old, new

    return apply
