"""The report's pure core on hand-made facts: corrections, incoming outcomes, certificate boundaries, levels."""

from datetime import date, datetime, timedelta, timezone

from ledger.report import (
    AgencyFacts,
    CertificateFacts,
    DocumentFacts,
    LevelFacts,
    Metric,
    Month,
    OfficialFacts,
    ReportInputs,
    SignatureFacts,
    TargetFacts,
    build_monthly_report,
)

UTC = timezone.utc
AUGUST = Month(2025, 8)
AS_OF = AUGUST.end
DAY = datetime(2025, 8, 10, 3, tzinfo=UTC)
CITY = LevelFacts("city", 1, "Cấp thành phố", "City level")
COMMUNE = LevelFacts("commune", 3, "Cấp xã", "Commune level")
TARGETS = (
    TargetFacts("city", Metric.SIGNING_RATE, 100.0, "plan"),
    TargetFacts("commune", Metric.SIGNING_RATE, 100.0, "plan"),
    TargetFacts("commune", Metric.ONLINE_RATE, 80.0, "plan"),
)


def _agency(code, level="commune", until=None):
    return AgencyFacts(code, None, f"UBND {code}", level, date(2008, 1, 1), until)


def _inputs(**kw):
    fields = dict(month=AUGUST, as_of=AS_OF, agencies=(_agency("A"),), levels=(CITY, COMMUNE), targets=TARGETS,
                  documents=(), signatures=())
    fields.update(kw)
    return ReportInputs(**fields)


def test_latest_correction_decides_and_the_superseded_records_are_not_counted():
    docs = (DocumentFacts(1, "A", True, DAY, False, True),)
    sigs = (
        SignatureFacts(1, "p", 1, "personal", "TOTAL_PASSED"),
        SignatureFacts(2, "a1", 1, "agency", "TOTAL_PASSED"),
        SignatureFacts(3, "a2", 1, "agency", "TOTAL_FAILED", corrects="a1"),  # revoked before signing, found later
        SignatureFacts(4, "a3", 1, "agency", "INDETERMINATE", corrects="a2"),
    )
    agency = build_monthly_report(_inputs(documents=docs, signatures=sigs)).agency("A")
    assert agency.figures.personal_only.record_ids == ("p",)
    assert agency.figures.signed_valid_both.count == 0
    assert agency.rate(Metric.SIGNING_RATE).percent == 0.0


def test_incoming_outcomes():
    docs = tuple(DocumentFacts(i, "A", False, DAY, False, True, returned=(i == 2), return_reason="sai chữ ký" if i == 2 else None)
                 for i in range(1, 6))
    sigs = (
        SignatureFacts(1, "v1", 1, "agency", "TOTAL_PASSED"),
        SignatureFacts(2, "f1", 2, "agency", "TOTAL_FAILED"),
        SignatureFacts(3, "f2", 2, "personal", "TOTAL_PASSED"),
        SignatureFacts(4, "i1", 3, "agency", "INDETERMINATE"),
        SignatureFacts(5, "t1", 4, "timestamp", "TOTAL_PASSED"),
    )
    f = build_monthly_report(_inputs(documents=docs, signatures=sigs)).agency("A").figures
    assert (f.incoming_valid.document_ids, f.incoming_invalid.document_ids, f.incoming_indeterminate.document_ids,
            f.incoming_unverified.document_ids) == ((1, 4), (2,), (3,), (5,))
    assert f.incoming_invalid.record_ids == ("f1",)
    assert (f.incoming_returned.document_ids, f.incoming_returned.reasons) == ((2,), ("sai chữ ký",))
    assert f.outgoing.count == 0 and f.handled_total.count == 5


def test_certificate_coverage_and_expiry_one_second_either_side():
    officials = tuple(OfficialFacts(i, "A", f"CCCD:{i:012d}") for i in range(1, 6))
    horizon = AS_OF + timedelta(days=60)
    certs = (
        CertificateFacts("c1", "personal", "A", 1, datetime(2024, 1, 1, tzinfo=UTC), horizon, None),  # expiring, counted
        CertificateFacts("c2", "personal", "A", 2, datetime(2024, 1, 1, tzinfo=UTC), horizon + timedelta(seconds=1), None),
        CertificateFacts("c3", "personal", "A", 3, datetime(2024, 1, 1, tzinfo=UTC), AS_OF - timedelta(seconds=1), None),  # expired
        CertificateFacts("c4", "personal", "A", 4, datetime(2024, 1, 1, tzinfo=UTC), horizon + timedelta(days=900), AS_OF),  # revoked at as_of
        CertificateFacts("c5", "personal", "A", 5, AS_OF + timedelta(seconds=1), horizon + timedelta(days=900), None),  # not yet valid
        CertificateFacts("s1", "agency", "A", None, datetime(2024, 1, 1, tzinfo=UTC), AS_OF, None),  # seal expiring at as_of
    )
    agency = build_monthly_report(_inputs(officials=officials, certificates=certs)).agency("A")
    coverage = agency.rate(Metric.CERTIFICATE_COVERAGE)
    assert (coverage.numerator.official_ids, coverage.numerator.certificate_serials) == ((1, 2), ("c1", "c2"))
    assert (coverage.denominator.count, coverage.percent, coverage.target) == (5, 40.0, None)
    assert agency.figures.expiring_soon.certificate_serials == ("c1", "s1")


def test_agencies_of_a_level_out_of_force_are_reported_with_a_warning():
    docs = (DocumentFacts(1, "D", True, DAY, False, True), DocumentFacts(2, "Z", True, DAY, False, True))
    report = build_monthly_report(_inputs(agencies=(_agency("A"), _agency("D", "district")), documents=docs))
    assert [(level.code, level.in_force) for level in report.levels] == [("city", True), ("commune", True), ("district", False)]
    assert report.level("district").agencies[0].rate(Metric.SIGNING_RATE).target is None
    assert report.warnings == (
        "1 văn bản của cơ quan Z không có trong danh bạ / 1 document(s) of agency Z not on the roster",
        "cấp district không còn trong kỳ 2025-08: các cơ quan của cấp này không có chỉ tiêu / "
        "level district is not in force in 2025-08: its agencies have no target",
    )


def test_below_target_first_by_shortfall_then_code():
    docs, sigs = [], []
    # B: 1 of 2 signed (50%), C: 0 of 1 (0%), A: 1 of 1 (100%), E: no document.
    plan = {"A": [True], "B": [True, False], "C": [False]}
    n = 0
    for code, signed in plan.items():
        for ok in signed:
            n += 1
            docs.append(DocumentFacts(n, code, True, DAY, False, True))
            if ok:
                sigs += [SignatureFacts(2 * n, f"p{n}", n, "personal", "TOTAL_PASSED"), SignatureFacts(2 * n + 1, f"a{n}", n, "agency", "TOTAL_PASSED")]
    agencies = tuple(_agency(c) for c in "ABCE")
    report = build_monthly_report(_inputs(agencies=agencies, documents=tuple(docs), signatures=tuple(sigs)))
    assert [a.code for a in report.level("commune").agencies] == ["C", "B", "A", "E"]
    assert report.level("commune").totals.rate(Metric.SIGNING_RATE).percent == 50.0
    assert report.agency("E").rate(Metric.SIGNING_RATE).percent is None


def test_report_settings_reject_unknown_keys_and_bad_values():
    import pytest

    from ledger import InvalidValue
    from ledger.report import ReportSettings

    assert ReportSettings.from_config({}) == ReportSettings(60, "vi")
    assert ReportSettings.from_config({"expiry_window_days": "30", "lang": "en"}) == ReportSettings(30, "en")
    with pytest.raises(InvalidValue) as caught:
        ReportSettings.from_config({"expiry_days": 30})
    assert caught.value.en == "[report]: unknown key(s) expiry_days; known: expiry_window_days, lang"
    with pytest.raises(InvalidValue) as caught:
        ReportSettings.from_config({"expiry_window_days": "soon"})
    assert caught.value.en == "[report]: expiry_window_days must be a whole number from 0 to 3650"


def test_renderings_keep_formula_looking_text_inert():
    import csv
    import io

    from openpyxl import load_workbook

    from ledger.report import render_csv, render_xlsx

    agency = AgencyFacts("A", None, '=HYPERLINK("http://x","bấm")', "commune", date(2008, 1, 1), None)
    docs = (DocumentFacts(1, "A", False, DAY, False, True, returned=True, return_reason="@SUM(1+1)"),)
    report = build_monthly_report(_inputs(agencies=(agency,), documents=docs))
    row = next(r for r in csv.DictReader(io.StringIO(render_csv(report, lang="en"))) if r["Code"] == "A")
    assert row["Agency"] == "'=HYPERLINK(\"http://x\",\"bấm\")" and row["Return reasons"] == "'@SUM(1+1)"
    sheet = load_workbook(io.BytesIO(render_xlsx(report, lang="en")))["Report"]
    cell = next(r for r in sheet.iter_rows(min_row=2) if r[1].value == "A")[3]
    assert (cell.value, cell.data_type) == ("'=HYPERLINK(\"http://x\",\"bấm\")", "s")
