"""The monthly report over a hand-built month, on SQLite and PostgreSQL: every figure checked exactly, with the
documents and ledger records behind it."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from ledger import (
    Direction,
    DocumentDraft,
    append,
    enrol_certificate,
    import_officials_csv,
    mark_returned,
    register_document,
    revoke_certificate,
)
from ledger.report import Metric, Month, monthly_report, render_csv, render_json, render_table, render_xlsx
from tests.support.ledger import CITY_PC, COMMUNE, DEPARTMENT, DISTRICT, NEW_COMMUNE, make_entry, utc

OFFICIALS_CSV = """agency_code,full_name,title,identifiers,certificate_serial,certificate_not_before,certificate_not_after
H26.10,Nguyễn Văn An,Giám đốc,CCCD:001085000001,a1,2024-01-01T00:00:00+07:00,2026-12-31T23:59:59+07:00
H26.10,Trần Thị Bình,Phó Giám đốc,CCCD:001085000002,a2,2023-01-01T00:00:00+07:00,2025-10-15T00:00:00+07:00
H26.10,Lê Văn Cường,Chánh Văn phòng,CCCD:001085000003,a3,2024-01-01T00:00:00+07:00,2027-01-01T00:00:00+07:00
H26.10,Phạm Thị Dung,Văn thư,CCCD:001085000004,,,
H26.30.01,Hoàng Văn Em,Chủ tịch,CCCD:001085000005,a5,2024-06-01T00:00:00+07:00,2028-01-01T00:00:00+07:00
"""


def _document(store, agency, when, *, outgoing=True, secret=False, electronic=True):
    return register_document(
        store,
        DocumentDraft(agency, Direction.OUTGOING if outgoing else Direction.INCOMING, when, "QĐ" if outgoing else "CV",
                      secret=secret, electronic=electronic),
    ).id


def _sign(store, document_id, kind, indication="TOTAL_PASSED", *, agency=DEPARTMENT, event="signed", **kw):
    _sign.n += 1
    return append(store, make_entry(agency, document_id=document_id, kind=kind, indication=indication, n=_sign.n, event=event, **kw)).record_id


_sign.n = 0


@pytest.fixture
def august(ledger_with_roster):
    store = ledger_with_roster
    import_officials_csv(store, OFFICIALS_CSV)
    revoke_certificate(store, "a3", revoked_at=utc(2025, 8, 20), reason="keyCompromise")
    enrol_certificate(store, serial="5ea1", agency_code=DEPARTMENT, kind="agency",
                      not_before=utc(2024, 1, 1), not_after=utc(2027, 1, 1), identifiers=["MST:0100686209"])
    ids, recs = {}, {}
    # 2025-07-31T17:30Z is 1 August 00:30 in Hanoi: an August document.
    ids["D1"] = _document(store, DEPARTMENT, utc(2025, 7, 31, 17, 30))
    recs["r1"] = _sign(store, ids["D1"], "personal")
    recs["r2"] = _sign(store, ids["D1"], "agency")
    ids["D2"] = _document(store, DEPARTMENT, utc(2025, 8, 10, 3))
    recs["r3"] = _sign(store, ids["D2"], "personal")
    ids["D3"] = _document(store, DEPARTMENT, utc(2025, 8, 11, 3))
    recs["r4"] = _sign(store, ids["D3"], "agency")
    ids["D4"] = _document(store, DEPARTMENT, utc(2025, 8, 12, 3), electronic=False)
    recs["r5"] = _sign(store, ids["D4"], "personal")
    recs["r6"] = _sign(store, ids["D4"], "agency")
    ids["D5"] = _document(store, DEPARTMENT, utc(2025, 8, 13, 3), secret=True)
    recs["r5b"] = _sign(store, ids["D5"], "personal")
    ids["D6"] = _document(store, DEPARTMENT, utc(2025, 8, 14, 3))
    recs["r7"] = _sign(store, ids["D6"], "personal")
    recs["r8"] = _sign(store, ids["D6"], "agency", "TOTAL_FAILED")
    recs["r9"] = _sign(store, ids["D6"], "agency", event="correction", corrects=recs["r8"], note="kiểm tra lại với CRL mới")
    ids["D7"] = _document(store, DEPARTMENT, utc(2025, 7, 31, 16, 59))  # 31 July 23:59 in Hanoi: July
    recs["r7b"] = _sign(store, ids["D7"], "personal")
    ids["D8"] = _document(store, DEPARTMENT, utc(2025, 8, 31, 17, 0))  # 1 September 00:00 in Hanoi
    ids["I1"] = _document(store, DEPARTMENT, utc(2025, 8, 5, 2), outgoing=False)
    recs["r10"] = _sign(store, ids["I1"], "personal", event="verified", purpose="incoming")
    recs["r11"] = _sign(store, ids["I1"], "agency", event="verified", purpose="incoming")
    ids["I2"] = _document(store, DEPARTMENT, utc(2025, 8, 6, 2), outgoing=False)
    recs["r12"] = _sign(store, ids["I2"], "agency", "TOTAL_FAILED", event="verified", purpose="incoming")
    mark_returned(store, ids["I2"], reason="Chữ ký số không hợp lệ (HASH_FAILURE)", returned_at=utc(2025, 8, 6, 3))
    ids["I3"] = _document(store, DEPARTMENT, utc(2025, 8, 7, 2), outgoing=False, electronic=False)
    ids["D9"] = _document(store, COMMUNE, utc(2025, 8, 20, 2))
    recs["r13"] = _sign(store, ids["D9"], "personal", agency=COMMUNE)
    recs["r14"] = _sign(store, ids["D9"], "agency", agency=COMMUNE)
    return store, ids, recs


def test_hand_built_month_figures_and_drill_down(august):
    store, ids, recs = august
    report = monthly_report(store, "2025-08")
    assert report.as_of == Month(2025, 8).end
    assert [level.code for level in report.levels] == ["city", "commune"]  # no district level after 1 July 2025
    city = report.level("city")
    # Below target first: the department (signing 40% < 100%), then the city PC (nothing to count).
    assert [a.code for a in city.agencies] == [DEPARTMENT, CITY_PC]
    dept = report.agency(DEPARTMENT)
    f = dept.figures
    assert f.outgoing.document_ids == tuple(sorted([ids["D1"], ids["D2"], ids["D3"], ids["D4"], ids["D6"]]))
    assert f.signed_valid_both.document_ids == (ids["D1"], ids["D6"])
    assert f.signed_valid_both.record_ids == (recs["r1"], recs["r2"], recs["r7"], recs["r9"])  # r8 was corrected by r9
    assert f.personal_only.document_ids == (ids["D2"],) and f.personal_only.record_ids == (recs["r3"],)
    assert f.agency_only.document_ids == (ids["D3"],) and f.agency_only.record_ids == (recs["r4"],)
    assert f.both_on_paper.document_ids == (ids["D4"],)
    assert f.unsigned.count == 0
    assert f.secret_excluded.document_ids == (ids["D5"],)
    signing = dept.rate(Metric.SIGNING_RATE)
    assert (signing.numerator.count, signing.denominator.count, signing.percent, signing.target) == (2, 5, 40.0, 100.0)
    assert signing.meets_target is False and signing.shortfall == 60.0
    online = dept.rate(Metric.ONLINE_RATE)
    assert f.handled_total.count == 8 and f.handled_online.document_ids == tuple(
        sorted([ids["D1"], ids["D2"], ids["D3"], ids["D6"], ids["I1"], ids["I2"]]))
    assert (online.percent, online.target) == (75.0, 100.0)
    coverage = dept.rate(Metric.CERTIFICATE_COVERAGE)
    assert (coverage.numerator.count, coverage.denominator.count, coverage.percent) == (2, 4, 50.0)
    assert coverage.numerator.certificate_serials == ("a1", "a2")  # a3 revoked on 20 August, Dung has none
    assert f.expiring_soon.certificate_serials == ("a2",)  # 15 October is within 60 days of 31 August
    assert f.incoming.document_ids == tuple(sorted([ids["I1"], ids["I2"], ids["I3"]]))
    assert f.incoming_valid.document_ids == (ids["I1"],) and f.incoming_valid.record_ids == (recs["r10"], recs["r11"])
    assert f.incoming_invalid.document_ids == (ids["I2"],) and f.incoming_invalid.record_ids == (recs["r12"],)
    assert f.incoming_unverified.document_ids == (ids["I3"],)
    assert f.incoming_returned.document_ids == (ids["I2"],)
    assert f.incoming_returned.reasons == ("Chữ ký số không hợp lệ (HASH_FAILURE)",)
    assert dept.below_target == (Metric.SIGNING_RATE, Metric.ONLINE_RATE, Metric.CERTIFICATE_COVERAGE)

    commune = report.level("commune")
    assert [a.code for a in commune.agencies] == [COMMUNE, NEW_COMMUNE]
    ward = report.agency(COMMUNE)
    assert ward.rate(Metric.SIGNING_RATE).percent == 100.0 and ward.below_target == ()
    assert ward.rate(Metric.ONLINE_RATE).target == 80.0
    assert ward.figures.signed_valid_both.record_ids == (recs["r13"], recs["r14"])
    assert commune.totals.rate(Metric.SIGNING_RATE).percent == 100.0
    assert city.totals.figures.outgoing.count == 5


def test_timezone_boundary_puts_documents_in_hanoi_months(august):
    store, ids, _ = august
    july = monthly_report(store, "2025-07").agency(DEPARTMENT).figures.outgoing.document_ids
    september = monthly_report(store, "2025-09", now=utc(2025, 9, 2)).agency(DEPARTMENT).figures.outgoing.document_ids
    assert july == (ids["D7"],)
    assert september == (ids["D8"],)
    assert ids["D1"] not in july


def test_level_change_on_1_july_2025(august):
    store, _, _ = august
    june = monthly_report(store, "2025-06")
    assert [(level.code, [a.code for a in level.agencies]) for level in june.levels] == [
        ("city", [DEPARTMENT, CITY_PC]),  # 3 of 4 officials certified at the end of June: below target
        ("district", [DISTRICT]),
        ("commune", [COMMUNE]),
    ]
    assert {t.metric: t.percent for t in june.level("district").targets} == {
        Metric.ONLINE_RATE: 95.0, Metric.CERTIFICATE_COVERAGE: 100.0, Metric.SIGNING_RATE: 100.0}
    assert june.agency(DEPARTMENT).rate(Metric.CERTIFICATE_COVERAGE).percent == 75.0
    july = monthly_report(store, "2025-07")
    assert [(level.code, [a.code for a in level.agencies]) for level in july.levels] == [
        ("city", [DEPARTMENT, CITY_PC]),  # July: one document with a personal signature only
        ("commune", [COMMUNE, NEW_COMMUNE]),
    ]
    assert july.warnings == ()


def test_renderings_carry_the_same_figures(august):
    store, ids, recs = august
    report = monthly_report(store, "2025-08")
    data = json.loads(render_json(report))
    dept = next(a for a in data["levels"][0]["agencies"] if a["code"] == DEPARTMENT)
    assert dept["rates"]["signing_rate"]["percent"] == 40.0
    assert dept["rates"]["signing_rate"]["numerator"]["document_ids"] == [ids["D1"], ids["D6"]]
    assert dept["figures"]["incoming_returned"]["reasons"] == ["Chữ ký số không hợp lệ (HASH_FAILURE)"]
    assert data["period"] == {"start": "2025-08-01T00:00:00+07:00", "end": "2025-09-01T00:00:00+07:00"}

    rows = list(csv.DictReader(io.StringIO(render_csv(report, lang="en"))))
    dept_row = next(r for r in rows if r["Code"] == DEPARTMENT)
    assert (dept_row["Outgoing"], dept_row["Both signed"], dept_row["Signing rate %"], dept_row["Online %"]) == ("5", "2", "40", "75")
    assert dept_row["Below target"] == "signing, online, certificates"
    assert [r["Code"] for r in rows] == [DEPARTMENT, CITY_PC, "Σ city", COMMUNE, NEW_COMMUNE, "Σ commune"]

    table = render_table(report, lang="vi")
    assert "Báo cáo ký số tháng 2025-08 (giờ Hà Nội)" in table
    assert "Cấp xã (xã, phường) — chỉ tiêu: ký số 100%, trực tuyến 80%, chứng thư 100%" in table
    dept_line = next(line for line in table.splitlines() if line.startswith(DEPARTMENT))
    assert dept_line.split() == ["H26.10", "Sở", "Nội", "vụ", "5", "2", "40", "1", "1", "75", "50", "1", "1", "1", "1",
                                 "ký", "số,", "trực", "tuyến,", "chứng", "thư"]

    book = load_workbook(io.BytesIO(render_xlsx(report, lang="en")))
    sheet = book["Report"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[1] == DEPARTMENT)
    assert row[header.index("Signing rate %")] == 40.0 and row[header.index("Outgoing")] == 5
    drill = [r for r in book["Drill-down"].iter_rows(min_row=2, values_only=True) if r[0] == DEPARTMENT and r[1] == "signed_valid_both"]
    assert [r[2] for r in drill if r[2] is not None] == [ids["D1"], ids["D6"]]
    assert [r[3] for r in drill if r[3]] == [" ".join([recs["r1"], recs["r2"], recs["r7"], recs["r9"]])]
