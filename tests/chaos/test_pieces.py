"""The daemon's small parts: the work queue, wake-ups from events, ticket locks, the shared
budget's settings, the chaos checks themselves."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from pydantic import SecretStr

from tdxq.actions.config import parse_config
from tdxq.actions.rate_limits import user_scope_for
from tdxq.actions.shared_budget import PostgresRateBudget
from tdxq.commands.budget_setup import BudgetSettings, SharedBudgetTarget
from tdxq.commands.runtime import open_runtime
from tdxq.commands.ticket_locks import lock_class, try_lock_tickets, unlock_tickets
from tdxq.commands.wakeups import wakeups
from tdxq.commands.work_queue import Batch, WorkQueue
from tdxq.eventlog import DatabaseSettings, RecordedEvent, to_new_event
from tdxq.eventlog.events import (
    ActionFailed,
    ActionStarted,
    ReportPolled,
    RetryRequested,
    TicketSeen,
)
from tdxq.tdx import TdxSettings
from tdxq.tdx.sandbox import SANDBOX_BEID, SANDBOX_WEB_SERVICES_KEY

from ..conftest import Schema
from ..e2e.world import make_app, seed_config_text
from .checks import duplicate_effects

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# -- WorkQueue ---------------------------------------------------------------------------------


def test_queue_hands_out_each_ready_key_once_per_report() -> None:
    queue = WorkQueue()
    queue.add([(2000, 1), (2000, 2), (1344, 3), (2000, 1)])
    first = queue.take(10, timeout=0)
    assert first == Batch(2000, [1, 2])
    second = queue.take(10, timeout=0)
    assert second == Batch(1344, [3])
    assert queue.take(10, timeout=0) is None


def test_a_key_added_while_in_flight_comes_back_after_done() -> None:
    queue = WorkQueue()
    queue.add([(2000, 1)])
    batch = queue.take(5, timeout=0)
    assert batch is not None
    queue.add([(2000, 1)])  # an event committed while a thread was on the ticket
    assert queue.take(5, timeout=0) is None, "never two threads on one ticket"
    queue.done(batch)
    assert queue.take(5, timeout=0) == Batch(2000, [1])


def test_timers_release_keys_at_their_time_and_the_earliest_wins() -> None:
    clock = Clock()
    queue = WorkQueue(clock=clock)
    queue.schedule((2000, 7), 105.0)
    queue.schedule((2000, 7), 103.0)
    queue.schedule((2000, 7), 110.0)  # later than the pending one: ignored
    assert queue.timers == 1
    assert queue.next_timer() == 103.0
    assert queue.take(5, timeout=0) is None
    clock.now = 103.0
    assert queue.take(5, timeout=0) == Batch(2000, [7])
    clock.now = 200.0
    assert queue.take(5, timeout=0) is None, "the replaced timer does not fire again"


def test_take_waits_for_work_and_close_releases_waiters() -> None:
    queue = WorkQueue()
    got: list[Batch | None] = []
    waiter = threading.Thread(target=lambda: got.append(queue.take(5, timeout=10)))
    waiter.start()
    queue.add([(2000, 1)])
    waiter.join(5)
    assert got == [Batch(2000, [1])]
    closer = threading.Thread(target=lambda: got.append(queue.take(5, timeout=10)))
    closer.start()
    queue.close()
    closer.join(5)
    assert not closer.is_alive() and got[-1] is None


def test_many_ready_keys_are_drawn_from_random_places() -> None:
    keys = [(2000, t) for t in range(200)]
    starts = set()
    for seed in range(5):
        queue = WorkQueue(rng=random.Random(seed))
        queue.add(keys)
        batch = queue.take(8, timeout=0)
        assert batch is not None and len(batch.ticket_ids) == 8
        starts.add(batch.ticket_ids[0])
    assert len(starts) > 1, "workers woken by the same events spread over the tickets"


# -- wake-ups --------------------------------------------------------------------------------------


def recorded(stream: str, event: object, position: int = 1) -> RecordedEvent:
    new = to_new_event(event)  # type: ignore[arg-type]
    return RecordedEvent(
        position=position,
        event_id=uuid4(),
        stream=stream,
        version=1,
        type=new.type,
        data=dict(new.data),
        metadata=dict(new.metadata),
        recorded_at=T0,
    )


def test_events_become_work_now_or_later() -> None:
    lease = datetime(2024, 5, 1, 12, 10, tzinfo=UTC)
    retry = datetime(2024, 5, 1, 12, 5, tzinfo=UTC)
    events = [
        recorded("ticket:1", TicketSeen(ticket_id=1, report_id=2000, row={}, fingerprint="f")),
        recorded("ticket:2", TicketSeen(ticket_id=2, report_id=999, row={}, fingerprint="f")),
        recorded("ticket:3", RetryRequested(requested_by="me", reason="fixed")),
        recorded(
            "ticket:4",
            ActionStarted(
                action_id="a", action_type="a", attempt=1, lease_expires_at=lease, worker="w"
            ),
        ),
        recorded(
            "ticket:5",
            ActionFailed(
                action_id="a",
                action_type="a",
                attempt=1,
                error="e",
                error_type="E",
                retryable=True,
                next_attempt_at=retry,
            ),
        ),
        recorded(
            "ticket:6",
            ActionFailed(
                action_id="a",
                action_type="a",
                attempt=1,
                error="e",
                error_type="E",
                retryable=False,
            ),
        ),
        recorded(
            "report:2000",
            ReportPolled(
                report_id=2000,
                row_count=0,
                ticket_count=0,
                ticket_ids_digest="x",
                columns=[],
                duration_ms=1,
            ),
        ),
    ]
    found = wakeups(events, [2000, 1344])
    assert found.now == [(2000, 1), (2000, 3), (1344, 3)]
    assert found.later == [
        ((2000, 4), lease),
        ((1344, 4), lease),
        ((2000, 5), retry),
        ((1344, 5), retry),
    ]


# -- ticket locks --------------------------------------------------------------------------------


def test_ticket_locks_are_per_session_and_per_schema(schema: Schema) -> None:
    with schema.connect() as first, schema.connect() as second:
        assert try_lock_tickets(first, "s1", [1, 2, 3]) == {1, 2, 3}
        assert try_lock_tickets(second, "s1", [2, 3, 4]) == {4}
        assert try_lock_tickets(second, "s2", [1, 2]) == {1, 2}, "another schema, other locks"
        unlock_tickets(first, "s1", [2])
        assert try_lock_tickets(second, "s1", [2, 3]) == {2}
    with schema.connect() as third:
        assert try_lock_tickets(third, "s1", [1, 2, 3]) == {1, 2, 3}, "closed sessions free"
    assert lock_class("s1") != lock_class("s2")
    assert -(2**31) <= lock_class("s1") < 2**31


# -- the shared budget's settings ------------------------------------------------------------------


def test_budget_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SHARED_BUDGET", "BUDGET_IP_SCOPE", "BUDGET_USER_SCOPE", "BUDGET_WINDOW_SCALE"):
        monkeypatch.delenv(f"TDXQ_{name}", raising=False)
    defaults = BudgetSettings(_env_file=None)  # type: ignore[call-arg]
    assert defaults.enabled(True) and not defaults.enabled(False)
    monkeypatch.setenv("TDXQ_SHARED_BUDGET", "0")
    monkeypatch.setenv("TDXQ_BUDGET_IP_SCOPE", "nat-1")
    monkeypatch.setenv("TDXQ_BUDGET_WINDOW_SCALE", "0.2")
    settings = BudgetSettings(_env_file=None)  # type: ignore[call-arg]
    assert not settings.enabled(True)
    tdx = TdxSettings(
        _env_file=None,  # type: ignore[call-arg]
        base_url="https://org.example/TDWebApi/api",
        username=SecretStr("Alice"),
        password=SecretStr("hunter2-secret"),
    )
    config = settings.config_for(tdx)
    assert config.ip_scope == "nat-1"
    assert config.user_scope == user_scope_for(tdx)
    assert config.window_scale == 0.2
    assert "hunter2" not in repr(config) and "Alice" not in config.user_scope


def test_shared_budget_target_builds_a_postgres_budget_and_hides_the_dsn(schema: Schema) -> None:
    dsn = schema.dsn + " password=s3cret-pw" if "password" not in schema.dsn else schema.dsn
    target = SharedBudgetTarget(dsn, schema.name, BudgetSettings(budget_ip_scope="h"))
    assert "s3cret" not in repr(target)
    tdx = TdxSettings(
        _env_file=None,  # type: ignore[call-arg]
        base_url="https://org.example/TDWebApi/api",
        api_token=SecretStr("tok"),
    )
    budget = target.budget_for(tdx)
    try:
        assert isinstance(budget, PostgresRateBudget)
        assert budget.config.ip_scope == "h"
    finally:
        budget.close()


# -- the checks themselves -------------------------------------------------------------------------


def test_duplicate_effects_tell_feed_posts_apart_by_marker() -> None:
    def post(marker: str, effect: object = "x") -> dict[str, object]:
        return {
            "method": "POST",
            "path": "/TDWebApi/api/46/tickets/1/feed",
            "body": {"Comments": f"hello [tdxq:{marker}]"},
            "effect": effect,
        }

    link = {"method": "POST", "path": "/TDWebApi/api/46/tickets/1/assets/9", "effect": {"a": 1}}
    writes = [post("a" * 20), post("b" * 20), post("a" * 20, effect=None), link]
    assert duplicate_effects(writes) == (3, [])
    applied, duplicates = duplicate_effects([*writes, post("b" * 20), link])
    assert applied == 5
    assert len(duplicates) == 2


# -- the runtime's client and the shared budget ----------------------------------------------------


def test_the_runtime_client_counts_against_the_shared_budget_when_asked(
    schema: Schema, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tickets=2)
    config = parse_config(seed_config_text(app), Path("t.toml"), environ={})
    monkeypatch.chdir(Path(__file__).parent)  # no stray .env
    for name in ("TDX_USERNAME", "TDX_PASSWORD", "TDX_API_TOKEN", "TDXQ_SHARED_BUDGET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TDX_BEID", SANDBOX_BEID)
    monkeypatch.setenv("TDX_WEB_SERVICES_KEY", SANDBOX_WEB_SERVICES_KEY)
    database = DatabaseSettings(database_url=schema.dsn, TDXQ_SCHEMA=schema.name)

    with open_runtime(config, settings=database) as runtime:
        assert runtime.budget is None, "one-off commands keep their own budget by default"
    with open_runtime(config, settings=database, shared_budget=True) as runtime:
        assert isinstance(runtime.budget, PostgresRateBudget)
        assert runtime.client.budget is runtime.budget
        assert runtime.budget.schema == schema.name
    monkeypatch.setenv("TDXQ_SHARED_BUDGET", "0")
    with open_runtime(config, settings=database, shared_budget=True) as runtime:
        assert runtime.budget is None, "TDXQ_SHARED_BUDGET=0 wins over the command's default"
