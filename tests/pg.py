"""Finding a Postgres server for the test session, and throwaway databases on it.

Order: TDXQ_TEST_DATABASE_URL (a server URL), else an embedded server (pgserver) in a temporary
directory, else testcontainers when a Docker engine answers, else an error saying what to do.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tdxq.eventlog.database import redact_dsn

HOW_TO = (
    "no Postgres for the tests: set TDXQ_TEST_DATABASE_URL=postgresql://user@host:port/postgres, "
    "or pip install 'tdxq[embedded]' (pgserver), or start a Docker engine for testcontainers"
)


def describe_test_server() -> str:
    """Which Postgres the tests will use, for pytest's header (no password)."""
    url = os.environ.get("TDXQ_TEST_DATABASE_URL")
    if url:
        return f"TDXQ_TEST_DATABASE_URL={redact_dsn(url)} (a throwaway database per run)"
    if importlib.util.find_spec("pgserver") is not None:
        return "an embedded server (pgserver) in a temporary directory"
    return "testcontainers, if a Docker engine answers"


@contextmanager
def test_server(stack: ExitStack) -> Iterator[str]:
    url = os.environ.get("TDXQ_TEST_DATABASE_URL")
    if url:
        yield url
        return
    try:
        import pgserver
    except ImportError:
        pgserver = None
    if pgserver is not None:
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="tdxq-test-pg-"))
        server: Any = pgserver.get_server(data_dir, cleanup_mode="delete")
        try:
            yield str(server.get_uri())
        finally:
            server.cleanup()
        return
    container_url = _testcontainers_url(stack)
    if container_url is None:
        raise RuntimeError(HOW_TO)
    yield container_url


def _testcontainers_url(stack: ExitStack) -> str | None:
    try:
        import docker
        from testcontainers.postgres import PostgresContainer

        docker.from_env().ping()
    except Exception:
        return None
    container = stack.enter_context(PostgresContainer("postgres:15", driver=None))
    return str(container.get_connection_url())


def with_database(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo("", **{k: v for k, v in params.items() if v is not None})


@contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it afterwards."""
    name = f"tdxq_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
