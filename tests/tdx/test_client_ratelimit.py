"""Rate budgets against the sandbox's fixed windows: wait before the window is spent, not after.

The sandbox limits ``GET {appId}/tickets/{id}`` to 60 calls per IP per 60 s; ``rate_window_scale``
shrinks the window (0.05 → 3 s) with the same count. With a fake clock shared by the sandbox
and the client, "waiting" just moves the clock, so the tests take no real time and the waited
time can be checked exactly.
"""

from __future__ import annotations

import threading
import time

import pytest

from tdxq.tdx import RateLimited, TicketFeedEntry

from .clocks import FakeClock
from .conftest import FAST, TICKET_APP, TICKET_ID, SandboxFactory

GET_TICKET = "GET {app}/tickets/{id}"
POST_FEED = "POST {app}/tickets/{id}/feed"
WINDOW_S = 3.0  # 60 s scaled by 0.05
LIMIT = 60
HEADER_RESOLUTION_S = 1.0  # X-RateLimit-Reset has whole seconds


def test_150_calls_get_no_429_and_wait_about_the_minimum(sandbox: SandboxFactory) -> None:
    clock = FakeClock()
    box = sandbox(clock=clock, rate_window_scale=0.05)
    client = box.client(clock=clock, sleep=clock.sleep)
    started = clock()
    for _ in range(150):
        assert client.get_ticket(TICKET_APP, TICKET_ID).id == TICKET_ID
    elapsed = clock() - started

    assert box.outcomes(GET_TICKET) == {"200": 150}  # not a single 429
    # 150 calls need three windows: the client must sit out two of them, and should lose no
    # more than the margin and the header's rounding per wait.
    minimum = 2 * WINDOW_S
    slack = 2 * (FAST.rate_limit_margin_s + HEADER_RESOLUTION_S)
    assert minimum <= elapsed <= minimum + slack
    assert len([s for s in clock.slept if s > 0.5]) == 2


@pytest.mark.parametrize("sandbox", ["http"], indirect=True)  # real time: one mode is enough
def test_threads_sharing_a_client_in_real_time_get_no_429(sandbox: SandboxFactory) -> None:
    box = sandbox(rate_window_scale=0.02)  # 1.2 s windows, real clock
    window = 60 * 0.02
    options = FAST.model_copy(update={"rate_limit_margin_s": 0.1})
    client = box.client(options=options)
    client.get_ticket(TICKET_APP, TICKET_ID)  # log in outside the timing
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(25):
                client.get_ticket(TICKET_APP, TICKET_ID)
        except BaseException as exc:
            errors.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    assert errors == []
    assert box.outcomes(GET_TICKET) == {"200": 101}
    # 101 calls span two windows, so the first one must have run out...
    assert elapsed >= window - 0.05
    # ...and about one window (plus the header's rounding and the margin) was waited.
    assert elapsed <= window + HEADER_RESOLUTION_S + 0.1 + 2.0  # + time for 101 calls


def test_a_fresh_client_meets_a_spent_window_once_then_waits_for_the_reset(
    sandbox: SandboxFactory,
) -> None:
    clock = FakeClock()
    box = sandbox(clock=clock, rate_window_scale=0.05)
    other = box.client(clock=clock, sleep=clock.sleep)
    for _ in range(LIMIT):
        other.get_ticket(TICKET_APP, TICKET_ID)
    window_opened = clock()

    client = box.client(clock=clock, sleep=clock.sleep)
    assert client.get_ticket(TICKET_APP, TICKET_ID).id == TICKET_ID
    # It could not know the window was spent, so one 429 is unavoidable; then it waited for
    # the reset (plus margin) instead of hammering.
    assert box.outcomes(GET_TICKET) == {"200": LIMIT + 1, "429": 1}
    assert clock() >= window_opened + WINDOW_S + FAST.rate_limit_margin_s


def test_429_after_bounded_tries_raises_rate_limited(sandbox: SandboxFactory) -> None:
    clock = FakeClock()
    box = sandbox(clock=clock)  # real 60 s windows
    other = box.client(clock=clock, sleep=clock.sleep)
    for _ in range(LIMIT):
        other.get_ticket(TICKET_APP, TICKET_ID)
    impatient = FAST.model_copy(update={"max_attempts": 1})
    client = box.client(options=impatient, clock=clock, sleep=clock.sleep)
    with pytest.raises(RateLimited, match=r"GET \{appId\}/tickets/\{id\} → HTTP 429") as info:
        client.get_ticket(TICKET_APP, TICKET_ID)
    assert info.value.status == 429
    assert info.value.reset_at is not None and info.value.reset_at >= clock() + 59


def test_budget_wait_longer_than_allowed_raises_instead_of_sleeping(
    sandbox: SandboxFactory,
) -> None:
    clock = FakeClock()
    box = sandbox(clock=clock)  # real 60 s windows
    options = FAST.model_copy(update={"max_rate_limit_wait_s": 10.0})
    client = box.client(options=options, clock=clock, sleep=clock.sleep)
    for _ in range(LIMIT):
        client.get_ticket(TICKET_APP, TICKET_ID)
    with pytest.raises(RateLimited, match="would exceed 10 s"):
        client.get_ticket(TICKET_APP, TICKET_ID)
    assert box.outcomes(GET_TICKET) == {"200": LIMIT}  # no 429 provoked
    assert clock.total_slept == 0.0


def test_write_rejected_with_429_is_retried_and_applied_once(sandbox: SandboxFactory) -> None:
    clock = FakeClock()
    box = sandbox(clock=clock, rate_window_scale=0.05)
    other = box.client(clock=clock, sleep=clock.sleep)
    for n in range(LIMIT):
        other.post_ticket_feed(TICKET_APP, TICKET_ID, TicketFeedEntry(comments=f"filler {n}"))
    client = box.client(clock=clock, sleep=clock.sleep)
    posted = client.post_ticket_feed(
        TICKET_APP, TICKET_ID, TicketFeedEntry(comments="the one that matters")
    )
    assert "the one that matters" in (posted.body or "")
    mine = [w for w in box.writes() if (w["body"] or {}).get("Comments") == "the one that matters"]
    assert [w["status"] for w in mine] == [429, 200]
    assert [w["effect"] is not None for w in mine] == [False, True]
    assert box.outcomes(POST_FEED) == {"200": LIMIT + 1, "429": 1}
