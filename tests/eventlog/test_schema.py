"""Typed event models: schema versions, upcasting, UTC-only datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest
from pydantic import ValidationError

from tdxq.eventlog import EventStore, StreamAppend, StreamState, decode, to_new_event
from tdxq.eventlog.errors import UnknownEventType
from tdxq.eventlog.events import ActionStarted, TicketSeen
from tdxq.eventlog.schema import DomainEvent, process_metadata, register


def test_round_trip_through_the_store(store: EventStore) -> None:
    seen = TicketSeen(ticket_id=9291804, report_id=1344, row={"TicketID": 9291804}, fingerprint="f")
    meta = process_metadata(actor="test")
    store.append([StreamAppend("ticket:9291804", StreamState.ANY, [to_new_event(seen, meta)])])
    recorded = store.read_stream("ticket:9291804")[0]
    assert decode(recorded) == seen
    assert recorded.metadata["schema_version"] == 1
    assert recorded.metadata["actor"] == "test" and recorded.metadata["pid"] > 0


def test_datetimes_must_be_aware_and_become_utc() -> None:
    eastern = timezone(timedelta(hours=-5))
    started = ActionStarted(
        action_id="a",
        action_type="comment",
        attempt=1,
        worker="w",
        lease_expires_at=datetime(2026, 1, 1, 7, tzinfo=eastern),
    )
    assert started.lease_expires_at == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert started.lease_expires_at.utcoffset() == timedelta(0)
    with pytest.raises(ValidationError, match="timezone"):
        ActionStarted(
            action_id="a",
            action_type="comment",
            attempt=1,
            worker="w",
            lease_expires_at=datetime(2026, 1, 1, 7),
        )


@register
class _Renamed(DomainEvent):
    TYPE: ClassVar[str] = "test_renamed"
    SCHEMA_VERSION: ClassVar[int] = 2

    full_name: str

    @classmethod
    def upcast(cls, data: dict[str, Any], from_version: int) -> dict[str, Any]:
        if from_version == 1:
            return {"full_name": data.pop("name")}
        return super().upcast(data, from_version)


def test_old_schema_versions_are_upcast_on_read(store: EventStore) -> None:
    from tdxq.eventlog import NewEvent

    old = NewEvent("test_renamed", {"name": "Pat"}, {"schema_version": 1})
    store.append([StreamAppend("s", StreamState.ANY, [old])])
    assert decode(store.read_stream("s")[0]) == _Renamed(full_name="Pat")


def test_unknown_types_are_reported(store: EventStore) -> None:
    from tdxq.eventlog import NewEvent

    store.append([StreamAppend("s", StreamState.ANY, [NewEvent("nobody_knows", {})])])
    with pytest.raises(UnknownEventType, match="nobody_knows"):
        decode(store.read_stream("s")[0])
