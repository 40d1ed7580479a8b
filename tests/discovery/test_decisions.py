"""The pure decisions of add_asset, add_lab and find_active_tickets, and their options."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from tdxq.actions.builtin.add_asset import (
    AddAsset,
    AddAssetOptions,
    conversation_texts,
    exact_match,
    is_on_ticket,
)
from tdxq.actions.builtin.add_lab import AddLab, AddLabOptions, choose_lab
from tdxq.actions.builtin.discovery_support import TicketLinks, linked_asset_ids
from tdxq.actions.builtin.find_active_tickets import (
    FindActiveTickets,
    FindActiveTicketsOptions,
    category_searches,
    select_rows,
)
from tdxq.actions.identity import legacy_action_id
from tdxq.tdx.models import Asset, ConfigurationItem, FeedItem, Ticket

ASSET = 27
PLAIN_CI = 63


def ci(
    ci_id: int, *, backing: int | None = None, kind: int = ASSET, **fields: object
) -> ConfigurationItem:
    return ConfigurationItem(
        id=ci_id, backing_item_id=backing or ci_id, backing_item_type=kind, **fields
    )


def asset(asset_id: int, **fields: object) -> Asset:
    return Asset(id=asset_id, **fields)


# --- add_asset ------------------------------------------------------------------------------


def test_add_asset_options() -> None:
    seed_style = AddAssetOptions.model_validate(
        {"computer_form_id": 2448, "active_status_ids": [38]}
    )
    ours = AddAssetOptions.model_validate({"computer_form_ids": [2448], "active_status_ids": [38]})
    assert seed_style == ours
    assert AddAsset(seed_style, "v2").action_id == AddAsset(ours, "v2").action_id
    with pytest.raises(ValidationError, match="active_status_ids"):
        AddAssetOptions.model_validate({"computer_form_ids": [2448]})
    with pytest.raises(ValidationError, match="computer_form_ids"):
        AddAssetOptions.model_validate({"active_status_ids": [38]})
    with pytest.raises(ValidationError, match="database_url"):
        AddAssetOptions.model_validate(
            {"computer_form_ids": [2448], "active_status_ids": [38], "database_url": "x"}
        )
    inactive_ok = AddAssetOptions.model_validate(
        {"computer_form_ids": [2448], "active_status_ids": [38], "active_status_only": False}
    )
    assert inactive_ok.eligible(asset(1, form_id=2448, status_id=99))
    assert not inactive_ok.eligible(asset(1, form_id=2448, status_id=99), require_active=True)
    assert not ours.eligible(asset(1, form_id=2448, status_id=99))
    assert not ours.eligible(asset(1, form_id=7, status_id=38))
    changed = AddAssetOptions.model_validate(
        {"computer_form_ids": [2448], "active_status_ids": [38], "max_assets_to_add": 3}
    )
    assert AddAsset(changed, "v2").action_id != AddAsset(ours, "v2").action_id


def test_add_asset_legacy_id_uses_the_seed_fields() -> None:
    options = AddAssetOptions.model_validate({"computer_form_id": 2448, "active_status_ids": [38]})
    expected = legacy_action_id(
        "add_asset",
        {
            "add_summary_comment": True,
            "max_assets_to_add": 10,
            "skip_if_requestor_asset_exists": True,
            "active_status_only": True,
            "computer_form_id": 2448,
            "has_database": False,
        },
        "v2",
    )
    assert AddAsset(options, "v2").legacy_id == expected


def test_exact_match_is_case_insensitive_trimmed_and_whole() -> None:
    laptop = asset(5, name=" EH-CHEM-LAB-014 ", serial_number="C02XK1ABJGH5", tag="UM0042X")
    assert exact_match(laptop, ["eh-chem-lab-014"]).field == "name"  # type: ignore[union-attr]
    assert exact_match(laptop, ["c02xk1abjgh5"]).field == "serial number"  # type: ignore[union-attr]
    assert exact_match(laptop, ["UM0042X"]).field == "tag"  # type: ignore[union-attr]
    assert exact_match(laptop, ["EH-CHEM-LAB-01", "C02XK1ABJGH"]) is None
    assert exact_match(asset(6), ["EH-CHEM-LAB-014"]) is None


def test_already_on_ticket_compares_asset_ids_with_backing_item_ids() -> None:
    # The seed compared CI ids with asset ids (fault 8). Here CI 500 stands for asset 77; a lab
    # CI whose own id happens to equal an asset id does not make that asset "linked".
    items = [ci(500, backing=77), ci(78, kind=PLAIN_CI)]
    linked = linked_asset_ids(items)
    assert linked == {77}
    assert is_on_ticket(asset(77, configuration_item_id=500), items, linked)
    assert not is_on_ticket(asset(78, configuration_item_id=900), items, linked)
    assert not is_on_ticket(asset(500, configuration_item_id=901), items, linked)


def test_conversation_is_oldest_first_without_tdxq_entries() -> None:
    feed = [
        FeedItem(id=3, body="newest EH-LAB-03", created_date=datetime(2026, 5, 3, tzinfo=UTC)),
        FeedItem(
            id=2,
            body="<p>Related: EH-OTHER-99</p><p>[tdxq:0123456789abcdef0123]</p>",
            created_date=datetime(2026, 5, 2, tzinfo=UTC),
        ),
        FeedItem(
            id=1,
            body="oldest EH-LAB-01",
            created_date=datetime(2026, 5, 1, tzinfo=UTC),
            replies=[{"ID": 9, "Body": "reply EH-LAB-02"}],
        ),
    ]
    assert conversation_texts(feed) == ["oldest EH-LAB-01", "reply EH-LAB-02", "newest EH-LAB-03"]


# --- add_lab --------------------------------------------------------------------------------


def test_choose_lab_strategies() -> None:
    per_computer = [[11], [12, 13], [12], []]
    assert choose_lab(per_computer, "asset_first") == 11
    assert choose_lab(per_computer, "most_common") == 12
    assert choose_lab([[11, 11, 11], [12], [12]], "most_common") == 12  # once per computer
    assert choose_lab([[11], [12]], "most_common") == 11  # a tie: the first found
    assert choose_lab([[], []], "asset_first") is None


def test_add_lab_options_and_legacy_id() -> None:
    with pytest.raises(ValidationError, match="lab_type_id or lab_form_id"):
        AddLabOptions.model_validate({})
    with pytest.raises(ValidationError):
        AddLabOptions.model_validate({"lab_type_id": 5, "lab_selection_strategy": "random"})
    options = AddLabOptions.model_validate({"lab_type_id": 10132, "lab_form_id": 3830})
    assert options.is_lab(ci(1, kind=PLAIN_CI, type_id=10132, form_id=3830))
    assert not options.is_lab(ci(1, kind=PLAIN_CI, type_id=10132, form_id=1))
    expected = legacy_action_id(
        "add_lab",
        {
            "add_summary_comment": True,
            "skip_if_lab_exists": True,
            "lab_selection_strategy": "asset_first",
            "has_database": True,
        },
        "v2",
    )
    assert AddLab(options, "v2").legacy_id == expected


# --- find_active_tickets --------------------------------------------------------------------

FIND = FindActiveTicketsOptions.model_validate(
    {"active_status_ids": [3, 1, 2], "lab_type_id": 900, "max_tickets_per_category": 2}
)


def test_one_search_per_category_with_lists() -> None:
    ticket = Ticket(id=10, requestor_uid="3f1c0a52-1c2b-ec11-b563-0050f2eef4a5")
    computers = [ci(501, backing=1), ci(502, backing=2)]
    lab = ci(700, kind=PLAIN_CI, type_id=900)
    links = TicketLinks(computers=computers, items=[*computers, lab])
    searches = category_searches(ticket, links, FIND)
    assert [s.category for s in searches] == ["requestor", "asset", "lab"]
    bodies = [s.search.to_tdx() for s in searches]
    assert bodies[0] == {
        "RequestorUids": ["3f1c0a52-1c2b-ec11-b563-0050f2eef4a5"],
        "StatusIDs": [1, 2, 3],
        "MaxResults": 3,
    }
    assert bodies[1]["ConfigurationItemIDs"] == [501, 502]
    assert bodies[2]["ConfigurationItemIDs"] == [700]
    assert category_searches(Ticket(id=11), TicketLinks([], []), FIND) == []


def test_rows_are_unique_newest_first_capped_and_active_only() -> None:
    def t(tid: int, day: int, status: int = 1) -> Ticket:
        return Ticket(
            id=tid,
            title=f"T{tid}",
            status_id=status,
            status_name="Open",
            modified_date=datetime(2026, 5, day, tzinfo=UTC),
        )

    rows = select_rows(
        [
            ("requestor", [t(10, 9), t(20, 1), t(21, 3), t(22, 2)]),
            ("asset", [t(21, 3), t(30, 4), t(31, 5, status=99)]),
            ("lab", [t(20, 1)]),
        ],
        current_ticket_id=10,
        exclude_current=True,
        active_status_ids=[1, 2, 3],
        cap=2,
    )
    assert [r.id for r in rows["requestor"]] == [21, 22]
    assert [r.id for r in rows["asset"]] == [30]
    assert rows["lab"] == []


def test_find_options_and_legacy_id() -> None:
    with pytest.raises(ValidationError, match="active_status_ids"):
        FindActiveTicketsOptions.model_validate({"lab_type_id": 1})
    expected = legacy_action_id(
        "find_active_tickets",
        {
            "exclude_current_ticket": True,
            "max_tickets_per_category": 2,
            "active_status_ids": [1, 2, 3],
            "lab_type_id": 900,
            "show_partial_on_error": True,
        },
        "v1",
    )
    assert FindActiveTickets(FIND, "v1").legacy_id == expected
