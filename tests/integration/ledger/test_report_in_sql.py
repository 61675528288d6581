"""The monthly report aggregated by the database (ledger.report.aggregate) equals the pure core's report
built document by document from the same facts (ledger.report.build), figure by figure and id by id, on
SQLite and PostgreSQL: the hand-built month (corrections, returns, every bucket) and a generated year."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ledger.activity import generate_year
from ledger.report import Month, monthly_report
from ledger.report.build import build_monthly_report
from ledger.report.load import load_report_inputs
from tests.integration.ledger.test_report import august  # noqa: F401 (a fixture)

pytestmark = pytest.mark.integration


def both_ways(store, month: str, *, now: datetime | None = None):
    chosen = Month.parse(month)
    as_of = min(chosen.end, now or datetime.now(timezone.utc))
    in_sql = monthly_report(store, chosen, as_of=as_of)
    in_python = build_monthly_report(load_report_inputs(store, chosen, as_of=as_of))
    return in_sql, in_python


@pytest.mark.parametrize("month", ["2025-06", "2025-07", "2025-08", "2025-09"])
def test_hand_built_months_are_the_same_both_ways(august, month):  # noqa: F811
    store, _ids, _recs = august
    in_sql, in_python = both_ways(store, month, now=datetime(2025, 9, 2, tzinfo=timezone.utc))
    assert in_sql.to_json() == in_python.to_json()
    assert in_sql == in_python  # the frozen values themselves, drill-down tuples included


def test_a_generated_year_is_the_same_both_ways(ledger_store):
    summary = generate_year(ledger_store, agencies=12, outgoing_per_month=12, incoming_per_month=6,
                            officials_per_agency=3, months=(2, 3))
    in_sql, in_python = both_ways(ledger_store, "2025-03")
    assert in_sql == in_python
    totals = sum((level.totals.figures for level in in_sql.levels[1:]), start=in_sql.levels[0].totals.figures)
    assert totals.outgoing.count == summary.per_month["2025-03"]["outgoing"]
