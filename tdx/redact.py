"""Scrubbing known secrets out of text that came from elsewhere (e.g. an error body)."""

from __future__ import annotations

import threading

MASK = "[redacted]"
_MIN_SECRET_LENGTH = 4
"""Shorter values are too likely to occur by chance to be worth masking."""


class Redactor:
    """Remembers the secrets in play (credentials, tokens) and masks them in any text."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"

    def add(self, secret: str) -> None:
        if len(secret) >= _MIN_SECRET_LENGTH:
            with self._lock:
                self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, MASK)
        return text
