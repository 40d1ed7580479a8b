"""Property tests of the ticket fold over random event sequences.

Events are drawn at random, biased towards ones that fit the current state so that long legal
histories arise; every event goes through ``apply``. A small reference model written here from
the rules in DESIGN.md says independently which events are legal, and the fold must agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tdxq.eventlog import DomainEvent
from tdxq.eventlog.events import (
    ActionCompleted,
    ActionFailed,
    ActionLeaseRenewed,
    ActionSkipped,
    ActionStarted,
    RetryRequested,
    TicketSeen,
)
from tdxq.projectors.ticket_state import TicketState, apply, fold, fold_into, initial_state
from tdxq.projectors.transitions import IllegalTransition

from . import builders as b

ACTIONS = ["add_asset:aaaaaaaaaaaa:v1", "add_lab:bbbbbbbbbbbb:v1", "comment:cccccccccccc:v1"]


@dataclass
class Model:
    """The reference: status, attempts and skip fingerprint per action, by the design's rules."""

    fingerprint: str | None = None
    status: dict[str, str] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    skip_fp: dict[str, str | None] = field(default_factory=dict)

    def legal(self, e: DomainEvent) -> bool:
        if isinstance(e, TicketSeen | RetryRequested):
            return True
        a = e.action_id  # type: ignore[attr-defined]
        s = self.status.get(a, "none")
        n = self.attempts.get(a, 0)
        if isinstance(e, ActionStarted):
            stale_skip = s == "skipped" and self.skip_fp.get(a) != self.fingerprint
            return e.attempt > n and (s in ("none", "waiting", "running") or stale_skip)
        if isinstance(e, ActionLeaseRenewed):
            return s == "running" and e.attempt == n
        if isinstance(e, ActionCompleted):
            if e.imported:
                return s not in ("running", "done")
            return s == "running" and e.attempt == n
        if isinstance(e, ActionFailed):
            return s == "running" and e.attempt == n
        assert isinstance(e, ActionSkipped)
        return s in ("none", "running")

    def step(self, e: DomainEvent) -> None:
        if isinstance(e, TicketSeen):
            self.fingerprint = e.fingerprint
        elif isinstance(e, RetryRequested):
            targets = [e.action_id] if e.action_id else list(self.status)
            for a in targets:
                if self.status.get(a) == "failed":
                    self.status[a] = "none"
        elif isinstance(e, ActionStarted):
            self.status[e.action_id] = "running"
            self.attempts[e.action_id] = e.attempt
        elif isinstance(e, ActionCompleted):
            self.status[e.action_id] = "done"
        elif isinstance(e, ActionFailed):
            waits = e.next_attempt_at is not None and e.retryable and not e.needs_review
            self.status[e.action_id] = "waiting" if waits else "failed"
        elif isinstance(e, ActionSkipped):
            self.status[e.action_id] = "skipped"
            self.skip_fp[e.action_id] = e.fingerprint or self.fingerprint


@st.composite
def event_for(draw: st.DrawFn, state: TicketState) -> DomainEvent:
    kind = draw(
        st.sampled_from(
            [
                "seen",
                "start",
                "start",
                "start",
                "renew",
                "complete",
                "complete",
                "fail",
                "fail",
                "skip",
                "retry",
                "import",
            ]
        )
    )
    if kind == "seen":
        return b.seen(draw(st.sampled_from(["fp1", "fp2", "fp3"])))
    if kind == "retry":
        return b.retry(draw(st.sampled_from([None, *ACTIONS])))
    action_id = draw(st.sampled_from(ACTIONS))
    current = state.action(action_id).attempts
    attempt = draw(st.one_of(st.just(current), st.just(current + 1), st.integers(0, 6)))
    if kind == "start":
        return b.started(action_id, max(attempt, 1))
    if kind == "renew":
        return b.renewed(action_id, max(attempt, 1), b.T0 + timedelta(minutes=9))
    if kind == "complete":
        return b.completed(action_id, attempt, summary=draw(st.sampled_from([None, "", "s"])))
    if kind == "import":
        return b.completed(action_id, 0, imported=True)
    if kind == "skip":
        return b.skipped(action_id, draw(st.sampled_from([None, "fp1"])))
    return b.failed(
        action_id,
        attempt,
        retry_at=draw(st.sampled_from([None, b.T0 + timedelta(minutes=2)])),
        retryable=draw(st.booleans()),
        needs_review=draw(st.booleans()),
    )


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[DomainEvent], list[tuple[int, DomainEvent]]]:
    """(accepted events, rejected events with how many accepted events preceded each)."""
    model = Model()
    state = initial_state(b.TICKET)
    accepted: list[DomainEvent] = []
    rejected: list[tuple[int, DomainEvent]] = []
    for _ in range(draw(st.integers(0, 50))):
        event = draw(event_for(state))
        expected_legal = model.legal(event)
        try:
            state = apply(state, event)
        except IllegalTransition:
            assert not expected_legal, f"fold rejected a legal {event!r}"
            rejected.append((len(accepted), event))
            continue
        assert expected_legal, f"fold accepted an illegal {event!r}"
        model.step(event)
        for action_id, status in model.status.items():
            assert state.action(action_id).status.value == status
        accepted.append(event)
    return accepted, rejected


History = tuple[list[DomainEvent], list[tuple[int, DomainEvent]]]

PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(histories())
def test_fold_agrees_with_the_reference_and_never_completes_twice(
    history: History,
) -> None:
    accepted, _ = history
    completions: dict[str, int] = {}
    done: set[str] = set()
    for event in accepted:
        action_id = getattr(event, "action_id", None)
        if isinstance(event, ActionCompleted):
            completions[event.action_id] = completions.get(event.action_id, 0) + 1
            done.add(event.action_id)
        elif action_id in done:
            # After a completion only retry requests (which change nothing) may follow.
            assert isinstance(event, RetryRequested), f"{event.TYPE} after completion"
    assert all(count == 1 for count in completions.values())


@PROPERTY
@given(histories())
def test_attempts_only_grow(history: History) -> None:
    accepted, _ = history
    state = initial_state(b.TICKET)
    for event in accepted:
        before = {a: s.attempts for a, s in state.actions.items()}
        state = apply(state, event)
        for action_id, attempts in before.items():
            assert state.action(action_id).attempts >= attempts
        if isinstance(event, ActionStarted):
            assert state.action(event.action_id).attempts == event.attempt
        touched = getattr(event, "action_id", None)
        if touched is not None and not isinstance(event, RetryRequested):
            assert state.action(touched).last_version == state.version


@PROPERTY
@given(histories(), st.data())
def test_folding_a_prefix_then_the_rest_equals_folding_all(
    history: History,
    data: st.DataObject,
) -> None:
    accepted, _ = history
    events = b.recorded(accepted)
    cut = data.draw(st.integers(0, len(events)))
    whole = fold(b.TICKET, events)
    assert fold_into(fold(b.TICKET, events[:cut]), events[cut:]) == whole
    assert whole.version == len(events)


@PROPERTY
@given(histories())
def test_rejected_events_leave_a_lenient_fold_unchanged_except_for_the_record(
    history: History,
) -> None:
    accepted, rejected = history
    for preceding, event in rejected[:3]:
        state = fold(b.TICKET, accepted[:preceding])
        after = apply(state, event, strict=False)
        assert after.actions == state.actions
        assert after.version == state.version + 1
        assert len(after.anomalies) == len(state.anomalies) + 1
