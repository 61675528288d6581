"""The monthly report (DOMAIN.md, "Monthly report"): per agency and level, against the period's targets.

`monthly_report(store, "2025-08")` reads the month and builds the report; `build_monthly_report(inputs)` is the
pure core; `render_table`, `render_csv`, `render_xlsx`, `render_json` serialise it.
"""

from ledger.report.build import build_monthly_report
from ledger.report.load import ReportSettings, load_report_inputs, monthly_report
from ledger.report.model import (
    AgencyFacts,
    AgencyFigures,
    AgencyReport,
    CertificateFacts,
    DocumentFacts,
    Figure,
    LevelFacts,
    LevelReport,
    Metric,
    Month,
    MonthlyReport,
    OfficialFacts,
    Rate,
    ReportInputs,
    SignatureFacts,
    TargetFacts,
)
from ledger.report.render import render_csv, render_json, render_table, render_xlsx

__all__ = [name for name in dir() if not name.startswith("_")]
