"""Which Postgres to use, and connections to it.

``TDXQ_DATABASE_URL`` names the server; without it tdxq starts an embedded Postgres (pgserver)
in the user's data directory. ``TDXQ_SCHEMA`` (default ``tdxq``) names the schema that holds
every tdxq table, so tdxq can share a warehouse database.
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import psycopg
from platformdirs import user_data_path
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import TupleRow
from psycopg.types.json import set_json_loads
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import DatabaseNotConfigured

SCHEMA_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,49}$")


class DatabaseSettings(BaseSettings):
    """Database settings from the environment (and a ``.env`` file)."""

    model_config = SettingsConfigDict(env_prefix="TDXQ_", env_file=".env", extra="ignore")

    database_url: SecretStr | None = Field(default=None)
    schema_name: str = Field(default="tdxq", alias="TDXQ_SCHEMA")
    embedded_dir: Path | None = Field(default=None)

    @field_validator("schema_name")
    @classmethod
    def _valid_schema(cls, value: str) -> str:
        if not SCHEMA_PATTERN.match(value):
            raise ValueError(
                f"TDXQ_SCHEMA={value!r} is not a plain lower-case identifier (a-z, 0-9, _)"
            )
        return value


def redact_dsn(dsn: str) -> str:
    """The DSN with any password replaced, safe for logs and errors."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparseable database URL>"
    if "password" in params:
        params["password"] = "***"  # noqa: S105 - the mask itself
    return make_conninfo("", **{k: v for k, v in params.items() if v is not None})


def default_embedded_dir() -> Path:
    return user_data_path("tdxq", appauthor=False) / "postgres"


_embedded_servers: dict[Path, Any] = {}


def embedded_dsn(data_dir: Path, announce: Callable[[str], None] | None = None) -> str:
    """Start (or reuse) the embedded Postgres in ``data_dir`` and return its DSN."""
    data_dir = data_dir.expanduser().resolve()
    server = _embedded_servers.get(data_dir)
    if server is None:
        data_dir.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # pgserver asks platformdirs for a runtime dir; on hosts without XDG_RUNTIME_DIR
            # (containers, CI) that warns on every command while the fallback works fine.
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            try:
                from pgserver import get_server  # type: ignore[attr-defined]
            except ImportError as exc:
                raise DatabaseNotConfigured(
                    "TDXQ_DATABASE_URL is not set and the embedded Postgres is not installed: "
                    "set TDXQ_DATABASE_URL=postgresql://user@host/db, or "
                    "pip install 'tdxq[embedded]'"
                ) from exc
            server = get_server(data_dir, cleanup_mode="stop")
        _embedded_servers[data_dir] = server
        (announce or _announce)(f"tdxq: using the embedded Postgres in {data_dir}")
    return str(server.get_uri())


def _announce(message: str) -> None:
    print(message, file=sys.stderr)


def resolve_dsn(settings: DatabaseSettings | None = None) -> str:
    settings = settings or DatabaseSettings()
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return embedded_dsn(settings.embedded_dir or default_embedded_dir())


def configure_connection(conn: psycopg.Connection[Any]) -> None:
    """Decode jsonb with orjson and keep all session times in UTC."""
    set_json_loads(orjson.loads, conn)


def connect(dsn: str, *, autocommit: bool = True, **kwargs: Any) -> psycopg.Connection[TupleRow]:
    """A connection configured for tdxq; errors never carry the password."""
    try:
        conn = psycopg.connect(dsn, autocommit=autocommit, options="-c timezone=UTC", **kwargs)
    except psycopg.OperationalError as exc:
        raise psycopg.OperationalError(
            f"cannot connect to {redact_dsn(dsn)}: {_redact_message(str(exc), dsn)}"
        ) from None
    configure_connection(conn)
    return conn


def _redact_message(message: str, dsn: str) -> str:
    try:
        password = conninfo_to_dict(dsn).get("password")
    except psycopg.ProgrammingError:
        return "connection failed"
    if password:
        message = message.replace(str(password), "***")
    return message.strip()
