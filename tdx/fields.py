"""Building blocks for the TDX payload models: naming, dates, GUIDs.

Python attributes are snake_case; on the wire each field has TDX's own spelling (``AppID``,
``CreatedUid``, ``OwnerUID``). The alias generator covers the regular names (``_id`` → ``ID``);
irregular ones carry an explicit alias.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from .dates import coerce_tdx_datetime, format_tdx_datetime

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


def tdx_alias(name: str) -> str:
    """``created_uid`` → ``CreatedUid``; ``app_id`` → ``AppID``; ``status_ids`` → ``StatusIDs``."""
    return "".join(
        _SPECIAL_PARTS.get(part, part[:1].upper() + part[1:]) for part in name.split("_")
    )


_SPECIAL_PARTS = {"id": "ID", "ids": "IDs"}


def _none_if_empty_guid(value: Any) -> Any:
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped or stripped == EMPTY_GUID:
            return None
        return stripped
    return value


def _none_if_blank(value: Any) -> Any:
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _empty_if_none(value: Any) -> Any:
    return [] if value is None else value


def _serialize_date(value: datetime | None) -> str | None:
    return None if value is None else format_tdx_datetime(value)


TdxDateTime = Annotated[
    datetime | None,
    BeforeValidator(coerce_tdx_datetime),
    PlainSerializer(_serialize_date, when_used="json"),
]
"""A TDX date: 0–3 (or more) fractional digits, ``Z`` or an offset; year 1 and null → None."""

TdxUid = Annotated[str | None, BeforeValidator(_none_if_empty_guid)]
"""A person or object GUID as a string; the empty GUID and "" → None."""

OptionalInt = Annotated[int | None, BeforeValidator(_none_if_blank)]
"""An int that TDX may send as a string, as "" or as null."""

_Item = TypeVar("_Item")

TdxList = Annotated[list[_Item], BeforeValidator(_empty_if_none)]
"""A list that TDX may send as null (→ []); give it ``Field(default_factory=list)``."""


class TdxModel(BaseModel):
    """Base for payloads read from TDX: tolerant, keeps fields this code does not model."""

    model_config = ConfigDict(
        alias_generator=tdx_alias,
        validate_by_name=True,
        validate_by_alias=True,
        extra="allow",
    )

    def to_tdx(self) -> dict[str, Any]:
        """The payload as TDX spells it, unset (None) fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class TdxRequestModel(BaseModel):
    """Base for payloads we send: strict about unknown names, so a typo fails loudly."""

    model_config = ConfigDict(
        alias_generator=tdx_alias,
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
    )

    def to_tdx(self) -> dict[str, Any]:
        """The JSON body TDX expects: aliases, None left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
