"""Server errors and lost answers: reads are retried; a write with an unknown outcome is not."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from pydantic import SecretStr

from tdxq.tdx import (
    AmbiguousWrite,
    BadRequest,
    NotFound,
    ServerError,
    StaticToken,
    TdxClient,
    TicketFeedEntry,
    TransportError,
)

from .conftest import FAST, TICKET_APP, TICKET_ID, Sandbox, SandboxFactory

GET_TICKET = "GET {app}/tickets/{id}"


def _healing_sleep(box: Sandbox, slept: list[float]) -> Callable[[float], None]:
    """A client sleep that clears the sandbox's faults: only the first try is hit."""

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        box.set_faults()

    return sleep


def test_get_answered_500_is_retried_and_succeeds(sandbox: SandboxFactory) -> None:
    box = sandbox()
    slept: list[float] = []
    client = box.client(sleep=_healing_sleep(box, slept))
    client.get_ticket(TICKET_APP, TICKET_ID)  # logged in
    box.set_faults(error_rate=1.0, applies_to="reads")
    assert client.get_ticket(TICKET_APP, TICKET_ID).id == TICKET_ID
    outcomes = box.outcomes(GET_TICKET)
    assert outcomes.get("500", 0) + outcomes.get("503", 0) == 1
    assert outcomes["200"] == 2
    assert len(slept) == 1 and 0 <= slept[0] <= FAST.backoff_max_s


def test_dropped_read_is_retried_and_succeeds(sandbox: SandboxFactory) -> None:
    box = sandbox()
    slept: list[float] = []
    client = box.client(sleep=_healing_sleep(box, slept))
    client.get_ticket(TICKET_APP, TICKET_ID)
    box.set_faults(drop_rate=1.0, applies_to="reads")
    assert client.get_ticket(TICKET_APP, TICKET_ID).id == TICKET_ID
    assert box.outcomes(GET_TICKET) == {"200": 2, "drop": 1}


def test_persistent_500_raises_server_error_after_bounded_tries(sandbox: SandboxFactory) -> None:
    box = sandbox()
    slept: list[float] = []
    client = box.client(sleep=slept.append)
    client.get_ticket(TICKET_APP, TICKET_ID)
    box.set_faults(error_rate=1.0, applies_to="reads", seed=3)
    with pytest.raises(ServerError, match=r"GET \{appId\}/tickets/\{id\} → HTTP 50\d") as info:
        client.get_ticket(TICKET_APP, TICKET_ID)
    assert info.value.status in (500, 503)
    outcomes = box.outcomes(GET_TICKET)
    assert outcomes.get("500", 0) + outcomes.get("503", 0) == FAST.max_attempts
    assert len(slept) == FAST.max_attempts - 1


@pytest.mark.parametrize("mode", ["500", "drop", "timeout"])
def test_feed_post_hit_by_effect_then_fail_is_ambiguous_and_applied_once(
    sandbox: SandboxFactory, mode: str
) -> None:
    box = sandbox()
    options = FAST.model_copy(update={"read_timeout_s": 0.3})
    slept: list[float] = []
    client = box.client(options=options, sleep=slept.append)
    client.get_ticket(TICKET_APP, TICKET_ID)
    box.set_faults(effect_then_fail_rate=1.0, effect_then_fail_mode=mode, hang_seconds=1.0)
    entry = TicketFeedEntry(comments=f"effect then fail ({mode})", is_private=True)

    with pytest.raises(AmbiguousWrite) as info:
        client.post_ticket_feed(TICKET_APP, TICKET_ID, entry)

    error = info.value
    assert (error.method, error.path) == ("POST", "{appId}/tickets/{id}/feed")
    assert "check TDX before retrying" in str(error)
    expected_reason = {"500": "HTTP 500", "drop": "RemoteProtocolError", "timeout": "ReadTimeout"}
    assert error.reason == expected_reason[mode]
    assert slept == []  # not retried
    writes = [w for w in box.writes() if w["method"] == "POST"]
    assert len(writes) == 1
    assert writes[0]["path"].endswith(f"/{TICKET_APP}/tickets/{TICKET_ID}/feed")
    assert writes[0]["effect"] is not None
    # The caller can look in TDX: the comment is there, once.
    box.set_faults()
    feed = client.get_ticket_feed(TICKET_APP, TICKET_ID)
    assert sum(f"effect then fail ({mode})" in (item.body or "") for item in feed) == 1


def test_link_write_answered_500_is_ambiguous(sandbox: SandboxFactory) -> None:
    box = sandbox()
    client = box.client()
    asset = box.app.tenant.assets[0]
    client.get_ticket(TICKET_APP, TICKET_ID)
    box.set_faults(error_rate=1.0, applies_to="writes")
    with pytest.raises(AmbiguousWrite, match=r"assets/\{assetId\} → HTTP 50\d"):
        client.add_ticket_asset(TICKET_APP, TICKET_ID, asset.id)
    assert len(box.writes()) == 1


@pytest.mark.parametrize("sandbox", ["http"], indirect=True)  # needs a real socket to refuse
def test_write_that_never_left_is_retried_not_ambiguous(sandbox: SandboxFactory) -> None:
    box = sandbox()
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = StaticToken(token=SecretStr(box.app.issue_token()))
    slept: list[float] = []
    with (
        TdxClient(
            f"http://127.0.0.1:{port}/TDWebApi/api", token, FAST, sleep=slept.append
        ) as client,
        pytest.raises(TransportError, match="ConnectError"),
    ):
        client.post_ticket_feed(TICKET_APP, TICKET_ID, TicketFeedEntry(comments="x"))
    assert len(slept) == FAST.max_attempts - 1  # connection refused: safe to try again


def test_not_found_and_bad_request_carry_tdx_message(sandbox: SandboxFactory) -> None:
    box = sandbox()
    client = box.client()
    with pytest.raises(NotFound, match="Ticket 1 was not found") as missing:
        client.get_ticket(TICKET_APP, 1)
    assert (missing.value.status, missing.value.path) == (404, "{appId}/tickets/{id}")
    with pytest.raises(NotFound):
        client.get_ticket(TICKET_APP + 1000, TICKET_ID)  # wrong application id
    with pytest.raises(BadRequest) as bad:
        client.post_ticket_feed(
            TICKET_APP, TICKET_ID, TicketFeedEntry(comments="x", new_status_id=999_999)
        )
    assert bad.value.tdx_message
    assert bad.value.tdx_message in str(bad.value)
    assert [w["effect"] for w in box.writes()] == [None]
