"""The roster: agencies (with their codes in both forms), officials and the certificates they hold.

Imported from CSV (every error reported with its line and column; nothing stored unless the whole file is
right) and kept current by enrolment and revocation, which the service and the CLI call.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable

from sqlalchemy import select

from ledger.entries import normalise_serial
from ledger.errors import Conflict, CsvProblem, InvalidValue, RosterImportError, UnknownAgency, UnknownCertificate
from ledger.models import Agency, Certificate, Level, Official
from ledger.store import Store

# QCVN 102:2016 organisation codes, older form: "000.00.00.G22" (three groups of digits, a letter, two digits).
LEGACY_CODE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")
AGENCY_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_]{0,39}$")
PERSON_ID = re.compile(r"^(CCCD:\d{12}|CMND:\d{9}(\d{3})?|HC:[A-Z0-9]{6,12})$")
IDENTIFIER = re.compile(r"^(CCCD|CMND|HC|MST|MNS):\S+$")

AGENCY_COLUMNS = ("code", "legacy_code", "name", "level", "parent_code", "valid_from", "valid_until")
OFFICIAL_COLUMNS = (
    "agency_code",
    "full_name",
    "title",
    "identifiers",
    "certificate_serial",
    "certificate_not_before",
    "certificate_not_after",
    "active_from",
    "active_until",
)


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


# ------------------------------------------------------------------------------------------------ CSV


def _read_csv(text: str, source: str, columns: tuple[str, ...], required: set[str]) -> tuple[list[dict], list[CsvProblem]]:
    """Rows as dicts with their line numbers (under key "_line"), and the problems of the header."""
    if text.startswith("\ufeff"):  # Excel writes a BOM in UTF-8 CSV
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [], [CsvProblem(1, None, None, "tệp rỗng, thiếu dòng tiêu đề", "empty file: the header line is missing")]
    except csv.Error as exc:
        return [], [CsvProblem(1, None, None, f"CSV hỏng: {exc}", f"malformed CSV: {exc}")]
    header = [h.strip() for h in header]
    problems = []
    for number, name in enumerate(header, start=1):
        if name not in columns:
            problems.append(CsvProblem(1, name, number, f"cột không biết {name!r}", f"unknown column {name!r} (known: {', '.join(columns)})"))
    for name in sorted(required - set(header)):
        problems.append(CsvProblem(1, name, None, f"thiếu cột bắt buộc {name!r}", f"required column {name!r} is missing"))
    if problems:
        return [], problems
    rows = []
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                problems.append(
                    CsvProblem(line, None, None, f"có {len(values)} cột, cần {len(header)}", f"has {len(values)} fields, expected {len(header)}")
                )
                continue
            row = {name: value.strip() for name, value in zip(header, values)}
            row["_line"] = line
            rows.append(row)
    except csv.Error as exc:
        problems.append(CsvProblem(reader.line_num, None, None, f"CSV hỏng: {exc}", f"malformed CSV: {exc}"))
    return rows, problems


class _RowChecker:
    def __init__(self, header: tuple[str, ...], problems: list[CsvProblem]):
        self.header = header
        self.problems = problems

    def fail(self, row: dict, column: str, vi: str, en: str) -> None:
        self.problems.append(CsvProblem(row["_line"], column, self.header.index(column) + 1 if column in self.header else None, vi, en))

    def text(self, row: dict, column: str, *, required: bool = True, max_length: int = 300) -> str | None:
        value = row.get(column) or None
        if value is None:
            if required:
                self.fail(row, column, "bắt buộc, đang trống", "required, empty")
            return None
        if len(value) > max_length:
            self.fail(row, column, f"dài quá {max_length} ký tự", f"longer than {max_length} characters")
        return value

    def day(self, row: dict, column: str, *, required: bool) -> date | None:
        value = self.text(row, column, required=required)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(row, column, f"ngày phải theo dạng YYYY-MM-DD: {value!r}", f"date must be YYYY-MM-DD: {value!r}")
            return None

    def moment(self, row: dict, column: str, *, required: bool) -> datetime | None:
        value = self.text(row, column, required=required)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            self.fail(row, column, f"thời điểm phải theo ISO 8601 kèm múi giờ: {value!r}", f"time must be ISO 8601 with an offset: {value!r}")
            return None
        return parsed


def import_agencies_csv(store: Store, text: str, *, source: str = "agencies.csv") -> list[AgencyInfo]:
    """Add the agencies of a CSV file (columns: code, legacy_code, name, level, parent_code, valid_from,
    valid_until). Parents may come later in the file. Either every row is stored or none is."""
    rows, problems = _read_csv(text, source, AGENCY_COLUMNS, {"code", "name", "level", "valid_from"})
    if problems:
        raise RosterImportError(source, problems)
    header = tuple(k for k in rows[0] if k != "_line") if rows else AGENCY_COLUMNS
    check = _RowChecker(header, problems)
    agencies: list[tuple[dict, AgencyInfo]] = []
    with store.transaction() as session:
        known_levels = set(session.scalars(select(Level.code)))
        existing = set(session.scalars(select(Agency.code)))
        existing_legacy = set(c for c in session.scalars(select(Agency.legacy_code)) if c)
        seen: dict[str, int] = {}
        seen_legacy: dict[str, int] = {}
        parents: list[tuple[dict, str | None, str | None]] = []
        for row in rows:
            code = check.text(row, "code", max_length=40)
            legacy = check.text(row, "legacy_code", required=False, max_length=20)
            name = check.text(row, "name")
            level = check.text(row, "level", max_length=32)
            parent = check.text(row, "parent_code", required=False, max_length=40)
            valid_from = check.day(row, "valid_from", required=True)
            valid_until = check.day(row, "valid_until", required=False)
            if code is not None and not AGENCY_CODE.match(code):
                check.fail(row, "code", f"mã cơ quan không hợp lệ: {code!r}", f"invalid agency code: {code!r}")
            if code in existing:
                check.fail(row, "code", f"mã {code} đã có trong danh bạ", f"code {code} is already on the roster")
            elif code in seen:
                check.fail(row, "code", f"mã {code} lặp lại (dòng {seen[code]})", f"code {code} repeats line {seen[code]}")
            if code:
                seen.setdefault(code, row["_line"])
            if legacy is not None:
                if not LEGACY_CODE.match(legacy):
                    check.fail(row, "legacy_code", f"phải có dạng 000.00.00.G22: {legacy!r}", f"must look like 000.00.00.G22: {legacy!r}")
                elif legacy in existing_legacy or legacy in seen_legacy:
                    check.fail(row, "legacy_code", f"mã cũ {legacy} bị trùng", f"legacy code {legacy} is already used")
                seen_legacy.setdefault(legacy, row["_line"])
            if level is not None and level not in known_levels:
                check.fail(row, "level", f"cấp không biết {level!r}", f"unknown level {level!r} (known: {', '.join(sorted(known_levels))})")
            if valid_from and valid_until and valid_until < valid_from:
                check.fail(row, "valid_until", "trước ngày bắt đầu", "is before valid_from")
            parents.append((row, code, parent))
            if None not in (code, name, level, valid_from):
                agencies.append((row, AgencyInfo(code, legacy, name, level, parent, valid_from, valid_until)))
        codes = existing | set(seen)
        for row, code, parent in parents:
            if parent and parent not in codes:
                check.fail(row, "parent_code", f"cơ quan cấp trên {parent} không có", f"parent agency {parent} is unknown")
            elif parent and parent == code:
                check.fail(row, "parent_code", "cơ quan không thể là cấp trên của chính nó", "an agency cannot be its own parent")
        if problems:
            problems.sort(key=lambda p: (p.line, p.column_number or 0))
            raise RosterImportError(source, problems)
        # Parents first, so the foreign key holds at every insert.
        pending = [a for _, a in agencies]
        placed = set(existing)
        while pending:
            ready = [a for a in pending if not a.parent_code or a.parent_code in placed]
            if not ready:
                raise RosterImportError(source, [CsvProblem(1, "parent_code", None, "cấp trên tạo thành vòng", "parent codes form a cycle")])
            for a in ready:
                session.add(_agency_row(a))
                placed.add(a.code)
            session.flush()
            pending = [a for a in pending if a.code not in placed]
    return [a for _, a in agencies]


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


def _split_identifiers(value: str) -> list[str]:
    return [part.strip() for part in value.replace(",", ";").split(";") if part.strip()]


def import_officials_csv(store: Store, text: str, *, source: str = "officials.csv") -> int:
    """Add officials and their personal certificates from CSV (columns: agency_code, full_name, title,
    identifiers ("CCCD:...;HC:..."), certificate_serial, certificate_not_before, certificate_not_after, and
    optionally active_from, active_until: the period the person is on the roster, for certificate coverage).
    An official on several rows adds several certificates. Returns how many officials were added; either
    every row is stored or none is."""
    rows, problems = _read_csv(text, source, OFFICIAL_COLUMNS, {"agency_code", "full_name", "identifiers"})
    if problems:
        raise RosterImportError(source, problems)
    header = tuple(k for k in rows[0] if k != "_line") if rows else OFFICIAL_COLUMNS
    check = _RowChecker(header, problems)
    with store.transaction() as session:
        agencies = set(session.scalars(select(Agency.code)))
        existing_people = {p: i for p, i in session.execute(select(Official.person_id, Official.id))}
        existing_serials = set(session.scalars(select(Certificate.serial)))
        people: dict[str, dict] = {}
        serials: dict[str, int] = {}
        for row in rows:
            agency = check.text(row, "agency_code", max_length=40)
            name = check.text(row, "full_name", max_length=200)
            title = check.text(row, "title", required=False, max_length=200)
            raw_ids = check.text(row, "identifiers", max_length=500)
            if agency is not None and agency not in agencies:
                check.fail(row, "agency_code", f"cơ quan {agency} không có trong danh bạ", f"agency {agency} is not on the roster")
            identifiers = _split_identifiers(raw_ids or "")
            person_id = None
            for identifier in identifiers:
                if not IDENTIFIER.match(identifier):
                    check.fail(row, "identifiers", f"mã định danh không hợp lệ {identifier!r} (CCCD:/CMND:/HC:)", f"invalid identifier {identifier!r} (CCCD:/CMND:/HC:)")
                elif person_id is None and PERSON_ID.match(identifier):
                    person_id = identifier
            if raw_ids and person_id is None and all(IDENTIFIER.match(i) for i in identifiers):
                check.fail(row, "identifiers", "cần một mã cá nhân: CCCD 12 số, CMND 9/12 số hoặc HC", "needs a person id: CCCD (12 digits), CMND (9/12) or HC")
            if person_id and person_id in existing_people:
                check.fail(row, "identifiers", f"{person_id} đã có trong danh bạ", f"{person_id} is already on the roster")
            serial_text = check.text(row, "certificate_serial", required=False, max_length=80)
            not_before = check.moment(row, "certificate_not_before", required=serial_text is not None)
            not_after = check.moment(row, "certificate_not_after", required=serial_text is not None)
            serial = None
            if serial_text is not None:
                try:
                    serial = normalise_serial(serial_text)
                except InvalidValue:
                    check.fail(row, "certificate_serial", f"số sê-ri phải là hex: {serial_text!r}", f"serial must be hex: {serial_text!r}")
                if serial in existing_serials:
                    check.fail(row, "certificate_serial", f"chứng thư {serial} đã có", f"certificate {serial} is already on the roster")
                elif serial in serials:
                    check.fail(row, "certificate_serial", f"chứng thư {serial} lặp lại (dòng {serials[serial]})", f"certificate {serial} repeats line {serials[serial]}")
                if serial:
                    serials.setdefault(serial, row["_line"])
            active_from = check.day(row, "active_from", required=False)
            active_until = check.day(row, "active_until", required=False)
            if active_from and active_until and active_until < active_from:
                check.fail(row, "active_until", "trước ngày bắt đầu công tác", "is before active_from")
            if not_before and not_after and not_after <= not_before:
                check.fail(row, "certificate_not_after", "không sau ngày bắt đầu hiệu lực", "is not after certificate_not_before")
            if person_id and agency and name:
                person = people.setdefault(person_id, {"agency": agency, "name": name, "title": title, "ids": identifiers, "certs": [],
                                                       "line": row["_line"], "active": (active_from, active_until)})
                if person["agency"] != agency or person["name"] != name:
                    check.fail(row, "full_name", f"{person_id} đã khai khác ở dòng {person['line']}", f"{person_id} is declared differently on line {person['line']}")
                if serial and not_before and not_after:
                    person["certs"].append((serial, not_before, not_after))
        if problems:
            problems.sort(key=lambda p: (p.line, p.column_number or 0))
            raise RosterImportError(source, problems)
        for person_id, person in people.items():
            official = Official(
                person_id=person_id,
                identifiers=";".join(person["ids"]),
                agency_code=person["agency"],
                full_name=person["name"],
                title=person["title"],
                active_from=person["active"][0],
                active_until=person["active"][1],
            )
            session.add(official)
            session.flush()
            for serial, not_before, not_after in person["certs"]:
                session.add(
                    Certificate(serial=serial, kind="personal", agency_code=person["agency"], official_id=official.id,
                                not_before=not_before, not_after=not_after)
                )
        return len(people)


# ----------------------------------------------------------------------------------- enrolment, revocation


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
            official = session.scalar(select(Official).where(Official.person_id == person_id))
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
