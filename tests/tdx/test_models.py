"""The payload models read TDX's documented shapes and quirks, and write TDX's JSON."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from tdxq.tdx.models import (
    Asset,
    AssetSearch,
    ConfigurationItem,
    ConfigurationItemSearch,
    CustomAttributeFilter,
    FeedItem,
    PatchOperation,
    Person,
    Report,
    Ticket,
    TicketFeedEntry,
    TicketSearch,
)

from . import payloads


def test_report_with_rows_keyed_by_column_name() -> None:
    report = Report.model_validate(payloads.REPORT)
    assert report.id == 12345
    assert [c.column_name for c in report.displayed_columns] == ["TicketID", "ModifiedDate"]
    assert report.data_rows[0]["TicketID"] == 4709555
    assert report.data_rows[0]["48398"] == "Very Satisfied"
    assert report.created_date == datetime(2024, 2, 12, 15, 3, 11, 470000, tzinfo=UTC)
    assert report.sort_order[0].is_ascending is False


def test_report_without_data_has_no_rows() -> None:
    report = Report.model_validate({**payloads.REPORT, "DataRows": None})
    assert report.data_rows == []


def test_ticket_sentinels_guids_and_unknown_fields() -> None:
    ticket = Ticket.model_validate(payloads.TICKET)
    assert ticket.id == 4709555
    assert ticket.app_id == 634
    assert ticket.responded_date is None  # 0001-01-01T05:00:00Z
    assert ticket.completed_date is None
    assert ticket.respond_by_date is None  # null
    assert ticket.modified_date == datetime(2026, 5, 1, 20, 0, 43, 693000, tzinfo=UTC)
    assert ticket.responsible_uid is None
    assert ticket.model_extra is not None
    assert ticket.model_extra["ReviewerUid"] == payloads.EMPTY  # unmodelled, kept as sent
    assert ticket.model_extra["PriorityOrder"] == 3.0
    assert ticket.attributes[0].value == "26193"
    assert ticket.attributes[0].associated_item_ids == [0]
    assert ticket.notify[0].value == "jtaylor@example.edu"


def test_ticket_round_trips_to_tdx_spelling() -> None:
    body = Ticket.model_validate(payloads.TICKET).to_tdx()
    assert body["ID"] == 4709555
    assert body["AppID"] == 634
    assert body["RequestorUid"] == "3f1c0a52-1c2b-ec11-b563-0050f2eef4a5"
    assert body["ModifiedDate"] == "2026-05-01T20:00:43.693Z"
    assert body["PriorityOrder"] == 3.0
    assert "RespondedDate" not in body


def test_populate_by_python_name_and_coerce_strings() -> None:
    ticket = Ticket(id=1, title="x", status_id=5)
    assert ticket.status_id == 5
    coerced = Ticket.model_validate(
        {"ID": "42", "StatusID": "7", "IsRichHtml": "True", "ResponsibleGroupID": ""}
    )
    assert (coerced.id, coerced.status_id, coerced.is_rich_html) == (42, 7, True)
    assert coerced.responsible_group_id is None


def test_feed_item() -> None:
    item = FeedItem.model_validate(payloads.FEED_ITEM)
    assert item.id == 22872139
    assert item.update_type == 2
    assert item.replies == []
    assert item.uri == "api/feed/22872139"
    assert item.model_extra is not None and item.model_extra["ILike"] is False


def test_asset_empty_guids_and_sentinel_dates() -> None:
    asset = Asset.model_validate(payloads.ASSET)
    assert asset.owning_customer_id is None
    assert asset.requesting_customer_id is None
    assert asset.created_uid is None
    assert asset.acquisition_date is None
    assert asset.modified_date == datetime(2017, 9, 15, 15, 25, 9, 790000, tzinfo=UTC)
    assert asset.created_date == datetime(2014, 11, 20, 21, 22, 52, 57000, tzinfo=UTC)
    assert asset.tag is None
    assert asset.configuration_item_id == 16308
    assert asset.attributes[0].value_text == "Production"


def test_configuration_item_utc_dates_and_owner_uid() -> None:
    ci = ConfigurationItem.model_validate(payloads.CONFIGURATION_ITEM)
    assert ci.owner_uid == "3f1c0a52-1c2b-ec11-b563-0050f2eef4a5"
    assert ci.created_date_utc == datetime(2025, 1, 10, 14, 2, 11, 300000, tzinfo=UTC)
    assert ci.backing_item_type == 63


def test_person_uid_alias() -> None:
    person = Person.model_validate(
        {"UID": "f85241a5-ac81-ed11-ac20-0050f2e67210", "UserName": "jdoe", "GroupIDs": None}
    )
    assert person.uid == "f85241a5-ac81-ed11-ac20-0050f2e67210"
    assert person.group_ids == []
    assert Person.model_validate({"UID": payloads.EMPTY}).uid is None


def test_bad_date_in_payload_names_the_field() -> None:
    with pytest.raises(ValidationError, match="ModifiedDate"):
        Ticket.model_validate({"ID": 1, "ModifiedDate": "last tuesday"})


def test_feed_entry_serializes_as_tdx_spells_it() -> None:
    entry = TicketFeedEntry(
        comments="<p>Linked LAB-PC-017</p>",
        is_private=True,
        is_rich_html=True,
        is_communication=True,
        notify=["jtaylor@example.edu"],
        new_status_id=898,
        cascade_status=False,
    )
    assert entry.to_tdx() == {
        "Comments": "<p>Linked LAB-PC-017</p>",
        "IsPrivate": True,
        "IsRichHtml": True,
        "IsCommunication": True,
        "Notify": ["jtaylor@example.edu"],
        "NewStatusID": 898,
        "CascadeStatus": False,
    }
    plain = TicketFeedEntry(comments="hello").to_tdx()
    assert "NewStatusID" not in plain  # null keeps the status
    assert plain["Notify"] == []


def test_feed_entry_needs_comment_or_status_and_rejects_typos() -> None:
    with pytest.raises(ValidationError, match="comments or a new_status_id"):
        TicketFeedEntry(comments="  ")
    assert TicketFeedEntry(new_status_id=5).to_tdx()["NewStatusID"] == 5
    with pytest.raises(ValidationError, match="is_privat"):
        TicketFeedEntry.model_validate({"comments": "x", "is_privat": True})


def test_searches_serialize_by_alias_without_unset_fields() -> None:
    search = TicketSearch(
        search_text="a & b + c #1",
        status_class_ids=[1, 2],
        configuration_item_ids=[16308],
        requestor_uids=["3f1c0a52-1c2b-ec11-b563-0050f2eef4a5"],
        created_date_from=datetime(2026, 1, 1, tzinfo=UTC),
        max_results=0,
        custom_attributes=[CustomAttributeFilter(id=1234, value="26193")],
    )
    assert search.to_tdx() == {
        "SearchText": "a & b + c #1",
        "StatusClassIDs": [1, 2],
        "ConfigurationItemIDs": [16308],
        "RequestorUids": ["3f1c0a52-1c2b-ec11-b563-0050f2eef4a5"],
        "CreatedDateFrom": "2026-01-01T00:00:00Z",
        "MaxResults": 0,
        "CustomAttributes": [{"ID": 1234, "Value": "26193"}],
    }
    assert AssetSearch(serial_like="C02X", is_in_service=True).to_tdx() == {
        "SerialLike": "C02X",
        "IsInService": True,
    }
    assert ConfigurationItemSearch(name_like="Smith", type_ids=[10011]).to_tdx() == {
        "NameLike": "Smith",
        "TypeIDs": [10011],
    }
    with pytest.raises(ValidationError):
        TicketSearch(max_results=-1)


def test_patch_operations() -> None:
    assert PatchOperation(op="replace", path="/ResponsibleUid", value=None).to_tdx() == {
        "op": "replace",
        "path": "/ResponsibleUid",
        "value": None,
    }
    assert PatchOperation(op="remove", path="/attributes/5678").to_tdx() == {
        "op": "remove",
        "path": "/attributes/5678",
    }
    with pytest.raises(ValidationError):
        PatchOperation(op="test", path="/title")
    with pytest.raises(ValidationError):
        PatchOperation(op="add", path="title", value="x")
