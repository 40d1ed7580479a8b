"""The chaos scenarios, each runnable small (CI) or full-size (``python -m tests.chaos``).

Every scenario builds a world (sandbox over HTTP, a schema, `tdxq worker` subprocesses), does
its damage while the workers process report 2000, waits until every ticket is settled, stops
the workers with SIGTERM and checks the invariants (``checks.py``). It returns its figures;
the caller asserts.
"""

from __future__ import annotations

import math
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tdxq.eventlog import connect
from tdxq.tdx.sandbox import FaultConfig
from tdxq.tdx.sandbox.routes import ROUTES

from .checks import Checks
from .harness import REPORT, ChaosSettings, ChaosWorld, migrate_schema, open_world
from .waiting import wait_for

LISTENER_APP = "tdxq-listener"


@dataclass
class Result:
    scenario: str
    checks: Checks
    seconds: float
    exit_codes: list[int | None]
    notes: dict[str, Any] = field(default_factory=dict)
    logs: str = ""

    @property
    def ok(self) -> bool:
        return self.checks.ok and all(code == 0 for code in self.exit_codes)

    def row(self) -> dict[str, Any]:
        c = self.checks
        return {
            "scenario": self.scenario,
            "tickets": c.tickets,
            "completed": c.completed,
            "failed": c.failed,
            "skipped": c.skipped,
            "TDX writes": c.writes_applied,
            "duplicates": len(c.duplicates),
            "gaps": len(c.gaps),
            "seconds": round(self.seconds, 1),
            "notes": ", ".join(f"{k} {v}" for k, v in self.notes.items()),
        }

    def explain(self) -> str:
        return (
            f"{self.scenario}: problems: {self.checks.problems()}; exit codes {self.exit_codes}; "
            f"notes {self.notes}\n{self.logs}"
        )


Database = Callable[[], Iterator[tuple[str, str]]]
"""Context manager factory giving (dsn, schema) of a freshly migrated schema."""


def _finish(
    world: ChaosWorld, scenario: str, started: float, notes: dict[str, Any], settled: bool
) -> Result:
    seconds = time.monotonic() - started
    codes = world.stop_workers()
    checks = world.check()
    notes = {"settled": settled, **notes, "in-doubt takeovers": checks.takeovers}
    notes["reconciled"] = checks.reconciled
    result = Result(scenario, checks, seconds, codes, notes)
    if not result.ok:
        result.logs = world.worker_logs()
    return result


# -- kill -9 -------------------------------------------------------------------------------------


def kill9(
    dsn: str,
    schema: str,
    workdir: Path,
    *,
    tickets: int = 60,
    workers: int = 3,
    kills: int = 10,
    seed: int = 7,
    latency_s: float = 0.05,
) -> Result:
    """Kill -9 a random worker at random moments, ``kills`` times, restarting it each time.

    The sandbox answers every call after ``latency_s`` (a fast real TDX), so that a kill lands
    in the middle of an action more often than not; leases are short (3 s, with TDX timeouts
    of 0.5 s) so reconciliation takes over within the run.
    """
    settings = ChaosSettings(
        tickets=tickets,
        workers=workers,
        lease_s=3.0,
        read_timeout_s=0.5,
        faults=FaultConfig(slow_rate=1.0, slow_seconds=latency_s),
    )
    rng = random.Random(seed)
    with open_world(dsn, schema, settings, workdir) as world:
        started = time.monotonic()
        world.start_workers()
        world.ingest()
        while world.kills < kills:
            time.sleep(rng.uniform(0.2, 0.9))
            candidates = [w for w in world.workers if w.alive() and w.age >= 2.0]
            if candidates:
                victim = rng.choice(candidates)
                world.kill9(victim)
                world.restart(victim)
        work_left_at_last_kill = world.unsettled()
        settled = world.wait_settled()
        notes = {"kills": world.kills, "tickets unsettled at the last kill": work_left_at_last_kill}
        return _finish(world, "kill -9", started, notes, settled)


# -- many workers ----------------------------------------------------------------------------------


def concurrent(
    dsn: str, schema: str, workdir: Path, *, tickets: int = 60, workers: int = 8
) -> Result:
    """``workers`` workers on one report, all woken by the same events."""
    settings = ChaosSettings(tickets=tickets, workers=workers, threads=2)
    with open_world(dsn, schema, settings, workdir) as world:
        started = time.monotonic()
        world.start_workers()
        world.ingest()
        settled = world.wait_settled()
        with world.store() as store:
            lost = store.connection.execute(
                f"SELECT count(*) FROM {_events(schema)} WHERE type = 'action_started'"
            ).fetchone()
        notes = {"workers": workers, "actions started": lost[0] if lost else 0}
        return _finish(world, f"{workers} concurrent workers", started, notes, settled)


# -- TDX faults ------------------------------------------------------------------------------------


def faults(
    dsn: str,
    schema: str,
    workdir: Path,
    *,
    tickets: int = 60,
    workers: int = 3,
    seed: int = 11,
) -> Result:
    """10 % of calls answered 5xx, 2 % time out (the answer comes after the client gave up;
    a write still takes effect), 2 % of writes take effect and then fail."""
    settings = ChaosSettings(
        tickets=tickets,
        workers=workers,
        read_timeout_s=0.5,
        retry_base_s=2.0,
        retry_max_s=4.0,
        faults=FaultConfig(
            seed=seed,
            error_rate=0.10,
            slow_rate=0.02,
            slow_seconds=1.0,
            effect_then_fail_rate=0.02,
            effect_then_fail_mode="500",
        ),
    )
    with open_world(dsn, schema, settings, workdir) as world:
        started = time.monotonic()
        world.start_workers()
        world.ingest()
        settled = world.wait_settled()
        outcomes: Counter[str] = Counter()
        for counts in world.app.call_outcomes.values():
            outcomes.update(counts)
        faulted = [w.get("fault") for w in world.app.writes if w.get("fault")]
        notes = {
            "5xx": outcomes["500"] + outcomes["503"],
            "slow writes": _count_slow(world),
            "effect-then-fail": sum(1 for f in faulted if str(f).startswith("effect_then_fail")),
        }
        return _finish(world, "TDX faults 10/2/2 %", started, notes, settled)


def _count_slow(world: ChaosWorld) -> int:
    return sum(1 for w in world.app.writes if w.get("fault") == "slow")


# -- Postgres restarted ----------------------------------------------------------------------------


class OwnPostgres:
    """A Postgres of our own (pgserver's binaries in a temporary directory) that a scenario may
    stop and start without touching anyone else's server."""

    def __init__(self, directory: Path) -> None:
        import pgserver

        self._pgserver: Any = pgserver
        self.server: Any = pgserver.get_server(directory, cleanup_mode="delete")
        self.uri = str(self.server.get_uri())

    def stop(self) -> None:
        self._pgserver.pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user
        )

    def start(self) -> None:
        with self.server._lock:
            self.server.ensure_postgres_running()

    def close(self) -> None:
        self.server.cleanup()


def pg_restart(
    workdir: Path, *, tickets: int = 60, workers: int = 3, down_s: float = 2.0
) -> Result:
    """Stop Postgres while the workers are busy, keep it down ``down_s``, start it again."""
    own = OwnPostgres(workdir / "pg")
    schema = "chaos"
    try:
        migrate_schema(own.uri, schema)
        settings = ChaosSettings(
            tickets=tickets,
            workers=workers,
            lease_s=15.0,
            faults=FaultConfig(slow_rate=1.0, slow_seconds=0.03),
        )
        with open_world(own.uri, schema, settings, workdir) as world:
            started = time.monotonic()
            world.start_workers()
            world.ingest()
            total = len(world.report_tickets())
            wait_for(lambda: world.unsettled() <= total * 0.7, 60.0, interval=0.1)
            left_before = world.unsettled()
            stopped_at = time.monotonic()
            own.stop()
            time.sleep(down_s)
            own.start()
            outage = time.monotonic() - stopped_at
            settled = world.wait_settled()
            logs = world.worker_logs()
            notes = {
                "outage s": round(outage, 1),
                "tickets left at the stop": left_before,
                "outcomes retried": logs.count("failed tries (Postgres is back)"),
            }
            return _finish(world, "Postgres restarted", started, notes, settled)
    finally:
        own.close()


# -- the LISTEN connection terminated -----------------------------------------------------------


def listen_terminated(
    dsn: str,
    schema: str,
    workdir: Path,
    *,
    tickets: int = 60,
    workers: int = 3,
    poll_interval_s: float = 2.0,
) -> Result:
    """Terminate every worker's listening backend, then commit new tickets at once: they are
    picked up within the poll interval (the listener reconnects, or the wait times out)."""
    settings = ChaosSettings(tickets=tickets, workers=workers, poll_interval_s=poll_interval_s)
    with open_world(dsn, schema, settings, workdir) as world:
        started = time.monotonic()
        world.start_workers()
        wait_for(lambda: _listeners(world) >= workers, 60.0, interval=0.1)
        parsed = world.fetch()
        half = len(parsed.rows) // 2
        first = type(parsed)(parsed.report_id, parsed.columns, parsed.rows[:half])
        world.ingest(first)
        later = {row.ticket_id for row in parsed.rows[half:]}
        wait_for(lambda: world.unsettled() <= len(later), 90.0, interval=0.1)
        terminated = _terminate_listeners(world)
        world.ingest(parsed)
        latency = _first_start_latency(world, later, timeout=poll_interval_s + 10)
        settled = world.wait_settled()
        notes = {
            "listeners terminated": terminated,
            "first start after the new tickets s": None if latency is None else round(latency, 2),
            "poll interval s": poll_interval_s,
            "listeners back": _listeners(world),
        }
        return _finish(world, "LISTEN connection terminated", started, notes, settled)


def _listeners(world: ChaosWorld) -> int:
    with connect(world.dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
            "AND datname = current_database()",
            (LISTENER_APP,),
        ).fetchone()
    return int(row[0]) if row else 0


def _terminate_listeners(world: ChaosWorld) -> int:
    with connect(world.dsn) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s "
            "AND datname = current_database()",
            (LISTENER_APP,),
        ).fetchall()
    return sum(1 for (done,) in rows if done)


def _first_start_latency(world: ChaosWorld, tickets: set[int], timeout: float) -> float | None:
    """Seconds from the first ``ticket_seen`` of ``tickets`` to the first ``action_started``
    on any of them (database clock), once one exists."""
    streams = [f"ticket:{t}" for t in tickets]
    query = (
        "SELECT min(recorded_at) FILTER (WHERE type = 'ticket_seen'), "
        "min(recorded_at) FILTER (WHERE type = 'action_started') "
        f"FROM {_events(world.schema)} WHERE stream = ANY(%s)"
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with world.store() as store:
            row = store.connection.execute(query, (streams,)).fetchone()
        if row and row[0] is not None and row[1] is not None:
            return float((row[1] - row[0]).total_seconds())
        time.sleep(0.05)
    return None


# -- TDX's real limits -----------------------------------------------------------------------------


def rate_limits(
    dsn: str,
    schema: str,
    workdir: Path,
    *,
    tickets: int = 30,
    workers: int = 8,
    scale: float = 0.2,
) -> Result:
    """``workers`` workers against the sandbox with TDX's limits in windows scaled by
    ``scale``, sharing one budget in Postgres: no 429, and done close to the time the budget
    needs at the least (the busiest endpoint's windows, one after the other)."""
    settings = ChaosSettings(
        tickets=tickets,
        workers=workers,
        lease_s=60.0,
        rate_limit=True,
        rate_window_scale=scale,
        budget_margin_s=0.1,
        # ~2.4 ticket searches per ticket at 30 per (60 s x scale) window, and room to spare.
        settle_timeout_s=120.0 + 1.5 * tickets * 2.4 / 30 * 60 * scale,
    )
    with open_world(dsn, schema, settings, workdir) as world:
        started = time.monotonic()
        world.start_workers()
        wait_for(lambda: _listeners(world) >= workers, 60.0, interval=0.1)
        world.ingest()
        since = time.time()
        settled = world.wait_settled()
        budget = budget_figures(world.app.timeline, since, scale)
        too_many = sum(counts.get("429", 0) for counts in world.app.call_outcomes.values())
        notes: dict[str, Any] = {"workers": workers, "429 answers": too_many, **budget}
        return _finish(world, f"TDX limits x{scale:g}, {workers} workers", started, notes, settled)


def budget_figures(
    timeline: list[tuple[float, str, str]], since: float, scale: float
) -> dict[str, Any]:
    """The time TDX's windows allow for the calls made, against the time the run took.

    For each limited endpoint, C calls at L per window of W seconds need C / L windows: the
    budget allows them in (C / L) * W seconds; the busiest endpoint sets the run's minimum.
    Stricter still, the last window may be used at its very start: (ceil(C / L) - 1) * W.
    """
    limits = {route.name: route.limit for route in ROUTES if route.limit is not None}
    calls = [(t, name) for t, name, _ in timeline if t >= since]
    if not calls:
        return {"calls": 0}
    per_endpoint = Counter(name for _, name in calls)
    minimum, strict, bottleneck = 0.0, 0.0, ""
    for name, count in per_endpoint.items():
        limit = limits.get(name)
        if limit is None:
            continue
        window = limit.window_s * scale
        need = count / limit.calls * window
        if need > minimum:
            minimum, bottleneck = need, name
            strict = (math.ceil(count / limit.calls) - 1) * window
    span = max(t for t, _ in calls) - min(t for t, _ in calls)
    return {
        "calls": len(calls),
        "bottleneck": f"{bottleneck} ({per_endpoint.get(bottleneck, 0)} calls)",
        "budget minimum s": round(minimum, 2),
        "run s": round(span, 2),
        "ratio": round(span / minimum, 3) if minimum else None,
        "strict minimum s": round(strict, 2),
        "strict ratio": round(span / strict, 3) if strict else None,
    }


# -- helpers ------------------------------------------------------------------------------------


def _events(schema: str) -> str:
    return f'"{schema}".events'


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"tdxq-chaos-{prefix}-") as name:
        yield Path(name)


__all__ = [
    "REPORT",
    "OwnPostgres",
    "Result",
    "budget_figures",
    "concurrent",
    "faults",
    "kill9",
    "listen_terminated",
    "pg_restart",
    "rate_limits",
]
