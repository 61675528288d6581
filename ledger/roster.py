"""The roster: agencies (with their codes in both forms), officials and the certificates they hold.

Imported from CSV (ledger.roster_csv) and kept current by enrolment and revocation, which the service and
the CLI call.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable

from sqlalchemy import select

from ledger.entries import normalise_serial
from ledger.errors import Conflict, IdentifierOfAnotherOfficial, InvalidValue, UnknownAgency, UnknownCertificate
from ledger.models import Agency, Certificate, Official
from ledger.store import Store

# QCVN 102:2016 organisation codes, older form: "000.00.00.G22" (three groups of digits, a letter, two digits).
LEGACY_CODE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")
AGENCY_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_]{0,39}$")
PERSON_ID = re.compile(r"^(CCCD:\d{12}|CMND:\d{9}(\d{3})?|HC:[A-Z0-9]{6,12})$")
IDENTIFIER = re.compile(r"^(CCCD|CMND|HC|MST|MNS):\S+$")


@dataclass(frozen=True)
class AgencyInfo:
    code: str
    legacy_code: str | None
    name: str
    level: str
    parent_code: str | None
    valid_from: date
    valid_until: date | None

    def is_active_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    @classmethod
    def from_row(cls, row: Agency) -> "AgencyInfo":
        return cls(row.code, row.legacy_code, row.name, row.level_code, row.parent_code, row.valid_from, row.valid_until)


def add_agency(store: Store, agency: AgencyInfo) -> AgencyInfo:
    """Add one agency (the parent, when named, must already be on the roster)."""
    problems = _check_agency(agency)
    if problems:
        raise InvalidValue(*problems[0])
    with store.transaction() as session:
        if agency.parent_code and session.get(Agency, agency.parent_code) is None:
            raise UnknownAgency(agency.parent_code)
        if session.get(Agency, agency.code) is not None:
            raise Conflict(f"mã cơ quan {agency.code} đã có", f"agency code {agency.code} already exists")
        session.add(_agency_row(agency))
    return agency


def _agency_row(agency: AgencyInfo) -> Agency:
    return Agency(
        code=agency.code,
        legacy_code=agency.legacy_code,
        name=agency.name,
        level_code=agency.level,
        parent_code=agency.parent_code,
        valid_from=agency.valid_from,
        valid_until=agency.valid_until,
    )


def _check_agency(agency: AgencyInfo) -> list[tuple[str, str]]:
    problems = []
    if not AGENCY_CODE.match(agency.code or ""):
        problems.append((f"mã cơ quan không hợp lệ: {agency.code!r}", f"invalid agency code: {agency.code!r}"))
    if agency.legacy_code is not None and not LEGACY_CODE.match(agency.legacy_code):
        problems.append(
            (f"mã định danh cũ phải có dạng 000.00.00.G22: {agency.legacy_code!r}",
             f"legacy code must look like 000.00.00.G22: {agency.legacy_code!r}")
        )
    if agency.valid_until is not None and agency.valid_until < agency.valid_from:
        problems.append(("ngày kết thúc trước ngày bắt đầu", "valid_until is before valid_from"))
    return problems


def get_agency(store: Store, code: str) -> AgencyInfo:
    """An agency by its code in either form."""
    with store.transaction() as session:
        row = session.get(Agency, code) or session.scalar(select(Agency).where(Agency.legacy_code == code))
        if row is None:
            raise UnknownAgency(code)
        return AgencyInfo.from_row(row)


def list_agencies(store: Store) -> list[AgencyInfo]:
    with store.transaction() as session:
        return [AgencyInfo.from_row(r) for r in session.scalars(select(Agency).order_by(Agency.code))]


@dataclass(frozen=True)
class OfficialInfo:
    id: int
    person_id: str
    identifiers: tuple[str, ...]
    agency_code: str
    full_name: str
    title: str | None


@dataclass(frozen=True)
class CertificateInfo:
    serial: str
    kind: str  # personal | agency
    agency_code: str
    official_id: int | None
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None
    revocation_reason: str | None

    def is_valid_at(self, moment: datetime) -> bool:
        return self.not_before <= moment <= self.not_after and (self.revoked_at is None or moment < self.revoked_at)

    @classmethod
    def from_row(cls, row: Certificate) -> "CertificateInfo":
        return cls(row.serial, row.kind, row.agency_code, row.official_id, row.not_before, row.not_after, row.revoked_at, row.revocation_reason)


# ----------------------------------------------------------------------------------- enrolment, revocation


def _same_name(a: str | None, b: str | None) -> bool:
    return unicodedata.normalize("NFC", (a or "").strip()).casefold() == unicodedata.normalize("NFC", (b or "").strip()).casefold()


def _check_holder(session, *, agency_code: str, full_name: str | None, identifiers: list[str]) -> Official | None:
    """The roster official the person identifiers name, or None when they name nobody yet. Refuses
    (IdentifierOfAnotherOfficial) identifiers of two officials, or of an official with another name or agency:
    a CSR naming another official's CCCD must not attach a certificate to that official."""
    person_ids = [i for i in identifiers if PERSON_ID.match(i)]
    found: dict[int, Official] = {}
    for person_id in person_ids:
        for official in session.scalars(select(Official).where(
                (Official.person_id == person_id) | (Official.identifiers.contains(person_id)))):
            if person_id == official.person_id or person_id in official.identifiers.split(";"):
                found[official.id] = official
    if len(found) > 1:
        raise IdentifierOfAnotherOfficial(
            f"các mã định danh {', '.join(person_ids)} thuộc {len(found)} cán bộ khác nhau trong danh bạ",
            f"the identifiers {', '.join(person_ids)} belong to {len(found)} different officials on the roster",
        )
    official = next(iter(found.values()), None)
    # No name given (a library caller enrolling by identifier only): the identifier decides, within its agency.
    name_differs = full_name is not None and not _same_name(official.full_name, full_name) if official else False
    if official is not None and (name_differs or official.agency_code != agency_code):
        raise IdentifierOfAnotherOfficial(
            f"mã {official.person_id} thuộc cán bộ khác trong danh bạ (số {official.id}, cơ quan {official.agency_code})",
            f"{official.person_id} belongs to another official on the roster (official {official.id}, agency "
            f"{official.agency_code}), not to {full_name!r} of {agency_code}",
        )
    return official


def check_certificate_holder(store: Store, *, agency_code: str, full_name: str | None, identifiers: Iterable[str]) -> None:
    """Before issuing a personal certificate: do its person identifiers belong to this holder (or to nobody
    yet)? Raises IdentifierOfAnotherOfficial otherwise."""
    with store.transaction() as session:
        _check_holder(session, agency_code=agency_code, full_name=full_name, identifiers=[str(i) for i in identifiers])


def enrol_certificate(
    store: Store,
    *,
    serial: int | str,
    agency_code: str,
    kind: str,
    not_before: datetime,
    not_after: datetime,
    full_name: str | None = None,
    identifiers: Iterable[str] = (),
    title: str | None = None,
    subject: str | None = None,
) -> CertificateInfo:
    """Record a certificate issued at enrolment. A personal certificate is attached to the official named by
    the first person id among `identifiers` (added to the roster when new); an agency certificate to the
    agency. Enrolling the same serial again is harmless (idempotent)."""
    if kind not in ("personal", "agency"):
        raise InvalidValue(f"loại chứng thư không hợp lệ: {kind!r}", f"invalid certificate kind: {kind!r} (personal, agency)")
    serial = normalise_serial(serial)
    identifiers = [str(i) for i in identifiers]
    with store.transaction() as session:
        if session.get(Agency, agency_code) is None:
            raise UnknownAgency(agency_code)
        existing = session.get(Certificate, serial)
        if existing is not None:
            return CertificateInfo.from_row(existing)
        official_id = None
        if kind == "personal":
            person_id = next((i for i in identifiers if PERSON_ID.match(i)), None)
            if person_id is None:
                raise InvalidValue(
                    "chứng thư cá nhân cần mã CCCD/CMND/HC của người giữ",
                    "a personal certificate needs the holder's CCCD/CMND/HC identifier",
                )
            official = _check_holder(session, agency_code=agency_code, full_name=full_name, identifiers=identifiers)
            if official is None:
                official = Official(person_id=person_id, identifiers=";".join(identifiers), agency_code=agency_code,
                                    full_name=full_name or person_id, title=title)
                session.add(official)
                session.flush()
            official_id = official.id
        row = Certificate(serial=serial, kind=kind, agency_code=agency_code, official_id=official_id, subject=subject,
                          not_before=not_before, not_after=not_after)
        session.add(row)
        session.flush()
        return CertificateInfo.from_row(row)


def revoke_certificate(store: Store, serial: int | str, *, revoked_at: datetime, reason: str = "unspecified") -> CertificateInfo:
    """Mark a certificate revoked (idempotent: the first revocation time stays)."""
    serial = normalise_serial(serial)
    if revoked_at.tzinfo is None:
        raise InvalidValue("thời điểm thu hồi phải kèm múi giờ", "revoked_at must carry its UTC offset")
    with store.transaction() as session:
        row = session.get(Certificate, serial)
        if row is None:
            raise UnknownCertificate(serial)
        if row.revoked_at is None:
            row.revoked_at = revoked_at
            row.revocation_reason = reason
            session.flush()
        return CertificateInfo.from_row(row)


def certificates_of_agency(store: Store, agency_code: str) -> list[CertificateInfo]:
    with store.transaction() as session:
        rows = session.scalars(select(Certificate).where(Certificate.agency_code == agency_code).order_by(Certificate.serial))
        return [CertificateInfo.from_row(r) for r in rows]
