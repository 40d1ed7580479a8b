"""Importing the seed daemon's action log as events, so what the seed did is not done again.

Matching. Every configured action of every pipeline has a legacy id: the id the seed gave the
same step (``ActionBase.legacy_id``, seed-system.md). The seed hashed ``has_database`` (whether
it had a lookup database) into add_asset's and add_lab's ids, a fact of the seed's deployment
that tdxq's options cannot know, so both values are accepted (``legacy_candidates``).

What each row becomes, on the ticket's stream ``ticket:{id}``:

- a **completed** row whose legacy id matches a configured action: ``action_completed`` with
  ``imported=True``, ``attempt=0`` under the **configured (new) action id**, the seed's row kept in
  ``details["legacy"]``. The action is then done and never runs again; its summary is empty, so
  no summary comment re-posts what the seed already posted.
- every other row is **history** under its **legacy id**, which no pipeline step ever looks at:
  completed → ``action_completed`` (imported); skipped → ``action_skipped``; failed →
  ``action_started`` + ``action_failed`` (attempt 1, not retryable, worker ``SEED_WORKER``),
  the pair the seed's own attempt would have produced. A matched row that is failed or skipped is
  history too: the seed retried such actions, so tdxq runs them.

Every imported event carries the row in ``metadata["legacy"]``. Event ids are uuid5 of the
row's ``log_id``, the event type and the target action id, so a second import appends nothing:
rows already imported are recognised by their event ids before anything is appended. A row is
checked against the ticket's folded state with the state machine itself; a row it refuses (for
instance a completion for an action tdxq is running right now) is reported, not forced.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final
from uuid import UUID, uuid4, uuid5

from tdxq.actions.base import ActionBase
from tdxq.actions.config import Config
from tdxq.actions.identity import legacy_action_id
from tdxq.eventlog import (
    DomainEvent,
    EventStore,
    Metadata,
    StreamAppend,
    StreamState,
    WrongExpectedVersion,
    process_metadata,
    to_new_event,
)
from tdxq.eventlog.events import (
    ActionCompleted,
    ActionFailed,
    ActionSkipped,
    ActionStarted,
    RunFinished,
    RunStarted,
    run_stream,
    ticket_stream,
)
from tdxq.projectors.action_state import ActionStatus
from tdxq.projectors.ticket_state import FoldError, TicketState, apply, fold
from tdxq.projectors.timeline import LEGACY_METADATA_KEY
from tdxq.projectors.transitions import IllegalTransition

from .audit_queries import read_ticket_streams
from .legacy_table import LegacyRow

# Fixed forever: event ids of imported rows derive from it, which is what makes re-imports no-ops.
LEGACY_NAMESPACE: Final = UUID("6f3b1c2e-7d4a-5b8e-9c1f-2a3d4e5f6071")
SEED_WORKER: Final = "seed daemon (imported)"
SEED_FAILURE: Final = "SeedFailure"
IMPORT_ACTOR: Final = "tdxq import-legacy"
IMPORT_MODE: Final = "import-legacy"
KNOWN_STATUSES: Final = ("completed", "failed", "skipped")
APPEND_STREAMS: Final = 200  # ticket streams per append
MAX_TRIES: Final = 5
_NO_TIME: Final = datetime(1970, 1, 1, tzinfo=UTC)


# --- matching ----------------------------------------------------------------------------------


def legacy_candidates(action: ActionBase[Any]) -> list[str]:
    """The legacy ids the seed may have given this step (none for a type the seed lacked)."""
    primary = action.legacy_id
    if primary is None:
        return []
    fields = action.legacy_fields()
    candidates = [primary]
    if "has_database" in fields:
        flipped = {**fields, "has_database": not fields["has_database"]}
        candidates.append(legacy_action_id(action.TYPE, flipped, action.version))
    return candidates


@dataclass(frozen=True, slots=True)
class LegacyIndex:
    """Legacy id → the configured action ids it stands for (usually exactly one)."""

    targets: Mapping[str, tuple[str, ...]]
    types: Mapping[str, str]  # configured action id → type


def legacy_index(config: Config) -> LegacyIndex:
    targets: dict[str, list[str]] = defaultdict(list)
    types: dict[str, str] = {}
    for action in config.all_actions():
        types[action.action_id] = action.TYPE
        for legacy_id in legacy_candidates(action):
            if action.action_id not in targets[legacy_id]:
                targets[legacy_id].append(action.action_id)
    return LegacyIndex({k: tuple(v) for k, v in targets.items()}, types)


def legacy_id_map(config: Config) -> dict[str, str]:
    """Legacy id → the first configured action id it matches (for ``audit why``)."""
    return {legacy: ids[0] for legacy, ids in legacy_index(config).targets.items()}


# --- planning (pure) ---------------------------------------------------------------------------


class Disposition(StrEnum):
    IMPORTED_AS_DONE = "imported_as_done"
    IMPORTED_AS_HISTORY = "imported_as_history"
    ALREADY_IMPORTED = "already_imported"
    ALREADY_DONE = "already_done"  # tdxq (or an earlier row) completed the action already
    RUNNING = "running"  # running in tdxq right now: import again later
    CONFLICT = "conflict"  # the state machine refused the row's events
    UNUSABLE = "unusable"  # no action id, or a status the seed never wrote

    @property
    def appends(self) -> bool:
        return self in (Disposition.IMPORTED_AS_DONE, Disposition.IMPORTED_AS_HISTORY)


@dataclass(frozen=True, slots=True)
class PlannedEvent:
    event_id: UUID
    event: DomainEvent
    causation_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class RowOutcome:
    row: LegacyRow
    disposition: Disposition
    target_id: str | None  # the action id its events are recorded under
    matched: tuple[str, ...]  # configured action ids its legacy id stands for
    note: str = ""
    events: tuple[PlannedEvent, ...] = ()


def event_id_for(row: LegacyRow, event_type: str, target_id: str) -> UUID:
    return uuid5(LEGACY_NAMESPACE, f"{row.log_id}/{event_type}/{target_id}")


def plan_ticket(
    state: TicketState,
    rows: Sequence[LegacyRow],
    index: LegacyIndex,
    recorded_ids: frozenset[UUID],
) -> list[RowOutcome]:
    """What each of one ticket's rows becomes, given the ticket's folded state."""
    outcomes: list[RowOutcome] = []
    for row in rows:
        if not row.action_id or row.status not in KNOWN_STATUSES:
            why = "no action_id" if not row.action_id else f"unknown status {row.status!r}"
            outcomes.append(RowOutcome(row, Disposition.UNUSABLE, None, (), why))
            continue
        matched = index.targets.get(row.action_id, ())
        if row.status == "completed" and matched:
            for target in matched:
                outcome, state = _as_done(state, row, target, matched, index, recorded_ids)
                outcomes.append(outcome)
            continue
        outcome, state = _as_history(state, row, matched, recorded_ids)
        outcomes.append(outcome)
    return outcomes


def _as_done(
    state: TicketState,
    row: LegacyRow,
    target: str,
    matched: tuple[str, ...],
    index: LegacyIndex,
    recorded_ids: frozenset[UUID],
) -> tuple[RowOutcome, TicketState]:
    event_id = event_id_for(row, ActionCompleted.TYPE, target)
    if event_id in recorded_ids:
        return RowOutcome(row, Disposition.ALREADY_IMPORTED, target, matched), state
    current = state.action(target)
    if current.status is ActionStatus.DONE:
        note = "imported" if current.imported else "completed by tdxq"
        return RowOutcome(row, Disposition.ALREADY_DONE, target, matched, note), state
    if current.status is ActionStatus.RUNNING:
        note = f"attempt {current.attempts} is running (worker {current.worker})"
        return RowOutcome(row, Disposition.RUNNING, target, matched, note), state
    completed = ActionCompleted(
        action_id=target,
        action_type=index.types.get(target, row.action_type or target.split(":", 1)[0]),
        attempt=0,
        summary=None,
        details={"legacy": row.as_details()},
        imported=True,
    )
    return _try(state, row, target, matched, Disposition.IMPORTED_AS_DONE, [(event_id, completed)])


def _as_history(
    state: TicketState, row: LegacyRow, matched: tuple[str, ...], recorded_ids: frozenset[UUID]
) -> tuple[RowOutcome, TicketState]:
    target = str(row.action_id)
    action_type = row.action_type or target.split(":", 1)[0]
    events: list[tuple[UUID, DomainEvent]]
    if row.status == "completed":
        events = [
            (
                event_id_for(row, ActionCompleted.TYPE, target),
                ActionCompleted(
                    action_id=target,
                    action_type=action_type,
                    attempt=0,
                    details={"legacy": row.as_details()},
                    imported=True,
                ),
            )
        ]
    elif row.status == "skipped":
        events = [
            (
                event_id_for(row, ActionSkipped.TYPE, target),
                ActionSkipped(
                    action_id=target,
                    action_type=action_type,
                    reason="the seed daemon recorded this action as skipped (imported)",
                ),
            )
        ]
    else:
        attempt = state.action(target).attempts + 1
        events = [
            (
                event_id_for(row, ActionStarted.TYPE, target),
                ActionStarted(
                    action_id=target,
                    action_type=action_type,
                    attempt=attempt,
                    lease_expires_at=row.executed_at or _NO_TIME,
                    worker=SEED_WORKER,
                ),
            ),
            (
                event_id_for(row, ActionFailed.TYPE, target),
                ActionFailed(
                    action_id=target,
                    action_type=action_type,
                    attempt=attempt,
                    error=row.error_message or "(the seed recorded no message)",
                    error_type=SEED_FAILURE,
                    retryable=False,
                ),
            ),
        ]
    if all(event_id in recorded_ids for event_id, _ in events):
        return RowOutcome(row, Disposition.ALREADY_IMPORTED, target, matched), state
    note = "the seed retried failed actions: tdxq runs this one" if matched else ""
    return _try(state, row, target, matched, Disposition.IMPORTED_AS_HISTORY, events, note)


def _try(
    state: TicketState,
    row: LegacyRow,
    target: str,
    matched: tuple[str, ...],
    disposition: Disposition,
    events: Sequence[tuple[UUID, DomainEvent]],
    note: str = "",
) -> tuple[RowOutcome, TicketState]:
    """The outcome if the state machine accepts ``events`` on ``state``; a conflict if not."""
    after = state
    try:
        for _, event in events:
            after = apply(after, event, strict=True)
    except (IllegalTransition, FoldError) as exc:
        return RowOutcome(row, Disposition.CONFLICT, target, matched, str(exc)), state
    planned: list[PlannedEvent] = []
    for event_id, event in events:
        cause = planned[-1].event_id if planned else None  # a failure follows its start
        planned.append(PlannedEvent(event_id, event, cause))
    return RowOutcome(row, disposition, target, matched, note, tuple(planned)), after


# --- the whole import --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MappingLine:
    """One legacy id: what it maps to and what became of its rows."""

    legacy_id: str
    action_type: str | None
    maps_to: tuple[str, ...]
    rows_by_status: dict[str, int]
    outcomes: dict[str, int]


@dataclass(slots=True)
class ImportReport:
    table: str
    source: str  # the DSN with its password masked
    dry_run: bool
    rows_read: int
    outcomes: list[RowOutcome] = field(default_factory=list)
    events_appended: int = 0
    run_id: UUID | None = None

    def counts(self) -> dict[str, int]:
        counted = Counter(o.disposition.value for o in self.outcomes)
        return {d.value: counted.get(d.value, 0) for d in Disposition}

    def events_planned(self) -> int:
        return sum(len(o.events) for o in self.outcomes if o.disposition.appends)

    def mapping(self) -> list[MappingLine]:
        by_id: dict[str, list[RowOutcome]] = defaultdict(list)
        for outcome in self.outcomes:
            by_id[outcome.row.action_id or "(none)"].append(outcome)
        lines = []
        for legacy_id, outcomes in sorted(by_id.items()):
            rows = {o.row.log_id: o.row for o in outcomes}.values()
            lines.append(
                MappingLine(
                    legacy_id=legacy_id,
                    action_type=outcomes[0].row.action_type,
                    maps_to=outcomes[0].matched,
                    rows_by_status=dict(Counter(str(r.status) for r in rows)),
                    outcomes=dict(Counter(o.disposition.value for o in outcomes)),
                )
            )
        return lines


MetadataFactory = Callable[[UUID], Metadata]


def import_rows(
    store: EventStore,
    rows: Sequence[LegacyRow],
    config: Config,
    *,
    table: str,
    source: str,
    dry_run: bool = False,
    metadata: MetadataFactory | None = None,
) -> ImportReport:
    """Plan the import of ``rows`` and, unless ``dry_run``, append it (see the module doc).

    The import is recorded as a run (``run_started`` / ``run_finished``, mode ``import-legacy``)
    whose id is the correlation id of every imported event; nothing at all is appended when
    there is nothing new to import.
    """
    started = time.monotonic()
    index = legacy_index(config)
    by_ticket: dict[int, list[LegacyRow]] = defaultdict(list)
    for row in rows:
        by_ticket[row.ticket_id].append(row)
    report = ImportReport(table=table, source=source, dry_run=dry_run, rows_read=len(rows))
    plans = dict(_plan_tickets(store, by_ticket, index))
    if dry_run or not any(o.disposition.appends for p in plans.values() for o in p.outcomes):
        report.outcomes = [o for p in plans.values() for o in p.outcomes]
        return report
    run_id = uuid4()
    meta = (metadata or _default_metadata)(run_id)
    _append_run(store, run_id, StreamState.NO_STREAM, _run_started(run_id, config), meta)
    report.run_id = run_id
    try:
        tickets = sorted(plans)
        for start in range(0, len(tickets), APPEND_STREAMS):
            chunk = {t: plans[t] for t in tickets[start : start + APPEND_STREAMS]}
            appended, final = _append_chunk(store, chunk, by_ticket, index, meta, table)
            report.events_appended += appended
            plans.update(final)
    finally:
        report.outcomes = [o for p in plans.values() for o in p.outcomes]
        finished = RunFinished(
            run_id=run_id,
            stats={"rows_read": len(rows), **report.counts(), "events": report.events_appended},
            duration_ms=(time.monotonic() - started) * 1000,
        )
        _append_run(store, run_id, 1, finished, meta)
    return report


@dataclass(frozen=True, slots=True)
class _TicketPlan:
    version: int
    outcomes: list[RowOutcome]


def _plan_tickets(
    store: EventStore, by_ticket: Mapping[int, Sequence[LegacyRow]], index: LegacyIndex
) -> Iterable[tuple[int, _TicketPlan]]:
    for ticket_id, events in read_ticket_streams(store, by_ticket):
        state = fold(ticket_id, events, strict=False)
        recorded = frozenset(e.event_id for e in events)
        outcomes = plan_ticket(state, by_ticket[ticket_id], index, recorded)
        yield ticket_id, _TicketPlan(state.version, outcomes)


def _append_chunk(
    store: EventStore,
    chunk: dict[int, _TicketPlan],
    by_ticket: Mapping[int, Sequence[LegacyRow]],
    index: LegacyIndex,
    metadata: Metadata,
    table: str,
) -> tuple[int, dict[int, _TicketPlan]]:
    """Append one chunk's events atomically; a stream that moved meanwhile is planned again."""
    for _ in range(MAX_TRIES):
        appends = [
            StreamAppend(ticket_stream(t), plan.version, events)
            for t, plan in chunk.items()
            if (events := _new_events(plan.outcomes, metadata, table))
        ]
        try:
            appended = store.append(appends)
        except WrongExpectedVersion:
            chunk = dict(_plan_tickets(store, {t: by_ticket[t] for t in chunk}, index))
            continue
        return len(appended), chunk
    raise RuntimeError(f"gave up after {MAX_TRIES} tries: the ticket streams keep moving")


def _new_events(outcomes: Sequence[RowOutcome], metadata: Metadata, table: str) -> list[Any]:
    events = []
    for outcome in outcomes:
        if not outcome.disposition.appends:
            continue
        legacy = {"table": table, **outcome.row.as_details()}
        for planned in outcome.events:
            meta = metadata.model_copy(update={"causation_id": planned.causation_id})
            body = {**meta.model_dump(mode="json", exclude_none=True), LEGACY_METADATA_KEY: legacy}
            events.append(to_new_event(planned.event, body, event_id=planned.event_id))
    return events


def _run_started(run_id: UUID, config: Config) -> RunStarted:
    return RunStarted(
        run_id=run_id,
        mode=IMPORT_MODE,
        action_ids=[a.action_id for a in config.all_actions()],
        config_digest=config.digest(),
    )


def _append_run(
    store: EventStore,
    run_id: UUID,
    expected: int | StreamState,
    event: DomainEvent,
    metadata: Metadata,
) -> None:
    store.append([StreamAppend(run_stream(run_id), expected, [to_new_event(event, metadata)])])


def _default_metadata(run_id: UUID) -> Metadata:
    return process_metadata(correlation_id=run_id, actor=IMPORT_ACTOR)
