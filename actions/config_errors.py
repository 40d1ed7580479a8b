"""Configuration problems in words: which file, which key, what was expected, what was found.

pydantic's own messages name neither the file nor the key path as a user writes it
(``pipelines.desktop.actions[2].options.max_assets_to_add``) and can echo values verbatim; this
module turns its errors into ``Problem`` lines, hides values of secret-looking keys, and suggests
the nearest known key for a typo.
"""

from __future__ import annotations

import difflib
import json
import re
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

# Credentials are read only from the environment; these names in [tdx] are refused outright.
TDX_CREDENTIAL_KEYS: Mapping[str, str] = {
    "beid": "TDX_BEID",
    "web_services_key": "TDX_WEB_SERVICES_KEY",
    "webserviceskey": "TDX_WEB_SERVICES_KEY",
    "username": "TDX_USERNAME",
    "password": "TDX_PASSWORD",
    "api_token": "TDX_API_TOKEN",
    "token": "TDX_API_TOKEN",
    "api_key": "TDX_WEB_SERVICES_KEY",
    "key": "TDX_WEB_SERVICES_KEY",
}
_SECRET_NAME = re.compile(
    r"password|passwd|secret|token|web_?services_?key|api_?key|^key$|^dsn$", re.I
)
_MAX_SHOWN = 60


@dataclass(frozen=True, slots=True)
class Problem:
    key: str
    expected: str
    found: str

    def __str__(self) -> str:
        return f"{self.key}: expected {self.expected}; found {self.found}"


class ConfigError(ValueError):
    """The configuration cannot be used; the message lists every problem found."""

    def __init__(self, path: Path, problems: Sequence[Problem], headline: str | None = None):
        self.path = path
        self.problems = list(problems)
        if headline is None:
            count = len(self.problems)
            headline = f"invalid configuration in {path} ({count} problem{'s' * (count != 1)}):"
        lines = [headline, *(f"  - {problem}" for problem in self.problems)]
        super().__init__("\n".join(lines))


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def secret_key_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """Credentials written into the file: named, never shown."""
    problems: list[Problem] = []
    tdx = raw.get("tdx")
    if isinstance(tdx, Mapping):
        for key in tdx:
            env = TDX_CREDENTIAL_KEYS.get(str(key).lower())
            if env is not None:
                problems.append(
                    Problem(
                        f"tdx.{key}",
                        f"no credentials in the file (set {env} in the environment or .env)",
                        "a value (not shown)",
                    )
                )
    for path in _secret_paths(raw, ()):
        key = format_key_path(path)
        if not any(problem.key == key for problem in problems):
            problems.append(
                Problem(
                    key,
                    "no secrets in the file (credentials come from the environment)",
                    "a value (not shown)",
                )
            )
    return problems


def _secret_paths(node: Any, path: tuple[str | int, ...]) -> Iterable[tuple[str | int, ...]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            here = (*path, str(key))
            # A dsn is allowed (the lookup validator refuses one holding a password).
            if (
                is_secret_name(str(key))
                and str(key).lower() != "dsn"
                and path[:1] != ("pipelines",)
            ):
                yield here
            else:
                yield from _secret_paths(value, here)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _secret_paths(value, (*path, index))


def format_key_path(parts: Sequence[str | int]) -> str:
    """``("pipelines", "desktop", "actions", 2)`` → ``pipelines.desktop.actions[2]``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else json.dumps(part)
            text += f".{name}" if text else name
    return text or "(top level)"


def problems_from_validation(exc: ValidationError, model: Any, prefix: str = "") -> list[Problem]:
    """One Problem per pydantic error, with the key path as the user wrote it."""
    problems = []
    for error in exc.errors(include_url=False):
        parts, annotation, parent = _resolve(model, error["loc"])
        key = format_key_path(parts)
        if prefix:
            key = (
                prefix
                if key == "(top level)"
                else f"{prefix}{'' if key.startswith('[') else '.'}{key}"
            )
        expected, found = _describe(error, parts, parent, annotation)
        problems.append(Problem(key, expected, found))
    return problems


def _describe(
    error: ErrorDetails, parts: Sequence[str | int], parent: Any, annotation: Any
) -> tuple[str, str]:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    name = str(parts[-1]) if parts else ""
    secret = bool(name) and is_secret_name(name)
    found = "a value (not shown)" if secret else show(value)
    if kind == "missing":
        return "this key (it is required)", "nothing"
    if kind == "extra_forbidden":
        known = _field_names(parent)
        hint = ""
        close = difflib.get_close_matches(name, known, n=1)
        if close:
            hint = f" (did you mean {close[0]!r}?)"
        allowed = f"one of the keys {', '.join(known)}" if known else "no keys here"
        return f"{allowed}{hint}", f"unknown key {name!r}"
    if kind == "union_tag_invalid":
        found = f"{_discriminator(ctx)} = {show(ctx.get('tag'))}"
    expected = _EXPECTED.get(kind)
    if expected is None:
        expected = _expected_with_context(kind, ctx, error["msg"])
    if kind in ("int_type", "int_parsing", "float_type", "bool_type", "string_type"):
        found = f"{found} ({_type_name(value)})" if not secret else found
    return expected, found


_EXPECTED: Mapping[str, str] = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "union_tag_not_found": "a 'kind' key",
}


def _expected_with_context(kind: str, ctx: Mapping[str, Any], message: str) -> str:
    if kind == "literal_error":
        return f"one of {ctx.get('expected', '?')}"
    if kind == "greater_than":
        return f"a number greater than {ctx.get('gt')}"
    if kind == "greater_than_equal":
        return f"a number of at least {ctx.get('ge')}"
    if kind == "less_than":
        return f"a number less than {ctx.get('lt')}"
    if kind == "less_than_equal":
        return f"a number of at most {ctx.get('le')}"
    if kind == "too_short":
        return f"at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"at most {ctx.get('max_length')} item(s)"
    if kind == "string_too_short":
        return "a non-empty string" if ctx.get("min_length") == 1 else message.lower()
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        return f"text matching {ctx.get('pattern')}"
    if kind == "union_tag_invalid":
        return f"{_discriminator(ctx)} one of {ctx.get('expected_tags')}"
    if kind in ("value_error", "assertion_error"):
        return message.split(", ", 1)[1] if ", " in message else message
    return message[:1].lower() + message[1:]


def _discriminator(ctx: Mapping[str, Any]) -> str:
    return str(ctx.get("discriminator", "kind")).strip("'")


def show(value: Any) -> str:
    """A short, single-line rendering of a found value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a table" if value else "an empty table"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} item(s)"
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 1] + "…"
    return text


def _type_name(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


# --- following a pydantic loc through the model's annotations ---------------------------------


def _resolve(model: Any, loc: Sequence[str | int]) -> tuple[list[str | int], Any, Any]:
    """(displayed key parts, annotation at loc, the model holding the last key).

    pydantic puts union tags (``tdx``/``sql``) and ``[key]`` markers into locs; they are consumed
    here without being shown, so the path reads as the file does.
    """
    shown: list[str | int] = []
    current: Any = model
    parent: Any = model
    for part in loc:
        current = _unwrap(current)
        if part == "[key]":
            continue
        members = _union_members(current)
        if members is not None:
            chosen = _member_for(members, part)
            if chosen is not None and _is_tag(chosen, part):
                current = chosen
                continue
            current = chosen if chosen is not None else current
            current = _unwrap(current)
        origin = get_origin(current)
        if isinstance(part, int) and origin in (list, tuple, set, frozenset):
            shown.append(part)
            args = get_args(current)
            current = args[0] if args else Any
            continue
        if origin in (dict, Mapping):
            shown.append(part)
            args = get_args(current)
            current = args[1] if len(args) == 2 else Any
            continue
        shown.append(part)
        if isinstance(current, type) and issubclass(current, BaseModel):
            parent = current
            field = _field(current, str(part))
            current = field if field is not None else Any
        else:
            parent = None
            current = Any
    return shown, current, parent


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    members = _union_members(annotation)
    if members is not None:
        real = [m for m in members if m is not type(None)]
        if len(real) == 1:
            return _unwrap(real[0])
    return annotation


def _union_members(annotation: Any) -> list[Any] | None:
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return [_strip_annotated(arg) for arg in get_args(annotation)]
    return None


def _strip_annotated(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _member_for(members: list[Any], part: str | int) -> Any:
    models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
    for member in models:
        if _is_tag(member, part):
            return member
    for member in models:
        if _field(member, str(part)) is not None:
            return member
    return models[0] if len(models) == 1 else None


def _is_tag(model: Any, part: str | int) -> bool:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return False
    for field in model.model_fields.values():
        annotation = _strip_annotated(field.annotation)
        if get_origin(annotation) is Literal and part in get_args(annotation):
            return True
    return False


def _field(model: type[BaseModel], name: str) -> Any:
    for field_name, field in model.model_fields.items():
        if name in (field_name, field.alias):
            return field.annotation
    return None


def _field_names(model: Any) -> list[str]:
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []
