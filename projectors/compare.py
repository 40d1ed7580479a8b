"""Comparing a projection's live table with its rebuilt shadow, row for row.

Rows are compared whole (every column, EXCEPT ALL both ways), so the comparison needs no key
and works for any projection table; a few differing rows of each side are kept as samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from .projector import Conn

SAMPLE_ROWS = 5


@dataclass(frozen=True, slots=True)
class ChangedRow:
    """A row present on both sides (same first column) with different values."""

    key_column: str
    key: Any
    columns: dict[str, tuple[Any, Any]]  # column -> (live value, rebuilt value)

    def as_json(self) -> dict[str, Any]:
        return {
            "key": {self.key_column: self.key},
            "columns": {c: {"live": lv, "rebuilt": rv} for c, (lv, rv) in self.columns.items()},
        }


@dataclass(frozen=True, slots=True)
class TableDiff:
    table: str
    columns: list[str]
    live_rows: int
    shadow_rows: int
    only_in_live: int  # live rows with no identical shadow row
    only_in_shadow: int
    live_samples: list[dict[str, Any]] = field(default_factory=list)
    shadow_samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.only_in_live == 0 and self.only_in_shadow == 0

    def paired_samples(
        self,
    ) -> tuple[list[ChangedRow], list[dict[str, Any]], list[dict[str, Any]]]:
        """Samples paired by their first column (a projection table's row identity): rows that
        changed, column by column; then the unpaired live and rebuilt samples."""
        if not self.live_samples or not self.shadow_samples:
            return [], self.live_samples, self.shadow_samples
        key_column = self.columns[0]
        rebuilt = {row.get(key_column): row for row in self.shadow_samples}
        changed: list[ChangedRow] = []
        only_live: list[dict[str, Any]] = []
        for row in self.live_samples:
            other = rebuilt.pop(row.get(key_column), None)
            if other is None:
                only_live.append(row)
                continue
            columns = {
                c: (row.get(c), other.get(c)) for c in self.columns if row.get(c) != other.get(c)
            }
            changed.append(ChangedRow(key_column, row.get(key_column), columns))
        return changed, only_live, list(rebuilt.values())

    def as_json(self) -> dict[str, Any]:
        changed, _, _ = self.paired_samples()
        return {
            "table": self.table,
            "identical": self.identical,
            "live_rows": self.live_rows,
            "shadow_rows": self.shadow_rows,
            "only_in_live": self.only_in_live,
            "only_in_shadow": self.only_in_shadow,
            "live_samples": self.live_samples,
            "shadow_samples": self.shadow_samples,
            "changed_samples": [c.as_json() for c in changed],
        }


def _count(conn: Conn, table: sql.Identifier) -> int:
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()
    return int(row[0]) if row else 0


def _one_way(
    conn: Conn, left: sql.Identifier, right: sql.Identifier, samples: int
) -> tuple[int, list[dict[str, Any]]]:
    query = sql.SQL(
        "WITH d AS (SELECT * FROM {left} EXCEPT ALL SELECT * FROM {right})"
        " SELECT (SELECT count(*) FROM d),"
        "        (SELECT coalesce(jsonb_agg(s.r), '[]'::jsonb)"
        "           FROM (SELECT to_jsonb(d) AS r FROM d LIMIT %s) s)"
    ).format(left=left, right=right)
    row = conn.execute(query, (samples,)).fetchone()
    assert row is not None  # an aggregate always returns a row
    return int(row[0]), list(row[1])


def _columns(conn: Conn, table: sql.Identifier) -> list[str]:
    cur = conn.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(table))
    return [c.name for c in cur.description or []]


def _in_column_order(rows: list[dict[str, Any]], columns: list[str]) -> list[dict[str, Any]]:
    return [{c: row.get(c) for c in columns} for row in rows]


def compare_tables(
    conn: Conn, name: str, live: sql.Identifier, shadow: sql.Identifier, samples: int = SAMPLE_ROWS
) -> TableDiff:
    columns = _columns(conn, live)
    only_live, live_samples = _one_way(conn, live, shadow, samples)
    only_shadow, shadow_samples = _one_way(conn, shadow, live, samples)
    return TableDiff(
        table=name,
        columns=columns,
        live_rows=_count(conn, live),
        shadow_rows=_count(conn, shadow),
        only_in_live=only_live,
        only_in_shadow=only_shadow,
        live_samples=_in_column_order(live_samples, columns),
        shadow_samples=_in_column_order(shadow_samples, columns),
    )
