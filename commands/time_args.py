"""Points in time given on the command line: ISO timestamps, dates, or "that long ago".

``--since 24h`` means 24 hours before now; ``--since 2025-11-19`` the start of that day (UTC);
``--since 2025-11-19T14:00:00+01:00`` that instant. A timestamp without an offset is read as
UTC, because every time tdxq records is UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

_UNITS: Final = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_RELATIVE: Final = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])(?:\s*ago)?", re.IGNORECASE)

FORMS: Final = (
    "an ISO timestamp (2025-11-19T14:00:00Z), a date (2025-11-19), or an age like 90m, 24h, 7d"
)


class BadMoment(ValueError):
    """Text that is not a point in time tdxq understands."""


def parse_moment(text: str, now: datetime) -> datetime:
    """The timezone-aware UTC instant ``text`` names, relative forms counted back from ``now``."""
    value = text.strip()
    if not value:
        raise BadMoment(f"expected {FORMS}; found nothing")
    if value.lower() == "now":
        return now.astimezone(UTC)
    relative = _RELATIVE.fullmatch(value)
    if relative:
        amount = float(relative.group(1))
        return (now - amount * _UNITS[relative.group(2).lower()]).astimezone(UTC)
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise BadMoment(f"expected {FORMS}; found {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_window(
    since: str | None, until: str | None, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """``--since`` and ``--until`` together; errors name the option, and an empty window is one."""
    start = _parse_option("--since", since, now)
    end = _parse_option("--until", until, now)
    if start is not None and end is not None and end <= start:
        raise BadMoment(
            f"--until ({end.isoformat()}) must be later than --since ({start.isoformat()})"
        )
    return start, end


def _parse_option(name: str, text: str | None, now: datetime) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_moment(text, now)
    except BadMoment as exc:
        raise BadMoment(f"{name}: {exc}") from None
