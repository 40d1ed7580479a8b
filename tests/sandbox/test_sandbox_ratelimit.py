"""Per-method fixed windows with TDX's limits, the three headers, 429s, scaled windows."""

from __future__ import annotations

import threading
import time
from email.utils import parsedate_to_datetime

import httpx

from tdxq.tdx.sandbox import SANDBOX_PASSWORD, SandboxApp, SandboxConfig, Tenant, serve
from tdxq.tdx.sandbox.ratelimit import (
    FixedWindowLimiter,
    RateLimit,
    rate_limit_headers,
    reset_header_time,
)

from .conftest import TEST_TICKETS, FakeClock, admin_token, in_process_client, make_app


def _reset_epoch(response: httpx.Response) -> float:
    return parsedate_to_datetime(response.headers["X-RateLimit-Reset"]).timestamp()


def test_headers_on_every_answer_of_a_limited_method(
    client: httpx.Client, clock: FakeClock
) -> None:
    first = client.get("46/tickets/9291804")
    second = client.get("46/tickets/9291804")
    missing = client.get("46/tickets/1")  # a 404 still counts and still carries the headers

    assert first.headers["X-RateLimit-Limit"] == "60"
    assert first.headers["X-RateLimit-Remaining"] == "59"
    assert second.headers["X-RateLimit-Remaining"] == "58"
    assert missing.status_code == 404
    assert missing.headers["X-RateLimit-Remaining"] == "57"
    assert _reset_epoch(first) >= clock.now + 60


def test_methods_do_not_share_windows(client: httpx.Client) -> None:
    client.get("46/tickets/9291804")
    feed = client.get("46/tickets/9291804/feed")
    assert feed.headers["X-RateLimit-Remaining"] == "59"


def test_over_the_limit_is_429_with_headers_and_message(client: httpx.Client) -> None:
    for _ in range(30):
        assert client.post("46/tickets/search", json={"MaxResults": 1}).status_code == 200

    refused = client.post("46/tickets/search", json={"MaxResults": 1})

    assert refused.status_code == 429
    assert refused.json() == {"Message": "Too many requests"}
    assert refused.headers["X-RateLimit-Limit"] == "30"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Reset" in refused.headers


def test_the_window_starts_at_the_first_call_and_resets_after_it(
    client: httpx.Client, clock: FakeClock
) -> None:
    for _ in range(30):
        client.get("reports/1344")
    assert client.get("reports/1344").status_code == 429

    clock.advance(59.9)
    assert client.get("reports/1344").status_code == 429
    clock.advance(0.1)
    again = client.get("reports/1344")

    assert again.status_code == 200
    assert again.headers["X-RateLimit-Remaining"] == "29"


def test_reports_are_counted_per_user(app: SandboxApp) -> None:
    other_user = app.tenant.people[30].username
    with in_process_client(app) as admin, in_process_client(app) as user:
        admin.headers["Authorization"] = f"Bearer {admin_token(admin)}"
        token = user.post("auth", json={"username": other_user, "password": SANDBOX_PASSWORD}).text
        user.headers["Authorization"] = f"Bearer {token}"
        for _ in range(30):
            admin.get("reports/1344")

        assert admin.get("reports/1344").status_code == 429
        assert user.get("reports/1344").status_code == 200


def test_most_methods_are_counted_per_ip(app: SandboxApp) -> None:
    token = app.issue_token()
    with in_process_client(app, "10.0.0.1") as one, in_process_client(app, "10.0.0.2") as two:
        for client in (one, two):
            client.headers["Authorization"] = f"Bearer {token}"
        for _ in range(60):
            one.get("46/tickets/9291804")

        assert one.get("46/tickets/9291804").status_code == 429
        assert two.get("46/tickets/9291804").status_code == 200


def test_people_lookup_has_a_one_second_window(client: httpx.Client, clock: FakeClock) -> None:
    for _ in range(10):
        client.get("people/lookup", params={"searchText": "a"})
    assert client.get("people/lookup", params={"searchText": "a"}).status_code == 429
    clock.advance(1)
    assert client.get("people/lookup", params={"searchText": "a"}).status_code == 200


def test_scaled_windows_keep_counts_and_shrink_time(tenant: Tenant, clock: FakeClock) -> None:
    app = make_app(tenant, clock, rate_window_scale=0.05)
    with in_process_client(app) as client:
        client.headers["Authorization"] = f"Bearer {app.issue_token()}"
        answers = [client.get("46/tickets/9291804") for _ in range(61)]

        assert [a.status_code for a in answers].count(200) == 60
        assert answers[-1].status_code == 429
        clock.advance(3.0)
        assert client.get("46/tickets/9291804").status_code == 200


def test_reset_rounds_up_to_the_next_whole_second() -> None:
    assert reset_header_time(100.0) == 100
    assert reset_header_time(100.001) == 101
    assert reset_header_time(100.999) == 101


def test_scaled_reset_header_is_never_before_the_real_end(tenant: Tenant) -> None:
    clock = FakeClock(now=1_800_000_000.4)
    app = make_app(tenant, clock, rate_window_scale=0.05)
    with in_process_client(app) as client:
        client.headers["Authorization"] = f"Bearer {app.issue_token()}"
        answer = client.get("46/tickets/9291804")

    # The window really ends at ...003.4; the header says ...004, never ...003.
    assert _reset_epoch(answer) == 1_800_000_004


def test_limiter_counts_exactly_under_concurrency() -> None:
    limiter = FixedWindowLimiter(lambda: 1000.0)
    limit = RateLimit(60, 60.0, "ip")
    allowed: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(50):
            decision = limiter.hit("GET x", "1.2.3.4", limit)
            with lock:
                allowed.append(decision.allowed)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert allowed.count(True) == 60
    assert len(allowed) == 400


def test_header_values_follow_the_decision() -> None:
    limiter = FixedWindowLimiter(lambda: 1522253234.5)
    headers = dict(rate_limit_headers(limiter.hit("GET y", "ip", RateLimit(60, 60.0, "ip"))))
    assert headers == {
        "X-RateLimit-Limit": "60",
        "X-RateLimit-Remaining": "59",
        "X-RateLimit-Reset": "Wed, 28 Mar 2018 16:08:15 GMT",
    }


def test_rate_limits_can_be_switched_off(tenant: Tenant, clock: FakeClock) -> None:
    app = make_app(tenant, clock, rate_limit=False)
    with in_process_client(app) as client:
        client.headers["Authorization"] = f"Bearer {app.issue_token()}"
        answers = [client.get("reports/1344") for _ in range(40)]

    assert {a.status_code for a in answers} == {200}
    assert "X-RateLimit-Limit" not in answers[0].headers


def test_waiting_until_reset_over_real_http_succeeds(tenant: Tenant) -> None:
    """Real time, real sockets: 3 s windows (scale 0.05); calls until the first 429, then a
    client that waits until the Reset header's time is let through."""
    app = SandboxApp(tenant, SandboxConfig(tickets=TEST_TICKETS, rate_window_scale=0.05))
    with serve(app) as server, httpx.Client(base_url=server.base_url, timeout=5) as client:
        client.headers["Authorization"] = f"Bearer {app.issue_token()}"
        answers = []
        while len(answers) < 300 and (not answers or answers[-1].status_code == 200):
            answers.append(client.get("46/tickets/9291804"))
        refused = answers[-1]
        assert refused.status_code == 429
        time.sleep(max(0.0, _reset_epoch(refused) - time.time()))
        after = client.get("46/tickets/9291804")

    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert after.status_code == 200
    assert after.headers["X-RateLimit-Remaining"] == "59"
