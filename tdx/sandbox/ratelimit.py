"""TDX's rate limits: per method, fixed windows that start at the first call, counted per
IP address or per user; the three `X-RateLimit-*` headers on every answer of a limited method."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .dates import rfc1123

Scope = Literal["ip", "user"]


@dataclass(frozen=True)
class RateLimit:
    calls: int
    window_s: float
    scope: Scope


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # epoch seconds when the window ends (not rounded)


def reset_header_time(reset_at: float) -> int:
    """RFC 1123 has whole seconds: round up, so that a client waiting until the header's time
    never arrives before the window has really ended."""
    return math.ceil(reset_at)


def rate_limit_headers(decision: RateDecision) -> list[tuple[str, str]]:
    return [
        ("X-RateLimit-Limit", str(decision.limit)),
        ("X-RateLimit-Remaining", str(decision.remaining)),
        ("X-RateLimit-Reset", rfc1123(reset_header_time(decision.reset_at))),
    ]


class FixedWindowLimiter:
    """Counts calls per (method, IP-or-user). `window_scale` shrinks every window (0.05 turns
    60 s into 3 s) and keeps the counts, so budget behaviour can be tested in seconds."""

    def __init__(self, clock: Callable[[], float], window_scale: float = 1.0) -> None:
        if window_scale <= 0:
            raise ValueError(f"rate window scale must be positive, got {window_scale}")
        self._clock = clock
        self._scale = window_scale
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}

    @property
    def window_scale(self) -> float:
        return self._scale

    def hit(self, method: str, who: str, limit: RateLimit) -> RateDecision:
        now = self._clock()
        window = limit.window_s * self._scale
        key = (method, who)
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now >= start + window or now < start:
                start, count = now, 0
            allowed = count < limit.calls
            if allowed:
                count += 1
            self._windows[key] = (start, count)
        return RateDecision(
            allowed=allowed,
            limit=limit.calls,
            remaining=max(0, limit.calls - count),
            reset_at=start + window,
        )

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
