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
from tdxq.actions.shared_budget import PostgresRateBudget
from tdxq.eventlog import DatabaseSettings, EventStore, connect
from tdxq.eventlog.database import resolve_dsn
from tdxq.tdx import TdxClient, TdxSettings
from tdxq.tdx.ratelimit import RateBudget

from .budget_setup import BudgetSettings, SharedBudgetTarget
from .database import database_settings, dsn_or_exit, fail, require_current_schema


@dataclass
class Runtime:
    config: Config
    store: EventStore
    client: TdxClient
    lookups: LookupRuntime
    dsn: str
    budget: PostgresRateBudget | None = None
    """The shared TDX budget the client counts against, when one is in use."""

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
    shared_budget: SharedBudgetTarget | None = None,
) -> TdxClient:
    """The client for the configured tenant; credentials come only from the environment.

    With ``shared_budget`` (and no ``budget``) its calls count against the TDX budget kept in
    Postgres, shared with every other worker (``client.budget``; the caller closes it).
    """
    try:
        settings = TdxSettings(base_url=config.base_url)
        if budget is None and shared_budget is not None:
            budget = shared_budget.budget_for(settings)
        return TdxClient.from_settings(settings, transport=transport, budget=budget)
    except (ValidationError, ValueError) as exc:
        raise fail(f"TDX settings: {exc}", 2) from None


def budget_settings() -> BudgetSettings:
    try:
        return BudgetSettings()
    except ValidationError as exc:
        raise fail(f"shared budget settings (TDXQ_BUDGET_*): {exc}", 2) from None


@contextmanager
def open_runtime(
    config: Config,
    *,
    settings: DatabaseSettings | None = None,
    client: TdxClient | None = None,
    shared_budget: bool = False,
) -> Iterator[Runtime]:
    """``shared_budget``: the default for whether the client counts its TDX calls in the
    budget shared through Postgres; ``TDXQ_SHARED_BUDGET`` overrides it."""
    settings = settings or database_settings()
    dsn = dsn_or_exit(settings)
    try:
        conn = connect(dsn)
    except psycopg.OperationalError as exc:
        raise fail(f"database unreachable: {exc}", 2) from None
    lookups = LookupRuntime(config.lookups, default_dsn=lambda: resolve_dsn(settings))
    budget: PostgresRateBudget | None = None
    if client is None:
        budgeting = budget_settings()
        target = None
        if budgeting.enabled(shared_budget):
            target = SharedBudgetTarget(dsn, settings.schema_name, budgeting)
        tdx = tdx_client(config, shared_budget=target)
        if isinstance(tdx.budget, PostgresRateBudget):
            budget = tdx.budget
    else:
        tdx = client
    try:
        require_current_schema(conn, settings.schema_name)
        store = EventStore(conn, settings.schema_name)
        yield Runtime(config, store, tdx, lookups, dsn, budget)
    finally:
        lookups.close()
        if client is None:
            tdx.close()
        if budget is not None:
            budget.close()
        conn.close()
