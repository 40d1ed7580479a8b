"""Fault injection: deterministic by seed; errors, slow answers, dropped connections and
effect-then-fail, in-process and over real HTTP."""

from __future__ import annotations

import time

import httpx
import pytest
from pydantic import ValidationError

from tdxq.tdx.sandbox import FaultConfig, SandboxApp, Tenant, serve
from tdxq.tdx.sandbox.faults import FaultKind, decide_fault

from .conftest import IN_PROCESS_ROOT, FakeClock, in_process_client, make_app

FEED = "46/tickets/9291804/feed"


def _statuses(app: SandboxApp, calls: int) -> list[int | str]:
    outcomes: list[int | str] = []
    with in_process_client(app) as client:
        client.headers["Authorization"] = f"Bearer {app.issue_token()}"
        for _ in range(calls):
            try:
                outcomes.append(client.get("46/tickets/9291804").status_code)
            except httpx.RemoteProtocolError:
                outcomes.append("dropped")
    return outcomes


def test_decide_fault_maps_draws_to_disjoint_ranges() -> None:
    config = FaultConfig(error_rate=0.1, drop_rate=0.1, slow_rate=0.1, effect_then_fail_rate=0.1)

    assert decide_fault(config, 0.05, 0.1, is_write=False).kind is FaultKind.ERROR
    assert decide_fault(config, 0.05, 0.1, is_write=False).error_status == 500
    assert decide_fault(config, 0.05, 0.9, is_write=False).error_status == 503
    assert decide_fault(config, 0.15, 0.0, is_write=False).kind is FaultKind.DROP
    assert decide_fault(config, 0.25, 0.0, is_write=False).kind is FaultKind.SLOW
    assert decide_fault(config, 0.35, 0.0, is_write=True).kind is FaultKind.EFFECT_THEN_FAIL
    assert decide_fault(config, 0.35, 0.0, is_write=False).kind is FaultKind.NONE
    assert decide_fault(config, 0.45, 0.0, is_write=True).kind is FaultKind.NONE


def test_applies_to_limits_error_drop_and_slow() -> None:
    reads_only = FaultConfig(error_rate=1.0, applies_to="reads")
    writes_only = FaultConfig(error_rate=1.0, applies_to="writes")

    assert decide_fault(reads_only, 0.5, 0.0, is_write=False).kind is FaultKind.ERROR
    assert decide_fault(reads_only, 0.5, 0.0, is_write=True).kind is FaultKind.NONE
    assert decide_fault(writes_only, 0.5, 0.0, is_write=False).kind is FaultKind.NONE
    assert decide_fault(writes_only, 0.5, 0.0, is_write=True).kind is FaultKind.ERROR


def test_rates_must_fit_in_one() -> None:
    with pytest.raises(ValidationError, match="must not exceed 1"):
        FaultConfig(error_rate=0.6, drop_rate=0.5)


def test_the_same_seed_gives_the_same_faults(tenant_json: str, clock: FakeClock) -> None:
    faults = FaultConfig(seed=7, error_rate=0.2, drop_rate=0.1)
    first = make_app(Tenant.model_validate_json(tenant_json), clock, faults=faults)
    second = make_app(Tenant.model_validate_json(tenant_json), clock, faults=faults)
    third = make_app(
        Tenant.model_validate_json(tenant_json), clock, faults=faults.model_copy(update={"seed": 8})
    )

    one, two, other = _statuses(first, 50), _statuses(second, 50), _statuses(third, 50)

    assert one == two
    assert one != other
    assert {500, 503, "dropped", 200} <= set(one)


def test_server_errors_carry_a_message_and_change_nothing(
    app: SandboxApp, client: httpx.Client
) -> None:
    app.set_faults(FaultConfig(error_rate=1.0))
    feed_before = len(app.store.feed_for(9291804))

    answer = client.post(FEED, json={"Comments": "hello"})

    assert answer.status_code in (500, 503)
    assert answer.json()["Message"]
    assert len(app.store.feed_for(9291804)) == feed_before
    [write] = app.writes
    assert write["effect"] is None
    assert write["fault"] == "error"


def test_logins_are_never_faulted(app: SandboxApp, anonymous: httpx.Client) -> None:
    app.set_faults(FaultConfig(error_rate=1.0))
    answer = anonymous.post("auth", json={"username": "sandbox", "password": "sandbox"})
    assert answer.status_code == 200


def test_slow_answers_sleep_through_the_injected_sleep(
    app: SandboxApp, client: httpx.Client, clock: FakeClock
) -> None:
    app.set_faults(FaultConfig(slow_rate=1.0, slow_seconds=2.5))

    answer = client.get("46/tickets/9291804")
    write = client.post(FEED, json={"Comments": "slow but applied"})

    assert answer.status_code == write.status_code == 200
    assert clock.slept == [2.5, 2.5]
    [logged] = app.writes
    assert logged["fault"] == "slow"
    assert logged["effect"]["kind"] == "feed_entry"


def test_a_drop_in_process_is_a_remote_protocol_error(
    app: SandboxApp, client: httpx.Client
) -> None:
    app.set_faults(FaultConfig(drop_rate=1.0))

    with pytest.raises(httpx.RemoteProtocolError):
        client.get("46/tickets/9291804")

    assert app.call_outcomes["GET {app}/tickets/{id}"] == {"drop": 1}


def test_a_drop_over_http_really_closes_the_connection(
    app: SandboxApp, http_client: httpx.Client
) -> None:
    app.set_faults(FaultConfig(drop_rate=1.0))

    with pytest.raises(httpx.RemoteProtocolError):
        http_client.get("46/tickets/9291804")

    app.set_faults(FaultConfig())
    assert http_client.get("46/tickets/9291804").status_code == 200


def test_effect_then_fail_applies_once_and_answers_500(
    app: SandboxApp, client: httpx.Client
) -> None:
    app.set_faults(FaultConfig(effect_then_fail_rate=1.0, effect_then_fail_mode="500"))
    feed_before = len(app.store.feed_for(9291804))

    answer = client.post(FEED, json={"Comments": "exactly once", "IsPrivate": True})

    assert answer.status_code == 500
    assert answer.json() == {"Message": "An error has occurred."}
    feed = app.store.feed_for(9291804)
    assert len(feed) == feed_before + 1
    assert feed[0].body == "exactly once"
    [write] = app.writes
    assert write["effect"]["kind"] == "feed_entry"
    assert write["effect"]["feed_entry_id"] == feed[0].id
    assert write["fault"] == "effect_then_fail"
    assert write["status"] == 500


def test_effect_then_fail_timeout_in_process_is_a_read_timeout(
    app: SandboxApp, client: httpx.Client
) -> None:
    app.set_faults(FaultConfig(effect_then_fail_rate=1.0, effect_then_fail_mode="timeout"))
    asset = next(a for a in app.tenant.assets if a.name == "EH-CHEM-LAB-014")

    with pytest.raises(httpx.ReadTimeout):
        client.post(f"46/tickets/9291804/assets/{asset.id}", json={})

    app.set_faults(FaultConfig())
    linked = client.get("46/tickets/9291804/assets").json()
    assert [ci["BackingItemID"] for ci in linked] == [asset.id]
    [write] = app.writes
    assert write["effect"]["changed"] is True
    assert write["fault"] == "effect_then_fail:timeout"
    assert write["status"] is None


def test_effect_then_fail_does_not_touch_reads(app: SandboxApp, client: httpx.Client) -> None:
    app.set_faults(FaultConfig(effect_then_fail_rate=1.0))
    assert client.get("46/tickets/9291804").status_code == 200
    assert client.post("46/tickets/search", json={"MaxResults": 1}).status_code == 200


def test_effect_then_fail_timeout_over_http_holds_the_socket(
    app: SandboxApp, http_client: httpx.Client
) -> None:
    app.set_faults(
        FaultConfig(effect_then_fail_rate=1.0, effect_then_fail_mode="timeout", hang_seconds=5)
    )
    started = time.monotonic()

    with pytest.raises(httpx.ReadTimeout):
        http_client.post(FEED, json={"Comments": "lost answer"}, timeout=0.5)

    assert 0.4 < time.monotonic() - started < 4.5  # the client gave up; the server held on
    assert [w["effect"]["kind"] for w in app.writes] == ["feed_entry"]


def test_effect_then_fail_drop_over_http(app: SandboxApp, http_client: httpx.Client) -> None:
    app.set_faults(FaultConfig(effect_then_fail_rate=1.0, effect_then_fail_mode="drop"))

    with pytest.raises(httpx.RemoteProtocolError):
        http_client.post(FEED, json={"Comments": "dropped answer"})

    assert app.store.feed_for(9291804)[0].body == "dropped answer"


def test_faults_can_be_set_over_http(app: SandboxApp, anonymous: httpx.Client) -> None:
    answer = anonymous.post(
        f"{IN_PROCESS_ROOT}/_sandbox/faults", json={"seed": 3, "error_rate": 0.5}
    )
    shown = anonymous.get(f"{IN_PROCESS_ROOT}/_sandbox/faults").json()
    invalid = anonymous.post(f"{IN_PROCESS_ROOT}/_sandbox/faults", json={"error_rate": 2})

    assert answer.status_code == 200
    assert app.faults.error_rate == 0.5
    assert shown["seed"] == 3
    assert invalid.status_code == 400


def test_server_close_ends_a_hanging_answer(tenant: Tenant) -> None:
    app = SandboxApp(tenant, make_app(tenant, FakeClock()).config)
    app.set_faults(
        FaultConfig(effect_then_fail_rate=1.0, effect_then_fail_mode="timeout", hang_seconds=60)
    )
    headers = {"Authorization": f"Bearer {app.issue_token()}"}
    server = serve(app)
    try:
        with httpx.Client(base_url=server.base_url) as client, pytest.raises(httpx.ReadTimeout):
            client.post(FEED, json={"Comments": "x"}, headers=headers, timeout=0.3)
    finally:
        started = time.monotonic()
        server.close()
    assert time.monotonic() - started < 5
