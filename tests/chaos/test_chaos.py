"""The chaos suite at CI size: each scenario on report 2000 of a small sandbox tenant, with
`tdxq worker` subprocesses over real HTTP and a real Postgres. Full size: ``python -m
tests.chaos --tickets 500``."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import Schema
from . import scenarios
from .scenarios import Result

pytestmark = pytest.mark.slow


def assert_clean(result: Result) -> None:
    print("\n", result.row())
    assert result.notes["settled"], result.explain()
    assert result.checks.ok, result.explain()
    assert all(code == 0 for code in result.exit_codes), result.explain()
    assert result.checks.completed > 0
    assert result.checks.writes_applied > 0


def test_kill_minus_nine_ten_times_during_one_run(schema: Schema, tmp_path: Path) -> None:
    result = scenarios.kill9(schema.dsn, schema.name, tmp_path, tickets=60, workers=3, kills=10)
    assert_clean(result)
    assert result.notes["kills"] == 10
    # The kills came while there was work: the run was not over before the chaos.
    assert result.notes["tickets unsettled at the last kill"] > 0


def test_eight_concurrent_workers_on_one_report(schema: Schema, tmp_path: Path) -> None:
    result = scenarios.concurrent(schema.dsn, schema.name, tmp_path, tickets=80, workers=8)
    assert_clean(result)
    # Claims let exactly one worker start each action: no start beyond what the log shows
    # as completed, failed or skipped (there were no kills, so nothing was left in doubt).
    checks = result.checks
    assert result.notes["actions started"] == checks.completed + checks.failed + checks.skipped
    assert checks.takeovers == 0


def test_tdx_faults_5xx_timeouts_and_effect_then_fail(schema: Schema, tmp_path: Path) -> None:
    result = scenarios.faults(schema.dsn, schema.name, tmp_path, tickets=100, workers=3)
    assert_clean(result)
    assert result.notes["5xx"] > 0
    # ~230 writes at 2 % + 2 %: some write took effect while its answer was lost (a 500 after
    # the effect, or an answer after the client gave up); the chance of none is ~1e-4.
    assert result.notes["effect-then-fail"] + result.notes["slow writes"] > 0
    assert result.checks.reconciled > 0, "effects of failed answers were found, not redone"


def test_postgres_restarted_mid_run(tmp_path: Path) -> None:
    pytest.importorskip("pgserver", reason="needs pgserver (tdxq[embedded]) for its own Postgres")
    result = scenarios.pg_restart(tmp_path, tickets=60, workers=3)
    assert_clean(result)
    assert result.notes["tickets left at the stop"] > 0, "the restart came mid-run"


def test_listen_connection_terminated(schema: Schema, tmp_path: Path) -> None:
    result = scenarios.listen_terminated(
        schema.dsn, schema.name, tmp_path, tickets=60, workers=3, poll_interval_s=2.0
    )
    assert_clean(result)
    assert result.notes["listeners terminated"] == 3
    latency = result.notes["first start after the new tickets s"]
    assert latency is not None and latency <= 2.0 + 0.5, result.notes
    assert result.notes["listeners back"] == 3


def test_tdx_limits_eight_workers_share_one_budget(schema: Schema, tmp_path: Path) -> None:
    result = scenarios.rate_limits(
        schema.dsn, schema.name, tmp_path, tickets=30, workers=8, scale=0.2
    )
    assert_clean(result)
    notes = result.notes
    assert notes["429 answers"] == 0
    assert notes["ratio"] is not None and notes["ratio"] <= 1.1, notes
    # Pacing: even against the strictest minimum (last window used at its start) the run is
    # close; what is left is the whole-second rounding of X-RateLimit-Reset and the last
    # window's dependent calls.
    assert notes["strict ratio"] is not None and notes["strict ratio"] <= 1.25, notes
