"""The generated tenant's fixed catalog: lookups (statuses, types, forms, priorities, ...),
the two reports, and the settings that tell other code the tenant's ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from .ids import (
    ASSET_CI_FORM_ID,
    BUILDING_ATTRIBUTE_ID,
    CANCELLED,
    CLOSED,
    COMPUTER_CI_TYPE_ID,
    COMPUTER_FORM_ID,
    CONTAINS_RELATIONSHIP_TYPE_ID,
    EAST_HALL_REPORT_ID,
    GROUP_EAST_HALL,
    GROUP_LOAD,
    IN_PROCESS,
    LAB_CI_TYPE_ID,
    LAB_FORM_ID,
    LAB_MEMBERS_ATTRIBUTE_ID,
    LOAD_REPORT_ID,
    NEW,
    ON_HOLD,
    OPEN,
    OPEN_STATUSES,
    REPORT_COLUMNS,
    RESOLVED,
    SAMPLE_TICKET_ID,
    STATUS_DISPOSED,
    STATUS_IN_REPAIR,
    STATUS_IN_STOCK,
    STATUS_IN_USE,
    STATUS_RETIRED,
)
from .tenant import (
    AssetForm,
    AssetStatus,
    Named,
    RelationshipType,
    Report,
    ReportFilter,
    TenantSettings,
    TicketStatus,
)


def settings(ticket_app_id: int, asset_app_id: int) -> TenantSettings:
    return TenantSettings(
        ticket_app_id=ticket_app_id,
        ticket_app_name="Desktop Support Tickets",
        asset_app_id=asset_app_id,
        asset_app_name="Assets/CIs",
        computer_form_id=COMPUTER_FORM_ID,
        active_asset_status_ids=[STATUS_IN_USE, STATUS_IN_STOCK, STATUS_IN_REPAIR],
        inactive_asset_status_ids=[STATUS_RETIRED, STATUS_DISPOSED],
        computer_ci_type_id=COMPUTER_CI_TYPE_ID,
        lab_ci_type_id=LAB_CI_TYPE_ID,
        lab_form_id=LAB_FORM_ID,
        lab_members_attribute_id=LAB_MEMBERS_ATTRIBUTE_ID,
        open_ticket_status_ids=list(OPEN_STATUSES),
        ticket_status_ids={s.name: s.id for s in ticket_statuses()},
        report_ids={"east_hall_unassigned": EAST_HALL_REPORT_ID, "load": LOAD_REPORT_ID},
        sample_ticket_id=SAMPLE_TICKET_ID,
    )


def asset_statuses() -> list[AssetStatus]:
    return [
        AssetStatus(id=STATUS_IN_USE, name="In Use", counts_as_active=True),
        AssetStatus(id=STATUS_IN_STOCK, name="In Stock", counts_as_active=True),
        AssetStatus(id=STATUS_IN_REPAIR, name="In Repair", counts_as_active=True),
        AssetStatus(id=STATUS_RETIRED, name="Retired", counts_as_active=False),
        AssetStatus(id=STATUS_DISPOSED, name="Disposed", counts_as_active=False),
    ]


def asset_forms() -> list[AssetForm]:
    return [
        AssetForm(id=COMPUTER_FORM_ID, name="Computer Form", is_computer=True),
        AssetForm(id=2712, name="Monitor Form", is_computer=False),
        AssetForm(id=2713, name="Printer Form", is_computer=False),
        AssetForm(id=2714, name="Network Device Form", is_computer=False),
    ]


def ci_types() -> list[Named]:
    return [
        Named(id=COMPUTER_CI_TYPE_ID, name="Computer"),
        Named(id=LAB_CI_TYPE_ID, name="Lab"),
        Named(id=10012, name="Monitor"),
        Named(id=10013, name="Printer"),
        Named(id=10014, name="Network Device"),
    ]


def ci_forms() -> list[Named]:
    return [
        Named(id=ASSET_CI_FORM_ID, name="Default CI Form"),
        Named(id=LAB_FORM_ID, name="Lab CI Form"),
    ]


def relationship_types() -> list[RelationshipType]:
    return [
        RelationshipType(
            id=CONTAINS_RELATIONSHIP_TYPE_ID,
            description="Contains",
            inverse_description="Is Contained By",
        )
    ]


def ticket_statuses() -> list[TicketStatus]:
    return [
        TicketStatus(id=NEW, name="New", status_class=1, order=1.0, is_default=True),
        TicketStatus(id=OPEN, name="Open", status_class=2, order=2.0),
        TicketStatus(id=IN_PROCESS, name="In Process", status_class=2, order=3.0),
        TicketStatus(id=ON_HOLD, name="On Hold", status_class=5, order=4.0),
        TicketStatus(id=RESOLVED, name="Resolved", status_class=3, order=5.0),
        TicketStatus(id=CLOSED, name="Closed", status_class=3, order=6.0),
        TicketStatus(id=CANCELLED, name="Cancelled", status_class=4, order=7.0),
    ]


def _named(*pairs: tuple[int, str]) -> list[Named]:
    return [Named(id=item_id, name=name) for item_id, name in pairs]


@dataclass(frozen=True)
class TicketLookups:
    types: list[Named]
    forms: list[Named]
    priorities: list[Named]
    urgencies: list[Named]
    impacts: list[Named]
    sources: list[Named]
    services: list[Named]


def ticket_lookups() -> TicketLookups:
    return TicketLookups(
        types=_named(
            (866, "Desktop Support"),
            (867, "Accounts & Access"),
            (868, "Network"),
            (869, "Printing"),
        ),
        forms=_named((1202, "Desktop Support Form")),
        priorities=_named((328, "High"), (329, "Medium"), (330, "Low")),
        urgencies=_named((6001, "High"), (6002, "Medium"), (6003, "Low")),
        impacts=_named((7001, "Affects User"), (7002, "Affects Group")),
        sources=_named(
            (8001, "Email"), (8002, "Phone"), (8003, "Walk-in"), (8004, "Client Portal")
        ),
        services=_named(
            (1967, "Computer Repair"),
            (1968, "Software Installation"),
            (1969, "Network Connectivity"),
            (1970, "Printing"),
        ),
    )


def reports(load_tickets: int, owner_uid: str) -> list[Report]:
    """1344, the seed's East Hall queue, and 2000, the load queue; both are saved queries."""
    return [
        Report(
            id=EAST_HALL_REPORT_ID,
            name="Desktop Support-East Hall Unassigned Tickets",
            description="Open, unassigned tickets of the East Hall desktop support group.",
            max_results=1000,
            columns=[*REPORT_COLUMNS, str(BUILDING_ATTRIBUTE_ID)],
            sort_column="CreatedDate",
            sort_ascending=True,
            filter=ReportFilter(
                responsible_group_ids=[GROUP_EAST_HALL],
                status_ids=[NEW, OPEN],
                unassigned_only=True,
            ),
            owning_group_id=GROUP_EAST_HALL,
            created_uid=owner_uid,
            created=datetime(2024, 2, 12, 15, 3, 11, 470_000, tzinfo=UTC),
        ),
        Report(
            id=LOAD_REPORT_ID,
            name="Sandbox Load Queue - Open Unassigned Tickets",
            description=None,
            max_results=max(1000, load_tickets),
            columns=list(REPORT_COLUMNS),
            sort_column="TicketID",
            sort_ascending=True,
            filter=ReportFilter(
                responsible_group_ids=[GROUP_LOAD],
                status_ids=[NEW, OPEN, IN_PROCESS],
                unassigned_only=True,
            ),
            owning_group_id=GROUP_LOAD,
            created_uid=owner_uid,
            created=datetime(2025, 6, 2, 9, 41, tzinfo=UTC),
        ),
    ]
