"""Serving the sandbox over real HTTP: a threaded wsgiref server with HTTP/1.1 keep-alive,
bound to loopback by default, in a background thread. Connection faults really close the
socket (after holding it silent, for a "timeout")."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import sys
import threading
from types import TracebackType
from typing import IO, Any, cast
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from .app import SandboxApp
from .errors import ConnectionFault, HungConnection

IDLE_CONNECTION_TIMEOUT_S = 60.0


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily) -> None:
        self.address_family = family
        self.stopping = threading.Event()
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve the host name (getfqdn), which can stall.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()

    def track(self, connection: socket.socket) -> None:
        with self._open_lock:
            self._open.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._open_lock:
            self._open.discard(connection)

    def close_connections(self) -> None:
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(ServerHandler):
    http_version = "1.1"
    os_environ: dict[str, str] = {}  # noqa: RUF012 - keep the process environment out of requests
    fault: ConnectionFault | None = None
    request_handler: WSGIRequestHandler  # wsgiref logs through this back-pointer

    def handle_error(self) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionFault):
            self.fault = error  # answer nothing; the request handler closes the socket
            return
        super().handle_error()


class _RequestHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_CONNECTION_TIMEOUT_S
    # Buffer each answer and send it without Nagle's delay: wsgiref writes the status line,
    # headers and body separately, which otherwise costs ~40 ms per call (delayed ACKs).
    wbufsize = 64 * 1024
    server: _Server

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the sandbox's own counters and write log say what happened."""

    def handle(self) -> None:
        self.server.track(self.connection)
        try:
            self.close_connection = True
            self._handle_one()
            while not self.close_connection and not self.server.stopping.is_set():
                self._handle_one()
        except OSError:  # idle timeout, reset by peer, or shut down by close()
            self.close_connection = True
        finally:
            self.server.untrack(self.connection)

    def _handle_one(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            self.close_connection = True
            return
        if not self.parse_request():
            return
        app = self.server.get_app()
        assert app is not None
        handler = _Handler(
            self.rfile,
            cast(IO[bytes], self.wfile),
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
        )
        handler.request_handler = self
        handler.run(app)
        if handler.fault is None:
            self.wfile.flush()
        else:
            self.close_connection = True
            if isinstance(handler.fault, HungConnection):
                self.server.stopping.wait(handler.fault.hang_seconds)
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)


class SandboxServer:
    """A running sandbox: `base_url` is what a TDX client is configured with."""

    def __init__(self, app: SandboxApp, host: str = "127.0.0.1", port: int = 0) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.app = app
        self._server = _Server((host, port), family)
        self._server.set_app(app)
        bound_host, bound_port = self._server.server_address[:2]
        self.host = str(bound_host)
        self.port = int(bound_port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"tdx-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        self._closed = False

    @property
    def root_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + self.app.base_path

    @property
    def base_urls(self) -> list[str]:
        return [self.root_url + prefix for prefix in self.app.config.api_prefixes]

    @property
    def web_url_base(self) -> str:
        return self.app.settings.web_url_base(self.root_url)

    def wait(self, timeout: float | None = None) -> None:
        """Block until the server stops (the CLI waits here; Ctrl-C interrupts)."""
        self._thread.join(timeout)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SandboxServer({self.base_url})"


def serve(app: SandboxApp, host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
    """Start serving `app` in a background thread; port 0 picks a free port."""
    return SandboxServer(app, host, port)
