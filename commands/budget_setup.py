"""Whether TDX calls count against the shared budget in Postgres, and under which scopes.

Settings from the environment (and ``.env``):

- ``TDXQ_SHARED_BUDGET``: 1/0, use the budget in Postgres (default: on for ``run --daemon``
  and ``worker``, off for one-off commands);
- ``TDXQ_BUDGET_IP_SCOPE``: who TDX sees as this host's IP address (default: the host name);
  every worker behind one address (a NAT, say) must use the same value;
- ``TDXQ_BUDGET_USER_SCOPE``: the TDX account's scope (default: derived from the tenant's host
  and the login name or BEID, digested: no secret);
- ``TDXQ_BUDGET_WINDOW_SCALE``: shrink every window (only against a sandbox started with
  ``--rate-window-scale``);
- ``TDXQ_BUDGET_MARGIN_S``: wait this long past a window's end (default 5 s, as TDX advises).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tdxq.actions.rate_limits import SharedBudgetConfig, user_scope_for
from tdxq.actions.shared_budget import PostgresRateBudget
from tdxq.tdx import TdxSettings


class BudgetSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TDXQ_", env_file=".env", extra="ignore")

    shared_budget: bool | None = None
    budget_ip_scope: str | None = Field(default=None, min_length=1)
    budget_user_scope: str | None = Field(default=None, min_length=1)
    budget_window_scale: float = Field(default=1.0, gt=0)
    budget_margin_s: float = Field(default=5.0, ge=0)

    def enabled(self, default: bool) -> bool:
        return default if self.shared_budget is None else self.shared_budget

    def config_for(self, tdx: TdxSettings) -> SharedBudgetConfig:
        return SharedBudgetConfig(
            ip_scope=self.budget_ip_scope or socket.gethostname(),
            user_scope=self.budget_user_scope or user_scope_for(tdx),
            window_scale=self.budget_window_scale,
            margin_s=self.budget_margin_s,
        )


@dataclass(frozen=True)
class SharedBudgetTarget:
    """Where the shared budget lives: the database and schema of the event log."""

    dsn: str
    schema: str
    settings: BudgetSettings

    def __repr__(self) -> str:  # the DSN may hold a password
        return f"SharedBudgetTarget(schema={self.schema!r})"

    def budget_for(self, tdx: TdxSettings) -> PostgresRateBudget:
        return PostgresRateBudget(self.dsn, self.schema, self.settings.config_for(tdx))
