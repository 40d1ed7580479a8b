"""Pieces shared by several TDX payloads: custom attributes and resource items."""

from __future__ import annotations

from pydantic import Field

from .fields import OptionalInt, TdxDateTime, TdxModel


class AttributeChoice(TdxModel):
    """One choice of a dropdown-style custom attribute."""

    id: int
    name: str | None = None
    is_active: bool | None = None
    order: int | None = None
    date_created: TdxDateTime = None
    date_modified: TdxDateTime = None


class CustomAttribute(TdxModel):
    """A custom attribute value on a ticket, asset, CI or person.

    ``value`` is always a string on the wire (a choice id, comma-joined ids, a date, free text);
    ``value_text`` is the human label.
    """

    id: int
    name: str | None = None
    order: int | None = None
    description: str | None = None
    section_id: OptionalInt = None
    section_name: str | None = None
    field_type: str | None = None
    data_type: str | None = None
    choices: list[AttributeChoice] = Field(default_factory=list)
    is_required: bool | None = None
    is_updatable: bool | None = None
    value: str | None = None
    value_text: str | None = None
    choices_text: str | None = None
    associated_item_ids: list[int] = Field(default_factory=list)


class ResourceItem(TdxModel):
    """A person or group as listed in a ticket's ``Notify`` (not the feed's e-mail list)."""

    item_role: str | None = None
    name: str | None = None
    initials: str | None = None
    value: str | None = None
    ref_value: OptionalInt = None
    profile_image_file_name: str | None = None
