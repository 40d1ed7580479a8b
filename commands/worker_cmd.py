"""`tdxq worker`: processing only, reactive; run as many as you like against one Postgres.

Also the body of `tdxq run --daemon` (which adds the report polling). Tuning from the
environment, overridden by the options:

- ``TDXQ_WORKER_THREADS`` (default 2): worker threads per process;
- ``TDXQ_POLL_INTERVAL_S`` (default 5): longest wait without reading the log;
- ``TDXQ_LEASE_S`` (default 600): how long a claimed action is this worker's before it is in
  doubt; renewed every third of it while the action runs;
- ``TDXQ_SHUTDOWN_GRACE_S`` (default 60): how long SIGTERM waits for running actions;
- ``TDXQ_SWEEP_INTERVAL_S`` (default 300): how often every ticket is decided again anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path

import typer
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from tdxq.actions.config import Config
from tdxq.tdx import ClientOptions

from .daemon import Daemon, DaemonOptions, DaemonServices
from .database import fail
from .logging_setup import configure_logging
from .runtime import load_config_or_exit, open_runtime
from .shutdown import StopFlag

DEFAULT_REPORT_INTERVAL_S = 300.0
PROJECTIONS_INTERVAL_S = 5.0
LEASE_OVER_CALL = 1.5

log = logging.getLogger("tdxq.worker")


class DaemonEnvironment(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TDXQ_", env_file=".env", extra="ignore")

    worker_threads: int = Field(default=2, ge=1, le=64)
    poll_interval_s: float = Field(default=5.0, gt=0)
    lease_s: float = Field(default=600.0, gt=0)
    shutdown_grace_s: float = Field(default=60.0, ge=0)
    sweep_interval_s: float = Field(default=300.0, gt=0)


def daemon_options(
    *,
    threads: int | None = None,
    poll_interval_s: float | None = None,
    lease_s: float | None = None,
    ingest_intervals: Mapping[int, float] | None = None,
    projections: bool = False,
) -> DaemonOptions:
    """Options from the environment, then from explicit values."""
    try:
        env = DaemonEnvironment()
    except ValidationError as exc:
        raise fail(f"daemon settings (TDXQ_*): {exc}", 2) from None
    return DaemonOptions(
        threads=threads or env.worker_threads,
        poll_interval_s=poll_interval_s or env.poll_interval_s,
        lease=timedelta(seconds=lease_s or env.lease_s),
        shutdown_grace_s=env.shutdown_grace_s,
        sweep_interval_s=env.sweep_interval_s,
        ingest_intervals=dict(ingest_intervals or {}),
        projections_interval_s=PROJECTIONS_INTERVAL_S if projections else None,
    )


def serve_reports(
    config: Config, reports: Sequence[int], options: DaemonOptions, *, mode: str, stop: StopFlag
) -> int:
    """Run the daemon until stopped; the exit code (0: stopped cleanly)."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        # One line per TDX call drowns what the daemon says; DEBUG shows them again.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    with open_runtime(config, shared_budget=True) as runtime:
        services = DaemonServices(
            config=config,
            client=runtime.client,
            lookups=runtime.lookups,
            dsn=runtime.dsn,
            schema=runtime.schema,
        )
        warn_if_lease_is_short(options, runtime.client.options)
        daemon = Daemon(services, reports, options, mode=mode, stop=stop)
        result = daemon.run()
    return 0 if result.clean else 1


def warn_if_lease_is_short(options: DaemonOptions, client: ClientOptions) -> None:
    """A worker that dies during a write leaves it to TDX to finish; reconciliation must not
    look before TDX could have: the lease (of which a third may have passed since the last
    renewal) has to outlast one call's timeouts."""
    longest_call = client.connect_timeout_s + client.write_timeout_s + client.read_timeout_s
    lease = options.lease.total_seconds()
    if lease < LEASE_OVER_CALL * longest_call:
        log.warning(
            "the lease (%.0f s) is short next to TDX's timeouts (%.0f s per call): a write in "
            "flight when its worker dies could land after another worker looked for it; use a "
            "lease of at least %.0f s",
            lease,
            longest_call,
            LEASE_OVER_CALL * longest_call,
        )


def report_intervals(
    config: Config, reports: Sequence[int], interval: float | None
) -> dict[int, float]:
    """``--interval`` when given, else each report's ``interval_s``, else the default."""
    return {
        r: interval or config.reports[r].interval_s or DEFAULT_REPORT_INTERVAL_S for r in reports
    }


def worker(
    report_id: int | None = typer.Option(
        None,
        "--report-id",
        envvar="DAEMON_REPORT_ID",
        help="Serve this report only (default: every report in the configuration).",
    ),
    config: Path | None = typer.Option(
        None, "--config", envvar="TDXQ_CONFIG", help="Pipeline configuration (default ./tdxq.toml)."
    ),
    threads: int | None = typer.Option(
        None,
        "--threads",
        min=1,
        max=64,
        help="Worker threads (env TDXQ_WORKER_THREADS, default 2).",
    ),
    poll_interval: float | None = typer.Option(
        None,
        "--poll-interval",
        min=0.05,
        help="Longest wait without reading the log (env TDXQ_POLL_INTERVAL_S, default 5).",
    ),
    lease: float | None = typer.Option(
        None,
        "--lease",
        min=0.1,
        help="Seconds an action is leased (env TDXQ_LEASE_S, default 600).",
    ),
    log_file: Path | None = typer.Option(None, "--log", help="Also write the log to FILE."),
    log_level: str | None = typer.Option(
        None,
        "--log-level",
        help="DEBUG, INFO, WARNING or ERROR (default TDXQ_LOG_LEVEL, else WARNING)",
    ),
) -> None:
    """Process tickets as their events commit (no report polling); stop with SIGTERM/Ctrl-C.

    Any number of workers, on any hosts, can serve one database: claims keep them from ever
    acting twice, and their TDX calls share one rate budget kept in Postgres.
    """
    try:
        configure_logging(log_level, log_file)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--log-level") from None
    loaded = load_config_or_exit(config)
    reports = sorted(loaded.reports)
    if report_id is not None:
        if report_id not in loaded.reports:
            configured = ", ".join(map(str, reports)) or "none"
            raise fail(f"report {report_id} is not in the configuration ({configured})", 2)
        reports = [report_id]
    if not reports:
        raise fail("the configuration lists no [reports]", 2)
    stop = StopFlag()
    stop.install()
    options = daemon_options(threads=threads, poll_interval_s=poll_interval, lease_s=lease)
    raise typer.Exit(serve_reports(loaded, reports, options, mode="worker", stop=stop))
