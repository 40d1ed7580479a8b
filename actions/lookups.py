"""Lookups: the questions actions ask about the tenant, answered by TDX searches or by SQL.

Four lookups, each configured under ``[lookups.NAME]`` with ``kind = "tdx"`` (TDX searches through
the ticket's read cache) or ``kind = "sql"`` (a query with named parameters ``%(name)s`` against a
DSN, by default the tdxq database — for sites that keep a warehouse copy of TDX, which answers
10–100x faster than the API):

=====================  =======================  ==================================================
lookup                 SQL parameters           answer
=====================  =======================  ==================================================
assets_by_identifier   identifier               candidate assets (rows → Asset by column name);
                                                callers verify an exact Name/SerialNumber/Tag match
labs_by_computer       asset_id, ci_id, name,   lab CI ids (first column)
                       serial_number, tag
labs_by_member         uid                      lab CI ids (first column)
assets_by_owner        uid                      assets (rows → Asset by column name)
=====================  =======================  ==================================================

Parameters are always passed to the driver, never formatted into the SQL text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from tdxq.eventlog.database import connect, redact_dsn
from tdxq.tdx.models import Asset, AssetSearch, ConfigurationItemSearch, CustomAttributeFilter

from .reads import TicketReads

LOOKUP_NAMES = ("assets_by_identifier", "labs_by_computer", "labs_by_member", "assets_by_owner")

SQL_PARAMETERS: Mapping[str, frozenset[str]] = {
    "assets_by_identifier": frozenset({"identifier"}),
    "labs_by_computer": frozenset({"asset_id", "ci_id", "name", "serial_number", "tag"}),
    "labs_by_member": frozenset({"uid"}),
    "assets_by_owner": frozenset({"uid"}),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- configuration -------------------------------------------------------------------------


class TdxAssetSearchLookup(_Strict):
    """Assets found by ``POST assets/search``, narrowed to the listed statuses and forms."""

    kind: Literal["tdx"] = "tdx"
    status_ids: list[int] = Field(default_factory=list, description="empty: any status")
    form_ids: list[int] = Field(default_factory=list, description="empty: any form")
    max_results: int = Field(default=50, ge=1, le=1000, description="per search")


class TdxLabsByComputerLookup(_Strict):
    """Lab CIs related (either direction) to the asset's configuration item."""

    kind: Literal["tdx"] = "tdx"
    lab_type_id: int = Field(gt=0, description="CMDB type id of lab CIs")


class TdxLabsByMemberLookup(_Strict):
    """Active lab CIs whose members attribute holds the person's uid (CMDB search)."""

    kind: Literal["tdx"] = "tdx"
    lab_type_id: int = Field(gt=0, description="CMDB type id of lab CIs")
    members_attribute_id: int = Field(gt=0, description="custom attribute listing member uids")


_PLACEHOLDER = re.compile(r"%(?:%|\((?P<name>[A-Za-z_][A-Za-z0-9_]*)\)s|(?P<bad>.?))", re.DOTALL)


def sql_placeholders(query: str) -> set[str]:
    """Named placeholders in ``query``; ValueError for positional or malformed ``%`` uses."""
    names: set[str] = set()
    for match in _PLACEHOLDER.finditer(query):
        if match.group("name"):
            names.add(match.group("name"))
        elif match.group("bad") is not None:
            raise ValueError(
                f"'%{match.group('bad')}' at offset {match.start()}: use named parameters "
                "like %(uid)s, and write %% for a literal percent sign"
            )
    return names


class SqlLookup(_Strict):
    """A query with named parameters against ``dsn`` / ``$dsn_env`` / the tdxq database."""

    kind: Literal["sql"]
    query: str = Field(min_length=1)
    dsn: SecretStr | None = Field(default=None, description="without a password; default: tdxq's")
    dsn_env: str | None = Field(default=None, description="name of an env variable with the DSN")

    @field_validator("dsn")
    @classmethod
    def _no_password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        try:
            params = conninfo_to_dict(value.get_secret_value())
        except psycopg.ProgrammingError:
            raise ValueError("a PostgreSQL connection string (URL or key=value)") from None
        if params.get("password"):
            raise ValueError(
                "a DSN without a password: credentials only come from the environment "
                '(use dsn_env = "VARIABLE", PGPASSWORD or ~/.pgpass)'
            )
        return value

    @model_validator(mode="after")
    def _one_source(self) -> SqlLookup:
        if self.dsn is not None and self.dsn_env is not None:
            raise ValueError("either dsn or dsn_env, not both")
        return self

    def resolve_dsn(self, default: Callable[[], str]) -> str:
        if self.dsn is not None:
            return self.dsn.get_secret_value()
        if self.dsn_env is not None:
            value = os.environ.get(self.dsn_env, "").strip()
            if not value:
                raise LookupFailed(f"environment variable {self.dsn_env} (a lookup DSN) is not set")
            return value
        return default()


def _checked_sql(lookup: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, SqlLookup):
            used = sql_placeholders(value.query)
            allowed = SQL_PARAMETERS[lookup]
            unknown = sorted(used - allowed)
            if unknown:
                raise ValueError(
                    f"query parameters among {', '.join(sorted(allowed))}; found %({unknown[0]})s"
                )
            if not used:
                raise ValueError(
                    f"a query that uses at least one of %({')s, %('.join(sorted(allowed))})s"
                )
        return value

    return check


AssetsByIdentifier = Annotated[TdxAssetSearchLookup | SqlLookup, Field(discriminator="kind")]
LabsByComputer = Annotated[TdxLabsByComputerLookup | SqlLookup, Field(discriminator="kind")]
LabsByMember = Annotated[TdxLabsByMemberLookup | SqlLookup, Field(discriminator="kind")]
AssetsByOwner = Annotated[TdxAssetSearchLookup | SqlLookup, Field(discriminator="kind")]


class LookupsConfig(_Strict):
    """``[lookups]``: asset lookups default to TDX searches; lab lookups must be configured."""

    assets_by_identifier: AssetsByIdentifier = Field(default_factory=TdxAssetSearchLookup)
    labs_by_computer: LabsByComputer | None = None
    labs_by_member: LabsByMember | None = None
    assets_by_owner: AssetsByOwner = Field(default_factory=TdxAssetSearchLookup)

    @field_validator(*LOOKUP_NAMES, mode="after")
    @classmethod
    def _sql_parameters(cls, value: Any, info: Any) -> Any:
        return _checked_sql(info.field_name)(value)

    def configured(self) -> set[str]:
        return {name for name in LOOKUP_NAMES if getattr(self, name) is not None}

    def uses_sql(self) -> bool:
        return any(isinstance(getattr(self, name), SqlLookup) for name in LOOKUP_NAMES)


# --- runtime -------------------------------------------------------------------------------


class LookupFailed(Exception):
    """A lookup could not be answered (not configured, SQL error, unreachable database)."""


class SqlRunner:
    """One connection per DSN for a run's SQL lookups, opened on first use."""

    def __init__(self, default_dsn: Callable[[], str]) -> None:
        self._default_dsn = default_dsn
        self._connections: dict[str, psycopg.Connection[Any]] = {}
        self.queries = 0

    def fetch(self, lookup: SqlLookup, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        dsn = lookup.resolve_dsn(self._default_dsn)
        used = sql_placeholders(lookup.query)
        bound = {name: value for name, value in params.items() if name in used}
        try:
            conn = self._connection(dsn)
            with conn.cursor(row_factory=dict_row) as cur:
                cur.execute(lookup.query.encode(), bound)
                rows = cur.fetchall()
        except psycopg.Error as exc:
            self._drop(dsn)
            raise LookupFailed(
                f"SQL lookup failed on {redact_dsn(dsn)}: {type(exc).__name__}: "
                f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
            ) from None
        self.queries += 1
        return rows

    def _connection(self, dsn: str) -> psycopg.Connection[Any]:
        conn = self._connections.get(dsn)
        if conn is None or conn.closed:
            conn = connect(dsn, autocommit=True)
            self._connections[dsn] = conn
        return conn

    def _drop(self, dsn: str) -> None:
        conn = self._connections.pop(dsn, None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        for dsn in list(self._connections):
            self._drop(dsn)


class Lookups:
    """The configured lookups for one ticket pass; TDX lookups read through ``reads``."""

    def __init__(self, config: LookupsConfig, reads: TicketReads, sql: SqlRunner) -> None:
        self._config = config
        self._reads = reads
        self._sql = sql

    @property
    def config(self) -> LookupsConfig:
        return self._config

    def assets_by_identifier(self, identifier: str) -> list[Asset]:
        """Candidate assets for a computer name or serial number (not yet verified)."""
        lookup = self._config.assets_by_identifier
        if isinstance(lookup, SqlLookup):
            return _assets(self._sql.fetch(lookup, {"identifier": identifier}))
        found: dict[int, Asset] = {}
        for search in (
            _asset_search(lookup, serial_like=identifier),
            _asset_search(lookup, search_text=identifier),
        ):
            for asset in self._reads.search_assets(search):
                found.setdefault(asset.id, asset)
        return list(found.values())

    def labs_by_computer(self, asset: Asset) -> list[int]:
        """Ids of the lab CIs the computer belongs to."""
        lookup = self._required("labs_by_computer", self._config.labs_by_computer)
        if isinstance(lookup, SqlLookup):
            params = {
                "asset_id": asset.id,
                "ci_id": asset.configuration_item_id,
                "name": asset.name,
                "serial_number": asset.serial_number,
                "tag": asset.tag,
            }
            return _ids(self._sql.fetch(lookup, params))
        if not asset.configuration_item_id:
            return []
        ci_id = asset.configuration_item_id
        labs: list[int] = []
        for rel in self._reads.ci_relationships(ci_id):
            if rel.parent_id == ci_id:
                other, other_type = rel.child_id, rel.child_type_id
            else:
                other, other_type = rel.parent_id, rel.parent_type_id
            if other and other_type == lookup.lab_type_id and other not in labs:
                labs.append(other)
        return labs

    def labs_by_member(self, person_uid: str) -> list[int]:
        """Ids of the active lab CIs the person is a member of."""
        lookup = self._required("labs_by_member", self._config.labs_by_member)
        if isinstance(lookup, SqlLookup):
            return _ids(self._sql.fetch(lookup, {"uid": person_uid}))
        search = ConfigurationItemSearch(
            is_active=True,
            type_ids=[lookup.lab_type_id],
            custom_attributes=[
                CustomAttributeFilter(id=lookup.members_attribute_id, value=person_uid)
            ],
        )
        uid = person_uid.lower()
        labs: list[int] = []
        for ci in self._reads.search_cis(search):
            # The search narrows; the attribute value is checked here so a tenant whose search
            # matches loosely (substring, other attributes) cannot yield a lab the person is not in.
            members = _attribute_value(ci.attributes, lookup.members_attribute_id)
            if uid in _uids(members) and ci.id not in labs:
                labs.append(ci.id)
        return labs

    def assets_by_owner(self, person_uid: str) -> list[Asset]:
        """Assets whose owning customer is the person."""
        lookup = self._config.assets_by_owner
        if isinstance(lookup, SqlLookup):
            return _assets(self._sql.fetch(lookup, {"uid": person_uid}))
        search = _asset_search(lookup, owning_customer_ids=[person_uid])
        return list(self._reads.search_assets(search))

    @staticmethod
    def _required(name: str, lookup: Any) -> Any:
        if lookup is None:
            raise LookupFailed(f"lookups.{name} is not configured")
        return lookup


class LookupRuntime:
    """A run's lookups: the configuration and the SQL connections, bound per ticket pass."""

    def __init__(self, config: LookupsConfig, default_dsn: Callable[[], str]) -> None:
        self.config = config
        self.sql = SqlRunner(default_dsn)

    def for_ticket(self, reads: TicketReads) -> Lookups:
        return Lookups(self.config, reads, self.sql)

    def close(self) -> None:
        self.sql.close()


def _asset_search(lookup: TdxAssetSearchLookup, **criteria: Any) -> AssetSearch:
    return AssetSearch(
        status_ids=lookup.status_ids or None,
        form_ids=lookup.form_ids or None,
        max_results=lookup.max_results,
        **criteria,
    )


def _assets(rows: Sequence[Mapping[str, Any]]) -> list[Asset]:
    try:
        return [Asset.model_validate(dict(row)) for row in rows]
    except ValueError as exc:
        raise LookupFailed(
            "SQL asset lookup rows must have an id column and asset columns named like Asset's "
            f"fields (name, serial_number, tag, status_id, form_id, configuration_item_id …): {exc}"
        ) from None


def _ids(rows: Sequence[Mapping[str, Any]]) -> list[int]:
    ids: list[int] = []
    for row in rows:
        value = next(iter(row.values()), None)
        if value is None:
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise LookupFailed(
                f"SQL lab lookup must return CI ids in its first column, got {value!r}"
            ) from None
        if number not in ids:
            ids.append(number)
    return ids


def _attribute_value(attributes: Sequence[Any], attribute_id: int) -> str:
    for attribute in attributes:
        if attribute.id == attribute_id:
            return str(attribute.value or "")
    return ""


_UID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _uids(text: str) -> set[str]:
    return {match.lower() for match in _UID.findall(text)}
