"""The event store: append with expected versions, read a stream, read everything in order.

Every append is one statement (``append_events``), so the advisory lock that orders positions
by commit is held for one statement only when the caller does not hold a transaction open.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
import psycopg
from psycopg import sql

from .codec import encode_json, prepare_payload
from .envelope import (
    AppendedEvent,
    ExpectedVersion,
    RecordedEvent,
    StreamAppend,
    StreamState,
)
from .errors import EventIdConflict, EventLogError, WrongExpectedVersion

Conn = psycopg.Connection[Any]

_COLUMNS = "position, event_id, stream, version, type, data, metadata, recorded_at"


def _expected_json(expected: ExpectedVersion) -> int | str:
    if isinstance(expected, StreamState):
        return expected.value
    if isinstance(expected, bool) or expected < 0:
        raise ValueError(f"expected version must be >= 0 or a StreamState, got {expected!r}")
    return expected if expected > 0 else StreamState.NO_STREAM.value


def encode_batch(appends: Sequence[StreamAppend]) -> tuple[str, str]:
    """The two jsonb arguments of ``append_events``; sanitizes every payload."""
    events: list[dict[str, Any]] = []
    expected: dict[str, int | str] = {}
    for append in appends:
        if not append.stream:
            raise ValueError("stream name must not be empty")
        if append.stream in expected:
            raise ValueError(f"stream {append.stream!r} appears twice in one batch")
        expected[append.stream] = _expected_json(append.expected)
        for event in append.events:
            if not event.type:
                raise ValueError(f"event {event.event_id} has an empty type")
            data, metadata = prepare_payload(event.data, event.metadata)
            events.append(
                {
                    "event_id": str(event.event_id),
                    "stream": append.stream,
                    "type": event.type,
                    "data": data,
                    "metadata": metadata,
                }
            )
    ids = [e["event_id"] for e in events]
    if len(set(ids)) != len(ids):
        raise ValueError("an event id appears twice in one batch")
    return encode_json(events), encode_json(expected)


def _row_to_event(row: tuple[Any, ...]) -> RecordedEvent:
    position, event_id, stream, version, type_, data, metadata, recorded_at = row
    return RecordedEvent(
        position=position,
        event_id=event_id,
        stream=stream,
        version=version,
        type=type_,
        data=data,
        metadata=metadata,
        recorded_at=recorded_at,
    )


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events ``EventStore.query`` returns."""

    stream: str | None = None
    types: Sequence[str] = ()
    since: datetime | None = None
    until: datetime | None = None
    after_position: int = 0
    newest: bool = False

    def conditions(self) -> list[tuple[sql.Composable, Any]]:
        out: list[tuple[sql.Composable, Any]] = [(sql.SQL("position > %s"), self.after_position)]
        if self.stream:
            out.append((sql.SQL("stream = %s"), self.stream))
        if self.types:
            out.append((sql.SQL("type = ANY(%s)"), list(self.types)))
        if self.since:
            out.append((sql.SQL("recorded_at >= %s"), self.since))
        if self.until:
            out.append((sql.SQL("recorded_at < %s"), self.until))
        return out


class EventStore:
    """Reads and appends events in one schema, over connections from ``connect``."""

    def __init__(self, conn: Conn, schema: str = "tdxq") -> None:
        self._conn = conn
        self.schema = schema
        self._events = sql.Identifier(schema, "events")
        self._append_fn = sql.Identifier(schema, "append_events")

    @property
    def connection(self) -> Conn:
        return self._conn

    @property
    def notify_channel(self) -> str:
        return f"{self.schema}_events"

    def append(self, appends: Sequence[StreamAppend]) -> list[AppendedEvent]:
        """Append all events of all streams atomically, or nothing.

        Raises WrongExpectedVersion (carrying the actual version) when a stream moved, and
        EventIdConflict when an event id was recorded before with other content. Appending
        the very same events again returns their original positions.
        """
        if not any(a.events for a in appends):
            return []
        events_json, expected_json = encode_batch(appends)
        query = sql.SQL("SELECT * FROM {}(%s::jsonb, %s::jsonb)").format(self._append_fn)
        try:
            with self._conn.cursor() as cur:
                cur.execute(query, (events_json, expected_json))
                rows = cur.fetchall()
        except psycopg.Error as exc:
            raise _translate(exc) from None
        return [
            AppendedEvent(
                event_id=event_id,
                stream=stream,
                version=version,
                position=position,
                recorded_at=recorded_at,
                already_recorded=already,
            )
            for event_id, stream, version, position, recorded_at, already in rows
        ]

    def stream_version(self, stream: str) -> int:
        query = sql.SQL("SELECT coalesce(max(version), 0) FROM {} WHERE stream = %s").format(
            self._events
        )
        with self._conn.cursor() as cur:
            row = cur.execute(query, (stream,)).fetchone()
        return int(row[0]) if row else 0

    def read_stream(self, stream: str, after_version: int = 0) -> list[RecordedEvent]:
        query = sql.SQL(
            "SELECT {} FROM {} WHERE stream = %s AND version > %s ORDER BY version"
        ).format(sql.SQL(_COLUMNS), self._events)
        with self._conn.cursor() as cur:
            rows = cur.execute(query, (stream, after_version)).fetchall()
        return [_row_to_event(r) for r in rows]

    def read_streams(self, streams: Iterable[str]) -> dict[str, list[RecordedEvent]]:
        """Many streams in one round trip; streams without events map to empty lists."""
        names = list(dict.fromkeys(streams))
        result: dict[str, list[RecordedEvent]] = {name: [] for name in names}
        if not names:
            return result
        query = sql.SQL("SELECT {} FROM {} WHERE stream = ANY(%s) ORDER BY stream, version").format(
            sql.SQL(_COLUMNS), self._events
        )
        with self._conn.cursor() as cur:
            for row in cur.execute(query, (names,)):
                event = _row_to_event(row)
                result[event.stream].append(event)
        return result

    def read_all(
        self,
        after_position: int = 0,
        limit: int = 1000,
        types: Sequence[str] | None = None,
    ) -> list[RecordedEvent]:
        """Events after ``after_position`` in commit order (position order is commit order)."""
        if limit <= 0:
            raise ValueError(f"limit must be positive, got {limit}")
        where: sql.Composable = sql.SQL("position > %s")
        params: list[Any] = [after_position]
        if types:
            where = sql.SQL("{} AND type = ANY(%s)").format(where)
            params.append(list(types))
        query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY position LIMIT %s").format(
            sql.SQL(_COLUMNS), self._events, where
        )
        params.append(limit)
        with self._conn.cursor() as cur:
            rows = cur.execute(query, params).fetchall()
        return [_row_to_event(r) for r in rows]

    def iter_all(self, after_position: int = 0, batch_size: int = 1000) -> Iterator[RecordedEvent]:
        """Every event after ``after_position``, fetched in batches."""
        position = after_position
        while True:
            batch = self.read_all(position, batch_size)
            yield from batch
            if len(batch) < batch_size:
                return
            position = batch[-1].position

    def query(self, where: EventFilter, limit: int = 100) -> list[RecordedEvent]:
        """Events matching ``where``, oldest first; ``newest`` keeps the last ``limit`` of them."""
        if limit <= 0:
            raise ValueError(f"limit must be positive, got {limit}")
        clauses: list[sql.Composable] = []
        params: list[Any] = []
        for clause, value in where.conditions():
            clauses.append(clause)
            params.append(value)
        condition = sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("true")
        order = sql.SQL("DESC" if where.newest else "ASC")
        query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY position {} LIMIT %s").format(
            sql.SQL(_COLUMNS), self._events, condition, order
        )
        params.append(limit)
        with self._conn.cursor() as cur:
            rows = cur.execute(query, params).fetchall()
        events = [_row_to_event(r) for r in rows]
        return sorted(events, key=lambda e: e.position)

    def head_position(self) -> int:
        query = sql.SQL("SELECT coalesce(max(position), 0) FROM {}").format(self._events)
        with self._conn.cursor() as cur:
            row = cur.execute(query).fetchone()
        return int(row[0]) if row else 0

    def get_event(self, event_id: UUID) -> RecordedEvent | None:
        query = sql.SQL("SELECT {} FROM {} WHERE event_id = %s").format(
            sql.SQL(_COLUMNS), self._events
        )
        with self._conn.cursor() as cur:
            row = cur.execute(query, (event_id,)).fetchone()
        return _row_to_event(row) if row else None

    @contextmanager
    def transaction(self) -> Iterator[EventStore]:
        """Group appends and reads in one transaction (the append lock is then held to commit)."""
        with self._conn.transaction():
            yield self


def _translate(exc: psycopg.Error) -> Exception:
    state = exc.sqlstate
    detail = exc.diag.message_detail or ""
    if state == "TQ001":
        info = orjson.loads(detail)
        return WrongExpectedVersion(info["stream"], info["expected"], int(info["actual"]))
    if state == "TQ002":
        return EventIdConflict(detail or "(batch)", exc.diag.message_primary or str(exc))
    if state == "TQ003":
        return EventLogError(exc.diag.message_primary or str(exc))
    return exc
