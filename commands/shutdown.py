"""Graceful stop on SIGTERM/SIGINT: finish the current action, record it, exit 0.

A second signal exits at once; the action it interrupts keeps its lease, which expires, and
reconciliation handles it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

log = logging.getLogger("tdxq.shutdown")


class StopFlag:
    """Set by the first SIGTERM/SIGINT; the second one ends the process immediately."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def __call__(self) -> bool:
        return self._event.is_set()

    def set(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self._event.is_set():
            log.warning("second %s: exiting now", signal.Signals(signum).name)
            os._exit(128 + signum)
        log.warning(
            "%s: finishing the current action, then stopping (send again to exit now)",
            signal.Signals(signum).name,
        )
        self._event.set()
