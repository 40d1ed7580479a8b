"""Which summaries a summary_comment carries, and the key that makes it post once per set.

A summary comment is not one action run once: it runs once per *set* of new summaries. Each
run is an instance with its own id, ``{summary action id}#{digest12}``, where the digest covers
the sorted ids of the completed actions whose summaries it carries. So the instance id is the
idempotency key: a failed post leaves the same instance (same id, next attempt) to post again;
once it completed, those summaries count as carried and nothing is due until a new one appears.

Contract with the summary action: its ``Completed.details`` holds ``carried_action_ids`` (the
key ``CARRIED_ACTION_IDS_KEY``), the sorted ids of the summaries it posted. The processor also
records the list on the instance's ``action_started`` so a retry carries exactly the same set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Sequence

from tdxq.eventlog.events import CARRIED_ACTION_IDS_KEY
from tdxq.projectors.action_state import ActionState, ActionStatus
from tdxq.projectors.ticket_state import TicketState

from .identity import canonical_json
from .protocol import PriorSummary

__all__ = [
    "CARRIED_ACTION_IDS_KEY",
    "INSTANCE_SEPARATOR",
    "SUMMARY_ACTION_TYPE",
    "carried_by",
    "instance_base",
    "instances_of",
    "pending_summaries",
    "prior_summaries",
    "summary_instance_id",
]

SUMMARY_ACTION_TYPE = "summary_comment"
INSTANCE_SEPARATOR = "#"


def summary_instance_id(summary_action_id: str, carried_action_ids: Iterable[str]) -> str:
    ids = sorted(set(carried_action_ids))
    digest = hashlib.sha256(canonical_json(ids)).hexdigest()[:12]
    return f"{summary_action_id}{INSTANCE_SEPARATOR}{digest}"


def instance_base(action_id: str) -> str:
    """The configured action id of an instance id (an ordinary action id is its own base)."""
    return action_id.split(INSTANCE_SEPARATOR, 1)[0]


def instances_of(state: TicketState, summary_action_id: str) -> list[ActionState]:
    """The ticket's instances of one summary action, oldest first."""
    prefix = summary_action_id + INSTANCE_SEPARATOR
    found = [a for a_id, a in state.actions.items() if a_id.startswith(prefix)]
    return sorted(found, key=lambda a: a.last_version)


def carried_by(state: TicketState, summary_action_id: str) -> frozenset[str]:
    """Ids of the actions whose summaries a completed instance of this summary action posted."""
    carried: set[str] = set()
    for instance in instances_of(state, summary_action_id):
        if instance.status is ActionStatus.DONE and instance.carried_action_ids is not None:
            carried.update(instance.carried_action_ids)
    return frozenset(carried)


def pending_summaries(
    state: TicketState, summary_action_id: str, sources: Sequence[str] | None = None
) -> list[PriorSummary]:
    """Completed actions with a non-empty summary that this summary action has not carried.

    ``sources`` are the action ids whose summaries count (the pipeline's steps before the
    summary), in the order to present them; None means every completed ordinary action.
    """
    already = carried_by(state, summary_action_id)
    candidates = _ordinary_action_ids(state) if sources is None else list(sources)
    return [s for s in prior_summaries(state, candidates) if s.action_id not in already]


def prior_summaries(state: TicketState, action_ids: Collection[str]) -> list[PriorSummary]:
    """The summaries of those of ``action_ids`` that completed with one, in the given order."""
    found: list[PriorSummary] = []
    for action_id in action_ids:
        action = state.actions.get(action_id)
        if action is None or action.status is not ActionStatus.DONE:
            continue
        if action.summary is None or not action.summary.strip():
            continue
        found.append(
            PriorSummary(
                action_id=action_id,
                action_type=action.action_type or "",
                summary=action.summary,
                completed_position=action.completed_position or 0,
            )
        )
    return found


def _ordinary_action_ids(state: TicketState) -> list[str]:
    ordinary = [
        a
        for a in state.actions.values()
        if a.carried_action_ids is None and INSTANCE_SEPARATOR not in a.action_id
    ]
    return [a.action_id for a in sorted(ordinary, key=lambda a: a.completed_version or 0)]
