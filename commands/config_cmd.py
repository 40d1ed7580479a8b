"""`tdxq config check`: validate the configuration and show what each pipeline runs."""

from __future__ import annotations

import sys
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from tdxq.actions.base import ActionBase
from tdxq.actions.config import CONFIG_ENV, Config, ConfigError, load_config
from tdxq.actions.lookups import LOOKUP_NAMES, SqlLookup

config_app = typer.Typer(help="Check the tdxq configuration file.", no_args_is_help=True)


@config_app.callback()
def _group() -> None:
    """The tdxq configuration file (TOML or JSON): reports, pipelines, retry, lookups."""


CONFIG_OPTION_HELP = f"Configuration file (TOML or JSON). Default: ${CONFIG_ENV}, else ./tdxq.toml."


@config_app.command("check")
def check(
    config: str | None = typer.Option(None, "--config", "-c", help=CONFIG_OPTION_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Validate the configuration; list every pipeline's actions with their action ids.

    Exit status: 0 valid, 2 invalid (every problem is listed, with its key path).
    """
    try:
        loaded = load_config(config)
    except ConfigError as exc:
        if as_json:
            problems = [
                {"key": p.key, "expected": p.expected, "found": p.found} for p in exc.problems
            ]
            _print_json(
                {"ok": False, "path": str(exc.path), "error": str(exc), "problems": problems}
            )
        else:
            print(str(exc), file=sys.stderr)
        raise typer.Exit(2) from None  # the README's exit code for configuration problems
    if as_json:
        _print_json({"ok": True, **config_summary(loaded)})
    else:
        # Ids must never be cut short: widen past a narrow terminal (or a pipe's default 80).
        _print_tables(loaded, Console(width=max(Console().width, 120)))


def config_summary(config: Config) -> dict[str, Any]:
    """The validated configuration as plain data (no secrets: there are none in the file)."""
    return {
        "path": str(config.path),
        "digest": config.digest(),
        "tdx": {
            "base_url": config.base_url,
            "base_url_source": config.base_url_source,
            "ticket_app_id": config.tdx.ticket_app_id,
            "asset_app_id": config.tdx.asset_app_id,
            "web_url": config.tdx.web_url,
        },
        "reports": {
            str(report_id): {"pipeline": entry.pipeline, "interval_s": entry.interval_s}
            for report_id, entry in sorted(config.reports.items())
        },
        "pipelines": {
            name: [_action_row(index, action) for index, action in enumerate(actions)]
            for name, actions in config.pipelines.items()
        },
        "retry": config.file.retry.model_dump(mode="json"),
        "lookups": {name: _lookup_kind(config, name) for name in LOOKUP_NAMES},
    }


def _action_row(index: int, action: ActionBase[Any]) -> dict[str, Any]:
    return {
        "index": index,
        "type": action.TYPE,
        "version": action.version,
        "action_id": action.action_id,
        "legacy_id": _legacy_id(action),
        "options": action.options.model_dump(mode="json"),
    }


def _legacy_id(action: ActionBase[Any]) -> str | None:
    try:
        return action.legacy_id
    except ValueError:
        # The seed had no equivalent of these options (e.g. several computer forms).
        return None


def _lookup_kind(config: Config, name: str) -> str:
    lookup = getattr(config.lookups, name)
    if lookup is None:
        return "not configured"
    if isinstance(lookup, SqlLookup):
        where = f"${lookup.dsn_env}" if lookup.dsn_env else ("dsn" if lookup.dsn else "tdxq db")
        return f"sql ({where})"
    return "tdx"


def _print_tables(config: Config, console: Console) -> None:
    console.print(f"[bold green]✓[/] {config.path} is valid (digest {config.digest()})")
    tdx = config.tdx
    console.print(
        f"TDX: {config.base_url} (from the {config.base_url_source}); "
        f"tickets app {tdx.ticket_app_id}, assets app {tdx.asset_app_id}; links {tdx.web_url}"
    )
    reports = Table(title="Reports", title_justify="left")
    reports.add_column("report", justify="right")
    reports.add_column("pipeline")
    reports.add_column("interval")
    for report_id, entry in sorted(config.reports.items()):
        interval = f"{entry.interval_s:g} s" if entry.interval_s else "—"
        reports.add_row(str(report_id), entry.pipeline, interval)
    console.print(reports)
    for name, actions in config.pipelines.items():
        table = Table(title=f"Pipeline {name}", title_justify="left")
        table.add_column("#", justify="right")
        table.add_column("type")
        table.add_column("action id", no_wrap=True)
        table.add_column("legacy id", no_wrap=True)
        for index, action in enumerate(actions):
            table.add_row(str(index), action.TYPE, action.action_id, _legacy_id(action) or "—")
        console.print(table)
    lookups = ", ".join(f"{name}: {_lookup_kind(config, name)}" for name in LOOKUP_NAMES)
    retry = config.file.retry
    console.print(f"Lookups: {lookups}")
    console.print(
        f"Retry: {retry.max_attempts} attempts, backoff {retry.base_delay_s:g} s "
        f"doubling up to {retry.max_delay_s:g} s, jitter {retry.jitter:g}"
    )


def _print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")
