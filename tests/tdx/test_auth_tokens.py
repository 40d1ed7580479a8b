"""JWT expiry reading and the renewal schedule (no HTTP here)."""

from __future__ import annotations

import base64

import orjson
import pytest

from tdxq.tdx.auth import FALLBACK_LIFETIME_S, jwt_expiry, make_token, token_from_body
from tdxq.tdx.redact import MASK, Redactor

# The sample token of TDX's documentation (header, payload; signature irrelevant).
DOC_TOKEN = (
    base64.urlsafe_b64encode(b'{"typ":"JWT","alg":"HS256"}').rstrip(b"=").decode()
    + "."
    + base64.urlsafe_b64encode(
        b'{"iss":"TD","aud":"https://www.teamdynamix.com/","nbf":1400705074,'
        b'"exp":1400791474,"unique_name":"TestTeamDynamixUser"}'
    )
    .rstrip(b"=")
    .decode()
    + ".c2lnbmF0dXJl"
)


def _token(claims: object) -> str:
    payload = base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=").decode()
    return f"eyJ0eXAiOiJKV1QifQ.{payload}.sig"


def test_reads_exp_from_the_documented_sample() -> None:
    assert jwt_expiry(DOC_TOKEN) == 1400791474.0


@pytest.mark.parametrize(
    "token",
    ["not-a-jwt", "a.b", "a.!!!.c", _token(["exp"]), _token({"nbf": 1}), _token({"exp": "soon"})],
)
def test_unreadable_expiry_is_none(token: str) -> None:
    assert jwt_expiry(token) is None


def test_renews_margin_before_expiry() -> None:
    token = make_token(_token({"exp": 10_000}), obtained_at=0, refresh_margin_s=300)
    assert (token.expires_at, token.renew_at) == (10_000, 9_700)


def test_short_lived_token_is_used_for_at_least_half_its_life() -> None:
    token = make_token(_token({"exp": 1_000 + 120}), obtained_at=1_000, refresh_margin_s=300)
    assert token.renew_at == 1_060


def test_token_without_exp_gets_the_fallback_lifetime() -> None:
    token = make_token("opaque-token", obtained_at=0, refresh_margin_s=300)
    assert token.expires_at == FALLBACK_LIFETIME_S
    assert "opaque-token" not in repr(token)


def test_redactor_masks_known_secrets_longest_first() -> None:
    redact = Redactor(("abcd", "abcdefgh", "xy"))
    assert redact("key abcdefgh and abcd and xy") == f"key {MASK} and {MASK} and xy"
    assert "abcd" not in repr(redact)


@pytest.mark.parametrize(
    ("body", "token"),
    [
        ("eyJ0.eyJl.sig", "eyJ0.eyJl.sig"),
        ("  eyJ0.eyJl.sig\r\n", "eyJ0.eyJl.sig"),
        ('"eyJ0.eyJl.sig"', "eyJ0.eyJl.sig"),
        ("", None),
        ('{"Message": "denied"}', None),
        ("<html>login</html>", None),
        ("two words", None),
    ],
)
def test_login_body_is_the_bare_token(body: str, token: str | None) -> None:
    assert token_from_body(body) == token
