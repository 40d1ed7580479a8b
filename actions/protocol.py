"""The action protocol: what every pipeline action provides to the processor.

An action is built from its validated options (a pydantic model). Its id is derived from the
canonical JSON of those options, so changing an option makes a new action that runs again.
``execute`` does the work through the ticket's shared TDX read cache and returns an outcome, or
raises ``ActionError``; it never records anything itself — the processor appends the events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel

from tdxq.eventlog.events import Effect

if TYPE_CHECKING:
    from .context import TenantSettings
    from .lookups import Lookups
    from .reads import TicketReads


class ActionError(Exception):
    """An action could not do its work. ``retryable`` says whether a later attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool, effects: Sequence[Effect] = ()) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.effects = list(effects)


class ActionInDoubt(ActionError):
    """A write was sent but its outcome is unknown (timeout, dropped connection, 5xx on a write).

    Retryable, but the processor must treat the action as in doubt: run ``reconcile`` (look in
    TDX for the effect) before any new attempt, so a comment that did land is never posted twice.
    """

    def __init__(self, message: str, *, effects: Sequence[Effect] = ()) -> None:
        super().__init__(message, retryable=True, effects=effects)


@dataclass(frozen=True, slots=True)
class Completed:
    """The action did its work (possibly nothing was needed); ``summary`` feeds summary_comment."""

    summary: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    effects: Sequence[Effect] = ()


@dataclass(frozen=True, slots=True)
class Skipped:
    """The action's condition says no; it is re-evaluated when the ticket changes."""

    reason: str


Outcome = Completed | Skipped


class ReconcileVerdict(Enum):
    FOUND = "found"  # the effect is in TDX: record completion (reconciled)
    NOT_FOUND = "not_found"  # nothing happened: run again
    UNKNOWN = "unknown"  # cannot tell: fail for review


@dataclass(frozen=True, slots=True)
class Reconciliation:
    verdict: ReconcileVerdict
    outcome: Completed | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class PriorSummary:
    """A completed action's summary, as read from the event log (for summary_comment)."""

    action_id: str
    action_type: str
    summary: str
    completed_position: int


class ActionContext(Protocol):
    """What an action may use while it runs on one ticket."""

    @property
    def ticket_id(self) -> int: ...

    @property
    def report_row(self) -> Mapping[str, Any]: ...

    @property
    def now(self) -> datetime: ...

    @property
    def instance_key(self) -> str:
        """Unique to this (ticket, action id, attempt series); embed it to find the effect later."""
        ...

    @property
    def pending_summaries(self) -> Sequence[PriorSummary]:
        """Summaries of completed actions that no summary comment has carried yet."""
        ...

    @property
    def tenant(self) -> TenantSettings: ...

    @property
    def reads(self) -> TicketReads:
        """The ticket pass's shared TDX read cache (its ``client`` makes the writes)."""
        ...

    @property
    def lookups(self) -> Lookups: ...

    @property
    def shared(self) -> dict[str, Any]:
        """Facts earlier actions of this pass learned, keyed by action type."""
        ...


class Action(Protocol):
    """A configured pipeline step."""

    TYPE: ClassVar[str]

    @property
    def options(self) -> BaseModel: ...

    @property
    def version(self) -> str: ...

    @property
    def action_id(self) -> str: ...

    def describe(self, ctx: ActionContext) -> str:
        """What ``execute`` would do, for ``--dry-run``; makes no TDX writes."""
        ...

    def execute(self, ctx: ActionContext) -> Outcome: ...

    def reconcile(self, ctx: ActionContext) -> Reconciliation:
        """Look in TDX for this action's own effect after a crash left it in doubt."""
        ...
