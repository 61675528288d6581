"""Administration: user accounts, API keys and the audit trail. Every write is authorised and audited."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from service import stamp_images
from service.accounts import (
    Permission,
    change_password,
    create_api_key,
    create_user,
    deactivate_user,
    is_password_correct,
    parse_roles,
    parse_scopes,
)
from service.api import payload
from service.audit import list_events
from service.errors import BadRequest, Forbidden, NotFound, Unauthenticated
from service.guard import check_csrf, current_principal, db, require, runtime, writing
from service.openapi import json_body, json_response, operation
from service.tables import ApiKey, User

blueprint = Blueprint("administration", __name__)

_USER_SCHEMA = {
    "type": "object",
    "required": ["username", "password", "roles"],
    "properties": {
        "username": {"type": "string"},
        "password": {"type": "string", "minLength": 10},
        "roles": {"type": "array", "items": {"type": "string", "enum": ["administrator", "clerk", "official", "auditor"]}},
        "display_name": {"type": "string"},
        "agency_code": {"type": "string"},
        "official_id": {"type": "integer", "description": "the roster official this person is (their signature image)"},
    },
}


def _string_list(data: dict, name: str) -> list[str]:
    value = data.get(name)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadRequest(f"Trường '{name}' phải là danh sách chuỗi", f"field '{name}' must be a list of strings")
    return value


@blueprint.post("/users")
@operation("Create a user account", tag="administration", permission="users", request_body=json_body(_USER_SCHEMA),
           responses={"201": json_response("the account (without its password)")})
def add_user():
    principal = require(Permission.USERS)
    data = payload.json_object()
    payload.reject_unknown(data, {"username", "password", "roles", "display_name", "agency_code", "official_id"})
    username = payload.text(data, "username", max_length=64)
    password = payload.text(data, "password", max_length=200)
    roles = parse_roles(_string_list(data, "roles"))
    display_name = payload.text(data, "display_name", required=False, max_length=200)
    agency = payload.code(data, "agency_code", required=False)
    official_id = data.get("official_id")
    if official_id is not None:
        if not isinstance(official_id, int) or isinstance(official_id, bool) or official_id < 1:
            raise BadRequest("Trường 'official_id' phải là số nguyên dương", "field 'official_id' must be a positive integer")
        stamp_images.require_official(runtime().components.ledger, official_id)
    session = writing()
    user = create_user(session, username, password=password, roles=roles, display_name=display_name,
                       agency_code=agency, official_id=official_id, now=runtime().clock())
    session.commit()
    runtime().audit(principal.label, "user.create", "ok", target=username, detail={"roles": sorted(r.value for r in roles)})
    return jsonify(_user_json(user)), 201


def _user_json(user: User) -> dict:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "roles": user.roles.split(","),
        "agency_code": user.agency_code,
        "official_id": user.official_id,
        "active": user.active,
    }


@blueprint.get("/users")
@operation("List user accounts", tag="administration", permission="users")
def list_users():
    require(Permission.USERS)
    return jsonify({"users": [_user_json(user) for user in db().scalars(select(User).order_by(User.username))]})


def _user_named(session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"Không có tài khoản {username}", f"no user {username}")
    return user


@blueprint.post("/users/<username>/password")
@operation("Change a password (the user, giving the current one, or an administrator); ends every session of"
           " the user", tag="administration",
           request_body=json_body({"type": "object", "required": ["password"], "properties": {
               "password": {"type": "string", "minLength": 10}, "current_password": {"type": "string"}}}))
def set_password(username: str):
    principal = current_principal()
    if principal is None:
        raise Unauthenticated("Cần đăng nhập hoặc khóa API", "authentication required: an API key or a logged-in session")
    if principal.kind == "user" and principal.name == username and not principal.may(Permission.USERS):
        check_csrf()  # a person changes their own password (with the current one, checked below)
    else:
        principal = require(Permission.USERS)
    data = payload.json_object()
    payload.reject_unknown(data, {"password", "current_password"})
    new_password = payload.text(data, "password", max_length=200)
    session = writing()
    user = _user_named(session, username)
    if not principal.may(Permission.USERS):
        current = payload.text(data, "current_password", required=False, max_length=200) or ""
        if not is_password_correct(current, user.password_hash):
            raise Forbidden("Mật khẩu hiện tại không đúng", "the current password is wrong")
    ended = change_password(session, user, new_password=new_password, now=runtime().clock())
    session.commit()
    runtime().audit(principal.label, "user.password", "ok", target=username, detail={"sessions_ended": ended})
    return jsonify({"username": username, "sessions_ended": ended})


@blueprint.post("/users/<username>/deactivation")
@operation("Deactivate a user account; ends every session of it", tag="administration", permission="users")
def deactivate(username: str):
    principal = require(Permission.USERS)
    session = writing()
    user = _user_named(session, username)
    ended = deactivate_user(session, user, now=runtime().clock())
    session.commit()
    runtime().audit(principal.label, "user.deactivate", "ok", target=username, detail={"sessions_ended": ended})
    return jsonify({**_user_json(user), "sessions_ended": ended})


@blueprint.post("/login-lockouts/lift")
@operation("Lift the login throttling and lockout of an account and/or a client address", tag="administration",
           permission="users", request_body=json_body({"type": "object", "properties": {
               "username": {"type": "string"}, "address": {"type": "string"}}}))
def lift_lockout():
    from service.throttling import lift_login_lockout

    principal = require(Permission.USERS)
    data = payload.json_object()
    payload.reject_unknown(data, {"username", "address"})
    username = payload.text(data, "username", required=False, max_length=64)
    address = payload.text(data, "address", required=False, max_length=64)
    if not username and not address:
        raise BadRequest("Cần 'username' hoặc 'address'", "give 'username' or 'address'")
    session = writing()
    cleared = lift_login_lockout(session, username=username, address=address)
    session.commit()
    runtime().audit(principal.label, "login.lift", "ok", target=username or address, detail={"cleared": cleared})
    return jsonify({"username": username, "address": address, "cleared": cleared})


@blueprint.post("/api-keys")
@operation(
    "Create an API key for a system (the key is shown once)",
    tag="administration",
    permission="users",
    request_body=json_body({"type": "object", "required": ["name", "scopes"], "properties": {
        "name": {"type": "string"}, "scopes": {"type": "array", "items": {"type": "string"}},
        "agency_code": {"type": "string"}}}),
    responses={"201": json_response("the key, its name and scopes")},
)
def add_api_key():
    principal = require(Permission.USERS)
    data = payload.json_object()
    payload.reject_unknown(data, {"name", "scopes", "agency_code"})
    name = payload.code(data, "name")
    scopes = parse_scopes(_string_list(data, "scopes"))
    agency = payload.code(data, "agency_code", required=False)
    session = writing()
    row, token = create_api_key(session, name, scopes=scopes, agency_code=agency, now=runtime().clock())
    session.commit()
    runtime().audit(principal.label, "api_key.create", "ok", target=name, detail={"scopes": row.scopes.split(",")})
    return jsonify({"name": row.name, "key": token, "scopes": row.scopes.split(","), "agency_code": row.agency_code}), 201


@blueprint.post("/api-keys/<name>/revocation")
@operation("Revoke an API key", tag="administration", permission="users")
def revoke_api_key(name: str):
    principal = require(Permission.USERS)
    session = writing()
    row = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if row is None:
        raise NotFound(f"Không có khóa API {name}", f"no API key named {name}")
    if row.revoked_at is None:
        row.revoked_at = runtime().clock()
        session.commit()
        runtime().audit(principal.label, "api_key.revoke", "ok", target=name)
    return jsonify({"name": name, "revoked_at": row.revoked_at.isoformat()})


@blueprint.get("/audit")
@operation("The latest audit events, filterable by actor, action, target, agency and date (Hanoi days)",
           tag="administration", permission="audit",
           parameters=[{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                       {"name": "action", "in": "query", "schema": {"type": "string"}},
                       {"name": "actor", "in": "query", "schema": {"type": "string"}},
                       {"name": "target", "in": "query", "schema": {"type": "string"}},
                       {"name": "agency", "in": "query", "schema": {"type": "string"}},
                       {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
                       {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}}])
def audit_events():
    import datetime as dt
    from zoneinfo import ZoneInfo

    require(Permission.AUDIT)
    value = request.args.get("limit", "100")
    # Issue 9, item 12: `limit=-1` once returned every row; only 1..1000 is a page.
    if not (value.isascii() and value.isdigit() and len(value) <= 4 and 1 <= int(value) <= 1000):
        raise BadRequest("Tham số 'limit' phải là số nguyên từ 1 đến 1000",
                         "query parameter 'limit' must be an integer from 1 to 1000")
    limit = int(value)
    hanoi = ZoneInfo("Asia/Ho_Chi_Minh")
    first = payload.date(dict(request.args), "from", required=False)
    last = payload.date(dict(request.args), "to", required=False)
    since = dt.datetime.combine(first, dt.time(), hanoi) if first else None
    until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), hanoi) if last else None
    return jsonify({"events": list_events(
        db(), limit=limit, action=request.args.get("action") or None, actor=request.args.get("actor") or None,
        target=request.args.get("target") or None, agency_code=request.args.get("agency") or None,
        since=since, until=until)})

