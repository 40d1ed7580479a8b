"""`tdxq sandbox init-config`: a working tdxq.toml for the sandbox tenant.

It reproduces the seed's production pipeline (add_asset v2 → add_lab v2 → find_active_tickets →
summary_comment v2, with the seed's options) for reports 1344 and 2000; every tenant id comes
from the generated tenant's settings, none from this code.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from tdxq.tdx.sandbox.generate import generate_tenant
from tdxq.tdx.sandbox.tenant import TenantSettings

DEFAULT_SANDBOX_URL = "http://127.0.0.1:8765"
API_PREFIX = "/TDWebApi/api"
PIPELINE = "desktop"
SUMMARY_PREFIX = "\U0001f916 Automated Actions Summary"


def _toml(value: object) -> str:
    # JSON strings, numbers, booleans and arrays of them are also valid TOML values.
    return json.dumps(value, ensure_ascii=False)


def sandbox_config_text(settings: TenantSettings, root_url: str, *, seed: int = 1) -> str:
    """The tdxq.toml text for a sandbox tenant served at ``root_url`` (no trailing path)."""
    root = root_url.rstrip("/")
    reports = "".join(
        f'# {name.replace("_", " ")}\n[reports.{report_id}]\npipeline = "{PIPELINE}"\n'
        "interval_s = 300\n\n"
        for name, report_id in sorted(settings.report_ids.items(), key=lambda item: item[1])
    )
    computer_forms = [settings.computer_form_id]
    active_assets = sorted(settings.active_asset_status_ids)
    return f"""\
# tdxq configuration for the local sandbox tenant (seed {seed}), made by
# `tdxq sandbox init-config`. Credentials never go here: set them in the environment, e.g.
#   TDX_USERNAME=... TDX_PASSWORD=...   (the sandbox accepts the users it documents)

[tdx]
base_url = {_toml(root + API_PREFIX)}
ticket_app_id = {settings.ticket_app_id}
asset_app_id = {settings.asset_app_id}
web_url = {_toml(settings.web_url_base(root))}

{reports}# The seed's production pipeline.
[[pipelines.{PIPELINE}.actions]]
type = "add_asset"
version = "v2"
[pipelines.{PIPELINE}.actions.options]
add_summary_comment = true
max_assets_to_add = 10
computer_form_ids = {_toml(computer_forms)}
active_status_ids = {_toml(active_assets)}

[[pipelines.{PIPELINE}.actions]]
type = "add_lab"
version = "v2"
[pipelines.{PIPELINE}.actions.options]
add_summary_comment = true
skip_if_lab_exists = true
lab_type_id = {settings.lab_ci_type_id}
lab_form_id = {settings.lab_form_id}

[[pipelines.{PIPELINE}.actions]]
type = "find_active_tickets"
version = "v1"
[pipelines.{PIPELINE}.actions.options]
active_status_ids = {_toml(sorted(settings.open_ticket_status_ids))}
lab_type_id = {settings.lab_ci_type_id}

[[pipelines.{PIPELINE}.actions]]
type = "summary_comment"
version = "v2"
[pipelines.{PIPELINE}.actions.options]
comment_prefix = {_toml(SUMMARY_PREFIX)}
is_private = true
is_rich_html = true
skip_if_empty = true

[retry]
max_attempts = 5
base_delay_s = 60
max_delay_s = 3600

# Lookups by TDX searches; a site with a warehouse copy of TDX can use kind = "sql" instead.
[lookups.assets_by_identifier]
kind = "tdx"
status_ids = {_toml(active_assets)}
form_ids = {_toml(computer_forms)}

[lookups.assets_by_owner]
kind = "tdx"
status_ids = {_toml(active_assets)}
form_ids = {_toml(computer_forms)}

[lookups.labs_by_computer]
kind = "tdx"
lab_type_id = {settings.lab_ci_type_id}

[lookups.labs_by_member]
kind = "tdx"
lab_type_id = {settings.lab_ci_type_id}
members_attribute_id = {settings.lab_members_attribute_id}
"""


def init_config(
    url: str = typer.Option(
        DEFAULT_SANDBOX_URL, "--url", help="Root URL the sandbox is served at (no /TDWebApi)."
    ),
    seed: int = typer.Option(1, "--seed", help="The sandbox tenant's seed."),
    output: str | None = typer.Option(
        None, "--output", "-o", help="Write to this file instead of standard output."
    ),
) -> None:
    """Print a working tdxq.toml for the sandbox tenant (the seed's production pipeline)."""
    if not url.startswith(("http://", "https://")):
        raise typer.BadParameter(f"expected an http:// URL, found {url!r}", param_hint="--url")
    # The tenant's ids do not depend on how many load tickets it has: build the smallest one.
    settings = generate_tenant(seed, tickets=0).settings
    text = sandbox_config_text(settings, url, seed=seed)
    if output is None:
        typer.echo(text, nl=False)
        return
    Path(output).write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}", err=True)
