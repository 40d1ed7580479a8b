"""Ticket, asset, CMDB and people searches; text with `&`, `+`, `#` and spaces arrives intact."""

from __future__ import annotations

import httpx
import pytest

from tdxq.tdx.sandbox import SandboxApp
from tdxq.tdx.sandbox.ids import SEARCH_TEXT_TITLE

SEARCH_TEXT = "AT&T + C# wi-fi"


@pytest.mark.parametrize("transport", ["in-process", "http"])
def test_search_text_with_reserved_characters_arrives_intact(
    request: pytest.FixtureRequest, transport: str
) -> None:
    client: httpx.Client = request.getfixturevalue(
        "client" if transport == "in-process" else "http_client"
    )

    found = client.post("46/tickets/search", json={"SearchText": SEARCH_TEXT}).json()
    lookup = client.get("people/lookup", params={"searchText": "a&b + c#d"})

    assert [t["Title"] for t in found] == [SEARCH_TEXT_TITLE]
    assert lookup.status_code == 200
    assert lookup.json() == []


@pytest.mark.parametrize("transport", ["in-process", "http"])
def test_query_values_are_decoded_once(
    request: pytest.FixtureRequest, app: SandboxApp, transport: str
) -> None:
    client: httpx.Client = request.getfixturevalue(
        "client" if transport == "in-process" else "http_client"
    )
    person = app.tenant.people[50]

    rows = client.get("people/lookup", params={"searchText": person.full_name}).json()

    assert person.uid in [r["UID"] for r in rows]


def test_ticket_search_rows_are_partial(client: httpx.Client) -> None:
    rows = client.post("46/tickets/search", json={"TicketID": 9291804}).json()

    [row] = rows
    assert row["ID"] == 9291804
    for missing in ("Description", "Attributes", "Notify", "Attachments", "Tasks"):
        assert missing not in row
    assert "Title" in row and "StatusID" in row


def test_ticket_search_filters(app: SandboxApp, client: httpx.Client) -> None:
    ticket = app.store.tickets_by_id[9291804]
    open_classes = [1, 2, 5]
    lab = app.tenant.labs[0]
    client.post(f"46/tickets/9291804/configurationItems/{lab.ci_id}").raise_for_status()

    by_requestor = client.post(
        "46/tickets/search",
        json={"RequestorUids": [ticket.requestor_uid.upper()], "StatusClassIDs": open_classes},
    ).json()
    by_status = client.post(
        "46/tickets/search", json={"StatusIDs": [ticket.status_id], "MaxResults": 0}
    ).json()
    by_ci = client.post("46/tickets/search", json={"ConfigurationItemIDs": [lab.ci_id]}).json()
    capped = client.post("46/tickets/search", json={"MaxResults": "5"}).json()

    assert 9291804 in [t["ID"] for t in by_requestor]
    assert all(t["RequestorUid"] == ticket.requestor_uid for t in by_requestor)
    assert all(t["StatusClass"] in open_classes for t in by_requestor)
    assert {t["StatusID"] for t in by_status} == {ticket.status_id}
    assert 9291804 in [t["ID"] for t in by_ci]
    assert len(capped) == 5


def test_ticket_search_text_also_matches_the_feed(app: SandboxApp, client: httpx.Client) -> None:
    client.post("46/tickets/9291804/feed", json={"Comments": "zebra-crossing-7731"})
    found = client.post("46/tickets/search", json={"SearchText": "ZEBRA-crossing-7731"}).json()
    assert [t["ID"] for t in found] == [9291804]


def test_asset_search_by_serial_and_text(app: SandboxApp, client: httpx.Client) -> None:
    settings = app.settings
    asset = next(a for a in app.tenant.assets if a.name == "EH-CHEM-LAB-014")

    by_serial = client.post(
        "48/assets/search", json={"SerialLike": asset.serial[2:9].lower()}
    ).json()
    by_name = client.post(
        "48/assets/search",
        json={
            "SearchText": asset.name,
            "StatusIDs": settings.active_asset_status_ids,
            "FormIDs": [settings.computer_form_id],
            "MaxResults": "25",
        },
    ).json()

    assert asset.id in [a["ID"] for a in by_serial]
    assert by_name[0]["ID"] == asset.id
    assert all(a["FormID"] == settings.computer_form_id for a in by_name)
    assert "Attributes" not in by_name[0]
    assert by_name[0]["SerialNumber"] == asset.serial
    assert by_name[0]["ConfigurationItemID"] == asset.ci_id


def test_asset_search_text_covers_tag_model_and_manufacturer(
    app: SandboxApp, client: httpx.Client
) -> None:
    tagged = next(a for a in app.tenant.assets if a.tag)

    by_tag = client.post("48/assets/search", json={"SearchText": tagged.tag}).json()
    by_maker = client.post("48/assets/search", json={"SearchText": "apple", "MaxResults": 0}).json()

    assert tagged.id in [a["ID"] for a in by_tag]
    assert by_maker and all(a["ManufacturerName"] == "Apple" for a in by_maker)


def test_asset_search_by_owner(app: SandboxApp, client: httpx.Client) -> None:
    owned = next(a for a in app.tenant.assets if a.owner_uid)
    rows = client.post("48/assets/search", json={"OwningCustomerIDs": [owned.owner_uid]}).json()
    assert owned.id in [a["ID"] for a in rows]
    assert {a["OwningCustomerID"] for a in rows} == {owned.owner_uid}


def test_a_full_asset(app: SandboxApp, client: httpx.Client) -> None:
    asset = app.tenant.assets[0]
    payload = client.get(f"48/assets/{asset.id}").json()
    assert payload["Attributes"] == []
    assert payload["Uri"] == f"api/48/assets/{asset.id}"
    assert client.get("48/assets/1").status_code == 404


def test_cmdb_search_finds_labs_and_their_members(app: SandboxApp, client: httpx.Client) -> None:
    settings = app.settings
    lab = app.tenant.labs[0]
    member = lab.member_uids[3]

    by_type = client.post(
        "48/cmdb/search", json={"TypeIDs": [settings.lab_ci_type_id], "IsActive": "true"}
    ).json()
    by_name = client.post("48/cmdb/search", json={"NameLike": "chemistry teaching"}).json()
    by_member = client.post(
        "48/cmdb/search",
        json={
            "TypeIDs": [settings.lab_ci_type_id],
            "CustomAttributes": [{"ID": settings.lab_members_attribute_id, "Value": member}],
        },
    ).json()

    assert len(by_type) == len(app.tenant.labs)
    assert [c["ID"] for c in by_name] == [lab.ci_id]
    assert lab.ci_id in [c["ID"] for c in by_member]
    members = next(
        a["Value"]
        for a in by_member[0]["Attributes"]
        if a["ID"] == settings.lab_members_attribute_id
    )
    assert member in members.split(",")


def test_lab_relationships_link_the_lab_and_its_computers(
    app: SandboxApp, client: httpx.Client
) -> None:
    lab = app.tenant.labs[0]
    computer = app.store.assets_by_id[lab.computer_asset_ids[0]]

    relationships = client.get(f"48/cmdb/{lab.ci_id}/relationships").json()
    reverse = client.get(f"48/cmdb/{computer.ci_id}/relationships").json()

    assert len(relationships) == len(lab.computer_asset_ids)
    assert {r["ParentID"] for r in relationships} == {lab.ci_id}
    assert computer.ci_id in {r["ChildID"] for r in relationships}
    assert [r["ParentID"] for r in reverse] == [lab.ci_id]
    assert reverse[0]["ParentTypeID"] == app.settings.lab_ci_type_id
    assert client.get(f"48/cmdb/{computer.ci_id}").json()["BackingItemID"] == computer.id


def test_people_by_uid_username_and_search(app: SandboxApp, client: httpx.Client) -> None:
    person = app.tenant.people[60]

    by_uid = client.get(f"people/{person.uid}").json()
    by_username = client.get(f"people/{person.username}").json()
    uid = client.get(f"people/getuid/{person.username}").json()
    found = client.post(
        "people/search", json={"SearchText": person.email, "MaxResults": "5"}
    ).json()
    exact = client.post("people/search", json={"UserName": person.username.upper()}).json()

    assert by_uid["UID"] == by_username["UID"] == uid == person.uid
    assert by_uid["PrimaryEmail"] == person.email
    assert person.uid in [p["UID"] for p in found]
    assert [p["UID"] for p in exact] == [person.uid]
    assert client.get("people/nobody-at-all").status_code == 404
