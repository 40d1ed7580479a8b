"""How far behind each projection is: checkpoint, head, lag, and any rebuild in progress."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import sql

from tdxq.eventlog import EventStore

from .catalog import all_projectors
from .checkpoints import read_checkpoints
from .projector import SHADOW_SUFFIX, Conn, Projector


@dataclass(frozen=True, slots=True)
class ProjectionStatus:
    name: str
    checkpoint: int
    head: int
    pending_events: int  # events of the projection's types after its checkpoint
    updated_at: datetime | None
    rebuild_checkpoint: int | None  # the shadow's position while a rebuild is under way

    @property
    def lag(self) -> int:
        """Positions between checkpoint and head (events of every type)."""
        return max(self.head - self.checkpoint, 0)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "checkpoint": self.checkpoint,
            "head": self.head,
            "lag": self.lag,
            "pending_events": self.pending_events,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "rebuilding": self.rebuild_checkpoint is not None,
            "rebuild_checkpoint": self.rebuild_checkpoint,
        }


def _pending(conn: Conn, schema: str, projector: Projector, after: int) -> int:
    types = list(projector.event_types)
    condition = sql.SQL("type = ANY(%s)") if types else sql.SQL("true")
    query = sql.SQL("SELECT count(*) FROM {} WHERE position > %s AND {}").format(
        sql.Identifier(schema, "events"), condition
    )
    row = conn.execute(query, (after, types) if types else (after,)).fetchone()
    return int(row[0]) if row else 0


def projection_status(
    conn: Conn, schema: str = "tdxq", projectors: Sequence[Projector] | None = None
) -> list[ProjectionStatus]:
    head = EventStore(conn, schema).head_position()
    checkpoints = read_checkpoints(conn, schema)
    result: list[ProjectionStatus] = []
    for projector in projectors if projectors is not None else all_projectors():
        live = checkpoints.get(projector.name)
        shadow = checkpoints.get(projector.name + SHADOW_SUFFIX)
        position = live.position if live else 0
        result.append(
            ProjectionStatus(
                name=projector.name,
                checkpoint=position,
                head=head,
                pending_events=_pending(conn, schema, projector, position),
                updated_at=live.updated_at if live else None,
                rebuild_checkpoint=shadow.position if shadow else None,
            )
        )
    return result
