"""The sandbox's logins and JWT-shaped bearer tokens.

Default credentials are fixed and public (this is a local test double, not a secret store):
admin login BEID `11111111-1111-1111-1111-111111111111` with WebServicesKey
`22222222-2222-2222-2222-222222222222`, user login `sandbox` / `sandbox`. Any person of the
generated tenant may also log in with their username and the same password, so tests can have
several users (report windows are counted per user). Wrong credentials answer 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from .errors import ApiError

SANDBOX_BEID = "11111111-1111-1111-1111-111111111111"
SANDBOX_WEB_SERVICES_KEY = "22222222-2222-2222-2222-222222222222"
SANDBOX_USERNAME = "sandbox"
SANDBOX_PASSWORD = "sandbox"  # noqa: S105 - a documented fixed credential of a local test double
ADMIN_USERNAME = "sandbox-admin"

ISSUER = "TD"
AUDIENCE = "https://www.teamdynamix.com/"
DENIED = "Authorization has been denied for this request."

_HEADER = {"typ": "JWT", "alg": "HS256"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def read_claims(token: str) -> dict[str, Any]:
    """The payload of a token, without checking its signature (for tests and tools)."""
    try:
        payload = orjson.loads(_unb64(token.split(".")[1]))
    except (IndexError, ValueError, orjson.JSONDecodeError) as exc:
        raise ValueError("not a JWT-shaped token") from exc
    if not isinstance(payload, dict):
        raise ValueError("not a JWT-shaped token")
    return payload


@dataclass(frozen=True)
class Principal:
    """Who a valid bearer token belongs to."""

    username: str
    expires_at: int


class TokenAuthority:
    """Issues and checks HS256 tokens; can revoke every token issued so far, or refuse all
    tokens (TDX answers 401 both for expiry and for a missing permission)."""

    def __init__(self, secret: bytes, clock: Callable[[], float]) -> None:
        self._secret = secret
        self._clock = clock
        self._lock = threading.Lock()
        self._serials = itertools.count(1)
        self._revoked_through = 0
        self._deny_all = False

    def __repr__(self) -> str:
        return "TokenAuthority(secret=***)"

    def _sign(self, signing_input: bytes) -> str:
        return _b64(hmac.new(self._secret, signing_input, hashlib.sha256).digest())

    def issue(self, username: str, lifetime_s: int) -> str:
        now = int(self._clock())
        with self._lock:
            serial = next(self._serials)
        payload = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "nbf": now,
            "exp": now + lifetime_s,
            "unique_name": username,
            # A serial, so that two logins in the same (possibly frozen) second still get
            # distinct tokens and revocation can tell them apart.
            "jti": str(serial),
        }
        signing_input = f"{_b64(orjson.dumps(_HEADER))}.{_b64(orjson.dumps(payload))}"
        return f"{signing_input}.{self._sign(signing_input.encode('ascii'))}"

    def verify(self, authorization: str | None) -> Principal:
        """Check an `Authorization` header value; any problem is a 401 with TDX's message."""
        if not authorization:
            raise ApiError(401, DENIED)
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, DENIED)
        token = token.strip()
        head, _, signature = token.rpartition(".")
        if not head or not hmac.compare_digest(
            self._sign(head.encode("ascii", "replace")), signature
        ):
            raise ApiError(401, DENIED)
        try:
            claims = read_claims(token)
            expires_at = int(claims["exp"])
            serial = int(claims.get("jti", "0"))
            username = str(claims["unique_name"])
        except (ValueError, KeyError, TypeError):
            raise ApiError(401, DENIED) from None
        with self._lock:
            if self._deny_all or serial <= self._revoked_through:
                raise ApiError(401, DENIED)
        if expires_at <= self._clock():
            raise ApiError(401, DENIED)
        return Principal(username=username, expires_at=expires_at)

    def revoke_all(self) -> None:
        """Every token issued so far answers 401 from now on; new logins work."""
        with self._lock:
            self._revoked_through = next(self._serials)

    def deny_all(self, deny: bool) -> None:
        """While set, every bearer token answers 401 (the "no permission" case)."""
        with self._lock:
            self._deny_all = deny


def user_login_ok(username: str | None, password: str | None, known_users: set[str]) -> bool:
    if username is None or password is None:
        return False
    return password == SANDBOX_PASSWORD and username.lower() in known_users


def admin_login_ok(beid: str | None, key: str | None) -> bool:
    if beid is None or key is None:
        return False
    return (beid.strip().lower(), key.strip().lower()) == (SANDBOX_BEID, SANDBOX_WEB_SERVICES_KEY)
