"""The chaos suite by hand, full size, with a table of figures.

    python -m tests.chaos [--tickets 500] [--kills 50] [--only kill9,faults] [--rate-tickets N]

Postgres: TDXQ_TEST_DATABASE_URL (a server URL; a throwaway database is created and dropped),
else an embedded server, as for the tests. The Postgres-restart scenario always runs on a
Postgres of its own (pgserver) in a temporary directory. Exit code 1 if any check failed.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..pg import test_server, throwaway_database
from . import scenarios
from .harness import migrate_schema
from .scenarios import Result, scratch_dir

COLUMNS = (
    "scenario",
    "tickets",
    "completed",
    "failed",
    "skipped",
    "TDX writes",
    "duplicates",
    "gaps",
    "seconds",
)
NAMES = ("kill9", "concurrent", "faults", "pg_restart", "listen", "rate")


@contextmanager
def fresh_schema(dsn: str) -> Iterator[str]:
    name = f"chaos_{uuid.uuid4().hex[:8]}"
    migrate_schema(dsn, name)
    yield name


def plan(args: argparse.Namespace, dsn: str) -> dict[str, Callable[[Path], Result]]:
    n = args.tickets

    def with_schema(run: Callable[[str, Path], Result]) -> Callable[[Path], Result]:
        def go(workdir: Path) -> Result:
            with fresh_schema(dsn) as schema:
                return run(schema, workdir)

        return go

    return {
        "kill9": with_schema(
            lambda s, w: scenarios.kill9(dsn, s, w, tickets=n, workers=4, kills=args.kills)
        ),
        "concurrent": with_schema(
            lambda s, w: scenarios.concurrent(dsn, s, w, tickets=n, workers=8)
        ),
        "faults": with_schema(lambda s, w: scenarios.faults(dsn, s, w, tickets=n, workers=4)),
        "pg_restart": lambda w: scenarios.pg_restart(w, tickets=n, workers=4),
        "listen": with_schema(
            lambda s, w: scenarios.listen_terminated(dsn, s, w, tickets=n, workers=4)
        ),
        "rate": with_schema(
            lambda s, w: scenarios.rate_limits(
                dsn, s, w, tickets=args.rate_tickets or n, workers=8, scale=args.rate_scale
            )
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="The tdxq chaos suite, full size.")
    parser.add_argument("--tickets", type=int, default=500, help="tickets on report 2000")
    parser.add_argument("--kills", type=int, default=50, help="kill -9s in the kill scenario")
    parser.add_argument(
        "--rate-tickets",
        type=int,
        default=None,
        help="tickets for the TDX-limits scenario (default --tickets; 500 take ~8 min at x0.2)",
    )
    parser.add_argument("--rate-scale", type=float, default=0.2, help="TDX window scale")
    parser.add_argument("--only", default=",".join(NAMES), help=f"some of {', '.join(NAMES)}")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(NAMES))
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {', '.join(NAMES)}")
    console = Console(width=200)
    results: list[Result] = []
    with ExitStack() as stack:
        server = stack.enter_context(test_server(stack))
        dsn = stack.enter_context(throwaway_database(server))
        runs = plan(args, dsn)
        for name in chosen:
            console.print(f"[bold]{name}[/bold] …")
            with scratch_dir(name) as workdir:
                result = runs[name](workdir)
            results.append(result)
            console.print(f"  {'ok' if result.ok else 'FAILED'}: {result.row()}")
            if not result.ok:
                console.print(result.explain()[-8000:], markup=False)
    table = Table(*COLUMNS, "ok", title=f"tdxq chaos suite — report 2000, {args.tickets} tickets")
    for result in results:
        row = result.row()
        table.add_row(*(str(row[c]) for c in COLUMNS), "yes" if result.ok else "NO")
    console.print(table)
    for result in results:
        console.print(f"[bold]{result.scenario}[/bold]: {result.row()['notes']}", markup=True)
        for failure in result.checks.failures[:5]:
            console.print(f"  failed for good: {failure}", markup=False)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
