"""Importing the roster from CSV: every error reported with its line and column (both languages), and nothing
stored unless the whole file is right."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from sqlalchemy import select

from ledger.entries import normalise_serial
from ledger.errors import CsvProblem, InvalidValue, RosterImportError, RosterOutsideAgency
from ledger.models import Agency, Certificate, Level, Official
from ledger.roster import AGENCY_CODE, IDENTIFIER, LEGACY_CODE, PERSON_ID, AgencyInfo, _agency_row
from ledger.store import Store

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


def _is_within(code: str | None, agency: str, parents: dict[str, str | None]) -> bool:
    """Is `code` a strict subordinate of `agency` through the parent links (cycles and unknowns: no)?"""
    seen = set()
    current = parents.get(code) if code else None
    while current is not None and current not in seen:
        if current == agency:
            return True
        seen.add(current)
        current = parents.get(current)
    return False


def _cell(row: dict, column: str) -> str | None:
    value = (row.get(column) or "").strip()
    return value or None


def _refuse_outside(source: str, problems: list[CsvProblem]) -> None:
    if problems:
        raise RosterOutsideAgency(source, problems)


def import_agencies_csv(store: Store, text: str, *, source: str = "agencies.csv",
                        within_agency: str | None = None, dry_run: bool = False) -> list[AgencyInfo]:
    """Add the agencies of a CSV file (columns: code, legacy_code, name, level, parent_code, valid_from,
    valid_until). Parents may come later in the file. Either every row is stored or none is.

    `within_agency` binds the write to one agency (the caller's): every new agency must be its subordinate
    (through parents already on the roster or in the file), otherwise RosterOutsideAgency and nothing is
    stored. None only for administrators. With `dry_run` every check runs (the same errors are raised) and
    nothing is stored (the console's preview)."""
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
        if within_agency is not None:
            # The caller's agency first: a bound key never writes outside its own subtree (issue 9, item 8).
            tree = dict(session.execute(select(Agency.code, Agency.parent_code)).all())
            tree.update({_cell(row, "code"): _cell(row, "parent_code") for row in rows
                         if _cell(row, "code") and _cell(row, "code") not in tree})
            _refuse_outside(source, [
                CsvProblem(row["_line"], "parent_code", header.index("parent_code") + 1 if "parent_code" in header else None,
                           f"cơ quan {_cell(row, 'code')!r} không trực thuộc {within_agency} (cơ quan của bên gọi)",
                           f"agency {_cell(row, 'code')!r} is not under {within_agency}, the caller's agency")
                for row in rows if not _is_within(_cell(row, "code"), within_agency, tree)])
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
        if dry_run:
            return [a for _, a in agencies]
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


def _split_identifiers(value: str) -> list[str]:
    return [part.strip() for part in value.replace(",", ";").split(";") if part.strip()]


def import_officials_csv(store: Store, text: str, *, source: str = "officials.csv",
                         within_agency: str | None = None, dry_run: bool = False) -> int:
    """Add officials and their personal certificates from CSV (columns: agency_code, full_name, title,
    identifiers ("CCCD:...;HC:..."), certificate_serial, certificate_not_before, certificate_not_after, and
    optionally active_from, active_until: the period the person is on the roster, for certificate coverage).
    An official on several rows adds several certificates. Returns how many officials were added; either
    every row is stored or none is. `within_agency` binds the write to one agency and its subordinates (the
    caller's), otherwise RosterOutsideAgency; None only for administrators. With
    `dry_run` every check runs and nothing is stored (a preview)."""
    rows, problems = _read_csv(text, source, OFFICIAL_COLUMNS, {"agency_code", "full_name", "identifiers"})
    if problems:
        raise RosterImportError(source, problems)
    header = tuple(k for k in rows[0] if k != "_line") if rows else OFFICIAL_COLUMNS
    check = _RowChecker(header, problems)
    with store.transaction() as session:
        agencies = set(session.scalars(select(Agency.code)))
        if within_agency is not None:
            tree = dict(session.execute(select(Agency.code, Agency.parent_code)).all())
            _refuse_outside(source, [
                CsvProblem(row["_line"], "agency_code", header.index("agency_code") + 1 if "agency_code" in header else None,
                           f"cơ quan {_cell(row, 'agency_code')!r} không thuộc {within_agency} (cơ quan của bên gọi)",
                           f"agency {_cell(row, 'agency_code')!r} is not {within_agency}, the caller's agency, nor under it")
                for row in rows if _cell(row, "agency_code") != within_agency
                and not _is_within(_cell(row, "agency_code"), within_agency, tree)])
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
        if dry_run:
            return len(people)
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
