"""Ledger benchmark: records written per second with the hash chain, and the monthly report over a generated
year (150 agencies, about a million signatures), each as a ratio to a baseline measured side by side.

1. Appends: `ledger.append` (one record per transaction: lock the chain head, hash, insert, move the head)
   against plain inserts of the very same rows into a twin table with the same indexes (one per
   transaction, no chain), on SQLite and PostgreSQL.
2. Report: `monthly_report` for one month over the generated year against a plain SQL COUNT of the same
   month's records, on SQLite and PostgreSQL.

Run: .venv/bin/python bench/bench_ledger.py [--scale 1.0] [--appends 150] [--verify-chain]
PostgreSQL: KYSO_TEST_DATABASE_URL, or started with scripts/start-postgres; skipped when unavailable.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from ledger import append, open_store, verify_chain  # noqa: E402
from ledger.activity import generate_year  # noqa: E402
from ledger.models import Document, Record  # noqa: E402
from ledger.report import Month, monthly_report  # noqa: E402
from tests.support.ledger import ROSTER_CSV, make_entry  # noqa: E402

ROUNDS = 9  # chained and plain alternate round by round, so both see the same disk (fsync) conditions


def _postgres_admin_url() -> str | None:
    url = os.environ.get("KYSO_TEST_DATABASE_URL")
    if url:
        return url
    try:
        return subprocess.run(["scripts/start-postgres"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parents[1]).stdout.strip() or None
    except (OSError, subprocess.CalledProcessError):
        return None


@contextmanager
def fresh_databases():
    """Yield (name, url) for a new SQLite file and, when reachable, a new PostgreSQL database."""
    with tempfile.TemporaryDirectory() as folder:
        urls = [("sqlite", f"sqlite:///{folder}/bench.db")]
        admin_url = _postgres_admin_url()
        admin = None
        name = f"kyso_bench_{uuid.uuid4().hex[:8]}"
        if admin_url:
            from sqlalchemy.engine import make_url

            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            urls.append(("postgresql", make_url(admin_url).set(database=name).render_as_string(hide_password=False)))
        try:
            yield urls
        finally:
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


def bench_appends(url: str, count: int) -> tuple[float, float, float]:
    """Median records/s over ROUNDS rounds of chained appends and of plain inserts of the same rows, and the
    median of the per-round ratios."""
    from ledger import import_agencies_csv

    store = open_store(url)
    import_agencies_csv(store, ROSTER_CSV)
    table = Record.__table__
    # The baseline writes into a twin table with the same columns and indexes, and no chain, lock or head.
    with store.engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_plain_records AS SELECT * FROM ledger_records WHERE 1 = 0"))
        conn.execute(text("CREATE UNIQUE INDEX bench_plain_seq ON bench_plain_records (seq)"))
        conn.execute(text("CREATE UNIQUE INDEX bench_plain_record_id ON bench_plain_records (record_id)"))
        conn.execute(text("CREATE INDEX bench_plain_agency ON bench_plain_records (agency_code)"))
        conn.execute(text("CREATE INDEX bench_plain_document ON bench_plain_records (document_id)"))
    plain = table.to_metadata(__import__("sqlalchemy").MetaData(), name="bench_plain_records")
    chained_rates, plain_rates = [], []
    n = 0
    for _ in range(ROUNDS):
        entries = [make_entry(n=n + i) for i in range(count)]
        n += count
        start = time.perf_counter()
        records = [append(store, entry) for entry in entries]
        chained_rates.append(count / (time.perf_counter() - start))
        rows = [{c: getattr(r, c) for c in r.__dataclass_fields__} for r in records]
        start = time.perf_counter()
        for row in rows:
            with store.engine.begin() as conn:
                conn.execute(plain.insert(), row)
        plain_rates.append(count / (time.perf_counter() - start))
    assert verify_chain(store).intact
    store.dispose()
    ratios = [c / p for c, p in zip(chained_rates, plain_rates)]
    return statistics.median(chained_rates), statistics.median(plain_rates), statistics.median(ratios)


def bench_report(url: str, scale: float, *, check_chain: bool) -> dict:
    store = open_store(url)
    start = time.perf_counter()
    summary = generate_year(store, outgoing_per_month=round(200 * scale), incoming_per_month=round(80 * scale))
    generated = time.perf_counter() - start
    month = Month(2025, 8)
    lo, hi = month.start, month.end
    report_times, count_times = [], []
    for _ in range(3):
        start = time.perf_counter()
        report = monthly_report(store, month)
        report_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        with store.engine.connect() as conn:
            counted = conn.execute(
                select(func.count()).select_from(Record).join(Document, Document.id == Record.document_id)
                .where(Document.dated_at >= lo, Document.dated_at < hi)
            ).scalar_one()
        count_times.append(time.perf_counter() - start)
    totals = sum((level.totals.figures for level in report.levels[1:]), start=report.levels[0].totals.figures)
    assert totals.outgoing.count == summary.per_month[str(month)]["outgoing"]
    verified = None
    if check_chain:
        start = time.perf_counter()
        chain = verify_chain(store)
        verified = time.perf_counter() - start
        assert chain.intact
    store.dispose()
    return {
        "records": summary.records,
        "documents": summary.documents,
        "month_records": counted,
        "generate_s": generated,
        "load_rate": summary.records / generated,
        "report_s": statistics.median(report_times),
        "count_s": statistics.median(count_times),
        "verify_s": verified,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = about a million signatures")
    parser.add_argument("--appends", type=int, default=150, help="records per round of the append benchmark")
    parser.add_argument("--verify-chain", action="store_true", help="also time verify_chain over the generated year")
    args = parser.parse_args()
    with fresh_databases() as urls:
        print(f"ledger appends: {ROUNDS} rounds of {args.appends} records, one per transaction (median)")
        for name, url in urls:
            chained, plain, ratio = bench_appends(url, args.appends)
            print(f"  {name:10s} chained {chained:8.0f} records/s   plain insert {plain:8.0f} rows/s   "
                  f"median ratio chained/plain {ratio:.2f}")
    with fresh_databases() as urls:
        print(f"monthly report over a generated year (scale {args.scale}), month 2025-08 (median of 3)")
        for name, url in urls:
            r = bench_report(url, args.scale, check_chain=args.verify_chain)
            verified = f"; verify_chain {r['verify_s']:.1f} s" if r["verify_s"] is not None else ""
            print(f"  {name:10s} {r['records']} records / {r['documents']} documents loaded in {r['generate_s']:.1f} s "
                  f"({r['load_rate']:.0f} records/s, chain kept){verified}")
            print(f"  {name:10s} report {r['report_s'] * 1000:8.1f} ms   plain COUNT of the month's {r['month_records']} records "
                  f"{r['count_s'] * 1000:7.1f} ms   ratio report/count {r['report_s'] / r['count_s']:.1f}")


if __name__ == "__main__":
    main()
