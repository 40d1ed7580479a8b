"""Migrations: idempotent, safe when run concurrently, refusing edited history."""

from __future__ import annotations

import threading
import uuid

import pytest

from tdxq.eventlog import MigrationError, Migrator, connect, load_migrations
from tdxq.eventlog.migrations import Migration


def fresh_schema() -> str:
    return f"m_{uuid.uuid4().hex[:10]}"


def test_shipped_migrations_are_numbered_and_ordered() -> None:
    migrations = load_migrations()
    assert migrations, "the package must ship its SQL"
    assert [m.number for m in migrations] == sorted({m.number for m in migrations})
    assert migrations[0].name == "0001_events.sql"


def test_migrate_twice_is_a_no_op(database_url: str) -> None:
    name = fresh_schema()
    with connect(database_url) as conn:
        first = Migrator(conn, name).migrate()
        second = Migrator(conn, name).migrate()
        status = Migrator(conn, name).status()
    assert [m.name for m in first] == [m.name for m in load_migrations()]
    assert second == []
    assert status.pending == [] and status.applied == [m.number for m in first]


def test_two_concurrent_migrates_apply_each_file_once(database_url: str) -> None:
    name = fresh_schema()
    barrier = threading.Barrier(2)
    applied: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        with connect(database_url) as conn:
            barrier.wait()
            try:
                applied.append([m.name for m in Migrator(conn, name).migrate()])
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(applied, key=len) == [[], [m.name for m in load_migrations()]]


def test_an_edited_migration_is_refused(database_url: str) -> None:
    name = fresh_schema()
    original = load_migrations()
    with connect(database_url) as conn:
        Migrator(conn, name, original).migrate()
        edited = [Migration(original[0].number, original[0].name, original[0].text + "\n-- x")]
        with pytest.raises(MigrationError, match=r"0001_events\.sql.*must not be edited"):
            Migrator(conn, name, edited).migrate()
        with pytest.raises(MigrationError, match="must not be edited"):
            Migrator(conn, name, edited).status()


def test_a_migration_unknown_to_the_code_is_refused(database_url: str) -> None:
    name = fresh_schema()
    shipped = load_migrations()
    extra = Migration(9999, "9999_future.sql", "CREATE TABLE future (id int);")
    with connect(database_url) as conn:
        Migrator(conn, name, [*shipped, extra]).migrate()
        with pytest.raises(MigrationError, match="does not ship"):
            Migrator(conn, name, shipped).migrate()


def test_a_failing_migration_rolls_back_and_says_which(database_url: str) -> None:
    name = fresh_schema()
    broken = Migration(9998, "9998_broken.sql", "CREATE TABLE ok (id int); SELECT nonsense_fn();")
    with connect(database_url) as conn:
        with pytest.raises(MigrationError, match=r"9998_broken\.sql"):
            Migrator(conn, name, [*load_migrations(), broken]).migrate()
        status = Migrator(conn, name).status()
        exists = conn.execute("SELECT to_regclass(%s)", (f"{name}.ok",)).fetchone()
    assert status.pending == []  # the shipped ones landed, each in its own transaction
    assert exists == (None,)


def test_migrator_needs_autocommit(database_url: str) -> None:
    with (
        connect(database_url, autocommit=False) as conn,
        pytest.raises(ValueError, match="autocommit"),
    ):
        Migrator(conn, fresh_schema())
