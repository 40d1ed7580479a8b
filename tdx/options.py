"""Tuning knobs of the client: timeouts, token renewal, rate-limit margins, retries."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ClientOptions(BaseModel):
    """Defaults suit a real tenant; tests pass smaller margins and waits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    connect_timeout_s: float = Field(default=10.0, gt=0)
    read_timeout_s: float = Field(default=60.0, gt=0)
    write_timeout_s: float = Field(default=30.0, gt=0)
    pool_timeout_s: float = Field(default=10.0, gt=0)

    token_refresh_margin_s: float = Field(
        default=300.0, ge=0, description="renew the token this long before it expires"
    )
    rate_limit_margin_s: float = Field(
        default=5.0,
        ge=0,
        description="wait this long past X-RateLimit-Reset (clock skew; TDX advises 5 s)",
    )
    max_rate_limit_wait_s: float = Field(
        default=600.0, gt=0, description="raise RateLimited rather than wait longer than this"
    )
    max_attempts: int = Field(default=4, ge=1, description="tries per call, the first included")
    backoff_initial_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
