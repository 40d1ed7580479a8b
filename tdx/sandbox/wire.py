"""The request and response values the sandbox's handlers see, independent of WSGI."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

from .errors import ApiError

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"

_SLASHES = re.compile(r"/{2,}")

STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def normalize_path(path: str) -> str:
    """Collapse doubled slashes and drop a trailing slash, as TDX tolerates both."""
    collapsed = _SLASHES.sub("/", path or "/")
    if len(collapsed) > 1:
        collapsed = collapsed.rstrip("/")
    return collapsed or "/"


@dataclass(frozen=True)
class Request:
    method: str
    raw_path: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    remote_addr: str

    @classmethod
    def build(
        cls,
        *,
        method: str,
        path: str,
        query_string: str,
        headers: dict[str, str],
        body: bytes,
        remote_addr: str,
    ) -> Request:
        # Query-string names bind case-insensitively in ASP.NET; the last value wins.
        query = {k.lower(): v for k, v in parse_qsl(query_string, keep_blank_values=True)}
        return cls(
            method=method.upper(),
            raw_path=path,
            path=normalize_path(path),
            query=query,
            headers={k.lower(): v for k, v in headers.items()},
            body=body,
            remote_addr=remote_addr,
        )

    def json(self) -> Any:
        """The parsed body; an empty body is None; malformed JSON is a 400 like TDX's."""
        if not self.body.strip():
            return None
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError as exc:
            raise ApiError(400, f"The request body is not valid JSON: {exc}") from None

    def body_for_log(self) -> Any:
        """The body as the write log shows it: parsed JSON when it parses, else the text."""
        if not self.body.strip():
            return None
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return self.body.decode("utf-8", errors="replace")


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)
    # What a mutating call changed in the tenant (for the write log); None if nothing.
    effect: dict[str, Any] | None = None

    def status_line(self) -> str:
        return f"{self.status} {STATUS_TEXT.get(self.status, 'Unknown')}"

    def header_list(self) -> list[tuple[str, str]]:
        return [
            ("Content-Type", self.content_type),
            ("Content-Length", str(len(self.body))),
            *self.headers,
        ]


def json_response(
    payload: Any, status: int = 200, effect: dict[str, Any] | None = None
) -> Response:
    return Response(status=status, body=orjson.dumps(payload), effect=effect)


def text_response(text: str, status: int = 200) -> Response:
    return Response(status=status, body=text.encode("utf-8"), content_type=TEXT_TYPE)


def empty_response(status: int = 200, effect: dict[str, Any] | None = None) -> Response:
    return Response(status=status, body=b"", effect=effect)


def error_response(status: int, message: str) -> Response:
    return json_response({"Message": message}, status=status)
