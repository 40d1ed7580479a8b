"""The live tenant: indexes for fast lookups, and the mutations the API applies for real.

Not thread-safe by itself; the app serializes access with one lock."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from .tenant import (
    Asset,
    CiAttribute,
    ConfigurationItem,
    FeedEntry,
    Lab,
    Person,
    Relationship,
    Report,
    Tenant,
    Ticket,
    TicketStatus,
)

LAB_MEMBERS_NAME = "Lab Members"


class TenantStore:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.settings = tenant.settings
        self.people_by_uid = {p.uid.lower(): p for p in tenant.people}
        self.people_by_username = {p.username.lower(): p for p in tenant.people}
        self.people_by_email = {p.email.lower(): p for p in tenant.people}
        self.assets_by_id = {a.id: a for a in tenant.assets}
        self.assets_by_ci = {a.ci_id: a for a in tenant.assets}
        self.cis_by_id = {c.id: c for c in tenant.cis}
        self.labs_by_ci = {lab.ci_id: lab for lab in tenant.labs}
        self.tickets_by_id = {t.id: t for t in tenant.tickets}
        self.reports_by_id = {r.id: r for r in tenant.reports}
        self.statuses_by_id = {s.id: s for s in tenant.ticket_statuses}
        self.names = {
            "department": {d.id: d.name for d in tenant.departments},
            "group": {g.id: g.name for g in tenant.groups},
            "location": {loc.id: loc.name for loc in tenant.locations},
            "room": {r.id: r.name for loc in tenant.locations for r in loc.rooms},
            "asset_status": {s.id: s.name for s in tenant.asset_statuses},
            "asset_form": {f.id: f.name for f in tenant.asset_forms},
            "ci_type": {t.id: t.name for t in tenant.ci_types},
            "ci_form": {f.id: f.name for f in tenant.ci_forms},
            "ticket_type": {t.id: t.name for t in tenant.ticket_types},
            "ticket_form": {f.id: f.name for f in tenant.ticket_forms},
            "priority": {p.id: p.name for p in tenant.priorities},
            "urgency": {u.id: u.name for u in tenant.urgencies},
            "impact": {i.id: i.name for i in tenant.impacts},
            "source": {s.id: s.name for s in tenant.sources},
            "service": {s.id: s.name for s in tenant.services},
        }
        self.models_by_id = {m.id: m for m in tenant.product_models}
        self.priority_order = {p.id: float(i + 1) for i, p in enumerate(tenant.priorities)}
        self.relationship_types = {t.id: t for t in tenant.relationship_types}
        self.feed_by_ticket: dict[int, list[FeedEntry]] = defaultdict(list)
        for entry in tenant.feed:
            self.feed_by_ticket[entry.ticket_id].append(entry)
        self.tickets_by_ci: dict[int, list[int]] = defaultdict(list)
        for ticket in tenant.tickets:
            for ci_id in ticket.ci_ids:
                self.tickets_by_ci[ci_id].append(ticket.id)
        self.relationships_by_ci: dict[int, list[Relationship]] = defaultdict(list)
        for rel in tenant.relationships:
            self.relationships_by_ci[rel.parent_ci_id].append(rel)
            self.relationships_by_ci[rel.child_ci_id].append(rel)
        self.next_feed_id = max((e.id for e in tenant.feed), default=22_870_000) + 1
        self._search_text: dict[int, str] = {}

    # -- lookups --------------------------------------------------------------------------

    def name(self, kind: str, item_id: int | None) -> str:
        if not item_id:
            return ""
        return self.names[kind].get(item_id, "")

    def person(self, uid_or_username: str | None) -> Person | None:
        if not uid_or_username:
            return None
        key = uid_or_username.strip().lower()
        return self.people_by_uid.get(key) or self.people_by_username.get(key)

    def status(self, status_id: int) -> TicketStatus | None:
        return self.statuses_by_id.get(status_id)

    def feed_for(self, ticket_id: int) -> list[FeedEntry]:
        """Newest first, as TDX lists a feed."""
        entries = self.feed_by_ticket.get(ticket_id, [])
        return sorted(entries, key=lambda e: (e.created, e.id), reverse=True)

    def ci_attributes(self, ci: ConfigurationItem) -> list[CiAttribute]:
        """A lab CI carries its member list as a custom attribute of comma-joined UIDs."""
        lab = self.labs_by_ci.get(ci.id)
        if lab is None:
            return list(ci.attributes)
        members = CiAttribute(
            id=self.settings.lab_members_attribute_id,
            name=LAB_MEMBERS_NAME,
            value=",".join(lab.member_uids),
        )
        return [*ci.attributes, members]

    def lab_of(self, ci_id: int) -> Lab | None:
        return self.labs_by_ci.get(ci_id)

    def tickets_linked_to(self, ci_id: int) -> list[Ticket]:
        return [self.tickets_by_id[t] for t in self.tickets_by_ci.get(ci_id, [])]

    def report_tickets(self, report: Report) -> list[Ticket]:
        """Reports are saved queries: evaluated on every call, so tickets leave a report
        when an action changes their status or assignment."""
        wanted_groups = set(report.filter.responsible_group_ids)
        wanted_statuses = set(report.filter.status_ids)
        return [
            t
            for t in self.tenant.tickets
            if t.responsible_group_id in wanted_groups
            and t.status_id in wanted_statuses
            and (not report.filter.unassigned_only or t.responsible_uid is None)
        ]

    def search_text(self, ticket: Ticket) -> str:
        """What ticket SearchText matches: title, description, attribute text, feed text."""
        cached = self._search_text.get(ticket.id)
        if cached is None:
            parts = [ticket.title, ticket.description]
            parts.extend(a.value_text for a in ticket.attributes)
            parts.extend(e.body for e in self.feed_by_ticket.get(ticket.id, []))
            cached = "\n".join(parts).lower()
            self._search_text[ticket.id] = cached
        return cached

    # -- mutations --------------------------------------------------------------------------

    def touched(self, ticket: Ticket, when: datetime, by_uid: str) -> None:
        ticket.modified = when
        ticket.modified_uid = by_uid
        self._search_text.pop(ticket.id, None)

    def add_feed_entry(self, entry: FeedEntry) -> None:
        self.tenant.feed.append(entry)
        self.feed_by_ticket[entry.ticket_id].append(entry)
        self.next_feed_id = max(self.next_feed_id, entry.id + 1)

    def take_feed_id(self) -> int:
        value = self.next_feed_id
        self.next_feed_id += 1
        return value

    def link_ci(self, ticket: Ticket, ci_id: int) -> bool:
        if ci_id in ticket.ci_ids:
            return False
        ticket.ci_ids.append(ci_id)
        self.tickets_by_ci[ci_id].append(ticket.id)
        return True

    def unlink_ci(self, ticket: Ticket, ci_id: int) -> bool:
        if ci_id not in ticket.ci_ids:
            return False
        ticket.ci_ids.remove(ci_id)
        self.tickets_by_ci[ci_id].remove(ticket.id)
        return True

    def asset_of_ci(self, ci_id: int) -> Asset | None:
        return self.assets_by_ci.get(ci_id)
