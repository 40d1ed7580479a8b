"""Fixtures for the pipeline tests: configuration files written to a temporary directory, and a
sandbox tenant served in-process with a client on it (``env``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tdxq.commands.sandbox_config import sandbox_config_text
from tdxq.tdx.sandbox.generate import generate_tenant
from tdxq.tdx.sandbox.tenant import Tenant

from .tdx_env import TdxEnv, make_env

TDX_SECTION = """\
[tdx]
base_url = "https://tdx.example.edu/TDWebApi/api"
ticket_app_id = 46
asset_app_id = 48
web_url = "https://tdx.example.edu/TDNext"
"""

COMMENT_PIPELINE = """\
[reports.1344]
pipeline = "desk"

[[pipelines.desk.actions]]
type = "comment"
version = "v1"
options = { comment_text = "Hello World" }

[[pipelines.desk.actions]]
type = "summary_comment"
version = "v2"
"""


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    def write(text: str, name: str = "tdxq.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def sandbox_toml() -> str:
    return sandbox_config_text(generate_tenant(1, tickets=0).settings, "http://127.0.0.1:8765")


@pytest.fixture(scope="module")
def tenant() -> Tenant:
    return generate_tenant(1, tickets=20)


@pytest.fixture
def env(tenant: Tenant) -> Iterator[TdxEnv]:
    env = make_env(tenant)
    yield env
    env.client.close()
