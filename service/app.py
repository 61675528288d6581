"""The application factory of the central service (`create_app(settings)`).

Nothing happens at import time: the engine, the libraries (signer, verifier, ledger, ca) and the blueprints are
set up when an application is created, and the libraries only on first use. Tests build a fresh app each time.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from typing import Callable

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from service.audit import record_event
from service.database import open_engine
from service.errors import PayloadTooLarge, ServiceError
from service.request_log import service_logger
from service.settings import ServiceSettings

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Runtime:
    """What every request of one application shares: settings, the engine, the clock and the libraries."""

    def __init__(self, settings: ServiceSettings, *, clock: Clock, logger, components=None):
        self.settings = settings
        self.engine = open_engine(settings.database_url)
        self.clock = clock
        self.logger = logger
        self._components = components
        self._components_lock = threading.Lock()

    @property
    def components(self):
        """The libraries wired together (signer, verifier, ledger, ca), built on first use."""
        if self._components is None:
            with self._components_lock:
                if self._components is None:
                    from service.wiring import components_from_settings

                    self._components = components_from_settings(self.settings)
        return self._components

    def audit(self, actor: str, action: str, outcome: str, *, target: str | None = None, detail=None) -> None:
        try:
            remote = request.remote_addr
        except RuntimeError:  # outside a request (CLI, demo)
            remote = None
        record_event(
            self.engine,
            actor=actor,
            action=action,
            outcome=outcome,
            target=target,
            detail=detail,
            remote_addr=remote,
            now=self.clock(),
        )


def create_app(settings: ServiceSettings, *, clock: Clock = system_clock, logger=None, components=None) -> Flask:
    """A new service application for `settings` (its database must be migrated: `service.wiring.migrate_all`).

    `components` (a `service.wiring.Components`) supplies the verifier, the signing environment, the ledger
    and the CA; without it they are built on first use from `settings` (trust roots, TSA URL).
    """
    app = Flask("service", static_folder="static", template_folder="templates")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_NAME="kyso_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=8),
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    runtime = Runtime(settings, clock=clock, logger=logger or service_logger(), components=components)
    app.extensions["kyso"] = runtime

    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)

    from service.request_limits import ChunkedBodyLimit

    app.wsgi_app = ChunkedBodyLimit(app.wsgi_app, limit=settings.max_upload_bytes)  # issue 9: chunked 413
    _install_request_hooks(app, runtime)
    _install_error_handlers(app, runtime)

    from service.api import register_api
    from service.web import register_web

    register_api(app)
    register_web(app)
    if settings.mount_pki and components is not None and components.authority is not None:
        # The CA's own endpoints (certificates, CRLs, OCSP, TSA) at /pki (service/pki.py, the CA's module).
        from service.pki import create_pki_blueprint

        app.register_blueprint(create_pki_blueprint(components.authority))
    return app


def _install_request_hooks(app: Flask, runtime: Runtime) -> None:
    @app.before_request
    def _start():
        g.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.url_value_preprocessor
    def _bounded_identifiers(_endpoint, values):
        # Issue 9, item 11: /documents/<int:...> takes any integer; one beyond 64 bits is a precise 400
        # here, for every route at once, instead of an overflow deep in SQLite or PostgreSQL.
        from service.api.payload import MAX_IDENTIFIER, identifier

        for name, value in (values or {}).items():
            if isinstance(value, int) and name.endswith("_id") and value > MAX_IDENTIFIER:
                identifier(value, name)  # raises the precise 400 (0 stays a lookup that finds nothing)

    @app.after_request
    def _finish(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.path.startswith("/api/") or request.path == "/healthz":
            response.headers.setdefault("Cache-Control", "no-store")
        principal = g.get("principal")
        runtime.logger.info(
            "request",
            extra={
                "fields": {
                    "request_id": g.get("request_id"),
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
                    "principal": principal.label if principal else None,
                    "remote_addr": request.remote_addr,
                }
            },
        )
        return response

    @app.teardown_request
    def _close(_exc):
        session = g.pop("db", None)
        if session is not None:
            session.close()


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz" or request.accept_mimetypes.best == "application/json"


def _install_error_handlers(app: Flask, runtime: Runtime) -> None:
    from service.web.pages import render_error

    def answer(error: ServiceError):
        session = g.get("db")
        if session is not None:
            session.rollback()
        if _wants_json():
            return jsonify(error.to_json()), error.status
        return render_error(error), error.status

    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError):
        return answer(error)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_error):
        limit = runtime.settings.max_upload_bytes
        return answer(
            PayloadTooLarge(
                f"Tệp quá lớn: tối đa {limit} byte", f"upload too large: at most {limit} bytes", detail={"limit": limit}
            )
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        code = (error.name or "error").lower().replace(" ", "_")
        service_error = ServiceError(f"Lỗi HTTP {error.code}: {error.name}", error.description or error.name)
        service_error.status = error.code or 500
        service_error.code = code
        return answer(service_error)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        runtime.logger.error(
            "unhandled error", exc_info=error, extra={"fields": {"request_id": g.get("request_id"), "path": request.path}}
        )
        return answer(
            ServiceError(
                "Lỗi nội bộ của dịch vụ; mã yêu cầu: " + str(g.get("request_id")),
                "internal error; request id: " + str(g.get("request_id")),
            )
        )
