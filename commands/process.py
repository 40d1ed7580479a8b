"""Process: decide what is due on each ticket, claim it, run it, record the outcome.

For a whole report the skip path is three round trips whatever its size: all ticket streams
are read in one query and folded in memory, and only tickets with something due go further.
A claim is an append of ``action_started`` at the stream version the decision was made on; of
two workers one wins, the other re-reads and decides again. Nothing is ever recorded before
the outcome is known, and a write whose outcome is unknown is reconciled before any new try.

Leases and outages: a claimed action's lease is renewed by a heartbeat while it runs (see
``lease.py``). When Postgres cannot be reached, a claim or an outcome is appended again with the
same event ids (so an append that did land is not doubled) until it lands or the lease expires;
after that, reconciliation by whichever worker comes next settles the action. A failed read
before a claim is never taken as "nothing done": it propagates and the pass is skipped.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from tdxq.actions.base import ActionBase
from tdxq.actions.context import TenantSettings, TicketContext
from tdxq.actions.decide import decide, triage
from tdxq.actions.decision import DueAction, DueKind, PipelineStep
from tdxq.actions.lookups import LookupRuntime
from tdxq.actions.protocol import (
    ActionError,
    ActionInDoubt,
    Completed,
    Outcome,
    ReconcileVerdict,
    Skipped,
)
from tdxq.actions.reads import TicketReads
from tdxq.actions.retry_policy import RetryPolicy, retry_at
from tdxq.actions.summaries import SUMMARY_ACTION_TYPE
from tdxq.eventlog import (
    DomainEvent,
    EventStore,
    Metadata,
    NewEvent,
    StreamAppend,
    WrongExpectedVersion,
    to_new_event,
    utc_now,
)
from tdxq.eventlog.events import (
    ActionCompleted,
    ActionFailed,
    ActionLeaseRenewed,
    ActionSkipped,
    ActionStarted,
    ticket_stream,
)
from tdxq.eventlog.subscription import TRANSIENT_ERRORS, Backoff
from tdxq.projectors.action_state import ActionStatus
from tdxq.projectors.ticket_state import TicketState, fold, fold_into
from tdxq.tdx import TdxClient

from .lease import Heartbeat

log = logging.getLogger("tdxq.process")

IN_DOUBT_ERROR = ActionInDoubt.__name__
MAX_ERROR_TEXT = 2000
MIN_DB_TRIES = 3
"""Tries to reach Postgres for a claim or an outcome even when the lease is already over."""

T = TypeVar("T")


class OutcomeNotRecorded(Exception):
    """Postgres stayed unreachable until the action's lease expired: its outcome (or its
    claim) could not be appended. Nothing is lost for good: the next worker finds the action
    in doubt and reconciles it against TDX."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


@dataclass(slots=True)
class PassStats:
    """What one processing pass did; counters by outcome."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] += n

    def as_dict(self) -> dict[str, int]:
        return dict(self.counts)


@dataclass(frozen=True, slots=True)
class ProcessSettings:
    lease: timedelta = timedelta(minutes=10)
    worker: str = field(default_factory=worker_name)
    # The actions of one ticket share one TDX read cache; False only to measure its effect.
    share_reads: bool = True
    # How often a running action's lease is renewed (None: every third of the lease).
    renew_every: timedelta | None = None
    # Between tries to reach Postgres while a claim or an outcome waits to be appended.
    db_backoff: Backoff = field(default_factory=lambda: Backoff(initial_s=0.2, max_s=5.0))

    @property
    def renewal_interval(self) -> timedelta:
        return self.renew_every if self.renew_every is not None else self.lease / 3


def pipeline_steps(pipeline: Sequence[ActionBase[Any]]) -> list[PipelineStep]:
    return [
        PipelineStep(a.action_id, a.TYPE, summary=a.TYPE == SUMMARY_ACTION_TYPE) for a in pipeline
    ]


class Processor:
    """Runs one report's pipeline over tickets, one ticket at a time, recording every step."""

    def __init__(
        self,
        store: EventStore,
        client: TdxClient,
        *,
        report_id: int,
        pipeline: Sequence[ActionBase[Any]],
        tenant: TenantSettings,
        lookups: LookupRuntime,
        policy: RetryPolicy,
        metadata: Metadata,
        settings: ProcessSettings | None = None,
        clock: Callable[[], datetime] = utc_now,
        should_stop: Callable[[], bool] = lambda: False,
        reconnect: Callable[[], EventStore] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``reconnect`` opens a fresh store when Postgres dropped the connection (None: keep
        retrying on the same one); ``sleep`` waits between such tries."""
        self._store = store
        self._client = client
        self._report_id = report_id
        self._actions = {a.action_id: a for a in pipeline}
        self._steps = pipeline_steps(pipeline)
        self._tenant = tenant
        self._lookups = lookups
        self._policy = policy
        self._metadata = metadata
        # The id of each claim this processor appended, by instance: outcomes point back to it.
        self._claim_ids: dict[str, UUID] = {}
        self._settings = settings or ProcessSettings()
        self._clock = clock
        self._should_stop = should_stop
        self._reconnect = reconnect
        self._sleep = sleep
        self.stats = PassStats()
        self._stats_lock = threading.Lock()
        self._shared: dict[str, Any] = {
            "report_id": report_id,
            "pipeline": pipeline,
            "tenant": tenant,
            "lookups": lookups,
            "policy": policy,
            "metadata": metadata,
            "settings": settings,
            "clock": clock,
            "should_stop": should_stop,
            "reconnect": reconnect,
            "sleep": sleep,
        }

    @property
    def store(self) -> EventStore:
        """The store in use (a new one after a reconnect)."""
        return self._store

    # -- whole report -------------------------------------------------------------------------

    def load_states(self, ticket_ids: Iterable[int]) -> dict[int, TicketState]:
        """Every ticket's state from one query."""
        ids = list(ticket_ids)
        streams = self._store.read_streams(ticket_stream(t) for t in ids)
        return {t: fold(t, streams[ticket_stream(t)], strict=False) for t in ids}

    def due_tickets(self, states: Mapping[int, TicketState]) -> list[int]:
        result = triage(
            states.values(), self._steps, self._clock(), self._policy, report_id=self._report_id
        )
        self.stats.add("tickets_idle", result.idle)
        return [d.ticket_id for d in result.due]

    @property
    def steps(self) -> list[PipelineStep]:
        return list(self._steps)

    def process(
        self,
        ticket_ids: Iterable[int],
        progress: Callable[[int, int], None] | None = None,
        *,
        workers: int = 1,
        open_store: Callable[[], EventStore] | None = None,
    ) -> PassStats:
        """One pass over ``ticket_ids``; ``progress(done, total)`` after each ticket with work.

        With ``workers`` > 1 (and ``open_store`` to give each its own connection) tickets are
        processed by that many threads; claims keep them from ever acting twice.
        """
        states = self.load_states(ticket_ids)
        due = self.due_tickets(states)
        self.stats.add("tickets_due", len(due))
        pending = iter(due)
        lock = threading.Lock()
        done = 0

        def next_ticket() -> int | None:
            nonlocal done
            with lock:
                if self._should_stop():
                    return None
                return next(pending, None)

        def finished_one() -> None:
            nonlocal done
            with lock:
                done += 1
                if progress:
                    progress(done, len(due))

        def drain(processor: Processor) -> None:
            while (ticket_id := next_ticket()) is not None:
                processor.process_ticket(states[ticket_id])
                finished_one()

        if workers <= 1 or open_store is None or len(due) < 2:
            drain(self)
        else:
            threads = [
                threading.Thread(target=self._worker, args=(open_store, drain), daemon=True)
                for _ in range(min(workers, len(due)))
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        if self._should_stop():
            self.stats.add("stopped_early")
        return self.stats

    def _worker(
        self, open_store: Callable[[], EventStore], drain: Callable[[Processor], None]
    ) -> None:
        store = open_store()
        clone = Processor(store, self._client, **self._shared | {"reconnect": open_store})
        clone._settings = replace(self._settings, worker=worker_name())
        try:
            drain(clone)
        finally:
            clone.store.connection.close()
            if clone.store is not store:
                store.connection.close()
            with self._stats_lock:
                self.stats.counts.update(clone.stats.counts)

    # -- one ticket ---------------------------------------------------------------------------

    def process_ticket(self, state: TicketState) -> TicketState:
        """Run every due action of one ticket in pipeline order, re-deciding after each."""
        ticket_id = state.ticket_id
        reads = TicketReads(self._client, self._tenant, ticket_id)
        lookups = self._lookups.for_ticket(reads)
        shared: dict[str, Any] = {}
        attempts_this_pass = 0
        while not self._should_stop():
            decision = decide(
                state, self._steps, self._clock(), self._policy, report_id=self._report_id
            )
            # Each instance runs at most once per pass; retries wait for their backoff time.
            runnable = [d for d in decision.due if d.instance_id not in self._ran(shared)]
            if not runnable:
                break
            due = runnable[0]
            attempts_this_pass += 1
            if attempts_this_pass > 4 * len(self._steps) + 4:
                log.error(
                    "ticket %s: giving up this pass after %s steps", ticket_id, attempts_this_pass
                )
                break
            claimed = self._claim(state, due)
            if claimed is None:
                state = self._reread(state)  # another worker moved the stream: decide again
                continue
            state = claimed
            self._ran(shared).add(due.instance_id)
            if not self._settings.share_reads:  # benchmark baseline: no cache between actions
                reads = TicketReads(self._client, self._tenant, ticket_id)
                lookups = self._lookups.for_ticket(reads)
            ctx = TicketContext(
                ticket_id=ticket_id,
                report_row=state.row or {},
                now=self._clock(),
                tenant=self._tenant,
                reads=reads,
                lookups=lookups,
                instance_key=f"{ticket_id}/{due.instance_id}",
                pending_summaries=due.summaries,
                shared=shared,
            )
            outcome, state = self._run_leased(self._actions[due.step.action_id], due, state, ctx)
            state = self._record(state, due, outcome)
        return state

    @staticmethod
    def _ran(shared: dict[str, Any]) -> set[str]:
        ran: set[str] = shared.setdefault("_ran_instances", set())
        return ran

    def _claim(self, state: TicketState, due: DueAction) -> TicketState | None:
        started = ActionStarted(
            action_id=due.instance_id,
            action_type=due.step.action_type,
            attempt=due.attempt,
            lease_expires_at=self._clock() + self._settings.lease,
            worker=self._settings.worker,
            run_id=self._metadata.correlation_id,
            carried_action_ids=due.carried_action_ids,
        )
        claim = [to_new_event(started, self._caused_by(state.last_event_id))]
        self._claim_ids[due.instance_id] = claim[0].event_id
        # The claim may land even when its answer is lost; until the lease ends it is ours.
        deadline = time.monotonic() + self._settings.lease.total_seconds()
        what = f"claim {due.instance_id}"
        # Nothing was done in TDX yet: a stop request ends the waiting (a claim that did land
        # runs out its lease and is reconciled, finding nothing, and run).
        ticket_id = state.ticket_id
        try:
            self._durably(what, ticket_id, deadline, self._append_new, state, claim, stoppable=True)
        except WrongExpectedVersion:
            self.stats.add("claims_lost")
            return None
        self.stats.add("started")
        return self._durably(
            f"read back {what}", ticket_id, deadline, self._reread, state, stoppable=True
        )

    def _run_leased(
        self, action: ActionBase[Any], due: DueAction, state: TicketState, ctx: TicketContext
    ) -> tuple[list[DomainEvent], TicketState]:
        """Run the action while a heartbeat renews its lease; the outcome's events and the
        stream as the renewals left it."""
        lease = _Lease(state, due)
        interval = self._settings.renewal_interval.total_seconds()
        name = f"lease-{state.ticket_id}-{due.step.action_type}"
        with Heartbeat(lambda: self._renew(lease), interval, name=name):
            events = self._run(action, due, state, ctx)
        return events, lease.state

    def _renew(self, lease: _Lease) -> bool:
        """Append one ``action_lease_renewed``; False once the action is no longer ours."""
        due = lease.due
        renewal = ActionLeaseRenewed(
            action_id=due.instance_id,
            attempt=due.attempt,
            lease_expires_at=self._clock() + self._settings.lease,
            worker=self._settings.worker,
        )
        new = [to_new_event(renewal, self._caused_by(self._claim_ids.get(due.instance_id)))]
        try:
            for _ in range(5):
                try:
                    self._append_new(lease.state, new)
                except WrongExpectedVersion:
                    lease.state = self._reread(lease.state)
                    if not self._owns(lease.state, due):
                        log.warning(
                            "ticket %s: %s was taken over while it ran; no more renewals",
                            lease.state.ticket_id,
                            due.instance_id,
                        )
                        return False
                    continue
                lease.state = self._reread(lease.state)
                self.stats.add("leases_renewed")
                return True
        except TRANSIENT_ERRORS as exc:
            log.warning(
                "ticket %s: cannot renew the lease of %s (%s); trying again at the next beat",
                lease.state.ticket_id,
                due.instance_id,
                _first_line(exc),
            )
            self._reconnect_store()
        return True

    def _run(
        self, action: ActionBase[Any], due: DueAction, state: TicketState, ctx: TicketContext
    ) -> list[DomainEvent]:
        previous = state.action(due.instance_id)
        reconcile_first = due.kind is DueKind.RECONCILE or (
            previous is not None and previous.last_error_type == IN_DOUBT_ERROR
        )
        try:
            if reconcile_first:
                events = self._reconcile(action, due, ctx, run_if_not_found=due.run_if_not_found)
                if events is not None:
                    return events
            return self._outcome_events(action, due, state, action.execute(ctx))
        except ActionInDoubt as exc:
            # The write may have landed: look right away (this catches effect-then-fail);
            # if it cannot be seen yet, the next attempt looks again before writing.
            self.stats.add("in_doubt")
            events = self._reconcile(action, due, ctx, run_if_not_found=False, cause=exc)
            return events or self._failure(due, exc, retryable=True, error_type=IN_DOUBT_ERROR)
        except ActionError as exc:
            return self._failure(due, exc, retryable=exc.retryable, effects=exc.effects)
        except Exception as exc:  # a bug or an unexpected error: record it, never lose it
            log.exception("ticket %s: %s raised", ctx.ticket_id, due.instance_id)
            return self._failure(due, exc, retryable=True)

    def _reconcile(
        self,
        action: ActionBase[Any],
        due: DueAction,
        ctx: TicketContext,
        *,
        run_if_not_found: bool,
        cause: Exception | None = None,
    ) -> list[DomainEvent] | None:
        """Events recording what reconcile found; None means "not found: run it"."""
        try:
            result = action.reconcile(ctx)
        except Exception as exc:  # noqa: BLE001 - any failure to look means "cannot tell yet"
            log.warning(
                "ticket %s: reconcile of %s failed: %s", ctx.ticket_id, due.instance_id, exc
            )
            return self._failure(due, exc, retryable=True, error_type=IN_DOUBT_ERROR)
        if result.verdict is ReconcileVerdict.FOUND:
            self.stats.add("reconciled")
            found = result.outcome or Completed(summary=None)
            return [self._completed(due, found, reconciled=True)]
        if result.verdict is ReconcileVerdict.UNKNOWN:
            return [
                ActionFailed(
                    action_id=due.instance_id,
                    action_type=due.step.action_type,
                    attempt=due.attempt,
                    error=_text(f"cannot tell whether the effect happened: {result.note}"),
                    error_type="ReconcileUnknown",
                    retryable=False,
                    needs_review=True,
                )
            ]
        if cause is not None:
            return None
        if run_if_not_found:
            return None
        return self._failure(
            due, RuntimeError("effect not found after the last attempt"), retryable=False
        )

    def _outcome_events(
        self, action: ActionBase[Any], due: DueAction, state: TicketState, outcome: Outcome
    ) -> list[DomainEvent]:
        if isinstance(outcome, Skipped):
            self.stats.add("skipped")
            return [
                ActionSkipped(
                    action_id=due.instance_id,
                    action_type=action.TYPE,
                    reason=_text(outcome.reason),
                    fingerprint=state.fingerprint,
                )
            ]
        return [self._completed(due, outcome, reconciled=False)]

    def _completed(
        self, due: DueAction, outcome: Completed, *, reconciled: bool
    ) -> ActionCompleted:
        self.stats.add("completed")
        return ActionCompleted(
            action_id=due.instance_id,
            action_type=due.step.action_type,
            attempt=due.attempt,
            summary=outcome.summary,
            details=dict(outcome.details),
            effects=list(outcome.effects),
            reconciled=reconciled,
        )

    def _failure(
        self,
        due: DueAction,
        exc: BaseException,
        *,
        retryable: bool,
        error_type: str | None = None,
        effects: Sequence[Any] = (),
    ) -> list[DomainEvent]:
        key = f"{self._report_id}/{due.instance_id}"
        next_at = retry_at(
            self._policy, self._clock(), due.series_attempt, key, retryable=retryable
        )
        self.stats.add("failed" if next_at is None else "waiting")
        return [
            ActionFailed(
                action_id=due.instance_id,
                action_type=due.step.action_type,
                attempt=due.attempt,
                error=_text(str(exc) or type(exc).__name__),
                error_type=error_type or type(exc).__name__,
                retryable=next_at is not None,
                next_attempt_at=next_at,
                effects=list(effects),
            )
        ]

    def _record(self, state: TicketState, due: DueAction, events: list[DomainEvent]) -> TicketState:
        """Append the outcome; if the stream moved since the claim, check we still own it.

        While Postgres is unreachable the same events are appended again (an append that did
        land is recognized by its event ids) until the lease expires; then the action is left
        in doubt for reconciliation, and ``OutcomeNotRecorded`` says so.
        """
        cause = self._caused_by(self._claim_ids.get(due.instance_id))
        outcome = [to_new_event(e, cause) for e in events]
        deadline = self._lease_deadline(state, due)
        what = f"record the outcome of {due.instance_id}"
        ticket_id = state.ticket_id
        for _ in range(10):
            try:
                self._durably(what, ticket_id, deadline, self._append_new, state, outcome)
                return self._durably(what, ticket_id, deadline, self._reread, state)
            except WrongExpectedVersion:
                state = self._durably(what, ticket_id, deadline, self._reread, state)
                if not self._owns(state, due):
                    # Our lease expired and another worker took the action over; its reconcile
                    # will find our effect. Recording ours now would be an illegal transition.
                    log.warning(
                        "ticket %s: %s was taken over before its outcome was recorded",
                        state.ticket_id,
                        due.instance_id,
                    )
                    self.stats.add("taken_over")
                    return state
        raise RuntimeError(
            f"ticket {state.ticket_id}: could not record the outcome of "
            f"{due.instance_id} (the stream keeps moving)"
        )

    def _owns(self, state: TicketState, due: DueAction) -> bool:
        """The action is still running the attempt this worker claimed."""
        current = state.action(due.instance_id)
        return (
            current.status is ActionStatus.RUNNING
            and current.attempts == due.attempt
            and current.worker == self._settings.worker
        )

    def _lease_deadline(self, state: TicketState, due: DueAction) -> float:
        """When (``time.monotonic``) the lease of the claimed attempt ends."""
        expires = state.action(due.instance_id).lease_expires_at
        left = 0.0 if expires is None else (expires - self._clock()).total_seconds()
        return time.monotonic() + max(0.0, left)

    def _append_new(self, state: TicketState, events: list[NewEvent]) -> None:
        """Append at the version ``state`` was read at; the same ``events`` may be sent again
        after a lost answer: their ids make the second append a no-op."""
        self._store.append([StreamAppend(ticket_stream(state.ticket_id), state.version, events)])

    def _durably(
        self,
        what: str,
        ticket_id: int,
        deadline: float,
        op: Callable[..., T],
        *args: Any,
        stoppable: bool = False,
    ) -> T:
        """``op(*args)``, tried again while Postgres is unreachable, until ``deadline``
        (monotonic; at least ``MIN_DB_TRIES`` tries) or, when ``stoppable``, until a stop is
        requested. Other errors propagate at once."""
        failures = 0
        while True:
            try:
                result = op(*args)
            except TRANSIENT_ERRORS as exc:
                failures += 1
                if stoppable and self._should_stop():
                    raise
                remaining = deadline - time.monotonic()
                if remaining <= 0 and failures >= MIN_DB_TRIES:
                    log.error(
                        "ticket %s: could not %s: Postgres unreachable for %d tries (%s); the "
                        "lease is over, so the next worker reconciles it against TDX",
                        ticket_id,
                        what,
                        failures,
                        _first_line(exc),
                    )
                    self.stats.add("outcomes_not_recorded")
                    raise OutcomeNotRecorded(f"ticket {ticket_id}: could not {what}") from exc
                delay = self._settings.db_backoff.delay(failures, random.random())
                delay = min(delay, max(remaining, 0.05))
                if failures == 1:
                    log.warning(
                        "ticket %s: cannot %s: Postgres unreachable (%s); trying again for up "
                        "to %.0f s (the lease)",
                        ticket_id,
                        what,
                        _first_line(exc),
                        max(remaining, 0.0),
                    )
                self._sleep(delay)
                self._reconnect_store()
                continue
            if failures:
                log.info(
                    "ticket %s: %s: done after %d failed tries (Postgres is back)",
                    ticket_id,
                    what,
                    failures,
                )
            return result

    def _reconnect_store(self) -> None:
        """A fresh connection in place of one Postgres may have dropped (when we can)."""
        if self._reconnect is None:
            return
        try:
            fresh = self._reconnect()
        except TRANSIENT_ERRORS as exc:
            log.debug("reconnecting to Postgres failed: %s", _first_line(exc))
            return
        old, self._store = self._store, fresh
        try:
            old.connection.close()
        except Exception as exc:  # noqa: BLE001 - a broken connection may fail to close
            log.debug("closing a dropped connection: %s", exc)

    def _caused_by(self, event_id: UUID | None) -> Metadata:
        """This run's metadata naming the event that caused the next one (audit chains)."""
        return self._metadata.model_copy(update={"causation_id": event_id})

    def _reread(self, state: TicketState) -> TicketState:
        newer = self._store.read_stream(ticket_stream(state.ticket_id), state.version)
        return fold_into(state, newer, strict=False)


@dataclass(slots=True)
class _Lease:
    """A claimed action while it runs: the stream as the heartbeat last saw it."""

    state: TicketState
    due: DueAction


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else '(no message)'}"


def _text(message: str) -> str:
    return message if len(message) <= MAX_ERROR_TEXT else message[: MAX_ERROR_TEXT - 1] + "…"
