from __future__ import annotations

import hashlib

import pytest
from pydantic import BaseModel

from tdxq.actions.identity import (
    LEGACY_FIELDS,
    action_id,
    legacy_action_id,
    legacy_config_hash,
    legacy_fields,
    parse_action_id,
)


class CommentOptions(BaseModel):
    comment_text: str
    is_private: bool = False
    notify: list[str] = ["null"]


def test_the_seed_comment_hello_world_has_the_documented_legacy_id() -> None:
    fields = legacy_fields("comment", {"comment_text": "Hello World"})
    assert legacy_action_id("comment", fields, "v1") == "comment:054200481667:v1"


def test_legacy_hash_is_the_repr_of_the_sorted_items() -> None:
    fields = {"b": [1, 2], "a": True}
    expected = hashlib.sha256(b"[('a', True), ('b', [1, 2])]").hexdigest()
    assert legacy_config_hash(fields) == expected


def test_legacy_version_is_appended_not_hashed() -> None:
    fields = legacy_fields("comment", {"comment_text": "Hello World"})
    assert legacy_action_id("comment", fields, "v2") == "comment:054200481667:v2"


def test_legacy_fields_fill_the_seed_defaults_and_sort_lists() -> None:
    fields = legacy_fields("comment", {"comment_text": "x", "notify": ["b@x", "a@x"]})
    assert fields == {
        "comment_text": "x",
        "is_private": False,
        "is_rich_html": False,
        "is_communication": False,
        "notify": ["a@x", "b@x"],
        "new_status_id": 0,
        "cascade_status": False,
    }
    lab = legacy_fields("find_active_tickets", {"active_status_ids": [622, 115], "lab_type_id": 7})
    assert lab["active_status_ids"] == [115, 622]


def test_every_builtin_type_has_a_legacy_table() -> None:
    assert set(LEGACY_FIELDS) == {
        "comment",
        "add_asset",
        "add_lab",
        "find_active_tickets",
        "summary_comment",
    }
    assert set(LEGACY_FIELDS["add_asset"]) == {
        "add_summary_comment",
        "max_assets_to_add",
        "skip_if_requestor_asset_exists",
        "active_status_only",
        "computer_form_id",
        "has_database",
    }


def test_legacy_fields_reject_what_would_hash_differently() -> None:
    with pytest.raises(ValueError, match=r"comment\.is_private must be bool, found 1"):
        legacy_fields("comment", {"comment_text": "x", "is_private": 1})
    with pytest.raises(ValueError, match=r"add_asset\.max_assets_to_add must be int"):
        legacy_fields("add_asset", {"computer_form_id": 1, "max_assets_to_add": True})
    with pytest.raises(ValueError, match="not hashed fields"):
        legacy_fields("comment", {"comment_text": "x", "colour": "red"})
    with pytest.raises(ValueError, match=r"add_asset\.computer_form_id has no seed default"):
        legacy_fields("add_asset", {})
    with pytest.raises(ValueError, match="no legacy id formula for action type 'teleport'"):
        legacy_fields("teleport", {})
    with pytest.raises(ValueError, match="must be a list"):
        legacy_fields("comment", {"comment_text": "x", "notify": "a@x"})


def test_action_id_hashes_the_canonical_json_of_the_validated_options() -> None:
    options = CommentOptions(comment_text="Hello World")
    expected = hashlib.sha256(
        b'{"comment_text":"Hello World","is_private":false,"notify":["null"]}'
    ).hexdigest()[:12]
    assert action_id("comment", options, "v1") == f"comment:{expected}:v1"
    # A mapping with the same content, in any key order, is the same action.
    mapping = {"notify": ["null"], "is_private": False, "comment_text": "Hello World"}
    assert action_id("comment", mapping, "v1") == action_id("comment", options, "v1")


def test_any_option_change_changes_the_id_and_the_version_is_not_hashed() -> None:
    a = action_id("comment", CommentOptions(comment_text="a"), "v1")
    b = action_id("comment", CommentOptions(comment_text="a", is_private=True), "v1")
    c = action_id("comment", CommentOptions(comment_text="a"), "v2")
    assert a != b
    assert parse_action_id(a).hash == parse_action_id(c).hash
    assert parse_action_id(c).version == "v2"


def test_non_ascii_options_hash_as_utf8() -> None:
    text = "Zusammenfassung \U0001f916"
    expected = hashlib.sha256(f'{{"t":"{text}"}}'.encode()).hexdigest()[:12]
    assert action_id("comment", {"t": text}, "v1") == f"comment:{expected}:v1"


@pytest.mark.parametrize(
    ("type_", "version"),
    [("Comment", "v1"), ("comment", "v:1"), ("comment", "v#1"), ("", "v1"), ("x", "")],
)
def test_bad_type_or_version_is_a_clear_error(type_: str, version: str) -> None:
    with pytest.raises(ValueError, match=r"action (type|version)"):
        action_id(type_, {}, version)


def test_options_that_are_not_json_are_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not plain JSON"):
        action_id("comment", {"x": object()}, "v1")


def test_parse_action_id_rejects_other_shapes() -> None:
    with pytest.raises(ValueError, match="type:hash:version"):
        parse_action_id("comment:abc")
