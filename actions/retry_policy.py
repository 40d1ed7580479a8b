"""When a failed action is tried again: exponential backoff with deterministic jitter.

The jitter comes from a hash of (action key, attempt), not from a random generator, so the
schedule is a pure function: the same failure always yields the same next attempt time, in a
test, in a dry run and in ``tdxq audit why``, while different tickets still spread out.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RetryPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=5, ge=1)  # per series: a retry request starts a new one
    base_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    # The delay is shortened by up to this fraction; 0 disables jitter.
    jitter: float = Field(default=0.25, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _delays_make_sense(self) -> RetryPolicy:
        if self.base_delay <= timedelta(0):
            raise ValueError(f"base_delay must be positive, found {self.base_delay}")
        if self.max_delay < self.base_delay:
            raise ValueError(
                f"max_delay ({self.max_delay}) must not be shorter than base_delay "
                f"({self.base_delay})"
            )
        return self


def backoff_delay(policy: RetryPolicy, attempt: int, key: str) -> timedelta:
    """The wait after the ``attempt``-th failure (1-based, within the series)."""
    if attempt < 1:
        raise ValueError(f"attempt must be at least 1, found {attempt}")
    # Cap the exponent before computing: 2**attempt overflows timedelta long before it matters.
    doublings = min(attempt - 1, 62)
    ceiling = policy.max_delay.total_seconds()
    raw = min(ceiling, policy.base_delay.total_seconds() * float(2**doublings))
    return timedelta(seconds=raw * (1.0 - policy.jitter * _unit(key, attempt)))


def next_attempt_at(policy: RetryPolicy, now: datetime, attempt: int, key: str) -> datetime:
    return now + backoff_delay(policy, attempt, key)


def retry_at(
    policy: RetryPolicy, now: datetime, attempt: int, key: str, *, retryable: bool
) -> datetime | None:
    """The next attempt time to record in ``action_failed``; None when it fails for good
    (not retryable, or the series has used its ``max_attempts``)."""
    if not retryable or attempt >= policy.max_attempts:
        return None
    return next_attempt_at(policy, now, attempt, key)


def _unit(key: str, attempt: int) -> float:
    digest = hashlib.sha256(f"{key}\x00{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64
