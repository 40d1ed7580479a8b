"""Outages: a killed listener degrades to polling and reconnects; a failed read is retried,
never taken for "no events"."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import psycopg
import pytest

from tdxq.eventlog import EventStore
from tdxq.eventlog.subscription import Backoff, Subscription, WakeReason, listener_connection

from ..conftest import Schema
from .helpers import Received, append_one, following, store_factory_for, terminate

LOGGER = "tdxq.eventlog.subscription"


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno >= 30]


class _Gate:
    """A connect function the test can close and open; counts refused attempts."""

    def __init__(self) -> None:
        self.open = True
        self.refused = 0
        self._lock = threading.Lock()

    def connect(self, dsn: str) -> psycopg.Connection[Any]:
        with self._lock:
            if not self.open:
                self.refused += 1
                raise psycopg.OperationalError("the test refuses connections now")
        return listener_connection(dsn)


def test_killed_listener_degrades_to_polling_with_one_warning_then_recovers(
    schema: Schema, store: EventStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    poll = 1.0
    gate = _Gate()
    sub = Subscription(
        schema.dsn,
        schema.name,
        poll_interval=poll,
        connect=gate.connect,
        reconnect_backoff=Backoff(initial_s=0.05, max_s=0.1, jitter=0.0),
    )
    received = Received()
    with sub, following(sub, store_factory_for(schema), received):
        started = time.monotonic()
        live = append_one(store, "ticket:live")
        arrived = received.wait_for(live, timeout=poll)
        assert arrived is not None and arrived - started < 0.5

        gate.open = False
        pid = sub.backend_pid
        assert pid is not None
        terminate(schema, pid)
        deadline = time.monotonic() + 5
        while sub.listening and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not sub.listening

        started = time.monotonic()
        polled = append_one(store, "ticket:while-degraded")
        arrived = received.wait_for(polled, timeout=poll + 1.0)
        assert arrived is not None, "work stopped while the listener was down"
        assert arrived - started <= poll + 0.3, "degraded delivery took longer than a poll"
        assert gate.refused >= 3, "the listener did not keep trying to reconnect"
        assert len(_warnings(caplog)) == 1, _warnings(caplog)

        gate.open = True
        deadline = time.monotonic() + 5
        while not sub.listening and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sub.listening and sub.backend_pid != pid
        started = time.monotonic()
        again = append_one(store, "ticket:live-again")
        arrived = received.wait_for(again, timeout=poll)
        assert arrived is not None and arrived - started < 0.5, "not woken by NOTIFY again"

    assert [e.event_id for e in received.events] == [live, polled, again]
    assert any("again" in r.getMessage() for r in caplog.records if r.levelno == logging.INFO)
    assert len(_warnings(caplog)) == 1


def test_wait_reports_degraded_while_the_listener_is_down(schema: Schema) -> None:
    gate = _Gate()
    sub = Subscription(
        schema.dsn,
        schema.name,
        poll_interval=0.2,
        connect=gate.connect,
        reconnect_backoff=Backoff(initial_s=0.05, max_s=0.1),
    )
    with sub:
        gate.open = False
        pid = sub.backend_pid
        assert pid is not None
        terminate(schema, pid)
        reasons = [sub.wait() for _ in range(4)]
        assert reasons[-1] is WakeReason.DEGRADED
        gate.open = True
        reasons = [sub.wait(timeout=2) for _ in range(3)]
        assert WakeReason.RECONNECTED in reasons


class _FlakyFactory:
    """Makes stores; refuses the first ``refuse`` times as an unreachable database would."""

    def __init__(self, schema: Schema, refuse: int) -> None:
        self.schema = schema
        self.refuse = refuse
        self.calls = 0
        self.stores: list[EventStore] = []

    def __call__(self) -> EventStore:
        self.calls += 1
        if self.calls <= self.refuse:
            raise psycopg.OperationalError("connection refused (the test)")
        store = EventStore(self.schema.connect(), self.schema.name)
        self.stores.append(store)
        return store


def test_reader_outage_is_waited_out_and_nothing_is_skipped_or_repeated(
    schema: Schema, store: EventStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    ids = [append_one(store, i=i) for i in range(5)]
    factory = _FlakyFactory(schema, refuse=3)
    sub = Subscription(
        schema.dsn,
        schema.name,
        poll_interval=0.5,
        reconnect_backoff=Backoff(initial_s=0.02, max_s=0.05),
    )
    received = Received()
    with sub, following(sub, factory, received):
        assert received.wait_count(5, timeout=5), "the reader gave up after refused connections"
        assert factory.calls == 4
        assert len(_warnings(caplog)) == 1

        # Kill the reader's own connection: the next read fails, is retried on a new one.
        reader_pid = factory.stores[-1].connection.info.backend_pid
        terminate(schema, reader_pid)
        ids += [append_one(store, i=i) for i in range(5, 10)]
        assert received.wait_count(10, timeout=5), "events after the reader's outage were lost"
        time.sleep(0.3)

    assert [e.event_id for e in received.events] == ids
    positions = [e.position for e in received.events]
    assert positions == sorted(set(positions))
    assert len(_warnings(caplog)) == 2, "one warning per outage"
    assert all(s.connection.closed for s in factory.stores)


def test_a_persistent_programming_error_is_not_mistaken_for_an_outage(schema: Schema) -> None:
    with (
        Subscription(schema.dsn, schema.name, poll_interval=0.2) as sub,
        pytest.raises(psycopg.errors.UndefinedTable),
    ):
        sub.follow(lambda: EventStore(schema.connect(), "no_such_schema"), 0, print)
