"""One run of a report: fetch, ingest, process, bring projections up to date, record figures.

A run is recorded as ``run_started`` / ``run_finished`` on its own stream; its id is the
correlation id of every event it appends, so ``audit run`` can follow it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tdxq.actions.context import TicketContext
from tdxq.actions.decide import decide
from tdxq.actions.decision import NotDueReason
from tdxq.actions.reads import TicketReads
from tdxq.eventlog import (
    DomainEvent,
    EventStore,
    StreamAppend,
    StreamState,
    connect,
    process_metadata,
    to_new_event,
    utc_now,
)
from tdxq.eventlog.events import RunFinished, RunStarted, run_stream, ticket_stream
from tdxq.projectors.runner import catch_up_all
from tdxq.projectors.ticket_state import fold_into

from .ingest import IngestResult, fetch_report, ingest_report
from .process import Processor, ProcessSettings
from .runtime import Runtime

ProgressHook = Callable[[int, int], None]  # (done, total)
# Steps that a real run would reach in the same pass, after the due ones.
LATER_REASONS = frozenset({NotDueReason.AFTER_EARLIER_STEPS, NotDueReason.BLOCKED_BY_EARLIER_STEP})


@dataclass(frozen=True, slots=True)
class PlannedAction:
    ticket_id: int
    action_id: str
    instance_id: str
    kind: str
    because: str
    description: str


@dataclass(slots=True)
class RunReport:
    run_id: uuid.UUID
    report_id: int
    dry_run: bool
    ingest: IngestResult
    stats: dict[str, int] = field(default_factory=dict)
    duration_s: float = 0.0
    planned: list[PlannedAction] = field(default_factory=list)
    projections: dict[str, int] = field(default_factory=dict)

    def summary(self, tdx_writes: int | None = None) -> str:
        """One line a person reads: what the run saw and did."""
        f = self.figures()
        outcomes = ("completed", "skipped", "reconciled", "waiting", "failed", "claims_lost")
        done = ", ".join(f"{f[k]} {k.replace('_', ' ')}" for k in outcomes if f.get(k))
        writes = "" if tdx_writes is None else f" · {tdx_writes} TDX writes"
        return (
            f"report {self.report_id}: {f['tickets_on_report']} tickets "
            f"({f['tickets_new']} new, {f['tickets_changed']} changed, {f['tickets_left']} left) · "
            f"{f.get('started', 0)} actions run{': ' + done if done else ''}{writes} · "
            f"{f['duration_s']:.1f} s"
        )

    def figures(self) -> dict[str, Any]:
        plan = self.ingest.plan
        return {
            "run_id": str(self.run_id),
            "report_id": self.report_id,
            "dry_run": self.dry_run,
            "tickets_on_report": len(plan.parsed.rows),
            "tickets_new": len(plan.new),
            "tickets_changed": len(plan.changed),
            "tickets_left": len(plan.left),
            "rows_dropped": len(plan.parsed.dropped),
            **self.stats,
            "duration_s": round(self.duration_s, 3),
        }


def run_report(
    runtime: Runtime,
    report_id: int,
    *,
    dry_run: bool = False,
    progress: ProgressHook | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    settings: ProcessSettings | None = None,
    mode: str = "once",
    workers: int = 4,
) -> RunReport:
    """Fetch, ingest and process one report. Nothing is appended when the report cannot be
    read or has no TicketID column; nothing at all when ``dry_run``."""
    started = time.monotonic()
    run_id = uuid.uuid4()
    config = runtime.config
    pipeline = config.pipeline_for(report_id)
    metadata = process_metadata(correlation_id=run_id, actor=f"tdxq {mode}")
    volatile = config.reports[report_id].volatile_columns
    parsed = fetch_report(runtime.client, report_id, volatile)  # raises before any append
    store = runtime.store
    if not dry_run:
        start_event = RunStarted(
            run_id=run_id,
            report_id=report_id,
            mode=mode,
            dry_run=False,
            action_ids=[a.action_id for a in pipeline],
            config_digest=config.digest(),
        )
        _append_run(runtime, run_id, StreamState.NO_STREAM, start_event, metadata)
    ingest = ingest_report(
        store, parsed, run_id=run_id, metadata=metadata, started=started, dry_run=dry_run
    )
    processor = Processor(
        store,
        runtime.client,
        report_id=report_id,
        pipeline=pipeline,
        tenant=config.tenant,
        lookups=runtime.lookups,
        policy=config.retry,
        metadata=metadata,
        settings=settings,
        should_stop=should_stop,
    )
    report = RunReport(run_id, report_id, dry_run, ingest)
    if dry_run:
        report.planned = plan_dry_run(
            processor, runtime, ingest, progress=progress, should_stop=should_stop
        )
        report.duration_s = time.monotonic() - started
        return report

    outcome = "finished"
    error: str | None = None
    try:
        processor.process(
            ingest.ticket_ids,
            progress,
            workers=workers,
            open_store=lambda: EventStore(connect(runtime.dsn), store.schema),
        )
        if should_stop():
            outcome = "interrupted"
        report.projections = catch_up_all(store.connection, store.schema)
    except BaseException as exc:
        outcome = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        report.stats = processor.stats.as_dict()
        report.duration_s = time.monotonic() - started
        numbers = {
            k: v
            for k, v in report.figures().items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
        finish = RunFinished(
            run_id=run_id,
            outcome=outcome,
            stats=numbers,
            duration_ms=report.duration_s * 1000,
            error=error,
        )
        _append_run(runtime, run_id, 1, finish, metadata)
    return report


def _append_run(
    runtime: Runtime,
    run_id: uuid.UUID,
    expected: int | StreamState,
    event: DomainEvent,
    metadata: Any,
) -> None:
    runtime.store.append(
        [StreamAppend(run_stream(run_id), expected, [to_new_event(event, metadata)])]
    )


def plan_dry_run(
    processor: Processor,
    runtime: Runtime,
    ingest: IngestResult,
    *,
    progress: ProgressHook | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> list[PlannedAction]:
    """What a real run would do now, from the state plus what this poll saw (pure reads)."""
    config = runtime.config
    states = processor.load_states(ingest.ticket_ids)
    planned: list[PlannedAction] = []
    now = utc_now()
    actions = {a.action_id: a for a in config.pipeline_for(ingest.plan.parsed.report_id)}
    steps = processor.steps
    for done, (ticket_id, state) in enumerate(states.items(), start=1):
        if should_stop():
            break
        if progress:
            progress(done, len(states))
        seen = ingest.plan.events.get(ticket_stream(ticket_id), [])
        state = fold_into(state, seen, strict=False)
        decision = decide(state, steps, now, config.retry, report_id=ingest.plan.parsed.report_id)
        if not decision.due:
            continue
        reads = TicketReads(runtime.client, config.tenant, ticket_id)
        lookups = runtime.lookups.for_ticket(reads)
        for due in decision.due:
            ctx = TicketContext(
                ticket_id=ticket_id,
                report_row=state.row or {},
                now=now,
                tenant=config.tenant,
                reads=reads,
                lookups=lookups,
                instance_key=f"{ticket_id}/{due.instance_id}",
                pending_summaries=due.summaries,
            )
            try:
                text = actions[due.step.action_id].describe(ctx)
            except Exception as exc:  # noqa: BLE001 - a dry run reports, it never stops
                text = f"(cannot describe: {type(exc).__name__}: {exc})"
            planned.append(
                PlannedAction(
                    ticket_id,
                    due.step.action_id,
                    due.instance_id,
                    due.kind.value,
                    due.because.value,
                    text,
                )
            )
        for later in decision.not_due:
            if later.reason in LATER_REASONS:
                planned.append(
                    PlannedAction(
                        ticket_id,
                        later.step.action_id,
                        later.instance_id,
                        "then",
                        later.reason.value,
                        "runs once the steps before it settle",
                    )
                )
    return planned
