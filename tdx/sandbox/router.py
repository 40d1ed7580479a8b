"""A small regex router: templates like `{app:int}/tickets/{id:int}/feed`, matched
case-insensitively (ASP.NET routes ignore case) against a normalized path."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

_PARAM = re.compile(r"\{(\w+)(?::(int|str))?\}")
_PIECES = {"int": r"-?\d+", "str": r"[^/]+"}


def compile_template(template: str) -> re.Pattern[str]:
    pattern = ""
    last = 0
    for match in _PARAM.finditer(template):
        pattern += re.escape(template[last : match.start()])
        pattern += f"(?P<{match.group(1)}>{_PIECES[match.group(2) or 'str']})"
        last = match.end()
    pattern += re.escape(template[last:])
    return re.compile(f"^{pattern}$", re.IGNORECASE)


@dataclass(frozen=True)
class Match(Generic[T]):
    target: T
    params: dict[str, str]


@dataclass(frozen=True)
class MethodNotAllowed:
    allowed: tuple[str, ...]


class Router(Generic[T]):
    """First matching route wins, so list literal paths (`people/lookup`) before the
    parameterized ones they would also match (`people/{uid}`)."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], T]] = []

    def add(self, method: str, template: str, target: T) -> None:
        self._routes.append((method.upper(), compile_template(template), target))

    def match(self, method: str, path: str) -> Match[T] | MethodNotAllowed | None:
        allowed: list[str] = []
        for route_method, pattern, target in self._routes:
            found = pattern.match(path)
            if found is None:
                continue
            if route_method == method.upper():
                return Match(target, found.groupdict())
            allowed.append(route_method)
        return MethodNotAllowed(tuple(allowed)) if allowed else None
