"""TDX's date formats in every payload, and the RFC 1123 rate-limit header."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from tdxq.tdx.sandbox import NO_DATE, SandboxApp, tdx_date
from tdxq.tdx.sandbox.dates import rfc1123

TDX_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,2}[1-9])?Z$")
EMPTY_UID = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    ("microsecond", "expected"),
    [
        (0, "2017-09-15T15:25:09Z"),
        (790_000, "2017-09-15T15:25:09.79Z"),
        (57_000, "2017-09-15T15:25:09.057Z"),
        (100_000, "2017-09-15T15:25:09.1Z"),
        (999_999, "2017-09-15T15:25:09.999Z"),
    ],
)
def test_fractions_have_zero_to_three_digits_trailing_zeros_trimmed(
    microsecond: int, expected: str
) -> None:
    assert tdx_date(datetime(2017, 9, 15, 15, 25, 9, microsecond, tzinfo=UTC)) == expected


def test_dates_are_converted_to_utc_and_none_is_the_year_one_sentinel() -> None:
    eastern = timezone(timedelta(hours=-5))
    assert tdx_date(datetime(2026, 3, 1, 3, 0, tzinfo=eastern)) == "2026-03-01T08:00:00Z"
    assert tdx_date(None) == NO_DATE == "0001-01-01T05:00:00Z"


def test_rfc1123_is_the_documented_shape() -> None:
    assert rfc1123(1522253294) == "Wed, 28 Mar 2018 16:08:14 GMT"


def _dates_in(payload: Any, found: list[str]) -> list[str]:
    if isinstance(payload, dict):
        for key, value in payload.items():
            if isinstance(value, str) and (key.endswith("Date") or key.endswith("DateUtc")):
                found.append(value)
            else:
                _dates_in(value, found)
    elif isinstance(payload, list):
        for item in payload:
            _dates_in(item, found)
    return found


def test_every_date_in_every_payload_is_tdx_formatted(
    client: httpx.Client, app: SandboxApp
) -> None:
    asset = app.tenant.assets[0]
    lab = app.tenant.labs[0]
    payloads = [
        client.get("reports/1344?withData=true").json(),
        client.get("46/tickets/9291804").json(),
        client.get("46/tickets/9291804/feed").json(),
        client.post("46/tickets/search", json={"MaxResults": 20}).json(),
        client.get(f"48/assets/{asset.id}").json(),
        client.get(f"48/cmdb/{lab.ci_id}").json(),
        client.get(f"48/cmdb/{lab.ci_id}/relationships").json(),
    ]
    dates = _dates_in(payloads, [])

    assert len(dates) > 100
    assert all(d == NO_DATE or TDX_DATE.match(d) for d in dates), [
        d for d in dates if not TDX_DATE.match(d)
    ]
    fractions = {len(d.split(".")[1]) - 1 if "." in d else 0 for d in dates}
    assert fractions == {0, 1, 2, 3}, "real TDX dates vary in fraction length"


def test_unset_dates_and_people_use_the_sentinels(client: httpx.Client, app: SandboxApp) -> None:
    new_id = app.settings.ticket_status_ids["New"]
    ticket = next(t for t in app.tenant.tickets if t.status_id == new_id and t.responded is None)
    payload = client.get(f"46/tickets/{ticket.id}").json()
    lab_computer = next(a for a in app.tenant.assets if a.lab_ci_id is not None)
    asset = client.get(f"48/assets/{lab_computer.id}").json()

    assert payload["RespondedDate"] == NO_DATE
    assert payload["CompletedDate"] == NO_DATE
    assert payload["CompletedUid"] == EMPTY_UID
    assert payload["GoesOffHoldDate"] is None
    assert asset["OwningCustomerID"] == EMPTY_UID
    assert asset["ExpectedReplacementDate"] == NO_DATE


def test_reset_header_parses_as_an_http_date(client: httpx.Client) -> None:
    header = client.get("46/tickets/9291804").headers["X-RateLimit-Reset"]

    assert re.match(r"^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$", header)
    assert parsedate_to_datetime(header).tzinfo is not None
