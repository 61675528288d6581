"""The audit trail of the service: every write and every refused write, with who, what and the outcome.

Events are written in their own short transaction so that a refused request (which rolls its own work back)
still leaves its trace. Details are plain values chosen by the caller: never a PIN, a password or a key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from service.tables import AuditEvent


def failed_login_actor(username: str, *, known: bool, secret: str) -> str:
    """The actor of a failed login in the audit trail (issue 9, item 12). A name typed into the username
    box may be a password typed in the wrong box, so it is never stored verbatim unless it is an existing
    account's name: an unknown one is kept as a keyed digest, enough to see repeated tries of one name
    without revealing it."""
    if known:
        return f"user:{username}"
    digest = hmac.new(secret.encode(), username.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return f"user:?{digest[:16]}"


def record_event(
    engine: Engine,
    *,
    actor: str,
    action: str,
    outcome: str,
    target: str | None = None,
    detail: dict | None = None,
    remote_addr: str | None = None,
    now: dt.datetime,
) -> None:
    with Session(engine) as db, db.begin():
        db.add(
            AuditEvent(
                at=now,
                actor=actor[:120],
                action=action[:60],
                target=(target or None) and target[:200],
                outcome=outcome[:40],
                detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str),
                remote_addr=remote_addr,
            )
        )


def list_events(db: Session, *, limit: int = 100, action: str | None = None, actor: str | None = None,
                target: str | None = None, agency_code: str | None = None, since: dt.datetime | None = None,
                until: dt.datetime | None = None) -> list[dict]:
    """The latest events, newest first, filtered by exact action, actor and target, by agency (events whose
    detail names it as `agency_code`) and by time (`since` inclusive, `until` exclusive)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if target:
        query = query.where(AuditEvent.target == target)
    if agency_code:
        # detail is JSON written with sort_keys and ensure_ascii=False (record_event): match the exact pair.
        query = query.where(AuditEvent.detail.contains(json.dumps({"agency_code": agency_code}, ensure_ascii=False)[1:-1]))
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    return [
        {
            "id": event.id,
            "at": event.at.isoformat(),
            "actor": event.actor,
            "action": event.action,
            "target": event.target,
            "outcome": event.outcome,
            "detail": json.loads(event.detail),
            "remote_addr": event.remote_addr,
        }
        for event in db.scalars(query)
    ]
