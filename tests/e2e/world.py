"""A sandbox tenant, a client into it, a fresh schema and a runtime: one run's whole world."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from tdxq.actions.config import Config, parse_config
from tdxq.commands.ingest import fetch_report, ingest_report
from tdxq.commands.run import RunReport, run_report
from tdxq.commands.runtime import Runtime, open_runtime
from tdxq.commands.sandbox_config import sandbox_config_text
from tdxq.eventlog import DatabaseSettings, EventStore, process_metadata
from tdxq.tdx import AdminKey, TdxClient
from tdxq.tdx.sandbox import (
    SANDBOX_BEID,
    SANDBOX_WEB_SERVICES_KEY,
    SandboxApp,
    SandboxConfig,
    Tenant,
    generate_tenant,
)

from ..conftest import Schema

ROOT = "http://sandbox.test"


def seed_config_text(app: SandboxApp, *, retry_delay_s: float | None = None) -> str:
    text = sandbox_config_text(app.settings, ROOT)
    if retry_delay_s is not None:
        text = text.replace("base_delay_s = 60", f"base_delay_s = {retry_delay_s}")
    return text


@dataclass
class World:
    app: SandboxApp
    schema: Schema
    config_text: str
    reports_run: list[RunReport] = field(default_factory=list)

    @property
    def config(self) -> Config:
        return parse_config(self.config_text, Path("test.toml"), environ={})

    @contextmanager
    def runtime(self) -> Iterator[Runtime]:
        credentials = AdminKey(SecretStr(SANDBOX_BEID), SecretStr(SANDBOX_WEB_SERVICES_KEY))
        settings = DatabaseSettings(database_url=self.schema.dsn, TDXQ_SCHEMA=self.schema.name)
        with (
            TdxClient(
                f"{ROOT}/TDWebApi/api", credentials, transport=self.app.transport()
            ) as client,
            open_runtime(self.config, settings=settings, client=client) as runtime,
        ):
            yield runtime

    def run(self, report_id: int, **kwargs: Any) -> RunReport:
        with self.runtime() as runtime:
            report = run_report(runtime, report_id, **kwargs)
        self.reports_run.append(report)
        return report

    def ingest(self, report_id: int) -> list[int]:
        """Poll the report once and append what it shows, without acting; the ticket ids."""
        with self.runtime() as runtime:
            volatile = runtime.config.reports[report_id].volatile_columns
            parsed = fetch_report(runtime.client, report_id, volatile)
            ingest_report(
                runtime.store,
                parsed,
                run_id=None,
                metadata=process_metadata(actor="test"),
                started=time.monotonic(),
            )
        return parsed.ticket_ids

    def store(self) -> EventStore:
        return EventStore(self.schema.connect(), self.schema.name)

    def writes(self) -> list[dict[str, Any]]:
        return list(self.app.writes)

    def calls(self) -> dict[str, int]:
        return dict(self.app.call_counts)


def make_app(tenant: Tenant | None = None, tickets: int = 40) -> SandboxApp:
    tenant = tenant or generate_tenant(1, tickets)
    return SandboxApp(tenant, SandboxConfig(tickets=tickets, rate_limit=False))
