"""The console pages of the people who run the programme: coverage, officials and agencies, certificates,
audit. Thin views like pages.py: each checks who is logged in and renders a template; the page's script
calls /api/v1, which checks every right again (service/console_access.py)."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

from service.accounts import Permission
from service.console_access import may_open_console
from service.errors import Forbidden
from service.guard import current_principal
from service.openapi import operation
from service.web.pages import _page

blueprint = Blueprint("console", __name__)

_HTML = {"200": {"description": "HTML page", "content": {"text/html": {}}}}


def console_globals() -> dict:
    """The console's links in the header, for the person logged in (only what they may open)."""
    principal = current_principal()
    links = []
    if may_open_console(principal):
        links += [("console.coverage", "nav.coverage", "nav-coverage"), ("console.officials", "nav.officials", "nav-officials")]
    if principal is not None and principal.may(Permission.CERTIFICATES) and principal.kind == "user":
        links.append(("console.certificates", "nav.certificates", "nav-certificates"))
    if principal is not None and principal.may(Permission.AUDIT):
        links.append(("console.audit", "nav.audit", "nav-audit"))
    if principal is not None and principal.kind == "user" and principal.official_id is not None:
        links.append(("console.me", "nav.me", "nav-me"))
    if principal is not None and principal.kind == "user":
        links.append(("console.accounts", "nav.accounts", "nav-accounts"))
    return {"console_links": links}


def _person(check):
    principal = current_principal()
    if principal is None:
        return None, redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    if not check(principal):
        raise Forbidden("Bạn không có quyền xem trang này", "you may not open this page")
    return principal, None


@blueprint.get("/console/coverage")
@operation("Console: certificate coverage per agency and level, with drill-down and CSV/XLSX", tag="web pages",
           responses=_HTML)
def coverage():
    principal, redirection = _person(may_open_console)
    if redirection:
        return redirection
    return _page("console_coverage.html", day=request.args.get("date", ""))


@blueprint.get("/console/officials")
@operation("Console: officials and agencies (search, view, edit, deactivate, history, CSV import)",
           tag="web pages", responses=_HTML)
def officials():
    principal, redirection = _person(may_open_console)
    if redirection:
        return redirection
    from service.console_access import roster_scope

    scope = roster_scope()
    return _page("console_officials.html", may_write=scope.may_write,
                 may_import=principal.may(Permission.ROSTER), own_agency=principal.agency_code if scope.agencies else "")


@blueprint.get("/console/certificates")
@operation("Console: certificates (list, view, issue from a CSR, renew, revoke, publish a CRL)", tag="web pages",
           responses=_HTML)
def certificates():
    principal, redirection = _person(lambda p: p.may(Permission.CERTIFICATES) and p.kind == "user")
    if redirection:
        return redirection
    from ca.revocation import RevocationReason
    from service.guard import runtime

    authority = runtime().components.authority
    issuers = sorted(authority.issuers) if authority is not None else []
    return _page("console_certificates.html", issuers=issuers, reasons=[r.value for r in RevocationReason])


@blueprint.get("/console/audit")
@operation("Console: the audit trail, filterable by actor, action, agency and date", tag="web pages",
           responses=_HTML)
def audit():
    principal, redirection = _person(lambda p: p.may(Permission.AUDIT))
    if redirection:
        return redirection
    return _page("console_audit.html")


@blueprint.get("/console/accounts")
@operation("Console: your password; for administrators also users (create, role, deactivate, reset link) and API keys",
           tag="web pages", responses=_HTML)
def accounts():
    principal, redirection = _person(lambda p: p.kind == "user")
    if redirection:
        return redirection
    return _page("console_accounts.html", is_admin=principal.may(Permission.USERS))


@blueprint.get("/password-reset")
@operation("Set a new password with a one-time link (?token=)", tag="web pages", responses=_HTML)
def password_reset():
    return _page("console_reset.html", token=request.args.get("token", ""))


@blueprint.get("/console/enrol")
@operation("Console: finish a token enrolment on the official's computer through the bridge (?ticket=)",
           tag="web pages", responses=_HTML)
def enrol():
    principal, redirection = _person(lambda p: p.kind == "user")
    if redirection:
        return redirection
    from service.guard import runtime

    return _page("console_enrol.html", ticket=request.args.get("ticket", ""), bridge_url=runtime().settings.bridge_url)


@blueprint.get("/console/me")
@operation("Console: an official's own certificates and stored signature image", tag="web pages", responses=_HTML)
def me():
    principal, redirection = _person(lambda p: p.kind == "user" and p.official_id is not None)
    if redirection:
        return redirection
    return _page("console_me.html", official_id=principal.official_id)
