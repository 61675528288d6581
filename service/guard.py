"""Authentication and authorisation of each request: API keys for systems, cookie sessions for people.

A system sends `Authorization: Bearer kyso_...` (or `X-API-Key`). A person logs in on /login and carries a
signed session cookie; every unsafe request made with that cookie must also carry the session's CSRF token
(`X-CSRF-Token` header or `csrf_token` form field), since a browser sends cookies on cross-site requests too.
"""

from __future__ import annotations

import hmac
import secrets

from flask import current_app, g, request, session
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.accounts import Permission, Principal, authenticate_api_key, user_principal
from service.errors import CsrfFailure, Forbidden, Unauthenticated
from service.login_sessions import RevocationReason, open_login_session, revoke_login_session, user_of_session
from service.tables import User

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def runtime():
    """The service's runtime (settings, engine, clock, libraries) of the current application."""
    return current_app.extensions["kyso"]


def db() -> Session:
    """The request's database session (opened on first use, closed at the end of the request)."""
    if "db" not in g:
        g.db = Session(runtime().engine, expire_on_commit=False)
    return g.db


def writing() -> Session:
    """The request's session, in a fresh writer transaction: any read transaction it held is ended first (on
    SQLite a reader that then writes after another connection committed fails at once with "database is
    locked"), and the new one takes the write lock up front."""
    from service.database import write_transaction

    session = db()
    session.commit()
    write_transaction(session)
    return session


def csrf_token() -> str:
    """The CSRF token of the browser session (created on first use)."""
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-API-Key")


def current_principal() -> Principal | None:
    """Who is calling, or None. A wrong API key is an error, never an anonymous call."""
    if "principal" in g:
        return g.principal
    principal = None
    token = _bearer_token()
    if token is not None:
        principal = authenticate_api_key(db(), token)
        g.auth_method = "api_key"
    elif session.get("sid") is not None:
        # Server-side session (service.login_sessions): revoked by logout, password change, deactivation.
        user = user_of_session(db(), session["sid"])
        if user is not None:
            principal = user_principal(user)
            g.auth_method = "session"
        else:
            session.clear()
    elif session.get("uid") is not None:  # a cookie of the former format, bound to no server-side session
        session.clear()
    g.principal = principal
    return principal


def check_csrf() -> None:
    if request.method not in UNSAFE_METHODS or g.get("auth_method") != "session":
        return
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(sent, expected):
        raise CsrfFailure(
            "Thiếu hoặc sai mã chống giả mạo (CSRF); hãy tải lại trang",
            "missing or wrong CSRF token; reload the page",
        )


def require(permission: Permission) -> Principal:
    """The caller, when it may do `permission`; 401 without credentials, 403 without the permission."""
    principal = current_principal()
    if principal is None:
        raise Unauthenticated(
            "Cần đăng nhập hoặc khóa API", "authentication required: an API key or a logged-in session"
        )
    check_csrf()
    db().commit()  # end the authentication's read transaction: the view starts from a fresh snapshot
    if not principal.may(permission):
        runtime().audit(
            principal.label, f"denied:{permission.value}", "forbidden", target=request.path
        )
        raise Forbidden(
            f"Bạn không có quyền '{permission.value}' cho thao tác này",
            f"permission '{permission.value}' is required for this action",
        )
    return principal


def require_any(*permissions: Permission) -> Principal:
    """The caller, when it holds any of `permissions` (reading a document: its clerk or its signer)."""
    principal = current_principal()
    for permission in permissions:
        if principal is not None and principal.may(permission):
            return require(permission)
    return require(permissions[0])


def require_administrator() -> Principal:
    """Certificate administration: a logged-in person with the administrator role (never an API key)."""
    principal = require(Permission.CERTIFICATES)
    if principal.kind != "user":
        raise Forbidden("Chỉ quản trị viên mới được quản lý chứng thư số", "certificate actions need an administrator")
    return principal


def log_in(principal_user: User) -> None:
    """Open a server-side session for the user (committed) and carry only its random id in the cookie."""
    writer = writing()
    session_id = open_login_session(writer, principal_user, now=runtime().clock())
    writer.commit()
    session.clear()
    session["sid"] = session_id
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = True


def log_out() -> None:
    """Revoke the request's server-side session (the old cookie no longer works) and clear the cookie."""
    session_id = session.get("sid")
    if isinstance(session_id, str):
        writer = writing()
        revoke_login_session(writer, session_id, reason=RevocationReason.LOGOUT, now=runtime().clock())
        writer.commit()
    session.clear()


def find_user(username: str) -> User | None:
    return db().scalar(select(User).where(User.username == username))
