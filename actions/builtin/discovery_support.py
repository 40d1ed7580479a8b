"""What add_asset, add_lab and find_active_tickets share: TDX's kinds of linked items, and
turning a failed TDX call or lookup into an ``ActionError`` that says whether to retry."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from tdxq.actions import failures
from tdxq.actions.lookups import LookupFailed
from tdxq.actions.protocol import ActionContext, ActionError
from tdxq.eventlog.events import Effect
from tdxq.tdx.errors import TdxError
from tdxq.tdx.models import ConfigurationItem

# TDX's component id of assets: the ``BackingItemType`` of an asset's system-maintained CI,
# whose ``BackingItemID`` is then the asset id. A platform constant, not a tenant setting.
ASSET_COMPONENT_ID: Final = 27


def action_error(
    exc: TdxError | LookupFailed, doing: str, effects: Sequence[Effect] = ()
) -> ActionError:
    """``ActionError`` for a failure while ``doing`` something, carrying the effects made so far.

    TDX failures are classified by ``tdxq.actions.failures`` (an ``AmbiguousWrite`` becomes
    ``ActionInDoubt``: reconcile first; the next attempt re-reads the ticket's links before it
    writes, so a link that did land is not made twice). A failed lookup is retryable: an
    unreachable lookup database is usually temporary, and attempts are capped by config.
    """
    if isinstance(exc, LookupFailed):
        error = ActionError(f"{doing} failed: {exc}", retryable=True)
    else:
        error = failures.action_error(exc, doing)
    error.effects = list(effects)
    return error


def linked_asset_ids(items: Iterable[ConfigurationItem]) -> set[int]:
    """Asset ids of the items linked to a ticket (TDX lists them as CIs; fault 8 of the seed)."""
    return {
        item.backing_item_id
        for item in items
        if item.backing_item_type == ASSET_COMPONENT_ID and item.backing_item_id
    }


def asset_items(items: Iterable[ConfigurationItem]) -> list[ConfigurationItem]:
    """The linked items that stand for assets (not plain CIs such as labs)."""
    return [item for item in items if item.backing_item_type == ASSET_COMPONENT_ID]


@dataclass(frozen=True, slots=True)
class TicketLinks:
    """What is linked to a ticket: its computers and every linked CI (labs among them)."""

    computers: list[ConfigurationItem]
    items: list[ConfigurationItem]


def ticket_links(ctx: ActionContext) -> TicketLinks:
    """Assets from ``tickets/{id}/assets``, CIs (labs) from ``tickets/{id}/configurationItems``.

    Each list is read from the endpoint that is documented to hold it (the sandbox keeps the two
    apart; the seed saw lab CIs in the asset list too), so ``items`` is the union of both.
    """
    computers = asset_items(ctx.reads.ticket_assets())
    items = {item.id: item for item in [*computers, *ctx.reads.ticket_cis()]}
    return TicketLinks(computers=computers, items=list(items.values()))


def is_lab(item: ConfigurationItem, lab_type_id: int | None, lab_form_id: int | None) -> bool:
    """A lab CI is recognised by its CMDB type and/or form, as configured (both must match)."""
    if lab_type_id is None and lab_form_id is None:
        return False
    if lab_type_id is not None and item.type_id != lab_type_id:
        return False
    return not (lab_form_id is not None and item.form_id != lab_form_id)
