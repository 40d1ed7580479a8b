"""Search bodies for ``POST …/search`` endpoints, serialized as TDX spells them.

Each model lists the fields the actions are likely to need; unknown names are rejected, so a typo
fails at construction instead of silently widening a search. ``to_tdx()`` gives the JSON body
(aliases, unset fields left out).
"""

from __future__ import annotations

from pydantic import Field

from .fields import TdxDateTime, TdxRequestModel


class CustomAttributeFilter(TdxRequestModel):
    """Match a custom attribute: ``value`` is a string (choice ids too), as TDX stores it."""

    id: int
    value: str


class TicketSearch(TdxRequestModel):
    """TDX ``TicketSearch``. ``max_results`` 0 means all; TDX's default is 300."""

    max_results: int | None = Field(default=None, ge=0)
    ticket_id: int | None = None
    parent_ticket_id: int | None = None
    search_text: str | None = None
    status_ids: list[int] | None = None
    past_status_ids: list[int] | None = None
    status_class_ids: list[int] | None = None
    priority_ids: list[int] | None = None
    urgency_ids: list[int] | None = None
    impact_ids: list[int] | None = None
    account_ids: list[int] | None = None
    type_ids: list[int] | None = None
    source_ids: list[int] | None = None
    form_ids: list[int] | None = None
    service_ids: list[int] | None = None
    location_ids: list[int] | None = None
    configuration_item_ids: list[int] | None = None
    exclude_configuration_item_ids: list[int] | None = None
    requestor_uids: list[str] | None = None
    responsibility_uids: list[str] | None = None
    responsibility_group_ids: list[int] | None = None
    requestor_name_search: str | None = None
    requestor_email_search: str | None = None
    requestor_phone_search: str | None = None
    is_on_hold: bool | None = None
    created_date_from: TdxDateTime = None
    created_date_to: TdxDateTime = None
    modified_date_from: TdxDateTime = None
    modified_date_to: TdxDateTime = None
    closed_date_from: TdxDateTime = None
    closed_date_to: TdxDateTime = None
    days_old_from: int | None = None
    days_old_to: int | None = None
    custom_attributes: list[CustomAttributeFilter] | None = None


class AssetSearch(TdxRequestModel):
    """TDX ``AssetSearch``. ``serial_like`` matches serial and service tag."""

    serial_like: str | None = None
    search_text: str | None = None
    saved_search_id: int | None = None
    status_ids: list[int] | None = None
    external_ids: list[str] | None = None
    is_in_service: bool | None = None
    form_ids: list[int] | None = None
    product_model_ids: list[int] | None = None
    manufacturer_ids: list[int] | None = None
    supplier_ids: list[int] | None = None
    location_ids: list[int] | None = None
    room_id: int | None = None
    parent_ids: list[int] | None = None
    ticket_ids: list[int] | None = None
    exclude_ticket_ids: list[int] | None = None
    using_department_ids: list[int] | None = None
    owning_department_ids: list[int] | None = None
    requesting_department_ids: list[int] | None = None
    owning_customer_ids: list[str] | None = None
    using_customer_ids: list[str] | None = None
    requesting_customer_ids: list[str] | None = None
    created_date_from: TdxDateTime = None
    created_date_to: TdxDateTime = None
    modified_date_from: TdxDateTime = None
    modified_date_to: TdxDateTime = None
    only_parent_assets: bool | None = None
    max_results: int | None = Field(default=None, ge=0)
    custom_attributes: list[CustomAttributeFilter] | None = None


class ConfigurationItemSearch(TdxRequestModel):
    """TDX ``ConfigurationItemSearch``. TDX does not cap CMDB search results."""

    name_like: str | None = None
    is_active: bool | None = None
    type_ids: list[int] | None = None
    maintenance_schedule_ids: list[int] | None = None
    custom_attributes: list[CustomAttributeFilter] | None = None


class PersonSearch(TdxRequestModel):
    """TDX ``UserSearch`` for ``POST people/search``."""

    search_text: str | None = None
    user_name: str | None = None
    alternate_id: str | None = None
    external_id: str | None = None
    is_active: bool | None = None
    is_employee: bool | None = None
    is_confidential: bool | None = None
    account_ids: list[int] | None = None
    max_results: int | None = Field(default=None, ge=0)
