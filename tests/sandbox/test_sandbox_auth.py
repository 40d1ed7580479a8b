"""Logins, token shape and lifetime, and the 401s."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx
import pytest

from tdxq.tdx.sandbox import (
    SANDBOX_BEID,
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
    SANDBOX_WEB_SERVICES_KEY,
    SandboxApp,
    read_claims,
)

from .conftest import IN_PROCESS_ROOT, FakeClock, in_process_client, make_app

DENIED = "Authorization has been denied for this request."


def _segment(text: str) -> dict[str, object]:
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    decoded = json.loads(data)
    assert isinstance(decoded, dict)
    return decoded


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("auth", {"username": SANDBOX_USERNAME, "password": SANDBOX_PASSWORD}),
        ("auth", {"UserName": SANDBOX_USERNAME, "Password": SANDBOX_PASSWORD}),
        ("auth/login", {"USERNAME": SANDBOX_USERNAME, "password": SANDBOX_PASSWORD}),
        ("auth/loginadmin", {"BEID": SANDBOX_BEID, "WebServicesKey": SANDBOX_WEB_SERVICES_KEY}),
        (
            "auth/loginadmin",
            {"beid": SANDBOX_BEID.upper(), "webserviceskey": SANDBOX_WEB_SERVICES_KEY},
        ),
    ],
)
def test_every_login_mode_answers_a_jwt_as_plain_text(
    anonymous: httpx.Client, clock: FakeClock, path: str, body: dict[str, str]
) -> None:
    response = anonymous.post(path, json=body)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    header, payload, signature = response.text.split(".")
    assert _segment(header) == {"typ": "JWT", "alg": "HS256"}
    claims = _segment(payload)
    assert claims["iss"] == "TD"
    assert claims["aud"] == "https://www.teamdynamix.com/"
    assert claims["nbf"] == int(clock.now)
    assert claims["exp"] == int(clock.now) + 86_400
    assert claims["unique_name"] in (SANDBOX_USERNAME, "sandbox-admin")
    expected = hmac.new(
        b"test-signing-key", f"{header}.{payload}".encode(), hashlib.sha256
    ).digest()
    assert base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)) == expected


def test_the_token_works_as_a_bearer_and_names_its_user(anonymous: httpx.Client) -> None:
    token = anonymous.post(
        "auth", json={"username": SANDBOX_USERNAME, "password": SANDBOX_PASSWORD}
    ).text

    response = anonymous.get("auth/getuser", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json()["UserName"] == SANDBOX_USERNAME
    assert read_claims(token)["unique_name"] == SANDBOX_USERNAME


def test_any_tenant_person_may_log_in_with_the_sandbox_password(
    anonymous: httpx.Client, app: SandboxApp
) -> None:
    person = app.tenant.people[20]

    response = anonymous.post(
        "auth", json={"username": person.username, "password": SANDBOX_PASSWORD}
    )

    assert response.status_code == 200
    assert read_claims(response.text)["unique_name"] == person.username


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("auth", {"username": SANDBOX_USERNAME, "password": "wrong"}),
        ("auth/login", {"username": "nobody-here", "password": SANDBOX_PASSWORD}),
        ("auth/loginadmin", {"BEID": SANDBOX_BEID, "WebServicesKey": SANDBOX_BEID}),
    ],
)
def test_bad_credentials_get_401_with_a_message(
    anonymous: httpx.Client, path: str, body: dict[str, str]
) -> None:
    response = anonymous.post(path, json=body)

    assert response.status_code == 401
    assert "Invalid" in response.json()["Message"]


def test_missing_credentials_are_a_bad_request(anonymous: httpx.Client) -> None:
    response = anonymous.post("auth/loginadmin", json={"BEID": SANDBOX_BEID})

    assert response.status_code == 400
    assert "WebServicesKey" in response.json()["Message"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not-a-token", "Basic c2FuZGJveDpzYW5kYm94", "Bearer a.b.c"],
)
def test_missing_or_invalid_bearer_gets_401(
    anonymous: httpx.Client, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = anonymous.get("46/tickets/9291804", headers=headers)

    assert response.status_code == 401
    assert response.json() == {"Message": DENIED}


def test_a_token_signed_by_another_sandbox_is_refused(
    tenant_json: str, app: SandboxApp, anonymous: httpx.Client, clock: FakeClock
) -> None:
    from tdxq.tdx.sandbox import Tenant

    other = SandboxApp(Tenant.model_validate_json(tenant_json), app.config, clock=clock)

    response = anonymous.get(
        "46/tickets/9291804", headers={"Authorization": f"Bearer {other.issue_token()}"}
    )

    assert response.status_code == 401


def test_tokens_expire_at_exp_on_the_injected_clock(tenant_json: str, clock: FakeClock) -> None:
    from tdxq.tdx.sandbox import Tenant

    app = make_app(Tenant.model_validate_json(tenant_json), clock, token_lifetime_s=120)
    with in_process_client(app) as client:
        token = client.post(
            "auth", json={"username": SANDBOX_USERNAME, "password": SANDBOX_PASSWORD}
        ).text
        assert read_claims(token)["exp"] - read_claims(token)["nbf"] == 120
        headers = {"Authorization": f"Bearer {token}"}

        clock.advance(119)
        assert client.get("46/tickets/9291804", headers=headers).status_code == 200
        clock.advance(1)
        expired = client.get("46/tickets/9291804", headers=headers)

    assert expired.status_code == 401
    assert expired.json() == {"Message": DENIED}


def test_the_lifetime_can_be_shortened_at_runtime(app: SandboxApp, anonymous: httpx.Client) -> None:
    anonymous.post(f"{IN_PROCESS_ROOT}/_sandbox/tokens", json={"lifetime_s": 30})

    token = anonymous.post(
        "auth", json={"username": SANDBOX_USERNAME, "password": SANDBOX_PASSWORD}
    ).text

    claims = read_claims(token)
    assert claims["exp"] - claims["nbf"] == 30
    assert app.token_lifetime_s == 30


def test_revoked_tokens_get_401_and_a_new_login_works(
    app: SandboxApp, client: httpx.Client
) -> None:
    assert client.get("46/tickets/9291804").status_code == 200

    app.revoke_tokens()

    assert client.get("46/tickets/9291804").status_code == 401
    fresh = client.post(
        "auth/loginadmin", json={"BEID": SANDBOX_BEID, "WebServicesKey": SANDBOX_WEB_SERVICES_KEY}
    ).text
    again = client.get("46/tickets/9291804", headers={"Authorization": f"Bearer {fresh}"})
    assert again.status_code == 200


def test_denying_tokens_refuses_even_fresh_ones_until_lifted(
    app: SandboxApp, client: httpx.Client
) -> None:
    client.post(f"{IN_PROCESS_ROOT}/_sandbox/tokens", json={"deny": True})
    fresh = app.issue_token()

    denied = client.get("46/tickets/9291804", headers={"Authorization": f"Bearer {fresh}"})
    client.post(f"{IN_PROCESS_ROOT}/_sandbox/tokens", json={"deny": False})
    allowed = client.get("46/tickets/9291804", headers={"Authorization": f"Bearer {fresh}"})

    assert denied.status_code == 401
    assert allowed.status_code == 200


def test_the_token_authority_never_shows_its_key(app: SandboxApp) -> None:
    assert "test-signing-key" not in repr(app._tokens)
