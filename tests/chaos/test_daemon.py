"""The daemon in this process, against the in-process sandbox and a real Postgres: it reacts to
commits (not to its poll interval), to retry requests, to retry times and to expired leases."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from tdxq.actions.decide import decide
from tdxq.commands.daemon import Daemon, DaemonOptions, DaemonResult, DaemonServices
from tdxq.commands.ingest import fetch_report
from tdxq.commands.process import pipeline_steps
from tdxq.eventlog import (
    EventStore,
    StreamAppend,
    StreamState,
    to_new_event,
    utc_now,
)
from tdxq.eventlog.events import ActionStarted, RetryRequested, TicketSeen, ticket_stream
from tdxq.projectors.action_state import ActionStatus
from tdxq.projectors.ticket_state import fold
from tdxq.tdx.sandbox import FaultConfig, generate_tenant

from ..conftest import Schema
from ..e2e.world import World, make_app, seed_config_text
from .harness import REPORT
from .waiting import wait_for

QUIET_POLL_S = 30.0
"""Far longer than any wait below: whatever happens in time happened because of a wake-up."""


@pytest.fixture
def world(schema: Schema) -> World:
    app = make_app(generate_tenant(1, 12), tickets=12)
    text = seed_config_text(app, retry_delay_s=1)
    text = text.replace("max_delay_s = 3600", "max_delay_s = 2")
    return World(app, schema, text)


@contextmanager
def running(
    world: World, *, lease_s: float = 600.0, ingest_every: float | None = None
) -> Iterator[Daemon]:
    options = DaemonOptions(
        threads=2,
        poll_interval_s=QUIET_POLL_S,
        lease=timedelta(seconds=lease_s),
        ingest_intervals={REPORT: ingest_every} if ingest_every else {},
        projections_interval_s=1.0 if ingest_every else None,
        shutdown_grace_s=10,
    )
    with world.runtime() as runtime:
        services = DaemonServices(
            config=runtime.config,
            client=runtime.client,
            lookups=runtime.lookups,
            dsn=world.schema.dsn,
            schema=world.schema.name,
        )
        daemon = Daemon(services, [REPORT], options, mode="test")
        results: list[DaemonResult] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                results.append(daemon.run())
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        assert wait_for(lambda: daemon.listening, 10), "the daemon never listened"
        try:
            yield daemon
        finally:
            daemon.request_stop()
            thread.join(20)
            assert not thread.is_alive(), "the daemon did not stop"
            assert not errors, errors
            assert results and results[0].clean


def count(world: World, event_type: str, stream: str | None = None) -> int:
    store = world.store()
    try:
        events = store.read_all(0, 100_000, types=[event_type])
    finally:
        store.connection.close()
    return sum(1 for e in events if stream is None or e.stream == stream)


def settled(world: World, ticket_id: int) -> bool:
    """Done: nothing failed, nothing due, nothing that will become due by itself."""
    store = world.store()
    try:
        state = fold(ticket_id, store.read_stream(ticket_stream(ticket_id)), strict=False)
    finally:
        store.connection.close()
    config = world.config
    steps = pipeline_steps(config.pipeline_for(REPORT))
    decision = decide(state, steps, utc_now(), config.retry, report_id=REPORT)
    statuses = {a.status for a in state.actions.values()}
    if ActionStatus.FAILED in statuses or ActionStatus.DONE not in statuses:
        return False  # here every ticket can and must end up done (or skipped)
    return not decision.due and all(n.settled for n in decision.not_due)


def append(store: EventStore, ticket_id: int, event: Any) -> None:
    store.append([StreamAppend(ticket_stream(ticket_id), StreamState.ANY, [to_new_event(event)])])


def test_a_commit_wakes_the_daemon_long_before_its_poll_interval(world: World) -> None:
    with running(world):
        before = time.monotonic()
        tickets = world.ingest(REPORT)
        assert wait_for(lambda: count(world, "action_started") > 0, 5)
        first_start = time.monotonic() - before
        assert wait_for(lambda: all(settled(world, t) for t in tickets), 30)
    assert first_start < 2.0, f"took {first_start:.2f} s; the poll interval is {QUIET_POLL_S} s"


def test_retry_requested_reruns_a_failed_action_at_once(world: World) -> None:
    world.config_text = world.config_text.replace("max_attempts = 5", "max_attempts = 1")
    world.app.set_faults(FaultConfig(error_rate=1.0, applies_to="writes"))
    with running(world):
        tickets = world.ingest(REPORT)
        assert wait_for(lambda: count(world, "action_failed") > 0, 10)
        time.sleep(1.0)  # let the first pass finish failing what it fails
        failed_ticket = next(
            int(e.stream.split(":")[1])
            for e in world.store().read_all(0, 10_000, types=["action_failed"])
        )
        assert not settled(world, failed_ticket)
        world.app.set_faults(FaultConfig())
        store = world.store()
        append(store, failed_ticket, RetryRequested(requested_by="test", reason="TDX is back"))
        store.connection.close()
        assert wait_for(lambda: settled(world, failed_ticket), 5), "the retry was not run"
        assert tickets


def test_a_waiting_retry_runs_at_its_time_without_any_new_event(world: World) -> None:
    world.config_text = world.config_text.replace("max_attempts = 5", "max_attempts = 3")
    world.app.set_faults(FaultConfig(error_rate=1.0, applies_to="writes"))
    with running(world):
        tickets = world.ingest(REPORT)
        assert wait_for(lambda: count(world, "action_failed") > 0, 10)
        world.app.set_faults(FaultConfig())
        # Retries are due ~1 s after each failure (base delay 1 s, max 2 s): timers, not polls.
        assert wait_for(lambda: all(settled(world, t) for t in tickets), 15)


def test_an_expired_lease_is_reconciled_by_a_live_worker(world: World) -> None:
    """A worker saw a ticket, claimed its first action under a 1 s lease and died: the live
    daemon takes the action over once the lease ends, reconciles, and finishes the ticket."""
    with world.runtime() as runtime:
        parsed = fetch_report(runtime.client, REPORT, ["ModifiedDate"])
    row = parsed.rows[0]
    first = world.config.pipeline_for(REPORT)[0]
    seen = TicketSeen(
        ticket_id=row.ticket_id, report_id=REPORT, row=row.row, fingerprint=row.fingerprint
    )
    claimed = ActionStarted(
        action_id=first.action_id,
        action_type=first.TYPE,
        attempt=1,
        lease_expires_at=utc_now() + timedelta(seconds=1),
        worker="dead-host:1:1",
    )
    with running(world):
        store = world.store()
        started = time.monotonic()
        store.append(
            [
                StreamAppend(
                    ticket_stream(row.ticket_id),
                    StreamState.NO_STREAM,
                    [to_new_event(seen), to_new_event(claimed)],
                )
            ]
        )
        store.connection.close()
        assert wait_for(lambda: settled(world, row.ticket_id), 10)
        took = time.monotonic() - started
    starts = [
        e
        for e in world.store().read_stream(ticket_stream(row.ticket_id))
        if e.type == "action_started" and e.data["action_id"] == first.action_id
    ]
    assert [s.data["attempt"] for s in starts] == [1, 2]
    assert starts[1].data["worker"] != "dead-host:1:1"
    assert 1.0 <= took < 5.0, f"took over after {took:.2f} s (lease 1 s, poll {QUIET_POLL_S} s)"


def test_run_daemon_mode_polls_the_report_itself(world: World) -> None:
    with running(world, ingest_every=1.0):
        assert wait_for(lambda: count(world, "report_polled") >= 2, 10)
        tickets = [t.id for t in world.app.store.report_tickets(_report(world))]
        assert wait_for(lambda: all(settled(world, t) for t in tickets), 30)
        outcomes = count(world, "action_completed") + count(world, "action_skipped")
        # The monitoring table follows within the projections interval (1 s here).
        assert wait_for(lambda: action_log_rows(world) == outcomes, 5), (
            action_log_rows(world),
            outcomes,
        )
    assert count(world, "run_started") == 1
    assert count(world, "run_finished") == 1


def action_log_rows(world: World) -> int:
    with world.schema.connect() as conn:
        row = conn.execute(
            f'SELECT count(*) FROM "{world.schema.name}".daemon_action_log '
            "WHERE status IN ('completed', 'skipped')"
        ).fetchone()
    return int(row[0]) if row else 0


def _report(world: World) -> Any:
    return next(r for r in world.app.tenant.reports if r.id == REPORT)


def test_keyboard_interrupt_finishes_running_actions_and_is_not_swallowed(world: World) -> None:
    """Without a StopFlag (a library caller), Ctrl-C raises KeyboardInterrupt in the main
    thread: the daemon lets the running actions record their outcomes, then re-raises."""
    tickets = world.ingest(REPORT)
    world.app.set_faults(FaultConfig(slow_rate=1.0, slow_seconds=0.3, applies_to="writes"))
    options = DaemonOptions(threads=2, poll_interval_s=QUIET_POLL_S, shutdown_grace_s=10)

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        with world.runtime() as runtime:
            services = DaemonServices(
                runtime.config, runtime.client, runtime.lookups, world.schema.dsn, world.schema.name
            )
            daemon = Daemon(services, [REPORT], options, mode="test")
            signal.setitimer(signal.ITIMER_REAL, 1.0)
            with pytest.raises(KeyboardInterrupt):
                daemon.run()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    started = count(world, "action_started")
    outcomes = sum(count(world, t) for t in ("action_completed", "action_failed", "action_skipped"))
    assert started > 0 and started == outcomes, "no action left running"
    assert not all(settled(world, t) for t in tickets), "the interrupt came mid-run"
    store = world.store()
    finish = store.read_all(0, 100_000, types=["run_finished"])
    store.connection.close()
    assert [e.data["outcome"] for e in finish] == ["interrupted"]
