"""Fixtures for the shared-budget tests: budgets over the test schema, a manual clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tdxq.actions.rate_limits import EndpointLimit, SharedBudgetConfig
from tdxq.actions.shared_budget import PostgresRateBudget

from ..conftest import Schema
from ..tdx.clocks import FakeClock

KEY = "GET {appId}/tickets/{id}"

BudgetFactory = Callable[..., PostgresRateBudget]


def config(**overrides: Any) -> SharedBudgetConfig:
    values: dict[str, Any] = {"ip_scope": "host-a", "user_scope": "tenant/user-1", "margin_s": 1.0}
    values.update(overrides)
    return SharedBudgetConfig(**values)


def small_limits(calls: int = 3, window_s: float = 10.0) -> dict[str, EndpointLimit]:
    return {KEY: EndpointLimit(calls=calls, window_s=window_s)}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_budget(schema: Schema) -> Iterator[BudgetFactory]:
    """``make_budget(config, clock=None)``: a budget on its own connection, closed afterwards."""
    made: list[PostgresRateBudget] = []

    def make(cfg: SharedBudgetConfig | None = None, **kwargs: Any) -> PostgresRateBudget:
        budget = PostgresRateBudget(schema.dsn, schema.name, cfg or config(), **kwargs)
        made.append(budget)
        return budget

    yield make
    for budget in made:
        budget.close()
