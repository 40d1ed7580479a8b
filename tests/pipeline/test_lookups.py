"""Lookups: the SQL path over tables made from the sandbox tenant's plain data gives the same
answers as the TDX path over the sandbox's API."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from tdxq.actions.lookups import (
    LookupFailed,
    LookupsConfig,
    SqlLookup,
)
from tdxq.tdx.models import Asset
from tdxq.tdx.sandbox.tenant import Tenant

from .tdx_env import TdxEnv, make_env, tdx_lookups


@pytest.fixture(scope="module")
def warehouse(database_url: str, tenant: Tenant) -> Iterator[str]:
    """A schema holding the tenant's assets and labs as plain tables, like a site's warehouse."""
    schema = f"wh_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        ident = sql.Identifier(schema)
        conn.execute(sql.SQL("create schema {}").format(ident))
        conn.execute(
            sql.SQL(
                "create table {}.assets (id int primary key, name text, serial text, tag text,"
                " status_id int, form_id int, ci_id int, owner_uid text)"
            ).format(ident)
        )
        conn.execute(sql.SQL("create table {}.lab_members (lab_ci_id int, uid text)").format(ident))
        conn.execute(
            sql.SQL("create table {}.lab_computers (lab_ci_id int, asset_id int)").format(ident)
        )
        with conn.cursor() as cur:
            cur.executemany(
                sql.SQL("insert into {}.assets values (%s, %s, %s, %s, %s, %s, %s, %s)").format(
                    ident
                ),
                [
                    (a.id, a.name, a.serial, a.tag, a.status_id, a.form_id, a.ci_id, a.owner_uid)
                    for a in tenant.assets
                ],
            )
            cur.executemany(
                sql.SQL("insert into {}.lab_members values (%s, %s)").format(ident),
                [(lab.ci_id, uid) for lab in tenant.labs for uid in lab.member_uids],
            )
            cur.executemany(
                sql.SQL("insert into {}.lab_computers values (%s, %s)").format(ident),
                [
                    (lab.ci_id, asset_id)
                    for lab in tenant.labs
                    for asset_id in lab.computer_asset_ids
                ],
            )
    yield schema
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))


def configs(tenant: Tenant, schema: str) -> tuple[LookupsConfig, LookupsConfig]:
    s = tenant.settings
    statuses, forms = sorted(s.active_asset_status_ids), [s.computer_form_id]
    asset_columns = (
        "id, name, serial as serial_number, tag, status_id, form_id,"
        " ci_id as configuration_item_id, owner_uid as owning_customer_id"
    )
    filters = f"status_id = any(array{statuses}) and form_id = any(array{forms})"
    tdx = tdx_lookups(tenant)
    sql_lookups = LookupsConfig(
        assets_by_identifier=SqlLookup(
            kind="sql",
            query=f"select {asset_columns} from {schema}.assets where {filters} and"
            " %(identifier)s::text is not null and lower(%(identifier)s) in"
            " (lower(name), lower(serial), lower(coalesce(tag, '')))",
        ),
        assets_by_owner=SqlLookup(
            kind="sql",
            query=f"select {asset_columns} from {schema}.assets"
            f" where {filters} and lower(owner_uid) = lower(%(uid)s)",
        ),
        labs_by_computer=SqlLookup(
            kind="sql",
            query=f"select lab_ci_id from {schema}.lab_computers where asset_id = %(asset_id)s",
        ),
        labs_by_member=SqlLookup(
            kind="sql",
            query=f"select lab_ci_id from {schema}.lab_members where lower(uid) = lower(%(uid)s)",
        ),
    )
    return tdx, sql_lookups


@pytest.fixture(scope="module")
def both(tenant: Tenant, warehouse: str, database_url: str) -> Iterator[tuple[TdxEnv, TdxEnv]]:
    tdx_config, sql_config = configs(tenant, warehouse)
    by_tdx = make_env(tenant, tdx_config)
    by_sql = make_env(tenant, sql_config, default_dsn=lambda: database_url)
    yield by_tdx, by_sql
    for env in (by_tdx, by_sql):
        env.lookups.close()
        env.client.close()


def exact(assets: list[Asset], identifier: str) -> set[int]:
    wanted = identifier.lower()
    return {
        a.id
        for a in assets
        if wanted
        in {(a.name or "").lower(), (a.serial_number or "").lower(), (a.tag or "").lower()}
    }


def test_assets_by_identifier_agree(tenant: Tenant, both: tuple[TdxEnv, TdxEnv]) -> None:
    by_tdx, by_sql = both
    rng = random.Random(7)
    sample = rng.sample(tenant.assets, 12)
    identifiers = [a.name for a in sample] + [a.serial for a in sample[:6]]
    identifiers += [a.tag for a in sample if a.tag][:3]
    identifiers += [sample[0].name.lower(), "NO-SUCH-PC-1"]
    identifiers.append("x' or '1'='1")  # a parameter, never SQL

    answered = 0
    for identifier in identifiers:
        ticket = tenant.settings.sample_ticket_id
        from_tdx = by_tdx.context(ticket).lookups.assets_by_identifier(identifier)
        from_sql = by_sql.context(ticket).lookups.assets_by_identifier(identifier)
        assert exact(from_tdx, identifier) == exact(from_sql, identifier), identifier
        assert {a.id for a in from_sql} == exact(from_sql, identifier)
        answered += bool(from_sql)
    assert answered >= 10  # most sampled identifiers are active computers


def test_labs_by_computer_agree(tenant: Tenant, both: tuple[TdxEnv, TdxEnv]) -> None:
    by_tdx, by_sql = both
    lab_computers = [i for lab in tenant.labs for i in lab.computer_asset_ids][::7]
    others = [a.id for a in tenant.assets if a.lab_ci_id is None][:5]
    in_labs = 0
    for asset_id in lab_computers + others:
        ticket = tenant.settings.sample_ticket_id
        ctx_tdx, ctx_sql = by_tdx.context(ticket), by_sql.context(ticket)
        asset = ctx_tdx.reads.asset(asset_id)
        from_tdx = ctx_tdx.lookups.labs_by_computer(asset)
        assert from_tdx == ctx_sql.lookups.labs_by_computer(asset), asset.name
        in_labs += bool(from_tdx)
    assert in_labs == len(lab_computers)


def test_labs_by_member_agree(tenant: Tenant, both: tuple[TdxEnv, TdxEnv]) -> None:
    by_tdx, by_sql = both
    members = sorted({uid for lab in tenant.labs for uid in lab.member_uids})[::5]
    everyone = {p.uid for p in tenant.people}
    outsiders = sorted(everyone - {uid for lab in tenant.labs for uid in lab.member_uids})[:3]
    for uid in members + outsiders + [members[0].upper()]:
        ticket = tenant.settings.sample_ticket_id
        from_tdx = by_tdx.context(ticket).lookups.labs_by_member(uid)
        from_sql = by_sql.context(ticket).lookups.labs_by_member(uid)
        assert sorted(from_tdx) == sorted(from_sql), uid
        assert bool(from_tdx) == (uid.lower() in {m.lower() for m in members})


def test_assets_by_owner_agree(tenant: Tenant, both: tuple[TdxEnv, TdxEnv]) -> None:
    by_tdx, by_sql = both
    owners = sorted({a.owner_uid for a in tenant.assets if a.owner_uid})[::9][:15]
    owning = 0
    for uid in owners:
        ticket = tenant.settings.sample_ticket_id
        from_tdx = {a.id for a in by_tdx.context(ticket).lookups.assets_by_owner(uid)}
        from_sql = {a.id for a in by_sql.context(ticket).lookups.assets_by_owner(uid)}
        assert from_tdx == from_sql, uid
        owning += bool(from_sql)
    assert owning > 0


def test_a_broken_query_is_a_clear_lookup_failure(tenant: Tenant, database_url: str) -> None:
    config = LookupsConfig(
        labs_by_member=SqlLookup(
            kind="sql", query="select lab_ci_id from no_such_table where uid = %(uid)s"
        )
    )
    env = make_env(tenant, config, default_dsn=lambda: database_url)
    try:
        with pytest.raises(LookupFailed, match=r"SQL lookup failed on .*UndefinedTable"):
            env.context(1).lookups.labs_by_member("someone")
    finally:
        env.lookups.close()
        env.client.close()


def test_an_unconfigured_lookup_says_so(tenant: Tenant) -> None:
    env = make_env(tenant)
    try:
        with pytest.raises(LookupFailed, match=r"lookups\.labs_by_member is not configured"):
            env.context(1).lookups.labs_by_member("someone")
    finally:
        env.client.close()


def test_a_dsn_password_from_the_environment_never_reaches_messages_or_reprs(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "pw-secret-77"
    monkeypatch.setenv("WAREHOUSE_URL", f"postgresql://tdxq:{secret}@127.0.0.1:1/warehouse")
    lookup = SqlLookup(kind="sql", dsn_env="WAREHOUSE_URL", query="select 1 where %(uid)s = ''")
    env = make_env(tenant, LookupsConfig(labs_by_member=lookup))
    try:
        with pytest.raises(LookupFailed) as caught:
            env.context(1).lookups.labs_by_member("someone")
    finally:
        env.client.close()
    assert "127.0.0.1" in str(caught.value)
    assert secret not in str(caught.value)
    assert secret not in repr(env.lookups.config)


def test_a_file_dsn_is_kept_secret_in_reprs() -> None:
    lookup = SqlLookup(kind="sql", dsn="host=db.example.edu dbname=wh", query="select %(uid)s")
    assert "db.example.edu" not in repr(lookup)
