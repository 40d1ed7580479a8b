"""A throwaway database for a benchmark run, found the same way the tests find one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from tests.pg import test_server, throwaway_database


@contextmanager
def bench_database() -> Iterator[str]:
    with ExitStack() as stack:
        server = stack.enter_context(test_server(stack))
        yield stack.enter_context(throwaway_database(server))
