"""Comparing a projection's live table with its rebuilt shadow, row for row.

Rows are compared whole (every column), as multisets of row hashes, so the comparison needs no
key and works for any projection table; when they differ, a few differing rows of each side
(EXCEPT ALL) are kept as samples.
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


def _tally(conn: Conn, live: sql.Identifier, shadow: sql.Identifier) -> tuple[int, int, int, int]:
    """(live rows, shadow rows, rows only in live, rows only in shadow), in one pass over each
    table: rows are compared by the md5 of their text form, as multisets."""
    query = sql.SQL(
        "WITH u AS (SELECT md5(l::text) AS h, 1 AS w FROM {live} l"
        "           UNION ALL SELECT md5(s::text), -1 FROM {shadow} s),"
        " g AS (SELECT sum(w) AS d, count(*) FILTER (WHERE w = 1) AS nl,"
        "              count(*) FILTER (WHERE w = -1) AS ns FROM u GROUP BY h)"
        " SELECT coalesce(sum(nl), 0), coalesce(sum(ns), 0),"
        "        coalesce(sum(d) FILTER (WHERE d > 0), 0),"
        "        coalesce(-sum(d) FILTER (WHERE d < 0), 0)"
        " FROM g"
    ).format(live=live, shadow=shadow)
    row = conn.execute(query).fetchone()
    assert row is not None  # an aggregate always returns a row
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def _samples(
    conn: Conn, left: sql.Identifier, right: sql.Identifier, limit: int
) -> list[dict[str, Any]]:
    query = sql.SQL(
        "SELECT to_jsonb(d) FROM (SELECT * FROM {left} EXCEPT ALL SELECT * FROM {right}) d LIMIT %s"
    ).format(left=left, right=right)
    return [r[0] for r in conn.execute(query, (limit,)).fetchall()]


def _columns(conn: Conn, table: sql.Identifier) -> list[str]:
    cur = conn.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(table))
    return [c.name for c in cur.description or []]


def _in_column_order(rows: list[dict[str, Any]], columns: list[str]) -> list[dict[str, Any]]:
    return [{c: row.get(c) for c in columns} for row in rows]


def compare_tables(
    conn: Conn, name: str, live: sql.Identifier, shadow: sql.Identifier, samples: int = SAMPLE_ROWS
) -> TableDiff:
    columns = _columns(conn, live)
    live_rows, shadow_rows, only_live, only_shadow = _tally(conn, live, shadow)
    live_samples = _samples(conn, live, shadow, samples) if only_live else []
    shadow_samples = _samples(conn, shadow, live, samples) if only_shadow else []
    return TableDiff(
        table=name,
        columns=columns,
        live_rows=live_rows,
        shadow_rows=shadow_rows,
        only_in_live=only_live,
        only_in_shadow=only_shadow,
        live_samples=_in_column_order(live_samples, columns),
        shadow_samples=_in_column_order(shadow_samples, columns),
    )
