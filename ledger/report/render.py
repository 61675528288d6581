"""Serialising a monthly report: a text table, CSV, XLSX (openpyxl) and JSON. Vietnamese first, English on request.

The table and CSV give one line per agency (and per level total); JSON and the XLSX "drill-down" sheet list the
documents, ledger records, officials and certificates behind every figure.
"""

from __future__ import annotations

import csv
import io
import json

from ledger.report.model import AgencyReport, Metric, MonthlyReport

_LABELS = {
    "level": ("Cấp", "Level"),
    "code": ("Mã", "Code"),
    "legacy_code": ("Mã cũ", "Legacy code"),
    "name": ("Cơ quan", "Agency"),
    "outgoing": ("VB đi", "Outgoing"),
    "signed_valid_both": ("Ký đủ", "Both signed"),
    "signing_rate": ("Tỷ lệ ký số %", "Signing rate %"),
    "signing_target": ("Chỉ tiêu ký %", "Signing target %"),
    "personal_only": ("Chỉ ký cá nhân", "Personal only"),
    "agency_only": ("Chỉ ký cơ quan", "Agency only"),
    "both_on_paper": ("Ký đủ, gửi giấy", "Both, on paper"),
    "unsigned": ("Không ký hợp lệ", "No valid signature"),
    "secret_excluded": ("VB mật (loại trừ)", "Secret (excluded)"),
    "online_rate": ("Xử lý trực tuyến %", "Online %"),
    "online_target": ("Chỉ tiêu trực tuyến %", "Online target %"),
    "officials": ("Cán bộ", "Officials"),
    "officials_covered": ("Có chứng thư", "With certificate"),
    "certificate_coverage": ("Tỷ lệ có chứng thư %", "Certificate coverage %"),
    "coverage_target": ("Chỉ tiêu chứng thư %", "Coverage target %"),
    "expiring_soon": ("Hết hạn ≤60 ngày", "Expiring ≤60 days"),
    "incoming": ("VB đến", "Incoming"),
    "incoming_valid": ("Đến hợp lệ", "Incoming valid"),
    "incoming_invalid": ("Đến không hợp lệ", "Incoming invalid"),
    "incoming_indeterminate": ("Đến chưa xác định", "Incoming indeterminate"),
    "incoming_unverified": ("Đến chưa kiểm tra", "Incoming unchecked"),
    "incoming_returned": ("Trả lại", "Returned"),
    "return_reasons": ("Lý do trả lại", "Return reasons"),
    "below_target": ("Dưới chỉ tiêu", "Below target"),
}
COLUMNS = (
    "level", "code", "legacy_code", "name", "outgoing", "signed_valid_both", "signing_rate", "signing_target",
    "personal_only", "agency_only", "both_on_paper", "unsigned", "secret_excluded", "online_rate", "online_target",
    "officials", "officials_covered", "certificate_coverage", "coverage_target", "expiring_soon", "incoming",
    "incoming_valid", "incoming_invalid", "incoming_indeterminate", "incoming_unverified", "incoming_returned",
    "return_reasons", "below_target",
)
_METRIC_NAMES = {
    Metric.SIGNING_RATE: ("ký số", "signing"),
    Metric.ONLINE_RATE: ("trực tuyến", "online"),
    Metric.CERTIFICATE_COVERAGE: ("chứng thư", "certificates"),
}


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert(value):
    """Text that a spreadsheet would run as a formula (an agency name "=HYPERLINK(...)") is quoted (OWASP CSV
    injection); numbers are left alone."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _label(key: str, lang: str) -> str:
    vi, en = _LABELS[key]
    return vi if lang == "vi" else en


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _row(level_code: str, agency: AgencyReport, lang: str) -> dict:
    f = agency.figures
    signing, online, coverage = (agency.rate(m) for m in Metric)
    idx = 0 if lang == "vi" else 1
    return {
        "level": level_code,
        "code": agency.code,
        "legacy_code": agency.legacy_code or "",
        "name": agency.name,
        "outgoing": f.outgoing.count,
        "signed_valid_both": f.signed_valid_both.count,
        "signing_rate": signing.percent,
        "signing_target": signing.target,
        "personal_only": f.personal_only.count,
        "agency_only": f.agency_only.count,
        "both_on_paper": f.both_on_paper.count,
        "unsigned": f.unsigned.count,
        "secret_excluded": f.secret_excluded.count,
        "online_rate": online.percent,
        "online_target": online.target,
        "officials": f.officials.count,
        "officials_covered": f.officials_covered.count,
        "certificate_coverage": coverage.percent,
        "coverage_target": coverage.target,
        "expiring_soon": f.expiring_soon.count,
        "incoming": f.incoming.count,
        "incoming_valid": f.incoming_valid.count,
        "incoming_invalid": f.incoming_invalid.count,
        "incoming_indeterminate": f.incoming_indeterminate.count,
        "incoming_unverified": f.incoming_unverified.count,
        "incoming_returned": f.incoming_returned.count,
        "return_reasons": " | ".join(r for r in f.incoming_returned.reasons if r),
        "below_target": ", ".join(_METRIC_NAMES[m][idx] for m in agency.below_target),
    }


def report_rows(report: MonthlyReport, *, lang: str = "vi", totals: bool = True) -> list[dict]:
    """One dict per agency (and per level total, code "Σ <level>"), in report order."""
    rows = []
    for level in report.levels:
        for agency in level.agencies:
            rows.append(_row(level.code, agency, lang))
        if totals:
            row = _row(level.code, level.totals, lang)
            row.update(code=f"Σ {level.code}", legacy_code="", name=level.name_vi if lang == "vi" else level.name_en)
            rows.append(row)
    return rows


def render_json(report: MonthlyReport, *, indent: int | None = None) -> str:
    """Compact by default: a big month lists tens of thousands of ids."""
    return json.dumps(report.to_json(), ensure_ascii=False, indent=indent)


def render_csv(report: MonthlyReport, *, lang: str = "vi") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["month"] + [_label(c, lang) for c in COLUMNS])
    for row in report_rows(report, lang=lang):
        writer.writerow([str(report.month)] + ["" if row[c] is None else (_number(row[c]) if isinstance(row[c], float) else _inert(row[c])) for c in COLUMNS])
    return out.getvalue()


_TABLE = ("code", "name", "outgoing", "signed_valid_both", "signing_rate", "personal_only", "agency_only",
          "online_rate", "certificate_coverage", "expiring_soon", "incoming_valid", "incoming_invalid",
          "incoming_returned", "below_target")


def render_table(report: MonthlyReport, *, lang: str = "vi") -> str:
    """A fixed-width text table per level, with the level's targets in its heading."""
    title = (f"Báo cáo ký số tháng {report.month} (giờ Hà Nội)" if lang == "vi"
             else f"Digital signature report for {report.month} (Hanoi time)")
    lines = [title, ""]
    headers = [_label(c, lang) for c in _TABLE]
    for level in report.levels:
        name = level.name_vi if lang == "vi" else level.name_en
        targets = ", ".join(f"{_METRIC_NAMES[t.metric][0 if lang == 'vi' else 1]} {_number(t.percent)}%" for t in level.targets)
        heading = f"{name} — {'chỉ tiêu' if lang == 'vi' else 'targets'}: {targets or '—'}"
        if not level.in_force:
            heading += " (cấp không còn trong kỳ này)" if lang == "vi" else " (level not in force this month)"
        rows = [_row(level.code, a, lang) for a in level.agencies]
        total = _row(level.code, level.totals, lang)
        total.update(code="Σ", name=("Tổng" if lang == "vi" else "Total"))
        cells = [[_cell(r[c]) for c in _TABLE] for r in rows + [total]]
        widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]
        widths[1] = min(widths[1], 40)
        lines.append(heading)
        lines.append("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        for row in cells:
            lines.append("  ".join((v if len(v) <= w else v[: w - 1] + "…").ljust(w) for v, w in zip(row, widths)).rstrip())
        lines.append("")
    for warning in report.warnings:
        lines.append(f"! {warning}")
    return "\n".join(lines).rstrip() + "\n"


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return _number(value)
    return str(value)


def render_xlsx(report: MonthlyReport, *, lang: str = "vi") -> bytes:
    """A workbook: sheet 1 the per-agency figures, sheet 2 the drill-down (one row per figure and item)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    from openpyxl.cell import WriteOnlyCell

    # Write-only mode streams the rows: the drill-down sheet of a big month has a row per document.
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Báo cáo" if lang == "vi" else "Report")
    sheet.freeze_panes = "E2"
    bold = Font(bold=True)
    below = PatternFill("solid", fgColor="FFF2CC")

    def styled(values, **style):
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            for key, item in style.items():
                setattr(cell, key, item)
            cells.append(cell)
        return cells

    sheet.append(styled([_label(c, lang) for c in COLUMNS], font=bold))
    for row in report_rows(report, lang=lang):
        values = [_inert(row[c]) for c in COLUMNS]
        sheet.append(styled(values, fill=below) if row["below_target"] else values)

    detail = book.create_sheet("Chi tiết" if lang == "vi" else "Drill-down")
    detail.append(styled(["agency", "figure", "document_id", "record_ids", "official_id", "certificate_serial", "reason"], font=bold))
    for level in report.levels:
        for agency in level.agencies:
            for name in agency.figures.FIGURES:
                figure = getattr(agency.figures, name)
                for i, document_id in enumerate(figure.document_ids):
                    reason = figure.reasons[i] if i < len(figure.reasons) else None
                    detail.append([_inert(agency.code), name, document_id, None, None, None, _inert(reason)])
                if figure.record_ids:
                    detail.append([agency.code, name, None, " ".join(figure.record_ids), None, None, None])
                for official_id in figure.official_ids:
                    detail.append([agency.code, name, None, None, official_id, None, None])
                for serial in figure.certificate_serials:
                    detail.append([agency.code, name, None, None, None, serial, None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
