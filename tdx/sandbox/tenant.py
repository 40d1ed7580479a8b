"""The sandbox tenant's data: plain records, dumpable to and loadable from JSON.

These are the sandbox's own compact records; `render.py` turns them into TDX's payload shapes.
A tenant is produced by `generate.generate_tenant` (deterministic by seed) or loaded from a file.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Named(Record):
    id: int
    name: str


class Department(Named):
    code: str
    unit: str


class Room(Named):
    pass


class Location(Named):
    building_code: str
    rooms: list[Room]


class Person(Record):
    uid: str
    ref_id: int
    username: str
    first_name: str
    last_name: str
    email: str
    phone: str
    title: str
    department_id: int
    location_id: int
    is_active: bool = True
    is_employee: bool = True

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class AssetStatus(Named):
    counts_as_active: bool


class AssetForm(Named):
    is_computer: bool


class ProductModel(Named):
    manufacturer_id: int
    manufacturer_name: str
    kind: str


class Asset(Record):
    id: int
    ci_id: int
    name: str
    serial: str
    tag: str | None
    form_id: int
    status_id: int
    model_id: int
    owner_uid: str | None
    department_id: int
    location_id: int
    room_id: int
    lab_ci_id: int | None
    purchase_cost: float
    acquired: datetime | None
    created: datetime
    modified: datetime


class CiAttribute(Record):
    id: int
    name: str
    value: str


class ConfigurationItem(Record):
    id: int
    name: str
    type_id: int
    form_id: int
    backing_item_id: int
    backing_item_type: int
    is_system_maintained: bool
    owner_uid: str | None
    department_id: int
    location_id: int
    is_active: bool
    attributes: list[CiAttribute]
    created: datetime
    modified: datetime


class RelationshipType(Record):
    id: int
    description: str
    inverse_description: str


class Relationship(Record):
    id: int
    parent_ci_id: int
    child_ci_id: int
    type_id: int
    created: datetime


class Lab(Record):
    """A lab as plain data, for the SQL-lookup path: who may use it, which computers it has.
    The same membership is exposed on the lab CI as a custom attribute."""

    ci_id: int
    name: str
    building_code: str
    room: str
    member_uids: list[str]
    computer_asset_ids: list[int]


class TicketStatus(Named):
    status_class: int
    order: float
    is_default: bool = False


class TicketAttribute(Record):
    id: int
    name: str
    value: str
    value_text: str


class FeedEntry(Record):
    id: int
    ticket_id: int
    body: str
    created_uid: str
    created: datetime
    update_type: int
    is_private: bool
    is_communication: bool
    is_rich_html: bool
    notified: list[str]


class Ticket(Record):
    id: int
    app_id: int
    title: str
    description: str
    is_rich_html: bool
    type_id: int
    form_id: int
    classification: int
    account_id: int
    source_id: int
    status_id: int
    priority_id: int
    urgency_id: int
    impact_id: int
    requestor_uid: str
    responsible_uid: str | None
    responsible_group_id: int
    location_id: int
    room_id: int
    service_id: int
    created: datetime
    created_uid: str
    modified: datetime
    modified_uid: str
    responded: datetime | None
    completed: datetime | None
    ci_ids: list[int]
    attributes: list[TicketAttribute]


class ReportFilter(Record):
    responsible_group_ids: list[int]
    status_ids: list[int]
    unassigned_only: bool


class Report(Record):
    id: int
    name: str
    description: str | None
    max_results: int
    columns: list[str]
    sort_column: str
    sort_ascending: bool
    filter: ReportFilter
    owning_group_id: int
    created_uid: str
    created: datetime


class TenantSettings(Record):
    """The tenant's ids, so other commands can print a working tdxq configuration."""

    ticket_app_id: int
    ticket_app_name: str
    asset_app_id: int
    asset_app_name: str
    computer_form_id: int
    active_asset_status_ids: list[int]
    inactive_asset_status_ids: list[int]
    computer_ci_type_id: int
    lab_ci_type_id: int
    lab_form_id: int
    lab_members_attribute_id: int
    open_ticket_status_ids: list[int]
    ticket_status_ids: dict[str, int]
    report_ids: dict[str, int]
    sample_ticket_id: int
    web_path: str = "/TDNext"

    def web_url_base(self, root_url: str) -> str:
        """e.g. `http://127.0.0.1:8123/TDNext`; ticket pages live under it."""
        return root_url.rstrip("/") + self.web_path


class Tenant(Record):
    seed: int
    load_tickets: int
    generated_at: datetime
    settings: TenantSettings
    departments: list[Department]
    groups: list[Named]
    locations: list[Location]
    people: list[Person]
    asset_statuses: list[AssetStatus]
    asset_forms: list[AssetForm]
    product_models: list[ProductModel]
    assets: list[Asset]
    ci_types: list[Named]
    ci_forms: list[Named]
    cis: list[ConfigurationItem]
    relationship_types: list[RelationshipType]
    relationships: list[Relationship]
    labs: list[Lab]
    ticket_statuses: list[TicketStatus]
    ticket_types: list[Named]
    ticket_forms: list[Named]
    priorities: list[Named]
    urgencies: list[Named]
    impacts: list[Named]
    sources: list[Named]
    services: list[Named]
    tickets: list[Ticket]
    feed: list[FeedEntry]
    reports: list[Report]

    def dump_json(self, path: str | Path) -> None:
        Path(path).write_text(self.model_dump_json(indent=1), encoding="utf-8")

    @classmethod
    def load_json(cls, path: str | Path) -> Tenant:
        """Load a dumped tenant; a bad file raises ValueError naming the file and the field."""
        source = Path(path)
        try:
            return cls.model_validate_json(source.read_bytes())
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ValueError(
                f"{source}: not a sandbox tenant: {where}: {first['msg']} "
                f"({exc.error_count()} problem(s))"
            ) from None

    def summary(self) -> dict[str, int]:
        return {
            "people": len(self.people),
            "assets": len(self.assets),
            "configuration_items": len(self.cis),
            "labs": len(self.labs),
            "tickets": len(self.tickets),
            "feed_entries": len(self.feed),
            "reports": len(self.reports),
        }
