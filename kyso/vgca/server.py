"""The WebSocket server of the plugin endpoint: `wss://127.0.0.1:<vgca_port>/<Endpoint>`.

`websockets` (its threaded `sync` server) speaks RFC 6455 and TLS; this module adds the bridge's rules at the
handshake, before any work: the Host must name this server (DNS rebinding), the Origin must be in
`allowed_origins` (a browser always sends it; a local application without one is allowed, and still needs
the user's consent), and the path must be a known endpoint. A refused handshake answers an HTTP error whose
body is the plugin's JSON (`Status`, `Message`) and leaves an audit record. After the handshake, one text
frame is read (within `FRAME_TIMEOUT` seconds), answered with one JSON text frame, and the socket closed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Response
from websockets.sync.server import ServerConnection, serve

from kyso.vgca.plugin import Caller, PluginEndpoint
from kyso.vgca.protocol import Endpoint, PluginError, PluginStatus, encode

DEFAULT_VGCA_PORT = 8987
FRAME_TIMEOUT = 30.0
MAX_FRAME_BYTES = 1_048_576  # a request is a small JSON object: documents travel by URL, not in the frame


@dataclass(frozen=True)
class ServerSettings:
    port: int = DEFAULT_VGCA_PORT
    host: str = "127.0.0.1"
    allowed_origins: frozenset[str] = frozenset()

    @property
    def host_headers(self) -> frozenset[str]:
        return frozenset({f"127.0.0.1:{self.port}", f"localhost:{self.port}"})


def _http_refusal(status: int, plugin_status: PluginStatus, message: str) -> Response:
    body = encode({"Status": int(plugin_status), "Message": message}).encode("utf-8")
    headers = Headers([("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body))),
                       ("Connection", "close"), ("Cache-Control", "no-store")])
    reason = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 421: "Misdirected Request"}[status]
    return Response(status, reason, headers, body)


class PluginServer:
    """Serve `endpoint` over TLS on loopback until `stop()`."""

    def __init__(self, endpoint: PluginEndpoint, settings: ServerSettings, *, ssl_context, audit):
        self.endpoint = endpoint
        self.settings = settings
        self.audit = audit  # token_bridge.audit.AuditLog: refused handshakes are recorded there
        self._server = serve(self._handle, settings.host, settings.port, ssl=ssl_context,
                             process_request=self._check, max_size=MAX_FRAME_BYTES, compression=None,
                             server_header="kyso-bridge", open_timeout=10)
        self.port = self._server.socket.getsockname()[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"wss://127.0.0.1:{self.port}"

    def _refuse(self, request, status: int, plugin_status: PluginStatus, code: str, message: str) -> Response:
        headers = request.headers
        self.audit.record_refused_request(
            origin=", ".join(headers.get_all("Origin")) or None,
            client=", ".join(headers.get_all("User-Agent"))[:200], method="GET",
            path=request.path[:200], host=", ".join(headers.get_all("Host"))[:200], error_code=code,
            message=message.split(" / ")[-1],
        )
        return _http_refusal(status, plugin_status, message)

    def _check(self, connection: ServerConnection, request):
        hosts = request.headers.get_all("Host")
        host = ", ".join(hosts).lower()  # two Host headers are as foreign as a wrong one
        if len(hosts) != 1 or host not in self.settings.host_headers:
            return self._refuse(request, 421, PluginStatus.ORIGIN_REFUSED, "host_refused",
                                f"Host '{host[:100]}' không phải là cầu nối này / Host '{host[:100]}' does not "
                                f"name this bridge")
        origins = request.headers.get_all("Origin")
        origin = ", ".join(origins) if origins else None
        if origin is not None and (len(origins) != 1 or origin.lower() not in self.settings.allowed_origins):
            return self._refuse(request, 403, PluginStatus.ORIGIN_REFUSED, "origin_refused",
                                f"trang '{origin[:200]}' không được phép dùng cầu nối ký số này / origin "
                                f"'{origin[:200]}' is not allowed to use this bridge")
        try:
            Endpoint.from_path(request.path)
        except PluginError as error:
            return self._refuse(request, 404, error.status, "unknown_endpoint", error.message)
        return None

    def _handle(self, connection: ServerConnection) -> None:
        request = connection.request
        endpoint = Endpoint.from_path(request.path)  # checked at the handshake
        caller = Caller(origin=(request.headers.get("Origin") or "").lower() or None,
                        client=(request.headers.get("User-Agent") or "")[:200])
        try:
            frame = connection.recv(timeout=FRAME_TIMEOUT)
        except TimeoutError:
            connection.send(encode(PluginError(PluginStatus.MALFORMED_REQUEST,
                                               "không nhận được yêu cầu / no request frame arrived").to_answer()))
            connection.close()
            return
        except ConnectionClosed:
            return
        if isinstance(frame, bytes):
            answer = PluginError(PluginStatus.MALFORMED_REQUEST,
                                 "yêu cầu phải là khung văn bản / the request must be a text frame").to_answer()
        else:
            try:
                answer = self.endpoint.answer(endpoint, frame, caller)
            except Exception as exc:  # noqa: BLE001 - one bad request must not end the server; say what failed
                answer = PluginError(PluginStatus.SIGNING_FAILED,
                                     f"lỗi không mong đợi / unexpected error: {type(exc).__name__}").to_answer()
        try:
            connection.send(encode(answer))
            connection.close()
        except ConnectionClosed:
            pass

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="kyso-vgca", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=10)
