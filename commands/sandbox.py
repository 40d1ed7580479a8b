"""`tdxq sandbox …`: run the local TeamDynamix-compatible sandbox, or dump its tenant."""

from __future__ import annotations

import json
import signal
import threading
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from pydantic import ValidationError

from tdxq.tdx.sandbox import (
    SANDBOX_BEID,
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
    SANDBOX_WEB_SERVICES_KEY,
    FaultConfig,
    SandboxApp,
    SandboxConfig,
    SandboxServer,
    Tenant,
    generate_tenant,
    serve,
)

sandbox_app = typer.Typer(
    help="The local TeamDynamix-compatible sandbox (a test double of the TDX Web API).\n\n"
    f"Fixed, public credentials: BEID {SANDBOX_BEID} with WebServicesKey "
    f"{SANDBOX_WEB_SERVICES_KEY} (auth/loginadmin), or user {SANDBOX_USERNAME} / password "
    f"{SANDBOX_PASSWORD} (auth); any tenant username with that password also logs in. "
    "Wrong credentials answer 401.",
    no_args_is_help=True,
)

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class FailMode(StrEnum):
    server_error = "500"
    timeout = "timeout"
    drop = "drop"


class AppliesTo(StrEnum):
    reads = "reads"
    writes = "writes"
    both = "both"


def _fail(message: str, hint: str) -> typer.BadParameter:
    return typer.BadParameter(message, param_hint=hint)


def _load_tenant(data: Path | None, seed: int, tickets: int) -> Tenant:
    if data is None:
        return generate_tenant(seed, tickets)
    try:
        return Tenant.load_json(data)
    except FileNotFoundError:
        raise _fail(f"no such file: {data}", "--data") from None
    except ValueError as exc:
        raise _fail(str(exc), "--data") from None


def _banner(server: SandboxServer, as_json: bool) -> str:
    app = server.app
    reports = {r.id: len(app.store.report_tickets(r)) for r in app.tenant.reports}
    info = {
        "base_url": server.base_url,
        "base_urls": server.base_urls,
        "web_url_base": server.web_url_base,
        "introspection_url": server.root_url + "/_sandbox",
        "beid": SANDBOX_BEID,
        "web_services_key": SANDBOX_WEB_SERVICES_KEY,
        "username": SANDBOX_USERNAME,
        "password": SANDBOX_PASSWORD,
        "ticket_app_id": app.settings.ticket_app_id,
        "asset_app_id": app.settings.asset_app_id,
        "reports": reports,
        "rate_limit": app.rate_limit_enabled,
        "rate_window_scale": app.rate_window_scale,
        "faults": app.faults.model_dump(),
    }
    if as_json:
        return json.dumps(info)
    report_text = ", ".join(f"{rid} ({count} tickets)" for rid, count in reports.items())
    limits = f"on, windows x{app.rate_window_scale:g}" if app.rate_limit_enabled else "off"
    faults = app.faults
    fault_text = (
        f"errors {faults.error_rate:g}, slow {faults.slow_rate:g} ({faults.slow_seconds:g}s), "
        f"drops {faults.drop_rate:g}, effect-then-fail {faults.effect_then_fail_rate:g} "
        f"({faults.effect_then_fail_mode}), seed {faults.seed}"
        if faults.active
        else "none"
    )
    return "\n".join(
        [
            "TDX sandbox running (Ctrl-C to stop)",
            f"  base URL       {server.base_url}",
            f"  also           {', '.join(server.base_urls[1:]) or '-'}",
            f"  web URL base   {server.web_url_base}",
            f"  introspection  {server.root_url}/_sandbox/(writes|calls|tenant|reset|faults)",
            f"  admin login    TDX_BEID={SANDBOX_BEID}",
            f"                 TDX_WEB_SERVICES_KEY={SANDBOX_WEB_SERVICES_KEY}",
            f"  user login     TDX_USERNAME={SANDBOX_USERNAME} TDX_PASSWORD={SANDBOX_PASSWORD}",
            f"  apps           tickets {app.settings.ticket_app_id}, "
            f"assets/CMDB {app.settings.asset_app_id}",
            f"  reports        {report_text}",
            f"  rate limits    {limits}",
            f"  faults         {fault_text}",
            f"  a tdxq.toml    tdxq sandbox init-config --url {server.root_url} > tdxq.toml",
        ]
    )


class _StopSignal:
    """SIGTERM (and Ctrl-C) end `serve` cleanly; installed before the banner is printed, so a
    supervisor that stops the sandbox right after reading it still gets a clean exit."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._previous = signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self._event.set()

    def wait_then_close(self, server: SandboxServer) -> None:
        try:
            while not self._event.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, self._previous)
            server.close()


@sandbox_app.command("serve")
def serve_command(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to bind; loopback unless you say otherwise."
    ),
    port: int = typer.Option(
        8765,
        "--port",
        min=0,
        max=65535,
        help="Port (the one `sandbox init-config` assumes); 0 picks a free one.",
    ),
    seed: int = typer.Option(1, "--seed", help="Tenant seed (same seed, same tenant)."),
    tickets: int = typer.Option(500, "--tickets", min=0, help="Tickets in the load report 2000."),
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="Serve a tenant saved by `dump-tenant` (ignores --seed/--tickets)."
        ),
    ] = None,
    no_rate_limit: bool = typer.Option(
        False, "--no-rate-limit", help="Answer every call; no X-RateLimit-* headers."
    ),
    rate_window_scale: float = typer.Option(
        1.0,
        "--rate-window-scale",
        min=0.0001,
        help="Shrink every rate window by this factor, same counts (0.05: 60 s -> 3 s).",
    ),
    error_rate: float = typer.Option(
        0.0, "--error-rate", min=0.0, max=1.0, help="Share of calls answered 500/503."
    ),
    slow_rate: float = typer.Option(
        0.0, "--slow-rate", min=0.0, max=1.0, help="Share of calls answered after --slow-seconds."
    ),
    slow_seconds: float = typer.Option(1.0, "--slow-seconds", min=0.0),
    drop_rate: float = typer.Option(
        0.0, "--drop-rate", min=0.0, max=1.0, help="Share of calls whose connection is closed."
    ),
    effect_then_fail_rate: float = typer.Option(
        0.0,
        "--effect-then-fail-rate",
        min=0.0,
        max=1.0,
        help="Share of writes applied and then answered with a failure.",
    ),
    effect_then_fail_mode: Annotated[
        FailMode, typer.Option("--effect-then-fail-mode", help="How such a write fails.")
    ] = FailMode.server_error,
    faults_apply_to: Annotated[
        AppliesTo,
        typer.Option("--faults-apply-to", help="Which calls the error/slow/drop faults hit."),
    ] = AppliesTo.both,
    fault_seed: int = typer.Option(0, "--fault-seed", help="Seed of the fault sequence."),
    token_lifetime: int = typer.Option(
        86_400, "--token-lifetime", min=1, help="Seconds a login token lives."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the connection details as one JSON line."
    ),
) -> None:
    """Serve the sandbox over HTTP until Ctrl-C; prints the base URL and the credentials.

    Fault rates are probabilities per call, deterministic for a given --fault-seed and call
    order; their sum must not exceed 1. Logins are never faulted.
    """
    try:
        faults = FaultConfig.model_validate(
            {
                "seed": fault_seed,
                "error_rate": error_rate,
                "slow_rate": slow_rate,
                "slow_seconds": slow_seconds,
                "drop_rate": drop_rate,
                "effect_then_fail_rate": effect_then_fail_rate,
                "effect_then_fail_mode": effect_then_fail_mode.value,
                "applies_to": faults_apply_to.value,
            }
        )
    except ValidationError as exc:
        raise _fail(exc.errors()[0]["msg"], "fault options") from None
    tenant = _load_tenant(data, seed, tickets)
    config = SandboxConfig(
        seed=tenant.seed,
        tickets=tenant.load_tickets,
        ticket_app_id=tenant.settings.ticket_app_id,
        asset_app_id=tenant.settings.asset_app_id,
        rate_limit=not no_rate_limit,
        rate_window_scale=rate_window_scale,
        faults=faults,
        token_lifetime_s=token_lifetime,
    )
    stop = _StopSignal()
    try:
        server = serve(SandboxApp(tenant, config), host=host, port=port)
    except OSError as exc:
        raise _fail(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}", "--host/--port"
        ) from None
    typer.echo(_banner(server, as_json))
    if host not in LOOPBACK:
        typer.echo(
            f"warning: listening on {host}, not loopback: anyone who can reach it can use the "
            "documented credentials.",
            err=True,
        )
    stop.wait_then_close(server)


@sandbox_app.command("dump-tenant")
def dump_tenant(
    file: Annotated[Path, typer.Argument(help="Where to write the tenant's JSON.")],
    seed: int = typer.Option(1, "--seed", help="Tenant seed."),
    tickets: int = typer.Option(500, "--tickets", min=0, help="Tickets in the load report 2000."),
) -> None:
    """Write the generated tenant to FILE (load it back with `serve --data FILE`)."""
    tenant = generate_tenant(seed, tickets)
    try:
        tenant.dump_json(file)
    except OSError as exc:
        raise _fail(f"cannot write {file}: {exc.strerror or exc}", "FILE") from None
    counts = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in tenant.summary().items())
    typer.echo(f"wrote {file}: seed {seed}, {counts}")
