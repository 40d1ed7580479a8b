"""The generated tenant's ids and fixed points (tenant configuration: nothing outside the
sandbox may use these; other code reads them from `tenant.settings`)."""

from __future__ import annotations

from datetime import UTC, datetime

# Generated data is dated before this instant, so a tenant is the same whenever it is built.
REFERENCE_TIME = datetime(2026, 10, 1, 14, 0, tzinfo=UTC)
EAST_HALL_REPORT_ID = 1344
LOAD_REPORT_ID = 2000
SAMPLE_TICKET_ID = 9291804
SAMPLE_LAB_COMPUTER = "EH-CHEM-LAB-014"
SEARCH_TEXT_TITLE = "AT&T + C# wi-fi hotspot drops in EH 1810"

# Tenant ids (configuration of the generated tenant; nothing outside the sandbox uses them).
COMPUTER_FORM_ID = 2711
STATUS_IN_USE, STATUS_IN_STOCK, STATUS_IN_REPAIR, STATUS_RETIRED, STATUS_DISPOSED = (
    641,
    642,
    643,
    644,
    645,
)
COMPUTER_CI_TYPE_ID = 10010
LAB_CI_TYPE_ID = 10011
LAB_FORM_ID = 3105
ASSET_CI_FORM_ID = 3100
LAB_MEMBERS_ATTRIBUTE_ID = 6120
BUILDING_ATTRIBUTE_ID = 5501
CONTAINS_RELATIONSHIP_TYPE_ID = 7
BACKING_ASSET = 27
BACKING_CI = 63
GROUP_EAST_HALL, GROUP_SERVICE_DESK, GROUP_MEDICAL, GROUP_CENTRAL, GROUP_LOAD = (
    388,
    389,
    390,
    391,
    392,
)
NEW, OPEN, IN_PROCESS, ON_HOLD, RESOLVED, CLOSED, CANCELLED = (
    1041,
    1042,
    1043,
    1044,
    1045,
    1046,
    1047,
)
OPEN_STATUSES = [NEW, OPEN, IN_PROCESS, ON_HOLD]
REPORT_COLUMNS = [
    "TicketID",
    "Title",
    "StatusName",
    "CustomerName",
    "AccountName",
    "ResponsibleGroupName",
    "CreatedDate",
    "ModifiedDate",
]
