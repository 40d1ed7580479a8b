"""A sandbox tenant with hand-made tickets for the discovery actions, and the actions configured
for it the way ``tdxq sandbox init-config`` does (every id from the tenant's settings)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from tdxq.actions.builtin.add_asset import AddAsset, AddAssetOptions
from tdxq.actions.builtin.add_lab import AddLab, AddLabOptions
from tdxq.actions.builtin.find_active_tickets import FindActiveTickets, FindActiveTicketsOptions
from tdxq.actions.identifiers import classify
from tdxq.tdx.sandbox.generate import generate_tenant
from tdxq.tdx.sandbox.tenant import Asset, FeedEntry, Person, Tenant, Ticket

from ..pipeline.tdx_env import TdxEnv, make_env, tdx_lookups

CSS_HEAVY = """<html><head><style><!--
p.MsoNormal {margin:0in; font-size:11.0pt; font-family:"Calibri",sans-serif; panose-1:2 15 5 2;
 mso-style-priority:99; mso-fareast-font-family:Calibri; color:#1F497D; line-height:1.4}
--></style></head><body style="word-wrap:break-word; margin-top:0px">
<p class="MsoNormal" style="font-family: Segoe UI; margin-top: 4px">Hi, my screen flickers after
the follow-up e-mail about the wi-fi change (COVID-19 policy, Windows-10 build).<o:p></o:p></p>
<p class="MsoNormal">Call 734-555-0123, (734) 555-0199 or +1 734 555 0100, or write to
jdoe42@umich.edu / rad-tech3@med.umich.edu. See https://kb.example.edu/KB5034441?x=C02XK1.</p>
<script>var A1B2C3D4E5 = "MED-RAD-WS-99";</script></body></html>"""

SCRIPT_TITLE = "<script>alert('pwned')</script> & <b>URGENT</b>"


@dataclass
class World:
    tenant: Tenant
    env: TdxEnv
    add_asset: AddAsset
    add_lab: AddLab
    find: FindActiveTickets


class TenantBuilder:
    """Adds tickets and feed entries to a generated tenant before the sandbox serves it."""

    def __init__(self, seed: int = 1) -> None:
        self.tenant = generate_tenant(seed, tickets=0)
        self._template = self.tenant.tickets[0]
        self._next_ticket = 9_800_000
        self._next_feed = 99_000_000

    @property
    def computers(self) -> list[Asset]:
        s = self.tenant.settings
        return [
            a
            for a in self.tenant.assets
            if a.form_id == s.computer_form_id and a.status_id in s.active_asset_status_ids
        ]

    def computer_with_serial(self, skip: int = 0) -> Asset:
        """An active computer whose serial has the shape of one (some Lenovo serials have no
        digit, and tokens without a digit are never identifiers)."""
        found = [a for a in self.computers if classify(a.serial) is not None]
        return found[skip]

    def person_owning(self, active: int, *, retired: int | None = None) -> Person:
        """A person who owns exactly ``active`` active computers (and ``retired`` retired)."""
        s = self.tenant.settings
        active_count = Counter(a.owner_uid for a in self.computers)
        retired_count = Counter(
            a.owner_uid
            for a in self.tenant.assets
            if a.form_id == s.computer_form_id and a.status_id in s.inactive_asset_status_ids
        )
        for person in self.tenant.people:
            if active_count[person.uid] == active and (
                retired is None or retired_count[person.uid] == retired
            ):
                return person
        raise LookupError(f"no person owns exactly {active} active computers")

    def ticket(
        self,
        title: str,
        description: str,
        requestor: Person,
        *,
        linked: list[int] | None = None,
        status_id: int | None = None,
        age_days: int = 0,
    ) -> Ticket:
        self._next_ticket += 1
        ticket = self._template.model_copy(
            update={
                "id": self._next_ticket,
                "title": title,
                "description": description,
                "requestor_uid": requestor.uid,
                "created_uid": requestor.uid,
                "ci_ids": list(linked or []),
                "status_id": status_id or self.tenant.settings.open_ticket_status_ids[0],
                "modified": self._template.modified - timedelta(days=age_days),
            },
            deep=True,
        )
        self.tenant.tickets.append(ticket)
        return ticket

    def comment(self, ticket: Ticket, body: str, author: Person, *, minutes: int = 5) -> None:
        self._next_feed += 1
        self.tenant.feed.append(
            FeedEntry(
                id=self._next_feed,
                ticket_id=ticket.id,
                body=body,
                created_uid=author.uid,
                created=ticket.created + timedelta(minutes=minutes),
                update_type=1,
                is_private=False,
                is_communication=False,
                is_rich_html=True,
                notified=[],
            )
        )

    def world(self) -> World:
        s = self.tenant.settings
        statuses, forms = sorted(s.active_asset_status_ids), [s.computer_form_id]
        lookups = tdx_lookups(self.tenant)
        return World(
            tenant=self.tenant,
            env=make_env(self.tenant, lookups),
            add_asset=AddAsset(
                AddAssetOptions(computer_form_ids=forms, active_status_ids=statuses), "v2"
            ),
            add_lab=AddLab(
                AddLabOptions(lab_type_id=s.lab_ci_type_id, lab_form_id=s.lab_form_id), "v2"
            ),
            find=FindActiveTickets(
                FindActiveTicketsOptions(
                    active_status_ids=s.open_ticket_status_ids, lab_type_id=s.lab_ci_type_id
                ),
                "v1",
            ),
        )
