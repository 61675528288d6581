"""The bridge's loopback HTTP API (the only Flask in token_bridge): tokens, certificates, signatures.

DESIGN.md contract: `GET /v1/tokens`, `GET /v1/certificates`, `POST /v1/signatures`
(`{certificate_id, digest, digest_algorithm, signature_algorithm, description}` -> `{signature, certificate,
chain}`, base64 DER). Also `GET /v1/status`, `GET /kyso-bridge.js` (the browser client), and enrolment:
`POST /v1/enrolments/keys` and `POST /v1/enrolments/certificates` (token_bridge/enrolment.py).

Who may call (issue 3):
- the Host header must name this bridge (127.0.0.1 / localhost / [::1] and its port): a DNS-rebinding page
  whose name resolves to 127.0.0.1 sends its own name and is refused (421);
- a request with an `Origin` must come from a configured origin (403 otherwise, without CORS headers, so
  the page cannot read anything); a browser request without an Origin (Sec-Fetch-* headers present) is
  refused too; local applications (no Origin, no Sec-Fetch-*) may call it, and every signature still
  needs the user's consent;
- preflights answer CORS and Private Network Access (`Access-Control-Allow-Private-Network: true`);
- bodies above `max_body_bytes` get 413; POST bodies must be `application/json` (415 otherwise).
Answers carry no secrets: no PIN ever reaches this layer.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from token_bridge import __version__
from token_bridge.errors import TokenBridgeError
from token_bridge.settings import BridgeSettings
from token_bridge.signing import Bridge, Requester, SignatureRequest

_PUBLIC_PATHS = ("/kyso-bridge.js",)
_BROWSER_HEADERS = ("Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest")


def _error(status: int, code: str, en: str, vi: str, **extra) -> Response:
    response = jsonify({"error": {"code": code, "message": en, "message_vi": vi, **extra}})
    response.status_code = status
    return response


def _refuse(bridge: Bridge, status: int, code: str, en: str, vi: str) -> Response:
    bridge.audit.record_refused_request(
        origin=request.headers.get("Origin"), client=request.headers.get("User-Agent", "")[:200],
        method=request.method, path=request.path[:200], host=(request.headers.get("Host") or "")[:200],
        error_code=code, message=en,
    )
    return _error(status, code, en, vi)


def bridge_javascript() -> bytes:
    return resources.files("token_bridge").joinpath("static/kyso-bridge.js").read_bytes()


def create_app(bridge: Bridge, settings: BridgeSettings) -> Flask:
    """The WSGI application of the bridge (Flask application factory: no work at import time)."""
    app = Flask("token_bridge")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.ensure_ascii = False
    allowed_hosts = settings.host_headers
    allowed_origins = settings.allowed_origins

    @app.before_request
    def guard():
        host = (request.headers.get("Host") or "").lower()
        if host not in allowed_hosts:
            return _refuse(
                bridge,
                421,
                "host_refused",
                f"Host '{host}' does not name this bridge; use {settings.base_url}.",
                f"Host '{host}' không phải là cầu nối này; hãy dùng {settings.base_url}.",
            )
        origin = request.headers.get("Origin")
        if origin is not None:
            if origin.lower() not in allowed_origins:
                return _refuse(
                    bridge,
                    403,
                    "origin_refused",
                    f"Origin '{origin}' is not allowed to use this token bridge.",
                    f"Trang '{origin}' không được phép dùng cầu nối ký số này.",
                )
        elif request.path not in _PUBLIC_PATHS and any(h in request.headers for h in _BROWSER_HEADERS):
            return _refuse(
                bridge,
                403,
                "origin_required",
                "A browser request without an allowed Origin is refused.",
                "Yêu cầu từ trình duyệt không có Origin được phép sẽ bị từ chối.",
            )
        if request.method == "OPTIONS":
            return _preflight(origin)
        if request.method == "POST" and not request.is_json:
            return _error(
                415,
                "unsupported_media_type",
                "The body must be JSON (Content-Type: application/json).",
                "Nội dung phải là JSON (Content-Type: application/json).",
            )
        return None

    def _preflight(origin: str | None) -> Response:
        method = request.headers.get("Access-Control-Request-Method", "")
        if origin is None or method not in ("GET", "POST"):
            return _error(
                403,
                "preflight_refused",
                f"Preflight for method '{method}' is refused.",
                f"Yêu cầu kiểm tra trước cho phương thức '{method}' bị từ chối.",
            )
        response = Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
        # Private Network Access: a public page may reach this loopback server only when it says yes.
        if request.headers.get("Access-Control-Request-Private-Network", "").lower() == "true":
            response.headers["Access-Control-Allow-Private-Network"] = "true"
        return response

    @app.after_request
    def headers(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() in allowed_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
        response.headers.add("Vary", "Origin")
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.errorhandler(TokenBridgeError)
    def bridge_error(error: TokenBridgeError):
        response = jsonify({"error": error.to_json()})
        response.status_code = error.http_status
        return response

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error):
        return _error(
            413,
            "body_too_large",
            f"The body is larger than {settings.max_body_bytes} bytes.",
            f"Nội dung lớn hơn {settings.max_body_bytes} byte.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return _error(error.code or 500, "http_error", f"{error.code} {error.name}", f"{error.code} {error.name}")

    def requester() -> Requester:
        return Requester(origin=request.headers.get("Origin"), client=request.headers.get("User-Agent", "")[:200])

    @app.get("/v1/status")
    def status():
        return jsonify({"status": "ok", "version": __version__})

    @app.get("/v1/tokens")
    def tokens():
        return jsonify({
            "tokens": [t.to_json() for t in bridge.tokens()],
            "slots": [s.to_json() for s in bridge.slots()],  # also readers with an uninitialised token
        })

    @app.get("/v1/certificates")
    def certificates():
        return jsonify({"certificates": [c.to_json() for c in bridge.certificates()]})

    @app.post("/v1/signatures")
    def signatures():
        body = request.get_json(silent=True)
        if body is None:
            return _error(400, "invalid_request", "The body is not valid JSON.", "Nội dung không phải JSON hợp lệ.")
        parsed = SignatureRequest.from_json(body)
        result = bridge.sign(parsed, requester=requester())
        return jsonify(result.to_json())

    # Enrolment (issue 13, token_bridge/enrolment.py): key pair and CSR on the token, then the certificate back.
    from token_bridge.enrolment import CertificateDelivery, Enrolment, KeyRequest

    enrolment = Enrolment(bridge)

    @app.post("/v1/enrolments/keys")
    def enrolment_keys():
        body = request.get_json(silent=True)
        if body is None:
            return _error(400, "invalid_request", "The body is not valid JSON.", "Nội dung không phải JSON hợp lệ.")
        return jsonify(enrolment.generate(KeyRequest.from_json(body), requester=requester()))

    @app.post("/v1/enrolments/certificates")
    def enrolment_certificates():
        body = request.get_json(silent=True)
        if body is None:
            return _error(400, "invalid_request", "The body is not valid JSON.", "Nội dung không phải JSON hợp lệ.")
        return jsonify(enrolment.deliver(CertificateDelivery.from_json(body), requester=requester()))

    @app.get("/kyso-bridge.js")
    def javascript():
        return Response(bridge_javascript(), mimetype="application/javascript")

    return app


class BridgeServer:
    """The app served by waitress on every configured loopback address (HTTP/1.1 keep-alive, threads).

    waitress rather than werkzeug's development server: it keeps connections alive (werkzeug closes
    each one), and it runs on the Windows computers most officials use.
    """

    def __init__(self, app: Flask, settings: BridgeSettings, *, threads: int = 4):
        import waitress

        self.settings = settings
        self.skipped: list[tuple[str, str]] = []  # (host, reason) for addresses this machine lacks
        listen = []
        self.addresses: list[str] = []
        for host in settings.hosts:
            if ":" in host:
                if not _ipv6_loopback_available():
                    self.skipped.append((host, "no IPv6 loopback on this machine"))
                    continue
                listen.append(f"[{host}]:{settings.port}")
                self.addresses.append(f"http://[{host}]:{settings.port}")
            else:
                listen.append(f"{host}:{settings.port}")
                self.addresses.append(f"http://{host}:{settings.port}")
        self._server = waitress.create_server(
            app,
            listen=" ".join(listen),
            threads=threads,
            ident="kyso-bridge",
            # Flask answers oversized bodies with JSON (413); waitress is the hard stop behind it.
            max_request_body_size=settings.max_body_bytes * 4,
            expose_tracebacks=False,
            clear_untrusted_proxy_headers=True,
        )
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="kyso-bridge", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # waitress's own run() loops until its sockets close; closing them from another thread breaks its
        # select() (EBADF). Loop in short turns instead and close from this thread when asked to stop.
        from waitress import wasyncore

        socket_map = getattr(self._server, "map", None) or self._server._map
        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=0.2, map=socket_map, use_poll=True, count=1)
        finally:
            self._server.task_dispatcher.shutdown()
            wasyncore.close_all(socket_map)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wait(self) -> None:
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)


@contextmanager
def serving(bridge: Bridge, settings: BridgeSettings) -> Iterator[BridgeServer]:
    server = BridgeServer(create_app(bridge, settings), settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False
