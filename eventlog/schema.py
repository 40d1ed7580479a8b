"""Typed domain events: one pydantic model per event type, with a schema version.

An event is stored as ``type`` + ``data`` (the model's JSON form) and ``metadata`` carrying
``schema_version``. Reading an older version passes its data through the model's ``upcast``
hook first, so stored events never need rewriting.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, TypeVar
from uuid import UUID, uuid4

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict

from .envelope import NewEvent, RecordedEvent
from .errors import EventLogError, UnknownEventType

SCHEMA_VERSION_KEY = "schema_version"


def utc_now() -> datetime:
    return datetime.now(UTC)


class DomainEvent(BaseModel):
    """Base of every event model; subclasses set ``TYPE`` and, when reshaped, ``SCHEMA_VERSION``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int] = 1

    @classmethod
    def upcast(cls, data: dict[str, Any], from_version: int) -> dict[str, Any]:
        """Turn data written under ``from_version`` into the current shape (identity by default)."""
        if from_version != cls.SCHEMA_VERSION:
            raise EventLogError(
                f"{cls.TYPE} has no upcast from schema version {from_version} "
                f"to {cls.SCHEMA_VERSION}"
            )
        return data


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# AwareDatetime rejects naive values; normalizing to UTC keeps stored text uniform.
Timestamp = Annotated[AwareDatetime, AfterValidator(_to_utc)]

_REGISTRY: dict[str, type[DomainEvent]] = {}
E = TypeVar("E", bound=type[DomainEvent])


def register(cls: E) -> E:
    """Class decorator adding an event model to the registry under its ``TYPE``."""
    existing = _REGISTRY.get(cls.TYPE)
    if existing is not None and existing is not cls:
        raise EventLogError(f"event type {cls.TYPE!r} registered twice")
    _REGISTRY[cls.TYPE] = cls
    return cls


def event_class(type_name: str) -> type[DomainEvent]:
    try:
        return _REGISTRY[type_name]
    except KeyError:
        raise UnknownEventType(f"no event model for type {type_name!r}") from None


def registered_types() -> list[str]:
    return sorted(_REGISTRY)


class Metadata(BaseModel):
    """Who recorded an event, why, and in which run."""

    model_config = ConfigDict(frozen=True, extra="allow")

    correlation_id: UUID | None = None
    causation_id: UUID | None = None
    actor: str | None = None
    host: str | None = None
    pid: int | None = None
    tdxq_version: str | None = None


def process_metadata(
    *,
    correlation_id: UUID | None = None,
    causation_id: UUID | None = None,
    actor: str | None = None,
) -> Metadata:
    """Metadata naming this process; the version comes from the installed distribution."""
    return Metadata(
        correlation_id=correlation_id,
        causation_id=causation_id,
        actor=actor,
        host=socket.gethostname(),
        pid=os.getpid(),
        tdxq_version=_version(),
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tdxq")
    except PackageNotFoundError:
        return "unknown"


def to_new_event(
    event: DomainEvent,
    metadata: Metadata | Mapping[str, Any] | None = None,
    event_id: UUID | None = None,
) -> NewEvent:
    meta: dict[str, Any]
    if isinstance(metadata, Metadata):
        meta = metadata.model_dump(mode="json", exclude_none=True)
    else:
        meta = dict(metadata or {})
    meta[SCHEMA_VERSION_KEY] = event.SCHEMA_VERSION
    return NewEvent(
        type=event.TYPE,
        data=event.model_dump(mode="json"),
        metadata=meta,
        event_id=event_id or uuid4(),
    )


def decode(recorded: RecordedEvent) -> DomainEvent:
    """The typed event for a recorded one, upcast to the current schema version."""
    cls = event_class(recorded.type)
    version = int(recorded.metadata.get(SCHEMA_VERSION_KEY, 1))
    data = recorded.data
    if version != cls.SCHEMA_VERSION:
        data = cls.upcast(dict(data), version)
    return cls.model_validate(data)
