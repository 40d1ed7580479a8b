"""The in-memory rate budget: waits before a spent window, counts calls in flight."""

from __future__ import annotations

import threading
from email.utils import formatdate

import pytest

from tdxq.tdx.ratelimit import InMemoryRateBudget, RateWindow, parse_rate_headers

from .clocks import FakeClock

KEY = "GET {appId}/tickets/{id}"


def window(remaining: int, reset_at: float, limit: int = 60) -> RateWindow:
    return RateWindow(limit=limit, remaining=remaining, reset_at=reset_at)


def test_parse_headers() -> None:
    reset = formatdate(1_800_000_060, usegmt=True)
    parsed = parse_rate_headers(
        {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "59", "X-RateLimit-Reset": reset}
    )
    assert parsed == RateWindow(60, 59, 1_800_000_060.0)
    assert parse_rate_headers({}) is None
    assert parse_rate_headers({"X-RateLimit-Remaining": "x", "X-RateLimit-Reset": reset}) is None


def test_unknown_endpoint_sends_one_call_at_a_time_until_it_learns() -> None:
    clock = FakeClock()
    budget = InMemoryRateBudget(clock=clock, margin_s=1.0)
    assert budget.before_call(KEY) == 0.0
    assert budget.before_call(KEY) > 0  # the first answer is not in yet
    budget.observe(KEY, window(59, clock() + 60))
    assert budget.before_call(KEY) == 0.0
    assert budget.before_call(KEY) == 0.0


def test_spent_window_waits_until_reset_plus_margin_then_rolls_over() -> None:
    clock = FakeClock()
    budget = InMemoryRateBudget(clock=clock, margin_s=2.0)
    reset = clock() + 30
    assert budget.before_call(KEY) == 0.0
    budget.observe(KEY, window(1, reset))
    assert budget.before_call(KEY) == 0.0
    budget.observe(KEY, window(0, reset))
    assert budget.before_call(KEY) == pytest.approx(32.0)
    clock.advance(31.9)
    assert budget.before_call(KEY) == pytest.approx(0.1)
    clock.advance(0.1)
    # New window: the full limit is available again without asking TDX first.
    for _ in range(60):
        assert budget.before_call(KEY) == 0.0
    assert budget.before_call(KEY) > 0


def test_calls_in_flight_count_against_the_budget() -> None:
    clock = FakeClock()
    budget = InMemoryRateBudget(clock=clock, margin_s=1.0)
    budget.before_call(KEY)
    budget.observe(KEY, window(3, clock() + 60))
    assert [budget.before_call(KEY) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert budget.before_call(KEY) > 0
    budget.release(KEY)  # one call failed without an answer: its slot comes back
    assert budget.before_call(KEY) == 0.0


def test_late_answers_take_the_lowest_remaining_and_ignore_older_windows() -> None:
    clock = FakeClock()
    budget = InMemoryRateBudget(clock=clock, margin_s=1.0)
    reset = clock() + 60
    for _ in range(3):
        budget.before_call(KEY)
        budget.observe(KEY, window(57, reset))
    budget.before_call(KEY)
    budget.observe(KEY, window(58, reset))  # answered out of order
    assert budget.snapshot(KEY) == window(57, reset)
    budget.before_call(KEY)
    budget.observe(KEY, window(0, reset - 60))  # straggler from the previous window
    assert budget.snapshot(KEY) == window(57, reset)


def test_endpoints_without_headers_are_unlimited_and_keys_are_independent() -> None:
    clock = FakeClock()
    budget = InMemoryRateBudget(clock=clock, margin_s=1.0)
    budget.before_call("GET people/{uid}")
    budget.observe("GET people/{uid}", None)
    assert all(budget.before_call("GET people/{uid}") == 0.0 for _ in range(500))
    budget.before_call(KEY)
    budget.observe(KEY, window(0, clock() + 60))
    assert budget.before_call(KEY) > 0
    assert budget.before_call("GET reports/{id}") == 0.0


def test_threads_never_reserve_more_than_the_remaining_budget() -> None:
    clock = FakeClock()
    budget = InMemoryRateBudget(clock=clock, margin_s=1.0)
    budget.before_call(KEY)
    budget.observe(KEY, window(25, clock() + 60))
    granted: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(20):
            if budget.before_call(KEY) == 0.0:
                with lock:
                    granted.append(1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 25
