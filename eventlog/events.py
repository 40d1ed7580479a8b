"""The v1 event types of tdxq, by stream (see DESIGN.md, "Events").

Streams: ``report:{id}``, ``ticket:{id}``, ``run:{uuid}``.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from .schema import DomainEvent, Timestamp, register


def report_stream(report_id: int) -> str:
    return f"report:{report_id}"


def ticket_stream(ticket_id: int) -> str:
    return f"ticket:{ticket_id}"


def run_stream(run_id: UUID) -> str:
    return f"run:{run_id}"


class DroppedRow(BaseModel):
    """A report row that could not be used, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int
    reason: str
    value: str | None = None


class Effect(BaseModel):
    """One change made in TDX, precise enough to look for it again (reconciliation, audit)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["feed_entry", "asset_link", "ci_link", "ticket_patch"]
    ticket_id: int
    target_id: int | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


# report:{id}


@register
class ReportPolled(DomainEvent):
    TYPE = "report_polled"

    report_id: int
    run_id: UUID | None = None
    row_count: int
    ticket_count: int
    ticket_ids_digest: str
    columns: list[str]
    dropped_rows: list[DroppedRow] = Field(default_factory=list)
    duration_ms: float


# ticket:{id}


@register
class TicketSeen(DomainEvent):
    TYPE = "ticket_seen"

    ticket_id: int
    report_id: int
    row: dict[str, Any]
    fingerprint: str
    run_id: UUID | None = None


@register
class TicketLeftReport(DomainEvent):
    TYPE = "ticket_left_report"

    ticket_id: int
    report_id: int
    run_id: UUID | None = None


@register
class ActionStarted(DomainEvent):
    TYPE = "action_started"

    action_id: str
    action_type: str
    attempt: int = Field(ge=1)
    lease_expires_at: Timestamp
    worker: str
    run_id: UUID | None = None
    # Only for a summary_comment instance: the completed actions whose summaries this attempt
    # carries, so that a retry of the same instance posts the same set (see actions/summaries.py).
    carried_action_ids: list[str] | None = None


@register
class ActionLeaseRenewed(DomainEvent):
    TYPE = "action_lease_renewed"

    action_id: str
    attempt: int = Field(ge=1)
    lease_expires_at: Timestamp
    worker: str


# The key in a summary_comment instance's ``ActionCompleted.details``: the sorted ids of the
# completed actions whose summaries it posted. The fold reads it to know what is carried.
CARRIED_ACTION_IDS_KEY = "carried_action_ids"


@register
class ActionCompleted(DomainEvent):
    TYPE = "action_completed"

    action_id: str
    action_type: str
    attempt: int = Field(ge=0)
    summary: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    effects: list[Effect] = Field(default_factory=list)
    reconciled: bool = False
    imported: bool = False


@register
class ActionFailed(DomainEvent):
    TYPE = "action_failed"

    action_id: str
    action_type: str
    attempt: int = Field(ge=0)
    error: str
    error_type: str
    retryable: bool
    next_attempt_at: Timestamp | None = None
    needs_review: bool = False
    effects: list[Effect] = Field(default_factory=list)


@register
class ActionSkipped(DomainEvent):
    TYPE = "action_skipped"

    action_id: str
    action_type: str
    reason: str
    fingerprint: str | None = None


@register
class RetryRequested(DomainEvent):
    TYPE = "retry_requested"

    action_id: str | None = None
    requested_by: str
    reason: str


# run:{uuid}


@register
class RunStarted(DomainEvent):
    TYPE = "run_started"

    run_id: UUID
    report_id: int | None = None
    mode: str
    dry_run: bool = False
    action_ids: list[str] = Field(default_factory=list)
    config_digest: str | None = None


@register
class RunFinished(DomainEvent):
    TYPE = "run_finished"

    run_id: UUID
    outcome: Literal["finished", "interrupted", "failed"] = "finished"
    stats: dict[str, int | float] = Field(default_factory=dict)
    duration_ms: float
    error: str | None = None
