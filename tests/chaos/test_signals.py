"""Stopping: SIGTERM lets the running action finish and record its outcome, then exits 0; a
second signal exits at once and reconciliation settles what it left. `tdxq run --daemon` polls
and processes on its own, and stops the same way."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from tdxq.tdx.sandbox import FaultConfig

from ..conftest import Schema
from .harness import REPORT, WORKER_COMMAND, ChaosSettings, ChaosWorld, WorkerProcess, open_world
from .waiting import wait_for

pytestmark = pytest.mark.slow

OUTCOMES = ("action_completed", "action_failed", "action_skipped")


def event_counts(world: ChaosWorld) -> Counter[str]:
    with world.store() as store:
        rows = store.connection.execute(
            f'SELECT type, count(*) FROM "{world.schema}".events GROUP BY type'
        ).fetchall()
    return Counter({str(t): int(n) for t, n in rows})


def in_flight(world: ChaosWorld) -> int:
    counts = event_counts(world)
    return counts["action_started"] - sum(counts[t] for t in OUTCOMES)


def writes_in_progress(world: ChaosWorld) -> bool:
    """A worker has an action running and the sandbox is holding one of its writes."""
    return in_flight(world) > 0 and world.app.slow_answers_waiting > 0


def slow_writes(seconds: float) -> FaultConfig:
    return FaultConfig(slow_rate=1.0, slow_seconds=seconds, applies_to="writes")


def test_sigterm_finishes_the_running_action_records_it_and_exits_0(
    schema: Schema, tmp_path: Path
) -> None:
    settings = ChaosSettings(tickets=6, workers=1, threads=1, faults=slow_writes(1.5))
    with open_world(schema.dsn, schema.name, settings, tmp_path) as world:
        world.start_workers()
        world.ingest()
        assert wait_for(lambda: in_flight(world) > 0 and len(world.app.writes) >= 1, 30)
        assert wait_for(lambda: writes_in_progress(world), 10), "no write in flight to interrupt"
        worker = world.workers[0]
        sent = time.monotonic()
        worker.process.send_signal(signal.SIGTERM)
        code = worker.process.wait(20)
        took = time.monotonic() - sent
        counts = event_counts(world)
        logs = world.worker_logs()
    assert code == 0, logs
    assert took < 5.0, f"stopping took {took:.1f} s (one slow write is 1.5 s)"
    assert counts["action_started"] == sum(counts[t] for t in OUTCOMES), (counts, logs)
    assert counts["run_finished"] == 1
    assert "finishing the current action" in logs


def test_a_second_signal_exits_at_once_and_reconciliation_settles_the_rest(
    schema: Schema, tmp_path: Path
) -> None:
    settings = ChaosSettings(
        tickets=6, workers=1, threads=1, lease_s=4.0, faults=slow_writes(1.5), read_timeout_s=2.5
    )
    with open_world(schema.dsn, schema.name, settings, tmp_path) as world:
        world.start_workers()
        world.ingest()
        assert wait_for(lambda: writes_in_progress(world), 30), "no write in flight to interrupt"
        worker = world.workers[0]
        sent = time.monotonic()
        worker.process.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        worker.process.send_signal(signal.SIGTERM)
        code = worker.process.wait(10)
        took = time.monotonic() - sent
        assert code == 128 + signal.SIGTERM
        assert took < 1.5, f"the second signal took {took:.1f} s to end the worker"
        assert in_flight(world) == 1, "the interrupted action is left running, with its lease"

        # A new worker takes the action over once its lease ends, finds the write TDX did
        # apply (or not), and finishes the report without doing anything twice.
        world.app.set_faults(FaultConfig())
        world.restart(worker)
        assert world.wait_settled(60), world.worker_logs()
        codes = world.stop_workers()
        checks = world.check()
    assert codes == [0]
    assert checks.ok, checks.problems()
    assert checks.takeovers == 1


def test_run_daemon_polls_processes_and_stops_cleanly(schema: Schema, tmp_path: Path) -> None:
    settings = ChaosSettings(tickets=10, workers=0)
    with open_world(schema.dsn, schema.name, settings, tmp_path) as world:
        command = [*WORKER_COMMAND[:-1], "run", "--daemon", "--report-id", str(REPORT)]
        log_path = tmp_path / "worker-daemon.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [*command, "--config", str(world.config_path), "--interval", "2"],
                env=world.env(),
                cwd=tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        world.workers.append(WorkerProcess(0, process, log_path))
        assert world.wait_settled(60), world.worker_logs()
        assert wait_for(lambda: event_counts(world)["report_polled"] >= 2, 10)
        codes = world.stop_workers()
        counts = event_counts(world)
        checks = world.check()
    assert codes == [0], world.worker_logs()
    assert checks.ok, checks.problems()
    assert counts["run_started"] == counts["run_finished"] == 1
    assert counts["ticket_seen"] == 10, "the daemon's own ingest saw the report"


def test_run_daemon_refuses_a_dry_run(schema: Schema, tmp_path: Path) -> None:
    settings = ChaosSettings(tickets=2, workers=0)
    with open_world(schema.dsn, schema.name, settings, tmp_path) as world:
        result = subprocess.run(
            [
                *WORKER_COMMAND[:-1],
                "run",
                "--daemon",
                "--dry-run",
                "--config",
                str(world.config_path),
            ],
            env=world.env(),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert "dry run" in result.stderr
