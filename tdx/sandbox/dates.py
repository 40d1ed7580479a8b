"""TDX's date formats: UTC with `Z`, 0-3 fractional digits with trailing zeros trimmed, a
year-1 sentinel for "no date"; RFC 1123 only in the `X-RateLimit-Reset` header."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import formatdate
from functools import lru_cache

NO_DATE = "0001-01-01T05:00:00Z"
EMPTY_UID = "00000000-0000-0000-0000-000000000000"


def tdx_date(value: datetime | None) -> str:
    """Format like TDX does: `2014-11-20T21:22:52.057Z`, `2017-09-15T15:25:09.79Z`,
    `2026-03-01T08:00:00Z`; None becomes the year-1 sentinel."""
    if value is None:
        return NO_DATE
    return _format(value)


@lru_cache(maxsize=65536)
def _format(value: datetime) -> str:
    # Cached: the same record dates are rendered over and over (reports, searches).
    utc = value.astimezone(UTC)
    text = utc.replace(tzinfo=None).isoformat(timespec="milliseconds")
    if text.endswith(".000"):
        return text[:-4] + "Z"
    return text.rstrip("0") + "Z"


def tdx_date_or_null(value: datetime | None) -> str | None:
    """For the nullable date fields (`RespondByDate`, `GoesOffHoldDate`, ...)."""
    return None if value is None else tdx_date(value)


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def rfc1123(epoch_seconds: float) -> str:
    """`Wed, 28 Mar 2018 16:08:14 GMT` (whole seconds; callers round as they need)."""
    return formatdate(epoch_seconds, usegmt=True)
