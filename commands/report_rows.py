"""Turning a TDX report's rows into ticket observations (pure).

A report row is kept as TDX sent it; its fingerprint (a hash of its canonical JSON) tells
whether the ticket changed since the last poll. Rows whose ticket id cannot be read are dropped
and recorded, never allowed to break the batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from tdxq.eventlog.events import DroppedRow
from tdxq.eventlog.sanitize import SanitizeReport, sanitize

TICKET_ID_COLUMN = "TicketID"
INT32_MAX = 2**31 - 1


class MissingTicketIdColumn(ValueError):
    """The report has no TicketID column, so its rows cannot be tied to tickets."""

    def __init__(self, report_id: int, columns: Sequence[str]) -> None:
        found = ", ".join(columns) if columns else "(none)"
        super().__init__(
            f"report {report_id} has no {TICKET_ID_COLUMN!r} column; columns found: {found}. "
            "Add the Ticket ID column to the report in TDX."
        )


@dataclass(frozen=True, slots=True)
class ReportRow:
    ticket_id: int
    row: dict[str, Any]
    fingerprint: str


@dataclass(frozen=True, slots=True)
class ParsedReport:
    report_id: int
    columns: list[str]
    rows: list[ReportRow]
    dropped: list[DroppedRow] = field(default_factory=list)

    @property
    def ticket_ids(self) -> list[int]:
        return [r.ticket_id for r in self.rows]


def canonical_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row as it will be stored: sanitized for jsonb."""
    cleaned: dict[str, Any] = sanitize(dict(row), SanitizeReport())
    return cleaned


def fingerprint(row: Mapping[str, Any], volatile: Collection[str] = ()) -> str:
    """A hash of the row's canonical JSON, leaving out ``volatile`` columns."""
    kept = {k: v for k, v in canonical_row(row).items() if k not in volatile}
    encoded = orjson.dumps(kept, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(encoded).hexdigest()[:32]


def ids_digest(ticket_ids: Iterable[int]) -> str:
    joined = ",".join(str(i) for i in sorted(ticket_ids))
    return hashlib.sha256(joined.encode()).hexdigest()[:32]


def coerce_ticket_id(value: Any) -> int | None:
    """TDX sends ids as numbers; exports and custom reports sometimes as text or floats."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        return None
    return number if 0 < number <= INT32_MAX else None


def report_columns(displayed: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Column names from the report definition, else from the rows themselves."""
    if displayed:
        return list(displayed)
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(str(key), None)
    return list(seen)


def parse_rows(
    report_id: int,
    displayed_columns: Sequence[str],
    rows: Sequence[Any],
    volatile: Collection[str] = (),
) -> ParsedReport:
    columns = report_columns(displayed_columns, [r for r in rows if isinstance(r, Mapping)])
    if TICKET_ID_COLUMN not in columns:
        raise MissingTicketIdColumn(report_id, columns)
    parsed: list[ReportRow] = []
    dropped: list[DroppedRow] = []
    seen: set[int] = set()
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            dropped.append(DroppedRow(index=index, reason="row is not an object"))
            continue
        raw = row.get(TICKET_ID_COLUMN)
        ticket_id = coerce_ticket_id(raw)
        if ticket_id is None:
            shown = None if raw is None else str(raw)[:100]
            dropped.append(
                DroppedRow(index=index, reason="TicketID is not a ticket id", value=shown)
            )
            continue
        if ticket_id in seen:
            dropped.append(
                DroppedRow(index=index, reason="duplicate TicketID", value=str(ticket_id))
            )
            continue
        seen.add(ticket_id)
        parsed.append(ReportRow(ticket_id, canonical_row(row), fingerprint(row, volatile)))
    return ParsedReport(report_id, columns, parsed, dropped)
