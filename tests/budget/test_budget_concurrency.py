"""Eight workers, each with its own connection and budget, hammer one endpoint whose TDX
window (the sandbox's fixed-window limiter, on the real clock) allows 60 calls: none is ever
refused, no fixed window holds more than 60 calls, and every worker gets all its calls."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from tdxq.actions.rate_limits import EndpointLimit
from tdxq.actions.shared_budget import APPLICATION_NAME, PostgresRateBudget
from tdxq.tdx import RateWindow
from tdxq.tdx.sandbox.ratelimit import FixedWindowLimiter, RateLimit

from ..conftest import Schema
from .conftest import KEY, config

WORKERS = 8
CALLS_PER_WORKER = 40  # 320 calls: six windows of 60
LIMIT = 60
SCALE = 1 / 120  # TDX's 60 s window becomes 0.5 s
WINDOW_S = 60 * SCALE
MARGIN_S = 0.05


@dataclass
class Tally:
    sent: list[float] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _worker(budget: PostgresRateBudget, tdx: FixedWindowLimiter, tally: Tally) -> None:
    done = 0
    while done < CALLS_PER_WORKER:
        delay = budget.before_call(KEY)
        if delay > 0:
            time.sleep(delay)
            continue
        sent_at = time.time()
        decision = tdx.hit(KEY, "127.0.0.1", RateLimit(LIMIT, 60.0, "ip"))
        budget.observe(KEY, RateWindow(decision.limit, decision.remaining, decision.reset_at))
        with tally.lock:
            tally.sent.append(sent_at)
            if decision.allowed:
                done += 1
            else:
                tally.refused += 1


def fixed_window_counts(times: list[float], window_s: float) -> list[int]:
    """Calls per window the way TDX counts: a window opens at the first call after the last
    one ended."""
    counts: list[int] = []
    window_end = float("-inf")
    for t in sorted(times):
        if t >= window_end:
            counts.append(0)
            window_end = t + window_s
        counts[-1] += 1
    return counts


def _run(schema: Schema, killer: threading.Thread | None = None) -> tuple[Tally, float]:
    cfg = config(
        limits={KEY: EndpointLimit(calls=LIMIT, window_s=60)},
        window_scale=SCALE,
        margin_s=MARGIN_S,
    )
    tdx = FixedWindowLimiter(time.time, window_scale=SCALE)
    tally = Tally()
    budgets = [PostgresRateBudget(schema.dsn, schema.name, cfg) for _ in range(WORKERS)]
    threads = [threading.Thread(target=_worker, args=(b, tdx, tally)) for b in budgets]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    if killer is not None:
        killer.start()
    for thread in threads:
        thread.join(timeout=60)
    took = time.monotonic() - started
    if killer is not None:
        killer.join()
    for budget in budgets:
        budget.close()
    assert not any(t.is_alive() for t in threads), "a worker never got its calls"
    return tally, took


def _check(tally: Tally, took: float, label: str) -> None:
    total = WORKERS * CALLS_PER_WORKER
    counts = fixed_window_counts(tally.sent, WINDOW_S)
    windows_needed = -(-total // LIMIT)
    # The budget allows the last window to open after (windows - 1) windows plus margins.
    allowed_s = (windows_needed - 1) * (WINDOW_S + MARGIN_S)
    print(
        f"\n{label}: {total} calls by {WORKERS} workers in {took:.2f} s "
        f"(budget allows {allowed_s:.2f} s, ratio {took / allowed_s:.2f}); "
        f"calls per window {counts}; refused {tally.refused}"
    )
    assert tally.refused == 0, f"TDX refused {tally.refused} calls (429)"
    assert max(counts) <= LIMIT, f"a window held {max(counts)} calls"
    assert len(tally.sent) == total, "every worker got each of its calls exactly once"
    assert len(counts) == windows_needed


def test_eight_workers_never_exceed_the_shared_window(schema: Schema) -> None:
    tally, took = _run(schema)
    _check(tally, took, "shared budget")


def test_dropped_budget_connections_are_survived(schema: Schema) -> None:
    killed: list[int] = []

    def kill_budget_connections() -> None:
        with schema.connect() as admin:
            for _ in range(3):
                time.sleep(0.4)
                rows = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = %s AND datname = current_database()",
                    (APPLICATION_NAME,),
                ).fetchall()
                killed.append(sum(1 for (ok,) in rows if ok))

    tally, took = _run(schema, threading.Thread(target=kill_budget_connections))
    assert sum(killed) >= WORKERS, f"the test killed only {killed} connections"
    _check(tally, took, f"shared budget, {sum(killed)} connections killed")
