"""From the commit of ``ticket_seen`` to ``action_started``: the reactive worker against a
one-second polling loop, in the same run.

    python -m bench.latency [--tickets 1000] [--rate 20] [--threads 4]

Tickets of report 2000 (a sandbox tenant, unthrottled, served over loopback HTTP) are seen one
at a time, ``--rate`` per second: each ``ticket_seen`` is its own commit, as when a report poll
finds tickets one by one. The reactive side is the daemon that `tdxq worker` runs (LISTEN/NOTIFY
wake-ups, poll interval 5 s as the fallback); the baseline polls every second, as `tdxq run
--daemon --interval 1` used to: read the report's tickets, decide, process what is due. Both use
the same processor and the same number of threads, each on its own schema and its own copy of
the tenant. Latency is measured in the database's clock: ``recorded_at`` of the ticket's first
``action_started`` minus that of its ``ticket_seen``.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from tdxq.actions.config import Config, parse_config
from tdxq.actions.lookups import LookupRuntime
from tdxq.commands.daemon import Daemon, DaemonOptions, DaemonServices
from tdxq.commands.ingest import fetch_report, read_membership
from tdxq.commands.process import Processor
from tdxq.commands.report_rows import ParsedReport
from tdxq.commands.sandbox_config import sandbox_config_text
from tdxq.eventlog import (
    EventStore,
    Migrator,
    StreamAppend,
    StreamState,
    connect,
    process_metadata,
    to_new_event,
)
from tdxq.eventlog.events import TicketSeen, ticket_stream
from tdxq.tdx import AdminKey, TdxClient
from tdxq.tdx.sandbox import (
    SANDBOX_BEID,
    SANDBOX_WEB_SERVICES_KEY,
    SandboxApp,
    SandboxConfig,
    Tenant,
    generate_tenant,
    serve,
)

from ._db import bench_database

REPORT = 2000
POLL_S = 1.0
REACTIVE_FALLBACK_POLL_S = 5.0

LATENCY_QUERY = """
SELECT extract(epoch FROM
           min(recorded_at) FILTER (WHERE type = 'action_started')
         - min(recorded_at) FILTER (WHERE type = 'ticket_seen'))
  FROM {events}
 WHERE type IN ('ticket_seen', 'action_started')
 GROUP BY stream
"""


@dataclass
class Side:
    """One mode's world: its schema, sandbox, client and configuration."""

    dsn: str
    schema: str
    app: SandboxApp
    client: TdxClient
    config: Config
    lookups: LookupRuntime

    def store(self) -> EventStore:
        return EventStore(connect(self.dsn), self.schema)


@contextmanager
def side(dsn: str, tenant: Tenant, tickets: int) -> Iterator[Side]:
    schema = f"lat_{uuid.uuid4().hex[:8]}"
    with connect(dsn) as conn:
        Migrator(conn, schema).migrate()
    app = SandboxApp(tenant.model_copy(deep=True), SandboxConfig(tickets=tickets, rate_limit=False))
    with serve(app) as server:
        text = sandbox_config_text(app.settings, server.root_url)
        config = parse_config(text, Path("latency.toml"), environ={})
        credentials = AdminKey(SecretStr(SANDBOX_BEID), SecretStr(SANDBOX_WEB_SERVICES_KEY))
        lookups = LookupRuntime(config.lookups, default_dsn=lambda: dsn)
        with TdxClient(server.base_url, credentials) as client:
            try:
                yield Side(dsn, schema, app, client, config, lookups)
            finally:
                lookups.close()


def feed(target: Side, parsed: ParsedReport, rate: float) -> None:
    """Commit one ``ticket_seen`` per ticket, ``rate`` per second."""
    store = target.store()
    metadata = process_metadata(actor="bench latency")
    started = time.monotonic()
    try:
        for index, row in enumerate(parsed.rows):
            pause = started + index / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            seen = TicketSeen(
                ticket_id=row.ticket_id,
                report_id=REPORT,
                row=row.row,
                fingerprint=row.fingerprint,
            )
            stream = ticket_stream(row.ticket_id)
            new = to_new_event(seen, metadata)
            store.append([StreamAppend(stream, StreamState.ANY, [new])])
    finally:
        store.connection.close()


def all_started(target: Side, count: int) -> bool:
    store = target.store()
    try:
        row = store.connection.execute(
            f'SELECT count(DISTINCT stream) FROM "{target.schema}".events '
            "WHERE type = 'action_started'"
        ).fetchone()
    finally:
        store.connection.close()
    return bool(row) and int(row[0]) >= count


def latencies(target: Side) -> list[float]:
    store = target.store()
    try:
        rows = store.connection.execute(
            LATENCY_QUERY.format(events=f'"{target.schema}".events')
        ).fetchall()
    finally:
        store.connection.close()
    return sorted(float(r[0]) for r in rows if r[0] is not None)


def run_reactive(target: Side, parsed: ParsedReport, rate: float, threads: int) -> list[float]:
    services = DaemonServices(
        target.config, target.client, target.lookups, target.dsn, target.schema
    )
    options = DaemonOptions(
        threads=threads,
        poll_interval_s=REACTIVE_FALLBACK_POLL_S,
        lease=timedelta(minutes=10),
        shutdown_grace_s=30,
    )
    daemon = Daemon(services, [REPORT], options, mode="bench")
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    wait(lambda: daemon.listening, 30)
    try:
        feed(target, parsed, rate)
        wait(lambda: all_started(target, len(parsed.rows)), 300)
    finally:
        daemon.request_stop()
        thread.join(60)
    return latencies(target)


def run_polling(target: Side, parsed: ParsedReport, rate: float, threads: int) -> list[float]:
    stop = threading.Event()

    def loop() -> None:
        store = target.store()
        try:
            while not stop.is_set():
                began = time.monotonic()
                tickets = sorted(read_membership(store, REPORT).on_report)
                processor = Processor(
                    store,
                    target.client,
                    report_id=REPORT,
                    pipeline=target.config.pipeline_for(REPORT),
                    tenant=target.config.tenant,
                    lookups=target.lookups,
                    policy=target.config.retry,
                    metadata=process_metadata(actor="bench polling"),
                    should_stop=stop.is_set,
                )
                processor.process(tickets, workers=threads, open_store=target.store)
                stop.wait(max(0.0, POLL_S - (time.monotonic() - began)))
        finally:
            store.connection.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        feed(target, parsed, rate)
        wait(lambda: all_started(target, len(parsed.rows)), 300)
    finally:
        stop.set()
        thread.join(60)
    return latencies(target)


def wait(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the bench did not finish in time")
        time.sleep(0.1)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(share * len(values)) - 1))
    return values[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1000, help="tickets on report 2000")
    parser.add_argument("--rate", type=float, default=10.0, help="tickets seen per second")
    parser.add_argument("--threads", type=int, default=4, help="processing threads, each mode")
    args = parser.parse_args()
    tenant = generate_tenant(1, args.tickets)
    results: dict[str, list[float]] = {}
    with bench_database() as dsn:
        for name, run in (
            ("reactive (LISTEN/NOTIFY)", run_reactive),
            ("polling every 1 s", run_polling),
        ):
            with side(dsn, tenant, args.tickets) as target:
                parsed = fetch_report(target.client, REPORT, ["ModifiedDate"])
                results[name] = run(target, parsed, args.rate, args.threads)
    table = Table(
        "mode",
        "tickets",
        "p50 ms",
        "p99 ms",
        "max ms",
        "mean ms",
        title=(
            f"bench/latency.py — ticket_seen commit → action_started, report {REPORT}, "
            f"{args.tickets} tickets at {args.rate:g}/s, {args.threads} threads"
        ),
    )
    for name, values in results.items():
        table.add_row(
            name,
            str(len(values)),
            f"{percentile(values, 0.50) * 1000:.1f}",
            f"{percentile(values, 0.99) * 1000:.1f}",
            f"{max(values) * 1000:.1f}",
            f"{statistics.fmean(values) * 1000:.1f}",
        )
    console = Console(width=140)
    console.print(table)
    reactive, polling = results.values()
    for label, share in (("p50", 0.5), ("p99", 0.99)):
        ratio = percentile(polling, share) / percentile(reactive, share)
        console.print(f"{label}: polling / reactive = {ratio:.1f}x")


if __name__ == "__main__":
    main()
