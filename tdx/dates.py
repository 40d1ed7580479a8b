"""TDX's date formats, in and out.

TDX writes UTC with ``Z`` and 0–3 fractional digits (``2017-09-15T15:25:09.79Z``), uses year 1
(``0001-01-01T05:00:00Z``) to mean "no date", and accepts offsets as ``Z``, ``±hh:mm`` or ``±hhmm``.
The rate-limit reset header alone uses RFC 1123 (``Wed, 28 Mar 2018 16:08:14 GMT``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

_ISO = re.compile(
    r"""^\s*
    (?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})
    (?:[Tt\ ]
        (?P<hour>\d{2}):(?P<minute>\d{2})
        (?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?
        (?P<offset>[Zz]|[+-]\d{2}(?::?\d{2})?)?
    )?
    \s*$""",
    re.VERBOSE,
)


def parse_tdx_datetime(value: str) -> datetime | None:
    """Parse a TDX date string into an aware UTC datetime; year-1 sentinels and "" become None.

    Values without an offset are taken as UTC (TDX always answers in UTC). Raises ValueError,
    quoting the value, when it is not a date TDX would write.
    """
    text = value.strip()
    if not text:
        return None
    match = _ISO.match(text)
    if match is None:
        raise ValueError(f"not a TDX date: {value!r}")
    parts = match.groupdict()
    if int(parts["year"]) <= 1:
        return None
    fraction = (parts["fraction"] or "").ljust(6, "0")[:6]
    try:
        parsed = datetime(
            int(parts["year"]),
            int(parts["month"]),
            int(parts["day"]),
            int(parts["hour"] or 0),
            int(parts["minute"] or 0),
            int(parts["second"] or 0),
            int(fraction),
            tzinfo=_offset(parts["offset"]),
        )
    except ValueError as exc:
        raise ValueError(f"not a valid date: {value!r} ({exc})") from None
    return parsed.astimezone(UTC)


def _offset(text: str | None) -> timezone:
    if text is None or text in ("Z", "z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"not a valid UTC offset: {text!r}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def coerce_tdx_datetime(value: object) -> datetime | None:
    """Validator body: accept None, TDX strings and datetimes (naive ones are taken as UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.year <= 1:
            return None
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC)
    if isinstance(value, str):
        return parse_tdx_datetime(value)
    raise ValueError(f"expected a date string, got {type(value).__name__}")


def format_tdx_datetime(value: datetime) -> str:
    """Write a datetime the way TDX does: UTC, ``Z``, milliseconds only when non-zero."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    utc = aware.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    millis = utc.microsecond // 1000
    if millis:
        text += f".{millis:03d}".rstrip("0")
    return text + "Z"


def parse_rfc1123(value: str) -> datetime:
    """Parse the ``X-RateLimit-Reset`` header (``Wed, 28 Mar 2018 16:08:14 GMT``) as aware UTC."""
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"not an RFC 1123 date: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
