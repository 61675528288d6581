"""The web pages. Thin views: check who is logged in, render a template; the pages' scripts call /api/v1
with the session cookie and the CSRF token, so the pages hold no logic the API does not check again."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, g, make_response, redirect, render_template, request, session, url_for

from service.accounts import Permission, Role, authenticate_password
from service.audit import failed_login_actor
from service.errors import ServiceError, TooManyRequests, Unauthenticated
from service.guard import check_csrf, csrf_token, current_principal, db, find_user, log_in, log_out, runtime, writing
from service.throttling import account_subject, address_subject, record_login_failure, record_login_success, require_login_allowed
from service.openapi import operation
from service.web.messages import LANGUAGES, catalogue, translate

blueprint = Blueprint("web", __name__)


def language() -> str:
    if "language" in g:
        return g.language
    chosen = request.args.get("lang") or request.cookies.get("kyso_lang") or runtime().settings.default_language
    g.language = chosen if chosen in LANGUAGES else "vi"
    return g.language


def template_globals() -> dict:
    lang = language()
    return {
        "lang": lang,
        "t": lambda key: translate(key, lang),
        "messages": catalogue(lang),
        "csrf_token": csrf_token,
        "principal": g.get("principal"),
        "other_language": "en" if lang == "vi" else "vi",
    }


def _page(template: str, **context):
    response = make_response(render_template(template, **context))
    if request.args.get("lang") in LANGUAGES:
        response.set_cookie("kyso_lang", request.args["lang"], max_age=365 * 86400, samesite="Lax")
    # The pages load nothing from elsewhere (no CDN: the city network may have no internet) and
    # talk only to this service and the loopback token bridge.
    bridge = runtime().settings.bridge_url
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        f"connect-src 'self' {bridge}; frame-src 'self'; object-src 'self'; frame-ancestors 'self'"
    )
    return response


def render_error(error: ServiceError):
    return render_template("error.html", error=error)


def _login_required(permission: Permission):
    principal = current_principal()
    if principal is None:
        return None, redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    if not principal.may(permission):
        from service.errors import Forbidden

        raise Forbidden(
            f"Bạn không có quyền '{permission.value}' để xem trang này",
            f"permission '{permission.value}' is required for this page",
        )
    return principal, None


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link borrow our login page.
    if not target or not target.startswith("/") or target.startswith("//") or urlparse(target).netloc:
        return url_for("web.home")
    return target


@blueprint.get("/")
@operation("Home: redirects to the page the caller may use", tag="web pages", responses={"302": {"description": "redirect"}})
def home():
    principal = current_principal()
    if principal is None:
        return redirect(url_for("web.login"))
    if principal.may(Permission.REPORTS):
        return redirect(url_for("web.dashboard"))
    if principal.may(Permission.SIGN):
        return redirect(url_for("web.sign"))
    return redirect(url_for("web.verify"))


@blueprint.get("/login")
@operation("Login page (Vietnamese, ?lang=en)", tag="web pages", responses={"200": {"description": "HTML page", "content": {"text/html": {}}}})
def login():
    return _page("login.html", next=request.args.get("next", ""), failed=False)


@blueprint.post("/login")
@operation("Log in (form: username, password, csrf_token)", tag="web pages", responses={"302": {"description": "redirect"}})
def login_submit():
    sent = request.form.get("csrf_token", "")
    if not session.get("csrf") or sent != session.get("csrf"):
        from service.errors import CsrfFailure

        raise CsrfFailure("Phiên đăng nhập đã hết hạn; hãy thử lại", "login form expired; try again")
    username = request.form.get("username", "")
    # Throttled per account and per client address (service.throttling); a refused attempt runs no scrypt.
    subjects = [account_subject(username), address_subject(request.remote_addr or "unknown")]
    now = runtime().clock()
    try:
        require_login_allowed(db(), subjects, now=now)
    except TooManyRequests:
        runtime().audit("user:?", "login", "throttled")
        raise
    try:
        principal = authenticate_password(db(), username, request.form.get("password", ""))
    except Unauthenticated:
        from sqlalchemy.exc import IntegrityError

        for attempt in (1, 2):  # a parallel first failure may insert the same throttle row: count again
            writer = writing()
            try:
                record_login_failure(writer, subjects, now=now)
                writer.commit()
                break
            except IntegrityError:
                writer.rollback()
                if attempt == 2:
                    raise
        runtime().audit(failed_login_actor(username, known=len(username) <= 64 and find_user(username) is not None,
                                           secret=runtime().settings.secret_key), "login", "failed")
        return _page("login.html", next=request.form.get("next", ""), failed=True), 401
    record_login_success(writing(), principal.name)
    log_in(find_user(principal.name))
    runtime().audit(principal.label, "login", "ok")
    return redirect(_safe_next(request.form.get("next")))


@blueprint.post("/logout")
@operation("Log out (form: csrf_token)", tag="web pages", responses={"302": {"description": "redirect"}})
def logout():
    principal = current_principal()
    g.auth_method = "session"
    check_csrf()
    log_out()
    if principal is not None:
        runtime().audit(principal.label, "logout", "ok")
    return redirect(url_for("web.login"))


@blueprint.get("/dashboard")
@operation("Dashboard: monthly rates against targets, with drill-down", tag="web pages", responses={"200": {"description": "HTML page", "content": {"text/html": {}}}})
def dashboard():
    principal, redirection = _login_required(Permission.REPORTS)
    if redirection:
        return redirection
    return _page("dashboard.html", month=request.args.get("month", ""))


@blueprint.get("/sign")
@operation("Signing page: sign a registered document through the token bridge", tag="web pages", responses={"200": {"description": "HTML page", "content": {"text/html": {}}}})
def sign():
    principal, redirection = _login_required(Permission.SIGN)
    if redirection:
        return redirection
    return _page("sign.html", bridge_url=runtime().settings.bridge_url,
                 is_clerk=Role.CLERK in principal.roles or Role.ADMINISTRATOR in principal.roles)


@blueprint.get("/verify")
@operation("Verification page: drop a file, read the report", tag="web pages", responses={"200": {"description": "HTML page", "content": {"text/html": {}}}})
def verify():
    principal, redirection = _login_required(Permission.VALIDATE)
    if redirection:
        return redirection
    return _page("verify.html")


@blueprint.get("/bridge/kyso-bridge.js")
@operation("The token bridge's browser client (kyso-bridge.js)", tag="web pages",
           responses={"200": {"description": "JavaScript", "content": {"text/javascript": {}}}})
def bridge_script():
    """The token bridge's own JavaScript client (engineer 2's kyso-bridge.js), served from this origin."""
    from service.wiring import bridge_javascript

    response = make_response(bridge_javascript())
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    return response
