"""Fixtures for the sandbox's own tests: a fresh app per test over a small generated tenant,
an injectable clock, raw httpx clients in-process and over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from tdxq.tdx.sandbox import (
    SANDBOX_BEID,
    SANDBOX_WEB_SERVICES_KEY,
    SandboxApp,
    SandboxConfig,
    SandboxServer,
    Tenant,
    generate_tenant,
    serve,
)

TEST_TICKETS = 60
IN_PROCESS_ROOT = "http://sandbox.test"
IN_PROCESS_BASE = IN_PROCESS_ROOT + "/TDWebApi/api"


@dataclass
class FakeClock:
    """Epoch seconds that only move when a test says so."""

    now: float = 1_800_000_000.25
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture(scope="session")
def tenant_json() -> str:
    return generate_tenant(1, TEST_TICKETS).model_dump_json()


@pytest.fixture
def tenant(tenant_json: str) -> Tenant:
    return Tenant.model_validate_json(tenant_json)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_app(tenant: Tenant, clock: FakeClock, **config: object) -> SandboxApp:
    return SandboxApp(
        tenant,
        SandboxConfig.model_validate({"tickets": TEST_TICKETS, **config}),
        clock=clock,
        sleep=clock.sleep,
        signing_key=b"test-signing-key",
    )


@pytest.fixture
def app(tenant: Tenant, clock: FakeClock) -> SandboxApp:
    return make_app(tenant, clock)


def admin_token(client: httpx.Client) -> str:
    response = client.post(
        "auth/loginadmin", json={"BEID": SANDBOX_BEID, "WebServicesKey": SANDBOX_WEB_SERVICES_KEY}
    )
    assert response.status_code == 200, response.text
    return response.text


def in_process_client(app: SandboxApp, remote_addr: str = "127.0.0.1") -> httpx.Client:
    return httpx.Client(transport=app.transport(remote_addr), base_url=IN_PROCESS_BASE)


@pytest.fixture
def anonymous(app: SandboxApp) -> Iterator[httpx.Client]:
    with in_process_client(app) as client:
        yield client


@pytest.fixture
def client(app: SandboxApp) -> Iterator[httpx.Client]:
    """In-process, logged in as the admin service account."""
    with in_process_client(app) as client:
        client.headers["Authorization"] = f"Bearer {admin_token(client)}"
        yield client


@pytest.fixture
def server(app: SandboxApp) -> Iterator[SandboxServer]:
    with serve(app) as running:
        yield running


@pytest.fixture
def http_client(server: SandboxServer) -> Iterator[httpx.Client]:
    """Over real HTTP on loopback, logged in as the admin service account."""
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        client.headers["Authorization"] = f"Bearer {admin_token(client)}"
        yield client
