"""Certificate coverage at a moment: per agency and level, who on the roster holds a valid personal
certificate and who does not, which agencies have no valid seal (agency) certificate, which certificates
expire within the window and which are revoked. Every number names the people or certificates behind it
(DOMAIN.md, "Monthly report": every figure must drill down).

`build_coverage` is pure (values in, a report out); `coverage_at(store, ...)` loads the values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from ledger.models import Agency, Certificate, Level, Official
from ledger.store import Store


@dataclass(frozen=True)
class HeldCertificate:
    serial: str
    kind: str  # personal | agency
    agency_code: str
    official_id: int | None
    holder: str  # the official's name, or the agency's name for a seal certificate
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None
    revocation_reason: str | None

    def is_valid_at(self, moment: datetime) -> bool:
        return self.not_before <= moment <= self.not_after and (self.revoked_at is None or moment < self.revoked_at)

    def to_json(self) -> dict:
        return {"serial": self.serial, "kind": self.kind, "agency_code": self.agency_code,
                "official_id": self.official_id, "holder": self.holder,
                "not_before": self.not_before.isoformat(), "not_after": self.not_after.isoformat(),
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
                "revocation_reason": self.revocation_reason}


@dataclass(frozen=True)
class Person:
    official_id: int
    full_name: str
    title: str | None
    person_id: str
    agency_code: str
    active_from: date | None = None
    active_until: date | None = None

    def to_json(self) -> dict:
        return {"official_id": self.official_id, "full_name": self.full_name, "title": self.title,
                "person_id": self.person_id, "agency_code": self.agency_code}


@dataclass(frozen=True)
class AgencyCoverage:
    code: str
    name: str
    level: str
    with_certificate: tuple[Person, ...]
    without_certificate: tuple[Person, ...]
    seal_certificates: tuple[HeldCertificate, ...]  # valid agency certificates
    expiring: tuple[HeldCertificate, ...]
    revoked: tuple[HeldCertificate, ...]

    @property
    def officials(self) -> int:
        return len(self.with_certificate) + len(self.without_certificate)

    @property
    def has_valid_seal(self) -> bool:
        return bool(self.seal_certificates)

    @property
    def percent(self) -> float | None:
        """Officials with a valid certificate over officials on the roster; None when nobody is on it (no
        rate rather than 0%)."""
        return None if not self.officials else round(100 * len(self.with_certificate) / self.officials, 1)

    def to_json(self) -> dict:
        return {
            "code": self.code, "name": self.name, "level": self.level,
            "officials": self.officials, "covered": len(self.with_certificate),
            "uncovered": len(self.without_certificate), "percent": self.percent,
            "has_valid_seal": self.has_valid_seal,
            "expiring": len(self.expiring), "revoked": len(self.revoked),
            "people": {
                "with_certificate": [p.to_json() for p in self.with_certificate],
                "without_certificate": [p.to_json() for p in self.without_certificate],
            },
            "certificates": {
                "seal": [c.to_json() for c in self.seal_certificates],
                "expiring": [c.to_json() for c in self.expiring],
                "revoked": [c.to_json() for c in self.revoked],
            },
        }


@dataclass(frozen=True)
class LevelCoverage:
    code: str
    name_vi: str
    name_en: str
    agencies: tuple[AgencyCoverage, ...]

    @property
    def officials(self) -> int:
        return sum(a.officials for a in self.agencies)

    @property
    def covered(self) -> int:
        return sum(len(a.with_certificate) for a in self.agencies)

    @property
    def percent(self) -> float | None:
        return None if not self.officials else round(100 * self.covered / self.officials, 1)

    def to_json(self) -> dict:
        return {"code": self.code, "name_vi": self.name_vi, "name_en": self.name_en,
                "officials": self.officials, "covered": self.covered, "uncovered": self.officials - self.covered,
                "percent": self.percent,
                "agencies_without_seal": sum(1 for a in self.agencies if not a.has_valid_seal),
                "expiring": sum(len(a.expiring) for a in self.agencies),
                "revoked": sum(len(a.revoked) for a in self.agencies),
                "agencies": [a.to_json() for a in self.agencies]}


@dataclass(frozen=True)
class CoverageReport:
    at: datetime
    window_days: int
    levels: tuple[LevelCoverage, ...]

    def agency(self, code: str) -> AgencyCoverage:
        for level in self.levels:
            for agency in level.agencies:
                if agency.code == code:
                    return agency
        raise KeyError(code)

    def to_json(self) -> dict:
        return {"at": self.at.isoformat(), "window_days": self.window_days,
                "levels": [level.to_json() for level in self.levels]}


@dataclass(frozen=True)
class LevelFact:
    code: str
    rank: int
    name_vi: str
    name_en: str


@dataclass(frozen=True)
class AgencyFact:
    code: str
    name: str
    level: str
    valid_from: date
    valid_until: date | None


def build_coverage(*, at: datetime, window_days: int, levels: tuple[LevelFact, ...], agencies: tuple[AgencyFact, ...],
                   people: tuple[Person, ...], certificates: tuple[HeldCertificate, ...],
                   agency_codes: frozenset[str] | None = None) -> CoverageReport:
    """Coverage at `at` of the agencies in force that day (only `agency_codes` when given). An official counts
    when their active period contains the day; a certificate is valid when `at` lies within its validity and
    before its revocation. Expiring: valid now and ending within `window_days`. Revoked: revoked at or before
    `at` while otherwise still within its validity (a revocation that lowers coverage)."""
    day = at.date()
    horizon = at + timedelta(days=window_days)
    by_agency: dict[str, list[HeldCertificate]] = {}
    for certificate in certificates:
        by_agency.setdefault(certificate.agency_code, []).append(certificate)
    result = []
    for level in sorted(levels, key=lambda l: l.rank):
        rows = []
        for agency in sorted(agencies, key=lambda a: a.code):
            if agency.level != level.code or not (agency.valid_from <= day and (agency.valid_until is None or day <= agency.valid_until)):
                continue
            if agency_codes is not None and agency.code not in agency_codes:
                continue
            held = by_agency.get(agency.code, [])
            valid_personal = {c.official_id for c in held if c.kind == "personal" and c.is_valid_at(at)}
            members = [p for p in people if p.agency_code == agency.code
                       and (p.active_from is None or p.active_from <= day) and (p.active_until is None or day <= p.active_until)]
            members.sort(key=lambda p: (p.full_name, p.official_id))
            rows.append(AgencyCoverage(
                code=agency.code, name=agency.name, level=level.code,
                with_certificate=tuple(p for p in members if p.official_id in valid_personal),
                without_certificate=tuple(p for p in members if p.official_id not in valid_personal),
                seal_certificates=tuple(c for c in held if c.kind == "agency" and c.is_valid_at(at)),
                expiring=tuple(sorted((c for c in held if c.is_valid_at(at) and c.not_after <= horizon),
                                      key=lambda c: (c.not_after, c.serial))),
                revoked=tuple(sorted((c for c in held if c.revoked_at is not None and c.revoked_at <= at
                                      and c.not_before <= at <= c.not_after), key=lambda c: (c.revoked_at, c.serial))),
            ))
        if rows:
            result.append(LevelCoverage(level.code, level.name_vi, level.name_en, tuple(rows)))
    return CoverageReport(at=at, window_days=window_days, levels=tuple(result))


def coverage_at(store: Store, *, at: datetime, window_days: int = 60,
                agency_codes: frozenset[str] | None = None) -> CoverageReport:
    """Load the roster and build its coverage at `at` (an aware datetime)."""
    day = at.date()
    with store.transaction() as session:
        levels = tuple(LevelFact(r.code, r.rank, r.name_vi, r.name_en) for r in session.scalars(select(Level))
                       if r.valid_from <= day and (r.valid_until is None or day <= r.valid_until))
        agency_rows = list(session.scalars(select(Agency)))
        names = {a.code: a.name for a in agency_rows}
        agencies = tuple(AgencyFact(a.code, a.name, a.level_code, a.valid_from, a.valid_until) for a in agency_rows)
        official_rows = list(session.scalars(select(Official)))
        people = tuple(Person(o.id, o.full_name, o.title, o.person_id, o.agency_code, o.active_from, o.active_until)
                       for o in official_rows)
        holders = {o.id: o.full_name for o in official_rows}
        certificates = tuple(
            HeldCertificate(c.serial, c.kind, c.agency_code, c.official_id,
                            holders.get(c.official_id) if c.official_id else names.get(c.agency_code, c.agency_code),
                            c.not_before, c.not_after, c.revoked_at, c.revocation_reason)
            for c in session.scalars(select(Certificate)))
    return build_coverage(at=at, window_days=window_days, levels=levels, agencies=agencies, people=people,
                          certificates=certificates, agency_codes=agency_codes)


def render_coverage_rows(report: CoverageReport, *, lang: str = "vi") -> list[list[object]]:
    """One header and one row per agency (the CSV and the XLSX summary sheet)."""
    header = (["Cấp", "Mã", "Cơ quan", "Cán bộ", "Có chứng thư", "Chưa có", "Tỷ lệ %", "Có chứng thư cơ quan",
               "Sắp hết hạn", "Đã thu hồi"] if lang == "vi" else
              ["Level", "Code", "Agency", "Officials", "With certificate", "Without", "Coverage %",
               "Valid seal certificate", "Expiring", "Revoked"])
    yes, no = ("có", "không") if lang == "vi" else ("yes", "no")
    rows: list[list[object]] = [header]
    for level in report.levels:
        for a in level.agencies:
            rows.append([level.code, a.code, a.name, a.officials, len(a.with_certificate), len(a.without_certificate),
                         "" if a.percent is None else a.percent, yes if a.has_valid_seal else no,
                         len(a.expiring), len(a.revoked)])
    return rows


def render_coverage_people(report: CoverageReport, *, lang: str = "vi") -> list[list[object]]:
    """The drill-down: every person and certificate behind the numbers, one line each."""
    header = (["Mã cơ quan", "Nhóm", "Mã cán bộ", "Họ tên", "Chức danh", "Số hiệu chứng thư", "Hết hạn", "Thu hồi lúc"]
              if lang == "vi" else
              ["Agency code", "Group", "Official id", "Name", "Title", "Certificate serial", "Not after", "Revoked at"])
    rows: list[list[object]] = [header]
    for level in report.levels:
        for a in level.agencies:
            for group, people in (("with_certificate", a.with_certificate), ("without_certificate", a.without_certificate)):
                for p in people:
                    rows.append([a.code, group, p.official_id, p.full_name, p.title or "", "", "", ""])
            for group, certs in (("seal", a.seal_certificates), ("expiring", a.expiring), ("revoked", a.revoked)):
                for c in certs:
                    rows.append([a.code, group, c.official_id or "", c.holder, "", c.serial, c.not_after.isoformat(),
                                 c.revoked_at.isoformat() if c.revoked_at else ""])
    return rows


def _inert(value: object) -> object:
    # A cell starting with = + - @ would be a formula in a spreadsheet (CSV injection): quote it.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def render_coverage_csv(report: CoverageReport, *, lang: str = "vi") -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in render_coverage_rows(report, lang=lang):
        writer.writerow([_inert(v) for v in row])
    return out.getvalue()


def render_coverage_xlsx(report: CoverageReport, *, lang: str = "vi") -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook(write_only=True)
    summary = book.create_sheet("Tổng hợp" if lang == "vi" else "Summary")
    for row in render_coverage_rows(report, lang=lang):
        summary.append([_inert(v) for v in row])
    detail = book.create_sheet("Chi tiết" if lang == "vi" else "Details")
    for row in render_coverage_people(report, lang=lang):
        detail.append([_inert(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
