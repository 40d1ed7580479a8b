"""Shadow copies of a projection's tables, and swapping them in.

A shadow table is ``CREATE TABLE … (LIKE live INCLUDING ALL)`` with the live table's grants, so
it has the same columns, defaults, constraints and indexes. The swap renames tables inside the
caller's transaction: nobody ever sees a half-swapped projection. Views keep their identity (and
their grants): every view that reads a live table directly is re-pointed with CREATE OR REPLACE
from its own definition; views over those views need nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import pq, sql

from .checkpoints import delete_checkpoint, set_checkpoint
from .projector import SHADOW_SUFFIX, Conn, Projector

OLD_SUFFIX = "__old"


class SwapError(Exception):
    """The shadow cannot replace the live tables (something else depends on them)."""


# A table as a regclass, from its schema and name as two parameters.
_REGCLASS = "(quote_ident(%s) || '.' || quote_ident(%s))::regclass"


def shadow_checkpoint_name(projector: Projector) -> str:
    return projector.name + SHADOW_SUFFIX


def _ident(schema: str, table: str) -> sql.Identifier:
    return sql.Identifier(schema, table)


def drop_shadow(conn: Conn, schema: str, projector: Projector) -> None:
    """Drop shadow tables and their checkpoint (leftovers of an interrupted rebuild included)."""
    with conn.transaction():
        for table in projector.tables:
            conn.execute(
                sql.SQL("DROP TABLE IF EXISTS {}").format(_ident(schema, table + SHADOW_SUFFIX))
            )
        delete_checkpoint(conn, schema, shadow_checkpoint_name(projector))


def create_shadow(conn: Conn, schema: str, projector: Projector) -> None:
    """Fresh, empty shadow tables shaped like the live ones, with a checkpoint at 0."""
    drop_shadow(conn, schema, projector)
    with conn.transaction():
        for table in projector.tables:
            live = _ident(schema, table)
            shadow = _ident(schema, table + SHADOW_SUFFIX)
            conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(shadow, live))
            _copy_grants(conn, schema, table, shadow)
        set_checkpoint(conn, schema, shadow_checkpoint_name(projector), 0)


def _copy_grants(conn: Conn, schema: str, table: str, target: sql.Identifier) -> None:
    rows = conn.execute(
        "SELECT r.rolname, a.privilege_type, a.is_grantable"
        "  FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a"
        "  LEFT JOIN pg_roles r ON r.oid = a.grantee"
        " WHERE c.oid = " + _REGCLASS + " AND a.grantee <> c.relowner",
        (schema, table),
    ).fetchall()
    for role, privilege, grantable in rows:
        grantee = sql.SQL("PUBLIC") if role is None else sql.Identifier(role)
        option = sql.SQL(" WITH GRANT OPTION") if grantable else sql.SQL("")
        conn.execute(
            sql.SQL("GRANT {} ON {} TO {}{}").format(sql.SQL(privilege), target, grantee, option)
        )


@dataclass(frozen=True, slots=True)
class DependentView:
    schema: str
    name: str
    definition: str
    options: list[str] | None


def dependent_views(conn: Conn, schema: str, table: str) -> list[DependentView]:
    """Views reading ``table`` directly, with definitions as seen from ``schema``'s search path."""
    rows: list[tuple[Any, ...]] = conn.execute(
        "SELECT DISTINCT n.nspname, v.relname, v.relkind, pg_get_viewdef(v.oid), v.reloptions"
        "  FROM pg_depend d"
        "  JOIN pg_rewrite w ON w.oid = d.objid"
        "  JOIN pg_class v ON v.oid = w.ev_class"
        "  JOIN pg_namespace n ON n.oid = v.relnamespace"
        " WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass"
        "   AND d.refobjid = " + _REGCLASS + " AND v.oid <> d.refobjid",
        (schema, table),
    ).fetchall()
    views: list[DependentView] = []
    for view_schema, name, kind, definition, options in rows:
        if kind != "v":
            raise SwapError(
                f"{view_schema}.{name} (a materialized view) depends on {schema}.{table}; "
                "drop it before the rebuild and create it again after"
            )
        views.append(DependentView(view_schema, name, definition, options))
    return views


def swap_in(
    conn: Conn, schema: str, projector: Projector, position: int, lock_timeout_s: float = 10.0
) -> None:
    """Replace the live tables by the shadow ones and set the live checkpoint to ``position``.

    Must run inside the caller's transaction (which should hold the live checkpoint's lock);
    the renames take ACCESS EXCLUSIVE locks, so readers wait for the commit, never see a gap.
    A reader that holds the live table longer than ``lock_timeout_s`` makes the swap fail
    (SwapError) rather than stall every other reader queued behind the swap.
    """
    if conn.info.transaction_status is not pq.TransactionStatus.INTRANS:
        raise RuntimeError("swap_in must run inside a transaction")
    conn.execute(
        sql.SQL("SET LOCAL lock_timeout = {}").format(
            sql.Literal(f"{int(lock_timeout_s * 1000)}ms")
        )
    )
    try:
        _swap_tables(conn, schema, projector)
    except psycopg.errors.LockNotAvailable as exc:
        raise SwapError(
            f"could not lock {projector.name} for the swap within {lock_timeout_s:g}s (a long "
            "transaction is reading it?); the live projection is untouched"
        ) from exc
    set_checkpoint(conn, schema, projector.name, position)
    delete_checkpoint(conn, schema, shadow_checkpoint_name(projector))
    conn.execute("SET LOCAL search_path TO DEFAULT")
    conn.execute("SET LOCAL lock_timeout TO DEFAULT")


def _swap_tables(conn: Conn, schema: str, projector: Projector) -> None:
    # Definitions come back unqualified for names in this schema, so re-creating them after
    # the rename binds them to the new tables.
    conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
    for table in projector.tables:
        views = dependent_views(conn, schema, table)
        old = table + OLD_SUFFIX
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_ident(schema, old)))
        conn.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                _ident(schema, table), sql.Identifier(old)
            )
        )
        conn.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                _ident(schema, table + SHADOW_SUFFIX), sql.Identifier(table)
            )
        )
        for view in views:
            options = (
                sql.SQL(" WITH ({})").format(sql.SQL(", ").join(map(sql.SQL, view.options)))
                if view.options
                else sql.SQL("")
            )
            conn.execute(
                sql.SQL("CREATE OR REPLACE VIEW {}{} AS {}").format(
                    _ident(view.schema, view.name), options, sql.SQL(view.definition)
                )
            )
        try:
            conn.execute(sql.SQL("DROP TABLE {}").format(_ident(schema, old)))
        except psycopg.errors.DependentObjectsStillExist as exc:
            raise SwapError(f"cannot drop the replaced {schema}.{table}: {exc}") from exc
        _restore_index_names(conn, schema, table)


def _restore_index_names(conn: Conn, schema: str, table: str) -> None:
    """``LIKE`` named the shadow's indexes after the shadow; give them the live names back."""
    prefix = table + SHADOW_SUFFIX
    rows = conn.execute(
        "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " WHERE x.indrelid = " + _REGCLASS,
        (schema, table),
    ).fetchall()
    for (name,) in rows:
        if name.startswith(prefix):
            conn.execute(
                sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                    _ident(schema, name), sql.Identifier(table + name[len(prefix) :])
                )
            )
