"""Base URL normalisation and path templates."""

from __future__ import annotations

import pytest

from tdxq.tdx.errors import TdxConfigError
from tdxq.tdx.urls import fill_path, normalize_base_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://org.teamdynamix.com/TDWebApi/api", "https://org.teamdynamix.com/TDWebApi/api"),
        ("https://org.teamdynamix.com/TDWebApi/api/", "https://org.teamdynamix.com/TDWebApi/api"),
        (
            "https://org.teamdynamix.com//TDWebApi//api//",
            "https://org.teamdynamix.com/TDWebApi/api",
        ),
        (
            " https://org.teamdynamix.com/SBTDWebApi/api ",
            "https://org.teamdynamix.com/SBTDWebApi/api",
        ),
        ("https://services.example.edu/TDWebApi/api", "https://services.example.edu/TDWebApi/api"),
        ("http://127.0.0.1:8765/TDWebApi/api/", "http://127.0.0.1:8765/TDWebApi/api"),
    ],
)
def test_base_url_forms(raw: str, expected: str) -> None:
    assert normalize_base_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        ("https://org.teamdynamix.com", "/TDWebApi/api"),
        ("https://org.teamdynamix.com/TDWebApi", "/TDWebApi/api"),
        ("org.teamdynamix.com/TDWebApi/api", "must look like"),
        ("ftp://org/TDWebApi/api", "must look like"),
        ("https://org/TDWebApi/api?x=1", "query"),
    ],
)
def test_bad_base_urls_say_what_to_fix(raw: str, hint: str) -> None:
    with pytest.raises(TdxConfigError, match=hint):
        normalize_base_url(raw)


def test_base_url_with_userinfo_is_rejected_without_echoing_it() -> None:
    with pytest.raises(TdxConfigError) as info:
        normalize_base_url("https://admin:hunter22@org.teamdynamix.com/TDWebApi/api")
    assert "hunter22" not in str(info.value)


def test_fill_path_encodes_values_and_checks_names() -> None:
    assert fill_path("{appId}/tickets/{id}/feed", {"appId": 46, "id": 9291804}) == (
        "46/tickets/9291804/feed"
    )
    assert fill_path("people/{uid}", {"uid": "a b/c?d#e&f+g"}) == "people/a%20b%2Fc%3Fd%23e%26f%2Bg"
    with pytest.raises(ValueError, match="missing"):
        fill_path("{appId}/tickets/{id}", {"appId": 46})
    with pytest.raises(ValueError, match="unexpected"):
        fill_path("reports/{id}", {"id": 1, "appId": 46})
    with pytest.raises(ValueError, match="empty"):
        fill_path("people/{uid}", {"uid": " "})
