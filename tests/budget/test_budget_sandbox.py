"""Four TdxClients, each with its own PostgresRateBudget, against the sandbox with TDX's real
limits in scaled windows: the sandbox never answers 429."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
from pydantic import SecretStr

from tdxq.actions.shared_budget import PostgresRateBudget
from tdxq.tdx import AdminKey, ClientOptions, TdxClient
from tdxq.tdx.sandbox import (
    SANDBOX_BEID,
    SANDBOX_WEB_SERVICES_KEY,
    SandboxApp,
    SandboxConfig,
    generate_tenant,
)

from ..conftest import Schema
from .conftest import config

ROOT = "http://sandbox.test"
CLIENTS = 4
TICKET_GETS = 40  # per client: 160 calls of a 60-per-window method
REPORT_GETS = 10  # per client: 40 calls of a 30-per-user-window method
SCALE = 1 / 30  # 60 s windows become 2 s


class CountingTransport(httpx.BaseTransport):
    """The sandbox's own transport, counting the statuses it answers."""

    def __init__(self, inner: httpx.BaseTransport, statuses: Counter[int]) -> None:
        self._inner = inner
        self._statuses = statuses
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        with self._lock:
            self._statuses[response.status_code] += 1
        return response


def test_four_clients_sharing_the_budget_get_no_429(schema: Schema) -> None:
    app = SandboxApp(
        generate_tenant(1, 20),
        SandboxConfig(tickets=20, rate_window_scale=SCALE),
    )
    app_id = app.settings.ticket_app_id
    ticket_ids = [t.id for t in app.tenant.tickets][:TICKET_GETS]
    report_id = next(iter(app.settings.report_ids.values()))
    statuses: Counter[int] = Counter()
    budget_config = config(window_scale=SCALE, margin_s=0.1)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        budget = PostgresRateBudget(schema.dsn, schema.name, budget_config)
        client = TdxClient(
            ROOT + app.base_path,
            AdminKey(SecretStr(SANDBOX_BEID), SecretStr(SANDBOX_WEB_SERVICES_KEY)),
            ClientOptions(max_attempts=1, rate_limit_margin_s=0.1),
            transport=CountingTransport(app.transport(), statuses),
            budget=budget,
        )
        try:
            for i in range(TICKET_GETS):
                client.get_ticket(app_id, ticket_ids[(i + n) % len(ticket_ids)])
                if i % (TICKET_GETS // REPORT_GETS) == 0:
                    client.get_report(report_id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            client.close()
            budget.close()

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    took = time.monotonic() - started

    print(
        f"\n{CLIENTS} clients against the sandbox (windows x{SCALE:.3f}): {took:.2f} s, {statuses}"
    )
    assert not errors, f"a client failed: {errors[0]!r}"
    assert statuses[429] == 0, f"the sandbox answered 429 {statuses[429]} times"
    assert statuses[200] == CLIENTS * (1 + TICKET_GETS + REPORT_GETS)
    # 160 ticket reads need three windows of 60: the budget had to make the clients wait.
    assert took > 2 * 60 * SCALE
