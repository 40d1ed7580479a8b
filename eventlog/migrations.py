"""Numbered plain-SQL migrations, applied in order under an advisory lock.

Each file runs in its own transaction with ``search_path`` set to the tdxq schema, so the SQL
names no schema. Applied files are recorded with a checksum; an applied file that has since
changed is refused, because the database no longer matches what the code expects.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg
from psycopg import sql

from .errors import MigrationError

FILE_PATTERN = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    number: int
    name: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    applied: list[int]
    pending: list[Migration]


def load_migrations(package: str = "tdxq.sql") -> list[Migration]:
    """Every migration file shipped in ``package``, in order; misnamed files are an error."""
    found: list[Migration] = []
    for entry in resources.files(package).iterdir():
        name = entry.name
        if not name.endswith(".sql"):
            continue
        match = FILE_PATTERN.match(name)
        if not match:
            raise MigrationError(f"migration file {name!r} is not named NNNN_lower_case.sql")
        found.append(Migration(int(match.group(1)), name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.number)
    numbers = [m.number for m in found]
    if len(set(numbers)) != len(numbers):
        raise MigrationError(f"two migration files share a number: {numbers}")
    return found


def _lock_key(schema: str) -> int:
    digest = hashlib.sha256(f"tdxq.migrate.{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Migrator:
    """Applies the shipped migrations to one schema."""

    def __init__(
        self, conn: psycopg.Connection[Any], schema: str, migrations: list[Migration] | None = None
    ) -> None:
        if not conn.autocommit:
            raise ValueError("the migrator needs an autocommit connection")
        self._conn = conn
        self._schema = schema
        self._migrations = migrations if migrations is not None else load_migrations()
        self._table = sql.Identifier(schema, "schema_migrations")

    def _ensure_table(self) -> None:
        self._conn.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self._schema))
        )
        self._conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " number integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            ).format(self._table)
        )

    def _applied(self) -> dict[int, tuple[str, str]]:
        rows = self._conn.execute(
            sql.SQL("SELECT number, name, checksum FROM {}").format(self._table)
        ).fetchall()
        return {number: (name, checksum) for number, name, checksum in rows}

    def _table_exists(self) -> bool:
        row = self._conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL", (f"{self._schema}.schema_migrations",)
        ).fetchone()
        return bool(row and row[0])

    def verify(self, applied: dict[int, tuple[str, str]]) -> list[Migration]:
        """The pending migrations; raise if an applied one changed or is unknown to the code."""
        known = {m.number: m for m in self._migrations}
        for number, (name, checksum) in sorted(applied.items()):
            migration = known.get(number)
            if migration is None:
                raise MigrationError(
                    f"the database has migration {name} which this tdxq does not ship; "
                    "upgrade tdxq before running it against this schema"
                )
            if migration.checksum != checksum:
                raise MigrationError(
                    f"migration {migration.name} was applied with checksum {checksum[:12]}… but "
                    f"the file now has {migration.checksum[:12]}…; applied migrations must not "
                    "be edited: add a new numbered file instead"
                )
        return [m for m in self._migrations if m.number not in applied]

    def status(self) -> MigrationStatus:
        applied = self._applied() if self._table_exists() else {}
        return MigrationStatus(sorted(applied), self.verify(applied))

    def migrate(self) -> list[Migration]:
        """Apply pending migrations, each in a transaction; return what was applied."""
        key = _lock_key(self._schema)
        self._conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            self._ensure_table()
            pending = self.verify(self._applied())
            for migration in pending:
                self._apply(migration)
            return pending
        finally:
            self._conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def _apply(self, migration: Migration) -> None:
        try:
            with self._conn.transaction():
                self._conn.execute(
                    sql.SQL("SET LOCAL search_path TO {}, public").format(
                        sql.Identifier(self._schema)
                    )
                )
                self._conn.execute(migration.text.encode())
                self._conn.execute(
                    sql.SQL("INSERT INTO {} (number, name, checksum) VALUES (%s, %s, %s)").format(
                        self._table
                    ),
                    (migration.number, migration.name, migration.checksum),
                )
        except psycopg.Error as exc:
            raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
