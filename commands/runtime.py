"""Everything one run needs, opened from configuration and closed together."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from pydantic import ValidationError

from tdxq.actions.config import Config, ConfigError, load_config
from tdxq.actions.lookups import LookupRuntime
from tdxq.eventlog import DatabaseSettings, EventStore, Migrator, connect
from tdxq.eventlog.database import resolve_dsn
from tdxq.tdx import TdxClient, TdxSettings
from tdxq.tdx.ratelimit import RateBudget

from .database import database_settings, dsn_or_exit, fail


@dataclass
class Runtime:
    config: Config
    store: EventStore
    client: TdxClient
    lookups: LookupRuntime
    dsn: str

    @property
    def schema(self) -> str:
        return self.store.schema


def load_config_or_exit(path: Path | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise fail(str(exc), 2) from None


def tdx_client(
    config: Config,
    *,
    transport: httpx.BaseTransport | None = None,
    budget: RateBudget | None = None,
) -> TdxClient:
    """The client for the configured tenant; credentials come only from the environment."""
    try:
        settings = TdxSettings(base_url=config.base_url)
        return TdxClient.from_settings(settings, transport=transport, budget=budget)
    except (ValidationError, ValueError) as exc:
        raise fail(f"TDX settings: {exc}", 2) from None


def require_current_schema(conn: psycopg.Connection[object], schema: str) -> None:
    status = Migrator(conn, schema).status()
    if status.pending:
        names = ", ".join(m.name for m in status.pending)
        raise fail(f"the database needs migrating ({names}): run `tdxq migrate` first", 2)


@contextmanager
def open_runtime(
    config: Config,
    *,
    settings: DatabaseSettings | None = None,
    client: TdxClient | None = None,
) -> Iterator[Runtime]:
    settings = settings or database_settings()
    dsn = dsn_or_exit(settings)
    try:
        conn = connect(dsn)
    except psycopg.OperationalError as exc:
        raise fail(f"database unreachable: {exc}", 2) from None
    lookups = LookupRuntime(config.lookups, default_dsn=lambda: resolve_dsn(settings))
    tdx = client or tdx_client(config)
    try:
        require_current_schema(conn, settings.schema_name)
        yield Runtime(config, EventStore(conn, settings.schema_name), tdx, lookups, dsn)
    finally:
        lookups.close()
        if client is None:
            tdx.close()
        conn.close()
