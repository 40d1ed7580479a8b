"""Tickets, ticket statuses and ticket PATCH operations."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .fields import OptionalInt, TdxDateTime, TdxList, TdxModel, TdxRequestModel, TdxUid
from .models_common import CustomAttribute, ResourceItem


class Ticket(TdxModel):
    """A ticket. Search results are partial rows: re-read with ``get_ticket`` before editing."""

    id: int
    app_id: OptionalInt = None
    app_name: str | None = None
    parent_id: OptionalInt = None
    title: str | None = None
    description: str | None = None
    is_rich_html: bool | None = None
    uri: str | None = None
    type_id: OptionalInt = None
    type_name: str | None = None
    type_category_id: OptionalInt = None
    type_category_name: str | None = None
    classification: OptionalInt = None
    classification_name: str | None = None
    form_id: OptionalInt = None
    form_name: str | None = None
    account_id: OptionalInt = None
    account_name: str | None = None
    source_id: OptionalInt = None
    source_name: str | None = None
    status_id: OptionalInt = None
    status_name: str | None = None
    status_class: OptionalInt = None
    impact_id: OptionalInt = None
    impact_name: str | None = None
    urgency_id: OptionalInt = None
    urgency_name: str | None = None
    priority_id: OptionalInt = None
    priority_name: str | None = None
    is_on_hold: bool | None = None
    goes_off_hold_date: TdxDateTime = None
    created_date: TdxDateTime = None
    created_uid: TdxUid = None
    created_full_name: str | None = None
    created_email: str | None = None
    modified_date: TdxDateTime = None
    modified_uid: TdxUid = None
    modified_full_name: str | None = None
    requestor_name: str | None = None
    requestor_first_name: str | None = None
    requestor_last_name: str | None = None
    requestor_email: str | None = None
    requestor_phone: str | None = None
    requestor_uid: TdxUid = None
    responsible_uid: TdxUid = None
    responsible_full_name: str | None = None
    responsible_email: str | None = None
    responsible_group_id: OptionalInt = None
    responsible_group_name: str | None = None
    responded_date: TdxDateTime = None
    completed_date: TdxDateTime = None
    start_date: TdxDateTime = None
    end_date: TdxDateTime = None
    respond_by_date: TdxDateTime = None
    resolve_by_date: TdxDateTime = None
    days_old: OptionalInt = None
    location_id: OptionalInt = None
    location_name: str | None = None
    location_room_id: OptionalInt = None
    location_room_name: str | None = None
    service_id: OptionalInt = None
    service_name: str | None = None
    is_converted_to_task: bool | None = None
    attributes: TdxList[CustomAttribute] = Field(default_factory=list)
    notify: TdxList[ResourceItem] = Field(default_factory=list)


class TicketStatus(TdxModel):
    """A ticket status of one ticketing application. Choose by ``status_class``, not by name."""

    id: int
    app_id: OptionalInt = None
    name: str | None = None
    description: str | None = None
    order: float | None = None
    status_class: OptionalInt = None
    is_active: bool | None = None
    is_default: bool | None = None
    require_goes_off_hold: bool | None = None


class PatchOperation(TdxRequestModel):
    """One JSON-Patch-style operation for ``PATCH {appId}/tickets/{id}``.

    Paths ignore case (``/title``); custom attributes are ``/attributes/{attributeId}``.
    A ``value`` of None is sent as ``null``, which clears the field.
    """

    op: Literal["add", "replace", "remove"]
    path: str = Field(pattern=r"^/\S+$")
    value: Any = None

    def to_tdx(self) -> dict[str, Any]:
        body: dict[str, Any] = {"op": self.op, "path": self.path}
        if self.op != "remove":
            body["value"] = self.value
        return body
