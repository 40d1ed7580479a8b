"""What one action sees while it runs on one ticket.

The processor builds one ``TicketContext`` per ticket pass; every action of that ticket shares
its ``reads`` cache, so a ticket, its feed or its asset list is fetched from TDX at most once per
pass (the seed fetched a ticket four times).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .protocol import PriorSummary

if TYPE_CHECKING:
    from .lookups import Lookups
    from .reads import TicketReads


@dataclass(frozen=True, slots=True)
class TenantSettings:
    """The configured TDX tenant: nothing here is hard-coded in actions."""

    ticket_app_id: int
    asset_app_id: int
    web_url: str  # e.g. https://host/TDNext — ticket links are built from it

    def ticket_link(self, ticket_id: int) -> str:
        base = self.web_url.rstrip("/")
        return f"{base}/Apps/{self.ticket_app_id}/Tickets/TicketDet?TicketID={ticket_id}"


@dataclass(slots=True)
class TicketContext:
    """The concrete ActionContext (see protocol.py)."""

    ticket_id: int
    report_row: Mapping[str, Any]
    now: datetime
    tenant: TenantSettings
    reads: TicketReads
    lookups: Lookups
    instance_key: str = ""
    pending_summaries: Sequence[PriorSummary] = ()
    # Facts earlier actions of this pass learned (e.g. the assets add_asset linked), keyed by
    # action type; later actions may use them, but never for deciding whether to run.
    shared: dict[str, Any] = field(default_factory=dict)
