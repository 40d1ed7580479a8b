"""Which failures are retried, and how long to wait between tries (tenacity)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from .errors import RateBudgetExhausted, RateLimited, ServerError, TransportError

_log = logging.getLogger("tdxq.tdx")

RETRYABLE = (RateLimited, ServerError, TransportError)
"""Raised only for calls that are safe to repeat: reads, searches, logins, and writes that were
rejected (429) or never sent. A write with an unknown outcome raises AmbiguousWrite instead."""


def is_retryable(error: BaseException) -> bool:
    """Pure decision: may this failure be followed by another try of the same call?"""
    return isinstance(error, RETRYABLE) and not isinstance(error, RateBudgetExhausted)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    backoff_initial_s: float
    backoff_max_s: float


def make_retrying(policy: RetryPolicy, *, sleep: Callable[[float], None]) -> Retrying:
    """A tenacity controller: bounded tries, jittered exponential backoff, last error re-raised.

    After a 429 the backoff is zero: the rate budget already knows the window's reset and makes
    the next try wait for it.
    """
    jitter = wait_random_exponential(multiplier=policy.backoff_initial_s, max=policy.backoff_max_s)

    def wait(state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and isinstance(outcome.exception(), RateLimited):
            return 0.0
        return float(jitter(state))

    return Retrying(
        stop=stop_after_attempt(policy.max_attempts),
        wait=wait,
        retry=retry_if_exception(is_retryable),
        sleep=sleep,
        reraise=True,
        before_sleep=_log_retry,
    )


def _log_retry(state: RetryCallState) -> None:
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    delay = state.next_action.sleep if state.next_action is not None else 0.0
    _log.info("retrying after %s (attempt %d, waiting %.2f s)", error, state.attempt_number, delay)
