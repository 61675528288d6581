"""Accounts and keys for the console, beside service/api/administration.py: change a user's roles, agency or
active state, a one-time password-reset link (shown once), a person's own password change, and the API
keys with their last use. Every write authorised and audited; passwords and links are never logged.

The reset link needs no table: it is a signed, timed token (itsdangerous, Flask's own dependency) naming
the user and the tail of their current password hash, so it stops working once the password changes
(one use) or after RESET_LINK_SECONDS.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, session
from sqlalchemy import func, select

from service.accounts import Permission, hash_password, is_password_correct, parse_roles
from service.api import payload
from service.errors import BadRequest, Forbidden, NotFound, Unauthenticated
from service.guard import check_csrf, current_principal, db, log_in, require, runtime, writing
from service.openapi import json_body, json_response, operation
from service.tables import ApiKey, AuditEvent, User

blueprint = Blueprint("accounts_admin", __name__)

RESET_LINK_SECONDS = 24 * 3600
_SALT = "kyso-password-reset"
MIN_PASSWORD = 10


def _serializer():
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(runtime().settings.secret_key, salt=_SALT)


def _user(session_db, username: str) -> User:
    user = session_db.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"Không có tài khoản {username[:64]}", f"no user {username[:64]}")
    return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise BadRequest(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự", f"password must have at least {MIN_PASSWORD} characters")


def _user_json(user: User) -> dict:
    return {"username": user.username, "display_name": user.display_name, "roles": user.roles.split(","),
            "agency_code": user.agency_code, "official_id": user.official_id, "active": user.active}


@blueprint.patch("/users/<username>")
@operation("Change a user's roles, agency or active state (an administrator cannot deactivate or demote themselves)",
           tag="administration", permission="users",
           request_body=json_body({"type": "object", "properties": {
               "roles": {"type": "array", "items": {"type": "string"}}, "agency_code": {"type": "string", "nullable": True},
               "active": {"type": "boolean"}}}),
           responses={"200": json_response("the account"), "404": json_response("unknown user")})
def change_user(username: str):
    principal = require(Permission.USERS)
    data = payload.json_object()
    payload.reject_unknown(data, {"roles", "agency_code", "active"})
    if not data:
        raise BadRequest("Không có thay đổi nào", "nothing to change")
    changes = {}
    if "roles" in data:
        values = data["roles"]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise BadRequest("Trường 'roles' phải là danh sách chuỗi", "field 'roles' must be a list of strings")
        changes["roles"] = ",".join(sorted(r.value for r in parse_roles(values)))
    if "agency_code" in data:
        changes["agency_code"] = payload.code(data, "agency_code", required=False)
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise BadRequest("Trường 'active' phải là true/false", "field 'active' must be true or false")
        changes["active"] = data["active"]
    if username == principal.name and (changes.get("active") is False or
                                       ("roles" in changes and "administrator" not in changes["roles"].split(","))):
        # Deny the one change that could leave nobody able to administer the service.
        raise Forbidden("Không thể tự khóa hoặc tự bỏ quyền quản trị của mình",
                        "you cannot deactivate yourself or drop your own administrator role")
    session_db = writing()
    user = _user(session_db, username)
    before = {name: getattr(user, name) for name in changes}
    for name, value in changes.items():
        setattr(user, name, value)
    session_db.commit()
    runtime().audit(principal.label, "user.update", "ok", target=username,
                    detail={"changes": {n: [before[n], changes[n]] for n in changes if before[n] != changes[n]},
                            "agency_code": user.agency_code})
    return jsonify(_user_json(user))


@blueprint.post("/users/<username>/password-reset")
@operation("A one-time password-reset link for a user (shown once, valid 24 h, void once the password changes)",
           tag="administration", permission="users", responses={"201": json_response("the link, shown once")})
def reset_link(username: str):
    principal = require(Permission.USERS)
    user = _user(db(), username)
    if not user.active:
        raise BadRequest(f"Tài khoản {username} đã bị khóa", f"user {username} is deactivated")
    token = _serializer().dumps({"u": user.username, "v": user.password_hash[-16:]})
    runtime().audit(principal.label, "user.password_reset_link", "ok", target=username)
    return jsonify({"username": username, "link": f"/password-reset?token={token}",
                    "valid_seconds": RESET_LINK_SECONDS}), 201


@blueprint.post("/password-resets")
@operation("Set a new password with a one-time reset link's token (no login needed)", tag="administration",
           request_body=json_body({"type": "object", "required": ["token", "password"], "properties": {
               "token": {"type": "string"}, "password": {"type": "string", "minLength": MIN_PASSWORD}}}),
           responses={"200": json_response("the password was changed"), "400": json_response("invalid or used link")})
def use_reset_link():
    from itsdangerous import BadSignature, SignatureExpired

    data = payload.json_object()
    payload.reject_unknown(data, {"token", "password"})
    token = payload.text(data, "token", max_length=1000)
    password = payload.text(data, "password", max_length=200)
    invalid = BadRequest("Liên kết đặt lại mật khẩu không hợp lệ, đã dùng hoặc đã hết hạn",
                         "the password-reset link is invalid, used or expired")
    try:
        claims = _serializer().loads(token, max_age=RESET_LINK_SECONDS)
    except SignatureExpired as exc:
        raise invalid from exc
    except BadSignature as exc:
        raise invalid from exc
    _check_password(password)
    session_db = writing()
    user = session_db.scalar(select(User).where(User.username == claims.get("u")))
    if user is None or not user.active or user.password_hash[-16:] != claims.get("v"):
        session_db.rollback()
        runtime().audit(f"user:{str(claims.get('u'))[:60]}", "user.password_reset", "refused")
        raise invalid
    user.password_hash = hash_password(password)
    session_db.commit()
    runtime().audit(f"user:{user.username}", "user.password_reset", "ok", target=user.username)
    return jsonify({"username": user.username, "changed": True})


@blueprint.post("/account/password")
@operation("Change your own password (a logged-in person; the current password is asked again)",
           tag="administration",
           request_body=json_body({"type": "object", "required": ["current_password", "new_password"], "properties": {
               "current_password": {"type": "string"}, "new_password": {"type": "string", "minLength": MIN_PASSWORD}}}),
           responses={"200": json_response("changed"), "400": json_response("wrong current password or too short")})
def change_own_password():
    principal = current_principal()
    if principal is None or principal.kind != "user":
        raise Unauthenticated("Cần đăng nhập", "a logged-in person is required")
    check_csrf()
    db().commit()  # end the authentication's read transaction
    data = payload.json_object()
    payload.reject_unknown(data, {"current_password", "new_password"})
    current = payload.text(data, "current_password", max_length=200)
    new = payload.text(data, "new_password", max_length=200)
    session_db = writing()
    user = _user(session_db, principal.name)
    if not is_password_correct(current, user.password_hash):
        session_db.rollback()
        runtime().audit(principal.label, "account.password", "refused")
        raise BadRequest("Mật khẩu hiện tại không đúng", "the current password is wrong")
    _check_password(new)
    user.password_hash = hash_password(new)
    session_db.commit()
    log_in(user)  # this session continues with the new password; every other session of the old one ends
    runtime().audit(principal.label, "account.password", "ok", target=principal.name)
    return jsonify({"username": principal.name, "changed": True, "csrf_token": session["csrf"]})


@blueprint.get("/api-keys")
@operation("API keys by name with their scopes, agency, creation, revocation and last audited use",
           tag="administration", permission="users")
def list_api_keys():
    require(Permission.USERS)
    keys = list(db().scalars(select(ApiKey).order_by(ApiKey.name)))
    labels = [f"api_key:{k.name}" for k in keys]
    last = dict(db().execute(select(AuditEvent.actor, func.max(AuditEvent.at)).where(AuditEvent.actor.in_(labels))
                             .group_by(AuditEvent.actor)).all()) if labels else {}
    return jsonify({"api_keys": [{
        "name": k.name, "scopes": k.scopes.split(","), "agency_code": k.agency_code,
        "created_at": k.created_at.isoformat(), "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
        "last_used_at": last[f"api_key:{k.name}"].isoformat() if last.get(f"api_key:{k.name}") else None,
    } for k in keys]})
