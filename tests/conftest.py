"""Shared fixtures: a real Postgres, a throwaway database per session, a fresh schema per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from hypothesis import settings as hypothesis_settings

from tdxq.eventlog import EventStore, Migrator, connect

from .pg import describe_test_server, test_server, throwaway_database

# Property tests explore new examples on developers' machines; in CI they replay a fixed
# derivation so a submission's result does not depend on the draw. No deadline: a loaded
# 2-core machine is slow, and slowness is measured by the benches, not here.
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_report_header() -> str:
    return f"tdxq tests on Postgres: {describe_test_server()}"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    with ExitStack() as stack:
        yield stack.enter_context(test_server(stack))


@pytest.fixture(scope="session")
def database_url(pg_server_url: str) -> Iterator[str]:
    with throwaway_database(pg_server_url) as url:
        yield url


@dataclass(frozen=True)
class Schema:
    """A freshly migrated schema in the session's throwaway database."""

    dsn: str
    name: str

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        return connect(self.dsn, **kwargs)

    def env(self) -> dict[str, str]:
        return {"TDXQ_DATABASE_URL": self.dsn, "TDXQ_SCHEMA": self.name}


@pytest.fixture
def schema(database_url: str) -> Schema:
    name = f"t_{uuid.uuid4().hex[:10]}"
    with connect(database_url) as conn:
        Migrator(conn, name).migrate()
    return Schema(database_url, name)


@pytest.fixture
def store(schema: Schema) -> Iterator[EventStore]:
    conn = schema.connect()
    try:
        yield EventStore(conn, schema.name)
    finally:
        conn.close()
