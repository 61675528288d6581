"""The officials of the roster as the console reads and edits them: search, one official with the
certificates they hold, and changes of title, unit and active period (deactivation ends the period).

Changes are recorded by the caller (the service's audit trail names who changed what); this module only
checks and stores the new values, and returns the values before and after so the history can show both.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

from sqlalchemy import func, or_, select

from ledger.errors import InvalidValue, UnknownAgency, UnknownOfficial
from ledger.models import Agency, Certificate, Official
from ledger.roster import CertificateInfo
from ledger.store import Store


@dataclass(frozen=True)
class OfficialRecord:
    """One official on the roster and the certificates on record for them (personal ones)."""

    id: int
    person_id: str
    identifiers: tuple[str, ...]
    agency_code: str
    full_name: str
    title: str | None
    active_from: date | None
    active_until: date | None
    certificates: tuple[CertificateInfo, ...] = ()

    def is_active_on(self, day: date) -> bool:
        return (self.active_from is None or self.active_from <= day) and (self.active_until is None or day <= self.active_until)


# A field left UNCHANGED in update_official keeps its value; None clears an optional one.
UNCHANGED = object()


def _record(row: Official, certificates: list[Certificate]) -> OfficialRecord:
    return OfficialRecord(
        id=row.id, person_id=row.person_id, identifiers=tuple(i for i in row.identifiers.split(";") if i),
        agency_code=row.agency_code, full_name=row.full_name, title=row.title, active_from=row.active_from,
        active_until=row.active_until, certificates=tuple(CertificateInfo.from_row(c) for c in certificates),
    )


def search_officials(store: Store, *, text: str | None = None, agency_code: str | None = None,
                     limit: int = 200) -> list[OfficialRecord]:
    """Officials whose name, person id, identifiers or title contain `text` (case-insensitive), of one agency
    when `agency_code` is given, ordered by agency then name; at most `limit`."""
    query = select(Official)
    if agency_code is not None:
        query = query.where(Official.agency_code == agency_code)
    if text:
        pattern = f"%{text.lower()}%"
        query = query.where(or_(func.lower(Official.full_name).like(pattern), func.lower(Official.identifiers).like(pattern),
                                func.lower(func.coalesce(Official.title, "")).like(pattern)))
    query = query.order_by(Official.agency_code, Official.full_name, Official.id).limit(limit)
    with store.transaction() as session:
        rows = list(session.scalars(query))
        ids = [r.id for r in rows]
        held: dict[int, list[Certificate]] = {}
        if ids:
            for cert in session.scalars(select(Certificate).where(Certificate.official_id.in_(ids)).order_by(Certificate.not_before)):
                held.setdefault(cert.official_id, []).append(cert)
        return [_record(r, held.get(r.id, [])) for r in rows]


def get_official(store: Store, official_id: int) -> OfficialRecord:
    with store.transaction() as session:
        row = session.get(Official, official_id)
        if row is None:
            raise UnknownOfficial(official_id)
        certificates = list(session.scalars(select(Certificate).where(Certificate.official_id == official_id)
                                            .order_by(Certificate.not_before)))
        return _record(row, certificates)


def update_official(store: Store, official_id: int, *, title=UNCHANGED, agency_code=UNCHANGED,
                    active_from=UNCHANGED, active_until=UNCHANGED) -> tuple[OfficialRecord, OfficialRecord]:
    """Change an official's title, unit (agency) or active period; returns (before, after). Deactivating is
    setting `active_until`: the person stays on record (their signatures and history keep their meaning) but
    no longer counts on the roster after that day (certificate coverage, DOMAIN.md "Monthly report")."""
    if title is not UNCHANGED and title is not None and (not isinstance(title, str) or len(title) > 200):
        raise InvalidValue("chức danh tối đa 200 ký tự", "title: at most 200 characters")
    for name, value in (("active_from", active_from), ("active_until", active_until)):
        if value is not UNCHANGED and value is not None and not isinstance(value, date):
            raise InvalidValue(f"{name} phải là ngày", f"{name} must be a date")
    with store.transaction() as session:
        row = session.get(Official, official_id)
        if row is None:
            raise UnknownOfficial(official_id)
        certificates = list(session.scalars(select(Certificate).where(Certificate.official_id == official_id)))
        before = _record(row, certificates)
        if agency_code is not UNCHANGED:
            if not agency_code or session.get(Agency, agency_code) is None:
                raise UnknownAgency(str(agency_code))
            row.agency_code = agency_code
        if title is not UNCHANGED:
            row.title = title or None
        if active_from is not UNCHANGED:
            row.active_from = active_from
        if active_until is not UNCHANGED:
            row.active_until = active_until
        if row.active_from and row.active_until and row.active_until < row.active_from:
            raise InvalidValue("ngày thôi công tác trước ngày bắt đầu", "active_until is before active_from")
        session.flush()
        return before, _record(row, certificates)


def changed_fields(before: OfficialRecord, after: OfficialRecord) -> dict[str, tuple[object, object]]:
    """The fields an edit changed, as {name: (old, new)} (what the history shows)."""
    return {f.name: (getattr(before, f.name), getattr(after, f.name)) for f in fields(OfficialRecord)
            if f.name != "certificates" and getattr(before, f.name) != getattr(after, f.name)}
