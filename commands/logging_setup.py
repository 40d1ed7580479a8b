"""Logging for long-running commands: level, optional file, and no secrets in any line."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

NOISY_LIBRARIES = ("httpx", "httpcore", "pgserver")
SECRET_VARIABLES = ("TDX_WEB_SERVICES_KEY", "TDX_PASSWORD", "TDX_API_TOKEN", "TDX_BEID")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+(@)")


class RedactSecrets(logging.Filter):
    """Masks known secret values, bearer tokens and URL passwords in every record."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        values = (
            secrets if secrets is not None else [os.environ.get(v, "") for v in SECRET_VARIABLES]
        )
        self._secrets = [v for v in values if len(v) >= 4]

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        text = _BEARER.sub(r"\1***", text)
        return _URL_PASSWORD.sub(r"\1***\2", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def configure_logging(level: str | None, log_file: Path | None = None) -> None:
    """Send tdxq's logs to stderr (and ``log_file``) at ``level``, secrets masked."""
    level = level or os.environ.get("TDXQ_LOG_LEVEL") or "WARNING"
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}: use DEBUG, INFO, WARNING or ERROR")
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    redactor = RedactSecrets()
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in handlers:
        handler.addFilter(redactor)
        handler.setFormatter(formatter)
    logging.basicConfig(level=numeric, handlers=handlers, force=True)
    # Every HTTP request and the embedded server's start/stop chatter are DEBUG material.
    quiet = logging.DEBUG if numeric <= logging.DEBUG else logging.WARNING
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(quiet)
