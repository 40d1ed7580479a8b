"""The chaos world: a real-HTTP sandbox in this process, a real Postgres, and `tdxq worker`
subprocesses that can be killed, restarted and stopped.

The sandbox runs in the test process (``serve(app)``) so its write log and call timeline can be
read directly; workers reach it over loopback HTTP like they would reach TDX.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from tdxq.actions.config import Config, parse_config
from tdxq.actions.decide import decide
from tdxq.commands.ingest import fetch_report, ingest_report
from tdxq.commands.process import pipeline_steps
from tdxq.commands.report_rows import ParsedReport
from tdxq.commands.sandbox_config import sandbox_config_text
from tdxq.eventlog import EventStore, Migrator, connect, process_metadata
from tdxq.eventlog.events import ticket_stream
from tdxq.projectors.ticket_state import TicketState, fold
from tdxq.tdx import AdminKey, ClientOptions, TdxClient
from tdxq.tdx.sandbox import (
    SANDBOX_BEID,
    SANDBOX_WEB_SERVICES_KEY,
    ConnectionFault,
    FaultConfig,
    SandboxApp,
    SandboxConfig,
    SandboxServer,
    Tenant,
    generate_tenant,
    serve,
)
from tdxq.tdx.sandbox.router import Match
from tdxq.tdx.sandbox.routes import build_router

from .checks import Checks, check_world

REPORT = 2000
HARNESS_ADDRESS = "127.0.0.2"
"""The harness's own TDX calls (the ingest) come from another address than the workers', so
they do not count in the workers' per-IP windows."""
WORKER_COMMAND = (sys.executable, "-c", "from tdxq.commands.cli import main; main()", "worker")


@dataclass(frozen=True)
class ChaosSettings:
    tickets: int = 60
    workers: int = 3
    threads: int = 2
    lease_s: float = 10.0
    poll_interval_s: float = 1.0
    faults: FaultConfig | None = None
    rate_limit: bool = False
    rate_window_scale: float = 1.0
    shared_budget: bool = True
    budget_margin_s: float = 0.1
    read_timeout_s: float = 2.0
    retry_base_s: float = 1.0
    retry_max_s: float = 4.0
    settle_timeout_s: float | None = None
    """How long to wait for every ticket to settle (default: 2 min, more for big reports)."""
    extra_env: dict[str, str] = field(default_factory=dict)

    def but(self, **changes: Any) -> ChaosSettings:
        return replace(self, **changes)


class TimedSandbox(SandboxApp):
    """The sandbox, also noting when each API call was answered and how."""

    def __init__(self, tenant: Tenant, config: SandboxConfig) -> None:
        self.slow_answers_waiting = 0
        """Requests held by a "slow" fault right now (e.g. a write a worker is waiting for)."""
        self._waiting_lock = threading.Lock()
        super().__init__(tenant, config, sleep=self._slow_answer)
        self.timeline: list[tuple[float, str, str]] = []  # (epoch s, endpoint, status)
        self._names = build_router()

    def _slow_answer(self, seconds: float) -> None:
        with self._waiting_lock:
            self.slow_answers_waiting += 1
        try:
            time.sleep(seconds)
        finally:
            with self._waiting_lock:
                self.slow_answers_waiting -= 1

    def handle(self, request: Any) -> Any:
        try:
            response = super().handle(request)
        except ConnectionFault:
            self._note(request, "no answer")
            raise
        self._note(request, str(response.status))
        return response

    def _note(self, request: Any, outcome: str) -> None:
        prefix = self.base_path.lower() + "/"
        path = str(request.path)
        if not path.lower().startswith(prefix):
            return
        found = self._names.match(str(request.method), path[len(prefix) :])
        name = found.target.name if isinstance(found, Match) else "(unmatched)"
        self.timeline.append((time.time(), name, outcome))


@dataclass
class WorkerProcess:
    index: int
    process: subprocess.Popen[bytes]
    log_path: Path
    started: float = field(default_factory=time.monotonic)
    killed: bool = False

    @property
    def age(self) -> float:
        return time.monotonic() - self.started

    def alive(self) -> bool:
        return self.process.poll() is None


class ChaosWorld:
    """One scenario's world; use ``open_world`` to get one that cleans up after itself."""

    def __init__(self, dsn: str, schema: str, settings: ChaosSettings, workdir: Path) -> None:
        self.dsn = dsn
        self.schema = schema
        self.settings = settings
        self.workdir = workdir
        tenant = generate_tenant(1, settings.tickets)
        self.app = TimedSandbox(
            tenant,
            SandboxConfig(
                tickets=settings.tickets,
                rate_limit=settings.rate_limit,
                rate_window_scale=settings.rate_window_scale,
                faults=settings.faults or FaultConfig(),
            ),
        )
        self.server: SandboxServer = serve(self.app)
        self.config_path = workdir / "tdxq.toml"
        self.config_path.write_text(self._config_text(), encoding="utf-8")
        self.config: Config = parse_config(
            self.config_path.read_text(encoding="utf-8"), self.config_path, environ={}
        )
        self.workers: list[WorkerProcess] = []
        self.kills = 0
        self.restarts = 0
        self.started = time.monotonic()

    # -- set-up ------------------------------------------------------------------------------

    def _config_text(self) -> str:
        text = sandbox_config_text(self.app.settings, self.server.root_url)
        retry = self.settings
        return (
            text.replace("base_delay_s = 60", f"base_delay_s = {retry.retry_base_s}")
            .replace("max_delay_s = 3600", f"max_delay_s = {retry.retry_max_s}")
            .replace("interval_s = 300", "interval_s = 3600")
        )

    def env(self) -> dict[str, str]:
        settings = self.settings
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("TDX_", "TDXQ_", "DAEMON_"))
        }
        env.update(
            {
                "TDXQ_DATABASE_URL": self.dsn,
                "TDXQ_SCHEMA": self.schema,
                "TDX_BASE_URL": self.server.base_url,
                "TDX_BEID": SANDBOX_BEID,
                "TDX_WEB_SERVICES_KEY": SANDBOX_WEB_SERVICES_KEY,
                "TDX_READ_TIMEOUT_S": str(settings.read_timeout_s),
                "TDX_WRITE_TIMEOUT_S": str(settings.read_timeout_s),
                "TDX_CONNECT_TIMEOUT_S": str(settings.read_timeout_s),
                "TDX_BACKOFF_INITIAL_S": "0.1",
                "TDX_BACKOFF_MAX_S": "1",
                "TDX_RATE_LIMIT_MARGIN_S": str(settings.budget_margin_s),
                "TDXQ_LEASE_S": str(settings.lease_s),
                "TDXQ_POLL_INTERVAL_S": str(settings.poll_interval_s),
                "TDXQ_WORKER_THREADS": str(settings.threads),
                "TDXQ_SHUTDOWN_GRACE_S": "20",
                "TDXQ_SHARED_BUDGET": "1" if settings.shared_budget else "0",
                "TDXQ_BUDGET_IP_SCOPE": "chaos-host",
                "TDXQ_BUDGET_WINDOW_SCALE": str(settings.rate_window_scale),
                "TDXQ_BUDGET_MARGIN_S": str(settings.budget_margin_s),
                "PYTHONUNBUFFERED": "1",
                "TDXQ_LOG_LEVEL": "INFO",
            }
        )
        env.update(settings.extra_env)
        return env

    # -- workers -------------------------------------------------------------------------------

    def start_workers(self, count: int | None = None) -> None:
        for _ in range(self.settings.workers if count is None else count):
            self.workers.append(self._spawn(len(self.workers)))

    def _spawn(self, index: int) -> WorkerProcess:
        log_path = self.workdir / f"worker-{index}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [*WORKER_COMMAND, "--config", str(self.config_path), "--report-id", str(REPORT)],
                env=self.env(),
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return WorkerProcess(index, process, log_path)

    def kill9(self, worker: WorkerProcess) -> None:
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait(10)
        worker.killed = True
        self.kills += 1

    def restart(self, worker: WorkerProcess) -> None:
        self.workers[worker.index] = self._spawn(worker.index)
        self.restarts += 1

    def stop_workers(self, timeout: float = 40.0) -> list[int | None]:
        """SIGTERM every live worker; their exit codes (None: had to be killed)."""
        live = [w for w in self.workers if w.alive()]
        for worker in live:
            worker.process.send_signal(signal.SIGTERM)
        codes: list[int | None] = []
        deadline = time.monotonic() + timeout
        for worker in live:
            try:
                codes.append(worker.process.wait(max(0.1, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(10)
                codes.append(None)
        return codes

    def worker_logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.workdir.glob("worker-*.log"))
        )

    # -- the harness's own doings --------------------------------------------------------------

    @contextmanager
    def client(self) -> Iterator[TdxClient]:
        credentials = AdminKey(SecretStr(SANDBOX_BEID), SecretStr(SANDBOX_WEB_SERVICES_KEY))
        with TdxClient(
            self.server.base_url,
            credentials,
            ClientOptions(rate_limit_margin_s=0.1),
            transport=self.app.transport(remote_addr=HARNESS_ADDRESS),
        ) as client:
            yield client

    def fetch(self) -> ParsedReport:
        volatile = self.config.reports[REPORT].volatile_columns
        with self.client() as client:
            return fetch_report(client, REPORT, volatile)

    def ingest(self, parsed: ParsedReport | None = None) -> int:
        """Append what the report shows (or ``parsed``); the number of events appended."""
        parsed = parsed or self.fetch()
        with self.store() as store:
            result = ingest_report(
                store,
                parsed,
                run_id=None,
                metadata=process_metadata(actor="chaos harness"),
                started=time.monotonic(),
            )
        return result.appended

    @contextmanager
    def store(self) -> Iterator[EventStore]:
        conn = connect(self.dsn)
        try:
            yield EventStore(conn, self.schema)
        finally:
            conn.close()

    # -- watching --------------------------------------------------------------------------------

    def states(self) -> dict[int, TicketState]:
        with self.store() as store:
            streams = store.read_streams(ticket_stream(t) for t in self.report_tickets())
        return {
            int(name.split(":")[1]): fold(int(name.split(":")[1]), events, strict=False)
            for name, events in streams.items()
        }

    def report_tickets(self) -> list[int]:
        return [t.id for t in self.app.store.report_tickets(self._report())]

    def _report(self) -> Any:
        return next(r for r in self.app.tenant.reports if r.id == REPORT)

    def unsettled(self) -> int:
        """Tickets with a step that is neither done, failed, skipped nor without new work."""
        steps = pipeline_steps(self.config.pipeline_for(REPORT))
        now = _now()
        count = 0
        for state in self.states().values():
            decision = decide(state, steps, now, self.config.retry, report_id=REPORT)
            waiting = decision.due or any(not n.settled for n in decision.not_due)
            if waiting or not state.is_on_report(REPORT):
                count += 1
        return count

    def wait_settled(self, timeout: float | None = None) -> bool:
        default = self.settings.settle_timeout_s or max(120.0, 0.6 * self.settings.tickets)
        deadline = time.monotonic() + (timeout or default)
        while time.monotonic() < deadline:
            if self.unsettled() == 0:
                return True
            time.sleep(0.3)
        return self.unsettled() == 0

    def check(self) -> Checks:
        with self.store() as store:
            return check_world(
                store,
                self.states(),
                self.config,
                REPORT,
                self.app.writes,
                now=_now(),
            )

    def close(self) -> None:
        for worker in self.workers:
            if worker.alive():
                worker.process.kill()
                worker.process.wait(10)
        self.server.close()


def _now() -> Any:
    from tdxq.eventlog import utc_now

    return utc_now()


def migrate_schema(dsn: str, schema: str) -> None:
    with connect(dsn) as conn:
        Migrator(conn, schema).migrate()


@contextmanager
def open_world(
    dsn: str, schema: str, settings: ChaosSettings, workdir: Path
) -> Iterator[ChaosWorld]:
    world = ChaosWorld(dsn, schema, settings, workdir)
    try:
        yield world
    finally:
        world.close()
