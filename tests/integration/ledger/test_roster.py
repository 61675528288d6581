"""Roster and documents on SQLite and PostgreSQL: precise CSV errors with nothing stored, enrolment and
revocation, numbering constraints, returned documents."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ledger import (
    Conflict,
    Direction,
    DocumentDraft,
    DuplicateDocumentNumber,
    InvalidValue,
    RosterImportError,
    UnknownAgency,
    UnknownCertificate,
    enrol_certificate,
    find_document_by_digest,
    get_agency,
    import_agencies_csv,
    import_officials_csv,
    issue_number,
    link_signed_file,
    mark_returned,
    register_document,
    revoke_certificate,
)
from ledger.models import Agency, Certificate, Document, Official
from tests.support.ledger import DEPARTMENT, ROSTER_CSV, utc


def _counts(store) -> tuple[int, int, int, int]:
    with store.transaction() as session:
        return tuple(session.scalar(select(func.count()).select_from(m)) for m in (Agency, Official, Certificate, Document))


def test_agency_csv_errors_are_located_and_nothing_is_stored(ledger_store):
    bad = (
        "code,legacy_code,name,level,parent_code,valid_from,valid_until\n"
        "H26,000.00.00.H26,UBND Thành phố,city,,2008-08-01,\n"
        "H26.10,00.10.00.H26,Sở Nội vụ,city,H26,2008-08-01,\n"  # legacy code malformed
        "H26.11,,Sở Tài chính,province,H26,2008-08-01,\n"  # unknown level
        "H26.12,,Sở Y tế,city,H99,01/08/2008,\n"  # unknown parent, wrong date format
        "H26,,Trùng mã,city,,2008-08-01,\n"  # duplicate code
        "H26.13,,,city,H26,2008-08-01,2001-01-01\n"  # empty name, end before start
    )
    with pytest.raises(RosterImportError) as caught:
        import_agencies_csv(ledger_store, bad, source="agencies.csv")
    problems = [(p.line, p.column, p.column_number) for p in caught.value.problems]
    assert problems == [
        (3, "legacy_code", 2),
        (4, "level", 4),
        (5, "parent_code", 5),
        (5, "valid_from", 6),
        (6, "code", 1),
        (7, "name", 3),
        (7, "valid_until", 7),
    ]
    first = caught.value.problems[0]
    assert str(first) == ("dòng 3, cột 2 (legacy_code): phải có dạng 000.00.00.G22: '00.10.00.H26' / "
                          "line 3, column 2 (legacy_code): must look like 000.00.00.G22: '00.10.00.H26'")
    assert caught.value.problems[1].en == "unknown level 'province' (known: city, commune, district)"
    assert caught.value.vi == "tệp agencies.csv có 7 lỗi, không lưu gì"
    assert _counts(ledger_store) == (0, 0, 0, 0)


def test_agency_csv_header_errors(ledger_store):
    with pytest.raises(RosterImportError) as caught:
        import_agencies_csv(ledger_store, "code,name,levle,valid_from\nX,Y,city,2020-01-01\n")
    assert [(p.line, p.column, p.column_number, p.en) for p in caught.value.problems] == [
        (1, "levle", 3, "unknown column 'levle' (known: code, legacy_code, name, level, parent_code, valid_from, valid_until)"),
        (1, "level", None, "required column 'level' is missing"),
    ]
    with pytest.raises(RosterImportError) as caught:
        import_agencies_csv(ledger_store, "")
    assert caught.value.problems[0].en == "empty file: the header line is missing"
    assert _counts(ledger_store) == (0, 0, 0, 0)


def test_agency_csv_imports_both_code_forms_with_parents_after_children(ledger_store):
    reordered = "\n".join([ROSTER_CSV.splitlines()[0]] + ROSTER_CSV.strip().splitlines()[:0:-1]) + "\n"
    agencies = import_agencies_csv(ledger_store, "\ufeff" + reordered)  # children first, Excel's BOM
    assert len(agencies) == 5
    assert get_agency(ledger_store, "000.00.30.H26").code == "H26.30"
    assert get_agency(ledger_store, "H26.30").valid_until.isoformat() == "2025-06-30"
    with pytest.raises(UnknownAgency):
        get_agency(ledger_store, "000.00.99.H26")


def test_official_csv_errors_are_located_and_nothing_is_stored(ledger_with_roster):
    bad = (
        "agency_code,full_name,title,identifiers,certificate_serial,certificate_not_before,certificate_not_after\n"
        "H26.10,Nguyễn Văn An,Giám đốc,CCCD:001085000001,a1,2024-01-01T00:00:00+07:00,2026-12-31T00:00:00+07:00\n"
        "H26.99,Trần Bình,,CCCD:001085000002,,,\n"  # unknown agency
        "H26.10,Lê Cường,,CCCD:12345,,,\n"  # CCCD must have 12 digits
        "H26.10,Phạm Dung,,CCCD:001085000004,A1,2024-01-01T00:00:00+07:00,2026-01-01T00:00:00+07:00\n"  # serial repeats line 2
        "H26.10,Hoàng Em,,CCCD:001085000005,zz,2024-01-01,2023-01-01T00:00:00+07:00\n"  # not hex, naive time
    )
    with pytest.raises(RosterImportError) as caught:
        import_officials_csv(ledger_with_roster, bad)
    assert [(p.line, p.column) for p in caught.value.problems] == [
        (3, "agency_code"),
        (4, "identifiers"),
        (5, "certificate_serial"),
        (6, "certificate_serial"),
        (6, "certificate_not_before"),
    ]
    assert caught.value.problems[2].en == "certificate a1 repeats line 2"
    assert caught.value.problems[4].en == "time must be ISO 8601 with an offset: '2024-01-01'"
    assert _counts(ledger_with_roster) == (5, 0, 0, 0)


def test_enrolment_and_revocation_keep_the_roster_current(ledger_with_roster):
    store = ledger_with_roster
    cert = enrol_certificate(store, serial=0x0BEEF, agency_code=DEPARTMENT, kind="personal", full_name="Nguyễn Văn An",
                             identifiers=["CCCD:001085000001"], not_before=utc(2025, 1, 1), not_after=utc(2030, 1, 1))
    assert (cert.serial, cert.kind, cert.revoked_at) == ("beef", "personal", None)
    again = enrol_certificate(store, serial="00:0b:ee:f", agency_code=DEPARTMENT, kind="personal",
                              identifiers=["CCCD:001085000001"], not_before=utc(2025, 1, 1), not_after=utc(2030, 1, 1))
    assert again == cert  # idempotent
    second = enrol_certificate(store, serial="cafe", agency_code=DEPARTMENT, kind="personal",
                               identifiers=["CCCD:001085000001"], not_before=utc(2025, 1, 1), not_after=utc(2030, 1, 1))
    assert second.official_id == cert.official_id  # the same official holds both
    revoked = revoke_certificate(store, "BEEF", revoked_at=utc(2025, 6, 1), reason="keyCompromise")
    assert (revoked.revoked_at, revoked.revocation_reason) == (utc(2025, 6, 1), "keyCompromise")
    later = revoke_certificate(store, "beef", revoked_at=utc(2025, 7, 1), reason="superseded")
    assert later.revoked_at == utc(2025, 6, 1)  # the first revocation stands
    assert revoked.is_valid_at(utc(2025, 5, 31)) and not revoked.is_valid_at(utc(2025, 6, 1))
    with pytest.raises(UnknownCertificate):
        revoke_certificate(store, "dead", revoked_at=utc(2025, 1, 1))
    with pytest.raises(InvalidValue) as caught:
        enrol_certificate(store, serial="f00d", agency_code=DEPARTMENT, kind="personal", identifiers=["MST:0100686209"],
                          not_before=utc(2025, 1, 1), not_after=utc(2030, 1, 1))
    assert caught.value.en == "a personal certificate needs the holder's CCCD/CMND/HC identifier"
    with pytest.raises(UnknownAgency):
        enrol_certificate(store, serial="f00d", agency_code="X1", kind="agency", not_before=utc(2025, 1, 1), not_after=utc(2030, 1, 1))
    assert _counts(store)[1:3] == (1, 2)


def test_document_numbers_are_unique_per_agency_year_and_series(ledger_with_roster):
    store = ledger_with_roster
    first = register_document(store, DocumentDraft(DEPARTMENT, Direction.OUTGOING, utc(2025, 3, 1), "QĐ", notation="QĐ-SNV"))
    issued = issue_number(store, first.id, issued_at=utc(2025, 12, 31, 17, 30))  # 1 January 2026 in Hanoi
    assert (issued.number, issued.year) == (1, 2026)
    with pytest.raises(DuplicateDocumentNumber) as caught:
        register_document(store, DocumentDraft(DEPARTMENT, Direction.OUTGOING, utc(2026, 2, 1), "QĐ", number=1))
    assert caught.value.en == "number 01 of 2026 (series default) of H26.10 is already used"
    secret = register_document(store, DocumentDraft(DEPARTMENT, Direction.OUTGOING, utc(2026, 2, 1), "QĐ", number=1, secret=True))
    assert (secret.series, secret.number) == ("secret", 1)  # secret documents are numbered apart
    with pytest.raises(InvalidValue):
        DocumentDraft(DEPARTMENT, Direction.OUTGOING, utc(2026, 2, 1), "QĐ", secret=True, series="default")
    with pytest.raises(Conflict):
        issue_number(store, first.id, issued_at=utc(2026, 1, 2))
    with pytest.raises(UnknownAgency):
        register_document(store, DocumentDraft("X9", Direction.OUTGOING, utc(2026, 2, 1), "QĐ"))
    assert _counts(store)[3] == 2


def test_signed_files_link_by_digest_and_incoming_documents_return_with_a_reason(ledger_with_roster):
    store = ledger_with_roster
    doc = register_document(store, DocumentDraft(DEPARTMENT, "incoming", utc(2025, 8, 1), "CV", counterpart_code="000.00.00.G22"))
    link = link_signed_file(store, doc.id, digest="AB" * 32, size=1234, filename="cv.pdf")
    assert link_signed_file(store, doc.id, digest="ab" * 32, size=1234) == link
    assert find_document_by_digest(store, "ab" * 32).id == doc.id
    assert find_document_by_digest(store, "cd" * 32) is None
    other = register_document(store, DocumentDraft(DEPARTMENT, "outgoing", utc(2025, 8, 1), "QĐ"))
    with pytest.raises(Conflict):
        link_signed_file(store, other.id, digest="ab" * 32, size=1)
    returned = mark_returned(store, doc.id, reason="Chữ ký số không hợp lệ", returned_at=utc(2025, 8, 1, 3))
    assert (returned.return_reason, returned.returned_at) == ("Chữ ký số không hợp lệ", utc(2025, 8, 1, 3))
    with pytest.raises(InvalidValue) as caught:
        mark_returned(store, other.id, reason="x", returned_at=utc(2025, 8, 1))
    assert caught.value.en == "only an incoming document can be returned"


def test_officials_off_the_roster_are_not_counted_for_coverage(ledger_with_roster):
    from ledger.report import Metric, monthly_report

    store = ledger_with_roster
    added = import_officials_csv(store, (
        "agency_code,full_name,title,identifiers,certificate_serial,certificate_not_before,certificate_not_after,active_from,active_until\n"
        "H26.10,Nguyễn Văn An,Giám đốc,CCCD:001085000001,a1,2024-01-01T00:00:00+07:00,2027-01-01T00:00:00+07:00,,\n"
        "H26.10,Trần Bình,Phó Giám đốc,CCCD:001085000002,,,,2020-01-01,2025-07-15\n"  # retired mid-July
    ))
    assert added == 2
    coverage = lambda month: monthly_report(store, month).agency(DEPARTMENT).rate(Metric.CERTIFICATE_COVERAGE)  # noqa: E731
    assert (coverage("2025-06").numerator.count, coverage("2025-06").denominator.count) == (1, 2)
    assert (coverage("2025-08").numerator.count, coverage("2025-08").denominator.count, coverage("2025-08").percent) == (1, 1, 100.0)
    with pytest.raises(RosterImportError) as caught:
        import_officials_csv(store, "agency_code,full_name,identifiers,active_from,active_until\n"
                                    "H26.10,Lê Cường,CCCD:001085000003,2025-01-01,2024-01-01\n")
    assert [(p.line, p.column, p.column_number, p.en) for p in caught.value.problems] == [(2, "active_until", 5, "is before active_from")]
