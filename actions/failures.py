"""TDX client errors → ``ActionError``: which failures a later attempt may fix.

4xx answers are not retryable (the request is wrong, or forbidden), except 429 (rate limited);
5xx, timeouts and dropped connections are. A write whose outcome is unknown (``AmbiguousWrite``)
becomes ``ActionInDoubt``: retryable, but only after reconciliation.
"""

from __future__ import annotations

from tdxq.tdx.errors import (
    AmbiguousWrite,
    RateLimited,
    ServerError,
    TdxError,
    TransportError,
)

from .protocol import ActionError, ActionInDoubt


def is_retryable(exc: TdxError) -> bool:
    if isinstance(exc, RateLimited | ServerError | TransportError | AmbiguousWrite):
        return True
    if exc.status is not None:
        return exc.status == 429 or exc.status >= 500
    return False


def action_error(exc: TdxError, doing: str) -> ActionError:
    """The ActionError for a TDX failure while ``doing`` (e.g. "posting the comment")."""
    message = f"{doing} failed: {type(exc).__name__}: {exc}"
    if isinstance(exc, AmbiguousWrite):
        return ActionInDoubt(f"{doing}: outcome unknown ({exc.reason}); reconcile before retrying")
    return ActionError(message, retryable=is_retryable(exc))
