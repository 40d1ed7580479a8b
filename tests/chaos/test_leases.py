"""Leases and outages inside the processor: a long action renews its lease; an outcome that
cannot be appended because Postgres went away is appended once it is back, or, after the
lease, left in doubt for reconciliation, which finds the effect instead of redoing it."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from tdxq.actions.decide import decide
from tdxq.actions.decision import DueKind
from tdxq.commands.process import (
    OutcomeNotRecorded,
    Processor,
    ProcessSettings,
    pipeline_steps,
)
from tdxq.eventlog import EventStore, process_metadata, utc_now
from tdxq.eventlog.events import ticket_stream
from tdxq.eventlog.subscription import Backoff
from tdxq.projectors.action_state import ActionStatus, effective_status
from tdxq.projectors.ticket_state import TicketState, fold
from tdxq.tdx.sandbox import FaultConfig, SandboxApp, SandboxConfig, generate_tenant

from ..conftest import Schema
from ..e2e.world import World, seed_config_text
from .checks import duplicate_effects, write_key
from .harness import REPORT


class CuttingSandbox(SandboxApp):
    """Runs ``on_write`` once, when the first write arrives (before it takes effect)."""

    on_write: Callable[[], None] | None = None

    def handle(self, request: Any) -> Any:
        hook = self.on_write
        path = str(request.path)
        is_write = request.method in ("POST", "PATCH", "PUT", "DELETE") and "auth" not in path
        if hook is not None and is_write:
            self.on_write = None
            hook()
        return super().handle(request)


@pytest.fixture
def world(schema: Schema) -> World:
    app = CuttingSandbox(generate_tenant(1, 6), SandboxConfig(tickets=6, rate_limit=False))
    return World(app, schema, seed_config_text(app, retry_delay_s=1))


@contextmanager
def processor(
    world: World, *, lease_s: float = 600.0, renew_s: float | None = None, **kwargs: Any
) -> Iterator[Processor]:
    with world.runtime() as runtime:
        store = EventStore(world.schema.connect(), world.schema.name)
        made = Processor(
            store,
            runtime.client,
            report_id=REPORT,
            pipeline=runtime.config.pipeline_for(REPORT),
            tenant=runtime.config.tenant,
            lookups=runtime.lookups,
            policy=runtime.config.retry,
            metadata=process_metadata(actor="test"),
            settings=ProcessSettings(
                lease=timedelta(seconds=lease_s),
                renew_every=None if renew_s is None else timedelta(seconds=renew_s),
                db_backoff=Backoff(initial_s=0.05, max_s=0.2),
            ),
            **kwargs,
        )
        try:
            yield made
        finally:
            made.store.connection.close()
            if made.store is not store:
                store.connection.close()


def state_of(world: World, ticket_id: int) -> TicketState:
    store = world.store()
    try:
        return fold(ticket_id, store.read_stream(ticket_stream(ticket_id)), strict=False)
    finally:
        store.connection.close()


def types_of(world: World, ticket_id: int) -> Counter[str]:
    store = world.store()
    try:
        return Counter(e.type for e in store.read_stream(ticket_stream(ticket_id)))
    finally:
        store.connection.close()


def terminate(world: World, pid: int) -> None:
    with world.schema.connect() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_long_action_renews_its_lease_and_is_never_in_doubt(world: World) -> None:
    """Writes take 1.2 s, the lease is 0.6 s: without renewals every write would be in doubt
    (and taken over) before it ended."""
    tickets = world.ingest(REPORT)
    world.app.set_faults(FaultConfig(slow_rate=1.0, slow_seconds=1.2, applies_to="writes"))
    ticket = tickets[0]
    steps = pipeline_steps(world.config.pipeline_for(REPORT))
    with processor(world, lease_s=0.6, renew_s=0.15) as worker:
        done: list[TicketState | BaseException] = []

        def work() -> None:
            try:
                done.append(worker.process_ticket(state_of(world, ticket)))
            except BaseException as exc:
                done.append(exc)

        thread = threading.Thread(target=work)
        thread.start()
        seen_running = 0
        while thread.is_alive():
            state = state_of(world, ticket)
            now = utc_now()
            for action in state.actions.values():
                if action.status is ActionStatus.RUNNING:
                    seen_running += 1
                    assert effective_status(action, now) is ActionStatus.RUNNING, (
                        "a renewed lease never lapses while its action runs"
                    )
            decision = decide(state, steps, now, world.config.retry, report_id=REPORT)
            assert not [d for d in decision.due if d.kind is DueKind.RECONCILE]
            time.sleep(0.05)
        thread.join()
    assert done and isinstance(done[0], TicketState), done
    types = types_of(world, ticket)
    assert seen_running > 0
    assert types["action_lease_renewed"] >= 3, types
    assert types["action_started"] == types["action_completed"] + types["action_skipped"]
    store = world.store()
    starts = [e for e in store.read_stream(ticket_stream(ticket)) if e.type == "action_started"]
    store.connection.close()
    assert {e.data["attempt"] for e in starts} == {1}, "no attempt was ever taken over"
    assert worker.stats.counts["taken_over"] == 0
    assert duplicate_effects(world.writes())[1] == []


def test_an_outcome_is_appended_once_postgres_is_back(world: World) -> None:
    tickets = world.ingest(REPORT)
    refusals = 3
    tries: list[int] = []

    def reconnect() -> EventStore:
        tries.append(1)
        if len(tries) <= refusals:
            raise psycopg.OperationalError("connection refused (the test)")
        return EventStore(world.schema.connect(), world.schema.name)

    with processor(world, reconnect=reconnect) as worker:
        pid = worker.store.connection.info.backend_pid
        world.app.on_write = lambda: terminate(world, pid)  # type: ignore[attr-defined]
        for ticket in tickets:
            worker.process_ticket(state_of(world, ticket))
    assert world.app.on_write is None, "a write happened, and Postgres went away during it"  # type: ignore[attr-defined]
    assert len(tries) > refusals, "the processor reconnected after the refusals"
    assert worker.stats.counts["outcomes_not_recorded"] == 0
    for ticket in tickets:
        types = types_of(world, ticket)
        assert types["action_started"] == types["action_completed"] + types["action_skipped"]
        assert types["action_failed"] == 0
    assert duplicate_effects(world.writes())[1] == []


def test_past_the_lease_the_outcome_is_left_to_reconciliation(world: World) -> None:
    tickets = world.ingest(REPORT)

    def unreachable() -> EventStore:
        raise psycopg.OperationalError("connection refused (the test)")

    cut = threading.Event()
    with processor(world, lease_s=1.0, reconnect=unreachable) as worker:
        pid = worker.store.connection.info.backend_pid

        def cut_postgres() -> None:
            cut.set()
            terminate(world, pid)

        world.app.on_write = cut_postgres  # type: ignore[attr-defined]
        started = time.monotonic()
        stranded = None
        for ticket in tickets:
            try:
                worker.process_ticket(state_of(world, ticket))
            except OutcomeNotRecorded:
                stranded = ticket
                break
        gave_up_after = time.monotonic() - started
    assert stranded is not None, "the outcome could not be recorded: OutcomeNotRecorded"
    assert cut.is_set()
    assert gave_up_after < 10, "bounded by the lease (1 s) and a few tries"
    stranded_write = write_key(next(w for w in world.writes() if w["effect"] is not None))
    running = [
        a for a in state_of(world, stranded).actions.values() if a.status is ActionStatus.RUNNING
    ]
    assert len(running) == 1, "the claim stands, its outcome unknown to the log"
    time.sleep(max(0.0, (running[0].lease_expires_at - utc_now()).total_seconds()) + 0.05)

    with processor(world) as successor:
        successor.process_ticket(state_of(world, stranded))
    after = state_of(world, stranded).action(running[0].action_id)
    assert after.status is ActionStatus.DONE
    assert after.reconciled, "the effect was found in TDX, not made again"
    assert duplicate_effects(world.writes())[1] == []
    applied = [write_key(w) for w in world.writes() if w["effect"] is not None]
    assert applied.count(stranded_write) == 1, "reconciliation found the link, made none"
