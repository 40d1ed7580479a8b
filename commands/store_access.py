"""The configured event store for a command that needs tdxq's tables to exist."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from tdxq.eventlog import EventStore

from .database import fail, open_store


@contextmanager
def migrated_store() -> Iterator[EventStore]:
    """``open_store()``; a schema without tdxq's tables is a clear error (exit 2), not a trace."""
    with open_store() as store:
        try:
            yield store
        except psycopg.errors.UndefinedTable:
            raise fail(
                f"schema {store.schema!r} has no tdxq tables (or lacks some): "
                "run `tdxq migrate` first",
                2,
            ) from None
