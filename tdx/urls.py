"""Base URL normalisation and building request paths from templates."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

from .errors import TdxConfigError

_SLASHES = re.compile(r"/{2,}")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def normalize_base_url(raw: str) -> str:
    """Return ``scheme://host[:port]/…/api`` without a trailing slash, doubled slashes collapsed.

    The API root must be given explicitly (``/TDWebApi/api`` for production, ``/SBTDWebApi/api``
    for a TDX sandbox, or a custom host's equivalent): guessing would risk writing to the wrong
    environment.
    """
    text = raw.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TdxConfigError(
            "TDX base URL must look like https://org.teamdynamix.com/TDWebApi/api "
            f"(got {_safe_display(parts.scheme, parts.hostname, parts.path)!r})"
        )
    if parts.username is not None or parts.password is not None:
        raise TdxConfigError("TDX base URL must not contain a user name or password")
    if parts.query or parts.fragment:
        raise TdxConfigError("TDX base URL must not contain a query or fragment")
    path = _SLASHES.sub("/", parts.path).rstrip("/")
    if not path.lower().endswith("/api"):
        hint = f"{path}/api" if path.lower().endswith("webapi") else "/TDWebApi/api"
        raise TdxConfigError(
            f"TDX base URL path must end with /api, e.g. {hint} (got {path or '/'!r}); "
            "use /TDWebApi/api for production or /SBTDWebApi/api for a TDX sandbox"
        )
    netloc = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def _safe_display(scheme: str, host: str | None, path: str) -> str:
    # Never echo a whole URL back: it might carry credentials in its user-info part.
    return f"{scheme}://{host or ''}{path}" if scheme else path


def fill_path(template: str, params: dict[str, object]) -> str:
    """``{appId}/tickets/{id}`` + values → ``46/tickets/9291804``; each value percent-encoded.

    Every placeholder must be given and every given value used, so a typo cannot produce a
    path that silently hits another endpoint.
    """
    names = _PLACEHOLDER.findall(template)
    missing = [name for name in names if name not in params]
    unused = [name for name in params if name not in names]
    if missing or unused:
        raise ValueError(f"path {template!r}: missing {missing}, unexpected {unused}")

    def substitute(match: re.Match[str]) -> str:
        value = str(params[match.group(1)]).strip()
        if not value:
            raise ValueError(f"path {template!r}: {match.group(1)} is empty")
        return quote(value, safe="")

    return _SLASHES.sub("/", _PLACEHOLDER.sub(substitute, template)).strip("/")
