"""Rebuilding a projection from position 0 beside the live one, then swapping it in.

1. Shadow tables are created empty (``shadow.py``) and filled by the ordinary runner with their
   own checkpoint, in batches, while the live projection keeps serving and catching up.
2. When the shadow is within one batch of the head (or stops gaining on appends that come as
   fast as it applies them), one transaction locks the live checkpoint
   (live runners wait), takes the head position P, catches live and shadow up to exactly P,
   compares them row for row, and swaps the shadow in; the live checkpoint becomes P.
3. A difference means the live projection was wrong (the shadow is a fold from zero), so the
   shadow is swapped in anyway and the difference is reported; ``swap=False`` only verifies.

Interrupting it at any point (Ctrl-C, an exception) leaves the live tables as they were and
drops the shadow. Two rebuilds of one projection exclude each other with an advisory lock.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from psycopg import pq

from tdxq.eventlog import EventStore

from .checkpoints import lock_checkpoint
from .compare import TableDiff, compare_tables
from .projector import SHADOW_SUFFIX, Conn, Projector, table_names
from .runner import catch_up
from .shadow import create_shadow, drop_shadow, shadow_checkpoint_name, swap_in

log = logging.getLogger(__name__)

DEFAULT_REBUILD_BATCH = 5000

# Called as the shadow advances: (shadow checkpoint, head position when that batch started).
ProgressCallback = Callable[[int, int], None]


class RebuildInProgress(Exception):
    """Another process is rebuilding the same projection."""


@dataclass(frozen=True, slots=True)
class RebuildResult:
    name: str
    position: int  # where live and shadow were compared; the new live checkpoint when swapped
    events_applied: int  # by the shadow, from position 0
    seconds: float
    swapped: bool
    diffs: list[TableDiff] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return all(d.identical for d in self.diffs)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "position": self.position,
            "events_applied": self.events_applied,
            "seconds": round(self.seconds, 3),
            "swapped": self.swapped,
            "identical": self.identical,
            "tables": [d.as_json() for d in self.diffs],
        }


def _lock_key(schema: str, name: str) -> int:
    digest = hashlib.sha256(f"tdxq.rebuild.{schema}.{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def rebuild(
    conn: Conn,
    projector: Projector,
    schema: str = "tdxq",
    *,
    swap: bool = True,
    batch_size: int = DEFAULT_REBUILD_BATCH,
    on_progress: ProgressCallback | None = None,
    lock_timeout_s: float = 10.0,
) -> RebuildResult:
    """Rebuild ``projector``'s tables from position 0 and swap them in (see module doc)."""
    if not conn.autocommit:
        raise ValueError("rebuild needs an autocommit connection (it commits batch by batch)")
    key = _lock_key(schema, projector.name)
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
    if not (row and row[0]):
        raise RebuildInProgress(f"a rebuild of {projector.name} is already running")
    started = time.perf_counter()
    try:
        create_shadow(conn, schema, projector)
        applied = _fill_shadow(conn, projector, schema, batch_size, on_progress)
        position, diffs, applied_last = _compare_and_swap(
            conn, projector, schema, swap, lock_timeout_s
        )
    except BaseException:
        _discard_shadow(conn, schema, projector)
        raise
    finally:
        _unlock(conn, key)
    return RebuildResult(
        name=projector.name,
        position=position,
        events_applied=applied + applied_last,
        seconds=time.perf_counter() - started,
        swapped=swap,
        diffs=diffs,
    )


def _fill_shadow(
    conn: Conn,
    projector: Projector,
    schema: str,
    batch_size: int,
    on_progress: ProgressCallback | None,
) -> int:
    """Catch the shadow up, pass after pass, until it is within one batch of the head or stops
    gaining on it (appends as fast as the rebuild); live catches up too. Whatever is left is
    applied in the final transaction."""
    store = EventStore(conn, schema)

    def report(position: int, target: int, _applied: int) -> None:
        if on_progress is not None:
            on_progress(position, target)

    applied = 0
    previous_lag: int | None = None
    while True:
        applied += catch_up(
            conn, projector, schema, batch_size=batch_size, suffix=SHADOW_SUFFIX, on_batch=report
        )
        catch_up(conn, projector, schema, batch_size=batch_size)
        head = store.head_position()
        shadow_at = _checkpoint(conn, schema, shadow_checkpoint_name(projector))
        report(shadow_at, head, applied)
        lag = head - shadow_at
        if lag <= batch_size or (previous_lag is not None and lag >= previous_lag):
            return applied
        previous_lag = lag


def _checkpoint(conn: Conn, schema: str, name: str) -> int:
    with conn.transaction():
        return lock_checkpoint(conn, schema, name)


def _compare_and_swap(
    conn: Conn, projector: Projector, schema: str, swap: bool, lock_timeout_s: float
) -> tuple[int, list[TableDiff], int]:
    """One transaction: both caught up to the same position, compared, then swapped or dropped."""
    store = EventStore(conn, schema)
    with conn.transaction():
        lock_checkpoint(conn, schema, projector.name)  # live runners wait until we commit
        position = store.head_position()
        catch_up(conn, projector, schema, until=position)
        applied = catch_up(conn, projector, schema, until=position, suffix=SHADOW_SUFFIX)
        live = table_names(projector, schema)
        shadow = table_names(projector, schema, SHADOW_SUFFIX)
        diffs = [compare_tables(conn, t, live[t], shadow[t]) for t in projector.tables]
        for diff in diffs:
            if not diff.identical:
                log.info(
                    "%s differs from its rebuild at position %d: %d rows only in live, "
                    "%d only in the rebuild",
                    diff.table,
                    position,
                    diff.only_in_live,
                    diff.only_in_shadow,
                )
        if swap:
            swap_in(conn, schema, projector, position, lock_timeout_s)
        else:
            drop_shadow(conn, schema, projector)
    return position, diffs, applied


def _discard_shadow(conn: Conn, schema: str, projector: Projector) -> None:
    """Best effort after an interruption: the live tables were never touched."""
    try:
        if conn.closed:
            return
        if conn.info.transaction_status is not pq.TransactionStatus.IDLE:
            conn.rollback()
        drop_shadow(conn, schema, projector)
    except Exception:
        log.warning(
            "could not drop the shadow tables of %s; the next rebuild drops them",
            projector.name,
            exc_info=True,
        )


def _unlock(conn: Conn, key: int) -> None:
    try:
        if not conn.closed and not conn.broken:
            if conn.info.transaction_status is not pq.TransactionStatus.IDLE:
                conn.rollback()
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
    except Exception:
        log.warning("could not release the rebuild lock; it ends with the session", exc_info=True)
