"""TDX date shapes (reference §4.1) parse to aware UTC datetimes; sentinels become None."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tdxq.tdx.dates import format_tdx_datetime, parse_rfc1123, parse_tdx_datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2014-11-20T21:22:52.057Z", datetime(2014, 11, 20, 21, 22, 52, 57000, tzinfo=UTC)),
        ("2017-09-15T15:25:09.79Z", datetime(2017, 9, 15, 15, 25, 9, 790000, tzinfo=UTC)),
        ("2026-05-01T19:12:05.1Z", datetime(2026, 5, 1, 19, 12, 5, 100000, tzinfo=UTC)),
        ("2026-03-01T08:00:00Z", datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)),
        ("2026-03-01T08:00:00z", datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)),
        ("2026-03-01T08:00:00.1234567Z", datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=UTC)),
        ("2026-03-01T03:00:00-05:00", datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)),
        ("2026-03-01T03:00:00-0500", datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)),
        ("2026-03-01T13:30:00.5+05:30", datetime(2026, 3, 1, 8, 0, 0, 500000, tzinfo=UTC)),
        ("2026-03-01T08:00:00", datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)),
        ("2026-03-01T08:00Z", datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)),
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
        ("  2026-03-01T08:00:00Z ", datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)),
    ],
)
def test_documented_shapes_parse(text: str, expected: datetime) -> None:
    parsed = parse_tdx_datetime(text)
    assert parsed == expected
    assert parsed is not None
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    ["0001-01-01T05:00:00Z", "0001-01-01T04:00:00Z", "0001-01-01T00:00:00", "0001-01-01", ""],
)
def test_no_date_sentinels_are_none(text: str) -> None:
    assert parse_tdx_datetime(text) is None


@pytest.mark.parametrize(
    "text",
    ["yesterday", "2026-13-01T00:00:00Z", "2026-03-01T08:00:00+25:00", "2026-02-30", "12/01/2026"],
)
def test_garbage_is_rejected_with_the_value_quoted(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_tdx_datetime(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2014, 11, 20, 21, 22, 52, 57000, tzinfo=UTC), "2014-11-20T21:22:52.057Z"),
        (datetime(2017, 9, 15, 15, 25, 9, 790000, tzinfo=UTC), "2017-09-15T15:25:09.79Z"),
        (datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC), "2026-03-01T08:00:00Z"),
        (datetime(2026, 3, 1, 8, 0, 0, 999, tzinfo=UTC), "2026-03-01T08:00:00Z"),
    ],
)
def test_format_writes_tdx_style_and_round_trips(value: datetime, text: str) -> None:
    assert format_tdx_datetime(value) == text
    assert parse_tdx_datetime(text) == value.replace(microsecond=value.microsecond // 1000 * 1000)


def test_rfc1123_reset_header() -> None:
    assert parse_rfc1123("Wed, 28 Mar 2018 16:08:14 GMT") == datetime(
        2018, 3, 28, 16, 8, 14, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="RFC 1123"):
        parse_rfc1123("1522253294")
