"""Make arbitrary JSON-like values safe for jsonb, recording what had to change.

Postgres rejects ``\\u0000`` and lone surrogates in jsonb, and one such value aborts the whole
transaction: text that comes from TDX is sanitized here before encoding, so a hostile ticket
never loses a batch. Values that cannot be stored exactly (huge integers, Decimals, NaN) are
refused with the path of the offending value rather than silently changed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from .errors import EventEncodingError

REPLACEMENT = "\ufffd"
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
_SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass
class SanitizeReport:
    """The JSON paths whose strings were changed."""

    paths: list[str] = field(default_factory=list)


def clean_text(text: str) -> str:
    """Replace NUL characters and lone surrogates; join valid surrogate pairs."""
    if _SURROGATES.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text.replace("\x00", REPLACEMENT)


def needs_cleaning(text: str) -> bool:
    return _BAD_CHARS.search(text) is not None


def sanitize(value: Any, report: SanitizeReport, path: str = "$") -> Any:
    """Return a copy of ``value`` that jsonb accepts; record changed paths in ``report``."""
    if isinstance(value, str):
        if needs_cleaning(value):
            report.paths.append(path)
            return clean_text(value)
        return value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise EventEncodingError(path, f"integer {value} is outside the 64-bit range")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EventEncodingError(path, f"{value} is not a finite number")
        return value
    if isinstance(value, Decimal):
        raise EventEncodingError(
            path, "Decimal values are not stored as JSON numbers; convert to str explicitly"
        )
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise EventEncodingError(path, f"object key {key!r} is not a string")
            clean_key = key
            if needs_cleaning(key):
                clean_key = clean_text(key)
                report.paths.append(f"{path}.{clean_key}")
            out[clean_key] = sanitize(item, report, f"{path}.{clean_key}")
        return out
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [sanitize(item, report, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise EventEncodingError(path, "naive datetime; tdxq stores timezone-aware UTC only")
        return value
    if isinstance(value, date | UUID | Enum):
        return value
    raise EventEncodingError(path, f"unsupported type {type(value).__name__}")
