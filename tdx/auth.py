"""Bearer tokens: reading a JWT's expiry, and keeping a valid token at hand.

TDX answers a login with the bare JWT as text/plain. There is no refresh endpoint: a client logs
in again. We renew a few minutes before ``exp`` and, on a 401, once more; a static token cannot
be renewed, so its 401 is final.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from pydantic import SecretStr

from .credentials import Credentials, LoginCredentials, StaticToken
from .errors import AuthError

_log = logging.getLogger("tdxq.tdx")

FALLBACK_LIFETIME_S = 12 * 3600.0
"""Assumed lifetime of a token whose ``exp`` cannot be read (TDX issues 24 h tokens)."""


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim (epoch seconds) of a JWT, unverified; None when it has none."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1]
    try:
        decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = orjson.loads(decoded)
    except (binascii.Error, ValueError):
        return None
    if not isinstance(claims, dict):
        return None
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    return float(exp)


@dataclass(frozen=True)
class Token:
    """A bearer token and when to stop trusting it (epoch seconds)."""

    value: SecretStr
    expires_at: float
    renew_at: float


def make_token(value: str, *, obtained_at: float, refresh_margin_s: float) -> Token:
    """Wrap a fresh token; renew at ``exp - margin``, but never sooner than half its lifetime."""
    expires_at = jwt_expiry(value)
    if expires_at is None:
        expires_at = obtained_at + FALLBACK_LIFETIME_S
    lifetime = max(0.0, expires_at - obtained_at)
    margin = min(refresh_margin_s, lifetime / 2)
    return Token(value=SecretStr(value), expires_at=expires_at, renew_at=expires_at - margin)


Login = Callable[[LoginCredentials], str]
"""Performs the login call and returns the raw token text."""


class TokenKeeper:
    """Hands out a valid bearer token, logging in when needed. Safe to share between threads."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        login: Login,
        clock: Callable[[], float],
        refresh_margin_s: float,
        on_new_token: Callable[[str], None],
    ) -> None:
        self._credentials = credentials
        self._login = login
        self._clock = clock
        self._refresh_margin_s = refresh_margin_s
        self._on_new_token = on_new_token
        self._lock = threading.Lock()
        self._token: Token | None = None
        self.logins = 0
        if isinstance(credentials, StaticToken):
            self._token = self._wrap(credentials.token.get_secret_value())

    def __repr__(self) -> str:
        state = "none" if self._token is None else f"expires_at={self._token.expires_at:.0f}"
        return f"TokenKeeper(mode={self._credentials.describe()!r}, token={state})"

    @property
    def can_renew(self) -> bool:
        return not isinstance(self._credentials, StaticToken)

    def current(self) -> str:
        """A token to send now: the cached one, or a new one when it is due for renewal."""
        with self._lock:
            token = self._token
            if token is None or (self.can_renew and self._clock() >= token.renew_at):
                token = self._renew_locked()
            return token.value.get_secret_value()

    def renew_after_rejection(self, rejected: str) -> str:
        """A token to retry with after ``rejected`` got a 401; AuthError if none can be had."""
        if not self.can_renew:
            raise AuthError("TDX rejected the static token (401) and it cannot be renewed")
        with self._lock:
            token = self._token
            if token is not None and token.value.get_secret_value() != rejected:
                return token.value.get_secret_value()  # another thread renewed it already
            return self._renew_locked().value.get_secret_value()

    def _renew_locked(self) -> Token:
        credentials = self._credentials
        if isinstance(credentials, StaticToken):
            raise AuthError("the static token cannot be renewed")
        _log.debug("logging in to TDX (%s)", credentials.describe())
        token = self._wrap(self._login(credentials))
        self.logins += 1
        self._token = token
        return token

    def _wrap(self, value: str) -> Token:
        self._on_new_token(value)
        return make_token(value, obtained_at=self._clock(), refresh_margin_s=self._refresh_margin_s)


def token_from_body(body: str) -> str | None:
    """TDX sends the bare JWT as text/plain; tolerate a JSON-quoted string too."""
    text = body.strip()
    if text.startswith('"'):
        try:
            decoded = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        text = decoded.strip() if isinstance(decoded, str) else ""
    if not text or any(ch.isspace() for ch in text) or text.startswith(("{", "[", "<")):
        return None
    return text
