"""The signing time of a signature and where it comes from (DOMAIN.md, "Validation rules" and "Quirk").

The signing time is the RFC 3161 timestamp's genTime when there is one; otherwise the claimed time, reported
as self-declared. Some Vietnamese signing tools write local time into CMS signingTime labelled as UTC, so the
claim is 7 hours late: when a timestamp proves the real time, that shift is reported, not held against it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from verifier.report import Message, Severity


def compare_claim(claimed: datetime | None, proven: datetime | None, *, tolerance: timedelta,
                  quirk: timedelta) -> tuple[Message, ...]:
    """Messages about a claimed signing time against the timestamp's genTime (pure)."""
    if claimed is None or proven is None:
        return ()
    shift = claimed - proven
    if abs(shift) <= tolerance:
        return ()
    if abs(shift - quirk) <= tolerance:
        hours = round(quirk.total_seconds() / 3600)
        return (Message(
            "time.local-time-quirk",
            f"the claimed signing time {claimed.isoformat()} (as written) is {hours} h after the timestamp: local time "
            f"labelled as UTC by the signing tool (known quirk); the timestamp's time is used",
            f"thời gian ký tự khai {claimed.isoformat()} (như ghi trong chữ ký) lệch {hours} giờ so với dấu thời gian: phần mềm ký ghi "
            f"giờ địa phương nhưng gắn nhãn UTC (lỗi đã biết); dùng thời gian của dấu thời gian",
            Severity.INFO,
        ),)
    minutes = round(shift.total_seconds() / 60)
    return (Message(
        "time.claim-mismatch",
        f"the claimed signing time differs from the timestamp by {minutes} minutes; the timestamp's time is used",
        f"thời gian ký tự khai lệch {minutes} phút so với dấu thời gian; dùng thời gian của dấu thời gian",
        Severity.WARNING,
    ),)


def future_claim(claimed: datetime, now: datetime, *, tolerance: timedelta, quirk: timedelta) -> tuple[Message, ...]:
    """A claimed signing time later than now: impossible, and when it is less than the quirk's shift ahead,
    most likely local time labelled as UTC by the signing tool (no timestamp to prove the real time)."""
    ahead = claimed - now
    if ahead <= tolerance:
        return ()
    hours = round(quirk.total_seconds() / 3600)
    likely = ahead <= quirk + tolerance
    return (Message(
        "time.claim-in-future",
        f"the claimed signing time {claimed.isoformat()} is {round(ahead.total_seconds() / 60)} minutes in the future"
        + (f"; probably local time labelled as UTC (+{hours} h quirk)" if likely else ""),
        f"thời gian ký tự khai {claimed.isoformat()} ở tương lai {round(ahead.total_seconds() / 60)} phút"
        + (f"; có thể phần mềm ký ghi giờ địa phương nhưng gắn nhãn UTC (lệch +{hours} giờ)" if likely else ""),
        Severity.WARNING,
    ),)
