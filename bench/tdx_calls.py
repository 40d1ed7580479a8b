"""TDX calls per fresh ticket, by endpoint, for the seed's production pipeline on report 2000.

    python -m bench.tdx_calls [--tickets 500]

Counts come from the sandbox's own call counters. The baseline, measured in the same run on a
second copy of the tenant, gives every action its own read cache — the seed's pattern, where the
same ticket was fetched once per action; the ratio is tdxq's calls over the baseline's.
"""

from __future__ import annotations

import argparse
import uuid
from collections import Counter

from rich.console import Console
from rich.table import Table

from tdxq.commands.process import ProcessSettings
from tdxq.eventlog import Migrator, connect
from tdxq.tdx.sandbox import generate_tenant
from tests.conftest import Schema
from tests.e2e.world import World, make_app, seed_config_text

from ._db import bench_database

REPORT = 2000


def measure(dsn: str, tickets: int, share_reads: bool) -> tuple[Counter[str], int]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with connect(dsn) as conn:
        Migrator(conn, schema).migrate()
    app = make_app(generate_tenant(1, tickets), tickets=tickets)
    world = World(app, Schema(dsn, schema), seed_config_text(app))
    report = world.run(REPORT, settings=ProcessSettings(share_reads=share_reads), workers=1)
    calls = Counter(app.call_counts)
    return calls, report.figures()["tickets_new"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=500, help="tickets in report 2000")
    args = parser.parse_args()
    with bench_database() as dsn:
        ours, fresh = measure(dsn, args.tickets, share_reads=True)
        base, _ = measure(dsn, args.tickets, share_reads=False)
    table = Table(
        "endpoint",
        "calls",
        "per ticket",
        "no shared cache",
        "per ticket",
        title=f"bench/tdx_calls.py — report {REPORT}, {fresh} fresh tickets",
    )
    for endpoint in sorted(set(ours) | set(base), key=lambda e: -base.get(e, 0)):
        table.add_row(
            endpoint,
            str(ours.get(endpoint, 0)),
            f"{ours.get(endpoint, 0) / fresh:.2f}",
            str(base.get(endpoint, 0)),
            f"{base.get(endpoint, 0) / fresh:.2f}",
        )
    total, total_base = sum(ours.values()), sum(base.values())
    table.add_row(
        "all",
        str(total),
        f"{total / fresh:.2f}",
        str(total_base),
        f"{total_base / fresh:.2f}",
        style="bold",
    )
    console = Console(width=120)
    console.print(table)
    console.print(f"ratio of calls, tdxq / no shared cache: {total / total_base:.2f}")


if __name__ == "__main__":
    main()
