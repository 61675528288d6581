"""Login throttling per account and per client address: growing delays, then a lockout that only an
administrator lifts (OWASP ASVS 4.0, V2.2.1: anti-automation against credential stuffing and brute force).

The decision is pure (`decide`); the state lives in `service_login_throttles`, keyed by a hash of the
subject so that a password typed into the username box is never stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from service.errors import TooManyRequests
from service.tables import LoginThrottle


@dataclass(frozen=True)
class ThrottlePolicy:
    """After `free_failures` failures each new attempt waits `base_delay * 2**(extra failures)` (at most
    `max_delay`) after the last failure; at `lockout_failures` the subject is locked until lifted. Failures
    are forgotten `forget_after` after the last one, unless locked."""

    free_failures: int
    lockout_failures: int
    base_delay: dt.timedelta = dt.timedelta(seconds=1)
    max_delay: dt.timedelta = dt.timedelta(minutes=15)
    forget_after: dt.timedelta = dt.timedelta(hours=24)

    def __post_init__(self):
        if not 0 <= self.free_failures < self.lockout_failures:
            raise ValueError("free_failures must be below lockout_failures")


ACCOUNT_POLICY = ThrottlePolicy(free_failures=3, lockout_failures=10)
# One address may serve a whole office behind NAT: more room, same shape.
ADDRESS_POLICY = ThrottlePolicy(free_failures=10, lockout_failures=100)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    locked: bool = False
    retry_after: dt.timedelta | None = None


def decide(*, failures: int, last_failure_at: dt.datetime | None, locked: bool, now: dt.datetime,
           policy: ThrottlePolicy) -> Decision:
    """May one more attempt be made now?"""
    if locked:
        return Decision(allowed=False, locked=True)
    if last_failure_at is None or failures < policy.free_failures:
        return Decision(allowed=True)
    if now - last_failure_at >= policy.forget_after:
        return Decision(allowed=True)
    wait = min(policy.base_delay * 2 ** (failures - policy.free_failures), policy.max_delay)
    if now < last_failure_at + wait:
        return Decision(allowed=False, retry_after=last_failure_at + wait - now)
    return Decision(allowed=True)


def account_subject(username: str) -> str:
    return "account:" + hashlib.sha256(b"kyso-login-account\0" + username.encode("utf-8", "replace")).hexdigest()[:64]


def address_subject(address: str) -> str:
    return "address:" + hashlib.sha256(b"kyso-login-address\0" + address.encode("utf-8", "replace")).hexdigest()[:64]


def _policy_of(subject: str) -> ThrottlePolicy:
    return ACCOUNT_POLICY if subject.startswith("account:") else ADDRESS_POLICY


def require_login_allowed(db: Session, subjects: list[str], *, now: dt.datetime) -> None:
    """Raise TooManyRequests (429) when any subject is delayed or locked; nothing is written."""
    for subject in subjects:
        row = db.get(LoginThrottle, subject)
        if row is None:
            continue
        decision = decide(failures=row.failures, last_failure_at=row.last_failure_at,
                          locked=row.locked_at is not None, now=now, policy=_policy_of(subject))
        if decision.locked:
            what_vi, what_en = ("Tài khoản", "account") if subject.startswith("account:") else ("Địa chỉ", "address")
            raise TooManyRequests(
                f"{what_vi} bị khóa đăng nhập sau nhiều lần sai; hãy liên hệ quản trị viên",
                f"{what_en} locked after too many failed logins; an administrator must lift it",
                detail={"locked": what_en},
            )
        if not decision.allowed:
            seconds = max(1, int(decision.retry_after.total_seconds() + 0.999))
            raise TooManyRequests(
                f"Đăng nhập sai nhiều lần; hãy thử lại sau {seconds} giây",
                f"too many failed logins; try again in {seconds} seconds",
                detail={"retry_after": seconds},
            )


def record_login_failure(db: Session, subjects: list[str], *, now: dt.datetime) -> None:
    """Count one failure against each subject, locking those that reach their policy's lockout (the caller
    commits)."""
    for subject in subjects:
        # FOR UPDATE: parallel failures on PostgreSQL each count (SQLite writers are serialised already).
        row = db.get(LoginThrottle, subject, with_for_update=True)
        policy = _policy_of(subject)
        if row is None:
            row = LoginThrottle(subject=subject, failures=0, last_failure_at=now)
            db.add(row)
        elif row.locked_at is None and now - row.last_failure_at >= policy.forget_after:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        if row.failures >= policy.lockout_failures and row.locked_at is None:
            row.locked_at = now
    db.flush()


def record_login_success(db: Session, username: str) -> None:
    """A correct password clears the account's failures (not the address's: one known account must not
    reset the count of an address that guesses others)."""
    db.execute(delete(LoginThrottle).where(LoginThrottle.subject == account_subject(username)))


def lift_login_lockout(db: Session, *, username: str | None = None, address: str | None = None) -> int:
    """Clear the failures and lockout of an account and/or an address; returns how many rows were cleared."""
    subjects = ([account_subject(username)] if username else []) + ([address_subject(address)] if address else [])
    if not subjects:
        raise ValueError("name an account or an address")
    result = db.execute(delete(LoginThrottle).where(LoginThrottle.subject.in_(subjects)))
    return result.rowcount or 0
