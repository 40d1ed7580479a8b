"""The sandbox as a WSGI application: routing, auth, rate limits, faults, the write log.

Serve it over real HTTP with `server.serve(app)`, or in-process with
`httpx.Client(transport=app.transport())`.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from . import introspect
from .auth import ADMIN_USERNAME, Principal, TokenAuthority, admin_login_ok, user_login_ok
from .calls import Call
from .config import SandboxConfig
from .dates import from_epoch, tdx_date
from .errors import ApiError, ConnectionFault, DroppedConnection, HungConnection
from .faults import NO_FAULT, FaultConfig, FaultDecision, FaultInjector, FaultKind
from .generate import generate_tenant
from .ratelimit import FixedWindowLimiter, rate_limit_headers
from .records import CallLog, WriteRecord
from .router import Match, MethodNotAllowed
from .routes import Route, build_router
from .store import TenantStore
from .tenant import Tenant, TenantSettings
from .web import web_page
from .wire import Request, Response, error_response

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SERVER_ERROR_MESSAGES = {
    500: "An error has occurred.",
    503: "The service is temporarily unavailable.",
}
WsgiStartResponse = Callable[..., Any]


def system_clock() -> float:
    """Looks `time.time` up on every call, so freezegun's patch reaches the sandbox too."""
    return time.time()


def system_sleep(seconds: float) -> None:
    time.sleep(seconds)


class SandboxApp:
    """A TeamDynamix-compatible API over a generated (or loaded) tenant.

    `clock` returns epoch seconds and drives token expiry, rate windows and timestamps;
    `sleep` is used by slow-answer faults. Both are injectable for tests.
    """

    def __init__(
        self,
        tenant: Tenant | None = None,
        config: SandboxConfig | None = None,
        *,
        clock: Callable[[], float] = system_clock,
        sleep: Callable[[float], None] = system_sleep,
        signing_key: bytes | None = None,
    ) -> None:
        self.config = config or SandboxConfig()
        if tenant is None:
            tenant = generate_tenant(
                self.config.seed,
                self.config.tickets,
                ticket_app_id=self.config.ticket_app_id,
                asset_app_id=self.config.asset_app_id,
            )
        self._check_app_ids(tenant.settings)
        self._pristine = tenant.model_dump_json()
        self._store = TenantStore(tenant)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.RLock()
        self._tokens = TokenAuthority(signing_key or secrets.token_bytes(32), clock)
        self._limiter = FixedWindowLimiter(clock, self.config.rate_window_scale)
        self._rate_limit = self.config.rate_limit
        self._faults = FaultInjector(self.config.faults)
        self._log = CallLog()
        self._router = build_router()
        self.token_lifetime_s = self.config.token_lifetime_s

    def _check_app_ids(self, settings: TenantSettings) -> None:
        wanted = (self.config.ticket_app_id, self.config.asset_app_id)
        actual = (settings.ticket_app_id, settings.asset_app_id)
        if wanted != actual:
            raise ValueError(
                f"the tenant's apps (tickets {actual[0]}, assets {actual[1]}) differ from the "
                f"config's (tickets {wanted[0]}, assets {wanted[1]})"
            )

    def __repr__(self) -> str:
        return f"SandboxApp(seed={self.config.seed}, tickets={len(self.tenant.tickets)})"

    # -- public surface ---------------------------------------------------------------------

    @property
    def tenant(self) -> Tenant:
        """The live tenant (changes as writes are applied)."""
        return self._store.tenant

    @property
    def settings(self) -> TenantSettings:
        return self._store.settings

    @property
    def store(self) -> TenantStore:
        return self._store

    @property
    def base_path(self) -> str:
        return self.config.api_prefixes[0]

    @property
    def writes(self) -> list[WriteRecord]:
        return self._log.writes()

    @property
    def call_counts(self) -> dict[str, int]:
        return self._log.calls()

    @property
    def call_outcomes(self) -> dict[str, dict[str, int]]:
        return self._log.outcomes()

    @property
    def faults(self) -> FaultConfig:
        return self._faults.config

    def set_faults(self, faults: FaultConfig) -> None:
        """Replace the fault config at runtime; the fault RNG restarts from its seed."""
        self._faults.configure(faults)

    def set_rate_limit(
        self, enabled: bool | None = None, window_scale: float | None = None
    ) -> None:
        """Switch limits on or off, or change the window scale (which starts fresh windows)."""
        if enabled is not None:
            self._rate_limit = enabled
        if window_scale is not None:
            self._limiter = FixedWindowLimiter(self._clock, window_scale)

    @property
    def rate_limit_enabled(self) -> bool:
        return self._rate_limit

    @property
    def rate_window_scale(self) -> float:
        return self._limiter.window_scale

    def issue_token(self, username: str = "sandbox", lifetime_s: int | None = None) -> str:
        """A valid bearer token without a login call (e.g. for `TDX_API_TOKEN` tests)."""
        return self._tokens.issue(username, lifetime_s or self.token_lifetime_s)

    def revoke_tokens(self) -> None:
        self._tokens.revoke_all()

    def deny_tokens(self, deny: bool) -> None:
        self._tokens.deny_all(deny)

    def reset(self, *, tenant: bool = False, rate_limits: bool = False) -> None:
        """Forget the write log and counters; optionally restore the tenant as it was built
        and clear every rate-limit window."""
        with self._lock:
            self._log.reset()
            if tenant:
                self._store = TenantStore(Tenant.model_validate_json(self._pristine))
            if rate_limits:
                self._limiter.reset()

    def transport(self, remote_addr: str = "127.0.0.1") -> httpx.BaseTransport:
        from .transport import SandboxTransport

        return SandboxTransport(self, remote_addr=remote_addr)

    def now(self) -> float:
        return self._clock()

    # -- Logins protocol (for the auth endpoints) -------------------------------------------

    def user_token(self, username: str | None, password: str | None) -> str | None:
        if not user_login_ok(username, password, set(self._store.people_by_username)):
            return None
        person = self._store.person(username)
        assert person is not None
        return self._tokens.issue(person.username, self.token_lifetime_s)

    def admin_token(self, beid: str | None, key: str | None) -> str | None:
        if not admin_login_ok(beid, key):
            return None
        return self._tokens.issue(ADMIN_USERNAME, self.token_lifetime_s)

    # -- WSGI ---------------------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: WsgiStartResponse
    ) -> Iterable[bytes]:
        response = self.handle(request_from_environ(environ))
        start_response(response.status_line(), response.header_list())
        return [response.body]

    def handle(self, request: Request) -> Response:
        """Answer one request; raises a ConnectionFault when the answer must be lost."""
        lowered = request.path.lower()
        if lowered == "/_sandbox" or lowered.startswith("/_sandbox/"):
            with self._lock:
                return introspect.handle(self, request)
        if lowered.startswith("/tdnext/"):
            with self._lock:
                return web_page(self._store, request)
        for prefix in self.config.api_prefixes:
            low_prefix = prefix.lower()
            if lowered == low_prefix or lowered.startswith(low_prefix + "/"):
                return self._serve_api(request, request.path[len(prefix) + 1 :])
        return error_response(404, f"No HTTP resource was found that matches '{request.path}'.")

    # -- the API pipeline -------------------------------------------------------------------

    def _serve_api(self, request: Request, rest: str) -> Response:
        found = self._router.match(request.method, rest)
        if not isinstance(found, Match):
            if isinstance(found, MethodNotAllowed):
                response = error_response(
                    405, f"The requested resource does not support http method '{request.method}'."
                )
            else:
                response = error_response(
                    404, f"No HTTP resource was found that matches '{request.path}'."
                )
            self._finish(
                "(unmatched)", request, response, None, is_write=request.method in MUTATING_METHODS
            )
            return response
        route, params = found.target, found.params
        principal: Principal | None = None
        limit_headers: list[tuple[str, str]] = []
        decision = NO_FAULT
        fault: str | None = None
        try:
            if route.needs_token:
                principal = self._tokens.verify(request.headers.get("authorization"))
            limit_headers = self._check_rate(route, request, principal)
            self._check_app(route, params)
            if route.kind != "auth":
                decision = self._faults.draw(route.kind == "write")
            fault = self._fault_before(decision, route, request, principal)
            with self._lock:
                response = route.handler(
                    Call(request, params, self._store, principal, from_epoch(self._clock()), self)
                )
        except _Answered as answered:
            response, fault = answered.response, answered.fault
        except ApiError as error:
            response = error_response(error.status, error.message)
        except ConnectionFault:
            raise
        except Exception:  # a sandbox bug must still answer like a server would
            log.exception("sandbox handler failed for %s %s", request.method, request.path)
            response = error_response(500, SERVER_ERROR_MESSAGES[500])
        response.headers.extend(limit_headers)
        if decision.kind is FaultKind.EFFECT_THEN_FAIL and response.effect is not None:
            return self._effect_then_fail(route, request, principal, response, limit_headers)
        self._finish(
            route.name, request, response, principal, is_write=route.kind == "write", fault=fault
        )
        return response

    def _check_rate(
        self, route: Route, request: Request, principal: Principal | None
    ) -> list[tuple[str, str]]:
        if not self._rate_limit or route.limit is None:
            return []
        who = (
            principal.username if route.limit.scope == "user" and principal else request.remote_addr
        )
        decision = self._limiter.hit(route.name, who, route.limit)
        headers = rate_limit_headers(decision)
        if not decision.allowed:
            response = error_response(429, "Too many requests")
            response.headers.extend(headers)
            raise _Answered(response)
        return headers

    def _check_app(self, route: Route, params: dict[str, str]) -> None:
        if route.app == "none":
            return
        expected = (
            self.settings.ticket_app_id if route.app == "ticket" else self.settings.asset_app_id
        )
        if int(params["app"]) != expected:
            raise ApiError(
                404,
                f"Application {params['app']} was not found or is not a "
                f"{'ticketing' if route.app == 'ticket' else 'asset'} application.",
            )

    def _fault_before(
        self, decision: FaultDecision, route: Route, request: Request, principal: Principal | None
    ) -> str | None:
        """Apply a fault that strikes before the handler runs; returns its label, if any."""
        if decision.kind is FaultKind.ERROR:
            status = decision.error_status
            raise _Answered(error_response(status, SERVER_ERROR_MESSAGES[status]), fault="error")
        if decision.kind is FaultKind.DROP:
            self._finish(route.name, request, None, principal, route.kind == "write", fault="drop")
            raise DroppedConnection()
        if decision.kind is FaultKind.SLOW:
            self._sleep(self._faults.config.slow_seconds)
            return "slow"
        return None

    def _effect_then_fail(
        self,
        route: Route,
        request: Request,
        principal: Principal | None,
        applied: Response,
        limit_headers: list[tuple[str, str]],
    ) -> Response:
        mode = self._faults.config.effect_then_fail_mode
        if mode == "500":
            failed = error_response(500, SERVER_ERROR_MESSAGES[500])
            failed.headers.extend(limit_headers)
            self._finish(
                route.name,
                request,
                failed,
                principal,
                True,
                fault="effect_then_fail",
                effect=applied.effect,
            )
            return failed
        self._finish(
            route.name,
            request,
            None,
            principal,
            True,
            fault=f"effect_then_fail:{mode}",
            effect=applied.effect,
        )
        if mode == "drop":
            raise DroppedConnection()
        raise HungConnection(self._faults.config.hang_seconds)

    def _finish(
        self,
        endpoint: str,
        request: Request,
        response: Response | None,
        principal: Principal | None,
        is_write: bool,
        *,
        fault: str | None = None,
        effect: dict[str, Any] | None = None,
    ) -> None:
        outcome: int | str = response.status if response is not None else (fault or "dropped")
        self._log.count(endpoint, outcome)
        if not is_write:
            return
        if effect is None and response is not None:
            effect = response.effect
        self._log.add_write(
            {
                "method": request.method,
                "path": request.path,
                "query": request.query,
                "body": request.body_for_log(),
                "effect": effect,
                "time": tdx_date(from_epoch(self._clock())),
                "status": response.status if response is not None else None,
                "fault": fault,
                "user": principal.username if principal else None,
                "remote_addr": request.remote_addr,
            }
        )


class _Answered(Exception):
    def __init__(self, response: Response, fault: str | None = None) -> None:
        super().__init__(response.status)
        self.response = response
        self.fault = fault


def request_from_environ(environ: dict[str, Any]) -> Request:
    length_text = environ.get("CONTENT_LENGTH") or "0"
    try:
        length = max(0, int(length_text))
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length else b""
    headers = {
        key[5:].replace("_", "-"): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = str(environ["CONTENT_TYPE"])
    # PATH_INFO arrives latin-1-decoded per PEP 3333; TDX paths are ASCII, but keep UTF-8 intact.
    path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        path = path.encode("latin-1").decode("utf-8")
    return Request.build(
        method=str(environ.get("REQUEST_METHOD", "GET")),
        path=path,
        query_string=str(environ.get("QUERY_STRING", "")),
        headers=headers,
        body=body,
        remote_addr=str(environ.get("REMOTE_ADDR", "")),
    )
