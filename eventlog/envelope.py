"""The shapes of events on their way into and out of the store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID, uuid4


class StreamState(Enum):
    """Expected versions that are not a number."""

    ANY = "any"
    NO_STREAM = "no_stream"


ExpectedVersion = int | StreamState


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append; the store assigns stream version and position."""

    type: str
    data: Mapping[str, Any]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class StreamAppend:
    """Events for one stream, appended only if the stream is at ``expected``."""

    stream: str
    expected: ExpectedVersion
    events: Sequence[NewEvent]


@dataclass(frozen=True, slots=True)
class AppendedEvent:
    """Where an appended event landed; ``already_recorded`` for an idempotent re-append."""

    event_id: UUID
    stream: str
    version: int
    position: int
    recorded_at: datetime
    already_recorded: bool


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as stored."""

    position: int
    event_id: UUID
    stream: str
    version: int
    type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime
