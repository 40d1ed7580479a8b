"""Following the event log: LISTEN/NOTIFY wakes the reader, polling is the fallback.

The rules (DESIGN.md, "NOTIFY is a wake-up hint, never data"):

- a dedicated autocommit connection LISTENs *before* the reader catches up from its checkpoint,
  so an event committed during the catch-up still leaves a notification behind;
- after every reconnect the same: LISTEN again, then wake the reader to catch up, because
  notifications sent while the listener was away are lost;
- every wait is bounded by ``poll_interval``; when it ends quietly the reader polls anyway;
- an error in the wake-up path (connection dropped, backend terminated) logs one warning,
  degrades to polling, and a background thread keeps reconnecting with backoff. Work never stops.

The reader side (``Subscription.follow``) treats "cannot read" as an outage to back off from and
retry, never as "no events": the checkpoint only moves past events handed to the handler.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import selectors
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg import sql

from .database import connect as connect_database
from .envelope import RecordedEvent
from .store import EventStore

_log = logging.getLogger("tdxq.eventlog.subscription")

APPLICATION_NAME = "tdxq-listener"
"""Shown in pg_stat_activity for the listening connection."""

TRANSIENT_ERRORS: tuple[type[Exception], ...] = (psycopg.OperationalError, psycopg.InterfaceError)
"""Errors that mean "the database is unreachable right now", worth waiting out."""

_STOP_CHECK_S = 0.1
"""How often a wait looks at a caller's own stop event (the internal stop wakes at once)."""


class WakeReason(Enum):
    """Why ``Subscription.wait`` returned. Every reason means: read from your checkpoint."""

    NOTIFIED = "notified"
    """New events committed (one or more notifications arrived)."""
    RECONNECTED = "reconnected"
    """The listener (re)started LISTENing; notifications may have been missed meanwhile."""
    TIMEOUT = "timeout"
    """The bounded wait ended quietly while listening: poll as a safety net."""
    DEGRADED = "degraded"
    """The listener is down; the wait was a plain poll interval."""
    STOPPED = "stopped"
    """``stop()`` was called, or the caller's stop event was set."""


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff between reconnect attempts, capped, with some random spread so that
    many workers do not reconnect in lockstep after a database restart."""

    initial_s: float = 0.5
    max_s: float = 30.0
    factor: float = 2.0
    jitter: float = 0.2
    """Up to this fraction of each delay is randomly taken off."""

    def __post_init__(self) -> None:
        if self.initial_s <= 0 or self.max_s < self.initial_s or self.factor < 1:
            raise ValueError(f"backoff needs 0 < initial_s <= max_s and factor >= 1, got {self!r}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"backoff jitter must be in [0, 1), got {self.jitter}")

    def delay(self, failures: int, draw: float = 0.0) -> float:
        """Seconds to wait after ``failures`` consecutive failures (>= 1); ``draw`` in [0, 1)."""
        exponent = max(0, failures - 1)
        base = min(self.max_s, self.initial_s * self.factor ** min(exponent, 64))
        return base * (1.0 - self.jitter * draw)


ConnectFn = Callable[[str], psycopg.Connection[Any]]


def listener_connection(dsn: str) -> psycopg.Connection[Any]:
    """The default listening connection: autocommit, keepalives so a silent network drop is
    noticed, and a name that shows in pg_stat_activity."""
    return connect_database(
        dsn,
        autocommit=True,
        connect_timeout=10,
        application_name=APPLICATION_NAME,
        keepalives=1,
        keepalives_idle=30,
        keepalives_interval=10,
        keepalives_count=3,
    )


class Subscription:
    """Wakes one reader when events commit in ``schema``; use as a context manager.

    One consumer per instance: ``wait`` hands each wake-up to one caller. ``stop()`` may be
    called from any thread (e.g. a signal handler's helper) and makes ``wait`` and ``follow``
    return promptly.
    """

    def __init__(
        self,
        dsn: str,
        schema: str,
        *,
        poll_interval: float = 5.0,
        reconnect_backoff: Backoff | None = None,
        connect: ConnectFn | None = None,
        startup_timeout: float | None = None,
        heartbeat_interval: float | None = None,
    ) -> None:
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be positive, got {poll_interval}")
        self._dsn = dsn
        self.schema = schema
        self.channel = f"{schema}_events"
        self.poll_interval = poll_interval
        self._backoff = reconnect_backoff or Backoff()
        self._connect = connect or listener_connection
        self._startup_timeout = poll_interval if startup_timeout is None else startup_timeout
        self._heartbeat_s = poll_interval if heartbeat_interval is None else heartbeat_interval

        self._cond = threading.Condition()
        self._pending: WakeReason | None = None
        self._listening = False
        self._attempted = False
        self._stopped = False
        self._closing = False
        self._backend_pid: int | None = None
        self._reconnects = 0
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)

    def __repr__(self) -> str:
        state = "listening" if self._listening else "degraded"
        return f"Subscription(channel={self.channel!r}, {state}, poll={self.poll_interval}s)"

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Start listening; returns once the first LISTEN is in place (or has failed, or
        ``startup_timeout`` passed), so that a catch-up read after this sees no gap."""
        if self._thread is not None:
            raise RuntimeError("this subscription was already started")
        self._thread = threading.Thread(
            target=self._run_listener, name=f"tdxq-listen-{self.channel}", daemon=True
        )
        self._thread.start()
        with self._cond:
            self._cond.wait_for(lambda: self._attempted, timeout=self._startup_timeout)
            # The caller catches up right after this returns, which covers whatever the first
            # LISTEN announced; a LISTEN that succeeds later still wakes it (RECONNECTED).
            self._pending = None

    def close(self) -> None:
        """Stop waiting and listening, and close the connection. Safe to call twice."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            self._stopped = True
            self._cond.notify_all()
        os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=15)
            if self._thread.is_alive():
                # Stuck in a connect attempt; it is a daemon thread and will see _closing.
                _log.warning("the listener thread for %s did not stop in time", self.channel)
                return
        os.close(self._wake_r)
        os.close(self._wake_w)

    def stop(self) -> None:
        """Make the current and future ``wait``/``follow`` calls return (thread-safe)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    # -- state, for callers and monitoring ------------------------------------------------------

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def listening(self) -> bool:
        """True while LISTEN is in place; False while degraded to polling."""
        return self._listening

    @property
    def backend_pid(self) -> int | None:
        """The listening connection's server process, while there is one."""
        return self._backend_pid

    @property
    def reconnects(self) -> int:
        """How many times LISTEN was re-established after a failure."""
        return self._reconnects

    # -- waiting -----------------------------------------------------------------------------

    def wait(
        self, timeout: float | None = None, stop_event: threading.Event | None = None
    ) -> WakeReason:
        """Wait for new events, at most ``min(timeout, poll_interval)`` seconds.

        Whatever the reason returned, the caller should then read from its checkpoint.
        """
        bound = self.poll_interval if timeout is None else min(timeout, self.poll_interval)
        deadline = time.monotonic() + max(0.0, bound)
        with self._cond:
            while True:
                if self._stopped or (stop_event is not None and stop_event.is_set()):
                    return WakeReason.STOPPED
                if self._pending is not None:
                    reason, self._pending = self._pending, None
                    return reason
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return WakeReason.TIMEOUT if self._listening else WakeReason.DEGRADED
                if stop_event is not None:
                    remaining = min(remaining, _STOP_CHECK_S)
                self._cond.wait(remaining)

    # -- following ---------------------------------------------------------------------------

    def follow_batches(
        self,
        store_factory: Callable[[], EventStore],
        from_position: int,
        handler: Callable[[list[RecordedEvent]], None],
        stop_event: threading.Event | None = None,
        *,
        types: Sequence[str] | None = None,
        batch_size: int = 500,
        read_backoff: Backoff | None = None,
    ) -> int:
        """Hand every event after ``from_position`` to ``handler`` in batches, in commit order,
        each exactly once, until stopped; return the position of the last event handled.

        ``store_factory`` makes a store over a fresh autocommit connection; the follower owns
        it and closes it. When a read fails because the database is unreachable, the follower
        logs one warning, closes the store, backs off and builds a new one; the checkpoint does
        not move. Errors raised by ``handler`` propagate: the events of that batch count as not
        handled. Callers must ``start()`` the subscription first (the context manager does).
        """
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if self._thread is None:
            raise RuntimeError("start the subscription (use it as a context manager) first")
        backoff = read_backoff or self._backoff
        position = from_position
        store: EventStore | None = None
        failures = 0
        try:
            while not self._should_stop(stop_event):
                try:
                    if store is None:
                        store = _open_store(store_factory)
                    batch = store.read_all(position, batch_size, types)
                except TRANSIENT_ERRORS as exc:
                    failures += 1
                    _close_store(store)
                    store = None
                    delay = backoff.delay(failures, random.random())
                    _report_read_failure(self.schema, failures, delay, exc)
                    self._pause(delay, stop_event)
                    continue
                if failures:
                    _log.info("reading %s.events again after %d failure(s)", self.schema, failures)
                    failures = 0
                if batch:
                    handler(batch)
                    position = batch[-1].position
                if len(batch) < batch_size:
                    self.wait(stop_event=stop_event)
        finally:
            _close_store(store)
        return position

    def follow(
        self,
        store_factory: Callable[[], EventStore],
        from_position: int,
        handler: Callable[[RecordedEvent], None],
        stop_event: threading.Event | None = None,
        *,
        types: Sequence[str] | None = None,
        batch_size: int = 500,
        read_backoff: Backoff | None = None,
    ) -> int:
        """Like ``follow_batches``, one event at a time; stopping takes effect between events.

        Returns the position of the last event ``handler`` returned from.
        """
        last = from_position

        def each(batch: list[RecordedEvent]) -> None:
            nonlocal last
            for event in batch:
                if self._should_stop(stop_event):
                    raise _Stopped
                handler(event)
                last = event.position

        with contextlib.suppress(_Stopped):
            self.follow_batches(
                store_factory,
                from_position,
                each,
                stop_event,
                types=types,
                batch_size=batch_size,
                read_backoff=read_backoff,
            )
        return last

    def _should_stop(self, stop_event: threading.Event | None) -> bool:
        return self._stopped or (stop_event is not None and stop_event.is_set())

    def _pause(self, seconds: float, stop_event: threading.Event | None) -> None:
        deadline = time.monotonic() + seconds
        with self._cond:
            while not self._should_stop(stop_event):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._cond.wait(min(remaining, _STOP_CHECK_S) if stop_event else remaining)

    # -- the listener thread -----------------------------------------------------------------

    def _run_listener(self) -> None:
        failures = 0
        while not self._closing:
            conn: psycopg.Connection[Any] | None = None
            try:
                conn = self._connect(self._dsn)
                if not conn.autocommit:
                    raise ValueError("the listening connection must be autocommit")
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                self._on_listening(conn, recovered=failures > 0)
                failures = 0
                self._pump(conn)
            except Exception as exc:  # noqa: BLE001 - any failure here degrades to polling
                if self._is_closing():
                    break
                failures += 1
                self._on_failure(exc, first=failures == 1)
                self._sleep_unless_closing(self._backoff.delay(failures, random.random()))
            finally:
                self._on_disconnected()
                if conn is not None:
                    _close_quietly(conn)

    def _on_listening(self, conn: psycopg.Connection[Any], *, recovered: bool) -> None:
        with self._cond:
            self._listening = True
            self._attempted = True
            self._backend_pid = conn.info.backend_pid
            if recovered:
                self._reconnects += 1
            # Notifications sent before this LISTEN are lost: have the reader catch up.
            self._pending = WakeReason.RECONNECTED
            self._cond.notify_all()
        if recovered:
            _log.info("listening on %s again; the reader catches up", self.channel)

    def _on_failure(self, exc: Exception, *, first: bool) -> None:
        with self._cond:
            self._attempted = True
            self._cond.notify_all()
        message = f"{type(exc).__name__}: {_first_line(exc)}"
        if first:
            _log.warning(
                "listening on %s failed (%s); polling every %.1f s, reconnecting in the background",
                self.channel,
                message,
                self.poll_interval,
            )
        else:
            _log.debug("reconnecting the listener for %s failed: %s", self.channel, message)

    def _on_disconnected(self) -> None:
        with self._cond:
            self._listening = False
            self._backend_pid = None

    def _pump(self, conn: psycopg.Connection[Any]) -> None:
        """Deliver notifications until the connection fails or the subscription closes."""
        with selectors.DefaultSelector() as selector:
            selector.register(conn.fileno(), selectors.EVENT_READ, "db")
            selector.register(self._wake_r, selectors.EVENT_READ, "wake")
            quiet_since = time.monotonic()
            while not self._closing:
                timeout = max(0.0, quiet_since + self._heartbeat_s - time.monotonic())
                ready = {key.data for key, _ in selector.select(timeout)}
                if "wake" in ready or self._closing:
                    return
                if "db" not in ready:
                    # Quiet for a while: prove the connection still works (a half-open TCP
                    # connection would otherwise look like a quiet database forever).
                    conn.execute("SELECT 1")
                quiet_since = time.monotonic()
                if any(True for _ in conn.notifies(timeout=0)):
                    self._signal(WakeReason.NOTIFIED)

    def _is_closing(self) -> bool:
        return self._closing

    def _signal(self, reason: WakeReason) -> None:
        with self._cond:
            if self._pending is None:
                self._pending = reason
            self._cond.notify_all()

    def _sleep_unless_closing(self, seconds: float) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._closing, timeout=seconds)


class _Stopped(Exception):
    """Unwinds ``follow`` between two events of a batch when asked to stop."""


def _open_store(store_factory: Callable[[], EventStore]) -> EventStore:
    store = store_factory()
    if not store.connection.autocommit:
        _close_store(store)
        raise ValueError(
            "follow needs stores over autocommit connections: a reader inside a transaction "
            "would keep one snapshot and hold it open"
        )
    return store


def _close_store(store: EventStore | None) -> None:
    if store is not None:
        _close_quietly(store.connection)


def _close_quietly(conn: psycopg.Connection[Any]) -> None:
    try:
        conn.close()
    except Exception as exc:  # noqa: BLE001 - closing a broken connection may fail; nothing to do
        _log.debug("closing a broken connection: %s", exc)


def _report_read_failure(schema: str, failures: int, delay: float, exc: Exception) -> None:
    message = f"{type(exc).__name__}: {_first_line(exc)}"
    if failures == 1:
        _log.warning(
            "cannot read %s.events (%s); retrying in %.1f s, the checkpoint stays put",
            schema,
            message,
            delay,
        )
    else:
        _log.debug(
            "reading %s.events failed again (%s); next try in %.1f s", schema, message, delay
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"
