"""Opening the configured database for a command, with errors a person can act on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import typer
from rich.console import Console
from rich.markup import escape

from tdxq.eventlog import (
    DatabaseNotConfigured,
    DatabaseSettings,
    EventStore,
    MigrationError,
    Migrator,
    connect,
    resolve_dsn,
)
from tdxq.eventlog.database import redact_dsn

err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` to stderr; return the Exit to raise."""
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def database_settings() -> DatabaseSettings:
    try:
        return DatabaseSettings()
    except ValueError as exc:
        raise fail(str(exc), 2) from None


def dsn_or_exit(settings: DatabaseSettings) -> str:
    try:
        return resolve_dsn(settings)
    except DatabaseNotConfigured as exc:
        raise fail(str(exc), 2) from None


@contextmanager
def open_connection(settings: DatabaseSettings | None = None) -> Iterator[psycopg.Connection[Any]]:
    settings = settings or database_settings()
    dsn = dsn_or_exit(settings)
    try:
        conn = connect(dsn)
    except psycopg.OperationalError as exc:
        raise fail(f"database unreachable: {exc}", 2) from None
    try:
        yield conn
    finally:
        conn.close()


def require_current_schema(conn: psycopg.Connection[Any], schema: str) -> None:
    """Exit 2 with the command to run when the schema lacks migrations this tdxq needs."""
    try:
        status = Migrator(conn, schema).status()
    except MigrationError as exc:
        raise fail(str(exc), 2) from None
    if status.pending:
        names = ", ".join(m.name for m in status.pending)
        raise fail(f"schema {schema!r} needs migrating ({names}): run `tdxq migrate` first", 2)


@contextmanager
def open_store(settings: DatabaseSettings | None = None) -> Iterator[EventStore]:
    """The event store of a migrated schema (a clear error otherwise, never a traceback)."""
    settings = settings or database_settings()
    with open_connection(settings) as conn:
        require_current_schema(conn, settings.schema_name)
        yield EventStore(conn, settings.schema_name)


__all__ = [
    "database_settings",
    "fail",
    "open_connection",
    "open_store",
    "redact_dsn",
    "require_current_schema",
]
