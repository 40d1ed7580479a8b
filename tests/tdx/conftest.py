"""The sandbox as TDX for the client's tests, over real HTTP and in-process.

``sandbox`` is a factory fixture parametrized by mode: each test that uses it runs twice, once
against ``serve(app)`` on loopback and once through ``app.transport()``. Introspection goes
through ``/_sandbox/…`` the same way in both modes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from tdxq.tdx import AdminKey, ClientOptions, Credentials, TdxClient, UserPassword
from tdxq.tdx.sandbox import (
    SANDBOX_BEID,
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
    SANDBOX_WEB_SERVICES_KEY,
    SandboxApp,
    SandboxConfig,
    Tenant,
    generate_tenant,
    serve,
)

TICKET_APP = 46
ASSET_APP = 48
REPORT_ID = 1344
TICKET_ID = 9291804
IN_PROCESS_ROOT = "http://sandbox.invalid"

ADMIN = AdminKey(beid=SecretStr(SANDBOX_BEID), web_services_key=SecretStr(SANDBOX_WEB_SERVICES_KEY))
USER = UserPassword(username=SecretStr(SANDBOX_USERNAME), password=SecretStr(SANDBOX_PASSWORD))

FAST = ClientOptions(
    connect_timeout_s=2.0,
    read_timeout_s=5.0,
    write_timeout_s=5.0,
    pool_timeout_s=2.0,
    rate_limit_margin_s=0.25,
    max_rate_limit_wait_s=30.0,
    max_attempts=4,
    backoff_initial_s=0.01,
    backoff_max_s=0.05,
)
"""Options for tests: small margins and backoffs so nothing really waits long."""


class TapTransport(httpx.BaseTransport):
    """Passes every exchange through to ``inner`` and shows it to ``tap`` (tests only)."""

    def __init__(
        self, inner: httpx.BaseTransport, tap: Callable[[httpx.Request, httpx.Response], None]
    ) -> None:
        self._inner = inner
        self._tap = tap

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        response.read()
        self._tap(request, response)
        return response

    def close(self) -> None:
        self._inner.close()


@dataclass
class Sandbox:
    """One running sandbox and how to reach it in the current mode."""

    app: SandboxApp
    mode: str
    root_url: str
    transport: httpx.BaseTransport | None
    _stack: ExitStack
    _http: httpx.Client

    @property
    def base_url(self) -> str:
        return self.root_url + self.app.base_path

    def client(
        self,
        credentials: Credentials = ADMIN,
        options: ClientOptions = FAST,
        *,
        tap: Callable[[httpx.Request, httpx.Response], None] | None = None,
        **kwargs: Any,
    ) -> TdxClient:
        """A client of this sandbox; closed at the end of the test."""
        transport = self.app.transport() if self.transport is not None else None
        if tap is not None:
            transport = TapTransport(transport or httpx.HTTPTransport(), tap)
        client = TdxClient(self.base_url, credentials, options, transport=transport, **kwargs)
        self._stack.callback(client.close)
        return client

    def _introspect(self, method: str, name: str, body: Any = None) -> Any:
        response = self._http.request(method, f"{self.root_url}/_sandbox/{name}", json=body)
        response.raise_for_status()
        return response.json()

    def writes(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._introspect("GET", "writes")["writes"]
        return result

    def outcomes(self, endpoint: str) -> dict[str, int]:
        """Answers per status for one sandbox endpoint name, e.g. ``GET {app}/tickets/{id}``."""
        outcomes: dict[str, dict[str, int]] = self._introspect("GET", "calls")["outcomes"]
        return outcomes.get(endpoint, {})

    def all_outcomes(self) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = self._introspect("GET", "calls")["outcomes"]
        return result

    def set_faults(self, **faults: Any) -> None:
        self._introspect("POST", "faults", faults)

    def tokens(self, **body: Any) -> None:
        self._introspect("POST", "tokens", body)


@pytest.fixture(scope="session")
def tenant_json() -> str:
    return generate_tenant(seed=1, tickets=50).model_dump_json()


SandboxFactory = Callable[..., Sandbox]


@pytest.fixture(params=["http", "in-process"])
def sandbox(request: pytest.FixtureRequest, tenant_json: str) -> Iterator[SandboxFactory]:
    """``sandbox(clock=..., rate_window_scale=..., ...)`` → a fresh sandbox in this mode."""
    mode: str = request.param
    with ExitStack() as stack:

        def open_sandbox(clock: Callable[[], float] | None = None, **config: Any) -> Sandbox:
            app_kwargs: dict[str, Any] = {} if clock is None else {"clock": clock}
            app = SandboxApp(
                Tenant.model_validate_json(tenant_json),
                SandboxConfig(tickets=50, **config),
                **app_kwargs,
            )
            transport = None if mode == "http" else app.transport()
            http = stack.enter_context(
                httpx.Client(transport=transport, timeout=5.0, trust_env=False)
            )
            if mode == "http":
                server = stack.enter_context(serve(app))
                return Sandbox(app, mode, server.root_url, None, stack, http)
            return Sandbox(app, mode, IN_PROCESS_ROOT, transport, stack, http)

        yield open_sandbox
