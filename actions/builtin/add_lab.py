"""add_lab: link the one lab configuration item a ticket belongs to.

The lab of the ticket's computers first (the ``labs_by_computer`` lookup for each asset on the
ticket), else a lab the requestor is a member of (``labs_by_member``). Exactly one lab is linked:
with ``lab_selection_strategy = "asset_first"`` the first lab found, with ``"most_common"`` the
lab most of the ticket's computers belong to (ties: the first found). Lab CIs are recognised by
the configured CMDB type and/or form id. ``skip_if_lab_exists`` skips tickets that already have a
lab CI. The chosen CI is read once to check that it is a lab and to name it in the summary.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tdxq.actions import identity
from tdxq.actions.base import ActionBase
from tdxq.actions.html import Html, join
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
from tdxq.tdx.errors import NotFound, TdxError
from tdxq.tdx.models import Asset, ConfigurationItem

from .discovery_support import action_error, is_lab, ticket_links

Strategy = Literal["asset_first", "most_common"]

# Computers asked about per ticket: a ticket with dozens of linked assets is not one lab's issue,
# and each question may cost a TDX call.
MAX_COMPUTERS = 10


class AddLabOptions(BaseModel):
    """Options of ``add_lab``; the lab CI type and form ids are the tenant's, given here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    add_summary_comment: bool = True
    skip_if_lab_exists: bool = True
    lab_selection_strategy: Strategy = "asset_first"
    lab_type_id: int | None = Field(default=None, gt=0, description="CMDB type id of lab CIs")
    lab_form_id: int | None = Field(default=None, gt=0, description="form id of lab CIs")

    @model_validator(mode="after")
    def _recognisable(self) -> AddLabOptions:
        if self.lab_type_id is None and self.lab_form_id is None:
            raise ValueError("lab_type_id or lab_form_id (or both) is needed to recognise labs")
        return self

    def is_lab(self, item: ConfigurationItem) -> bool:
        return is_lab(item, self.lab_type_id, self.lab_form_id)


# --- pure decisions -------------------------------------------------------------------------


def choose_lab(labs_per_computer: Sequence[Sequence[int]], strategy: Strategy) -> int | None:
    """One lab from the labs of each computer (in the ticket's order), or None."""
    ordered: list[int] = []
    counts: Counter[int] = Counter()
    for labs in labs_per_computer:
        for lab in dict.fromkeys(labs):  # a computer counts once per lab
            counts[lab] += 1
            if lab not in ordered:
                ordered.append(lab)
    if not ordered:
        return None
    if strategy == "asset_first":
        return ordered[0]
    best = max(counts.values())
    return next(lab for lab in ordered if counts[lab] == best)


def computer_as_asset(item: ConfigurationItem, known: dict[int, Asset]) -> Asset:
    """The asset behind a linked item: the full row add_asset saw, else what the item tells."""
    asset_id = item.backing_item_id or 0
    if asset_id in known:
        return known[asset_id]
    return Asset(id=asset_id, name=item.name, configuration_item_id=item.id)


@dataclass(slots=True)
class LabPlan:
    lab: ConfigurationItem | None = None
    found_by: Literal["computers", "membership"] | None = None
    computers: list[str] = field(default_factory=list)
    existing_labs: list[ConfigurationItem] = field(default_factory=list)
    skip_reason: str | None = None
    rejected: list[str] = field(default_factory=list)


# --- the action -----------------------------------------------------------------------------


@register_action
class AddLab(ActionBase[AddLabOptions]):
    """Link the lab of the ticket's computers, else of the requestor."""

    TYPE: ClassVar[str] = "add_lab"
    Options: ClassVar[type[BaseModel]] = AddLabOptions
    NEEDS_LOOKUPS: ClassVar[frozenset[str]] = frozenset({"labs_by_computer", "labs_by_member"})

    def legacy_fields(self) -> dict[str, Any]:
        opts = self.options
        return identity.legacy_fields(
            self.TYPE,
            {
                "add_summary_comment": opts.add_summary_comment,
                "skip_if_lab_exists": opts.skip_if_lab_exists,
                "lab_selection_strategy": opts.lab_selection_strategy,
            },
        )

    # -- planning (reads only) --

    def plan(self, ctx: ActionContext, *, ignore_existing: bool = False) -> LabPlan:
        """Decide which lab to link. Raises TdxError / LookupFailed from reads and lookups."""
        opts = self.options
        links = ticket_links(ctx)
        items = links.items
        plan = LabPlan(existing_labs=[item for item in items if opts.is_lab(item)])
        if plan.existing_labs and opts.skip_if_lab_exists and not ignore_existing:
            names = ", ".join(_ci_label(lab) for lab in plan.existing_labs)
            plan.skip_reason = f"the ticket already has a lab: {names}"
            return plan

        known: dict[int, Asset] = dict(ctx.shared.get("add_asset", {}).get("assets", {}))
        computers = [
            computer_as_asset(item, known) for item in links.computers if not opts.is_lab(item)
        ]
        per_computer: list[list[int]] = []
        for asset in computers[:MAX_COMPUTERS]:
            per_computer.append(ctx.lookups.labs_by_computer(asset))
            if per_computer[-1] and opts.lab_selection_strategy == "asset_first":
                break  # the first computer with a lab decides: no need to ask about the rest
        plan.lab = self._first_real_lab(
            ctx, _ranked(per_computer, opts.lab_selection_strategy), plan
        )
        if plan.lab is not None:
            plan.found_by = "computers"
            plan.computers = [
                _asset_label(asset)
                for asset, labs in zip(computers, per_computer, strict=False)
                if plan.lab.id in labs
            ]
        else:
            uid = ctx.reads.ticket().requestor_uid
            member_of = ctx.lookups.labs_by_member(uid) if uid else []
            plan.lab = self._first_real_lab(ctx, member_of, plan)
            plan.found_by = "membership"

        if plan.lab is None:
            plan.found_by = None
            plan.skip_reason = _nothing_found(computers, plan.rejected)
        elif any(item.id == plan.lab.id for item in items) and not ignore_existing:
            plan.skip_reason = f"the lab {_ci_label(plan.lab)} is already linked"
        return plan

    def _first_real_lab(
        self, ctx: ActionContext, candidates: Sequence[int], plan: LabPlan
    ) -> ConfigurationItem | None:
        """The first candidate that TDX confirms is an active lab CI (lookups may be stale)."""
        for lab_id in candidates:
            try:
                ci = ctx.reads.ci(lab_id)
            except NotFound:
                plan.rejected.append(f"CI {lab_id} does not exist")
                continue
            if not self.options.is_lab(ci) or ci.is_active is False:
                plan.rejected.append(f"CI {lab_id} ({ci.name}) is not an active lab")
                continue
            return ci
        return None

    # -- the protocol --

    def describe(self, ctx: ActionContext) -> str:
        try:
            plan = self.plan(ctx)
        except (TdxError, LookupFailed) as exc:
            return f"would fail to decide: {exc}"
        if plan.skip_reason or plan.lab is None:
            return f"skip: {plan.skip_reason}"
        return f"link lab CI {plan.lab.id} ({_ci_label(plan.lab)}), {_reason_text(plan)}"

    def execute(self, ctx: ActionContext) -> Outcome:
        try:
            plan = self.plan(ctx)
        except (TdxError, LookupFailed) as exc:
            raise action_error(exc, "looking for the ticket's lab") from exc
        if plan.skip_reason or plan.lab is None:
            return Skipped(reason=plan.skip_reason or "no lab found")
        lab = plan.lab
        try:
            ctx.reads.client.add_ticket_configuration_item(
                ctx.tenant.ticket_app_id, ctx.ticket_id, lab.id
            )
        except TdxError as exc:
            raise action_error(exc, f"linking lab CI {lab.id} ({_ci_label(lab)})") from exc
        finally:
            ctx.reads.invalidate_links()
        return self._completed(plan, lab, _effect(ctx.ticket_id, lab, plan))

    def reconcile(self, ctx: ActionContext) -> Reconciliation:
        """The lab this action would choose is on the ticket → FOUND; else NOT_FOUND."""
        try:
            plan = self.plan(ctx, ignore_existing=True)
            on_ticket = {item.id for item in ticket_links(ctx).items}
        except (TdxError, LookupFailed) as exc:
            return Reconciliation(ReconcileVerdict.UNKNOWN, note=f"cannot read TDX: {exc}")
        if plan.lab is None or plan.lab.id not in on_ticket:
            return Reconciliation(ReconcileVerdict.NOT_FOUND, note="the lab is not linked")
        outcome = self._completed(plan, plan.lab, _effect(ctx.ticket_id, plan.lab, plan))
        return Reconciliation(ReconcileVerdict.FOUND, outcome=outcome, note="the lab is linked")

    def _completed(self, plan: LabPlan, lab: ConfigurationItem, effect: Effect) -> Completed:
        details = {
            "lab_ci_id": lab.id,
            "lab_name": lab.name,
            "found_by": plan.found_by,
            "computers": plan.computers,
            "text": f"Linked lab {_ci_label(lab)}: {_reason_text(plan)}.",
        }
        summary = str(summary_html(plan, lab)) if self.options.add_summary_comment else None
        return Completed(summary=summary, details=details, effects=[effect])


def _ranked(per_computer: Sequence[Sequence[int]], strategy: Strategy) -> list[int]:
    """All candidate labs, the chosen one first, then the rest in the order found."""
    first = choose_lab(per_computer, strategy)
    if first is None:
        return []
    rest = [lab for labs in per_computer for lab in labs if lab != first]
    return [first, *dict.fromkeys(rest)]


def _effect(ticket_id: int, lab: ConfigurationItem, plan: LabPlan) -> Effect:
    return Effect(
        kind="ci_link",
        ticket_id=ticket_id,
        target_id=lab.id,
        detail={"name": lab.name, "found_by": plan.found_by},
    )


def _nothing_found(computers: Sequence[Asset], rejected: Sequence[str]) -> str:
    where = (
        f"none of its {len(computers)} computer(s) belongs to a lab"
        if computers
        else "it has no computer linked"
    )
    reason = f"no lab found: {where}, and the requestor is not a member of one"
    return f"{reason} ({'; '.join(rejected)})" if rejected else reason


def _asset_label(asset: Asset) -> str:
    return asset.name or asset.serial_number or f"asset {asset.id}"


def _ci_label(ci: ConfigurationItem) -> str:
    return ci.name or f"CI {ci.id}"


def _reason_text(plan: LabPlan) -> str:
    if plan.found_by == "computers":
        return f"the lab of the ticket's computer(s) {', '.join(plan.computers)}"
    return "the requestor is a member of this lab"


def summary_html(plan: LabPlan, lab: ConfigurationItem) -> Html:
    """One escaped paragraph naming the lab and why it was chosen."""
    return join(
        [
            Html("<p>Linked lab <strong>"),
            _ci_label(lab),
            Html("</strong>: "),
            _reason_text(plan),
            ".",
            Html("</p>"),
        ]
    )
