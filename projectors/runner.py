"""Catching a projection up from its checkpoint, one transaction per batch.

Each batch locks the checkpoint row, reads the next events of the projector's types, applies
them and moves the checkpoint, all in one transaction: a crash rolls back rows and checkpoint
together, and a second runner waits on the row lock and then starts where the first stopped.
Position order is commit order (appends are serialized by the event store), so "everything up
to the head I read" is complete and no gap heuristics are needed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tdxq.eventlog import EventStore, RecordedEvent

from .catalog import all_projectors
from .checkpoints import lock_checkpoint, set_checkpoint
from .projector import Conn, Projector, table_names

DEFAULT_BATCH_SIZE = 2000

# Called after each committed batch with (checkpoint position, target position, events applied).
BatchCallback = Callable[[int, int, int], None]


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """What one read means: which events to apply and where the checkpoint moves."""

    events: Sequence[RecordedEvent]
    checkpoint: int
    done: bool


def plan_batch(read: Sequence[RecordedEvent], limit: int, target: int) -> BatchPlan:
    """Events of interest up to ``target`` from one read of at most ``limit`` events.

    A short read saw every event of interest up to the head, so the checkpoint may jump to
    ``target`` even when the batch had none: the skipped positions are never read again.
    """
    events = [e for e in read if e.position <= target]
    if len(read) == limit and read[-1].position < target:
        return BatchPlan(events, read[-1].position, done=False)
    return BatchPlan(events, target, done=True)


def catch_up(
    conn: Conn,
    projector: Projector,
    schema: str = "tdxq",
    *,
    until: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    suffix: str = "",
    on_batch: BatchCallback | None = None,
) -> int:
    """Bring the projection up to the head as of this call (or ``until``); events applied.

    ``suffix`` selects a copy of the projector's tables and its own checkpoint
    (``{name}{suffix}``), which is how a rebuild fills its shadow tables.
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    store = EventStore(conn, schema)
    head = store.head_position()
    target = head if until is None else min(until, head)
    tables = table_names(projector, schema, suffix)
    checkpoint_name = projector.name + suffix
    types = list(projector.event_types) or None
    applied = 0
    while True:
        with conn.transaction():
            position = lock_checkpoint(conn, schema, checkpoint_name)
            if position >= target:
                return applied
            read = store.read_all(position, batch_size, types)
            plan = plan_batch(read, batch_size, target)
            if plan.events:
                projector.apply(conn, tables, plan.events)
            set_checkpoint(conn, schema, checkpoint_name, plan.checkpoint)
        applied += len(plan.events)
        if on_batch is not None:
            on_batch(plan.checkpoint, target, applied)
        if plan.done:
            return applied


def catch_up_all(
    conn: Conn,
    schema: str = "tdxq",
    projectors: Sequence[Projector] | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> dict[str, int]:
    """Catch every registered projection up to the head; events applied, by projection."""
    if projectors is None:
        projectors = all_projectors()
    return {p.name: catch_up(conn, p, schema, batch_size=batch_size) for p in projectors}
