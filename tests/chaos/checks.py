"""What must hold after any scenario, checked from the event log and the sandbox's write log.

1. Every configured action on every ticket of the report is completed, or failed for good with
   a reason, or skipped with a reason (and the summary step has nothing new to post).
2. No effect happened twice in TDX: the same method and path applied twice is a duplicate;
   feed posts (one path per ticket) are told apart by their ``[tdxq:…]`` marker.
3. No stream has a gap in its versions, and the fold rejected no event (no illegal history).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from psycopg import sql

from tdxq.actions.config import Config
from tdxq.actions.decide import decide
from tdxq.actions.feed import markers_in
from tdxq.commands.process import pipeline_steps
from tdxq.eventlog import EventStore
from tdxq.projectors.action_state import ActionStatus
from tdxq.projectors.ticket_state import TicketState

GAPS_QUERY = """
SELECT stream, count(*), min(version), max(version)
  FROM {events}
 GROUP BY stream
HAVING min(version) <> 1 OR max(version) <> count(*)
"""


@dataclass
class Checks:
    tickets: int
    completed: int = 0
    reconciled: int = 0
    failed: int = 0
    skipped: int = 0
    takeovers: int = 0
    """Attempts started on an action whose previous attempt was left running (lease expired)."""
    failures: list[str] = field(default_factory=list)
    """Actions failed for good, with their reasons (allowed; shown in the figures)."""
    unsettled: list[str] = field(default_factory=list)
    reasonless: list[str] = field(default_factory=list)
    writes_applied: int = 0
    duplicates: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.unsettled or self.reasonless or self.duplicates or self.gaps or self.anomalies
        )

    def problems(self) -> str:
        parts = [
            ("unsettled", self.unsettled),
            ("without a reason", self.reasonless),
            ("duplicate effects", self.duplicates),
            ("version gaps", self.gaps),
            ("rejected events", self.anomalies),
        ]
        return "; ".join(f"{name}: {items[:10]}" for name, items in parts if items) or "none"


def write_key(write: Mapping[str, Any]) -> str:
    """What makes two applied writes the same effect."""
    method, path = str(write["method"]), str(write["path"])
    if method == "POST" and path.endswith("/feed"):
        body = orjson.dumps(write.get("body")).decode()
        markers = sorted(markers_in(body))
        return f"{method} {path} {','.join(markers) or body}"
    return f"{method} {path}"


def duplicate_effects(writes: Sequence[Mapping[str, Any]]) -> tuple[int, list[str]]:
    """(writes that took effect, keys applied more than once)."""
    applied = [w for w in writes if w.get("effect") is not None]
    counts = Counter(write_key(w) for w in applied)
    return len(applied), sorted(key for key, n in counts.items() if n > 1)


def version_gaps(store: EventStore) -> list[str]:
    query = sql.SQL(GAPS_QUERY).format(events=sql.Identifier(store.schema, "events"))
    rows = store.connection.execute(query).fetchall()
    return [f"{stream}: {n} events, versions {lo}..{hi}" for stream, n, lo, hi in rows]


def check_world(
    store: EventStore,
    states: Mapping[int, TicketState],
    config: Config,
    report_id: int,
    writes: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
) -> Checks:
    steps = pipeline_steps(config.pipeline_for(report_id))
    checks = Checks(tickets=len(states))
    for ticket_id, state in sorted(states.items()):
        decision = decide(state, steps, now, config.retry, report_id=report_id)
        for due in decision.due:
            checks.unsettled.append(f"{ticket_id}/{due.instance_id}: due ({due.because})")
        for not_due in decision.not_due:
            if not not_due.settled:
                checks.unsettled.append(f"{ticket_id}/{not_due.instance_id}: {not_due.reason}")
        for anomaly in state.anomalies:
            checks.anomalies.append(f"{ticket_id} v{anomaly.version}: {anomaly.message}")
        for action in state.actions.values():
            _count(checks, ticket_id, action)
    checks.takeovers = _takeovers(store)
    checks.writes_applied, checks.duplicates = duplicate_effects(writes)
    checks.gaps = version_gaps(store)
    return checks


def _count(checks: Checks, ticket_id: int, action: Any) -> None:
    status = action.status
    where = f"{ticket_id}/{action.action_id}"
    if status is ActionStatus.DONE:
        checks.completed += 1
        checks.reconciled += int(action.reconciled)
    elif status is ActionStatus.FAILED:
        checks.failed += 1
        checks.failures.append(f"{where}: {action.last_error_type}: {action.last_error}")
        if not (action.last_error or "").strip():
            checks.reasonless.append(f"{where}: failed without an error")
    elif status is ActionStatus.SKIPPED:
        checks.skipped += 1
        if not (action.skip_reason or "").strip():
            checks.reasonless.append(f"{where}: skipped without a reason")
    else:
        checks.unsettled.append(f"{where}: {status.value}")


def _takeovers(store: EventStore) -> int:
    """Starts that followed a start of the same action with no outcome in between."""
    query = sql.SQL(
        """
        SELECT count(*) FROM (
            SELECT type, lag(type) OVER (PARTITION BY stream, data->>'action_id'
                                         ORDER BY version) AS before
              FROM {events}
             WHERE type IN ('action_started', 'action_completed', 'action_failed',
                            'action_skipped')
        ) s
        WHERE type = 'action_started' AND before = 'action_started'
        """
    ).format(events=sql.Identifier(store.schema, "events"))
    row = store.connection.execute(query).fetchone()
    return int(row[0]) if row else 0
