"""The generated tenant: deterministic by seed, JSON round trip, and the realistic content the
actions are tested against."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tdxq.tdx.sandbox import SandboxApp, SandboxConfig, Tenant, generate_tenant

from .conftest import TEST_TICKETS, in_process_client

NAME = re.compile(r"^[A-Z]+-[A-Z]+-(LAB|WS|LT|DT)-?\d{2,3}$")


@pytest.fixture(scope="module")
def generated() -> Tenant:
    return generate_tenant(1, TEST_TICKETS)


def test_the_same_seed_builds_the_same_tenant(generated: Tenant) -> None:
    assert generate_tenant(1, TEST_TICKETS).model_dump_json() == generated.model_dump_json()
    assert generate_tenant(2, TEST_TICKETS).model_dump_json() != generated.model_dump_json()


def test_json_round_trip_and_serving_a_loaded_tenant(generated: Tenant, tmp_path: Path) -> None:
    path = tmp_path / "tenant.json"
    generated.dump_json(path)
    loaded = Tenant.load_json(path)

    assert loaded == generated
    app = SandboxApp(loaded, SandboxConfig(tickets=TEST_TICKETS))
    with in_process_client(app) as client:
        client.headers["Authorization"] = f"Bearer {app.issue_token()}"
        assert client.get("46/tickets/9291804").json()["ID"] == 9291804


def test_a_broken_file_says_which_field(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"seed": "x"}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.json: not a sandbox tenant: seed"):
        Tenant.load_json(path)


def test_app_ids_are_configurable_and_checked() -> None:
    tenant = generate_tenant(1, 10, ticket_app_id=634, asset_app_id=111)
    app = SandboxApp(tenant, SandboxConfig(tickets=10, ticket_app_id=634, asset_app_id=111))
    with in_process_client(app) as client:
        client.headers["Authorization"] = f"Bearer {app.issue_token()}"
        assert client.get("634/tickets/9291804").status_code == 200
        assert client.get("46/tickets/9291804").status_code == 404
    with pytest.raises(ValueError, match="differ from the config"):
        SandboxApp(tenant, SandboxConfig(tickets=10))


def test_people_have_guid_uids_usernames_and_emails(generated: Tenant) -> None:
    uids = [p.uid for p in generated.people]
    assert len(generated.people) >= 250
    assert len(set(uids)) == len(uids)
    assert all(
        re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", u)
        for u in uids
    )
    assert len({p.username for p in generated.people}) == len(generated.people)
    assert all(p.email == f"{p.username}@example.edu" for p in generated.people)


def test_computers_have_department_names_and_real_looking_serials(generated: Tenant) -> None:
    settings = generated.settings
    computers = [a for a in generated.assets if a.form_id == settings.computer_form_id]
    serials = [a.serial for a in generated.assets]

    assert all(NAME.match(a.name) for a in computers), [
        a.name for a in computers if not NAME.match(a.name)
    ][:5]
    assert any(re.fullmatch(r"C02[0-9A-Z]{9}|[A-Z0-9]{12}", s) and len(s) == 12 for s in serials)
    assert any(re.fullmatch(r"[0-9A-Z]{7}", s) for s in serials), "Dell service tags"
    assert len(set(serials)) == len(serials)
    assert any(a.tag is None for a in computers) and any(a.tag for a in computers)
    assert {a.status_id for a in computers} & set(settings.inactive_asset_status_ids)
    assert {a.form_id for a in generated.assets} - {settings.computer_form_id}, "other forms too"
    assert any(a.owner_uid for a in computers) and any(a.owner_uid is None for a in computers)


def test_every_asset_has_a_backing_ci_in_another_id_space(generated: Tenant) -> None:
    cis = {c.id: c for c in generated.cis}
    asset_ids = {a.id for a in generated.assets}
    for asset in generated.assets:
        ci = cis[asset.ci_id]
        assert (ci.backing_item_id, ci.backing_item_type) == (asset.id, 27)
        assert asset.ci_id not in asset_ids


def test_labs_have_members_computers_and_relationships(generated: Tenant) -> None:
    settings = generated.settings
    people = {p.uid for p in generated.people}
    related = {(r.parent_ci_id, r.child_ci_id) for r in generated.relationships}
    assets = {a.id: a for a in generated.assets}
    for lab in generated.labs:
        ci = next(c for c in generated.cis if c.id == lab.ci_id)
        assert (ci.type_id, ci.form_id) == (settings.lab_ci_type_id, settings.lab_form_id)
        assert lab.member_uids and set(lab.member_uids) <= people
        for asset_id in lab.computer_asset_ids:
            assert (lab.ci_id, assets[asset_id].ci_id) in related
            assert assets[asset_id].lab_ci_id == lab.ci_id


def test_tickets_carry_the_hostile_content_the_actions_must_survive(generated: Tenant) -> None:
    descriptions = " ".join(t.description for t in generated.tickets)
    titles = [t.title for t in generated.tickets]

    assert any("\x00" in t.description for t in generated.tickets)
    assert "<script>alert(1)</script>" in " ".join(titles)
    assert any("&" in t and '"' in t for t in titles)
    for noise in (
        '<p style="font-family: Arial; margin-top: 4px">',
        "<style>",
        "<script",
        "734-555-0123",
        "follow-up",
        "e-mail",
        "wi-fi",
        "@example.edu",
    ):
        assert noise in descriptions, noise
    names = {a.name for a in generated.assets}
    mentioning = [
        t for t in generated.tickets if any(n in t.description or n in t.title for n in names)
    ]
    assert 0 < len(mentioning) < len(generated.tickets), "some tickets mention nothing"
    assert any(t.ci_ids for t in generated.tickets), "some tickets are already linked"


def test_a_serial_is_mentioned_only_in_a_feed(generated: Tenant) -> None:
    serials = {a.serial for a in generated.assets}
    by_ticket = {t.id: t for t in generated.tickets}
    feed_only = [
        e
        for e in generated.feed
        if any(s in e.body for s in serials)
        and not any(s in by_ticket[e.ticket_id].description for s in serials)
    ]
    assert feed_only


def test_the_reports_and_settings(generated: Tenant) -> None:
    settings = generated.settings
    reports = {r.id: r for r in generated.reports}

    assert reports[1344].name == "Desktop Support-East Hall Unassigned Tickets"
    assert settings.report_ids == {"east_hall_unassigned": 1344, "load": 2000}
    assert settings.sample_ticket_id == 9291804
    assert (settings.ticket_app_id, settings.asset_app_id) == (46, 48)
    assert settings.computer_form_id in {f.id for f in generated.asset_forms if f.is_computer}
    assert set(settings.open_ticket_status_ids) < {s.id for s in generated.ticket_statuses}
    assert settings.web_url_base("http://127.0.0.1:9") == "http://127.0.0.1:9/TDNext"


def test_report_2000_scales_with_tickets() -> None:
    app = SandboxApp(config=SandboxConfig(tickets=123, rate_limit=False))
    with in_process_client(app) as client:
        client.headers["Authorization"] = f"Bearer {app.issue_token()}"
        rows = client.get("reports/2000?withData=true").json()["DataRows"]
        east = client.get("reports/1344?withData=true").json()["DataRows"]
    assert len(rows) == 123
    assert 9291804 in [r["TicketID"] for r in east]


def test_the_report_1344_ticket_ids_do_not_depend_on_the_load_size() -> None:
    small = SandboxApp(config=SandboxConfig(tickets=5))
    assert 9291804 in small.store.tickets_by_id
    assert len(small.store.report_tickets(small.store.reports_by_id[1344])) >= 10


def test_serving_a_500_ticket_report_is_cheap() -> None:
    import time

    app = SandboxApp(config=SandboxConfig(tickets=500, rate_limit=False))
    with in_process_client(app) as client:
        client.headers["Authorization"] = f"Bearer {app.issue_token()}"
        client.get("reports/2000?withData=true")
        started = time.perf_counter()
        for _ in range(20):
            rows = client.get("reports/2000?withData=true").json()["DataRows"]
        elapsed = (time.perf_counter() - started) / 20
    assert len(rows) == 500
    assert elapsed < 0.1, f"{elapsed * 1000:.1f} ms per 500-row report"
