"""Typed errors raised by the TDX client.

Every message names the HTTP method, the path *template* (never a URL with credentials, never a
header or a body we sent) and the status. Text that comes back from TDX is passed through the
client's redactor before it reaches a message.
"""

from __future__ import annotations


class TdxError(Exception):
    """Base of every error the TDX client raises."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status = status


class TdxConfigError(TdxError, ValueError):
    """The client's configuration is missing, contradictory or malformed."""


class AuthError(TdxError):
    """Logging in failed, or TDX kept answering 401 after one re-authentication."""


class Forbidden(TdxError):
    """TDX answered 403: the account may not do this. Re-authenticating will not help."""


class NotFound(TdxError):
    """TDX answered 404: no such object (or the wrong application id or base URL)."""


class BadRequest(TdxError):
    """TDX answered 400. ``tdx_message`` is TDX's ``Message`` (or the raw body text)."""

    def __init__(
        self,
        message: str,
        *,
        tdx_message: str,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, status=status)
        self.tdx_message = tdx_message


class RateLimited(TdxError):
    """TDX kept answering 429, or the budget would make us wait longer than allowed.

    ``reset_at`` is the end of the window as epoch seconds, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        reset_at: float | None = None,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, status=status)
        self.reset_at = reset_at


class RateBudgetExhausted(RateLimited):
    """Waiting for the endpoint's window to reset would take longer than the client allows."""


class ServerError(TdxError):
    """TDX answered 5xx to a call that is safe to retry, and kept doing so."""


class UnexpectedResponse(TdxError):
    """TDX answered with a status or body this client does not understand."""


class TransportError(TdxError):
    """The HTTP exchange itself failed (connect, timeout, dropped connection) for a safe call."""


class AmbiguousWrite(TdxError):
    """A write was sent but its outcome is unknown (timeout, dropped connection, 5xx).

    It is deliberately not retried: TDX may or may not have applied it, so the caller should look
    in TDX for the effect before trying again. ``reason`` is a short redacted description.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        method: str,
        path: str,
        status: int | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, status=status)
        self.reason = reason
