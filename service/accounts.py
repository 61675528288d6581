"""Who may call the service: user accounts with roles, API keys with scopes, and the principal of a request.

Passwords are hashed with scrypt (RFC 7914, `hashlib.scrypt`); API keys are random 256-bit secrets of which
only the SHA-256 is stored, found by a public prefix. Deny by default: a principal holds only the
permissions its roles or scopes grant, and certificate administration needs the administrator role (no API
key scope grants it).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.errors import BadRequest, Conflict, Unauthenticated
from service.tables import ApiKey, User


class Role(enum.Enum):
    ADMINISTRATOR = "administrator"
    CLERK = "clerk"  # văn thư: holds the agency's seal token, numbers and issues documents
    OFFICIAL = "official"  # a leader approving with a personal token
    AUDITOR = "auditor"


class Permission(enum.Enum):
    VALIDATE = "validate"
    SIGN = "sign"
    DOCUMENTS = "documents"
    REPORTS = "reports"
    LEDGER = "ledger"
    ROSTER = "roster"
    AUDIT = "audit"
    CERTIFICATES = "certificates"
    USERS = "users"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMINISTRATOR: frozenset(Permission),
    Role.CLERK: frozenset({Permission.VALIDATE, Permission.SIGN, Permission.DOCUMENTS}),
    Role.OFFICIAL: frozenset({Permission.VALIDATE, Permission.SIGN}),
    Role.AUDITOR: frozenset({Permission.REPORTS, Permission.LEDGER, Permission.AUDIT}),
}

# What a system may be granted through an API key. Certificates and users stay with people (administrators).
API_KEY_SCOPES = frozenset(
    {
        Permission.VALIDATE,
        Permission.SIGN,
        Permission.DOCUMENTS,
        Permission.REPORTS,
        Permission.LEDGER,
        Permission.ROSTER,
        Permission.AUDIT,
    }
)

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_KEY = re.compile(r"^kyso_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")

# scrypt cost (RFC 7914): N=2^14, r=8, p=1 uses 16 MiB and about 50 ms here.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


@dataclass(frozen=True)
class Principal:
    """The caller of one request: a person (by account) or a system (by API key)."""

    kind: str  # "user" | "api_key"
    name: str
    permissions: frozenset[Permission]
    roles: frozenset[Role] = frozenset()
    agency_code: str | None = None
    user_id: int | None = None
    official_id: int | None = None  # the roster official this person is (their own signature image)

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def is_password_correct(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(
        password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected) // 2
    )
    return hmac.compare_digest(digest.hex(), expected)


def parse_roles(values: list[str] | tuple[str, ...]) -> frozenset[Role]:
    roles = set()
    for value in values:
        try:
            roles.add(Role(value))
        except ValueError as exc:
            known = ", ".join(r.value for r in Role)
            raise BadRequest(
                f"Vai trò không hợp lệ: {value!r} (có: {known})", f"unknown role {value!r} (known: {known})"
            ) from exc
    if not roles:
        raise BadRequest("Cần ít nhất một vai trò", "at least one role is required")
    return frozenset(roles)


def parse_scopes(values: list[str] | tuple[str, ...]) -> frozenset[Permission]:
    scopes = set()
    known = ", ".join(sorted(p.value for p in API_KEY_SCOPES))
    for value in values:
        try:
            permission = Permission(value)
        except ValueError:
            permission = None
        if permission not in API_KEY_SCOPES:
            raise BadRequest(
                f"Phạm vi khóa API không hợp lệ: {value!r} (có: {known})",
                f"unknown or forbidden API key scope {value!r} (allowed: {known})",
            )
        scopes.add(permission)
    if not scopes:
        raise BadRequest("Cần ít nhất một phạm vi", "at least one scope is required")
    return frozenset(scopes)


def create_user(
    db: Session,
    username: str,
    *,
    password: str,
    roles: frozenset[Role],
    display_name: str | None = None,
    agency_code: str | None = None,
    official_id: int | None = None,
    now: dt.datetime,
) -> User:
    """Add a user account; the caller commits. The password is only ever kept as its scrypt hash."""
    if not _USERNAME.match(username):
        raise BadRequest(
            "Tên đăng nhập chỉ gồm chữ thường, số, '.', '_', '-' (2-64 ký tự)",
            "username must be 2-64 characters of a-z, 0-9, '.', '_', '-'",
        )
    _check_new_password(password)
    if db.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"Tài khoản {username} đã tồn tại", f"user {username} already exists")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        roles=",".join(sorted(role.value for role in roles)),
        agency_code=agency_code,
        official_id=official_id,
        active=True,
        created_at=now,
    )
    db.add(user)
    db.flush()
    return user


def user_principal(user: User) -> Principal:
    roles = frozenset(Role(value) for value in user.roles.split(",") if value)
    permissions = frozenset().union(*(ROLE_PERMISSIONS[role] for role in roles)) if roles else frozenset()
    return Principal(
        kind="user",
        name=user.username,
        permissions=permissions,
        roles=roles,
        agency_code=user.agency_code,
        user_id=user.id,
        official_id=user.official_id,
    )


# What an unknown username is checked against: a well-formed hash of the same cost that no password matches
# (its digest is not the scrypt of anything we know), so a known and an unknown name cost one scrypt each
# and timing does not tell which usernames exist.
_UNKNOWN_USER_HASH = f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${'6b79736f' * 4}${'00' * 32}"


def authenticate_password(db: Session, username: str, password: str) -> Principal:
    """The principal of a correct username and password; one scrypt run whether the user exists or not."""
    user = db.scalar(select(User).where(User.username == username)) if len(username) <= 64 else None
    stored = user.password_hash if user is not None else _UNKNOWN_USER_HASH
    if not is_password_correct(password, stored) or user is None or not user.active:
        raise Unauthenticated("Sai tên đăng nhập hoặc mật khẩu", "wrong username or password")
    return user_principal(user)


def _check_new_password(password: str) -> None:
    if len(password) < 10:
        raise BadRequest("Mật khẩu cần ít nhất 10 ký tự", "password must have at least 10 characters")


def change_password(db: Session, user: User, *, new_password: str, now: dt.datetime) -> int:
    """Set a new password and end every session of the user (the caller commits); returns the number of
    sessions ended."""
    from service.login_sessions import RevocationReason, revoke_sessions_of_user

    _check_new_password(new_password)
    user.password_hash = hash_password(new_password)
    return revoke_sessions_of_user(db, user.id, reason=RevocationReason.PASSWORD_CHANGED, now=now)


def deactivate_user(db: Session, user: User, *, now: dt.datetime) -> int:
    """Deactivate an account and end every session of it (the caller commits)."""
    from service.login_sessions import RevocationReason, revoke_sessions_of_user

    user.active = False
    return revoke_sessions_of_user(db, user.id, reason=RevocationReason.DEACTIVATED, now=now)


def create_api_key(
    db: Session, name: str, *, scopes: frozenset[Permission], agency_code: str | None = None, now: dt.datetime
) -> tuple[ApiKey, str]:
    """Add an API key; returns the row and the secret, which is shown once and never stored."""
    if not name or len(name) > 100:
        raise BadRequest("Tên khóa API cần 1-100 ký tự", "API key name must have 1-100 characters")
    if db.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise Conflict(f"Khóa API {name} đã tồn tại", f"API key {name} already exists")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = f"kyso_{prefix}_{secret}"
    row = ApiKey(
        name=name,
        prefix=prefix,
        key_sha256=hashlib.sha256(token.encode()).hexdigest(),
        scopes=",".join(sorted(scope.value for scope in scopes)),
        agency_code=agency_code,
        created_at=now,
    )
    db.add(row)
    db.flush()
    return row, token


def authenticate_api_key(db: Session, token: str) -> Principal:
    match = _KEY.match(token.strip())
    if not match:
        raise Unauthenticated("Khóa API không đúng định dạng", "malformed API key")
    row = db.scalar(select(ApiKey).where(ApiKey.prefix == match.group(1)))
    expected = row.key_sha256 if row is not None else "0" * 64
    if not hmac.compare_digest(hashlib.sha256(token.strip().encode()).hexdigest(), expected) or row is None:
        raise Unauthenticated("Khóa API không đúng", "wrong API key")
    if row.revoked_at is not None:
        raise Unauthenticated("Khóa API đã bị thu hồi", "API key revoked")
    scopes = frozenset(Permission(value) for value in row.scopes.split(",") if value)
    return Principal(kind="api_key", name=row.name, permissions=scopes, agency_code=row.agency_code)
