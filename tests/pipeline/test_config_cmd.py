"""`tdxq config check` and `tdxq sandbox init-config`, through typer's runner."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tdxq.actions.config import load_config
from tdxq.commands.config_cmd import config_app
from tdxq.commands.sandbox_config import init_config
from tdxq.tdx.sandbox.generate import generate_tenant

from .conftest import COMMENT_PIPELINE, TDX_SECTION

runner = CliRunner()


def cli() -> typer.Typer:
    """The two commands mounted the way the lead's `tdxq` app mounts them."""
    app = typer.Typer()
    app.add_typer(config_app, name="config")
    sandbox = typer.Typer()
    sandbox.command("init-config")(init_config)
    sandbox.command("noop", hidden=True)(lambda: None)
    app.add_typer(sandbox, name="sandbox")
    return app


@pytest.fixture(autouse=True)
def _no_ambient_base_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TDX_BASE_URL", raising=False)
    monkeypatch.delenv("TDXQ_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_check_lists_every_action_id_and_legacy_id(write_config: Callable[..., Path]) -> None:
    path = write_config(TDX_SECTION + COMMENT_PIPELINE)
    expected = load_config(path, environ={}).pipeline_for(1344)

    result = runner.invoke(cli(), ["config", "check", "--config", str(path)])

    assert result.exit_code == 0, result.output
    assert "is valid" in result.output
    for action in expected:
        assert action.action_id in result.output
    assert "comment:054200481667:v1" in result.output
    assert "Pipeline desk" in result.output


def test_check_json(write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(TDX_SECTION + COMMENT_PIPELINE)
    monkeypatch.setenv("TDXQ_CONFIG", str(path))

    result = runner.invoke(cli(), ["config", "check", "--json"])

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] is True
    steps = data["pipelines"]["desk"]
    assert [s["type"] for s in steps] == ["comment", "summary_comment"]
    assert steps[0]["legacy_id"] == "comment:054200481667:v1"
    assert steps[1]["options"]["is_rich_html"] is True
    assert data["reports"] == {"1344": {"pipeline": "desk", "interval_s": None}}


def test_check_fails_with_exit_1_and_the_problems(write_config: Callable[..., Path]) -> None:
    path = write_config(TDX_SECTION + COMMENT_PIPELINE.replace('"v1"', '"v1"\nbogus = 1'))

    result = runner.invoke(cli(), ["config", "check", "--config", str(path)])
    assert result.exit_code == 2
    assert f"invalid configuration in {path}" in result.output
    assert "pipelines.desk.actions[0].bogus: expected one of the keys" in result.output

    as_json = runner.invoke(cli(), ["config", "check", "--config", str(path), "--json"])
    assert as_json.exit_code == 2
    data = json.loads(as_json.stdout)
    assert data["ok"] is False
    assert data["problems"][0]["key"] == "pipelines.desk.actions[0].bogus"


def test_init_config_round_trips_through_config_check(tmp_path: Path) -> None:
    target = tmp_path / "sandbox.toml"
    made = runner.invoke(
        cli(), ["sandbox", "init-config", "--url", "http://127.0.0.1:9123", "-o", str(target)]
    )
    assert made.exit_code == 0, made.output

    checked = runner.invoke(cli(), ["config", "check", "--config", str(target), "--json"])
    assert checked.exit_code == 0, checked.output
    data = json.loads(checked.stdout)
    settings = generate_tenant(1, tickets=0).settings

    assert data["tdx"]["base_url"] == "http://127.0.0.1:9123/TDWebApi/api"
    assert data["tdx"]["web_url"] == "http://127.0.0.1:9123/TDNext"
    assert data["tdx"]["ticket_app_id"] == settings.ticket_app_id
    assert data["tdx"]["asset_app_id"] == settings.asset_app_id
    assert set(data["reports"]) == {"1344", "2000"}
    steps = data["pipelines"]["desktop"]
    assert [(s["type"], s["version"]) for s in steps] == [
        ("add_asset", "v2"),
        ("add_lab", "v2"),
        ("find_active_tickets", "v1"),
        ("summary_comment", "v2"),
    ]
    add_asset, add_lab, find_active, summary = (s["options"] for s in steps)
    assert add_asset["max_assets_to_add"] == 10 and add_asset["add_summary_comment"] is True
    assert add_asset["computer_form_ids"] == [settings.computer_form_id]
    assert add_lab["skip_if_lab_exists"] is True
    assert add_lab["lab_type_id"] == settings.lab_ci_type_id
    assert find_active["active_status_ids"] == sorted(settings.open_ticket_status_ids)
    assert summary == {
        "comment_prefix": "\U0001f916 Automated Actions Summary",
        "is_private": True,
        "is_rich_html": True,
        "skip_if_empty": True,
        "separator": "\n",
    }
    assert all(kind == "tdx" for kind in data["lookups"].values())


def test_init_config_prints_to_stdout_by_default() -> None:
    result = runner.invoke(cli(), ["sandbox", "init-config"])
    assert result.exit_code == 0
    assert result.stdout.startswith("# tdxq configuration for the local sandbox tenant")
    assert 'base_url = "http://127.0.0.1:8765/TDWebApi/api"' in result.stdout
