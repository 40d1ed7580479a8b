"""Keeping a running action's lease alive: a heartbeat thread that renews it while it runs.

A lease says "this worker is on it until then"; once it expires the action is in doubt and
another worker reconciles it. Most actions take well under a second, far less than the lease,
so the heartbeat's first beat comes only after a third of the lease and most actions never
renew. An action that runs long (TDX slow, rate windows to wait out) renews before anyone
could think it dead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Self

log = logging.getLogger("tdxq.lease")

STOP_TIMEOUT_S = 15.0
"""How long ``stop`` waits for a beat in progress (one append, or one reconnect attempt)."""


class Heartbeat:
    """Calls ``beat`` every ``interval_s`` seconds from a daemon thread until stopped, or until
    ``beat`` returns False (the action is no longer ours: nothing left to renew)."""

    def __init__(self, beat: Callable[[], bool], interval_s: float, *, name: str) -> None:
        if interval_s <= 0:
            raise ValueError(f"the heartbeat interval must be positive, got {interval_s}")
        self._beat = beat
        self._interval_s = interval_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.beats = 0

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop beating and wait for a beat in progress, so the caller owns the state again."""
        self._stopped.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(STOP_TIMEOUT_S)
            if self._thread.is_alive():
                log.warning("%s did not stop within %.0f s", self._thread.name, STOP_TIMEOUT_S)

    def _run(self) -> None:
        while not self._stopped.wait(self._interval_s):
            try:
                keep_going = self._beat()
            except Exception:  # a bug in renewing must not take the action down with it
                log.exception("%s: renewing the lease failed; no more renewals", self._thread.name)
                return
            self.beats += 1
            if not keep_going:
                return
