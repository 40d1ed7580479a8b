"""One logical TDX call: rate budget, bearer token, retries, and HTTP status → typed error.

The endpoint methods in ``client.py`` describe *what* to call; this module decides *how*:

1. wait until the endpoint's budget has room (``RateBudget``), reserving one call;
2. send with the current token; on a 401 renew the token once and send again;
3. map the status to a typed error; repeat safe calls on 429/5xx/transport errors (tenacity);
   a write whose outcome is unknown raises ``AmbiguousWrite`` and is never repeated.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from .auth import TokenKeeper, token_from_body
from .credentials import Credentials, LoginCredentials
from .errors import (
    AmbiguousWrite,
    AuthError,
    BadRequest,
    Forbidden,
    NotFound,
    RateBudgetExhausted,
    RateLimited,
    ServerError,
    TdxError,
    TransportError,
    UnexpectedResponse,
)
from .ratelimit import RateBudget, RateWindow, parse_rate_headers
from .redact import Redactor
from .retry import RetryPolicy, make_retrying
from .urls import fill_path

_log = logging.getLogger("tdxq.tdx")

_MAX_MESSAGE_CHARS = 500
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
    httpx.ProxyError,
)
"""Transport failures that happen before any byte of the request reaches the server."""
_STATUS_ERRORS: dict[int, type[TdxError]] = {401: AuthError, 403: Forbidden, 404: NotFound}


@dataclass(frozen=True)
class Call:
    """A request to make. ``safe``: repeating it cannot duplicate an effect in TDX."""

    method: str
    template: str
    params: Mapping[str, object]
    query: Mapping[str, str] | None = None
    json: Any = None
    safe: bool = True
    authenticated: bool = True

    @property
    def key(self) -> str:
        """The rate-limit window this call counts against: method and path template."""
        return f"{self.method} {self.template}"

    @property
    def label(self) -> str:
        return f"{self.method} {self.template}"


@dataclass(frozen=True)
class RatePolicy:
    margin_s: float
    """Waited past X-RateLimit-Reset, and the pause after a 429 that came without headers."""
    max_wait_s: float


class ApiCaller:
    """Sends calls for one client. Thread-safe when its budget and httpx client are."""

    def __init__(
        self,
        http: httpx.Client,
        credentials: Credentials,
        *,
        budget: RateBudget,
        retry: RetryPolicy,
        rate: RatePolicy,
        timeout: httpx.Timeout,
        refresh_margin_s: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self._http = http
        self._budget = budget
        self._retry = retry
        self._rate = rate
        self._timeout = timeout
        self._clock = clock
        self._sleep = sleep
        self.redact = Redactor(credentials.secrets())
        self.tokens = TokenKeeper(
            credentials,
            login=self._login,
            clock=clock,
            refresh_margin_s=refresh_margin_s,
            on_new_token=self.redact.add,
        )

    def __repr__(self) -> str:
        return f"ApiCaller(tokens={self.tokens!r}, budget={self._budget!r})"

    # -- public ------------------------------------------------------------------------------

    def send(self, call: Call) -> httpx.Response:
        """Perform ``call`` (with retries where safe); return a 2xx response or raise TdxError."""
        path = fill_path(call.template, dict(call.params))
        body = None if call.json is None else orjson.dumps(call.json)
        retrying = make_retrying(self._retry, sleep=self._sleep)
        response: httpx.Response = retrying(self._attempt, call, path, body)
        return response

    # -- one attempt ---------------------------------------------------------------------------

    def _attempt(self, call: Call, path: str, body: bytes | None) -> httpx.Response:
        if not call.authenticated:
            return self._check(call, self._exchange(call, path, body, token=None))
        token = self.tokens.current()
        response = self._exchange(call, path, body, token=token)
        if response.status_code == 401:
            if not self.tokens.can_renew:
                raise AuthError(
                    f"{call.label} → HTTP 401 and the static token cannot be renewed",
                    method=call.method,
                    path=call.template,
                    status=401,
                )
            _log.info("%s answered 401; renewing the token once", call.label)
            token = self.tokens.renew_after_rejection(token)
            response = self._exchange(call, path, body, token=token)
            if response.status_code == 401:
                raise AuthError(
                    f"{call.label} → HTTP 401 again after re-authenticating "
                    "(token rejected, or the account lacks permission)",
                    method=call.method,
                    path=call.template,
                    status=401,
                )
        return self._check(call, response)

    def _exchange(
        self, call: Call, path: str, body: bytes | None, *, token: str | None
    ) -> httpx.Response:
        self._wait_for_budget(call)
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        started = time.perf_counter()
        try:
            response = self._http.request(
                call.method,
                path,
                params=dict(call.query) if call.query is not None else None,
                content=body,
                headers=headers,
                timeout=self._timeout,
            )
        except httpx.TransportError as exc:
            self._budget.release(call.key)
            raise self._transport_failure(call, exc) from exc
        elapsed_ms = (time.perf_counter() - started) * 1000
        window = parse_rate_headers(response.headers)
        if window is None and response.status_code == 429:
            window = RateWindow(None, 0, self._clock() + self._rate.margin_s)
        self._budget.observe(call.key, window)
        _log.debug(
            "%s → %d in %.1f ms%s",
            call.label,
            response.status_code,
            elapsed_ms,
            "" if window is None else f" (rate {window.remaining}/{window.limit})",
        )
        return response

    def _wait_for_budget(self, call: Call) -> None:
        waited = 0.0
        while (delay := self._budget.before_call(call.key)) > 0:
            if waited + delay > self._rate.max_wait_s:
                raise RateBudgetExhausted(
                    f"{call.label}: rate budget spent; the wait ({waited + delay:.0f} s) "
                    f"would exceed {self._rate.max_wait_s:.0f} s",
                    reset_at=self._clock() + delay,
                    method=call.method,
                    path=call.template,
                )
            if delay > 0.5:
                _log.info("%s: rate budget spent; waiting %.2f s for the reset", call.label, delay)
            self._sleep(delay)
            waited += delay

    # -- outcome mapping ----------------------------------------------------------------------

    def _transport_failure(self, call: Call, exc: httpx.TransportError) -> TdxError:
        reason = type(exc).__name__
        if call.safe or isinstance(exc, _NOT_SENT):
            return TransportError(
                f"{call.label}: {reason} ({self._short(str(exc))})",
                method=call.method,
                path=call.template,
            )
        return AmbiguousWrite(
            f"{call.label}: outcome unknown after {reason}; check TDX before retrying",
            reason=reason,
            method=call.method,
            path=call.template,
        )

    def _check(self, call: Call, response: httpx.Response) -> httpx.Response:
        status = response.status_code
        if 200 <= status < 300:
            return response
        detail = self._tdx_message(response)
        message = (
            f"{call.label} → HTTP {status}: {detail}" if detail else f"{call.label} → {status}"
        )
        method, path = call.method, call.template
        if status >= 500:
            if call.safe:
                raise ServerError(message, method=method, path=path, status=status)
            raise AmbiguousWrite(
                f"{message}; outcome unknown, check TDX before retrying",
                reason=f"HTTP {status}",
                method=method,
                path=path,
                status=status,
            )
        if status == 429:
            window = parse_rate_headers(response.headers)
            reset_at = window.reset_at if window else None
            raise RateLimited(message, reset_at=reset_at, method=method, path=path, status=status)
        if not call.authenticated and status in (400, 401, 403):
            raise AuthError(
                f"TDX rejected the login: {message}", method=method, path=path, status=status
            )
        if status == 400:
            raise BadRequest(message, tdx_message=detail, method=method, path=path, status=status)
        error_type = _STATUS_ERRORS.get(status, UnexpectedResponse)
        raise error_type(message, method=method, path=path, status=status)

    def _tdx_message(self, response: httpx.Response) -> str:
        text = response.text.strip()
        if not text:
            return ""
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            return self._short(text)
        if isinstance(data, dict):
            message = data.get("Message") or data.get("message")
            if isinstance(message, str) and message.strip():
                return self._short(message)
        return self._short(text)

    def _short(self, text: str) -> str:
        cleaned = self.redact(" ".join(text.split()))
        if len(cleaned) > _MAX_MESSAGE_CHARS:
            return cleaned[:_MAX_MESSAGE_CHARS] + "…"
        return cleaned

    # -- login --------------------------------------------------------------------------------

    def _login(self, credentials: LoginCredentials) -> str:
        call = Call(
            "POST", credentials.login_path, {}, json=credentials.login_body(), authenticated=False
        )
        response = self.send(call)
        token = token_from_body(response.text)
        if token is None:
            raise AuthError(
                f"{call.label} → {response.status_code} but the body is not a token",
                method=call.method,
                path=call.template,
                status=response.status_code,
            )
        return token
