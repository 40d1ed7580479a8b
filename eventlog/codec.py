"""JSON encoding of events with orjson, after sanitizing hostile text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from .errors import EventEncodingError
from .sanitize import SanitizeReport, sanitize

SANITIZED_PATHS_KEY = "sanitized_paths"


def encode_json(value: Any) -> str:
    """Encode an already sanitized value; a failure is reported as an encoding error."""
    try:
        return orjson.dumps(value, option=orjson.OPT_UTC_Z).decode()
    except TypeError as exc:  # orjson.JSONEncodeError subclasses TypeError
        raise EventEncodingError("$", str(exc)) from exc


def decode_json(raw: str | bytes) -> Any:
    return orjson.loads(raw)


def prepare_payload(
    data: Mapping[str, Any], metadata: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Sanitize data and metadata; record in the metadata which data paths were changed."""
    data_report = SanitizeReport()
    clean_data = sanitize(dict(data), data_report, "$")
    meta_report = SanitizeReport()
    clean_meta = sanitize(dict(metadata), meta_report, "$")
    if data_report.paths:
        clean_meta[SANITIZED_PATHS_KEY] = data_report.paths
    if meta_report.paths:
        clean_meta["sanitized_metadata_paths"] = meta_report.paths
    return clean_data, clean_meta
