"""In-process use: an httpx transport into the sandbox app. Faults that mean "no answer"
surface as the exceptions a real network gives, without really waiting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from .errors import DroppedConnection, HungConnection

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


class SandboxTransport(httpx.BaseTransport):
    """`httpx.Client(transport=SandboxTransport(app))`; `remote_addr` is the client IP the
    sandbox sees (rate windows of per-IP methods are counted per address)."""

    def __init__(self, app: WSGIApplication | Any, remote_addr: str = "127.0.0.1") -> None:
        self._inner = httpx.WSGITransport(app=app, remote_addr=remote_addr)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._inner.handle_request(request)
        except DroppedConnection:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None
        except HungConnection:
            raise httpx.ReadTimeout("The read operation timed out", request=request) from None

    def close(self) -> None:
        self._inner.close()
