"""Report 1344 and 2000, ticket 9291804, and the path and query tolerance TDX clients rely on."""

from __future__ import annotations

import httpx
import pytest

from tdxq.tdx.sandbox import SandboxApp

from .conftest import IN_PROCESS_ROOT, TEST_TICKETS

REPORT_KEYS = {
    "ID",
    "Name",
    "Description",
    "MaxResults",
    "DisplayedColumns",
    "SortOrder",
    "ChartType",
    "ChartSettings",
    "DataRows",
    "CreatedUid",
    "CreatedFullName",
    "CreatedDate",
    "OwningGroupID",
    "OwningGroupName",
    "SystemAppName",
    "PlatformAppID",
    "PlatformAppName",
    "ReportSourceID",
    "ReportSourceName",
    "Uri",
}
COLUMN_KEYS = {
    "HeaderText",
    "ColumnName",
    "DataType",
    "SortColumnExpression",
    "SortColumnName",
    "SortDataType",
    "Aggregate",
    "Component",
    "FooterExpression",
}


def test_report_1344_has_the_documented_shape_and_about_a_dozen_tickets(
    client: httpx.Client,
) -> None:
    response = client.get("reports/1344", params={"withData": "true", "dataSortExpression": ""})

    assert response.status_code == 200
    report = response.json()
    assert set(report) == REPORT_KEYS
    assert report["Name"] == "Desktop Support-East Hall Unassigned Tickets"
    assert report["Uri"] == "api/reports/1344"
    for column in report["DisplayedColumns"]:
        assert set(column) == COLUMN_KEYS
    names = [c["ColumnName"] for c in report["DisplayedColumns"]]
    assert {"TicketID", "Title", "CreatedDate", "ModifiedDate"} <= set(names)
    assert any(name.isdigit() for name in names), "a custom-attribute column keyed by its id"
    rows = report["DataRows"]
    assert 10 <= len(rows) <= 15
    assert all(set(row) == set(names) for row in rows)
    assert all(isinstance(row["TicketID"], int) for row in rows)
    assert 9291804 in [row["TicketID"] for row in rows]


@pytest.mark.parametrize("flag", ["True", "true", "TRUE"])
def test_with_data_accepts_every_spelling_of_true(client: httpx.Client, flag: str) -> None:
    rows = client.get(f"reports/1344?withData={flag}&dataSortExpression=").json()["DataRows"]
    assert len(rows) > 0


@pytest.mark.parametrize("query", ["?withData=False", "?withData=false", ""])
def test_without_data_there_are_no_rows(client: httpx.Client, query: str) -> None:
    report = client.get(f"reports/1344{query}").json()
    assert report["DataRows"] == []
    assert report["DisplayedColumns"]


def test_a_bad_boolean_is_a_bad_request(client: httpx.Client) -> None:
    response = client.get("reports/1344?withData=yes")
    assert response.status_code == 400
    assert "withData" in response.json()["Message"]


def test_data_sort_expression_orders_rows(client: httpx.Client) -> None:
    ascending = client.get("reports/1344?withData=true&dataSortExpression=TicketID").json()
    descending = client.get("reports/1344?withData=true&dataSortExpression=TicketID DESC").json()

    ids = [row["TicketID"] for row in ascending["DataRows"]]
    assert ids == sorted(ids)
    assert [row["TicketID"] for row in descending["DataRows"]] == sorted(ids, reverse=True)
    assert client.get("reports/1344?withData=true&dataSortExpression=Nope").status_code == 400


def test_report_2000_holds_the_load_tickets(client: httpx.Client) -> None:
    rows = client.get("reports/2000?withData=True").json()["DataRows"]
    assert len(rows) == TEST_TICKETS


def test_unknown_report_is_404_with_a_message(client: httpx.Client) -> None:
    response = client.get("reports/999")
    assert response.status_code == 404
    assert "999" in response.json()["Message"]


def test_reports_are_live_queries_a_resolved_ticket_leaves(client: httpx.Client) -> None:
    client.post(
        "46/tickets/9291804/feed", json={"Comments": "done", "NewStatusID": 1045}
    ).raise_for_status()

    rows = client.get("reports/1344?withData=true").json()["DataRows"]

    assert 9291804 not in [row["TicketID"] for row in rows]


def test_report_list_and_search(client: httpx.Client) -> None:
    listed = client.get("reports").json()
    found = client.post("reports/search", json={"SearchText": "east hall"}).json()

    assert {r["ID"] for r in listed} == {1344, 2000}
    assert "DataRows" not in listed[0]
    assert [r["ID"] for r in found] == [1344]


def test_ticket_9291804_has_the_documented_fields(client: httpx.Client, app: SandboxApp) -> None:
    ticket = client.get("46/tickets/9291804").json()

    assert ticket["ID"] == 9291804
    assert ticket["AppID"] == 46
    assert ticket["Uri"] == "api/46/tickets/9291804"
    assert "EH-CHEM-LAB-014" in ticket["Title"] + ticket["Description"]
    for key in (
        "TypeID",
        "StatusID",
        "StatusName",
        "StatusClass",
        "RequestorUid",
        "RequestorEmail",
        "ResponsibleGroupID",
        "CreatedDate",
        "ModifiedDate",
        "RespondedDate",
        "CompletedDate",
        "Attributes",
        "Attachments",
        "Tasks",
        "Notify",
        "IsRichHtml",
        "Description",
    ):
        assert key in ticket
    assert ticket["ResponsibleUid"] is None
    assert ticket["StatusID"] in app.settings.open_ticket_status_ids
    assert len(ticket) > 100


@pytest.mark.parametrize(
    "url",
    [
        f"{IN_PROCESS_ROOT}/TDWebApi/api/46/tickets/9291804",
        f"{IN_PROCESS_ROOT}/TDWebApi/api//46/tickets/9291804",
        f"{IN_PROCESS_ROOT}/TDWebApi/api/46/tickets/9291804/",
        f"{IN_PROCESS_ROOT}/SBTDWebApi/api/46/tickets/9291804",
        f"{IN_PROCESS_ROOT}/tdwebapi/API/46/Tickets/9291804",
    ],
)
def test_paths_tolerate_doubled_and_trailing_slashes_and_case(
    client: httpx.Client, url: str
) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert response.json()["ID"] == 9291804


def test_doubled_slash_before_reports_as_lsats_builds_it(client: httpx.Client) -> None:
    response = client.get(f"{IN_PROCESS_ROOT}/TDWebApi/api//reports/1344/?withData=True")
    assert response.status_code == 200
    assert response.json()["DataRows"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("47/tickets/9291804", 404),  # wrong ticket app
        ("48/tickets/9291804", 404),  # the asset app is not a ticket app
        ("46/assets/1", 404),  # the ticket app is not the asset app
        ("46/tickets/1", 404),  # no such ticket
        ("46/nonsense", 404),
        ("reports/1344/extra", 404),
    ],
)
def test_wrong_ids_and_unknown_paths_are_404_with_a_message(
    client: httpx.Client, path: str, status: int
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.json()["Message"]


def test_an_unsupported_method_is_405(client: httpx.Client) -> None:
    response = client.delete("reports/1344")
    assert response.status_code == 405
    assert "DELETE" in response.json()["Message"]


def test_statuses_carry_their_class(client: httpx.Client, app: SandboxApp) -> None:
    statuses = client.get("46/tickets/statuses").json()

    by_name = {s["Name"]: s for s in statuses}
    assert {"New", "Open", "In Process", "On Hold", "Resolved", "Closed"} <= set(by_name)
    assert by_name["New"]["StatusClass"] == 1
    assert by_name["Resolved"]["StatusClass"] == 3
    assert by_name["On Hold"]["StatusClass"] == 5
    open_ids = {s["ID"] for s in statuses if s["StatusClass"] in (1, 2, 5)}
    assert open_ids == set(app.settings.open_ticket_status_ids)
