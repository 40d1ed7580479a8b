"""Per-endpoint rate-limit budgets.

TDX counts calls per method in fixed windows (reference §3): the first call opens a window, it
resets a fixed time later, and each response of a limited method says ``X-RateLimit-Limit``,
``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (RFC 1123). A budget remembers each
endpoint's window and tells callers to wait *before* sending when it is spent, instead of
provoking a 429.

The budget is a protocol so a later implementation can share it between processes (Postgres).
Every ``before_call`` that returns 0 reserves one call and must be settled by exactly one
``observe`` (a response arrived) or ``release`` (no response).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from .dates import parse_rfc1123

_log = logging.getLogger("tdxq.tdx")

LEARNING_POLL_S = 0.05
"""How often to re-ask while the first call of an unknown endpoint is still in flight."""


@dataclass(frozen=True)
class RateWindow:
    """What one response said about its endpoint's current window."""

    limit: int | None
    remaining: int
    reset_at: float
    """End of the window, epoch seconds."""


def parse_rate_headers(headers: Mapping[str, str]) -> RateWindow | None:
    """Read the three ``X-RateLimit-*`` headers; None when absent or unreadable."""
    remaining = headers.get("X-RateLimit-Remaining")
    reset = headers.get("X-RateLimit-Reset")
    if remaining is None or reset is None:
        return None
    try:
        limit_text = headers.get("X-RateLimit-Limit")
        limit = int(limit_text) if limit_text is not None else None
        return RateWindow(
            limit=limit,
            remaining=max(0, int(remaining)),
            reset_at=parse_rfc1123(reset).timestamp(),
        )
    except ValueError:
        _log.warning("ignoring unreadable X-RateLimit headers")
        return None


class RateBudget(Protocol):
    """Decides whether a call to an endpoint may go now. Must be safe to share between threads."""

    def before_call(self, key: str) -> float:
        """Reserve one call on ``key``'s window and return 0, or return seconds to wait first.

        After waiting, ask again: another caller may have taken the slot meanwhile.
        """
        ...

    def observe(self, key: str, window: RateWindow | None) -> None:
        """Settle a reservation with the response's rate headers (None: the answer had none)."""
        ...

    def release(self, key: str) -> None:
        """Settle a reservation whose call got no answer (connection failed, timed out)."""
        ...


@dataclass
class _EndpointState:
    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None
    in_flight: int = 0
    unlimited: bool = False


class InMemoryRateBudget:
    """A thread-safe budget for one process.

    ``margin_s`` is added past each reset to absorb clock skew and the header's whole-second
    resolution. Calls in flight count against the remaining budget, so N threads sharing a client
    do not overshoot. Until an endpoint's first answer is seen, only one call at a time goes out.
    """

    def __init__(self, *, clock: Callable[[], float], margin_s: float) -> None:
        self._clock = clock
        self._margin_s = margin_s
        self._lock = threading.Lock()
        self._states: dict[str, _EndpointState] = {}

    def __repr__(self) -> str:
        return f"InMemoryRateBudget(endpoints={len(self._states)}, margin_s={self._margin_s})"

    def before_call(self, key: str) -> float:
        with self._lock:
            state = self._states.setdefault(key, _EndpointState())
            now = self._clock()
            if state.reset_at is not None and now >= state.reset_at + self._margin_s:
                # The window has ended; the next one starts with our next call.
                state.remaining = state.limit
                state.reset_at = None
            if state.unlimited:
                state.in_flight += 1
                return 0.0
            if state.remaining is None:
                if state.in_flight == 0:
                    state.in_flight += 1
                    return 0.0
                return LEARNING_POLL_S
            if state.remaining - state.in_flight > 0:
                state.in_flight += 1
                return 0.0
            if state.reset_at is None:
                return LEARNING_POLL_S
            return max(state.reset_at + self._margin_s - now, 0.001)

    def observe(self, key: str, window: RateWindow | None) -> None:
        with self._lock:
            state = self._states.setdefault(key, _EndpointState())
            state.in_flight = max(0, state.in_flight - 1)
            if window is None:
                if state.remaining is None:
                    state.unlimited = True
                return
            state.unlimited = False
            if window.limit is not None:
                state.limit = window.limit
            if state.reset_at is None or window.reset_at > state.reset_at:
                state.remaining = window.remaining
                state.reset_at = window.reset_at
            elif window.reset_at == state.reset_at:
                current = state.remaining if state.remaining is not None else window.remaining
                state.remaining = min(current, window.remaining)
            # An older window's answer arriving late says nothing about the current one.

    def release(self, key: str) -> None:
        with self._lock:
            state = self._states.get(key)
            if state is not None:
                state.in_flight = max(0, state.in_flight - 1)

    def snapshot(self, key: str) -> RateWindow | None:
        """The window currently believed for ``key`` (for logs and tests)."""
        with self._lock:
            state = self._states.get(key)
            if state is None or state.remaining is None or state.reset_at is None:
                return None
            return RateWindow(state.limit, state.remaining, state.reset_at)
