"""A generated year for 150 agencies loads with a valid chain, and the monthly report over it gives exactly the
generator's own tallies.

Scale in the default run: 150 agencies x 12 months x (10 outgoing + 4 incoming) documents, about 47,000
ledger records per database. The full year (about a million records) is loaded by bench/bench_ledger.py.
"""

from __future__ import annotations

from sqlalchemy import func, select

from ledger import verify_chain
from ledger.activity import generate_year
from ledger.models import Record
from ledger.report import Metric, monthly_report

FIGURES = ("outgoing", "signed_valid_both", "both_on_paper", "personal_only", "agency_only", "unsigned", "secret_excluded",
           "handled_total", "handled_online", "incoming", "incoming_valid", "incoming_invalid", "incoming_indeterminate")


def test_generated_year_loads_with_an_intact_chain_and_reports_exactly(ledger_store):
    summary = generate_year(ledger_store, agencies=150, outgoing_per_month=10, incoming_per_month=4)
    assert (summary.agencies, summary.officials, summary.documents) == (150, 1500, 150 * 12 * 14)
    with ledger_store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Record)) == summary.records
    chain = verify_chain(ledger_store)
    assert chain.intact and chain.records == summary.records == chain.head_seq

    for month in ("2025-01", "2025-07", "2025-12"):
        report = monthly_report(ledger_store, month)
        # The district level exists (empty here) only before 1 July 2025.
        expected_levels = [("city", 24), ("district", 0), ("commune", 126)] if month < "2025-07" else [("city", 24), ("commune", 126)]
        assert [(level.code, len(level.agencies)) for level in report.levels] == expected_levels
        totals = report.level("city").totals.figures + report.level("commune").totals.figures
        expected = summary.per_month[month]
        assert {name: getattr(totals, name).count for name in FIGURES} == {name: expected[name] for name in FIGURES}
        assert totals.officials.count == 1500
        # Drill-down: every counted document is listed once.
        assert len(set(totals.outgoing.document_ids)) == expected["outgoing"]
        rates = [a.rate(Metric.SIGNING_RATE).percent for level in report.levels for a in level.agencies]
        assert all(0 <= r <= 100 for r in rates)
        below = [a.below_target != () for a in report.level("commune").agencies]
        assert below == sorted(below, reverse=True)  # units below target first
