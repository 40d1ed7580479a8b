"""Writes are applied for real and logged: feed posts, asset and CI links, PATCH; rejected
writes are logged with a null effect; introspection, counters and reset."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tdxq.tdx.sandbox import SandboxApp

from .conftest import IN_PROCESS_ROOT

FEED = "46/tickets/9291804/feed"


def _asset(app: SandboxApp, name: str = "EH-CHEM-LAB-014") -> Any:
    return next(a for a in app.tenant.assets if a.name == name and a.lab_ci_id is not None)


def test_a_feed_post_with_tdx_wire_quirks_appears_in_the_feed(
    app: SandboxApp, client: httpx.Client
) -> None:
    body = {
        "comments": "<p>Linked <b>EH-CHEM-LAB-014</b></p>",
        "IsPrivate": "True",
        "IsRichHTML": "true",
        "isCommunication": False,
        "Notify": ["null"],
        "NewStatusID": 0,
        "CascadeStatus": "False",
    }

    answer = client.post(FEED, json=body)
    feed = client.get(FEED).json()

    assert answer.status_code in (200, 201)
    entry = answer.json()
    assert entry["Body"] == body["comments"]
    assert entry["IsPrivate"] is True
    assert entry["UpdateType"] == 1
    assert entry["ItemID"] == 9291804
    assert entry["CreatedFullName"] == "Sandbox API Account"
    assert feed[0]["ID"] == entry["ID"], "newest first"
    [write] = app.writes
    assert write["method"] == "POST"
    assert write["path"] == "/TDWebApi/api/46/tickets/9291804/feed"
    assert write["body"] == body
    assert write["effect"] == {
        "kind": "feed_entry",
        "ticket_id": 9291804,
        "feed_entry_id": entry["ID"],
        "status_change": None,
    }
    assert write["status"] == 200
    assert write["user"] == "sandbox-admin"


def test_a_new_status_changes_the_ticket_and_says_so_in_the_body(
    app: SandboxApp, client: httpx.Client
) -> None:
    in_process = app.settings.ticket_status_ids["In Process"]
    before = client.get("46/tickets/9291804").json()["StatusName"]

    entry = client.post(FEED, json={"Comments": "Reimaging now.", "NewStatusID": in_process}).json()
    ticket = client.get("46/tickets/9291804").json()

    assert entry["UpdateType"] == 2
    assert entry["Body"] == f'Changed Status from "{before}" to "In Process".<br/>Reimaging now.'
    assert ticket["StatusID"] == in_process
    assert ticket["StatusName"] == "In Process"
    assert app.writes[0]["effect"]["status_change"]["to"] == in_process


def test_notify_addresses_become_the_notified_list(app: SandboxApp, client: httpx.Client) -> None:
    person = app.tenant.people[40]
    entry = client.post(
        FEED, json={"Comments": "fyi", "Notify": [person.email, "someone@elsewhere.example"]}
    ).json()
    assert entry["NotifiedList"] == f"{person.full_name}, someone@elsewhere.example"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"Comments": "   "}, "comment or a new status"),
        ({"Comments": "x", "NewStatusID": 999999}, "999999"),
        ({"Comments": "x", "IsPrivate": "maybe"}, "IsPrivate"),
        ([1, 2], "JSON object"),
    ],
)
def test_invalid_feed_posts_are_400_and_logged_without_effect(
    app: SandboxApp, client: httpx.Client, body: Any, message: str
) -> None:
    answer = client.post(FEED, json=body)

    assert answer.status_code == 400
    assert message in answer.json()["Message"]
    [write] = app.writes
    assert write["effect"] is None
    assert write["status"] == 400


def test_malformed_json_is_400(app: SandboxApp, client: httpx.Client) -> None:
    answer = client.post(
        FEED, content=b'{"Comments": "x",', headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert "not valid JSON" in answer.json()["Message"]
    assert app.writes[0]["body"] == '{"Comments": "x",'


def test_linking_an_asset_shows_its_ci_and_a_second_link_changes_nothing(
    app: SandboxApp, client: httpx.Client
) -> None:
    asset = _asset(app)
    assert client.get("46/tickets/9291804/assets").json() == []

    first = client.post(f"46/tickets/9291804/assets/{asset.id}", json={"AssetID": asset.id})
    second = client.post(f"46/tickets/9291804/assets/{asset.id}", json={})
    linked = client.get("46/tickets/9291804/assets").json()
    cis = client.get("46/tickets/9291804/configurationItems").json()

    assert first.status_code == second.status_code == 200
    [ci] = linked
    assert ci["ID"] == asset.ci_id
    assert ci["ID"] != asset.id, "CI ids and asset ids are different id spaces"
    assert ci["BackingItemID"] == asset.id
    assert ci["BackingItemType"] == 27
    assert [c["ID"] for c in cis] == [asset.ci_id]
    assert [w["effect"]["changed"] for w in app.writes] == [True, False]


def test_linking_a_lab_ci_shows_in_configuration_items_only(
    app: SandboxApp, client: httpx.Client
) -> None:
    lab = app.tenant.labs[0]

    client.post(f"46/tickets/9291804/configurationItems/{lab.ci_id}", json={}).raise_for_status()

    assert client.get("46/tickets/9291804/assets").json() == []
    [ci] = client.get("46/tickets/9291804/configurationItems").json()
    assert ci["ID"] == lab.ci_id
    assert ci["TypeID"] == app.settings.lab_ci_type_id
    tickets = client.get(f"48/cmdb/{lab.ci_id}/tickets").json()
    assert 9291804 in [t["ID"] for t in tickets]


def test_unlinking_and_missing_items(app: SandboxApp, client: httpx.Client) -> None:
    asset = _asset(app)
    client.post(f"46/tickets/9291804/assets/{asset.id}").raise_for_status()

    removed = client.delete(f"46/tickets/9291804/assets/{asset.id}")
    missing_asset = client.post("46/tickets/9291804/assets/1")
    missing_ci = client.post("46/tickets/9291804/configurationItems/1")

    assert removed.status_code == 200
    assert client.get("46/tickets/9291804/assets").json() == []
    assert missing_asset.status_code == missing_ci.status_code == 404
    assert [w["effect"] and w["effect"]["kind"] for w in app.writes] == [
        "link_asset",
        "unlink_asset",
        None,
        None,
    ]


def test_the_mirror_link_endpoints(app: SandboxApp, client: httpx.Client) -> None:
    asset = _asset(app)
    lab = app.tenant.labs[0]

    client.post(f"48/assets/{asset.id}/tickets/9291804").raise_for_status()
    client.post(f"48/cmdb/{lab.ci_id}/tickets/9291804").raise_for_status()

    ids = {c["ID"] for c in client.get("46/tickets/9291804/configurationItems").json()}
    assert ids == {asset.ci_id, lab.ci_id}


def test_patch_sets_and_clears_simple_fields(app: SandboxApp, client: httpx.Client) -> None:
    tech = app.tenant.people[2]
    operations = [
        {"op": "replace", "path": "/Title", "value": "New title"},
        {"op": "add", "path": "/responsibleuid", "value": tech.uid},
        {"op": "replace", "path": "/StatusID", "value": app.settings.ticket_status_ids["Resolved"]},
        {"op": "remove", "path": "/description"},
    ]

    answer = client.patch("46/tickets/9291804?notifyNewResponsible=False", json=operations)

    assert answer.status_code == 200
    ticket = answer.json()
    assert ticket["Title"] == "New title"
    assert ticket["ResponsibleUid"] == tech.uid
    assert ticket["StatusName"] == "Resolved"
    assert ticket["Description"] == ""
    assert ticket["CompletedDate"] != "0001-01-01T05:00:00Z"
    changes = app.writes[0]["effect"]["changes"]
    assert set(changes) == {"Title", "ResponsibleUid", "StatusID", "Description"}
    assert changes["ResponsibleUid"] == {"from": None, "to": tech.uid}


def test_patch_of_a_custom_attribute(app: SandboxApp, client: httpx.Client) -> None:
    attribute_id = app.store.tickets_by_id[9291804].attributes[0].id
    answer = client.patch(
        "46/tickets/9291804",
        json=[{"op": "replace", "path": f"/attributes/{attribute_id}", "value": "X"}],
    )
    assert answer.status_code == 200
    assert answer.json()["Attributes"][0]["Value"] == "X"


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "test", "path": "/title", "value": "x"}],
        [{"op": "replace", "path": "/nosuchfield", "value": 1}],
        [{"op": "remove", "path": "/title"}],
        [{"op": "replace", "path": "/statusid", "value": 424242}],
        [{"op": "replace", "path": "/responsibleuid", "value": "not-a-person"}],
        [{"op": "replace", "path": "/attributes/-", "value": "x"}],
        {"op": "replace", "path": "/title", "value": "not a list"},
    ],
)
def test_bad_patches_are_400_and_change_nothing(
    app: SandboxApp, client: httpx.Client, operations: Any
) -> None:
    before = client.get("46/tickets/9291804").json()
    good = {"op": "replace", "path": "/title", "value": "should not stick"}
    body = [good, *operations] if isinstance(operations, list) else operations

    answer = client.patch("46/tickets/9291804", json=body)

    assert answer.status_code == 400
    assert answer.json()["Message"]
    assert client.get("46/tickets/9291804").json()["Title"] == before["Title"]


def test_introspection_over_http_and_reset(app: SandboxApp, client: httpx.Client) -> None:
    client.post(FEED, json={"Comments": "one"})
    client.get("46/tickets/9291804")
    client.get("46/tickets/9291804")

    writes = client.get(f"{IN_PROCESS_ROOT}/_sandbox/writes").json()["writes"]
    calls = client.get(f"{IN_PROCESS_ROOT}/_sandbox/calls").json()
    summary = client.get(f"{IN_PROCESS_ROOT}/_sandbox/tenant").json()

    assert [w["effect"]["kind"] for w in writes] == ["feed_entry"]
    assert set(writes[0]) >= {"method", "path", "body", "effect", "time"}
    assert calls["calls"]["GET {app}/tickets/{id}"] == 2
    assert calls["calls"]["POST {app}/tickets/{id}/feed"] == 1
    assert calls["outcomes"]["GET {app}/tickets/{id}"] == {"200": 2}
    assert summary["settings"]["ticket_app_id"] == 46
    assert summary["settings"]["web_url_base"] == f"{IN_PROCESS_ROOT}/TDNext"
    assert summary["credentials"]["username"] == "sandbox"

    client.post(f"{IN_PROCESS_ROOT}/_sandbox/reset", json={})
    assert app.writes == []
    assert app.call_counts == {}
    assert app.store.feed_for(9291804)[0].body == "one", "the tenant is kept unless asked"

    client.post(f"{IN_PROCESS_ROOT}/_sandbox/reset", json={"tenant": True, "rate_limits": True})
    assert app.store.feed_for(9291804)[0].body != "one"
    assert client.get("46/tickets/9291804").headers["X-RateLimit-Remaining"] == "59"


def test_unknown_mutating_calls_are_logged_too(app: SandboxApp, client: httpx.Client) -> None:
    answer = client.post("46/tickets/9291804/nonsense", json={"x": 1})
    assert answer.status_code == 404
    [write] = app.writes
    assert write["effect"] is None
    assert write["status"] == 404


def test_a_rate_limited_write_is_logged_without_effect(
    app: SandboxApp, client: httpx.Client
) -> None:
    for _ in range(60):
        client.post(FEED, json={"Comments": "spam"})
    refused = client.post(FEED, json={"Comments": "one too many"})

    assert refused.status_code == 429
    assert app.writes[-1]["effect"] is None
    assert app.writes[-1]["status"] == 429
    assert sum(1 for w in app.writes if w["effect"]) == 60


def test_plain_data_for_sql_loaders(app: SandboxApp, client: httpx.Client) -> None:
    labs = client.get(f"{IN_PROCESS_ROOT}/_sandbox/labs").json()["labs"]
    assets = client.get(f"{IN_PROCESS_ROOT}/_sandbox/assets").json()["assets"]

    assert len(labs) == len(app.tenant.labs)
    assert labs[0]["member_uids"] and labs[0]["computer_asset_ids"]
    assert {"id", "name", "serial", "tag", "form_id", "status_id", "owner_uid", "ci_id"} <= set(
        assets[0]
    )


def test_the_ticket_web_page_exists(app: SandboxApp, client: httpx.Client) -> None:
    page = client.get(f"{IN_PROCESS_ROOT}/TDNext/Apps/46/Tickets/TicketDet?TicketID=9291804")
    hostile = next(t for t in app.tenant.tickets if "<script>" in t.title)
    escaped = client.get(
        f"{IN_PROCESS_ROOT}/TDNext/Apps/46/Tickets/TicketDet?TicketID={hostile.id}"
    )

    assert page.status_code == 200
    assert "9291804" in page.text
    assert "<script>alert" not in escaped.text
    assert (
        client.get(f"{IN_PROCESS_ROOT}/TDNext/Apps/46/Tickets/TicketDet?TicketID=1").status_code
        == 404
    )
