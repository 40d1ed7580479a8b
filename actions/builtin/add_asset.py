"""add_asset: link the computer(s) a ticket is about.

Phases (the seed's, with its faults fixed):

1. computer names and serial numbers in the title and description (``identifiers.py``: no CSS,
   e-mail, phone or URL noise; at most ``max_identifiers``);
2. only if phase 1 verified no asset: the same in the ticket's conversation (feed);
3. only if no asset was verified and the ticket has no asset linked (or
   ``skip_if_requestor_asset_exists`` is false): the requestor's computer, when the requestor
   owns exactly one *active* asset of the configured computer forms.

Candidates come from the ``assets_by_identifier`` lookup and count only on an exact
(case-insensitive, trimmed) match of Name, SerialNumber or Tag, and only when they are of a
computer form (and an active status, with ``active_status_only``). "Already on the ticket"
compares asset ids with the linked items' ``BackingItemID`` (the seed compared CI ids with
asset ids and linked assets again). Nothing to link → ``Skipped``, so the action is evaluated
again when the ticket changes.

Reads go through the ticket's shared cache; a later attempt (after a crash or an ambiguous
write) starts from a fresh read of the ticket's links, so it never links an asset twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tdxq.actions import identity
from tdxq.actions.base import ActionBase
from tdxq.actions.feed import markers_in
from tdxq.actions.html import Html, join
from tdxq.actions.identifiers import DEFAULT_LIMIT, extract_identifiers, normalize
from tdxq.actions.lookups import LookupFailed
from tdxq.actions.protocol import (
    ActionContext,
    Completed,
    Outcome,
    ReconcileVerdict,
    Reconciliation,
    Skipped,
)
from tdxq.actions.registry import register_action
from tdxq.eventlog.events import Effect
from tdxq.tdx.errors import TdxError
from tdxq.tdx.models import Asset, ConfigurationItem, FeedItem, Ticket

from .discovery_support import action_error, linked_asset_ids

MatchField = Literal["name", "serial number", "tag"]
Phase = Literal[1, 2, 3]

_SOURCES: dict[int, str] = {
    1: "the ticket's title or description",
    2: "the ticket's conversation",
    3: "the requestor's assets",
}


class AddAssetOptions(BaseModel):
    """Options of ``add_asset``; the tenant's form and status ids are options, never constants."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    add_summary_comment: bool = True
    max_assets_to_add: int = Field(default=10, ge=1, le=100)
    skip_if_requestor_asset_exists: bool = True
    active_status_only: bool = True
    computer_form_ids: list[int] = Field(
        min_length=1, description="asset form ids of computers (the seed's computer_form_id)"
    )
    active_status_ids: list[int] = Field(
        min_length=1, description="asset status ids that count as active"
    )
    max_identifiers: int = Field(default=DEFAULT_LIMIT, ge=1, le=50)

    @model_validator(mode="before")
    @classmethod
    def _seed_spelling(cls, data: Any) -> Any:
        # The seed's single ``computer_form_id`` is accepted and stored as the list, so both
        # spellings give the same options and the same action id.
        if isinstance(data, dict) and "computer_form_id" in data:
            data = dict(data)
            single = data.pop("computer_form_id")
            if "computer_form_ids" in data:
                raise ValueError("give computer_form_ids or computer_form_id, not both")
            data["computer_form_ids"] = [single]
        return data

    def eligible(self, asset: Asset, *, require_active: bool | None = None) -> bool:
        """A computer (configured form) in an active status, when ``active_status_only`` (or
        ``require_active``) asks for one. The requestor fallback always does: "the requestor's
        only computer" means only active one, whatever ``active_status_only`` says."""
        if asset.form_id not in self.computer_form_ids:
            return False
        active = self.active_status_only if require_active is None else require_active
        return not active or asset.status_id in self.active_status_ids


# --- pure decisions -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssetMatch:
    """An asset and why it was chosen: which identifier matched which field."""

    asset: Asset
    identifier: str
    field: MatchField | Literal["owner"]


def exact_match(asset: Asset, identifiers: Sequence[str]) -> AssetMatch | None:
    """The first identifier equal (case-insensitive, trimmed) to the Name, Serial or Tag."""
    values: list[tuple[MatchField, str]] = [
        ("name", normalize(asset.name)),
        ("serial number", normalize(asset.serial_number)),
        ("tag", normalize(asset.tag)),
    ]
    for identifier in identifiers:
        wanted = normalize(identifier)
        for name, value in values:
            if value and value == wanted:
                return AssetMatch(asset, identifier, name)
    return None


def is_on_ticket(asset: Asset, items: Sequence[ConfigurationItem], linked_ids: set[int]) -> bool:
    """Linked already: its id among the items' asset ids, or its own CI among the items."""
    if asset.id in linked_ids:
        return True
    ci_id = asset.configuration_item_id
    return bool(ci_id) and any(item.id == ci_id for item in items)


@dataclass(slots=True)
class AssetPlan:
    """What add_asset will do on one ticket; built from reads only (``describe`` shows it)."""

    phase: Phase | None = None
    identifiers: list[str] = field(default_factory=list)
    to_link: list[AssetMatch] = field(default_factory=list)
    already_linked: list[AssetMatch] = field(default_factory=list)
    linked_asset_ids: list[int] = field(default_factory=list)
    skip_reason: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        return _SOURCES.get(self.phase or 0, "nowhere")


def conversation_texts(feed: Iterable[FeedItem]) -> list[str]:
    """Bodies of the feed entries and their replies, oldest first (the requestor's words first).

    Entries tdxq posted itself (they carry its marker) are left out: a summary lists other
    tickets' titles and assets, which must never be taken for this ticket's computers.
    """
    entries = sorted(feed, key=lambda item: (item.created_date is None, item.created_date, item.id))
    texts: list[str] = []
    for entry in entries:
        if markers_in(entry.body or ""):
            continue
        texts.append(entry.body or "")
        texts.extend(
            reply.body or "" for reply in entry.replies if not markers_in(reply.body or "")
        )
    return texts


# --- the action -----------------------------------------------------------------------------


@register_action
class AddAsset(ActionBase[AddAssetOptions]):
    """Link the computer(s) a ticket names, else the requestor's only computer."""

    TYPE: ClassVar[str] = "add_asset"
    Options: ClassVar[type[BaseModel]] = AddAssetOptions
    NEEDS_LOOKUPS: ClassVar[frozenset[str]] = frozenset({"assets_by_identifier", "assets_by_owner"})

    def legacy_fields(self) -> dict[str, Any]:
        opts = self.options
        return identity.legacy_fields(
            self.TYPE,
            {
                "add_summary_comment": opts.add_summary_comment,
                "max_assets_to_add": opts.max_assets_to_add,
                "skip_if_requestor_asset_exists": opts.skip_if_requestor_asset_exists,
                "active_status_only": opts.active_status_only,
                # The seed had one form; its history can only match a one-form configuration.
                "computer_form_id": opts.computer_form_ids[0],
            },
        )

    # -- planning (reads only) --

    def plan(self, ctx: ActionContext, *, reconciling: bool = False) -> AssetPlan:
        """Decide what to link. Raises TdxError / LookupFailed from reads and lookups.

        ``reconciling``: the requestor fallback is considered even though the ticket has an
        asset now — that asset may be the one an interrupted attempt linked.
        """
        opts = self.options
        ticket = ctx.reads.ticket()
        items = ctx.reads.ticket_assets()
        linked = linked_asset_ids(items)
        plan = AssetPlan(linked_asset_ids=sorted(linked))

        phase1 = extract_identifiers([ticket.title, ticket.description], limit=opts.max_identifiers)
        matches = self._verified(ctx, phase1, items, linked)
        plan.identifiers = phase1
        if matches:
            return self._decide(plan, 1, matches, items, linked)

        tried = {normalize(identifier) for identifier in phase1}
        phase2 = [
            identifier
            for identifier in extract_identifiers(
                conversation_texts(ctx.reads.feed()), limit=opts.max_identifiers + len(tried)
            )
            if normalize(identifier) not in tried
        ][: opts.max_identifiers]
        matches = self._verified(ctx, phase2, items, linked)
        if matches:
            plan.identifiers = phase2
            return self._decide(plan, 2, matches, items, linked)
        plan.identifiers = phase1 + phase2
        if plan.identifiers:
            plan.notes.append(
                f"no active computer matches {', '.join(plan.identifiers)} from the ticket exactly"
            )
        return self._requestor_fallback(ctx, ticket, plan, items, linked, reconciling)

    def _verified(
        self,
        ctx: ActionContext,
        identifiers: Sequence[str],
        items: Sequence[ConfigurationItem],
        linked: set[int],
    ) -> list[AssetMatch]:
        """Exact matches among the lookup's candidates, in identifier order, one per asset.

        Stops asking once enough new assets are found to fill ``max_assets_to_add``.
        """
        found: dict[int, AssetMatch] = {}
        new = 0
        for identifier in identifiers:
            for candidate in ctx.lookups.assets_by_identifier(identifier):
                if candidate.id in found or not self.options.eligible(candidate):
                    continue
                match = exact_match(candidate, [identifier])
                if match is None:
                    continue
                found[candidate.id] = match
                if not is_on_ticket(candidate, items, linked):
                    new += 1
            if new >= self.options.max_assets_to_add:
                break
        return list(found.values())

    def _decide(
        self,
        plan: AssetPlan,
        phase: Phase,
        matches: Sequence[AssetMatch],
        items: Sequence[ConfigurationItem],
        linked: set[int],
    ) -> AssetPlan:
        plan.phase = phase
        for match in matches:
            if is_on_ticket(match.asset, items, linked):
                plan.already_linked.append(match)
            elif len(plan.to_link) < self.options.max_assets_to_add:
                plan.to_link.append(match)
        if not plan.to_link:
            names = ", ".join(_label(match.asset) for match in plan.already_linked)
            plan.skip_reason = f"the computer(s) named in {plan.source} are already linked: {names}"
        return plan

    def _requestor_fallback(
        self,
        ctx: ActionContext,
        ticket: Ticket,
        plan: AssetPlan,
        items: Sequence[ConfigurationItem],
        linked: set[int],
        reconciling: bool,
    ) -> AssetPlan:
        found = plan.notes[0] if plan.notes else "no computer name or serial number in the ticket"
        if linked and self.options.skip_if_requestor_asset_exists and not reconciling:
            plan.skip_reason = f"{found}, and it already has an asset linked"
            return plan
        uid = ticket.requestor_uid
        if not uid:
            plan.skip_reason = f"{found}, and it has no requestor"
            return plan
        owned = [
            asset
            for asset in ctx.lookups.assets_by_owner(uid)
            if self.options.eligible(asset, require_active=True)
        ]
        owned = list({asset.id: asset for asset in owned}.values())
        if len(owned) != 1:
            plan.skip_reason = (
                f"{found}, and the requestor owns {len(owned)} active computers (not exactly one)"
            )
            return plan
        only = AssetMatch(owned[0], uid, "owner")
        plan.phase = 3
        if is_on_ticket(only.asset, items, linked):
            plan.already_linked.append(only)
            plan.skip_reason = (
                f"{found}, and the requestor's only computer {_label(only.asset)} is already linked"
            )
        else:
            plan.to_link.append(only)
        return plan

    # -- the protocol --

    def describe(self, ctx: ActionContext) -> str:
        try:
            plan = self.plan(ctx)
        except (TdxError, LookupFailed) as exc:
            return f"would fail to decide: {exc}"
        if not plan.to_link:
            return f"skip: {plan.skip_reason}"
        links = ", ".join(f"{match.asset.id} ({_label(match.asset)})" for match in plan.to_link)
        return f"link asset(s) {links}, found in {plan.source}"

    def execute(self, ctx: ActionContext) -> Outcome:
        try:
            plan = self.plan(ctx)
        except (TdxError, LookupFailed) as exc:
            raise action_error(exc, "looking for the ticket's computers") from exc
        self._share(ctx, plan)
        if not plan.to_link:
            return Skipped(reason=plan.skip_reason or "nothing to link")
        effects = self._link(ctx, plan)
        self._share(ctx, plan, linked_now=[match.asset.id for match in plan.to_link])
        return self._completed(plan, effects)

    def reconcile(self, ctx: ActionContext) -> Reconciliation:
        """After a crash: plan again from fresh reads. Nothing left to link while assets this
        action would choose are on the ticket → FOUND; something left → NOT_FOUND (run again,
        linking only what is missing)."""
        try:
            plan = self.plan(ctx, reconciling=True)
        except (TdxError, LookupFailed) as exc:
            return Reconciliation(ReconcileVerdict.UNKNOWN, note=f"cannot read TDX: {exc}")
        if plan.to_link or not plan.already_linked:
            return Reconciliation(ReconcileVerdict.NOT_FOUND, note="expected asset not linked")
        self._share(ctx, plan)
        effects = [self._effect(ctx.ticket_id, match, plan) for match in plan.already_linked]
        reconciled = AssetPlan(
            phase=plan.phase,
            identifiers=plan.identifiers,
            to_link=plan.already_linked,
            linked_asset_ids=plan.linked_asset_ids,
        )
        return Reconciliation(
            ReconcileVerdict.FOUND,
            outcome=self._completed(reconciled, effects),
            note="the asset(s) are on the ticket",
        )

    # -- helpers --

    def _link(self, ctx: ActionContext, plan: AssetPlan) -> list[Effect]:
        client, app = ctx.reads.client, ctx.tenant.ticket_app_id
        effects: list[Effect] = []
        try:
            for match in plan.to_link:
                try:
                    client.add_ticket_asset(app, ctx.ticket_id, match.asset.id)
                except TdxError as exc:
                    doing = f"linking asset {match.asset.id} ({_label(match.asset)})"
                    raise action_error(exc, doing, effects) from exc
                effects.append(self._effect(ctx.ticket_id, match, plan))
        finally:
            # Later actions of this pass (add_lab, find_active_tickets) must see the new links.
            ctx.reads.invalidate_links()
        return effects

    @staticmethod
    def _effect(ticket_id: int, match: AssetMatch, plan: AssetPlan) -> Effect:
        return Effect(
            kind="asset_link",
            ticket_id=ticket_id,
            target_id=match.asset.id,
            detail={"name": match.asset.name, "matched": match.field, "phase": plan.phase},
        )

    def _share(
        self, ctx: ActionContext, plan: AssetPlan, *, linked_now: Sequence[int] = ()
    ) -> None:
        known = {match.asset.id: match.asset for match in plan.to_link + plan.already_linked}
        ctx.shared[self.TYPE] = {
            "linked_asset_ids": list(linked_now),
            "asset_ids_on_ticket": sorted(set(plan.linked_asset_ids) | set(linked_now)),
            "assets": known,
        }

    def _completed(self, plan: AssetPlan, effects: list[Effect]) -> Completed:
        details: dict[str, Any] = {
            "phase": plan.phase,
            "found_in": plan.source,
            "identifiers": plan.identifiers,
            "linked": [
                {"asset_id": m.asset.id, "name": m.asset.name, "matched": m.field}
                for m in plan.to_link
            ],
            "already_linked": [m.asset.id for m in plan.already_linked],
            "text": summary_text(plan),
        }
        summary = str(summary_html(plan)) if self.options.add_summary_comment else None
        return Completed(summary=summary, details=details, effects=effects)


def _label(asset: Asset) -> str:
    return asset.name or asset.serial_number or asset.tag or f"asset {asset.id}"


def _why(match: AssetMatch) -> str:
    if match.field == "owner":
        return "the requestor's only computer"
    if match.field == "name":
        return "by name"  # the label is the name: no need to repeat it
    return f"by {match.field} {match.identifier}"


def _closing(plan: AssetPlan) -> str:
    if plan.phase == 3:
        return "the ticket names no computer, and this is the requestor's only active computer."
    return f"named in {plan.source}."


def summary_html(plan: AssetPlan) -> Html:
    """One escaped paragraph: which assets were linked, how each was found, and where."""
    items = [
        join([Html("<strong>"), _label(m.asset), Html("</strong>")])
        if m.field == "owner"
        else join([Html("<strong>"), _label(m.asset), Html("</strong> ("), _why(m), ")"])
        for m in plan.to_link
    ]
    count = len(plan.to_link)
    return join(
        [
            Html("<p>"),
            f"Linked {count} asset{'s' if count != 1 else ''}: ",
            join(items, ", "),
            f" — {_closing(plan)}",
            Html("</p>"),
        ]
    )


def summary_text(plan: AssetPlan) -> str:
    """The plain-text form of ``summary_html``."""
    items = ", ".join(
        _label(m.asset) if m.field == "owner" else f"{_label(m.asset)} ({_why(m)})"
        for m in plan.to_link
    )
    count = len(plan.to_link)
    return f"Linked {count} asset{'s' if count != 1 else ''}: {items} — {_closing(plan)}"
