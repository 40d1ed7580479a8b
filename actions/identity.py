"""Action ids: ``{type}:{hash12}:{version}``.

The hash covers the canonical JSON of the whole validated options, so any change of an option
makes a new action id and the action runs again. The seed's own formula is kept beside it only
to recognise the seed's history when importing its action log (see seed-system.md).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson
from pydantic import BaseModel

HASH_LENGTH: Final = 12

_TYPE_PATTERN: Final = re.compile(r"[a-z][a-z0-9_]*")
# ':' separates the parts of an id and '#' marks summary instances, so neither may appear here.
_VERSION_PATTERN: Final = re.compile(r"[A-Za-z0-9._-]+")


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same options always give the same bytes."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError as exc:
        raise ValueError(f"action options are not plain JSON: {exc}") from exc


def options_digest(options: BaseModel | Mapping[str, Any]) -> str:
    """Full sha256 hex digest of the options' canonical JSON."""
    plain = options.model_dump(mode="json") if isinstance(options, BaseModel) else dict(options)
    return hashlib.sha256(canonical_json(plain)).hexdigest()


def action_id(type: str, options: BaseModel | Mapping[str, Any], version: str) -> str:
    """The id of a configured action; ``options`` should be the validated options model."""
    _check_type(type)
    _check_version(version)
    return f"{type}:{options_digest(options)[:HASH_LENGTH]}:{version}"


@dataclass(frozen=True, slots=True)
class ActionIdParts:
    type: str
    hash: str
    version: str


def parse_action_id(value: str) -> ActionIdParts:
    """Split an action id (new or legacy formula: both have the same shape)."""
    parts = value.split(":")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"action id {value!r} is not of the form type:hash:version")
    return ActionIdParts(type=parts[0], hash=parts[1], version=parts[2])


def _check_type(type: str) -> None:
    if not _TYPE_PATTERN.fullmatch(type):
        raise ValueError(
            f"action type {type!r} must be lowercase letters, digits and '_', from a letter on"
        )


def _check_version(version: str) -> None:
    if not _VERSION_PATTERN.fullmatch(version):
        raise ValueError(
            f"action version {version!r} must be non-empty letters, digits, '.', '_' or '-'"
        )


# --- the seed's legacy formula ----------------------------------------------------------------


def legacy_config_hash(hashed_fields: Mapping[str, Any]) -> str:
    """The seed's full hash: sha256 of the Python repr of the sorted (field, value) pairs."""
    return hashlib.sha256(str(sorted(hashed_fields.items())).encode("utf-8")).hexdigest()


def legacy_action_id(type: str, hashed_fields: Mapping[str, Any], version: str) -> str:
    """The seed's action id: the version is appended, not hashed."""
    return f"{type}:{legacy_config_hash(hashed_fields)[:HASH_LENGTH]}:{version}"


@dataclass(frozen=True, slots=True)
class LegacyField:
    """One hashed field of a seed action: its Python type and, if the seed had one, its default.

    Defaults that were tenant constants in the seed (form ids, status ids, CI type ids) are
    deliberately absent: the caller passes the configured value.
    """

    kind: type
    default: Any = None
    required: bool = False
    sorted_list_of: type | None = None  # the seed hashed these lists sorted


def _req(kind: type, *, sorted_list_of: type | None = None) -> LegacyField:
    return LegacyField(kind=kind, required=True, sorted_list_of=sorted_list_of)


LEGACY_FIELDS: Final[Mapping[str, Mapping[str, LegacyField]]] = {
    "comment": {
        "comment_text": _req(str),
        "is_private": LegacyField(bool, False),
        "is_rich_html": LegacyField(bool, False),
        "is_communication": LegacyField(bool, False),
        "notify": LegacyField(list, ("null",), sorted_list_of=str),
        "new_status_id": LegacyField(int, 0),
        "cascade_status": LegacyField(bool, False),
    },
    "add_asset": {
        "add_summary_comment": LegacyField(bool, True),
        "max_assets_to_add": LegacyField(int, 10),
        "skip_if_requestor_asset_exists": LegacyField(bool, True),
        "active_status_only": LegacyField(bool, True),
        "computer_form_id": _req(int),
        "has_database": LegacyField(bool, False),
    },
    "add_lab": {
        "add_summary_comment": LegacyField(bool, True),
        "skip_if_lab_exists": LegacyField(bool, True),
        "lab_selection_strategy": LegacyField(str, "asset_first"),
        # The seed's add_lab required a database URL, so its hashed flag was always True.
        "has_database": LegacyField(bool, True),
    },
    "find_active_tickets": {
        "exclude_current_ticket": LegacyField(bool, True),
        "max_tickets_per_category": LegacyField(int, 10),
        "active_status_ids": _req(list, sorted_list_of=int),
        "lab_type_id": _req(int),
        "show_partial_on_error": LegacyField(bool, True),
    },
    "summary_comment": {
        "comment_prefix": LegacyField(str, "\U0001f916 Automated Actions Summary"),
        "is_private": LegacyField(bool, True),
        "is_rich_html": LegacyField(bool, False),
        "skip_if_empty": LegacyField(bool, True),
        "separator": LegacyField(str, "\n"),
    },
}


def legacy_fields(type: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The seed's hashed config of a built-in action: its defaults with ``overrides`` applied.

    Values are checked against the seed's types, because the repr (``True`` vs ``1``) is hashed.
    """
    try:
        table = LEGACY_FIELDS[type]
    except KeyError:
        raise ValueError(
            f"no legacy id formula for action type {type!r}; known: {sorted(LEGACY_FIELDS)}"
        ) from None
    unknown = sorted(set(overrides) - set(table))
    if unknown:
        raise ValueError(
            f"{type}: {unknown} are not hashed fields of the seed's action; "
            f"expected some of {sorted(table)}"
        )
    result: dict[str, Any] = {}
    for name, spec in table.items():
        if name in overrides:
            value = overrides[name]
        elif spec.required:
            raise ValueError(f"{type}.{name} has no seed default that tdxq keeps; pass it")
        else:
            value = spec.default
        result[name] = _legacy_value(f"{type}.{name}", spec, value)
    return result


def _legacy_value(where: str, spec: LegacyField, value: Any) -> Any:
    if spec.sorted_list_of is not None:
        if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
            raise ValueError(f"{where} must be a list, found {value!r}")
        items = list(value)
        for item in items:
            if not _is_exact(item, spec.sorted_list_of):
                raise ValueError(
                    f"{where} must hold {spec.sorted_list_of.__name__} values, found {item!r}"
                )
        return sorted(items)
    if not _is_exact(value, spec.kind):
        raise ValueError(f"{where} must be {spec.kind.__name__}, found {value!r}")
    return value


def _is_exact(value: Any, kind: type) -> bool:
    # bool is an int in Python but hashes as True/False in the repr: keep the two apart.
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)
