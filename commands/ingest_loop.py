"""Polling each report on its own interval, in a background thread (``tdxq run --daemon``).

An ingest appends ``ticket_seen`` for new and changed tickets; the daemon's subscription then
wakes the workers, so processing does not wait for this loop. A report that cannot be read
(TDX down, no TicketID column) is logged and polled again at its next interval; while Postgres
is unreachable the poll is tried again after a backoff.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

from tdxq.eventlog import EventStore, Metadata, connect
from tdxq.eventlog.subscription import TRANSIENT_ERRORS, Backoff
from tdxq.tdx.errors import TdxError

from .ingest import fetch_report, ingest_report
from .report_rows import MissingTicketIdColumn

if TYPE_CHECKING:
    from .daemon import DaemonServices

log = logging.getLogger("tdxq.ingest")

STOP_CHECK_S = 0.2


class IngestLoop:
    """Polls ``intervals`` (report id → seconds), each report first right away."""

    def __init__(
        self,
        services: DaemonServices,
        intervals: Mapping[int, float],
        *,
        metadata: Metadata,
        run_id: UUID | None,
        stopping: Callable[[], bool],
        backoff: Backoff,
    ) -> None:
        if any(seconds <= 0 for seconds in intervals.values()):
            raise ValueError(f"ingest intervals must be positive, got {dict(intervals)}")
        self._services = services
        self._intervals = dict(intervals)
        self._metadata = metadata
        self._run_id = run_id
        self._stopping = stopping
        self._backoff = backoff
        self._store: EventStore | None = None
        self.polls = 0
        self.thread = threading.Thread(target=self._run, name="tdxq-ingest", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        next_at = {report_id: time.monotonic() for report_id in self._intervals}
        failures = 0
        try:
            while not self._stopping():
                report_id = min(next_at, key=lambda r: next_at[r])
                if not self._wait_until(next_at[report_id]):
                    return
                try:
                    self._poll(report_id)
                except TRANSIENT_ERRORS as exc:
                    failures += 1
                    self._drop_store()
                    delay = self._backoff.delay(failures, random.random())
                    log.warning(
                        "report %s: cannot record the poll (%s); trying again in %.1f s",
                        report_id,
                        _first_line(exc),
                        delay,
                    )
                    next_at[report_id] = time.monotonic() + delay
                    continue
                except (MissingTicketIdColumn, TdxError) as exc:
                    log.error("report %s: %s (polling again next interval)", report_id, exc)
                except Exception:  # a bug must not end the polling of the other reports
                    log.exception("report %s: ingest failed", report_id)
                failures = 0
                next_at[report_id] = time.monotonic() + self._intervals[report_id]
        finally:
            self._drop_store()

    def _poll(self, report_id: int) -> None:
        config = self._services.config
        started = time.monotonic()
        volatile = config.reports[report_id].volatile_columns
        parsed = fetch_report(self._services.client, report_id, volatile)
        result = ingest_report(
            self._store_now(),
            parsed,
            run_id=self._run_id,
            metadata=self._metadata,
            started=started,
        )
        self.polls += 1
        plan = result.plan
        log.info(
            "report %s: %d ticket(s), %d new, %d changed, %d left",
            report_id,
            len(plan.parsed.rows),
            len(plan.new),
            len(plan.changed),
            len(plan.left),
        )

    def _wait_until(self, at: float) -> bool:
        while not self._stopping():
            left = at - time.monotonic()
            if left <= 0:
                return True
            time.sleep(min(left, STOP_CHECK_S))
        return False

    def _store_now(self) -> EventStore:
        if self._store is None:
            conn = connect(self._services.dsn, connect_timeout=10)
            self._store = EventStore(conn, self._services.schema)
        return self._store

    def _drop_store(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            _close_quietly(store.connection)


def _close_quietly(conn: Any) -> None:
    try:
        conn.close()
    except Exception as exc:  # noqa: BLE001 - a broken connection may fail to close
        log.debug("closing a connection: %s", exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else '(no message)'}"
