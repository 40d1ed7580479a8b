"""What a table projector is: the events it reads, the tables it owns, and how it applies a batch.

A projector never manages transactions or checkpoints; the runner (``runner.py``) applies each
batch in one transaction together with the checkpoint, so an event is applied exactly once.
A projector writes only to the tables it is handed, so the same projector can fill the live
tables or a rebuild's shadow copies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import psycopg
from psycopg import sql

from tdxq.eventlog import RecordedEvent

Conn = psycopg.Connection[Any]

# A projector's logical table name -> the (schema-qualified) table to write for this run.
TableNames = Mapping[str, sql.Identifier]

SHADOW_SUFFIX = "__shadow"


class Projector(Protocol):
    @property
    def name(self) -> str:
        """The projection's name: its checkpoint row and its name on the command line."""
        ...

    @property
    def event_types(self) -> Sequence[str]:
        """The event types it reads; empty means every event."""
        ...

    @property
    def tables(self) -> Sequence[str]:
        """The tables it owns (in the tdxq schema); a rebuild makes shadow copies of these."""
        ...

    def apply(self, conn: Conn, tables: TableNames, events: Sequence[RecordedEvent]) -> None:
        """Apply ``events`` (in position order) to ``tables`` inside the caller's transaction."""
        ...


def table_names(projector: Projector, schema: str, suffix: str = "") -> dict[str, sql.Identifier]:
    """The projector's tables in ``schema``; ``suffix`` names a copy (a rebuild's shadow)."""
    return {table: sql.Identifier(schema, table + suffix) for table in projector.tables}
