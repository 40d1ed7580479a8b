"""Errors raised by the event log. Each says what went wrong and where."""

from __future__ import annotations


class EventLogError(Exception):
    """Base class of every event-log error."""


class WrongExpectedVersion(EventLogError):
    """A stream was not at the version the caller expected; nothing was appended."""

    def __init__(self, stream: str, expected: int | str, actual: int) -> None:
        self.stream = stream
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"stream {stream!r} is at version {actual}, expected {expected}; nothing appended"
        )


class EventIdConflict(EventLogError):
    """An event id was appended before with different content."""

    def __init__(self, event_id: str, detail: str) -> None:
        self.event_id = event_id
        super().__init__(f"event {event_id} was already recorded with different content: {detail}")


class EventEncodingError(EventLogError):
    """A value cannot be stored exactly as JSON; the path names the offending value."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        super().__init__(f"cannot encode event value at {path}: {problem}")


class UnknownEventType(EventLogError):
    """An event type read from the log has no model in this version of tdxq."""


class MigrationError(EventLogError):
    """A migration could not be applied or the recorded history does not match the files."""


class DatabaseNotConfigured(EventLogError):
    """No database URL was given and no embedded server is available."""
