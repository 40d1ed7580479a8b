"""`tdxq migrate`: apply the pending SQL migrations."""

from __future__ import annotations

import typer
from rich.console import Console

from tdxq.eventlog import MigrationError, Migrator

from .database import database_settings, fail, open_connection


def migrate() -> None:
    """Apply pending migrations (each in a transaction, under an advisory lock)."""
    settings = database_settings()
    console = Console()
    with open_connection(settings) as conn:
        try:
            applied = Migrator(conn, settings.schema_name).migrate()
        except MigrationError as exc:
            raise fail(str(exc)) from None
    if applied:
        for migration in applied:
            console.print(f"applied {migration.name}")
    else:
        console.print(f"schema {settings.schema_name!r} is up to date")
    raise typer.Exit(0)
