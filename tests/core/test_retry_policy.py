from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from tdxq.actions.retry_policy import RetryPolicy, backoff_delay, next_attempt_at, retry_at

from .builders import T0

POLICY = RetryPolicy(
    base_delay=timedelta(seconds=30), max_delay=timedelta(minutes=10), jitter=0.25, max_attempts=5
)


def test_the_same_failure_always_gets_the_same_next_attempt_time() -> None:
    first = next_attempt_at(POLICY, T0, 2, "ticket:1/add_asset:x:v1")
    assert first == next_attempt_at(POLICY, T0, 2, "ticket:1/add_asset:x:v1")
    others = {next_attempt_at(POLICY, T0, 2, f"ticket:{n}/add_asset:x:v1") for n in range(20)}
    assert len(others) > 15  # jitter spreads tickets apart


def test_delays_double_within_the_jitter_band_and_stop_at_the_cap() -> None:
    for attempt, nominal in [
        (1, 30),
        (2, 60),
        (3, 120),
        (4, 240),
        (5, 480),
        (6, 600),
        (40, 600),
        (10_000, 600),
    ]:
        delay = backoff_delay(POLICY, attempt, "k").total_seconds()
        assert nominal * 0.75 <= delay <= nominal, (attempt, delay)


def test_no_jitter_gives_the_plain_exponential() -> None:
    plain = POLICY.model_copy(update={"jitter": 0.0})
    assert backoff_delay(plain, 3, "k") == timedelta(seconds=120)


def test_retry_at_is_none_when_not_retryable_or_the_series_is_used_up() -> None:
    assert retry_at(POLICY, T0, 1, "k", retryable=False) is None
    assert retry_at(POLICY, T0, 5, "k", retryable=True) is None
    at = retry_at(POLICY, T0, 4, "k", retryable=True)
    assert at is not None and at > T0


def test_bad_policies_and_attempts_are_rejected_clearly() -> None:
    with pytest.raises(ValidationError, match="max_delay"):
        RetryPolicy(base_delay=timedelta(minutes=5), max_delay=timedelta(minutes=1))
    with pytest.raises(ValidationError, match="base_delay must be positive"):
        RetryPolicy(base_delay=timedelta(0))
    with pytest.raises(ValidationError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="attempt must be at least 1"):
        backoff_delay(POLICY, 0, "k")


def test_defaults_and_plain_seconds_from_config() -> None:
    policy = RetryPolicy.model_validate({"base_delay": 10, "max_delay": 120})
    assert policy.base_delay == timedelta(seconds=10)
    assert RetryPolicy().max_attempts == 5
