"""Errors the sandbox answers with, and the connection faults it raises instead of answering."""

from __future__ import annotations


class ApiError(Exception):
    """An answer with a TDX-style error body: `{"Message": ...}` and an HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


class ConnectionFault(Exception):
    """Raised by the app instead of answering; the server or the transport turns it into
    what a real network would show (a closed socket, or a connection that never answers)."""


class DroppedConnection(ConnectionFault):
    """Close the connection without sending any answer."""


class HungConnection(ConnectionFault):
    """Send nothing for `hang_seconds`, then close: a client with a shorter read timeout
    sees a timeout."""

    def __init__(self, hang_seconds: float) -> None:
        super().__init__(f"hang for {hang_seconds}s")
        self.hang_seconds = hang_seconds
