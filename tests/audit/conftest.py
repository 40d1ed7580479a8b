"""A database populated by the seed's pipeline over report 1344, shared by the read-only audit
tests of a module, and a CLI runner pointed at it."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tdxq.commands.cli import app as cli
from tdxq.commands.run import RunReport
from tdxq.eventlog import Migrator, connect
from tdxq.tdx.sandbox import Tenant, generate_tenant

from ..conftest import Schema
from ..e2e.world import World, make_app, seed_config_text

REPORT = 1344
_TICKET_IN_PATH = re.compile(r"/tickets/(\d+)/")


def invoke(schema: Schema, *args: str) -> Result:
    """Run ``tdxq ARGS`` against ``schema``; TDX_BASE_URL cleared so the config file's counts."""
    env = {**schema.env(), "COLUMNS": "200", "TDX_BASE_URL": "", "TDXQ_CONFIG": ""}
    return CliRunner().invoke(cli, list(args), env=env)


def written_ticket(write: dict[str, object]) -> int:
    match = _TICKET_IN_PATH.search(str(write["path"]))
    assert match, write
    return int(match.group(1))


def fresh_schema(database_url: str) -> Schema:
    name = f"t_{uuid.uuid4().hex[:10]}"
    with connect(database_url) as conn:
        Migrator(conn, name).migrate()
    return Schema(database_url, name)


@pytest.fixture(scope="module")
def audit_tenant() -> Tenant:
    return generate_tenant(1, 40)


@dataclass
class Populated:
    world: World
    first: RunReport
    second: RunReport
    config_path: Path

    @property
    def schema(self) -> Schema:
        return self.world.schema


@pytest.fixture(scope="module")
def populated(
    database_url: str, audit_tenant: Tenant, tmp_path_factory: pytest.TempPathFactory
) -> Populated:
    """Report 1344 run twice (the second run only polls) in a schema of its own."""
    app = make_app(audit_tenant.model_copy(deep=True))
    world = World(app, fresh_schema(database_url), seed_config_text(app))
    first = world.run(REPORT)
    second = world.run(REPORT)
    path = tmp_path_factory.mktemp("audit") / "tdxq.toml"
    path.write_text(world.config_text, encoding="utf-8")
    return Populated(world, first, second, path)
