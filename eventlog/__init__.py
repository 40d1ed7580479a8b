"""The append-only event log on Postgres: models, store, migrations, subscriptions."""

from . import events
from .database import DatabaseSettings, connect, redact_dsn, resolve_dsn
from .envelope import (
    AppendedEvent,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    StreamAppend,
    StreamState,
)
from .errors import (
    DatabaseNotConfigured,
    EventEncodingError,
    EventIdConflict,
    EventLogError,
    MigrationError,
    UnknownEventType,
    WrongExpectedVersion,
)
from .migrations import Migrator, load_migrations
from .schema import DomainEvent, Metadata, decode, process_metadata, to_new_event, utc_now
from .store import EventStore

__all__ = [
    "AppendedEvent",
    "DatabaseNotConfigured",
    "DatabaseSettings",
    "DomainEvent",
    "EventEncodingError",
    "EventIdConflict",
    "EventLogError",
    "EventStore",
    "ExpectedVersion",
    "Metadata",
    "MigrationError",
    "Migrator",
    "NewEvent",
    "RecordedEvent",
    "StreamAppend",
    "StreamState",
    "UnknownEventType",
    "WrongExpectedVersion",
    "connect",
    "decode",
    "events",
    "load_migrations",
    "process_metadata",
    "redact_dsn",
    "resolve_dsn",
    "to_new_event",
    "utc_now",
]
