"""Binding of TDX request bodies and query strings the way ASP.NET does it: property names
ignore case, booleans may come as "True"/"false" strings, numbers may come as strings."""

from __future__ import annotations

from typing import Any

from .errors import ApiError

_TRUE = "true"
_FALSE = "false"


def parse_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in (_TRUE, _FALSE):
        return value.strip().lower() == _TRUE
    raise ApiError(400, f"The value '{value}' is not valid for {where} (expected true or false).")


def parse_int(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise ApiError(400, f"The value '{value}' is not valid for {where} (expected an integer).")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ApiError(400, f"The value '{value}' is not valid for {where} (expected an integer).")


class Body:
    """A JSON object whose property names are looked up case-insensitively."""

    def __init__(self, payload: Any, what: str) -> None:
        if payload is None:
            payload = {}
        if not isinstance(payload, dict):
            raise ApiError(400, f"The request body must be a JSON object ({what}).")
        self._what = what
        self._values = {str(k).lower(): v for k, v in payload.items()}

    def has(self, name: str) -> bool:
        return self._values.get(name.lower()) is not None

    def raw(self, name: str) -> Any:
        return self._values.get(name.lower())

    def _where(self, name: str) -> str:
        return f"{self._what}.{name}"

    def text(self, name: str) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise ApiError(400, f"The value for {self._where(name)} must be a string.")

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.raw(name)
        return default if value is None else parse_bool(value, self._where(name))

    def optional_flag(self, name: str) -> bool | None:
        value = self.raw(name)
        return None if value is None else parse_bool(value, self._where(name))

    def integer(self, name: str, default: int = 0) -> int:
        value = self.raw(name)
        return default if value is None else parse_int(value, self._where(name))

    def optional_integer(self, name: str) -> int | None:
        value = self.raw(name)
        return None if value is None else parse_int(value, self._where(name))

    def int_list(self, name: str) -> list[int] | None:
        value = self.raw(name)
        if value is None:
            return None
        if not isinstance(value, list):
            raise ApiError(400, f"The value for {self._where(name)} must be an array of integers.")
        return [parse_int(item, self._where(name)) for item in value]

    def str_list(self, name: str) -> list[str] | None:
        value = self.raw(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ApiError(400, f"The value for {self._where(name)} must be an array of strings.")
        return list(value)

    def objects(self, name: str) -> list[Body]:
        value = self.raw(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise ApiError(400, f"The value for {self._where(name)} must be an array of objects.")
        return [Body(item, self._where(name)) for item in value]


def query_flag(query: dict[str, str], name: str, default: bool = False) -> bool:
    value = query.get(name.lower())
    if value is None or value == "":
        return default
    return parse_bool(value, f"query parameter {name}")


def query_int(query: dict[str, str], name: str, default: int) -> int:
    value = query.get(name.lower())
    if value is None or value == "":
        return default
    return parse_int(value, f"query parameter {name}")
