"""The shared budget's rules, one budget at a time, on a manual clock."""

from __future__ import annotations

import logging
import math

import pytest
from pydantic import SecretStr, ValidationError

from tdxq.actions.rate_limits import (
    DEFAULT_LIMIT,
    EndpointLimit,
    SharedBudgetConfig,
    user_scope_for,
)
from tdxq.actions.shared_budget import PostgresRateBudget
from tdxq.tdx import RateWindow, TdxSettings

from ..conftest import Schema
from ..tdx.clocks import FakeClock
from .conftest import KEY, BudgetFactory, config, small_limits


def grants(budget: PostgresRateBudget, key: str = KEY) -> int:
    """How many calls the budget grants before it says wait."""
    count = 0
    while budget.before_call(key) == 0.0:
        count += 1
        assert count < 1000, "the budget never said wait"
    return count


# -- configuration --------------------------------------------------------------------------


def test_configured_limits_and_scopes() -> None:
    cfg = config()
    assert cfg.limit_for("GET reports/{id}") == EndpointLimit(calls=30, window_s=60, scope="user")
    assert cfg.limit_for("POST {appId}/tickets/search").calls == 30
    assert cfg.limit_for("GET people/lookup") == EndpointLimit(calls=10, window_s=1, scope="ip")
    assert cfg.limit_for("GET {appId}/assets/{id}") == DEFAULT_LIMIT
    assert cfg.scope_key("ip") == "ip:host-a"
    assert cfg.scope_key("user") == "user:tenant/user-1"


def test_window_scale_shrinks_windows_not_counts() -> None:
    scaled = config(window_scale=0.05).limit_for("GET reports/{id}")
    assert (scaled.calls, scaled.window_s) == (30, pytest.approx(3.0))


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"ip_scope": ""}, "ip_scope"),
        ({"window_scale": 0}, "window_scale"),
        ({"margin_s": -1}, "margin_s"),
        ({"limits": {"tickets": {"calls": 1, "window_s": 1}}}, "limits"),
        ({"limits": {KEY: {"calls": 0, "window_s": 1}}}, "calls"),
    ],
)
def test_bad_configuration_says_where(overrides: dict[str, object], where: str) -> None:
    with pytest.raises(ValidationError, match=where):
        SharedBudgetConfig.model_validate({"ip_scope": "h", "user_scope": "u", **overrides})


def test_user_scope_names_the_account_without_revealing_it() -> None:
    def settings(**creds: str) -> TdxSettings:
        values = {k: SecretStr(v) for k, v in creds.items()}
        return TdxSettings(base_url="https://org.teamdynamix.com/TDWebApi/api", **values)  # type: ignore[arg-type]

    alice = user_scope_for(settings(username="alice@example.edu", password="pw-1"))
    alice_again = user_scope_for(settings(username="Alice@example.edu", password="pw-2"))
    bob = user_scope_for(settings(username="bob@example.edu", password="pw-1"))
    admin = user_scope_for(settings(beid="6a1c2f4e-beid-secret", web_services_key="key"))
    assert alice == alice_again != bob
    assert alice.startswith("org.teamdynamix.com/")
    for scope in (alice, bob, admin):
        assert "alice" not in scope and "bob" not in scope and "secret" not in scope


def test_repr_shows_no_connection_string(schema: Schema) -> None:
    budget = PostgresRateBudget("postgresql://tdxq:hunter2@db/x", schema.name, config())
    assert "hunter2" not in repr(budget) and "db/x" not in repr(budget)


# -- reserving ------------------------------------------------------------------------------


def test_grants_the_limit_then_waits_until_the_end_plus_margin(
    make_budget: BudgetFactory, clock: FakeClock
) -> None:
    budget = make_budget(config(limits=small_limits(3, 10.0), margin_s=1.0), clock=clock)
    assert grants(budget) == 3
    assert budget.before_call(KEY) == pytest.approx(11.0)
    clock.advance(10.5)
    assert budget.before_call(KEY) == pytest.approx(0.5)
    clock.advance(0.5)
    assert grants(budget) == 3, "a new window opens with the full limit"
    assert budget.snapshot(KEY) == RateWindow(3, 0, clock() + 10.0)


def test_nothing_is_granted_between_a_window_end_and_the_margin(
    make_budget: BudgetFactory, clock: FakeClock
) -> None:
    budget = make_budget(config(limits=small_limits(3, 10.0), margin_s=1.0), clock=clock)
    assert budget.before_call(KEY) == 0.0
    clock.advance(10.0)
    assert budget.before_call(KEY) == pytest.approx(1.0), "calls left, but the window is over"
    clock.advance(1.0)
    assert grants(budget) == 3


def test_budgets_on_other_connections_share_one_window(
    make_budget: BudgetFactory, clock: FakeClock
) -> None:
    cfg = config(limits=small_limits(4, 10.0))
    first, second = make_budget(cfg, clock=clock), make_budget(cfg, clock=clock)
    assert first.before_call(KEY) == 0.0
    assert second.before_call(KEY) == 0.0
    assert grants(first) == 2
    assert second.before_call(KEY) > 0


def test_per_ip_and_per_user_scopes(make_budget: BudgetFactory, clock: FakeClock) -> None:
    report = "GET reports/{id}"
    host_a = make_budget(config(ip_scope="host-a", user_scope="u1"), clock=clock)
    host_b_same_user = make_budget(config(ip_scope="host-b", user_scope="u1"), clock=clock)
    host_a_other_user = make_budget(config(ip_scope="host-a", user_scope="u2"), clock=clock)

    assert grants(host_a, report) == 30
    assert host_b_same_user.before_call(report) > 0, "reports count per user, across hosts"
    assert grants(host_a_other_user, report) == 30

    assert grants(host_b_same_user) == 60, "per-IP methods: another host has its own window"
    assert host_a.before_call(KEY) == 0.0
    assert grants(host_a_other_user) == 59, "per-IP methods: same host, any user, one window"


def test_endpoints_do_not_share_windows(make_budget: BudgetFactory, clock: FakeClock) -> None:
    budget = make_budget(config(), clock=clock)
    assert grants(budget) == 60
    assert grants(budget, "GET {appId}/tickets/{id}/feed") == 60


# -- learning from TDX's headers ------------------------------------------------------------


def test_headers_correct_limit_count_and_reset(
    make_budget: BudgetFactory, clock: FakeClock
) -> None:
    budget = make_budget(config(margin_s=1.0), clock=clock)
    assert budget.before_call(KEY) == 0.0
    # Another program on this IP has used 40 calls of TDX's window, which ends in 20 s.
    budget.observe(KEY, RateWindow(limit=50, remaining=10, reset_at=clock() + 20))
    assert budget.snapshot(KEY) == RateWindow(50, 10, clock() + 20)
    assert grants(budget) == 10
    assert budget.before_call(KEY) == pytest.approx(21.0)
    clock.advance(21)
    assert grants(budget) == 50, "the learned limit outlives the window"


def test_headers_never_lower_the_count_of_calls_in_flight(
    make_budget: BudgetFactory, clock: FakeClock
) -> None:
    budget = make_budget(config(limits=small_limits(10, 60.0)), clock=clock)
    for _ in range(6):
        assert budget.before_call(KEY) == 0.0
    # The first answer counts one call; five more are still on their way.
    budget.observe(KEY, RateWindow(limit=10, remaining=9, reset_at=clock() + 60))
    assert grants(budget) == 4


def test_a_late_answer_from_a_finished_window_is_ignored(
    make_budget: BudgetFactory, clock: FakeClock
) -> None:
    budget = make_budget(config(limits=small_limits(5, 10.0), margin_s=1.0), clock=clock)
    assert budget.before_call(KEY) == 0.0
    old_reset = clock() + 10
    clock.advance(11)
    assert budget.before_call(KEY) == 0.0  # opens the next window
    budget.observe(KEY, RateWindow(limit=5, remaining=0, reset_at=old_reset))
    assert grants(budget) == 4


def test_an_answer_bounds_the_window_end_below_the_rounded_up_reset(
    make_budget: BudgetFactory, clock: FakeClock
) -> None:
    budget = make_budget(config(limits=small_limits(3, 10.0), margin_s=0.1), clock=clock)
    assert budget.before_call(KEY) == 0.0
    clock.advance(0.05)  # TDX opened its window on arrival, before it answered
    answered = clock()
    rounded_up = math.ceil(answered + 10.0) + 0.0
    budget.observe(KEY, RateWindow(limit=3, remaining=2, reset_at=rounded_up))
    assert budget.snapshot(KEY) == RateWindow(3, 2, answered + 10.0)

    clock.advance(0.5)
    budget.observe(KEY, RateWindow(limit=3, remaining=1, reset_at=rounded_up))
    later = budget.snapshot(KEY)
    assert later == RateWindow(3, 1, answered + 10.0), "a later answer: no later end"

    assert grants(budget) == 1
    assert budget.before_call(KEY) == pytest.approx(answered + 10.0 + 0.1 - clock())


def test_the_reset_wins_when_it_is_earlier_than_the_answers_bound(
    make_budget: BudgetFactory, clock: FakeClock
) -> None:
    budget = make_budget(config(limits=small_limits(3, 10.0), margin_s=0.1), clock=clock)
    assert budget.before_call(KEY) == 0.0
    # Another program on this IP opened TDX's window earlier; it ends in 4 s.
    budget.observe(KEY, RateWindow(limit=3, remaining=1, reset_at=clock() + 4.0))
    assert budget.snapshot(KEY) == RateWindow(3, 1, clock() + 4.0)


def test_a_late_answer_within_a_second_of_the_next_window_is_ignored(
    make_budget: BudgetFactory, clock: FakeClock
) -> None:
    budget = make_budget(config(limits=small_limits(5, 10.0), margin_s=0.1), clock=clock)
    assert budget.before_call(KEY) == 0.0
    budget.observe(KEY, RateWindow(limit=5, remaining=4, reset_at=math.ceil(clock() + 10.3)))
    clock.advance(10.1)
    assert budget.before_call(KEY) == 0.0, "the next window opens before the old header's reset"
    opened = clock()
    # An answer from the old window, slow to arrive: its reset is after the new window's start.
    old_reset = math.ceil(opened - 10.1 + 10.3) + 0.0
    assert opened < old_reset <= opened + 1.0
    budget.observe(KEY, RateWindow(limit=5, remaining=0, reset_at=old_reset))
    assert budget.snapshot(KEY) == RateWindow(5, 4, opened + 10.0)
    assert grants(budget) == 4


def test_an_answer_without_headers_marks_an_unknown_endpoint_unlimited(
    make_budget: BudgetFactory, clock: FakeClock
) -> None:
    budget = make_budget(config(limits=small_limits(2, 10.0)), clock=clock)
    assert budget.before_call(KEY) == 0.0
    budget.observe(KEY, None)
    for _ in range(20):
        assert budget.before_call(KEY) == 0.0
    budget.observe(KEY, RateWindow(limit=30, remaining=5, reset_at=clock() + 10))
    assert grants(budget) == 5, "headers seen: limited again (21 used, TDX counts 25 of 30)"
    budget.observe(KEY, None)
    assert budget.before_call(KEY) > 0, "once learned, a headerless answer changes nothing"


def test_release_keeps_the_unit_spent(make_budget: BudgetFactory, clock: FakeClock) -> None:
    budget = make_budget(config(limits=small_limits(2, 10.0)), clock=clock)
    assert budget.before_call(KEY) == 0.0
    budget.release(KEY)
    assert grants(budget) == 1


def test_configured_limit_changes_apply_until_tdx_says_otherwise(
    make_budget: BudgetFactory, clock: FakeClock
) -> None:
    assert grants(make_budget(config(limits=small_limits(2, 10.0)), clock=clock)) == 2
    raised = make_budget(config(limits=small_limits(5, 10.0)), clock=clock)
    assert grants(raised) == 3


# -- the database's clock and outages -------------------------------------------------------


def test_database_clock_by_default(make_budget: BudgetFactory) -> None:
    budget = make_budget(config(limits=small_limits(1, 30.0), margin_s=0.0))
    assert budget.before_call(KEY) == 0.0
    wait = budget.before_call(KEY)
    assert 29.0 < wait <= 30.0


def test_unreachable_database_grants_nothing_and_warns_once(
    schema: Schema, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tdxq.actions.shared_budget")
    budget = PostgresRateBudget(
        "postgresql://postgres:s3cret@127.0.0.1:1/none?connect_timeout=1",
        schema.name,
        config(unreachable_wait_s=0.25),
    )
    assert [budget.before_call(KEY) for _ in range(3)] == [0.25, 0.25, 0.25]
    budget.observe(KEY, RateWindow(60, 59, 0.0))  # dropped quietly
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "s3cret" not in caplog.text


def test_a_dropped_connection_is_replaced_transparently(
    make_budget: BudgetFactory, schema: Schema, clock: FakeClock
) -> None:
    budget = make_budget(config(limits=small_limits(5, 10.0)), clock=clock)
    assert budget.before_call(KEY) == 0.0
    pid = budget.backend_pid
    assert pid is not None
    with schema.connect() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert grants(budget) == 4, "the count survived, the grant went through on a new connection"
    assert budget.backend_pid not in (None, pid)
