"""The long-running worker: processes tickets as soon as events ask for it.

One process, several threads:

- the **main thread** follows the event log: a ``Subscription`` (LISTEN/NOTIFY, polling as the
  fallback) wakes it, it reads the events committed after its checkpoint and turns them into
  work (``wakeups.py``): look at a ticket now, or at a time (a retry, a lease's end);
- **worker threads** take batches of tickets from the ``WorkQueue``, lock them with advisory
  locks (a hint, see ``ticket_locks.py``), decide each from the log and run what is due through
  the ``Processor`` (claim by expected version, heartbeat-renewed lease, durable outcome); after
  each ticket its next wake time (``Decision.wake_at``) goes back into the queue;
- an optional **ingest thread** polls each report on its interval (``tdxq run --daemon``);
  ``tdxq worker`` has none, so many workers on many hosts can serve one Postgres.

At start, and every ``sweep_interval_s`` as a safety net, every ticket of the served reports is
decided at once (a constant number of queries) to queue what is due and time what is not.

Outages: any read or append that fails because Postgres is unreachable makes the reader or the
worker back off, reconnect and try again; the tickets it held go back into the queue. "Cannot
read" is never "nothing due". Stopping (``request_stop`` or the ``stop`` callable, i.e. the
first SIGTERM/SIGINT): no new action starts, the current ones finish and record their outcome,
then ``run`` returns within ``shutdown_grace_s``.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import psycopg

from tdxq.actions.config import Config
from tdxq.actions.decide import decide
from tdxq.actions.lookups import LookupRuntime
from tdxq.eventlog import (
    DomainEvent,
    EventStore,
    StreamAppend,
    StreamState,
    WrongExpectedVersion,
    connect,
    process_metadata,
    to_new_event,
    utc_now,
)
from tdxq.eventlog.events import RunFinished, RunStarted, run_stream
from tdxq.eventlog.subscription import TRANSIENT_ERRORS, Backoff, Subscription, WakeReason
from tdxq.projectors.runner import catch_up_all
from tdxq.tdx import TdxClient

from .ingest import read_membership
from .ingest_loop import IngestLoop
from .process import OutcomeNotRecorded, Processor, ProcessSettings, pipeline_steps, worker_name
from .ticket_locks import try_lock_tickets, unlock_tickets
from .wakeups import WAKE_TYPES, wakeups
from .work_queue import Batch, WorkKey, WorkQueue

log = logging.getLogger("tdxq.daemon")

OUTAGE_ERRORS: tuple[type[Exception], ...] = (*TRANSIENT_ERRORS, OutcomeNotRecorded)
"""Failures that mean "Postgres is away": back off and try again, never give up."""

READ_BATCH = 500
STOP_CHECK_S = 0.2
"""How often waits look at the stop flag."""
UNEXPECTED_ERROR_DELAY_S = 30.0
"""A ticket whose processing raised something unexpected (a bug) is looked at again after this."""

T = TypeVar("T")


@dataclass(frozen=True)
class DaemonOptions:
    threads: int = 2
    """Worker threads in this process (each with its own database connection)."""
    poll_interval_s: float = 5.0
    """Longest wait without reading the log (when no notification comes)."""
    lease: timedelta = timedelta(minutes=10)
    renew_every: timedelta | None = None
    batch_size: int = 8
    """Tickets one thread takes (and locks) at a time."""
    ticket_locks: bool = True
    lock_retry_s: float = 1.0
    """A ticket locked by another worker is looked at again after this."""
    sweep_interval_s: float = 300.0
    ingest_intervals: Mapping[int, float] = field(default_factory=dict)
    """Report id → seconds between polls; empty: no ingest (``tdxq worker``)."""
    projections_interval_s: float | None = None
    """Catch the projections up at most this often (None: leave that to others)."""
    shutdown_grace_s: float = 60.0
    backoff: Backoff = field(default_factory=lambda: Backoff(initial_s=0.5, max_s=15.0))
    timer_slack_s: float = 0.05
    """Added to wake times so a timer never fires just before its lease or retry time."""

    def __post_init__(self) -> None:
        if self.threads < 1 or self.batch_size < 1:
            raise ValueError("threads and batch_size must be at least 1")
        if self.poll_interval_s <= 0 or self.sweep_interval_s <= 0:
            raise ValueError("poll_interval_s and sweep_interval_s must be positive")
        if self.lease <= timedelta(0):
            raise ValueError("the lease must be positive")


@dataclass(frozen=True)
class DaemonServices:
    """What the daemon works with (from ``open_runtime``)."""

    config: Config
    client: TdxClient
    lookups: LookupRuntime
    dsn: str
    schema: str

    def __repr__(self) -> str:  # the DSN may hold a password
        return f"DaemonServices(schema={self.schema!r})"


@dataclass
class DaemonResult:
    run_id: uuid.UUID
    stats: dict[str, int]
    clean: bool
    """Every thread finished within the grace period."""


class Daemon:
    """Serves ``reports`` until stopped; ``run`` blocks in the calling (main) thread."""

    def __init__(
        self,
        services: DaemonServices,
        reports: Sequence[int],
        options: DaemonOptions | None = None,
        *,
        mode: str = "worker",
        stop: Callable[[], bool] = lambda: False,
    ) -> None:
        if not reports:
            raise ValueError("a daemon needs at least one report to serve")
        self._services = services
        self._config = services.config
        self._reports = tuple(reports)
        self._options = options or DaemonOptions()
        self._mode = mode
        self._external_stop = stop
        self._stop_event = threading.Event()
        self.run_id = uuid.uuid4()
        self._started = time.monotonic()
        self._metadata = process_metadata(correlation_id=self.run_id, actor=f"tdxq {mode}")
        self.queue = WorkQueue()
        self._steps = {r: pipeline_steps(self._config.pipeline_for(r)) for r in self._reports}
        self._stats: Counter[str] = Counter()
        self._stats_lock = threading.Lock()
        self._reader: EventStore | None = None
        self._projection_conn: psycopg.Connection[Any] | None = None
        self._threads: list[threading.Thread] = []
        self._failed_threads: list[str] = []
        self._subscription: Subscription | None = None

    def __repr__(self) -> str:
        return f"Daemon({self._mode}, reports={list(self._reports)}, {self.queue!r})"

    # -- control -----------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Stop as after SIGTERM (thread-safe)."""
        self._stop_event.set()
        if self._subscription is not None:
            self._subscription.stop()

    def stopping(self) -> bool:
        return self._stop_event.is_set() or self._external_stop()

    @property
    def stats(self) -> dict[str, int]:
        with self._stats_lock:
            return dict(self._stats)

    @property
    def listening(self) -> bool:
        return self._subscription is not None and self._subscription.listening

    # -- the main loop -----------------------------------------------------------------------

    def run(self) -> DaemonResult:
        options = self._options
        log.info(
            "tdxq %s %s: reports %s, %d thread(s), lease %.0f s, poll %.1f s",
            self._mode,
            self.run_id,
            ", ".join(map(str, self._reports)),
            options.threads,
            options.lease.total_seconds(),
            options.poll_interval_s,
        )
        subscription = Subscription(
            self._services.dsn,
            self._services.schema,
            poll_interval=options.poll_interval_s,
            reconnect_backoff=options.backoff,
        )
        self._subscription = subscription
        with subscription:
            if self.stopping():
                subscription.stop()
            started = self._record_start()
            ingest: IngestLoop | None = None
            finished = False
            try:
                checkpoint = self._until_done("read the head of the log", self._head)
                if checkpoint is not None and self._until_done("sweep", self._sweep) is not None:
                    self._start_workers()
                    if options.ingest_intervals:
                        ingest = IngestLoop(
                            self._services,
                            options.ingest_intervals,
                            metadata=self._metadata,
                            run_id=self.run_id,
                            stopping=self.stopping,
                            backoff=options.backoff,
                        )
                        ingest.start()
                    self._follow(subscription, checkpoint)
                finished = True
            finally:
                # Also on the way out of an exception (KeyboardInterrupt without a StopFlag):
                # let the running actions finish and record their outcomes, then re-raise.
                self._stop_event.set()
                self.queue.close()
                clean = self._join_threads(ingest)
                self._catch_up_projections(force=True)
                stats = self.stats
                if started:
                    self._record_finish(stats, clean and finished)
                self._close_connections()
        if not clean:
            log.error("stopped without every thread finishing; their leases will expire")
        log.info("tdxq %s %s stopped: %s", self._mode, self.run_id, _figures(stats))
        return DaemonResult(self.run_id, stats, clean and not self._failed_threads)

    def _follow(self, subscription: Subscription, checkpoint: int) -> None:
        options = self._options
        last_read = time.monotonic()
        last_sweep = time.monotonic()
        last_projection = 0.0
        failures = 0
        read_now = True
        while not self.stopping():
            if read_now or time.monotonic() - last_read >= options.poll_interval_s:
                try:
                    checkpoint, seen = self._read_new(checkpoint)
                except TRANSIENT_ERRORS as exc:
                    failures += 1
                    self._drop_reader()
                    delay = options.backoff.delay(failures, _draw())
                    _report_outage("read the event log", failures, delay, exc)
                    self._pause(delay)
                    continue
                if failures:
                    log.info("reading the event log again after %d failure(s)", failures)
                    failures = 0
                last_read = time.monotonic()
                if seen >= READ_BATCH:
                    continue  # more to read
            sweep_due = time.monotonic() - last_sweep >= options.sweep_interval_s
            if sweep_due and self._until_done("sweep", self._sweep, tries=1) is not None:
                last_sweep = time.monotonic()
            # Outcomes do not wake the reader, so the projections catch up on a clock.
            if (
                options.projections_interval_s is not None
                and time.monotonic() - last_projection >= options.projections_interval_s
            ):
                self._catch_up_projections()
                last_projection = time.monotonic()
            self._check_threads()
            reason = subscription.wait(timeout=STOP_CHECK_S)
            read_now = reason in (WakeReason.NOTIFIED, WakeReason.RECONNECTED)

    def _read_new(self, checkpoint: int) -> tuple[int, int]:
        """Queue the work of events after ``checkpoint``; the new checkpoint and the count."""
        reader = self._reader_store()
        batch = reader.read_all(checkpoint, READ_BATCH, WAKE_TYPES)
        if not batch:
            return checkpoint, 0
        self._queue_wakeups(batch)
        return batch[-1].position, len(batch)

    def _queue_wakeups(self, events: Sequence[Any]) -> None:
        found = wakeups(events, self._reports)
        if found.now:
            self.queue.add(found.now)
        for key, at in found.later:
            self._schedule(key, at)

    def _head(self) -> int:
        return self._reader_store().head_position()

    def _sweep(self) -> int:
        """Decide every ticket of every served report (one read per report): queue what is
        due, time the rest."""
        reader = self._reader_store()
        due = 0
        now = utc_now()
        for report_id in self._reports:
            tickets = sorted(read_membership(reader, report_id).on_report)
            processor = self._processor(report_id, reader)
            states = processor.load_states(tickets)
            for ticket_id, state in states.items():
                decision = decide(
                    state, self._steps[report_id], now, self._config.retry, report_id=report_id
                )
                if decision.has_due:
                    due += self.queue.add([(report_id, ticket_id)])
                elif decision.wake_at is not None:
                    self._schedule((report_id, ticket_id), decision.wake_at)
        log.debug("sweep: %d ticket(s) due, %d timer(s)", due, self.queue.timers)
        return due

    # -- worker threads ------------------------------------------------------------------------

    def _start_workers(self) -> None:
        for index in range(self._options.threads):
            thread = threading.Thread(
                target=self._work_loop, name=f"tdxq-worker-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _work_loop(self) -> None:
        processors: dict[int, Processor] = {}
        failures = 0
        try:
            while True:
                batch = self.queue.take(self._options.batch_size, timeout=STOP_CHECK_S * 2)
                if batch is None:
                    if self.stopping():
                        return
                    continue
                try:
                    self._work(batch, processors)
                except OUTAGE_ERRORS as exc:
                    failures += 1
                    self._drop_processor(processors, batch.report_id)
                    delay = self._options.backoff.delay(failures, _draw())
                    self._retry_later(batch, delay)
                    _report_outage(f"process report {batch.report_id}", failures, delay, exc)
                    self._pause(delay)
                    continue
                except Exception:  # a bug: log it, keep serving the other tickets
                    log.exception(
                        "report %s: processing tickets %s failed; looking again in %.0f s",
                        batch.report_id,
                        batch.ticket_ids,
                        UNEXPECTED_ERROR_DELAY_S,
                    )
                    self._drop_processor(processors, batch.report_id)
                    self._retry_later(batch, UNEXPECTED_ERROR_DELAY_S)
                    continue
                finally:
                    self.queue.done(batch)
                if failures:
                    log.info("processing again after %d failure(s)", failures)
                    failures = 0
        finally:
            for report_id in list(processors):
                self._drop_processor(processors, report_id)

    def _work(self, batch: Batch, processors: dict[int, Processor]) -> None:
        report_id = batch.report_id
        processor = processors.get(report_id)
        if processor is None:
            processor = self._processor(report_id, self._open_store(), own_store=True)
            processors[report_id] = processor
        connection = processor.store.connection
        tickets = set(batch.ticket_ids)
        if self._options.ticket_locks:
            locked = try_lock_tickets(connection, self._services.schema, tickets)
        else:
            locked = tickets
        for ticket_id in tickets - locked:
            # Another worker is on it; it may not see what woke us: look again soon.
            self.queue.schedule(
                (report_id, ticket_id), time.monotonic() + self._options.lock_retry_s
            )
        self._count("tickets_locked_elsewhere", len(tickets - locked))
        try:
            self._process_locked(processor, report_id, sorted(locked))
        finally:
            if self._options.ticket_locks and processor.store.connection is connection:
                # If the connection is gone, its locks went with it.
                with contextlib.suppress(*TRANSIENT_ERRORS):
                    unlock_tickets(connection, self._services.schema, locked)

    def _process_locked(self, processor: Processor, report_id: int, tickets: list[int]) -> None:
        if not tickets:
            return
        states = processor.load_states(tickets)
        steps = self._steps[report_id]
        policy = self._config.retry
        before = Counter(processor.stats.counts)
        try:
            for ticket_id in tickets:
                if self.stopping():
                    return
                state = states[ticket_id]
                decision = decide(state, steps, utc_now(), policy, report_id=report_id)
                if decision.has_due:
                    state = processor.process_ticket(state)
                    self._count("tickets_processed")
                    decision = decide(state, steps, utc_now(), policy, report_id=report_id)
                if decision.wake_at is not None:
                    self._schedule((report_id, ticket_id), decision.wake_at)
        finally:
            after = processor.stats.counts
            with self._stats_lock:
                self._stats.update({k: v - before.get(k, 0) for k, v in after.items()})

    def _processor(
        self, report_id: int, store: EventStore, *, own_store: bool = False
    ) -> Processor:
        settings = ProcessSettings(
            lease=self._options.lease,
            worker=worker_name(),
            renew_every=self._options.renew_every,
        )
        return Processor(
            store,
            self._services.client,
            report_id=report_id,
            pipeline=self._config.pipeline_for(report_id),
            tenant=self._config.tenant,
            lookups=self._services.lookups,
            policy=self._config.retry,
            metadata=self._metadata,
            settings=settings,
            should_stop=self.stopping,
            reconnect=self._open_store if own_store else None,
        )

    def _drop_processor(self, processors: dict[int, Processor], report_id: int) -> None:
        processor = processors.pop(report_id, None)
        if processor is not None:
            _close_quietly(processor.store.connection)

    def _retry_later(self, batch: Batch, delay: float) -> None:
        at = time.monotonic() + delay
        for ticket_id in batch.ticket_ids:
            self.queue.schedule((batch.report_id, ticket_id), at)

    def _schedule(self, key: WorkKey, at: datetime) -> None:
        seconds = (at - utc_now()).total_seconds() + self._options.timer_slack_s
        self.queue.schedule(key, time.monotonic() + max(0.0, seconds))

    def _count(self, key: str, n: int = 1) -> None:
        if n:
            with self._stats_lock:
                self._stats[key] += n

    # -- stopping ------------------------------------------------------------------------------

    def _check_threads(self) -> None:
        for thread in self._threads:
            if not thread.is_alive() and thread.name not in self._failed_threads:
                self._failed_threads.append(thread.name)
                log.error("%s ended unexpectedly; stopping", thread.name)
                self.request_stop()

    def _join_threads(self, ingest: IngestLoop | None) -> bool:
        deadline = time.monotonic() + self._options.shutdown_grace_s
        threads = list(self._threads) + ([ingest.thread] if ingest is not None else [])
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        busy = [t.name for t in threads if t.is_alive()]
        if busy:
            log.error(
                "%s still busy after %.0f s: leaving; reconciliation will settle their actions",
                ", ".join(busy),
                self._options.shutdown_grace_s,
            )
        return not busy

    def _pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._stop_event.wait(min(left, STOP_CHECK_S))

    def _until_done(
        self,
        what: str,
        op: Callable[[], T],
        *,
        tries: int | None = None,
        while_stopping: bool = False,
    ) -> T | None:
        """``op()``, again after a backoff while Postgres is away; None when stopped first
        (unless ``while_stopping``) or after ``tries`` failures."""
        failures = 0
        while while_stopping or not self.stopping():
            try:
                return op()
            except TRANSIENT_ERRORS as exc:
                failures += 1
                self._drop_reader()
                delay = self._options.backoff.delay(failures, _draw())
                _report_outage(what, failures, delay, exc)
                if tries is not None and failures >= tries:
                    return None
                if while_stopping:
                    time.sleep(min(delay, 1.0))
                else:
                    self._pause(delay)
        return None

    # -- run events, projections, connections ---------------------------------------------------

    def _record_start(self) -> bool:
        event = RunStarted(
            run_id=self.run_id,
            mode=self._mode,
            report_id=self._reports[0] if len(self._reports) == 1 else None,
            action_ids=[a.action_id for r in self._reports for a in self._config.pipeline_for(r)],
            config_digest=self._config.digest(),
        )
        done = self._until_done(
            "record the start", lambda: self._append_run(StreamState.NO_STREAM, event), tries=3
        )
        return done is not None

    def _record_finish(self, stats: dict[str, int], clean: bool) -> None:
        event = RunFinished(
            run_id=self.run_id,
            outcome="finished" if clean else "interrupted",
            stats=dict(stats),
            duration_ms=(time.monotonic() - self._started) * 1000,
        )
        try:
            self._until_done(
                "record the finish",
                lambda: self._append_run(1, event),
                tries=3,
                while_stopping=True,
            )
        except WrongExpectedVersion:
            log.warning("the run stream %s moved; run_finished not recorded", self.run_id)

    def _append_run(self, expected: int | StreamState, event: DomainEvent) -> bool:
        new = to_new_event(event, self._metadata)
        self._reader_store().append([StreamAppend(run_stream(self.run_id), expected, [new])])
        return True

    def _catch_up_projections(self, *, force: bool = False) -> None:
        if self._options.projections_interval_s is None:
            return
        try:
            if self._projection_conn is None or self._projection_conn.closed:
                self._projection_conn = connect(self._services.dsn)
            applied = catch_up_all(self._projection_conn, self._services.schema)
            if any(applied.values()):
                log.debug("projections caught up: %s", applied)
        except TRANSIENT_ERRORS as exc:
            if self._projection_conn is not None:
                _close_quietly(self._projection_conn)
            self._projection_conn = None
            log.warning("cannot catch the projections up: %s", _first_line(exc))
        except Exception:  # a projection bug must not stop the processing
            if force:
                log.exception("catching the projections up failed")
            else:
                log.exception("catching the projections up failed; trying again later")

    def _open_store(self) -> EventStore:
        return EventStore(connect(self._services.dsn, connect_timeout=10), self._services.schema)

    def _reader_store(self) -> EventStore:
        if self._reader is None:
            self._reader = self._open_store()
        return self._reader

    def _drop_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            _close_quietly(reader.connection)

    def _close_connections(self) -> None:
        self._drop_reader()
        if self._projection_conn is not None:
            _close_quietly(self._projection_conn)
            self._projection_conn = None


def _draw() -> float:
    return random.random()


def _report_outage(what: str, failures: int, delay: float, exc: BaseException) -> None:
    if failures == 1:
        log.warning(
            "cannot %s: %s; Postgres seems unreachable, trying again in %.1f s",
            what,
            _first_line(exc),
            delay,
        )
    else:
        log.debug("still cannot %s (%d tries): %s", what, failures, _first_line(exc))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else '(no message)'}"


def _close_quietly(conn: psycopg.Connection[Any]) -> None:
    try:
        conn.close()
    except Exception as exc:  # noqa: BLE001 - a broken connection may fail to close
        log.debug("closing a connection: %s", exc)


def _figures(stats: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(stats.items())) or "nothing done"
