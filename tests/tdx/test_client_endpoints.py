"""Each endpoint method against the sandbox returns the documented shapes as models."""

from __future__ import annotations

import logging
import re

import pytest

from tdxq.tdx import (
    AssetSearch,
    ConfigurationItemSearch,
    PatchOperation,
    PersonSearch,
    TdxClient,
    TicketFeedEntry,
    TicketSearch,
)

from .conftest import ADMIN, ASSET_APP, FAST, REPORT_ID, TICKET_APP, TICKET_ID, SandboxFactory

AWKWARD_TEXT = "Wire & Plug + Socket #7  spaced"


def test_report_with_rows(sandbox: SandboxFactory) -> None:
    client = sandbox().client()
    report = client.get_report(REPORT_ID)
    assert report.name == "Desktop Support-East Hall Unassigned Tickets"
    columns = {column.column_name for column in report.displayed_columns}
    assert "TicketID" in columns
    assert all(set(row) <= columns for row in report.data_rows)
    assert TICKET_ID in {row["TicketID"] for row in report.data_rows}
    assert client.get_report(REPORT_ID, with_data=False).data_rows == []


def test_ticket_feed_statuses_and_patch(sandbox: SandboxFactory) -> None:
    client = sandbox().client()
    ticket = client.get_ticket(TICKET_APP, TICKET_ID)
    assert (ticket.id, ticket.app_id) == (TICKET_ID, TICKET_APP)
    assert ticket.created_date is not None and ticket.created_date.tzinfo is not None
    assert ticket.requestor_uid
    statuses = client.get_ticket_statuses(TICKET_APP)
    assert {status.status_class for status in statuses} >= {1, 2, 3}
    feed = client.get_ticket_feed(TICKET_APP, TICKET_ID)
    assert all(item.item_id in (TICKET_ID, None) for item in feed)
    patched = client.patch_ticket(
        TICKET_APP, TICKET_ID, [PatchOperation(op="replace", path="/title", value="Renamed")]
    )
    assert patched.title == "Renamed"
    with pytest.raises(ValueError, match="at least one"):
        client.patch_ticket(TICKET_APP, TICKET_ID, [])


def test_post_feed_with_status_change_and_notify(sandbox: SandboxFactory) -> None:
    box = sandbox()
    client = box.client()
    in_process = next(s for s in client.get_ticket_statuses(TICKET_APP) if s.name == "In Process")
    entry = TicketFeedEntry(
        comments="<p>Looking into it</p>",
        is_rich_html=True,
        is_private=False,
        is_communication=True,
        notify=["someone@example.edu"],
        new_status_id=in_process.id,
    )
    item = client.post_ticket_feed(TICKET_APP, TICKET_ID, entry)
    assert item.id > 0
    assert client.get_ticket(TICKET_APP, TICKET_ID).status_id == in_process.id
    [write] = box.writes()
    assert write["body"] == entry.to_tdx()


def test_ticket_asset_and_ci_links(sandbox: SandboxFactory) -> None:
    box = sandbox()
    client = box.client()
    asset = client.search_assets(ASSET_APP, AssetSearch(search_text=""))[0]
    assert asset.name
    assert client.get_asset(ASSET_APP, asset.id).id == asset.id
    client.add_ticket_asset(TICKET_APP, TICKET_ID, asset.id)
    linked = client.get_ticket_assets(TICKET_APP, TICKET_ID)
    assert asset.id in {ci.backing_item_id for ci in linked} | {ci.id for ci in linked}

    lab = client.search_configuration_items(ASSET_APP, ConfigurationItemSearch(name_like="Lab"))[0]
    client.add_ticket_configuration_item(TICKET_APP, TICKET_ID, lab.id)
    assert lab.id in {ci.id for ci in client.get_ticket_configuration_items(TICKET_APP, TICKET_ID)}
    assert client.get_configuration_item(ASSET_APP, lab.id).name == lab.name
    assert TICKET_ID in {t.id for t in client.get_configuration_item_tickets(ASSET_APP, lab.id)}
    for relationship in client.get_configuration_item_relationships(ASSET_APP, lab.id):
        assert lab.id in (relationship.parent_id, relationship.child_id)
    assert [w["effect"] is not None for w in box.writes()] == [True, True]


def test_asset_search_by_serial(sandbox: SandboxFactory) -> None:
    box = sandbox()
    client = box.client()
    target = next(a for a in box.app.tenant.assets if a.serial)
    found = client.search_assets(ASSET_APP, AssetSearch(serial_like=target.serial))
    assert target.id in {asset.id for asset in found}


def test_people(sandbox: SandboxFactory) -> None:
    box = sandbox()
    client = box.client()
    someone = box.app.tenant.people[0]
    by_uid = client.get_person(someone.uid)
    assert (by_uid.uid, by_uid.user_name) == (someone.uid, someone.username)
    assert client.get_person(someone.username).uid == someone.uid
    found = client.search_people(PersonSearch(user_name=someone.username))
    assert [p.uid for p in found] == [someone.uid]


def test_search_text_with_reserved_characters_arrives_intact(sandbox: SandboxFactory) -> None:
    box = sandbox()
    client = box.client()
    # In a JSON body (ticket search) ...
    client.post_ticket_feed(TICKET_APP, TICKET_ID, TicketFeedEntry(comments=AWKWARD_TEXT))
    [write] = box.writes()
    assert write["body"]["Comments"] == AWKWARD_TEXT
    found = client.search_tickets(TICKET_APP, TicketSearch(search_text=AWKWARD_TEXT.lower()))
    assert [t.id for t in found] == [TICKET_ID]
    # ... and in a query string (people lookup). Two people differ only after the "#": text cut
    # at "&" or "#" would match both, "+" read as a space would match neither.
    first, second = box.app.tenant.people[3], box.app.tenant.people[4]
    first.last_name, second.last_name = "Q & R+S #1 x", "Q & R+S #2 x"
    looked_up = client.lookup_people("Q & R+S #1", max_results=100)
    assert [p.uid for p in looked_up] == [first.uid]


@pytest.mark.parametrize(
    "suffix", ["/TDWebApi/api", "/TDWebApi/api/", "//TDWebApi//api//", "/SBTDWebApi/api"]
)
def test_base_url_forms_reach_the_api(sandbox: SandboxFactory, suffix: str) -> None:
    box = sandbox()
    transport = box.app.transport() if box.transport is not None else None
    with TdxClient(box.root_url + suffix, ADMIN, FAST, transport=transport) as client:
        assert client.get_ticket(TICKET_APP, TICKET_ID).id == TICKET_ID


def test_calls_are_logged_at_debug_with_template_status_and_time(
    sandbox: SandboxFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tdxq.tdx")
    client = sandbox().client()
    client.get_ticket(TICKET_APP, TICKET_ID)
    lines = [r.getMessage() for r in caplog.records if r.name == "tdxq.tdx"]
    assert any(re.fullmatch(r"POST auth/loginadmin → 200 in [\d.]+ ms.*", line) for line in lines)
    assert any(
        re.fullmatch(r"GET \{appId\}/tickets/\{id\} → 200 in [\d.]+ ms \(rate 59/60\)", line)
        for line in lines
    )
