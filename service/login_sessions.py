"""Server-side login sessions: the cookie carries a random session id only, the database its SHA-256.

A session works while its row is unrevoked and its user active; logout revokes the one session, a password
change and a deactivation revoke every session of the user, so a copied or stolen cookie stops working at
once (OWASP ASVS 4.0, V3.3.1 and V3.3.3).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.tables import LoginSession, User


class RevocationReason(enum.Enum):
    LOGOUT = "logout"
    PASSWORD_CHANGED = "password"
    DEACTIVATED = "deactivated"


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_login_session(db: Session, user: User, *, now: dt.datetime) -> str:
    """A new session of `user`; returns the random id the cookie carries (the caller commits)."""
    session_id = secrets.token_urlsafe(32)
    db.add(LoginSession(id_sha256=_digest(session_id), user_id=user.id, created_at=now))
    db.flush()
    return session_id


def user_of_session(db: Session, session_id: str) -> User | None:
    """The active user of an unrevoked session, or None."""
    if not isinstance(session_id, str) or not session_id or len(session_id) > 100:
        return None
    row = db.get(LoginSession, _digest(session_id))
    if row is None or row.revoked_at is not None:
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return user


def revoke_login_session(db: Session, session_id: str, *, reason: RevocationReason, now: dt.datetime) -> None:
    db.execute(
        update(LoginSession)
        .where(LoginSession.id_sha256 == _digest(session_id), LoginSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason.value)
    )


def revoke_sessions_of_user(db: Session, user_id: int, *, reason: RevocationReason, now: dt.datetime) -> int:
    """Revoke every open session of the user; returns how many were open."""
    open_ids = list(db.scalars(select(LoginSession.id_sha256).where(
        LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))))
    if open_ids:
        db.execute(
            update(LoginSession)
            .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason.value)
        )
    return len(open_ids)
