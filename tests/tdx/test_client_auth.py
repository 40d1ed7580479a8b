"""Every auth mode against the sandbox; renewal before expiry; one re-auth on 401, then raise."""

from __future__ import annotations

import pytest
from freezegun import freeze_time
from pydantic import SecretStr

from tdxq.tdx import AuthError, ClientOptions, StaticToken, TdxClient, UserPassword

from .clocks import FakeClock
from .conftest import ADMIN, FAST, REPORT_ID, TICKET_APP, TICKET_ID, USER, SandboxFactory

LOGIN_ADMIN = "POST auth/loginadmin"
LOGIN_USER = "POST auth"
GET_TICKET = "GET {app}/tickets/{id}"


def test_admin_key_login(sandbox: SandboxFactory) -> None:
    box = sandbox()
    client = box.client(ADMIN)
    assert client.get_ticket(TICKET_APP, TICKET_ID).id == TICKET_ID
    assert client.get_report(REPORT_ID).id == REPORT_ID
    assert client.logins == 1
    assert box.outcomes(LOGIN_ADMIN) == {"200": 1}


def test_user_login(sandbox: SandboxFactory) -> None:
    box = sandbox()
    client = box.client(USER)
    assert client.get_ticket(TICKET_APP, TICKET_ID).id == TICKET_ID
    assert client.logins == 1
    assert box.outcomes(LOGIN_USER) == {"200": 1}


def test_static_token(sandbox: SandboxFactory) -> None:
    box = sandbox()
    client = box.client(StaticToken(token=SecretStr(box.app.issue_token())))
    assert client.get_ticket(TICKET_APP, TICKET_ID).id == TICKET_ID
    assert client.logins == 0
    assert box.outcomes(LOGIN_ADMIN) == {} and box.outcomes(LOGIN_USER) == {}


def test_wrong_password_is_an_auth_error(sandbox: SandboxFactory) -> None:
    box = sandbox()
    wrong = UserPassword(username=SecretStr("sandbox"), password=SecretStr("not-the-password"))
    client = box.client(wrong)
    with pytest.raises(AuthError, match=r"login.*POST auth → HTTP 401") as info:
        client.get_ticket(TICKET_APP, TICKET_ID)
    assert "not-the-password" not in str(info.value)
    assert box.outcomes(LOGIN_USER) == {"401": 1}  # a rejected login is not retried


def test_renews_the_token_before_it_expires(sandbox: SandboxFactory) -> None:
    options = FAST.model_copy(update={"token_refresh_margin_s": 300.0})
    with freeze_time("2026-05-01 12:00:00") as frozen:
        box = sandbox(token_lifetime_s=1800)
        client = box.client(ADMIN, options)
        client.get_ticket(TICKET_APP, TICKET_ID)
        assert client.logins == 1
        frozen.tick(1499)  # renewal is due at 1800 - 300 s
        client.get_ticket(TICKET_APP, TICKET_ID)
        assert client.logins == 1
        frozen.tick(2)
        client.get_ticket(TICKET_APP, TICKET_ID)
        assert client.logins == 2
        frozen.tick(1501)
        client.get_ticket(TICKET_APP, TICKET_ID)
        assert client.logins == 3
    assert box.outcomes(LOGIN_ADMIN) == {"200": 3}
    assert box.outcomes(GET_TICKET) == {"200": 4}  # never a 401: renewed in time


def test_token_expired_by_the_server_is_renewed_once_after_a_401(sandbox: SandboxFactory) -> None:
    # The sandbox's clock runs ahead of the client's (skew): the client still trusts its token,
    # the sandbox says it has expired. One 401, one new login, then success.
    server_clock, client_clock = FakeClock(), FakeClock()
    box = sandbox(clock=server_clock, token_lifetime_s=600)
    client = box.client(ADMIN, clock=client_clock, sleep=client_clock.sleep)
    client.get_ticket(TICKET_APP, TICKET_ID)
    server_clock.advance(601)
    assert client.get_ticket(TICKET_APP, TICKET_ID).id == TICKET_ID
    assert client.logins == 2
    assert box.outcomes(GET_TICKET) == {"200": 2, "401": 1}


def test_revoked_token_gets_401_then_success(sandbox: SandboxFactory) -> None:
    box = sandbox()
    client = box.client(ADMIN)
    client.get_ticket(TICKET_APP, TICKET_ID)
    box.tokens(revoke=True)
    assert client.get_ticket(TICKET_APP, TICKET_ID).id == TICKET_ID
    assert client.logins == 2
    assert box.outcomes(GET_TICKET) == {"200": 2, "401": 1}


def test_second_401_raises_auth_error_without_looping(sandbox: SandboxFactory) -> None:
    box = sandbox()
    client = box.client(ADMIN)
    client.get_ticket(TICKET_APP, TICKET_ID)
    box.tokens(deny=True)  # every token answers 401, as for a missing permission
    with pytest.raises(AuthError, match=r"GET \{appId\}/tickets/\{id\} → HTTP 401 again") as info:
        client.get_ticket(TICKET_APP, TICKET_ID)
    assert info.value.status == 401
    assert client.logins == 2  # exactly one re-authentication
    assert box.outcomes(GET_TICKET) == {"200": 1, "401": 2}


def test_static_token_401_raises_without_login(sandbox: SandboxFactory) -> None:
    box = sandbox()
    client = box.client(StaticToken(token=SecretStr(box.app.issue_token())))
    box.tokens(revoke=True)
    with pytest.raises(AuthError, match="static token cannot be renewed"):
        client.get_ticket(TICKET_APP, TICKET_ID)
    assert box.outcomes(GET_TICKET) == {"401": 1}
    assert box.outcomes(LOGIN_ADMIN) == {} and box.outcomes(LOGIN_USER) == {}


def test_from_env_against_the_sandbox(
    sandbox: SandboxFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    box = sandbox()
    monkeypatch.chdir(str(tmp_path))
    for name in ("TDX_USERNAME", "TDX_PASSWORD", "TDX_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TDX_BASE_URL", box.base_url.replace("/TDWebApi/api", "//TDWebApi//api/"))
    monkeypatch.setenv("TDX_BEID", ADMIN.beid.get_secret_value())
    monkeypatch.setenv("TDX_WEB_SERVICES_KEY", ADMIN.web_services_key.get_secret_value())
    monkeypatch.setenv("TDX_RATE_LIMIT_MARGIN_S", "0.25")
    transport = box.app.transport() if box.transport is not None else None
    with TdxClient.from_env(transport=transport) as client:
        assert client.options == ClientOptions(rate_limit_margin_s=0.25)
        assert client.get_ticket(TICKET_APP, TICKET_ID).id == TICKET_ID
