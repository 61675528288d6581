"""The roster as the console uses it: certificate coverage per agency and level (with the people behind each
number, CSV/XLSX), agencies and officials (search, view, edit, deactivate, history) and a preview of a CSV
import that checks every line and stores nothing. Scopes: service/console_access.py. Every change audited."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, request

from service.accounts import Permission
from service.api import payload
from service.audit import list_events
from service.console_access import roster_scope
from service.errors import BadRequest
from service.guard import db, require, runtime
from service.openapi import json_body, json_response, operation
from service.translation import library_errors

blueprint = Blueprint("roster_admin", __name__)

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")  # DOMAIN.md: days and months are Vietnam time


def _today() -> dt.date:
    return runtime().clock().astimezone(HANOI).date()


def _moment(day: dt.date | None) -> dt.datetime:
    """`now` without a day; the last instant of that day in Hanoi with one."""
    if day is None:
        return runtime().clock()
    return dt.datetime.combine(day, dt.time(23, 59, 59), HANOI)


@blueprint.get("/coverage")
@operation(
    "Certificate coverage per level and agency at a day: officials with and without a valid personal certificate, "
    "agencies without a valid seal certificate, certificates expiring within the window, revoked ones, with the "
    "people and certificates behind every number",
    tag="roster", permission="roster",
    parameters=[{"name": "date", "in": "query", "schema": {"type": "string", "format": "date"}},
                {"name": "window_days", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 3650}},
                {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv", "xlsx"]}},
                {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["vi", "en"]}}],
    responses={"200": {"description": "the coverage", "content": {
        "application/json": {}, "text/csv": {},
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}},
        "400": json_response("bad date, window or format")},
)
def coverage():
    from ledger.coverage import coverage_at, render_coverage_csv, render_coverage_xlsx

    scope = roster_scope()
    args = dict(request.args)
    day = payload.date(args, "date", required=False)
    try:
        window = int(args.get("window_days", 60))
    except ValueError:
        window = -1
    if not 0 <= window <= 3650:
        raise BadRequest("'window_days' phải là số nguyên từ 0 đến 3650", "'window_days' must be a whole number from 0 to 3650")
    output = payload.choice(args, "format", ("json", "csv", "xlsx"), default="json")
    lang = payload.choice(args, "lang", ("vi", "en"), default="vi")
    with library_errors():
        report = coverage_at(runtime().components.ledger, at=_moment(day), window_days=window,
                             agency_codes=scope.agencies)
    if output == "json":
        return jsonify(report.to_json())
    name = f"phu-song-chung-thu-{(day or _today()).isoformat()}"
    if output == "csv":
        response = Response(render_coverage_csv(report, lang=lang), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    response = Response(render_coverage_xlsx(report, lang=lang),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


def _agency_json(agency) -> dict:
    return {"code": agency.code, "legacy_code": agency.legacy_code, "name": agency.name, "level": agency.level,
            "parent_code": agency.parent_code, "valid_from": agency.valid_from.isoformat(),
            "valid_until": agency.valid_until.isoformat() if agency.valid_until else None}


@blueprint.get("/roster/agencies")
@operation("Agencies on the roster (a clerk sees their own)", tag="roster", permission="roster",
           parameters=[{"name": "q", "in": "query", "schema": {"type": "string"}}])
def list_agencies():
    from ledger.roster import list_agencies as all_agencies

    scope = roster_scope()
    text = (request.args.get("q") or "").lower()
    with library_errors():
        agencies = [a for a in all_agencies(runtime().components.ledger) if scope.may_read_agency(a.code)
                    and (not text or text in a.code.lower() or text in a.name.lower())]
    return jsonify({"agencies": [_agency_json(a) for a in agencies]})


def _official_json(official, *, now: dt.datetime) -> dict:
    return {
        "id": official.id, "person_id": official.person_id, "identifiers": list(official.identifiers),
        "agency_code": official.agency_code, "full_name": official.full_name, "title": official.title,
        "active_from": official.active_from.isoformat() if official.active_from else None,
        "active_until": official.active_until.isoformat() if official.active_until else None,
        "active": official.is_active_on(now.astimezone(HANOI).date()),
        "has_valid_certificate": any(c.kind == "personal" and c.is_valid_at(now) for c in official.certificates),
        "certificates": [{"serial": c.serial, "kind": c.kind, "not_before": c.not_before.isoformat(),
                          "not_after": c.not_after.isoformat(),
                          "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
                          "revocation_reason": c.revocation_reason, "valid_now": c.is_valid_at(now)}
                         for c in official.certificates],
    }


@blueprint.get("/roster/officials")
@operation("Search officials by name, identifier or title (a clerk sees their own agency)", tag="roster",
           permission="roster",
           parameters=[{"name": "q", "in": "query", "schema": {"type": "string"}},
                       {"name": "agency", "in": "query", "schema": {"type": "string"}}])
def search_officials():
    from ledger.officials import search_officials as search

    scope = roster_scope()
    agency = payload.code(dict(request.args), "agency", required=False)
    if agency is not None:
        scope.require_read(agency)
    elif scope.agencies is not None:
        (agency,) = scope.agencies
    text = payload.text(dict(request.args), "q", required=False, max_length=100)
    with library_errors():
        found = search(runtime().components.ledger, text=text, agency_code=agency)
    now = runtime().clock()
    return jsonify({"officials": [_official_json(o, now=now) for o in found]})


def _readable_official(scope, official_id: int):
    from ledger.officials import get_official

    with library_errors():
        official = get_official(runtime().components.ledger, official_id)
    if not scope.may_read_agency(official.agency_code):
        # Another agency's person: answer as if absent, so a clerk cannot probe who exists elsewhere.
        runtime().audit(scope.principal.label, "denied:roster", "forbidden", target=f"official:{official_id}")
        from service.errors import NotFound

        raise NotFound(f"Không có cán bộ {official_id} trong danh bạ", f"no official {official_id} on the roster")
    return official


@blueprint.get("/roster/officials/<int:official_id>")
@operation("One official: identity, unit, active period, certificates, and the history of changes", tag="roster",
           permission="roster", responses={"200": json_response("the official"), "404": json_response("unknown")})
def view_official(official_id: int):
    scope = roster_scope()
    official = _readable_official(scope, official_id)
    answer = _official_json(official, now=runtime().clock())
    answer["history"] = list_events(db(), limit=200, target=f"official:{official_id}")
    answer["may_edit"] = scope.may_write
    return jsonify(answer)


_EDIT_SCHEMA = {"type": "object", "properties": {
    "title": {"type": "string", "nullable": True}, "agency_code": {"type": "string"},
    "active_from": {"type": "string", "format": "date", "nullable": True},
    "active_until": {"type": "string", "format": "date", "nullable": True}}}


@blueprint.patch("/roster/officials/<int:official_id>")
@operation("Change an official's title, unit or active period (audited with the values before and after)",
           tag="roster", permission="roster", request_body=json_body(_EDIT_SCHEMA),
           responses={"200": json_response("the official after the change"), "400": json_response("refused")})
def edit_official(official_id: int):
    from ledger.officials import UNCHANGED, changed_fields, update_official

    scope = roster_scope()
    official = _readable_official(scope, official_id)
    scope.require_write(official.agency_code)
    data = payload.json_object()
    payload.reject_unknown(data, {"title", "agency_code", "active_from", "active_until"})
    if not data:
        raise BadRequest("Không có thay đổi nào", "nothing to change")
    changes = {}
    if "title" in data:
        changes["title"] = payload.text(data, "title", required=False, max_length=200)
    if "agency_code" in data:
        changes["agency_code"] = payload.code(data, "agency_code")
        scope.require_write(changes["agency_code"])
    for name in ("active_from", "active_until"):
        if name in data:
            changes[name] = payload.date(data, name, required=False)
    return _apply(scope, official_id, "official.update", **{k: changes.get(k, UNCHANGED) for k in
                                                             ("title", "agency_code", "active_from", "active_until")},
                  describe=changed_fields, update=update_official)


def _apply(scope, official_id: int, action: str, *, describe, update, **changes):
    with library_errors():
        before, after = update(runtime().components.ledger, official_id, **changes)
    changed = {name: [_plain(old), _plain(new)] for name, (old, new) in describe(before, after).items()}
    runtime().audit(scope.principal.label, action, "ok", target=f"official:{official_id}",
                    detail={"agency_code": after.agency_code, "changes": changed})
    return jsonify(_official_json(after, now=runtime().clock()))


def _plain(value):
    return value.isoformat() if isinstance(value, dt.date) else value


@blueprint.post("/roster/officials/<int:official_id>/deactivation")
@operation("Deactivate an official: the active period ends on the given day (default today, Hanoi time)",
           tag="roster", permission="roster",
           request_body=json_body({"type": "object", "properties": {"until": {"type": "string", "format": "date"}}}),
           responses={"200": json_response("the official after the change")})
def deactivate_official(official_id: int):
    from ledger.officials import changed_fields, update_official

    scope = roster_scope()
    official = _readable_official(scope, official_id)
    scope.require_write(official.agency_code)
    data = payload.json_object() if request.get_data() else {}
    payload.reject_unknown(data, {"until"})
    until = payload.date(data, "until", required=False) or _today()
    return _apply(scope, official_id, "official.deactivate", active_until=until, describe=changed_fields,
                  update=update_official)


_CSV_BODY = {"required": True, "content": {"text/csv": {"schema": {"type": "string"}},
                                           "multipart/form-data": {"schema": {"type": "object", "properties": {
                                               "file": {"type": "string", "format": "binary"}}}}}}


def _csv_text() -> tuple[str, str]:
    filename, data = payload.uploaded_file()
    try:
        return filename, data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest("Tệp CSV phải mã hóa UTF-8", "the CSV file must be UTF-8 encoded") from exc


@blueprint.post("/roster/agencies/preview")
@operation("Check an agencies CSV line by line and store nothing: the agencies it would add, or every error by "
           "line and column", tag="roster", permission="roster", request_body=_CSV_BODY,
           responses={"200": json_response("what the import would add"),
                      "400": json_response("every problem, by line and column")})
def preview_agencies():
    from ledger import import_agencies_csv

    from service.api.ledger_reports import roster_agency_of

    principal = require(Permission.ROSTER)
    filename, text = _csv_text()
    with library_errors():
        agencies = import_agencies_csv(runtime().components.ledger, text, source=filename, dry_run=True,
                                       within_agency=roster_agency_of(principal))
    return jsonify({"would_import": len(agencies), "agencies": [_agency_json(a) for a in agencies]})


@blueprint.post("/roster/officials/preview")
@operation("Check an officials CSV line by line and store nothing: how many officials it would add, or every "
           "error by line and column", tag="roster", permission="roster", request_body=_CSV_BODY,
           responses={"200": json_response("what the import would add"),
                      "400": json_response("every problem, by line and column")})
def preview_officials():
    from ledger import import_officials_csv

    from service.api.ledger_reports import roster_agency_of

    principal = require(Permission.ROSTER)
    filename, text = _csv_text()
    with library_errors():
        count = import_officials_csv(runtime().components.ledger, text, source=filename, dry_run=True,
                                       within_agency=roster_agency_of(principal))
    return jsonify({"would_import": count})


@blueprint.get("/me/official")
@operation("The roster entry of the logged-in person (an official linked by `official_id`): their certificates",
           tag="roster", permission="sign",
           responses={"200": json_response("the official"), "404": json_response("no roster entry linked")})
def my_official():
    from ledger.officials import get_official
    from service.errors import NotFound

    principal = require(Permission.SIGN)
    if principal.kind != "user" or principal.official_id is None:
        raise NotFound("Tài khoản này không gắn với cán bộ nào trong danh bạ",
                       "this account is not linked to an official on the roster")
    with library_errors():
        official = get_official(runtime().components.ledger, principal.official_id)
    return jsonify(_official_json(official, now=runtime().clock()))
