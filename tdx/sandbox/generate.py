"""A realistic tenant, deterministic by seed: people, computers with department-style names
and Apple/Dell/Lenovo/HP serials, lab CIs with members and computers, tickets that mention
computers amid noise, feed conversations, and the reports 1344 and 2000."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from . import catalog, names
from .content import TextPlan, compose_ticket, requestor_reply, tech_comment
from .ids import (
    ASSET_CI_FORM_ID,
    BACKING_ASSET,
    BACKING_CI,
    BUILDING_ATTRIBUTE_ID,
    CANCELLED,
    CLOSED,
    COMPUTER_CI_TYPE_ID,
    COMPUTER_FORM_ID,
    CONTAINS_RELATIONSHIP_TYPE_ID,
    GROUP_CENTRAL,
    GROUP_EAST_HALL,
    GROUP_LOAD,
    GROUP_MEDICAL,
    GROUP_SERVICE_DESK,
    IN_PROCESS,
    LAB_CI_TYPE_ID,
    LAB_FORM_ID,
    NEW,
    ON_HOLD,
    OPEN,
    REFERENCE_TIME,
    RESOLVED,
    SAMPLE_LAB_COMPUTER,
    SAMPLE_TICKET_ID,
    SEARCH_TEXT_TITLE,
    STATUS_DISPOSED,
    STATUS_IN_REPAIR,
    STATUS_IN_STOCK,
    STATUS_IN_USE,
    STATUS_RETIRED,
)
from .serials import make_serial
from .tenant import (
    Asset,
    CiAttribute,
    ConfigurationItem,
    Department,
    FeedEntry,
    Lab,
    Location,
    Named,
    Person,
    ProductModel,
    Relationship,
    Room,
    Tenant,
    Ticket,
    TicketAttribute,
)

__all__ = ["SAMPLE_LAB_COMPUTER", "SAMPLE_TICKET_ID", "SEARCH_TEXT_TITLE", "generate_tenant"]

T = TypeVar("T")

EXCHANGES = ("615", "647", "763", "764", "936")


def generate_tenant(
    seed: int = 1, tickets: int = 500, *, ticket_app_id: int = 46, asset_app_id: int = 48
) -> Tenant:
    """Build the tenant for `seed`; report 2000 holds `tickets` tickets."""
    if tickets < 0:
        raise ValueError(f"tickets must be >= 0, got {tickets}")
    return _Generator(seed, tickets, ticket_app_id, asset_app_id).build()


@dataclass
class _Ids:
    next_value: int
    rng: random.Random

    def take(self, max_gap: int = 7) -> int:
        self.next_value += self.rng.randint(1, max_gap)
        return self.next_value


@dataclass
class _Plan:
    text: TextPlan
    requestor: Person
    ci_ids: list[int] = field(default_factory=list)
    feed_serial: str | None = None


class _Generator:
    def __init__(self, seed: int, load_tickets: int, ticket_app_id: int, asset_app_id: int) -> None:
        self.seed = seed
        self.load_tickets = load_tickets
        self.ticket_app_id = ticket_app_id
        self.asset_app_id = asset_app_id
        self.rng = random.Random(f"tdxq-sandbox:{seed}")
        self.asset_ids = _Ids(400_000 + self.rng.randint(0, 5000), self.rng)
        self.ci_ids = _Ids(700_000 + self.rng.randint(0, 5000), self.rng)
        self.feed_ids = _Ids(22_870_000 + self.rng.randint(0, 5000), self.rng)
        self.relationship_ids = _Ids(51_000, self.rng)
        self.ref_ids = _Ids(40_000, self.rng)
        self.people: list[Person] = []
        self.assets: list[Asset] = []
        self.cis: list[ConfigurationItem] = []
        self.relationships: list[Relationship] = []
        self.labs: list[Lab] = []
        self.tickets: list[Ticket] = []
        self.feed: list[FeedEntry] = []
        self.usernames: set[str] = set()
        self.asset_names: set[str] = set()
        self.serials: set[str] = set()
        self.name_counters: dict[str, int] = {}

    # -- small helpers -------------------------------------------------------------------

    def pick(self, items: Sequence[T]) -> T:
        return items[self.rng.randrange(len(items))]

    def uid(self) -> str:
        r = self.rng
        return (
            f"{r.getrandbits(32):08x}-{r.getrandbits(16):04x}-"
            f"{self.pick(('ec11', 'ed11', 'ee11'))}-{r.getrandbits(16):04x}-"
            f"0050f2{r.getrandbits(24):06x}"
        )

    def moment(self, max_days_before: float, min_days_before: float = 0.0) -> datetime:
        """A past instant with 0-3 fractional digits, like TDX's own timestamps."""
        seconds = self.rng.uniform(min_days_before * 86400, max_days_before * 86400)
        base = REFERENCE_TIME - timedelta(seconds=int(seconds))
        millis = self.pick((0, 0, self.rng.randrange(10) * 100, self.rng.randrange(100) * 10))
        millis = millis or (self.rng.randrange(1000) if self.rng.random() < 0.5 else 0)
        return base.replace(microsecond=millis * 1000)

    def after(self, start: datetime, max_hours: float) -> datetime:
        later = start + timedelta(seconds=self.rng.uniform(60, max_hours * 3600))
        return min(later, REFERENCE_TIME).replace(microsecond=self.rng.randrange(1000) * 1000)

    # -- reference data --------------------------------------------------------------------

    def build_reference_data(self) -> None:
        self.departments = [
            Department(id=11001 + i, name=name, code=code, unit=unit)
            for i, (code, unit, name, _building) in enumerate(names.DEPARTMENTS)
        ]
        self.department_building = {
            11001 + i: building for i, (*_, building) in enumerate(names.DEPARTMENTS)
        }
        self.locations: list[Location] = []
        room_id = 10_001
        for i, (code, building) in enumerate(names.BUILDINGS.items()):
            rooms = []
            for _ in range(6):
                rooms.append(Room(id=room_id, name=str(self.rng.randint(100, 4999))))
                room_id += 1
            self.locations.append(
                Location(id=9001 + i, name=building, building_code=code, rooms=rooms)
            )
        self.location_by_code = {loc.building_code: loc for loc in self.locations}
        self.building_choice = {
            loc.building_code: 26_100 + i for i, loc in enumerate(self.locations)
        }
        self.groups = [
            Named(id=GROUP_EAST_HALL, name="Desktop Support - East Hall"),
            Named(id=GROUP_SERVICE_DESK, name="Service Desk"),
            Named(id=GROUP_MEDICAL, name="Desktop Support - Medical Campus"),
            Named(id=GROUP_CENTRAL, name="Desktop Support - Central Campus"),
            Named(id=GROUP_LOAD, name="Sandbox Load Queue"),
        ]
        self.models: list[ProductModel] = []
        maker_ids: dict[str, int] = {}
        for i, (maker, model, kind, _style) in enumerate(
            names.COMPUTER_MODELS + names.OTHER_MODELS
        ):
            maker_id = maker_ids.setdefault(maker, 1030 + len(maker_ids))
            self.models.append(
                ProductModel(
                    id=1070 + i,
                    name=model,
                    manufacturer_id=maker_id,
                    manufacturer_name=maker,
                    kind=kind,
                )
            )
        self.serial_style = {
            1070 + i: style
            for i, (*_, style) in enumerate(names.COMPUTER_MODELS + names.OTHER_MODELS)
        }

    # -- people ------------------------------------------------------------------------------

    def username_for(self, first: str, last: str) -> str:
        base = re.sub(r"[^a-z]", "", (first[0] + last).lower())[:8]
        candidate, n = base, 1
        while candidate in self.usernames:
            n += 1
            candidate = f"{base[:7]}{n}"
        self.usernames.add(candidate)
        return candidate

    def add_person(
        self, first: str, last: str, title: str, department: Department, username: str | None = None
    ) -> Person:
        username = username or self.username_for(first, last)
        self.usernames.add(username)
        building = self.department_building[department.id]
        person = Person(
            uid=self.uid(),
            ref_id=self.ref_ids.take(9),
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@example.edu",
            phone=f"734-{self.pick(EXCHANGES)}-{self.rng.randrange(10000):04d}",
            title=title,
            department_id=department.id,
            location_id=self.location_by_code[building].id,
            is_active=self.rng.random() > 0.03,
        )
        self.people.append(person)
        return person

    def build_people(self) -> None:
        its = next(d for d in self.departments if d.code == "ITS")
        self.sandbox_user = self.add_person(
            "Sandbox", "Technician", names.TECH_TITLES[0], its, "sandbox"
        )
        self.admin_user = self.add_person(
            "Sandbox", "API Account", "Service Account", its, "sandbox-admin"
        )
        self.sandbox_user.is_active = self.admin_user.is_active = True
        self.technicians = [
            self.add_person(
                self.pick(names.FIRST_NAMES),
                self.pick(names.LAST_NAMES),
                self.pick(names.TECH_TITLES),
                its,
            )
            for _ in range(8)
        ]
        for tech in self.technicians:
            tech.is_active = True
        # East Hall departments are over-represented: report 1344 is their queue.
        weights = [4 if building == "EH" else 1 for *_, building in names.DEPARTMENTS]
        count = 250 + self.load_tickets // 5
        self.staff: list[Person] = []
        for _ in range(count):
            department = self.rng.choices(self.departments, weights=weights)[0]
            self.staff.append(
                self.add_person(
                    self.pick(names.FIRST_NAMES),
                    self.pick(names.LAST_NAMES),
                    self.pick(names.STAFF_TITLES),
                    department,
                )
            )

    # -- assets and CIs ----------------------------------------------------------------------

    def serial(self, style: str) -> str:
        while True:
            text = make_serial(self.rng, style)
            if text not in self.serials:
                self.serials.add(text)
                return text

    def next_name(self, prefix: str, digits: int, dash: bool) -> str:
        self.name_counters[prefix] = self.name_counters.get(prefix, 0) + self.rng.randint(1, 3)
        number = f"{self.name_counters[prefix]:0{digits}d}"
        return f"{prefix}-{number}" if dash else f"{prefix}{number}"

    def personal_computer_name(self, department: Department) -> str:
        building = self.department_building[department.id]
        style = self.rng.randrange(4)
        if style == 0:
            name = self.next_name(f"{department.unit}-{department.code}-LT", 2, dash=False)
        elif style == 1:
            name = self.next_name(f"{department.unit}-{department.code}-WS", 2, dash=True)
        elif style == 2:
            name = self.next_name(f"{department.unit}-{department.code}-DT", 3, dash=False)
        else:
            name = self.next_name(f"{building}-{department.code}-WS", 3, dash=True)
        self.asset_names.add(name)
        return name

    def add_asset(
        self,
        *,
        name: str,
        model: ProductModel,
        form_id: int,
        status_id: int,
        owner: Person | None,
        department: Department,
        lab_ci_id: int | None = None,
        ci_type_id: int = COMPUTER_CI_TYPE_ID,
    ) -> Asset:
        created = self.moment(1500, 30)
        building = self.department_building[department.id]
        location = self.location_by_code[building]
        asset = Asset(
            id=self.asset_ids.take(),
            ci_id=self.ci_ids.take(),
            name=name,
            serial=self.serial(self.serial_style[model.id]),
            tag=f"{self.rng.randrange(10_000, 999_999):07d}" if self.rng.random() < 0.7 else None,
            form_id=form_id,
            status_id=status_id,
            model_id=model.id,
            owner_uid=owner.uid if owner else None,
            department_id=department.id,
            location_id=location.id,
            room_id=self.pick(location.rooms).id,
            lab_ci_id=lab_ci_id,
            purchase_cost=round(self.rng.uniform(400, 3200), 2),
            acquired=(created - timedelta(days=self.rng.randint(0, 20)))
            if self.rng.random() < 0.8
            else None,
            created=created,
            modified=self.after(created, 24 * 200),
        )
        self.assets.append(asset)
        self.cis.append(
            ConfigurationItem(
                id=asset.ci_id,
                name=name,
                type_id=ci_type_id,
                form_id=ASSET_CI_FORM_ID,
                backing_item_id=asset.id,
                backing_item_type=BACKING_ASSET,
                is_system_maintained=True,
                owner_uid=asset.owner_uid,
                department_id=department.id,
                location_id=location.id,
                is_active=status_id in (STATUS_IN_USE, STATUS_IN_STOCK, STATUS_IN_REPAIR),
                attributes=[],
                created=created,
                modified=asset.modified,
            )
        )
        return asset

    def computer_models(self) -> list[ProductModel]:
        return [m for m in self.models if m.kind in ("laptop", "desktop")]

    def build_labs(self) -> None:
        by_code = {d.code: d for d in self.departments}
        for code, kind, room, count in names.LABS:
            department = by_code[code]
            building = self.department_building[department.id]
            lab_ci_id = self.ci_ids.take()
            created = self.moment(900, 200)
            lab_name = f"{names.BUILDINGS[building]} {department.name} {kind} ({building} {room})"
            model = self.pick([m for m in self.computer_models() if m.kind == "desktop"])
            computers: list[Asset] = []
            for n in range(1, count + 1):
                name = f"{building}-{code}-LAB-{n:03d}"
                self.asset_names.add(name)
                status = STATUS_IN_REPAIR if self.rng.random() < 0.08 else STATUS_IN_USE
                if name == SAMPLE_LAB_COMPUTER:
                    status = STATUS_IN_USE
                computers.append(
                    self.add_asset(
                        name=name,
                        model=model,
                        form_id=COMPUTER_FORM_ID,
                        status_id=status,
                        owner=None,
                        department=department,
                        lab_ci_id=lab_ci_id,
                    )
                )
            pool = [p for p in self.staff if p.department_id == department.id]
            members = self.rng.sample(pool, k=min(len(pool), self.rng.randint(6, 20)))
            members += self.rng.sample(self.staff, k=2)
            member_uids = list(dict.fromkeys(p.uid for p in members))
            self.labs.append(
                Lab(
                    ci_id=lab_ci_id,
                    name=lab_name,
                    building_code=building,
                    room=room,
                    member_uids=member_uids,
                    computer_asset_ids=[a.id for a in computers],
                )
            )
            self.cis.append(
                ConfigurationItem(
                    id=lab_ci_id,
                    name=lab_name,
                    type_id=LAB_CI_TYPE_ID,
                    form_id=LAB_FORM_ID,
                    backing_item_id=lab_ci_id,
                    backing_item_type=BACKING_CI,
                    is_system_maintained=False,
                    owner_uid=members[0].uid,
                    department_id=department.id,
                    location_id=self.location_by_code[building].id,
                    is_active=True,
                    attributes=[CiAttribute(id=6121, name="Lab Room", value=f"{building} {room}")],
                    created=created,
                    modified=self.after(created, 24 * 100),
                )
            )
            for computer in computers:
                self.relationships.append(
                    Relationship(
                        id=self.relationship_ids.take(3),
                        parent_ci_id=lab_ci_id,
                        child_ci_id=computer.ci_id,
                        type_id=CONTAINS_RELATIONSHIP_TYPE_ID,
                        created=self.after(created, 24 * 30),
                    )
                )

    def build_personal_computers(self) -> None:
        by_id = {d.id: d for d in self.departments}
        self.computers_of: dict[str, list[Asset]] = {}
        for person in self.staff:
            department = by_id[person.department_id]
            count = self.rng.choices((0, 1, 2, 3), weights=(30, 45, 20, 5))[0]
            for _ in range(count):
                status = self.rng.choices(
                    (STATUS_IN_USE, STATUS_IN_STOCK, STATUS_IN_REPAIR), weights=(90, 4, 6)
                )[0]
                asset = self.add_asset(
                    name=self.personal_computer_name(department),
                    model=self.pick(self.computer_models()),
                    form_id=COMPUTER_FORM_ID,
                    status_id=status,
                    owner=person,
                    department=department,
                )
                self.computers_of.setdefault(person.uid, []).append(asset)
            # Some people's old machines are retired; a few replacements reuse the old name.
            if self.rng.random() < 0.12:
                owned = self.computers_of.get(person.uid, [])
                reuse = owned and self.rng.random() < 0.5
                name = owned[0].name if reuse else self.personal_computer_name(department)
                old = self.add_asset(
                    name=name,
                    model=self.pick(self.computer_models()),
                    form_id=COMPUTER_FORM_ID,
                    status_id=self.pick((STATUS_RETIRED, STATUS_DISPOSED)),
                    owner=person,
                    department=department,
                )
                self.computers_of.setdefault(person.uid, []).append(old)

    def build_other_assets(self) -> None:
        monitor = next(m for m in self.models if m.kind == "monitor")
        printer = next(m for m in self.models if m.kind == "printer")
        switch = next(m for m in self.models if m.kind == "network")
        by_id = {d.id: d for d in self.departments}
        owned = [a for assets in self.computers_of.values() for a in assets]
        # A monitor named after its computer: a search for the computer's name finds both.
        for computer in self.rng.sample(owned, k=min(40, len(owned))):
            self.add_asset(
                name=f"{computer.name}-MON",
                model=monitor,
                form_id=2712,
                status_id=STATUS_IN_USE,
                owner=None,
                department=by_id[computer.department_id],
                ci_type_id=10012,
            )
        for department in self.departments:
            building = self.department_building[department.id]
            floor = self.rng.randint(1, 4)
            self.add_asset(
                name=f"{building}-{floor}FL-PRN-{self.rng.randint(1, 9):02d}",
                model=printer,
                form_id=2713,
                status_id=STATUS_IN_USE,
                owner=None,
                department=department,
                ci_type_id=10013,
            )
            if self.rng.random() < 0.3:
                self.add_asset(
                    name=f"{building}-SW-{self.rng.randint(1, 40):02d}",
                    model=switch,
                    form_id=2714,
                    status_id=STATUS_IN_USE,
                    owner=None,
                    department=department,
                    ci_type_id=10014,
                )

    # -- tickets -----------------------------------------------------------------------------

    def active_computers(self, person: Person) -> list[Asset]:
        return [
            a
            for a in self.computers_of.get(person.uid, [])
            if a.status_id in (STATUS_IN_USE, STATUS_IN_STOCK, STATUS_IN_REPAIR)
        ]

    def add_ticket(
        self,
        ticket_id: int,
        plan: _Plan,
        *,
        group_id: int,
        status_id: int,
        responsible: Person | None = None,
        max_age_days: float = 10.0,
    ) -> Ticket:
        text = compose_ticket(self.rng, plan.text, plan.requestor)
        created = self.moment(max_age_days, 0.05)
        department = plan.requestor.department_id
        building = self.department_building[department]
        location = self.location_by_code[building]
        ticket = Ticket(
            id=ticket_id,
            app_id=self.ticket_app_id,
            title=text.title,
            description=text.description,
            is_rich_html=text.is_rich_html,
            type_id=self.pick((866, 866, 866, 867, 868, 869)),
            form_id=1202,
            classification=self.pick((46, 46, 32)),
            account_id=department,
            source_id=self.pick((8001, 8001, 8002, 8003, 8004)),
            status_id=status_id,
            priority_id=self.pick((329, 329, 330, 328)),
            urgency_id=self.pick((6001, 6002, 6003)),
            impact_id=self.pick((7001, 7002)),
            requestor_uid=plan.requestor.uid,
            responsible_uid=responsible.uid if responsible else None,
            responsible_group_id=group_id,
            location_id=location.id,
            room_id=self.pick(location.rooms).id,
            service_id=self.pick((1967, 1967, 1968, 1969, 1970)),
            created=created,
            created_uid=plan.requestor.uid,
            modified=created,
            modified_uid=plan.requestor.uid,
            responded=None,
            completed=None,
            ci_ids=list(plan.ci_ids),
            attributes=[
                TicketAttribute(
                    id=BUILDING_ATTRIBUTE_ID,
                    name="Building",
                    value=str(self.building_choice[building]),
                    value_text=names.BUILDINGS[building],
                )
            ],
        )
        self.add_conversation(ticket, plan)
        self.tickets.append(ticket)
        return ticket

    def add_feed(
        self,
        ticket: Ticket,
        body: str,
        author: Person,
        update_type: int,
        private: bool,
        when: datetime,
    ) -> None:
        self.feed.append(
            FeedEntry(
                id=self.feed_ids.take(40),
                ticket_id=ticket.id,
                body=body,
                created_uid=author.uid,
                created=when,
                update_type=update_type,
                is_private=private,
                is_communication=False,
                is_rich_html=True,
                notified=[],
            )
        )
        ticket.modified = max(ticket.modified, when)
        ticket.modified_uid = author.uid

    def add_conversation(self, ticket: Ticket, plan: _Plan) -> None:
        when = ticket.created
        tech = self.pick(self.technicians)
        names_by_id = {
            NEW: "New",
            OPEN: "Open",
            IN_PROCESS: "In Process",
            ON_HOLD: "On Hold",
            RESOLVED: "Resolved",
            CLOSED: "Closed",
            CANCELLED: "Cancelled",
        }
        if ticket.status_id != NEW:
            when = self.after(when, 30)
            body = f'Changed Status from "New" to "{names_by_id[ticket.status_id]}".'
            self.add_feed(ticket, body, tech, 2, False, when)
            ticket.responded = when
            if ticket.status_id in (RESOLVED, CLOSED, CANCELLED):
                ticket.completed = when
        for _ in range(self.pick((0, 0, 1, 1, 2, 3))):
            when = self.after(when, 40)
            if self.rng.random() < 0.5:
                self.add_feed(
                    ticket,
                    tech_comment(self.rng, plan.requestor),
                    tech,
                    1,
                    self.rng.random() < 0.3,
                    when,
                )
            else:
                self.add_feed(ticket, requestor_reply(self.rng), plan.requestor, 1, False, when)
        if plan.feed_serial is not None:
            when = self.after(when, 20)
            self.add_feed(
                ticket, requestor_reply(self.rng, plan.feed_serial), plan.requestor, 1, False, when
            )

    def owner_with(self, people: Sequence[Person], want_exactly_one: bool) -> Person:
        candidates = [
            p
            for p in people
            if (len(self.active_computers(p)) == 1) == want_exactly_one
            and (not want_exactly_one or len(self.computers_of.get(p.uid, [])) == 1)
        ]
        return self.pick(candidates or list(people))

    def computer_owned_in(self, people: Sequence[Person], style: str | None = None) -> Asset:
        candidates = [
            a
            for p in people
            for a in self.active_computers(p)
            if style is None or self.serial_style[a.model_id] == style
        ]
        if not candidates:
            candidates = [a for p in self.staff for a in self.active_computers(p)]
        return self.pick(candidates)

    def owner_of(self, asset: Asset) -> Person:
        assert asset.owner_uid is not None
        return self.person_by_uid[asset.owner_uid]

    def east_hall_plans(self) -> list[_Plan]:
        """The dozen tickets of report 1344, each exercising one case of the actions."""
        east = [p for p in self.staff if self.department_building[p.department_id] == "EH"]
        chem_lab = self.labs[0]
        lab_computer = next(a for a in self.assets if a.name == SAMPLE_LAB_COMPUTER)
        lab_member = self.person_by_uid[chem_lab.member_uids[0]]
        plans: list[_Plan] = []
        # 9291804: a lab computer named in styled HTML; the requestor is a member of its lab.
        plans.append(
            _Plan(
                TextPlan(
                    names_in_description=[lab_computer.name],
                    plain_text=False,
                    title=f"Lab computer {lab_computer.name} stuck at log-in",
                ),
                lab_member,
            )
        )
        mac = self.computer_owned_in(east, "apple")
        plans.append(_Plan(TextPlan(serials_in_description=[mac.serial]), self.owner_of(mac)))
        dell = self.computer_owned_in(east, "dell")
        plans.append(
            _Plan(
                TextPlan(name_in_title=dell.name, serials_in_description=[dell.serial]),
                self.owner_of(dell),
            )
        )
        plans.append(_Plan(TextPlan(), self.owner_with(east, want_exactly_one=True)))
        feed_one = self.computer_owned_in(east)
        plans.append(_Plan(TextPlan(), self.owner_of(feed_one), feed_serial=feed_one.serial))
        linked = self.computer_owned_in(east)
        plans.append(
            _Plan(
                TextPlan(names_in_description=[linked.name]),
                self.owner_of(linked),
                ci_ids=[linked.ci_id],
            )
        )
        plans.append(
            _Plan(
                TextPlan(title="<script>alert(1)</script> pop-up on log-in"),
                self.owner_with(east, want_exactly_one=False),
            )
        )
        printer = next(a for a in self.assets if a.name.startswith("EH-") and "-PRN-" in a.name)
        plans.append(
            _Plan(
                TextPlan(
                    names_in_description=[printer.name],
                    title="Printer & scanner \"jammed\" in O'Neil's office",
                ),
                self.pick(east),
            )
        )
        nul = self.computer_owned_in(east)
        plans.append(
            _Plan(TextPlan(names_in_description=[nul.name], with_nul_byte=True), self.owner_of(nul))
        )
        retired = [
            a
            for a in self.assets
            if a.status_id in (STATUS_RETIRED, STATUS_DISPOSED) and a.owner_uid is not None
        ]
        old = self.pick(retired)
        plans.append(_Plan(TextPlan(names_in_description=[old.name]), self.owner_of(old)))
        two_owner = next((p for p in east if len(self.active_computers(p)) >= 2), None)
        if two_owner is not None:
            first, second = self.active_computers(two_owner)[:2]
            plans.append(_Plan(TextPlan(names_in_description=[first.name, second.name]), two_owner))
        plans.append(
            _Plan(TextPlan(title=SEARCH_TEXT_TITLE), self.person_by_uid[chem_lab.member_uids[1]])
        )
        plans.append(_Plan(TextPlan(names_in_description=["EH-CHEM-LAB-099"]), self.pick(east)))
        return plans

    def pool_of(self, people: Sequence[Person]) -> list[Asset]:
        """The active computers these people own (candidates for a ticket to mention)."""
        return [a for p in people for a in self.active_computers(p)]

    def random_plan(self, people: Sequence[Person], pool: Sequence[Asset]) -> _Plan:
        roll = self.rng.random()
        if roll < 0.30:
            asset = self.pick(pool)
            return _Plan(TextPlan(names_in_description=[asset.name]), self.owner_of(asset))
        if roll < 0.45:
            asset = self.pick(pool)
            return _Plan(TextPlan(serials_in_description=[asset.serial]), self.owner_of(asset))
        if roll < 0.52:
            asset = self.pick(pool)
            return _Plan(TextPlan(name_in_title=asset.name), self.owner_of(asset))
        if roll < 0.57:
            asset = self.pick(pool)
            tag = asset.tag or asset.serial
            return _Plan(TextPlan(tags_in_description=[tag]), self.owner_of(asset))
        if roll < 0.65:
            asset = self.pick(pool)
            return _Plan(TextPlan(), self.owner_of(asset), feed_serial=asset.serial)
        if roll < 0.72:
            lab = self.pick(self.labs)
            computer = self.asset_by_id[self.pick(lab.computer_asset_ids)]
            member = self.person_by_uid[self.pick(lab.member_uids)]
            return _Plan(TextPlan(names_in_description=[computer.name]), member)
        if roll < 0.76:
            asset = self.pick(pool)
            return _Plan(
                TextPlan(names_in_description=[asset.name]),
                self.owner_of(asset),
                ci_ids=[asset.ci_id],
            )
        if roll < 0.78:
            hostile = self.pick(
                (
                    'Mouse & keyboard "dead"',
                    "<b>URGENT</b> <script>x()</script>",
                    "Can't open O'Reilly e-books",
                )
            )
            return _Plan(TextPlan(title=hostile), self.pick(people))
        return _Plan(TextPlan(), self.pick(people))

    def build_tickets(self) -> None:
        self.person_by_uid = {p.uid: p for p in self.people}
        self.asset_by_id = {a.id: a for a in self.assets}
        east_plans = self.east_hall_plans()
        neighbours = [i for i in range(9_291_700, 9_291_900) if i != SAMPLE_TICKET_ID]
        east_ids = [SAMPLE_TICKET_ID, *sorted(self.rng.sample(neighbours, k=len(east_plans) - 1))]
        report_requestors: list[Person] = []
        for ticket_id, plan in zip(east_ids, east_plans, strict=True):
            self.add_ticket(
                ticket_id, plan, group_id=GROUP_EAST_HALL, status_id=self.pick((NEW, NEW, OPEN))
            )
            report_requestors.append(plan.requestor)
        span = max(self.load_tickets * 20, 1000)
        load_ids = sorted(self.rng.sample(range(9_300_000, 9_300_000 + span), k=self.load_tickets))
        staff_pool = self.pool_of(self.staff)
        for ticket_id in load_ids:
            plan = self.random_plan(self.staff, staff_pool)
            self.add_ticket(
                ticket_id,
                plan,
                group_id=GROUP_LOAD,
                status_id=self.pick((NEW, NEW, OPEN, IN_PROCESS)),
                max_age_days=30,
            )
            report_requestors.append(plan.requestor)
        # Other tickets, not in any report: the related tickets that a search should find.
        background = 60 + self.load_tickets // 10
        related_pool = (
            self.pool_of(list({p.uid: p for p in report_requestors}.values())) or staff_pool
        )
        for ticket_id in sorted(self.rng.sample(range(9_200_000, 9_290_000), k=background)):
            related = self.rng.random() < 0.35
            if related:
                plan = self.random_plan(report_requestors, related_pool)
            else:
                plan = self.random_plan(self.staff, staff_pool)
            if related:
                plan.requestor = self.pick(report_requestors)
            owned = self.active_computers(plan.requestor)
            if owned and self.rng.random() < 0.5:
                plan.ci_ids = [self.pick(owned).ci_id]
            if self.rng.random() < 0.2:
                plan.ci_ids.append(self.pick(self.labs).ci_id)
            open_ticket = self.rng.random() < 0.6
            status = self.pick(
                (NEW, OPEN, IN_PROCESS, ON_HOLD)
                if open_ticket
                else (RESOLVED, CLOSED, CLOSED, CANCELLED)
            )
            group = self.pick((GROUP_EAST_HALL, GROUP_SERVICE_DESK, GROUP_MEDICAL, GROUP_CENTRAL))
            self.add_ticket(
                ticket_id,
                plan,
                group_id=group,
                status_id=status,
                responsible=self.pick(self.technicians),
                max_age_days=120,
            )

    # -- assembly ----------------------------------------------------------------------------

    def build(self) -> Tenant:
        self.build_reference_data()
        self.build_people()
        self.build_labs()
        self.build_personal_computers()
        self.build_other_assets()
        self.build_tickets()
        lookups = catalog.ticket_lookups()
        return Tenant(
            seed=self.seed,
            load_tickets=self.load_tickets,
            generated_at=REFERENCE_TIME,
            settings=catalog.settings(self.ticket_app_id, self.asset_app_id),
            departments=self.departments,
            groups=self.groups,
            locations=self.locations,
            people=self.people,
            asset_statuses=catalog.asset_statuses(),
            asset_forms=catalog.asset_forms(),
            product_models=self.models,
            assets=self.assets,
            ci_types=catalog.ci_types(),
            ci_forms=catalog.ci_forms(),
            cis=self.cis,
            relationship_types=catalog.relationship_types(),
            relationships=self.relationships,
            labs=self.labs,
            ticket_statuses=catalog.ticket_statuses(),
            ticket_types=lookups.types,
            ticket_forms=lookups.forms,
            priorities=lookups.priorities,
            urgencies=lookups.urgencies,
            impacts=lookups.impacts,
            sources=lookups.sources,
            services=lookups.services,
            tickets=self.tickets,
            feed=self.feed,
            reports=catalog.reports(self.load_tickets, self.technicians[0].uid),
        )
