"""People (TDX ``User``)."""

from __future__ import annotations

from pydantic import Field

from .fields import OptionalInt, TdxDateTime, TdxList, TdxModel, TdxUid
from .models_common import CustomAttribute


class Person(TdxModel):
    """A person. ``people/lookup`` and ``people/search`` return partial rows."""

    uid: TdxUid = Field(default=None, alias="UID")
    reference_id: OptionalInt = None
    is_active: bool | None = None
    is_confidential: bool | None = None
    user_name: str | None = None
    full_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    nickname: str | None = None
    primary_email: str | None = None
    alternate_email: str | None = None
    alert_email: str | None = None
    external_id: str | None = None
    alternate_id: str | None = None
    default_account_id: OptionalInt = None
    default_account_name: str | None = None
    title: str | None = None
    company: str | None = None
    primary_phone: str | None = None
    work_phone: str | None = None
    mobile_phone: str | None = None
    location_id: OptionalInt = None
    location_name: str | None = None
    location_room_id: OptionalInt = None
    location_room_name: str | None = None
    is_employee: bool | None = None
    end_date: TdxDateTime = None
    type_id: OptionalInt = None
    authentication_user_name: str | None = None
    group_ids: TdxList[int] = Field(default_factory=list)
    attributes: TdxList[CustomAttribute] = Field(default_factory=list)
