"""Assets, configuration items (CMDB) and CMDB relationships."""

from __future__ import annotations

from pydantic import Field

from .fields import OptionalInt, TdxDateTime, TdxList, TdxModel, TdxUid
from .models_common import CustomAttribute


class Asset(TdxModel):
    """An asset. Search results are summary rows without ``Attributes``."""

    id: int
    app_id: OptionalInt = None
    app_name: str | None = None
    form_id: OptionalInt = None
    form_name: str | None = None
    product_model_id: OptionalInt = None
    product_model_name: str | None = None
    manufacturer_id: OptionalInt = None
    manufacturer_name: str | None = None
    supplier_id: OptionalInt = None
    supplier_name: str | None = None
    status_id: OptionalInt = None
    status_name: str | None = None
    location_id: OptionalInt = None
    location_name: str | None = None
    location_room_id: OptionalInt = None
    location_room_name: str | None = None
    tag: str | None = None
    serial_number: str | None = None
    name: str | None = None
    purchase_cost: float | None = None
    acquisition_date: TdxDateTime = None
    expected_replacement_date: TdxDateTime = None
    requesting_customer_id: TdxUid = None
    requesting_customer_name: str | None = None
    requesting_department_id: OptionalInt = None
    requesting_department_name: str | None = None
    owning_customer_id: TdxUid = None
    owning_customer_name: str | None = None
    owning_department_id: OptionalInt = None
    owning_department_name: str | None = None
    parent_id: OptionalInt = None
    parent_serial_number: str | None = None
    parent_name: str | None = None
    parent_tag: str | None = None
    configuration_item_id: OptionalInt = None
    created_date: TdxDateTime = None
    created_uid: TdxUid = None
    created_full_name: str | None = None
    modified_date: TdxDateTime = None
    modified_uid: TdxUid = None
    modified_full_name: str | None = None
    external_id: str | None = None
    external_source_id: OptionalInt = None
    external_source_name: str | None = None
    attributes: TdxList[CustomAttribute] = Field(default_factory=list)
    uri: str | None = None


class ConfigurationItem(TdxModel):
    """A CMDB configuration item; also what ``tickets/{id}/assets`` returns.

    ``backing_item_type`` 63 is a plain CI; an asset's system-maintained CI has the asset's id
    in ``backing_item_id``.
    """

    id: int
    app_id: OptionalInt = None
    app_name: str | None = None
    form_id: OptionalInt = None
    form_name: str | None = None
    is_system_maintained: bool | None = None
    backing_item_id: OptionalInt = None
    backing_item_type: OptionalInt = None
    name: str | None = None
    type_id: OptionalInt = None
    type_name: str | None = None
    maintenance_schedule_id: OptionalInt = None
    maintenance_schedule_name: str | None = None
    owner_uid: TdxUid = Field(default=None, alias="OwnerUID")
    owner_full_name: str | None = None
    owning_department_id: OptionalInt = None
    owning_department_name: str | None = None
    owning_group_id: OptionalInt = None
    owning_group_name: str | None = None
    location_id: OptionalInt = None
    location_name: str | None = None
    location_room_id: OptionalInt = None
    location_room_name: str | None = None
    is_active: bool | None = None
    created_date_utc: TdxDateTime = None
    created_uid: TdxUid = None
    created_full_name: str | None = None
    modified_date_utc: TdxDateTime = None
    modified_uid: TdxUid = None
    modified_full_name: str | None = None
    external_id: str | None = None
    external_source_id: OptionalInt = None
    external_source_name: str | None = None
    attributes: TdxList[CustomAttribute] = Field(default_factory=list)
    uri: str | None = None


class CmdbRelationship(TdxModel):
    """A relationship between two configuration items (parent → child)."""

    id: int
    parent_id: OptionalInt = None
    parent_name: str | None = None
    parent_type_id: OptionalInt = None
    parent_type_name: str | None = None
    child_id: OptionalInt = None
    child_name: str | None = None
    child_type_id: OptionalInt = None
    child_type_name: str | None = None
    relationship_type_id: OptionalInt = None
    description: str | None = None
    inverse_description: str | None = None
    is_operational_dependency: bool | None = None
    is_system_maintained: bool | None = None
    created_date_utc: TdxDateTime = None
    created_uid: TdxUid = None
    created_full_name: str | None = None
