"""Plain JSON for command output: dataclasses, times, ids and enums turned into JSON values."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
import typer


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data: times as ISO text (UTC), UUIDs as text, enums as values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(v) for v in value]
        return sorted(items) if isinstance(value, set | frozenset) else items
    return value


def echo_json(value: Any) -> None:
    """Print ``value`` as one indented JSON document."""
    typer.echo(orjson.dumps(plain(value), option=orjson.OPT_INDENT_2).decode())
